//! Helpers over word text: pieces, globs, brackets, brace expansion, quoting forms.

use crate::*;

/// Appends a piece, merging adjacent `Literal`s and adjacent `Glob`s.
pub(crate) fn push_piece(out: &mut Vec<WordPiece>, piece: WordPiece) {
    match (out.last_mut(), piece) {
        (Some(WordPiece::Literal(prev)), WordPiece::Literal(t))
        | (Some(WordPiece::Glob(prev)), WordPiece::Glob(t)) => prev.push_str(&t),
        (_, piece) => out.push(piece),
    }
}

pub(crate) fn push_literal(out: &mut Vec<WordPiece>, text: &str) {
    push_piece(out, WordPiece::Literal(text.to_owned()));
}

/// Splits unquoted text into literal and glob pieces (`*`, `?`, `[...]`, extglobs).
pub(crate) fn split_globs(text: &str, out: &mut Vec<WordPiece>) {
    let chars: Vec<char> = text.chars().collect();
    let mut lit = String::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let glob_end = match c {
            '*' | '?' | '+' | '@' | '!' if chars.get(i + 1) == Some(&'(') => {
                matching_paren(&chars, i + 1).or(if matches!(c, '*' | '?') {
                    Some(i)
                } else {
                    None
                })
            }
            '*' | '?' => Some(i),
            '[' => bracket_end(&chars, i),
            _ => None,
        };
        match glob_end {
            Some(end) => {
                if !lit.is_empty() {
                    push_literal(out, &std::mem::take(&mut lit));
                }
                let g: String = chars.get(i..=end).unwrap_or_default().iter().collect();
                push_piece(out, WordPiece::Glob(g));
                i = end + 1;
            }
            None => {
                lit.push(c);
                i += 1;
            }
        }
    }
    if !lit.is_empty() || out.is_empty() {
        push_literal(out, &lit);
    }
}

/// Index of the `)` matching the `(` at `open`.
pub(crate) fn matching_paren(chars: &[char], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (j, &c) in chars.iter().enumerate().skip(open) {
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
    }
    None
}

/// Index of the `]` closing a bracket expression starting at `open` (a `]` right after
/// `[`, `[!` or `[^` is part of the set).
pub(crate) fn bracket_end(chars: &[char], open: usize) -> Option<usize> {
    let mut j = open + 1;
    if matches!(chars.get(j), Some('!' | '^')) {
        j += 1;
    }
    if chars.get(j) == Some(&']') {
        j += 1;
    }
    chars
        .iter()
        .enumerate()
        .skip(j)
        .find(|&(_, &c)| c == ']')
        .map(|(k, _)| k)
}

/// Whether an unquoted brace expansion (`{a,b}`, `{1..3}`) occurs in the word.
///
/// Our own linear scan: brush's `parse_brace_expansions` backtracks exponentially on
/// inputs like `x{a,{x{a,{...`. Quoted text and the insides of `${..}` / `$(..)` are
/// skipped (the latter are parsed separately).
pub(crate) fn has_brace_expansion(raw: &str) -> bool {
    if !(raw.contains('{') && raw.contains('}')) {
        return false;
    }
    let bytes = raw.as_bytes();
    // Open braces: (byte index after `{`, saw a top-level comma).
    let mut open: Vec<(usize, bool)> = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' => i += 1,
            b'\'' => i = skip_past(bytes, i + 1, b'\''),
            b'"' => {
                // Skip a double-quoted string (with backslash escapes).
                let mut j = i + 1;
                while let Some(&c) = bytes.get(j) {
                    match c {
                        b'\\' => j += 1,
                        b'"' => break,
                        _ => {}
                    }
                    j += 1;
                }
                i = j;
            }
            b'$' => match bytes.get(i + 1) {
                Some(b'\'') => {
                    let mut j = i + 2;
                    while let Some(&c) = bytes.get(j) {
                        match c {
                            b'\\' => j += 1,
                            b'\'' => break,
                            _ => {}
                        }
                        j += 1;
                    }
                    i = j;
                }
                Some(b'{') => i = skip_balanced(bytes, i + 1, b'{', b'}'),
                Some(b'(') => i = skip_balanced(bytes, i + 1, b'(', b')'),
                _ => {}
            },
            b'{' => open.push((i + 1, false)),
            b',' => {
                if let Some(top) = open.last_mut() {
                    top.1 = true;
                }
            }
            b'}' => {
                if let Some((start, comma)) = open.pop()
                    && (comma || raw.get(start..i).is_some_and(is_brace_sequence))
                {
                    return true;
                }
            }
            _ => {}
        }
        i += 1;
    }
    false
}

/// Index of the next `end` byte at or after `from` (or the end of input).
pub(crate) fn skip_past(bytes: &[u8], from: usize, end: u8) -> usize {
    bytes
        .iter()
        .enumerate()
        .skip(from)
        .find(|&(_, &c)| c == end)
        .map_or(bytes.len(), |(j, _)| j)
}

/// Index of the delimiter closing the one at `open_at` (approximate: ignores quotes).
pub(crate) fn skip_balanced(bytes: &[u8], open_at: usize, open: u8, close: u8) -> usize {
    let mut depth = 0usize;
    for (j, &c) in bytes.iter().enumerate().skip(open_at) {
        if c == open {
            depth += 1;
        } else if c == close {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                return j;
            }
        }
    }
    bytes.len()
}

/// `1..5`, `-3..3..2`, `a..z`, `a..z..2`.
pub(crate) fn is_brace_sequence(inner: &str) -> bool {
    let parts: Vec<&str> = inner.split("..").collect();
    let is_int = |p: &str| {
        let digits = p.strip_prefix(['-', '+']).unwrap_or(p);
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    };
    let is_letter = |p: &str| p.len() == 1 && p.bytes().all(|b| b.is_ascii_alphabetic());
    let (first, last) = match parts.as_slice() {
        [a, b] => (*a, *b),
        [a, b, step] if is_int(step) => (*a, *b),
        _ => return false,
    };
    (is_int(first) && is_int(last)) || (is_letter(first) && is_letter(last))
}

pub(crate) fn tilde_text(t: &bword::TildeExpr) -> String {
    match t {
        bword::TildeExpr::Home => String::new(),
        bword::TildeExpr::UserHome(u) => u.clone(),
        bword::TildeExpr::WorkingDir => "+".to_owned(),
        bword::TildeExpr::OldWorkingDir => "-".to_owned(),
        bword::TildeExpr::NthDirFromTopOfDirStack { n, plus_used } => {
            if *plus_used {
                format!("+{n}")
            } else {
                n.to_string()
            }
        }
        bword::TildeExpr::NthDirFromBottomOfDirStack { n } => format!("-{n}"),
    }
}

/// bash's backslash processing for the body of `` `...` ``: a backslash is removed before
/// `$`, `` ` ``, `\` (and `"` when the substitution is inside double quotes).
pub(crate) fn unescape_backticks(body: &str, in_double_quotes: bool) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.peek() {
                Some(&n) if n == '$' || n == '`' || n == '\\' || (in_double_quotes && n == '"') => {
                    out.push(n);
                    chars.next();
                    continue;
                }
                _ => {}
            }
        }
        out.push(c);
    }
    out
}

/// Decodes the body of an ANSI-C quoted string (`$'...'`).
pub(crate) fn decode_ansi_c(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    // Reads up to `max` digits of the given radix.
    pub(crate) fn digits(
        chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
        radix: u32,
        max: usize,
    ) -> Option<u32> {
        let mut value: Option<u32> = None;
        for _ in 0..max {
            let Some(d) = chars.peek().and_then(|c| c.to_digit(radix)) else {
                break;
            };
            chars.next();
            value = Some(value.unwrap_or(0).saturating_mul(radix).saturating_add(d));
        }
        value
    }
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            out.push('\\');
            break;
        };
        let simple = match e {
            'a' => Some('\x07'),
            'b' => Some('\x08'),
            'e' | 'E' => Some('\x1b'),
            'f' => Some('\x0c'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\x0b'),
            '\\' | '\'' | '"' | '?' => Some(e),
            _ => None,
        };
        if let Some(ch) = simple {
            out.push(ch);
            continue;
        }
        let code = match e {
            '0'..='7' => {
                // Up to three octal digits in total, as an 8-bit value.
                let mut v = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match chars.peek().and_then(|c| c.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            chars.next();
                        }
                        None => break,
                    }
                }
                Some(v & 0xff)
            }
            'x' => digits(&mut chars, 16, 2),
            'u' => digits(&mut chars, 16, 4),
            'U' => digits(&mut chars, 16, 8),
            'c' => chars.next().map(|x| u32::from(x) & 0x1f),
            _ => None,
        };
        match code.and_then(char::from_u32) {
            Some(ch) => out.push(ch),
            None => {
                // Unknown or invalid escape: keep it verbatim.
                out.push('\\');
                out.push(e);
            }
        }
    }
    out
}

/// The substring between two char indices (brush's source positions count chars).
pub(crate) fn slice_chars(s: &str, start: usize, end: usize) -> Option<&str> {
    let mut idx = s
        .char_indices()
        .map(|(b, _)| b)
        .chain(std::iter::once(s.len()));
    let b_start = idx.clone().nth(start)?;
    let b_end = idx.nth(end)?;
    s.get(b_start..b_end)
}
