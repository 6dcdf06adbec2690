//! Path knowledge: deciding what touching a path means, and where the workspace is.
//!
//! Paths reach [`PathKnowledge::apply`] already resolved (see `resolve.rs`): links followed on
//! the real file system. So that a location named by a pattern is still recognised when it is
//! itself reached through a link (`~/.bashrc -> dotfiles/bashrc`, `/lib -> usr/lib`), every
//! pattern's fixed leading directory is resolved too, and the pattern is kept in both forms.

use super::kb::PathSpec;
use super::resolve::{self, Lookup, PlannedLinks};
use super::{Access, ClassifierError, Env, PathRef, Unit};
use airlock_protocol::ActionClass;
use airlock_userfs::ForUser;
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use std::path::{Component, Path, PathBuf};

#[derive(Debug)]
pub(crate) struct PathKnowledge {
    sensitive: GlobSet,
    agent_config: GlobSet,
    critical: GlobSet,
    block_devices: GlobSet,
    harmless: GlobSet,
    /// Readable without a question though under a sensitive pattern (`~/.ssh/id_rsa.pub`).
    public: GlobSet,
    /// Installed packages' code: writing into it changes what later runs.
    installed: GlobSet,
    scratch: GlobSet,
    /// Where secrets are, as trees: reading a tree that contains one (`tar czf - ~`,
    /// `grep -r key /etc`) reads the secret; deleting one (`rm -rf ~/.ssh`) changes it.
    sensitive_trees: Trees,
    /// Where agents' configuration is: deleting a tree that contains it (`rm -rf .claude`,
    /// `rm -rf ~/.codex`) changes it.
    agent_config_trees: Trees,
    /// Where files that run later by themselves are (`[[runs_later]]`), as trees.
    runs_later_trees: Trees,
    /// Critical directories as trees: a directory that contains one (`~`, `/home`) is no
    /// workspace.
    critical_trees: Trees,
    /// Airlock's own directories, as configured and as resolved.
    protected: Vec<PathBuf>,
}

/// Which directories contain a path some patterns match, decided lexically.
#[derive(Debug)]
struct Trees {
    /// Fixed directories of absolute patterns (`~/.ssh/**` → `/home/u/.ssh`).
    roots: Vec<PathBuf>,
    /// Leading components of patterns that match anywhere (`**/.git/hooks/**` → `.git`,
    /// `.git/hooks`): a directory ending in them contains a match. With each, whether the
    /// pattern goes on after them (`**/.claude/**` does; `**/.npmrc` names the file itself).
    tails: Vec<(Vec<String>, bool)>,
}

impl Trees {
    fn compile(patterns: &[String], home: &Path) -> Self {
        let tails = patterns
            .iter()
            .filter_map(|p| p.strip_prefix("**/"))
            .map(|tail| {
                let fixed = tail
                    .split('/')
                    .take_while(|c| !c.contains(['*', '?', '[', '{']))
                    .map(str::to_string)
                    .collect::<Vec<_>>();
                let continues = fixed.len() < tail.split('/').count();
                (fixed, continues)
            })
            .filter(|(c, _)| !c.is_empty())
            .collect();
        let mut roots = static_roots(patterns, home);
        for root in roots.clone() {
            let real = real_path(&root);
            if !roots.contains(&real) {
                roots.push(real);
            }
        }
        Self { roots, tails }
    }

    /// Whether the tree at `path` contains (or is) a location of these patterns.
    fn contains(&self, path: &Path) -> bool {
        if self.roots.iter().any(|root| root.starts_with(path)) {
            return true;
        }
        self.ends_in_tail(path, |_, _| true)
    }

    /// Whether a directory at `path` would hold locations of these patterns beneath it: the
    /// path is at or above a fixed directory, or ends in a pattern's leading components that
    /// something else follows (`.claude` for `**/.claude/**`, `.vscode` for
    /// `**/.vscode/tasks.json`) — not the file a pattern names itself (`package.json`).
    fn holds(&self, path: &Path) -> bool {
        if self.roots.iter().any(|root| root.starts_with(path)) {
            return true;
        }
        self.ends_in_tail(path, |k, (tail, continues)| k < tail.len() || *continues)
    }

    /// Whether `path` ends in the first `k` components of a tail, for a `k` that `counts`.
    fn ends_in_tail(
        &self,
        path: &Path,
        counts: impl Fn(usize, &(Vec<String>, bool)) -> bool,
    ) -> bool {
        let components: Vec<&str> = path.iter().filter_map(|c| c.to_str()).collect();
        self.tails.iter().any(|entry| {
            let tail = &entry.0;
            (1..=tail.len()).any(|k| {
                // The whole fixed tail as the last components is a match of its own only
                // when the pattern ends there; any shorter prefix is a directory above one.
                k <= components.len()
                    && counts(k, entry)
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
    pub fn compile(
        spec: &PathSpec,
        runs_later: &[String],
        env: &Env,
    ) -> Result<Self, ClassifierError> {
        Ok(Self {
            sensitive: compile_set(&spec.sensitive, &env.home)?,
            agent_config: compile_set(&spec.agent_config, &env.home)?,
            critical: compile_set(&spec.critical, &env.home)?,
            block_devices: compile_set(&spec.block_devices, &env.home)?,
            harmless: compile_set(&spec.harmless, &env.home)?,
            public: compile_set(&spec.public, &env.home)?,
            installed: compile_set(&spec.installed, &env.home)?,
            scratch: compile_set(&spec.scratch, &env.home)?,
            sensitive_trees: Trees::compile(&spec.sensitive, &env.home),
            agent_config_trees: Trees::compile(&spec.agent_config, &env.home),
            runs_later_trees: Trees::compile(runs_later, &env.home),
            critical_trees: Trees::compile(&spec.critical, &env.home),
            protected: env
                .protected
                .iter()
                .flat_map(|p| [p.clone(), real_path(p)])
                .collect(),
        })
    }

    /// Installed dependencies (`node_modules`) and what is below: installed again, not work.
    pub fn is_installed(&self, path: &Path) -> bool {
        self.installed.is_match(path) || self.installed.is_match(path.join("x"))
    }

    /// Pseudo-files that are not really written (`/dev/null`), as written: `..` never leads to
    /// one (`/dev/fd/3/../x` is wherever descriptor 3 is).
    pub fn is_harmless(&self, path: &Path) -> bool {
        !path.components().any(|c| c == Component::ParentDir) && self.harmless.is_match(path)
    }

    /// The workspace of a session in `cwd`: the enclosing git repository's root, else `cwd`
    /// itself, both resolved. Never the root, a home directory or a critical directory, nor a
    /// directory that contains one: a session started there has no workspace, so nothing it
    /// touches is "inside".
    pub fn workspace(&self, cwd: &Path) -> Option<PathBuf> {
        let cwd = real_path(cwd);
        let mut dir = cwd.as_path();
        let root = loop {
            if dir.join(".git").exists_for_user() {
                break dir.to_path_buf();
            }
            match dir.parent() {
                Some(parent) => dir = parent,
                None => break cwd.clone(),
            }
        };
        let too_wide = root.parent().is_none()
            || self.critical.is_match(&root)
            || self.critical_trees.contains(&root);
        (!too_wide).then_some(root)
    }

    /// Add the resolved `path` to `unit` and the classes and tags its location implies.
    pub fn apply(&self, unit: &mut Unit, path: PathBuf, access: Access, ws: Option<&Path>) {
        if self.harmless.is_match(&path) {
            return;
        }
        let inside = ws.is_some_and(|ws| path.starts_with(ws)) || self.scratch.is_match(&path);
        let changes = matches!(access, Access::Write | Access::Delete | Access::Chmod);
        if changes && self.block_devices.is_match(&path) {
            unit.classes.insert(ActionClass::ShellDestructive);
            unit.tags.insert("block-device".into());
        }
        let recursive = unit.tags.contains("recursive");
        // Deleting or recursively changing a directory changes everything in it.
        let tree_change = changes && (access == Access::Delete || recursive);
        let public_read = access == Access::Read && self.public.is_match(&path);
        if !public_read
            && (self.sensitive.is_match(&path)
                || (tree_change && self.sensitive_trees.contains(&path)))
        {
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
        if matches!(access, Access::Write | Access::Chmod | Access::Link)
            && self.installed.is_match(&path)
        {
            // Dependencies' code runs in every build, test and import: changed by hand, it
            // runs later with nobody asked (`node_modules/x/index.js`).
            unit.classes.insert(ActionClass::AccessChange);
            unit.tags.insert("installed-code".into());
        }
        // A directory made, replaced or linked whole where agent configuration or files that
        // run later live (`cp -r payload .claude`, `mv payload .vscode`, `ln -s payload
        // .claude`, `git worktree add .husky`): its members land there unseen one by one.
        if matches!(access, Access::Write | Access::Link)
            && (self.agent_config_trees.holds(&path) || self.runs_later_trees.holds(&path))
        {
            unit.classes.insert(ActionClass::AccessChange);
            unit.tags.insert("agent-config".into());
        }
        // A new link into these places is a standing way to reach them under another name.
        let prepares = access == Access::Link;
        if prepares && self.agent_config.is_match(&path) {
            unit.classes.insert(ActionClass::AccessChange);
            unit.tags.insert("agent-config".into());
        }
        if prepares && self.sensitive_trees.contains(&path) {
            unit.classes.insert(ActionClass::ReadSensitive);
            unit.tags.insert("sensitive-tree".into());
        }
        if (changes || prepares) && self.protected.iter().any(|p| path.starts_with(p)) {
            unit.classes.insert(ActionClass::AccessChange);
            unit.tags.insert("airlock-self".into());
        }
        let destroys = matches!(access, Access::Delete) || (recursive && changes);
        if destroys && self.is_critical(&path) {
            unit.classes.insert(ActionClass::ShellDestructive);
            unit.tags.insert("critical-path".into());
        }
        match access {
            Access::Read | Access::Link => {
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
                if recursive && Some(path.as_path()) == ws {
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

    /// Critical inside the workspace too: a workspace is never a critical directory nor
    /// contains one (see [`PathKnowledge::workspace`]), so a critical path inside it can only
    /// be reached through a link, and the link does not make it less critical.
    fn is_critical(&self, path: &Path) -> bool {
        self.critical.is_match(path) || path.components().count() <= 1
    }
}

/// Where `path` really is now (links followed, the missing rest lexical).
fn real_path(path: &Path) -> PathBuf {
    let planned = PlannedLinks::default();
    let lookup = Lookup {
        cwd: None,
        planned: &planned,
    };
    resolve::resolve(path, true, &lookup)
        .into_iter()
        .next()
        .map_or_else(|| lexical_normalize(path), |r| r.path)
}

/// An absolute pattern with its fixed leading directory resolved (`/lib/**` →
/// `/usr/lib/**` where `/lib` is a link), when that differs.
fn resolved_pattern(expanded: &str) -> Option<String> {
    if !expanded.starts_with('/') {
        return None;
    }
    let meta = expanded
        .find(['*', '?', '[', '{', '\\'])
        .unwrap_or(expanded.len());
    let cut = if meta == expanded.len() {
        meta
    } else {
        expanded[..meta].rfind('/').map_or(0, |i| i + 1)
    };
    let (fixed, rest) = expanded.split_at(cut);
    let real = real_path(Path::new(fixed));
    let real = real.to_string_lossy();
    let joined = if rest.is_empty() {
        real.to_string()
    } else {
        format!("{}/{rest}", real.trim_end_matches('/'))
    };
    (joined != expanded && joined != expanded.trim_end_matches('/')).then_some(joined)
}

/// A path pattern as written (`~` expanded) and, when it differs, with its fixed leading
/// directory resolved: paths are matched after resolution, so a pattern naming a place through a
/// link (`~/notes/**` with `~/notes -> /data/notes`) must match where it leads too.
pub fn pattern_forms(pattern: &str, home: &Path) -> Vec<String> {
    let expanded = expand_home(pattern, home);
    let resolved = resolved_pattern(&expanded);
    std::iter::once(expanded).chain(resolved).collect()
}

pub(crate) fn compile_set(patterns: &[String], home: &Path) -> Result<GlobSet, ClassifierError> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        for form in pattern_forms(pattern, home) {
            let glob = GlobBuilder::new(&form)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|source| ClassifierError::PathGlob {
                    pattern: pattern.clone(),
                    source,
                })?;
            builder.add(glob);
        }
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

#[cfg(test)]
mod tests {
    // Fixtures are made with the test's own rights.
    #![allow(clippy::disallowed_methods)]
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
    #[allow(clippy::unwrap_used)]
    fn patterns_through_links_also_match_where_they_lead() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        std::fs::create_dir(base.join("real")).unwrap();
        std::os::unix::fs::symlink(base.join("real"), base.join("l")).unwrap();
        std::fs::write(base.join("real/rc"), "").unwrap();
        std::os::unix::fs::symlink("real/rc", base.join("rc")).unwrap();
        let b = base.display();
        assert_eq!(
            pattern_forms(&format!("{b}/l/**"), &base),
            [format!("{b}/l/**"), format!("{b}/real/**")]
        );
        assert_eq!(
            pattern_forms(&format!("{b}/l/id_*"), &base),
            [format!("{b}/l/id_*"), format!("{b}/real/id_*")]
        );
        // A pattern without a glob is resolved whole: `~/.bashrc -> dotfiles/bashrc`.
        assert_eq!(
            pattern_forms("~/rc", &base),
            [format!("{b}/rc"), format!("{b}/real/rc")]
        );
        assert_eq!(pattern_forms("**/.env", &base), ["**/.env"]);
        assert_eq!(pattern_forms(&format!("{b}/real/**"), &base).len(), 1);
    }

    #[test]
    fn expands_only_a_leading_tilde() {
        let home = Path::new("/home/u");
        assert_eq!(expand_home("~/.ssh/**", home), "/home/u/.ssh/**");
        assert_eq!(expand_home("~", home), "/home/u");
        assert_eq!(expand_home("**/.env", home), "**/.env");
    }
}
