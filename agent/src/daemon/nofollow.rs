//! Writing and removing files without following symbolic links, for rollback.
//!
//! A rollback writes bytes the person chose to restore, as the person, where a snapshot was
//! taken. If the agent has since replaced a directory on the way with a link (`src ->
//! ~/.config`), or planted a link where a temporary file goes, a plain write would land outside
//! the workspace. So every directory on the way is opened relative to the one before with
//! `O_NOFOLLOW` (a link there is refused, and named), the new content goes to a temporary file
//! created with `O_EXCL` under a fresh name, and it is renamed over the final name — `rename`
//! replaces a link itself, never what it points to.

use rustix::fs::{AtFlags, CWD, FileType, Mode, OFlags};
use rustix::io::Errno;
use std::ffi::OsString;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::{Component, Path};

/// The directory holding `path`'s last component, opened without following links on the way,
/// and that component's name. `create`: missing directories are made (as `mkdir -p` would).
fn open_parent(path: &Path, create: bool) -> std::io::Result<(OwnedFd, OsString)> {
    if !path.is_absolute() {
        return Err(std::io::Error::other(format!(
            "`{}` is not an absolute path",
            path.display()
        )));
    }
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other(format!("`{}` names no file", path.display())))?
        .to_os_string();
    let dir_flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let mut dir = rustix::fs::openat(CWD, "/", dir_flags, Mode::empty())?;
    let mut walked = std::path::PathBuf::from("/");
    let parent = path.parent().unwrap_or(Path::new("/"));
    for component in parent.components() {
        let part = match component {
            Component::RootDir => continue,
            Component::Normal(part) => part,
            _ => {
                return Err(std::io::Error::other(format!(
                    "`{}` has a `.` or `..` component; rollback restores only plain paths",
                    path.display()
                )));
            }
        };
        walked.push(part);
        let next = match rustix::fs::openat(&dir, part, dir_flags, Mode::empty()) {
            Err(Errno::NOENT) if create => {
                match rustix::fs::mkdirat(&dir, part, Mode::from_raw_mode(0o755)) {
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(e) => return Err(e.into()),
                }
                rustix::fs::openat(&dir, part, dir_flags, Mode::empty())
            }
            other => other,
        };
        dir = match next {
            Ok(fd) => fd,
            Err(Errno::LOOP | Errno::NOTDIR) if is_link(&dir, part) => {
                return Err(std::io::Error::other(format!(
                    "`{}` is a symbolic link now: rollback does not follow links (it was a directory when the snapshot was taken)",
                    walked.display()
                )));
            }
            Err(e) => return Err(e.into()),
        };
    }
    Ok((dir, name))
}

fn is_link(dir: &OwnedFd, name: &std::ffi::OsStr) -> bool {
    rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
        .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Symlink)
}

/// Put `bytes` at `path` (with `mode`), replacing whatever is there — a link included, never
/// what it points to.
pub fn replace(path: &Path, bytes: &[u8], mode: Option<u32>) -> std::io::Result<()> {
    let (dir, name) = open_parent(path, true)?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut tmp = OsString::from(".");
    tmp.push(&name);
    tmp.push(format!(".airlock-restore-{}-{nanos}", std::process::id()));
    let fd = rustix::fs::openat(
        &dir,
        tmp.as_os_str(),
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )?;
    let written = (|| {
        if let Some(mode) = mode {
            rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode & 0o7777))?;
        }
        let mut file = std::fs::File::from(fd);
        file.write_all(bytes)?;
        file.sync_all()?;
        rustix::fs::renameat(&dir, tmp.as_os_str(), &dir, name.as_os_str())?;
        Ok::<(), std::io::Error>(())
    })();
    if written.is_err() {
        let _ = rustix::fs::unlinkat(&dir, tmp.as_os_str(), AtFlags::empty());
    }
    written
}

/// Remove the file at `path` (a link there is removed itself); `false` when nothing was there.
pub fn remove(path: &Path) -> std::io::Result<bool> {
    let (dir, name) = match open_parent(path, false) {
        Ok(found) => found,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    match rustix::fs::unlinkat(&dir, name.as_os_str(), AtFlags::empty()) {
        Ok(()) => Ok(true),
        Err(Errno::NOENT) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_on_the_way_is_refused_and_nothing_is_written_behind_it() {
        let outside = tempfile::tempdir().unwrap();
        let ws = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), ws.path().join("src")).unwrap();
        let err = replace(&ws.path().join("src/main.rs"), b"x", None).unwrap_err();
        assert!(err.to_string().contains("is a symbolic link now"), "{err}");
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_link_at_the_name_is_replaced_not_followed() {
        let outside = tempfile::tempdir().unwrap();
        let target = outside.path().join("bashrc");
        std::fs::write(&target, "mine").unwrap();
        let ws = tempfile::tempdir().unwrap();
        let file = ws.path().join("notes.txt");
        std::os::unix::fs::symlink(&target, &file).unwrap();
        replace(&file, b"restored", Some(0o644)).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "mine");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "restored");
        assert!(
            !std::fs::symlink_metadata(&file)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(remove(&file).unwrap());
        assert!(!remove(&file).unwrap());
    }

    #[test]
    fn missing_directories_are_made() {
        let ws = tempfile::tempdir().unwrap();
        let file = ws.path().join("a/b/c.txt");
        replace(&file, b"c", None).unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"c");
    }
}
