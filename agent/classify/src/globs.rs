//! Path globs expanded the way bash expands them, against the file system.
//!
//! `cat ~/.n?trc` reads `~/.netrc` and `rm -rf d/*/*` deletes whatever the links under `d/`
//! lead to: a pattern is judged by the paths it really matches, each resolved like any path.
//! As in bash (no `dotglob`), a component matches a name starting with `.` only when it starts
//! with a literal `.` itself; a pattern that matches nothing stays as written. Listing stops at
//! a budget, and the word is then unknown.

use airlock_userfs::ForUser;
use globset::GlobBuilder;
use std::path::{Component, Path, PathBuf};

/// Directory entries looked at for one word before giving up.
const MAX_ENTRIES: usize = 20_000;
/// Paths one word may expand to before giving up.
const MAX_MATCHES: usize = 1_000;

/// What a glob word expands to.
#[derive(Debug, PartialEq, Eq)]
pub enum Expansion {
    /// The existing paths it matches (empty: bash keeps the word as written).
    Matches(Vec<PathBuf>),
    /// More than the budget allows, or a pattern Airlock cannot match like bash.
    Unknown,
}

/// Whether a path component holds glob syntax.
pub fn has_glob(text: &str) -> bool {
    text.contains(['*', '?', '['])
}

/// Expand an absolute pattern.
pub fn expand(pattern: &Path) -> Expansion {
    let mut bases: Vec<PathBuf> = vec![PathBuf::from("/")];
    let mut entries = 0usize;
    let mut after_glob = false;
    for component in pattern.components() {
        let part = match component {
            Component::RootDir | Component::Prefix(_) => continue,
            Component::CurDir => continue,
            Component::ParentDir => {
                bases = bases.into_iter().map(|b| b.join("..")).collect();
                continue;
            }
            Component::Normal(part) => part.to_string_lossy().into_owned(),
        };
        if !has_glob(&part) {
            bases = bases.into_iter().map(|b| b.join(&part)).collect();
            if after_glob {
                bases.retain(|b| b.symlink_metadata_for_user().is_ok());
            }
            continue;
        }
        // extglob and similar syntax globset does not share with bash.
        if part.contains(['(', ')', '{', '}', '|']) || part.contains("[^") {
            return Expansion::Unknown;
        }
        let Ok(glob) = GlobBuilder::new(&part)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
        else {
            return Expansion::Unknown;
        };
        let matcher = glob.compile_matcher();
        let hidden_ok = part.starts_with('.');
        let mut next = Vec::new();
        for base in &bases {
            // Following links, as bash does when it lists a directory.
            let Ok(dir) = airlock_userfs::read_dir(base) else {
                continue;
            };
            for entry in dir.flatten() {
                entries += 1;
                if entries > MAX_ENTRIES {
                    return Expansion::Unknown;
                }
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if name.starts_with('.') && !hidden_ok {
                    continue;
                }
                if matcher.is_match(name.as_ref()) {
                    next.push(base.join(name.as_ref()));
                    if next.len() > MAX_MATCHES {
                        return Expansion::Unknown;
                    }
                }
            }
        }
        next.sort();
        bases = next;
        after_glob = true;
        if bases.is_empty() {
            break;
        }
    }
    Expansion::Matches(if after_glob { bases } else { Vec::new() })
}

#[cfg(test)]
mod tests {
    // Fixtures are made with the test's own rights.
    #![allow(clippy::disallowed_methods)]
    use super::*;

    #[test]
    fn patterns_match_like_bash_and_follow_links() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let home = root.join("home");
        std::fs::create_dir_all(home.join(".ssh")).unwrap();
        std::fs::write(home.join(".netrc"), "x").unwrap();
        std::fs::write(home.join(".ssh/id_rsa"), "k").unwrap();
        std::fs::write(home.join("notes"), "n").unwrap();
        std::fs::create_dir_all(root.join("w/d")).unwrap();
        std::os::unix::fs::symlink(&home, root.join("w/d/h")).unwrap();

        let got = |p: &str| expand(&root.join(p));
        assert_eq!(
            got("home/.n?trc"),
            Expansion::Matches(vec![home.join(".netrc")])
        );
        // `*` skips names starting with a dot.
        assert_eq!(got("home/*"), Expansion::Matches(vec![home.join("notes")]));
        assert_eq!(
            got("w/d/*/.ss*/id_*"),
            Expansion::Matches(vec![root.join("w/d/h/.ssh/id_rsa")])
        );
        assert_eq!(
            got("home/[n]otes"),
            Expansion::Matches(vec![home.join("notes")])
        );
        assert_eq!(got("home/*.nothing"), Expansion::Matches(vec![]));
        assert_eq!(got("home/@(a|b)*"), Expansion::Unknown);
    }
}

/// What `find DIR -name PATTERN` finds: every file or directory below `dir` (and `dir` itself)
/// whose name matches, at any depth, following links to directories only with `follow` (`-L`).
/// `None` past [`MAX_ENTRIES`] entries looked at or `max_matches` found: then the command is
/// judged on the whole tree.
pub fn find_named(
    dir: &Path,
    pattern: &str,
    case_insensitive: bool,
    follow: bool,
    max_matches: usize,
) -> Option<Vec<PathBuf>> {
    let matcher = GlobBuilder::new(pattern)
        .literal_separator(true)
        .case_insensitive(case_insensitive)
        .build()
        .ok()?
        .compile_matcher();
    let mut found = Vec::new();
    let mut entries = 0usize;
    let mut seen_dirs = std::collections::HashSet::new();
    let named = |p: &Path| p.file_name().is_some_and(|n| matcher.is_match(n));
    if named(dir) {
        found.push(dir.to_path_buf());
    }
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        // A directory reached twice (a link loop) is walked once.
        if let Ok(real) = airlock_userfs::canonicalize(&current)
            && !seen_dirs.insert(real)
        {
            continue;
        }
        let Ok(list) = airlock_userfs::read_dir(&current) else {
            continue;
        };
        for entry in list.flatten() {
            entries += 1;
            if entries > MAX_ENTRIES {
                return None;
            }
            let path = entry.path();
            if named(&path) {
                found.push(path.clone());
                if found.len() > max_matches {
                    return None;
                }
            }
            let is_dir = match entry.file_type() {
                Ok(t) if t.is_symlink() => follow && path.is_dir_for_user(),
                Ok(t) => t.is_dir(),
                Err(_) => false,
            };
            if is_dir {
                pending.push(path);
            }
        }
    }
    Some(found)
}

#[cfg(test)]
mod find_tests {
    // Fixtures are made with the test's own rights.
    #![allow(clippy::disallowed_methods)]
    use super::*;

    #[test]
    fn names_are_found_at_every_depth_and_through_links_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/b/id_rsa"), "k").unwrap();
        std::fs::write(root.join("a/x.txt"), "x").unwrap();
        let keys = tempfile::tempdir().unwrap();
        std::fs::write(keys.path().join("id_ed25519"), "k").unwrap();
        std::os::unix::fs::symlink(keys.path(), root.join("ref")).unwrap();
        let found = find_named(root, "id_*", false, false, 100).unwrap();
        assert_eq!(found, [root.join("a/b/id_rsa")]);
        let mut followed = find_named(root, "id_*", false, true, 100).unwrap();
        followed.sort();
        assert_eq!(
            followed,
            [root.join("a/b/id_rsa"), root.join("ref/id_ed25519")]
        );
        assert_eq!(find_named(root, "ID_*", true, false, 100).unwrap().len(), 1);
        assert_eq!(find_named(root, "*", false, false, 2), None);
    }
}
