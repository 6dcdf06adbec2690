//! Mapping coding-agent tools to units. Tool names follow Claude Code; other agents' adapters
//! translate their tool names to these (Codex `apply_patch` → `Edit`, Gemini `run_shell_command`
//! → `Bash`, …) so one table serves all.

use super::paths::TAG_READS_TREE;
use super::{Access, Ctx, SHELL_TOOL, Unit, command, later};
use airlock_protocol::ActionClass;
use airlock_request::ActionRequest;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Tools that only change the agent's own state (plans, to-do lists, questions to the user).
const AGENT_INTERNAL_TOOLS: &[&str] = &[
    "TodoWrite",
    "TodoRead",
    "ExitPlanMode",
    "EnterPlanMode",
    "AskUserQuestion",
    "BashOutput",
    "KillShell",
    "KillBash",
    "ListMcpResourcesTool",
    "ReadMcpResourceTool",
    "TaskOutput",
    "TaskList",
    "TaskGet",
];

pub(crate) fn classify_tool(ctx: &Ctx<'_>, req: &ActionRequest) -> Vec<Unit> {
    let mut units = tool_units(ctx, req);
    // A shell command's units know the directory each runs in (after `cd`); any other tool
    // call runs in the request's.
    if req.tool != SHELL_TOOL {
        for unit in &mut units {
            unit.workspace = ctx.workspace.map(Path::to_path_buf);
        }
    }
    units
}

fn tool_units(ctx: &Ctx<'_>, req: &ActionRequest) -> Vec<Unit> {
    let input = &req.input;
    match req.tool.as_str() {
        "Bash" => match str_field(input, "command") {
            Some(cmd) => command::classify_script(ctx, cmd, &req.cwd, 0),
            None => vec![missing_field(req, "command")],
        },
        "PowerShell" => vec![
            Unit::new(
                str_field(input, "command").unwrap_or("(no command)"),
                0,
                "tool PowerShell: PowerShell scripts are not parsed; a human decides",
            )
            .with_class(ActionClass::ShellExec)
            .with_class(ActionClass::Unknown),
        ],
        "Write" | "Edit" | "MultiEdit" | "NotebookEdit" => {
            let field = if req.tool == "NotebookEdit" {
                "notebook_path"
            } else {
                "file_path"
            };
            match str_field(input, field) {
                Some(path) => {
                    let mut unit = Unit::new(
                        format!("{} {path}", req.tool),
                        0,
                        format!("tool {}", req.tool),
                    );
                    let target = resolve(ctx, &req.cwd, path);
                    let mut units = Vec::new();
                    if let Some(later) =
                        ctx.runs_later(&target, written_content(req, &target).as_deref())
                    {
                        let dir = target.parent().unwrap_or(&req.cwd).to_path_buf();
                        for line in later::mark(&mut unit, later) {
                            units.extend(command::classify_script(ctx, &line, &dir, 1));
                        }
                    }
                    ctx.touch(&mut unit, target, Access::Write);
                    units.insert(0, unit);
                    units
                }
                None => vec![missing_field(req, field)],
            }
        }
        "Read" | "Glob" | "Grep" | "LS" | "NotebookRead" => {
            let path = str_field(input, "file_path")
                .or_else(|| str_field(input, "notebook_path"))
                .or_else(|| str_field(input, "path"));
            let target = path.map_or_else(|| req.cwd.clone(), |p| resolve(ctx, &req.cwd, p));
            let mut unit = Unit::new(
                format!("{} {}", req.tool, target.display()),
                0,
                format!("tool {}", req.tool),
            );
            if req.tool == "Grep" {
                // Searches the contents of the whole tree, as `rg` does.
                unit.tags.insert(TAG_READS_TREE.into());
            }
            ctx.touch(&mut unit, target, Access::Read);
            vec![unit]
        }
        "WebFetch" => {
            let url = str_field(input, "url").unwrap_or("");
            let mut unit = Unit::new(format!("WebFetch {url}"), 0, "tool WebFetch")
                .with_class(ActionClass::NetworkFetch);
            match command::host_of(url) {
                Some(host) => unit.hosts.push(host),
                None => {
                    unit.classes.insert(ActionClass::Unknown);
                }
            }
            vec![unit]
        }
        "WebSearch" => {
            let mut unit = Unit::new(
                format!("WebSearch {}", str_field(input, "query").unwrap_or("")),
                0,
                "tool WebSearch",
            )
            .with_class(ActionClass::NetworkFetch);
            unit.tags.insert("web-search".into());
            vec![unit]
        }
        "Agent" | "Task" => {
            let kind = str_field(input, "subagent_type").unwrap_or("general-purpose");
            let mut unit = Unit::new(format!("delegate to sub-agent {kind}"), 0, "tool Agent")
                .with_class(ActionClass::AgentDelegate);
            unit.tags.insert(format!("subagent:{kind}"));
            vec![unit]
        }
        tool if tool.starts_with("mcp__") => {
            let mut unit =
                Unit::new(tool.to_string(), 0, "tool MCP").with_class(ActionClass::McpCall);
            let mut parts = tool.splitn(3, "__").skip(1);
            if let (Some(server), Some(name)) = (parts.next(), parts.next()) {
                unit.tags.insert(format!("mcp-server:{server}"));
                unit.tags.insert(format!("mcp-tool:{name}"));
            }
            vec![unit]
        }
        tool if AGENT_INTERNAL_TOOLS.contains(&tool) => vec![
            Unit::new(tool.to_string(), 0, "tool: agent-internal state only")
                .with_class(ActionClass::Read),
        ],
        tool => vec![
            Unit::new(
                tool.to_string(),
                0,
                "tool not known to Airlock: a human decides",
            )
            .with_class(ActionClass::Unknown),
        ],
    }
}

/// The content a file-writing tool leaves in `path`: the Write tool's `content`, or the file
/// as it is with an Edit's (or MultiEdit's) replacements applied. `None` when it cannot be
/// known (the file is unreadable, an `old_string` is not in it).
fn written_content(req: &ActionRequest, path: &Path) -> Option<String> {
    let input = &req.input;
    match req.tool.as_str() {
        "Write" => str_field(input, "content").map(str::to_string),
        "Edit" => {
            let current = airlock_userfs::read_to_string(path).ok()?;
            apply_edit(current, input)
        }
        "MultiEdit" => {
            let mut text = airlock_userfs::read_to_string(path).ok()?;
            for edit in input.get("edits")?.as_array()? {
                text = apply_edit(text, edit)?;
            }
            Some(text)
        }
        _ => None,
    }
}

fn apply_edit(text: String, edit: &Value) -> Option<String> {
    let old = str_field(edit, "old_string")?;
    let new = str_field(edit, "new_string")?;
    if old.is_empty() || !text.contains(old) {
        return None;
    }
    let all = edit
        .get("replace_all")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    Some(if all {
        text.replace(old, new)
    } else {
        text.replacen(old, new, 1)
    })
}

fn str_field<'a>(input: &'a Value, name: &str) -> Option<&'a str> {
    input.get(name).and_then(Value::as_str)
}

fn missing_field(req: &ActionRequest, field: &str) -> Unit {
    Unit::new(
        format!("{} without `{field}`", req.tool),
        0,
        format!("tool {}: input has no string `{field}`", req.tool),
    )
    .with_class(ActionClass::Unknown)
}

/// Resolve a tool's path argument: `~` expands, relative paths are against the cwd.
fn resolve(ctx: &Ctx<'_>, cwd: &Path, path: &str) -> PathBuf {
    if path == "~" || path.starts_with("~/") {
        let rest = path.trim_start_matches('~').trim_start_matches('/');
        return ctx.classifier.env.home.join(rest);
    }
    cwd.join(path)
}
