//! The files a patch changes.
//!
//! `patch < x.patch`, `git apply x.patch` and `git am < mail` write whatever paths the patch
//! names: a project file, or `.claude/settings.json`, `.envrc` or `package.json`, whose content
//! then runs later. The patch text is read and every path it writes is judged as written (at
//! each strip level, since `-pN` decides how many leading components are dropped).

/// The paths a unified or git diff creates, changes or renames to, as written in the patch
/// (`b/src/x.rs`), without the `/dev/null` of deletions. An error when the text holds no patch.
pub fn patch_targets(text: &str) -> Result<Vec<String>, String> {
    let mut targets: Vec<String> = Vec::new();
    let mut saw_patch = false;
    for line in text.lines() {
        let path = if let Some(rest) = line.strip_prefix("+++ ") {
            saw_patch = true;
            Some(header_path(rest))
        } else if let Some(rest) = line.strip_prefix("diff --git ") {
            saw_patch = true;
            // `diff --git a/x b/y`: y is what is written (a mode change or a binary patch has no
            // `+++` line).
            rest.rsplit_once(' ').map(|(_, b)| unquote(b))
        } else if let Some(rest) = line
            .strip_prefix("rename to ")
            .or_else(|| line.strip_prefix("copy to "))
        {
            Some(unquote(rest))
        } else if let Some(rest) = line.strip_prefix("*** ") {
            // Context diffs name the new file on the `***`/`---` pair; take both.
            saw_patch |= !rest.starts_with('*');
            (!rest.starts_with('*')).then(|| header_path(rest))
        } else if let Some(rest) = line.strip_prefix("--- ") {
            (!rest.starts_with('-')).then(|| header_path(rest))
        } else {
            line.strip_prefix("Index: ")
                .map(|rest| rest.trim().to_string())
        };
        if let Some(path) = path.filter(|p| !p.is_empty() && p != "/dev/null")
            && !targets.contains(&path)
        {
            targets.push(path);
        }
    }
    if !saw_patch {
        return Err("holds no patch Airlock can read".into());
    }
    Ok(targets)
}

/// Every strip level of a patch path: `b/.claude/settings.json` is also `.claude/settings.json`
/// and `settings.json` (to `patch -p1`, `-p2`). Absolute paths are kept whole as well.
pub fn strip_levels(path: &str) -> Vec<String> {
    let mut forms = vec![path.to_string()];
    let mut rest = path.trim_start_matches('/');
    if rest != path && !rest.is_empty() {
        forms.push(rest.to_string());
    }
    while let Some((_, tail)) = rest.split_once('/') {
        if !tail.is_empty() {
            forms.push(tail.to_string());
        }
        rest = tail;
    }
    forms
}

/// The path of a `+++ b/x\tdate` header line.
fn header_path(rest: &str) -> String {
    let path = rest.split('\t').next().unwrap_or(rest).trim_end();
    unquote(path)
}

/// git quotes paths with unusual characters in C style: `"b/a\tb"`.
fn unquote(path: &str) -> String {
    let Some(inner) = path.strip_prefix('"').and_then(|p| p.strip_suffix('"')) else {
        return path.to_string();
    };
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unified_and_git_patches_name_what_they_write() {
        let git = "diff --git a/src/x.rs b/src/x.rs\nindex 1..2 100644\n--- a/src/x.rs\n+++ b/src/x.rs\n@@ -1 +1 @@\n-a\n+b\ndiff --git a/old b/.claude/settings.json\nrename from old\nrename to .claude/settings.json\n";
        let got = patch_targets(git).unwrap();
        assert!(got.contains(&"b/src/x.rs".to_string()), "{got:?}");
        assert!(
            got.contains(&".claude/settings.json".to_string()),
            "{got:?}"
        );
        let plain =
            "--- notes.txt.orig\t2026-01-01\n+++ notes.txt\t2026-01-02\n@@ -1 +1 @@\n-a\n+b\n";
        assert!(
            patch_targets(plain)
                .unwrap()
                .contains(&"notes.txt".to_string())
        );
        let deletion = "--- a/x\n+++ /dev/null\n";
        assert!(
            !patch_targets(deletion)
                .unwrap()
                .contains(&"/dev/null".to_string())
        );
        assert!(patch_targets("just text\n").is_err());
    }

    #[test]
    fn every_strip_level_is_a_candidate() {
        assert_eq!(
            strip_levels("b/.claude/settings.json"),
            [
                "b/.claude/settings.json",
                ".claude/settings.json",
                "settings.json"
            ]
        );
        assert_eq!(
            strip_levels("/root/.bashrc"),
            ["/root/.bashrc", "root/.bashrc", ".bashrc"]
        );
    }
}
