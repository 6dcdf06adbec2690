//! A simple command: the directory it runs in, its environment assignments, its argv.

use super::*;

impl Walker<'_, '_> {
    /// The directory `cd`/`pushd` moves to: `Some(None)` when only known at run time,
    /// `None` when `cmd` does not change directory.
    pub(crate) fn directory_change(
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
                    Some(crate::lexical_normalize(&path))
                }
            }
        })
    }

    pub(crate) fn simple(
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
    pub(crate) fn indirect_env_assignment(&self, cmd: &SimpleCommand) -> Option<String> {
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
    pub(crate) fn arithmetic_in(&self, cmd: &SimpleCommand) -> Option<String> {
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
    pub(crate) fn wrapper_cwd(
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
    pub(crate) fn env_assignment(
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
    pub(crate) fn writable_program_dir(&self, value: &ShellWord) -> Option<String> {
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
            let path = crate::lexical_normalize(Path::new(&dir));
            let inside_workspace = self.ctx.workspace.is_some_and(|ws| path.starts_with(ws));
            let in_scratch = scratch.iter().any(|s| path.starts_with(s));
            if !dir.starts_with('/') || inside_workspace || in_scratch {
                return Some(dir);
            }
        }
        None
    }

    /// Classify an argument vector. `unit` carries what enclosing wrappers already found.
    pub(crate) fn argv(
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
}
