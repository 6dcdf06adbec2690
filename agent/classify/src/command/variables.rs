//! What variables hold: the static values assignments give them, the candidates a word can take, arithmetic that may run code.

use super::*;

impl Walker<'_, '_> {
    /// Record the static values variables are given in `parsed` (see [`Walker::vars`]).
    pub(crate) fn collect_vars(
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
    pub(crate) fn unsafe_arithmetic(&self, expression: &str) -> Option<String> {
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
    pub(crate) fn note_assignment(&mut self, name: &str, values: &[String], script: &str) {
        if values.is_empty() || !assigned_before_use(script, name) {
            self.uncertain.insert(name.to_string());
        } else {
            self.certain.insert(name.to_string());
        }
    }

    /// Whether every variable in `word` has a value known for certain (see
    /// [`Walker::note_assignment`]), so its candidate values are all the values it can have.
    pub(crate) fn certain_word(&self, word: &ShellWord) -> bool {
        word.pieces.iter().all(|piece| match piece {
            WordPiece::Literal(_) | WordPiece::Glob(_) => true,
            WordPiece::Tilde(user) => user.is_empty(),
            WordPiece::Param(name) => self.certain.contains(name) && !self.uncertain.contains(name),
            _ => false,
        })
    }

    pub(crate) fn add_vars(&mut self, name: &str, values: Vec<String>) {
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
    pub(crate) fn candidates(&mut self, word: &ShellWord, cwd: Option<&Path>) -> Vec<String> {
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
    pub(crate) fn expand_script(
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
    pub(crate) fn workspace_of(&mut self, dir: &Path) -> Option<PathBuf> {
        let dir = crate::lexical_normalize(dir);
        let classifier = self.ctx.classifier;
        self.workspaces
            .entry(dir)
            .or_insert_with_key(|dir| classifier.workspace(dir))
            .clone()
    }

    pub(crate) fn take_budget(&mut self) -> bool {
        if self.budget == 0 {
            return false;
        }
        self.budget -= 1;
        true
    }

    /// The paths a glob word matches now, when it has glob syntax and matches something (an
    /// empty list when it matches more than Airlock looks at, so the variable is not certain).
    pub(crate) fn glob_values(&self, word: &ShellWord, cwd: Option<&Path>) -> Option<Vec<String>> {
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
}
