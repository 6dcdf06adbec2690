//! Reading the files a command would run (`bash x.sh`, `python3 x.py`, package.json scripts),
//! so that the run is judged by what the file does.
//!
//! Reads are size-capped and only text is returned. Contents are cached by what identifies one
//! version of a file — device, inode, size and the inode's change time (ctime). Never by
//! modification time: `touch -r` sets mtime to anything, while ctime is set by the kernel on
//! every write and cannot be chosen by an unprivileged process.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Larger files are not read: they are `unknown`.
pub const MAX_SCRIPT_BYTES: u64 = 256 * 1024;
/// Cached versions kept at most (the cache is cleared when full).
const MAX_CACHED: usize = 512;

/// What reading a file to be run gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileContent {
    Text(Arc<str>),
    /// Why it could not be read as a script, in a phrase for a reason text.
    Unreadable(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Version {
    dev: u64,
    ino: u64,
    size: u64,
    ctime: i64,
    ctime_nsec: i64,
}

/// Reads files to be run, with a cache shared by every classification.
#[derive(Debug, Default)]
pub struct FileReader {
    cache: Mutex<HashMap<Version, Arc<str>>>,
}

impl FileReader {
    /// The text of `path` (following links, as running it would), or why not.
    pub fn read(&self, path: &Path) -> FileContent {
        let meta = match airlock_userfs::metadata(path) {
            Ok(m) => m,
            Err(e) => return FileContent::Unreadable(format!("cannot be read ({e})")),
        };
        if !meta.is_file() {
            return FileContent::Unreadable("is not a regular file".into());
        }
        if meta.len() > MAX_SCRIPT_BYTES {
            return FileContent::Unreadable(format!(
                "is larger than {} KiB",
                MAX_SCRIPT_BYTES / 1024
            ));
        }
        let version = Version {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.len(),
            ctime: meta.ctime(),
            ctime_nsec: meta.ctime_nsec(),
        };
        if let Some(text) = self.lock().get(&version) {
            return FileContent::Text(text.clone());
        }
        let bytes = match airlock_userfs::read(path) {
            Ok(b) => b,
            Err(e) => return FileContent::Unreadable(format!("cannot be read ({e})")),
        };
        // The file changed between the look and the read: judge nothing stale.
        if bytes.len() as u64 != version.size {
            return FileContent::Unreadable("changed while being read".into());
        }
        if bytes.contains(&0) {
            return FileContent::Unreadable("is binary".into());
        }
        let Ok(text) = String::from_utf8(bytes) else {
            return FileContent::Unreadable("is not UTF-8 text".into());
        };
        let text: Arc<str> = text.into();
        let mut cache = self.lock();
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(version, text.clone());
        FileContent::Text(text)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Version, Arc<str>>> {
        // Entries are inserted whole: a panic elsewhere leaves nothing half-written.
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    // Fixtures are made with the test's own rights.
    #![allow(clippy::disallowed_methods)]
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_text_refuses_binary_large_and_missing() {
        let dir = tempfile::tempdir().unwrap();
        let reader = FileReader::default();
        let script = dir.path().join("x.sh");
        std::fs::write(&script, "cargo test\n").unwrap();
        assert_eq!(
            reader.read(&script),
            FileContent::Text("cargo test\n".into())
        );
        let binary = dir.path().join("b");
        std::fs::write(&binary, b"\x7fELF\x00\x01").unwrap();
        assert!(matches!(reader.read(&binary), FileContent::Unreadable(r) if r.contains("binary")));
        let large = dir.path().join("l");
        std::fs::write(&large, vec![b'a'; (MAX_SCRIPT_BYTES + 1) as usize]).unwrap();
        assert!(matches!(reader.read(&large), FileContent::Unreadable(r) if r.contains("larger")));
        assert!(matches!(
            reader.read(&dir.path().join("missing")),
            FileContent::Unreadable(_)
        ));
        assert!(matches!(
            reader.read(dir.path()),
            FileContent::Unreadable(_)
        ));
    }

    #[test]
    fn a_rewrite_with_the_old_mtime_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let reader = FileReader::default();
        let script = dir.path().join("x.sh");
        std::fs::write(&script, "cargo test\n").unwrap();
        let mtime = std::fs::metadata(&script).unwrap().modified().unwrap();
        assert_eq!(
            reader.read(&script),
            FileContent::Text("cargo test\n".into())
        );
        // Same size, same mtime (as `touch -r` would leave it): ctime still moves.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&script, "rm -rf ~/\n").unwrap();
        let file = std::fs::File::options().write(true).open(&script).unwrap();
        file.set_modified(mtime).unwrap();
        drop(file);
        assert_eq!(
            reader.read(&script),
            FileContent::Text("rm -rf ~/\n".into())
        );
    }
}
