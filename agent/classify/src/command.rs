//! Classifying shell scripts: every simple command at every depth, wrappers unwrapped, shells'
//! and interpreters' inline scripts re-parsed, each command's arguments read through the
//! knowledge base.

use super::commits;
use super::files::FileContent;
use super::globs;
use super::kb::glob_matches;
use super::kb::{
    Appended, ArgRole, CommitsFrom, Entry, EnvValue, ExpressionSpec, FlagSpec, KnowledgeBase,
    PatchSpec, Primary, ProgramSpec, RunsFrom, ScriptLanguage, ShellSpec, WrapperSpec,
};
use super::patches;
use super::paths::TAG_READS_TREE;
use super::recipes;
use super::resolve::Planned;
use super::sed;
use super::shell::{self, ShellWord, SimpleCommand, WordPiece};
use super::{Access, Ctx, TAG_ENV_COMPUTED, TAG_FOLLOWS_LINKS, TAG_PATHS_UNKNOWN, Unit};
use airlock_protocol::ActionClass;
use airlock_userfs::ForUser;

mod interpreted;
use regex::Regex;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

/// Re-parsing (`bash -c`, `eval`, aliases, heredocs) deeper than this is refused as `unknown`.
pub(crate) const MAX_NESTING: usize = 12;

/// How many computed words (`$x -rf /`, `bash -c "$S"`) one request may have re-classified with
/// the values Airlock saw assigned; beyond that they stay just `unknown`.
pub(crate) const EXPANSION_BUDGET: usize = 64;

/// At most this many candidate values per word (products of several variables are cut).
pub(crate) const MAX_CANDIDATES: usize = 16;

/// The variable standing for an `xargs -I` placeholder.
pub(crate) const XARGS_ITEM: &str = " xargs-item";
/// A command's place: (scope, pipeline, position in it).
pub(crate) type PipelinePos = (usize, usize, usize);

/// Paths a command prints, whether each is a whole tree, whether links inside are followed.
/// Paths a command lists for the next one in its pipeline: the paths, whether they are whole
/// trees, whether links in them are followed, and whether the names in the trees are split
/// unsafely (find's: any file's name, where a blank makes one name several arguments).
pub(crate) type Listed = (Vec<String>, bool, bool, bool);

/// Where `xargs` input items end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ItemSplit {
    /// At blanks and newlines, with quotes and backslashes honoured (the default).
    Blanks,
    /// At this character (`-0`, `-d X`, a placeholder's lines); `None`: one Airlock could not
    /// read.
    At(Option<char>),
}

/// The character an `xargs -d` value names: itself, or a C escape (`\n`, `\t`, `\0`).
pub(crate) fn delimiter_char(value: &str) -> Option<char> {
    match value {
        "\\n" => Some('\n'),
        "\\t" => Some('\t'),
        "\\0" => Some('\0'),
        "\\\\" => Some('\\'),
        v if v.chars().count() == 1 => v.chars().next(),
        _ => None,
    }
}

/// A variable never assigned: an argument from input Airlock does not see.
pub(crate) const UNSEEN_INPUT: &str = " unseen-input";

/// Tag on a unit whose script (`bash <(…)`, `eval "$(…)"`, `sh -c "$S"`) is computed at run
/// time: if the computation downloads, the unit runs remote code.
pub(crate) const TAG_SCRIPT_COMPUTED: &str = "script-computed";

/// Tag on a unit that runs a file read from disk (its content is classified as nested units).
pub(crate) const TAG_RUNS_FILE: &str = "runs-file";
/// The most members of a copied tree judged one by one (`cp -a src/. DIR`).
pub(crate) const MAX_MEMBERS_JUDGED: usize = 500;
/// The command writes files with content read from the repository when decided (a checkout,
/// a stash pop, a restore from the index).
pub(crate) const TAG_FROM_REPOSITORY: &str = "content-from-repository";

/// Classify a shell script run in `cwd`; units are at `depth` and deeper.
pub(crate) fn classify_script(ctx: &Ctx<'_>, script: &str, cwd: &Path, depth: usize) -> Vec<Unit> {
    let mut walker = Walker {
        ctx,
        next_scope: 0,
        stdout_text: HashMap::new(),
        vars: HashMap::new(),
        budget: EXPANSION_BUDGET,
        listed_paths: HashMap::new(),
        certain: HashSet::new(),
        uncertain: HashSet::new(),
        arith_assigned: HashSet::new(),
        integer_vars: HashSet::new(),
        associative: HashSet::new(),
        loop_env_var: None,
        physical_cd: false,
        cd_searches: false,
        subscript_text: None,
        workspaces: HashMap::from([(
            super::lexical_normalize(cwd),
            ctx.workspace.map(Path::to_path_buf),
        )]),
    };
    let mut units = Vec::new();
    walker.script(script, Some(cwd), depth, 0, &mut units);
    mark_files_written_here(&mut units);
    mark_repository_changed_here(&mut units);
    if units.is_empty() {
        // Comments, blank lines, plain assignments: nothing runs.
        units.push(
            Unit::new(
                truncate(script),
                depth,
                "no command runs (comments or assignments only)",
            )
            .with_class(ActionClass::Read),
        );
    }
    units
}

/// A file run by a command was read from disk as it is now; if the same request writes it
/// (`echo 'rm -rf ~' > x.sh && bash x.sh`), what runs is not what was read.
pub(crate) fn mark_files_written_here(units: &mut [Unit]) {
    let written: Vec<PathBuf> = units
        .iter()
        .flat_map(|u| u.paths.iter())
        .filter(|p| p.access != Access::Read)
        .map(|p| p.path.clone())
        .collect();
    if written.is_empty() {
        return;
    }
    for unit in units.iter_mut().filter(|u| u.tags.contains(TAG_RUNS_FILE)) {
        let rewritten = unit.paths.iter().find(|p| {
            p.access == Access::Read
                && written
                    .iter()
                    .any(|w| p.path.starts_with(w) || w.starts_with(&p.path))
        });
        if let Some(file) = rewritten {
            unit.source = format!(
                "runs `{}`, which this same command line writes: what runs is not what Airlock read",
                file.path.display()
            );
            unit.classes.insert(ActionClass::Unknown);
        }
    }
}

/// Content read from the repository when decided is not what a command brings in if another
/// git command of the same request changes the repository first (`git update-index
/// --cacheinfo …,.claude/settings.json && git stash && git stash pop`: the stash popped does
/// not exist yet when Airlock looks).
pub(crate) fn mark_repository_changed_here(units: &mut [Unit]) {
    let changes = |u: &Unit| {
        u.argv.first().is_some_and(|p| p == "git")
            && u.classes.iter().any(|c| *c != ActionClass::Read)
    };
    let changing: Vec<usize> = (0..units.len()).filter(|&i| changes(&units[i])).collect();
    for (i, unit) in units.iter_mut().enumerate() {
        if unit.tags.contains(TAG_FROM_REPOSITORY) && changing.iter().any(|&c| c != i) {
            unit.classes.insert(ActionClass::Unknown);
            unit.source = "brings content from the repository, which another git command of this same command line changes first: what it writes is not what Airlock read".into();
        }
    }
}

pub(crate) struct Walker<'a, 'b> {
    pub(crate) ctx: &'a Ctx<'b>,
    pub(crate) next_scope: usize,
    /// Static text a command writes to stdout (`echo …`, `cat <<EOF`), by pipeline position, so a
    /// shell reading a pipe can have its script classified.
    pub(crate) stdout_text: HashMap<(usize, usize, usize), String>,
    /// Static values variables are given anywhere in the request (assignments, `export`, `for`
    /// lists, function arguments, `xargs` input). A word computed from variables is classified
    /// as unknown *and* with each of these values, so the values can only make a decision
    /// stricter, never looser (a value Airlock did not see is still unknown).
    pub(crate) vars: HashMap<String, Vec<String>>,
    /// Re-classifications of computed words left.
    pub(crate) budget: usize,
    /// Paths `find` lists, by pipeline position, and whether each stands for a whole tree.
    /// Paths a command prints for `| xargs CMD`: whether each is a whole tree, and whether
    /// links inside are followed (`find -L`).
    pub(crate) listed_paths: HashMap<PipelinePos, Listed>,
    /// Variables given only known values, each before its first use; and those given an
    /// unknown value somewhere, or used before being given one (see `note_assignment`).
    pub(crate) certain: HashSet<String>,
    pub(crate) uncertain: HashSet<String>,
    /// Variables given a value inside arithmetic somewhere in the request (`i=0`, `i++`).
    pub(crate) arith_assigned: HashSet<String>,
    /// Variables declared integer (`declare -i n`): every value given to them later is
    /// evaluated as arithmetic.
    pub(crate) integer_vars: HashSet<String>,
    /// Associative arrays declared in the request (`declare -A m`): their subscripts are
    /// strings, not arithmetic.
    pub(crate) associative: HashSet<String>,
    /// A variable of the `[[env_var]]` knowledge a `for` loop sets (`for PATH in ./bin`);
    /// taken by the first command classified, which is made unknown.
    pub(crate) loop_env_var: Option<String>,
    /// `set -P` (or `set -o physical`) somewhere in the request: every `cd` resolves links.
    pub(crate) physical_cd: bool,
    /// `CDPATH` set or `shopt -s cdable_vars` somewhere in the request: a relative `cd NAME`
    /// may land anywhere those name.
    pub(crate) cd_searches: bool,
    /// Text given to a variable or a declaration that holds an array subscript with a command
    /// substitution (`x='a[$(cmd)]'`): bash runs it wherever it evaluates that text as an
    /// arithmetic or subscript; taken by the first command classified, which is made unknown.
    pub(crate) subscript_text: Option<String>,
    /// The workspace of each directory commands ran in (finding it reads the file system).
    pub(crate) workspaces: HashMap<PathBuf, Option<PathBuf>>,
}

/// What a simple command's surroundings say about it.
pub(crate) struct CmdInfo<'p> {
    pub(crate) stdin_text: Option<String>,
    /// The file standard input is redirected from (`sh < x.sh`), when it is.
    pub(crate) stdin_file: Option<ShellWord>,
    /// (scope, pipeline id, position)
    pub(crate) pipeline: (usize, usize, usize),
    /// Pipelines that contain the command indirectly, as (scope, pipeline id, position).
    pub(crate) enclosing: Vec<(usize, usize, usize)>,
    pub(crate) piped: bool,
    pub(crate) in_function: Option<String>,
    pub(crate) background: bool,
    pub(crate) functions: &'p HashSet<String>,
    pub(crate) aliases: &'p HashMap<String, String>,
    pub(crate) nesting: usize,
}

impl Walker<'_, '_> {
    pub(crate) fn script(
        &mut self,
        script: &str,
        cwd: Option<&Path>,
        depth: usize,
        nesting: usize,
        out: &mut Vec<Unit>,
    ) {
        if nesting > MAX_NESTING {
            out.push(
                Unit::new(
                    truncate(script),
                    depth,
                    "nesting deeper than Airlock follows",
                )
                .with_class(ActionClass::Unknown),
            );
            return;
        }
        let parsed = match shell::parse_script(script) {
            Ok(parsed) => parsed,
            Err(err) => {
                out.push(
                    Unit::new(
                        truncate(script),
                        depth,
                        format!("shell syntax Airlock cannot parse: {}", err.message),
                    )
                    .with_class(ActionClass::Unknown),
                );
                return;
            }
        };
        let scope = self.next_scope;
        self.next_scope += 1;
        let functions: HashSet<String> = parsed.functions.iter().cloned().collect();
        let aliases = collect_aliases(&parsed.commands);
        self.collect_vars(&parsed, script, &functions, cwd);
        let mut pipeline_sizes: HashMap<usize, usize> = HashMap::new();
        for cmd in &parsed.commands {
            *pipeline_sizes.entry(cmd.pipeline_id).or_default() += 1;
        }
        let first_new = out.len();
        // `cd` changes the directory of the commands after it, at its depth and deeper, until
        // a command at a shallower depth (the end of a subshell) comes.
        let mut dirs: Vec<(usize, Option<PathBuf>)> = Vec::new();
        // The units each command produced (with everything nested in it).
        let mut ranges: Vec<(usize, usize)> = Vec::with_capacity(parsed.commands.len());
        for cmd in &parsed.commands {
            while dirs.last().is_some_and(|(d, _)| *d > cmd.depth) {
                dirs.pop();
            }
            let here: Option<PathBuf> = match dirs.last() {
                Some((_, dir)) => dir.clone(),
                None => cwd.map(Path::to_path_buf),
            };
            if let Some(next) = self.directory_change(cmd, here.as_deref()) {
                match dirs.last_mut() {
                    Some((d, dir)) if *d == cmd.depth => *dir = next,
                    _ => dirs.push((cmd.depth, next)),
                }
            }
            let info = CmdInfo {
                stdin_text: cmd.stdin_text.clone(),
                stdin_file: cmd
                    .redirects
                    .iter()
                    .rev()
                    .find(|r| {
                        matches!(
                            r.kind,
                            shell::RedirectKind::Read
                                | shell::RedirectKind::ReadWrite
                                | shell::RedirectKind::DupIn
                        ) && r.fd.is_none_or(|fd| fd == 0)
                    })
                    .map(|r| {
                        // `<&3`: another descriptor, whose file is not known here.
                        if matches!(r.kind, shell::RedirectKind::DupIn) {
                            ShellWord {
                                raw: format!("<&{}", r.target.raw),
                                pieces: vec![WordPiece::Other(r.target.raw.clone())],
                            }
                        } else {
                            r.target.clone()
                        }
                    }),
                pipeline: (scope, cmd.pipeline_id, cmd.pipeline_pos),
                enclosing: cmd
                    .enclosing_pipelines
                    .iter()
                    .map(|&(id, pos)| (scope, id, pos))
                    .collect(),
                piped: pipeline_sizes.get(&cmd.pipeline_id).copied().unwrap_or(1) > 1,
                in_function: cmd.in_function.clone(),
                background: cmd.background,
                functions: &functions,
                aliases: &aliases,
                nesting,
            };
            let start = out.len();
            self.simple(cmd, here.as_deref(), depth + cmd.depth, &info, out);
            ranges.push((start, out.len()));
        }
        mark_downloaded_scripts(&parsed.commands, &ranges, out);
        self.resolve_piped_scripts(out, first_new, cwd, depth, nesting);
    }
}

mod arguments;
mod options;
mod path_words;
mod program;
mod repository;
mod roles;
mod runs;
mod simple;
mod task_runners;
mod variables;
mod words;
mod work_tree;
mod wrappers;

use options::*;
use runs::*;
pub(crate) use runs::{host_of, local_service};
use words::*;
