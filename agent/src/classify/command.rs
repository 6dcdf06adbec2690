//! Classifying shell scripts: every simple command at every depth, wrappers unwrapped, shells'
//! and interpreters' inline scripts re-parsed, each command's arguments read through the
//! knowledge base.

use super::kb::{ArgRole, Entry, FlagSpec, InterpreterSpec, ProgramSpec, ShellSpec, WrapperSpec};
use super::shell::{self, ShellWord, SimpleCommand, WordPiece};
use super::{Access, Ctx, TAG_PATHS_UNKNOWN, Unit, code};
use airlock_protocol::ActionClass;
use globset::Glob;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Re-parsing (`bash -c`, `eval`, aliases, heredocs) deeper than this is refused as `unknown`.
const MAX_NESTING: usize = 12;

/// Classify a shell script run in `cwd`; units are at `depth` and deeper.
pub(crate) fn classify_script(ctx: &Ctx<'_>, script: &str, cwd: &Path, depth: usize) -> Vec<Unit> {
    let mut walker = Walker {
        ctx,
        next_scope: 0,
        stdout_text: HashMap::new(),
    };
    let mut units = Vec::new();
    walker.script(script, Some(cwd), depth, 0, &mut units);
    units
}

struct Walker<'a, 'b> {
    ctx: &'a Ctx<'b>,
    next_scope: usize,
    /// Static text a command writes to stdout (`echo …`, `cat <<EOF`), by pipeline position, so a
    /// shell reading a pipe can have its script classified.
    stdout_text: HashMap<(usize, usize, usize), String>,
}

/// What a simple command's surroundings say about it.
struct CmdInfo<'p> {
    stdin_text: Option<String>,
    /// (scope, pipeline id, position)
    pipeline: (usize, usize, usize),
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
        let mut pipeline_sizes: HashMap<usize, usize> = HashMap::new();
        for cmd in &parsed.commands {
            *pipeline_sizes.entry(cmd.pipeline_id).or_default() += 1;
        }
        let first_new = out.len();
        // `cd` changes the directory of the commands after it, at its depth and deeper, until
        // a command at a shallower depth (the end of a subshell) comes.
        let mut dirs: Vec<(usize, Option<PathBuf>)> = Vec::new();
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
                pipeline: (scope, cmd.pipeline_id, cmd.pipeline_pos),
                piped: pipeline_sizes.get(&cmd.pipeline_id).copied().unwrap_or(1) > 1,
                in_function: cmd.in_function.clone(),
                background: cmd.background,
                functions: &functions,
                aliases: &aliases,
                nesting,
            };
            self.simple(cmd, here.as_deref(), depth + cmd.depth, &info, out);
        }
        self.resolve_piped_scripts(out, first_new, cwd, depth, nesting);
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
        Some(match target {
            None => Some(self.ctx.classifier.env.home.clone()),
            Some(w) if w.literal().as_deref() == Some("-") => None,
            Some(w) => self
                .word_path(w, here)
                .map(|p| super::lexical_normalize(&p)),
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
        if cmd.words.is_empty() {
            if !unit.paths.is_empty() || !unit.tags.is_empty() {
                unit.source = "redirection".into();
                out.push(unit);
            }
            return;
        }
        if let Some(text) = static_stdout(cmd) {
            self.stdout_text.insert(info.pipeline, text);
        }
        self.argv(&cmd.words, unit, cwd, info, out);
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
        let Some(name_as_written) = first.literal() else {
            unit.classes.insert(ActionClass::Unknown);
            unit.source = "program name is computed at run time".into();
            out.push(unit);
            return;
        };
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
        let kb = self.ctx.kb();
        match kb.lookup(&name) {
            Some(Entry::Wrapper(i)) => {
                let spec = kb.wrappers[i].clone();
                self.wrapper(&spec, &name, words, unit, cwd, info, out);
            }
            Some(Entry::Shell(i)) => {
                let spec = kb.shells[i].clone();
                self.shell(&spec, &name, words, unit, cwd, info, out);
            }
            Some(Entry::Interpreter(i)) => {
                let spec = kb.interpreters[i].clone();
                self.interpreter(&spec, &name, words, unit, cwd, info, out);
            }
            Some(Entry::Program(i)) => {
                let spec = kb.programs[i].clone();
                self.program(&spec, &name, words, unit, cwd, info, out);
            }
            None if name == "eval" => self.eval(words, unit, cwd, info, out),
            None if name == "source" || name == "." => {
                unit.classes.insert(ActionClass::ShellExec);
                unit.source = "runs a script file in the current shell".into();
                if let Some(w) = words.get(1) {
                    self.path_arg(&mut unit, w, Access::Read, cwd);
                }
                out.push(unit);
            }
            None => {
                unit.classes.insert(ActionClass::ShellExec);
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
        let mut i = 1;
        let mut skipped = 0;
        let mut ran_script = false;
        while i < words.len() {
            let Some(arg) = words[i].literal() else { break };
            if arg == "--" {
                i += 1;
                break;
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
                    }
                }
                ran_script = true;
                i += consumed;
                continue;
            }
            if spec.options_with_value.contains(&arg) {
                i += 2;
                continue;
            }
            if arg.len() > 1 && arg.starts_with('-') {
                i += 1;
                continue;
            }
            if spec.skip_assignments && is_assignment(&arg) {
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
            } else if spec.add.is_empty() {
                unit.classes.insert(ActionClass::Read);
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
        self.argv(rest, unit, cwd, info, out);
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
        let mut script_file = None;
        while i < words.len() {
            let Some(arg) = words[i].literal() else {
                if !command_flag {
                    script_file = Some(i);
                }
                break;
            };
            if command_flag {
                break;
            }
            if arg == "--" {
                i += 1;
                if i < words.len() {
                    script_file = Some(i);
                }
                break;
            }
            if spec.options_with_value.contains(&arg) {
                i += 2;
                continue;
            }
            if (arg.starts_with('-') || arg.starts_with('+')) && arg.len() > 1 {
                if !arg.starts_with("--") && arg[1..].contains('c') {
                    command_flag = true;
                }
                i += 1;
                continue;
            }
            script_file = Some(i);
            break;
        }
        if command_flag {
            match words.get(i).map(ShellWord::literal) {
                Some(Some(script)) => {
                    unit.source = format!("`{name} -c`: its script is classified below");
                    out.push(unit.clone());
                    self.script(&script, cwd, unit.depth + 1, info.nesting + 1, out);
                }
                Some(None) => {
                    unit.classes.insert(ActionClass::Unknown);
                    unit.source = format!("`{name} -c` with a script computed at run time");
                    out.push(unit);
                }
                None => {
                    unit.classes.insert(ActionClass::Unknown);
                    unit.source = format!("`{name} -c` without a script");
                    out.push(unit);
                }
            }
            return;
        }
        if let Some(idx) = script_file {
            unit.source = format!("`{name}` runs a script file");
            unit.tags.insert("script-file".into());
            self.path_arg(&mut unit, &words[idx], Access::Read, cwd);
            out.push(unit);
            return;
        }
        self.stdin_program(unit, name, StdinKind::Shell, cwd, info, out);
    }

    #[allow(clippy::too_many_arguments)]
    fn interpreter(
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
        let program_is_first_positional = matches!(name, "awk" | "gawk" | "mawk" | "nawk");
        let mut program_file_given = false;
        let mut i = 1;
        while i < words.len() {
            let Some(arg) = words[i].literal() else {
                unit.classes.insert(ActionClass::Unknown);
                unit.source = format!("`{name}` with arguments computed at run time");
                out.push(unit);
                return;
            };
            if let Some((code, _)) = option_value(&spec.inline_options, &arg, words.get(i + 1)) {
                match code {
                    Some(code) => self.code(&code, name, unit, cwd, info, out),
                    None => {
                        unit.classes.insert(ActionClass::Unknown);
                        unit.source = format!("`{name}` inline code computed at run time");
                        out.push(unit);
                    }
                }
                return;
            }
            if spec.module_option.as_deref() == Some(arg.as_str()) {
                let rest = &words[(i + 1).min(words.len())..];
                unit.source = format!("`{name} -m`");
                self.argv(rest, unit, cwd, info, out);
                return;
            }
            if spec.options_with_value.contains(&arg) {
                if arg == "-f" {
                    program_file_given = true;
                }
                i += 2;
                continue;
            }
            if arg.len() > 1 && arg.starts_with('-') {
                i += 1;
                continue;
            }
            if program_is_first_positional && !program_file_given {
                self.code(&arg, name, unit, cwd, info, out);
                return;
            }
            unit.source = format!("`{name}` runs a program file");
            unit.tags.insert("script-file".into());
            self.path_arg(&mut unit, &words[i], Access::Read, cwd);
            out.push(unit);
            return;
        }
        self.stdin_program(unit, name, StdinKind::Code, cwd, info, out);
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
        } else if info.pipeline.2 > 0 {
            unit.classes.insert(ActionClass::Unknown);
            unit.tags.insert(match kind {
                StdinKind::Shell => "stdin-script:shell".into(),
                StdinKind::Code => "stdin-script:code".into(),
            });
            unit.source = format!("`{name}` runs a program read from a pipe");
            out.push(unit);
        } else {
            unit.source = format!("`{name}` interactive");
            out.push(unit);
        }
    }

    /// Scan inline interpreter code.
    fn code(
        &mut self,
        code_text: &str,
        name: &str,
        mut unit: Unit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        let findings = self.ctx.classifier.code.scan(code_text);
        unit.classes.extend(findings.classes.iter().copied());
        let changes_files = findings
            .classes
            .iter()
            .any(|c| matches!(c, ActionClass::FileDelete | ActionClass::FileWrite));
        if changes_files {
            unit.tags.insert(TAG_PATHS_UNKNOWN.into());
        }
        unit.tags.insert("inline-code".into());
        let literals = code::string_literals(code_text);
        let home = self.ctx.classifier.env.home.clone();
        for literal in &literals {
            if literal.starts_with('/') || literal.starts_with("~/") {
                let path = if let Some(rest) = literal.strip_prefix("~/") {
                    home.join(rest)
                } else {
                    PathBuf::from(literal)
                };
                if !literal.contains(char::is_whitespace) {
                    self.ctx.touch(&mut unit, path, Access::Read);
                }
            }
        }
        unit.source = if findings.matched.is_empty() {
            format!("`{name}` inline code")
        } else {
            format!("`{name}` inline code: {}", findings.matched.join(", "))
        };
        let depth = unit.depth;
        if findings.spawns {
            let mut nested = Vec::new();
            for literal in &literals {
                if self.looks_like_command(literal) {
                    self.script(literal, cwd, depth + 1, info.nesting + 1, &mut nested);
                }
            }
            if nested.is_empty() {
                unit.classes.insert(ActionClass::Unknown);
                unit.source
                    .push_str(" (starts processes Airlock cannot see)");
            }
            out.push(unit);
            out.extend(nested);
        } else {
            out.push(unit);
        }
    }

    fn looks_like_command(&self, literal: &str) -> bool {
        let Some(first) = literal.split_whitespace().next() else {
            return false;
        };
        let name = program_name(first);
        self.ctx.kb().lookup(&name).is_some() || name == "eval"
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
                unit.source = "`eval` of text computed at run time".into();
                out.push(unit);
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
                if arg == "--" || !arg.starts_with('-') || arg.len() == 1 {
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
                    out.push(unit);
                    return;
                }
            }
        }
        source.push('`');
        unit.tags.extend(spec.tags.iter().cloned());
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
        out.push(unit);
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
        let mut options_done = false;
        let mut j = 0;
        while j < rest.len() {
            let word = &rest[j];
            let Some(arg) = word.literal() else {
                positionals.push(word);
                j += 1;
                continue;
            };
            if options_done {
                positionals.push(word);
                j += 1;
                continue;
            }
            if arg == "--" {
                options_done = true;
                j += 1;
                continue;
            }
            if spec.find_expression
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
                for f in spec
                    .flags
                    .iter()
                    .filter(|f| f.matches_option(&arg) && f.value_matches(next_value.as_deref()))
                {
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
                        if let Some(value) = value {
                            self.option_value_role(unit, &value, value_role, cwd);
                        }
                    }
                }
                if attached.is_none() && (value_consumed || spec.options_with_value.contains(&flag))
                {
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
        for f in spec.flags.iter().filter(|f| !f.positional.is_empty()) {
            if positionals
                .iter()
                .filter_map(|w| w.literal())
                .any(|p| f.positional.iter().any(|g| glob_matches(g, &p)))
            {
                apply_flag(unit, f);
            }
        }
        let positionals = &positionals[spec.skip_positionals.min(positionals.len())..];
        let count = positionals.len();
        for (idx, word) in positionals.iter().enumerate() {
            let r = match spec.last_arg {
                Some(last) if count >= 2 && idx == count - 1 => last,
                _ => role,
            };
            self.role_arg(unit, word, r, cwd);
        }
        only
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
        let mut k = 0;
        while k < expr.len() {
            let token = expr[k].literal().unwrap_or_default();
            match token.as_str() {
                "-exec" | "-execdir" | "-ok" | "-okdir" => {
                    let end = expr[k + 1..]
                        .iter()
                        .position(|w| matches!(w.literal().as_deref(), Some(";" | "+")))
                        .map_or(expr.len(), |p| k + 1 + p);
                    for start in &starts {
                        let nested_words: Vec<ShellWord> = expr[k + 1..end]
                            .iter()
                            .map(|w| {
                                if w.literal().as_deref() == Some("{}") {
                                    start.clone()
                                } else {
                                    w.clone()
                                }
                            })
                            .collect();
                        let text = nested_words
                            .iter()
                            .map(|w| w.raw.as_str())
                            .collect::<Vec<_>>()
                            .join(" ");
                        let mut nested = Unit::new(text, unit.depth + 1, "");
                        nested.tags.insert("find-exec".into());
                        self.argv(&nested_words, nested, cwd, info, out);
                    }
                    unit.classes.insert(ActionClass::ShellExec);
                    k = end + 1;
                }
                "-delete" => {
                    unit.tags.insert("recursive".into());
                    for start in &starts {
                        self.path_arg(unit, start, Access::Delete, cwd);
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
        if role == ArgRole::Read {
            // `curl -d @file` reads a file; `-d 'a=b'` is data.
            if let Some(lit) = value.literal() {
                // `@file`, `name=@file` and `name=<file` (curl forms) name a file to send.
                let file = lit
                    .strip_prefix('@')
                    .or_else(|| lit.split_once("=@").map(|(_, f)| f))
                    .or_else(|| lit.split_once("=<").map(|(_, f)| f))
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
        }
        self.role_arg(unit, value, role, cwd);
    }

    fn role_arg(&mut self, unit: &mut Unit, word: &ShellWord, role: ArgRole, cwd: Option<&Path>) {
        let access = match role {
            ArgRole::None => return,
            ArgRole::Remote => {
                match word.literal() {
                    Some(lit) => match host_of(&lit) {
                        Some(host) => unit.hosts.push(host),
                        None => {
                            unit.tags.insert("remote-name".into());
                        }
                    },
                    None => {
                        unit.tags.insert("hosts-unknown".into());
                    }
                }
                return;
            }
            ArgRole::Read => Access::Read,
            ArgRole::Write => Access::Write,
            ArgRole::Delete => Access::Delete,
            ArgRole::Chmod => Access::Chmod,
        };
        if let Some(lit) = word.literal()
            && is_remote_spec(&lit)
        {
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

    fn path_arg(&mut self, unit: &mut Unit, word: &ShellWord, access: Access, cwd: Option<&Path>) {
        match self.word_path(word, cwd) {
            Some(path) => self.ctx.touch(unit, path, access),
            None => {
                unit.tags.insert(TAG_PATHS_UNKNOWN.into());
                if access != Access::Read {
                    // A computed target could be anything, including outside the workspace.
                    unit.classes.insert(match access {
                        Access::Delete => ActionClass::FileDelete,
                        Access::Chmod => ActionClass::AccessChange,
                        _ => ActionClass::FileWrite,
                    });
                }
            }
        }
    }

    /// Resolve a word to a path: `~` and `$HOME` expand, relative paths are against `cwd`;
    /// `None` when the word (or, for a relative path, the directory) is only known at run time.
    fn word_path(&self, word: &ShellWord, cwd: Option<&Path>) -> Option<PathBuf> {
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
            let Some((scope, pipeline, pos)) = units[idx].pipeline else {
                continue;
            };
            let upstream_fetches = units[first..].iter().any(|u| {
                matches!(u.pipeline, Some((s, p, q)) if s == scope && p == pipeline && q < pos)
                    && u.classes.contains(&ActionClass::NetworkFetch)
            });
            let unit = &mut units[idx];
            if upstream_fetches {
                unit.classes.remove(&ActionClass::Unknown);
                unit.classes.insert(ActionClass::ExecRemote);
                unit.classes.insert(ActionClass::NetworkFetch);
                unit.tags.insert("pipe-to-shell".into());
                unit.source = "runs code downloaded by an earlier command of the pipeline".into();
            } else if let Some(text) = self
                .stdout_text
                .get(&(scope, pipeline, pos.saturating_sub(1)))
                .cloned()
            {
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
                            pipeline: (usize::MAX, 0, 0),
                            piped: false,
                            in_function: None,
                            background: false,
                            functions: &info_functions,
                            aliases: &info_aliases,
                            nesting: nesting + 1,
                        };
                        self.code(&text, "interpreter", holder, cwd, &info, &mut extra);
                    }
                }
            }
        }
        units.extend(extra);
    }
}

#[derive(Clone, Copy)]
enum StdinKind {
    Shell,
    Code,
}

/// What `echo …`, `printf …` or `cat <<EOF` print, when it is fully static.
fn static_stdout(cmd: &SimpleCommand) -> Option<String> {
    let name = cmd.words.first()?.literal()?;
    let args: Vec<String> = cmd.words[1..]
        .iter()
        .map(ShellWord::literal)
        .collect::<Option<_>>()?;
    match program_name(&name).as_str() {
        "echo" => {
            let words: Vec<&str> = args
                .iter()
                .map(String::as_str)
                .skip_while(|a| matches!(*a, "-n" | "-e" | "-E" | "-ne" | "-en"))
                .collect();
            Some(words.join(" "))
        }
        "printf" => args.first().map(|f| f.replace("\\n", "\n")),
        "cat" if args.is_empty() => cmd.stdin_text.clone(),
        _ => None,
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
        if arg == opt {
            return Some((next.and_then(ShellWord::literal), 2));
        }
        if opt.starts_with("--") {
            if let Some(value) = arg
                .strip_prefix(opt.as_str())
                .and_then(|r| r.strip_prefix('='))
            {
                return Some((Some(value.to_string()), 1));
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

fn glob_matches(pattern: &str, text: &str) -> bool {
    Glob::new(pattern)
        .map(|g| g.compile_matcher().is_match(text))
        .unwrap_or(false)
}

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

/// The host a URL, `user@host:path` remote, or bare `host/path` names.
pub(crate) fn host_of(arg: &str) -> Option<String> {
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
    let authority = arg.split(['/', ':']).next()?;
    let host = authority.rsplit('@').next()?;
    let looks_like_host = host == "localhost"
        || (host.contains('.')
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'));
    (looks_like_host && !host.is_empty()).then(|| host.to_ascii_lowercase())
}
