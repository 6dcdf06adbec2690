//! A program read through its knowledge-base entry: input commands, included and option files, listed paths.

use super::*;

impl Walker<'_, '_> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn program(
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
    pub(crate) fn input_commands(
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
    pub(crate) fn included_files(&mut self, unit: &mut Unit) {
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
                    crate::lexical_normalize(&dir.join(&name))
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
    pub(crate) fn option_files(
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
    pub(crate) fn list_paths(&mut self, unit: &Unit, cwd: Option<&Path>, info: &CmdInfo<'_>) {
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
            .insert(info.pipeline, (listed, true, false, false));
    }
}
