//! The filesystem as the requesting user may see it.
//!
//! In system mode the daemon holds `CAP_DAC_READ_SEARCH`, so that it can read the scripts,
//! repositories and files a user's agent is about to run or change. What it reads ends up in
//! receipts that user can read, so it must never read *for* a user what that user could not read
//! themselves (review round 14, S1: `bash /etc/shadow` printed the shadow file back).
//!
//! Every read the classifier, previews, pre-images and a user's own policy directory make goes
//! through here. Under [`as_user`] a path is walked one component at a time the way the kernel
//! walks it for that user: search permission on each directory, symbolic links followed by hand
//! (at most 40), then the permission the operation needs on the object itself. A file or
//! directory is then opened with `O_NOFOLLOW` and its device and inode compared with what was
//! checked, so a component swapped between the check and the open is caught rather than
//! followed. Airlock's own directories are never read on anyone's behalf. Anything that carries
//! an access ACL counts as unreadable for everyone but its owner: Airlock does not evaluate ACLs,
//! and "unreadable" only means classification knows less and decides more strictly.
//!
//! In user mode nobody is set and nothing is required: the daemon runs as the user, the kernel
//! does all of this, and every call goes straight to `std::fs`.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::{File, FileType, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::os::unix::io::AsRawFd;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Links followed in one walk, as Linux's own limit.
const MAX_LINKS: usize = 40;

/// Whom reads are made for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    uid: u32,
    gid: u32,
    groups: Vec<u32>,
    /// Airlock's own places: never read for anyone (canonical paths).
    forbidden: Vec<PathBuf>,
}

impl Reader {
    pub fn new(uid: u32, gid: u32, groups: Vec<u32>, forbidden: &[PathBuf]) -> Self {
        Self {
            uid,
            gid,
            groups,
            forbidden: forbidden
                .iter()
                .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()))
                .collect(),
        }
    }
}

/// Whose rights this thread reads with.
#[derive(Clone)]
enum Scope {
    /// Nobody chose: the process's own rights, unless a reader is required.
    Unset,
    /// The daemon's own files, deliberately (the machine's policy).
    Own,
    User(Arc<Reader>),
}

thread_local! {
    static CURRENT: RefCell<Scope> = const { RefCell::new(Scope::Unset) };
}

/// Set in system mode: a read with nobody to read for is refused instead of made with the
/// daemon's own rights.
static REQUIRED: AtomicBool = AtomicBool::new(false);

/// From now on, every read through this module must be made for a user.
pub fn require_a_reader() {
    REQUIRED.store(true, Ordering::SeqCst);
}

/// Run `f` with its reads made for `reader`; `None` keeps whoever the caller reads for (and
/// when nobody was chosen and a reader is required, every read is refused).
pub fn as_user<R>(reader: Option<Arc<Reader>>, f: impl FnOnce() -> R) -> R {
    match reader {
        Some(reader) => within(Scope::User(reader), f),
        None => f(),
    }
}

/// Run `f` with the process's own rights, for files that are the daemon's own to read (the
/// machine's policy and its examples), even where a reader is otherwise required.
pub fn as_daemon<R>(f: impl FnOnce() -> R) -> R {
    within(Scope::Own, f)
}

fn within<R>(scope: Scope, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Scope>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(previous) = self.0.take() {
                CURRENT.with(|c| *c.borrow_mut() = previous);
            }
        }
    }
    let previous = CURRENT.with(|c| std::mem::replace(&mut *c.borrow_mut(), scope));
    let _restore = Restore(Some(previous));
    f()
}

/// The reader in force: `Ok(None)` means "the process's own rights".
fn current() -> io::Result<Option<Arc<Reader>>> {
    match CURRENT.with(|c| c.borrow().clone()) {
        Scope::User(reader) => Ok(Some(reader)),
        Scope::Own => Ok(None),
        Scope::Unset if REQUIRED.load(Ordering::SeqCst) => {
            Err(denied("there is no user to read it for"))
        }
        Scope::Unset => Ok(None),
    }
}

fn denied(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, why.to_string())
}

/// Permission bits, as in a mode's `rwx` triplet.
const READ: u32 = 4;
const SEARCH: u32 = 1;

impl Reader {
    /// Walk `path` for this user; the real path reached and its `lstat`.
    fn walk(&self, path: &Path, follow_last: bool) -> io::Result<(PathBuf, Metadata)> {
        if !path.is_absolute() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("`{}` is not an absolute path", path.display()),
            ));
        }
        let mut pending: VecDeque<OsString> = components(path);
        let mut real = PathBuf::from("/");
        let mut real_meta = std::fs::symlink_metadata(&real)?;
        let mut links = 0;
        while let Some(name) = pending.pop_front() {
            if name == "." {
                continue;
            }
            if !real_meta.is_dir() {
                return Err(io::Error::from_raw_os_error(
                    rustix::io::Errno::NOTDIR.raw_os_error(),
                ));
            }
            self.may(&real, &real_meta, SEARCH)?;
            if name == ".." {
                real.pop();
                real_meta = std::fs::symlink_metadata(&real)?;
                continue;
            }
            let next = real.join(&name);
            let meta = std::fs::symlink_metadata(&next)?;
            if meta.file_type().is_symlink() && (follow_last || !pending.is_empty()) {
                links += 1;
                if links > MAX_LINKS {
                    return Err(io::Error::from_raw_os_error(
                        rustix::io::Errno::LOOP.raw_os_error(),
                    ));
                }
                let target = std::fs::read_link(&next)?;
                if target.is_absolute() {
                    real = PathBuf::from("/");
                    real_meta = std::fs::symlink_metadata(&real)?;
                }
                for part in components(&target).into_iter().rev() {
                    pending.push_front(part);
                }
                continue;
            }
            self.not_airlocks(&next)?;
            real = next;
            real_meta = meta;
        }
        self.not_airlocks(&real)?;
        Ok((real, real_meta))
    }

    fn not_airlocks(&self, real: &Path) -> io::Result<()> {
        if self.forbidden.iter().any(|f| real.starts_with(f)) {
            return Err(denied("it is Airlock's own; it is never read for a user"));
        }
        Ok(())
    }

    /// Whether this user has `want` (bits of `rwx`) on the object at `path` with `meta`.
    fn may(&self, path: &Path, meta: &Metadata, want: u32) -> io::Result<()> {
        if self.uid == 0 {
            return Ok(());
        }
        let mode = meta.mode();
        let bits = if meta.uid() == self.uid {
            (mode >> 6) & 7
        } else if has_access_acl(path) {
            return Err(denied(
                "it has an access control list, which Airlock does not evaluate",
            ));
        } else if meta.gid() == self.gid || self.groups.contains(&meta.gid()) {
            (mode >> 3) & 7
        } else {
            mode & 7
        };
        if bits & want == want {
            Ok(())
        } else {
            Err(denied("its user may not read it"))
        }
    }

    /// Open `path` (links followed) for reading, as this user may.
    fn open(&self, path: &Path, directory: bool) -> io::Result<File> {
        let (real, meta) = self.walk(path, true)?;
        let want = if directory { READ | SEARCH } else { READ };
        self.may(&real, &meta, want)?;
        use rustix::fs::{Mode, OFlags};
        let mut flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        if directory {
            flags |= OFlags::DIRECTORY;
        }
        let file = File::from(rustix::fs::open(&real, flags, Mode::empty())?);
        let opened = file.metadata()?;
        if (opened.dev(), opened.ino()) != (meta.dev(), meta.ino()) {
            return Err(denied("it changed while it was being opened"));
        }
        // The mode of what is open now, not of what was looked at before.
        self.may(&real, &opened, want)?;
        Ok(file)
    }
}

fn components(path: &Path) -> VecDeque<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            Component::CurDir => Some(OsString::from(".")),
            Component::RootDir | Component::Prefix(_) => None,
        })
        .collect()
}

fn has_access_acl(path: &Path) -> bool {
    use rustix::io::Errno;
    // An empty buffer asks only whether the attribute is there (and its size).
    match rustix::fs::lgetxattr(path, "system.posix_acl_access", &mut [0u8; 0][..]) {
        Ok(_) => true,
        // None, or a filesystem without extended attributes: the mode bits are the whole answer.
        Err(Errno::NODATA) | Err(Errno::NOTSUP) => false,
        Err(_) => true,
    }
}

/// `std::fs::metadata`, as the user may.
pub fn metadata(path: &Path) -> io::Result<Metadata> {
    match current()? {
        None => std::fs::metadata(path),
        Some(reader) => reader.walk(path, true).map(|(_, meta)| meta),
    }
}

/// `std::fs::symlink_metadata`, as the user may.
pub fn symlink_metadata(path: &Path) -> io::Result<Metadata> {
    match current()? {
        None => std::fs::symlink_metadata(path),
        Some(reader) => reader.walk(path, false).map(|(_, meta)| meta),
    }
}

/// `std::fs::read_link`, as the user may.
pub fn read_link(path: &Path) -> io::Result<PathBuf> {
    match current()? {
        None => std::fs::read_link(path),
        Some(reader) => {
            let (real, _) = reader.walk(path, false)?;
            std::fs::read_link(real)
        }
    }
}

/// `std::fs::canonicalize`, as the user may.
pub fn canonicalize(path: &Path) -> io::Result<PathBuf> {
    match current()? {
        None => std::fs::canonicalize(path),
        Some(reader) => reader.walk(path, true).map(|(real, _)| real),
    }
}

/// Whether `path` names a directory the user may look into.
pub fn is_dir(path: &Path) -> bool {
    metadata(path).is_ok_and(|m| m.is_dir())
}

/// Whether `path` names a regular file the user may look at.
pub fn is_file(path: &Path) -> bool {
    metadata(path).is_ok_and(|m| m.is_file())
}

/// Whether anything is at `path` (links followed, as `Path::exists`), as far as the user may see.
pub fn exists(path: &Path) -> bool {
    metadata(path).is_ok()
}

/// Entries of a git directory looked at, at most, before it is taken as unreadable.
const MAX_REPOSITORY_ENTRIES: usize = 50_000;

/// Whether the user may read the repository whose git directory is `git_dir`, all of it.
///
/// A reader such as gix opens files under it by itself, with the daemon's rights, and some of
/// its errors quote what it read. So in system mode the whole git directory is vetted first:
/// every entry readable by the user, no symbolic link anywhere in it (a ref linked to another
/// user's key would otherwise be read and quoted), no alternates (objects read from elsewhere)
/// and no configuration includes; a linked work tree's common directory is vetted the same way.
/// A repository that fails is not read for its user.
pub fn may_read_repository(git_dir: &Path) -> bool {
    let reader = match current() {
        Ok(None) => return true,
        Ok(Some(reader)) => reader,
        Err(_) => return false,
    };
    as_user(Some(reader.clone()), || {
        let Ok(real) = canonicalize(git_dir) else {
            return false;
        };
        if !reader.vetted_git_dir(&real) {
            return false;
        }
        match read_to_string(&real.join("commondir")) {
            Ok(common) => canonicalize(&real.join(common.trim()))
                .is_ok_and(|common| reader.vetted_git_dir(&common)),
            Err(e) => e.kind() == io::ErrorKind::NotFound,
        }
    })
}

impl Reader {
    fn vetted_git_dir(&self, real: &Path) -> bool {
        if real.join("objects/info/alternates").exists() {
            return false;
        }
        let config = match self.open(&real.join("config"), false) {
            Ok(mut file) => {
                let mut text = String::new();
                if file.read_to_string(&mut text).is_err() {
                    return false;
                }
                text
            }
            Err(e) => {
                if e.kind() != io::ErrorKind::NotFound {
                    return false;
                }
                String::new()
            }
        };
        if config.to_ascii_lowercase().contains("[include") {
            return false;
        }
        let mut seen = 0;
        self.vetted_tree(real, &mut seen)
    }

    /// Every entry below `dir` (itself already walked) readable, and none a link.
    fn vetted_tree(&self, dir: &Path, seen: &mut usize) -> bool {
        let Ok(meta) = std::fs::symlink_metadata(dir) else {
            return false;
        };
        if self.may(dir, &meta, READ | SEARCH).is_err() {
            return false;
        }
        let Ok(entries) = std::fs::read_dir(dir) else {
            return false;
        };
        for entry in entries {
            *seen += 1;
            if *seen > MAX_REPOSITORY_ENTRIES {
                return false;
            }
            let Ok(entry) = entry else {
                return false;
            };
            let path = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                return false;
            };
            let ok = if meta.file_type().is_symlink() {
                false
            } else if meta.is_dir() {
                self.vetted_tree(&path, seen)
            } else {
                self.may(&path, &meta, READ).is_ok()
            };
            if !ok {
                return false;
            }
        }
        true
    }
}

/// Open a file for reading, as the user may.
pub fn open(path: &Path) -> io::Result<File> {
    match current()? {
        None => File::open(path),
        Some(reader) => reader.open(path, false),
    }
}

/// The whole file, as the user may read it.
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    open(path)?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The whole file as UTF-8, as the user may read it.
pub fn read_to_string(path: &Path) -> io::Result<String> {
    let mut text = String::new();
    open(path)?.read_to_string(&mut text)?;
    Ok(text)
}

/// One name in a directory, with its path spelled under the directory as it was asked for.
#[derive(Debug, Clone)]
pub struct Entry {
    name: OsString,
    path: PathBuf,
    file_type: FileType,
}

impl Entry {
    pub fn file_name(&self) -> OsString {
        self.name.clone()
    }

    pub fn path(&self) -> PathBuf {
        self.path.clone()
    }

    pub fn file_type(&self) -> io::Result<FileType> {
        Ok(self.file_type)
    }
}

/// The names in a directory, as the user may list them (shaped as `std::fs::read_dir`'s).
pub fn read_dir(path: &Path) -> io::Result<std::vec::IntoIter<io::Result<Entry>>> {
    let reader = current()?;
    // The directory that was checked, held open, is the one listed (through its descriptor).
    let (listed, _held) = match reader {
        None => (path.to_path_buf(), None),
        Some(reader) => {
            let dir = reader.open(path, true)?;
            let via = PathBuf::from(format!("/proc/self/fd/{}", dir.as_raw_fd()));
            (via, Some(dir))
        }
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&listed)? {
        out.push(entry.and_then(|entry| {
            Ok(Entry {
                path: path.join(entry.file_name()),
                name: entry.file_name(),
                file_type: entry.file_type()?,
            })
        }));
    }
    Ok(out.into_iter())
}

/// `Path`'s look-ups, as the user may make them.
pub trait ForUser {
    fn exists_for_user(&self) -> bool;
    fn is_dir_for_user(&self) -> bool;
    fn is_file_for_user(&self) -> bool;
    fn symlink_metadata_for_user(&self) -> io::Result<Metadata>;
}

impl ForUser for Path {
    fn exists_for_user(&self) -> bool {
        exists(self)
    }
    fn is_dir_for_user(&self) -> bool {
        is_dir(self)
    }
    fn is_file_for_user(&self) -> bool {
        is_file(self)
    }
    fn symlink_metadata_for_user(&self) -> io::Result<Metadata> {
        symlink_metadata(self)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn reader_for(uid: u32, forbidden: &[PathBuf]) -> Option<Arc<Reader>> {
        Some(Arc::new(Reader::new(uid, uid, vec![], forbidden)))
    }

    fn mode(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    /// The checks are made on mode bits against a uid that is not the owner's, so they hold
    /// whether the test runs as root or not.
    #[test]
    fn another_users_private_file_is_not_read_for_them() {
        let dir = tempfile::tempdir().unwrap();
        let private = dir.path().join("home");
        std::fs::create_dir(&private).unwrap();
        std::fs::write(private.join("secret"), "s3cret").unwrap();
        std::fs::write(dir.path().join("open"), "hello").unwrap();
        mode(&private, 0o700);
        let stranger = reader_for(4_000_000, &[]);
        as_user(stranger.clone(), || {
            let err = read(&private.join("secret")).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::PermissionDenied, "{err}");
            assert!(metadata(&private.join("secret")).is_err());
            assert!(read_dir(&private).is_err());
            // Positive control: a world-readable file beside it.
            assert_eq!(read_to_string(&dir.path().join("open")).unwrap(), "hello");
        });
        // A readable directory but a file only its owner may read.
        mode(&private, 0o755);
        mode(&private.join("secret"), 0o600);
        as_user(stranger, || {
            assert!(
                metadata(&private.join("secret")).is_ok(),
                "stat needs search only"
            );
            assert!(read(&private.join("secret")).is_err());
            let names: Vec<_> = read_dir(&private)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(names, vec![OsString::from("secret")]);
        });
        // Its owner reads it.
        let owner = std::fs::metadata(private.join("secret")).unwrap().uid();
        as_user(reader_for(owner, &[]), || {
            assert_eq!(read_to_string(&private.join("secret")).unwrap(), "s3cret");
        });
    }

    #[test]
    fn links_are_followed_as_the_user_may_and_never_into_airlocks_places() {
        let dir = tempfile::tempdir().unwrap();
        let airlock = dir.path().join("airlock-state");
        std::fs::create_dir(&airlock).unwrap();
        std::fs::write(airlock.join("key"), "KEY").unwrap();
        mode(&airlock, 0o755);
        mode(&airlock.join("key"), 0o644);
        let mine = dir.path().join("mine");
        std::fs::create_dir(&mine).unwrap();
        std::os::unix::fs::symlink(&airlock, mine.join("cfg")).unwrap();
        std::os::unix::fs::symlink("../airlock-state/key", mine.join("rel")).unwrap();
        std::os::unix::fs::symlink("loop", mine.join("loop")).unwrap();
        let owner = std::fs::metadata(&mine).unwrap().uid();
        as_user(reader_for(owner, std::slice::from_ref(&airlock)), || {
            for path in [
                mine.join("cfg/key"),
                mine.join("rel"),
                mine.join("../airlock-state/key"),
            ] {
                let err = read(&path).unwrap_err();
                assert!(err.to_string().contains("Airlock's own"), "{path:?}: {err}");
            }
            assert!(read_dir(&mine.join("cfg")).is_err());
            let err = read(&mine.join("loop")).unwrap_err();
            assert_eq!(
                err.raw_os_error(),
                Some(rustix::io::Errno::LOOP.raw_os_error())
            );
            // The link itself may be looked at; it is only not followed into Airlock's place.
            assert!(symlink_metadata(&mine.join("cfg")).unwrap().is_symlink());
        });
        // Without a reader (user mode), the process's own rights.
        assert_eq!(read_to_string(&mine.join("rel")).unwrap(), "KEY");
    }

    #[test]
    fn a_repository_is_read_for_its_user_only_whole_and_without_links() {
        let dir = tempfile::tempdir().unwrap();
        let git = dir.path().join("repo/.git");
        for d in ["objects/pack", "refs/heads"] {
            std::fs::create_dir_all(git.join(d)).unwrap();
        }
        std::fs::write(git.join("HEAD"), "ref: refs/heads/main\n").unwrap();
        std::fs::write(git.join("config"), "[core]\n\tbare = false\n").unwrap();
        std::fs::write(git.join("refs/heads/main"), "0".repeat(40)).unwrap();
        let owner = std::fs::metadata(&git).unwrap().uid();
        let outside = dir.path().join("secret");
        std::fs::write(&outside, "KEY").unwrap();
        let vetted = || as_user(reader_for(owner, &[]), || may_read_repository(&git));
        assert!(vetted(), "a plain repository of its user");
        std::os::unix::fs::symlink(&outside, git.join("refs/heads/leak")).unwrap();
        assert!(!vetted(), "a ref linked elsewhere");
        std::fs::remove_file(git.join("refs/heads/leak")).unwrap();
        std::fs::write(git.join("config"), "[include]\n\tpath = ../../secret\n").unwrap();
        assert!(!vetted(), "a configuration include");
        std::fs::write(git.join("config"), "[core]\n").unwrap();
        std::fs::create_dir_all(git.join("objects/info")).unwrap();
        std::fs::write(git.join("objects/info/alternates"), "/elsewhere/objects\n").unwrap();
        assert!(!vetted(), "alternates");
        std::fs::remove_file(git.join("objects/info/alternates")).unwrap();
        assert!(vetted());
        // Another user: one private entry is enough.
        mode(&git.join("refs/heads/main"), 0o600);
        assert!(!as_user(
            reader_for(4_000_000, &[]),
            || may_read_repository(&git)
        ));
    }

    #[test]
    fn relative_paths_are_refused() {
        as_user(reader_for(0, &[]), || {
            assert_eq!(
                read(Path::new("x.sh")).unwrap_err().kind(),
                io::ErrorKind::InvalidInput
            );
        });
    }
}
