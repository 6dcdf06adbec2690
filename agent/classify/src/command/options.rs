//! Helpers over options and their values: find's names, includes, placeholders, printf, in-place flags.

use super::*;

/// `-name PATTERN` that every file `find` acts on must match (before the first action, with no
/// operator anywhere: `-name x -delete , -delete` deletes everything), when it narrows anything
/// (`*.pyc`, not `*` or `?*`).
pub(crate) fn find_name_filter(spec: &ExpressionSpec, expr: &[ShellWord]) -> Option<String> {
    let words: Vec<Option<String>> = expr.iter().map(ShellWord::literal).collect();
    let primaries = spec.walk(&words);
    if primaries
        .iter()
        .any(|(_, word, _)| spec.operators.iter().any(|o| o == word))
    {
        return None;
    }
    let mut name = None;
    for (k, word, _) in &primaries {
        if spec.acts(word) {
            break;
        }
        if spec
            .names
            .iter()
            .chain(&spec.names_icase)
            .any(|n| n == word)
        {
            let pattern = words.get(k + 1)?.clone()?;
            if name.is_none() && narrows(&pattern) {
                name = Some(pattern);
            }
        }
    }
    name
}

/// The names `#include`, `#include_next`, `#import` and `#embed` lines of C-family code give
/// (`"x.h"` or `<x.h>`), and assembler `.incbin "x"` / `.include "x"`.
pub(crate) fn include_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        let rest = if let Some(directive) = line.strip_prefix('#') {
            let directive = directive.trim_start();
            let Some(rest) = ["include_next", "include", "import", "embed"]
                .iter()
                .find_map(|d| directive.strip_prefix(d))
            else {
                continue;
            };
            rest
        } else if let Some(rest) = line
            .strip_prefix(".incbin")
            .or_else(|| line.strip_prefix(".include"))
        {
            rest
        } else {
            continue;
        };
        let rest = rest.trim_start();
        let (open, close) = match rest.chars().next() {
            Some('"') => ('"', '"'),
            Some('<') => ('<', '>'),
            _ => continue,
        };
        if let Some(name) = rest[open.len_utf8()..].split(close).next()
            && !name.is_empty()
        {
            names.push(name.to_string());
        }
    }
    names
}

/// The repository a git command running in `cwd` acts on: (the directory, its git directory,
/// its work tree). A directory known only at run time makes the unit unknown; a git directory
/// elsewhere is already unknown (`repo_config`); none: git fails, nothing to judge.
pub(crate) fn repository_of<'a>(
    unit: &mut Unit,
    cwd: Option<&'a Path>,
) -> Option<(&'a Path, PathBuf, PathBuf)> {
    let Some(dir) = cwd else {
        unit.classes.insert(ActionClass::Unknown);
        return None;
    };
    let Some(GitDir::Normal(git_dir)) = find_git_dir(dir) else {
        return None;
    };
    let work_tree = git_dir.parent().unwrap_or(dir).to_path_buf();
    Some((dir, git_dir, work_tree))
}

/// A hook a repository would run: any file in its `hooks` directory but git's `.sample`s.
pub(crate) fn active_hook(git_dir: &Path) -> Option<String> {
    let entries = airlock_userfs::read_dir(&git_dir.join("hooks")).ok()?;
    entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|name| !name.ends_with(".sample"))
}

/// Files a `find -name` pattern may find before the command is judged on the whole trees.
pub(crate) const MAX_FIND_MATCHES: usize = 200;

/// Whether a name pattern has a fixed part beyond wildcards and a dot.
pub(crate) fn narrows(pattern: &str) -> bool {
    if pattern.contains('/') || pattern == ".." {
        return false;
    }
    let mut fixed = 0;
    let mut in_class = false;
    for c in pattern.chars() {
        match c {
            '[' => in_class = true,
            ']' => in_class = false,
            '*' | '?' | '.' | '\\' => {}
            _ if !in_class => fixed += 1,
            _ => {}
        }
    }
    fixed > 0
}

/// The placeholder (`{}`) in a word of a command `find -exec` runs, replaced by the file (the
/// placeholder alone, or inside literal text).
pub(crate) fn substitute_placeholder(
    placeholder: &str,
    word: &ShellWord,
    target: &ShellWord,
    target_text: Option<&str>,
) -> ShellWord {
    match word.literal() {
        Some(lit) if lit == placeholder => target.clone(),
        Some(lit) if lit.contains(placeholder) => match target_text {
            Some(t) => word_from(&lit.replace(placeholder, t)),
            None => ShellWord {
                raw: word.raw.clone(),
                pieces: vec![WordPiece::Other(word.raw.clone())],
            },
        },
        _ => word.clone(),
    }
}

/// `xargs -I {}`, `-i`, `--replace[=R]`: the placeholder (`None` when computed) and how many
/// words the option used.
pub(crate) fn replace_option(
    spec: &WrapperSpec,
    arg: &str,
    next: Option<&ShellWord>,
) -> Option<(Option<String>, usize)> {
    for opt in &spec.replace_options {
        if arg == opt {
            if spec.options_with_value.contains(opt) {
                return Some((next.and_then(ShellWord::literal), 2));
            }
            return Some((Some("{}".to_string()), 1));
        }
        let attached = if opt.starts_with("--") {
            arg.strip_prefix(opt.as_str())
                .and_then(|r| r.strip_prefix('='))
        } else {
            arg.strip_prefix(opt.as_str())
        };
        if let Some(value) = attached.filter(|v| !v.is_empty()) {
            return Some((Some(value.to_string()), 1));
        }
    }
    None
}

/// A word with each occurrence of an `xargs` placeholder made an input item (computed).
pub(crate) fn replace_placeholder(word: &ShellWord, placeholder: &str) -> ShellWord {
    if !word.raw.contains(placeholder) {
        return word.clone();
    }
    let mut pieces = Vec::new();
    for piece in &word.pieces {
        match piece {
            WordPiece::Literal(text) | WordPiece::Glob(text) if text.contains(placeholder) => {
                let mut parts = text.split(placeholder).peekable();
                while let Some(part) = parts.next() {
                    if !part.is_empty() {
                        pieces.push(WordPiece::Literal(part.to_string()));
                    }
                    if parts.peek().is_some() {
                        pieces.push(WordPiece::Param(XARGS_ITEM.to_string()));
                    }
                }
            }
            other => pieces.push(other.clone()),
        }
    }
    ShellWord {
        raw: word.raw.clone(),
        pieces,
    }
}

/// The access a path role of code means.
pub(crate) fn role_access(role: ArgRole) -> Option<Access> {
    match role {
        ArgRole::Read | ArgRole::ReadFile => Some(Access::Read),
        ArgRole::Write => Some(Access::Write),
        ArgRole::Delete => Some(Access::Delete),
        ArgRole::Chmod => Some(Access::Chmod),
        ArgRole::LinkTarget | ArgRole::SymlinkTarget => Some(Access::Link),
        ArgRole::Discard => Some(Access::Write),
        ArgRole::None | ArgRole::Remote | ArgRole::Script | ArgRole::Process => None,
    }
}

#[derive(Clone, Copy)]
pub(crate) enum StdinKind {
    Shell,
    Code,
}

/// What `echo …`, `printf …` or `cat <<EOF` print, when it is fully static.
pub(crate) fn static_stdout(
    cmd: &SimpleCommand,
    resolve: impl Fn(&ShellWord) -> Option<String>,
) -> Option<String> {
    let name = cmd.words.first()?.literal()?;
    let args: Vec<String> = cmd.words[1..].iter().map(resolve).collect::<Option<_>>()?;
    match program_name(&name).as_str() {
        "echo" => {
            let words: Vec<&str> = args
                .iter()
                .map(String::as_str)
                .skip_while(|a| matches!(*a, "-n" | "-e" | "-E" | "-ne" | "-en"))
                .collect();
            Some(words.join(" "))
        }
        "printf" => args
            .split_first()
            .map(|(format, rest)| printf(format, rest)),
        "cat" if args.is_empty() => cmd.stdin_text.clone(),
        _ => None,
    }
}

/// What `printf FORMAT ARGS…` prints, for the common conversions (`%s`, `%b`, `%d`; the format
/// is reused while arguments remain, as printf does).
pub(crate) fn printf(format: &str, args: &[String]) -> String {
    let mut out = String::new();
    let mut next = 0;
    for _round in 0..MAX_CANDIDATES {
        let mut chars = format.chars().peekable();
        let mut converted = false;
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(other) => out.push(other),
                    None => out.push('\\'),
                },
                '%' => {
                    // Flags and width (`%-10s`) are dropped.
                    while chars
                        .peek()
                        .is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '.' | '+' | ' '))
                    {
                        chars.next();
                    }
                    match chars.next() {
                        Some('%') => out.push('%'),
                        Some(_) => {
                            converted = true;
                            if let Some(arg) = args.get(next) {
                                out.push_str(arg);
                            }
                            next += 1;
                        }
                        None => out.push('%'),
                    }
                }
                c => out.push(c),
            }
        }
        if !converted || next >= args.len() {
            break;
        }
    }
    out
}

/// The part of an option's value its role applies to (see [`FlagSpec::value_after`]).
pub(crate) fn value_part<'v>(flag: &FlagSpec, value: &'v str) -> Option<&'v str> {
    match &flag.value_after {
        Some(sep) => value.split_once(sep.as_str()).map(|(_, rest)| rest),
        None => Some(value),
    }
}

pub(crate) fn apply_flag(unit: &mut Unit, flag: &FlagSpec) {
    unit.classes.extend(flag.add.iter().copied());
    unit.tags.extend(flag.tags.iter().cloned());
}

/// `--opt=value` → (`--opt`, value); `-ofile` → (`-o`, `file`) when `-o` takes a value.
pub(crate) fn split_option(arg: &str, with_value: &[String]) -> (String, Option<String>) {
    if arg.starts_with("--") {
        if let Some((flag, value)) = arg.split_once('=') {
            return (flag.to_string(), Some(value.to_string()));
        }
        return (arg.to_string(), None);
    }
    if arg.len() > 2 {
        let flag = &arg[..2];
        if with_value.iter().any(|f| f == flag) {
            return (flag.to_string(), Some(arg[2..].to_string()));
        }
    }
    (arg.to_string(), None)
}

/// If `arg` is one of `options` (exactly, `--opt=value`, or a short option with its value
/// attached), return the option's value (None if computed at run time) and how many words the
/// option used.
pub(crate) fn option_value(
    options: &[String],
    arg: &str,
    next: Option<&ShellWord>,
) -> Option<(Option<String>, usize)> {
    for opt in options {
        if arg == opt || is_cluster_ending_with(arg, opt) {
            return Some((next.and_then(ShellWord::literal), 2));
        }
        if opt.starts_with("--") {
            // `--split-str=…` is `--split-string=…` to getopt_long (an unambiguous prefix).
            let (name, value) = match arg.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (arg, None),
            };
            if name.starts_with("--") && name.len() >= 5 && opt.starts_with(name) {
                return Some(match value {
                    Some(value) => (Some(value.to_string()), 1),
                    None => (next.and_then(ShellWord::literal), 2),
                });
            }
        } else if opt.len() == 2
            && opt.starts_with('-')
            && arg.starts_with(opt.as_str())
            && arg.len() > 2
        {
            return Some((Some(arg[2..].to_string()), 1));
        }
    }
    None
}

/// `-i`, `-i.bak`, `-pi`, `-pi.bak`: the in-place option `opt` (`-i`), alone or in a cluster.
pub(crate) fn is_in_place(arg: &str, opt: &str) -> bool {
    let Some(letter) = opt.strip_prefix('-').filter(|l| l.len() == 1) else {
        return arg == opt;
    };
    if arg.starts_with("--") || !arg.starts_with('-') {
        return false;
    }
    let letters = arg[1..].split('.').next().unwrap_or("");
    letters.chars().all(|c| c.is_ascii_alphabetic()) && letters.contains(letter)
}

/// `-pe`, `-lc`: a cluster of single-letter options whose last one is `opt` (`-e`, `-c`), so the
/// next word is `opt`'s value.
pub(crate) fn is_cluster_ending_with(arg: &str, opt: &str) -> bool {
    let Some(letter) = opt
        .strip_prefix('-')
        .filter(|l| l.len() == 1 && !l.starts_with('-'))
    else {
        return false;
    };
    arg.len() > 2
        && !arg.starts_with("--")
        && arg.starts_with('-')
        && arg.ends_with(letter)
        && arg[1..].chars().all(|c| c.is_ascii_alphabetic())
}

pub(crate) fn is_assignment(arg: &str) -> bool {
    match arg.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

/// `-9`, `-15`: negative numbers (signals, counts) are values, not options.
pub(crate) fn is_number(arg: &str) -> bool {
    arg[1..].chars().all(|c| c.is_ascii_digit())
}
