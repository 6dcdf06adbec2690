//! Each policy file's check result, for the desktop app's settings view.

use super::*;

/// Each policy file with its check result, for the desktop app's settings view. The policy
/// loads as a whole; when it fails, the file the error names is the failing one.
pub fn check_each(dirs: &[PathBuf]) -> Vec<(PathBuf, Result<String, String>)> {
    let files: Vec<PathBuf> = dirs
        .iter()
        .filter_map(|d| policy_files(d, false).ok())
        .flatten()
        .collect();
    match Policy::load(dirs) {
        Ok(policy) => files
            .into_iter()
            .map(|file| {
                let rules = policy
                    .rules()
                    .filter(|(_, _, f)| *f == file.as_path())
                    .count();
                let mut summary = format!("ok: {rules} rules, every example passes");
                for note in policy.notes_for(&file) {
                    summary.push_str("\n  note: ");
                    summary.push_str(note);
                }
                (file, Ok(summary))
            })
            .collect(),
        Err(err) => {
            let message = err.to_string();
            files
                .into_iter()
                .map(|file| {
                    let result = if message.contains(&file.display().to_string()) {
                        Err(message.clone())
                    } else {
                        Ok("valid on its own; the policy as a whole does not load (see the failing file)".to_string())
                    };
                    (file, result)
                })
                .collect()
        }
    }
}
