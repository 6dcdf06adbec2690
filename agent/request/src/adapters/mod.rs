//! Agent adapters: one per coding agent, in front of one decision core. An adapter turns its
//! agent's hook payload into an [`ActionRequest`] and renders the decision the way that agent
//! expects. Adding an agent (Cursor, Gemini CLI, Codex, Copilot, an MCP proxy) means adding a
//! module here; nothing after the adapter changes.

pub mod claude_code;

use crate::{ActionRequest, HookEvent, ToolCall};
use airlock_protocol::{ToolKind, Verdict};

/// What the hook process prints and how it exits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookOutput {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AdapterError {
    #[error("no adapter for agent `{0}`; known agents: claude-code")]
    UnknownAgent(String),
    #[error("hook input is not a JSON object")]
    NotAnObject,
    #[error("hook input has no string field `{0}`")]
    MissingField(&'static str),
    #[error(
        "hook event `{0}` is not one Airlock handles (PreToolUse, PermissionRequest, PostToolUse, PostToolUseFailure)"
    )]
    UnknownEvent(String),
    #[error("hook input field `cwd` must be an absolute path, got `{0}`")]
    RelativeCwd(String),
}

pub const KNOWN_AGENTS: &[&str] = &["claude-code"];

/// The command a person types to start `agent` (what the launcher alias wraps).
pub fn command_of(agent: &str) -> Result<&'static str, AdapterError> {
    match agent {
        "claude-code" => Ok(claude_code::COMMAND),
        other => Err(AdapterError::UnknownAgent(other.to_string())),
    }
}

/// Parse a payload for `agent`.
pub fn parse(agent: &str, payload: &serde_json::Value) -> Result<ActionRequest, AdapterError> {
    match agent {
        "claude-code" => claude_code::parse(payload),
        other => Err(AdapterError::UnknownAgent(other.to_string())),
    }
}

/// Render a verdict for `agent`'s hook event. Claude Code is the only adapter so far; the agent
/// parameter is where the next ones plug in.
pub fn render(_agent: &str, event: HookEvent, verdict: &Verdict) -> HookOutput {
    claude_code::render(event, verdict)
}

/// The hook event named in a payload, without a full parse (the shim's fast path).
pub fn event_of(_agent: &str, payload: &serde_json::Value) -> Option<HookEvent> {
    claude_code::event_of(payload)
}

/// What `agent`'s tool `tool` with `input` is, in Airlock's vocabulary (an unknown agent's tools
/// are all `other`).
pub fn tool_call(agent: &str, tool: &str, input: &serde_json::Value) -> ToolCall {
    match agent {
        "claude-code" => claude_code::tool_call(tool, input),
        _ => ToolCall::Other,
    }
}

/// The kind of `agent`'s tool `tool`, from its name alone (what old receipts are listed by).
pub fn tool_kind(agent: &str, tool: &str) -> ToolKind {
    match agent {
        "claude-code" => claude_code::tool_kind(tool),
        _ => ToolKind::Other,
    }
}

/// Every agent's own tool names, with the agent and the kind each is: what policy files may
/// still name (`airlock policy check` points to the kind instead), and what no code outside the
/// adapters may spell out.
pub fn agent_tool_names() -> impl Iterator<Item = (&'static str, &'static str, ToolKind)> {
    claude_code::TOOLS
        .iter()
        .map(|(name, kind)| ("claude-code", *name, *kind))
}

/// The tool and input with which `agent` runs a shell command. Claude Code's is the only
/// adapter so far; the agent parameter is where the next ones plug in.
pub fn shell_tool(_agent: &str, command: &str) -> (&'static str, serde_json::Value) {
    claude_code::shell_tool(command)
}
