//! What deleting a path in a git work tree loses.
//!
//! `rm` of a file git has, unchanged, loses nothing (`git checkout` brings it back), and neither
//! does deleting what `.gitignore` says is generated (`rm -rf target`). A file git does not
//! have, or one changed since it was staged, is gone for good. So the repository's index and
//! ignore rules are read (with gix, opened isolated: nothing is run) and each file the deletion
//! reaches is compared with what git holds, by content hash — never by modification time.

use crate::commits::RepositoryError;
use airlock_userfs::ForUser;
use gix::bstr::{BStr, BString, ByteSlice};
use gix::worktree::stack::state::ignore::Source;
use std::path::{Component, Path, PathBuf};

/// Files checked per deletion; a tree with more is taken as losing work.
const MAX_FILES: usize = 2_000;

/// What a command does to the files at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// `rm`: gone, tracked or not.
    Delete,
    /// `git restore F`, `git checkout -- F`: tracked files replaced by git's copy (files git
    /// does not have are left alone).
    Overwrite,
}

/// Why deleting `path` loses work git cannot bring back, or `None` when it does not (or when
/// `path` is not in a git work tree: then there is no version control to consult).
pub(crate) fn deletion_loses(path: &Path) -> Option<String> {
    loses(path, Change::Delete)
}

/// Why deleting every file named like `name` (a glob) below `dir` loses work (`find DIR -name
/// NAME -delete`).
pub(crate) fn deletion_of_named_loses(dir: &Path, name: &str) -> Option<String> {
    let Ok(glob) = globset::Glob::new(name) else {
        return Some(format!("`{name}` is a name pattern Airlock cannot read"));
    };
    check(dir, Change::Delete, Some(&glob.compile_matcher()))
}

/// Why `change` to `path` loses work git cannot bring back, or `None`.
pub(crate) fn loses(path: &Path, change: Change) -> Option<String> {
    // `find DIR -name '*.o' -exec rm {} +` names `DIR/*.o`: every file so named below DIR.
    let pattern = path
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| n.contains(['*', '?', '[']) && !path.exists_for_user())
        .and_then(|n| globset::Glob::new(n).ok())
        .map(|g| g.compile_matcher());
    match (&pattern, path.parent()) {
        (Some(filter), Some(dir)) => check(dir, change, Some(filter)),
        _ => check(path, change, None),
    }
}

fn check(path: &Path, change: Change, filter: Option<&globset::GlobMatcher>) -> Option<String> {
    let meta = airlock_userfs::symlink_metadata(path).ok()?;
    if change == Change::Delete
        && filter.is_none()
        && meta.is_dir()
        && path.join(".git").exists_for_user()
    {
        return Some(format!(
            "`{}` is a git repository: its history goes with it",
            path.display()
        ));
    }
    let (work_tree, git_dir) = enclosing_repository(path)?;
    let relative = path.strip_prefix(&work_tree).ok()?.to_path_buf();
    if relative
        .components()
        .next()
        .is_some_and(|c| c == Component::Normal(".git".as_ref()))
    {
        // Inside `.git`: judged as git's own files, not work.
        return None;
    }
    // gix opens the repository's files by name, by itself: in system mode that would be with
    // the daemon's rights (`user_fs::may_read_repository`), so there it is not read, and what
    // the change loses is unknown. A repository gix cannot open is not judged harmless either.
    if !airlock_userfs::may_read_repository(&git_dir) {
        return Some(format!(
            "whether this loses work in the repository at `{}` is unknown: system mode does not read repositories for their users",
            work_tree.display()
        ));
    }
    #[allow(clippy::disallowed_methods)]
    let repo = match gix::open_opts(&git_dir, gix::open::Options::isolated()) {
        Ok(repo) => repo,
        Err(e) => {
            return Some(format!(
                "the repository at `{}` cannot be read ({e}), so what the change loses is unknown",
                work_tree.display()
            ));
        }
    };
    let mut checker = match Checker::new(&repo, &work_tree, change) {
        Ok(checker) => checker,
        Err(why) => return Some(why.to_string()),
    };
    if meta.is_dir() {
        checker.tree(&relative, filter)
    } else {
        checker.file(&relative, &meta)
    }
}

/// The work tree and git directory of the repository `path` is in (a directory may be the
/// work tree itself).
fn enclosing_repository(path: &Path) -> Option<(PathBuf, PathBuf)> {
    let skip = usize::from(!path.is_dir_for_user());
    path.ancestors().skip(skip).find_map(|dir| {
        let git = dir.join(".git");
        git.is_dir_for_user().then(|| (dir.to_path_buf(), git))
    })
}

struct Checker<'r> {
    repo: &'r gix::Repository,
    work_tree: PathBuf,
    index: gix::worktree::Index,
    excludes: gix::AttributeStack<'r>,
    change: Change,
    checked: usize,
}

impl<'r> Checker<'r> {
    fn new(
        repo: &'r gix::Repository,
        work_tree: &Path,
        change: Change,
    ) -> Result<Self, RepositoryError> {
        let index = repo
            .index_or_empty()
            .map_err(|e| RepositoryError::WorkTreeIndex(e.to_string()))?;
        let excludes = repo
            .excludes(&index, None, Source::WorktreeThenIdMappingIfNotSkipped)
            .map_err(|e| RepositoryError::IgnoreRules(e.to_string()))?;
        Ok(Self {
            repo,
            work_tree: work_tree.to_path_buf(),
            index,
            excludes,
            change,
            checked: 0,
        })
    }

    fn ignored(&mut self, relative: &Path, dir: bool) -> bool {
        let mode = if dir {
            gix::index::entry::Mode::DIR
        } else {
            gix::index::entry::Mode::FILE
        };
        self.excludes
            .at_path(relative, Some(mode))
            .is_ok_and(|p| p.is_excluded())
    }

    /// A file: lost when git does not have it and it is not ignored, or when its content
    /// differs from the index's. A symbolic link holds no work (only the name it points to).
    fn file(&mut self, relative: &Path, meta: &std::fs::Metadata) -> Option<String> {
        self.checked += 1;
        if meta.file_type().is_symlink() {
            return None;
        }
        let Some(entry) = key(relative).and_then(|k| self.index.entry_by_path(k.as_ref())) else {
            if self.change == Change::Overwrite || self.ignored(relative, false) {
                return None;
            }
            return Some(format!("`{}` is not in git", relative.display()));
        };
        let same =
            super::commits::same_content(self.repo, &self.work_tree.join(relative), entry.id);
        (!same).then(|| format!("`{}` has changes git does not have", relative.display()))
    }

    /// A directory: every file below it that git tracks or that is not ignored.
    fn tree(&mut self, relative: &Path, filter: Option<&globset::GlobMatcher>) -> Option<String> {
        let named = |p: &Path| filter.is_none_or(|f| p.file_name().is_some_and(|n| f.is_match(n)));
        // Tracked files, even under ignored directories (`git add -f`).
        let Some(prefix) = key(relative) else {
            return Some(format!(
                "`{}` is not a name git can hold",
                relative.display()
            ));
        };
        let tracked: Vec<PathBuf> = self
            .index
            .entries()
            .iter()
            .filter(|e| {
                let p: &BStr = e.path(&self.index);
                relative.as_os_str().is_empty()
                    || p.strip_prefix(prefix.as_slice())
                        .is_some_and(|rest| rest.starts_with(b"/"))
            })
            .filter_map(|e| e.path(&self.index).to_path().ok().map(Path::to_path_buf))
            .filter(|p| named(p))
            .collect();
        for file in tracked {
            if self.checked >= MAX_FILES {
                return Some(too_many(relative));
            }
            if let Ok(meta) = airlock_userfs::symlink_metadata(&self.work_tree.join(&file))
                && let Some(why) = self.file(&file, &meta)
            {
                return Some(why);
            }
        }
        if self.change == Change::Overwrite {
            return None;
        }
        // Files git does not have, outside ignored directories.
        let mut pending = vec![relative.to_path_buf()];
        while let Some(dir) = pending.pop() {
            let Ok(entries) = airlock_userfs::read_dir(&self.work_tree.join(&dir)) else {
                continue;
            };
            for entry in entries.flatten() {
                if self.checked >= MAX_FILES {
                    return Some(too_many(relative));
                }
                let child = dir.join(entry.file_name());
                let Ok(meta) = entry.path().symlink_metadata_for_user() else {
                    continue;
                };
                if meta.is_dir() {
                    if entry.file_name() == ".git" {
                        // git's own files: only a name pattern reaches into them (`find .
                        // -name '*.pack' -delete` deletes history).
                        if let Some(f) = filter
                            && any_named(&entry.path(), f)
                        {
                            return Some("it reaches git's own files in `.git`".into());
                        }
                        continue;
                    }
                    if entry.path().join(".git").exists_for_user() {
                        // Another repository: deleted whole, its history goes; a name pattern
                        // deletes only what it matches there.
                        let hit = match filter {
                            Some(f) => any_named(&entry.path(), f),
                            None => true,
                        };
                        if hit {
                            return Some(format!(
                                "`{}` is a git repository: its history goes with it",
                                child.display()
                            ));
                        }
                        continue;
                    }
                    if !self.ignored(&child, true) {
                        pending.push(child);
                    }
                    continue;
                }
                if !named(&child) || meta.file_type().is_symlink() {
                    continue;
                }
                let tracked = key(&child).and_then(|k| self.index.entry_by_path(k.as_ref()));
                if tracked.is_none() && !self.ignored(&child, false) {
                    return Some(format!("`{}` is not in git", child.display()));
                }
                self.checked += 1;
            }
        }
        None
    }
}

/// Whether a file below `dir` has a name `filter` matches (or there are too many to tell).
fn any_named(dir: &Path, filter: &globset::GlobMatcher) -> bool {
    const MAX_VISITED: usize = 20_000;
    let mut visited = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let Ok(entries) = airlock_userfs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            visited += 1;
            if visited > MAX_VISITED || filter.is_match(entry.file_name()) {
                return true;
            }
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                pending.push(entry.path());
            }
        }
    }
    false
}

/// A path as git names it in the index.
fn key(path: &Path) -> Option<BString> {
    gix::path::into_bstr(path).ok().map(|b| b.into_owned())
}

fn too_many(relative: &Path) -> String {
    format!(
        "`{}` holds more than {MAX_FILES} files to compare with git",
        relative.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) {
        let ok = Command::new("git")
            .args([
                "-c",
                "user.email=t@t",
                "-c",
                "user.name=t",
                "-c",
                "commit.gpgSign=false",
            ])
            .args(args)
            .current_dir(dir)
            .status()
            .expect("git runs")
            .success();
        assert!(ok, "git {args:?}");
    }

    fn repo() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q", "-b", "main"]);
        std::fs::write(root.join(".gitignore"), "target/\n*.log\n").unwrap();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("src/lib.rs"), "pub fn a() {}\n").unwrap();
        std::fs::write(root.join("README.md"), "# r\n").unwrap();
        git(root, &["add", "-A"]);
        git(root, &["commit", "-q", "-m", "init"]);
        std::fs::create_dir_all(root.join("target/debug")).unwrap();
        std::fs::write(root.join("target/debug/app"), "bin").unwrap();
        std::fs::write(root.join("build.log"), "log").unwrap();
        dir
    }

    #[test]
    fn clean_tracked_and_ignored_files_lose_nothing() {
        let dir = repo();
        let root = dir.path();
        assert_eq!(deletion_loses(&root.join("README.md")), None);
        assert_eq!(deletion_loses(&root.join("src")), None);
        assert_eq!(deletion_loses(&root.join("target")), None);
        assert_eq!(deletion_loses(&root.join("build.log")), None);
    }

    #[test]
    fn untracked_and_modified_files_are_lost() {
        let dir = repo();
        let root = dir.path();
        std::fs::write(root.join("notes.txt"), "mine").unwrap();
        assert!(deletion_loses(&root.join("notes.txt")).is_some());
        std::fs::write(root.join("src/new.rs"), "new").unwrap();
        assert!(deletion_loses(&root.join("src")).is_some());
        std::fs::remove_file(root.join("src/new.rs")).unwrap();
        std::fs::write(root.join("src/lib.rs"), "changed").unwrap();
        assert!(deletion_loses(&root.join("src/lib.rs")).is_some());
        assert!(deletion_loses(&root.join("src")).is_some());
        // Changed, though its modification time is set back (content decides).
        git(root, &["checkout", "-q", "--", "src/lib.rs"]);
        assert_eq!(deletion_loses(&root.join("src/lib.rs")), None);
    }

    #[test]
    fn a_tracked_file_under_an_ignored_directory_still_counts() {
        let dir = repo();
        let root = dir.path();
        std::fs::write(root.join("target/keep.txt"), "kept").unwrap();
        git(root, &["add", "-f", "target/keep.txt"]);
        git(root, &["commit", "-q", "-m", "keep"]);
        assert_eq!(deletion_loses(&root.join("target")), None);
        std::fs::write(root.join("target/keep.txt"), "changed").unwrap();
        assert!(deletion_loses(&root.join("target")).is_some());
    }

    #[test]
    fn restoring_loses_only_changes_to_tracked_files() {
        let dir = repo();
        let root = dir.path();
        std::fs::write(root.join("notes.txt"), "mine").unwrap();
        assert_eq!(loses(&root.join("notes.txt"), Change::Overwrite), None);
        assert_eq!(loses(&root.join("README.md"), Change::Overwrite), None);
        assert_eq!(loses(root, Change::Overwrite), None);
        std::fs::write(root.join("README.md"), "changed").unwrap();
        assert!(loses(&root.join("README.md"), Change::Overwrite).is_some());
        assert!(loses(root, Change::Overwrite).is_some());
    }

    #[test]
    fn a_name_pattern_reaches_the_matching_files_below() {
        let dir = repo();
        let root = dir.path();
        std::fs::write(root.join("src/gen.pyc"), "x").unwrap();
        std::fs::write(root.join(".gitignore"), "target/\n*.log\n*.pyc\n").unwrap();
        assert_eq!(deletion_loses(&root.join("*.pyc")), None);
        assert_eq!(deletion_loses(&root.join("*.rs")), None);
        std::fs::write(root.join("src/new.rs"), "new").unwrap();
        assert!(deletion_loses(&root.join("*.rs")).is_some());
        assert_eq!(deletion_loses(&root.join("*.pyc")), None);
    }

    #[test]
    fn a_nested_repository_is_history() {
        let dir = repo();
        let inner = dir.path().join("vendor/lib");
        std::fs::create_dir_all(&inner).unwrap();
        git(&inner, &["init", "-q"]);
        assert!(deletion_loses(&inner).is_some());
        assert!(deletion_loses(&dir.path().join("vendor")).is_some());
    }

    #[test]
    fn outside_a_repository_there_is_nothing_to_consult() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x"), "x").unwrap();
        assert_eq!(deletion_loses(&dir.path().join("x")), None);
    }
}
