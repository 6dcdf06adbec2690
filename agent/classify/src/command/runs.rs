//! What a file or word runs: git directories, shebangs, static argv, hosts.

use super::*;

/// The program a command word runs: its file name (`/usr/bin/rm` → `rm`).
/// Where a command's git repository keeps its git directory.
pub(crate) enum GitDir {
    /// `DIR/.git`, a directory.
    Normal(PathBuf),
    /// Anywhere else: a `.git` file pointing away, or a bare repository.
    Elsewhere(PathBuf),
}

/// The git directory git would use in `dir`, as git discovers it (walking up).
pub(crate) fn find_git_dir(dir: &Path) -> Option<GitDir> {
    for d in dir.ancestors() {
        let dot_git = d.join(".git");
        if dot_git.is_dir_for_user() {
            // `commondir` (a linked worktree's pointer) moves config and hooks elsewhere.
            if dot_git.join("commondir").exists_for_user() {
                return Some(GitDir::Elsewhere(dot_git));
            }
            return Some(GitDir::Normal(dot_git));
        }
        if dot_git.is_file_for_user() {
            let target = airlock_userfs::read_to_string(&dot_git)
                .ok()
                .and_then(|t| t.strip_prefix("gitdir:").map(|p| d.join(p.trim())))
                .unwrap_or(dot_git);
            return Some(GitDir::Elsewhere(target));
        }
        // A bare repository: git uses it when run inside it.
        if d.join("HEAD").is_file_for_user()
            && d.join("objects").is_dir_for_user()
            && d.join("refs").is_dir_for_user()
        {
            return Some(GitDir::Elsewhere(d.to_path_buf()));
        }
    }
    None
}

/// The `section[.subsection].key` names (section and key lower-cased, as git compares them)
/// and values of a git config file, parsed by gix-config as git parses it (`[core] key = v` on
/// the header's line, quoting, escapes, continuation lines); `None` when it does not parse.
pub(crate) fn git_config_entries(text: &str) -> Option<Vec<(String, String)>> {
    let meta = gix::config::file::Metadata::from(gix::config::Source::Local);
    let file = gix::config::File::from_bytes_no_includes(text.as_bytes(), meta, Default::default())
        .ok()?;
    let mut entries = Vec::new();
    for section in file.sections() {
        let header = section.header();
        let mut prefix = header.name().to_string().to_ascii_lowercase();
        if let Some(sub) = header.subsection_name() {
            prefix.push('.');
            prefix.push_str(&sub.to_string());
        }
        let mut names: Vec<String> = section.value_names().collect();
        names.sort();
        names.dedup();
        for name in names {
            let key = format!("{prefix}.{}", name.to_ascii_lowercase());
            let values = section.values(&name);
            if values.is_empty() {
                entries.push((key.clone(), "true".into()));
            }
            for value in values {
                entries.push((key.clone(), value.to_string()));
            }
        }
    }
    Some(entries)
}

/// What a task runner was asked to run.
pub(crate) enum Runs {
    /// One package.json script (with its hooks).
    Script(String),
    /// These package.json scripts, those that exist.
    Scripts(Vec<String>),
    Make {
        /// `-C DIR` (each relative to the one before).
        dir: Option<String>,
        /// `-f FILE`, each read in order.
        files: Vec<String>,
        /// An option Airlock cannot follow (a file or directory computed at run time, the
        /// makefile read from standard input): why.
        unseen: Option<String>,
        targets: Vec<String>,
        /// `NAME=value` arguments: they override the Makefile's variables.
        overrides: Vec<(String, String)>,
    },
    Just(Vec<String>),
}

impl Runs {
    /// Read the runner's arguments (after the sub-command): the file option, the targets.
    pub(crate) fn of(from: RunsFrom, spec: &ProgramSpec, rest: &[ShellWord]) -> Self {
        let mut files: Vec<String> = Vec::new();
        let mut dir: Option<String> = None;
        let mut unseen: Option<String> = None;
        let mut positionals = Vec::new();
        let mut overrides = Vec::new();
        let mut k = 0;
        while k < rest.len() {
            let Some(arg) = rest[k].literal() else {
                // A computed target: its name is unknown, so is what runs.
                if from == RunsFrom::Make {
                    unseen = Some(format!("`{}`: a target named at run time", rest[k].raw));
                }
                positionals.push(format!("\u{0}{}", rest[k].raw));
                k += 1;
                continue;
            };
            if arg == "--" {
                // `npm run X -- ARGS`: what follows are the script's arguments.
                if !positionals.is_empty() {
                    break;
                }
            } else if from == RunsFrom::Make && arg.starts_with('-') && arg.len() > 1 {
                // make's options as getopt reads them: `-f FILE`, `-fFILE`, `--file=FILE`,
                // `-C DIR`, `-CDIR`, `--directory=DIR`, clusters (`-sfFILE`).
                let (option, attached) = match arg.split_once('=') {
                    Some((o, v)) if arg.starts_with("--") => (o.to_string(), Some(v.to_string())),
                    _ if arg.starts_with("--") => (arg.clone(), None),
                    _ => {
                        let letters = &arg[1..];
                        match letters.find(|c| "fCjoIlW".contains(c)) {
                            Some(at) => (
                                format!("-{}", &letters[at..at + 1]),
                                Some(letters[at + 1..].to_string()).filter(|v| !v.is_empty()),
                            ),
                            None => (arg.clone(), None),
                        }
                    }
                };
                // make takes any unambiguous prefix of a long option (`--dir=`, `--fil=`,
                // `--make=`): read each as the option it can stand for.
                let option = match option.strip_prefix("--") {
                    Some(name) if !name.is_empty() => {
                        ["--directory", "--file", "--makefile", "--eval"]
                            .into_iter()
                            .find(|long| long[2..].starts_with(name))
                            .map_or(option.clone(), str::to_string)
                    }
                    _ => option,
                };
                let takes_value = spec.options_with_value.contains(&option)
                    || matches!(option.as_str(), "--file" | "--makefile" | "--directory");
                let value = match (&attached, takes_value) {
                    (Some(v), _) => Some(v.clone()),
                    (None, true) => {
                        k += 1;
                        rest.get(k).and_then(ShellWord::literal)
                    }
                    (None, false) => None,
                };
                match option.as_str() {
                    "-f" | "--file" | "--makefile" => match value {
                        Some(f) if f != "-" => files.push(f),
                        _ => unseen = Some(format!("`{arg}`: a makefile Airlock does not see")),
                    },
                    "--eval" => {
                        unseen = Some(format!("`{arg}`: makefile text given on the command line"))
                    }
                    "-C" | "--directory" => match value {
                        Some(d) => {
                            dir = Some(match dir {
                                Some(before) if !d.starts_with('/') => format!("{before}/{d}"),
                                _ => d,
                            })
                        }
                        None => unseen = Some(format!("`{arg}`: a directory known at run time")),
                    },
                    _ => {}
                }
            } else if let Some(value) = arg
                .strip_prefix("--file=")
                .or(arg.strip_prefix("--makefile="))
            {
                files.push(value.to_string());
            } else if matches!(arg.as_str(), "-f" | "--file" | "--makefile") {
                files.extend(rest.get(k + 1).and_then(ShellWord::literal));
                k += 1;
            } else if spec.cwd_options.contains(&arg) {
                dir = rest.get(k + 1).and_then(ShellWord::literal);
                k += 1;
            } else if arg.starts_with('-') {
                if spec.options_with_value.contains(&arg) {
                    k += 1;
                }
            } else if let Some((name, value)) = arg.split_once('=') {
                overrides.push((name.to_string(), value.to_string()));
            } else {
                positionals.push(arg);
            }
            k += 1;
        }
        match from {
            RunsFrom::PackageScript => match positionals.into_iter().next() {
                Some(name) => Runs::Script(name),
                // `npm run` alone lists the scripts.
                None => Runs::Scripts(Vec::new()),
            },
            RunsFrom::PackageScripts => Runs::Scripts(spec.scripts.clone()),
            RunsFrom::Make => Runs::Make {
                dir,
                files,
                unseen,
                targets: positionals,
                overrides,
            },
            RunsFrom::Just => Runs::Just(positionals),
        }
    }
}

/// The arguments a package script is given: the words after `--` (`npm test -- --x`), and for
/// `npm run X` the words after X (as written, quotes kept, to be classified with the script).
pub(crate) fn script_arguments(runs: &Runs, rest: &[ShellWord]) -> Vec<String> {
    if let Some(dash) = rest.iter().position(|w| w.raw == "--") {
        return rest[dash + 1..].iter().map(|w| w.raw.clone()).collect();
    }
    match runs {
        Runs::Script(name) => rest
            .iter()
            .skip_while(|w| w.literal().as_deref() != Some(name.as_str()))
            .skip(1)
            .map(|w| w.raw.clone())
            .collect(),
        // `yarn build --outDir X`, `pnpm test --watch`: yarn and pnpm hand every word to the
        // script (npm takes options for itself; counting them too is the safe side). Not for
        // installs, whose words are packages.
        Runs::Scripts(names)
            if names
                .iter()
                .any(|n| matches!(n.as_str(), "test" | "build" | "start" | "stop" | "restart")) =>
        {
            rest.iter().map(|w| w.raw.clone()).collect()
        }
        _ => Vec::new(),
    }
}

/// The first of `names` in `dir`.
pub(crate) fn find_in(dir: &Path, names: &[&str]) -> Option<PathBuf> {
    names
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.exists_for_user())
}

/// The first of `names` in `dir` or the nearest directory above it that has one.
pub(crate) fn find_upwards(dir: &Path, names: &[&str]) -> Option<PathBuf> {
    dir.ancestors().find_map(|d| find_in(d, names))
}

/// The command line of a `#!` line (without `#!`), if the text has one.
pub(crate) fn shebang(text: &str) -> Option<String> {
    let line = text.lines().next()?.strip_prefix("#!")?;
    Some(line.trim().to_string())
}

pub(crate) fn program_name(word: &str) -> String {
    word.rsplit('/').next().unwrap_or(word).to_string()
}

/// The static prefix of a command's words, and whether that is all of them.
pub(crate) fn static_argv(name: &str, args: &[ShellWord]) -> (Vec<String>, bool) {
    let mut argv = vec![name.to_string()];
    for arg in args {
        match arg.literal() {
            Some(word) => argv.push(word),
            None => return (argv, false),
        }
    }
    (argv, true)
}

pub(crate) fn word_from(text: &str) -> ShellWord {
    ShellWord {
        raw: text.to_string(),
        pieces: vec![WordPiece::Literal(text.to_string())],
    }
}

pub(crate) fn command_text(cmd: &SimpleCommand) -> String {
    let mut text: Vec<String> = cmd
        .assignments
        .iter()
        .map(|(name, value)| format!("{name}={}", value.raw))
        .collect();
    text.extend(cmd.words.iter().map(|w| w.raw.clone()));
    for r in &cmd.redirects {
        text.push(format!("{}{}", redirect_symbol(r.kind), r.target.raw));
    }
    text.join(" ")
}

pub(crate) fn redirect_symbol(kind: shell::RedirectKind) -> &'static str {
    use shell::RedirectKind as K;
    match kind {
        K::Read => "<",
        K::Write => ">",
        K::Append => ">>",
        K::ReadWrite => "<>",
        K::DupIn => "<&",
        K::DupOut => ">&",
        K::HereDoc => "<<",
        K::HereString => "<<<",
    }
}

/// `alias name=value` commands in a script, so later uses of `name` are expanded.
pub(crate) fn collect_aliases(commands: &[SimpleCommand]) -> HashMap<String, String> {
    let mut aliases = HashMap::new();
    for cmd in commands {
        let is_alias = cmd.words.first().and_then(ShellWord::literal).as_deref() == Some("alias");
        if !is_alias {
            continue;
        }
        for word in &cmd.words[1..] {
            if let Some((name, value)) = word.literal().as_deref().and_then(|w| w.split_once('=')) {
                aliases.insert(name.to_string(), value.to_string());
            }
        }
    }
    aliases
}

pub(crate) fn truncate(text: &str) -> String {
    pub(crate) const MAX: usize = 200;
    if text.len() <= MAX {
        return text.to_string();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// `scheme://host/…`, `user@host:path` or `host:path`: not a local path.
pub(crate) fn is_remote_spec(arg: &str) -> bool {
    if arg.contains("://") {
        return true;
    }
    if arg.starts_with('/') || arg.starts_with('.') || arg.starts_with('~') {
        return false;
    }
    match arg.split_once(':') {
        Some((host, _)) => !host.is_empty() && !host.contains('/') && host.len() > 1,
        None => false,
    }
}

/// A URL to a privileged or secret-holding service on this machine (the Docker Engine API on
/// `localhost:2375`, Vault on `:8200`): add what talking to it does, from the knowledge base.
pub(crate) fn local_service(kb: &KnowledgeBase, unit: &mut Unit, url: &str) {
    let Some(parsed) = url
        .contains("://")
        .then(|| url::Url::parse(url).ok())
        .flatten()
    else {
        return;
    };
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback() || ip.is_unspecified(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback() || ip.is_unspecified(),
        None => false,
    };
    let Some(port) = parsed.port() else { return };
    if !loopback {
        return;
    }
    for service in kb.local_services.iter().filter(|s| s.ports.contains(&port)) {
        unit.classes.extend(service.classes.iter().copied());
        unit.tags.extend(service.tags.iter().cloned());
        unit.source
            .push_str(&format!(" (reaches {} on this machine)", service.name));
    }
}

/// The path of a `[user@]host:path` remote (scp, rsync, sftp) on this very machine
/// (`localhost:.ssh/id_rsa`): it is a local file, relative to the home directory.
pub(crate) fn loopback_path(arg: &str) -> Option<String> {
    if arg.contains("://") || !is_remote_spec(arg) {
        return None;
    }
    let (authority, path) = arg.split_once(':')?;
    let host = authority.rsplit('@').next()?.trim_matches(['[', ']']);
    // The machine's own name, not a user's file.
    // (An example is judged with no host name: the same on every machine.)
    #[allow(clippy::disallowed_methods)]
    let own = if airlock_userfs::sees_no_files() {
        String::new()
    } else {
        std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default()
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified())
        || (!own.trim().is_empty() && host.eq_ignore_ascii_case(own.trim()));
    loopback.then(|| path.to_string())
}

/// The host a URL, `user@host:path` remote, or bare `host/path` names.
pub(crate) fn host_of(arg: &str) -> Option<String> {
    // Where URL parsers disagree, the host is not known: curl and wget take
    // `https://docs.rs\@evil.example/` to evil.example, a WHATWG parser to docs.rs.
    if arg.contains(|c: char| c == '\\' || c.is_whitespace() || c.is_control()) {
        return None;
    }
    if arg.contains("://") {
        return url::Url::parse(arg)
            .ok()?
            .host_str()
            .map(|h| h.to_ascii_lowercase());
    }
    if arg.starts_with('/') || arg.starts_with('.') || arg.starts_with('~') || arg.starts_with('-')
    {
        return None;
    }
    // `[host]:path`, `user@[host]:path`: git and ssh take the bracketed name as the host.
    if let Some(open) = arg.find('[')
        && let Some(close) = arg[open..].find(']')
        && arg[..open].split('@').count() <= 2
        && !arg[..open].contains('/')
    {
        let host = &arg[open + 1..open + close];
        return (!host.is_empty()).then(|| host.to_ascii_lowercase());
    }
    let authority = arg.split(['/', ':']).next()?;
    let host = authority.rsplit('@').next()?;
    let looks_like_host = host == "localhost"
        || (host.contains('.')
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'));
    (looks_like_host && !host.is_empty()).then(|| host.to_ascii_lowercase())
}
