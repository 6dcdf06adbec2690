//! The second contract the window depends on: between the desktop app's Rust side and its
//! webview. The commands' arguments and answers that are not daemon messages, and the names of
//! the events the app emits to the window. Like the daemon's messages, the TypeScript side is
//! generated from these (`ui/src/protocol/`, drift-tested), so a renamed field or event breaks
//! the build instead of the window.

use crate::{ActionClass, ErrorCode, Outcome, PolicyFileCheck};
use serde::{Deserialize, Serialize};

/// The names of the events the app emits to the window.
pub mod events {
    /// Every daemon event, as the protocol's `Event`.
    pub const DAEMON_EVENT: &str = "airlock://event";
    /// The link to the daemon: `"connected"` or `"disconnected"`.
    pub const DAEMON_LINK: &str = "airlock://daemon";
    /// The tray asked to resume after an emergency stop.
    pub const RESUME_REQUESTED: &str = "airlock://resume-requested";
    /// The security key wants its PIN: the window asks and answers with `submit_pin`.
    pub const PIN_REQUEST: &str = "airlock://pin-request";
    /// Something went wrong outside any command (a message for a toast).
    pub const ERROR: &str = "airlock://error";
    /// "Touch your security key" for this action (the challenge's description).
    pub const TOUCH_KEY: &str = "airlock://touch-key";
    /// The ceremony ended (touched, refused or failed): close the dialog.
    pub const TOUCH_KEY_DONE: &str = "airlock://touch-key-done";

    /// Every event, by the name the TypeScript side uses.
    pub const ALL: [(&str, &str); 7] = [
        ("daemonEvent", DAEMON_EVENT),
        ("daemonLink", DAEMON_LINK),
        ("resumeRequested", RESUME_REQUESTED),
        ("pinRequest", PIN_REQUEST),
        ("error", ERROR),
        ("touchKey", TOUCH_KEY),
        ("touchKeyDone", TOUCH_KEY_DONE),
    ];
}

/// History filters, as the window sends them (`history`).
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub session: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub class: Option<ActionClass>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub outcome: Option<Outcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional, type = "number"))]
    pub since_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional, type = "number"))]
    pub until_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional, type = "number"))]
    pub before_seq: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub limit: Option<u32>,
}

/// What `verify` found: the receipt chain and every security-key approval, re-checked.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    pub ok: bool,
    #[cfg_attr(test, ts(type = "number"))]
    pub rows: i64,
    pub step_ups: u32,
    pub message: String,
}

/// The settings view.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsView {
    #[cfg_attr(test, ts(type = "number"))]
    pub approval_timeout_secs: u64,
    /// The longest approval timeout the settings accept.
    #[cfg_attr(test, ts(type = "number"))]
    pub approval_timeout_max_secs: u64,
    pub settings_file: String,
    pub step_up_resume: bool,
    pub step_up_policy_loosening: bool,
    pub require_attestation: bool,
    pub notifications: bool,
    /// The policy files the daemon loads for this user, as it checks them.
    pub policy: Vec<PolicyFileCheck>,
}

/// The rules an `always` approval would add, and the file they would go to (`preview_always`).
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulePreview {
    pub toml: String,
    pub file: String,
}

/// Why a window command failed: a stable code the window can branch on, and a message for the
/// person. When the daemon answered with an error, the code is the daemon's own.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowError {
    pub code: WindowErrorCode,
    pub message: String,
}

/// The codes of [`WindowError`]: the daemon's [`ErrorCode`]s, then the window side's own.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowErrorCode {
    ProtocolVersion,
    BadRequest,
    BadPayload,
    UnknownAgent,
    NotFound,
    Forbidden,
    StepUpRequired,
    Internal,
    /// The daemon is not running, cannot be reached, or is not the daemon it should be.
    Unreachable,
    /// The daemon answered something this app does not expect (mismatched versions).
    UnexpectedAnswer,
    /// The security-key ceremony failed: no key, not touched in time, PIN refused.
    SecurityKey,
    /// settings.toml could not be read or saved, or a value is out of range.
    Settings,
    /// The receipt database could not be opened or read.
    Receipts,
}

impl From<ErrorCode> for WindowErrorCode {
    fn from(code: ErrorCode) -> Self {
        match code {
            ErrorCode::ProtocolVersion => Self::ProtocolVersion,
            ErrorCode::BadRequest => Self::BadRequest,
            ErrorCode::BadPayload => Self::BadPayload,
            ErrorCode::UnknownAgent => Self::UnknownAgent,
            ErrorCode::NotFound => Self::NotFound,
            ErrorCode::Forbidden => Self::Forbidden,
            ErrorCode::StepUpRequired => Self::StepUpRequired,
            ErrorCode::Internal => Self::Internal,
        }
    }
}

impl WindowError {
    pub fn new(code: WindowErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// The daemon's error answer.
    pub fn from_daemon(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(code.into(), message)
    }
}

impl std::fmt::Display for WindowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for WindowError {}
