//! Where a path really leads: symbolic links followed on the real file system, as the kernel
//! would at the moment of the decision.
//!
//! Every path decision is made on the resolved path: a link in the workspace to `~/.ssh` is
//! `~/.ssh`, a link to Airlock's configuration is Airlock's configuration. The part of a path that
//! does not exist yet is taken lexically (a Write creates it there), so the longest existing
//! prefix is resolved and the rest normalised — which also keeps paths on machines that are not
//! this one (the policy examples' `/home/user`) as written.
//!
//! Links the request itself creates (`ln -s ~/.ssh k && cat k/id_rsa`) are not on disk yet when
//! the request is decided; they are passed in as [`PlannedLinks`], and a path through such a name
//! is resolved both ways (the link as planned, and whatever is there now), so it only adds.
//!
//! `/proc` is never followed here: its links (`/proc/self/cwd`, `/proc/self/root`, `fd/N`) describe
//! the process that reads them, and that is Airlock, not the agent.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Linux follows at most this many links in one lookup (`MAXSYMLINKS`); beyond, it fails `ELOOP`.
const MAX_HOPS: usize = 40;

/// At most this many alternative resolutions of one path (each planned link on the way doubles
/// them); beyond, the path is only known at run time.
const MAX_VARIANTS: usize = 8;

/// What a link the request creates will point to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Planned {
    /// A symbolic link's target as it will be written (relative to the link's directory), or the
    /// absolute path a hard link or bind mount makes the name the same as.
    To(PathBuf),
    /// The target is computed at run time.
    Unknown,
}

/// Links a request creates, by the real path of the new name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PlannedLinks(BTreeMap<PathBuf, Vec<Planned>>);

impl PlannedLinks {
    pub fn add(&mut self, location: PathBuf, target: Planned) {
        let targets = self.0.entry(location).or_default();
        if !targets.contains(&target) {
            targets.push(target);
        }
    }

    fn get(&self, path: &Path) -> &[Planned] {
        self.0.get(path).map_or(&[], Vec::as_slice)
    }
}

/// One way a path may resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub path: PathBuf,
    /// Where the path leads is not known here: a link loop, a link the request creates with a
    /// computed target, or a `/proc` entry of another process.
    pub unknown: bool,
}

/// What resolution needs besides the path.
pub(crate) struct Lookup<'a> {
    /// The request's working directory (for `/proc/self/cwd`).
    pub cwd: Option<&'a Path>,
    pub planned: &'a PlannedLinks,
}

#[derive(Debug, Clone)]
enum Part {
    Root,
    Parent,
    Name(OsString),
}

#[derive(Debug, Clone)]
struct State {
    out: PathBuf,
    queue: VecDeque<Part>,
    hops: usize,
    unknown: bool,
}

/// Every way the absolute path `path` may resolve. `follow_last`: whether a link as the last
/// component is followed (reading and writing follow it; `rm link` removes the link itself). A
/// trailing `/` or `/.` always follows, as it does for the kernel.
pub(crate) fn resolve(path: &Path, follow_last: bool, lookup: &Lookup<'_>) -> Vec<Resolved> {
    let bytes = path.as_os_str().as_bytes();
    let follow_last = follow_last || bytes.ends_with(b"/") || bytes.ends_with(b"/.");
    let mut pending = vec![State {
        out: PathBuf::from("/"),
        queue: parts(path),
        hops: 0,
        unknown: false,
    }];
    let mut done: Vec<Resolved> = Vec::new();
    while let Some(mut state) = pending.pop() {
        let mut forks = Vec::new();
        step_to_end(&mut state, follow_last, lookup, &mut forks);
        for fork in forks {
            if pending.len() + done.len() + 1 < MAX_VARIANTS {
                pending.push(fork);
            } else {
                state.unknown = true;
            }
        }
        let resolved = Resolved {
            path: state.out,
            unknown: state.unknown,
        };
        if !done.contains(&resolved) {
            done.push(resolved);
        }
    }
    done
}

/// Resolve `state` to the end, following what is on disk; each planned link met on the way
/// adds a fork that follows the plan instead.
fn step_to_end(state: &mut State, follow_last: bool, lookup: &Lookup<'_>, forks: &mut Vec<State>) {
    while let Some(part) = state.queue.pop_front() {
        let name = match part {
            Part::Root => {
                state.out = PathBuf::from("/");
                continue;
            }
            Part::Parent => {
                state.out.pop();
                continue;
            }
            Part::Name(name) => name,
        };
        let candidate = state.out.join(&name);
        // Only the final name is "last"; `x/..` still looks `x` up.
        if state.queue.is_empty() && !follow_last {
            state.out = candidate;
            continue;
        }
        if state.out.starts_with("/proc") {
            proc_entry(state, &name, lookup);
            continue;
        }
        for planned in lookup.planned.get(&candidate) {
            let mut fork = state.clone();
            match planned {
                Planned::To(target) => {
                    fork.hops += 1;
                    if fork.hops > MAX_HOPS {
                        fork.unknown = true;
                        fork.out = candidate.clone();
                    } else {
                        prepend(&mut fork.queue, target);
                    }
                }
                Planned::Unknown => {
                    fork.unknown = true;
                    fork.out = candidate.clone();
                }
            }
            forks.push(fork);
        }
        let is_link = airlock_userfs::symlink_metadata(&candidate).is_ok_and(|m| m.is_symlink());
        if !is_link {
            // A directory, a file, or nothing yet: the name stays as it is.
            state.out = candidate;
            continue;
        }
        state.hops += 1;
        match airlock_userfs::read_link(&candidate) {
            Ok(target) if state.hops <= MAX_HOPS => prepend(&mut state.queue, &target),
            _ => {
                // `ELOOP` at run time: nothing is reached, but nothing here says what was meant.
                state.unknown = true;
                state.out = candidate;
            }
        }
    }
}

/// A name under `/proc`: `<pid>/root` is the root directory, `self/cwd` the request's working
/// directory; other processes' `cwd` and every `fd`/`map_files` entry are unknown from here.
fn proc_entry(state: &mut State, name: &OsStr, lookup: &Lookup<'_>) {
    let depth = state.out.components().count();
    // `/proc` has 2 components, `/proc/<pid>` 3, `/proc/<pid>/fd` 4.
    let process = state
        .out
        .components()
        .nth(2)
        .map(|c| c.as_os_str().to_owned());
    let is_self = process
        .as_deref()
        .is_some_and(|p| p == "self" || p == "thread-self");
    let per_process = process.as_deref().is_some_and(|p| {
        p == "self" || p == "thread-self" || p.as_bytes().iter().all(u8::is_ascii_digit)
    });
    if depth == 3 && per_process {
        match name.as_bytes() {
            b"root" => {
                state.out = PathBuf::from("/");
                return;
            }
            b"cwd" => {
                match (is_self, lookup.cwd) {
                    (true, Some(cwd)) => {
                        state.out = PathBuf::from("/");
                        prepend(&mut state.queue, cwd);
                    }
                    _ => {
                        state.unknown = true;
                        state.out.push(name);
                    }
                }
                return;
            }
            b"exe" | b"fd" | b"map_files" | b"ns" => state.unknown = true,
            _ => {}
        }
    }
    state.out.push(name);
}

fn parts(path: &Path) -> VecDeque<Part> {
    let bytes = path.as_os_str().as_bytes();
    let mut parts = VecDeque::new();
    if bytes.starts_with(b"/") {
        parts.push_back(Part::Root);
    }
    for piece in bytes.split(|b| *b == b'/') {
        match piece {
            b"" | b"." => {}
            b".." => parts.push_back(Part::Parent),
            name => parts.push_back(Part::Name(OsStr::from_bytes(name).to_owned())),
        }
    }
    parts
}

fn prepend(queue: &mut VecDeque<Part>, target: &Path) {
    for part in parts(target).into_iter().rev() {
        queue.push_front(part);
    }
}

/// The symbolic links inside the tree at `root` (not following any), at most `budget` entries
/// looked at in all; `None` when the tree is larger than that.
pub(crate) fn links_in_tree(root: &Path, budget: &mut usize) -> Option<Vec<PathBuf>> {
    let mut links = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    let mut seen: HashSet<PathBuf> = HashSet::new();
    while let Some(dir) = dirs.pop() {
        if !seen.insert(dir.clone()) {
            continue;
        }
        let Ok(entries) = airlock_userfs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            if *budget == 0 {
                return None;
            }
            *budget -= 1;
            match entry.file_type() {
                Ok(t) if t.is_symlink() => links.push(entry.path()),
                Ok(t) if t.is_dir() => dirs.push(entry.path()),
                _ => {}
            }
        }
    }
    Some(links)
}

#[cfg(test)]
mod tests {
    // Fixtures are made with the test's own rights.
    #![allow(clippy::disallowed_methods)]
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::os::unix::fs::symlink;

    fn real(path: &Path) -> Vec<PathBuf> {
        let planned = PlannedLinks::default();
        let lookup = Lookup {
            cwd: Some(Path::new("/work/cwd")),
            planned: &planned,
        };
        resolve(path, true, &lookup)
            .into_iter()
            .map(|r| r.path)
            .collect()
    }

    #[test]
    fn missing_paths_stay_lexical() {
        assert_eq!(
            real(Path::new("/nonexistent-airlock/a/../b/./c")),
            [PathBuf::from("/nonexistent-airlock/b/c")]
        );
        assert_eq!(real(Path::new("/..")), [PathBuf::from("/")]);
    }

    #[test]
    fn links_are_followed_and_dot_dot_applies_to_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(base.join("home/.config/airlock/policies")).unwrap();
        std::fs::create_dir_all(base.join("home/p")).unwrap();
        symlink(base.join("home/.config/airlock"), base.join("home/p/cfg")).unwrap();
        symlink("cfg", base.join("home/p/cfg2")).unwrap();
        symlink("..", base.join("home/p/up")).unwrap();
        assert_eq!(
            real(&base.join("home/p/cfg2/policies/zz.toml")),
            [base.join("home/.config/airlock/policies/zz.toml")]
        );
        // `cfg/..` is the parent of the link's target, not `p`.
        assert_eq!(
            real(&base.join("home/p/cfg/../x")),
            [base.join("home/.config/x")]
        );
        assert_eq!(real(&base.join("home/p/up/p/up")), [base.join("home")]);
    }

    #[test]
    fn the_last_link_is_kept_unless_followed_or_written_with_a_slash() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        std::fs::create_dir(base.join("t")).unwrap();
        symlink(base.join("t"), base.join("l")).unwrap();
        let planned = PlannedLinks::default();
        let lookup = Lookup {
            cwd: None,
            planned: &planned,
        };
        let one = |p: PathBuf, follow| resolve(&p, follow, &lookup)[0].path.clone();
        assert_eq!(one(base.join("l"), false), base.join("l"));
        assert_eq!(one(base.join("l"), true), base.join("t"));
        let mut slash = base.join("l").into_os_string();
        slash.push("/");
        assert_eq!(one(PathBuf::from(&slash), false), base.join("t"));
        slash.push(".");
        assert_eq!(one(PathBuf::from(slash), false), base.join("t"));
    }

    #[test]
    fn loops_are_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        symlink("b", base.join("a")).unwrap();
        symlink("a", base.join("b")).unwrap();
        let planned = PlannedLinks::default();
        let lookup = Lookup {
            cwd: None,
            planned: &planned,
        };
        let r = resolve(&base.join("a/x"), true, &lookup);
        assert!(r.iter().all(|r| r.unknown), "{r:?}");
    }

    #[test]
    fn planned_links_add_a_resolution() {
        let planned = {
            let mut p = PlannedLinks::default();
            p.add(
                PathBuf::from("/nonexistent-airlock/p/k"),
                Planned::To(PathBuf::from("/nonexistent-airlock/.ssh")),
            );
            p
        };
        let lookup = Lookup {
            cwd: None,
            planned: &planned,
        };
        let mut paths: Vec<PathBuf> =
            resolve(Path::new("/nonexistent-airlock/p/k/id_rsa"), true, &lookup)
                .into_iter()
                .map(|r| r.path)
                .collect();
        paths.sort();
        assert_eq!(
            paths,
            [
                PathBuf::from("/nonexistent-airlock/.ssh/id_rsa"),
                PathBuf::from("/nonexistent-airlock/p/k/id_rsa"),
            ]
        );
    }

    #[test]
    fn proc_links_describe_the_agent_not_airlock() {
        assert_eq!(
            real(Path::new("/proc/self/root/etc/shadow")),
            [PathBuf::from("/etc/shadow")]
        );
        assert_eq!(
            real(Path::new("/proc/self/cwd/../x")),
            [PathBuf::from("/work/x")]
        );
        let planned = PlannedLinks::default();
        let lookup = Lookup {
            cwd: None,
            planned: &planned,
        };
        assert!(resolve(Path::new("/proc/1/cwd/x"), true, &lookup)[0].unknown);
        assert!(resolve(Path::new("/proc/self/fd/3"), true, &lookup)[0].unknown);
        assert!(!resolve(Path::new("/proc/mounts"), true, &lookup)[0].unknown);
    }

    #[test]
    fn trees_list_their_links_within_a_budget() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path();
        std::fs::create_dir_all(base.join("a/b")).unwrap();
        symlink("/", base.join("a/b/root")).unwrap();
        std::fs::write(base.join("a/f"), "").unwrap();
        let mut budget = 100;
        assert_eq!(
            links_in_tree(base, &mut budget),
            Some(vec![base.join("a/b/root")])
        );
        let mut small = 2;
        assert_eq!(links_in_tree(base, &mut small), None);
    }
}
