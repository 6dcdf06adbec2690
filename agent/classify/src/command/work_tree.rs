//! What a git command does to the work tree: resets, checkouts, discarded changes, files written from the index.

use super::*;

impl Walker<'_, '_> {
    /// The work tree put back to `rev`'s content (`git stash`): each file that differs is
    /// judged as written with that content.
    pub(crate) fn worktree_reset(
        &mut self,
        unit: &mut Unit,
        cwd: Option<&Path>,
        rev: &str,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        unit.tags.insert(TAG_FROM_REPOSITORY.into());
        let Some((dir, git_dir, work_tree)) = repository_of(unit, cwd) else {
            return;
        };
        let written = commits::Repository::open(&git_dir)
            .and_then(|repo| repo.worktree_reset_to(rev, &work_tree, ""));
        match written {
            Ok(written) => {
                self.judge_written(unit, &work_tree, dir, written, info, out);
            }
            // No commit yet: nothing to go back to.
            Err(_) if !commits::Repository::open(&git_dir).is_ok_and(|r| r.has(rev)) => {}
            Err(why) => {
                unit.classes.insert(ActionClass::Unknown);
                unit.source = format!("the repository {why}: Airlock cannot tell what it writes");
            }
        }
    }

    /// What git writes into the work tree, each path judged as written with its new content
    /// (a link as a new link); a file that will run later has what it runs classified below.
    pub(crate) fn judge_written(
        &mut self,
        unit: &mut Unit,
        work_tree: &Path,
        dir: &Path,
        changes: Vec<commits::Incoming>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        for change in changes {
            let path = work_tree.join(&change.path);
            let content = change.content.as_deref();
            self.incoming_link(unit, work_tree, &change);
            for line in self.ctx.touch_judged(unit, path, Access::Write, content) {
                self.script(&line, Some(dir), unit.depth + 1, info.nesting + 1, out);
            }
        }
    }

    /// `git worktree add PATH [REV]` checks REV (`HEAD` by default) out into PATH: every file
    /// of its tree is judged as written there with its content. `git worktree move OLD NEW`
    /// puts OLD's files at NEW, judged as a directory written whole.
    pub(crate) fn worktree(
        &mut self,
        unit: &mut Unit,
        positionals: &[Option<String>],
        words: &[&ShellWord],
        cwd: Option<&Path>,
        info: &CmdInfo<'_>,
        out: &mut Vec<Unit>,
    ) {
        let action = positionals.first().cloned().flatten();
        let Some(target) = words.get(1) else {
            return;
        };
        match action.as_deref() {
            Some("add") => {}
            Some("move") => {
                if let Some(new) = words.get(2) {
                    self.path_arg(unit, new, Access::Write, cwd);
                }
                self.path_arg(unit, target, Access::Delete, cwd);
                return;
            }
            Some("remove") => {
                self.path_arg(unit, target, Access::Delete, cwd);
                return;
            }
            _ => return,
        }
        self.path_arg(unit, target, Access::Write, cwd);
        unit.tags.insert(TAG_FROM_REPOSITORY.into());
        let Some(into) = self.word_path(target, cwd) else {
            unit.classes.insert(ActionClass::Unknown);
            return;
        };
        let rev = match positionals.get(2) {
            Some(Some(rev)) => rev.clone(),
            Some(None) => {
                unit.classes.insert(ActionClass::Unknown);
                unit.source = "a commit named at run time".into();
                return;
            }
            None => "HEAD".to_string(),
        };
        let Some((dir, git_dir, _)) = repository_of(unit, cwd) else {
            return;
        };
        let files = commits::Repository::open(&git_dir).and_then(|repo| repo.files_of(&rev));
        match files {
            Ok(files) => self.judge_written(unit, &into, dir, files, info, out),
            Err(why) => {
                unit.classes.insert(ActionClass::Unknown);
                unit.source = format!(
                    "the repository {why}: Airlock cannot tell what the new worktree holds"
                );
            }
        }
    }

    /// A link git writes into the work tree leads where its content says: judged as a new link
    /// there (`docs/ref -> ~/.ssh` from the index is `ln -s ~/.ssh docs/ref`).
    pub(crate) fn incoming_link(
        &mut self,
        unit: &mut Unit,
        work_tree: &Path,
        change: &commits::Incoming,
    ) {
        if !change.link {
            return;
        }
        let Some(target) = change.content.as_deref() else {
            unit.classes.insert(ActionClass::Unknown);
            return;
        };
        let at = work_tree.join(&change.path);
        let base = at.parent().unwrap_or(work_tree);
        let target = if target.starts_with('/') {
            PathBuf::from(target)
        } else {
            crate::lexical_normalize(&base.join(target))
        };
        self.ctx.touch(unit, target, Access::Link);
    }

    /// A remote on this machine (`localhost:.ssh/id_rsa`) is a local path: judged as one.
    pub(crate) fn loopback_remote(&mut self, unit: &mut Unit, remote: &str, access: Access) {
        let Some(path) = loopback_path(remote) else {
            return;
        };
        let home = &self.ctx.classifier.env.home;
        let path = match path.strip_prefix("~/") {
            Some(rest) => home.join(rest),
            None if path.starts_with('/') => PathBuf::from(&path),
            None => home.join(&path),
        };
        self.ctx.touch(unit, path, access);
    }

    /// Whether git would take `name` (a remote or a refspec word) from somewhere other than
    /// the repository's configured remotes: a legacy `.git/remotes/NAME` or `.git/branches/NAME`
    /// file, or a repository at that path. (A word that is neither is a refspec, or an error.)
    pub(crate) fn unconfigured_git_remote(&mut self, name: &str, cwd: Option<&Path>) -> bool {
        let git_dir = match cwd.and_then(find_git_dir) {
            Some(GitDir::Normal(git_dir)) => git_dir,
            // No repository: git fails before it fetches anything.
            None => return false,
            Some(GitDir::Elsewhere(_)) => return true,
        };
        let key = format!("remote.{name}.url");
        let configured = match self.ctx.files().read(&git_dir.join("config")) {
            FileContent::Text(text) => git_config_entries(&text)
                .is_some_and(|entries| entries.iter().any(|(k, _)| *k == key)),
            FileContent::Unreadable(_) => false,
        };
        if configured {
            return false;
        }
        let plain = !name.contains('/') && name != "." && name != "..";
        (plain
            && (git_dir.join("remotes").join(name).exists_for_user()
                || git_dir.join("branches").join(name).exists_for_user()))
            || cwd.is_some_and(|dir| dir.join(name).exists_for_user())
    }

    /// `git restore F`: F is rewritten with git's copy, which loses its uncommitted changes.
    pub(crate) fn discarded_changes(
        &mut self,
        unit: &mut Unit,
        word: &ShellWord,
        cwd: Option<&Path>,
    ) {
        if let (Some(spec), Some(dir)) = (word.literal(), cwd)
            && spec.starts_with(':')
        {
            // Pathspec magic (`:/`, `:(top)`, `:!x`, `:(exclude)x`, `:(icase)…`) reaches
            // beyond the word's text, up to the whole repository: judged as all of it.
            unit.classes.insert(ActionClass::ShellDestructive);
            unit.tags.insert("discards-work".into());
            unit.source.push_str(&format!(
                " (the pathspec `{spec}` can cover the whole repository)"
            ));
            self.ctx.touch(unit, dir.to_path_buf(), Access::Write);
            self.written_from_index(unit, dir, true);
            return;
        }
        self.path_arg(unit, word, Access::Write, cwd);
        let Some(path) = self.word_path(word, cwd) else {
            unit.classes.insert(ActionClass::ShellDestructive);
            unit.tags.insert("discards-work".into());
            return;
        };
        // A pathspec glob (`'*.rs'`) is matched by git: any changed file may be among them.
        let pattern = word.raw.contains(['*', '?', '[']);
        let lost = if pattern {
            Some("a pattern git matches".to_string())
        } else {
            crate::worktree::loses(&path, crate::worktree::Change::Overwrite)
        };
        if let Some(why) = lost {
            unit.classes.insert(ActionClass::ShellDestructive);
            unit.tags.insert("discards-work".into());
            unit.source.push_str(&format!(" ({why})"));
        }
        self.written_from_index(unit, &path, pattern);
    }

    /// What `git restore`/`git checkout -- PATH` write: the index's content, which may be any
    /// object (`git update-index --cacheinfo`). Each file that differs is judged as written
    /// with it; one that would run something later makes the command unknown here.
    pub(crate) fn written_from_index(&mut self, unit: &mut Unit, path: &Path, pattern: bool) {
        unit.tags.insert(TAG_FROM_REPOSITORY.into());
        let Some(dir) = path.parent() else { return };
        let Some(GitDir::Normal(git_dir)) =
            find_git_dir(if path.is_dir_for_user() { path } else { dir })
        else {
            return;
        };
        let work_tree = git_dir.parent().unwrap_or(dir).to_path_buf();
        let under = match (pattern, path.strip_prefix(&work_tree)) {
            (false, Ok(rel)) => rel.to_string_lossy().into_owned(),
            _ => String::new(),
        };
        let written = commits::Repository::open(&git_dir)
            .and_then(|repo| repo.worktree_from_index(&work_tree, &under));
        match written {
            Ok(written) => {
                for change in written {
                    let target = work_tree.join(&change.path);
                    let content = change.content.as_deref();
                    self.incoming_link(unit, &work_tree, &change);
                    if !self
                        .ctx
                        .touch_judged(unit, target, Access::Write, content)
                        .is_empty()
                    {
                        unit.classes.insert(ActionClass::Unknown);
                        unit.source
                            .push_str(" (writes a file from the index that runs later)");
                    }
                }
            }
            Err(why) => {
                unit.classes.insert(ActionClass::Unknown);
                unit.source = format!("the repository {why}: Airlock cannot tell what it writes");
            }
        }
    }
}
