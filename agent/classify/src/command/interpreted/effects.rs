//! What code read with a parser does, as units: scripts in small languages, effects, the paths
//! and patterns code names.

use super::*;

impl Walker<'_, '_> {
    /// A program that runs a script in a small language (`sed SCRIPT FILE`): the script, given
    /// inline or in a file, is read; one Airlock cannot read makes the command `unknown`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn program_script(
        &mut self,
        spec: &ScriptSpec,
        name: &str,
        rest: &[ShellWord],
        unit: Unit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        let mut scripts: Vec<Option<String>> = Vec::new();
        let mut positional_script = true;
        let mut i = 0;
        while i < rest.len() {
            let Some(arg) = rest[i].literal() else {
                if positional_script && scripts.is_empty() {
                    scripts.push(None);
                    positional_script = false;
                }
                i += 1;
                continue;
            };
            if spec.safe_options.contains(&arg) {
                // `sed --sandbox`: no commands, no files beyond the input.
                out.push(unit);
                return;
            }
            if let Some((value, consumed)) = option_value(&spec.options, &arg, rest.get(i + 1)) {
                scripts.push(value);
                positional_script = false;
                i += consumed;
                continue;
            }
            if let Some((value, consumed)) = option_value(&spec.file_options, &arg, rest.get(i + 1))
            {
                let text = value.and_then(|v| {
                    let path = self.code_dir(&v, cwd)?;
                    match self.ctx.files().read(&path) {
                        crate::files::FileContent::Text(t) => Some(t.to_string()),
                        crate::files::FileContent::Unreadable(_) => None,
                    }
                });
                scripts.push(text);
                positional_script = false;
                i += consumed;
                continue;
            }
            if spec.options_with_value.contains(&arg) {
                i += 2;
                continue;
            }
            if arg.starts_with('-') && arg.len() > 1 {
                i += 1;
                continue;
            }
            if positional_script && scripts.is_empty() {
                scripts.push(Some(arg));
                positional_script = false;
            }
            i += 1;
        }
        let ctx = self.ctx;
        let analyzer = &ctx.classifier.analyzer;
        let mut report = Report::default();
        for script in &scripts {
            match script
                .as_deref()
                .and_then(|s| analyzer.read_small(spec.language, s))
            {
                Some(r) => report.effects.extend(r.effects),
                None => {
                    let mut e = Effect::new(
                        script.as_deref().unwrap_or(""),
                        format!("{} script Airlock cannot read", spec.language.as_str()),
                    );
                    e.caps.insert(Capability::Dynamic);
                    report.effects.push(e);
                }
            }
        }
        if report.effects.is_empty() {
            out.push(unit);
            return;
        }
        self.code_units(name, "script", unit, report, Vec::new(), cwd, info, out);
    }

    /// Units for what code does: the interpreter's unit, then one nested unit per effect (with
    /// the commands it runs nested below), then each local file it imports with its effects.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn code_units(
        &mut self,
        name: &str,
        kind: &str,
        mut unit: Unit,
        report: Report,
        files: Vec<LocalFile>,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        unit.tags.insert(TAG_CODE_READ.into());
        let depth = unit.depth;
        // Where relative paths point: the working directory, and wherever the code changes to.
        let all_effects = || {
            report
                .effects
                .iter()
                .chain(files.iter().flat_map(|f| f.report.effects.iter()))
        };
        let mut bases: Vec<Option<PathBuf>> = vec![cwd.map(Path::to_path_buf)];
        for e in all_effects() {
            for dir in &e.dirs {
                let resolved = dir.as_deref().and_then(|d| self.code_dir(d, cwd));
                if !bases.contains(&resolved) {
                    bases.push(resolved);
                }
            }
        }
        // Every path the code mentions may be read (`open(".env").read()`).
        for literal in &report.literals {
            if code::looks_like_path(literal) {
                self.code_path(&mut unit, literal, Access::Read, cwd);
            }
        }
        let has = |cap: Capability| all_effects().any(|e| e.caps.contains(&cap));
        if has(Capability::Environment) && has(Capability::Process) {
            unit.classes.insert(ActionClass::Unknown);
            unit.tags.insert("environment-changed".into());
        }
        let reads_unknown = all_effects().any(|e| e.paths_unknown.contains(&PathUse::Read));
        if reads_unknown && (has(Capability::Network) || has(Capability::Process)) {
            // What it sends could be any file.
            unit.classes.insert(ActionClass::Unknown);
            unit.tags.insert(TAG_PATHS_UNKNOWN.into());
        }
        let whats: Vec<&str> = report.effects.iter().map(|e| e.what.as_str()).collect();
        unit.source = if whats.is_empty() {
            format!("`{name}` {kind}, read: nothing beyond computing")
        } else {
            format!("`{name}` {kind}, read: {}", summarize(&whats))
        };
        if unit.tags.contains("environment-changed") {
            unit.source
                .push_str(" (changes the environment of the processes it starts)");
        }
        out.push(unit);
        for effect in &report.effects {
            self.effect_unit(name, effect, depth + 1, &bases, cwd, info, out);
        }
        for file in files {
            let shown = file.path.display().to_string();
            let mut holder = Unit::new(
                shown.clone(),
                depth + file.depth,
                format!("`{name}` imports `{shown}`, read"),
            );
            holder.tags.insert(TAG_CODE_READ.into());
            self.ctx.touch(&mut holder, file.path.clone(), Access::Read);
            for literal in &file.report.literals {
                if code::looks_like_path(literal) {
                    self.code_path(&mut holder, literal, Access::Read, cwd);
                }
            }
            let inner = holder.depth + 1;
            out.push(holder);
            for effect in &file.report.effects {
                self.effect_unit(name, effect, inner, &bases, cwd, info, out);
            }
        }
    }

    /// One effect as a unit; the commands it runs are classified below it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn effect_unit(
        &mut self,
        name: &str,
        effect: &Effect,
        depth: usize,
        bases: &[Option<PathBuf>],
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        let mut unit = Unit::new(
            effect.at.clone(),
            depth,
            format!("`{name}` code: {}", effect.what),
        );
        unit.tags.insert(TAG_CODE_READ.into());
        unit.tags.extend(effect.tags.iter().cloned());
        for cap in &effect.caps {
            match cap {
                Capability::Process => {
                    unit.classes.insert(ActionClass::ShellExec);
                }
                Capability::Network => {
                    unit.classes.insert(ActionClass::NetworkFetch);
                }
                Capability::Identity => {
                    unit.classes.insert(ActionClass::AccessChange);
                    unit.tags.insert("identity-change".into());
                }
                Capability::RemoteCode => {
                    unit.classes.insert(ActionClass::ExecRemote);
                    unit.classes.insert(ActionClass::NetworkFetch);
                }
                Capability::Dynamic => {
                    unit.classes.insert(ActionClass::Unknown);
                    unit.tags.insert("code-dynamic".into());
                }
                Capability::Chdir | Capability::Environment => {
                    unit.classes.insert(ActionClass::ShellExec);
                }
                Capability::FileRead
                | Capability::FileWrite
                | Capability::FileDelete
                | Capability::FileChmod => {}
            }
        }
        unit.hosts.extend(effect.hosts.iter().cloned());
        for url in &effect.urls {
            crate::command::local_service(self.ctx.kb(), &mut unit, url);
        }
        if effect.hosts_unknown && effect.caps.contains(&Capability::Network) {
            unit.tags.insert("hosts-unknown".into());
        }
        let patterns = effect.tags.iter().any(|t| t == TAG_GLOB_PATTERN);
        for (path, use_) in &effect.paths {
            let access = path_access(*use_);
            // A pattern (`glob.glob("/root/.ss*/id*")`) lists names below its fixed directory.
            let fixed;
            let path = if patterns {
                fixed = fixed_directory(path);
                &fixed
            } else {
                path
            };
            if access == Access::Write {
                // The code writes a file; where it is adds the location's classes.
                unit.classes.insert(ActionClass::FileWrite);
            }
            for base in bases {
                self.code_path_in(&mut unit, path, access, base.as_deref());
            }
        }
        for use_ in &effect.paths_unknown {
            unit.tags.insert(TAG_PATHS_UNKNOWN.into());
            match use_ {
                PathUse::Read => {
                    // Any file, a secret as well: only what is understood is allowed.
                    unit.classes.insert(ActionClass::Read);
                    unit.classes.insert(ActionClass::Unknown);
                }
                PathUse::Write => {
                    unit.classes.insert(ActionClass::FileWrite);
                    unit.classes.insert(ActionClass::Unknown);
                }
                PathUse::Delete => {
                    unit.classes.insert(ActionClass::FileDelete);
                    unit.classes.insert(ActionClass::Unknown);
                }
                PathUse::Chmod => {
                    unit.classes.insert(ActionClass::Unknown);
                }
            }
        }
        // A process started with no command Airlock takes apart (`os.posix_spawn`, `os.fork`,
        // `os.kill`, `child_process.fork`): what it runs or stops is not known.
        if effect.caps.contains(&Capability::Process)
            && effect.commands.is_empty()
            && !effect.command_unknown
        {
            unit.classes.insert(ActionClass::Unknown);
            unit.source
                .push_str(" (starts or signals processes in a way Airlock does not take apart)");
        }
        if effect.command_unknown {
            unit.classes.insert(ActionClass::Unknown);
            unit.tags.insert(TAG_SCRIPT_COMPUTED.into());
            unit.source
                .push_str(" (starts a process whose command Airlock cannot read)");
        }
        // A process started after the code changed directory runs there.
        let process_cwds: Vec<Option<PathBuf>> = match &effect.cwd {
            None => bases.to_vec(),
            Some(Some(dir)) => vec![self.code_dir(dir, cwd)],
            Some(None) => vec![None],
        };
        out.push(unit);
        let runs = effect
            .commands
            .iter()
            .flat_map(|c| process_cwds.iter().map(move |d| (c, d.clone())));
        for (command, process_cwd) in runs {
            if !self.take_budget() {
                out.push(
                    Unit::new(
                        truncate(command),
                        depth + 1,
                        "more commands than Airlock follows",
                    )
                    .with_class(ActionClass::Unknown),
                );
                break;
            }
            // The code may feed the process's standard input (`input=`, `communicate`,
            // `print | "cmd"`): a shell or interpreter started so runs a program Airlock cannot
            // see. Classified inside a pipe, as `… | (cmd)` would be.
            if crate::shell::parse_script(command).is_ok() {
                let piped = format!(": | (\n{command}\n)");
                let mut nested = Vec::new();
                let dir = process_cwd.as_deref();
                self.script(&piped, dir, depth, info.nesting + 1, &mut nested);
                nested.retain(|u| !(u.depth == depth && u.text == ":"));
                out.extend(nested);
            } else {
                let dir = process_cwd.as_deref();
                self.script(command, dir, depth + 1, info.nesting + 1, out);
            }
        }
    }

    /// A directory written in code, resolved like the paths are.
    pub(crate) fn code_dir(&self, dir: &str, cwd: Option<&Path>) -> Option<PathBuf> {
        let home = &self.ctx.classifier.env.home;
        if dir == "~" {
            Some(home.clone())
        } else if let Some(rest) = dir.strip_prefix("~/") {
            Some(home.join(rest))
        } else if dir.starts_with('/') {
            Some(PathBuf::from(dir))
        } else {
            cwd.map(|c| crate::lexical_normalize(&c.join(dir)))
        }
    }

    /// Touch a path written in code relative to `base`; with no base (a directory only known at
    /// run time) a relative path is unknown, and so is a change to it.
    pub(crate) fn code_path_in(
        &mut self,
        unit: &mut Unit,
        literal: &str,
        access: Access,
        base: Option<&Path>,
    ) {
        let absolute = literal == "~" || literal.starts_with("~/") || literal.starts_with('/');
        if !absolute && base.is_none() {
            unit.tags.insert(TAG_PATHS_UNKNOWN.into());
            if access != Access::Read {
                unit.classes.insert(ActionClass::Unknown);
            }
            return;
        }
        self.code_path(unit, literal, access, base);
    }

    /// Code in a language Airlock has no parser for: `unknown`, with what the knowledge base's
    /// patterns find added (so a known danger still decides stricter).
    pub(crate) fn code_patterns(
        &mut self,
        code_text: &str,
        name: &str,
        mut unit: Unit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        unit.classes.insert(ActionClass::Unknown);
        unit.tags.insert("code-unread".into());
        let findings = self.ctx.classifier.code.scan(code_text);
        unit.classes.extend(findings.classes.iter().copied());
        unit.tags.extend(findings.tags.iter().cloned());
        if !findings.uncaptured.is_empty() {
            unit.tags.insert(TAG_PATHS_UNKNOWN.into());
        }
        unit.tags.insert("inline-code".into());
        let literals = code::string_literals(code_text);
        let path_literals: Vec<&String> = literals
            .iter()
            .filter(|l| code::looks_like_path(l))
            .collect();
        // Every path the code mentions may be read (`open(".env").read()`).
        for literal in &path_literals {
            self.code_path(&mut unit, literal, Access::Read, cwd);
        }
        // Paths passed to a deleting or writing call as literals.
        for (path, role) in &findings.targets {
            if let Some(access) = role_access(*role) {
                self.code_path(&mut unit, path, access, cwd);
            }
        }
        // A deleting or writing call whose path is in a variable: any path the code mentions
        // may be the one (`p = ".claude/settings.json"; open(p, "w")`).
        let mut uncaptured: Vec<Access> = findings
            .uncaptured
            .iter()
            .filter_map(|r| role_access(*r))
            .collect();
        uncaptured.dedup();
        for access in uncaptured {
            let candidates: Vec<&&String> = path_literals
                .iter()
                .filter(|l| !matches!(l.as_str(), "/" | "." | ".." | "~"))
                .collect();
            for literal in candidates {
                self.code_path(&mut unit, literal, access, cwd);
            }
        }
        unit.source = if findings.matched.is_empty() {
            format!("`{name}` code in a language Airlock does not parse")
        } else {
            format!(
                "`{name}` code in a language Airlock does not parse; patterns found: {}",
                findings.matched.join(", ")
            )
        };
        let depth = unit.depth;
        let mut nested = Vec::new();
        if findings.spawns {
            for literal in &literals {
                if self.looks_like_command(literal) {
                    self.script(literal, cwd, depth + 1, info.nesting + 1, &mut nested);
                }
            }
            // `system(["rm", "-rf", "/"])`: an argument vector as a list of strings.
            for list in code::string_lists(code_text) {
                if list.len() > 1 && self.looks_like_command(&list[0]) && self.take_budget() {
                    let command = list
                        .iter()
                        .map(|w| format!("'{}'", w.replace('\'', "'\\''")))
                        .collect::<Vec<_>>()
                        .join(" ");
                    self.script(&command, cwd, depth + 1, info.nesting + 1, &mut nested);
                }
            }
        }
        out.push(unit);
        out.extend(nested);
    }

    /// Touch a path written in code: `~/` is home, relative paths are against `cwd`.
    pub(crate) fn code_path(
        &mut self,
        unit: &mut Unit,
        literal: &str,
        access: Access,
        cwd: Option<&Path>,
    ) {
        let path = if literal == "~" {
            Some(self.ctx.classifier.env.home.clone())
        } else if let Some(rest) = literal.strip_prefix("~/") {
            Some(self.ctx.classifier.env.home.join(rest))
        } else if literal.starts_with('/') {
            Some(PathBuf::from(literal))
        } else {
            cwd.map(|dir| dir.join(literal))
        };
        match path {
            Some(path) => {
                // Code writing a file that runs later (`open('.npmrc', 'w')`): what it writes
                // there is not followed, so it is judged like a shell redirection.
                self.ctx.touch_judged(unit, path, access, None);
            }
            None => {
                unit.tags.insert(TAG_PATHS_UNKNOWN.into());
            }
        }
    }

    pub(crate) fn looks_like_command(&self, literal: &str) -> bool {
        let Some(first) = literal.split_whitespace().next() else {
            return false;
        };
        let name = program_name(first);
        self.ctx.kb().lookup(&name).is_some() || name == "eval"
    }
}

pub(crate) fn path_access(u: PathUse) -> Access {
    match u {
        PathUse::Read => Access::Read,
        PathUse::Write => Access::Write,
        PathUse::Delete => Access::Delete,
        PathUse::Chmod => Access::Chmod,
    }
}

/// Whether a word after `bun run` names a file rather than a package script.
pub(crate) fn looks_like_file(arg: &str, cwd: Option<&Path>) -> bool {
    if arg.contains('/') || arg.contains(':') {
        return true;
    }
    let has_code_extension = Path::new(arg)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| {
            matches!(
                e,
                "js" | "mjs" | "cjs" | "ts" | "mts" | "cts" | "tsx" | "jsx"
            )
        });
    has_code_extension || cwd.is_some_and(|c| c.join(arg).is_file_for_user())
}

/// A string as a JavaScript string literal.
pub(crate) fn serde_json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// The first few names of what code does, for a unit's source.
pub(crate) fn summarize(whats: &[&str]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for w in whats {
        if !seen.contains(w) {
            seen.push(w);
        }
    }
    if seen.len() > 4 {
        format!("{}, … ({} in all)", seen[..4].join(", "), seen.len())
    } else {
        seen.join(", ")
    }
}

/// Tag of a code effect whose path arguments are wildcard patterns (`glob.glob`).
pub(crate) const TAG_GLOB_PATTERN: &str = "glob-pattern";

/// The directory before the first wildcard of a pattern: `/root/.ss*/id*` → `/root`,
/// `src/**/*.py` → `src`, `*.py` → `.`.
pub(crate) fn fixed_directory(pattern: &str) -> String {
    let Some(at) = pattern.find(['*', '?', '[', '{']) else {
        return pattern.to_string();
    };
    match pattern[..at].rfind('/') {
        Some(0) => "/".into(),
        Some(slash) => pattern[..slash].to_string(),
        None => ".".into(),
    }
}
