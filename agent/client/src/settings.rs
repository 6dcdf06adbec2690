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
    /// What approvals may do beyond the request at hand.
    pub approvals: ApprovalSettings,
    /// Security-key (step-up) behaviour.
    pub step_up: StepUpSettings,
    /// Desktop notifications for requests that wait for a human.
    pub notifications: NotificationSettings,
    /// Copies of the receipt log's signed checkpoints kept outside it.
    pub retention: RetentionSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            approval_timeout_secs: 300,
            approvals: ApprovalSettings::default(),
            step_up: StepUpSettings::default(),
            notifications: NotificationSettings::default(),
            retention: RetentionSettings::default(),
        }
    }
}

/// Where signed checkpoints are sent as they are made (read when the daemon starts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionSettings {
    /// Send each signed checkpoint to syslog, where the agent's user cannot rewrite what was
    /// logged (`airlock verify --retained FILE` checks the log against those copies).
    pub syslog: bool,
    /// The syslog socket (a Unix datagram socket).
    pub syslog_socket: std::path::PathBuf,
    /// Ship every row and checkpoint to this PostgreSQL database (a libpq connection string:
    /// `host=/run/postgresql user=airlock_writer dbname=airlock`, or `postgres://…`), whose
    /// tables `airlock retention postgres-schema` makes; empty: off. Connect as a role that may
    /// only INSERT and SELECT. No TLS yet: use a Unix socket, or a local tunnel to a remote
    /// server.
    pub postgres: String,
    /// A file holding the PostgreSQL password (its first line), so settings.toml need not: in
    /// system mode `/etc/airlock/postgres.pass`, mode 0640, root:airlock.
    pub postgres_password_file: Option<std::path::PathBuf>,
    /// Rows per PostgreSQL transaction while catching up.
    pub batch_rows: u32,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self {
            syslog: true,
            syslog_socket: std::path::PathBuf::from("/dev/log"),
            postgres: String::new(),
            postgres_password_file: None,
            batch_rows: 500,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApprovalSettings {
    /// Whether "always" may be chosen for guarded actions (production writes, pushes and
    /// uploads, messages to people, data exports, and classes whose baseline is step-up). One
    /// "always" there would remove that gate everywhere, so by default it is refused and the
    /// session scope offered instead. Read when the daemon starts.
    pub always_for_guarded: GuardedAlways,
}

pub use airlock_protocol::GuardedAlways;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StepUpSettings {
    /// Accept only security keys whose attestation chains to a trusted vendor root. Turning
    /// this off lets any program that can sign register itself as a "key"; the daemon warns at
    /// every start and records the choice with each key registered.
    pub require_attestation: bool,
    /// Extra attestation root CAs (PEM files) trusted besides the shipped vendor roots.
    pub attestation_ca_files: Vec<std::path::PathBuf>,
    /// Ending an emergency stop needs a security-key touch.
    pub resume: bool,
    /// Loosening policy from an approval (`--scope always`, which adds an allow rule) needs a
    /// security-key touch.
    pub policy_loosening: bool,
}

impl Default for StepUpSettings {
    fn default() -> Self {
        Self {
            require_attestation: true,
            attestation_ca_files: Vec::new(),
            resume: false,
            policy_loosening: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotificationSettings {
    /// Raise a desktop notification (D-Bus session bus) for each request that waits for a
    /// human: Approve/Deny buttons for `ask`, a pointer to the approvals window for `step-up`.
    /// A convenience, not a security boundary: any program running as the user can drive the
    /// bus or the X server and press Approve, and the daemon cannot tell who did (it can for
    /// `airlock approve`). Turn this off where that matters; step-up always needs the key.
    pub enabled: bool,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self { enabled: true }
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

/// The longest a request may wait for a person: below the hook's own deadline (590 s, under
/// Claude Code's 600 s hook timeout), so a held request is always denied by Airlock first.
pub const MAX_APPROVAL_TIMEOUT_SECS: u64 = 580;

impl Settings {
    /// Read the settings file; a missing file means defaults.
    pub fn load(path: &Path) -> Result<Self, SettingsError> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let settings: Self = toml::from_str(&text).map_err(|e| SettingsError::Parse {
                    path: path.display().to_string(),
                    message: parse_message(&text, &e),
                })?;
                settings.check().map_err(|message| SettingsError::Parse {
                    path: path.display().to_string(),
                    message,
                })?;
                Ok(settings)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(SettingsError::Read {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    /// Values that parse but cannot be honoured.
    fn check(&self) -> Result<(), String> {
        if !(1..=MAX_APPROVAL_TIMEOUT_SECS).contains(&self.approval_timeout_secs) {
            return Err(format!(
                "approval_timeout_secs = {} is outside 1..={MAX_APPROVAL_TIMEOUT_SECS}: a held request must expire (and be denied) before the agent gives up on its hook, which would let the call run",
                self.approval_timeout_secs
            ));
        }
        Ok(())
    }

    pub fn approval_timeout(&self) -> Duration {
        Duration::from_secs(self.approval_timeout_secs)
    }
}

/// Where and why the settings do not parse — never the offending line itself: it may hold a
/// password (`[retention] postgres`), and this text is recorded in the chain and shipped.
fn parse_message(text: &str, error: &toml::de::Error) -> String {
    let at = error.span().map(|span| {
        let before = &text[..span.start.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        format!("line {line}, column {column}: ")
    });
    let message = airlock_request::redact::redact_str(error.message());
    format!("{}{message}", at.unwrap_or_default())
}

impl Settings {
    /// Write the settings file (atomically: a half-written file would stop the daemon starting).
    pub fn save(&self, path: &Path) -> Result<(), SettingsError> {
        let text = toml::to_string(self).map_err(|e| SettingsError::Parse {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let write = |path: &Path| -> std::io::Result<()> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let tmp = path.with_extension("toml.airlock-tmp");
            std::fs::write(&tmp, text.as_bytes())?;
            std::fs::rename(&tmp, path)
        };
        write(path).map_err(|source| SettingsError::Read {
            path: path.display().to_string(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_are_on_unless_turned_off() {
        assert!(Settings::default().notifications.enabled);
        let off: Settings = toml::from_str("[notifications]\nenabled = false\n").unwrap();
        assert_eq!(
            off,
            Settings {
                notifications: NotificationSettings { enabled: false },
                ..Settings::default()
            }
        );
    }

    #[test]
    fn always_for_guarded_actions_is_refused_unless_set_to_need_a_key() {
        assert_eq!(
            Settings::default().approvals.always_for_guarded,
            GuardedAlways::Refuse
        );
        let with_key: Settings =
            toml::from_str("[approvals]\nalways_for_guarded = \"with-key\"\n").unwrap();
        assert_eq!(
            with_key.approvals.always_for_guarded,
            GuardedAlways::WithKey
        );
        let err =
            toml::from_str::<Settings>("[approvals]\nalways_for_guarded = \"yes\"\n").unwrap_err();
        assert!(err.to_string().contains("with-key"), "{err}");
    }

    #[test]
    fn unknown_notification_settings_are_errors() {
        let err = toml::from_str::<Settings>("[notifications]\nenable = false\n").unwrap_err();
        assert!(err.to_string().contains("unknown field `enable`"), "{err}");
        assert!(toml::from_str::<Settings>("notifications = false\n").is_err());
    }
}

#[cfg(test)]
mod parse_tests {
    use super::*;

    #[test]
    fn a_settings_error_names_the_place_but_never_quotes_the_line() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("settings.toml");
        for text in [
            "[retention]\npostgress = \"host=/x user=w password=S3CRETPW\"\n",
            "[retention]\npostgres = \"host=/x user=w password=S3CRETPW\n",
            "[retention]\nbatch_rows = \"password=S3CRETPW\"\n",
        ] {
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
            let error = Settings::load(&path)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(error.contains("line 2"), "{error}");
            assert!(!error.contains("S3CRETPW"), "{error}");
        }
    }
}
