//! What a pending file change would do, as a unified diff, for the approvals window.

// Everything here reads for the requesting user (`user_fs`); see clippy.toml.
#![deny(clippy::disallowed_methods)]

use airlock_request::ToolCall;
use similar::TextDiff;
use std::path::Path;

/// Cap on what is read from disk or shown: the window shows a preview, not the whole file.
const MAX_BYTES: usize = 512 * 1024;

/// A unified diff of the change a file tool would make (a write, or an edit by replacements),
/// or `None` for other calls. For a write, the current file on disk is the "before".
pub fn change_diff(call: &ToolCall) -> Option<String> {
    let (path, before, after) = match call {
        ToolCall::WriteFile {
            path,
            content: Some(content),
        } => (path, read_capped(Path::new(path)), content.clone()),
        ToolCall::EditFile {
            path,
            edits: Some(edits),
        } => match edits.as_slice() {
            [one] => (path, one.old.clone()?, one.new.clone()?),
            many => {
                let mut before = String::new();
                let mut after = String::new();
                for edit in many {
                    before.push_str(edit.old.as_deref().unwrap_or_default());
                    before.push('\n');
                    after.push_str(edit.new.as_deref().unwrap_or_default());
                    after.push('\n');
                }
                (path, before, after)
            }
        },
        _ => return None,
    };
    if before.len() > MAX_BYTES || after.len() > MAX_BYTES {
        return Some(format!(
            "(change too large to preview: {} → {} bytes)",
            before.len(),
            after.len()
        ));
    }
    let diff = TextDiff::from_lines(&before, &after);
    Some(
        diff.unified_diff()
            .context_radius(3)
            .header(&format!("a{path}"), &format!("b{path}"))
            .to_string(),
    )
}

fn read_capped(path: &Path) -> String {
    match airlock_userfs::metadata(path) {
        Ok(m) if m.len() as usize > MAX_BYTES => "x".repeat(MAX_BYTES + 1),
        Ok(_) => airlock_userfs::read_to_string(path).unwrap_or_default(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use airlock_request::adapters::claude_code;
    use serde_json::json;

    #[test]
    fn an_edit_shows_removed_and_added_lines() {
        let diff = change_diff(&claude_code::tool_call(
            "Edit",
            &json!({"file_path": "/p/a.rs", "old_string": "let x = 1;\n", "new_string": "let x = 2;\n"}),
        ))
        .unwrap();
        assert!(
            diff.contains("-let x = 1;") && diff.contains("+let x = 2;"),
            "{diff}"
        );
    }

    #[test]
    fn a_write_diffs_against_the_file_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.txt");
        std::fs::write(&path, "old\nsame\n").unwrap();
        let diff = change_diff(&claude_code::tool_call(
            "Write",
            &json!({"file_path": path.display().to_string(), "content": "new\nsame\n"}),
        ))
        .unwrap();
        assert!(diff.contains("-old") && diff.contains("+new"), "{diff}");
        let shell = ToolCall::Shell {
            command: "ls".into(),
        };
        assert!(change_diff(&shell).is_none());
    }
}
