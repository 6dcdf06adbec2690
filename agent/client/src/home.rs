//! Where Airlock keeps its state.
//!
//! Defaults follow the XDG base directories. When `AIRLOCK_HOME` is set, everything (database,
//! socket, user policies, keys) lives under it instead, so tests and side-by-side installs never
//! touch the user's real state. When system mode is installed (`crate::system`), the system's
//! places are used and the environment is not asked at all: an agent that sets `AIRLOCK_HOME`
//! cannot point the hook at a daemon of its own.

use std::path::{Path, PathBuf};

/// The environment variable that relocates all state.
pub const HOME_ENV: &str = "AIRLOCK_HOME";
/// Overrides the directory of shipped default policies.
pub const POLICY_DIR_ENV: &str = "AIRLOCK_POLICY_DIR";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AirlockHome {
    /// Receipts database and daemon state.
    pub data_dir: PathBuf,
    /// User configuration and the user's policy directory.
    pub config_dir: PathBuf,
    /// The socket (and the daemon's lock file).
    pub runtime_dir: PathBuf,
    /// Set in system mode: the daemon's account and the admin group.
    pub system: Option<crate::system::SystemConfig>,
}

impl AirlockHome {
    /// System mode when it is installed; otherwise from the environment: `AIRLOCK_HOME` first,
    /// then XDG.
    pub fn from_env() -> Result<Self, HomeError> {
        if let Some(config) = crate::system::detect()? {
            return Ok(Self::system(config));
        }
        if let Some(root) = std::env::var_os(HOME_ENV).filter(|v| !v.is_empty()) {
            return Ok(Self::under(PathBuf::from(root)));
        }
        let data = dirs::data_dir().ok_or(HomeError::NoHome)?.join("airlock");
        let config = dirs::config_dir().ok_or(HomeError::NoHome)?.join("airlock");
        // The runtime dir is per-user and private (0700) under XDG; fall back to the data dir.
        let runtime = dirs::runtime_dir()
            .map(|d| d.join("airlock"))
            .unwrap_or_else(|| data.join("run"));
        Ok(Self {
            data_dir: data,
            config_dir: config,
            runtime_dir: runtime,
            system: None,
        })
    }

    /// Everything under one directory.
    pub fn under(root: PathBuf) -> Self {
        Self {
            data_dir: root.join("data"),
            config_dir: root.join("config"),
            runtime_dir: root.join("run"),
            system: None,
        }
    }

    /// The system's places (see `crate::system`).
    pub fn system(config: crate::system::SystemConfig) -> Self {
        use crate::system::{CONFIG_DIR, DATA_DIR, RUNTIME_DIR};
        Self {
            data_dir: PathBuf::from(DATA_DIR),
            config_dir: PathBuf::from(CONFIG_DIR),
            runtime_dir: PathBuf::from(RUNTIME_DIR),
            system: Some(config),
        }
    }

    pub fn database(&self) -> PathBuf {
        self.data_dir.join("receipts.sqlite3")
    }

    pub fn socket(&self) -> PathBuf {
        self.runtime_dir.join("airlock.sock")
    }

    pub fn lock_file(&self) -> PathBuf {
        self.runtime_dir.join("airlock.lock")
    }

    pub fn settings_file(&self) -> PathBuf {
        self.config_dir.join("settings.toml")
    }

    /// The user's policy directory; `always` approvals are appended here.
    pub fn user_policy_dir(&self) -> PathBuf {
        self.config_dir.join("policies")
    }

    /// Directories whose contents are Airlock itself: an agent writing there is switching
    /// Airlock off.
    pub fn protected_dirs(&self) -> Vec<PathBuf> {
        vec![
            self.data_dir.clone(),
            self.config_dir.clone(),
            self.runtime_dir.clone(),
        ]
    }

    /// Create the directories with private permissions. In system mode the configuration is
    /// root's (never touched here), and the socket's directory is open for every user to reach
    /// the socket but writable by the daemon's account alone.
    pub fn ensure_dirs(&self) -> std::io::Result<()> {
        if self.system.is_some() {
            create_dir_with_mode(&self.data_dir, 0o700)?;
            return create_dir_with_mode(&self.runtime_dir, 0o755);
        }
        for dir in [&self.data_dir, &self.config_dir, &self.runtime_dir] {
            create_private_dir(dir)?;
        }
        Ok(())
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    create_dir_with_mode(dir, 0o700)
}

fn create_dir_with_mode(dir: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))
}

/// The shipped default policy directory: `AIRLOCK_POLICY_DIR`, else `policies/` next to the
/// installed binary's share dir, else the source tree's `policies/` (development builds).
pub fn default_policy_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(POLICY_DIR_ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Ok(exe) = std::env::current_exe()
        && let Some(prefix) = exe.parent().and_then(Path::parent)
    {
        let installed = prefix.join("share/airlock/policies");
        if installed.is_dir() {
            return installed;
        }
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies"))
}

#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    #[error("cannot find a home directory: set `AIRLOCK_HOME` to the directory Airlock should use")]
    NoHome,
    #[error(transparent)]
    System(#[from] crate::system::SystemError),
}
