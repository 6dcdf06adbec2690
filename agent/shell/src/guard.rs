//! Pre-parse resource checks: what brush-parser must never be handed (deep nesting, odd
//! heredoc delimiters, huge fd numbers).

use crate::*;

/// Rejects text whose net bracket nesting exceeds [`MAX_BRACKET_NESTING`]. Deliberately
/// ignores quoting: it over-approximates every recursive construct brush handles
/// (`$(`, `${`, `$((`, `$[`, subshells, extglobs), so it can only over-reject.
pub(crate) fn check_bracket_nesting(text: &str) -> Result<()> {
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' | '{' | '[' => {
                depth += 1;
                if depth > MAX_BRACKET_NESTING {
                    return Err(ShellParseError::new(format!(
                        "brackets nested deeper than {MAX_BRACKET_NESTING}"
                    )));
                }
            }
            ')' | '}' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Rejects a word (or heredoc body) whose expansion nesting exceeds [`MAX_WORD_NESTING`].
///
/// Counts, outside single quotes, the open `$(`, `${`, `$[` and the `(` inside them. Text
/// outside any expansion is scanned linearly by brush and is not counted, so e.g.
/// `python3 -c 'f(g(h(x)))'` is fine. Quote handling errs towards counting.
pub(crate) fn check_word_nesting(text: &str, heredoc: bool) -> Result<()> {
    #[derive(PartialEq, Clone, Copy)]
    pub(crate) enum F {
        /// Inside `"..."` (or a heredoc body at top level, where `"` does not close).
        Dq,
        /// `$(`, `${`, `$[` or a `(` inside one of them.
        Open(char),
    }
    let mut stack: Vec<F> = Vec::new();
    let mut counted = 0usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let quoted = (heredoc && stack.is_empty()) || stack.last() == Some(&F::Dq);
        let mut open = None;
        match c {
            '\\' => {
                chars.next();
            }
            '`' => {
                // brush scans a backquoted body linearly; we re-parse it separately.
                while let Some(x) = chars.next() {
                    match x {
                        '\\' => {
                            chars.next();
                        }
                        '`' => break,
                        _ => {}
                    }
                }
            }
            '\'' if !quoted => {
                for x in chars.by_ref() {
                    if x == '\'' {
                        break;
                    }
                }
            }
            '"' if !heredoc || !stack.is_empty() => {
                if stack.last() == Some(&F::Dq) {
                    stack.pop();
                } else {
                    stack.push(F::Dq);
                }
            }
            '$' => match chars.peek() {
                Some(&'\'') if !quoted => {
                    // ANSI-C quoting: backslash escapes, including `\'`.
                    chars.next();
                    while let Some(x) = chars.next() {
                        match x {
                            '\\' => {
                                chars.next();
                            }
                            '\'' => break,
                            _ => {}
                        }
                    }
                }
                Some(&'(') => open = Some(')'),
                Some(&'{') => open = Some('}'),
                Some(&'[') => open = Some(']'),
                _ => {}
            },
            '(' if !quoted && counted > 0 => {
                stack.push(F::Open(')'));
                counted += 1;
            }
            ')' | '}' | ']' if !quoted && stack.last() == Some(&F::Open(c)) => {
                stack.pop();
                counted = counted.saturating_sub(1);
            }
            _ => {}
        }
        if let Some(close) = open {
            chars.next();
            stack.push(F::Open(close));
            counted += 1;
        }
        if counted > MAX_WORD_NESTING {
            return Err(ShellParseError::new(format!(
                "expansions nested deeper than {MAX_WORD_NESTING} in one word"
            )));
        }
    }
    Ok(())
}

/// Token-level nesting analysis run before brush's command grammar.
///
/// Approximates the compound-command nesting with a stack; reserved words are recognized
/// anywhere (over-approximation), and `)` closing a case pattern is told apart from `)`
/// closing a subshell so case patterns cannot be used to hide `(` nesting.
pub(crate) fn check_token_nesting(tokens: &[Token]) -> Result<()> {
    #[derive(PartialEq)]
    pub(crate) enum Frame {
        Paren,
        Case { in_patterns: bool },
        Block,
    }
    let mut stack: Vec<Frame> = Vec::new();
    let mut risky = 0usize; // Paren + Case frames on the stack.
    let mut pattern_start = false; // Next token may be the optional `(` of a case pattern.
    let mut case_words = 0u8; // Words seen since `case` (subject, then `in`).

    for token in tokens {
        let mut keep_pattern_start = false;
        match token {
            Token::Operator(op, _) => match op.as_str() {
                "(" => {
                    if pattern_start {
                        // Optional leading paren of a case pattern: `case x in (a) ..`.
                    } else {
                        stack.push(Frame::Paren);
                        risky += 1;
                    }
                }
                ")" => match stack.last_mut() {
                    Some(Frame::Case { in_patterns }) if *in_patterns => *in_patterns = false,
                    Some(Frame::Paren) => {
                        stack.pop();
                        risky = risky.saturating_sub(1);
                    }
                    _ => {}
                },
                ";;" | ";&" | ";;&" => {
                    if let Some(Frame::Case { in_patterns }) = stack.last_mut() {
                        *in_patterns = true;
                        pattern_start = true;
                        keep_pattern_start = true;
                    }
                }
                "\n" => keep_pattern_start = pattern_start,
                _ => {}
            },
            Token::Word(w, _) => {
                if case_words == 1 {
                    case_words = 2; // the case subject
                } else {
                    if case_words == 2
                        && w == "in"
                        && let Some(Frame::Case { in_patterns }) = stack.last_mut()
                    {
                        *in_patterns = true;
                        pattern_start = true;
                        keep_pattern_start = true;
                    }
                    case_words = 0;
                    match w.as_str() {
                        "case" => {
                            stack.push(Frame::Case { in_patterns: false });
                            risky += 1;
                            case_words = 1;
                        }
                        "esac" => {
                            while let Some(f) = stack.pop() {
                                if f != Frame::Block {
                                    risky = risky.saturating_sub(1);
                                }
                                if matches!(f, Frame::Case { .. }) {
                                    break;
                                }
                            }
                        }
                        "{" | "if" | "while" | "until" | "for" | "select" | "[[" => {
                            stack.push(Frame::Block);
                        }
                        "}" | "fi" | "done" | "]]" if stack.last() == Some(&Frame::Block) => {
                            stack.pop();
                        }
                        _ => {}
                    }
                }
            }
        }
        if !keep_pattern_start {
            pattern_start = false;
        }
        if stack.len() > MAX_STRUCT_NESTING {
            return Err(ShellParseError::new(format!(
                "compound commands nested deeper than {MAX_STRUCT_NESTING}"
            )));
        }
        if risky > MAX_BACKTRACK_NESTING {
            return Err(ShellParseError::new(format!(
                "subshells / case statements nested deeper than {MAX_BACKTRACK_NESTING}"
            )));
        }
    }
    Ok(())
}

/// brush's tokenizer loops forever at the end of the input when a here-document tag is empty
/// once leading ASCII whitespace is trimmed and unquoted: a tag of carriage returns or form
/// feeds (`<<\r `); inside `$(…)`, where blanks start tokens, a blank followed by another blank
/// or an operator (`$(<<\t `, `$(cat << ;`); an empty quoted tag (`<<''`); a substitution
/// (`<<$(  `). That would tie up a parser thread for good (and after [`MAX_RUNAWAY_PARSES`] of
/// them every parse would be refused), so reject, up front, any heredoc operator not followed
/// by an ordinary tag. Real scripts write `<<EOF`, `<< 'EOF'`, `<<-"EOF"`; arithmetic shifts
/// (`$((1 << n))`) are unaffected.
pub(crate) fn check_heredoc_delimiters(text: &str) -> Result<()> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // A run of unescaped `<` tokenizes greedily: `<<<` while three remain, then `<<` (a
        // heredoc operator) or `<`. Quoting is not tracked, so this can only over-reject.
        let escaped = i > 0 && bytes[i - 1] == b'\\';
        if bytes[i] != b'<' || escaped {
            i += 1;
            continue;
        }
        let run = bytes[i..].iter().take_while(|&&b| b == b'<').count();
        let end = i + run;
        i = end;
        if run % 3 != 2 {
            continue;
        }
        let mut j = end;
        if bytes.get(j) == Some(&b'-') {
            j += 1;
        }
        let blanks_start = j;
        while matches!(bytes.get(j), Some(b' ' | b'\t' | b'\r' | 0x0b | 0x0c)) {
            j += 1;
        }
        let blanks = &bytes[blanks_start..j];
        let odd_blanks = blanks.len() > 1 || blanks.iter().any(|b| !matches!(b, b' ' | b'\t'));
        let rest = &bytes[j..];
        let tag: &[u8] = match rest.first() {
            Some(&q @ (b'\'' | b'"')) => match rest[1..].iter().position(|&b| b == q) {
                Some(len) => &rest[1..=len],
                None => &[],
            },
            _ => {
                // brush ends a word at an unescaped blank, newline or operator (not at `\r`,
                // and not at the `(` of `$(`).
                let mut k = 0;
                while k < rest.len() {
                    let b = rest[k];
                    if b == b'\\' {
                        k += 2;
                        continue;
                    }
                    if matches!(b, b' ' | b'\t' | b'\n')
                        || b";&|)<>".contains(&b)
                        || (b == b'(' && (k == 0 || rest[k - 1] != b'$'))
                    {
                        break;
                    }
                    k += 1;
                }
                &rest[..k.min(rest.len())]
            }
        };
        let odd_tag = tag.is_empty()
            || rest.starts_with(b"$(")
            || rest.starts_with(b"${")
            || tag
                .iter()
                .any(|&b| b == b'`' || (b.is_ascii_control() && b != b'\t'))
            || tag.windows(2).any(|w| w == b"$(" || w == b"${");
        if odd_blanks || odd_tag {
            return Err(ShellParseError::new(
                "here-document operator without an ordinary tag",
            ));
        }
    }
    Ok(())
}

/// brush `unwrap`s the parse of an fd number written before a redirect (`99999999999>x`);
/// reject those up front instead of relying on `catch_unwind` (which would still print a
/// panic message).
pub(crate) fn check_fd_numbers(tokens: &[Token]) -> Result<()> {
    for pair in tokens.windows(2) {
        if let [Token::Word(w, wloc), Token::Operator(op, oloc)] = pair
            && op.starts_with(['<', '>'])
            && wloc.end.index == oloc.start.index
            && !w.is_empty()
            && w.bytes().all(|b| b.is_ascii_digit())
            && w.parse::<i32>().is_err()
        {
            return Err(ShellParseError::new("file descriptor number too large"));
        }
    }
    Ok(())
}

/// bash (outside POSIX mode) expands a tilde right after the `=` of any word shaped like an
/// assignment, arguments included: `dd of=~/.bashrc` writes the home directory's file. brush
/// leaves it as text; split it into `NAME=`, the tilde and the rest.
pub(crate) fn expand_tilde_after_assignment(raw: &str, pieces: &mut Vec<WordPiece>) {
    let Some((name, rest)) = raw.split_once('=') else {
        return;
    };
    let is_name = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !is_name || !rest.starts_with('~') {
        return;
    }
    let Some(WordPiece::Literal(first)) = pieces.first() else {
        return;
    };
    let prefix = format!("{name}=~");
    let Some(after) = first.strip_prefix(prefix.as_str()) else {
        return;
    };
    // `~user`, `~+` and `~-` prefixes end at the first slash.
    let (user, tail) = after.split_at(after.find('/').unwrap_or(after.len()));
    let user_ok = user.is_empty()
        || user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        || user == "+"
        || user == "-";
    if !user_ok {
        return;
    }
    let mut replacement = vec![
        WordPiece::Literal(format!("{name}=")),
        WordPiece::Tilde(user.to_owned()),
    ];
    if !tail.is_empty() {
        replacement.push(WordPiece::Literal(tail.to_owned()));
    }
    pieces.splice(0..1, replacement);
}

/// brush `unwrap`s the parse of a tilde directory-stack index (`~99999999999999999999`).
pub(crate) fn check_tilde_number(raw: &str) -> Result<()> {
    if let Some(rest) = raw.strip_prefix('~') {
        let rest = rest.strip_prefix(['+', '-']).unwrap_or(rest);
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && digits.parse::<usize>().is_err() {
            return Err(ShellParseError::new("tilde directory index too large"));
        }
    }
    Ok(())
}
