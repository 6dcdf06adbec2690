//! A tool call in Airlock's own vocabulary. The adapter of each agent builds one from its
//! agent's tool name and input; the classifier, policy and daemon read this, never the agent's
//! tool names (those are kept on the request only to be shown and recorded as sent).

use airlock_protocol::ToolKind;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToolCall {
    /// A bash command line.
    Shell {
        command: String,
    },
    /// A PowerShell script; not parsed.
    #[serde(rename = "powershell")]
    PowerShell {
        command: Option<String>,
    },
    /// A file written whole with `content` (`None`: the input gave none).
    WriteFile {
        path: String,
        content: Option<String>,
    },
    /// A file changed in place: by these replacements in order, or (`None`) in a way whose
    /// result cannot be computed from the input (a notebook cell, malformed edits).
    EditFile {
        path: String,
        edits: Option<Vec<Replacement>>,
    },
    /// A file, directory or notebook read or listed (`None`: the working directory).
    ReadPath {
        path: Option<String>,
    },
    /// Files searched, by name, or (`contents`) through the content of the whole tree.
    Search {
        path: Option<String>,
        contents: bool,
    },
    WebFetch {
        url: String,
    },
    WebSearch {
        query: String,
    },
    /// A tool of an MCP server (either may be unknown when the name does not say).
    McpCall {
        server: Option<String>,
        tool: Option<String>,
    },
    /// Work handed to a sub-agent of this type.
    Delegate {
        subagent_type: String,
    },
    /// Only the agent's own state changes.
    AgentInternal,
    /// A tool Airlock does not know.
    Other,
    /// A tool Airlock knows, whose input lacks the string field (named as the agent names it)
    /// that says what it acts on: nothing about it can be known.
    Malformed {
        kind: ToolKind,
        field: String,
    },
}

/// One replacement of an edit: `old` becomes `new`, once or (`all`) everywhere. A field the
/// input did not give as a string is `None`, and the edit's result is then unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replacement {
    pub old: Option<String>,
    pub new: Option<String>,
    pub all: bool,
}

impl ToolCall {
    pub fn kind(&self) -> ToolKind {
        match self {
            ToolCall::Shell { .. } => ToolKind::Shell,
            ToolCall::PowerShell { .. } => ToolKind::PowerShell,
            ToolCall::WriteFile { .. } => ToolKind::WriteFile,
            ToolCall::EditFile { .. } => ToolKind::EditFile,
            ToolCall::ReadPath { .. } => ToolKind::ReadPath,
            ToolCall::Search { .. } => ToolKind::Search,
            ToolCall::WebFetch { .. } => ToolKind::WebFetch,
            ToolCall::WebSearch { .. } => ToolKind::WebSearch,
            ToolCall::McpCall { .. } => ToolKind::McpCall,
            ToolCall::Delegate { .. } => ToolKind::Delegate,
            ToolCall::AgentInternal => ToolKind::AgentInternal,
            ToolCall::Other => ToolKind::Other,
            ToolCall::Malformed { kind, .. } => *kind,
        }
    }

    pub fn is_shell(&self) -> bool {
        self.kind() == ToolKind::Shell
    }

    /// An MCP tool's name in policies: `mcp__SERVER__TOOL`, whatever the agent calls it.
    pub fn mcp_name(&self) -> Option<String> {
        match self {
            ToolCall::McpCall {
                server: Some(server),
                tool: Some(tool),
            } => Some(format!("mcp__{server}__{tool}")),
            _ => None,
        }
    }
}

impl Replacement {
    /// `text` with this replacement applied; `None` when `old` is missing, empty or absent from
    /// `text` (the tool would fail, or do something else than the input says).
    pub fn apply(&self, text: String) -> Option<String> {
        let old = self.old.as_deref()?;
        let new = self.new.as_deref()?;
        if old.is_empty() || !text.contains(old) {
            return None;
        }
        Some(if self.all {
            text.replace(old, new)
        } else {
            text.replacen(old, new, 1)
        })
    }
}
