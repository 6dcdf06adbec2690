//! Scanning code of languages Airlock has no parser for (`perl -e`, `ruby -e`, awk programs)
//! with regular expressions from `[[code_pattern]]` in `programs.toml`.
//!
//! What the patterns find can only add to a classification: such code is `unknown` anyway
//! (see [`super`]), the patterns make known dangers (`system("rm -rf /")`) decide stricter.

use crate::ClassifierError;
use crate::kb::{ArgRole, CodePattern};
use airlock_protocol::ActionClass;
use regex::Regex;
use std::sync::LazyLock;

#[derive(Debug)]
pub(crate) struct CodeScanner {
    patterns: Vec<Compiled>,
}

#[derive(Debug)]
struct Compiled {
    id: String,
    re: Regex,
    add: Vec<ActionClass>,
    spawns: bool,
    path_access: Option<ArgRole>,
    tags: Vec<String>,
}

/// What the scanner found in a piece of code.
#[derive(Debug, Default)]
pub(crate) struct CodeFindings {
    pub classes: Vec<ActionClass>,
    pub matched: Vec<String>,
    pub spawns: bool,
    pub tags: Vec<String>,
    /// Paths the code uses, as written in its string literals, and how.
    pub targets: Vec<(String, ArgRole)>,
    /// Uses of paths (`open(p, "w")`) whose path is not a literal at the call.
    pub uncaptured: Vec<ArgRole>,
}

impl CodeScanner {
    pub fn compile(patterns: &[CodePattern]) -> Result<Self, ClassifierError> {
        let patterns = patterns
            .iter()
            .map(|p| {
                Regex::new(&p.pattern)
                    .map(|re| Compiled {
                        id: p.id.clone(),
                        re,
                        add: p.add.clone(),
                        spawns: p.spawns,
                        path_access: p.path_access,
                        tags: p.tags.clone(),
                    })
                    .map_err(|source| ClassifierError::CodePattern {
                        id: p.id.clone(),
                        source,
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { patterns })
    }

    pub fn scan(&self, code: &str) -> CodeFindings {
        let mut findings = CodeFindings::default();
        for p in &self.patterns {
            let mut matched = false;
            for caps in p.re.captures_iter(code) {
                matched = true;
                let Some(role) = p.path_access else { break };
                match caps.name("path") {
                    Some(path) if !path.as_str().is_empty() => {
                        findings.targets.push((unescape(path.as_str()), role));
                    }
                    _ => findings.uncaptured.push(role),
                }
            }
            if matched {
                findings.matched.push(p.id.clone());
                findings.classes.extend(p.add.iter().copied());
                findings.tags.extend(p.tags.iter().cloned());
                findings.spawns |= p.spawns;
            }
        }
        findings
    }
}

fn unescape(text: &str) -> String {
    text.replace("\\\"", "\"").replace("\\'", "'")
}

/// Whether a string literal of code looks like a file path (`src/main.rs`, `.env`, `~/.bashrc`,
/// `/etc/hosts`) rather than text (`utf-8`, `hello world`, `https://…`).
pub(crate) fn looks_like_path(literal: &str) -> bool {
    if literal.is_empty()
        || literal.len() > 4096
        || literal.contains(char::is_whitespace)
        || literal.contains("://")
        || literal.starts_with('-')
        || literal.contains(['{', '}', '%', '$', '<', '>', '|', '"', '\'', '`', ','])
    {
        return false;
    }
    if literal.contains('/') || literal.starts_with('.') || literal == "~" {
        return true;
    }
    // `notes.txt`, `Makefile.am`: a name with an extension.
    match literal.rsplit_once('.') {
        Some((stem, ext)) => {
            !stem.is_empty()
                && (1..=8).contains(&ext.len())
                && ext.chars().all(|c| c.is_ascii_alphanumeric())
                && ext.chars().any(|c| c.is_ascii_alphabetic())
        }
        None => false,
    }
}

static STRING_LITERAL: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#""((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|`([^`]*)`"#).ok());

static STRING_LIST: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r#"\[\s*((?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')(?:\s*,\s*(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'))*)\s*,?\s*\]"#,
    )
    .ok()
});

/// Lists of string literals in `code` (`["rm", "-rf", "/"]`): argument vectors of spawned
/// processes.
pub(crate) fn string_lists(code: &str) -> Vec<Vec<String>> {
    let Some(re) = STRING_LIST.as_ref() else {
        return Vec::new();
    };
    re.captures_iter(code)
        .filter_map(|c| c.get(1))
        .map(|m| string_literals(m.as_str()))
        .collect()
}

/// The contents of the quoted string literals in `code`, in order.
pub(crate) fn string_literals(code: &str) -> Vec<String> {
    let Some(re) = STRING_LITERAL.as_ref() else {
        return Vec::new();
    };
    re.captures_iter(code)
        .filter_map(|c| c.get(1).or_else(|| c.get(2)).or_else(|| c.get(3)))
        .map(|m| m.as_str().replace("\\\"", "\"").replace("\\'", "'"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_literals_of_all_quote_kinds() {
        let lits = string_literals(r#"os.system("rm -rf /"); x = 'a\'b'; y = `ls`"#);
        assert_eq!(lits, vec!["rm -rf /", "a'b", "ls"]);
    }

    #[test]
    fn finds_lists_of_strings() {
        let lists = string_lists(r#"subprocess.run(["rm", "-rf", '/'], check=True); x = [1, 2]"#);
        assert_eq!(lists, vec![vec!["rm", "-rf", "/"]]);
    }

    #[test]
    fn path_like_literals() {
        for yes in [
            "src/main.rs",
            ".env",
            "~/.bashrc",
            "/etc/hosts",
            "notes.txt",
            "/",
            "a/b",
        ] {
            assert!(looks_like_path(yes), "{yes}");
        }
        for no in [
            "utf-8",
            "hello world",
            "https://e.com/x",
            "w",
            "-rf",
            "%s/%s",
            "1.5",
            "",
        ] {
            assert!(!looks_like_path(no), "{no}");
        }
    }
}
