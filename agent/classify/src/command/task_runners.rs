//! Scripts that task runners and package managers run by name (npm scripts, make targets and the like).

use super::*;

impl Walker<'_, '_> {
    pub(crate) fn understood_script(
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
    pub(crate) fn default_scripts(
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
    pub(crate) fn task_runner(
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
    pub(crate) fn inline_includes(
        &mut self,
        unit: &mut Unit,
        text: &str,
        dir: &Path,
        depth: usize,
    ) -> String {
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
}
