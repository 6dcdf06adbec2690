//! `airlock install <agent> --alias`: a shell alias that starts the agent below the launcher
//! (`airlock run -- claude`), so nothing it starts — double-forked, `setsid`, `nohup` — can
//! approve, resume, release or roll back. Without it the hooks cover the agent's direct
//! descendants only (see docs/ARCHITECTURE.md, "Control requests").
//!
//! The alias lives in a marked block in the shell's startup file: added once, replaced when
//! Airlock moves, removed by `airlock uninstall <agent> --alias`, nothing else touched.

use std::path::{Path, PathBuf};

const BEGIN: &str = "# >>> airlock launcher (managed by `airlock install --alias`) >>>";
const END: &str = "# <<< airlock launcher <<<";

/// The startup files to write: those given, else `~/.bashrc` and `~/.zshrc` where they exist
/// (`~/.bashrc` if neither does).
pub fn rc_files(given: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    if !given.is_empty() {
        return Ok(given.to_vec());
    }
    let home = dirs::home_dir()
        .ok_or_else(|| anyhow::anyhow!("cannot find the home directory; use `--rc-file FILE`"))?;
    let present: Vec<PathBuf> = [".bashrc", ".zshrc"]
        .iter()
        .map(|name| home.join(name))
        .filter(|p| p.exists())
        .collect();
    Ok(if present.is_empty() {
        vec![home.join(".bashrc")]
    } else {
        present
    })
}

/// The alias line for `command` (the agent's program) started through `launcher` (the
/// `airlock` binary, with its `AIRLOCK_HOME` when set).
pub fn alias_line(command: &str, launcher: &str) -> String {
    let target = format!("{launcher} run -- {command}");
    format!("alias {command}={}", shell_words::quote(&target))
}

/// `text` with the managed block holding `line` (added at the end, or replaced in place).
pub fn with_block(text: &str, line: &str) -> String {
    let block = format!("{BEGIN}\n{line}\n{END}\n");
    match block_range(text) {
        Some((start, end)) => format!("{}{block}{}", &text[..start], &text[end..]),
        None if text.is_empty() || text.ends_with('\n') => format!("{text}{block}"),
        None => format!("{text}\n{block}"),
    }
}

/// `text` without the managed block.
pub fn without_block(text: &str) -> String {
    match block_range(text) {
        Some((start, end)) => format!("{}{}", &text[..start], &text[end..]),
        None => text.to_string(),
    }
}

/// Byte range of the managed block, its final newline included.
fn block_range(text: &str) -> Option<(usize, usize)> {
    let start = text.find(BEGIN)?;
    let end_marker = start + text[start..].find(END)?;
    let mut end = end_marker + END.len();
    if text[end..].starts_with('\n') {
        end += 1;
    }
    Some((start, end))
}

/// Write the block into `path` (created if missing). Returns whether the file changed.
pub fn install(path: &Path, line: &str) -> anyhow::Result<bool> {
    let text = read(path)?;
    let new = with_block(&text, line);
    if new == text {
        return Ok(false);
    }
    std::fs::write(path, new)
        .map_err(|e| anyhow::anyhow!("cannot write `{}`: {e}", path.display()))?;
    Ok(true)
}

/// Remove the block from `path`. Returns whether the file changed.
pub fn uninstall(path: &Path) -> anyhow::Result<bool> {
    let text = read(path)?;
    let new = without_block(&text);
    if new == text {
        return Ok(false);
    }
    std::fs::write(path, new)
        .map_err(|e| anyhow::anyhow!("cannot write `{}`: {e}", path.display()))?;
    Ok(true)
}

fn read(path: &Path) -> anyhow::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(anyhow::anyhow!("cannot read `{}`: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_is_added_once_replaced_in_place_and_removed_cleanly() {
        let original = "export PATH=$HOME/bin:$PATH\nalias ll='ls -l'";
        let first = with_block(original, &alias_line("claude", "/usr/bin/airlock"));
        assert!(first.starts_with("export PATH=$HOME/bin:$PATH\nalias ll='ls -l'\n# >>> airlock"));
        assert!(first.contains("alias claude='/usr/bin/airlock run -- claude'\n"));
        assert_eq!(
            with_block(&first, &alias_line("claude", "/usr/bin/airlock")),
            first
        );
        let moved = with_block(&first, &alias_line("claude", "/opt/airlock/airlock"));
        assert_eq!(moved.matches(BEGIN).count(), 1);
        assert!(moved.contains("/opt/airlock/airlock run -- claude"));
        assert_eq!(without_block(&moved), format!("{original}\n"));
        assert_eq!(without_block(original), original);
    }

    #[test]
    fn an_odd_launcher_path_is_quoted_for_the_shell() {
        let line = alias_line("claude", "'/home/o'\\''brien/airlock'");
        let words = shell_words::split(line.trim_start_matches("alias claude=")).unwrap();
        assert_eq!(words, ["'/home/o'\\''brien/airlock' run -- claude"]);
    }
}
