//! System mode: the daemon under an account of its own, so the agent's user cannot touch
//! Airlock's state.
//!
//! `airlock install system` (or the `.deb`) writes [`MARKER`], root-owned. Its presence puts
//! every Airlock program on the machine in system mode: clients (the hook, the CLI, the desktop
//! app) talk only to the daemon on [`SOCKET`], ignore `AIRLOCK_HOME`, and refuse a peer on that
//! socket that is not the account named there; the daemon keeps its state in [`DATA_DIR`]
//! (its account's, 0700), reads machine settings and policy from [`CONFIG_DIR`] (root's) and
//! the shipped policy from [`SHIPPED_POLICIES`], and serves every user, each with their own
//! home, workspace and protected paths, each seeing and deciding only their own requests.
//!
//! A marker that is not a root-owned regular file writable by root alone is an error, never
//! user mode: whoever could write it could switch the machine's clients to a socket of their
//! choosing.

use serde::Deserialize;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Where `airlock install system` records that system mode is installed.
pub const MARKER: &str = "/etc/airlock/system.toml";
/// The daemon's socket, in a directory only its account can write.
pub const SOCKET: &str = "/run/airlock/airlock.sock";
pub const RUNTIME_DIR: &str = "/run/airlock";
/// The daemon's state (receipts, keys, amendments, the checkpoint key).
pub const DATA_DIR: &str = "/var/lib/airlock";
/// Machine settings and policy (root's).
pub const CONFIG_DIR: &str = "/etc/airlock";
/// The policy Airlock ships.
pub const SHIPPED_POLICIES: &str = "/usr/share/airlock/policies";

/// The marker's contents.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemConfig {
    /// The account the daemon runs as.
    #[serde(default = "default_account")]
    pub account: String,
    /// Members of this group see and decide every user's requests (others only their own).
    #[serde(default = "default_admin_group")]
    pub admin_group: String,
}

fn default_account() -> String {
    "airlock".into()
}

fn default_admin_group() -> String {
    "airlock-admin".into()
}

impl Default for SystemConfig {
    fn default() -> Self {
        Self {
            account: default_account(),
            admin_group: default_admin_group(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SystemError {
    #[error(
        "`{path}` ({why}) is not trusted: it must be a regular file owned by root and writable by root alone; fix it with `sudo chown root:root {path} && sudo chmod 644 {path}`, or remove it with `sudo airlock install system --uninstall`"
    )]
    UntrustedMarker { path: PathBuf, why: String },
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{path}` is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error(
        "system mode names the account `{0}`, which does not exist; run `sudo airlock install system` again"
    )]
    NoAccount(String),
}

/// Whether system mode is installed (and its configuration), from [`MARKER`].
pub fn detect() -> Result<Option<SystemConfig>, SystemError> {
    detect_at(Path::new(MARKER))
}

fn detect_at(path: &Path) -> Result<Option<SystemConfig>, SystemError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(SystemError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let untrusted = |why: &str| SystemError::UntrustedMarker {
        path: path.to_path_buf(),
        why: why.to_string(),
    };
    if !meta.file_type().is_file() {
        return Err(untrusted("not a regular file"));
    }
    if meta.uid() != 0 {
        return Err(untrusted(&format!("owned by uid {}", meta.uid())));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(untrusted("writable by others than root"));
    }
    let text = std::fs::read_to_string(path).map_err(|source| SystemError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text)
        .map(Some)
        .map_err(|e| SystemError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

pub use airlock_userfs::OsUser;

impl SystemConfig {
    /// The daemon's account.
    pub fn account_user(&self) -> Result<OsUser, SystemError> {
        OsUser::by_name(&self.account).ok_or_else(|| SystemError::NoAccount(self.account.clone()))
    }

    /// The admin group's id, if the group exists.
    pub fn admin_gid(&self) -> Option<u32> {
        nix::unistd::Group::from_name(&self.admin_group)
            .ok()
            .flatten()
            .map(|g| g.gid.as_raw())
    }
}

/// The groups a process runs with, as the kernel says (`/proc/PID/status`: `Gid:` effective and
/// `Groups:` supplementary), not as the passwd database says they might be.
pub fn process_groups(pid: u32) -> Vec<u32> {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return Vec::new();
    };
    let mut groups = Vec::new();
    for line in status.lines() {
        if let Some(rest) = line.strip_prefix("Groups:") {
            groups.extend(
                rest.split_whitespace()
                    .filter_map(|g| g.parse::<u32>().ok()),
            );
        } else if let Some(rest) = line.strip_prefix("Gid:") {
            // real, effective, saved, filesystem
            groups.extend(
                rest.split_whitespace()
                    .nth(1)
                    .and_then(|g| g.parse::<u32>().ok()),
            );
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn no_marker_is_user_mode_and_a_marker_others_can_write_is_refused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let marker = dir.path().join("system.toml");
        assert!(matches!(detect_at(&marker), Ok(None)));
        std::fs::write(&marker, "account = \"airlock\"\n").unwrap_or_else(|e| panic!("{e}"));
        let owned_by_root = rustix::process::geteuid().is_root();
        std::fs::set_permissions(&marker, std::fs::Permissions::from_mode(0o666))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            detect_at(&marker),
            Err(SystemError::UntrustedMarker { .. })
        ));
        std::fs::set_permissions(&marker, std::fs::Permissions::from_mode(0o644))
            .unwrap_or_else(|e| panic!("{e}"));
        let found = detect_at(&marker);
        if owned_by_root {
            let config = found.ok().flatten().unwrap_or_default();
            assert_eq!(config.account, "airlock");
            assert_eq!(config.admin_group, "airlock-admin");
        } else {
            // Written by an ordinary user: not root's, so not trusted.
            assert!(matches!(found, Err(SystemError::UntrustedMarker { .. })));
        }
        let link = dir.path().join("link.toml");
        std::os::unix::fs::symlink(&marker, &link).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            detect_at(&link),
            Err(SystemError::UntrustedMarker { .. })
        ));
    }

    #[test]
    fn this_process_is_in_its_own_groups_and_root_has_a_home() {
        let groups = process_groups(std::process::id());
        assert!(groups.contains(&rustix::process::getegid().as_raw()));
        let root = OsUser::by_uid(0).unwrap_or_else(|| panic!("no root"));
        assert_eq!(root.name, "root");
        assert_eq!(OsUser::by_name("root"), Some(root));
    }
}
