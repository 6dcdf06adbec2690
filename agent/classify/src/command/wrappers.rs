//! Programs that run other commands: wrappers, shells, script files, stdin programs, eval.

use super::*;

impl Walker<'_, '_> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn wrapper(
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
                .any(|o| crate::kb::option_matches(o, &arg))
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
    pub(crate) fn input_items(
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
                    && let Some((paths, trees, follows, any_names)) =
                        self.listed_paths.get(&(scope, pipeline, pos - 1))
                {
                    // Whole trees: the names in them are anyone's (a cloned repository's),
                    // and split at anything but NUL one becomes several arguments
                    // (`x --checkpoint-action=exec=sh e.sh` for `| xargs tar cf a.tar`).
                    if *any_names && !matches!(split, ItemSplit::At(Some('\0'))) {
                        unit.classes.insert(ActionClass::Unknown);
                        unit.source.push_str(
                            " (the names in the trees, split at blanks, may be other arguments)",
                        );
                    }
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
    pub(crate) fn shell(
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
    pub(crate) fn script_file(
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
    pub(crate) fn read_run_file(&mut self, unit: &mut Unit, path: &Path) -> Option<String> {
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
    pub(crate) fn run_file(
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
    pub(crate) fn stdin_program(
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

    pub(crate) fn eval(
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
}
