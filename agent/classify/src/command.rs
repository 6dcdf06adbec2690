//! Classifying shell scripts: every simple command at every depth, wrappers unwrapped, shells'
//! and interpreters' inline scripts re-parsed, each command's arguments read through the
//! knowledge base.

use super::commits;
use super::files::FileContent;
use super::globs;
use super::kb::{
    Appended, ArgRole, CommitsFrom, Entry, EnvValue, FlagSpec, KnowledgeBase, PatchSpec,
    ProgramSpec, RunsFrom, ScriptLanguage, ShellSpec, WrapperSpec,
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
const MAX_NESTING: usize = 12;

/// How many computed words (`$x -rf /`, `bash -c "$S"`) one request may have re-classified with
/// the values Airlock saw assigned; beyond that they stay just `unknown`.
const EXPANSION_BUDGET: usize = 64;

/// At most this many candidate values per word (products of several variables are cut).
const MAX_CANDIDATES: usize = 16;

/// The variable standing for an `xargs -I` placeholder.
const XARGS_ITEM: &str = " xargs-item";
/// A command's place: (scope, pipeline, position in it).
type PipelinePos = (usize, usize, usize);

/// Paths a command prints, whether each is a whole tree, whether links inside are followed.
type Listed = (Vec<String>, bool, bool);

/// Where `xargs` input items end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ItemSplit {
    /// At blanks and newlines, with quotes and backslashes honoured (the default).
    Blanks,
    /// At this character (`-0`, `-d X`, a placeholder's lines); `None`: one Airlock could not
    /// read.
    At(Option<char>),
}

/// The character an `xargs -d` value names: itself, or a C escape (`\n`, `\t`, `\0`).
fn delimiter_char(value: &str) -> Option<char> {
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
const UNSEEN_INPUT: &str = " unseen-input";

/// Tag on a unit whose script (`bash <(…)`, `eval "$(…)"`, `sh -c "$S"`) is computed at run
/// time: if the computation downloads, the unit runs remote code.
const TAG_SCRIPT_COMPUTED: &str = "script-computed";

/// Tag on a unit that runs a file read from disk (its content is classified as nested units).
const TAG_RUNS_FILE: &str = "runs-file";
/// The most members of a copied tree judged one by one (`cp -a src/. DIR`).
const MAX_MEMBERS_JUDGED: usize = 500;
/// The command writes files with content read from the repository when decided (a checkout,
/// a stash pop, a restore from the index).
const TAG_FROM_REPOSITORY: &str = "content-from-repository";

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
fn mark_files_written_here(units: &mut [Unit]) {
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
fn mark_repository_changed_here(units: &mut [Unit]) {
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

struct Walker<'a, 'b> {
    ctx: &'a Ctx<'b>,
    next_scope: usize,
    /// Static text a command writes to stdout (`echo …`, `cat <<EOF`), by pipeline position, so a
    /// shell reading a pipe can have its script classified.
    stdout_text: HashMap<(usize, usize, usize), String>,
    /// Static values variables are given anywhere in the request (assignments, `export`, `for`
    /// lists, function arguments, `xargs` input). A word computed from variables is classified
    /// as unknown *and* with each of these values, so the values can only make a decision
    /// stricter, never looser (a value Airlock did not see is still unknown).
    vars: HashMap<String, Vec<String>>,
    /// Re-classifications of computed words left.
    budget: usize,
    /// Paths `find` lists, by pipeline position, and whether each stands for a whole tree.
    /// Paths a command prints for `| xargs CMD`: whether each is a whole tree, and whether
    /// links inside are followed (`find -L`).
    listed_paths: HashMap<PipelinePos, Listed>,
    /// Variables given only known values, each before its first use; and those given an
    /// unknown value somewhere, or used before being given one (see `note_assignment`).
    certain: HashSet<String>,
    uncertain: HashSet<String>,
    /// Variables given a value inside arithmetic somewhere in the request (`i=0`, `i++`).
    arith_assigned: HashSet<String>,
    /// Variables declared integer (`declare -i n`): every value given to them later is
    /// evaluated as arithmetic.
    integer_vars: HashSet<String>,
    /// Associative arrays declared in the request (`declare -A m`): their subscripts are
    /// strings, not arithmetic.
    associative: HashSet<String>,
    /// A variable of the `[[env_var]]` knowledge a `for` loop sets (`for PATH in ./bin`);
    /// taken by the first command classified, which is made unknown.
    loop_env_var: Option<String>,
    /// `set -P` (or `set -o physical`) somewhere in the request: every `cd` resolves links.
    physical_cd: bool,
    /// `CDPATH` set or `shopt -s cdable_vars` somewhere in the request: a relative `cd NAME`
    /// may land anywhere those name.
    cd_searches: bool,
    /// Text given to a variable or a declaration that holds an array subscript with a command
    /// substitution (`x='a[$(cmd)]'`): bash runs it wherever it evaluates that text as an
    /// arithmetic or subscript; taken by the first command classified, which is made unknown.
    subscript_text: Option<String>,
    /// The workspace of each directory commands ran in (finding it reads the file system).
    workspaces: HashMap<PathBuf, Option<PathBuf>>,
}

/// What a simple command's surroundings say about it.
struct CmdInfo<'p> {
    stdin_text: Option<String>,
    /// The file standard input is redirected from (`sh < x.sh`), when it is.
    stdin_file: Option<ShellWord>,
    /// (scope, pipeline id, position)
    pipeline: (usize, usize, usize),
    /// Pipelines that contain the command indirectly, as (scope, pipeline id, position).
    enclosing: Vec<(usize, usize, usize)>,
    piped: bool,
    in_function: Option<String>,
    background: bool,
    functions: &'p HashSet<String>,
    aliases: &'p HashMap<String, String>,
    nesting: usize,
}

impl Walker<'_, '_> {
    fn script(
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

    /// Record the static values variables are given in `parsed` (see [`Walker::vars`]).
    fn collect_vars(
        &mut self,
        parsed: &shell::ParsedScript,
        script: &str,
        functions: &HashSet<String>,
        cwd: Option<&Path>,
    ) {
        for cmd in &parsed.commands {
            if self.subscript_text.is_none() {
                self.subscript_text = subscript_injection(cmd);
            }
            for (name, value) in &cmd.assignments {
                if name == "CDPATH" {
                    self.cd_searches = true;
                }
                // `i=$((i+1))`: an arithmetic expansion's value is an integer.
                let arithmetic = !value.pieces.is_empty()
                    && value.pieces.iter().all(|p| match p {
                        WordPiece::Other(t) => t.starts_with("$((") || t.starts_with("$["),
                        WordPiece::Literal(t) => t.chars().all(|c| c.is_ascii_digit() || c == '-'),
                        _ => false,
                    });
                let values = if arithmetic {
                    vec!["0".to_string()]
                } else {
                    self.candidates(value, cwd)
                };
                self.note_assignment(name, &values, script);
                self.add_vars(name, values);
            }
            let Some(name) = cmd.words.first().and_then(ShellWord::literal) else {
                continue;
            };
            if name == "shopt"
                && cmd.words.iter().any(|w| w.raw == "cdable_vars")
                && cmd.words.iter().any(|w| w.raw == "-s")
            {
                self.cd_searches = true;
            }
            if name == "set" {
                let raw: Vec<&str> = cmd.words[1..].iter().map(|w| w.raw.as_str()).collect();
                let physical = raw
                    .iter()
                    .any(|w| w.starts_with('-') && !w.starts_with("--") && w.contains('P'))
                    || raw.windows(2).any(|w| w[0] == "-o" && w[1] == "physical");
                self.physical_cd |= physical;
            }
            if matches!(
                name.as_str(),
                "export" | "declare" | "typeset" | "local" | "readonly"
            ) {
                let integer = cmd.words[1..].iter().any(|w| {
                    w.literal()
                        .is_some_and(|a| a.starts_with('-') && a.contains('i'))
                });
                let associative = cmd.words[1..].iter().any(|w| {
                    w.literal()
                        .is_some_and(|a| a.starts_with('-') && a.contains('A'))
                });
                for word in &cmd.words[1..] {
                    if associative && let Some(var) = word.literal().filter(|a| !a.starts_with('-'))
                    {
                        let var = var.split('=').next().unwrap_or_default().to_string();
                        self.associative.insert(var);
                    }
                    if word.raw.starts_with("CDPATH=") {
                        self.cd_searches = true;
                    }
                    if integer && let Some(var) = word.literal().filter(|a| !a.starts_with('-')) {
                        let var = var.split('=').next().unwrap_or_default().to_string();
                        self.integer_vars.insert(var);
                    }
                    if let Some((var, value)) = split_assignment_word(word) {
                        let values = self.candidates(&value, cwd);
                        self.note_assignment(&var, &values, script);
                        self.add_vars(&var, values);
                    } else if let Some(var) = word.literal() {
                        // `export X`, `local X`: whatever value it had, not one seen here.
                        self.uncertain.insert(var);
                    }
                }
            } else if functions.contains(&name) {
                // A call's arguments are the function's `$1`, `$2`, … and `$@`.
                let mut all = Vec::new();
                for (idx, word) in cmd.words[1..].iter().enumerate() {
                    let values = self.candidates(word, cwd);
                    if idx < 9 {
                        self.add_vars(&(idx + 1).to_string(), values.clone());
                    }
                    all.extend(values);
                }
                // `"$@"` as a command name runs the whole argument list.
                all.push(raw_words(&cmd.words[1..]));
                self.add_vars("@", all.clone());
                self.add_vars("*", all);
            }
        }
        for (var, words) in for_loop_lists(script) {
            if self.ctx.kb().env_var(&var).is_some() {
                self.loop_env_var = Some(var.clone());
            }
            for word in &words {
                // `for f in d/*/.bashrc`: a glob gives the variable each path it matches.
                let values = match self.glob_values(word, cwd) {
                    Some(values) => values,
                    None => self.candidates(word, cwd),
                };
                self.note_assignment(&var, &values, script);
                self.add_vars(&var, values);
            }
        }
        if let Some(re) = ARITH_ASSIGN.as_ref() {
            for caps in re.captures_iter(script) {
                if let Some(name) = caps.get(1).or_else(|| caps.get(2)) {
                    self.arith_assigned.insert(name.as_str().to_string());
                }
            }
        }
    }

    /// Bash evaluates a variable's value as arithmetic again wherever arithmetic reads it, and
    /// array subscripts in that value run command substitutions: `x='a[$(cmd)]'; (( x ))` runs
    /// `cmd`. So every name arithmetic reads must hold a known integer (or be given one by
    /// arithmetic in this request); the first that may not is returned.
    fn unsafe_arithmetic(&self, expression: &str) -> Option<String> {
        if let Some(name) = expression.strip_prefix(INDIRECT) {
            // `${!x}` reads the variable x's value names: safe when every value is known and
            // is no array element (`$PWD`, a path, is no name at all: bash refuses it).
            let known = matches!(name, "PWD" | "HOME" | "OLDPWD")
                || (self.certain.contains(name)
                    && !self.uncertain.contains(name)
                    && self.vars.get(name).is_some_and(|values| {
                        !values.is_empty() && values.iter().all(|v| !v.contains(['[', '$', '`']))
                    }));
            return (!known).then(|| name.to_string());
        }
        let re = ARITH_NAME.as_ref()?;
        for m in re.find_iter(expression) {
            let name = m.as_str().trim_start_matches('$').trim_start_matches('{');
            if SHELL_INTEGERS.contains(&name) {
                continue;
            }
            // A digit run before it (`16#ff`, `0x1f`) makes it part of a number.
            let before = &expression[..m.start()];
            if before.ends_with(|c: char| c.is_ascii_digit() || c == '#') {
                continue;
            }
            let known_integers = self.vars.get(name).is_some_and(|values| {
                !values.is_empty()
                    && values.iter().all(|v| {
                        !v.is_empty()
                            && v.trim_start_matches('-')
                                .chars()
                                .all(|c| c.is_ascii_digit())
                    })
            });
            let certain = self.certain.contains(name) && !self.uncertain.contains(name);
            let only_arith = !self.vars.contains_key(name) && self.arith_assigned.contains(name);
            if !(known_integers && certain || only_arith) {
                return Some(name.to_string());
            }
        }
        None
    }

    /// Keep track of whether `name`'s value is known for certain wherever it is used: every
    /// value it is given in the request is known, and it is given one before its first use
    /// (before that it holds whatever the environment gave it).
    fn note_assignment(&mut self, name: &str, values: &[String], script: &str) {
        if values.is_empty() || !assigned_before_use(script, name) {
            self.uncertain.insert(name.to_string());
        } else {
            self.certain.insert(name.to_string());
        }
    }

    /// Whether every variable in `word` has a value known for certain (see
    /// [`Walker::note_assignment`]), so its candidate values are all the values it can have.
    fn certain_word(&self, word: &ShellWord) -> bool {
        word.pieces.iter().all(|piece| match piece {
            WordPiece::Literal(_) | WordPiece::Glob(_) => true,
            WordPiece::Tilde(user) => user.is_empty(),
            WordPiece::Param(name) => self.certain.contains(name) && !self.uncertain.contains(name),
            _ => false,
        })
    }

    fn add_vars(&mut self, name: &str, values: Vec<String>) {
        let known = self.vars.entry(name.to_string()).or_default();
        for value in values {
            if known.len() >= MAX_CANDIDATES {
                break;
            }
            if !known.contains(&value) {
                known.push(value);
            }
        }
    }

    /// The values a word may have, from what the request itself shows: literal text, `~`,
    /// `$HOME`, `$PWD`, variables assigned in the request, and the output of a substitution
    /// that only prints static text (`"$(echo rm)"`). Empty when any part is unknown.
    fn candidates(&mut self, word: &ShellWord, cwd: Option<&Path>) -> Vec<String> {
        if let Some(text) = self.exact_text(word, cwd) {
            return vec![text];
        }
        if word.has_command_subst() {
            if self.budget == 0 {
                return Vec::new();
            }
            self.budget -= 1;
            return substitution_output(&word.raw).into_iter().collect();
        }
        let home = self.ctx.classifier.env.home.to_string_lossy().into_owned();
        let mut acc = vec![String::new()];
        for (idx, piece) in word.pieces.iter().enumerate() {
            let options: Vec<String> = match piece {
                WordPiece::Literal(t) | WordPiece::Glob(t) => vec![t.clone()],
                WordPiece::Tilde(user) if idx == 0 && user.is_empty() => vec![home.clone()],
                // `~name`: another user's home, where it usually is.
                WordPiece::Tilde(user)
                    if idx == 0 && user.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
                {
                    if user == "root" {
                        vec!["/root".into()]
                    } else {
                        vec![format!("/home/{user}"), format!("/Users/{user}")]
                    }
                }
                WordPiece::Param(name) if name == "HOME" => {
                    let mut v = vec![home.clone()];
                    v.extend(self.vars.get(name).into_iter().flatten().cloned());
                    v
                }
                WordPiece::Param(name) if name == "PWD" => match cwd {
                    Some(dir) => vec![dir.to_string_lossy().into_owned()],
                    None => return Vec::new(),
                },
                // Flagging only: an array's element may be any value it was given.
                WordPiece::Param(name) | WordPiece::ArrayParam(name) => match self.vars.get(name) {
                    Some(values) if !values.is_empty() => values.clone(),
                    _ => return Vec::new(),
                },
                _ => return Vec::new(),
            };
            let mut next = Vec::new();
            for prefix in &acc {
                for option in &options {
                    if next.len() < MAX_CANDIDATES {
                        next.push(format!("{prefix}{option}"));
                    }
                }
            }
            acc = next;
        }
        acc
    }

    /// Classify each value a computed script word may have (`bash -c "$S"`) as a script.
    fn expand_script(
        &mut self,
        word: &ShellWord,
        cwd: Option<&Path>,
        depth: usize,
        nesting: usize,
        out: &mut Vec<Unit>,
    ) {
        for value in self.candidates(word, cwd) {
            if !self.take_budget() {
                break;
            }
            self.script(&value, cwd, depth + 1, nesting + 1, out);
        }
    }

    /// The workspace a command running in `dir` is in, if that directory has one.
    fn workspace_of(&mut self, dir: &Path) -> Option<PathBuf> {
        let dir = super::lexical_normalize(dir);
        let classifier = self.ctx.classifier;
        self.workspaces
            .entry(dir)
            .or_insert_with_key(|dir| classifier.workspace(dir))
            .clone()
    }

    fn take_budget(&mut self) -> bool {
        if self.budget == 0 {
            return false;
        }
        self.budget -= 1;
        true
    }

    /// The paths a glob word matches now, when it has glob syntax and matches something (an
    /// empty list when it matches more than Airlock looks at, so the variable is not certain).
    fn glob_values(&self, word: &ShellWord, cwd: Option<&Path>) -> Option<Vec<String>> {
        if !word.pieces.iter().any(|p| matches!(p, WordPiece::Glob(_))) {
            return None;
        }
        let pattern = self.word_path(word, cwd)?;
        match globs::expand(&pattern) {
            globs::Expansion::Matches(paths) if !paths.is_empty() => Some(
                paths
                    .into_iter()
                    .map(|p| p.to_string_lossy().into_owned())
                    .collect(),
            ),
            globs::Expansion::Matches(_) => None,
            globs::Expansion::Unknown => Some(Vec::new()),
        }
    }

    /// The directory `cd`/`pushd` moves to: `Some(None)` when only known at run time,
    /// `None` when `cmd` does not change directory.
    fn directory_change(
        &self,
        cmd: &SimpleCommand,
        here: Option<&Path>,
    ) -> Option<Option<PathBuf>> {
        let name = cmd.words.first()?.literal()?;
        if !matches!(name.as_str(), "cd" | "pushd" | "popd" | "chdir") {
            return None;
        }
        if name == "popd" {
            return Some(None);
        }
        let target = cmd.words[1..].iter().find(|w| {
            w.literal()
                .is_none_or(|l| !(l.starts_with('-') && l.len() > 1))
        });
        // `cd -P link/..` resolves `link` first, then `..`: the parent of where it leads.
        let physical = self.physical_cd
            || cmd.words[1..].iter().any(|w| {
                w.literal()
                    .is_some_and(|l| l.starts_with('-') && !l.starts_with("--") && l.contains('P'))
            });
        // `CDPATH=/ cd root`: a relative name is looked up in CDPATH first (not `./x`, `../x`).
        let searched = self.cd_searches
            && target.and_then(|w| w.literal()).is_some_and(|t| {
                !t.starts_with('/')
                    && !t.starts_with("./")
                    && !t.starts_with("../")
                    && t != "."
                    && t != ".."
            });
        if searched {
            return Some(None);
        }
        Some(match target {
            None => Some(self.ctx.classifier.env.home.clone()),
            Some(w) if w.literal().as_deref() == Some("-") => None,
            Some(w) => {
                let Some(mut path) = self.word_path(w, here) else {
                    return Some(None);
                };
                // `cd d/?`: bash moves to the one directory the glob matches.
                if w.pieces.iter().any(|p| matches!(p, WordPiece::Glob(_))) {
                    match globs::expand(&path) {
                        globs::Expansion::Matches(found) if found.len() == 1 => {
                            path = found.into_iter().next().unwrap_or_default();
                        }
                        globs::Expansion::Matches(found) if found.is_empty() => {}
                        _ => return Some(None),
                    }
                }
                if physical {
                    // A directory that does not resolve makes `cd` fail: where later commands
                    // run is then not known here.
                    airlock_userfs::canonicalize(&path).ok()
                } else {
                    Some(super::lexical_normalize(&path))
                }
            }
        })
    }

    fn simple(
        &mut self,
        cmd: &SimpleCommand,
        cwd: Option<&Path>,
        depth: usize,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        let text = command_text(cmd);
        let mut unit = Unit::new(text, depth, "");
        unit.pipeline = Some(info.pipeline);
        unit.enclosing = info.enclosing.clone();
        unit.workspace = cwd.and_then(|dir| self.workspace_of(dir));
        for (name, value) in &cmd.assignments {
            match value.literal() {
                Some(value) => unit.env.push(format!("{name}={value}")),
                None => {
                    unit.env.push(format!("{name}={}", value.raw));
                    unit.tags.insert(TAG_ENV_COMPUTED.into());
                }
            }
        }
        for redirect in &cmd.redirects {
            let access = match redirect.kind {
                shell::RedirectKind::Write
                | shell::RedirectKind::Append
                | shell::RedirectKind::ReadWrite => Access::Write,
                shell::RedirectKind::Read => Access::Read,
                _ => continue,
            };
            self.path_arg(&mut unit, &redirect.target, access, cwd);
        }
        for (name, value) in &cmd.assignments {
            self.env_assignment(&mut unit, name, value, cwd, info, out);
        }
        if let Some(name) = cmd.words.first().and_then(ShellWord::literal)
            && matches!(
                name.as_str(),
                "export" | "declare" | "typeset" | "local" | "readonly"
            )
        {
            for word in &cmd.words[1..] {
                if let Some((var, value)) = split_assignment_word(word) {
                    self.env_assignment(&mut unit, &var, &value, cwd, info, out);
                }
            }
        }
        if let Some(name) = self.indirect_env_assignment(cmd) {
            unit.classes.insert(ActionClass::Unknown);
            unit.source = format!(
                "sets `{name}` (through `printf -v`, `read`, `mapfile` or a name reference), which makes programs run or load something, to a value Airlock does not see"
            );
        }
        if let Some(word) = cmd
            .words
            .iter()
            .chain(cmd.assignments.iter().map(|(_, w)| w))
            .find(|w| w.raw.contains("@P}"))
        {
            unit.classes.insert(ActionClass::Unknown);
            unit.source = format!(
                "`{}`: prompt expansion (`@P`) runs any command substitution in the value",
                word.raw
            );
        }
        if let Some(text) = self.subscript_text.take() {
            unit.classes.insert(ActionClass::Unknown);
            unit.source = format!(
                "`{text}` holds an array subscript with a command substitution, which bash runs wherever it evaluates that text"
            );
        }
        if let Some(name) = self.loop_env_var.take() {
            unit.classes.insert(ActionClass::Unknown);
            unit.source = format!(
                "a `for` loop sets `{name}`, which makes programs run or load something, to values Airlock does not follow"
            );
        }
        if let Some(name) = subscript_in_name(cmd) {
            unit.classes.insert(ActionClass::Unknown);
            unit.source = format!(
                "`{name}` names an array element whose subscript bash evaluates as arithmetic, running any substitution in it"
            );
        }
        if let Some(name) = self.arithmetic_in(cmd) {
            unit.classes.insert(ActionClass::Unknown);
            unit.source = format!(
                "arithmetic reads `{name}`, whose value Airlock does not know to be a number (bash evaluates it again, running any `$(…)` in an array subscript)"
            );
        }
        if cmd.words.is_empty() {
            if !unit.paths.is_empty() || !unit.tags.is_empty() || !unit.classes.is_empty() {
                if unit.source.is_empty() {
                    unit.source = "redirection".into();
                }
                out.push(unit);
            }
            return;
        }
        if let Some(text) = static_stdout(cmd, |w| self.exact_text(w, cwd)) {
            self.stdout_text.insert(info.pipeline, text);
        }
        self.argv(&cmd.words, unit, cwd, info, out);
    }

    /// A variable of the `[[env_var]]` knowledge that `cmd` sets other than by a plain
    /// assignment: `printf -v NAME`, `read NAME…`, `mapfile NAME`, `declare -n REF=NAME`.
    fn indirect_env_assignment(&self, cmd: &SimpleCommand) -> Option<String> {
        let words: Vec<String> = cmd.words.iter().map(|w| w.raw.clone()).collect();
        let first = words.first()?.as_str();
        let targets: Vec<String> = match first {
            "printf" => words
                .windows(2)
                .filter(|w| w[0] == "-v")
                .map(|w| w[1].clone())
                .collect(),
            "read" | "mapfile" | "readarray" => words[1..]
                .iter()
                .filter(|w| !w.starts_with('-'))
                .cloned()
                .collect(),
            // `getopts OPTSTRING NAME` and `wait -p NAME` assign NAME too.
            "getopts" => words.get(2).cloned().into_iter().collect(),
            "wait" => words
                .windows(2)
                .filter(|w| w[0] == "-p")
                .map(|w| w[1].clone())
                .collect(),
            "declare" | "typeset" | "local"
                if words.iter().any(|w| w.starts_with('-') && w.contains('n')) =>
            {
                words[1..]
                    .iter()
                    .filter_map(|w| w.split_once('=').map(|(_, target)| target.to_string()))
                    .collect()
            }
            _ => Vec::new(),
        };
        targets
            .into_iter()
            .map(|t| t.trim_matches(|c| c == '"' || c == '\'').to_string())
            .find(|t| self.ctx.kb().env_var(t).is_some())
    }

    /// The first name an arithmetic context of `cmd` reads that may not hold a known integer:
    /// `(( … ))`, `$(( … ))`, `let`, `[[ A -eq B ]]` (and the other numeric tests), `-v`
    /// subscripts, `declare -i`.
    fn arithmetic_in(&self, cmd: &SimpleCommand) -> Option<String> {
        let mut texts: Vec<String> = Vec::new();
        let first = cmd.words.first().and_then(ShellWord::literal);
        let raw: Vec<&str> = cmd.words.iter().map(|w| w.raw.as_str()).collect();
        match first.as_deref() {
            Some("((") | Some("let") => texts.extend(raw[1..].iter().map(|r| r.to_string())),
            Some("[[") | Some("test") | Some("[") => {
                for (k, word) in raw.iter().enumerate() {
                    let numeric = matches!(*word, "-eq" | "-ne" | "-lt" | "-le" | "-gt" | "-ge");
                    if numeric && first.as_deref() == Some("[[") && k > 0 {
                        texts.push(raw[k - 1].to_string());
                        texts.extend(raw.get(k + 1).map(|r| r.to_string()));
                    }
                    if *word == "-v" {
                        texts.extend(raw.get(k + 1).map(|r| r.to_string()));
                    }
                }
            }
            Some("declare") | Some("typeset") | Some("local") | Some("export")
            | Some("readonly")
                if raw.iter().any(|w| w.starts_with('-') && w.contains('i')) =>
            {
                texts.extend(
                    raw[1..]
                        .iter()
                        .filter_map(|w| w.split_once('=').map(|(_, v)| v.to_string())),
                );
            }
            _ => {}
        }
        // `declare -i n; n='a[$(cmd)]'`: a value given to an integer variable is arithmetic.
        for (name, value) in &cmd.assignments {
            if self.integer_vars.contains(name) {
                texts.push(value.raw.clone());
            }
            // `a[x]=1`, `b=([x]=1)`.
            texts.extend(assigned_subscripts(name, &value.raw, &self.associative));
        }
        // Names builtins assign (`declare a[x]=1`, `printf -v 'a[x]'`, `unset 'a[x]'`,
        // `read 'a[x]'`): an indexed array's subscript is arithmetic; so is each `[x]=` of a
        // compound value (`declare -a b=([x]=1)`).
        for raw in names_assigned(cmd) {
            let raw = raw.trim_matches(|c| c == '"' || c == '\'');
            let (name, value) = raw.split_once('=').unwrap_or((raw, ""));
            texts.extend(assigned_subscripts(name, value, &self.associative));
        }
        // Array subscripts, substring offsets and indirections inside `${…}`.
        for word in cmd
            .words
            .iter()
            .chain(cmd.assignments.iter().map(|(_, w)| w))
        {
            texts.extend(expansion_arithmetic(&word.raw, &self.associative));
        }
        for (name, _) in &cmd.assignments {
            texts.extend(expansion_arithmetic(name, &self.associative));
        }
        for word in cmd
            .words
            .iter()
            .chain(cmd.assignments.iter().map(|(_, w)| w))
        {
            for piece in &word.pieces {
                if let WordPiece::Other(text) = piece
                    && (text.starts_with("$((") || text.starts_with("$["))
                {
                    texts.push(text.clone());
                }
            }
        }
        texts
            .iter()
            .map(|t| t.trim_matches(|c| c == '"' || c == '\''))
            .find_map(|t| self.unsafe_arithmetic(t))
    }

    /// The directory a wrapper's cwd option moves the wrapped command to: `None` when it has
    /// none, `Some(None)` when that directory is known only at run time.
    fn wrapper_cwd(
        &self,
        spec: &WrapperSpec,
        words: &[ShellWord],
        cwd: Option<&Path>,
    ) -> Option<Option<PathBuf>> {
        let mut moved = None;
        let mut k = 1;
        while k < words.len() {
            let Some(arg) = words[k].literal() else { break };
            let attached = spec
                .cwd_options
                .iter()
                .find_map(|o| arg.strip_prefix(&format!("{o}=")).map(str::to_string));
            if let Some(dir) = attached {
                let base = moved.clone().unwrap_or(cwd.map(Path::to_path_buf));
                moved = Some(self.word_path(&word_from(&dir), base.as_deref()));
            } else if spec.cwd_options.contains(&arg) {
                let base = moved.clone().unwrap_or(cwd.map(Path::to_path_buf));
                moved = Some(
                    words
                        .get(k + 1)
                        .and_then(|w| self.word_path(w, base.as_deref())),
                );
                k += 1;
            } else if !arg.starts_with('-') && !is_assignment(&arg) {
                break;
            }
            k += 1;
        }
        moved
    }

    /// Setting an environment variable that makes programs run or load something is judged
    /// by what it makes run (see `[[env_var]]` in the knowledge base).
    fn env_assignment(
        &mut self,
        unit: &mut Unit,
        name: &str,
        value: &ShellWord,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        let Some(spec) = self.ctx.kb().env_var(name).cloned() else {
            return;
        };
        let why = format!("sets `{name}`: {}", spec.why);
        let unknown = |unit: &mut Unit, reason: String| {
            unit.classes.insert(ActionClass::Unknown);
            unit.source = reason;
        };
        match spec.value {
            EnvValue::Command => match self.exact_text(value, cwd) {
                Some(command) if command.trim().is_empty() => {}
                Some(command) => {
                    unit.classes.insert(ActionClass::ShellExec);
                    unit.source = format!("{why} (classified below)");
                    let command = spec.appended.to(&command);
                    self.script(&command, cwd, unit.depth + 1, info.nesting + 1, out);
                }
                None => unknown(
                    unit,
                    format!("{why}, and its value is computed at run time"),
                ),
            },
            EnvValue::ShellFile => match self.word_path(value, cwd) {
                Some(path) => {
                    unit.classes.insert(ActionClass::ShellExec);
                    unit.source = format!("{why} (classified below)");
                    self.ctx.touch(unit, path.clone(), Access::Read);
                    if let Some(text) = self.read_run_file(unit, &path) {
                        self.script(&text, cwd, unit.depth + 1, info.nesting + 1, out);
                    }
                }
                None => unknown(
                    unit,
                    format!("{why}, and its value is computed at run time"),
                ),
            },
            EnvValue::ProgramPath => {
                if let Some(dir) = self.writable_program_dir(value) {
                    unknown(
                        unit,
                        format!(
                            "{why}, and `{dir}` is a directory the agent can write to: a file there can stand in for any program"
                        ),
                    );
                }
            }
            EnvValue::Unknown => unknown(unit, why),
        }
    }

    /// The first directory of a `PATH` value that is not a fixed directory outside the
    /// workspace and scratch space (the value's `$PATH` keeps the inherited directories).
    fn writable_program_dir(&self, value: &ShellWord) -> Option<String> {
        let home = self.ctx.classifier.env.home.to_string_lossy().into_owned();
        let mut text = String::new();
        for (idx, piece) in value.pieces.iter().enumerate() {
            match piece {
                WordPiece::Literal(t) => text.push_str(t),
                WordPiece::Param(name) if name == "PATH" => text.push_str(":\u{1}:"),
                WordPiece::Param(name) if name == "HOME" => text.push_str(&home),
                WordPiece::Tilde(user) if idx == 0 && user.is_empty() => text.push_str(&home),
                _ => return Some(value.raw.clone()),
            }
        }
        let scratch: Vec<&str> = self
            .ctx
            .kb()
            .paths
            .scratch
            .iter()
            .map(|p| p.trim_end_matches("/**"))
            .collect();
        for dir in text.split(':') {
            if dir.is_empty() || dir == "\u{1}" {
                continue;
            }
            let dir = dir
                .strip_prefix("~/")
                .map_or_else(|| dir.to_string(), |rest| format!("{home}/{rest}"));
            let path = super::lexical_normalize(Path::new(&dir));
            let inside_workspace = self.ctx.workspace.is_some_and(|ws| path.starts_with(ws));
            let in_scratch = scratch.iter().any(|s| path.starts_with(s));
            if !dir.starts_with('/') || inside_workspace || in_scratch {
                return Some(dir);
            }
        }
        None
    }

    /// Classify an argument vector. `unit` carries what enclosing wrappers already found.
    fn argv(
        &mut self,
        words: &[ShellWord],
        mut unit: Unit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        let Some(first) = words.first() else {
            if !unit.classes.is_empty() {
                out.push(unit);
            }
            return;
        };
        let Some(name_as_written) = self.exact_text(first, cwd) else {
            unit.classes.insert(ActionClass::Unknown);
            unit.source = "program name is computed at run time".into();
            let depth = unit.depth;
            out.push(unit);
            // Also classify the command with each value the name was seen to get
            // (`x=rm; $x -rf /`).
            let rest = raw_words(&words[1..]);
            for value in self.candidates(first, cwd) {
                if !self.take_budget() {
                    break;
                }
                let text = format!("{value} {rest}");
                self.script(&text, cwd, depth + 1, info.nesting + 1, out);
            }
            return;
        };
        if let Some(path) = self.file_program(&name_as_written, cwd) {
            unit.program = Some(program_name(&name_as_written));
            self.run_file(&path, words, unit, cwd, info, out);
            return;
        }
        let name = program_name(&name_as_written);
        unit.program = Some(name.clone());
        let (argv, complete) = static_argv(&name, &words[1..]);
        unit.argv = argv;
        unit.argv_complete = complete;

        if info.functions.contains(&name) {
            let recursive = info.in_function.as_deref() == Some(name.as_str());
            if recursive && (info.background || info.piped) {
                unit.classes.insert(ActionClass::ShellDestructive);
                unit.tags.insert("fork-bomb".into());
                unit.source = "function calls itself in a pipeline or background: fork bomb".into();
            } else {
                unit.classes.insert(ActionClass::Read);
                unit.source =
                    "calls a function defined in this command (its body is classified)".into();
            }
            out.push(unit);
            return;
        }
        if let Some(value) = info.aliases.get(&name) {
            let rest: Vec<&str> = words[1..].iter().map(|w| w.raw.as_str()).collect();
            let expanded = format!("{value} {}", rest.join(" "));
            unit.classes.insert(ActionClass::Read);
            unit.source = format!("alias `{name}` defined in this command, expanded below");
            out.push(unit.clone());
            self.script(&expanded, cwd, unit.depth + 1, info.nesting + 1, out);
            return;
        }
        // The knowledge base outlives this walker: borrowed through the context, not `self`.
        let ctx = self.ctx;
        let kb = ctx.kb();
        match kb.lookup(&name) {
            Some(Entry::Wrapper(i)) => {
                self.wrapper(&kb.wrappers[i], &name, words, unit, cwd, info, out);
            }
            Some(Entry::Shell(i)) => {
                self.shell(&kb.shells[i], &name, words, unit, cwd, info, out);
            }
            Some(Entry::Interpreter(i)) => {
                self.interpreter(&kb.interpreters[i], &name, words, unit, cwd, info, out);
            }
            Some(Entry::Program(i)) => {
                self.program(&kb.programs[i], &name, words, unit, cwd, info, out);
            }
            None if name == "eval" => self.eval(words, unit, cwd, info, out),
            None if name == "source" || name == "." => {
                unit.classes.insert(ActionClass::ShellExec);
                unit.source = "runs a script file in the current shell".into();
                match words.get(1) {
                    Some(w) if is_stdin_file(w) => {
                        self.stdin_program(unit, &name, StdinKind::Shell, cwd, info, out);
                    }
                    Some(w) => {
                        let depth = unit.depth;
                        let content = self.script_file(&mut unit, w, cwd);
                        out.push(unit);
                        if let Some(text) = content {
                            self.script(&text, cwd, depth + 1, info.nesting + 1, out);
                        }
                    }
                    None => out.push(unit),
                }
            }
            // Only what is understood is allowed: a program Airlock knows nothing about could
            // do anything.
            None => {
                unit.classes.insert(ActionClass::ShellExec);
                unit.classes.insert(ActionClass::Unknown);
                unit.source = format!("`{name}` is not in the knowledge base");
                out.push(unit);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn wrapper(
        &mut self,
        spec: &WrapperSpec,
        name: &str,
        words: &[ShellWord],
        mut unit: Unit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        unit.classes.extend(spec.add.iter().copied());
        unit.tags.extend(spec.tags.iter().cloned());
        // `env -C DIR CMD` runs CMD in DIR: its relative paths are there (unknown when DIR is).
        let moved = self.wrapper_cwd(spec, words, cwd);
        let cwd = match &moved {
            Some(dir) => dir.as_deref(),
            None => cwd,
        };
        let mut i = 1;
        let mut skipped = 0;
        let mut ran_script = false;
        let mut placeholder: Option<String> = None;
        let mut input_file: Option<Option<ShellWord>> = None;
        let mut split = ItemSplit::Blanks;
        while i < words.len() {
            let Some(arg) = words[i].literal() else { break };
            if spec.null_options.contains(&arg) {
                split = ItemSplit::At(Some('\0'));
            }
            if let Some((value, _)) = option_value(&spec.delimiter_options, &arg, words.get(i + 1))
            {
                split = ItemSplit::At(value.as_deref().and_then(delimiter_char));
            }
            if arg == "--" {
                i += 1;
                break;
            }
            if spec
                .unknown_options
                .iter()
                .any(|o| super::kb::option_matches(o, &arg))
            {
                unit.classes.insert(ActionClass::Unknown);
                unit.source = format!("`{name} {arg}`: Airlock does not follow what this does");
            }
            if spec.query_options.contains(&arg) {
                unit.classes.insert(ActionClass::Read);
                unit.source = format!("`{name} {arg}` only looks a program up");
                out.push(unit);
                return;
            }
            if let Some(value) = option_value(&spec.script_options, &arg, words.get(i + 1)) {
                let (script, consumed) = value;
                match script {
                    Some(script) => {
                        self.script(&script, cwd, unit.depth + 1, info.nesting + 1, out)
                    }
                    None => {
                        unit.classes.insert(ActionClass::Unknown);
                        unit.tags.insert(TAG_PATHS_UNKNOWN.into());
                        unit.tags.insert(TAG_SCRIPT_COMPUTED.into());
                        if let Some(word) = words.get(i + 1) {
                            self.expand_script(word, cwd, unit.depth, info.nesting, out);
                        }
                    }
                }
                ran_script = true;
                i += consumed;
                continue;
            }
            if let Some((value, consumed)) =
                option_value(&spec.input_file_options, &arg, words.get(i + 1))
            {
                input_file = Some(match (consumed, value) {
                    (2, _) => words.get(i + 1).cloned(),
                    (_, Some(value)) => Some(word_from(&value)),
                    _ => None,
                });
                i += consumed;
                continue;
            }
            if let Some((value, consumed)) = replace_option(spec, &arg, words.get(i + 1)) {
                match value {
                    Some(value) => placeholder = Some(value),
                    None => {
                        unit.tags.insert(TAG_PATHS_UNKNOWN.into());
                    }
                }
                i += consumed;
                continue;
            }
            if let Some((value, consumed)) =
                option_value(&spec.write_options, &arg, words.get(i + 1))
            {
                match value {
                    // The next word as written (`-o ~/x`), or the attached value.
                    _ if consumed == 2 && i + 1 < words.len() => {
                        let word = words[i + 1].clone();
                        self.path_arg(&mut unit, &word, Access::Write, cwd);
                    }
                    Some(value) => self.path_arg(&mut unit, &word_from(&value), Access::Write, cwd),
                    None => {
                        unit.classes.insert(ActionClass::Unknown);
                        unit.classes.insert(ActionClass::FileWrite);
                    }
                }
                i += consumed;
                continue;
            }
            if spec.options_with_value.contains(&arg) {
                i += 2;
                continue;
            }
            // Options, and a lone `-` (`su -`, `env -`).
            if arg.starts_with('-') {
                i += 1;
                continue;
            }
            if spec.skip_assignments && is_assignment(&arg) {
                // `env NODE_OPTIONS=… node x.js`: what the wrapped program's environment holds.
                if let Some((var, value)) = arg.split_once('=') {
                    self.add_vars(var, vec![value.to_string()]);
                }
                if let Some((var, value)) = split_assignment_word(&words[i]) {
                    self.env_assignment(&mut unit, &var, &value, cwd, info, out);
                }
                unit.env.push(arg);
                i += 1;
                continue;
            }
            if skipped < spec.skip_positionals {
                skipped += 1;
                i += 1;
                continue;
            }
            break;
        }
        let rest = &words[i.min(words.len())..];
        if rest.is_empty() {
            if ran_script {
                unit.classes.insert(ActionClass::ShellExec);
                unit.source = format!("wrapper `{name}` runs the script classified below");
            } else if spec.bare_runs_input {
                unit.classes.insert(ActionClass::Unknown);
                unit.source = format!(
                    "`{name}` without a command runs the lines of its input as commands, which Airlock does not see"
                );
            } else if spec.add.is_empty() {
                unit.classes.insert(ActionClass::Read);
                unit.tags.extend(spec.bare_tags.iter().cloned());
                unit.source = format!("`{name}` without a command");
            } else {
                // `sudo -s`, bare `su`: an interactive privileged shell.
                unit.classes.insert(ActionClass::ShellExec);
                unit.source = format!("`{name}` opens a shell");
            }
            out.push(unit);
            return;
        }
        if spec.dynamic_args {
            unit.tags.insert(TAG_PATHS_UNKNOWN.into());
        }
        unit.source = format!("wrapper `{name}`");
        if spec.shell_command {
            // `watch 'rm -rf /'`: the arguments joined are a shell command line.
            self.script_word(&join_words(rest), &mut unit, cwd, info, out);
            out.push(unit);
            return;
        }
        let mut rest: Vec<ShellWord> = rest.to_vec();
        if spec.stdin_args || placeholder.is_some() {
            // Input items become arguments: known when the input is static text, a file
            // Airlock reads, or the paths a listing command prints.
            if placeholder.is_some() && split == ItemSplit::Blanks {
                // With a placeholder, each input line is one item.
                split = ItemSplit::At(Some('\n'));
            }
            let items = self
                .input_items(&mut unit, input_file, split, cwd, info)
                .map(|(items, trees)| {
                    if trees {
                        // Every file of the trees.
                        unit.tags.insert(TAG_READS_TREE.into());
                        unit.tags.insert("recursive".into());
                    }
                    items
                });
            match &placeholder {
                Some(placeholder) => {
                    self.add_vars(XARGS_ITEM, items.unwrap_or_default());
                    rest = rest
                        .iter()
                        .map(|w| replace_placeholder(w, placeholder))
                        .collect();
                }
                None => match items {
                    Some(items) => rest.extend(items.iter().map(|item| word_from(item))),
                    // Items Airlock does not see are arguments of any value: paths it cannot
                    // resolve, and whatever a pattern on arguments looks for (`pgrep airlock
                    // | xargs kill` is `kill $(pgrep airlock)`).
                    None => rest.push(ShellWord {
                        raw: "<input items>".into(),
                        pieces: vec![WordPiece::Param(UNSEEN_INPUT.into())],
                    }),
                },
            }
        }
        self.argv(&rest, unit, cwd, info, out);
    }

    /// The whitespace-separated items of a command's input, when Airlock can see them: static
    /// text (a heredoc, a here-string, the output of `echo`/`printf`/`cat <<EOF` earlier in the
    /// pipeline), a file (`xargs -a FILE`, `xargs CMD < FILE`, read like any file Airlock
    /// reads), or the paths a listing command prints. Also whether the items stand for whole
    /// trees (`find DIR | xargs …`).
    fn input_items(
        &mut self,
        unit: &mut Unit,
        input_file: Option<Option<ShellWord>>,
        split: ItemSplit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
    ) -> Option<(Vec<String>, bool)> {
        let (scope, pipeline, pos) = info.pipeline;
        let file = match input_file {
            Some(word) => Some(word?),
            None if info.stdin_text.is_none() && pos == 0 => info.stdin_file.clone(),
            None => None,
        };
        let text = match file {
            Some(word) => {
                let path = self.word_path(&word, cwd)?;
                if path == Path::new("/dev/null") {
                    return Some((Vec::new(), false));
                }
                self.ctx.touch(unit, path.clone(), Access::Read);
                self.read_text(unit, &path, |why| {
                    format!("takes its arguments from `{}`, which {why}", path.display())
                })?
            }
            None => {
                if info.stdin_text.is_none()
                    && pos > 0
                    && let Some((paths, trees, follows)) =
                        self.listed_paths.get(&(scope, pipeline, pos - 1))
                {
                    if *trees && *follows {
                        // `find -L DIR | xargs cat`: the files behind links in the trees too.
                        unit.tags.insert(TAG_FOLLOWS_LINKS.into());
                    }
                    return Some((paths.clone(), *trees));
                }
                match &info.stdin_text {
                    Some(text) => Some(text.clone()),
                    None if pos > 0 => self.stdout_text.get(&(scope, pipeline, pos - 1)).cloned(),
                    None => None,
                }?
            }
        };
        // A here-string's word is tilde-expanded (`xargs cat <<< ~/.npmrc`); a heredoc's lines
        // are not, and taking them as the home directory too is the safe side.
        let home = &self.ctx.classifier.env.home;
        let raw: Vec<&str> = match split {
            // Blanks end items, but quotes and backslashes join them (`'a b'` is one item):
            // input with those is not taken apart.
            ItemSplit::Blanks if text.contains(['\'', '"', '\\']) => return None,
            ItemSplit::Blanks => text.split_whitespace().collect(),
            ItemSplit::At(Some(end)) => text.split(end).filter(|i| !i.is_empty()).collect(),
            ItemSplit::At(None) => return None,
        };
        if raw.len() > MAX_CANDIDATES {
            return None;
        }
        let items = raw
            .into_iter()
            .map(|item| match item.strip_prefix('~') {
                Some(rest) if rest.is_empty() || rest.starts_with('/') => {
                    format!("{}{rest}", home.display())
                }
                _ => item.to_string(),
            })
            .collect();
        Some((items, false))
    }

    #[allow(clippy::too_many_arguments)]
    fn shell(
        &mut self,
        spec: &ShellSpec,
        name: &str,
        words: &[ShellWord],
        mut unit: Unit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        unit.classes.insert(ActionClass::ShellExec);
        let mut i = 1;
        let mut command_flag = false;
        let mut stdin_flag = false;
        // Options come first (`bash -x -c …`, `bash -c -- …`, `bash -s -- args`), then the
        // script (with `-c`) or the script file.
        while i < words.len() {
            let Some(arg) = words[i].literal() else { break };
            if arg == "--" {
                i += 1;
                break;
            }
            // `bash --rcfile F -i`, `--init-file F`: F runs first, so it is read like a script.
            if matches!(arg.as_str(), "--rcfile" | "--init-file") {
                if let Some(word) = words.get(i + 1) {
                    let depth = unit.depth;
                    if let Some(text) = self.script_file(&mut unit, word, cwd) {
                        self.script(&text, cwd, depth + 1, info.nesting + 1, out);
                    }
                }
                i += 2;
                continue;
            }
            if spec.options_with_value.contains(&arg) {
                i += 2;
                continue;
            }
            if (arg.starts_with('-') || arg.starts_with('+')) && arg.len() > 1 {
                if arg == "--command" {
                    command_flag = true;
                } else if !arg.starts_with("--") {
                    command_flag |= arg[1..].contains('c');
                    stdin_flag |= arg[1..].contains('s');
                }
                i += 1;
                continue;
            }
            break;
        }
        if command_flag {
            match words.get(i) {
                Some(word) => match word.literal() {
                    Some(script) => {
                        unit.source = format!("`{name} -c`: its script is classified below");
                        // `sh -c SCRIPT NAME ARG…`: the script's `$0`, `$1`, … and `$@`.
                        let mut all = Vec::new();
                        for (k, arg) in words[i + 1..].iter().enumerate().take(10) {
                            let values = self.candidates(arg, cwd);
                            self.add_vars(&k.to_string(), values.clone());
                            if k > 0 {
                                all.extend(values);
                            }
                        }
                        self.add_vars("@", all.clone());
                        self.add_vars("*", all);
                        out.push(unit.clone());
                        self.script(&script, cwd, unit.depth + 1, info.nesting + 1, out);
                    }
                    None => {
                        unit.classes.insert(ActionClass::Unknown);
                        unit.tags.insert(TAG_SCRIPT_COMPUTED.into());
                        unit.source = format!("`{name} -c` with a script computed at run time");
                        let depth = unit.depth;
                        out.push(unit);
                        self.expand_script(word, cwd, depth, info.nesting, out);
                    }
                },
                None => {
                    unit.classes.insert(ActionClass::Unknown);
                    unit.source = format!("`{name} -c` without a script");
                    out.push(unit);
                }
            }
            return;
        }
        match words.get(i) {
            Some(word) if !stdin_flag && !is_stdin_file(word) => {
                unit.source = format!("`{name}` runs a script file");
                unit.tags.insert("script-file".into());
                let content = self.script_file(&mut unit, word, cwd);
                let depth = unit.depth;
                out.push(unit);
                if let Some(text) = content {
                    self.script(&text, cwd, depth + 1, info.nesting + 1, out);
                }
            }
            _ => self.stdin_program(unit, name, StdinKind::Shell, cwd, info, out),
        }
    }

    /// A script file argument (`bash FILE`, `source FILE`, `python3 FILE`): read. When it is a
    /// process substitution of static text (`bash <(echo …)`), that text is returned to be
    /// classified as the script; when it is computed otherwise, the unit is tagged so a download
    /// feeding it counts as remote code.
    fn script_file(
        &mut self,
        unit: &mut Unit,
        word: &ShellWord,
        cwd: Option<&Path>,
    ) -> Option<String> {
        self.path_arg(unit, word, Access::Read, cwd);
        if let Some(path) = self.word_path(word, cwd) {
            return self.read_run_file(unit, &path);
        }
        if word.literal().is_some() {
            return None;
        }
        unit.tags.insert(TAG_SCRIPT_COMPUTED.into());
        if word.raw.starts_with("<(")
            && self.take_budget()
            && let Some(text) = substitution_output(&word.raw)
        {
            return Some(text);
        }
        // `bash <(cat f)`, `sh "$(…)"`: the program is made at run time.
        unit.classes.insert(ActionClass::Unknown);
        unit.source = "runs a program made at run time, which Airlock does not see".into();
        None
    }

    /// The text of a file the unit runs, to be classified as what runs; `None` (and the unit
    /// `unknown`, saying why) when it cannot be read as text.
    fn read_run_file(&mut self, unit: &mut Unit, path: &Path) -> Option<String> {
        unit.tags.insert(TAG_RUNS_FILE.into());
        self.read_text(unit, path, |why| {
            format!(
                "runs `{}`, which {why}: Airlock cannot tell what it does",
                path.display()
            )
        })
    }

    /// A program run by a path outside the system's program directories (`./x.sh`,
    /// `tools/deploy`, `./git`): a file the agent may have written, judged by its content. A
    /// `#!` line names what runs it; without one the shell runs it as a shell script.
    fn run_file(
        &mut self,
        path: &Path,
        words: &[ShellWord],
        mut unit: Unit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        unit.classes.insert(ActionClass::ShellExec);
        unit.source = format!("runs the file `{}`", path.display());
        self.ctx.touch(&mut unit, path.to_path_buf(), Access::Read);
        let Some(text) = self.read_run_file(&mut unit, path) else {
            out.push(unit);
            return;
        };
        let interpreter = shebang(&text);
        match interpreter.as_deref() {
            // Run by a shell: the file is a shell script.
            None => {
                let depth = unit.depth;
                out.push(unit);
                self.script(&text, cwd, depth + 1, info.nesting + 1, out);
            }
            Some(line) => {
                // `#!/usr/bin/env python3 -u` runs `python3 -u FILE ARGS…`: classify that
                // command, with the file already read as its script.
                let mut argv: Vec<ShellWord> = line.split_whitespace().map(word_from).collect();
                if argv
                    .first()
                    .and_then(ShellWord::literal)
                    .is_some_and(|p| program_name(&p) == "env")
                {
                    argv.remove(0);
                    while argv
                        .first()
                        .and_then(ShellWord::literal)
                        .is_some_and(|a| a.starts_with('-'))
                    {
                        argv.remove(0);
                    }
                }
                let Some(program) = argv.first().and_then(ShellWord::literal) else {
                    unit.classes.insert(ActionClass::Unknown);
                    unit.source =
                        format!("`{}` has a `#!` line Airlock cannot read", path.display());
                    out.push(unit);
                    return;
                };
                let name = program_name(&program);
                let kb = self.ctx.kb();
                let depth = unit.depth;
                match kb.lookup(&name) {
                    Some(Entry::Shell(_)) => {
                        out.push(unit);
                        self.script(&text, cwd, depth + 1, info.nesting + 1, out);
                    }
                    Some(Entry::Interpreter(_)) => {
                        argv.push(word_from(&path.to_string_lossy()));
                        argv.extend(words[1..].iter().cloned());
                        out.push(unit);
                        let nested = Unit::new(truncate(line), depth + 1, "the file's `#!` line");
                        self.argv(&argv, nested, cwd, info, out);
                    }
                    _ => {
                        unit.classes.insert(ActionClass::Unknown);
                        unit.source = format!(
                            "`{}` is run by `{program}`, which Airlock does not read",
                            path.display()
                        );
                        out.push(unit);
                    }
                }
            }
        }
    }

    /// A shell or interpreter with no script argument reads its program from stdin.
    fn stdin_program(
        &mut self,
        mut unit: Unit,
        name: &str,
        kind: StdinKind,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        if let Some(text) = &info.stdin_text {
            match kind {
                StdinKind::Shell => {
                    unit.source = format!("`{name}` runs the heredoc classified below");
                    out.push(unit.clone());
                    self.script(text, cwd, unit.depth + 1, info.nesting + 1, out);
                }
                StdinKind::Code => self.code(text, name, unit, cwd, info, out),
            }
        } else if info.pipeline.2 > 0 || info.enclosing.iter().any(|p| p.2 > 0) {
            unit.classes.insert(ActionClass::Unknown);
            unit.tags.insert(match kind {
                StdinKind::Shell => "stdin-script:shell".into(),
                StdinKind::Code => "stdin-script:code".into(),
            });
            unit.source = format!("`{name}` runs a program read from a pipe");
            out.push(unit);
        } else if let Some(word) = info.stdin_file.clone() {
            // `sh < x.sh`: the file is the program.
            unit.source = format!("`{name}` runs the file its input is redirected from");
            let content = match self.word_path(&word, cwd) {
                Some(path) => self.read_run_file(&mut unit, &path),
                None => {
                    unit.classes.insert(ActionClass::Unknown);
                    None
                }
            };
            match (content, kind) {
                (Some(text), StdinKind::Shell) => {
                    let depth = unit.depth;
                    out.push(unit);
                    self.script(&text, cwd, depth + 1, info.nesting + 1, out);
                }
                (Some(text), StdinKind::Code) => self.code(&text, name, unit, cwd, info, out),
                (None, _) => out.push(unit),
            }
        } else if info.nesting > 0 {
            // Run by another command (`tar -I sh`, `sort --compress-program=sh`, `bash -c
            // 'sh'`): its input is whatever that command feeds it.
            unit.classes.insert(ActionClass::Unknown);
            unit.source = format!("`{name}` runs whatever program the command running it feeds it");
            out.push(unit);
        } else {
            // Standard input is not a terminal an agent types into: `exec < f` or `exec 0<&3`
            // earlier, a coproc's pipe or whatever the agent's runner connects. Airlock does not
            // see what it holds.
            unit.classes.insert(ActionClass::Unknown);
            unit.source = format!(
                "`{name}` reads its program from standard input, which Airlock does not see"
            );
            out.push(unit);
        }
    }

    fn eval(
        &mut self,
        words: &[ShellWord],
        mut unit: Unit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        let parts: Option<Vec<String>> = words[1..].iter().map(ShellWord::literal).collect();
        match parts {
            Some(parts) => {
                unit.classes.insert(ActionClass::ShellExec);
                unit.source = "`eval`: its script is classified below".into();
                out.push(unit.clone());
                self.script(&parts.join(" "), cwd, unit.depth + 1, info.nesting + 1, out);
            }
            None => {
                unit.classes.insert(ActionClass::Unknown);
                unit.tags.insert(TAG_SCRIPT_COMPUTED.into());
                unit.source = "`eval` of text computed at run time".into();
                let depth = unit.depth;
                out.push(unit);
                // Also classify each text the words were seen to make up.
                let mut texts = vec![String::new()];
                for word in &words[1..] {
                    let values = self.candidates(word, cwd);
                    let mut next = Vec::new();
                    for prefix in &texts {
                        for value in &values {
                            if next.len() < MAX_CANDIDATES {
                                next.push(format!("{prefix} {value}"));
                            }
                        }
                    }
                    texts = next;
                }
                for text in texts {
                    if !self.take_budget() {
                        break;
                    }
                    self.script(&text, cwd, depth + 1, info.nesting + 1, out);
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn program(
        &mut self,
        root: &ProgramSpec,
        name: &str,
        words: &[ShellWord],
        mut unit: Unit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        let mut spec = root;
        let mut cwd: Option<PathBuf> = cwd.map(Path::to_path_buf);
        let mut source = format!("kb `{name}");
        let mut i = 1;
        let mut classes = spec.classes.clone();
        let mut sub_path: Vec<String> = Vec::new();
        while !spec.subs.is_empty() {
            while i < words.len() {
                let Some(arg) = words[i].literal() else { break };
                // An option listed as a sub-command (`airlock --help`) is one.
                let names_sub = spec.subs.iter().any(|s| s.names.contains(&arg));
                if arg == "--" || !arg.starts_with('-') || arg.len() == 1 || names_sub {
                    break;
                }
                let takes_value = spec.global_options_with_value.contains(&arg);
                let value = if takes_value {
                    words.get(i + 1).and_then(ShellWord::literal)
                } else {
                    None
                };
                for f in spec.flags.iter().filter(|f| f.matches_option(&arg)) {
                    if f.value_matches(value.as_deref()) {
                        apply_flag(&mut unit, f);
                        if f.value == Some(ArgRole::Script)
                            && let Some(script) = value.as_deref().and_then(|v| value_part(f, v))
                        {
                            let script = f.appended.unwrap_or(Appended::Nothing).to(script);
                            self.script_word(
                                &word_from(&script),
                                &mut unit,
                                cwd.as_deref(),
                                info,
                                out,
                            );
                        }
                    }
                }
                if takes_value {
                    if spec.cwd_options.contains(&arg) {
                        cwd = words
                            .get(i + 1)
                            .and_then(|w| self.word_path(w, cwd.as_deref()));
                    }
                    i += 2;
                } else {
                    i += 1;
                }
            }
            let Some(sub_word) = words.get(i) else { break };
            let Some(sub_name) = sub_word.literal() else {
                classes.push(ActionClass::Unknown);
                source.push_str(" <computed sub-command>");
                break;
            };
            match spec.subs.iter().find(|s| s.names.contains(&sub_name)) {
                Some(sub) => {
                    source.push(' ');
                    source.push_str(&sub_name);
                    sub_path.push(sub_name.clone());
                    spec = sub;
                    classes = sub.classes.clone();
                    i += 1;
                }
                None => {
                    classes = spec
                        .default_sub
                        .clone()
                        .unwrap_or_else(|| spec.classes.clone());
                    source.push_str(&format!(" {sub_name}` (sub-command not listed"));
                    unit.classes.extend(classes.iter().copied());
                    unit.tags.extend(spec.tags.iter().cloned());
                    unit.source = format!("{source})");
                    if spec.unlisted_sub_is_script {
                        // `yarn lint --fix`, `pnpm build -- --x`: the rest are its arguments.
                        let extra: Vec<String> = words[i + 1..]
                            .iter()
                            .map(|w| w.raw.clone())
                            .filter(|r| r != "--")
                            .collect();
                        let runs = Runs::Script(sub_name.clone());
                        self.task_runner(runs, &extra, &mut unit, cwd.as_deref(), info, out);
                    }
                    out.push(unit);
                    return;
                }
            }
        }
        source.push('`');
        unit.tags.extend(spec.tags.iter().cloned());
        unit.unlinks = spec.unlinks;
        unit.source = source;
        let rest = &words[i.min(words.len())..];
        // Rules match `git push` whatever global options (`git -C dir push`) came before it.
        let (rest_argv, complete) = static_argv(name, rest);
        unit.argv = std::iter::once(name.to_string())
            .chain(sub_path)
            .chain(rest_argv.into_iter().skip(1))
            .collect();
        unit.argv_complete = complete && unit.argv_complete;
        let only = self.arguments(spec, rest, &mut unit, cwd.as_deref(), info, out);
        unit.classes.extend(only.unwrap_or(classes));
        if let Some(most) = spec.input_commands_below {
            self.input_commands(spec, most, rest, &mut unit, cwd.as_deref(), info);
        }
        if spec.include_directives {
            self.included_files(&mut unit);
        }
        if !spec.option_files.is_empty() {
            self.option_files(spec, rest, &mut unit, cwd.as_deref());
        }
        if spec.lists_paths && !unit.tags.contains(TAG_PATHS_UNKNOWN) {
            self.list_paths(&unit, cwd.as_deref(), info);
        }
        if let Some(runs) = spec.runs.map(|from| Runs::of(from, spec, rest)) {
            let extra = script_arguments(&runs, rest);
            self.default_scripts(spec, &runs, &mut unit, cwd.as_deref(), info, out);
            self.task_runner(runs, &extra, &mut unit, cwd.as_deref(), info, out);
        }
        if let Some(language) = spec.script_language {
            self.understood_script(language, spec, rest, &mut unit, cwd.as_deref());
        }
        if let Some(patches) = &spec.patches {
            self.applied_patches(patches, spec, rest, &mut unit, cwd.as_deref(), info);
        }
        if rest
            .iter()
            .filter_map(ShellWord::literal)
            .any(|a| spec.resume_options.contains(&a))
        {
            self.resumed_steps(&mut unit, cwd.as_deref(), info, out);
        }
        if let Some(from) = spec.commits {
            self.incoming_commits(from, spec, rest, &mut unit, cwd.as_deref(), info, out);
        }
        if !root.repo_config_commands.is_empty() || !root.repo_config_unknown.is_empty() {
            self.repo_config(root, &mut unit, cwd.as_deref(), info, out);
        }
        match &spec.script {
            Some(script) => {
                self.program_script(script, name, rest, unit, cwd.as_deref(), info, out)
            }
            None => out.push(unit),
        }
    }

    /// A program given fewer than `most` positional arguments reads its commands from its
    /// input (`sqlite3 x.db < x.sql`): judge each line by the flags' argument patterns.
    fn input_commands(
        &mut self,
        spec: &ProgramSpec,
        most: usize,
        rest: &[ShellWord],
        unit: &mut Unit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
    ) {
        let mut positionals = 0;
        let mut k = 0;
        while k < rest.len() {
            match rest[k].literal() {
                Some(a) if a == "--" => {
                    positionals += rest.len() - k - 1;
                    break;
                }
                Some(a) if a.starts_with('-') && a.len() > 1 => {
                    k += if spec.options_with_value.contains(&a) {
                        2
                    } else {
                        1
                    };
                    continue;
                }
                _ => positionals += 1,
            }
            k += 1;
        }
        if positionals >= most {
            return;
        }
        let (scope, pipeline, pos) = info.pipeline;
        let text = match (&info.stdin_text, &info.stdin_file) {
            (Some(text), _) => Some(text.clone()),
            (None, Some(word)) if pos == 0 => match self.word_path(word, cwd) {
                Some(path) => {
                    self.ctx.touch(unit, path.clone(), Access::Read);
                    self.read_text(unit, &path, |why| {
                        format!("runs the commands in `{}`, which {why}", path.display())
                    })
                }
                None => None,
            },
            _ if pos > 0 => self.stdout_text.get(&(scope, pipeline, pos - 1)).cloned(),
            _ => None,
        };
        let Some(text) = text else {
            unit.classes.insert(ActionClass::Unknown);
            unit.source
                .push_str(" (runs commands from its input, which Airlock does not see)");
            return;
        };
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            for f in spec.flags.iter().filter(|f| f.only.is_none()) {
                if f.positional.iter().any(|g| glob_matches(g, line))
                    && !f.except.iter().any(|g| glob_matches(g, line))
                {
                    apply_flag(unit, f);
                }
            }
        }
    }

    /// The files the sources a compiler reads `#include` (and `#include` in turn, a few levels
    /// down), judged as read: the preprocessor copies them into its output and its errors.
    fn included_files(&mut self, unit: &mut Unit) {
        const MAX_FILES: usize = 64;
        let mut pending: Vec<PathBuf> = unit
            .paths
            .iter()
            .filter(|p| p.access == Access::Read)
            .map(|p| p.path.clone())
            .collect();
        let mut seen = HashSet::new();
        while let Some(source) = pending.pop() {
            if seen.len() >= MAX_FILES || !seen.insert(source.clone()) || !source.is_file_for_user()
            {
                continue;
            }
            let FileContent::Text(text) = self.ctx.files().read(&source) else {
                continue;
            };
            let dir = source.parent().map(Path::to_path_buf).unwrap_or_default();
            for name in include_names(&text) {
                let path = if name.starts_with('/') {
                    PathBuf::from(&name)
                } else {
                    super::lexical_normalize(&dir.join(&name))
                };
                if path.exists_for_user() {
                    self.ctx.touch(unit, path.clone(), Access::Read);
                    pending.push(path);
                }
            }
        }
    }

    /// Files named by options whose lines are more command line (`pip install -r FILE`): read
    /// each (a file Airlock cannot read, or named at run time, is unknown) and match its lines.
    fn option_files(
        &mut self,
        spec: &ProgramSpec,
        rest: &[ShellWord],
        unit: &mut Unit,
        cwd: Option<&Path>,
    ) {
        let options: Vec<String> = spec
            .option_files
            .iter()
            .flat_map(|f| f.options.iter().cloned())
            .collect();
        let mut files: Vec<Option<ShellWord>> = Vec::new();
        let mut k = 0;
        while k < rest.len() {
            let Some(arg) = rest[k].literal() else {
                k += 1;
                continue;
            };
            if arg == "--" {
                break;
            }
            match option_value(&options, &arg, rest.get(k + 1)) {
                Some((value, consumed)) => {
                    files.push(match (consumed, value) {
                        (2, _) => rest.get(k + 1).cloned(),
                        (_, Some(value)) => Some(word_from(&value)),
                        _ => None,
                    });
                    k += consumed;
                }
                None => k += 1,
            }
        }
        for word in files {
            let Some(path) = word.and_then(|w| self.word_path(&w, cwd)) else {
                unit.classes.insert(ActionClass::Unknown);
                unit.source.push_str(" (reads a file named at run time)");
                continue;
            };
            self.ctx.touch(unit, path.clone(), Access::Read);
            let Some(text) = self.read_text(unit, &path, |why| {
                format!(
                    "takes more arguments from `{}`, which {why}",
                    path.display()
                )
            }) else {
                continue;
            };
            for line in text.lines().map(str::trim) {
                for f in &spec.option_files {
                    if f.lines.iter().any(|g| glob_matches(g, line)) {
                        unit.classes.extend(f.add.iter().copied());
                        unit.tags.extend(f.tags.iter().cloned());
                    }
                }
            }
        }
    }

    /// What a listing command (`git ls-files`, `fd`) prints: paths in the trees it reads, or
    /// in its working directory. Each printed path is somewhere in those trees.
    fn list_paths(&mut self, unit: &Unit, cwd: Option<&Path>, info: &CmdInfo<'_>) {
        let mut listed: Vec<String> = unit
            .paths
            .iter()
            .filter(|p| p.access == Access::Read)
            .map(|p| p.path.to_string_lossy().into_owned())
            .collect();
        if listed.is_empty() {
            match cwd {
                Some(dir) => listed.push(dir.to_string_lossy().into_owned()),
                None => return,
            }
        }
        self.listed_paths
            .insert(info.pipeline, (listed, true, false));
    }

    /// git runs what its repository's configuration says: find the repository above `cwd`,
    /// read its `config`, and classify what its keys make run.
    fn repo_config(
        &mut self,
        spec: &ProgramSpec,
        unit: &mut Unit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        let Some(dir) = cwd else { return };
        let Some(found) = find_git_dir(dir) else {
            return;
        };
        let git_dir = match found {
            GitDir::Normal(git_dir) => git_dir,
            GitDir::Elsewhere(git_dir) => {
                unit.classes.insert(ActionClass::Unknown);
                unit.source = format!(
                    "the repository's git directory is `{}`, not a `.git` directory: its hooks and configuration are outside what Airlock guards",
                    git_dir.display()
                );
                return;
            }
        };
        // The workspace's own hooks are the person's (an agent's writes there are decided);
        // another repository's — one nested in the project, say — run unread.
        let own = self
            .ctx
            .workspace
            .is_some_and(|ws| git_dir.parent() == Some(ws));
        if !own && let Some(hook) = active_hook(&git_dir) {
            unit.classes.insert(ActionClass::Unknown);
            unit.source = format!(
                "the repository `{}` has a hook (`{hook}`) git may run, which Airlock does not read",
                git_dir.display()
            );
        }
        let config = git_dir.join("config");
        if !config.exists_for_user() {
            return;
        }
        let text = match self.ctx.files().read(&config) {
            FileContent::Text(text) => text,
            FileContent::Unreadable(why) => {
                unit.classes.insert(ActionClass::Unknown);
                unit.source = format!("the repository's `{}` {why}", config.display());
                return;
            }
        };
        let Some(entries) = git_config_entries(&text) else {
            unit.classes.insert(ActionClass::Unknown);
            unit.source = format!(
                "the repository's `{}` does not parse as git configuration",
                config.display()
            );
            return;
        };
        for (key, value) in entries {
            if spec
                .repo_config_unknown
                .iter()
                .any(|g| glob_matches(g, &key))
            {
                unit.classes.insert(ActionClass::Unknown);
                unit.source = format!(
                    "the repository's config sets `{key}`, which makes git load or run something Airlock does not read"
                );
            } else if spec
                .repo_config_commands
                .iter()
                .any(|g| glob_matches(g, &key))
            {
                let command = value.strip_prefix('!').unwrap_or(&value).to_string();
                if command.trim().is_empty() || key.starts_with("alias.") && !value.starts_with('!')
                {
                    continue;
                }
                unit.tags.insert("repo-config-command".into());
                self.script(&command, cwd, unit.depth + 1, info.nesting + 1, out);
            }
        }
    }

    /// A program whose argument is a script in a small language (sed): the command is
    /// understood only when every script it is given is.
    /// A program that applies patches writes every path they name: read each patch (a file, or
    /// the standard input when it is a heredoc or a redirected file) and judge those writes.
    fn applied_patches(
        &mut self,
        patches: &PatchSpec,
        spec: &ProgramSpec,
        rest: &[ShellWord],
        unit: &mut Unit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
    ) {
        let literals: Vec<Option<String>> = rest.iter().map(ShellWord::literal).collect();
        if literals.iter().flatten().any(|a| {
            patches
                .without
                .iter()
                .any(|w| super::kb::option_matches(w, a))
        }) {
            return;
        }
        let mut files: Vec<&ShellWord> = Vec::new();
        let mut positionals: Vec<&ShellWord> = Vec::new();
        let mut k = 0;
        while k < rest.len() {
            let word = &rest[k];
            match &literals[k] {
                Some(a) if a == "--" => {
                    positionals.extend(&rest[k + 1..]);
                    break;
                }
                Some(a) if a.starts_with('-') && a.len() > 1 => {
                    let (option, attached) = split_option(a, &spec.options_with_value);
                    let takes_value =
                        attached.is_none() && spec.options_with_value.contains(&option);
                    if patches.options.contains(&option) {
                        match attached {
                            // An attached value is a file name as written.
                            Some(_) => {
                                unit.classes.insert(ActionClass::Unknown);
                                unit.source = format!("`{a}`: a patch file Airlock does not read");
                            }
                            None => files.extend(rest.get(k + 1)),
                        }
                    }
                    k += if takes_value { 2 } else { 1 };
                    continue;
                }
                _ => positionals.push(word),
            }
            k += 1;
        }
        match patches.positional {
            Some(index) => files.extend(positionals.get(index)),
            None => files.extend(positionals),
        }
        let mut texts: Vec<String> = Vec::new();
        if files.is_empty() {
            if let Some(text) = &info.stdin_text {
                texts.push(text.clone());
            } else if let Some(word) = info.stdin_file.clone() {
                match self.word_path(&word, cwd) {
                    Some(path) => {
                        self.ctx.touch(unit, path.clone(), Access::Read);
                        texts.extend(self.read_patch(unit, &path));
                    }
                    None => {
                        unit.classes.insert(ActionClass::Unknown);
                    }
                }
            } else {
                unit.classes.insert(ActionClass::Unknown);
                unit.source =
                    "applies a patch read from its input, which Airlock does not see".into();
                return;
            }
        }
        for word in files {
            match self.word_path(word, cwd) {
                Some(path) => texts.extend(self.read_patch(unit, &path)),
                None => {
                    unit.classes.insert(ActionClass::Unknown);
                    unit.source = format!("`{}`: a patch known only at run time", word.raw);
                }
            }
        }
        let base = cwd.map(Path::to_path_buf).unwrap_or_default();
        for text in texts {
            let targets = match patches::patch_targets(&text) {
                Ok(targets) => targets,
                Err(why) => {
                    unit.classes.insert(ActionClass::Unknown);
                    unit.source = format!("the patch {why}");
                    continue;
                }
            };
            for target in targets {
                for form in patches::strip_levels(&target) {
                    self.ctx
                        .touch_judged(unit, base.join(&form), Access::Write, None);
                }
            }
        }
    }

    /// git writes what the commits a command names hold: read them from the repository's objects
    /// and judge every path they change as written with its new content.
    #[allow(clippy::too_many_arguments)]
    fn incoming_commits(
        &mut self,
        from: CommitsFrom,
        spec: &ProgramSpec,
        rest: &[ShellWord],
        unit: &mut Unit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        let mut positionals: Vec<Option<String>> = Vec::new();
        let mut positional_words: Vec<&ShellWord> = Vec::new();
        let mut after_dashes: &[ShellWord] = &[];
        let mut k = 0;
        while k < rest.len() {
            match rest[k].literal() {
                // After `--` come paths.
                Some(a) if a == "--" => {
                    after_dashes = &rest[k + 1..];
                    break;
                }
                Some(a) if a.starts_with('-') && a.len() > 1 => {
                    let (option, attached) = split_option(&a, &spec.options_with_value);
                    let takes_value =
                        attached.is_none() && spec.options_with_value.contains(&option);
                    k += if takes_value { 2 } else { 1 };
                    continue;
                }
                other => {
                    positionals.push(other);
                    positional_words.push(&rest[k]);
                }
            }
            k += 1;
        }
        if from == CommitsFrom::Worktree {
            self.worktree(unit, &positionals, &positional_words, cwd, info, out);
            return;
        }
        if from == CommitsFrom::First {
            // `git checkout [REV] -- PATHS`: those files are replaced.
            for word in after_dashes {
                self.discarded_changes(unit, word, cwd);
            }
        }
        let stash_pushes = positionals
            .first()
            .is_none_or(|p| matches!(p.as_deref(), Some("push" | "save")));
        if from == CommitsFrom::Stash && stash_pushes {
            // `git stash [push]` puts the work tree back to `HEAD`'s content; with
            // `--keep-index`, to the index's (which plumbing can set to any object).
            self.worktree_reset(unit, cwd, "HEAD", info, out);
            if let Some(GitDir::Normal(git_dir)) = cwd.and_then(find_git_dir)
                && let Some(root) = git_dir.parent()
            {
                let root = root.to_path_buf();
                self.written_from_index(unit, &root, false);
            }
            return;
        }
        let revs: Vec<Option<String>> = match from {
            CommitsFrom::All => positionals.clone(),
            CommitsFrom::Parents => positionals
                .iter()
                .map(|p| p.as_ref().map(|p| format!("{p}^")))
                .collect(),
            CommitsFrom::Reset => positionals.first().cloned().into_iter().collect(),
            CommitsFrom::First => positionals.first().cloned().into_iter().collect(),
            // Handled above.
            CommitsFrom::Worktree => Vec::new(),
            CommitsFrom::Stash => {
                // The stash named at `index`, or the newest.
                let stash_at = |index: usize| {
                    vec![
                        positionals
                            .get(index)
                            .cloned()
                            .unwrap_or_else(|| Some("stash@{0}".into())),
                    ]
                };
                match positionals.first() {
                    Some(Some(action)) if action == "pop" || action == "apply" => stash_at(1),
                    // `git stash branch NAME [STASH]` applies it on a new branch.
                    Some(Some(action)) if action == "branch" => stash_at(2),
                    // `git stash store COMMIT`: any commit becomes the stash the next pop applies.
                    Some(Some(action)) if action == "store" => {
                        unit.classes.insert(ActionClass::Unknown);
                        unit.source = "`git stash store` makes any commit the next stash".into();
                        return;
                    }
                    _ => return,
                }
            }
        };
        if revs.is_empty() {
            return;
        }
        unit.tags.insert(TAG_FROM_REPOSITORY.into());
        let Some((dir, git_dir, work_tree)) = repository_of(unit, cwd) else {
            return;
        };
        let repo = match commits::Repository::open(&git_dir) {
            Ok(repo) => repo,
            Err(why) => {
                unit.classes.insert(ActionClass::Unknown);
                unit.source = format!("the repository {why}");
                return;
            }
        };
        for rev in revs {
            let Some(rev) = rev else {
                unit.classes.insert(ActionClass::Unknown);
                unit.source = "a commit named at run time".into();
                continue;
            };
            if matches!(from, CommitsFrom::Stash | CommitsFrom::Reset) && !repo.has(&rev) {
                // No such stash: git stops with an error and changes nothing. `git reset
                // FILE` only unstages.
                continue;
            }
            if from == CommitsFrom::First {
                if !repo.has(&rev) {
                    // `git checkout FILE…`: the path form replaces the files with git's copy.
                    if dir.join(&rev).exists_for_user() {
                        for word in &positional_words {
                            self.discarded_changes(unit, word, cwd);
                        }
                    } else {
                        unit.classes.insert(ActionClass::Unknown);
                        unit.source = format!(
                            "`{rev}` is neither a commit nor a path here (git may take it from a remote)"
                        );
                    }
                    continue;
                }
                // `git checkout REV PATHS`: those files are replaced with REV's copy.
                for word in positional_words.iter().skip(1) {
                    self.discarded_changes(unit, word, cwd);
                }
            }
            match repo.incoming(&rev) {
                Ok(incoming) => {
                    self.judge_written(unit, &work_tree, dir, incoming, info, out);
                }
                Err(why) => {
                    unit.classes.insert(ActionClass::Unknown);
                    unit.source =
                        format!("the repository {why}: Airlock cannot tell what it brings in");
                }
            }
        }
    }

    /// `git rebase --continue` and its kin carry out the steps left in the to-do list, which
    /// is a file in the git directory: read it and judge each step.
    fn resumed_steps(
        &mut self,
        unit: &mut Unit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        let Some((dir, git_dir, work_tree)) = repository_of(unit, cwd) else {
            return;
        };
        if git_dir.join("rebase-apply").exists_for_user() {
            unit.classes.insert(ActionClass::Unknown);
            unit.source =
                "resumes applying the patches in `.git/rebase-apply`, which Airlock does not read"
                    .into();
        }
        let mut repo = None;
        for todo in ["rebase-merge/git-rebase-todo", "sequencer/todo"] {
            let path = git_dir.join(todo);
            if !path.exists_for_user() {
                continue;
            }
            let Some(text) = self.read_text(unit, &path, |why| {
                format!("resumes the steps in `{todo}`, which {why}")
            }) else {
                continue;
            };
            unit.tags.insert("resumes-todo".into());
            for step in commits::todo_steps(&text) {
                match step {
                    commits::Step::Run(command) => {
                        self.script(&command, Some(dir), unit.depth + 1, info.nesting + 1, out)
                    }
                    commits::Step::Bring(rev) => {
                        if repo.is_none() {
                            match commits::Repository::open(&git_dir) {
                                Ok(r) => repo = Some(r),
                                Err(why) => {
                                    unit.classes.insert(ActionClass::Unknown);
                                    unit.source = format!("the repository {why}");
                                    return;
                                }
                            }
                        }
                        let Some(r) = &repo else { return };
                        match r.incoming(&rev) {
                            Ok(incoming) => {
                                self.judge_written(unit, &work_tree, dir, incoming, info, out);
                            }
                            Err(why) => {
                                unit.classes.insert(ActionClass::Unknown);
                                unit.source = format!(
                                    "a step of `{todo}` names `{rev}`: the repository {why}"
                                );
                            }
                        }
                    }
                    commits::Step::Unknown(line) => {
                        unit.classes.insert(ActionClass::Unknown);
                        unit.source =
                            format!("`{todo}` has a step Airlock does not read: `{line}`");
                    }
                }
            }
        }
    }

    /// The text of a patch file; `None` (and the unit unknown) when it cannot be read.
    fn read_patch(&mut self, unit: &mut Unit, path: &Path) -> Option<String> {
        self.read_text(unit, path, |why| {
            format!(
                "applies the patch `{}`, which {why}: Airlock cannot tell what it writes",
                path.display()
            )
        })
    }

    /// A file's text; when it cannot be read as text, `None` and the unit unknown, with the
    /// reason `why` makes of the reader's.
    fn read_text(
        &mut self,
        unit: &mut Unit,
        path: &Path,
        why: impl FnOnce(&str) -> String,
    ) -> Option<String> {
        match self.ctx.files().read(path) {
            FileContent::Text(text) => Some(text.to_string()),
            FileContent::Unreadable(reason) => {
                unit.classes.insert(ActionClass::Unknown);
                unit.source = why(&reason);
                None
            }
        }
    }

    fn understood_script(
        &mut self,
        language: ScriptLanguage,
        spec: &ProgramSpec,
        rest: &[ShellWord],
        unit: &mut Unit,
        cwd: Option<&Path>,
    ) {
        let mut scripts: Vec<Option<String>> = Vec::new();
        let mut first_positional: Option<&ShellWord> = None;
        let mut k = 0;
        while k < rest.len() {
            let word = &rest[k];
            let arg = word.literal();
            let (option, attached) = match &arg {
                Some(a) if a.starts_with('-') && a.len() > 1 => {
                    split_option(a, &spec.options_with_value)
                }
                _ => (String::new(), None),
            };
            let is_script = spec.script_options.contains(&option);
            let is_file = spec.script_file_options.contains(&option);
            if is_script || is_file {
                let value = match attached {
                    Some(v) => Some(v),
                    None => {
                        k += 1;
                        rest.get(k).and_then(|w| self.exact_text(w, cwd))
                    }
                };
                scripts.push(match (is_file, value) {
                    (true, Some(file)) => {
                        let path = cwd.map_or_else(|| PathBuf::from(&file), |d| d.join(&file));
                        self.ctx.touch(unit, path.clone(), Access::Read);
                        self.read_run_file(unit, &path)
                    }
                    (_, value) => value,
                });
            } else if arg.as_deref().is_none_or(|a| !a.starts_with('-'))
                && first_positional.is_none()
            {
                first_positional = Some(word);
            } else if spec.options_with_value.contains(&option) && attached.is_none() {
                k += 1;
            }
            k += 1;
        }
        if scripts.is_empty() {
            scripts.push(first_positional.and_then(|w| self.exact_text(w, cwd)));
        }
        let understood = scripts.iter().all(|s| match (language, s) {
            (ScriptLanguage::Sed, Some(script)) => sed::understood(script),
            (_, None) => false,
        });
        if !understood {
            unit.classes.insert(ActionClass::Unknown);
            unit.source = format!(
                "{} (a script that may run commands or read or write files, or one computed at run time)",
                unit.source
            );
        }
    }

    /// What the package manager runs for a script package.json does not have (`npm start`
    /// with a `server.js` beside it runs `node server.js`).
    fn default_scripts(
        &mut self,
        spec: &ProgramSpec,
        runs: &Runs,
        unit: &mut Unit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        let asked: &[String] = match runs {
            Runs::Script(name) => std::slice::from_ref(name),
            Runs::Scripts(names) => names,
            _ => return,
        };
        let Some(package) = cwd.and_then(|dir| find_upwards(dir, &["package.json"])) else {
            return;
        };
        let Some(dir) = package.parent().map(Path::to_path_buf) else {
            return;
        };
        let FileContent::Text(json) = self.ctx.files().read(&package) else {
            return;
        };
        for default in spec
            .default_scripts
            .iter()
            .filter(|d| asked.contains(&d.name))
        {
            let defined = recipes::package_scripts(&json, std::slice::from_ref(&default.name))
                .map_or(true, |found| !found.is_empty());
            if !defined && dir.join(&default.when).exists_for_user() {
                unit.source.push_str(&format!(
                    " (no `{}` script: runs `{}`)",
                    default.name, default.runs
                ));
                self.script(
                    &default.runs,
                    Some(&dir),
                    unit.depth + 1,
                    info.nesting + 1,
                    out,
                );
            }
        }
    }

    /// A task runner runs what its file says: read it, classify each command line it runs as
    /// nested units; when it cannot be read or followed, the unit is `unknown` and says why.
    fn task_runner(
        &mut self,
        runs: Runs,
        extra: &[String],
        unit: &mut Unit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        let Some(dir) = cwd else {
            unit.classes.insert(ActionClass::Unknown);
            unit.source = "a task runner in a directory known only at run time".into();
            return;
        };
        let make_dir = match &runs {
            Runs::Make { dir: Some(d), .. } => dir.join(d),
            _ => dir.to_path_buf(),
        };
        if let Runs::Make {
            unseen, overrides, ..
        } = &runs
        {
            // `MAKEFILES` names makefiles make reads before the others.
            let extra_makefiles = overrides.iter().any(|(n, _)| n == "MAKEFILES")
                || unit.env.iter().any(|e| e.starts_with("MAKEFILES="))
                || self.vars.contains_key("MAKEFILES");
            let why = unseen.clone().or_else(|| {
                extra_makefiles.then(|| "`MAKEFILES` names makefiles read first".to_string())
            });
            if let Some(why) = why {
                unit.classes.insert(ActionClass::Unknown);
                unit.source = format!("make: {why}: Airlock cannot tell what runs");
                return;
            }
        }
        let file = match &runs {
            Runs::Script(_) | Runs::Scripts(_) => find_upwards(dir, &["package.json"]),
            Runs::Make { files, .. } if !files.is_empty() => Some(make_dir.join(&files[0])),
            Runs::Make { .. } => find_in(&make_dir, &["GNUmakefile", "makefile", "Makefile"]),
            Runs::Just(_) => find_upwards(dir, &["justfile", "Justfile", ".justfile"]),
        };
        let Some(file) = file else {
            // No file: npm and just stop with an error. make does too when asked for nothing;
            // asked for targets it still has built-in rules (`make prog CC=…` compiles
            // `prog.c` with whatever `CC` says).
            if let Runs::Make {
                targets, overrides, ..
            } = &runs
                && !(targets.is_empty() && overrides.is_empty())
            {
                unit.classes.insert(ActionClass::Unknown);
                unit.source =
                    "make without a Makefile runs its built-in rules for the targets it is given"
                        .into();
            }
            return;
        };
        self.ctx.touch(unit, file.clone(), Access::Read);
        let Some(mut text) = self.read_run_file(unit, &file) else {
            return;
        };
        if let Runs::Make { files, .. } = &runs {
            // Every `-f` file, in order, is one makefile to make.
            for more in files.iter().skip(1) {
                let path = make_dir.join(more);
                self.ctx.touch(unit, path.clone(), Access::Read);
                let Some(more) = self.read_run_file(unit, &path) else {
                    return;
                };
                text.push('\n');
                text.push_str(&more);
            }
            text = self.inline_includes(unit, &text, &make_dir, 0);
        }
        let lines = match &runs {
            Runs::Script(name) => recipes::package_script(&text, name),
            Runs::Scripts(names) => recipes::package_scripts(&text, names),
            Runs::Make {
                targets, overrides, ..
            } => {
                // make takes its environment as variables too (below the Makefile's own).
                let environment: Vec<(String, String)> = unit
                    .env
                    .iter()
                    .filter_map(|e| e.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                let mut makefiles: Vec<String> = file
                    .file_name()
                    .map(|name| name.to_string_lossy().into_owned())
                    .into_iter()
                    .collect();
                if let Runs::Make { files, .. } = &runs {
                    makefiles.extend(files.iter().skip(1).cloned());
                }
                let exists = |name: &str| make_dir.join(name).exists_for_user();
                let run = recipes::MakeRun {
                    targets,
                    overrides,
                    environment: &environment,
                    makefiles: &makefiles,
                    exists: &exists,
                };
                recipes::make_recipes(&text, &run)
            }
            Runs::Just(names) => recipes::just_recipes(&text, names),
        };
        // A package script's arguments are appended to its command line (`npm test --
        // --require ./x.js` runs `node test.js --require ./x.js`); to its hooks too, to be safe.
        let lines = lines.map(|lines| match &runs {
            Runs::Script(_) | Runs::Scripts(_) if !extra.is_empty() => lines
                .into_iter()
                .map(|line| format!("{line} {}", extra.join(" ")))
                .collect(),
            _ => lines,
        });
        match lines {
            Ok(lines) => {
                // Recipes run where make runs (`-C`), whichever file they came from.
                let run_dir = match &runs {
                    Runs::Make { .. } => make_dir.clone(),
                    _ => file.parent().unwrap_or(dir).to_path_buf(),
                };
                for line in lines {
                    self.script(&line, Some(&run_dir), unit.depth + 1, info.nesting + 1, out);
                }
            }
            Err(why) => {
                unit.classes.insert(ActionClass::Unknown);
                unit.source = format!("`{}` {why}: Airlock cannot tell what runs", file.display());
            }
        }
    }

    /// make reads the files an `include` names before anything else: put their text in place
    /// when each is named literally and can be read, so that their rules and `$(shell …)`
    /// calls are judged. Anything else stays an `include` line, which the reader refuses.
    fn inline_includes(&mut self, unit: &mut Unit, text: &str, dir: &Path, depth: usize) -> String {
        const MAX_INCLUDE_DEPTH: usize = 4;
        let mut out = String::with_capacity(text.len());
        for line in text.lines() {
            let trimmed = line.trim_start();
            let (directive, names) = trimmed
                .split_once(char::is_whitespace)
                .unwrap_or((trimmed, ""));
            let is_include = matches!(directive, "include" | "-include" | "sinclude");
            if !is_include || line.starts_with('\t') || depth >= MAX_INCLUDE_DEPTH {
                out.push_str(line);
                out.push('\n');
                continue;
            }
            let names: Vec<&str> = names
                .split('#')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .collect();
            let mut inlined = String::new();
            // A name computed by make, a pattern, or a file that does not exist yet (make
            // would try to build it from a rule first) is not followed.
            let mut followed = !names.iter().any(|n| n.contains(['$', '*', '?', '[', '%']));
            for name in &names {
                if !followed {
                    break;
                }
                let path = dir.join(name);
                if !path.is_file_for_user() {
                    followed = false;
                    break;
                }
                self.ctx.touch(unit, path.clone(), Access::Read);
                match self.ctx.files().read(&path) {
                    FileContent::Text(included) => {
                        let included = included.to_string();
                        inlined.push_str(&self.inline_includes(unit, &included, dir, depth + 1));
                        inlined.push('\n');
                    }
                    FileContent::Unreadable(_) => followed = false,
                }
            }
            if followed {
                out.push_str(&inlined);
            } else {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }

    /// Read a command's arguments through its knowledge-base entry. Returns the classes that
    /// replace the entry's own when a flag says so (`crontab -l` only reads).
    fn arguments(
        &mut self,
        spec: &ProgramSpec,
        rest: &[ShellWord],
        unit: &mut Unit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) -> Option<Vec<ActionClass>> {
        let mut only: Option<Vec<ActionClass>> = None;
        let mut role = spec.args;
        let mut positionals: Vec<&ShellWord> = Vec::new();
        // A written option value (`ln -s -t DIR …`): where new links go.
        let mut written_option: Option<ShellWord> = None;
        let mut options_done = false;
        let mut j = 0;
        while j < rest.len() {
            let word = &rest[j];
            let command_starts = match spec.command_positional {
                Some(n) => positionals.len() >= n + spec.skip_positionals,
                None => {
                    spec.runs_command
                        && (options_done || word.literal().is_none_or(|a| !a.starts_with('-')))
                }
            };
            if command_starts {
                self.nested_command(spec, &rest[j..], unit, cwd, info, out);
                break;
            }
            let Some(arg) = word.literal() else {
                // `of="$DEV"`: an operand whose value is computed.
                if let Some((key, value)) = split_assignment_word(word)
                    && let Some(r) = spec.operands.get(&key)
                {
                    self.role_arg(unit, &value, *r, cwd);
                } else if let Some((option, value)) = split_long_option_word(word)
                    && !options_done
                {
                    // `--output=$HOME/x`: a long option whose value is computed is still that
                    // option (its flags apply; its value has the option's role).
                    for f in spec.flags.iter().filter(|f| f.matches_option(&option)) {
                        apply_flag(unit, f);
                        if let Some(role) = f.value {
                            self.option_value_role(unit, &value, role, cwd);
                        }
                    }
                } else {
                    positionals.push(word);
                }
                j += 1;
                continue;
            };
            if options_done {
                positionals.push(word);
                j += 1;
                continue;
            }
            if arg == "--" {
                // Some programs mean something by the separator itself (`git checkout -- F`).
                for f in spec
                    .flags
                    .iter()
                    .filter(|f| f.flags.iter().any(|m| m == "--"))
                {
                    apply_flag(unit, f);
                }
                options_done = true;
                j += 1;
                continue;
            }
            // `find -L DIR …`: options the knowledge base lists come before the start points.
            let find_option =
                positionals.is_empty() && spec.flags.iter().any(|f| f.flags.contains(&arg));
            if spec.find_expression
                && !find_option
                && (arg.starts_with('-') && arg.len() > 1 || arg == "(" || arg == "!")
            {
                self.find_expression(&rest[j..], &positionals, unit, cwd, info, out);
                return only;
            }
            if arg.starts_with('-') && arg.len() > 1 && !is_number(&arg) {
                let (flag, attached) = split_option(&arg, &spec.options_with_value);
                let mut value_consumed = false;
                let next_value = attached
                    .clone()
                    .or_else(|| rest.get(j + 1).and_then(ShellWord::literal));
                // `-x"CMD"`: a short option with its value attached is that option.
                // A value computed at run time could be any of the values a flag names.
                let next_computed =
                    attached.is_none() && rest.get(j + 1).is_some_and(|w| w.literal().is_none());
                let matches = |f: &&FlagSpec| {
                    (f.matches_option(&arg) || attached.is_some() && f.matches_option(&flag))
                        && (f.value_matches(next_value.as_deref())
                            || next_computed && !f.values.is_empty())
                };
                for f in spec.flags.iter().filter(matches) {
                    apply_flag(unit, f);
                    if let Some(replacement) = &f.only {
                        only = Some(replacement.clone());
                    }
                    if let Some(r) = f.args {
                        role = r;
                    }
                    if let Some(value_role) = f.value {
                        let value = attached.clone().map(|v| word_from(&v)).or_else(|| {
                            value_consumed = true;
                            rest.get(j + 1).cloned()
                        });
                        match value {
                            Some(value) if value_role == ArgRole::Script => {
                                let appended = |script: &str| {
                                    word_from(&f.appended.unwrap_or(Appended::Nothing).to(script))
                                };
                                match (&f.value_after, value.literal()) {
                                    (None, Some(v)) => {
                                        self.script_word(&appended(&v), unit, cwd, info, out)
                                    }
                                    (None, None) => self.script_word(&value, unit, cwd, info, out),
                                    (Some(_), Some(v)) => {
                                        if let Some(script) = value_part(f, &v) {
                                            let word = appended(script);
                                            self.script_word(&word, unit, cwd, info, out);
                                        }
                                    }
                                    (Some(_), None) => {
                                        unit.classes.insert(ActionClass::Unknown);
                                    }
                                }
                            }
                            Some(value) => {
                                if value_role == ArgRole::Write {
                                    written_option = Some(value.clone());
                                }
                                self.option_value_role(unit, &value, value_role, cwd);
                            }
                            None => {}
                        }
                    }
                }
                if attached.is_none() && (value_consumed || spec.options_with_value.contains(&flag))
                {
                    // A value no entry gives a role to, shaped like a path the program reads
                    // anyway: still read there. An option wrongly listed as taking a value
                    // (`cat -n`) then cannot hide the file after it.
                    if !value_consumed
                        && role == ArgRole::Read
                        && let Some(next) = rest.get(j + 1)
                        && next.raw.contains('/')
                        && self.word_path(next, cwd).is_some()
                    {
                        self.path_arg(unit, next, Access::Read, cwd);
                    }
                    j += 1;
                }
                j += 1;
                continue;
            }
            if let Some((key, value)) = arg.split_once('=')
                && let Some(r) = spec.operands.get(key)
            {
                self.role_arg(unit, &word_from(value), *r, cwd);
                j += 1;
                continue;
            }
            positionals.push(word);
            j += 1;
        }
        if spec.find_expression {
            // `find DIR` alone: no expression.
            self.find_expression(&[], &positionals, unit, cwd, info, out);
            return only;
        }
        for f in spec
            .flags
            .iter()
            .filter(|f| !f.positional.is_empty() && positionals.len() >= f.min_positionals)
        {
            // A positional computed at run time may be anything: it matches every pattern of
            // an entry that only adds (never of one that replaces the classes, `only`).
            let looked_at: Vec<&ShellWord> = match f.position {
                Some(k) => positionals.get(k).into_iter().copied().collect(),
                None => positionals.clone(),
            };
            let computed = f.only.is_none() && looked_at.iter().any(|w| w.literal().is_none());
            if computed
                || looked_at.iter().filter_map(|w| w.literal()).any(|p| {
                    f.positional.iter().any(|g| glob_matches(g, &p))
                        && !f.except.iter().any(|g| glob_matches(g, &p))
                })
            {
                apply_flag(unit, f);
                if let Some(replacement) = &f.only {
                    only = Some(replacement.clone());
                }
            }
        }
        let defaults: Vec<ShellWord> = spec.default_paths.iter().map(|p| word_from(p)).collect();
        // `sed -e SCRIPT FILE`: given by an option, the script is not the first positional.
        let script_given = rest.iter().filter_map(ShellWord::literal).any(|a| {
            spec.script_options
                .iter()
                .chain(&spec.script_file_options)
                .any(|o| {
                    super::kb::option_matches(o, &a) || o.len() == 2 && a.starts_with(o.as_str())
                })
        });
        let skip = if script_given {
            0
        } else {
            spec.skip_positionals
        };
        let mut positionals = &positionals[skip.min(positionals.len())..];
        let default_refs: Vec<&ShellWord> = defaults.iter().collect();
        if positionals.is_empty() {
            positionals = &default_refs;
        }
        let count = positionals.len();
        let mut link_targets: Vec<(&ShellWord, ArgRole)> = Vec::new();
        let mut link_name: Option<&ShellWord> = None;
        for (idx, word) in positionals.iter().enumerate() {
            let r = match spec.last_arg {
                Some(last) if count >= 2 && idx == count - 1 => last,
                _ => role,
            };
            match r {
                ArgRole::Script => self.script_word(word, unit, cwd, info, out),
                ArgRole::LinkTarget | ArgRole::SymlinkTarget => link_targets.push((word, r)),
                // The new name of `ln TARGET NAME`: written where the link is created.
                ArgRole::Write if idx + 1 == count && !link_targets.is_empty() => {
                    link_name = Some(word);
                }
                _ => self.role_arg(unit, word, r, cwd),
            }
        }
        if !link_targets.is_empty() {
            self.links(unit, &link_targets, link_name, written_option.as_ref(), cwd);
        } else if spec.last_arg == Some(ArgRole::Write) {
            // `cp a b DIR`, `mv -t DIR a b`: the sources land inside the directory.
            match (&written_option, positionals.split_last()) {
                (Some(dir), _) => self.written_into_directory(unit, positionals, dir, cwd),
                (None, Some((dir, sources))) if !sources.is_empty() => {
                    self.written_into_directory(unit, sources, dir, cwd);
                }
                _ => {}
            }
        }
        only
    }

    /// Files written into an existing directory are written at their own names in it
    /// (`cp settings.json .claude`, `mv authorized_keys keys` with `keys -> ~/.ssh`).
    fn written_into_directory(
        &mut self,
        unit: &mut Unit,
        sources: &[&ShellWord],
        dir: &ShellWord,
        cwd: Option<&Path>,
    ) {
        let Some(dir) = self.word_path(dir, cwd) else {
            return;
        };
        if !self.ctx.is_dir(&dir) {
            return;
        }
        for source in sources {
            let Some(text) = self.exact_text(source, cwd) else {
                continue;
            };
            if text == "." || text.ends_with("/.") {
                // `cp -a src/. DIR` copies what is inside `src` into DIR: each member lands
                // there under its own name (`src/.npmrc` becomes `DIR/.npmrc`).
                let Some(from) = self.word_path(source, cwd) else {
                    continue;
                };
                let mut budget = MAX_MEMBERS_JUDGED;
                if !self.members_written(unit, &from, &dir, 0, &mut budget) {
                    unit.classes.insert(ActionClass::Unknown);
                    unit.source = format!(
                        "copies the members of `{}`, more than Airlock lists",
                        from.display()
                    );
                }
                continue;
            }
            if let Some(name) = Path::new(&text).file_name() {
                self.ctx.touch(unit, dir.join(name), Access::Write);
            }
        }
    }

    /// Each member of the tree `from` touched as written at the same place under `into`;
    /// false when the tree has more members than `budget` or deeper levels than followed.
    fn members_written(
        &mut self,
        unit: &mut Unit,
        from: &Path,
        into: &Path,
        depth: usize,
        budget: &mut usize,
    ) -> bool {
        let Ok(entries) = airlock_userfs::read_dir(from) else {
            return true; // Not a directory (or unreadable): cp copies nothing or fails.
        };
        for entry in entries {
            let Ok(entry) = entry else { return false };
            if *budget == 0 || depth > 8 {
                return false;
            }
            *budget -= 1;
            let name = entry.file_name();
            let target = into.join(&name);
            self.ctx.touch(unit, target.clone(), Access::Write);
            if entry.file_type().is_ok_and(|t| t.is_dir())
                && !self.members_written(unit, &from.join(&name), &target, depth + 1, budget)
            {
                return false;
            }
        }
        true
    }

    /// The links a command creates (`ln`, `cp -s`, `mount --bind`): each target is touched as
    /// linked to, and each new name is recorded so that later paths of the request through it
    /// lead where it will. The new names are in `-t DIR` (`into`), else the last argument
    /// (`name`; inside it when it is a directory), else the working directory.
    fn links(
        &mut self,
        unit: &mut Unit,
        targets: &[(&ShellWord, ArgRole)],
        name: Option<&ShellWord>,
        into: Option<&ShellWord>,
        cwd: Option<&Path>,
    ) {
        let into = into.and_then(|w| self.word_path(w, cwd));
        let name_word = name;
        let name = name.and_then(|w| self.word_path(w, cwd));
        if let (Some(word), None) = (name_word, &name) {
            self.path_arg(unit, word, Access::Write, cwd);
        }
        // An existing directory (or a link to one) receives the links inside it.
        let name_is_dir = name
            .as_ref()
            .is_some_and(|n| targets.len() > 1 || n.is_dir_for_user());
        for &(word, role) in targets {
            let text = self.exact_text(word, cwd).filter(|t| !t.is_empty());
            let base = text
                .as_deref()
                .and_then(|t| Path::new(t).file_name())
                .map(PathBuf::from);
            let mut locations: Vec<PathBuf> = Vec::new();
            match (&into, &name, &base) {
                (Some(dir), _, Some(base)) => locations.push(dir.join(base)),
                (Some(_), _, None) => {}
                (None, Some(name), base) => {
                    locations.push(name.clone());
                    if let (true, Some(base)) = (name_is_dir, base) {
                        locations.push(name.join(base));
                    }
                }
                // `ln -s TARGET`: the name is the target's, in the working directory.
                (None, None, Some(base)) if name_word.is_none() => {
                    locations.extend(cwd.map(|d| d.join(base)));
                }
                // The name is computed at run time.
                (None, None, _) => {}
            }
            let planned = match (&text, role) {
                (Some(t), ArgRole::SymlinkTarget) => Planned::To(PathBuf::from(t)),
                (Some(t), _) if t.starts_with('/') => Planned::To(PathBuf::from(t)),
                (Some(t), _) => cwd.map_or(Planned::Unknown, |d| Planned::To(d.join(t))),
                (None, _) => Planned::Unknown,
            };
            match &planned {
                Planned::To(target) if target.is_absolute() => {
                    self.ctx.touch(unit, target.clone(), Access::Link);
                }
                Planned::To(target) => {
                    // Relative to the directory the link is in.
                    for at in &locations {
                        let dir = at.parent().unwrap_or(Path::new("/"));
                        self.ctx.touch(unit, dir.join(target), Access::Link);
                    }
                }
                Planned::Unknown => self.path_arg(unit, word, Access::Link, cwd),
            }
            if locations.is_empty() {
                unit.tags.insert(TAG_PATHS_UNKNOWN.into());
            }
            for at in &locations {
                // The new name itself is created, not followed (it is this very link).
                self.ctx.touch_at(unit, at.clone(), Access::Write, false);
                self.ctx.plan_link(at, planned.clone());
            }
        }
    }

    /// The command a program runs from its arguments: `poetry run CMD…` (an argument vector)
    /// or `ssh HOST CMD…` (words joined into a shell command line).
    fn nested_command(
        &mut self,
        spec: &ProgramSpec,
        words: &[ShellWord],
        unit: &mut Unit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        unit.classes.insert(ActionClass::ShellExec);
        if spec.command_positional.is_some() {
            self.script_word(&join_words(words), unit, cwd, info, out);
            return;
        }
        let mut nested = Unit::new(raw_words(words), unit.depth + 1, "");
        nested.pipeline = unit.pipeline;
        nested.enclosing = unit.enclosing.clone();
        self.argv(words, nested, cwd, info, out);
    }

    /// A word that is a shell command line the program runs: classified as a script; when it
    /// is computed, `unknown` (and classified with the values it was seen to get).
    fn script_word(
        &mut self,
        word: &ShellWord,
        unit: &mut Unit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        unit.classes.insert(ActionClass::ShellExec);
        match word.literal() {
            Some(script) => self.script(&script, cwd, unit.depth + 1, info.nesting + 1, out),
            None => {
                unit.classes.insert(ActionClass::Unknown);
                unit.tags.insert(TAG_SCRIPT_COMPUTED.into());
                self.expand_script(word, cwd, unit.depth, info.nesting, out);
            }
        }
    }

    /// `find START… EXPRESSION`: `-exec` runs a nested command, `-delete` deletes recursively.
    fn find_expression(
        &mut self,
        expr: &[ShellWord],
        starts: &[&ShellWord],
        unit: &mut Unit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        let dot = word_from(".");
        let starts: Vec<ShellWord> = if starts.is_empty() {
            vec![dot]
        } else {
            starts.iter().map(|w| (*w).clone()).collect()
        };
        for start in &starts {
            self.path_arg(unit, start, Access::Read, cwd);
        }
        // What `{}` and `-delete` stand for: the files a name pattern finds (walked now, at
        // every depth, through links with `-L`), else the whole trees. A pattern that finds too
        // much is a tree for what reads it, and `START/PATTERN` for `-delete` (judged against
        // git by name below).
        let name = find_name_filter(expr);
        let pattern_words: Vec<ShellWord> = match &name {
            Some(name) => starts
                .iter()
                .map(|start| {
                    let mut word = start.clone();
                    word.raw = format!("{}/{name}", start.raw);
                    word.pieces.push(WordPiece::Literal(format!("/{name}")));
                    word
                })
                .collect(),
            None => Vec::new(),
        };
        let found = name.as_ref().and_then(|name| {
            let follow = unit.tags.contains(TAG_FOLLOWS_LINKS)
                || expr
                    .iter()
                    .any(|w| w.literal().as_deref() == Some("-follow"));
            let icase = expr
                .iter()
                .any(|w| w.literal().as_deref() == Some("-iname"));
            let mut all = Vec::new();
            for start in &starts {
                let dir = self.word_path(start, cwd)?;
                if !dir.exists_for_user() {
                    // find stops with an error there; the pattern stands for what it names.
                    return Some(None);
                }
                let found = super::globs::find_named(&dir, name, icase, follow, MAX_FIND_MATCHES)?;
                all.extend(found);
                if all.len() > MAX_FIND_MATCHES {
                    return None;
                }
            }
            Some(Some(all))
        });
        let (targets, narrowed) = match &found {
            Some(Some(found)) => (
                found
                    .iter()
                    .map(|p| word_from(&p.to_string_lossy()))
                    .collect::<Vec<_>>(),
                true,
            ),
            Some(None) => (pattern_words.clone(), true),
            None => (starts.clone(), false),
        };
        let acts = expr.iter().any(|w| {
            matches!(
                w.literal().as_deref(),
                Some("-exec" | "-execdir" | "-ok" | "-okdir" | "-delete")
            )
        });
        if !acts {
            // It lists paths: what `| xargs CMD` gets as arguments.
            let listed: Vec<String> = targets
                .iter()
                .filter_map(|t| self.word_path(t, cwd))
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            let follows = unit.tags.contains(TAG_FOLLOWS_LINKS)
                || expr
                    .iter()
                    .any(|w| w.literal().as_deref() == Some("-follow"));
            self.listed_paths
                .insert(info.pipeline, (listed, !narrowed, follows));
        }
        let mut k = 0;
        while k < expr.len() {
            let token = expr[k].literal().unwrap_or_default();
            match token.as_str() {
                "-exec" | "-execdir" | "-ok" | "-okdir" => {
                    let end = expr[k + 1..]
                        .iter()
                        .position(|w| matches!(w.literal().as_deref(), Some(";" | "+")))
                        .map_or(expr.len(), |p| k + 1 + p);
                    for target in &targets {
                        let target_text = self.exact_text(target, cwd);
                        let nested_words: Vec<ShellWord> = expr[k + 1..end]
                            .iter()
                            .map(|w| substitute_braces(w, target, target_text.as_deref()))
                            .collect();
                        let text = nested_words
                            .iter()
                            .map(|w| w.raw.as_str())
                            .collect::<Vec<_>>()
                            .join(" ");
                        let mut nested = Unit::new(text, unit.depth + 1, "");
                        nested.pipeline = unit.pipeline;
                        nested.tags.insert("find-exec".into());
                        if !narrowed {
                            // `{}` is every file of the tree.
                            nested.tags.insert(TAG_READS_TREE.into());
                            nested.tags.insert("recursive".into());
                        }
                        // `{}` is also every link in the tree, handed over by name: the command
                        // reaches what it leads to (`find d -exec cat {} +` reads a link's
                        // target; `rm` removes the link itself). With `find -L` the files
                        // behind links are found too.
                        nested.tags.insert(TAG_FOLLOWS_LINKS.into());
                        self.argv(&nested_words, nested, cwd, info, out);
                    }
                    unit.classes.insert(ActionClass::ShellExec);
                    k = end + 1;
                }
                "-delete" => {
                    // Too many files found by name: judged by name, not as the whole trees.
                    let by_name = !narrowed && name.is_some();
                    let deleted = if by_name { &pattern_words } else { &targets };
                    if !narrowed && !by_name {
                        unit.tags.insert("recursive".into());
                    }
                    for target in deleted {
                        self.path_arg(unit, target, Access::Delete, cwd);
                    }
                    if by_name && let Some(name) = &name {
                        // Every file so named below each start: judged against git.
                        for start in &starts {
                            let lost = match self.word_path(start, cwd) {
                                Some(dir) => super::worktree::deletion_of_named_loses(&dir, name),
                                None => None,
                            };
                            if let Some(why) = lost {
                                unit.classes.insert(ActionClass::ShellDestructive);
                                unit.tags.insert("discards-work".into());
                                unit.source.push_str(&format!(" ({why})"));
                            }
                        }
                    }
                    k += 1;
                }
                "-fprint" | "-fprint0" | "-fprintf" | "-fls" => {
                    if let Some(file) = expr.get(k + 1) {
                        self.path_arg(unit, file, Access::Write, cwd);
                    }
                    k += 2;
                }
                _ => k += 1,
            }
        }
    }

    fn option_value_role(
        &mut self,
        unit: &mut Unit,
        value: &ShellWord,
        role: ArgRole,
        cwd: Option<&Path>,
    ) {
        if role == ArgRole::ReadFile {
            if value.literal().as_deref() != Some("-") {
                self.role_arg(unit, value, ArgRole::Read, cwd);
            }
            return;
        }
        if role == ArgRole::Read {
            // `curl -d @file` reads a file; `-d 'a=b'` is data.
            if let Some(lit) = value.literal() {
                // `@file`, `name=@file` and `name=<file` (curl forms) name a file to send.
                // `name@file` too (`--url-query k@FILE`): with a plain name before it.
                let named_file = lit.split_once('@').filter(|(name, file)| {
                    !name.is_empty()
                        && !file.is_empty()
                        && name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "_-+".contains(c))
                });
                let file = lit
                    .strip_prefix('@')
                    .or_else(|| lit.split_once("=@").map(|(_, f)| f))
                    .or_else(|| lit.split_once("=<").map(|(_, f)| f))
                    .or_else(|| named_file.map(|(_, f)| f))
                    .map(|f| f.split(';').next().unwrap_or(f));
                if let Some(path) = file {
                    if path == "-" {
                        return;
                    }
                    self.role_arg(unit, &word_from(path), ArgRole::Read, cwd);
                } else if lit.starts_with('/') || lit.starts_with('.') || lit.starts_with('~') {
                    self.role_arg(unit, value, ArgRole::Read, cwd);
                }
                return;
            }
            // `-d @"$HOME/.netrc"`: a computed file name after `@`.
            if let Some(WordPiece::Literal(first)) = value.pieces.first()
                && let Some(rest) = first.strip_prefix('@')
            {
                let mut file = value.clone();
                file.raw = file.raw.trim_start_matches('@').to_string();
                if rest.is_empty() {
                    file.pieces.remove(0);
                } else {
                    file.pieces[0] = WordPiece::Literal(rest.to_string());
                }
                self.role_arg(unit, &file, ArgRole::Read, cwd);
                return;
            }
        }
        self.role_arg(unit, value, role, cwd);
    }

    fn role_arg(&mut self, unit: &mut Unit, word: &ShellWord, role: ArgRole, cwd: Option<&Path>) {
        let access = match role {
            // Scripts are classified by the callers that can add units.
            ArgRole::None | ArgRole::Script => return,
            ArgRole::Remote => {
                if let Some(lit) = word.literal() {
                    local_service(self.ctx.kb(), unit, &lit);
                    self.loopback_remote(unit, &lit, Access::Read);
                }
                match word.literal() {
                    Some(lit) => match host_of(&lit) {
                        Some(host) => {
                            unit.hosts.push(host);
                            if unit.argv.first().is_some_and(|p| p == "git") {
                                // `git fetch host:path`, a URL: not a configured remote.
                                unit.tags.insert("explicit-remote".into());
                            }
                        }
                        None => {
                            unit.tags.insert("remote-name".into());
                            if unit.argv.first().is_some_and(|p| p == "git")
                                && self.unconfigured_git_remote(&lit, cwd)
                            {
                                // Not a remote of the repository's config: a path, or one of
                                // the legacy `.git/remotes/`/`.git/branches/` files, which
                                // can point anywhere.
                                unit.tags.insert("explicit-remote".into());
                            }
                        }
                    },
                    None => {
                        unit.tags.insert("hosts-unknown".into());
                    }
                }
                return;
            }
            ArgRole::Discard => {
                self.discarded_changes(unit, word, cwd);
                return;
            }
            ArgRole::Process => {
                if let Some(lit) = word.literal() {
                    let protected = &self.ctx.classifier.env.protected;
                    super::processes::judge_signalled(unit, &lit, protected);
                }
                return;
            }
            ArgRole::Read | ArgRole::ReadFile => Access::Read,
            ArgRole::Write => Access::Write,
            ArgRole::Delete => Access::Delete,
            ArgRole::Chmod => Access::Chmod,
            ArgRole::LinkTarget | ArgRole::SymlinkTarget => Access::Link,
        };
        if let Some(lit) = word.literal()
            && is_remote_spec(&lit)
        {
            self.loopback_remote(unit, &lit, access);
            if let Some(host) = host_of(&lit) {
                unit.hosts.push(host);
            }
            unit.classes.insert(ActionClass::NetworkFetch);
            if access != Access::Read {
                unit.classes.insert(ActionClass::RemoteWrite);
            }
            return;
        }
        self.path_arg(unit, word, access, cwd);
    }

    /// The work tree put back to `rev`'s content (`git stash`): each file that differs is
    /// judged as written with that content.
    fn worktree_reset(
        &mut self,
        unit: &mut Unit,
        cwd: Option<&Path>,
        rev: &str,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        unit.tags.insert(TAG_FROM_REPOSITORY.into());
        let Some((dir, git_dir, work_tree)) = repository_of(unit, cwd) else {
            return;
        };
        let written = commits::Repository::open(&git_dir)
            .and_then(|repo| repo.worktree_reset_to(rev, &work_tree, ""));
        match written {
            Ok(written) => {
                self.judge_written(unit, &work_tree, dir, written, info, out);
            }
            // No commit yet: nothing to go back to.
            Err(_) if !commits::Repository::open(&git_dir).is_ok_and(|r| r.has(rev)) => {}
            Err(why) => {
                unit.classes.insert(ActionClass::Unknown);
                unit.source = format!("the repository {why}: Airlock cannot tell what it writes");
            }
        }
    }

    /// What git writes into the work tree, each path judged as written with its new content
    /// (a link as a new link); a file that will run later has what it runs classified below.
    fn judge_written(
        &mut self,
        unit: &mut Unit,
        work_tree: &Path,
        dir: &Path,
        changes: Vec<commits::Incoming>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        for change in changes {
            let path = work_tree.join(&change.path);
            let content = change.content.as_deref();
            self.incoming_link(unit, work_tree, &change);
            for line in self.ctx.touch_judged(unit, path, Access::Write, content) {
                self.script(&line, Some(dir), unit.depth + 1, info.nesting + 1, out);
            }
        }
    }

    /// `git worktree add PATH [REV]` checks REV (`HEAD` by default) out into PATH: every file
    /// of its tree is judged as written there with its content. `git worktree move OLD NEW`
    /// puts OLD's files at NEW, judged as a directory written whole.
    fn worktree(
        &mut self,
        unit: &mut Unit,
        positionals: &[Option<String>],
        words: &[&ShellWord],
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        let action = positionals.first().cloned().flatten();
        let Some(target) = words.get(1) else {
            return;
        };
        match action.as_deref() {
            Some("add") => {}
            Some("move") => {
                if let Some(new) = words.get(2) {
                    self.path_arg(unit, new, Access::Write, cwd);
                }
                self.path_arg(unit, target, Access::Delete, cwd);
                return;
            }
            Some("remove") => {
                self.path_arg(unit, target, Access::Delete, cwd);
                return;
            }
            _ => return,
        }
        self.path_arg(unit, target, Access::Write, cwd);
        unit.tags.insert(TAG_FROM_REPOSITORY.into());
        let Some(into) = self.word_path(target, cwd) else {
            unit.classes.insert(ActionClass::Unknown);
            return;
        };
        let rev = match positionals.get(2) {
            Some(Some(rev)) => rev.clone(),
            Some(None) => {
                unit.classes.insert(ActionClass::Unknown);
                unit.source = "a commit named at run time".into();
                return;
            }
            None => "HEAD".to_string(),
        };
        let Some((dir, git_dir, _)) = repository_of(unit, cwd) else {
            return;
        };
        let files = commits::Repository::open(&git_dir).and_then(|repo| repo.files_of(&rev));
        match files {
            Ok(files) => self.judge_written(unit, &into, dir, files, info, out),
            Err(why) => {
                unit.classes.insert(ActionClass::Unknown);
                unit.source = format!(
                    "the repository {why}: Airlock cannot tell what the new worktree holds"
                );
            }
        }
    }

    /// A link git writes into the work tree leads where its content says: judged as a new link
    /// there (`docs/ref -> ~/.ssh` from the index is `ln -s ~/.ssh docs/ref`).
    fn incoming_link(&mut self, unit: &mut Unit, work_tree: &Path, change: &commits::Incoming) {
        if !change.link {
            return;
        }
        let Some(target) = change.content.as_deref() else {
            unit.classes.insert(ActionClass::Unknown);
            return;
        };
        let at = work_tree.join(&change.path);
        let base = at.parent().unwrap_or(work_tree);
        let target = if target.starts_with('/') {
            PathBuf::from(target)
        } else {
            super::lexical_normalize(&base.join(target))
        };
        self.ctx.touch(unit, target, Access::Link);
    }

    /// A remote on this machine (`localhost:.ssh/id_rsa`) is a local path: judged as one.
    fn loopback_remote(&mut self, unit: &mut Unit, remote: &str, access: Access) {
        let Some(path) = loopback_path(remote) else {
            return;
        };
        let home = &self.ctx.classifier.env.home;
        let path = match path.strip_prefix("~/") {
            Some(rest) => home.join(rest),
            None if path.starts_with('/') => PathBuf::from(&path),
            None => home.join(&path),
        };
        self.ctx.touch(unit, path, access);
    }

    /// Whether git would take `name` (a remote or a refspec word) from somewhere other than
    /// the repository's configured remotes: a legacy `.git/remotes/NAME` or `.git/branches/NAME`
    /// file, or a repository at that path. (A word that is neither is a refspec, or an error.)
    fn unconfigured_git_remote(&mut self, name: &str, cwd: Option<&Path>) -> bool {
        let git_dir = match cwd.and_then(find_git_dir) {
            Some(GitDir::Normal(git_dir)) => git_dir,
            // No repository: git fails before it fetches anything.
            None => return false,
            Some(GitDir::Elsewhere(_)) => return true,
        };
        let key = format!("remote.{name}.url");
        let configured = match self.ctx.files().read(&git_dir.join("config")) {
            FileContent::Text(text) => git_config_entries(&text)
                .is_some_and(|entries| entries.iter().any(|(k, _)| *k == key)),
            FileContent::Unreadable(_) => false,
        };
        if configured {
            return false;
        }
        let plain = !name.contains('/') && name != "." && name != "..";
        (plain
            && (git_dir.join("remotes").join(name).exists_for_user()
                || git_dir.join("branches").join(name).exists_for_user()))
            || cwd.is_some_and(|dir| dir.join(name).exists_for_user())
    }

    /// `git restore F`: F is rewritten with git's copy, which loses its uncommitted changes.
    fn discarded_changes(&mut self, unit: &mut Unit, word: &ShellWord, cwd: Option<&Path>) {
        if let (Some(spec), Some(dir)) = (word.literal(), cwd)
            && spec.starts_with(':')
        {
            // Pathspec magic (`:/`, `:(top)`, `:!x`, `:(exclude)x`, `:(icase)…`) reaches
            // beyond the word's text, up to the whole repository: judged as all of it.
            unit.classes.insert(ActionClass::ShellDestructive);
            unit.tags.insert("discards-work".into());
            unit.source.push_str(&format!(
                " (the pathspec `{spec}` can cover the whole repository)"
            ));
            self.ctx.touch(unit, dir.to_path_buf(), Access::Write);
            self.written_from_index(unit, dir, true);
            return;
        }
        self.path_arg(unit, word, Access::Write, cwd);
        let Some(path) = self.word_path(word, cwd) else {
            unit.classes.insert(ActionClass::ShellDestructive);
            unit.tags.insert("discards-work".into());
            return;
        };
        // A pathspec glob (`'*.rs'`) is matched by git: any changed file may be among them.
        let pattern = word.raw.contains(['*', '?', '[']);
        let lost = if pattern {
            Some("a pattern git matches".to_string())
        } else {
            super::worktree::loses(&path, super::worktree::Change::Overwrite)
        };
        if let Some(why) = lost {
            unit.classes.insert(ActionClass::ShellDestructive);
            unit.tags.insert("discards-work".into());
            unit.source.push_str(&format!(" ({why})"));
        }
        self.written_from_index(unit, &path, pattern);
    }

    /// What `git restore`/`git checkout -- PATH` write: the index's content, which may be any
    /// object (`git update-index --cacheinfo`). Each file that differs is judged as written
    /// with it; one that would run something later makes the command unknown here.
    fn written_from_index(&mut self, unit: &mut Unit, path: &Path, pattern: bool) {
        unit.tags.insert(TAG_FROM_REPOSITORY.into());
        let Some(dir) = path.parent() else { return };
        let Some(GitDir::Normal(git_dir)) =
            find_git_dir(if path.is_dir_for_user() { path } else { dir })
        else {
            return;
        };
        let work_tree = git_dir.parent().unwrap_or(dir).to_path_buf();
        let under = match (pattern, path.strip_prefix(&work_tree)) {
            (false, Ok(rel)) => rel.to_string_lossy().into_owned(),
            _ => String::new(),
        };
        let written = commits::Repository::open(&git_dir)
            .and_then(|repo| repo.worktree_from_index(&work_tree, &under));
        match written {
            Ok(written) => {
                for change in written {
                    let target = work_tree.join(&change.path);
                    let content = change.content.as_deref();
                    self.incoming_link(unit, &work_tree, &change);
                    if !self
                        .ctx
                        .touch_judged(unit, target, Access::Write, content)
                        .is_empty()
                    {
                        unit.classes.insert(ActionClass::Unknown);
                        unit.source
                            .push_str(" (writes a file from the index that runs later)");
                    }
                }
            }
            Err(why) => {
                unit.classes.insert(ActionClass::Unknown);
                unit.source = format!("the repository {why}: Airlock cannot tell what it writes");
            }
        }
    }

    fn path_arg(&mut self, unit: &mut Unit, word: &ShellWord, access: Access, cwd: Option<&Path>) {
        // A glob is judged by what it matches now (each path resolved like any other); one
        // that matches nothing is the word as written, as in bash.
        if word.pieces.iter().any(|p| matches!(p, WordPiece::Glob(_)))
            && let Some(pattern) = self.word_path(word, cwd)
        {
            match globs::expand(&pattern) {
                globs::Expansion::Matches(paths) if !paths.is_empty() => {
                    for path in paths {
                        self.ctx.touch_judged(unit, path, access, None);
                    }
                    return;
                }
                globs::Expansion::Matches(_) => {}
                globs::Expansion::Unknown => {
                    unit.classes.insert(ActionClass::Unknown);
                    unit.tags.insert(TAG_PATHS_UNKNOWN.into());
                    unit.source = format!("`{}` matches more than Airlock looks at", word.raw);
                    return;
                }
            }
        }
        match self.word_path(word, cwd) {
            Some(path) => {
                // What a shell command writes there is not known here.
                self.ctx.touch_judged(unit, path, access, None);
            }
            None => {
                unit.tags.insert(TAG_PATHS_UNKNOWN.into());
                // Only what is understood is allowed: a path known only at run time could be
                // anything, a secret or Airlock's own state included. Two exceptions: a
                // process substitution is a pipe (its commands are classified themselves), and
                // a variable given only known values, before its use, is one of them (touched
                // below).
                let pipe = word.raw.starts_with("<(") || word.raw.starts_with(">(");
                let candidates = self.candidates(word, cwd);
                // A relative path where the directory is known only at run time (`cd "$X"`, a
                // failed `cd -P`) is not known either.
                let anchored = cwd.is_some()
                    || candidates
                        .iter()
                        .all(|c| c.starts_with('/') || c.starts_with('~'));
                let known = self.certain_word(word) && !candidates.is_empty() && anchored;
                if !pipe && !known {
                    unit.classes.insert(ActionClass::Unknown);
                }
                if !matches!(access, Access::Read | Access::Link) {
                    // A computed target could be anything, including outside the workspace.
                    unit.classes.insert(match access {
                        Access::Delete => ActionClass::FileDelete,
                        Access::Chmod => ActionClass::AccessChange,
                        _ => ActionClass::FileWrite,
                    });
                    if access == Access::Write && word.has_command_subst() {
                        // `> "$(…)"`: where this writes is decided by another program.
                        unit.classes.insert(ActionClass::Unknown);
                    }
                }
                // The values the word was seen to get are touched too: they can only add.
                for value in self.candidates(word, cwd) {
                    let path = if value.starts_with('/') {
                        PathBuf::from(value)
                    } else if let Some(dir) = cwd {
                        dir.join(value)
                    } else {
                        continue;
                    };
                    self.ctx.touch(unit, path, access);
                }
            }
        }
    }

    /// The text of a word whose value is known exactly: literal text, `~`, `$HOME`, `$PWD`.
    fn exact_text(&self, word: &ShellWord, cwd: Option<&Path>) -> Option<String> {
        let home = &self.ctx.classifier.env.home;
        let mut text = String::new();
        for (idx, piece) in word.pieces.iter().enumerate() {
            match piece {
                WordPiece::Literal(s) | WordPiece::Glob(s) => text.push_str(s),
                WordPiece::Tilde(user) if idx == 0 && user.is_empty() => {
                    text.push_str(&home.to_string_lossy());
                }
                WordPiece::Param(name) if name == "HOME" => text.push_str(&home.to_string_lossy()),
                WordPiece::Param(name) if name == "PWD" => text.push_str(&cwd?.to_string_lossy()),
                _ => return None,
            }
        }
        Some(text)
    }

    /// The file a program name given as a path runs, unless it is in one of the system's
    /// program directories (then the name is looked up like a bare name).
    fn file_program(&self, name: &str, cwd: Option<&Path>) -> Option<PathBuf> {
        if !name.contains('/') {
            return None;
        }
        let path = if name.starts_with('/') {
            PathBuf::from(name)
        } else {
            // Relative to a directory known only at run time: some file, unread.
            cwd.unwrap_or(Path::new("/nonexistent")).join(name)
        };
        let path = super::lexical_normalize(&path);
        let system = &self.ctx.kb().paths.system_programs;
        let in_system_dir = path
            .parent()
            .is_some_and(|dir| system.iter().any(|s| dir == Path::new(s)));
        (!in_system_dir).then_some(path)
    }

    /// Resolve a word to a path: `~` and `$HOME` expand, relative paths are against `cwd`;
    /// `None` when the word (or, for a relative path, the directory) is only known at run time.
    fn word_path(&self, word: &ShellWord, cwd: Option<&Path>) -> Option<PathBuf> {
        let text = self.exact_text(word, cwd)?;
        if text.is_empty() {
            return None;
        }
        if text.starts_with('/') {
            Some(PathBuf::from(text))
        } else {
            // Relative to a directory only known at run time (`cd "$(mktemp -d)"`): unknown.
            cwd.map(|dir| dir.join(text))
        }
    }

    /// A shell or interpreter reading a pipe runs whatever the earlier commands produce: code
    /// downloaded by `curl`, or the static text of `echo`/`cat <<EOF`.
    fn resolve_piped_scripts(
        &mut self,
        units: &mut Vec<Unit>,
        first: usize,
        cwd: Option<&Path>,
        depth: usize,
        nesting: usize,
    ) {
        let mut extra = Vec::new();
        for idx in first..units.len() {
            let kind = if units[idx].tags.contains("stdin-script:shell") {
                StdinKind::Shell
            } else if units[idx].tags.contains("stdin-script:code") {
                StdinKind::Code
            } else {
                continue;
            };
            // The pipelines this unit reads from: its own, and enclosing ones (`curl x | (sh)`).
            let reading: Vec<(usize, usize, usize)> = positions(&units[idx])
                .filter(|&(_, _, pos)| pos > 0)
                .collect();
            let upstream_fetches = units[first..].iter().any(|u| {
                u.classes.contains(&ActionClass::NetworkFetch)
                    && positions(u).any(|(s, p, q)| {
                        reading
                            .iter()
                            .any(|&(rs, rp, rq)| s == rs && p == rp && q < rq)
                    })
            });
            let piped_text = reading
                .iter()
                .find_map(|&(s, p, pos)| self.stdout_text.get(&(s, p, pos - 1)).cloned());
            let unit = &mut units[idx];
            if upstream_fetches {
                unit.classes.remove(&ActionClass::Unknown);
                unit.classes.insert(ActionClass::ExecRemote);
                unit.classes.insert(ActionClass::NetworkFetch);
                unit.tags.insert("pipe-to-shell".into());
                unit.source = "runs code downloaded by an earlier command of the pipeline".into();
            } else if let Some(text) = piped_text {
                unit.classes.remove(&ActionClass::Unknown);
                unit.source = "runs the piped text classified below".into();
                match kind {
                    StdinKind::Shell => self.script(&text, cwd, depth + 1, nesting + 1, &mut extra),
                    StdinKind::Code => {
                        let holder = Unit::new(unit.text.clone(), depth + 1, "");
                        let info_functions = HashSet::new();
                        let info_aliases = HashMap::new();
                        let info = CmdInfo {
                            stdin_text: None,
                            stdin_file: None,
                            pipeline: (usize::MAX, 0, 0),
                            enclosing: Vec::new(),
                            piped: false,
                            in_function: None,
                            background: false,
                            functions: &info_functions,
                            aliases: &info_aliases,
                            nesting: nesting + 1,
                        };
                        let name = unit.program.clone().unwrap_or_default();
                        self.code(&text, &name, holder, cwd, &info, &mut extra);
                    }
                }
            }
        }
        units.extend(extra);
    }
}

/// The pipeline positions of a unit: its own and those of enclosing pipelines.
fn positions(unit: &Unit) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
    unit.pipeline
        .into_iter()
        .chain(unit.enclosing.iter().copied())
}

/// Commands whose script is computed (`bash <(curl …)`, `eval "$(curl …)"`) by commands nested
/// in their words that download: they run remote code. `ranges[k]` are the units of command `k`.
fn mark_downloaded_scripts(
    commands: &[SimpleCommand],
    ranges: &[(usize, usize)],
    out: &mut [Unit],
) {
    for (k, cmd) in commands.iter().enumerate() {
        let (start, end) = ranges[k];
        if !out[start..end]
            .iter()
            .any(|u| u.tags.contains(TAG_SCRIPT_COMPUTED))
        {
            continue;
        }
        // The commands nested in this one's words follow it, deeper (pre-order).
        let fetches = commands[k + 1..]
            .iter()
            .zip(&ranges[k + 1..])
            .take_while(|(nested, _)| nested.depth > cmd.depth)
            .any(|(_, &(s, e))| {
                out[s..e]
                    .iter()
                    .any(|u| u.classes.contains(&ActionClass::NetworkFetch))
            });
        if !fetches {
            continue;
        }
        for unit in &mut out[start..end] {
            if unit.tags.contains(TAG_SCRIPT_COMPUTED) {
                unit.classes.insert(ActionClass::ExecRemote);
                unit.classes.insert(ActionClass::NetworkFetch);
                unit.tags.insert("pipe-to-shell".into());
                unit.source
                    .push_str(" (downloaded by the command computing it)");
            }
        }
    }
}

/// The static text of a word that is a single command or process substitution of a command
/// printing static text: `"$(echo rm)"`, `<(printf 'ls')`, `` `echo x` ``.
fn substitution_output(raw: &str) -> Option<String> {
    let raw = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(raw);
    let inner = raw
        .strip_prefix("$(")
        .or_else(|| raw.strip_prefix("<("))
        .and_then(|r| r.strip_suffix(')'))
        .or_else(|| raw.strip_prefix('`').and_then(|r| r.strip_suffix('`')))?;
    let parsed = shell::parse_script(inner).ok()?;
    let [cmd] = parsed.commands.as_slice() else {
        return None;
    };
    static_stdout(cmd, ShellWord::literal).map(|text| text.trim_end_matches('\n').to_string())
}

/// Text of `cmd` that stores an array subscript holding a command substitution for bash to
/// evaluate later: an assignment's value (`x='a[$(cmd)]'`), or an argument of a declaration
/// (`declare -a a='([$(cmd)]=1)'`, `export "$x"`), or a here-string read into a variable.
fn subscript_injection(cmd: &SimpleCommand) -> Option<String> {
    let stored = |text: &str| {
        text.split('[')
            .skip(1)
            .any(|after| after.contains("$(") || after.contains('`') || after.contains("${"))
    };
    let declaration = cmd
        .words
        .first()
        .and_then(ShellWord::literal)
        .is_some_and(|n| {
            matches!(
                n.as_str(),
                "declare"
                    | "typeset"
                    | "local"
                    | "readonly"
                    | "export"
                    | "read"
                    | "mapfile"
                    | "readarray"
                    | "printf"
                    | "let"
            )
        });
    let mut texts: Vec<&str> = cmd
        .assignments
        .iter()
        .map(|(_, v)| v.raw.as_str())
        .collect();
    if declaration {
        texts.extend(cmd.words[1..].iter().map(|w| w.raw.as_str()));
        texts.extend(cmd.stdin_text.as_deref());
    }
    // Quoted text only: an unquoted `$(…)` runs at once and is classified as a command.
    texts
        .into_iter()
        .filter(|t| t.contains('\'') || t.contains('"') || t.contains('\\'))
        .find(|t| stored(t))
        .map(str::to_string)
}

/// `--name=VALUE` written with a computed value: the option and its value as a word.
fn split_long_option_word(word: &ShellWord) -> Option<(String, ShellWord)> {
    let Some(WordPiece::Literal(first)) = word.pieces.first() else {
        return None;
    };
    let (name, rest) = first.split_once('=')?;
    if !name.starts_with("--") || name.len() < 3 {
        return None;
    }
    let mut pieces = Vec::with_capacity(word.pieces.len());
    if !rest.is_empty() {
        pieces.push(WordPiece::Literal(rest.to_string()));
    }
    pieces.extend(word.pieces[1..].iter().cloned());
    let raw = word
        .raw
        .split_once('=')
        .map_or_else(String::new, |(_, v)| v.to_string());
    Some((name.to_string(), ShellWord { raw, pieces }))
}

/// A variable name given to a builtin that assigns it (`printf -v`, `read`, `mapfile`,
/// `declare`, `export`, …) with an array subscript bash evaluates as arithmetic, and so may run a
/// substitution inside it: `printf -v 'a[$(cmd)]' x`, `declare 'a[$(cmd)]=1'`.
fn subscript_in_name(cmd: &SimpleCommand) -> Option<String> {
    let first = cmd.words.first()?.literal()?;
    let names = names_assigned(cmd);
    // `declare -n r=TARGET`: reading `$r` reads TARGET, which may be `a[$(cmd)]`.
    let nameref = matches!(first.as_str(), "declare" | "typeset" | "local")
        && cmd.words[1..]
            .iter()
            .any(|w| w.raw.starts_with('-') && w.raw.contains('n'));
    if nameref
        && let Some(target) = names
            .iter()
            .filter_map(|raw| raw.split_once('=').map(|(_, t)| t))
            .find(|t| t.contains(['[', '$', '`', '\\']))
    {
        return Some(target.to_string());
    }
    names.into_iter().find_map(|raw| {
        let raw = raw.trim_matches(|c| c == '"' || c == '\'');
        let name = raw.split('=').next().unwrap_or(raw);
        // A name computed at run time may be `a[$(cmd)]` (`printf -v "$x"`, `read "$x"`).
        if name.contains(['$', '`', '\\']) && !name.contains('[') {
            return Some(name.to_string());
        }
        let subscript = name.split_once('[')?.1;
        (subscript.contains(['$', '`', '\\'])).then(|| name.to_string())
    })
}

/// The arithmetic in assigning `value` to `name`: the subscript of an indexed array element
/// (`a[x]=1`) and each `[x]=` of a compound value (`b=([x]=1)`); none for an array declared
/// associative (`declare -A`), whose subscripts are strings.
fn assigned_subscripts(name: &str, value: &str, associative: &HashSet<String>) -> Vec<String> {
    let base = name.split('[').next().unwrap_or(name);
    if associative.contains(base) {
        return Vec::new();
    }
    let mut out: Vec<String> = name
        .split_once('[')
        .map(|(_, subscript)| subscript.trim_end_matches(']').to_string())
        .into_iter()
        .collect();
    if value.starts_with('(') {
        out.extend(value.split('[').skip(1).filter_map(|part| {
            part.split_once("]=")
                .map(|(subscript, _)| subscript.to_string())
        }));
    }
    out
}

/// Marks a name whose value an indirection (`${!x}`) reads as a name, in the texts of
/// [`expansion_arithmetic`].
const INDIRECT: char = '!';

/// The arithmetic texts bash evaluates inside parameter expansions in `raw`: array subscripts
/// (`${a[x]}`), substring offsets and lengths (`${s:x:y}`), and the name an indirection reads
/// (`${!x}`: x's value is itself a name, such as `a[$(cmd)]`). Subscripts of `associative`
/// arrays are strings, not arithmetic.
fn expansion_arithmetic(raw: &str, associative: &HashSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = raw.chars().collect();
    let mut i = 0;
    while i + 1 < chars.len() {
        if !(chars[i] == '$' && chars[i + 1] == '{') {
            i += 1;
            continue;
        }
        let mut j = i + 2;
        let indirect = chars.get(j) == Some(&'!');
        if indirect || chars.get(j) == Some(&'#') {
            j += 1;
        }
        let start = j;
        if matches!(
            chars.get(j),
            Some('@' | '*' | '#' | '?' | '-' | '$' | '0'..='9')
        ) && !indirect
        {
            // `${@:x}`, `${*:1:x}`, `${1:x}`: special and positional parameters.
            j += 1;
        } else {
            while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
        }
        let name: String = chars[start..j].iter().collect();
        // `${!prefix@}` and `${!arr[@]}` list names and keys; `${!x}` reads the name in x.
        if indirect && !name.is_empty() && !matches!(chars.get(j), Some('[' | '@' | '*')) {
            out.push(format!("{INDIRECT}{name}"));
        }
        if chars.get(j) == Some(&'[') {
            let mut depth = 0;
            let open = j;
            while j < chars.len() {
                match chars[j] {
                    '[' => depth += 1,
                    ']' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            let subscript: String = chars[open + 1..j.min(chars.len())].iter().collect();
            if !matches!(subscript.as_str(), "@" | "*") && !associative.contains(&name) {
                out.push(subscript);
            }
            j += 1;
        }
        if chars.get(j) == Some(&':') && !matches!(chars.get(j + 1), Some('-' | '=' | '+' | '?')) {
            let end = chars[j..]
                .iter()
                .position(|&c| c == '}')
                .map_or(chars.len(), |p| j + p);
            let offsets: String = chars[j + 1..end].iter().collect();
            out.extend(offsets.split(':').map(str::to_string));
        }
        i = j.max(i + 2);
    }
    out
}

/// The names a builtin that assigns variables is given, as written (`read a b`, `printf -v
/// NAME`, `wait -p NAME`, `getopts OPTS NAME`, `declare NAME=VALUE`, `unset NAME`).
fn names_assigned(cmd: &SimpleCommand) -> Vec<&str> {
    let Some(first) = cmd.words.first().and_then(ShellWord::literal) else {
        return Vec::new();
    };
    // Options of each whose value is not a name.
    let valued: &[&str] = match first.as_str() {
        "read" => &["-p", "-d", "-t", "-n", "-N", "-u", "-i"],
        "mapfile" | "readarray" => &["-d", "-n", "-O", "-s", "-u", "-C", "-c"],
        "declare" | "typeset" | "local" | "export" | "readonly" | "unset" | "printf" | "wait"
        | "getopts" => &[],
        _ => return Vec::new(),
    };
    let mut names = Vec::new();
    let mut k = 1;
    while k < cmd.words.len() {
        let raw = cmd.words[k].raw.as_str();
        // Only the value of `printf -v` and `wait -p` is a name; `getopts` names its last.
        if first == "printf" || first == "wait" {
            if raw == "-v" || raw == "-p" {
                names.extend(cmd.words.get(k + 1).map(|w| w.raw.as_str()));
            }
            k += 1;
            continue;
        }
        if first == "getopts" {
            names.extend(cmd.words.get(2).map(|w| w.raw.as_str()));
            break;
        }
        if valued.contains(&raw) {
            k += 2;
            continue;
        }
        if !raw.starts_with('-') {
            names.push(raw);
        }
        k += 1;
    }
    names
}

/// `-`, `/dev/stdin`: a script "file" that is the standard input.
fn is_stdin_file(word: &ShellWord) -> bool {
    matches!(
        word.literal().as_deref(),
        Some("-" | "/dev/stdin" | "/dev/fd/0" | "/proc/self/fd/0")
    )
}

/// The words as written, joined by spaces.
fn raw_words(words: &[ShellWord]) -> String {
    words
        .iter()
        .map(|w| w.raw.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Words joined by spaces into one word (the command line `sh -c` gets from `watch a b`).
fn join_words(words: &[ShellWord]) -> ShellWord {
    ShellWord {
        raw: raw_words(words),
        pieces: words
            .iter()
            .enumerate()
            .flat_map(|(idx, w)| {
                let sep = (idx > 0).then(|| WordPiece::Literal(" ".into()));
                sep.into_iter().chain(w.pieces.iter().cloned())
            })
            .collect(),
    }
}

/// `NAME=value` as an argument (`export NAME=value`): the name and the value as a word.
fn split_assignment_word(word: &ShellWord) -> Option<(String, ShellWord)> {
    let Some(WordPiece::Literal(first)) = word.pieces.first() else {
        return None;
    };
    let (name, rest) = first.split_once('=')?;
    if !is_assignment(&format!("{name}=")) {
        return None;
    }
    let mut pieces = Vec::with_capacity(word.pieces.len());
    if !rest.is_empty() {
        pieces.push(WordPiece::Literal(rest.to_string()));
    }
    pieces.extend(word.pieces[1..].iter().cloned());
    if pieces.is_empty() {
        pieces.push(WordPiece::Literal(String::new()));
    }
    let raw = word
        .raw
        .split_once('=')
        .map_or_else(String::new, |(_, v)| v.to_string());
    Some((name.to_string(), ShellWord { raw, pieces }))
}

static FOR_LOOP: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?:^|[\s;&|(])for\s+([A-Za-z_][A-Za-z0-9_]*)\s+in\s+([^;\n]*)").ok()
});

/// A name arithmetic reads: `x`, `$x`, `${x`.
static ARITH_NAME: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\$?\{?[A-Za-z_][A-Za-z0-9_]*").ok());

/// A name arithmetic assigns: `i=…` (not `==`), `i+=`, `i++`, `++i`.
static ARITH_ASSIGN: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?:\+\+|--)\s*([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*)\s*(?:\+\+|--|<<=|>>=|[-+*/%&|^]=|=[^=])").ok()
});

/// Integers the shell itself keeps.
const SHELL_INTEGERS: &[&str] = &[
    "RANDOM",
    "SECONDS",
    "LINENO",
    "BASHPID",
    "PPID",
    "UID",
    "EUID",
    "SRANDOM",
    "EPOCHSECONDS",
    "OPTIND",
    "SHLVL",
    "COLUMNS",
    "LINES",
    "HISTCMD",
];

/// Whether `name` is given a value (`name=…`, `for name in`) before it is first used (`$name`,
/// `${name…}`) in `script`. Judged on the text, so a use inside an earlier function body or
/// loop counts as a use.
fn assigned_before_use(script: &str, name: &str) -> bool {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    // Where `name` stands as a whole word.
    let words = script.match_indices(name).filter(|(at, _)| {
        let before_ok = script[..*at]
            .chars()
            .next_back()
            .is_none_or(|c| !is_ident(c));
        let after_ok = script[at + name.len()..]
            .chars()
            .next()
            .is_none_or(|c| !is_ident(c));
        before_ok && after_ok
    });
    let mut first_assign = None;
    let mut first_use = None;
    for (at, _) in words {
        let before = &script[..at];
        let after = &script[at + name.len()..];
        let is_use = before.ends_with('$')
            || before.ends_with("${")
            || before.ends_with("${!")
            || before.ends_with("${#");
        let after_subscript = match after.strip_prefix('[') {
            Some(rest) => rest.find(']').map_or(after, |end| &rest[end + 1..]),
            None => after,
        };
        let is_assign = !is_use
            && (after_subscript.starts_with('=') || after_subscript.starts_with("+="))
            || before.trim_end().ends_with("for") && after.trim_start().starts_with("in");
        if is_use && first_use.is_none() {
            first_use = Some(at);
        }
        if is_assign && first_assign.is_none() {
            first_assign = Some(at);
        }
    }
    match (first_assign, first_use) {
        (Some(a), Some(u)) => a < u,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// `for NAME in WORDS`: each loop variable and the words it takes.
fn for_loop_lists(script: &str) -> Vec<(String, Vec<ShellWord>)> {
    let Some(re) = FOR_LOOP.as_ref() else {
        return Vec::new();
    };
    re.captures_iter(script)
        .take(8)
        .filter_map(|caps| {
            let name = caps.get(1)?.as_str().to_string();
            let list = caps.get(2)?.as_str();
            let parsed = shell::parse_script(&format!(": {list}")).ok()?;
            let words = parsed.commands.first()?.words.get(1..)?.to_vec();
            Some((name, words))
        })
        .collect()
}

/// `-name PATTERN` that every file `find` acts on must match (before the first action, with no
/// alternatives or negations), when it narrows anything (`*.pyc`, not `*` or `?*`).
fn find_name_filter(expr: &[ShellWord]) -> Option<String> {
    let mut name = None;
    let mut k = 0;
    while k < expr.len() {
        match expr[k].literal().as_deref() {
            Some("-o" | "-or" | "!" | "-not" | "," | "(" | ")") => return None,
            Some("-exec" | "-execdir" | "-ok" | "-okdir" | "-delete") => break,
            Some("-name" | "-iname") => {
                let pattern = expr.get(k + 1)?.literal()?;
                if name.is_none() && narrows(&pattern) {
                    name = Some(pattern);
                }
                k += 1;
            }
            _ => {}
        }
        k += 1;
    }
    name
}

/// The names `#include`, `#include_next`, `#import` and `#embed` lines of C-family code give
/// (`"x.h"` or `<x.h>`), and assembler `.incbin "x"` / `.include "x"`.
fn include_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        let rest = if let Some(directive) = line.strip_prefix('#') {
            let directive = directive.trim_start();
            let Some(rest) = ["include_next", "include", "import", "embed"]
                .iter()
                .find_map(|d| directive.strip_prefix(d))
            else {
                continue;
            };
            rest
        } else if let Some(rest) = line
            .strip_prefix(".incbin")
            .or_else(|| line.strip_prefix(".include"))
        {
            rest
        } else {
            continue;
        };
        let rest = rest.trim_start();
        let (open, close) = match rest.chars().next() {
            Some('"') => ('"', '"'),
            Some('<') => ('<', '>'),
            _ => continue,
        };
        if let Some(name) = rest[open.len_utf8()..].split(close).next()
            && !name.is_empty()
        {
            names.push(name.to_string());
        }
    }
    names
}

/// The repository a git command running in `cwd` acts on: (the directory, its git directory,
/// its work tree). A directory known only at run time makes the unit unknown; a git directory
/// elsewhere is already unknown (`repo_config`); none: git fails, nothing to judge.
fn repository_of<'a>(
    unit: &mut Unit,
    cwd: Option<&'a Path>,
) -> Option<(&'a Path, PathBuf, PathBuf)> {
    let Some(dir) = cwd else {
        unit.classes.insert(ActionClass::Unknown);
        return None;
    };
    let Some(GitDir::Normal(git_dir)) = find_git_dir(dir) else {
        return None;
    };
    let work_tree = git_dir.parent().unwrap_or(dir).to_path_buf();
    Some((dir, git_dir, work_tree))
}

/// A hook a repository would run: any file in its `hooks` directory but git's `.sample`s.
fn active_hook(git_dir: &Path) -> Option<String> {
    let entries = airlock_userfs::read_dir(&git_dir.join("hooks")).ok()?;
    entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|name| !name.ends_with(".sample"))
}

/// Files a `find -name` pattern may find before the command is judged on the whole trees.
const MAX_FIND_MATCHES: usize = 200;

/// Whether a name pattern has a fixed part beyond wildcards and a dot.
fn narrows(pattern: &str) -> bool {
    if pattern.contains('/') || pattern == ".." {
        return false;
    }
    let mut fixed = 0;
    let mut in_class = false;
    for c in pattern.chars() {
        match c {
            '[' => in_class = true,
            ']' => in_class = false,
            '*' | '?' | '.' | '\\' => {}
            _ if !in_class => fixed += 1,
            _ => {}
        }
    }
    fixed > 0
}

/// `{}` in a `find -exec` word replaced by the file (`{}` alone, or inside literal text).
fn substitute_braces(word: &ShellWord, target: &ShellWord, target_text: Option<&str>) -> ShellWord {
    match word.literal() {
        Some(lit) if lit == "{}" => target.clone(),
        Some(lit) if lit.contains("{}") => match target_text {
            Some(t) => word_from(&lit.replace("{}", t)),
            None => ShellWord {
                raw: word.raw.clone(),
                pieces: vec![WordPiece::Other(word.raw.clone())],
            },
        },
        _ => word.clone(),
    }
}

/// `xargs -I {}`, `-i`, `--replace[=R]`: the placeholder (`None` when computed) and how many
/// words the option used.
fn replace_option(
    spec: &WrapperSpec,
    arg: &str,
    next: Option<&ShellWord>,
) -> Option<(Option<String>, usize)> {
    for opt in &spec.replace_options {
        if arg == opt {
            if spec.options_with_value.contains(opt) {
                return Some((next.and_then(ShellWord::literal), 2));
            }
            return Some((Some("{}".to_string()), 1));
        }
        let attached = if opt.starts_with("--") {
            arg.strip_prefix(opt.as_str())
                .and_then(|r| r.strip_prefix('='))
        } else {
            arg.strip_prefix(opt.as_str())
        };
        if let Some(value) = attached.filter(|v| !v.is_empty()) {
            return Some((Some(value.to_string()), 1));
        }
    }
    None
}

/// A word with each occurrence of an `xargs` placeholder made an input item (computed).
fn replace_placeholder(word: &ShellWord, placeholder: &str) -> ShellWord {
    if !word.raw.contains(placeholder) {
        return word.clone();
    }
    let mut pieces = Vec::new();
    for piece in &word.pieces {
        match piece {
            WordPiece::Literal(text) | WordPiece::Glob(text) if text.contains(placeholder) => {
                let mut parts = text.split(placeholder).peekable();
                while let Some(part) = parts.next() {
                    if !part.is_empty() {
                        pieces.push(WordPiece::Literal(part.to_string()));
                    }
                    if parts.peek().is_some() {
                        pieces.push(WordPiece::Param(XARGS_ITEM.to_string()));
                    }
                }
            }
            other => pieces.push(other.clone()),
        }
    }
    ShellWord {
        raw: word.raw.clone(),
        pieces,
    }
}

/// The access a path role of code means.
fn role_access(role: ArgRole) -> Option<Access> {
    match role {
        ArgRole::Read | ArgRole::ReadFile => Some(Access::Read),
        ArgRole::Write => Some(Access::Write),
        ArgRole::Delete => Some(Access::Delete),
        ArgRole::Chmod => Some(Access::Chmod),
        ArgRole::LinkTarget | ArgRole::SymlinkTarget => Some(Access::Link),
        ArgRole::Discard => Some(Access::Write),
        ArgRole::None | ArgRole::Remote | ArgRole::Script | ArgRole::Process => None,
    }
}

#[derive(Clone, Copy)]
enum StdinKind {
    Shell,
    Code,
}

/// What `echo …`, `printf …` or `cat <<EOF` print, when it is fully static.
fn static_stdout(
    cmd: &SimpleCommand,
    resolve: impl Fn(&ShellWord) -> Option<String>,
) -> Option<String> {
    let name = cmd.words.first()?.literal()?;
    let args: Vec<String> = cmd.words[1..].iter().map(resolve).collect::<Option<_>>()?;
    match program_name(&name).as_str() {
        "echo" => {
            let words: Vec<&str> = args
                .iter()
                .map(String::as_str)
                .skip_while(|a| matches!(*a, "-n" | "-e" | "-E" | "-ne" | "-en"))
                .collect();
            Some(words.join(" "))
        }
        "printf" => args
            .split_first()
            .map(|(format, rest)| printf(format, rest)),
        "cat" if args.is_empty() => cmd.stdin_text.clone(),
        _ => None,
    }
}

/// What `printf FORMAT ARGS…` prints, for the common conversions (`%s`, `%b`, `%d`; the format
/// is reused while arguments remain, as printf does).
fn printf(format: &str, args: &[String]) -> String {
    let mut out = String::new();
    let mut next = 0;
    for _round in 0..MAX_CANDIDATES {
        let mut chars = format.chars().peekable();
        let mut converted = false;
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(other) => out.push(other),
                    None => out.push('\\'),
                },
                '%' => {
                    // Flags and width (`%-10s`) are dropped.
                    while chars
                        .peek()
                        .is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '.' | '+' | ' '))
                    {
                        chars.next();
                    }
                    match chars.next() {
                        Some('%') => out.push('%'),
                        Some(_) => {
                            converted = true;
                            if let Some(arg) = args.get(next) {
                                out.push_str(arg);
                            }
                            next += 1;
                        }
                        None => out.push('%'),
                    }
                }
                c => out.push(c),
            }
        }
        if !converted || next >= args.len() {
            break;
        }
    }
    out
}

/// The part of an option's value its role applies to (see [`FlagSpec::value_after`]).
fn value_part<'v>(flag: &FlagSpec, value: &'v str) -> Option<&'v str> {
    match &flag.value_after {
        Some(sep) => value.split_once(sep.as_str()).map(|(_, rest)| rest),
        None => Some(value),
    }
}

fn apply_flag(unit: &mut Unit, flag: &FlagSpec) {
    unit.classes.extend(flag.add.iter().copied());
    unit.tags.extend(flag.tags.iter().cloned());
}

/// `--opt=value` → (`--opt`, value); `-ofile` → (`-o`, `file`) when `-o` takes a value.
fn split_option(arg: &str, with_value: &[String]) -> (String, Option<String>) {
    if arg.starts_with("--") {
        if let Some((flag, value)) = arg.split_once('=') {
            return (flag.to_string(), Some(value.to_string()));
        }
        return (arg.to_string(), None);
    }
    if arg.len() > 2 {
        let flag = &arg[..2];
        if with_value.iter().any(|f| f == flag) {
            return (flag.to_string(), Some(arg[2..].to_string()));
        }
    }
    (arg.to_string(), None)
}

/// If `arg` is one of `options` (exactly, `--opt=value`, or a short option with its value
/// attached), return the option's value (None if computed at run time) and how many words the
/// option used.
fn option_value(
    options: &[String],
    arg: &str,
    next: Option<&ShellWord>,
) -> Option<(Option<String>, usize)> {
    for opt in options {
        if arg == opt || is_cluster_ending_with(arg, opt) {
            return Some((next.and_then(ShellWord::literal), 2));
        }
        if opt.starts_with("--") {
            // `--split-str=…` is `--split-string=…` to getopt_long (an unambiguous prefix).
            let (name, value) = match arg.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (arg, None),
            };
            if name.starts_with("--") && name.len() >= 5 && opt.starts_with(name) {
                return Some(match value {
                    Some(value) => (Some(value.to_string()), 1),
                    None => (next.and_then(ShellWord::literal), 2),
                });
            }
        } else if opt.len() == 2
            && opt.starts_with('-')
            && arg.starts_with(opt.as_str())
            && arg.len() > 2
        {
            return Some((Some(arg[2..].to_string()), 1));
        }
    }
    None
}

/// `-i`, `-i.bak`, `-pi`, `-pi.bak`: the in-place option `opt` (`-i`), alone or in a cluster.
fn is_in_place(arg: &str, opt: &str) -> bool {
    let Some(letter) = opt.strip_prefix('-').filter(|l| l.len() == 1) else {
        return arg == opt;
    };
    if arg.starts_with("--") || !arg.starts_with('-') {
        return false;
    }
    let letters = arg[1..].split('.').next().unwrap_or("");
    letters.chars().all(|c| c.is_ascii_alphabetic()) && letters.contains(letter)
}

/// `-pe`, `-lc`: a cluster of single-letter options whose last one is `opt` (`-e`, `-c`), so the
/// next word is `opt`'s value.
fn is_cluster_ending_with(arg: &str, opt: &str) -> bool {
    let Some(letter) = opt
        .strip_prefix('-')
        .filter(|l| l.len() == 1 && !l.starts_with('-'))
    else {
        return false;
    };
    arg.len() > 2
        && !arg.starts_with("--")
        && arg.starts_with('-')
        && arg.ends_with(letter)
        && arg[1..].chars().all(|c| c.is_ascii_alphabetic())
}

use super::kb::glob_matches;

fn is_assignment(arg: &str) -> bool {
    match arg.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

/// `-9`, `-15`: negative numbers (signals, counts) are values, not options.
fn is_number(arg: &str) -> bool {
    arg[1..].chars().all(|c| c.is_ascii_digit())
}

/// The program a command word runs: its file name (`/usr/bin/rm` → `rm`).
/// Where a command's git repository keeps its git directory.
enum GitDir {
    /// `DIR/.git`, a directory.
    Normal(PathBuf),
    /// Anywhere else: a `.git` file pointing away, or a bare repository.
    Elsewhere(PathBuf),
}

/// The git directory git would use in `dir`, as git discovers it (walking up).
fn find_git_dir(dir: &Path) -> Option<GitDir> {
    for d in dir.ancestors() {
        let dot_git = d.join(".git");
        if dot_git.is_dir_for_user() {
            // `commondir` (a linked worktree's pointer) moves config and hooks elsewhere.
            if dot_git.join("commondir").exists_for_user() {
                return Some(GitDir::Elsewhere(dot_git));
            }
            return Some(GitDir::Normal(dot_git));
        }
        if dot_git.is_file_for_user() {
            let target = airlock_userfs::read_to_string(&dot_git)
                .ok()
                .and_then(|t| t.strip_prefix("gitdir:").map(|p| d.join(p.trim())))
                .unwrap_or(dot_git);
            return Some(GitDir::Elsewhere(target));
        }
        // A bare repository: git uses it when run inside it.
        if d.join("HEAD").is_file_for_user()
            && d.join("objects").is_dir_for_user()
            && d.join("refs").is_dir_for_user()
        {
            return Some(GitDir::Elsewhere(d.to_path_buf()));
        }
    }
    None
}

/// The `section[.subsection].key` names (section and key lower-cased, as git compares them)
/// and values of a git config file, parsed by gix-config as git parses it (`[core] key = v` on
/// the header's line, quoting, escapes, continuation lines); `None` when it does not parse.
fn git_config_entries(text: &str) -> Option<Vec<(String, String)>> {
    let meta = gix::config::file::Metadata::from(gix::config::Source::Local);
    let file = gix::config::File::from_bytes_no_includes(text.as_bytes(), meta, Default::default())
        .ok()?;
    let mut entries = Vec::new();
    for section in file.sections() {
        let header = section.header();
        let mut prefix = header.name().to_string().to_ascii_lowercase();
        if let Some(sub) = header.subsection_name() {
            prefix.push('.');
            prefix.push_str(&sub.to_string());
        }
        let mut names: Vec<String> = section.value_names().collect();
        names.sort();
        names.dedup();
        for name in names {
            let key = format!("{prefix}.{}", name.to_ascii_lowercase());
            let values = section.values(&name);
            if values.is_empty() {
                entries.push((key.clone(), "true".into()));
            }
            for value in values {
                entries.push((key.clone(), value.to_string()));
            }
        }
    }
    Some(entries)
}

/// What a task runner was asked to run.
enum Runs {
    /// One package.json script (with its hooks).
    Script(String),
    /// These package.json scripts, those that exist.
    Scripts(Vec<String>),
    Make {
        /// `-C DIR` (each relative to the one before).
        dir: Option<String>,
        /// `-f FILE`, each read in order.
        files: Vec<String>,
        /// An option Airlock cannot follow (a file or directory computed at run time, the
        /// makefile read from standard input): why.
        unseen: Option<String>,
        targets: Vec<String>,
        /// `NAME=value` arguments: they override the Makefile's variables.
        overrides: Vec<(String, String)>,
    },
    Just(Vec<String>),
}

impl Runs {
    /// Read the runner's arguments (after the sub-command): the file option, the targets.
    fn of(from: RunsFrom, spec: &ProgramSpec, rest: &[ShellWord]) -> Self {
        let mut files: Vec<String> = Vec::new();
        let mut dir: Option<String> = None;
        let mut unseen: Option<String> = None;
        let mut positionals = Vec::new();
        let mut overrides = Vec::new();
        let mut k = 0;
        while k < rest.len() {
            let Some(arg) = rest[k].literal() else {
                // A computed target: its name is unknown, so is what runs.
                if from == RunsFrom::Make {
                    unseen = Some(format!("`{}`: a target named at run time", rest[k].raw));
                }
                positionals.push(format!("\u{0}{}", rest[k].raw));
                k += 1;
                continue;
            };
            if arg == "--" {
                // `npm run X -- ARGS`: what follows are the script's arguments.
                if !positionals.is_empty() {
                    break;
                }
            } else if from == RunsFrom::Make && arg.starts_with('-') && arg.len() > 1 {
                // make's options as getopt reads them: `-f FILE`, `-fFILE`, `--file=FILE`,
                // `-C DIR`, `-CDIR`, `--directory=DIR`, clusters (`-sfFILE`).
                let (option, attached) = match arg.split_once('=') {
                    Some((o, v)) if arg.starts_with("--") => (o.to_string(), Some(v.to_string())),
                    _ if arg.starts_with("--") => (arg.clone(), None),
                    _ => {
                        let letters = &arg[1..];
                        match letters.find(|c| "fCjoIlW".contains(c)) {
                            Some(at) => (
                                format!("-{}", &letters[at..at + 1]),
                                Some(letters[at + 1..].to_string()).filter(|v| !v.is_empty()),
                            ),
                            None => (arg.clone(), None),
                        }
                    }
                };
                // make takes any unambiguous prefix of a long option (`--dir=`, `--fil=`,
                // `--make=`): read each as the option it can stand for.
                let option = match option.strip_prefix("--") {
                    Some(name) if !name.is_empty() => {
                        ["--directory", "--file", "--makefile", "--eval"]
                            .into_iter()
                            .find(|long| long[2..].starts_with(name))
                            .map_or(option.clone(), str::to_string)
                    }
                    _ => option,
                };
                let takes_value = spec.options_with_value.contains(&option)
                    || matches!(option.as_str(), "--file" | "--makefile" | "--directory");
                let value = match (&attached, takes_value) {
                    (Some(v), _) => Some(v.clone()),
                    (None, true) => {
                        k += 1;
                        rest.get(k).and_then(ShellWord::literal)
                    }
                    (None, false) => None,
                };
                match option.as_str() {
                    "-f" | "--file" | "--makefile" => match value {
                        Some(f) if f != "-" => files.push(f),
                        _ => unseen = Some(format!("`{arg}`: a makefile Airlock does not see")),
                    },
                    "--eval" => {
                        unseen = Some(format!("`{arg}`: makefile text given on the command line"))
                    }
                    "-C" | "--directory" => match value {
                        Some(d) => {
                            dir = Some(match dir {
                                Some(before) if !d.starts_with('/') => format!("{before}/{d}"),
                                _ => d,
                            })
                        }
                        None => unseen = Some(format!("`{arg}`: a directory known at run time")),
                    },
                    _ => {}
                }
            } else if let Some(value) = arg
                .strip_prefix("--file=")
                .or(arg.strip_prefix("--makefile="))
            {
                files.push(value.to_string());
            } else if matches!(arg.as_str(), "-f" | "--file" | "--makefile") {
                files.extend(rest.get(k + 1).and_then(ShellWord::literal));
                k += 1;
            } else if spec.cwd_options.contains(&arg) {
                dir = rest.get(k + 1).and_then(ShellWord::literal);
                k += 1;
            } else if arg.starts_with('-') {
                if spec.options_with_value.contains(&arg) {
                    k += 1;
                }
            } else if let Some((name, value)) = arg.split_once('=') {
                overrides.push((name.to_string(), value.to_string()));
            } else {
                positionals.push(arg);
            }
            k += 1;
        }
        match from {
            RunsFrom::PackageScript => match positionals.into_iter().next() {
                Some(name) => Runs::Script(name),
                // `npm run` alone lists the scripts.
                None => Runs::Scripts(Vec::new()),
            },
            RunsFrom::PackageScripts => Runs::Scripts(spec.scripts.clone()),
            RunsFrom::Make => Runs::Make {
                dir,
                files,
                unseen,
                targets: positionals,
                overrides,
            },
            RunsFrom::Just => Runs::Just(positionals),
        }
    }
}

/// The arguments a package script is given: the words after `--` (`npm test -- --x`), and for
/// `npm run X` the words after X (as written, quotes kept, to be classified with the script).
fn script_arguments(runs: &Runs, rest: &[ShellWord]) -> Vec<String> {
    if let Some(dash) = rest.iter().position(|w| w.raw == "--") {
        return rest[dash + 1..].iter().map(|w| w.raw.clone()).collect();
    }
    match runs {
        Runs::Script(name) => rest
            .iter()
            .skip_while(|w| w.literal().as_deref() != Some(name.as_str()))
            .skip(1)
            .map(|w| w.raw.clone())
            .collect(),
        // `yarn build --outDir X`, `pnpm test --watch`: yarn and pnpm hand every word to the
        // script (npm takes options for itself; counting them too is the safe side). Not for
        // installs, whose words are packages.
        Runs::Scripts(names)
            if names
                .iter()
                .any(|n| matches!(n.as_str(), "test" | "build" | "start" | "stop" | "restart")) =>
        {
            rest.iter().map(|w| w.raw.clone()).collect()
        }
        _ => Vec::new(),
    }
}

/// The first of `names` in `dir`.
fn find_in(dir: &Path, names: &[&str]) -> Option<PathBuf> {
    names
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.exists_for_user())
}

/// The first of `names` in `dir` or the nearest directory above it that has one.
fn find_upwards(dir: &Path, names: &[&str]) -> Option<PathBuf> {
    dir.ancestors().find_map(|d| find_in(d, names))
}

/// The command line of a `#!` line (without `#!`), if the text has one.
fn shebang(text: &str) -> Option<String> {
    let line = text.lines().next()?.strip_prefix("#!")?;
    Some(line.trim().to_string())
}

fn program_name(word: &str) -> String {
    word.rsplit('/').next().unwrap_or(word).to_string()
}

/// The static prefix of a command's words, and whether that is all of them.
fn static_argv(name: &str, args: &[ShellWord]) -> (Vec<String>, bool) {
    let mut argv = vec![name.to_string()];
    for arg in args {
        match arg.literal() {
            Some(word) => argv.push(word),
            None => return (argv, false),
        }
    }
    (argv, true)
}

fn word_from(text: &str) -> ShellWord {
    ShellWord {
        raw: text.to_string(),
        pieces: vec![WordPiece::Literal(text.to_string())],
    }
}

fn command_text(cmd: &SimpleCommand) -> String {
    let mut text: Vec<String> = cmd
        .assignments
        .iter()
        .map(|(name, value)| format!("{name}={}", value.raw))
        .collect();
    text.extend(cmd.words.iter().map(|w| w.raw.clone()));
    for r in &cmd.redirects {
        text.push(format!("{}{}", redirect_symbol(r.kind), r.target.raw));
    }
    text.join(" ")
}

fn redirect_symbol(kind: shell::RedirectKind) -> &'static str {
    use shell::RedirectKind as K;
    match kind {
        K::Read => "<",
        K::Write => ">",
        K::Append => ">>",
        K::ReadWrite => "<>",
        K::DupIn => "<&",
        K::DupOut => ">&",
        K::HereDoc => "<<",
        K::HereString => "<<<",
    }
}

/// `alias name=value` commands in a script, so later uses of `name` are expanded.
fn collect_aliases(commands: &[SimpleCommand]) -> HashMap<String, String> {
    let mut aliases = HashMap::new();
    for cmd in commands {
        let is_alias = cmd.words.first().and_then(ShellWord::literal).as_deref() == Some("alias");
        if !is_alias {
            continue;
        }
        for word in &cmd.words[1..] {
            if let Some((name, value)) = word.literal().as_deref().and_then(|w| w.split_once('=')) {
                aliases.insert(name.to_string(), value.to_string());
            }
        }
    }
    aliases
}

fn truncate(text: &str) -> String {
    const MAX: usize = 200;
    if text.len() <= MAX {
        return text.to_string();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// `scheme://host/…`, `user@host:path` or `host:path`: not a local path.
fn is_remote_spec(arg: &str) -> bool {
    if arg.contains("://") {
        return true;
    }
    if arg.starts_with('/') || arg.starts_with('.') || arg.starts_with('~') {
        return false;
    }
    match arg.split_once(':') {
        Some((host, _)) => !host.is_empty() && !host.contains('/') && host.len() > 1,
        None => false,
    }
}

/// A URL to a privileged or secret-holding service on this machine (the Docker Engine API on
/// `localhost:2375`, Vault on `:8200`): add what talking to it does, from the knowledge base.
pub(crate) fn local_service(kb: &KnowledgeBase, unit: &mut Unit, url: &str) {
    let Some(parsed) = url
        .contains("://")
        .then(|| url::Url::parse(url).ok())
        .flatten()
    else {
        return;
    };
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback() || ip.is_unspecified(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback() || ip.is_unspecified(),
        None => false,
    };
    let Some(port) = parsed.port() else { return };
    if !loopback {
        return;
    }
    for service in kb.local_services.iter().filter(|s| s.ports.contains(&port)) {
        unit.classes.extend(service.classes.iter().copied());
        unit.tags.extend(service.tags.iter().cloned());
        unit.source
            .push_str(&format!(" (reaches {} on this machine)", service.name));
    }
}

/// The path of a `[user@]host:path` remote (scp, rsync, sftp) on this very machine
/// (`localhost:.ssh/id_rsa`): it is a local file, relative to the home directory.
fn loopback_path(arg: &str) -> Option<String> {
    if arg.contains("://") || !is_remote_spec(arg) {
        return None;
    }
    let (authority, path) = arg.split_once(':')?;
    let host = authority.rsplit('@').next()?.trim_matches(['[', ']']);
    // The machine's own name, not a user's file.
    #[allow(clippy::disallowed_methods)]
    let own = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified())
        || (!own.trim().is_empty() && host.eq_ignore_ascii_case(own.trim()));
    loopback.then(|| path.to_string())
}

/// The host a URL, `user@host:path` remote, or bare `host/path` names.
pub(crate) fn host_of(arg: &str) -> Option<String> {
    // Where URL parsers disagree, the host is not known: curl and wget take
    // `https://docs.rs\@evil.example/` to evil.example, a WHATWG parser to docs.rs.
    if arg.contains(|c: char| c == '\\' || c.is_whitespace() || c.is_control()) {
        return None;
    }
    if arg.contains("://") {
        return url::Url::parse(arg)
            .ok()?
            .host_str()
            .map(|h| h.to_ascii_lowercase());
    }
    if arg.starts_with('/') || arg.starts_with('.') || arg.starts_with('~') || arg.starts_with('-')
    {
        return None;
    }
    // `[host]:path`, `user@[host]:path`: git and ssh take the bracketed name as the host.
    if let Some(open) = arg.find('[')
        && let Some(close) = arg[open..].find(']')
        && arg[..open].split('@').count() <= 2
        && !arg[..open].contains('/')
    {
        let host = &arg[open + 1..open + close];
        return (!host.is_empty()).then(|| host.to_ascii_lowercase());
    }
    let authority = arg.split(['/', ':']).next()?;
    let host = authority.rsplit('@').next()?;
    let looks_like_host = host == "localhost"
        || (host.contains('.')
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'));
    (looks_like_host && !host.is_empty()).then(|| host.to_ascii_lowercase())
}
