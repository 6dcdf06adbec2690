//! What git runs and brings in from a repository: its configuration, applied patches, incoming commits, resumed steps.

use super::*;

impl Walker<'_, '_> {
    /// git runs what its repository's configuration says: find the repository above `cwd`,
    /// read its `config`, and classify what its keys make run.
    pub(crate) fn repo_config(
        &mut self,
        spec: &ProgramSpec,
        unit: &mut Unit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        let Some(dir) = cwd else { return };
        let Some(found) = find_git_dir(dir) else {
            return;
        };
        let git_dir = match found {
            GitDir::Normal(git_dir) => git_dir,
            GitDir::Elsewhere(git_dir) => {
                unit.classes.insert(ActionClass::Unknown);
                unit.source = format!(
                    "the repository's git directory is `{}`, not a `.git` directory: its hooks and configuration are outside what Airlock guards",
                    git_dir.display()
                );
                return;
            }
        };
        // The workspace's own hooks are the person's (an agent's writes there are decided);
        // another repository's — one nested in the project, say — run unread.
        let own = self
            .ctx
            .workspace
            .is_some_and(|ws| git_dir.parent() == Some(ws));
        if !own && let Some(hook) = active_hook(&git_dir) {
            unit.classes.insert(ActionClass::Unknown);
            unit.source = format!(
                "the repository `{}` has a hook (`{hook}`) git may run, which Airlock does not read",
                git_dir.display()
            );
        }
        let config = git_dir.join("config");
        if !config.exists_for_user() {
            return;
        }
        let text = match self.ctx.files().read(&config) {
            FileContent::Text(text) => text,
            FileContent::Unreadable(why) => {
                unit.classes.insert(ActionClass::Unknown);
                unit.source = format!("the repository's `{}` {why}", config.display());
                return;
            }
        };
        let Some(entries) = git_config_entries(&text) else {
            unit.classes.insert(ActionClass::Unknown);
            unit.source = format!(
                "the repository's `{}` does not parse as git configuration",
                config.display()
            );
            return;
        };
        for (key, value) in entries {
            if spec
                .repo_config_unknown
                .iter()
                .any(|g| glob_matches(g, &key))
            {
                unit.classes.insert(ActionClass::Unknown);
                unit.source = format!(
                    "the repository's config sets `{key}`, which makes git load or run something Airlock does not read"
                );
            } else if spec
                .repo_config_commands
                .iter()
                .any(|g| glob_matches(g, &key))
            {
                let command = value.strip_prefix('!').unwrap_or(&value).to_string();
                if command.trim().is_empty() || key.starts_with("alias.") && !value.starts_with('!')
                {
                    continue;
                }
                unit.tags.insert("repo-config-command".into());
                self.script(&command, cwd, unit.depth + 1, info.nesting + 1, out);
            }
        }
    }

    /// A program whose argument is a script in a small language (sed): the command is
    /// understood only when every script it is given is.
    /// A program that applies patches writes every path they name: read each patch (a file, or
    /// the standard input when it is a heredoc or a redirected file) and judge those writes.
    pub(crate) fn applied_patches(
        &mut self,
        patches: &PatchSpec,
        spec: &ProgramSpec,
        rest: &[ShellWord],
        unit: &mut Unit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
    ) {
        let literals: Vec<Option<String>> = rest.iter().map(ShellWord::literal).collect();
        if literals.iter().flatten().any(|a| {
            patches
                .without
                .iter()
                .any(|w| crate::kb::option_matches(w, a))
        }) {
            return;
        }
        let mut files: Vec<&ShellWord> = Vec::new();
        let mut positionals: Vec<&ShellWord> = Vec::new();
        let mut k = 0;
        while k < rest.len() {
            let word = &rest[k];
            match &literals[k] {
                Some(a) if a == "--" => {
                    positionals.extend(&rest[k + 1..]);
                    break;
                }
                Some(a) if a.starts_with('-') && a.len() > 1 => {
                    let (option, attached) = split_option(a, &spec.options_with_value);
                    let takes_value =
                        attached.is_none() && spec.options_with_value.contains(&option);
                    if patches.options.contains(&option) {
                        match attached {
                            // An attached value is a file name as written.
                            Some(_) => {
                                unit.classes.insert(ActionClass::Unknown);
                                unit.source = format!("`{a}`: a patch file Airlock does not read");
                            }
                            None => files.extend(rest.get(k + 1)),
                        }
                    }
                    k += if takes_value { 2 } else { 1 };
                    continue;
                }
                _ => positionals.push(word),
            }
            k += 1;
        }
        match patches.positional {
            Some(index) => files.extend(positionals.get(index)),
            None => files.extend(positionals),
        }
        let mut texts: Vec<String> = Vec::new();
        if files.is_empty() {
            if let Some(text) = &info.stdin_text {
                texts.push(text.clone());
            } else if let Some(word) = info.stdin_file.clone() {
                match self.word_path(&word, cwd) {
                    Some(path) => {
                        self.ctx.touch(unit, path.clone(), Access::Read);
                        texts.extend(self.read_patch(unit, &path));
                    }
                    None => {
                        unit.classes.insert(ActionClass::Unknown);
                    }
                }
            } else {
                unit.classes.insert(ActionClass::Unknown);
                unit.source =
                    "applies a patch read from its input, which Airlock does not see".into();
                return;
            }
        }
        for word in files {
            match self.word_path(word, cwd) {
                Some(path) => texts.extend(self.read_patch(unit, &path)),
                None => {
                    unit.classes.insert(ActionClass::Unknown);
                    unit.source = format!("`{}`: a patch known only at run time", word.raw);
                }
            }
        }
        let base = cwd.map(Path::to_path_buf).unwrap_or_default();
        for text in texts {
            let targets = match patches::patch_targets(&text) {
                Ok(targets) => targets,
                Err(why) => {
                    unit.classes.insert(ActionClass::Unknown);
                    unit.source = format!("the patch {why}");
                    continue;
                }
            };
            for target in targets {
                for form in patches::strip_levels(&target) {
                    self.ctx
                        .touch_judged(unit, base.join(&form), Access::Write, None);
                }
            }
        }
    }

    /// git writes what the commits a command names hold: read them from the repository's objects
    /// and judge every path they change as written with its new content.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn incoming_commits(
        &mut self,
        from: CommitsFrom,
        spec: &ProgramSpec,
        rest: &[ShellWord],
        unit: &mut Unit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        let mut positionals: Vec<Option<String>> = Vec::new();
        let mut positional_words: Vec<&ShellWord> = Vec::new();
        let mut after_dashes: &[ShellWord] = &[];
        let mut k = 0;
        while k < rest.len() {
            match rest[k].literal() {
                // After `--` come paths.
                Some(a) if a == "--" => {
                    after_dashes = &rest[k + 1..];
                    break;
                }
                Some(a) if a.starts_with('-') && a.len() > 1 => {
                    let (option, attached) = split_option(&a, &spec.options_with_value);
                    let takes_value =
                        attached.is_none() && spec.options_with_value.contains(&option);
                    k += if takes_value { 2 } else { 1 };
                    continue;
                }
                other => {
                    positionals.push(other);
                    positional_words.push(&rest[k]);
                }
            }
            k += 1;
        }
        if from == CommitsFrom::Worktree {
            self.worktree(unit, &positionals, &positional_words, cwd, info, out);
            return;
        }
        if from == CommitsFrom::First {
            // `git checkout [REV] -- PATHS`: those files are replaced.
            for word in after_dashes {
                self.discarded_changes(unit, word, cwd);
            }
        }
        let stash_pushes = positionals
            .first()
            .is_none_or(|p| matches!(p.as_deref(), Some("push" | "save")));
        if from == CommitsFrom::Stash && stash_pushes {
            // `git stash [push]` puts the work tree back to `HEAD`'s content; with
            // `--keep-index`, to the index's (which plumbing can set to any object).
            self.worktree_reset(unit, cwd, "HEAD", info, out);
            if let Some(GitDir::Normal(git_dir)) = cwd.and_then(find_git_dir)
                && let Some(root) = git_dir.parent()
            {
                let root = root.to_path_buf();
                self.written_from_index(unit, &root, false);
            }
            return;
        }
        let revs: Vec<Option<String>> = match from {
            CommitsFrom::All => positionals.clone(),
            CommitsFrom::Parents => positionals
                .iter()
                .map(|p| p.as_ref().map(|p| format!("{p}^")))
                .collect(),
            CommitsFrom::Reset => positionals.first().cloned().into_iter().collect(),
            CommitsFrom::First => positionals.first().cloned().into_iter().collect(),
            // Handled above.
            CommitsFrom::Worktree => Vec::new(),
            CommitsFrom::Stash => {
                // The stash named at `index`, or the newest.
                let stash_at = |index: usize| {
                    vec![
                        positionals
                            .get(index)
                            .cloned()
                            .unwrap_or_else(|| Some("stash@{0}".into())),
                    ]
                };
                match positionals.first() {
                    Some(Some(action)) if action == "pop" || action == "apply" => stash_at(1),
                    // `git stash branch NAME [STASH]` applies it on a new branch.
                    Some(Some(action)) if action == "branch" => stash_at(2),
                    // `git stash store COMMIT`: any commit becomes the stash the next pop applies.
                    Some(Some(action)) if action == "store" => {
                        unit.classes.insert(ActionClass::Unknown);
                        unit.source = "`git stash store` makes any commit the next stash".into();
                        return;
                    }
                    _ => return,
                }
            }
        };
        if revs.is_empty() {
            return;
        }
        unit.tags.insert(TAG_FROM_REPOSITORY.into());
        let Some((dir, git_dir, work_tree)) = repository_of(unit, cwd) else {
            return;
        };
        let repo = match commits::Repository::open(&git_dir) {
            Ok(repo) => repo,
            Err(why) => {
                unit.classes.insert(ActionClass::Unknown);
                unit.source = format!("the repository {why}");
                return;
            }
        };
        for rev in revs {
            let Some(rev) = rev else {
                unit.classes.insert(ActionClass::Unknown);
                unit.source = "a commit named at run time".into();
                continue;
            };
            if matches!(from, CommitsFrom::Stash | CommitsFrom::Reset) && !repo.has(&rev) {
                // No such stash: git stops with an error and changes nothing. `git reset
                // FILE` only unstages.
                continue;
            }
            if from == CommitsFrom::First {
                if !repo.has(&rev) {
                    // `git checkout FILE…`: the path form replaces the files with git's copy.
                    if dir.join(&rev).exists_for_user() {
                        for word in &positional_words {
                            self.discarded_changes(unit, word, cwd);
                        }
                    } else {
                        unit.classes.insert(ActionClass::Unknown);
                        unit.source = format!(
                            "`{rev}` is neither a commit nor a path here (git may take it from a remote)"
                        );
                    }
                    continue;
                }
                // `git checkout REV PATHS`: those files are replaced with REV's copy.
                for word in positional_words.iter().skip(1) {
                    self.discarded_changes(unit, word, cwd);
                }
            }
            match repo.incoming(&rev) {
                Ok(incoming) => {
                    self.judge_written(unit, &work_tree, dir, incoming, info, out);
                }
                Err(why) => {
                    unit.classes.insert(ActionClass::Unknown);
                    unit.source =
                        format!("the repository {why}: Airlock cannot tell what it brings in");
                }
            }
        }
    }

    /// `git rebase --continue` and its kin carry out the steps left in the to-do list, which
    /// is a file in the git directory: read it and judge each step.
    pub(crate) fn resumed_steps(
        &mut self,
        unit: &mut Unit,
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        let Some((dir, git_dir, work_tree)) = repository_of(unit, cwd) else {
            return;
        };
        if git_dir.join("rebase-apply").exists_for_user() {
            unit.classes.insert(ActionClass::Unknown);
            unit.source =
                "resumes applying the patches in `.git/rebase-apply`, which Airlock does not read"
                    .into();
        }
        let mut repo = None;
        for todo in ["rebase-merge/git-rebase-todo", "sequencer/todo"] {
            let path = git_dir.join(todo);
            if !path.exists_for_user() {
                continue;
            }
            let Some(text) = self.read_text(unit, &path, |why| {
                format!("resumes the steps in `{todo}`, which {why}")
            }) else {
                continue;
            };
            unit.tags.insert("resumes-todo".into());
            for step in commits::todo_steps(&text) {
                match step {
                    commits::Step::Run(command) => {
                        self.script(&command, Some(dir), unit.depth + 1, info.nesting + 1, out)
                    }
                    commits::Step::Bring(rev) => {
                        if repo.is_none() {
                            match commits::Repository::open(&git_dir) {
                                Ok(r) => repo = Some(r),
                                Err(why) => {
                                    unit.classes.insert(ActionClass::Unknown);
                                    unit.source = format!("the repository {why}");
                                    return;
                                }
                            }
                        }
                        let Some(r) = &repo else { return };
                        match r.incoming(&rev) {
                            Ok(incoming) => {
                                self.judge_written(unit, &work_tree, dir, incoming, info, out);
                            }
                            Err(why) => {
                                unit.classes.insert(ActionClass::Unknown);
                                unit.source = format!(
                                    "a step of `{todo}` names `{rev}`: the repository {why}"
                                );
                            }
                        }
                    }
                    commits::Step::Unknown(line) => {
                        unit.classes.insert(ActionClass::Unknown);
                        unit.source =
                            format!("`{todo}` has a step Airlock does not read: `{line}`");
                    }
                }
            }
        }
    }

    /// The text of a patch file; `None` (and the unit unknown) when it cannot be read.
    pub(crate) fn read_patch(&mut self, unit: &mut Unit, path: &Path) -> Option<String> {
        self.read_text(unit, path, |why| {
            format!(
                "applies the patch `{}`, which {why}: Airlock cannot tell what it writes",
                path.display()
            )
        })
    }

    /// A file's text; when it cannot be read as text, `None` and the unit unknown, with the
    /// reason `why` makes of the reader's.
    pub(crate) fn read_text(
        &mut self,
        unit: &mut Unit,
        path: &Path,
        why: impl FnOnce(&str) -> String,
    ) -> Option<String> {
        match self.ctx.files().read(path) {
            FileContent::Text(text) => Some(text.to_string()),
            FileContent::Unreadable(reason) => {
                unit.classes.insert(ActionClass::Unknown);
                unit.source = why(&reason);
                None
            }
        }
    }
}
