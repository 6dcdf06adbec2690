//! MCP tools classified by policy (`[[mcp_tool]]`): the classes a server's tool really has, and
//! the server's annotations as tags. Only ever adds: an annotation informs rules, it never
//! loosens a decision by itself.

use super::PolicyError;
use super::file::{McpAnnotations, McpToolSpec};
use super::rule::glob_set;
use airlock_classify::Classification;
use airlock_protocol::ActionClass;
use globset::GlobSet;
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct McpTool {
    pub id: String,
    pub source: PathBuf,
    tools: GlobSet,
    classes: Vec<ActionClass>,
    annotations: McpAnnotations,
}

impl McpTool {
    pub fn compile(spec: McpToolSpec, path: &Path) -> Result<Self, PolicyError> {
        let invalid = |message: String| PolicyError::Parse {
            path: path.to_path_buf(),
            message: format!("mcp_tool `{}`: {message}", spec.id),
        };
        if spec.justification.trim().is_empty() {
            return Err(invalid(
                "justification must not be empty: say what the tool does".into(),
            ));
        }
        if let Some(bad) = spec.tools.iter().find(|t| !t.starts_with("mcp__")) {
            return Err(invalid(format!(
                "tool `{bad}` is not an MCP tool name; write `mcp__SERVER__TOOL` (globs allowed)"
            )));
        }
        let tools = glob_set(&spec.tools, false)
            .map_err(|e| invalid(e.to_string()))?
            .ok_or_else(|| invalid("`tools` must name at least one tool".into()))?;
        Ok(Self {
            id: spec.id,
            source: path.to_path_buf(),
            tools,
            classes: spec.classes,
            annotations: spec.annotations.unwrap_or_default(),
        })
    }

    /// Add this entry's classes and annotation tags to the MCP call `tool`'s unit.
    fn apply(&self, tool: &str, classification: &mut Classification) {
        if !self.tools.is_match(tool) {
            return;
        }
        for unit in classification
            .units
            .iter_mut()
            .filter(|u| u.classes.contains(&ActionClass::McpCall))
        {
            unit.classes.extend(self.classes.iter().copied());
            let a = self.annotations;
            // A tool that says it is destructive, or reaches the open world, is treated as
            // such; "read-only" is only a tag a rule may choose to trust.
            if a.destructive == Some(true) {
                unit.classes.insert(ActionClass::ShellDestructive);
                unit.tags.insert("mcp-destructive".into());
            }
            if a.open_world == Some(true) {
                unit.classes.insert(ActionClass::NetworkFetch);
                unit.tags.insert("mcp-open-world".into());
            }
            if a.read_only == Some(true) && a.destructive != Some(true) {
                unit.tags.insert("mcp-read-only".into());
            }
            unit.source = format!("{} + policy mcp_tool `{}`", unit.source, self.id);
        }
    }
}

/// Apply every matching `[[mcp_tool]]` entry to an MCP call's classification.
pub fn enrich(tools: &[McpTool], tool: &str, classification: &mut Classification) {
    if !tool.starts_with("mcp__") {
        return;
    }
    for entry in tools {
        entry.apply(tool, classification);
    }
}
