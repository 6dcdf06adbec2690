//! Path knowledge: resolving paths and deciding what touching them means.

use super::kb::PathSpec;
use super::{Access, ClassifierError, Env, PathRef, Unit};
use airlock_protocol::ActionClass;
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use std::path::{Component, Path, PathBuf};

#[derive(Debug)]
pub(crate) struct PathKnowledge {
    sensitive: GlobSet,
    agent_config: GlobSet,
    critical: GlobSet,
    block_devices: GlobSet,
    harmless: GlobSet,
    scratch: GlobSet,
    /// Where secrets are, as trees: reading a tree that contains one (`tar czf - ~`,
    /// `grep -r key /etc`) reads the secret; deleting one (`rm -rf ~/.ssh`) changes it.
    sensitive_trees: Trees,
    /// Where agents' configuration is: deleting a tree that contains it (`rm -rf .claude`,
    /// `rm -rf ~/.codex`) changes it.
    agent_config_trees: Trees,
}

/// Which directories contain a path some patterns match, decided lexically.
#[derive(Debug)]
struct Trees {
    /// Fixed directories of absolute patterns (`~/.ssh/**` → `/home/u/.ssh`).
    roots: Vec<PathBuf>,
    /// Leading components of patterns that match anywhere (`**/.git/hooks/**` → `.git`,
    /// `.git/hooks`): a directory ending in them contains a match.
    tails: Vec<Vec<String>>,
}

impl Trees {
    fn compile(patterns: &[String], home: &Path) -> Self {
        let tails = patterns
            .iter()
            .filter_map(|p| p.strip_prefix("**/"))
            .map(|tail| {
                tail.split('/')
                    .take_while(|c| !c.contains(['*', '?', '[', '{']))
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .filter(|c| !c.is_empty())
            .collect();
        Self {
            roots: static_roots(patterns, home),
            tails,
        }
    }

    /// Whether the tree at `path` contains (or is) a location of these patterns.
    fn contains(&self, path: &Path) -> bool {
        if self.roots.iter().any(|root| root.starts_with(path)) {
            return true;
        }
        let components: Vec<&str> = path.iter().filter_map(|c| c.to_str()).collect();
        self.tails.iter().any(|tail| {
            (1..=tail.len()).any(|k| {
                // The whole fixed tail as the last components is a match of its own only
                // when the pattern ends there; any shorter prefix is a directory above one.
                k <= components.len()
                    && components[components.len() - k..]
                        .iter()
                        .zip(&tail[..k])
                        .all(|(c, t)| c == t)
            })
        })
    }
}

/// Tag on a unit that reads its directory arguments recursively (contents, not just names).
pub(crate) const TAG_READS_TREE: &str = "reads-tree";

impl PathKnowledge {
    pub fn compile(spec: &PathSpec, env: &Env) -> Result<Self, ClassifierError> {
        Ok(Self {
            sensitive: compile_set(&spec.sensitive, &env.home)?,
            agent_config: compile_set(&spec.agent_config, &env.home)?,
            critical: compile_set(&spec.critical, &env.home)?,
            block_devices: compile_set(&spec.block_devices, &env.home)?,
            harmless: compile_set(&spec.harmless, &env.home)?,
            scratch: compile_set(&spec.scratch, &env.home)?,
            sensitive_trees: Trees::compile(&spec.sensitive, &env.home),
            agent_config_trees: Trees::compile(&spec.agent_config, &env.home),
        })
    }

    /// Add `path` to `unit` and the classes and tags its location implies.
    pub fn apply(&self, unit: &mut Unit, path: PathBuf, access: Access, ws: &Path, env: &Env) {
        let path = lexical_normalize(&path);
        if self.harmless.is_match(&path) {
            return;
        }
        let inside = path.starts_with(ws) || self.scratch.is_match(&path);
        let changes = matches!(access, Access::Write | Access::Delete | Access::Chmod);
        if changes && self.block_devices.is_match(&path) {
            unit.classes.insert(ActionClass::ShellDestructive);
            unit.tags.insert("block-device".into());
        }
        let recursive = unit.tags.contains("recursive");
        // Deleting or recursively changing a directory changes everything in it.
        let tree_change = changes && (access == Access::Delete || recursive);
        if self.sensitive.is_match(&path) || (tree_change && self.sensitive_trees.contains(&path)) {
            if changes {
                unit.classes.insert(ActionClass::AccessChange);
                unit.tags.insert("credential-change".into());
            } else {
                unit.classes.insert(ActionClass::ReadSensitive);
            }
        }
        if access == Access::Read
            && unit.tags.contains(TAG_READS_TREE)
            && self.sensitive_trees.contains(&path)
        {
            unit.classes.insert(ActionClass::ReadSensitive);
            unit.tags.insert("sensitive-tree".into());
        }
        if changes
            && (self.agent_config.is_match(&path)
                || (tree_change && self.agent_config_trees.contains(&path)))
        {
            unit.classes.insert(ActionClass::AccessChange);
            unit.tags.insert("agent-config".into());
        }
        if changes && env.protected.iter().any(|p| path.starts_with(p)) {
            unit.classes.insert(ActionClass::AccessChange);
            unit.tags.insert("airlock-self".into());
        }
        let destroys = matches!(access, Access::Delete) || (recursive && changes);
        if destroys && self.is_critical(&path, ws) {
            unit.classes.insert(ActionClass::ShellDestructive);
            unit.tags.insert("critical-path".into());
        }
        match access {
            Access::Read => {
                unit.classes.insert(ActionClass::Read);
            }
            Access::Write => {
                unit.classes.insert(if inside {
                    ActionClass::FileWrite
                } else {
                    ActionClass::FileWriteOutside
                });
            }
            Access::Delete => {
                unit.classes.insert(ActionClass::FileDelete);
                if !inside {
                    unit.classes.insert(ActionClass::FileWriteOutside);
                }
                if recursive && path == ws {
                    // Deleting the whole workspace is not routine cleanup.
                    unit.classes.insert(ActionClass::ShellDestructive);
                    unit.tags.insert("workspace-root".into());
                }
            }
            Access::Chmod => {
                // `chmod +x script.sh` in the project is routine; outside it, permissions are
                // access control.
                if inside {
                    unit.classes.insert(ActionClass::FileWrite);
                } else {
                    unit.classes.insert(ActionClass::AccessChange);
                    unit.classes.insert(ActionClass::FileWriteOutside);
                }
            }
        }
        unit.paths.push(PathRef {
            path,
            access,
            inside,
        });
    }

    fn is_critical(&self, path: &Path, ws: &Path) -> bool {
        // A workspace nested somewhere "critical" (e.g. ~/src/project) is not itself critical.
        if path.starts_with(ws) && path != Path::new("/") {
            return false;
        }
        self.critical.is_match(path) || path.components().count() <= 1
    }
}

fn compile_set(patterns: &[String], home: &Path) -> Result<GlobSet, ClassifierError> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let expanded = expand_home(pattern, home);
        let glob = GlobBuilder::new(&expanded)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|source| ClassifierError::PathGlob {
                pattern: pattern.clone(),
                source,
            })?;
        builder.add(glob);
    }
    builder.build().map_err(|source| ClassifierError::PathGlob {
        pattern: patterns.join(", "),
        source,
    })
}

/// The fixed directory part of each absolute pattern (`~/.ssh/**` → `/home/u/.ssh`);
/// patterns that can match anywhere (`**/.env`) have none.
fn static_roots(patterns: &[String], home: &Path) -> Vec<PathBuf> {
    patterns
        .iter()
        .filter_map(|pattern| {
            let expanded = expand_home(pattern, home);
            let end = expanded
                .find(['*', '?', '[', '{', '\\'])
                .unwrap_or(expanded.len());
            let fixed = expanded[..end].trim_end_matches('/');
            // A partial name (`/etc/ssh/ssh_host_*`) stands for its directory.
            let fixed = if end < expanded.len() && !expanded[..end].ends_with('/') {
                fixed.rsplit_once('/').map_or("", |(dir, _)| dir)
            } else {
                fixed
            };
            (fixed.starts_with('/') && fixed.len() > 1).then(|| PathBuf::from(fixed))
        })
        .collect()
}

/// Expand a leading `~` (alone or followed by `/`) to `home`.
pub fn expand_home(pattern: &str, home: &Path) -> String {
    let home = home.to_string_lossy();
    let home = home.trim_end_matches('/');
    if pattern == "~" {
        home.to_string()
    } else if let Some(rest) = pattern.strip_prefix("~/") {
        format!("{home}/{rest}")
    } else {
        pattern.to_string()
    }
}

/// Resolve `.` and `..` without touching the file system (the path may not exist yet).
pub fn lexical_normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("/");
                }
                if out.as_os_str().is_empty() {
                    out.push("/");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push("/");
    }
    out
}

/// The workspace a request runs in: the enclosing git repository's root, else the cwd.
pub fn workspace_root(cwd: &Path) -> PathBuf {
    let cwd = lexical_normalize(cwd);
    let mut dir = cwd.as_path();
    loop {
        if dir.join(".git").exists() {
            return dir.to_path_buf();
        }
        match dir.parent() {
            Some(parent) => dir = parent,
            None => return cwd,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_dots_lexically() {
        assert_eq!(
            lexical_normalize(Path::new("/a/b/../c/./d")),
            Path::new("/a/c/d")
        );
        assert_eq!(lexical_normalize(Path::new("/tmp/../..")), Path::new("/"));
        assert_eq!(lexical_normalize(Path::new("/")), Path::new("/"));
    }

    #[test]
    fn static_roots_of_sensitive_patterns() {
        let home = Path::new("/home/u");
        let roots = static_roots(
            &[
                "~/.ssh/**".into(),
                "**/.env".into(),
                "/etc/ssh/*_key".into(),
                "~/.netrc".into(),
                "/proc/*/environ".into(),
            ],
            home,
        );
        assert_eq!(
            roots,
            [
                PathBuf::from("/home/u/.ssh"),
                PathBuf::from("/etc/ssh"),
                PathBuf::from("/home/u/.netrc"),
                PathBuf::from("/proc"),
            ]
        );
    }

    #[test]
    fn trees_contain_their_patterns_locations() {
        let trees = Trees::compile(
            &[
                "~/.ssh/**".into(),
                "**/.git/hooks/**".into(),
                "**/.claude/settings.json".into(),
            ],
            Path::new("/home/u"),
        );
        for yes in [
            "/",
            "/home",
            "/home/u",
            "/home/u/.ssh",
            "/p/.git",
            "/p/.git/hooks",
            "/p/.claude",
        ] {
            assert!(trees.contains(Path::new(yes)), "{yes}");
        }
        for no in ["/home/u/project", "/p/build", "/p/.github", "/tmp"] {
            assert!(!trees.contains(Path::new(no)), "{no}");
        }
    }

    #[test]
    fn expands_only_a_leading_tilde() {
        let home = Path::new("/home/u");
        assert_eq!(expand_home("~/.ssh/**", home), "/home/u/.ssh/**");
        assert_eq!(expand_home("~", home), "/home/u");
        assert_eq!(expand_home("**/.env", home), "**/.env");
    }
}
