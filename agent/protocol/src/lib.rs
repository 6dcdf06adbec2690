//! The wire contract between the Airlock daemon and its clients (the hook shim, the CLI and the
//! desktop app).
//!
//! Transport: newline-delimited JSON over a local socket. Every message is wrapped in an
//! [`Envelope`] carrying the protocol version; the daemon refuses a message whose version it does
//! not speak with [`ErrorCode::ProtocolVersion`] instead of guessing. Requests carry an `id` that
//! the matching response echoes, so one connection may carry several requests and a stream of
//! events (after [`Request::Subscribe`]).
//!
//! This crate has no runtime dependencies on purpose: it is the part every client shares.

use serde::{Deserialize, Serialize};

mod model;
pub mod window;

pub use model::{
    ActionClass, ApprovalScope, Decision, GuardedAlways, Outcome, PendingApproval, PolicyFileCheck,
    ReceiptDetail, ReceiptLogInfo, ReceiptSummary, RuleHit, STOPPED_BY_WATCHDOG, SecurityKeyInfo,
    SessionState, SessionSummary, StatusInfo, StepUpChallenge, StopInfo, Surface, TimelineEntry,
    ToolKind, UnitSummary, Verdict,
};

/// The protocol version this build speaks. Bump on any incompatible change.
pub const PROTOCOL_VERSION: u32 = 1;

/// One line on the wire.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope<T> {
    /// Protocol version of the sender.
    pub v: u32,
    /// Request id chosen by the client; responses echo it. Events pushed after a subscription
    /// carry the id of the `subscribe` request.
    #[cfg_attr(test, ts(type = "number"))]
    pub id: u64,
    pub body: T,
    /// What the client says it is (a terminal, the window). Recorded beside what the kernel
    /// says about the connection, never instead of it: any process can claim anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surface: Option<Surface>,
}

impl<T> Envelope<T> {
    pub fn new(id: u64, body: T) -> Self {
        Self {
            v: PROTOCOL_VERSION,
            id,
            body,
            surface: None,
        }
    }

    /// The same envelope, claiming `surface`.
    pub fn from_surface(mut self, surface: Option<Surface>) -> Self {
        self.surface = surface;
        self
    }
}

/// What a client asks of the daemon.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// A coding agent's hook payload, forwarded verbatim by the hook shim. The daemon answers
    /// with [`Response::Verdict`] — immediately for allow/deny, after a human decides for
    /// ask/step-up.
    Hook {
        /// Which adapter understands the payload, e.g. `claude-code`.
        agent: String,
        /// The hook's stdin, parsed as JSON but otherwise untouched.
        payload: serde_json::Value,
        /// Process id of the coding agent that ran the hook (the shim's parent), if known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent_pid: Option<u32>,
    },
    /// A launcher (`airlock run`) registers itself, by its peer credentials, as the root of a
    /// coding agent's process tree: it is a child subreaper, so every descendant — double-forked,
    /// `setsid`, `nohup` — stays below it, and none of them may approve or loosen anything.
    Launch {},
    /// The launcher's agent and every process below it have exited (sent by the launcher as
    /// it ends). A launcher that disappears without this was killed: the daemon turns the
    /// emergency stop on, since the agent's processes are no longer kept below it.
    LaunchEnded {},
    /// List the requests waiting for a human.
    Pending {},
    /// Approve a pending request.
    Approve {
        id: String,
        #[serde(default)]
        scope: ApprovalScope,
        /// A WebAuthn assertion (`PublicKeyCredential` JSON) answering the challenge of
        /// [`Request::StepUpBegin`] for this request and scope. Required for `step-up`
        /// decisions, and for `always` when loosening policy is configured to need step-up.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(test, ts(type = "unknown"))]
        assertion: Option<serde_json::Value>,
    },
    /// Reject a pending request; the reason is passed back to the agent.
    Deny {
        id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Daemon health and counters.
    Status {},
    /// Keep the connection open and push [`Response::Event`]s as things happen.
    Subscribe {},
    /// Emergency stop: deny every new request from every agent, cancel pending approvals; with
    /// `kill`, also terminate the coding-agent processes of mediated sessions.
    Stop {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        #[serde(default)]
        kill: bool,
    },
    /// End an emergency stop. `assertion` answers a [`StepUpTarget::Resume`] challenge when
    /// resuming is configured to need step-up.
    Resume {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(test, ts(type = "unknown"))]
        assertion: Option<serde_json::Value>,
    },
    /// List the sessions the daemon has seen.
    Sessions {},
    /// Receipts, newest first (in system mode a user's own; everyone's for admins).
    History { filter: HistoryFilter },
    /// One receipt with its whole outcome timeline.
    Receipt { id: String },
    /// Deny every further request of a session.
    SessionCancel {
        id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Allow only `read` requests of a session until it is released.
    SessionContain {
        id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Return a canceled or contained session (or one whose circuit breaker tripped) to normal.
    SessionRelease { id: String },
    /// Restore the files a request changed, from the pre-images taken before it ran.
    Rollback {
        /// A receipt id, or with `session` set, a session id (all its changes, newest first).
        id: String,
        #[serde(default)]
        session: bool,
        /// Restore even if the files changed again since.
        #[serde(default)]
        force: bool,
    },
    /// The allow rule(s) `approve --scope always` would add for a pending request, without
    /// adding them (the approvals window shows them before the user confirms).
    PreviewAlways { id: String },
    /// Start a security-key ceremony bound to one action. The answer is a
    /// [`Response::StepUpChallenge`]; the client has a key sign it and sends the assertion with
    /// the request it authorises. A ceremony is single use and expires with its approval.
    StepUpBegin { target: StepUpTarget },
    /// The registered security keys.
    KeyList {},
    /// The policy files that apply to the caller, each checked as `airlock policy check`
    /// checks it (the settings view shows these). In system mode: the machine's files and the
    /// caller's own policy directory, which is in force only while it only tightens.
    PolicyCheck {},
    /// Start registering a security key. Once one key is registered, `assertion` must answer a
    /// [`StepUpTarget::KeyAdd`] challenge signed by an existing key.
    KeyRegisterBegin {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(test, ts(type = "unknown"))]
        assertion: Option<serde_json::Value>,
    },
    /// Finish registering: the key's attested `RegisterPublicKeyCredential` JSON.
    KeyRegisterFinish {
        name: String,
        #[cfg_attr(test, ts(type = "unknown"))]
        credential: serde_json::Value,
    },
    /// Remove a security key (by credential id or name); `assertion` answers a
    /// [`StepUpTarget::KeyRemove`] challenge signed by a registered key.
    KeyRemove {
        id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(test, ts(type = "unknown"))]
        assertion: Option<serde_json::Value>,
    },
}

/// What a security-key ceremony authorises. The challenge is derived from this (and, for an
/// approval, the pending request's canonical receipt), so an assertion for one action cannot
/// authorise another.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum StepUpTarget {
    /// Approve the pending request `id` with `scope`.
    Approve {
        id: String,
        #[serde(default)]
        scope: ApprovalScope,
    },
    /// End the emergency stop.
    Resume,
    /// Register another key named `name`.
    KeyAdd { name: String },
    /// Remove the key `id`.
    KeyRemove { id: String },
}

/// Which receipts [`Request::History`] lists. Every field narrows; none given lists the newest.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<ActionClass>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(type = "number | null"))]
    pub since_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(type = "number | null"))]
    pub until_ms: Option<i64>,
    /// Substring of the input, reason or working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Only receipts older than this row (paging).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(type = "number | null"))]
    pub before_seq: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// What the daemon answers.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Response {
    Verdict(Verdict),
    Pending {
        items: Vec<PendingApproval>,
    },
    Sessions {
        items: Vec<SessionSummary>,
    },
    History {
        items: Vec<ReceiptSummary>,
    },
    /// One receipt: its summary, rules, detail, hash and timeline (as `airlock show --json`).
    Receipt {
        detail: Box<ReceiptDetail>,
    },
    /// A control request succeeded.
    Done {
        message: String,
    },
    Status(StatusInfo),
    Event(Event),
    /// A challenge for the client's security key (answer to [`Request::StepUpBegin`]).
    StepUpChallenge(Box<StepUpChallenge>),
    /// Options for the key's make-credential ceremony (answer to
    /// [`Request::KeyRegisterBegin`]).
    KeyRegistration {
        /// WebAuthn `CreationChallengeResponse` JSON.
        #[cfg_attr(test, ts(type = "unknown"))]
        options: serde_json::Value,
        /// The origin the client must put in its client data.
        origin: String,
    },
    Keys {
        items: Vec<SecurityKeyInfo>,
    },
    /// The rules an `always` approval would add (TOML), and the file they would go to.
    RulePreview {
        toml: String,
        file: String,
    },
    /// Answer to [`Request::PolicyCheck`].
    PolicyFiles {
        items: Vec<PolicyFileCheck>,
    },
    Error {
        code: ErrorCode,
        message: String,
    },
}

/// Things that happen in the daemon, pushed to subscribers (the desktop app).
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
    ApprovalPending {
        approval: PendingApproval,
    },
    ApprovalResolved {
        id: String,
        outcome: Outcome,
    },
    EmergencyStop {
        stop: Option<StopInfo>,
    },
    SessionChanged {
        session: SessionSummary,
    },
    BreakerTripped {
        session: String,
        breaker: String,
        reason: String,
    },
    Recorded {
        receipt: ReceiptSummary,
    },
    PolicyReloaded {
        rules: usize,
    },
    /// A request needing a security-key approval was denied because no key is registered;
    /// the person should hear it (and how to fix it), not only the agent.
    StepUpUnavailable {
        approval: PendingApproval,
    },
    /// Someone asked to see a pending request in the approvals window (e.g. clicked its
    /// desktop notification).
    ShowApprovals {
        id: String,
    },
}

/// Stable error codes; clients branch on these, never on message text.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The message's `v` is not one this daemon speaks.
    ProtocolVersion,
    /// The line was not a valid message.
    BadRequest,
    /// The hook payload could not be understood; the request was denied and recorded.
    BadPayload,
    /// No agent adapter by that name.
    UnknownAgent,
    /// No pending request with that id.
    NotFound,
    /// The caller may not do this (e.g. a control request from inside a mediated agent).
    Forbidden,
    /// This needs a security-key assertion: open a ceremony with [`Request::StepUpBegin`],
    /// have the key sign it, and send the request again with the assertion.
    StepUpRequired,
    /// Something failed inside the daemon; the request was not allowed.
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ProtocolVersion => "protocol_version",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::BadPayload => "bad_payload",
            ErrorCode::UnknownAgent => "unknown_agent",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::StepUpRequired => "step_up_required",
            ErrorCode::Internal => "internal",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_round_trips_with_version_and_tag() {
        let msg = Envelope::new(
            7,
            Request::Approve {
                id: "r1".into(),
                scope: ApprovalScope::Session,
                assertion: None,
            },
        );
        let line = serde_json::to_string(&msg).unwrap();
        assert_eq!(
            line,
            r#"{"v":1,"id":7,"body":{"type":"approve","id":"r1","scope":"session"}}"#
        );
        let back: Envelope<Request> = serde_json::from_str(&line).unwrap();
        assert_eq!(back, msg);
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let line = r#"{"v":1,"id":1,"body":{"type":"status","extra":true}}"#;
        assert!(serde_json::from_str::<Envelope<Request>>(line).is_err());
    }

    #[test]
    fn decisions_order_from_loosest_to_strictest() {
        assert!(Decision::Allow < Decision::Ask);
        assert!(Decision::Ask < Decision::StepUp);
        assert!(Decision::StepUp < Decision::Deny);
        assert_eq!(
            serde_json::to_string(&Decision::StepUp).unwrap(),
            "\"step-up\""
        );
    }
}

/// The desktop UI's TypeScript types are generated from these Rust types and checked in under
/// `ui/src/protocol/`. This test fails when they drift; regenerate with
/// `AIRLOCK_BLESS=1 cargo test -p airlock-protocol`.
#[cfg(test)]
mod typescript {
    use super::*;
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};
    use ts_rs::TS;

    fn checked_in_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/protocol")
    }

    /// Every `.ts` file under `dir`, by path relative to it.
    fn read_dir(dir: &Path) -> BTreeMap<String, String> {
        fn walk(root: &Path, dir: &Path, files: &mut BTreeMap<String, String>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(root, &path, files);
                } else if path.extension().is_some_and(|e| e == "ts") {
                    let name = path
                        .strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned();
                    files.insert(name, std::fs::read_to_string(&path).unwrap());
                }
            }
        }
        let mut files = BTreeMap::new();
        walk(dir, dir, &mut files);
        files
    }

    const GENERATED: &str = "// This file was generated from the Rust types (airlock-protocol). Do not edit this file manually.\n";

    /// The names of the events the app emits to the window.
    fn events_ts() -> String {
        let mut out = String::from(GENERATED);
        out.push_str("export const EVENTS = {\n");
        for (name, value) in window::events::ALL {
            out.push_str(&format!("  {name}: {value:?},\n"));
        }
        out.push_str("} as const;\n");
        out
    }

    /// Every class, outcome and tool kind, in the order the Rust side lists them (the history
    /// view's filters).
    fn lists_ts() -> String {
        fn list<T: Serialize>(items: &[T]) -> String {
            let names: Vec<String> = items
                .iter()
                .map(|i| serde_json::to_string(i).unwrap())
                .collect();
            names.join(", ")
        }
        format!(
            "{GENERATED}import type {{ ActionClass }} from \"./ActionClass\";\nimport type {{ Outcome }} from \"./Outcome\";\nimport type {{ ToolKind }} from \"./ToolKind\";\n\nexport const ACTION_CLASSES: readonly ActionClass[] = [{}];\nexport const OUTCOMES: readonly Outcome[] = [{}];\nexport const TOOL_KINDS: readonly ToolKind[] = [{}];\n",
            list(&ActionClass::ALL),
            list(&Outcome::ALL),
            list(&ToolKind::ALL),
        )
    }

    #[test]
    fn every_window_event_name_is_listed_once() {
        let names: std::collections::BTreeSet<&str> =
            window::events::ALL.iter().map(|(_, v)| *v).collect();
        assert_eq!(names.len(), window::events::ALL.len());
        assert!(names.iter().all(|n| n.starts_with("airlock://")));
    }

    #[test]
    fn generated_typescript_matches_the_checked_in_bindings() {
        let generated = std::env::temp_dir().join(format!("airlock-ts-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&generated);
        Envelope::<Request>::export_all_to(&generated).unwrap();
        Response::export_all_to(&generated).unwrap();
        window::HistoryQuery::export_all_to(&generated).unwrap();
        window::Verification::export_all_to(&generated).unwrap();
        window::SettingsView::export_all_to(&generated).unwrap();
        window::RulePreview::export_all_to(&generated).unwrap();
        window::WindowError::export_all_to(&generated).unwrap();
        std::fs::write(generated.join("events.ts"), events_ts()).unwrap();
        std::fs::write(generated.join("lists.ts"), lists_ts()).unwrap();
        let fresh = read_dir(&generated);
        let _ = std::fs::remove_dir_all(&generated);
        assert!(
            fresh.contains_key("Request.ts") && fresh.contains_key("Response.ts"),
            "{:?}",
            fresh.keys()
        );
        let dir = checked_in_dir();
        if std::env::var_os("AIRLOCK_BLESS").is_some() {
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            for (name, text) in &fresh {
                let path = dir.join(name);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, text).unwrap();
            }
        }
        let checked_in = read_dir(&dir);
        assert_eq!(
            checked_in.keys().collect::<Vec<_>>(),
            fresh.keys().collect::<Vec<_>>(),
            "TypeScript protocol types drifted: regenerate with `AIRLOCK_BLESS=1 cargo test -p airlock-protocol`"
        );
        for (name, text) in &fresh {
            assert_eq!(
                &checked_in[name], text,
                "ui/src/protocol/{name} drifted from the Rust types: regenerate with `AIRLOCK_BLESS=1 cargo test -p airlock-protocol`"
            );
        }
    }
}
