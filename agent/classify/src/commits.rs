//! What git brings into the working tree from another commit.
//!
//! `git checkout BRANCH`, `switch`, `merge`, `cherry-pick`, `stash pop` and `read-tree -u` write
//! whatever that commit holds, and an agent can make such a commit itself with git plumbing
//! (`hash-object`, `mktree`, `commit-tree`) without any file write Airlock decides. So the
//! repository's objects are read (with gix, never by running git, which would run the
//! repository's configured programs) and every path whose content differs between `HEAD` and
//! the incoming commit is judged as written with that content: `.claude/settings.json`,
//! `.envrc` or a package.json lifecycle script arriving that way is seen. The paths a merge or
//! cherry-pick can change are a subset of those.

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::objs::tree::EntryMode;
use std::collections::BTreeMap;
use std::path::Path;

/// How many changed paths are read before giving up (the command is then unknown).
const MAX_CHANGES: usize = 5_000;

/// Incoming content larger than this is not read (as for files on disk).
const MAX_CONTENT: usize = 256 * 1024;

/// A path the incoming commit changes, relative to the work tree, with its new content when it
/// is text Airlock can read (`None` for binaries, large files, links and submodules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    pub path: String,
    pub content: Option<String>,
    /// The path is a symbolic link and `content` is where it points.
    pub link: bool,
}

/// Why a repository's commits or index could not be read. The text ends up in a unit's reason
/// ("the repository … cannot be read"), so it says what failed in a person's words.
#[derive(Debug, thiserror::Error)]
pub enum RepositoryError {
    #[error("is not read in system mode (repositories are read only in user mode)")]
    SystemMode,
    #[error("cannot be read ({0})")]
    Open(String),
    #[error("has no commit `{0}`")]
    NoCommit(String),
    #[error("cannot read `{rev}` ({message})")]
    Revision { rev: String, message: String },
    #[error("cannot read HEAD ({0})")]
    Head(String),
    #[error("cannot read a tree ({0})")]
    Tree(String),
    #[error("cannot read the index ({0})")]
    Index(String),
    #[error("the repository's index cannot be read ({0})")]
    WorkTreeIndex(String),
    #[error("the repository's ignore rules cannot be read ({0})")]
    IgnoreRules(String),
    #[error("changes more than {MAX_CHANGES} paths")]
    TooManyChanges,
}

/// The repository whose git directory is `git_dir`, opened without global or system
/// configuration and without running anything.
pub struct Repository {
    repo: gix::Repository,
}

impl Repository {
    pub fn open(git_dir: &Path) -> Result<Self, RepositoryError> {
        // gix opens the repository's files by name, by itself: in system mode that would be
        // with the daemon's rights, so there repositories are not read for users.
        if !airlock_userfs::may_read_repository(git_dir) {
            return Err(RepositoryError::SystemMode);
        }
        #[allow(clippy::disallowed_methods)]
        gix::open_opts(git_dir, gix::open::Options::isolated())
            .map(|repo| Self { repo })
            .map_err(|e| RepositoryError::Open(e.to_string()))
    }

    /// The commit `rev` names (a branch, tag, `stash@{0}`, hash…), peeled to its tree.
    fn tree_of(&self, rev: &str) -> Result<ObjectId, RepositoryError> {
        let id = self
            .repo
            .rev_parse_single(rev)
            .map_err(|_| RepositoryError::NoCommit(rev.to_string()))?;
        let tree =
            id.object()
                .and_then(|o| o.peel_to_tree())
                .map_err(|e| RepositoryError::Revision {
                    rev: rev.to_string(),
                    message: e.to_string(),
                })?;
        Ok(tree.id)
    }

    /// Whether `rev` names a commit here.
    pub fn has(&self, rev: &str) -> bool {
        self.repo.rev_parse_single(rev).is_ok()
    }

    /// Every path whose content differs between `HEAD` and `rev`, with the new content.
    pub fn incoming(&self, rev: &str) -> Result<Vec<Incoming>, RepositoryError> {
        let head = self
            .repo
            .head_tree_id_or_empty()
            .map_err(|e| RepositoryError::Head(e.to_string()))?
            .detach();
        let theirs = self.tree_of(rev)?;
        let mut out = Vec::new();
        self.diff(Some(head), Some(theirs), "", &mut out)?;
        Ok(out)
    }

    /// Every file of `rev`'s tree, with its content: what checking it out into an empty
    /// directory writes (`git worktree add`).
    pub fn files_of(&self, rev: &str) -> Result<Vec<Incoming>, RepositoryError> {
        let theirs = self.tree_of(rev)?;
        let mut out = Vec::new();
        self.diff(None, Some(theirs), "", &mut out)?;
        Ok(out)
    }

    /// The entries of a tree: name → (mode, object).
    fn entries(
        &self,
        tree: Option<ObjectId>,
    ) -> Result<BTreeMap<Vec<u8>, (EntryMode, ObjectId)>, RepositoryError> {
        let Some(id) = tree else {
            return Ok(BTreeMap::new());
        };
        let tree = self
            .repo
            .find_tree(id)
            .map_err(|e| RepositoryError::Tree(e.to_string()))?;
        let decoded = tree
            .decode()
            .map_err(|e| RepositoryError::Tree(e.to_string()))?;
        Ok(decoded
            .entries
            .iter()
            .map(|e| (e.filename.to_vec(), (e.mode, e.oid.to_owned())))
            .collect())
    }

    fn diff(
        &self,
        ours: Option<ObjectId>,
        theirs: Option<ObjectId>,
        prefix: &str,
        out: &mut Vec<Incoming>,
    ) -> Result<(), RepositoryError> {
        if ours == theirs {
            return Ok(());
        }
        let ours = self.entries(ours)?;
        let theirs = self.entries(theirs)?;
        for (name, (mode, id)) in &theirs {
            let path = format!("{prefix}{}", name.to_str_lossy());
            let before = ours.get(name);
            if before == Some(&(*mode, *id)) {
                continue;
            }
            if mode.is_tree() {
                let old_tree = before.filter(|(m, _)| m.is_tree()).map(|(_, id)| *id);
                self.diff(old_tree, Some(*id), &format!("{path}/"), out)?;
                continue;
            }
            if out.len() >= MAX_CHANGES {
                return Err(RepositoryError::TooManyChanges);
            }
            let link = mode.is_link();
            let content = if mode.is_blob() || link {
                self.text(*id)
            } else {
                None
            };
            out.push(Incoming {
                path,
                content,
                link,
            });
        }
        Ok(())
    }

    /// The files of `rev`'s tree below `under` whose content differs from the work tree (or
    /// that are missing there), with `rev`'s content: what making the work tree match `rev`
    /// writes (`git stash` resets it to `HEAD`).
    pub fn worktree_reset_to(
        &self,
        rev: &str,
        work_tree: &Path,
        under: &str,
    ) -> Result<Vec<Incoming>, RepositoryError> {
        let tree = self.tree_of(rev)?;
        let mut out = Vec::new();
        self.tree_vs_worktree(tree, "", work_tree, under, &mut out)?;
        Ok(out)
    }

    /// The files of the index below `under` whose content differs from the work tree, with the
    /// index's content: what `git restore`/`git checkout -- PATHS` write (the index can hold
    /// any object: `git update-index --cacheinfo`).
    pub fn worktree_from_index(
        &self,
        work_tree: &Path,
        under: &str,
    ) -> Result<Vec<Incoming>, RepositoryError> {
        let index = self
            .repo
            .index_or_empty()
            .map_err(|e| RepositoryError::Index(e.to_string()))?;
        let mut out = Vec::new();
        for entry in index.entries() {
            let path = entry.path(&index).to_str_lossy().into_owned();
            use gix::index::entry::Mode;
            let link = entry.mode == Mode::SYMLINK;
            if !within(&path, under)
                || !(entry.mode == Mode::FILE || entry.mode == Mode::FILE_EXECUTABLE || link)
            {
                continue;
            }
            let target = work_tree.join(&path);
            let same = if link {
                same_link(&target, self.text(entry.id).as_deref())
            } else {
                same_content(&self.repo, &target, entry.id)
            };
            if !same {
                if out.len() >= MAX_CHANGES {
                    return Err(RepositoryError::TooManyChanges);
                }
                let content = self.text(entry.id);
                out.push(Incoming {
                    path,
                    content,
                    link,
                });
            }
        }
        Ok(out)
    }

    fn tree_vs_worktree(
        &self,
        tree: ObjectId,
        prefix: &str,
        work_tree: &Path,
        under: &str,
        out: &mut Vec<Incoming>,
    ) -> Result<(), RepositoryError> {
        for (name, (mode, id)) in self.entries(Some(tree))? {
            let path = format!("{prefix}{}", name.to_str_lossy());
            if mode.is_tree() {
                // Only trees that can hold paths below `under`.
                if within(&path, under) || under.starts_with(&format!("{path}/")) {
                    self.tree_vs_worktree(id, &format!("{path}/"), work_tree, under, out)?;
                }
                continue;
            }
            let link = mode.is_link();
            if !within(&path, under) || !(mode.is_blob() || link) {
                continue;
            }
            let target = work_tree.join(&path);
            let same = if link {
                same_link(&target, self.text(id).as_deref())
            } else {
                same_content(&self.repo, &target, id)
            };
            if !same {
                if out.len() >= MAX_CHANGES {
                    return Err(RepositoryError::TooManyChanges);
                }
                out.push(Incoming {
                    content: self.text(id),
                    path,
                    link,
                });
            }
        }
        Ok(())
    }

    fn text(&self, id: ObjectId) -> Option<String> {
        let object = self.repo.find_object(id).ok()?;
        if object.data.len() > MAX_CONTENT {
            return None;
        }
        String::from_utf8(object.data.clone()).ok()
    }
}

/// Whether `path` is `under` or below it (`under` empty: everything).
fn within(path: &str, under: &str) -> bool {
    under.is_empty() || path == under || path.starts_with(&format!("{under}/"))
}

/// Whether `path` is already a link to `target`.
fn same_link(path: &Path, target: Option<&str>) -> bool {
    match (airlock_userfs::read_link(path), target) {
        (Ok(now), Some(target)) => now == Path::new(target),
        _ => false,
    }
}

/// Whether the file at `path` holds the blob `id` (hashed, never judged by time stamps; a
/// file over 16 MiB is taken as different).
pub(crate) fn same_content(repo: &gix::Repository, path: &Path, id: ObjectId) -> bool {
    let Ok(meta) = airlock_userfs::symlink_metadata(path) else {
        return false;
    };
    if !meta.is_file() || meta.len() > 16 * 1024 * 1024 {
        return false;
    }
    airlock_userfs::read(path).is_ok_and(|bytes| {
        gix::objs::compute_hash(repo.object_hash(), gix::objs::Kind::Blob, &bytes)
            .is_ok_and(|h| h == id)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) {
        let status = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.com",
                "-c",
                "core.hooksPath=/dev/null",
            ])
            .args(args)
            .current_dir(dir)
            .status()
            .expect("git runs");
        assert!(status.success(), "git {args:?}");
    }

    #[test]
    fn a_branch_brings_in_the_paths_it_changes_with_their_content() {
        let dir = tempfile::tempdir().unwrap();
        let w = dir.path();
        git(w, &["init", "-q", "-b", "main"]);
        std::fs::write(w.join("notes.txt"), "a\n").unwrap();
        std::fs::create_dir_all(w.join("src")).unwrap();
        std::fs::write(w.join("src/lib.rs"), "fn a() {}\n").unwrap();
        git(w, &["add", "."]);
        git(w, &["commit", "-qm", "one"]);
        git(w, &["checkout", "-qb", "other"]);
        std::fs::create_dir_all(w.join(".claude")).unwrap();
        std::fs::write(w.join(".claude/settings.json"), "{\"hooks\": {}}\n").unwrap();
        std::fs::write(w.join("notes.txt"), "b\n").unwrap();
        git(w, &["add", "."]);
        git(w, &["commit", "-qm", "two"]);
        git(w, &["checkout", "-q", "main"]);

        let repo = Repository::open(&w.join(".git")).unwrap();
        let mut got = repo.incoming("other").unwrap();
        got.sort_by(|a, b| a.path.cmp(&b.path));
        assert_eq!(
            got,
            [
                Incoming {
                    path: ".claude/settings.json".into(),
                    content: Some("{\"hooks\": {}}\n".into()),
                    link: false,
                },
                Incoming {
                    path: "notes.txt".into(),
                    content: Some("b\n".into()),
                    link: false,
                },
            ]
        );
        assert!(repo.incoming("main").unwrap().is_empty());
        assert!(repo.incoming("no-such-branch").is_err());
        assert!(repo.has("other") && !repo.has("nope"));

        // The work tree matches main: resetting it to `other` writes what differs.
        let mut reset = repo.worktree_reset_to("other", w, "").unwrap();
        reset.sort_by(|a, b| a.path.cmp(&b.path));
        let paths: Vec<&str> = reset.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(paths, [".claude/settings.json", "notes.txt"]);
        assert!(repo.worktree_reset_to("main", w, "").unwrap().is_empty());
        let only: Vec<String> = repo
            .worktree_reset_to("other", w, ".claude")
            .unwrap()
            .into_iter()
            .map(|i| i.path)
            .collect();
        assert_eq!(only, [".claude/settings.json"]);
        assert!(repo.worktree_from_index(w, "").unwrap().is_empty());
        std::fs::write(w.join("notes.txt"), "edited\n").unwrap();
        let from_index = repo.worktree_from_index(w, "").unwrap();
        assert_eq!(from_index.len(), 1);
        assert_eq!(from_index[0].content.as_deref(), Some("a\n"));
    }
}

/// One step left in a stopped rebase's or cherry-pick's to-do list
/// (`.git/rebase-merge/git-rebase-todo`, `.git/sequencer/todo`), which `--continue` carries
/// out: anyone who can write the file chooses the steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `exec CMD`: a shell command.
    Run(String),
    /// A commit whose content comes into the working tree (`pick`, `merge -C`, `reset`).
    Bring(String),
    /// A line git would act on that Airlock does not take apart.
    Unknown(String),
}

/// The steps of a to-do list, as git's sequencer reads it.
pub fn todo_steps(text: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (verb, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let rest = rest.trim();
        let mut args = rest.split_whitespace();
        match verb {
            "exec" | "x" => steps.push(Step::Run(rest.to_string())),
            "pick" | "p" | "reword" | "r" | "edit" | "e" | "squash" | "s" => {
                steps.extend(args.next().map(|rev| Step::Bring(rev.to_string())));
            }
            "fixup" | "f" => {
                // `fixup [-C | -c] COMMIT`.
                let rev = args.find(|a| !a.starts_with('-'));
                steps.extend(rev.map(|rev| Step::Bring(rev.to_string())));
            }
            // A revert brings back the parent's content.
            "revert" => steps.extend(args.next().map(|rev| Step::Bring(format!("{rev}^")))),
            "merge" | "m" => {
                // `merge [-C COMMIT | -c COMMIT] LABEL…`: the labels are commits too.
                let mut words = args.peekable();
                while let Some(word) = words.next() {
                    if word == "#" {
                        break;
                    }
                    match word {
                        "-C" | "-c" => {
                            steps.extend(words.next().map(|rev| Step::Bring(rev.to_string())))
                        }
                        label => steps.push(Step::Bring(label.to_string())),
                    }
                }
            }
            "reset" | "t" => steps.extend(args.next().map(|rev| Step::Bring(rev.to_string()))),
            "label" | "l" | "break" | "b" | "drop" | "d" | "noop" | "update-ref" | "u" => {}
            _ => steps.push(Step::Unknown(line.to_string())),
        }
    }
    steps
}

#[cfg(test)]
mod todo_tests {
    use super::*;

    #[test]
    fn a_forged_todo_is_read_step_by_step() {
        let text = "# Rebase\npick 1a2b msg\nexec rm -rf ~\nx make\nfixup -C 3c4d\nmerge -C 5e6f topic # Merge\nlabel onto\nreset onto\nrevert 7a8b\nfrobnicate 1\n";
        assert_eq!(
            todo_steps(text),
            vec![
                Step::Bring("1a2b".into()),
                Step::Run("rm -rf ~".into()),
                Step::Run("make".into()),
                Step::Bring("3c4d".into()),
                Step::Bring("5e6f".into()),
                Step::Bring("topic".into()),
                Step::Bring("onto".into()),
                Step::Bring("7a8b^".into()),
                Step::Unknown("frobnicate 1".into()),
            ]
        );
    }
}
