//! Agent-supplied text made safe to show at a terminal: control characters (and so escape
//! sequences and carriage returns), bidirectional overrides and invisible characters are shown
//! as visible escapes, so a command cannot disguise itself as another in a prompt a person
//! approves from.

/// `text` with every character that could hide or rearrange what is shown made visible.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push('⏎'),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || hides_or_reorders(c) => {
                out.push_str(&c.escape_unicode().to_string())
            }
            c => out.push(c),
        }
    }
    out
}

/// Zero-width characters, direction marks, embeddings, overrides and isolates, BOM.
fn hides_or_reorders(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{061C}')
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn escapes_carriage_returns_ansi_and_bidi_overrides() {
        assert_eq!(printable("curl x\rgit status"), "curl x\\u{d}git status");
        assert_eq!(printable("\u{1b}[2Kls"), "\\u{1b}[2Kls");
        assert_eq!(printable("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(printable("rm -rf build\nls"), "rm -rf build⏎ls");
        assert_eq!(printable("git push — ünïcode"), "git push — ünïcode");
    }
}
