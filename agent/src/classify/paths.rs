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
}

impl PathKnowledge {
    pub fn compile(spec: &PathSpec, env: &Env) -> Result<Self, ClassifierError> {
        Ok(Self {
            sensitive: compile_set(&spec.sensitive, &env.home)?,
            agent_config: compile_set(&spec.agent_config, &env.home)?,
            critical: compile_set(&spec.critical, &env.home)?,
            block_devices: compile_set(&spec.block_devices, &env.home)?,
            harmless: compile_set(&spec.harmless, &env.home)?,
            scratch: compile_set(&spec.scratch, &env.home)?,
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
        if self.sensitive.is_match(&path) {
            if changes {
                unit.classes.insert(ActionClass::AccessChange);
                unit.tags.insert("credential-change".into());
            } else {
                unit.classes.insert(ActionClass::ReadSensitive);
            }
        }
        if changes && self.agent_config.is_match(&path) {
            unit.classes.insert(ActionClass::AccessChange);
            unit.tags.insert("agent-config".into());
        }
        if changes && env.protected.iter().any(|p| path.starts_with(p)) {
            unit.classes.insert(ActionClass::AccessChange);
            unit.tags.insert("airlock-self".into());
        }
        let recursive = unit.tags.contains("recursive");
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
    fn expands_only_a_leading_tilde() {
        let home = Path::new("/home/u");
        assert_eq!(expand_home("~/.ssh/**", home), "/home/u/.ssh/**");
        assert_eq!(expand_home("~", home), "/home/u");
        assert_eq!(expand_home("**/.env", home), "**/.env");
    }
}
