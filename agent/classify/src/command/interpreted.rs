//! Interpreters: their options, inline code, the program files they run and the modules those
//! import. Python and JavaScript/TypeScript code is read with a parser ([`crate::code`])
//! and what it does becomes nested units; other languages' code is `unknown`.

use super::{
    CmdInfo, StdinKind, TAG_SCRIPT_COMPUTED, Walker, is_in_place, is_stdin_file, option_value,
    program_name, role_access, substitution_output, truncate, word_from,
};
use crate::code::{
    self, Capability, Effect, Language, PathUse, Report, local::FileLoader, local::LocalFile,
};
use crate::code::{knowledge::Family, local};
use crate::kb::{InterpreterSpec, ProgramSpec, ScriptSpec};
use crate::shell::ShellWord;
use crate::{Access, TAG_PATHS_UNKNOWN, Unit};
use airlock_protocol::ActionClass;
use airlock_userfs::ForUser;
use std::path::{Path, PathBuf};

/// Tag on a unit whose code Airlock read with a parser.
const TAG_CODE_READ: &str = "code-read";

impl Walker<'_, '_> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn interpreter(
        &mut self,
        spec: &InterpreterSpec,
        name: &str,
        words: &[ShellWord],
        mut unit: Unit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        unit.classes.insert(ActionClass::ShellExec);
        if let Some(var) = spec.code_env.iter().find(|v| self.vars.contains_key(*v)) {
            // `PYTHONPATH=tools python3 -c 'import wipe'`, `NODE_OPTIONS=--require=./x.js`.
            unit.classes.insert(ActionClass::Unknown);
            unit.tags.insert("code-env".into());
            unit.source = format!("`{name}` with `{var}` set loads code Airlock does not read");
            out.push(unit.clone());
        }
        // awk's program is its first positional argument.
        let program_is_first_positional = spec.language == Some(Language::Awk);
        let mut program_words: Vec<ShellWord> = Vec::new();
        let mut program_file_given = false;
        let mut in_place = false;
        let mut preloads: Vec<Option<String>> = Vec::new();
        let mut subcommand: Option<usize> = None;
        let mut i = 1;
        while i < words.len() {
            let Some(arg) = words[i].literal() else {
                unit.classes.insert(ActionClass::Unknown);
                unit.tags.insert(TAG_SCRIPT_COMPUTED.into());
                unit.source = format!("`{name}` with arguments computed at run time");
                // `python3 <(echo 'code')`: the program is the substitution's static output.
                let content = if words[i].raw.starts_with("<(") && self.take_budget() {
                    substitution_output(&words[i].raw)
                } else {
                    None
                };
                match content {
                    Some(code) => self.code(&code, name, unit, cwd, info, out),
                    None => out.push(unit),
                }
                return;
            };
            if let Some((code, consumed)) =
                option_value(&spec.inline_options, &arg, words.get(i + 1))
            {
                // `perl -pe CODE FILE…`, `perl -i -pe CODE FILE…` (edited in place), and every
                // further `-e CODE` (`perl -e A -e B` runs both).
                let mut codes = vec![(code, words.get(i + 1).cloned())];
                let mut j = i + consumed;
                while j < words.len() {
                    let word = &words[j];
                    if let Some(a) = word.literal() {
                        if let Some((more, n)) =
                            option_value(&spec.inline_options, &a, words.get(j + 1))
                        {
                            codes.push((more, words.get(j + 1).cloned()));
                            j += n;
                            continue;
                        }
                        if spec.options_with_value.contains(&a) {
                            j += 2;
                            continue;
                        }
                        if a.len() > 1 && a.starts_with('-') {
                            in_place |= spec.in_place_options.iter().any(|o| is_in_place(&a, o));
                            j += 1;
                            continue;
                        }
                    }
                    let access = if in_place {
                        Access::Write
                    } else {
                        Access::Read
                    };
                    self.path_arg(&mut unit, word, access, cwd);
                    j += 1;
                }
                self.preloads(&preloads, name, &mut unit, cwd, info, out);
                let known: Option<Vec<String>> = codes.iter().map(|(c, _)| c.clone()).collect();
                match known {
                    Some(texts) => self.code(&texts.join("\n"), name, unit, cwd, info, out),
                    None => {
                        unit.classes.insert(ActionClass::Unknown);
                        unit.tags.insert(TAG_SCRIPT_COMPUTED.into());
                        unit.source = format!("`{name}` inline code computed at run time");
                        let depth = unit.depth;
                        let text = unit.text.clone();
                        out.push(unit);
                        for (code, word) in codes {
                            let values = match (code, word) {
                                (Some(c), _) => vec![c],
                                (None, Some(w)) => self.candidates(&w, cwd),
                                (None, None) => Vec::new(),
                            };
                            for value in values {
                                if !self.take_budget() {
                                    break;
                                }
                                let holder = Unit::new(text.clone(), depth + 1, "");
                                self.code(&value, name, holder, cwd, info, out);
                            }
                        }
                    }
                }
                return;
            }
            if spec.module_option.as_deref() == Some(arg.as_str()) {
                let rest = &words[(i + 1).min(words.len())..];
                if self.local_module(spec, name, rest, &mut unit, cwd, info, out) {
                    return;
                }
                unit.source = format!("`{name} -m`");
                self.argv(rest, unit, cwd, info, out);
                return;
            }
            if let Some((value, consumed)) =
                option_value(&spec.file_options, &arg, words.get(i + 1))
            {
                // `awk -f prog.awk`: the program is that file.
                program_words.push(match value {
                    Some(_) if consumed == 2 => words[i + 1].clone(),
                    Some(v) => word_from(&v),
                    None => words.get(i + 1).cloned().unwrap_or_else(|| word_from("")),
                });
                program_file_given = true;
                i += consumed;
                continue;
            }
            let short = |o: &str| o.len() == 2 && !o.starts_with("--");
            if spec.unknown_options.iter().any(|o| {
                arg == *o
                    || arg
                        .strip_prefix(o.as_str())
                        .is_some_and(|r| r.starts_with('=') || (short(o) && !arg.starts_with("--")))
            }) {
                unit.classes.insert(ActionClass::Unknown);
                unit.tags.insert("code-options".into());
                unit.source =
                    format!("`{name} {arg}` loads code or settings Airlock does not read");
            }
            if let Some((value, consumed)) =
                option_value(&spec.preload_options, &arg, words.get(i + 1))
            {
                preloads.push(value);
                i += consumed;
                continue;
            }
            if spec.options_with_value.contains(&arg) {
                i += 2;
                continue;
            }
            if arg.len() > 1 && arg.starts_with('-') {
                in_place |= spec.in_place_options.iter().any(|o| is_in_place(&arg, o));
                i += 1;
                continue;
            }
            if program_file_given {
                // The program came from `-f`: the rest are its input files.
                self.path_arg(&mut unit, &words[i], Access::Read, cwd);
                i += 1;
                continue;
            }
            if program_is_first_positional {
                // `awk PROG FILE…`: the files are its input (edited in place with `-i inplace`).
                let access = if in_place {
                    Access::Write
                } else {
                    Access::Read
                };
                for word in &words[i + 1..] {
                    if word
                        .literal()
                        .is_none_or(|l| !l.starts_with('-') && !l.contains('='))
                    {
                        self.path_arg(&mut unit, word, access, cwd);
                    }
                }
                self.code(&arg, name, unit, cwd, info, out);
                return;
            }
            if is_stdin_file(&words[i]) {
                break;
            }
            if subcommand.is_none() {
                if spec.file_subcommands.contains(&arg) {
                    // `deno run [options] FILE`.
                    subcommand = Some(i);
                    i += 1;
                    continue;
                }
                if spec.subs.iter().any(|s| s.names.contains(&arg)) {
                    let root = ProgramSpec {
                        names: vec![name.to_string()],
                        classes: vec![ActionClass::ShellExec],
                        subs: spec.subs.clone(),
                        ..ProgramSpec::default()
                    };
                    self.program(&root, name, words, unit, cwd, info, out);
                    return;
                }
            }
            if let (Some(sub), Some(runner)) = (subcommand, &spec.script_runner)
                && !looks_like_file(&arg, cwd)
            {
                // `bun run build`: a package script, as `npm run build` is.
                let mut rewritten = vec![word_from(runner)];
                rewritten.extend(words[sub..].iter().cloned());
                unit.source = format!("`{name} {}` runs a package script", words[sub].raw);
                self.argv(&rewritten, unit, cwd, info, out);
                return;
            }
            self.preloads(&preloads, name, &mut unit, cwd, info, out);
            self.program_file(spec, name, &words[i], unit, cwd, info, out);
            return;
        }
        self.preloads(&preloads, name, &mut unit, cwd, info, out);
        if program_words.is_empty()
            && info.stdin_text.is_none()
            && let Some(file) = &info.stdin_file
        {
            // `python3 < x.py`: the program is the file standard input comes from.
            program_words.push(file.clone());
        }
        if let Some((first, more)) = program_words.split_first() {
            for word in more {
                self.program_file(spec, name, word, unit.clone(), cwd, info, out);
            }
            self.program_file(spec, name, first, unit, cwd, info, out);
            return;
        }
        self.stdin_program(unit, name, StdinKind::Code, cwd, info, out);
    }

    /// Modules loaded before the program (`node -r ./x.js`): read like `require("./x.js")`.
    fn preloads(
        &mut self,
        preloads: &[Option<String>],
        name: &str,
        unit: &mut Unit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        for preload in preloads {
            let Some(module) = preload else {
                unit.classes.insert(ActionClass::Unknown);
                unit.source = format!("`{name}` preloads a module named at run time");
                continue;
            };
            let code = format!("require({})", serde_json_string(module));
            let holder = Unit::new(format!("{name} preloads {module}"), unit.depth + 1, "")
                .with_class(ActionClass::ShellExec);
            self.read_code(&code, Language::Javascript, name, holder, cwd, info, out);
        }
    }

    /// Inline code, a heredoc or piped static text an interpreter runs.
    pub(super) fn code(
        &mut self,
        text: &str,
        name: &str,
        unit: Unit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        let ctx = self.ctx;
        let analyzer = &ctx.classifier.analyzer;
        match self.interpreter_language(name) {
            Some(language) if language.family().is_some() => {
                self.read_code(text, language, name, unit, cwd, info, out)
            }
            Some(language) => match analyzer.read_small(language, text) {
                Some(report) => {
                    let mut unit = unit;
                    unit.tags.insert("inline-code".into());
                    self.code_units(
                        name,
                        "inline code",
                        unit,
                        report,
                        Vec::new(),
                        cwd,
                        info,
                        out,
                    )
                }
                None => self.code_patterns(text, name, unit, cwd, info, out),
            },
            None => self.code_patterns(text, name, unit, cwd, info, out),
        }
    }

    fn interpreter_language(&self, name: &str) -> Option<Language> {
        match self.ctx.kb().lookup(name)? {
            crate::kb::Entry::Interpreter(i) => self.ctx.kb().interpreters[i].language,
            _ => None,
        }
    }

    /// Parse and analyze code given on the command line; imports resolve against `cwd`.
    /// Python imports from the script's directory (the working directory for `-c` and `-m`)
    /// before its own library: a file there named like a standard module runs instead of it
    /// (`textwrap.py` runs when `python3 -m pip` imports textwrap).
    fn standard_shadowed(&self, unit: &mut Unit, language: Language, root: Option<&Path>) {
        if language.family() != Some(Family::Python) {
            return;
        }
        let Some(root) = root else { return };
        let standard = &self
            .ctx
            .classifier
            .analyzer
            .knowledge()
            .family(Family::Python)
            .standard_modules;
        if let Some(file) = local::shadowed_standard_module(root, standard) {
            unit.classes.insert(ActionClass::Unknown);
            unit.tags.insert("shadows-standard-module".into());
            unit.source.push_str(&format!(
                " (`{file}` in `{}` takes the place of Python's own module of that name)",
                root.display()
            ));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn read_code(
        &mut self,
        text: &str,
        language: Language,
        name: &str,
        mut unit: Unit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        let ctx = self.ctx;
        let analyzer = &ctx.classifier.analyzer;
        self.standard_shadowed(&mut unit, language, cwd);
        let mut loader = FileLoader::new(analyzer, ctx.files(), cwd.map(Path::to_path_buf));
        let report = analyzer.analyze(language, text, None, &mut loader);
        unit.tags.insert("inline-code".into());
        let files = std::mem::take(&mut loader.read);
        self.code_units(name, "inline code", unit, report, files, cwd, info, out);
    }

    /// `python3 FILE`, `node FILE`, `deno run FILE`: the file is read and what it does
    /// classified; a file that cannot be read is `unknown`.
    #[allow(clippy::too_many_arguments)]
    fn program_file(
        &mut self,
        spec: &InterpreterSpec,
        name: &str,
        word: &ShellWord,
        mut unit: Unit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        unit.tags.insert("script-file".into());
        self.path_arg(&mut unit, word, Access::Read, cwd);
        let Some(language) = spec.language else {
            unit.classes.insert(ActionClass::Unknown);
            unit.source = format!("`{name}` runs a program in a language Airlock does not read");
            out.push(unit);
            return;
        };
        let Some(text) = word.literal() else {
            unit.classes.insert(ActionClass::Unknown);
            unit.tags.insert(TAG_SCRIPT_COMPUTED.into());
            unit.source = format!("`{name}` runs a program file named at run time");
            out.push(unit);
            return;
        };
        let lower = text.to_ascii_lowercase();
        if ["http:", "https:", "npm:", "jsr:"]
            .iter()
            .any(|s| lower.starts_with(s))
        {
            unit.classes.insert(ActionClass::ExecRemote);
            unit.classes.insert(ActionClass::NetworkFetch);
            if let Some(host) = super::host_of(&text) {
                unit.hosts.push(host);
            }
            unit.source = format!("`{name}` runs code from `{text}`");
            out.push(unit);
            return;
        }
        let Some(path) = self.word_path(word, cwd) else {
            unit.classes.insert(ActionClass::Unknown);
            unit.source =
                format!("`{name}` runs a program file in a directory only known at run time");
            out.push(unit);
            return;
        };
        let ctx = self.ctx;
        let analyzer = &ctx.classifier.analyzer;
        let language = path
            .extension()
            .and_then(|e| e.to_str())
            .and_then(|e| analyzer.knowledge().language_of_extension(e))
            .filter(|l| l.family().is_some() && l.family() == language.family())
            .unwrap_or(language);
        // Python looks imports up next to the script, links resolved.
        let real = airlock_userfs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        let root = real.parent().map(Path::to_path_buf);
        self.standard_shadowed(&mut unit, language, root.as_deref());
        let mut loader = FileLoader::new(analyzer, ctx.files(), root);
        match loader.run_file(&path, language) {
            Ok(report) => {
                let files = std::mem::take(&mut loader.read);
                let kind = format!("program `{text}`");
                self.code_units(name, &kind, unit, report, files, cwd, info, out);
            }
            Err(why) => {
                unit.classes.insert(ActionClass::Unknown);
                unit.source = format!("`{name}` runs `{text}`, which {why}");
                out.push(unit);
            }
        }
    }

    /// `python -m mod`: a module of the project (`tools/wipe.py`, a package's `__main__.py`) is
    /// read like a program file. Returns false when the module is not a local one.
    #[allow(clippy::too_many_arguments)]
    fn local_module(
        &mut self,
        spec: &InterpreterSpec,
        name: &str,
        rest: &[ShellWord],
        unit: &mut Unit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) -> bool {
        let Some(family) = spec.language.and_then(|l| l.family()) else {
            return false;
        };
        let Some(module) = rest.first().and_then(ShellWord::literal) else {
            return false;
        };
        let ctx = self.ctx;
        let analyzer = &ctx.classifier.analyzer;
        if family == Family::Python {
            self.standard_shadowed(unit, Language::Python, cwd);
        }
        let mut loader = FileLoader::new(analyzer, ctx.files(), cwd.map(Path::to_path_buf));
        let import = |spec: &str| code::Import {
            family,
            spec: spec.to_string(),
            level: 0,
        };
        use code::Loader as _;
        let loaded = loader.load(&import(&module));
        let mut report = Report::default();
        match loaded {
            code::Loaded::NotLocal => return false,
            code::Loaded::Unreadable(why) => {
                let mut e = Effect::new(&module, format!("runs module `{module}`, which {why}"));
                e.caps.insert(Capability::Dynamic);
                report.effects.push(e);
            }
            code::Loaded::Local(_) => {
                // A package runs its `__main__`.
                if let code::Loaded::Unreadable(why) =
                    loader.load(&import(&format!("{module}.__main__")))
                {
                    let mut e =
                        Effect::new(&module, format!("runs module `{module}`, which {why}"));
                    e.caps.insert(Capability::Dynamic);
                    report.effects.push(e);
                }
            }
        }
        let files = std::mem::take(&mut loader.read);
        let mut unit = std::mem::replace(unit, Unit::new("", 0, ""));
        unit.tags.insert("script-file".into());
        let kind = format!("module `{module}`");
        self.code_units(name, &kind, unit, report, files, cwd, info, out);
        true
    }
}

mod effects;

use effects::*;
