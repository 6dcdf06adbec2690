//! Classification: what a request would do, as action classes on one or more units.
//!
//! A *unit* is one thing the request does: the tool call itself (`Write /x`), or each simple
//! command of a shell script at any nesting depth. The request's classes are the union of its
//! units' classes; the policy decides per unit and class, and the strictest decision wins — so
//! wrapping a command in `bash -c`, `$(…)`, `sudo`, `xargs` and the like can never lower it.

pub mod code;
mod command;
pub mod files;
pub mod kb;
mod paths;
pub mod shell;
mod tools;

use crate::request::ActionRequest;
use airlock_protocol::{ActionClass, UnitSummary};
use kb::KnowledgeBase;
use paths::PathKnowledge;
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub use paths::{expand_home as expand_home_pattern, lexical_normalize, workspace_root};

/// How a path is used by a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    Read,
    Write,
    Delete,
    Chmod,
}

/// A path a unit touches, resolved against the working directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathRef {
    pub path: PathBuf,
    pub access: Access,
    /// Inside the workspace (or scratch space such as `/tmp`).
    pub inside: bool,
}

/// One thing a request does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unit {
    /// The simple command as written, or a short description of the tool call.
    pub text: String,
    /// Nesting depth: 0 for the tool call or a top-level command.
    pub depth: usize,
    /// Effective program name after unwrapping (`sudo env X=1 /bin/rm` → `rm`).
    pub program: Option<String>,
    /// Argument vector starting with the effective program name, up to the first word that is
    /// only known at run time.
    pub argv: Vec<String>,
    /// Whether `argv` is the whole command (no word computed at run time).
    pub argv_complete: bool,
    pub classes: BTreeSet<ActionClass>,
    /// Finer facts policy rules can match on (`recursive`, `force-push`, `critical-path`, …).
    pub tags: BTreeSet<String>,
    pub paths: Vec<PathRef>,
    pub hosts: Vec<String>,
    /// What produced the classes: a knowledge-base entry, a tool mapping, a path rule.
    pub source: String,
    #[serde(skip)]
    pub(crate) pipeline: Option<(usize, usize, usize)>,
    /// Pipelines that contain this unit's command indirectly (`curl x | (sh)`), as
    /// (scope, pipeline id, position).
    #[serde(skip)]
    pub(crate) enclosing: Vec<(usize, usize, usize)>,
}

impl Unit {
    pub fn new(text: impl Into<String>, depth: usize, source: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            depth,
            program: None,
            argv: Vec::new(),
            argv_complete: false,
            classes: BTreeSet::new(),
            tags: BTreeSet::new(),
            paths: Vec::new(),
            hosts: Vec::new(),
            source: source.into(),
            pipeline: None,
            enclosing: Vec::new(),
        }
    }

    pub fn with_class(mut self, class: ActionClass) -> Self {
        self.classes.insert(class);
        self
    }

    /// Paths are incomplete: some targets are only known at run time.
    pub fn paths_unknown(&self) -> bool {
        self.tags.contains(TAG_PATHS_UNKNOWN)
    }

    pub fn summary(&self) -> UnitSummary {
        UnitSummary {
            text: self.text.clone(),
            depth: self.depth,
            classes: self.classes.iter().copied().collect(),
            source: self.source.clone(),
        }
    }
}

/// Tag on a unit some of whose path arguments are computed at run time.
pub const TAG_PATHS_UNKNOWN: &str = "paths-unknown";

/// The result of classifying one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Classification {
    pub units: Vec<Unit>,
}

impl Classification {
    pub fn classes(&self) -> BTreeSet<ActionClass> {
        self.units
            .iter()
            .flat_map(|u| u.classes.iter().copied())
            .collect()
    }
}

/// Facts about the machine the classifier needs: where home, the workspace and Airlock live.
#[derive(Debug, Clone)]
pub struct Env {
    pub home: PathBuf,
    /// Airlock's own directories: writing there is `access.change` tagged `airlock-self`.
    pub protected: Vec<PathBuf>,
}

impl Env {
    /// The fixed environment policy examples are evaluated in, so that examples mean the same on
    /// every machine: home `/home/user`, workspace `/home/user/project`.
    pub fn example() -> Self {
        Self {
            home: PathBuf::from("/home/user"),
            protected: vec![PathBuf::from("/home/user/.local/share/airlock")],
        }
    }

    pub fn current(protected: Vec<PathBuf>) -> Self {
        Self {
            home: dirs::home_dir().unwrap_or_else(|| PathBuf::from("/")),
            protected,
        }
    }
}

/// The working directory of policy examples.
pub const EXAMPLE_CWD: &str = "/home/user/project";

/// Classifies requests. Build once (it compiles the knowledge base) and share.
#[derive(Debug)]
pub struct Classifier {
    kb: KnowledgeBase,
    paths: PathKnowledge,
    code: code::CodeScanner,
    /// Python and JavaScript/TypeScript code, read with a parser.
    analyzer: code::CodeAnalyzer,
    env: Env,
    /// Files that commands run, read and cached by version.
    files: files::FileReader,
}

#[derive(Debug, thiserror::Error)]
pub enum ClassifierError {
    #[error(transparent)]
    Kb(#[from] kb::KbError),
    #[error("invalid path pattern `{pattern}` in the knowledge base: {source}")]
    PathGlob {
        pattern: String,
        source: globset::Error,
    },
    #[error("invalid code pattern `{id}` in the knowledge base: {source}")]
    CodePattern { id: String, source: regex::Error },
    #[error(transparent)]
    CodeKb(#[from] code::CodeKbError),
}

impl Classifier {
    pub fn new(env: Env) -> Result<Self, ClassifierError> {
        Self::with_kb(KnowledgeBase::builtin()?, env)
    }

    pub fn with_kb(kb: KnowledgeBase, env: Env) -> Result<Self, ClassifierError> {
        let paths = PathKnowledge::compile(&kb.paths, &env)?;
        let code = code::CodeScanner::compile(&kb.code_patterns)?;
        let analyzer = code::CodeAnalyzer::builtin()?;
        Ok(Self {
            kb,
            paths,
            code,
            analyzer,
            env,
            files: files::FileReader::default(),
        })
    }

    pub fn env(&self) -> &Env {
        &self.env
    }

    /// Classify a request. Never fails: what cannot be understood is `unknown`.
    pub fn classify(&self, request: &ActionRequest) -> Classification {
        let workspace = workspace_root(&request.cwd);
        let ctx = Ctx {
            classifier: self,
            workspace: &workspace,
        };
        let mut units = tools::classify_tool(&ctx, request);
        add_data_flow(&mut units);
        Classification { units }
    }

    /// Classify a shell command line as if run by the Bash tool in `cwd`.
    pub fn classify_command(&self, command: &str, cwd: &Path) -> Classification {
        self.classify(&ActionRequest::shell("explain", cwd.to_path_buf(), command))
    }
}

/// What the classification helpers share for one request.
pub(crate) struct Ctx<'a> {
    pub classifier: &'a Classifier,
    pub workspace: &'a Path,
}

impl Ctx<'_> {
    pub fn kb(&self) -> &KnowledgeBase {
        &self.classifier.kb
    }

    /// Reads files that commands run (cached by version).
    pub fn files(&self) -> &files::FileReader {
        &self.classifier.files
    }

    /// Record that `unit` touches `path` and derive the classes that follow from where it is.
    pub fn touch(&self, unit: &mut Unit, path: PathBuf, access: Access) {
        self.classifier
            .paths
            .apply(unit, path, access, self.workspace, &self.classifier.env);
    }
}

/// Tag on a unit that prints the environment (`env`, `printenv`), where tokens often live.
pub const TAG_ENVIRONMENT_DUMP: &str = "environment-dump";

/// Reading secrets and reaching the network in the same request is an export of those secrets.
fn add_data_flow(units: &mut Vec<Unit>) {
    let reads_secret = units.iter().any(|u| {
        u.classes.contains(&ActionClass::ReadSensitive) || u.tags.contains(TAG_ENVIRONMENT_DUMP)
    });
    let sends = units.iter().any(|u| {
        u.classes.contains(&ActionClass::NetworkFetch)
            || u.classes.contains(&ActionClass::RemoteWrite)
            || u.classes.contains(&ActionClass::ExternalComm)
            || u.classes.contains(&ActionClass::ExecRemote)
    });
    if reads_secret && sends {
        let mut flow = Unit::new(
            "sensitive data read and network reached in one request",
            0,
            "data-flow: read.sensitive + network",
        )
        .with_class(ActionClass::DataExport);
        flow.tags.insert("secret-exfiltration".to_string());
        units.push(flow);
    }
}

#[cfg(test)]
mod tests;
