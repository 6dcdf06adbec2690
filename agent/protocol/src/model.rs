//! The vocabulary shared by every component: action classes, decisions, outcomes, and the
//! records the daemon shows to people.

use serde::{Deserialize, Serialize};
use std::fmt;

/// `[approvals] always_for_guarded` in settings.toml: whether an "always" approval is accepted for
/// guarded actions (read by the daemon and shown by the window).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GuardedAlways {
    /// "Always" is refused for guarded actions.
    #[default]
    Refuse,
    /// "Always" is accepted for guarded actions with a security-key touch.
    WithKey,
}

/// What a tool call is, in Airlock's own vocabulary. Every agent's adapter maps its tools onto
/// these kinds; nothing after the adapter (classifier, policy, daemon, window) looks at an
/// agent's own tool names, which are kept only to be shown and recorded as the agent sent them.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolKind {
    /// A bash command line.
    Shell,
    /// A PowerShell script (not parsed: a human decides).
    #[serde(rename = "powershell")]
    PowerShell,
    /// A file written whole.
    WriteFile,
    /// A file (or notebook) changed in place.
    EditFile,
    /// A file, directory or notebook read or listed.
    ReadPath,
    /// Files searched by name or content.
    Search,
    /// A web page fetched.
    WebFetch,
    /// A web search.
    WebSearch,
    /// A tool of an MCP server.
    McpCall,
    /// Work handed to a sub-agent.
    Delegate,
    /// The agent's own state only (plans, to-do lists, questions to the user).
    AgentInternal,
    /// A tool Airlock does not know: a human decides.
    Other,
}

impl ToolKind {
    pub const ALL: [ToolKind; 12] = [
        ToolKind::Shell,
        ToolKind::PowerShell,
        ToolKind::WriteFile,
        ToolKind::EditFile,
        ToolKind::ReadPath,
        ToolKind::Search,
        ToolKind::WebFetch,
        ToolKind::WebSearch,
        ToolKind::McpCall,
        ToolKind::Delegate,
        ToolKind::AgentInternal,
        ToolKind::Other,
    ];

    /// The name policies use for this kind (`shell`, `write_file`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ToolKind::Shell => "shell",
            ToolKind::PowerShell => "powershell",
            ToolKind::WriteFile => "write_file",
            ToolKind::EditFile => "edit_file",
            ToolKind::ReadPath => "read_path",
            ToolKind::Search => "search",
            ToolKind::WebFetch => "web_fetch",
            ToolKind::WebSearch => "web_search",
            ToolKind::McpCall => "mcp_call",
            ToolKind::Delegate => "delegate",
            ToolKind::AgentInternal => "agent_internal",
            ToolKind::Other => "other",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Whether the call changes a file the way an editor would (what rollback snapshots and the
    /// window previews as a diff).
    pub fn changes_a_file(self) -> bool {
        matches!(self, ToolKind::WriteFile | ToolKind::EditFile)
    }
}

impl fmt::Display for ToolKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Action classes: the high-impact action taxonomy (AWOSS-RUN-L1-001). A request gets one or more.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ActionClass {
    /// Reading or searching files or listing state, without changing anything.
    #[serde(rename = "read")]
    Read,
    /// Reading credentials, keys or other secrets (`~/.ssh`, `.env`, cloud credentials).
    #[serde(rename = "read.sensitive")]
    ReadSensitive,
    /// Building, testing, linting, formatting inside the workspace.
    #[serde(rename = "build")]
    Build,
    /// Creating or changing files inside the workspace.
    #[serde(rename = "file.write")]
    FileWrite,
    /// Creating or changing files outside the workspace.
    #[serde(rename = "file.write.outside")]
    FileWriteOutside,
    /// Deleting files.
    #[serde(rename = "file.delete")]
    FileDelete,
    /// Running a program the knowledge base does not describe further.
    #[serde(rename = "shell.exec")]
    ShellExec,
    /// A command that destroys data or history and is hard to undo (recursive deletes of
    /// important trees, force pushes, hard resets, disk formatting).
    #[serde(rename = "shell.destructive")]
    ShellDestructive,
    /// Running with elevated privileges (`sudo`, `su`, `doas`, `pkexec`).
    #[serde(rename = "shell.privileged")]
    ShellPrivileged,
    /// Reaching the network to fetch something.
    #[serde(rename = "network.fetch")]
    NetworkFetch,
    /// Executing code fetched from the network (`curl … | sh`, installing new packages, `npx`).
    #[serde(rename = "exec.remote")]
    ExecRemote,
    /// Messages that reach other people (issues, PR comments, mail, chat).
    #[serde(rename = "external.comm")]
    ExternalComm,
    /// Sending local data, especially sensitive data, to another system.
    #[serde(rename = "data.export")]
    DataExport,
    /// Changing who or what may act: permissions, credentials, the agents' own hook configuration,
    /// Airlock's own policy and data.
    #[serde(rename = "access.change")]
    AccessChange,
    /// Writes to shared remote systems that are not production (git push, uploads).
    #[serde(rename = "remote.write")]
    RemoteWrite,
    /// Writes to production systems and irreversible publication (deploys, `kubectl apply`,
    /// `terraform apply`, `npm publish`, database writes).
    #[serde(rename = "prod.write")]
    ProdWrite,
    /// Triggering CI or other workflows.
    #[serde(rename = "workflow.invoke")]
    WorkflowInvoke,
    /// Handing work to a sub-agent.
    #[serde(rename = "agent.delegate")]
    AgentDelegate,
    /// Calling a tool of an MCP server.
    #[serde(rename = "mcp.call")]
    McpCall,
    /// Could not be determined (dynamic program names, parse failures, unknown tools). Never allowed
    /// without a human.
    #[serde(rename = "unknown")]
    Unknown,
}

impl ActionClass {
    pub const ALL: [ActionClass; 20] = [
        ActionClass::Read,
        ActionClass::ReadSensitive,
        ActionClass::Build,
        ActionClass::FileWrite,
        ActionClass::FileWriteOutside,
        ActionClass::FileDelete,
        ActionClass::ShellExec,
        ActionClass::ShellDestructive,
        ActionClass::ShellPrivileged,
        ActionClass::NetworkFetch,
        ActionClass::ExecRemote,
        ActionClass::ExternalComm,
        ActionClass::DataExport,
        ActionClass::AccessChange,
        ActionClass::RemoteWrite,
        ActionClass::ProdWrite,
        ActionClass::WorkflowInvoke,
        ActionClass::AgentDelegate,
        ActionClass::McpCall,
        ActionClass::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionClass::Read => "read",
            ActionClass::ReadSensitive => "read.sensitive",
            ActionClass::Build => "build",
            ActionClass::FileWrite => "file.write",
            ActionClass::FileWriteOutside => "file.write.outside",
            ActionClass::FileDelete => "file.delete",
            ActionClass::ShellExec => "shell.exec",
            ActionClass::ShellDestructive => "shell.destructive",
            ActionClass::ShellPrivileged => "shell.privileged",
            ActionClass::NetworkFetch => "network.fetch",
            ActionClass::ExecRemote => "exec.remote",
            ActionClass::ExternalComm => "external.comm",
            ActionClass::DataExport => "data.export",
            ActionClass::AccessChange => "access.change",
            ActionClass::RemoteWrite => "remote.write",
            ActionClass::ProdWrite => "prod.write",
            ActionClass::WorkflowInvoke => "workflow.invoke",
            ActionClass::AgentDelegate => "agent.delegate",
            ActionClass::McpCall => "mcp.call",
            ActionClass::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<ActionClass> {
        ActionClass::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for ActionClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A policy decision, ordered from loosest to strictest: the strictest matching rule wins.
/// The default is `ask`: when nothing else decides, a human does.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    Allow,
    /// A human approves (notification, window, CLI).
    #[default]
    Ask,
    /// A human approves with a security-key touch bound to this action.
    StepUp,
    Deny,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Ask => "ask",
            Decision::StepUp => "step-up",
            Decision::Deny => "deny",
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened to a request: the policy outcome vocabulary of AWOSS-RUN-L2-002, plus the
/// execution results reported after the tool ran.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Allowed,
    Denied,
    ApprovalRequired,
    Approved,
    Rejected,
    Expired,
    Canceled,
    Interrupted,
    RolledBack,
    RateLimited,
    Executed,
    Failed,
}

impl Outcome {
    pub const ALL: [Outcome; 12] = [
        Outcome::Allowed,
        Outcome::Denied,
        Outcome::ApprovalRequired,
        Outcome::Approved,
        Outcome::Rejected,
        Outcome::Expired,
        Outcome::Canceled,
        Outcome::Interrupted,
        Outcome::RolledBack,
        Outcome::RateLimited,
        Outcome::Executed,
        Outcome::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
            Outcome::ApprovalRequired => "approval_required",
            Outcome::Approved => "approved",
            Outcome::Rejected => "rejected",
            Outcome::Expired => "expired",
            Outcome::Canceled => "canceled",
            Outcome::Interrupted => "interrupted",
            Outcome::RolledBack => "rolled_back",
            Outcome::RateLimited => "rate_limited",
            Outcome::Executed => "executed",
            Outcome::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// Whether this outcome lets the action run.
    pub fn permits(self) -> bool {
        matches!(self, Outcome::Allowed | Outcome::Approved)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a person acted, as the client claims it (a claim: recorded next to what the kernel
/// says about the connection).
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Surface {
    /// The `airlock` command line.
    Terminal,
    /// The desktop app's window or tray.
    Window,
    /// A desktop notification's button (answered inside the daemon in user mode, or by the
    /// user's own `airlock notify` in system mode).
    Notification,
}

/// How far an approval reaches.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalScope {
    /// This request only.
    #[default]
    Once,
    /// The same normalised action in the same session, until the daemon restarts.
    Session,
    /// Appends an exact "always" entry to the user's policy.
    Always,
}

impl ApprovalScope {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalScope::Once => "once",
            ApprovalScope::Session => "session",
            ApprovalScope::Always => "always",
        }
    }
}

impl fmt::Display for ApprovalScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule that contributed to a decision, with the reason it gives.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleHit {
    pub id: String,
    pub decision: Decision,
    pub justification: String,
    /// The action class this rule decided for.
    pub class: ActionClass,
    /// File the rule came from (`builtin` for the fallback).
    pub source: String,
}

/// The final answer for a hook request.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub receipt_id: String,
    /// What the policy said.
    pub decision: Decision,
    /// What finally happened: `allowed`, `approved` (the tool may run) or `denied`, `rejected`,
    /// `expired`, `canceled`, `rate_limited` (it may not). For post-execution reports, `executed`
    /// or `failed`.
    pub outcome: Outcome,
    pub classes: Vec<ActionClass>,
    pub rules: Vec<String>,
    /// Why, in a sentence the model and the user can read.
    pub reason: String,
}

/// One simple command (or the tool call itself) and what it was classified as.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitSummary {
    pub text: String,
    pub depth: usize,
    pub classes: Vec<ActionClass>,
    /// Where the classes came from: a knowledge-base entry, a tool mapping, a path rule.
    pub source: String,
}

/// A request waiting for a human.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingApproval {
    pub id: String,
    pub agent: String,
    pub session: Option<String>,
    pub cwd: String,
    /// The agent's own name for the tool, as it sent it (shown and recorded, never interpreted).
    pub tool: String,
    /// What the tool call is, in Airlock's vocabulary (what clients interpret).
    pub kind: ToolKind,
    /// A few words for a notification (no full command, for privacy).
    pub summary: String,
    /// The normalised, redacted tool input.
    pub input: serde_json::Value,
    pub classes: Vec<ActionClass>,
    pub decision: Decision,
    pub rules: Vec<RuleHit>,
    pub reason: String,
    pub units: Vec<UnitSummary>,
    /// The scopes the daemon accepts for this request; clients offer only these.
    pub scopes: Vec<ApprovalScope>,
    /// Those of `scopes` that need a security-key touch.
    pub key_scopes: Vec<ApprovalScope>,
    /// Why `always` is not among `scopes`, or why it needs a key, for people.
    pub always_note: Option<String>,
    #[cfg_attr(test, ts(type = "number"))]
    pub created_ms: i64,
    #[cfg_attr(test, ts(type = "number"))]
    pub expires_ms: i64,
}

/// A receipt as listed by `airlock log` and the history view.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceiptSummary {
    pub id: String,
    #[cfg_attr(test, ts(type = "number"))]
    pub seq: i64,
    #[cfg_attr(test, ts(type = "number"))]
    pub time_ms: i64,
    pub agent: String,
    pub session: Option<String>,
    pub cwd: String,
    /// The agent's own name for the tool, as it sent it.
    pub tool: String,
    /// What the tool call is, in Airlock's vocabulary.
    pub kind: ToolKind,
    pub event: String,
    pub input: serde_json::Value,
    pub classes: Vec<ActionClass>,
    pub rules: Vec<String>,
    pub decision: Decision,
    pub reason: String,
    /// Outcomes in the order they happened.
    pub outcomes: Vec<Outcome>,
}

/// One receipt with its whole outcome timeline (`airlock show --json`, the window's receipt
/// view).
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceiptDetail {
    pub receipt: ReceiptSummary,
    pub tool_use_id: Option<String>,
    /// The rule hits, as recorded (`RuleHit`s; older receipts may differ).
    pub rules: serde_json::Value,
    /// What classification and the decision found (units, policy hash, pids, …).
    pub detail: serde_json::Value,
    /// The receipt's hash in the chain.
    pub hash: String,
    pub timeline: Vec<TimelineEntry>,
}

/// One event of a receipt's timeline.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    #[cfg_attr(test, ts(type = "number"))]
    pub seq: i64,
    #[cfg_attr(test, ts(type = "number"))]
    pub time_ms: i64,
    /// An [`Outcome`] name (kept as text: the log is read by older and newer versions).
    pub outcome: String,
    pub actor: String,
    pub detail: serde_json::Value,
}

/// Daemon health.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusInfo {
    pub version: String,
    pub protocol: u32,
    pub pid: u32,
    #[cfg_attr(test, ts(type = "number"))]
    pub started_ms: i64,
    pub policy_rules: usize,
    pub policy_files: Vec<String>,
    pub pending: usize,
    #[cfg_attr(test, ts(type = "number"))]
    pub decisions: u64,
    pub database: String,
    pub socket: String,
    /// Set while the emergency stop is on.
    pub stopped: Option<StopInfo>,
    /// The receipt database's write-ahead log.
    #[serde(default)]
    pub receipt_log: ReceiptLogInfo,
    /// Where the key that signs the receipt log's checkpoints is kept, and why there (the OS
    /// keyring, or a file when no Secret Service answers).
    #[serde(default)]
    pub checkpoint_key: String,
    /// What this mode guarantees about the records, in a sentence.
    #[serde(default)]
    pub mode: String,
    /// The last signed checkpoint and whether it reached syslog (or why none was signed).
    #[serde(default)]
    pub checkpoints: String,
    /// Each retention target (PostgreSQL, syslog): how far the log was shipped there, or why
    /// it waits.
    #[serde(default)]
    pub retention: Vec<String>,
}

/// The receipt database's write-ahead log, as the daemon's checkpointer last saw it.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptLogInfo {
    /// Its size at the last look.
    #[cfg_attr(test, ts(type = "number"))]
    pub wal_bytes: u64,
    /// The largest size seen since the daemon started.
    #[cfg_attr(test, ts(type = "number"))]
    pub wal_peak_bytes: u64,
    /// Times it was folded into the database and truncated.
    #[cfg_attr(test, ts(type = "number"))]
    pub wal_resets: u64,
    /// Set while it stays above its limit, with the reason.
    pub wal_stuck: Option<String>,
}

/// One policy file (or, in system mode, a user's policy directory) and whether it loads.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyFileCheck {
    pub path: String,
    pub ok: bool,
    /// What `airlock policy check` says of it: the rule count and notes, or the error.
    pub message: String,
}

/// [`StopInfo::by`] when the daemon's watchdog turned the emergency stop on (an impostor was
/// found answering on the daemon's socket).
pub const STOPPED_BY_WATCHDOG: &str = "airlock (watchdog)";

/// An emergency stop in force.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopInfo {
    #[cfg_attr(test, ts(type = "number"))]
    pub since_ms: i64,
    pub by: String,
    pub reason: String,
}

#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    #[default]
    Active,
    /// Every further request is denied.
    Canceled,
    /// Only `read` requests are allowed.
    Contained,
}

/// A coding-agent session as the daemon knows it.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    pub id: String,
    pub agent: String,
    pub cwd: String,
    #[cfg_attr(test, ts(type = "number"))]
    pub first_ms: i64,
    #[cfg_attr(test, ts(type = "number"))]
    pub last_ms: i64,
    #[cfg_attr(test, ts(type = "number"))]
    pub requests: u64,
    #[cfg_attr(test, ts(type = "number"))]
    pub denials: u64,
    pub state: SessionState,
    /// Why the session is canceled or contained (a person, or a circuit breaker).
    pub reason: Option<String>,
    /// Process id of the coding agent, from its hook's parent.
    pub agent_pid: Option<u32>,
}

/// A security-key challenge, bound to one action.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepUpChallenge {
    pub target: crate::StepUpTarget,
    /// What the key's touch will authorise, in words, for the prompt ("approve: rm -rf build").
    pub action: String,
    /// WebAuthn `RequestChallengeResponse` JSON for the client's authenticator.
    #[cfg_attr(test, ts(type = "unknown"))]
    pub options: serde_json::Value,
    /// The origin the client must put in its client data.
    pub origin: String,
    /// After this the ceremony is gone (ms since the epoch).
    #[cfg_attr(test, ts(type = "number"))]
    pub expires_ms: i64,
}

/// A registered security key.
#[cfg_attr(test, derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityKeyInfo {
    /// Credential id (base64url).
    pub id: String,
    pub name: String,
    #[cfg_attr(test, ts(type = "number"))]
    pub created_ms: i64,
    /// How the key was vouched for: the attestation root's subject, or `none (attestation off)`.
    pub attestation: String,
    /// The authenticator model id, when attested.
    pub aaguid: Option<String>,
    #[cfg_attr(test, ts(type = "number | null"))]
    pub last_used_ms: Option<i64>,
}
