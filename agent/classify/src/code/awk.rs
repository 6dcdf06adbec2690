//! Reading awk programs: a tokenizer for the awk language (strings, regular expressions,
//! comments, operators) and what its tokens say the program does.
//!
//! An awk program reaches beyond its input in few ways, all visible in its tokens: `system(…)`,
//! pipes to and from commands (`print | "cmd"`, `"cmd" | getline`), output redirection in
//! `print` and `printf` (`> "file"`, `>> "file"`), reading files with `getline <`, and gawk's
//! directives (`@include`, `@load`) and indirect calls (`@f()`). A command or file that is a
//! string literal is classified; anything else is unknown. Text the tokenizer cannot read is
//! `None`: the caller treats the program as code Airlock cannot read.

use super::analysis::{Effect, Report};
use super::knowledge::{Capability, PathUse};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    Number,
    Str(String),
    Regex,
    /// Operators and punctuation, as written.
    Op(&'static str),
    Newline,
    /// `@`: gawk directives and indirect function calls.
    At,
}

/// Keywords after which an expression (and so a regular expression) may start.
const KEYWORDS: &[&str] = &[
    "BEGIN",
    "END",
    "BEGINFILE",
    "ENDFILE",
    "function",
    "func",
    "if",
    "else",
    "while",
    "for",
    "do",
    "break",
    "continue",
    "next",
    "nextfile",
    "exit",
    "return",
    "delete",
    "in",
    "getline",
    "print",
    "printf",
    "case",
    "default",
    "switch",
];

/// Longest first.
const OPERATORS: &[&str] = &[
    "**=", "||", "&&", "|&", ">>", ">=", "<=", "==", "!=", "!~", "++", "--", "+=", "-=", "*=",
    "/=", "%=", "^=", "**", "|", ">", "<", "~", "=", "+", "-", "*", "/", "%", "^", "!", "?", ":",
    ",", ";", "(", ")", "{", "}", "[", "]", "$",
];

fn tokenize(src: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = src.chars().collect();
    let mut toks: Vec<Tok> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\r' => i += 1,
            '\\' if chars.get(i + 1) == Some(&'\n') => i += 2,
            '\n' => {
                toks.push(Tok::Newline);
                i += 1;
            }
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '"' => {
                i += 1;
                let mut s = String::new();
                loop {
                    let ch = *chars.get(i)?;
                    i += 1;
                    match ch {
                        '"' => break,
                        '\n' => return None,
                        '\\' => {
                            let e = *chars.get(i)?;
                            i += 1;
                            s.push(match e {
                                'n' => '\n',
                                't' => '\t',
                                '\n' => continue,
                                other => other,
                            });
                        }
                        other => s.push(other),
                    }
                }
                toks.push(Tok::Str(s));
            }
            '/' if regex_allowed(toks.last()) => {
                i += 1;
                let mut in_bracket = false;
                loop {
                    let ch = *chars.get(i)?;
                    i += 1;
                    match ch {
                        '\n' => return None,
                        '\\' => i += 1,
                        '[' => in_bracket = true,
                        ']' => in_bracket = false,
                        '/' if !in_bracket => break,
                        _ => {}
                    }
                }
                toks.push(Tok::Regex);
            }
            '@' => {
                toks.push(Tok::At);
                i += 1;
            }
            c if c.is_ascii_digit()
                || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                    i += 1;
                }
                toks.push(Tok::Number);
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                toks.push(Tok::Name(chars[start..i].iter().collect()));
            }
            _ => {
                let rest: String = chars[i..chars.len().min(i + 3)].iter().collect();
                let op = OPERATORS.iter().find(|op| rest.starts_with(*op))?;
                toks.push(Tok::Op(op));
                i += op.chars().count();
            }
        }
    }
    Some(toks)
}

/// A `/` starts a regular expression unless it follows something that ends an operand.
fn regex_allowed(prev: Option<&Tok>) -> bool {
    match prev {
        Some(Tok::Name(n)) => KEYWORDS.contains(&n.as_str()),
        Some(Tok::Number | Tok::Str(_) | Tok::Regex) => false,
        Some(Tok::Op(op)) => !matches!(*op, ")" | "]" | "$" | "++" | "--"),
        _ => true,
    }
}

fn ends_statement(t: Option<&Tok>) -> bool {
    matches!(t, None | Some(Tok::Newline) | Some(Tok::Op(";" | "}")))
}

/// What an awk program does, or `None` when it cannot be tokenized.
pub(crate) fn read(src: &str) -> Option<Report> {
    let toks = tokenize(src)?;
    let mut report = Report::default();
    let at = super::analysis::excerpt(src);
    let effect = |what: &str| Effect::new(&at, what.to_string());
    // Depth of parentheses, and where the current print statement started (its depth).
    let mut depth: usize = 0;
    let mut printing: Option<usize> = None;
    for (i, tok) in toks.iter().enumerate() {
        let next = toks.get(i + 1);
        let literal_then_end = |k: usize| match toks.get(k) {
            Some(Tok::Str(s)) if ends_statement(toks.get(k + 1)) => Some(s.clone()),
            _ => None,
        };
        match tok {
            Tok::Str(s) if !report.literals.contains(s) => report.literals.push(s.clone()),
            Tok::At => {
                let mut e = effect("gawk directive or indirect call");
                e.caps.insert(Capability::Dynamic);
                report.effects.push(e);
            }
            Tok::Name(n) if n == "print" || n == "printf" => printing = Some(depth),
            Tok::Name(n) if n == "system" => {
                let mut e = effect("system");
                e.caps.insert(Capability::Process);
                match (next, toks.get(i + 2), toks.get(i + 3)) {
                    (Some(Tok::Op("(")), Some(Tok::Str(cmd)), Some(Tok::Op(")"))) => {
                        e.commands.push(cmd.clone())
                    }
                    _ => e.command_unknown = true,
                }
                report.effects.push(e);
            }
            Tok::Op("|") | Tok::Op("|&") => {
                let mut e = effect("pipe");
                e.caps.insert(Capability::Process);
                let coprocess = matches!(tok, Tok::Op("|&"));
                if coprocess {
                    // gawk's `|&` also opens network connections (`/inet/tcp/…`).
                    e.caps.insert(Capability::Network);
                    e.hosts_unknown = true;
                }
                let command = if matches!(next, Some(Tok::Name(n)) if n == "getline") {
                    // `"cmd" | getline`.
                    match i.checked_sub(1).and_then(|k| toks.get(k)) {
                        Some(Tok::Str(s)) => Some(s.clone()),
                        _ => None,
                    }
                } else {
                    literal_then_end(i + 1)
                };
                match command {
                    Some(c) if !coprocess => e.commands.push(c),
                    _ => e.command_unknown = true,
                }
                report.effects.push(e);
            }
            Tok::Op(">") | Tok::Op(">>") if printing == Some(depth) => {
                let mut e = effect("output redirection");
                match literal_then_end(i + 1) {
                    Some(path) => e.paths.push((path, PathUse::Write)),
                    None => e.paths_unknown.push(PathUse::Write),
                }
                report.effects.push(e);
            }
            Tok::Op("<") if is_getline_input(&toks, i) => {
                let mut e = effect("getline from a file");
                match toks.get(i + 1) {
                    Some(Tok::Str(path)) => e.paths.push((path.clone(), PathUse::Read)),
                    _ => e.paths_unknown.push(PathUse::Read),
                }
                report.effects.push(e);
            }
            Tok::Op("(") | Tok::Op("[") => depth += 1,
            Tok::Op(")") | Tok::Op("]") => depth = depth.saturating_sub(1),
            Tok::Op(";") | Tok::Op("}") | Tok::Op("{") | Tok::Newline
                if printing.is_some_and(|d| depth <= d) =>
            {
                printing = None;
            }
            _ => {}
        }
    }
    Some(report)
}

/// `getline < file`, `getline var < file`.
fn is_getline_input(toks: &[Tok], i: usize) -> bool {
    let before = |k: usize| i.checked_sub(k).and_then(|j| toks.get(j));
    matches!(before(1), Some(Tok::Name(n)) if n == "getline")
        || (matches!(before(1), Some(Tok::Name(_)))
            && matches!(before(2), Some(Tok::Name(n)) if n == "getline"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::collections::BTreeSet;

    fn caps(src: &str) -> BTreeSet<Capability> {
        read(src).unwrap().capabilities()
    }

    #[test]
    fn ordinary_programs_do_nothing_beyond_their_input() {
        for src in [
            "{print $1}",
            "NR>1 {sum+=$3} END {print sum}",
            "/rm -rf/ {print NR}",
            "{ print (a > b) }",
            "BEGIN { FS = \",\" } { n[$1]++ } END { for (k in n) print k, n[k] }",
            "{ x = $2 / 2; print x }",
            "/a|b/ { print }",
            "{ printf(\"%s\\n\", $0) > \"/dev/stderr\" }",
        ] {
            let c = caps(src);
            assert!(
                c.is_empty() || c == BTreeSet::from([Capability::FileWrite]),
                "{src}: {c:?}"
            );
        }
    }

    #[test]
    fn commands_files_and_directives_are_found() {
        let r = read("BEGIN { system(\"rm -rf /\") }").unwrap();
        assert_eq!(r.effects[0].commands, vec!["rm -rf /".to_string()]);
        let r = read("BEGIN { print \"rm -rf ~\" | \"sh\" }").unwrap();
        assert_eq!(r.effects[0].commands, vec!["sh".to_string()]);
        let r = read("BEGIN { \"id\" | getline x }").unwrap();
        assert_eq!(r.effects[0].commands, vec!["id".to_string()]);
        assert!(read("BEGIN { system(cmd) }").unwrap().effects[0].command_unknown);
        let r = read("{ print > \"out.txt\" }").unwrap();
        assert_eq!(r.effects[0].paths, vec![("out.txt".into(), PathUse::Write)]);
        let r = read("{ print $0 >> f }").unwrap();
        assert_eq!(r.effects[0].paths_unknown, vec![PathUse::Write]);
        assert!(caps("@include \"x.awk\"").contains(&Capability::Dynamic));
        assert!(caps("BEGIN { f = \"system\"; @f(\"id\") }").contains(&Capability::Dynamic));
        assert!(
            caps("BEGIN { print |& \"/inet/tcp/0/e.example/80\" }").contains(&Capability::Network)
        );
        let r = read("BEGIN { while ((getline l < \"/etc/shadow\") > 0) print l }").unwrap();
        assert_eq!(
            r.effects[0].paths,
            vec![("/etc/shadow".into(), PathUse::Read)]
        );
        assert!(read("BEGIN { print \"unterminated }").is_none());
    }
}
