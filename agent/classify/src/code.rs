//! Reading interpreter code: what Python and JavaScript/TypeScript code can do, from a real
//! parse (tree-sitter) and the code knowledge base (`agent/kb/code.toml`).
//!
//! Code is parsed with the language's grammar and walked: imports, calls with their dotted names
//! (`os.system`, `child_process.execSync`), the strings they are given, and constructs Airlock
//! cannot follow (`getattr`, `eval`, computed `require`, reflection) become effects. Code that
//! does not parse, or that reaches its libraries dynamically, is `dynamic` — never allowed.
//! Other languages' code is scanned with the older patterns ([`patterns`]) and is always
//! `unknown` on top of what they find.

mod analysis;
mod awk;
mod javascript;
pub mod knowledge;
pub(crate) mod local;
mod patterns;
mod perl;
mod python;
mod sed;

pub(crate) use analysis::{Effect, Import, Loaded, Loader, NoFiles, Report};
pub use knowledge::{Capability, CodeKbError, CodeKnowledge, Language, PathUse};
pub(crate) use patterns::{CodeScanner, looks_like_path, string_lists, string_literals};

use analysis::Interp;
use knowledge::Family;
use std::collections::BTreeSet;
use std::ops::ControlFlow;

/// Parsing that takes more steps than this is given up (`dynamic`). Counted in tree-sitter's
/// progress checks (one per hundred parser operations), not in time, so the same code is
/// always decided the same way; ordinary files need a few thousand.
const PARSE_BUDGET: usize = 2_000_000;

/// Parses and analyzes interpreter code. Build once and share.
#[derive(Debug)]
pub struct CodeAnalyzer {
    kb: CodeKnowledge,
}

impl CodeAnalyzer {
    /// Build from a knowledge base, checking its examples: a base whose examples fail does not
    /// load, and the error names the module and the example.
    pub fn new(kb: CodeKnowledge) -> Result<Self, CodeKbError> {
        let analyzer = Self { kb };
        for (owner, family, example) in &analyzer.kb.examples {
            let language = example.language.unwrap_or(match family {
                Family::Python => Language::Python,
                Family::Javascript => Language::Javascript,
            });
            let found = analyzer
                .analyze(language, &example.code, None, &mut NoFiles)
                .capabilities();
            let expected: BTreeSet<Capability> = example.does.iter().copied().collect();
            if found != expected {
                let show = |s: &BTreeSet<Capability>| {
                    s.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
                };
                return Err(CodeKbError::Example {
                    owner: owner.clone(),
                    code: example.code.clone(),
                    expected: show(&expected),
                    found: show(&found),
                });
            }
        }
        Ok(analyzer)
    }

    pub fn builtin() -> Result<Self, CodeKbError> {
        Self::new(CodeKnowledge::builtin()?)
    }

    pub fn knowledge(&self) -> &CodeKnowledge {
        &self.kb
    }

    /// What `code` can do. `file` is the path of the file it is in (for `__file__`), if any;
    /// `loader` finds the local modules it imports.
    pub(crate) fn analyze(
        &self,
        language: Language,
        code: &str,
        file: Option<&str>,
        loader: &mut dyn Loader,
    ) -> Report {
        let Some(family) = language.family() else {
            return self.read_small(language, code).unwrap_or_else(|| {
                let mut report = Report::default();
                let mut e = Effect::new(
                    code,
                    format!("{} code Airlock cannot read", language.as_str()),
                );
                e.caps.insert(Capability::Dynamic);
                report.effects.push(e);
                report
            });
        };
        let interp = Interp::new(self.kb.family(family), family, file.map(str::to_string));
        let code = normalize_newlines(code, family);
        let mut prelude = Vec::new();
        if family == Family::Python
            && let Some(encoding) = python_encoding(&code)
        {
            prelude.push(format!(
                "declares source encoding `{encoding}`, which the interpreter decodes differently"
            ));
        }
        let tree = match parse(language, &code) {
            Ok(tree) => tree,
            Err(why) => {
                let mut i = interp;
                i.dynamic(&code, why);
                return i.report;
            }
        };
        let root = tree.root_node();
        let mut report = match family {
            Family::Python => python::Walker::new(&code, interp, loader).run(root),
            Family::Javascript => javascript::Walker::new(&code, interp, loader).run(root),
        };
        if root.has_error() {
            prelude.push(format!("{} syntax Airlock cannot parse", language.as_str()));
        }
        for why in prelude {
            let mut e = Effect::new(&code, why);
            e.caps.insert(Capability::Dynamic);
            report.effects.insert(0, e);
        }
        report
    }
}

impl CodeAnalyzer {
    /// Code of the small languages Airlock has a grammar of its own for; `None` when the code is
    /// outside that grammar (then it is code Airlock cannot read).
    pub(crate) fn read_small(&self, language: Language, code: &str) -> Option<Report> {
        match language {
            Language::Awk => awk::read(code),
            Language::Perl => perl::substitutions_only(code).then(Report::default),
            Language::Sed => sed::read(code),
            _ => None,
        }
    }
}

fn parse(language: Language, code: &str) -> Result<tree_sitter::Tree, String> {
    let grammar: tree_sitter::Language = match language {
        Language::Python => tree_sitter_python::LANGUAGE.into(),
        Language::Javascript => tree_sitter_javascript::LANGUAGE.into(),
        Language::Typescript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
        Language::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
        Language::Awk | Language::Perl | Language::Sed => {
            return Err(format!("no parser for {} code", language.as_str()));
        }
    };
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&grammar)
        .map_err(|e| format!("the {} grammar failed to load ({e})", language.as_str()))?;
    let bytes = code.as_bytes();
    let mut steps = 0usize;
    let mut progress = |_: &tree_sitter::ParseState| {
        steps += 1;
        if steps > PARSE_BUDGET {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let options = tree_sitter::ParseOptions::new().progress_callback(&mut progress);
    parser
        .parse_with_options(
            &mut |i, _| if i < bytes.len() { &bytes[i..] } else { &[] },
            None,
            Some(options),
        )
        .ok_or_else(|| format!("{} code too slow to parse", language.as_str()))
}

/// Line breaks as the interpreter reads them. CPython turns `\r` and `\r\n` into `\n` before
/// tokenizing; JavaScript also ends lines (and `//` comments) at U+2028 and U+2029. The grammar
/// must see the same lines, or code could hide in what it takes for a comment.
fn normalize_newlines(code: &str, family: Family) -> String {
    let mut out = code.replace("\r\n", "\n").replace('\r', "\n");
    if family == Family::Javascript {
        out = out.replace(['\u{2028}', '\u{2029}'], "\n");
    }
    out
}

/// A PEP 263 encoding declaration other than UTF-8 (`# coding: utf-7` makes CPython decode
/// bytes the grammar reads as a comment into code).
fn python_encoding(code: &str) -> Option<String> {
    for line in code.lines().take(2) {
        let trimmed = line.trim_start_matches([' ', '\t', '\x0c']);
        if !trimmed.starts_with('#') {
            continue;
        }
        let Some(pos) = trimmed.find("coding") else {
            continue;
        };
        let rest = &trimmed[pos + "coding".len()..];
        let Some(rest) = rest.strip_prefix([':', '=']) else {
            continue;
        };
        let name: String = rest
            .trim_start_matches([' ', '\t'])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .collect();
        let normalized = name.to_ascii_lowercase().replace('_', "-");
        if !matches!(normalized.as_str(), "utf-8" | "utf8" | "ascii" | "us-ascii") {
            return Some(name);
        }
    }
    None
}

#[cfg(test)]
mod tests;
