//! One vocabulary: no code outside the agent adapters spells out an agent's own tool names.
//! Classification, policy, the daemon and the window read the typed call (`ToolCall`,
//! `ToolKind`) an adapter built; an agent's names survive only as data shown and recorded as
//! sent. The names checked are the adapters' own tables, so a tool added to an adapter is
//! checked from then on.

use airlock_request::adapters::agent_tool_names;
use std::path::{Path, PathBuf};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where an agent's tool names may appear: the adapters, and tests and benchmarks (which drive
/// agents' real payloads). The generated protocol types name no tools.
fn exempt(path: &Path) -> bool {
    let text = path.to_string_lossy();
    text.contains("/request/src/adapters/")
        || text.contains("/tests/")
        || text.contains("/benches/")
        || text.ends_with("/tests.rs")
        || text.contains("/node_modules/")
        || text.contains("/dist/")
        || text.contains("/target/")
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e == "rs" || e == "ts" || e == "tsx")
            && !exempt(&path)
        {
            out.push(path);
        }
    }
}

/// The lines of `text` (1-based) that spell one of `names` as a string literal, outside
/// comments and the file's inline test module (`#[cfg(test)]` to the end, where this codebase
/// keeps them). `rust` says which quotes delimit strings. A line that means something else by
/// the same word (a window's "Agent" label) says so with `not a tool name`.
fn literals_in(text: &str, names: &[&str], rust: bool) -> Vec<(usize, String)> {
    let quotes: &[char] = if rust { &['"'] } else { &['"', '\'', '`'] };
    let mut found = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if rust && code.starts_with("#[cfg(test)]") {
            break;
        }
        if code.starts_with("//") || code.starts_with('*') || code.starts_with("/*") {
            continue;
        }
        if line.contains("not a tool name") {
            continue;
        }
        for name in names {
            for quote in quotes {
                if line.contains(&format!("{quote}{name}{quote}")) {
                    found.push((index + 1, format!("{name}: {}", code)));
                }
            }
        }
    }
    found
}

#[test]
fn no_agent_tool_name_is_spelled_outside_the_adapters() {
    let names: Vec<&str> = agent_tool_names().map(|(_, name, _)| name).collect();
    assert!(names.contains(&"Bash"), "the adapters' tables: {names:?}");
    let root = repository();
    let mut files = Vec::new();
    for dir in ["agent", "src-tauri/src", "ui/src"] {
        sources(&root.join(dir), &mut files);
    }
    assert!(
        files.len() > 100,
        "the scan found only {} source files under {}",
        files.len(),
        root.display()
    );
    let mut offenders = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let rust = file.extension().is_some_and(|e| e == "rs");
        for (line, what) in literals_in(&text, &names, rust) {
            offenders.push(format!("{}:{line}: {what}", file.display()));
        }
    }
    assert!(
        offenders.is_empty(),
        "agent tool names outside the adapters (read the typed ToolCall / ToolKind instead):\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_scan_finds_a_tool_name_and_ignores_inline_tests() {
    let rust = "let a = 1;\nif tool == \"Bash\" {}\n/// `Write` in a comment\n#[cfg(test)]\nmod tests { \"Edit\" }\n";
    let found = literals_in(rust, &["Bash", "Write", "Edit"], true);
    let lines: Vec<usize> = found.iter().map(|(line, _)| *line).collect();
    assert_eq!(lines, vec![2], "{found:?}");
    let ts = "const t = 'Write';\nif (k === `Edit`) {}\nh(\"dt\", {}, \"Agent\"), // a label, not a tool name\n";
    let found = literals_in(ts, &["Write", "Edit", "Agent"], false);
    let lines: Vec<usize> = found.iter().map(|(line, _)| *line).collect();
    assert_eq!(lines, vec![1, 2], "{found:?}");
    assert!(literals_in("\"tool Bash\" and BashOutput", &["Bash"], true).is_empty());
}
