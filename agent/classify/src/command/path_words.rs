//! Path words: what a word names on disk, as the user sees it, and scripts piped into shells.

use super::*;

impl Walker<'_, '_> {
    pub(crate) fn path_arg(
        &mut self,
        unit: &mut Unit,
        word: &ShellWord,
        access: Access,
        cwd: Option<&Path>,
    ) {
        // A glob is judged by what it matches now (each path resolved like any other); one
        // that matches nothing is the word as written, as in bash.
        if word.pieces.iter().any(|p| matches!(p, WordPiece::Glob(_)))
            && let Some(pattern) = self.word_path(word, cwd)
        {
            match globs::expand(&pattern) {
                globs::Expansion::Matches(paths) if !paths.is_empty() => {
                    for path in paths {
                        self.ctx.touch_judged(unit, path, access, None);
                    }
                    return;
                }
                globs::Expansion::Matches(_) => {}
                globs::Expansion::Unknown => {
                    unit.classes.insert(ActionClass::Unknown);
                    unit.tags.insert(TAG_PATHS_UNKNOWN.into());
                    unit.source = format!("`{}` matches more than Airlock looks at", word.raw);
                    return;
                }
            }
        }
        match self.word_path(word, cwd) {
            Some(path) => {
                // What a shell command writes there is not known here.
                self.ctx.touch_judged(unit, path, access, None);
            }
            None => {
                unit.tags.insert(TAG_PATHS_UNKNOWN.into());
                // Only what is understood is allowed: a path known only at run time could be
                // anything, a secret or Airlock's own state included. Two exceptions: a
                // process substitution is a pipe (its commands are classified themselves), and
                // a variable given only known values, before its use, is one of them (touched
                // below).
                let pipe = word.raw.starts_with("<(") || word.raw.starts_with(">(");
                let candidates = self.candidates(word, cwd);
                // A relative path where the directory is known only at run time (`cd "$X"`, a
                // failed `cd -P`) is not known either.
                let anchored = cwd.is_some()
                    || candidates
                        .iter()
                        .all(|c| c.starts_with('/') || c.starts_with('~'));
                let known = self.certain_word(word) && !candidates.is_empty() && anchored;
                if !pipe && !known {
                    unit.classes.insert(ActionClass::Unknown);
                }
                if !matches!(access, Access::Read | Access::Link) {
                    // A computed target could be anything, including outside the workspace.
                    unit.classes.insert(match access {
                        Access::Delete => ActionClass::FileDelete,
                        Access::Chmod => ActionClass::AccessChange,
                        _ => ActionClass::FileWrite,
                    });
                    if access == Access::Write && word.has_command_subst() {
                        // `> "$(…)"`: where this writes is decided by another program.
                        unit.classes.insert(ActionClass::Unknown);
                    }
                }
                // The values the word was seen to get are touched too: they can only add.
                for value in self.candidates(word, cwd) {
                    let path = if value.starts_with('/') {
                        PathBuf::from(value)
                    } else if let Some(dir) = cwd {
                        dir.join(value)
                    } else {
                        continue;
                    };
                    self.ctx.touch(unit, path, access);
                }
            }
        }
    }

    /// The text of a word whose value is known exactly: literal text, `~`, `$HOME`, `$PWD`.
    pub(crate) fn exact_text(&self, word: &ShellWord, cwd: Option<&Path>) -> Option<String> {
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
        Some(text)
    }

    /// The file a program name given as a path runs, unless it is in one of the system's
    /// program directories (then the name is looked up like a bare name).
    pub(crate) fn file_program(&self, name: &str, cwd: Option<&Path>) -> Option<PathBuf> {
        if !name.contains('/') {
            return None;
        }
        let path = if name.starts_with('/') {
            PathBuf::from(name)
        } else {
            // Relative to a directory known only at run time: some file, unread.
            cwd.unwrap_or(Path::new("/nonexistent")).join(name)
        };
        let path = crate::lexical_normalize(&path);
        let system = &self.ctx.kb().paths.system_programs;
        let in_system_dir = path
            .parent()
            .is_some_and(|dir| system.iter().any(|s| dir == Path::new(s)));
        (!in_system_dir).then_some(path)
    }

    /// Resolve a word to a path: `~` and `$HOME` expand, relative paths are against `cwd`;
    /// `None` when the word (or, for a relative path, the directory) is only known at run time.
    pub(crate) fn word_path(&self, word: &ShellWord, cwd: Option<&Path>) -> Option<PathBuf> {
        let text = self.exact_text(word, cwd)?;
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
    pub(crate) fn resolve_piped_scripts(
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
            // The pipelines this unit reads from: its own, and enclosing ones (`curl x | (sh)`).
            let reading: Vec<(usize, usize, usize)> = positions(&units[idx])
                .filter(|&(_, _, pos)| pos > 0)
                .collect();
            let upstream_fetches = units[first..].iter().any(|u| {
                u.classes.contains(&ActionClass::NetworkFetch)
                    && positions(u).any(|(s, p, q)| {
                        reading
                            .iter()
                            .any(|&(rs, rp, rq)| s == rs && p == rp && q < rq)
                    })
            });
            let piped_text = reading
                .iter()
                .find_map(|&(s, p, pos)| self.stdout_text.get(&(s, p, pos - 1)).cloned());
            let unit = &mut units[idx];
            if upstream_fetches {
                unit.classes.remove(&ActionClass::Unknown);
                unit.classes.insert(ActionClass::ExecRemote);
                unit.classes.insert(ActionClass::NetworkFetch);
                unit.tags.insert("pipe-to-shell".into());
                unit.source = "runs code downloaded by an earlier command of the pipeline".into();
            } else if let Some(text) = piped_text {
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
                            stdin_file: None,
                            pipeline: (usize::MAX, 0, 0),
                            enclosing: Vec::new(),
                            piped: false,
                            in_function: None,
                            background: false,
                            functions: &info_functions,
                            aliases: &info_aliases,
                            nesting: nesting + 1,
                        };
                        let name = unit.program.clone().unwrap_or_default();
                        self.code(&text, &name, holder, cwd, &info, &mut extra);
                    }
                }
            }
        }
        units.extend(extra);
    }
}
