//! How knowledge-base patterns match words: globs over whole arguments, options by their
//! unambiguous prefix or inside clusters of short flags.

use super::*;

/// Whether `text` matches the knowledge-base glob `pattern`, case ignored (`Core.HooksPath` is
/// `core.hooksPath` to git, and a pattern that matches more only makes decisions stricter).
/// Patterns are few and fixed: each is compiled once per thread.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    thread_local! {
        static COMPILED: std::cell::RefCell<HashMap<String, Option<globset::GlobMatcher>>> =
            std::cell::RefCell::new(HashMap::new());
    }
    COMPILED.with(|cache| {
        let mut cache = cache.borrow_mut();
        let matcher = cache.entry(pattern.to_string()).or_insert_with(|| {
            globset::GlobBuilder::new(pattern)
                .case_insensitive(true)
                .build()
                .ok()
                .map(|g| g.compile_matcher())
        });
        matcher.as_ref().is_some_and(|m| m.is_match(text))
    })
}

/// `*`-only wildcard matching (no other glob syntax: names are plain identifiers).
pub(crate) fn wildcard_match(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (i, part) in parts.iter().enumerate() {
        if i == parts.len() - 1 {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

impl FlagSpec {
    /// Whether `arg` (an option) triggers this flag entry.
    pub fn matches_option(&self, arg: &str) -> bool {
        self.flags.iter().any(|f| option_matches(f, arg))
    }

    /// Whether the option's value satisfies `values` (always, when `values` is empty).
    pub fn value_matches(&self, value: Option<&str>) -> bool {
        if self.values.is_empty() {
            return true;
        }
        let Some(value) = value else { return false };
        let matches = |pattern: &String| glob_matches(pattern, value);
        // `except` names values known to be harmless (for option values as for positionals).
        self.values.iter().any(matches) && !self.except.iter().any(matches)
    }
}

/// `--force` matches `--force` and `--force=x`; `-f` matches `-f` and clusters like `-rf`. A
/// flag with a `*` is a glob over the whole argument (`-fplugin=*`, `-i*` for `sed -i.bak`).
/// Most long-option parsers (getopt_long, argparse, git's) accept any unambiguous prefix, so
/// `--export-secret-k` is `--export-secret-keys` and `--up` may be `--upload-pack`: a long
/// argument that begins a flag matches it, however short (when it is ambiguous the program
/// refuses it; matching more is the safe side).
pub fn option_matches(flag: &str, arg: &str) -> bool {
    if arg == flag {
        return true;
    }
    if flag.contains('*') {
        return glob_matches(flag, arg);
    }
    if flag.starts_with("--") && arg.starts_with("--") {
        let name = arg.split_once('=').map_or(arg, |(name, _)| name);
        if name.len() >= 3 && flag.starts_with(name) {
            return true;
        }
    }
    if let Some(rest) = arg.strip_prefix(flag)
        && flag.starts_with("--")
        && rest.starts_with('=')
    {
        return true;
    }
    let is_short_flag = flag.len() == 2 && flag.starts_with('-') && !flag.starts_with("--");
    let is_cluster = arg.starts_with('-')
        && !arg.starts_with("--")
        && arg.len() > 2
        && arg[1..].chars().any(|c| c.is_ascii_alphabetic());
    if is_short_flag && is_cluster {
        let letter = &flag[1..];
        return arg[1..].chars().all(|c| c.is_ascii_alphanumeric()) && arg[1..].contains(letter);
    }
    false
}
