//! "Always allow" entries (`[[always]]`) compiled for matching.
//!
//! An entry is exact by construction: it holds no patterns, and matches a unit only when the
//! tool, the whole normalised argument vector, the environment assignments, the sets of paths
//! and hosts and the workspace are all the same as when a human approved it. Anything computed
//! at run time (a word, a path, a host, an assignment's value, the directory) never matches,
//! because nobody saw what it will be.

use super::file::AlwaysSpec;
use airlock_classify::{TAG_ENV_COMPUTED, TAG_HOSTS_UNKNOWN, Unit};
use airlock_protocol::ActionClass;
use airlock_protocol::ToolKind;
use airlock_request::ActionRequest;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct AlwaysEntry {
    pub id: String,
    pub justification: String,
    pub source: PathBuf,
    tool: String,
    classes: Vec<ActionClass>,
    workspace: PathBuf,
    argv: Vec<String>,
    env: Vec<String>,
    paths: BTreeSet<PathBuf>,
    hosts: BTreeSet<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AlwaysError {
    #[error("`{0}` must not be empty: an \"always\" entry says exactly what it allows")]
    Empty(&'static str),
    #[error("`{field}` `{value}` is not an absolute path; write the path the action used in full")]
    NotAbsolute { field: &'static str, value: String },
    #[error(
        "a `shell` entry needs the command's `argv`; without it the entry would describe no command"
    )]
    NoArgv,
    #[error(
        "a `{0}` entry names a kind of tool, so it must also name what it allows (`paths` or `hosts`); without them it would allow every `{0}` call"
    )]
    KindNamesNothing(String),
}

impl AlwaysEntry {
    pub fn compile(spec: AlwaysSpec, source: &Path) -> Result<Self, AlwaysError> {
        if spec.id.trim().is_empty() {
            return Err(AlwaysError::Empty("id"));
        }
        if spec.justification.trim().is_empty() {
            return Err(AlwaysError::Empty("justification"));
        }
        if spec.tool.trim().is_empty() {
            return Err(AlwaysError::Empty("tool"));
        }
        if spec.classes.is_empty() {
            return Err(AlwaysError::Empty("classes"));
        }
        if names_shell(&spec.tool) && spec.argv.is_empty() {
            return Err(AlwaysError::NoArgv);
        }
        if ToolKind::parse(&spec.tool).is_some()
            && spec.argv.is_empty()
            && spec.paths.is_empty()
            && spec.hosts.is_empty()
        {
            return Err(AlwaysError::KindNamesNothing(spec.tool));
        }
        let absolute = |field: &'static str, value: &str| {
            if Path::new(value).is_absolute() {
                Ok(PathBuf::from(value))
            } else {
                Err(AlwaysError::NotAbsolute {
                    field,
                    value: value.to_string(),
                })
            }
        };
        let workspace = absolute("workspace", &spec.workspace)?;
        let paths = spec
            .paths
            .iter()
            .map(|p| absolute("paths", p))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            id: spec.id,
            justification: spec.justification,
            source: source.to_path_buf(),
            tool: spec.tool,
            classes: spec.classes,
            workspace,
            argv: spec.argv,
            env: spec.env,
            paths,
            hosts: spec.hosts.into_iter().collect(),
        })
    }

    /// Does this entry allow `class` of `unit` in `request`?
    pub fn matches(&self, request: &ActionRequest, unit: &Unit, class: ActionClass) -> bool {
        self.classes.contains(&class)
            && names_tool_of(&self.tool, request)
            && unit.workspace.as_deref() == Some(self.workspace.as_path())
            && self.same_command(unit)
            && self.same_environment(unit)
            && self.same_paths(unit)
            && self.same_hosts(unit)
    }

    /// The whole argument vector, word for word, and nothing in it computed at run time. A
    /// tool call that is not a shell command has no argument vector.
    fn same_command(&self, unit: &Unit) -> bool {
        if self.argv.is_empty() {
            return !names_shell(&self.tool) && unit.argv.is_empty();
        }
        unit.argv_complete && unit.argv == self.argv
    }

    fn same_environment(&self, unit: &Unit) -> bool {
        !unit.tags.contains(TAG_ENV_COMPUTED) && unit.env == self.env
    }

    fn same_paths(&self, unit: &Unit) -> bool {
        if unit.paths_unknown() {
            return false;
        }
        let touched: BTreeSet<&Path> = unit.paths.iter().map(|p| p.path.as_path()).collect();
        touched == self.paths.iter().map(PathBuf::as_path).collect()
    }

    fn same_hosts(&self, unit: &Unit) -> bool {
        if unit.tags.contains(TAG_HOSTS_UNKNOWN) {
            return false;
        }
        let reached: BTreeSet<&str> = unit.hosts.iter().map(String::as_str).collect();
        reached == self.hosts.iter().map(String::as_str).collect()
    }
}

/// Whether an entry's `tool` names the shell: the `shell` kind, or an agent's shell tool.
fn names_shell(tool: &str) -> bool {
    airlock_request::kind_named(tool) == Some(ToolKind::Shell)
}

/// Whether an entry's `tool` is the request's: its kind (`write_file`: any agent's), its MCP
/// tool (`mcp__SERVER__TOOL`), or the agent's own tool name as entries written before the
/// shared vocabulary have it (`Write`: that tool only).
fn names_tool_of(tool: &str, request: &ActionRequest) -> bool {
    if request.call.kind() == ToolKind::McpCall {
        return request.call.mcp_name().as_deref() == Some(tool) || request.tool == tool;
    }
    ToolKind::parse(tool) == Some(request.call.kind()) || request.tool == tool
}
