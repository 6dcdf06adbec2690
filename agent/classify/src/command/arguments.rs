//! A command's arguments through its knowledge-base roles: files written into directories, links, nested commands.

use super::*;

impl Walker<'_, '_> {
    /// Read a command's arguments through its knowledge-base entry. Returns the classes that
    /// replace the entry's own when a flag says so (`crontab -l` only reads).
    pub(crate) fn arguments(
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
                if spec.computed_words_unknown && !options_done {
                    unit.classes.insert(ActionClass::Unknown);
                    unit.source.push_str(
                        " (a word only known at run time may be an option that runs a command)",
                    );
                }
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
            if arg == "--" && spec.expression.is_some() {
                // find: `--` ends the options before the start points, not the expression
                // (`find -- ~ -delete` deletes).
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
            if let Some(expression) = &spec.expression
                && !find_option
                && (arg.starts_with('-') && arg.len() > 1 || expression.begins.contains(&arg))
            {
                self.find_expression(expression, &rest[j..], &positionals, unit, cwd, info, out);
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
        if let Some(expression) = &spec.expression {
            // `find DIR` alone: no expression.
            self.find_expression(expression, &[], &positionals, unit, cwd, info, out);
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
                    crate::kb::option_matches(o, &a) || o.len() == 2 && a.starts_with(o.as_str())
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
    pub(crate) fn written_into_directory(
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
    pub(crate) fn members_written(
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
    pub(crate) fn links(
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
    pub(crate) fn nested_command(
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
    pub(crate) fn script_word(
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
}
