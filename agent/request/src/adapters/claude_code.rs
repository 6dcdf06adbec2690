//! Claude Code hooks: `PreToolUse`, `PermissionRequest`, `PostToolUse`, `PostToolUseFailure`.
//!
//! Claude Code fails open: a hook that crashes, exits 1 or prints nothing lets the call run.
//! So every block here is belt and braces: the JSON deny (with the required `hookEventName`)
//! on stdout AND exit code 2 with the reason on stderr, which every Claude Code version honours.

use super::{AdapterError, HookOutput};
use crate::{ActionRequest, HookEvent, Replacement, ToolCall};
use airlock_protocol::{ToolKind, Verdict};
use serde_json::{Value, json};
use std::path::PathBuf;

/// The program that starts Claude Code.
pub const COMMAND: &str = "claude";

/// Claude Code's tools and what each is in Airlock's vocabulary. MCP tools are named
/// `mcp__SERVER__TOOL`; any other name is a tool Airlock does not know.
pub const TOOLS: &[(&str, ToolKind)] = &[
    ("Bash", ToolKind::Shell),
    ("PowerShell", ToolKind::PowerShell),
    ("Write", ToolKind::WriteFile),
    ("Edit", ToolKind::EditFile),
    ("MultiEdit", ToolKind::EditFile),
    ("NotebookEdit", ToolKind::EditFile),
    ("Read", ToolKind::ReadPath),
    ("LS", ToolKind::ReadPath),
    ("NotebookRead", ToolKind::ReadPath),
    ("Glob", ToolKind::Search),
    ("Grep", ToolKind::Search),
    ("WebFetch", ToolKind::WebFetch),
    ("WebSearch", ToolKind::WebSearch),
    ("Agent", ToolKind::Delegate),
    ("Task", ToolKind::Delegate),
    // Listing and reading an MCP server's resources reach that server, like any MCP tool
    // (review round 22: they were counted as the agent's own state).
    ("ListMcpResourcesTool", ToolKind::McpCall),
    ("ReadMcpResourceTool", ToolKind::McpCall),
    // Tools that only change the agent's own state (plans, to-do lists, questions to the user).
    ("TodoWrite", ToolKind::AgentInternal),
    ("TodoRead", ToolKind::AgentInternal),
    ("ExitPlanMode", ToolKind::AgentInternal),
    ("EnterPlanMode", ToolKind::AgentInternal),
    ("AskUserQuestion", ToolKind::AgentInternal),
    ("BashOutput", ToolKind::AgentInternal),
    ("KillShell", ToolKind::AgentInternal),
    ("KillBash", ToolKind::AgentInternal),
    ("TaskOutput", ToolKind::AgentInternal),
    ("TaskList", ToolKind::AgentInternal),
    ("TaskGet", ToolKind::AgentInternal),
];

const MCP_PREFIX: &str = "mcp__";

/// The tool and input that run `command` in a shell.
pub fn shell_tool(command: &str) -> (&'static str, Value) {
    ("Bash", json!({ "command": command }))
}

pub fn tool_kind(tool: &str) -> ToolKind {
    if tool.starts_with(MCP_PREFIX) {
        return ToolKind::McpCall;
    }
    TOOLS
        .iter()
        .find(|(name, _)| *name == tool)
        .map_or(ToolKind::Other, |(_, kind)| *kind)
}

/// The tool call `tool` with `input` is, in Airlock's vocabulary.
pub fn tool_call(tool: &str, input: &Value) -> ToolCall {
    let text = |name: &str| input.get(name).and_then(Value::as_str).map(str::to_string);
    let kind = tool_kind(tool);
    let malformed = |field: &str| ToolCall::Malformed {
        kind,
        field: field.to_string(),
    };
    // The field naming what a file tool acts on.
    let path_field = if tool == "NotebookEdit" {
        "notebook_path"
    } else {
        "file_path"
    };
    match kind {
        ToolKind::Shell => match text("command") {
            Some(command) => ToolCall::Shell { command },
            None => malformed("command"),
        },
        ToolKind::PowerShell => ToolCall::PowerShell {
            command: text("command"),
        },
        ToolKind::WriteFile => match text(path_field) {
            Some(path) => ToolCall::WriteFile {
                path,
                content: text("content"),
            },
            None => malformed(path_field),
        },
        ToolKind::EditFile => match text(path_field) {
            Some(path) => ToolCall::EditFile {
                path,
                edits: match tool {
                    "Edit" => Some(vec![replacement(input)]),
                    "MultiEdit" => input
                        .get("edits")
                        .and_then(Value::as_array)
                        .map(|edits| edits.iter().map(replacement).collect()),
                    _ => None,
                },
            },
            None => malformed(path_field),
        },
        ToolKind::ReadPath | ToolKind::Search => {
            let path = text("file_path")
                .or_else(|| text("notebook_path"))
                .or_else(|| text("path"));
            if kind == ToolKind::ReadPath {
                ToolCall::ReadPath { path }
            } else {
                ToolCall::Search {
                    path,
                    // Grep searches the contents of the whole tree, as `rg` does.
                    contents: tool == "Grep",
                }
            }
        }
        ToolKind::WebFetch => ToolCall::WebFetch {
            url: text("url").unwrap_or_default(),
        },
        ToolKind::WebSearch => ToolCall::WebSearch {
            query: text("query").unwrap_or_default(),
        },
        ToolKind::McpCall if !tool.starts_with(MCP_PREFIX) => ToolCall::McpCall {
            server: text("server"),
            tool: None,
        },
        ToolKind::McpCall => {
            let mut parts = tool.splitn(3, "__").skip(1);
            match (parts.next(), parts.next()) {
                (Some(server), Some(name)) => ToolCall::McpCall {
                    server: Some(server.to_string()),
                    tool: Some(name.to_string()),
                },
                _ => ToolCall::McpCall {
                    server: None,
                    tool: None,
                },
            }
        }
        ToolKind::Delegate => ToolCall::Delegate {
            subagent_type: text("subagent_type").unwrap_or_else(|| "general-purpose".to_string()),
        },
        ToolKind::AgentInternal => ToolCall::AgentInternal,
        ToolKind::Other => ToolCall::Other,
    }
}

fn replacement(edit: &Value) -> Replacement {
    let text = |name: &str| edit.get(name).and_then(Value::as_str).map(str::to_string);
    Replacement {
        old: text("old_string"),
        new: text("new_string"),
        all: edit
            .get("replace_all")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    }
}

pub fn event_of(payload: &Value) -> Option<HookEvent> {
    match payload.get("hook_event_name")?.as_str()? {
        "PreToolUse" => Some(HookEvent::PreToolUse),
        "PermissionRequest" => Some(HookEvent::PermissionRequest),
        "PostToolUse" => Some(HookEvent::PostToolUse),
        "PostToolUseFailure" => Some(HookEvent::PostToolUseFailure),
        _ => None,
    }
}

pub fn parse(payload: &Value) -> Result<ActionRequest, AdapterError> {
    let obj = payload.as_object().ok_or(AdapterError::NotAnObject)?;
    let text = |name: &'static str| obj.get(name).and_then(Value::as_str);
    let event_name =
        text("hook_event_name").ok_or(AdapterError::MissingField("hook_event_name"))?;
    let event =
        event_of(payload).ok_or_else(|| AdapterError::UnknownEvent(event_name.to_string()))?;
    let tool = text("tool_name").ok_or(AdapterError::MissingField("tool_name"))?;
    let cwd = text("cwd").ok_or(AdapterError::MissingField("cwd"))?;
    if !cwd.starts_with('/') && !cwd.contains(":\\") {
        return Err(AdapterError::RelativeCwd(cwd.to_string()));
    }
    let input = obj.get("tool_input").cloned().unwrap_or_else(|| json!({}));
    Ok(ActionRequest {
        agent: "claude-code".to_string(),
        event,
        session: text("session_id").map(str::to_string),
        cwd: PathBuf::from(cwd),
        tool: tool.to_string(),
        call: tool_call(tool, &input),
        input,
        tool_use_id: text("tool_use_id").map(str::to_string),
        subagent: text("agent_id").map(str::to_string),
        subagent_type: text("agent_type").map(str::to_string),
        permission_mode: text("permission_mode").map(str::to_string),
        error: text("error").map(str::to_string),
    })
}

pub fn render(event: HookEvent, verdict: &Verdict) -> HookOutput {
    let permits = verdict.outcome.permits();
    match event {
        HookEvent::PreToolUse => {
            let stdout = json!({
                "hookSpecificOutput": {
                    "hookEventName": "PreToolUse",
                    "permissionDecision": if permits { "allow" } else { "deny" },
                    "permissionDecisionReason": verdict.reason,
                }
            });
            decision_output(stdout, permits, verdict)
        }
        HookEvent::PermissionRequest => {
            let decision = if permits {
                json!({ "behavior": "allow" })
            } else {
                json!({ "behavior": "deny", "message": verdict.reason })
            };
            let stdout = json!({
                "hookSpecificOutput": {
                    "hookEventName": "PermissionRequest",
                    "decision": decision,
                }
            });
            decision_output(stdout, permits, verdict)
        }
        HookEvent::PostToolUse | HookEvent::PostToolUseFailure => HookOutput {
            stdout: "{}".to_string(),
            stderr: String::new(),
            exit_code: 0,
        },
    }
}

fn decision_output(stdout: Value, permits: bool, verdict: &Verdict) -> HookOutput {
    HookOutput {
        stdout: stdout.to_string(),
        stderr: if permits {
            String::new()
        } else {
            format!("{}\n", verdict.reason)
        },
        exit_code: if permits { 0 } else { 2 },
    }
}

/// The answer when Airlock itself cannot decide: block, with a reason the user can act on.
pub fn fail_closed(event: Option<HookEvent>, reason: &str) -> HookOutput {
    let reason = format!("Airlock blocked this tool call: {reason}");
    match event {
        Some(HookEvent::PostToolUse) | Some(HookEvent::PostToolUseFailure) => HookOutput {
            stdout: String::new(),
            stderr: format!("Airlock could not record this tool call's result: {reason}\n"),
            exit_code: 2,
        },
        Some(HookEvent::PermissionRequest) => HookOutput {
            stdout: json!({"hookSpecificOutput": {"hookEventName": "PermissionRequest", "decision": {"behavior": "deny", "message": reason}}}).to_string(),
            stderr: format!("{reason}\n"),
            exit_code: 2,
        },
        _ => HookOutput {
            stdout: json!({"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny", "permissionDecisionReason": reason}}).to_string(),
            stderr: format!("{reason}\n"),
            exit_code: 2,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use airlock_protocol::{Decision, Outcome};

    fn verdict(outcome: Outcome) -> Verdict {
        Verdict {
            receipt_id: "r1".into(),
            decision: Decision::Allow,
            outcome,
            classes: vec![],
            rules: vec![],
            reason: "because".into(),
        }
    }

    #[test]
    fn allow_carries_hook_event_name() {
        let out = render(HookEvent::PreToolUse, &verdict(Outcome::Allowed));
        assert_eq!(
            out.stdout,
            r#"{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"allow","permissionDecisionReason":"because"}}"#
        );
        assert_eq!(out.exit_code, 0);
    }

    #[test]
    fn deny_is_json_and_exit_two() {
        let out = render(HookEvent::PreToolUse, &verdict(Outcome::Rejected));
        assert!(out.stdout.contains(r#""permissionDecision":"deny""#));
        assert_eq!(out.exit_code, 2);
        assert_eq!(out.stderr, "because\n");
    }

    #[test]
    fn older_payloads_without_session_fields_parse() {
        let payload = json!({"hook_event_name": "PreToolUse", "tool_name": "Bash", "cwd": "/x", "tool_input": {"command": "ls"}});
        let req = parse(&payload).unwrap();
        assert_eq!(req.session, None);
        assert_eq!(req.tool_use_id, None);
        assert_eq!(req.event, HookEvent::PreToolUse);
    }

    #[test]
    fn relative_cwd_is_refused() {
        let payload = json!({"hook_event_name": "PreToolUse", "tool_name": "Bash", "cwd": "x", "tool_input": {}});
        assert_eq!(parse(&payload), Err(AdapterError::RelativeCwd("x".into())));
    }

    #[test]
    fn every_tool_maps_to_the_kind_its_name_says() {
        for (name, kind) in TOOLS {
            let call = tool_call(
                name,
                &json!({"command": "ls", "file_path": "/p/f", "notebook_path": "/p/n.ipynb"}),
            );
            assert_eq!(call.kind(), *kind, "{name}: {call:?}");
        }
        assert_eq!(tool_kind("mcp__github__create_issue"), ToolKind::McpCall);
        assert_eq!(
            tool_call("mcp__github__create_issue", &json!({}))
                .mcp_name()
                .as_deref(),
            Some("mcp__github__create_issue")
        );
        assert_eq!(tool_call("SomethingNew", &json!({})), ToolCall::Other);
    }

    #[test]
    fn a_missing_field_is_malformed_and_named_as_the_agent_names_it() {
        assert_eq!(
            tool_call("NotebookEdit", &json!({})),
            ToolCall::Malformed {
                kind: ToolKind::EditFile,
                field: "notebook_path".into()
            }
        );
        assert_eq!(
            tool_call("Bash", &json!({"command": 3})),
            ToolCall::Malformed {
                kind: ToolKind::Shell,
                field: "command".into()
            }
        );
    }
}
