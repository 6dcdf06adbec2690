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
//! (at most 40), then the permission the operation needs on the object itself. The walk holds a
//! descriptor (`O_PATH|O_NOFOLLOW`) for each directory it passes and looks the next name up
//! relative to it, and what is read is reopened from the final descriptor: no path string is
//! ever resolved again with the daemon's rights, so swapping a checked directory for a link
//! afterwards changes nothing (review round 15, R15-1). Reads are of regular files only and
//! capped, so a device or a FIFO cannot hang or exhaust the daemon (R15-3), in user mode too.
//! Airlock's own directories are never read on anyone's behalf. Anything that carries
//! an access ACL counts as unreadable for everyone but its owner: Airlock does not evaluate ACLs,
//! and "unreadable" only means classification knows less and decides more strictly.
//!
//! In user mode nobody is set and nothing is required: the daemon runs as the user, the kernel
//! does all of this, and every call goes straight to `std::fs`.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::fs::{File, FileType, Metadata};
use std::io::{self, Read};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::MetadataExt;
use std::os::unix::io::AsRawFd;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A user of this machine, from the passwd database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsUser {
    pub uid: u32,
    pub gid: u32,
    pub name: String,
    pub home: PathBuf,
}

impl OsUser {
    pub fn by_uid(uid: u32) -> Option<Self> {
        let user = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)).ok()??;
        Some(Self::from_nix(user))
    }

    pub fn by_name(name: &str) -> Option<Self> {
        let user = nix::unistd::User::from_name(name).ok()??;
        Some(Self::from_nix(user))
    }

    fn from_nix(user: nix::unistd::User) -> Self {
        Self {
            uid: user.uid.as_raw(),
            gid: user.gid.as_raw(),
            name: user.name,
            home: user.dir,
        }
    }

    /// The groups the user logs in with (the group database): what their files' group bits
    /// are judged by when the daemon reads for them. Only the primary group when the database
    /// cannot say (fewer rights, never more).
    pub fn login_groups(&self) -> Vec<u32> {
        let Ok(name) = std::ffi::CString::new(self.name.clone()) else {
            return vec![self.gid];
        };
        nix::unistd::getgrouplist(&name, nix::unistd::Gid::from_raw(self.gid))
            .map(|groups| groups.into_iter().map(|g| g.as_raw()).collect())
            .unwrap_or_else(|_| vec![self.gid])
    }

    /// The user's own Airlock policy directory (XDG default; system mode reads it, and only
    /// takes what tightens).
    pub fn policy_dir(&self) -> PathBuf {
        self.home.join(".config/airlock/policies")
    }
}

/// Links followed in one walk, as Linux's own limit.
const MAX_LINKS: usize = 40;

/// How long a user's groups are believed before the group database is asked again: a person
/// removed from a group loses what it gave within this time, not at the daemon's restart.
const GROUPS_FOR: std::time::Duration = std::time::Duration::from_secs(10);

/// Whom reads are made for.
#[derive(Debug)]
pub struct Reader {
    uid: u32,
    gid: u32,
    /// The login groups, and when they were read; refreshed from `user` when older than
    /// [`GROUPS_FOR`] (fixed when there is no user to ask).
    groups: std::sync::Mutex<(std::time::Instant, Vec<u32>)>,
    user: Option<OsUser>,
    /// Airlock's own places: never read for anyone (canonical paths, and their device and
    /// inode when they exist).
    forbidden: Vec<(PathBuf, Option<(u64, u64)>)>,
}

impl Reader {
    pub fn new(uid: u32, gid: u32, groups: Vec<u32>, forbidden: &[PathBuf]) -> Self {
        Self {
            uid,
            gid,
            groups: std::sync::Mutex::new((std::time::Instant::now(), groups)),
            user: None,
            forbidden: forbidden
                .iter()
                .map(|p| {
                    let real = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
                    let id = std::fs::metadata(&real).ok().map(|m| (m.dev(), m.ino()));
                    (real, id)
                })
                .collect(),
        }
    }

    /// Reads for `user`, with their login groups kept current.
    pub fn for_user(user: &OsUser, forbidden: &[PathBuf]) -> Self {
        let mut reader = Self::new(user.uid, user.gid, user.login_groups(), forbidden);
        reader.user = Some(user.clone());
        reader
    }

    fn in_group(&self, gid: u32) -> bool {
        if gid == self.gid {
            return true;
        }
        let mut groups = self.groups.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(user) = &self.user
            && groups.0.elapsed() > GROUPS_FOR
        {
            *groups = (std::time::Instant::now(), user.login_groups());
        }
        groups.1.contains(&gid)
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
    /// Examples: judged as on a machine with no files at all, the same everywhere.
    NoFiles,
}

thread_local! {
    static CURRENT: RefCell<Scope> = const { RefCell::new(Scope::Unset) };
    /// Look-ups made for the user in force since it was set (see [`MAX_STEPS`]).
    static STEPS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The most look-ups (path components walked, directory entries listed) made for one user's
/// request: a request built to make the daemon walk padded link chains or list huge directories
/// gets "unknown" past this instead of stalling the daemon for everyone (review round 16, R16-2).
const MAX_STEPS: u64 = 50_000;
/// The most components one walk goes through (links' targets included); the kernel's own limits
/// allow about as many, no real path comes near.
const MAX_COMPONENTS: usize = 4_096;
/// The most entries listed of one directory.
const MAX_ENTRIES: usize = 20_000;

/// Count `n` look-ups against the request's budget.
fn spend(n: u64) -> io::Result<()> {
    let used = STEPS.with(|s| {
        let used = s.get().saturating_add(n);
        s.set(used);
        used
    });
    if used > MAX_STEPS {
        return Err(denied(
            "the request needs more file look-ups than Airlock makes for one request",
        ));
    }
    Ok(())
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
        Some(reader) => {
            let spent = STEPS.with(|s| s.replace(0));
            let result = within(Scope::User(reader), f);
            STEPS.with(|s| s.set(spent));
            result
        }
        None => f(),
    }
}

/// Run `f` with the process's own rights, for files that are the daemon's own to read (the
/// machine's policy and its examples), even where a reader is otherwise required.
pub fn as_daemon<R>(f: impl FnOnce() -> R) -> R {
    within(Scope::Own, f)
}

/// Run `f` as on a machine with no files: every look-up finds nothing (and nothing of the
/// process table or the host is consulted either, see [`sees_no_files`]). Policy and knowledge-
/// base examples are judged so, so that what they mean cannot depend on the machine they are
/// loaded on (a file planted where an example looks cannot stop the daemon from starting).
pub fn with_no_files<R>(f: impl FnOnce() -> R) -> R {
    within(Scope::NoFiles, f)
}

/// Whether this thread is judging as on a machine with no files ([`with_no_files`]): code that
/// reads the system by other means (`/proc`, the host name) must not either.
pub fn sees_no_files() -> bool {
    CURRENT.with(|c| matches!(*c.borrow(), Scope::NoFiles))
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
        Scope::NoFiles => Err(io::Error::new(
            io::ErrorKind::NotFound,
            "examples are judged as on a machine with no files",
        )),
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

/// The most any read here returns; larger files are refused (no caller needs more: pre-images
/// stop at 16 MiB, scripts at 256 KiB, policy files at 4 MiB).
pub const MAX_READ: u64 = 16 * 1024 * 1024;

/// One object reached by a walk: held open (`O_PATH`), as it was when checked.
struct Step {
    held: File,
    meta: Metadata,
    /// The path it was reached by, links resolved: for messages and Airlock's own places.
    path: PathBuf,
}

impl Step {
    fn at(dir: Option<&Step>, name: &OsStr, path: PathBuf) -> io::Result<Self> {
        use rustix::fs::{Mode, OFlags};
        let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = match dir {
            Some(dir) => rustix::fs::openat(&dir.held, name, flags, Mode::empty())?,
            None => rustix::fs::openat(rustix::fs::CWD, name, flags, Mode::empty())?,
        };
        let held = File::from(fd);
        let meta = held.metadata()?;
        Ok(Self { held, meta, path })
    }

    /// The object itself, through its descriptor (not its name).
    fn proc_path(&self) -> PathBuf {
        PathBuf::from(format!("/proc/self/fd/{}", self.held.as_raw_fd()))
    }
}

impl Reader {
    /// Walk `path` for this user, holding each directory passed.
    fn walk(&self, path: &Path, follow_last: bool) -> io::Result<Step> {
        if !path.is_absolute() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("`{}` is not an absolute path", path.display()),
            ));
        }
        let mut pending: VecDeque<OsString> = components(path);
        let root = || Step::at(None, OsStr::new("/"), PathBuf::from("/"));
        let mut stack: Vec<Step> = vec![root()?];
        let mut links = 0;
        let mut walked = 0;
        while let Some(name) = pending.pop_front() {
            walked += 1;
            if walked > MAX_COMPONENTS {
                return Err(io::Error::from_raw_os_error(
                    rustix::io::Errno::NAMETOOLONG.raw_os_error(),
                ));
            }
            spend(1)?;
            if name == "." {
                continue;
            }
            let current = stack.last().ok_or_else(|| denied("no directory"))?;
            if !current.meta.is_dir() {
                return Err(io::Error::from_raw_os_error(
                    rustix::io::Errno::NOTDIR.raw_os_error(),
                ));
            }
            self.may(current, SEARCH)?;
            if name == ".." {
                if stack.len() > 1 {
                    stack.pop();
                }
                continue;
            }
            let next = Step::at(Some(current), &name, current.path.join(&name))?;
            if next.meta.file_type().is_symlink() && (follow_last || !pending.is_empty()) {
                links += 1;
                if links > MAX_LINKS {
                    return Err(io::Error::from_raw_os_error(
                        rustix::io::Errno::LOOP.raw_os_error(),
                    ));
                }
                let target = link_target(&next.held)?;
                if target.is_absolute() {
                    stack.truncate(1);
                }
                for part in components(&target).into_iter().rev() {
                    pending.push_front(part);
                }
                continue;
            }
            self.not_airlocks(&next)?;
            stack.push(next);
        }
        let last = stack.pop().ok_or_else(|| denied("no directory"))?;
        self.not_airlocks(&last)?;
        Ok(last)
    }

    fn not_airlocks(&self, step: &Step) -> io::Result<()> {
        let identity = (step.meta.dev(), step.meta.ino());
        if self
            .forbidden
            .iter()
            .any(|(path, id)| step.path.starts_with(path) || *id == Some(identity))
        {
            return Err(denied("it is Airlock's own; it is never read for a user"));
        }
        Ok(())
    }

    /// Whether this user has `want` (bits of `rwx`) on `step`.
    fn may(&self, step: &Step, want: u32) -> io::Result<()> {
        if self.uid == 0 {
            return Ok(());
        }
        let meta = &step.meta;
        let mode = meta.mode();
        let bits = if meta.uid() == self.uid {
            (mode >> 6) & 7
        } else if has_access_acl(step) {
            return Err(denied(
                "it has an access control list, which Airlock does not evaluate",
            ));
        } else if self.in_group(meta.gid()) {
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

    /// Open `path` (links followed) for reading as this user may: a regular file, or with
    /// `directory` a directory, reopened from the descriptor that was checked.
    fn open(&self, path: &Path, directory: bool) -> io::Result<(File, Step)> {
        let step = self.walk(path, true)?;
        if directory {
            if !step.meta.is_dir() {
                return Err(io::Error::from_raw_os_error(
                    rustix::io::Errno::NOTDIR.raw_os_error(),
                ));
            }
            self.may(&step, READ | SEARCH)?;
        } else {
            regular(&step.meta)?;
            self.may(&step, READ)?;
        }
        let file = reopen(&step.proc_path(), directory)?;
        let opened = file.metadata()?;
        if (opened.dev(), opened.ino()) != (step.meta.dev(), step.meta.ino()) {
            return Err(denied("it changed while it was being opened"));
        }
        Ok((file, step))
    }
}

/// Where the link held open (`O_PATH|O_NOFOLLOW`) points.
fn link_target(held: &File) -> io::Result<PathBuf> {
    let target = rustix::fs::readlinkat(held, "", Vec::new())?;
    Ok(PathBuf::from(OsString::from_vec(target.into_bytes())))
}

/// Open for reading without following a final link (the `/proc/self/fd` magic link is the
/// exception: it names the held object itself) and without blocking on a FIFO.
fn reopen(path: &Path, directory: bool) -> io::Result<File> {
    use rustix::fs::{Mode, OFlags};
    let mut flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC;
    if directory {
        flags |= OFlags::DIRECTORY;
    }
    Ok(File::from(rustix::fs::open(path, flags, Mode::empty())?))
}

fn regular(meta: &Metadata) -> io::Result<()> {
    if meta.is_file() {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is not a regular file (a device, FIFO or socket is never read)",
        ))
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

/// Whether the held object (a directory or a regular file) carries an access ACL. Extended
/// attributes cannot be read through an `O_PATH` descriptor, nor through its `/proc/self/fd`
/// link (procfs answers "not supported", review round 16, R16-1), so the object is reopened for
/// reading from its descriptor — the same inode, never its name — and asked directly. Anything
/// that cannot be asked counts as having one.
fn has_access_acl(step: &Step) -> bool {
    use rustix::io::Errno;
    let directory = step.meta.is_dir();
    if !directory && !step.meta.is_file() {
        return true;
    }
    let Ok(opened) = reopen(&step.proc_path(), directory) else {
        return true;
    };
    match opened.metadata() {
        Ok(meta) if (meta.dev(), meta.ino()) == (step.meta.dev(), step.meta.ino()) => {}
        _ => return true,
    }
    // An empty buffer asks only whether the attribute is there (and its size).
    match rustix::fs::fgetxattr(&opened, "system.posix_acl_access", &mut [0u8; 0][..]) {
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
        Some(reader) => reader.walk(path, true).map(|step| step.meta),
    }
}

/// `std::fs::symlink_metadata`, as the user may.
pub fn symlink_metadata(path: &Path) -> io::Result<Metadata> {
    match current()? {
        None => std::fs::symlink_metadata(path),
        Some(reader) => reader.walk(path, false).map(|step| step.meta),
    }
}

/// `std::fs::read_link`, as the user may.
pub fn read_link(path: &Path) -> io::Result<PathBuf> {
    match current()? {
        None => std::fs::read_link(path),
        Some(reader) => {
            let step = reader.walk(path, false)?;
            link_target(&step.held)
        }
    }
}

/// `std::fs::canonicalize`, as the user may.
pub fn canonicalize(path: &Path) -> io::Result<PathBuf> {
    match current()? {
        None => std::fs::canonicalize(path),
        Some(reader) => reader.walk(path, true).map(|step| step.path),
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

/// Whether a repository reader (gix) may open the repository whose git directory is `git_dir`.
///
/// gix opens the files of a repository by their names, by itself: with the daemon's rights in
/// system mode, where a user who swaps a component of their own repository for a link between
/// any check and gix's opens has it read someone else's (review round 15, R15-2). No check made
/// beforehand can close that, so in system mode repositories are not read for users at all:
/// what depends on them (whether a deletion loses work, what a checkout would plant) is
/// "unknown" there, and decided more strictly. In user mode the daemon is the user.
pub fn may_read_repository(_git_dir: &Path) -> bool {
    matches!(current(), Ok(None))
}

/// Open a regular file for reading, as the user may (never a device or FIFO, never blocking).
pub fn open(path: &Path) -> io::Result<File> {
    match current()? {
        None => {
            let file = reopen(path, false)?;
            regular(&file.metadata()?)?;
            Ok(file)
        }
        Some(reader) => reader.open(path, false).map(|(file, _)| file),
    }
}

/// The whole file, as the user may read it, if it holds at most [`MAX_READ`] bytes.
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    open(path)?.take(MAX_READ + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_READ {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("it is larger than {} MiB", MAX_READ / (1024 * 1024)),
        ));
    }
    Ok(bytes)
}

/// The whole file as UTF-8, as the user may read it (at most [`MAX_READ`] bytes).
pub fn read_to_string(path: &Path) -> io::Result<String> {
    String::from_utf8(read(path)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "it is not UTF-8 text"))
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
    // The directory that was checked, held open, is the one listed (through its descriptor).
    let (listed, held) = match current()? {
        None => (path.to_path_buf(), None),
        Some(reader) => {
            let (dir, step) = reader.open(path, true)?;
            (step.proc_path(), Some((dir, step)))
        }
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&listed)? {
        if out.len() >= MAX_ENTRIES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("`{}` holds more than {MAX_ENTRIES} entries", path.display()),
            ));
        }
        if held.is_some() {
            spend(1)?;
        }
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
mod tests;
