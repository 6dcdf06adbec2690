//! Claude Code hooks: `PreToolUse`, `PermissionRequest`, `PostToolUse`, `PostToolUseFailure`.
//!
//! Claude Code fails open: a hook that crashes, exits 1 or prints nothing lets the call run.
//! So every block here is belt and braces: the JSON deny (with the required `hookEventName`)
//! on stdout AND exit code 2 with the reason on stderr, which every Claude Code version honours.

use super::{AdapterError, HookOutput};

/// The program that starts Claude Code.
pub const COMMAND: &str = "claude";
use crate::{ActionRequest, HookEvent};
use airlock_protocol::Verdict;
use serde_json::{Value, json};
use std::path::PathBuf;

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
    Ok(ActionRequest {
        agent: "claude-code".to_string(),
        event,
        session: text("session_id").map(str::to_string),
        cwd: PathBuf::from(cwd),
        tool: tool.to_string(),
        input: obj.get("tool_input").cloned().unwrap_or_else(|| json!({})),
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
}
