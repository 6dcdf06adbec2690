//! Scanning inline interpreter code (`python -c`, `node -e`, heredocs fed to interpreters).
//!
//! Airlock does not parse Python or JavaScript. It looks for what matters to policy: starting
//! processes (whose string literals are then classified as shell commands), deleting or writing
//! files, reaching the network, evaluating generated code, and paths of secrets in literals.

use super::ClassifierError;
use super::kb::CodePattern;
use airlock_protocol::ActionClass;
use regex::Regex;
use std::sync::LazyLock;

#[derive(Debug)]
pub(crate) struct CodeScanner {
    patterns: Vec<(String, Regex, Vec<ActionClass>, bool)>,
}

/// What the scanner found in a piece of code.
#[derive(Debug, Default)]
pub(crate) struct CodeFindings {
    pub classes: Vec<ActionClass>,
    pub matched: Vec<String>,
    pub spawns: bool,
}

impl CodeScanner {
    pub fn compile(patterns: &[CodePattern]) -> Result<Self, ClassifierError> {
        let patterns = patterns
            .iter()
            .map(|p| {
                Regex::new(&p.pattern)
                    .map(|re| (p.id.clone(), re, p.add.clone(), p.spawns))
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
        for (id, re, add, spawns) in &self.patterns {
            if re.is_match(code) {
                findings.matched.push(id.clone());
                findings.classes.extend(add.iter().copied());
                findings.spawns |= spawns;
            }
        }
        findings
    }
}

static STRING_LITERAL: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#""((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|`([^`]*)`"#).ok());

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
}
