//! The agent-neutral form of a hook request. Adapters (one per coding agent) turn their agent's
//! payload into an [`ActionRequest`]; everything after that (classification, policy, receipts)
//! never sees agent-specific JSON.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// When in the tool's life the hook fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HookEvent {
    /// Before the tool runs: Airlock decides.
    PreToolUse,
    /// The agent's own permission prompt is about to show: Airlock answers it.
    PermissionRequest,
    /// After the tool ran successfully: Airlock records `executed`.
    PostToolUse,
    /// After the tool failed: Airlock records `failed`.
    PostToolUseFailure,
}

impl HookEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            HookEvent::PreToolUse => "pre_tool_use",
            HookEvent::PermissionRequest => "permission_request",
            HookEvent::PostToolUse => "post_tool_use",
            HookEvent::PostToolUseFailure => "post_tool_use_failure",
        }
    }

    /// Whether this event asks for a decision (as opposed to reporting what happened).
    pub fn is_decision(self) -> bool {
        matches!(self, HookEvent::PreToolUse | HookEvent::PermissionRequest)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionRequest {
    /// Adapter name, e.g. `claude-code`.
    pub agent: String,
    pub event: HookEvent,
    pub session: Option<String>,
    pub cwd: PathBuf,
    /// The agent's tool name (`Bash`, `Write`, `mcp__github__create_issue`, …).
    pub tool: String,
    pub input: serde_json::Value,
    pub tool_use_id: Option<String>,
    /// Sub-agent id and type when the call comes from inside a sub-agent.
    pub subagent: Option<String>,
    pub subagent_type: Option<String>,
    pub permission_mode: Option<String>,
    /// For post-execution events: the error text of a failed tool.
    pub error: Option<String>,
}

impl ActionRequest {
    /// A Bash tool call, used by `airlock explain --command` and policy examples.
    pub fn shell(agent: &str, cwd: PathBuf, command: &str) -> Self {
        Self {
            agent: agent.to_string(),
            event: HookEvent::PreToolUse,
            session: None,
            cwd,
            tool: "Bash".to_string(),
            input: serde_json::json!({ "command": command }),
            tool_use_id: None,
            subagent: None,
            subagent_type: None,
            permission_mode: None,
            error: None,
        }
    }
}

pub mod adapters;
pub mod redact;
