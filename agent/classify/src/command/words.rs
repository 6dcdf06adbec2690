//! Helpers over words and script text: subscripts, arithmetic, assignments, loop lists.

use super::*;

/// The pipeline positions of a unit: its own and those of enclosing pipelines.
pub(crate) fn positions(unit: &Unit) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
    unit.pipeline
        .into_iter()
        .chain(unit.enclosing.iter().copied())
}

/// Commands whose script is computed (`bash <(curl …)`, `eval "$(curl …)"`) by commands nested
/// in their words that download: they run remote code. `ranges[k]` are the units of command `k`.
pub(crate) fn mark_downloaded_scripts(
    commands: &[SimpleCommand],
    ranges: &[(usize, usize)],
    out: &mut [Unit],
) {
    for (k, cmd) in commands.iter().enumerate() {
        let (start, end) = ranges[k];
        if !out[start..end]
            .iter()
            .any(|u| u.tags.contains(TAG_SCRIPT_COMPUTED))
        {
            continue;
        }
        // The commands nested in this one's words follow it, deeper (pre-order).
        let fetches = commands[k + 1..]
            .iter()
            .zip(&ranges[k + 1..])
            .take_while(|(nested, _)| nested.depth > cmd.depth)
            .any(|(_, &(s, e))| {
                out[s..e]
                    .iter()
                    .any(|u| u.classes.contains(&ActionClass::NetworkFetch))
            });
        if !fetches {
            continue;
        }
        for unit in &mut out[start..end] {
            if unit.tags.contains(TAG_SCRIPT_COMPUTED) {
                unit.classes.insert(ActionClass::ExecRemote);
                unit.classes.insert(ActionClass::NetworkFetch);
                unit.tags.insert("pipe-to-shell".into());
                unit.source
                    .push_str(" (downloaded by the command computing it)");
            }
        }
    }
}

/// The static text of a word that is a single command or process substitution of a command
/// printing static text: `"$(echo rm)"`, `<(printf 'ls')`, `` `echo x` ``.
pub(crate) fn substitution_output(raw: &str) -> Option<String> {
    let raw = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(raw);
    let inner = raw
        .strip_prefix("$(")
        .or_else(|| raw.strip_prefix("<("))
        .and_then(|r| r.strip_suffix(')'))
        .or_else(|| raw.strip_prefix('`').and_then(|r| r.strip_suffix('`')))?;
    let parsed = shell::parse_script(inner).ok()?;
    let [cmd] = parsed.commands.as_slice() else {
        return None;
    };
    static_stdout(cmd, ShellWord::literal).map(|text| text.trim_end_matches('\n').to_string())
}

/// Text of `cmd` that stores an array subscript holding a command substitution for bash to
/// evaluate later: an assignment's value (`x='a[$(cmd)]'`), or an argument of a declaration
/// (`declare -a a='([$(cmd)]=1)'`, `export "$x"`), or a here-string read into a variable.
pub(crate) fn subscript_injection(cmd: &SimpleCommand) -> Option<String> {
    let stored = |text: &str| {
        text.split('[')
            .skip(1)
            .any(|after| after.contains("$(") || after.contains('`') || after.contains("${"))
    };
    let declaration = cmd
        .words
        .first()
        .and_then(ShellWord::literal)
        .is_some_and(|n| {
            matches!(
                n.as_str(),
                "declare"
                    | "typeset"
                    | "local"
                    | "readonly"
                    | "export"
                    | "read"
                    | "mapfile"
                    | "readarray"
                    | "printf"
                    | "let"
            )
        });
    let mut texts: Vec<&str> = cmd
        .assignments
        .iter()
        .map(|(_, v)| v.raw.as_str())
        .collect();
    if declaration {
        texts.extend(cmd.words[1..].iter().map(|w| w.raw.as_str()));
        texts.extend(cmd.stdin_text.as_deref());
    }
    // Quoted text only: an unquoted `$(…)` runs at once and is classified as a command.
    texts
        .into_iter()
        .filter(|t| t.contains('\'') || t.contains('"') || t.contains('\\'))
        .find(|t| stored(t))
        .map(str::to_string)
}

/// `--name=VALUE` written with a computed value: the option and its value as a word.
pub(crate) fn split_long_option_word(word: &ShellWord) -> Option<(String, ShellWord)> {
    let Some(WordPiece::Literal(first)) = word.pieces.first() else {
        return None;
    };
    let (name, rest) = first.split_once('=')?;
    if !name.starts_with("--") || name.len() < 3 {
        return None;
    }
    let mut pieces = Vec::with_capacity(word.pieces.len());
    if !rest.is_empty() {
        pieces.push(WordPiece::Literal(rest.to_string()));
    }
    pieces.extend(word.pieces[1..].iter().cloned());
    let raw = word
        .raw
        .split_once('=')
        .map_or_else(String::new, |(_, v)| v.to_string());
    Some((name.to_string(), ShellWord { raw, pieces }))
}

/// A variable name given to a builtin that assigns it (`printf -v`, `read`, `mapfile`,
/// `declare`, `export`, …) with an array subscript bash evaluates as arithmetic, and so may run a
/// substitution inside it: `printf -v 'a[$(cmd)]' x`, `declare 'a[$(cmd)]=1'`.
pub(crate) fn subscript_in_name(cmd: &SimpleCommand) -> Option<String> {
    let first = cmd.words.first()?.literal()?;
    let names = names_assigned(cmd);
    // `declare -n r=TARGET`: reading `$r` reads TARGET, which may be `a[$(cmd)]`.
    let nameref = matches!(first.as_str(), "declare" | "typeset" | "local")
        && cmd.words[1..]
            .iter()
            .any(|w| w.raw.starts_with('-') && w.raw.contains('n'));
    if nameref
        && let Some(target) = names
            .iter()
            .filter_map(|raw| raw.split_once('=').map(|(_, t)| t))
            .find(|t| t.contains(['[', '$', '`', '\\']))
    {
        return Some(target.to_string());
    }
    names.into_iter().find_map(|raw| {
        let raw = raw.trim_matches(|c| c == '"' || c == '\'');
        let name = raw.split('=').next().unwrap_or(raw);
        // A name computed at run time may be `a[$(cmd)]` (`printf -v "$x"`, `read "$x"`).
        if name.contains(['$', '`', '\\']) && !name.contains('[') {
            return Some(name.to_string());
        }
        let subscript = name.split_once('[')?.1;
        (subscript.contains(['$', '`', '\\'])).then(|| name.to_string())
    })
}

/// The arithmetic in assigning `value` to `name`: the subscript of an indexed array element
/// (`a[x]=1`) and each `[x]=` of a compound value (`b=([x]=1)`); none for an array declared
/// associative (`declare -A`), whose subscripts are strings.
pub(crate) fn assigned_subscripts(
    name: &str,
    value: &str,
    associative: &HashSet<String>,
) -> Vec<String> {
    let base = name.split('[').next().unwrap_or(name);
    if associative.contains(base) {
        return Vec::new();
    }
    let mut out: Vec<String> = name
        .split_once('[')
        .map(|(_, subscript)| subscript.trim_end_matches(']').to_string())
        .into_iter()
        .collect();
    if value.starts_with('(') {
        out.extend(value.split('[').skip(1).filter_map(|part| {
            part.split_once("]=")
                .map(|(subscript, _)| subscript.to_string())
        }));
    }
    out
}

/// Marks a name whose value an indirection (`${!x}`) reads as a name, in the texts of
/// [`expansion_arithmetic`].
pub(crate) const INDIRECT: char = '!';

/// The arithmetic texts bash evaluates inside parameter expansions in `raw`: array subscripts
/// (`${a[x]}`), substring offsets and lengths (`${s:x:y}`), and the name an indirection reads
/// (`${!x}`: x's value is itself a name, such as `a[$(cmd)]`). Subscripts of `associative`
/// arrays are strings, not arithmetic.
pub(crate) fn expansion_arithmetic(raw: &str, associative: &HashSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = raw.chars().collect();
    let mut i = 0;
    while i + 1 < chars.len() {
        if !(chars[i] == '$' && chars[i + 1] == '{') {
            i += 1;
            continue;
        }
        let mut j = i + 2;
        let indirect = chars.get(j) == Some(&'!');
        if indirect || chars.get(j) == Some(&'#') {
            j += 1;
        }
        let start = j;
        if matches!(
            chars.get(j),
            Some('@' | '*' | '#' | '?' | '-' | '$' | '0'..='9')
        ) && !indirect
        {
            // `${@:x}`, `${*:1:x}`, `${1:x}`: special and positional parameters.
            j += 1;
        } else {
            while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
        }
        let name: String = chars[start..j].iter().collect();
        // `${!prefix@}` and `${!arr[@]}` list names and keys; `${!x}` reads the name in x.
        if indirect && !name.is_empty() && !matches!(chars.get(j), Some('[' | '@' | '*')) {
            out.push(format!("{INDIRECT}{name}"));
        }
        if chars.get(j) == Some(&'[') {
            let mut depth = 0;
            let open = j;
            while j < chars.len() {
                match chars[j] {
                    '[' => depth += 1,
                    ']' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            let subscript: String = chars[open + 1..j.min(chars.len())].iter().collect();
            if !matches!(subscript.as_str(), "@" | "*") && !associative.contains(&name) {
                out.push(subscript);
            }
            j += 1;
        }
        if chars.get(j) == Some(&':') && !matches!(chars.get(j + 1), Some('-' | '=' | '+' | '?')) {
            let end = chars[j..]
                .iter()
                .position(|&c| c == '}')
                .map_or(chars.len(), |p| j + p);
            let offsets: String = chars[j + 1..end].iter().collect();
            out.extend(offsets.split(':').map(str::to_string));
        }
        i = j.max(i + 2);
    }
    out
}

/// The names a builtin that assigns variables is given, as written (`read a b`, `printf -v
/// NAME`, `wait -p NAME`, `getopts OPTS NAME`, `declare NAME=VALUE`, `unset NAME`).
pub(crate) fn names_assigned(cmd: &SimpleCommand) -> Vec<&str> {
    let Some(first) = cmd.words.first().and_then(ShellWord::literal) else {
        return Vec::new();
    };
    // Options of each whose value is not a name.
    let valued: &[&str] = match first.as_str() {
        "read" => &["-p", "-d", "-t", "-n", "-N", "-u", "-i"],
        "mapfile" | "readarray" => &["-d", "-n", "-O", "-s", "-u", "-C", "-c"],
        "declare" | "typeset" | "local" | "export" | "readonly" | "unset" | "printf" | "wait"
        | "getopts" => &[],
        _ => return Vec::new(),
    };
    let mut names = Vec::new();
    let mut k = 1;
    while k < cmd.words.len() {
        let raw = cmd.words[k].raw.as_str();
        // Only the value of `printf -v` and `wait -p` is a name; `getopts` names its last.
        if first == "printf" || first == "wait" {
            if raw == "-v" || raw == "-p" {
                names.extend(cmd.words.get(k + 1).map(|w| w.raw.as_str()));
            }
            k += 1;
            continue;
        }
        if first == "getopts" {
            names.extend(cmd.words.get(2).map(|w| w.raw.as_str()));
            break;
        }
        if valued.contains(&raw) {
            k += 2;
            continue;
        }
        if !raw.starts_with('-') {
            names.push(raw);
        }
        k += 1;
    }
    names
}

/// `-`, `/dev/stdin`: a script "file" that is the standard input.
pub(crate) fn is_stdin_file(word: &ShellWord) -> bool {
    matches!(
        word.literal().as_deref(),
        Some("-" | "/dev/stdin" | "/dev/fd/0" | "/proc/self/fd/0")
    )
}

/// The words as written, joined by spaces.
pub(crate) fn raw_words(words: &[ShellWord]) -> String {
    words
        .iter()
        .map(|w| w.raw.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Words joined by spaces into one word (the command line `sh -c` gets from `watch a b`).
pub(crate) fn join_words(words: &[ShellWord]) -> ShellWord {
    ShellWord {
        raw: raw_words(words),
        pieces: words
            .iter()
            .enumerate()
            .flat_map(|(idx, w)| {
                let sep = (idx > 0).then(|| WordPiece::Literal(" ".into()));
                sep.into_iter().chain(w.pieces.iter().cloned())
            })
            .collect(),
    }
}

/// `NAME=value` as an argument (`export NAME=value`): the name and the value as a word.
pub(crate) fn split_assignment_word(word: &ShellWord) -> Option<(String, ShellWord)> {
    let Some(WordPiece::Literal(first)) = word.pieces.first() else {
        return None;
    };
    let (name, rest) = first.split_once('=')?;
    if !is_assignment(&format!("{name}=")) {
        return None;
    }
    let mut pieces = Vec::with_capacity(word.pieces.len());
    if !rest.is_empty() {
        pieces.push(WordPiece::Literal(rest.to_string()));
    }
    pieces.extend(word.pieces[1..].iter().cloned());
    if pieces.is_empty() {
        pieces.push(WordPiece::Literal(String::new()));
    }
    let raw = word
        .raw
        .split_once('=')
        .map_or_else(String::new, |(_, v)| v.to_string());
    Some((name.to_string(), ShellWord { raw, pieces }))
}

pub(crate) static FOR_LOOP: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?:^|[\s;&|(])for\s+([A-Za-z_][A-Za-z0-9_]*)\s+in\s+([^;\n]*)").ok()
});

/// A name arithmetic reads: `x`, `$x`, `${x`.
pub(crate) static ARITH_NAME: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\$?\{?[A-Za-z_][A-Za-z0-9_]*").ok());

/// A name arithmetic assigns: `i=…` (not `==`), `i+=`, `i++`, `++i`.
pub(crate) static ARITH_ASSIGN: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?:\+\+|--)\s*([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*)\s*(?:\+\+|--|<<=|>>=|[-+*/%&|^]=|=[^=])").ok()
});

/// Integers the shell itself keeps.
pub(crate) const SHELL_INTEGERS: &[&str] = &[
    "RANDOM",
    "SECONDS",
    "LINENO",
    "BASHPID",
    "PPID",
    "UID",
    "EUID",
    "SRANDOM",
    "EPOCHSECONDS",
    "OPTIND",
    "SHLVL",
    "COLUMNS",
    "LINES",
    "HISTCMD",
];

/// Whether `name` is given a value (`name=…`, `for name in`) before it is first used (`$name`,
/// `${name…}`) in `script`. Judged on the text, so a use inside an earlier function body or
/// loop counts as a use.
pub(crate) fn assigned_before_use(script: &str, name: &str) -> bool {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    // Where `name` stands as a whole word.
    let words = script.match_indices(name).filter(|(at, _)| {
        let before_ok = script[..*at]
            .chars()
            .next_back()
            .is_none_or(|c| !is_ident(c));
        let after_ok = script[at + name.len()..]
            .chars()
            .next()
            .is_none_or(|c| !is_ident(c));
        before_ok && after_ok
    });
    let mut first_assign = None;
    let mut first_use = None;
    for (at, _) in words {
        let before = &script[..at];
        let after = &script[at + name.len()..];
        let is_use = before.ends_with('$')
            || before.ends_with("${")
            || before.ends_with("${!")
            || before.ends_with("${#");
        let after_subscript = match after.strip_prefix('[') {
            Some(rest) => rest.find(']').map_or(after, |end| &rest[end + 1..]),
            None => after,
        };
        let is_assign = !is_use
            && (after_subscript.starts_with('=') || after_subscript.starts_with("+="))
            || before.trim_end().ends_with("for") && after.trim_start().starts_with("in");
        if is_use && first_use.is_none() {
            first_use = Some(at);
        }
        if is_assign && first_assign.is_none() {
            first_assign = Some(at);
        }
    }
    match (first_assign, first_use) {
        (Some(a), Some(u)) => a < u,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// `for NAME in WORDS`: each loop variable and the words it takes.
pub(crate) fn for_loop_lists(script: &str) -> Vec<(String, Vec<ShellWord>)> {
    let Some(re) = FOR_LOOP.as_ref() else {
        return Vec::new();
    };
    re.captures_iter(script)
        .take(8)
        .filter_map(|caps| {
            let name = caps.get(1)?.as_str().to_string();
            let list = caps.get(2)?.as_str();
            let parsed = shell::parse_script(&format!(": {list}")).ok()?;
            let words = parsed.commands.first()?.words.get(1..)?.to_vec();
            Some((name, words))
        })
        .collect()
}
