//! The last chain head seen, kept outside the database.
//!
//! Deleting the newest receipts and moving the stored head back leaves a chain that verifies:
//! every remaining row still links. So after each commit the writer also appends the new head
//! (`seq hash`) to a file beside the database (`receipts.db-head`, opened append-only), and
//! `airlock verify` requires the database to still hold that row with that hash. When the file
//! grows past [`MAX_BYTES`] it is replaced (atomically) by its last line.
//!
//! What this catches: truncation by anyone who does not also rewrite this file (a script that
//! edits the database, a restored older copy, a deleted database). What it does not: a same-user
//! attacker who knows of the file can rewrite it too; the daemon under its own account (system
//! mode) and a copy of the heads kept elsewhere are what close that.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The file grows to this before it is cut back to its last line.
const MAX_BYTES: u64 = 1024 * 1024;

/// The witness file beside a database.
pub fn path_for(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-head");
    PathBuf::from(name)
}

/// Append the head `(seq, hash)` after a commit. Errors are the caller's to log: a missing
/// witness line only weakens a later check, it never loses a receipt.
pub fn record(database: &Path, seq: i64, hash: &str) -> std::io::Result<()> {
    let path = path_for(database);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    writeln!(file, "{seq} {hash}")?;
    if file.metadata()?.len() > MAX_BYTES {
        let tmp = path.with_extension("head-tmp");
        std::fs::write(&tmp, format!("{seq} {hash}\n"))?;
        std::fs::rename(&tmp, &path)?;
    }
    Ok(())
}

/// The last head written, if the file exists and its last line reads.
pub fn last(database: &Path) -> Option<(i64, String)> {
    all(database).ok()?.pop()
}

/// Every head the file holds, oldest first: `Ok(empty)` when there is no file. A witness that
/// is not a regular file (a link, a directory, a device) is an error: it was put there.
pub fn all(database: &Path) -> Result<Vec<(i64, String)>, String> {
    let path = path_for(database);
    match std::fs::symlink_metadata(&path) {
        Ok(meta) if !meta.file_type().is_file() => {
            return Err(format!("`{}` is not a regular file", path.display()));
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read `{}`: {e}", path.display())),
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let lines: Vec<&str> = text.lines().collect();
    let mut heads = Vec::with_capacity(lines.len());
    for (index, line) in lines.iter().enumerate() {
        match parse_line(line) {
            Some(head) => heads.push(head),
            // A crash can cut the last append short (no newline after it): that line alone
            // may be unreadable. Any other line that does not read was written by something
            // else, and is not skipped in silence.
            None if index + 1 == lines.len() && !text.ends_with('\n') => {}
            None => {
                return Err(format!(
                    "`{}` line {} does not read as `ROW HASH` ({:?}): it was written by something other than Airlock",
                    path.display(),
                    index + 1,
                    line.chars().take(80).collect::<String>()
                ));
            }
        }
    }
    Ok(heads)
}

/// `seq hash`: a row number and a SHA-256 in hex.
fn parse_line(line: &str) -> Option<(i64, String)> {
    let (seq, hash) = line.split_once(' ')?;
    let seq: i64 = seq.parse().ok().filter(|s| *s >= 0)?;
    let valid = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
    valid.then(|| (seq, hash.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_line_is_the_last_head() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("receipts.db");
        assert_eq!(last(&db), None);
        let (a, b) = ("a".repeat(64), "b".repeat(64));
        record(&db, 1, &a).unwrap();
        record(&db, 7, &b).unwrap();
        assert_eq!(last(&db), Some((7, b)));
    }

    #[test]
    fn an_unreadable_line_is_named_unless_it_is_a_cut_short_last_append() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("receipts.db");
        let hash = "c".repeat(64);
        let good = format!("3 {hash}\n");
        for bad in [
            "99999999999999999999 x\n".to_string(),
            format!("4 {}\n", "z".repeat(64)),
            format!("{}\n", "9".repeat(3_000_000)),
            "-1 abc\n".to_string(),
        ] {
            std::fs::write(path_for(&db), format!("{bad}{good}")).unwrap();
            let err = all(&db).unwrap_err();
            assert!(err.contains("line 1 does not read"), "{err}");
        }
        // A crash in the middle of the last append.
        std::fs::write(path_for(&db), format!("{good}5 cccc")).unwrap();
        assert_eq!(all(&db).unwrap(), vec![(3, hash.clone())]);
        // Positive control: the same lines, whole.
        std::fs::write(path_for(&db), good.clone()).unwrap();
        assert_eq!(all(&db).unwrap(), vec![(3, hash)]);
    }

    #[test]
    fn a_long_file_is_cut_back_to_its_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("receipts.db");
        let hash = "a".repeat(64);
        for seq in 0..20_000 {
            record(&db, seq, &hash).unwrap();
        }
        assert!(std::fs::metadata(path_for(&db)).unwrap().len() <= MAX_BYTES + 100);
        assert_eq!(last(&db), Some((19_999, hash)));
    }
}
