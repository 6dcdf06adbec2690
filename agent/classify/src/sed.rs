//! sed scripts: which ones Airlock understands.
//!
//! sed can run commands (`e`, the `e` flag of `s`), write files (`w`, `W`, the `w` flag) and
//! read them (`r`, `R`). A script is *understood* when it only uses the commands that do none of
//! that — printing, deleting, substituting, transliterating, appending text, branching within
//! the script. Anything else (or anything this reader cannot take apart) is not, and the command
//! is `unknown`.

use regex::Regex;
use std::sync::LazyLock;

/// Delimiters `s` commands are written with in practice; another is not understood.
const DELIMITERS: &[char] = &['/', '|', '#', ',', ':', '@', '!', '%', '_', '+', '~', '^'];

static SCRIPT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    let piece = |d: char| {
        let d = regex::escape(&d.to_string());
        format!(r"(?:[^{d}\\\n]|\\.)*")
    };
    let substitutions: Vec<String> = DELIMITERS
        .iter()
        .map(|&d| {
            let e = regex::escape(&d.to_string());
            let p = piece(d);
            format!(r"s{e}{p}{e}{p}{e}[gpiIm0-9]*")
        })
        .collect();
    let transliterations: Vec<String> = DELIMITERS
        .iter()
        .map(|&d| {
            let e = regex::escape(&d.to_string());
            let p = piece(d);
            format!(r"y{e}{p}{e}{p}{e}")
        })
        .collect();
    let regex_address = format!(r"/{}/[IM]*", piece('/'));
    let one_address = format!(r"(?:\d+(?:~\d+)?|\$|{regex_address})");
    let address = format!(r"(?:{one_address}(?:\s*,\s*(?:{one_address}|[+~]\d+))?)?\s*!?\s*");
    let simple = r"[pdqQ=lnNPDhHgGxzF{}]|[qQ]\s*\d+|[btT]\s*[A-Za-z_0-9]*|:[A-Za-z_0-9]+";
    // `a`, `i`, `c` take text to the end of the line.
    let text = r"[aic]\\?\s*[^\n]*";
    let command = format!(
        r"{address}(?:{}|{}|{simple}|{text})",
        substitutions.join("|"),
        transliterations.join("|")
    );
    // Commands may follow each other without a separator after `{` or `}`.
    Regex::new(&format!(
        r"^\s*(?:{command})?(?:\s*[;\n]?\s*(?:{command})?)*\s*$"
    ))
    .ok()
});

/// Whether `script` only uses sed commands that neither run commands nor read or write files.
pub fn understood(script: &str) -> bool {
    SCRIPT.as_ref().is_some_and(|re| re.is_match(script))
}

#[cfg(test)]
mod tests {
    use super::understood;

    #[test]
    fn everyday_scripts_are_understood() {
        for script in [
            "s/a/b/",
            "s/foo/bar/g",
            "s|/usr/local|/opt|g",
            "s#x#y#2",
            "1,5p",
            "/^#/d",
            "$d",
            "10q",
            "s/a/b/; s/c/d/g",
            "/start/,/end/d",
            "y/abc/xyz/",
            "1i\\header",
            "$a footer",
            "s/\\//:/g",
            "/x/!d",
            "/x/{p;d}",
            ":a;N;$!ba;s/\\n/ /g",
            "s/[[:space:]]*$//",
            "",
        ] {
            assert!(understood(script), "{script:?}");
        }
    }

    #[test]
    fn commands_that_run_read_or_write_are_not() {
        for script in [
            "1e rm -rf ~",
            "e rm -rf ~",
            "s/x/rm -rf ~/e",
            "s/x/y/ew /tmp/out",
            "s/x/y/w /tmp/out",
            "w /tmp/out",
            "1W /tmp/out",
            "r ~/.ssh/id_rsa",
            "R /etc/shadow",
            "/x/e cat /etc/passwd",
            "s/a/b/;e id",
            "s/a/b/\ne id",
            "sXaXbXe",
            "\\%x%e id",
            "/x/{e id\n}",
        ] {
            assert!(!understood(script), "{script:?}");
        }
    }
}
