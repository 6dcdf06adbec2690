//! User settings (`settings.toml` in the config directory).

use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// How long an `ask` request waits for a human before it expires (a denial). Keep it below
    /// the agent's hook timeout (`airlock install` sets 600 s for Claude Code).
    pub approval_timeout_secs: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            approval_timeout_secs: 300,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read settings `{path}`: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("settings file `{path}` is not valid: {message}")]
    Parse { path: String, message: String },
}

impl Settings {
    /// Read the settings file; a missing file means defaults.
    pub fn load(path: &Path) -> Result<Self, SettingsError> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).map_err(|e| SettingsError::Parse {
                path: path.display().to_string(),
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(SettingsError::Read {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    pub fn approval_timeout(&self) -> Duration {
        Duration::from_secs(self.approval_timeout_secs)
    }
}
