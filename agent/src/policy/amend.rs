//! "Always allow": an amendment to a policy file the user can read, scoped to exactly what was
//! approved (this program with these arguments as a prefix, this path, this host, these
//! classes), deduplicated, and checked by its own example.

use super::Evaluation;
use super::file::{Example, Examples, PolicyFile, RuleSpec, ToolExample};
use crate::classify::Classification;
use crate::request::ActionRequest;
use airlock_protocol::Decision;
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
        "cannot always-allow `{0}`: part of it is only known at run time, so no narrow rule can describe it; approve with scope `once` or `session`"
    )]
    NotNarrow(String),
    #[error("cannot write `{path}`: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read `{path}` to add the rule: {message}")]
    Parse { path: PathBuf, message: String },
}

/// Build the narrow allow rules that would let this exact request through next time.
pub fn rules_for(
    request: &ActionRequest,
    classification: &Classification,
    evaluation: &Evaluation,
    note: &str,
) -> Result<Vec<RuleSpec>, AmendError> {
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
    let mut rules = Vec::new();
    for (index, unit) in classification.units.iter().enumerate() {
        let asking: Vec<String> = evaluation
            .details
            .iter()
            .filter(|d| d.unit == index && d.decision > Decision::Allow)
            .map(|d| d.class.as_str().to_string())
            .collect();
        if asking.is_empty() {
            continue;
        }
        let mut spec = RuleSpec {
            id: String::new(),
            decision: Decision::Allow,
            justification: note.to_string(),
            classes: asking,
            tools: vec![escape_glob(&request.tool)],
            ..RuleSpec::default()
        };
        if request.tool == "Bash" {
            if !unit.argv_complete || unit.argv.is_empty() {
                return Err(AmendError::NotNarrow(unit.text.clone()));
            }
            let escaped: Vec<String> = unit.argv.iter().map(|w| escape_glob(w)).collect();
            spec.commands = vec![shell_words::join(escaped)];
        }
        if !unit.paths.is_empty() {
            if unit.paths_unknown() {
                return Err(AmendError::NotNarrow(unit.text.clone()));
            }
            spec.paths = unit
                .paths
                .iter()
                .map(|p| escape_glob(&p.path.to_string_lossy()))
                .collect();
        }
        if !unit.hosts.is_empty() {
            spec.hosts = unit.hosts.clone();
        }
        let is_narrow = !spec.commands.is_empty()
            || !spec.paths.is_empty()
            || !spec.hosts.is_empty()
            || request.tool.starts_with("mcp__");
        if !is_narrow {
            return Err(AmendError::NotNarrow(unit.text.clone()));
        }
        spec.examples = example_of(request).map(|e| Examples {
            matches: vec![e],
            not_match: Vec::new(),
        });
        spec.id = format!("always.{}", fingerprint(&spec));
        rules.push(spec);
    }
    if rules.is_empty() {
        return Err(AmendError::NotNarrow(request.tool.clone()));
    }
    Ok(rules)
}

/// Append rules to `dir/always.toml`, skipping ones already there. Returns the ids added and
/// the file's previous contents (to restore if the amended policy fails to load).
pub fn append(
    dir: &Path,
    rules: Vec<RuleSpec>,
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
    let new: Vec<RuleSpec> = rules
        .into_iter()
        .filter(|r| !existing.rules.iter().any(|e| e.id == r.id))
        .collect();
    if new.is_empty() {
        return Ok((path, Vec::new(), previous));
    }
    let ids = new.iter().map(|r| r.id.clone()).collect();
    let addition = render(new).map_err(|message| AmendError::Parse {
        path: path.clone(),
        message,
    })?;
    let header = "# Rules added by \"Always allow\" approvals. Each is scoped to exactly what was approved.\n# Edit or delete freely; Airlock reloads this file.\n";
    let mut text = previous.clone().unwrap_or_else(|| header.to_string());
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push('\n');
    text.push_str(&addition);
    write_atomically(&path, &text)?;
    Ok((path, ids, previous))
}

/// The rules as the TOML `append` writes (also what the approvals window previews).
pub fn render(rules: Vec<RuleSpec>) -> Result<String, String> {
    toml::to_string(&PolicyFile {
        version: None,
        baselines: Vec::new(),
        rules,
        budgets: Vec::new(),
        breakers: Vec::new(),
        mcp_tools: Vec::new(),
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

/// The approved request as the rule's own example, in its real working directory. Examples run
/// with the example home directory, so a request that mentions the home directory gets none.
fn example_of(request: &ActionRequest) -> Option<Example> {
    let text = request.input.to_string();
    if text.contains('~') || text.contains("$HOME") {
        return None;
    }
    let input = serde_json::from_value::<toml::Table>(request.input.clone()).ok()?;
    Some(Example::Tool(ToolExample {
        tool: request.tool.clone(),
        input,
        cwd: Some(request.cwd.display().to_string()),
        agent: Some(request.agent.clone()),
    }))
}

fn fingerprint(spec: &RuleSpec) -> String {
    let key = serde_json::json!([
        spec.classes,
        spec.tools,
        spec.commands,
        spec.paths,
        spec.hosts
    ]);
    let digest = Sha256::digest(key.to_string().as_bytes());
    hex::encode(&digest[..6])
}

/// Escape glob metacharacters so a literal word matches only itself.
fn escape_glob(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
