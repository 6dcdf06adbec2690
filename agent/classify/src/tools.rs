//! Tool calls to units. The classifier reads the typed [`ToolCall`] the agent's adapter built,
//! never an agent's tool names; those appear only in unit texts, as the agent sent them.

use super::paths::TAG_READS_TREE;
use super::{Access, Ctx, Unit, command, later};
use airlock_protocol::ActionClass;
use airlock_request::{ActionRequest, Replacement, ToolCall};
use std::path::{Path, PathBuf};

pub(crate) fn classify_tool(ctx: &Ctx<'_>, req: &ActionRequest) -> Vec<Unit> {
    let mut units = tool_units(ctx, req);
    // A shell command's units know the directory each runs in (after `cd`); any other tool
    // call runs in the request's.
    if !req.call.is_shell() {
        for unit in &mut units {
            unit.workspace = ctx.workspace.map(Path::to_path_buf);
        }
    }
    units
}

fn tool_units(ctx: &Ctx<'_>, req: &ActionRequest) -> Vec<Unit> {
    let tool = &req.tool;
    match &req.call {
        ToolCall::Shell { command } => command::classify_script(ctx, command, &req.cwd, 0),
        ToolCall::PowerShell { command } => vec![
            Unit::new(
                command.as_deref().unwrap_or("(no command)"),
                0,
                "tool PowerShell: PowerShell scripts are not parsed; a human decides",
            )
            .with_class(ActionClass::ShellExec)
            .with_class(ActionClass::Unknown),
        ],
        ToolCall::WriteFile { path, .. } | ToolCall::EditFile { path, .. } => {
            let mut unit = Unit::new(format!("{tool} {path}"), 0, format!("tool {tool}"));
            let target = resolve(ctx, &req.cwd, path);
            let mut units = Vec::new();
            if let Some(later) =
                ctx.runs_later(&target, written_content(&req.call, &target).as_deref())
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
        ToolCall::ReadPath { path } | ToolCall::Search { path, .. } => {
            let target = path
                .as_deref()
                .map_or_else(|| req.cwd.clone(), |p| resolve(ctx, &req.cwd, p));
            let mut unit = Unit::new(
                format!("{tool} {}", target.display()),
                0,
                format!("tool {tool}"),
            );
            if matches!(req.call, ToolCall::Search { contents: true, .. }) {
                // Searches the contents of the whole tree, as `rg` does.
                unit.tags.insert(TAG_READS_TREE.into());
            }
            ctx.touch(&mut unit, target, Access::Read);
            vec![unit]
        }
        ToolCall::WebFetch { url } => {
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
        ToolCall::WebSearch { query } => {
            let mut unit = Unit::new(format!("WebSearch {query}"), 0, "tool WebSearch")
                .with_class(ActionClass::NetworkFetch);
            unit.tags.insert("web-search".into());
            vec![unit]
        }
        ToolCall::Delegate { subagent_type } => {
            let mut unit = Unit::new(
                format!("delegate to sub-agent {subagent_type}"),
                0,
                "tool Agent",
            )
            .with_class(ActionClass::AgentDelegate);
            unit.tags.insert(format!("subagent:{subagent_type}"));
            vec![unit]
        }
        ToolCall::McpCall { server, tool: name } => {
            let mut unit =
                Unit::new(tool.to_string(), 0, "tool MCP").with_class(ActionClass::McpCall);
            if let (Some(server), Some(name)) = (server, name) {
                unit.tags.insert(format!("mcp-server:{server}"));
                unit.tags.insert(format!("mcp-tool:{name}"));
            }
            vec![unit]
        }
        ToolCall::AgentInternal => vec![
            Unit::new(tool.to_string(), 0, "tool: agent-internal state only")
                .with_class(ActionClass::Read),
        ],
        ToolCall::Other => vec![
            Unit::new(
                tool.to_string(),
                0,
                "tool not known to Airlock: a human decides",
            )
            .with_class(ActionClass::Unknown),
        ],
        ToolCall::Malformed { field, .. } => vec![
            Unit::new(
                format!("{tool} without `{field}`"),
                0,
                format!("tool {tool}: input has no string `{field}`"),
            )
            .with_class(ActionClass::Unknown),
        ],
    }
}

/// The content a file tool leaves in `path`: what a write gives, or the file as it is with an
/// edit's replacements applied. `None` when it cannot be known (the file is unreadable, an
/// `old` text is not in it, a notebook cell).
fn written_content(call: &ToolCall, path: &Path) -> Option<String> {
    match call {
        ToolCall::WriteFile { content, .. } => content.clone(),
        ToolCall::EditFile {
            edits: Some(edits), ..
        } => {
            let mut text = airlock_userfs::read_to_string(path).ok()?;
            for edit in edits {
                text = Replacement::apply(edit, text)?;
            }
            Some(text)
        }
        _ => None,
    }
}

/// Resolve a tool's path argument: `~` expands, relative paths are against the cwd.
fn resolve(ctx: &Ctx<'_>, cwd: &Path, path: &str) -> PathBuf {
    if path == "~" || path.starts_with("~/") {
        let rest = path.trim_start_matches('~').trim_start_matches('/');
        return ctx.classifier.env.home.join(rest);
    }
    cwd.join(path)
}
