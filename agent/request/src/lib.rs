//! The agent-neutral form of a hook request. Adapters (one per coding agent) turn their agent's
//! payload into an [`ActionRequest`]; everything after that (classification, policy, receipts)
//! never sees agent-specific JSON.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

pub use call::{Replacement, ToolCall};

/// What a tool name in a policy file (a rule's `tools`, an "always" entry's `tool`) stands
/// for: one of Airlock's kinds (`shell`), or an agent's own name for one of its tools (`Bash`,
/// kept working so no policy breaks; it then covers only that agent's tool).
pub fn kind_named(name: &str) -> Option<airlock_protocol::ToolKind> {
    airlock_protocol::ToolKind::parse(name).or_else(|| {
        adapters::agent_tool_names()
            .find(|(_, tool, _)| *tool == name)
            .map(|(_, _, kind)| kind)
    })
}

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
    /// The agent's own tool name, as it sent it: shown and recorded, never interpreted.
    pub tool: String,
    /// What the tool call is, in Airlock's vocabulary (built by the agent's adapter from `tool`
    /// and `input`): what classification, policy and the daemon read.
    pub call: ToolCall,
    /// The tool's input as the agent sent it (redacted before it is stored or shown).
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
    /// A shell command as `agent`'s shell tool would run it, used by `airlock explain --command`
    /// and policy examples.
    pub fn shell(agent: &str, cwd: PathBuf, command: &str) -> Self {
        let (tool, input) = adapters::shell_tool(agent, command);
        Self {
            call: ToolCall::Shell {
                command: command.to_string(),
            },
            ..Self::tool_call(agent, cwd, tool, input)
        }
    }

    /// `agent`'s tool `tool` called with `input` (a policy example, a test case), before it runs.
    pub fn tool_call(agent: &str, cwd: PathBuf, tool: &str, input: serde_json::Value) -> Self {
        Self {
            agent: agent.to_string(),
            event: HookEvent::PreToolUse,
            session: None,
            cwd,
            tool: tool.to_string(),
            call: adapters::tool_call(agent, tool, &input),
            input,
            tool_use_id: None,
            subagent: None,
            subagent_type: None,
            permission_mode: None,
            error: None,
        }
    }
}

pub mod adapters;
mod call;
pub mod redact;
