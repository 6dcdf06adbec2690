//! Perl one-liners Airlock can read: programs made only of substitutions and transliterations
//! (`s/old/new/g`, `tr/a-z/A-Z/`), the `sed`-like use of `perl -pi -e`, and printing or skipping
//! lines that match (`print if /re/`, `next unless /re/`, `chomp`).
//!
//! This is a complete grammar for that small language, not a scan: anything outside it — any
//! other statement, the `e` flag (evaluates the replacement), code in a pattern (`(?{…})`),
//! interpolated variables or expressions (`@{[ … ]}`, `${\ … }`) — is not read, and the caller
//! treats the program as code Airlock cannot read.

/// Delimiters Airlock accepts (paired brackets are not).
const DELIMITERS: &[char] = &['/', '|', '#', '!', ',', ':', '%'];
/// Flags of `s///` that change no more than how it matches (`e` evaluates: not here).
const SUBST_FLAGS: &str = "gimsxnpcadlur";
const TR_FLAGS: &str = "cdsr";

/// Whether `code` is only substitutions and transliterations, separated by `;`.
pub(crate) fn substitutions_only(code: &str) -> bool {
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    let mut statements = 0;
    loop {
        while i < chars.len() && (chars[i].is_whitespace() || chars[i] == ';') {
            i += 1;
        }
        if i >= chars.len() {
            return statements > 0;
        }
        let Some(next) = statement(&chars, i) else {
            return false;
        };
        statements += 1;
        i = next;
        // Statements end at `;` or the end.
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i < chars.len() && chars[i] != ';' {
            return false;
        }
    }
}

/// One statement starting at `i`; the index after it.
fn statement(chars: &[char], i: usize) -> Option<usize> {
    for word in ["print", "next", "chomp", "chop"] {
        if let Some(after) = keyword(chars, i, word) {
            let mut j = after;
            while j < chars.len() && chars[j] == ' ' {
                j += 1;
            }
            for cond in ["if", "unless"] {
                if let Some(after_cond) = keyword(chars, j, cond) {
                    let mut k = after_cond;
                    while k < chars.len() && chars[k] == ' ' {
                        k += 1;
                    }
                    return matching(chars, k);
                }
            }
            // `next` alone would skip every line; only the conditional form is read.
            return (word != "next").then_some(after);
        }
    }
    substitution(chars, i)
}

/// `word` at `i`, not followed by more of a name.
fn keyword(chars: &[char], i: usize, word: &str) -> Option<usize> {
    let w: Vec<char> = word.chars().collect();
    let end = i + w.len();
    (chars.get(i..end) == Some(&w[..])
        && !chars
            .get(end)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_'))
    .then_some(end)
}

/// A match: `/re/flags` or `m{DELIM}re{DELIM}flags`, with a plain pattern.
fn matching(chars: &[char], i: usize) -> Option<usize> {
    let (delim, start) = match chars.get(i)? {
        '/' => ('/', i + 1),
        'm' => (*chars.get(i + 1)?, i + 2),
        _ => return None,
    };
    if !DELIMITERS.contains(&delim) {
        return None;
    }
    let (pattern, mut j) = part(chars, start, delim)?;
    while j < chars.len() && chars[j].is_ascii_alphabetic() {
        if !"imsxn".contains(chars[j]) {
            return None;
        }
        j += 1;
    }
    plain_pattern(&pattern).then_some(j)
}

/// One `s///` or `tr///`/`y///` starting at `i`; the index after it.
fn substitution(chars: &[char], i: usize) -> Option<usize> {
    let (kind, start) = if chars.get(i..i + 2) == Some(&['t', 'r']) {
        (Kind::Tr, i + 2)
    } else {
        match chars.get(i) {
            Some('s') => (Kind::Subst, i + 1),
            Some('y') => (Kind::Tr, i + 1),
            _ => return None,
        }
    };
    let delim = *chars.get(start)?;
    if !DELIMITERS.contains(&delim) {
        return None;
    }
    let (first, after_first) = part(chars, start + 1, delim)?;
    let (second, after_second) = part(chars, after_first, delim)?;
    let mut j = after_second;
    let allowed = match kind {
        Kind::Subst => SUBST_FLAGS,
        Kind::Tr => TR_FLAGS,
    };
    while j < chars.len() && chars[j].is_ascii_alphabetic() {
        if !allowed.contains(chars[j]) {
            return None;
        }
        j += 1;
    }
    if kind == Kind::Subst && (!plain_pattern(&first) || !plain_replacement(&second)) {
        return None;
    }
    Some(j)
}

#[derive(PartialEq)]
enum Kind {
    Subst,
    Tr,
}

/// The text up to the next unescaped `delim`, and the index after it.
fn part(chars: &[char], mut i: usize, delim: char) -> Option<(String, usize)> {
    let mut out = String::new();
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            out.push(c);
            out.push(*chars.get(i + 1)?);
            i += 2;
            continue;
        }
        if c == delim {
            return Some((out, i + 1));
        }
        out.push(c);
        i += 1;
    }
    None
}

/// A pattern with no code (`(?{…})`, `(??{…})`) and no interpolation (`$var`, `@{…}`); `$` as
/// an anchor is fine.
fn plain_pattern(p: &str) -> bool {
    if p.contains("(?{") || p.contains("(??{") || p.contains("(*{") {
        return false;
    }
    no_interpolation(p, |next| matches!(next, None | Some(')' | '|')))
}

/// A replacement that only refers to captures (`$1`, `${1}`, `$&`).
fn plain_replacement(r: &str) -> bool {
    no_interpolation(r, |next| matches!(next, Some('0'..='9' | '&')))
}

fn no_interpolation(text: &str, dollar_ok: impl Fn(Option<char>) -> bool) -> bool {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '@' => return false,
            '$' if !dollar_ok(chars.get(i + 1).copied()) => return false,
            _ => i += 1,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutions_are_read() {
        for code in [
            "s/old/new/g",
            "s|a/b|c/d|",
            "s/foo$//; s/^\\s+//",
            "tr/a-z/A-Z/",
            "y/abc/xyz/",
            "s/(\\w+)=(\\d+)/$2=$1/gi",
            "s/x/$&$&/",
            "print if /TODO/",
            "next unless /^\\s*$/; print",
            "chomp; print unless m|^#|",
        ] {
            assert!(substitutions_only(code), "{code}");
        }
    }

    #[test]
    fn anything_else_is_not() {
        for code in [
            "s/x/`id`/e",
            "s/x/system('id')/ee",
            "s/x/@{[ system('id') ]}/",
            "s/x/${\\ `id`}/",
            "s/(?{ system('id') })//",
            "s/$ENV{X}/y/",
            "s/x/y/; system('id')",
            "s{a}{b}",
            "s/x/y/g unlink 'f'",
            "print if /(?{ system('id') })/",
            "print $ENV{HOME}",
            "next",
            "printf('%s', `id`)",
            "",
        ] {
            assert!(!substitutions_only(code), "{code}");
        }
    }
}
