//! "Always allow": an amendment to a policy file the user can read, holding exactly what was
//! approved (see [`AlwaysSpec`]: this tool, this whole argument vector, these paths and hosts,
//! this workspace), deduplicated.

use super::Evaluation;
use super::file::{AlwaysSpec, PolicyFile};
use airlock_classify::{Classification, TAG_ENV_COMPUTED, TAG_HOSTS_UNKNOWN};
use airlock_protocol::Decision;
use airlock_protocol::ToolKind;
use airlock_request::ActionRequest;
use airlock_request::redact::redact_str;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The file `always` approvals are appended to, inside the user's policy directory.
pub const ALWAYS_FILE: &str = "always.toml";

#[derive(Debug, thiserror::Error)]
pub enum AmendError {
    #[error(
        "cannot always-allow this: rule `{0}` asks for it explicitly, and an allow rule cannot loosen an explicit rule; edit that rule, or approve with scope `once` or `session`"
    )]
    ExplicitRule(String),
    #[error("cannot always-allow a `{0}` decision; only `ask` decisions can be turned into a rule")]
    NotAsk(Decision),
    #[error(
        "cannot always-allow `{0}`: part of it is only known at run time, so no exact rule can describe it; approve with scope `once` or `session`"
    )]
    NotNarrow(String),
    #[error(
        "cannot always-allow `{0}`: it holds what looks like a secret, which an \"always\" entry would keep in plain text in your policy file; approve with scope `once` or `session`"
    )]
    Secret(String),
    #[error("cannot write `{path}`: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read `{path}` to add the rule: {message}")]
    Parse { path: PathBuf, message: String },
}

/// The exact "always" entries that would let this request through next time: one per unit a
/// human was asked about, for the classes that asked.
pub fn entries_for(
    request: &ActionRequest,
    classification: &Classification,
    evaluation: &Evaluation,
    note: &str,
) -> Result<Vec<AlwaysSpec>, AmendError> {
    if evaluation.decision != Decision::Ask {
        return Err(AmendError::NotAsk(evaluation.decision));
    }
    if let Some(explicit) = evaluation
        .hits
        .iter()
        .find(|h| h.decision > Decision::Allow && !h.id.starts_with("baseline."))
    {
        return Err(AmendError::ExplicitRule(explicit.id.clone()));
    }
    let mut entries = Vec::new();
    for (index, unit) in classification.units.iter().enumerate() {
        let mut asking: Vec<_> = evaluation
            .details
            .iter()
            .filter(|d| d.unit == index && d.decision > Decision::Allow)
            .map(|d| d.class)
            .collect();
        if asking.is_empty() {
            continue;
        }
        asking.sort();
        asking.dedup();
        let not_narrow = || AmendError::NotNarrow(unit.text.clone());
        let computed = unit.paths_unknown()
            || unit.tags.contains(TAG_HOSTS_UNKNOWN)
            || unit.tags.contains(TAG_ENV_COMPUTED);
        let Some(workspace) = &unit.workspace else {
            return Err(not_narrow());
        };
        if computed {
            return Err(not_narrow());
        }
        let argv = if request.call.is_shell() {
            if !unit.argv_complete || unit.argv.is_empty() {
                return Err(not_narrow());
            }
            unit.argv.clone()
        } else {
            Vec::new()
        };
        if argv.iter().chain(&unit.env).any(|w| redact_str(w) != *w) {
            return Err(AmendError::Secret(redact_str(&unit.text)));
        }
        let mut paths: Vec<String> = unit
            .paths
            .iter()
            .map(|p| p.path.to_string_lossy().into_owned())
            .collect();
        paths.sort();
        paths.dedup();
        let mut hosts = unit.hosts.clone();
        hosts.sort();
        hosts.dedup();
        // A tool call that names nothing (a web search, a sub-agent, an unknown tool) would be
        // allowed whatever it is asked to do: that is not one action.
        let names_something = !argv.is_empty()
            || !paths.is_empty()
            || !hosts.is_empty()
            || request.call.kind() == ToolKind::McpCall;
        if !names_something {
            return Err(not_narrow());
        }
        let mut entry = AlwaysSpec {
            id: String::new(),
            justification: note.to_string(),
            tool: entry_tool(request),
            classes: asking,
            workspace: workspace.to_string_lossy().into_owned(),
            argv,
            env: unit.env.clone(),
            paths,
            hosts,
        };
        entry.id = format!("always.{}", fingerprint(&entry));
        if !entries.iter().any(|e: &AlwaysSpec| e.id == entry.id) {
            entries.push(entry);
        }
    }
    if entries.is_empty() {
        return Err(AmendError::NotNarrow(request.tool.clone()));
    }
    Ok(entries)
}

/// The `tool` an entry names: exactly the tool that was approved. A shell command is named by
/// its kind (`shell`: the entry also holds the whole argument vector, so any agent's shell
/// running that command in that workspace is the same action); an MCP call by its one tool
/// (`mcp__SERVER__TOOL`); any other call by the agent's own tool name, because a kind would
/// widen it (an approved `LS` of a file would also allow `Read` of it; review round 22).
fn entry_tool(request: &ActionRequest) -> String {
    match request.call.kind() {
        ToolKind::Shell => ToolKind::Shell.as_str().to_string(),
        ToolKind::McpCall => request
            .call
            .mcp_name()
            .unwrap_or_else(|| request.tool.clone()),
        _ => request.tool.clone(),
    }
}

/// Append entries to `dir/always.toml`, skipping ones already there. Returns the ids added and
/// the file's previous contents (to restore if the amended policy fails to load).
pub fn append(
    dir: &Path,
    entries: Vec<AlwaysSpec>,
) -> Result<(PathBuf, Vec<String>, Option<String>), AmendError> {
    let path = dir.join(ALWAYS_FILE);
    std::fs::create_dir_all(dir).map_err(|source| AmendError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let previous = match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => return Err(AmendError::Io { path, source }),
    };
    let existing: PolicyFile = match &previous {
        Some(text) => toml::from_str(text).map_err(|e| AmendError::Parse {
            path: path.clone(),
            message: e.to_string(),
        })?,
        None => PolicyFile::default(),
    };
    let new: Vec<AlwaysSpec> = entries
        .into_iter()
        .filter(|r| !existing.always.iter().any(|e| e.id == r.id))
        .collect();
    if new.is_empty() {
        return Ok((path, Vec::new(), previous));
    }
    let ids = new.iter().map(|r| r.id.clone()).collect();
    let addition = render(new).map_err(|message| AmendError::Parse {
        path: path.clone(),
        message,
    })?;
    let header = "# Added by \"Always allow\" approvals. Each entry allows exactly what was approved: the same\n# tool, the whole command word for word, the same paths, hosts and workspace.\n# Delete entries freely; Airlock reloads this file.\n";
    let mut text = previous.clone().unwrap_or_else(|| header.to_string());
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push('\n');
    text.push_str(&addition);
    write_atomically(&path, &text)?;
    Ok((path, ids, previous))
}

/// The entries as the TOML `append` writes (also what the approvals window previews).
pub fn render(always: Vec<AlwaysSpec>) -> Result<String, String> {
    toml::to_string(&PolicyFile {
        always,
        ..PolicyFile::default()
    })
    .map_err(|e| e.to_string())
}

/// Put a file back as it was before `append` (or remove it if it did not exist).
pub fn restore(path: &Path, previous: Option<String>) -> Result<(), AmendError> {
    match previous {
        Some(text) => write_atomically(path, &text),
        None => std::fs::remove_file(path).map_err(|source| AmendError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn write_atomically(path: &Path, text: &str) -> Result<(), AmendError> {
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|source| AmendError::Io {
            path: path.to_path_buf(),
            source,
        })
}

/// Identical approvals get the same id, so approving twice adds one entry.
fn fingerprint(entry: &AlwaysSpec) -> String {
    let key = serde_json::json!([
        entry.tool,
        entry.classes,
        entry.workspace,
        entry.argv,
        entry.env,
        entry.paths,
        entry.hosts
    ]);
    let digest = Sha256::digest(key.to_string().as_bytes());
    hex::encode(&digest[..8])
}
