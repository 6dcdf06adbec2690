//! Calling a knowledge-base member: its effect (capabilities, paths, commands, hosts) from the
//! member's spec and the call's arguments, and the value the call gives back.

use super::*;

impl Interp<'_> {
    /// The effect of calling a knowledge-base member, and its result.
    pub(super) fn apply(
        &mut self,
        what: &str,
        spec: &MemberSpec,
        args: &CallArgs,
        receiver: Option<Option<String>>,
        at: &str,
    ) -> Vals {
        let mut e = Effect::new(at, what);
        e.caps.extend(spec.does.iter().copied());
        e.tags.extend(spec.tags.iter().cloned());
        if let Some(r) = &spec.code_arg
            && let Some(vals) = args.get(r)
            && vals.iter().any(|v| matches!(v, Value::Str(_)))
        {
            e.caps.insert(Capability::Dynamic);
        }
        let writes_by_mode = spec.mode.as_ref().is_some_and(|m| {
            let given = args
                .get(&m.arg)
                .or_else(|| m.keyword.as_deref().and_then(|k| args.keyword(k)));
            match given {
                None => args.opaque,
                Some(vals) => match strings(vals) {
                    Some(modes) => modes
                        .iter()
                        .any(|mode| is_mode(mode) && mode.chars().any(|c| m.write.contains(c))),
                    None => true,
                },
            }
        });
        for (refs, use_) in [
            (&spec.read, PathUse::Read),
            (&spec.write, PathUse::Write),
            (&spec.delete, PathUse::Delete),
            (&spec.chmod, PathUse::Chmod),
        ] {
            for r in refs {
                let uses: &[PathUse] = if use_ == PathUse::Read && writes_by_mode {
                    &[PathUse::Read, PathUse::Write]
                } else {
                    std::slice::from_ref(&use_)
                };
                match args.get(r) {
                    Some(vals) => match strings(vals) {
                        Some(paths) => {
                            for p in paths {
                                for u in uses {
                                    e.paths.push((p.clone(), *u));
                                }
                            }
                        }
                        None => e.paths_unknown.extend_from_slice(uses),
                    },
                    None if matches!(r, ArgRef::Index(_)) || args.opaque => {
                        e.paths_unknown.extend_from_slice(uses)
                    }
                    None => {}
                }
            }
        }
        if let (Some(use_), Some(path)) = (spec.receiver, &receiver) {
            let uses: &[PathUse] = if use_ == PathUse::Read && writes_by_mode {
                &[PathUse::Read, PathUse::Write]
            } else {
                std::slice::from_ref(&use_)
            };
            for u in uses {
                match path {
                    Some(p) => e.paths.push((p.clone(), *u)),
                    None => e.paths_unknown.push(*u),
                }
            }
        }
        if let Some(form) = spec.command {
            self.command(&mut e, spec, form, args);
        }
        if spec
            .env_option
            .as_deref()
            .is_some_and(|k| args.keyword(k).is_some())
        {
            e.caps.insert(Capability::Environment);
        }
        if let Some(r) = &spec.url_arg {
            match args.get(r).and_then(strings) {
                Some(urls) => {
                    e.urls.extend(urls.iter().cloned());
                    for url in urls {
                        match crate::command::host_of(&url) {
                            Some(h) => e.hosts.push(h),
                            None => e.hosts_unknown = true,
                        }
                    }
                }
                None => e.hosts_unknown = true,
            }
        } else if spec.does.contains(&Capability::Network) {
            e.hosts_unknown = true;
        }
        if let Some(r) = &spec.dir_arg {
            match args.get(r).and_then(strings) {
                Some(dirs) => e.dirs.extend(dirs.into_iter().map(Some)),
                None => e.dirs.push(None),
            }
        }
        if !e.caps.is_empty() || !e.paths.is_empty() || !e.paths_unknown.is_empty() {
            self.record(e);
        }
        self.result(spec, args, receiver.flatten())
    }

    /// How a process-starting call gives its command.
    pub(super) fn command(
        &self,
        e: &mut Effect,
        spec: &MemberSpec,
        form: CommandForm,
        args: &CallArgs,
    ) {
        let shell = match spec.shell_option.as_deref() {
            Some(k) => match args.keyword(k) {
                Some(vals) => vals.iter().any(|v| !matches!(v, Value::Bool(false))),
                None => args.opaque,
            },
            None => false,
        };
        if let Some(k) = &spec.cwd_option {
            match args.keyword(k) {
                Some(vals) => match strings(vals).as_deref() {
                    Some([dir]) => e.cwd = Some(Some(dir.clone())),
                    _ => e.cwd = Some(None),
                },
                None if args.opaque => e.cwd = Some(None),
                None => {}
            }
        }
        let at = spec.command_arg.clone().unwrap_or(ArgRef::Index(0));
        let given = args.get(&at);
        let mut argvs: Vec<Vec<String>> = Vec::new();
        match (form, given) {
            (_, None) => e.command_unknown = true,
            (CommandForm::Shell, Some(vals)) => match strings(vals) {
                Some(lines) => e.commands.extend(lines),
                None => e.command_unknown = true,
            },
            (CommandForm::Argv, Some(vals)) => {
                for v in vals {
                    match v {
                        Value::List(list) if !list.is_empty() => argvs.push(list.clone()),
                        // A string is a shell line with the shell option, else a program
                        // name; read as a shell line either way (never looser).
                        Value::Str(s) => e.commands.push(s.clone()),
                        _ => e.command_unknown = true,
                    }
                }
            }
            (CommandForm::Program, Some(vals)) => {
                let rest = spec.args_arg.as_ref().map(|r| args.get(r));
                let rest: Option<Vec<Vec<String>>> = match rest {
                    Some(None) | None if !args.opaque => Some(vec![Vec::new()]),
                    Some(Some(vals)) => vals
                        .iter()
                        .map(|v| match v {
                            Value::List(l) if spec.args_start_with_name => {
                                Some(l.iter().skip(1).cloned().collect())
                            }
                            Value::List(l) => Some(l.clone()),
                            _ => None,
                        })
                        .collect(),
                    _ => None,
                };
                match (strings(vals), rest) {
                    (Some(programs), Some(rests)) => {
                        for p in &programs {
                            for r in &rests {
                                let mut argv = vec![p.clone()];
                                argv.extend(r.iter().cloned());
                                argvs.push(argv);
                            }
                        }
                    }
                    _ => e.command_unknown = true,
                }
            }
            (CommandForm::Varargs, Some(_)) => {
                let start = match at {
                    ArgRef::Index(i) => i,
                    ArgRef::Keyword(_) => 0,
                };
                let words: Option<Vec<String>> = args.positional
                    [start.min(args.positional.len())..]
                    .iter()
                    .map(|v| match strings(v).as_deref() {
                        Some([s]) => Some(s.clone()),
                        _ => None,
                    })
                    .collect();
                match words {
                    Some(w) if !w.is_empty() && !args.opaque => argvs.push(w),
                    _ => e.command_unknown = true,
                }
            }
        }
        // The program that really runs, when an option names it.
        let named = |k: &Option<String>| -> Option<Option<String>> {
            let vals = args.keyword(k.as_deref()?)?;
            if vals.iter().all(|v| matches!(v, Value::Bool(_))) {
                return None;
            }
            Some(match strings(vals).as_deref() {
                Some([s]) => Some(s.clone()),
                _ => None,
            })
        };
        let program = named(&spec.program_option);
        let shell_named = named(&spec.shell_option);
        if matches!(program, Some(None)) || matches!(shell_named, Some(None)) {
            e.command_unknown = true;
        }
        let shell_program = shell_named.flatten().or_else(|| {
            if shell {
                program.clone().flatten()
            } else {
                None
            }
        });
        if !shell
            && shell_program.is_none()
            && let Some(Some(exe)) = &program
        {
            for argv in &mut argvs {
                argv[0] = exe.clone();
            }
            if !e.commands.is_empty() {
                // A string without the shell names the program; `executable` replaces it.
                e.commands = vec![quote_argv(std::slice::from_ref(exe))];
            }
        }
        for argv in argvs {
            e.commands.push(quote_argv(&argv));
            if shell {
                // With a shell, the words are joined and the shell reads them.
                e.commands.push(argv.join(" "));
            }
        }
        if let Some(sh) = shell_program {
            // The named shell runs each command line.
            e.commands = e
                .commands
                .iter()
                .map(|line| quote_argv(&[sh.clone(), "-c".into(), line.clone()]))
                .collect();
        }
    }

    /// What calling a member gives back.
    pub(super) fn result(
        &mut self,
        spec: &MemberSpec,
        args: &CallArgs,
        receiver: Option<String>,
    ) -> Vals {
        if let Some(m) = &spec.module {
            return vec![Value::Module(m.clone())];
        }
        let computed = spec
            .value
            .and_then(|rule| self.compute(rule, args, receiver.as_deref()));
        match (&spec.returns, computed) {
            (Some(ty), path) => vec![Value::Object {
                ty: ty.clone(),
                path,
            }],
            (None, Some(s)) => vec![Value::Str(s)],
            (None, None) => other(),
        }
    }

    /// A string a value rule computes, when every part is known.
    pub(super) fn compute(
        &self,
        rule: ValueRule,
        args: &CallArgs,
        receiver: Option<&str>,
    ) -> Option<String> {
        let first = || -> Option<String> {
            match receiver {
                Some(r) => Some(r.to_string()),
                None => match strings(args.positional.first()?)?.as_slice() {
                    [s] => Some(s.clone()),
                    _ => None,
                },
            }
        };
        match rule {
            ValueRule::Identity => first(),
            ValueRule::Join => {
                if args.opaque {
                    return None;
                }
                let mut parts: Vec<String> = receiver.map(str::to_string).into_iter().collect();
                for a in &args.positional {
                    match strings(a)?.as_slice() {
                        [s] => parts.push(s.clone()),
                        _ => return None,
                    }
                }
                if parts.is_empty() {
                    return Some(".".into());
                }
                Some(join_paths(&parts))
            }
            ValueRule::Dirname => first().map(|p| match p.rsplit_once('/') {
                Some(("", _)) => "/".to_string(),
                Some((dir, _)) => dir.to_string(),
                None => ".".to_string(),
            }),
            ValueRule::Basename => first().map(|p| p.rsplit('/').next().unwrap_or("").to_string()),
            ValueRule::Home => Some("~".into()),
            ValueRule::Cwd => Some(".".into()),
            ValueRule::Getenv => match strings(args.positional.first()?)?.as_slice() {
                [k] if k == "HOME" => Some("~".into()),
                _ => None,
            },
            ValueRule::File => self.file.clone(),
            ValueRule::Dir => self.file.as_deref().map(|f| match f.rsplit_once('/') {
                Some(("", _)) => "/".into(),
                Some((d, _)) => d.to_string(),
                None => ".".into(),
            }),
            ValueRule::Environ | ValueRule::Global => None,
        }
    }

    /// The value a knowledge-base member stands for when read, not called (`__file__`,
    /// `os.sep`).
    pub fn member_value(&self, full: &str) -> Option<Value> {
        let Some(Known::Member(spec)) = self.kb.lookup(full) else {
            return None;
        };
        match spec.value? {
            ValueRule::File => self.file.clone().map(Value::Str),
            ValueRule::Dir => self
                .compute(ValueRule::Dir, &CallArgs::default(), None)
                .map(Value::Str),
            _ => None,
        }
    }
}
