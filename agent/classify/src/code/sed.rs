//! Reading sed scripts: GNU sed's command language, command by command.
//!
//! sed reaches beyond its input through a few commands: `e` (runs a command), the `e` flag of
//! `s` (runs the pattern space), `w`/`W` and the `w` flag of `s` (write files), `r`/`R` (read
//! files). A command the grammar does not know makes the script `None`: code Airlock cannot read.

use super::analysis::{Effect, Report};
use super::knowledge::{Capability, PathUse};

/// What a sed script does, or `None` when it is outside the grammar.
pub(crate) fn read(script: &str) -> Option<Report> {
    let chars: Vec<char> = script.chars().collect();
    let mut report = Report::default();
    let at = super::analysis::excerpt(script);
    let mut i = 0;
    loop {
        skip(&chars, &mut i, |c| c.is_whitespace() || c == ';');
        if i >= chars.len() {
            return Some(report);
        }
        address(&chars, &mut i)?;
        skip(&chars, &mut i, |c| c == ' ' || c == '\t');
        if chars.get(i) == Some(&',') {
            i += 1;
            skip(&chars, &mut i, |c| c == ' ' || c == '\t');
            if matches!(chars.get(i), Some('+' | '~')) {
                i += 1;
            }
            address(&chars, &mut i)?;
        }
        skip(&chars, &mut i, |c| c == ' ' || c == '\t');
        while chars.get(i) == Some(&'!') {
            i += 1;
            skip(&chars, &mut i, |c| c == ' ' || c == '\t');
        }
        let cmd = *chars.get(i)?;
        i += 1;
        match cmd {
            '{' | '}' | '=' | 'd' | 'D' | 'g' | 'G' | 'h' | 'H' | 'n' | 'N' | 'p' | 'P' | 'x'
            | 'z' | 'F' => {}
            'l' | 'q' | 'Q' | 'L' => {
                skip(&chars, &mut i, |c| c == ' ' || c == '\t');
                skip(&chars, &mut i, |c| c.is_ascii_digit());
            }
            '#' | ':' | 'b' | 't' | 'T' | 'v' => {
                // A comment, a label: to the end of the line (labels also end at `;`).
                let stop_at_semicolon = cmd != '#' && cmd != ':';
                skip(&chars, &mut i, |c| {
                    c != '\n' && !(stop_at_semicolon && (c == ';' || c == '}'))
                });
            }
            'a' | 'i' | 'c' => {
                // Text to the end of the line (`a\` continues on the next).
                let text = rest_of_line(&chars, &mut i);
                if text.trim() == "\\" {
                    if chars.get(i) == Some(&'\n') {
                        i += 1;
                    }
                    let _ = rest_of_line(&chars, &mut i);
                }
            }
            'r' | 'R' | 'w' | 'W' => {
                let file = rest_of_line(&chars, &mut i).trim().to_string();
                let mut e = Effect::new(&at, format!("`{cmd}` command"));
                let use_ = if matches!(cmd, 'r' | 'R') {
                    PathUse::Read
                } else {
                    PathUse::Write
                };
                if file.is_empty() {
                    return None;
                }
                e.paths.push((file, use_));
                report.effects.push(e);
            }
            'e' => {
                let command = rest_of_line(&chars, &mut i).trim().to_string();
                let mut e = Effect::new(&at, "`e` command");
                e.caps.insert(Capability::Process);
                if command.is_empty() {
                    // Runs the pattern space: the input decides.
                    e.command_unknown = true;
                } else {
                    e.commands.push(command);
                }
                report.effects.push(e);
            }
            's' | 'y' => {
                let delim = *chars.get(i)?;
                if delim == '\n' || delim == '\\' {
                    return None;
                }
                i += 1;
                part(&chars, &mut i, delim)?;
                part(&chars, &mut i, delim)?;
                if cmd == 's' {
                    flags(&chars, &mut i, &at, &mut report)?;
                }
            }
            _ => return None,
        }
    }
}

fn skip(chars: &[char], i: &mut usize, f: impl Fn(char) -> bool) {
    while *i < chars.len() && f(chars[*i]) {
        *i += 1;
    }
}

fn rest_of_line(chars: &[char], i: &mut usize) -> String {
    let start = *i;
    skip(chars, i, |c| c != '\n');
    chars[start..*i].iter().collect()
}

/// A line number, `$`, `first~step`, `/re/` or `\cREc`, with `I`/`M` modifiers; or nothing.
fn address(chars: &[char], i: &mut usize) -> Option<()> {
    match chars.get(*i) {
        Some(c) if c.is_ascii_digit() => {
            skip(chars, i, |c| c.is_ascii_digit());
            if chars.get(*i) == Some(&'~') {
                *i += 1;
                skip(chars, i, |c| c.is_ascii_digit());
            }
        }
        Some('$') => *i += 1,
        Some('/') => {
            *i += 1;
            part(chars, i, '/')?;
            skip(chars, i, |c| c == 'I' || c == 'M');
        }
        Some('\\') => {
            let delim = *chars.get(*i + 1)?;
            *i += 2;
            part(chars, i, delim)?;
            skip(chars, i, |c| c == 'I' || c == 'M');
        }
        _ => {}
    }
    Some(())
}

/// Text up to the next unescaped `delim` (which is consumed).
fn part(chars: &[char], i: &mut usize, delim: char) -> Option<()> {
    while *i < chars.len() {
        match chars[*i] {
            '\\' => *i += 2,
            c if c == delim => {
                *i += 1;
                return Some(());
            }
            '\n' if delim != '\n' => return None,
            _ => *i += 1,
        }
    }
    None
}

/// The flags of `s`: `e` runs the result, `w FILE` writes it.
fn flags(chars: &[char], i: &mut usize, at: &str, report: &mut Report) -> Option<()> {
    while let Some(&c) = chars.get(*i) {
        match c {
            'g' | 'p' | 'i' | 'I' | 'm' | 'M' | '0'..='9' => *i += 1,
            'e' => {
                *i += 1;
                let mut e = Effect::new(at, "`s///e`");
                e.caps.insert(Capability::Process);
                e.command_unknown = true;
                report.effects.push(e);
            }
            'w' => {
                *i += 1;
                let file = rest_of_line(chars, i).trim().to_string();
                if file.is_empty() {
                    return None;
                }
                let mut e = Effect::new(at, "`s///w`");
                e.paths.push((file, PathUse::Write));
                report.effects.push(e);
                return Some(());
            }
            c if c.is_whitespace() || c == ';' || c == '}' => return Some(()),
            _ => return None,
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ordinary_scripts_do_nothing_beyond_their_input() {
        for script in [
            "1,20p",
            "s/foo/bar/g",
            "/DROP TABLE/p",
            "s|a/b|c|; /^#/d",
            "$!N; s/\\n/ /",
            "/start/,/end/{ s/x/y/; p }",
            "1~2d",
            "s/\"hooks\"/\"nohooks\"/",
            "y/abc/xyz/",
            ":a; N; $!ba; s/\\n/,/g",
            "1i\\\nheader",
        ] {
            let r = read(script).unwrap_or_else(|| panic!("{script}"));
            assert!(r.effects.is_empty(), "{script}: {:?}", r.effects);
        }
    }

    #[test]
    fn commands_and_files_are_found() {
        let r = read("1e rm -rf ~").unwrap();
        assert_eq!(r.effects[0].commands, vec!["rm -rf ~".to_string()]);
        assert!(read("s/.*/id/e").unwrap().effects[0].command_unknown);
        assert!(read("e").unwrap().effects[0].command_unknown);
        let r = read("w /tmp/out\n").unwrap();
        assert_eq!(
            r.effects[0].paths,
            vec![("/tmp/out".into(), PathUse::Write)]
        );
        let r = read("s/x/y/w ~/.bashrc").unwrap();
        assert_eq!(
            r.effects[0].paths,
            vec![("~/.bashrc".into(), PathUse::Write)]
        );
        let r = read("r ~/.ssh/id_rsa").unwrap();
        assert_eq!(
            r.effects[0].paths,
            vec![("~/.ssh/id_rsa".into(), PathUse::Read)]
        );
        assert!(read("1k").is_none());
        assert!(read("s/unterminated").is_none());
    }
}
