//! Telling the real daemon from an impostor on its socket.
//!
//! The daemon holds an exclusive `flock` on `airlock.lock` for as long as it runs. A process
//! that unlinks the socket and binds its own in its place answers hooks with whatever it likes;
//! so before trusting an answer, the hook asks the kernel who is at the other end of the
//! connection (`SO_PEERCRED`) and who holds the lock (`/proc/locks`), and they must be the same
//! process, and that process must run the very program file the hook runs (a script that
//! swaps in its own lock and socket for the few milliseconds a hook takes is not `airlock`).
//! While it runs, the daemon watches the socket and the lock file (`watch`): if either is
//! replaced under it, it turns the emergency stop on.
//!
//! A same-user process that kills the daemon first and then takes both the lock and the socket
//! passes these checks; only the daemon under its own account (system mode) stops that.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The processes holding a `flock` on `lock_file`, from `/proc/locks`.
pub fn lock_holders(lock_file: &Path) -> Vec<u32> {
    let Ok(meta) = std::fs::metadata(lock_file) else {
        return Vec::new();
    };
    let (major, minor) = (rustix::fs::major(meta.dev()), rustix::fs::minor(meta.dev()));
    let Ok(locks) = std::fs::read_to_string("/proc/locks") else {
        return Vec::new();
    };
    holders_in(&locks, major, minor, meta.ino())
}

/// `/proc/locks` lines: `1: FLOCK  ADVISORY  WRITE 4242 fe:00:10011444 0 EOF` (the device in
/// hex, the inode in decimal).
fn holders_in(locks: &str, major: u32, minor: u32, ino: u64) -> Vec<u32> {
    locks
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // A lock someone waits for is listed with `->`; only held ones count.
            if fields.get(1) != Some(&"FLOCK") || fields.contains(&"->") {
                return None;
            }
            let pid: u32 = fields.get(4)?.parse().ok()?;
            let mut place = fields.get(5)?.split(':');
            let maj = u32::from_str_radix(place.next()?, 16).ok()?;
            let min = u32::from_str_radix(place.next()?, 16).ok()?;
            let inode: u64 = place.next()?.parse().ok()?;
            (maj == major && min == minor && inode == ino).then_some(pid)
        })
        .collect()
}

/// Whether process `pid` runs the same program file as this process (device and inode of
/// `/proc/PID/exe`). An impostor that swaps in its own socket and lock for a moment is some
/// other program (a script, a copy); the real daemon is the `airlock` the hook is.
pub fn runs_this_program(pid: u32) -> bool {
    let id = |path: String| std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()));
    match (
        id(format!("/proc/{pid}/exe")),
        id("/proc/self/exe".to_string()),
    ) {
        (Some(peer), Some(own)) => peer == own,
        _ => false,
    }
}

/// What a path is on disk (device and inode), to notice it being replaced.
pub fn identity(path: &Path) -> Option<(u64, u64)> {
    std::fs::symlink_metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_holder_of_a_lock_is_found_and_only_for_that_file() {
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join("airlock.lock");
        let file = std::fs::File::create(&lock).unwrap();
        assert!(lock_holders(&lock).is_empty());
        file.try_lock().unwrap();
        assert_eq!(lock_holders(&lock), [std::process::id()]);
        let other = dir.path().join("other");
        std::fs::File::create(&other).unwrap();
        assert!(lock_holders(&other).is_empty());
        drop(file);
        assert!(lock_holders(&lock).is_empty());
    }

    #[test]
    fn waiting_and_posix_locks_do_not_count() {
        let locks = "1: FLOCK  ADVISORY  WRITE 10 fe:00:42 0 EOF\n1: -> FLOCK  ADVISORY  WRITE 11 fe:00:42 0 EOF\n2: POSIX  ADVISORY  WRITE 12 fe:00:42 0 EOF\n";
        assert_eq!(holders_in(locks, 0xfe, 0, 42), [10]);
    }
}
