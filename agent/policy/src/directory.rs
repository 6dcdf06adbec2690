//! Which files a policy directory holds: `*.toml`, read within limits (a user's own directory in
//! system mode as that user, and small).

use super::*;

pub(crate) fn policy_files(dir: &Path, users_own: bool) -> Result<Vec<PathBuf>, PolicyError> {
    let read_error = |source| PolicyError::ReadDir {
        path: dir.to_path_buf(),
        source,
    };
    let names: Vec<PathBuf> = if users_own {
        airlock_userfs::read_dir(dir)
            .map_err(read_error)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(read_error)?
    } else {
        std::fs::read_dir(dir)
            .map_err(read_error)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(read_error)?
    };
    let mut files = Vec::new();
    let mut total = 0u64;
    for path in names {
        let meta = if users_own {
            airlock_userfs::metadata(&path)
        } else {
            std::fs::metadata(&path)
        };
        if path.extension().is_some_and(|e| e == "toml") && meta.as_ref().is_ok_and(|m| m.is_file())
        {
            // A policy is a few kilobytes; a huge (or sparse) file is refused before it is
            // read, so nobody's policy directory can exhaust the daemon's memory.
            let len = meta.map(|m| m.len()).unwrap_or(0);
            if len > MAX_POLICY_FILE {
                return Err(PolicyError::Parse {
                    path,
                    message: format!(
                        "the file is {len} bytes; a policy file may hold at most {MAX_POLICY_FILE}"
                    ),
                });
            }
            total += len;
            files.push(path);
            // A user's own directory is read by the daemon for every change to it: it is kept
            // small, so no user can make the daemon parse megabytes over and over (R17-1).
            let (most_files, most_bytes) = if users_own {
                (MAX_USER_POLICY_FILES, MAX_USER_POLICY_BYTES)
            } else {
                (MAX_POLICY_FILES, u64::MAX)
            };
            if files.len() > most_files {
                return Err(PolicyError::Parse {
                    path: dir.to_path_buf(),
                    message: format!("more than {most_files} policy files"),
                });
            }
            if total > most_bytes {
                return Err(PolicyError::Parse {
                    path: dir.to_path_buf(),
                    message: format!(
                        "the policy files hold more than {most_bytes} bytes together; a user's own policy may hold at most that"
                    ),
                });
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The largest policy file read, and the most files one directory may hold.
pub(crate) const MAX_POLICY_FILE: u64 = 4 * 1024 * 1024;
/// A user's own policy directory (system mode, tighten-only): a few rules, kept small.
pub(crate) const MAX_USER_POLICY_FILES: usize = 64;
pub(crate) const MAX_USER_POLICY_BYTES: u64 = 256 * 1024;
pub(crate) const MAX_POLICY_FILES: usize = 1000;
