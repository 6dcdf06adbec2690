//! Classification: what a request would do, as action classes on one or more units.
//!
//! A *unit* is one thing the request does: the tool call itself (`Write /x`), or each simple
//! command of a shell script at any nesting depth. The request's classes are the union of its
//! units' classes; the policy decides per unit and class, and the strictest decision wins — so
//! wrapping a command in `bash -c`, `$(…)`, `sudo`, `xargs` and the like can never lower it.

// Everything here reads for the requesting user (`user_fs`); see clippy.toml.
#![deny(clippy::disallowed_methods)]

pub mod code;
mod command;
mod commits;
pub mod examples;
pub mod files;
mod globs;
pub mod kb;
mod later;
mod patches;
mod paths;
mod processes;
mod recipes;
mod resolve;
mod sed;
pub use airlock_shell as shell;
mod tools;
mod worktree;

use airlock_protocol::{ActionClass, UnitSummary};
use airlock_request::ActionRequest;
use airlock_userfs::ForUser;
use kb::KnowledgeBase;
use paths::PathKnowledge;
use resolve::{Lookup, Planned, PlannedLinks};
use serde::Serialize;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

pub use paths::{lexical_normalize, pattern_forms};

/// How a path is used by a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    Read,
    Write,
    Delete,
    Chmod,
    /// A link to this path is created (`ln -s PATH name`, `mount --bind PATH dir`).
    Link,
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
    /// Environment assignments given to this command itself (`NAME=value pip …`,
    /// `env NAME=value pip …`), in order, as `NAME=value`. They change what a program does as
    /// much as its arguments (`PIP_INDEX_URL=…`), so an exact "always" entry compares them too.
    pub env: Vec<String>,
    /// The workspace the unit runs in: the git root above its directory (after `cd`), or that
    /// directory. `None` when the directory is only known at run time.
    pub workspace: Option<PathBuf>,
    /// What produced the classes: a knowledge-base entry, a tool mapping, a path rule.
    pub source: String,
    /// Deleting removes the name given, not what a link there points to (`rm`, `mv`).
    #[serde(skip)]
    pub(crate) unlinks: bool,
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
            env: Vec::new(),
            workspace: None,
            source: source.into(),
            unlinks: false,
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

/// Tag on a unit that follows the links inside the trees it reads or changes (`cp -rL`,
/// `tar -h`, `grep -R`): each link's target is touched as well.
pub const TAG_FOLLOWS_LINKS: &str = "follows-links";

/// Entries of trees looked at, per request, for links a `follows-links` command would follow;
/// a larger tree makes its targets unknown.
const TREE_LINK_BUDGET: usize = 50_000;

/// Classification passes at most: a request that creates links is classified again with them
/// known from its start, until no new link appears.
const MAX_PASSES: usize = 4;

/// Tag on a unit given an environment assignment whose value is computed at run time
/// (`X=$(cat f) pip install …`): `env` then holds the assignment as written, not its value.
pub const TAG_ENV_COMPUTED: &str = "env-computed";

/// Tag on a unit some of whose hosts are computed at run time.
pub const TAG_HOSTS_UNKNOWN: &str = "hosts-unknown";

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
    later: later::LaterKnowledge,
    /// In system mode, the user every file is read for (`user_fs`); `None` in user mode.
    reader: Option<std::sync::Arc<airlock_userfs::Reader>>,
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
    #[error(transparent)]
    Example(#[from] examples::ExampleError),
    #[error("the shipped knowledge base does not hold: {0}")]
    BuiltinExamples(String),
}

impl Classifier {
    /// A classifier with the shipped knowledge base (its examples checked once per process).
    pub fn new(env: Env) -> Result<Self, ClassifierError> {
        static BUILTIN_EXAMPLES: std::sync::OnceLock<Result<(), String>> =
            std::sync::OnceLock::new();
        let kb = KnowledgeBase::builtin()?;
        BUILTIN_EXAMPLES
            .get_or_init(|| examples::check(&kb).map_err(|e| e.to_string()))
            .clone()
            .map_err(ClassifierError::BuiltinExamples)?;
        Self::unchecked(kb, env)
    }

    /// A classifier with `kb`, whose examples must hold.
    pub fn with_kb(kb: KnowledgeBase, env: Env) -> Result<Self, ClassifierError> {
        examples::check(&kb)?;
        Self::unchecked(kb, env)
    }

    fn unchecked(kb: KnowledgeBase, env: Env) -> Result<Self, ClassifierError> {
        let runs_later: Vec<String> = kb
            .runs_later
            .iter()
            .flat_map(|spec| spec.paths.iter().cloned())
            .collect();
        let paths = PathKnowledge::compile(&kb.paths, &runs_later, &env)?;
        let code = code::CodeScanner::compile(&kb.code_patterns)?;
        let later = later::LaterKnowledge::compile(&kb.runs_later, &env)?;
        let analyzer = code::CodeAnalyzer::builtin()?;
        Ok(Self {
            kb,
            paths,
            code,
            analyzer,
            env,
            files: files::FileReader::default(),
            later,
            reader: None,
        })
    }

    /// A classifier that reads every file as `reader` may (system mode: one per user).
    pub fn reading_for(mut self, reader: airlock_userfs::Reader) -> Self {
        self.reader = Some(std::sync::Arc::new(reader));
        self
    }

    /// The user this classifier reads for, to read for them outside it (previews, pre-images).
    pub fn reader(&self) -> Option<std::sync::Arc<airlock_userfs::Reader>> {
        self.reader.clone()
    }

    pub fn env(&self) -> &Env {
        &self.env
    }

    /// The workspace of a session in `cwd`, if it has one (see `paths.rs`).
    pub fn workspace(&self, cwd: &Path) -> Option<PathBuf> {
        self.paths.workspace(cwd)
    }

    /// Classify a request. Never fails: what cannot be understood is `unknown`.
    pub fn classify(&self, request: &ActionRequest) -> Classification {
        airlock_userfs::as_user(self.reader.clone(), || self.classify_as_user(request))
    }

    fn classify_as_user(&self, request: &ActionRequest) -> Classification {
        let workspace = self.workspace(&request.cwd);
        let mut planned = PlannedLinks::default();
        let mut passes = 0;
        let mut units = loop {
            passes += 1;
            let ctx = Ctx {
                classifier: self,
                workspace: workspace.as_deref(),
                cwd: &request.cwd,
                planned: RefCell::new(planned.clone()),
                tree_budget: Cell::new(TREE_LINK_BUDGET),
                scanned: RefCell::new(HashSet::new()),
            };
            let units = tools::classify_tool(&ctx, request);
            // Links the request creates are known only once it is walked; a use before the
            // `ln` in the text (a loop, a function) must see them too.
            let found = ctx.planned.into_inner();
            if found == planned || passes >= MAX_PASSES {
                break units;
            }
            planned = found;
        };
        add_remote_flows(&mut units);
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
    pub workspace: Option<&'a Path>,
    /// The request's working directory.
    pub cwd: &'a Path,
    /// Links the request creates (by earlier passes and this one).
    planned: RefCell<PlannedLinks>,
    /// Tree entries left to look at for links (see [`TREE_LINK_BUDGET`]).
    tree_budget: Cell<usize>,
    /// Trees already looked at for links.
    scanned: RefCell<HashSet<PathBuf>>,
}

impl Ctx<'_> {
    pub fn kb(&self) -> &KnowledgeBase {
        &self.classifier.kb
    }

    /// Whether writing `path` (with `content`, if known) sets up something that runs later by
    /// itself, judged where the path really leads (a link named `cfg` to `.npmrc` is `.npmrc`).
    pub(crate) fn runs_later(&self, path: &Path, content: Option<&str>) -> Option<later::Later> {
        let later = &self.classifier.later;
        // As written (`dir/` names what goes into dir), normalised (`.cargo/./config.toml`),
        // and wherever links lead.
        for form in [path.to_path_buf(), lexical_normalize(path)] {
            if let Some(found) = later.check(&form, content) {
                return Some(found);
            }
        }
        let planned = self.planned.borrow();
        let lookup = Lookup {
            cwd: Some(self.cwd),
            planned: &planned,
        };
        resolve::resolve(path, true, &lookup)
            .into_iter()
            .find_map(|r| later.check(&r.path, content))
    }

    /// Reads files that commands run (cached by version).
    pub fn files(&self) -> &files::FileReader {
        &self.classifier.files
    }

    /// Record that `unit` touches `path` and derive the classes that follow from where it
    /// really is: every way the path may resolve, links followed.
    /// [`Ctx::touch`], and a write to a file that runs later by itself is judged by what it
    /// will run (`content` when known): returns the command lines to classify.
    pub fn touch_judged(
        &self,
        unit: &mut Unit,
        path: PathBuf,
        access: Access,
        content: Option<&str>,
    ) -> Vec<String> {
        let lines = match self
            .runs_later(&path, content)
            .filter(|_| access == Access::Write)
        {
            Some(found) => later::mark(unit, found),
            None => Vec::new(),
        };
        self.touch(unit, path, access);
        lines
    }

    pub fn touch(&self, unit: &mut Unit, path: PathBuf, access: Access) {
        let follow_last = !(access == Access::Delete && unit.unlinks);
        self.touch_at(unit, path, access, follow_last);
    }

    /// [`Ctx::touch`], saying whether a link as the last component is followed.
    pub fn touch_at(&self, unit: &mut Unit, path: PathBuf, access: Access, follow_last: bool) {
        let paths = &self.classifier.paths;
        if paths.is_harmless(&path) {
            return;
        }
        let resolved = {
            let planned = self.planned.borrow();
            let lookup = Lookup {
                cwd: Some(self.cwd),
                planned: &planned,
            };
            resolve::resolve(&path, follow_last, &lookup)
        };
        for r in resolved {
            if r.unknown {
                unit.tags.insert(TAG_PATHS_UNKNOWN.into());
                unit.classes.insert(ActionClass::Unknown);
            }
            paths.apply(unit, r.path.clone(), access, self.workspace);
            hard_link_check(unit, &r.path, access);
            if access == Access::Delete
                && !unit.tags.contains("moves")
                && !paths.is_installed(&r.path)
                && let Some(why) = worktree::deletion_loses(&r.path)
            {
                // Work git cannot bring back (untracked, or changed since it was staged).
                unit.classes.insert(ActionClass::ShellDestructive);
                unit.tags.insert("discards-work".into());
                unit.source.push_str(&format!(" ({why})"));
            }
            self.touch_tree_links(unit, &r.path, access);
        }
    }

    /// A command that follows links inside the trees it reads or changes reaches each link's
    /// target too (`tar -chf x.tar .` with `keys -> ~/.ssh` in the project reads the keys).
    fn touch_tree_links(&self, unit: &mut Unit, root: &Path, access: Access) {
        let whole_tree = match access {
            Access::Read => unit.tags.contains(paths::TAG_READS_TREE),
            Access::Delete | Access::Chmod => unit.tags.contains("recursive"),
            Access::Write | Access::Link => false,
        };
        if !whole_tree || !unit.tags.contains(TAG_FOLLOWS_LINKS) || !root.is_dir_for_user() {
            return;
        }
        if !self.scanned.borrow_mut().insert(root.to_path_buf()) {
            return;
        }
        let mut budget = self.tree_budget.get();
        let links = resolve::links_in_tree(root, &mut budget);
        self.tree_budget.set(budget);
        match links {
            Some(links) => {
                for link in links {
                    self.touch(unit, link, access);
                }
            }
            None => {
                unit.tags.insert(TAG_PATHS_UNKNOWN.into());
                unit.classes.insert(ActionClass::Unknown);
            }
        }
    }

    /// Whether `path` is a directory now, or leads to one through a link the request creates.
    pub fn is_dir(&self, path: &Path) -> bool {
        let planned = self.planned.borrow();
        let lookup = Lookup {
            cwd: Some(self.cwd),
            planned: &planned,
        };
        resolve::resolve(path, true, &lookup)
            .iter()
            .any(|r| r.path.is_dir_for_user())
    }

    /// Record that the request creates a link at `location` (resolved here, the name itself
    /// not followed) leading to `target`.
    pub fn plan_link(&self, location: &Path, target: Planned) {
        let at = {
            let planned = self.planned.borrow();
            let lookup = Lookup {
                cwd: Some(self.cwd),
                planned: &planned,
            };
            resolve::resolve(location, false, &lookup)
        };
        let mut planned = self.planned.borrow_mut();
        for r in at {
            planned.add(r.path, target.clone());
        }
    }
}

/// Tag on a unit that prints the environment (`env`, `printenv`), where tokens often live.
pub const TAG_ENVIRONMENT_DUMP: &str = "environment-dump";

/// Tag on a unit that addresses an endpoint granting access (collaborators, keys, members).
pub const TAG_IDENTITY_ENDPOINT: &str = "identity-endpoint";

/// Local data sent somewhere else is an export, not only a remote write: a command that reads
/// local files and writes remotely (`scp f host:`, `aws s3 cp f s3://…`, `curl -T f`), or
/// writes remotely what an earlier command of its pipeline read (`tar c src | curl -T - …`).
/// A remote write to an endpoint that grants access is an access change.
fn add_remote_flows(units: &mut [Unit]) {
    let reads_local = |u: &Unit| {
        u.paths
            .iter()
            .any(|p| p.access == Access::Read && !p.path.starts_with("/dev"))
    };
    let readers: Vec<(usize, usize, usize)> = units
        .iter()
        .filter(|u| reads_local(u))
        .filter_map(|u| u.pipeline)
        .collect();
    for unit in units.iter_mut() {
        if !unit.classes.contains(&ActionClass::RemoteWrite) {
            continue;
        }
        let fed = unit.pipeline.is_some_and(|(scope, id, pos)| {
            readers
                .iter()
                .any(|&(s, i, p)| s == scope && i == id && p < pos)
        });
        if reads_local(unit) || fed {
            unit.classes.insert(ActionClass::DataExport);
            unit.tags.insert("uploads-local-data".to_string());
        }
        if unit.tags.contains(TAG_IDENTITY_ENDPOINT) {
            unit.classes.insert(ActionClass::AccessChange);
        }
    }
}

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

/// A file with more than one name shares its content with a name Airlock cannot find (nothing
/// in a hard link points back): writing or changing it changes that other file too, wherever it
/// is (`~/.bashrc`), and reading a private one (mode 0600, like a key) may read a secret. Both are
/// unknown. Shared, world-readable files (a pnpm store, cargo's `target/`) stay readable.
fn hard_link_check(unit: &mut Unit, path: &Path, access: Access) {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = airlock_userfs::symlink_metadata(path) else {
        return;
    };
    if !meta.is_file() || meta.nlink() < 2 {
        return;
    }
    let private = meta.mode() & 0o077 == 0;
    let changes = matches!(access, Access::Write | Access::Chmod);
    if changes || access == Access::Read && private {
        unit.classes.insert(ActionClass::Unknown);
        unit.tags.insert("hard-link".into());
        unit.source = format!(
            "`{}` has other names (hard links) Airlock cannot see: it may be a file outside the workspace",
            path.display()
        );
    }
}
