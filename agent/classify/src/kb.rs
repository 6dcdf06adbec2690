//! The program knowledge base: what each program and sub-command does, as data.
//!
//! The shipped base is `agent/kb/programs.toml`, compiled into the binary so the classifier can
//! never run without it. The schema is strict (`deny_unknown_fields`): a typo in the knowledge
//! base is a build-time test failure, not a silently ignored entry.

use airlock_protocol::ActionClass;
use serde::Deserialize;
use std::collections::HashMap;

mod matching;
mod value_forms;

use matching::wildcard_match;
pub use matching::{glob_matches, option_matches};
pub use value_forms::{ExpressionSpec, FileValueSpec, Primary};

/// The knowledge base shipped with this build.
pub const BUILTIN_KB: &str = include_str!("../../kb/programs.toml");

/// How a command's positional arguments are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ArgRole {
    /// Not paths (patterns, messages, names): ignored.
    #[default]
    None,
    /// Files or directories that are read.
    Read,
    /// Files or directories that are created or changed.
    Write,
    /// Files or directories that are deleted.
    Delete,
    /// Files whose permissions or ownership change.
    Chmod,
    /// URLs or `host:path` / `user@host` remotes.
    Remote,
    /// A shell command line the program runs (`git rebase --exec CMD`, `hyperfine CMD`).
    Script,
    /// What a new name will be the same as: a hard link's file (`ln FILE NAME`), a bind mount's
    /// directory (`mount --bind DIR MOUNTPOINT`). The new name is the command's written
    /// argument (the last one, or a `-t DIR` value).
    LinkTarget,
    /// A symbolic link's target (`ln -s TARGET NAME`): text resolved from the directory of the
    /// link, not from the working directory.
    SymlinkTarget,
    /// Always a file that is read (`curl -T FILE`, `wget --post-file FILE`), unlike `read`
    /// option values, which may be data (`curl -d 'a=b'`) or name a file (`-d @f`).
    ReadFile,
    /// Paths whose uncommitted changes are replaced by git's copy (`git restore F`): judged
    /// against the repository, `shell.destructive` only when a tracked file differs from it.
    Discard,
    /// Process ids that are signalled (`kill PID`): each is looked up in `/proc`, and one
    /// running Airlock is `access.change` (see `classify/processes.rs`).
    Process,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeBase {
    #[serde(default, rename = "wrapper")]
    pub wrappers: Vec<WrapperSpec>,
    #[serde(default, rename = "shell")]
    pub shells: Vec<ShellSpec>,
    #[serde(default, rename = "interpreter")]
    pub interpreters: Vec<InterpreterSpec>,
    #[serde(default, rename = "program")]
    pub programs: Vec<ProgramSpec>,
    #[serde(default)]
    pub paths: PathSpec,
    #[serde(default, rename = "code_pattern")]
    pub code_patterns: Vec<CodePattern>,
    /// Environment variables whose value programs run or load (`GIT_SSH_COMMAND`, `BASH_ENV`,
    /// `LD_PRELOAD`): setting one is judged by what it makes run.
    #[serde(default, rename = "env_var")]
    pub env_vars: Vec<EnvVarSpec>,
    /// Files some tool runs later by itself (`.envrc`, package.json lifecycle scripts).
    #[serde(default)]
    pub runs_later: Vec<RunsLaterSpec>,
    /// Services on this machine that hand out secrets or control it (the Docker Engine API,
    /// Vault, etcd): a URL to one of their ports on a loopback address is what they do.
    #[serde(default, rename = "local_service")]
    pub local_services: Vec<LocalServiceSpec>,
    /// How an option value that is read names a file instead of being data.
    #[serde(default)]
    pub file_values: FileValueSpec,
    #[serde(skip)]
    index: HashMap<String, Entry>,
}

/// A service on this machine reached by URL, by port.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalServiceSpec {
    pub name: String,
    pub ports: Vec<u16>,
    pub classes: Vec<ActionClass>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Files that something runs later by itself, and how to read what they will run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunsLaterSpec {
    /// Path globs (`~/` is the home directory; `**/` anywhere).
    pub paths: Vec<String>,
    pub runs: RunsLater,
    /// With `runs = "package-lifecycle"`: the scripts that run by themselves.
    #[serde(default)]
    pub scripts: Vec<String>,
    /// Who runs it and when, for the reason text.
    pub why: String,
}

/// How what such a file runs is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunsLater {
    /// The file is a shell script.
    Shell,
    /// package.json: its lifecycle scripts (`scripts`) are shell command lines.
    PackageLifecycle,
    /// What it runs is not read (YAML hook lists, JSON container specs, unit files).
    Opaque,
}

/// Environment variables that make programs run or load something.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvVarSpec {
    /// Names, or globs over names (`GIT_CONFIG_KEY_*`).
    pub names: Vec<String>,
    /// What the value is.
    pub value: EnvValue,
    /// Why it matters, for the reason text.
    pub why: String,
    /// What the program appends to a `command` value when it runs it.
    #[serde(default)]
    pub appended: Appended,
}

/// What a program appends to a command line it was given (an environment variable's value,
/// an option's value) when it runs it. What the arguments are decides what some programs do:
/// `make ARG` builds the target ARG names, `python3 ARG` runs the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Appended {
    /// Arguments Airlock does not know (`GIT_SSH_COMMAND` gets a host and a command): the
    /// value is classified with unknown arguments after it.
    #[default]
    Unknown,
    /// Nothing: pagers read standard input, a prompt command runs as it is.
    Nothing,
    /// A file the program made for editing (a commit message, a rebase to-do list): an editor
    /// edits it, a program that runs files would run it. Classified with a scratch file
    /// standing for it.
    EditedFile,
}

impl Appended {
    /// The command line as the program runs it.
    pub fn to(self, command: &str) -> String {
        match self {
            Appended::Unknown => format!("{command} \"$@\""),
            Appended::Nothing => command.to_string(),
            Appended::EditedFile => format!("{command} /tmp/airlock-file-to-edit"),
        }
    }
}

/// What an environment variable's value makes happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnvValue {
    /// A command line some program runs through a shell (`GIT_SSH_COMMAND`, `PAGER`).
    Command,
    /// A file a shell runs first (`BASH_ENV`, `ENV`).
    ShellFile,
    /// Where programs are looked up (`PATH`): a directory the agent can write to (inside the
    /// workspace, scratch space, relative) lets a file stand in for a known program.
    ProgramPath,
    /// Code or configuration loaded from somewhere Airlock does not read (`LD_PRELOAD`,
    /// `NODE_OPTIONS`, `PATH`): whatever runs is not what the command names.
    Unknown,
}

impl EnvVarSpec {
    /// Whether `name` is one of these; `*` in a pattern stands for any run of characters.
    pub fn matches(&self, name: &str) -> bool {
        self.names
            .iter()
            .any(|pattern| wildcard_match(pattern, name))
    }
}

/// A program that runs another program given in its arguments (`sudo`, `env`, `xargs`, …).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WrapperSpec {
    pub names: Vec<String>,
    /// Commands using the entry and what they must be classified as (checked at load).
    #[serde(default, rename = "example")]
    pub examples: Vec<KbExample>,
    /// Options that consume the next argument (so it is not taken for the wrapped program).
    #[serde(default)]
    pub options_with_value: Vec<String>,
    /// Positional arguments before the wrapped program (e.g. the duration of `timeout`).
    #[serde(default)]
    pub skip_positionals: usize,
    /// Skip `NAME=value` arguments (`env`).
    #[serde(default)]
    pub skip_assignments: bool,
    /// Options that change the directory the wrapped program runs in (`env -C DIR`).
    #[serde(default)]
    pub cwd_options: Vec<String>,
    /// Classes the wrapper itself adds (`sudo` adds `shell.privileged`).
    #[serde(default)]
    pub add: Vec<ActionClass>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// The wrapped program receives more arguments at run time (`xargs`), so its paths are unknown.
    #[serde(default)]
    pub dynamic_args: bool,
    /// With one of these options, the wrapper only inspects (`command -v rm`): classified `read`.
    #[serde(default)]
    pub query_options: Vec<String>,
    /// An option whose value is itself a command line to parse (`env -S "…"`).
    #[serde(default)]
    pub script_options: Vec<String>,
    /// Tags when the wrapper runs no command (`env` alone prints the environment).
    #[serde(default)]
    pub bare_tags: Vec<String>,
    /// Options naming a placeholder that is replaced by input items (`xargs -I {}`). An option
    /// also listed in `options_with_value` takes its value from the next word; otherwise the
    /// value is attached (`-i{}`, `--replace=X`) or defaults to `{}`.
    #[serde(default)]
    pub replace_options: Vec<String>,
    /// Input items are appended to the wrapped command's arguments (`xargs`): when the input is
    /// static text (`echo / | xargs rm -rf`), the items are classified as arguments.
    #[serde(default)]
    pub stdin_args: bool,
    /// The wrapped command is the arguments joined by spaces and run by a shell (`watch`):
    /// `watch 'rm -rf /'` runs `rm -rf /`.
    #[serde(default)]
    pub shell_command: bool,
    /// Options whose value is a file the wrapper writes (`strace -o FILE`, `valgrind
    /// --log-file=FILE`).
    #[serde(default)]
    pub write_options: Vec<String>,
    /// Without a command, the wrapper runs its input lines as commands (`parallel < cmds`):
    /// unknown.
    #[serde(default)]
    pub bare_runs_input: bool,
    /// Options with which the wrapper does something Airlock does not follow (`strace -p PID`
    /// attaches to a running process): unknown.
    #[serde(default)]
    pub unknown_options: Vec<String>,
    /// Options naming a file whose items are the input (`xargs -a FILE`).
    #[serde(default)]
    pub input_file_options: Vec<String>,
    /// Options that make input items end at a NUL (`xargs -0`) or at the given character
    /// (`xargs -d '\n'`) instead of at blanks with quotes honoured.
    #[serde(default)]
    pub null_options: Vec<String>,
    #[serde(default)]
    pub delimiter_options: Vec<String>,
}

/// A shell: `-c SCRIPT` is re-parsed, a heredoc or piped stdin is its script.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShellSpec {
    pub names: Vec<String>,
    /// Commands using the entry and what they must be classified as (checked at load).
    #[serde(default, rename = "example")]
    pub examples: Vec<KbExample>,
    #[serde(default)]
    pub options_with_value: Vec<String>,
}

/// A language interpreter: its inline code (`python -c`, `node -e`) and the program files it
/// runs (`python3 x.py`) are read.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterpreterSpec {
    pub names: Vec<String>,
    /// Commands using the entry and what they must be classified as (checked at load).
    #[serde(default, rename = "example")]
    pub examples: Vec<KbExample>,
    /// The language Airlock reads its code in, with a parser (`agent/kb/code.toml`). Files are
    /// read in the language their extension names when it is of the same family (`node x.ts`).
    /// Without one, its code is `unknown` (what the `[[code_pattern]]`s find only adds).
    #[serde(default)]
    pub language: Option<super::code::Language>,
    /// Options whose value is inline code.
    pub inline_options: Vec<String>,
    /// Options whose value is the program file (`awk -f prog.awk`); the arguments are then
    /// input files.
    #[serde(default)]
    pub file_options: Vec<String>,
    /// Sub-commands followed by the program file (`deno run FILE`, `bun run FILE`).
    #[serde(default)]
    pub file_subcommands: Vec<String>,
    /// A `file_subcommands` word followed by something that is not a file runs a package script
    /// (`bun run build`): classified as this program's (`npm run build`).
    #[serde(default)]
    pub script_runner: Option<String>,
    /// Options whose value is a module loaded before the program (`node -r ./x.js`).
    #[serde(default)]
    pub preload_options: Vec<String>,
    /// Options that load code or settings Airlock does not read, or open the process to others
    /// (`node --env-file`, `--inspect`): the run is `unknown`.
    #[serde(default)]
    pub unknown_options: Vec<String>,
    /// Environment variables that make the interpreter load other code (`NODE_OPTIONS`,
    /// `PYTHONPATH`): set anywhere in the request, the run is `unknown`.
    #[serde(default)]
    pub code_env: Vec<String>,
    /// Sub-commands that are not programs to run (`bun install`, `deno task`).
    #[serde(default, rename = "sub")]
    pub subs: Vec<ProgramSpec>,
    /// Option naming a module to run (`python -m pip`): the module is classified as a program.
    #[serde(default)]
    pub module_option: Option<String>,
    #[serde(default)]
    pub options_with_value: Vec<String>,
    /// Options that make the files after inline code be edited in place (`perl -i -pe`).
    #[serde(default)]
    pub in_place_options: Vec<String>,
}

/// A program or sub-command and what its arguments mean.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ProgramSpec {
    pub names: Vec<String>,
    /// Commands using the entry and what they must be classified as (checked at load).
    #[serde(default, rename = "example")]
    pub examples: Vec<KbExample>,
    /// Classes of the program (or sub-command) by itself.
    #[serde(default)]
    pub classes: Vec<ActionClass>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Role of positional arguments.
    #[serde(default)]
    pub args: ArgRole,
    /// Role of the last positional argument when there are two or more (`cp a b`: b is written).
    #[serde(default)]
    pub last_arg: Option<ArgRole>,
    /// Deleting an argument removes that name: a symbolic link there is removed, not followed
    /// (`rm link` leaves its target alone; `shred link` does not). Without it, a deleted path is
    /// judged where it leads.
    #[serde(default)]
    pub unlinks: bool,
    /// The paths the program works on when given none (`rg PATTERN` searches `.`).
    #[serde(default)]
    pub default_paths: Vec<String>,
    /// Leading positional arguments that are not paths (the pattern of `grep`).
    #[serde(default)]
    pub skip_positionals: usize,
    #[serde(default)]
    pub options_with_value: Vec<String>,
    /// `key=value` operands (`dd of=/dev/sda`) and their roles.
    #[serde(default)]
    pub operands: HashMap<String, ArgRole>,
    #[serde(default, rename = "flag")]
    pub flags: Vec<FlagSpec>,
    /// Sub-commands (`git push`, `gh pr create`); unmatched sub-commands use `default_sub`.
    #[serde(default, rename = "sub")]
    pub subs: Vec<ProgramSpec>,
    /// Classes for a sub-command the knowledge base does not list (defaults to `classes`).
    #[serde(default)]
    pub default_sub: Option<Vec<ActionClass>>,
    /// Options before the sub-command that take a value (`git -C dir`, `kubectl -n ns`).
    #[serde(default)]
    pub global_options_with_value: Vec<String>,
    /// Global options that change the working directory (`git -C`, `make -C`).
    #[serde(default)]
    pub cwd_options: Vec<String>,
    /// A word only known at run time may be one of its options, which is not understood
    /// (`fd $(echo -x) rm -rf ~`: fd runs a command given with `-x`).
    #[serde(default)]
    pub computed_words_unknown: bool,
    /// A `find`-style expression follows the start points (`find DIR -name '*.o' -delete`).
    #[serde(default)]
    pub expression: Option<ExpressionSpec>,
    /// The arguments after the options are a command the program runs (`poetry run CMD…`,
    /// `bundle exec CMD…`): classified like the command of a wrapper.
    #[serde(default)]
    pub runs_command: bool,
    /// Positional arguments from this index on form a command line a shell runs
    /// (`ssh HOST CMD…`: 1).
    #[serde(default)]
    pub command_positional: Option<usize>,
    /// What the program (or sub-command) runs from a file in the working directory; the file
    /// is read and what runs is classified (see `classify/recipes.rs`).
    #[serde(default)]
    pub runs: Option<RunsFrom>,
    /// With `runs = "package-scripts"`: the package.json scripts that run (lifecycle scripts).
    #[serde(default)]
    pub scripts: Vec<String>,
    /// An unlisted sub-command names a package.json script (`yarn deploy`, `pnpm lint`).
    #[serde(default)]
    pub unlisted_sub_is_script: bool,
    /// The language of the program's script argument (the first positional unless given by
    /// `script_options`): a script Airlock does not understand makes the command `unknown`.
    #[serde(default)]
    pub script_language: Option<ScriptLanguage>,
    /// The program reads its repository's configuration (git): keys (globs, any case) whose
    /// values are shell commands run by it, classified as such.
    #[serde(default)]
    pub repo_config_commands: Vec<String>,
    /// Keys whose values name programs, paths or other configuration it loads: unknown.
    #[serde(default)]
    pub repo_config_unknown: Vec<String>,
    /// Options whose value is a script in `script_language` (`sed -e`); `script_file_options`
    /// name a file holding one (`sed -f`), which is read.
    #[serde(default)]
    pub script_options: Vec<String>,
    #[serde(default)]
    pub script_file_options: Vec<String>,
    /// The program runs a script in a small language Airlock reads (`sed`'s `e` command runs
    /// shell commands): the script is read and what it does classified.
    #[serde(default)]
    pub script: Option<ScriptSpec>,
    /// The program applies patches (`patch`, `git apply`, `git am`): the patch is read and every
    /// path it writes is judged (see `classify/patches.rs`).
    #[serde(default)]
    pub patches: Option<PatchSpec>,
    /// git brings another commit's content into the working tree (`checkout BRANCH`, `merge`,
    /// `stash pop`): which arguments name that commit (see `classify/commits.rs`).
    #[serde(default)]
    pub commits: Option<CommitsFrom>,
    /// Prints paths of the trees it reads, or of the working directory without any (`git
    /// ls-files`, `fd`): what `| xargs CMD` then gets as arguments.
    #[serde(default)]
    pub lists_paths: bool,
    /// With no more than this many positional arguments, the program reads its commands from
    /// its input (`sqlite3 x.db < x.sql`): each input line is judged by the argument patterns
    /// of the flags, as if given as an argument. Input Airlock does not see is unknown.
    #[serde(default)]
    pub input_commands_below: Option<usize>,
    /// Options that resume a stopped rebase, cherry-pick or revert (`--continue`): the steps
    /// left in its to-do list are judged — `exec` lines as commands, commits by the content
    /// they bring in.
    #[serde(default)]
    pub resume_options: Vec<String>,
    /// Scripts the package manager runs when package.json has none of that name, if a file is
    /// there (`npm start` runs `node server.js`).
    #[serde(default)]
    pub default_scripts: Vec<DefaultScript>,
    /// The inputs are C-family sources: every file they `#include` by name is read too
    /// (`#include "/root/.aws/credentials"` prints it in the preprocessor's output or errors).
    #[serde(default)]
    pub include_directives: bool,
    /// Files named by options whose lines are more command line (`pip install -r FILE`).
    #[serde(default, rename = "option_file")]
    pub option_files: Vec<OptionFileSpec>,
}

/// A script run by default: `runs` when package.json has no script `name` and the file `when`
/// is beside it.
/// An example of a knowledge-base entry at work: a command line and what it is, checked when a
/// classifier is built (in the fixed environment of policy examples: home `/home/user`, working
/// directory `/home/user/project`), so an edit that changes what an entry means fails at load.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KbExample {
    pub command: String,
    /// The classes of the whole command, exactly.
    pub classes: Vec<ActionClass>,
    /// Tags some unit of the command must have.
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultScript {
    pub name: String,
    pub when: String,
    pub runs: String,
}

/// A file an option names whose lines change what the program does: each line is matched
/// against `lines` (globs), and a match adds the classes and tags.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionFileSpec {
    pub options: Vec<String>,
    pub lines: Vec<String>,
    #[serde(default)]
    pub add: Vec<ActionClass>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Which arguments of a git command name the commits whose content it brings in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CommitsFrom {
    /// Every positional argument (`git merge A B`, `git switch BRANCH`).
    All,
    /// The first, when it names a commit; otherwise it is a path (`git checkout FILE`).
    First,
    /// `git stash pop|apply [STASH]` (the newest stash by default); `git stash [push]` resets
    /// the work tree to `HEAD`.
    Stash,
    /// The parent of each positional (`git revert C` brings back `C^`'s content).
    Parents,
    /// The first positional when it names a commit (`git reset REV` makes it what `HEAD`, the
    /// index and later restores hold); a path otherwise (`git reset FILE` only unstages).
    Reset,
    /// `git worktree add PATH [REV]`: REV's whole tree (`HEAD` by default) written under PATH;
    /// `git worktree move OLD NEW`: OLD's files land at NEW.
    Worktree,
}

/// Where a program reads the patches it applies; standard input when none is named.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PatchSpec {
    /// Options whose value is a patch file (`patch -i F`).
    #[serde(default)]
    pub options: Vec<String>,
    /// The positional argument that is the patch (`patch FILE PATCH`: 1); every one when absent
    /// (`git apply A B`).
    #[serde(default)]
    pub positional: Option<usize>,
    /// Options with which no patch is read (`git am --abort`, `git apply --stat`).
    #[serde(default)]
    pub without: Vec<String>,
}

/// Where a program's script is, and its language.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptSpec {
    pub language: super::code::Language,
    /// Options whose value is script text; without any, the first positional is the script.
    #[serde(default)]
    pub options: Vec<String>,
    /// Options whose value is a file of script.
    #[serde(default)]
    pub file_options: Vec<String>,
    /// Options that turn off everything beyond the input (`sed --sandbox`).
    #[serde(default)]
    pub safe_options: Vec<String>,
    /// Options that take a value (so it is not taken for the script).
    #[serde(default)]
    pub options_with_value: Vec<String>,
}

/// Script languages of programs whose scripts Airlock reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScriptLanguage {
    /// sed: understood when it neither runs commands nor reads or writes files (`classify/sed.rs`).
    Sed,
}

/// Files task runners take what they run from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunsFrom {
    /// The first positional argument names a package.json script (`npm run X`), which runs
    /// with npm's `preX`/`postX` hooks.
    PackageScript,
    /// The package.json scripts listed in `scripts` (lifecycle scripts of `npm install`).
    PackageScripts,
    /// The recipes of the positional targets in the Makefile (`make X`).
    Make,
    /// The recipes of the positional names in the justfile (`just X`).
    Just,
}

/// A flag or argument pattern that changes what a command does.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FlagSpec {
    /// Flags that trigger this entry. Long flags match exactly or with `=value`; a single-letter
    /// short flag also matches inside a cluster (`-r` matches `-rf`).
    #[serde(default, rename = "match")]
    pub flags: Vec<String>,
    /// Glob patterns on positional arguments that trigger this entry (`+*` for forced refspecs).
    #[serde(default)]
    pub positional: Vec<String>,
    #[serde(default)]
    pub add: Vec<ActionClass>,
    /// Globs on the option's value: the entry triggers only when the value matches one
    /// (`git -c core.sshCommand=…`).
    #[serde(default)]
    pub values: Vec<String>,
    /// With this flag the program's own classes are just these (`crontab -l` only reads).
    #[serde(default)]
    pub only: Option<Vec<ActionClass>>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// When present, replaces the role of positional arguments (`sed -i` writes its files).
    #[serde(default)]
    pub args: Option<ArgRole>,
    /// Role of this option's own value (`curl -o FILE`: write; `curl -T FILE`: read).
    #[serde(default)]
    pub value: Option<ArgRole>,
    /// The value's role applies to its part after this text (`git -c core.sshCommand=CMD`:
    /// `=`); a value without it is left alone.
    #[serde(default)]
    pub value_after: Option<String>,
    /// What the program appends to a `script` value when it runs it (`core.editor` gets a
    /// file to edit, `--rsh-command` a host and a command); none when not given.
    #[serde(default)]
    pub appended: Option<Appended>,
    /// `positional` patterns count only when the command has at least this many positional
    /// arguments (`git config KEY VALUE` sets; `git config KEY` only reads).
    #[serde(default)]
    pub min_positionals: usize,
    /// `positional` patterns look only at the positional argument at this index (`git config
    /// KEY VALUE`: the key, never the value).
    #[serde(default)]
    pub position: Option<usize>,
    /// A positional matching one of these does not trigger the entry (keys known to be safe).
    #[serde(default)]
    pub except: Vec<String>,
}

/// Path knowledge: which locations are sensitive, belong to agents, or are critical.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PathSpec {
    /// Credentials and keys: reading is `read.sensitive`, writing is `access.change`.
    #[serde(default)]
    pub sensitive: Vec<String>,
    /// Coding agents' own configuration (hooks!): writing is `access.change`.
    #[serde(default)]
    pub agent_config: Vec<String>,
    /// Trees whose recursive deletion or permission change is catastrophic.
    #[serde(default)]
    pub critical: Vec<String>,
    /// Block devices: writing to them destroys file systems.
    #[serde(default)]
    pub block_devices: Vec<String>,
    /// Pseudo-files that are not really written (`/dev/null`, `/dev/stderr`).
    #[serde(default)]
    pub harmless: Vec<String>,
    /// Files in sensitive places that are public by design (`*.pub`, `known_hosts`,
    /// `.env.example`): reading them is routine; changing them still is not.
    #[serde(default)]
    pub public: Vec<String>,
    /// Code a package manager installed (`node_modules`, a virtualenv's `site-packages`): what
    /// builds, tests and imports run. Writing into it is `access.change`; deleting it is routine
    /// (it is installed again).
    #[serde(default)]
    pub installed: Vec<String>,
    /// Scratch space outside the workspace that counts as workspace-local (`/tmp`).
    #[serde(default)]
    pub scratch: Vec<String>,
    /// Directories whose programs are the system's (`/usr/bin/git` is git). A program run by
    /// any other path (`./git`, `tools/x.sh`) is a file the agent may have written: it is read.
    #[serde(default)]
    pub system_programs: Vec<String>,
}

/// A regular expression over inline interpreter code and the classes it implies.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodePattern {
    pub id: String,
    pub pattern: String,
    #[serde(default)]
    pub add: Vec<ActionClass>,
    /// The code starts other programs: its string literals are classified as shell commands.
    #[serde(default)]
    pub spawns: bool,
    /// How the code uses the path the pattern captures in its `path` group (`delete` for
    /// `shutil.rmtree("…")`). When the pattern matches but nothing is captured (the path is in a
    /// variable), every path-like string literal of the code is taken to be used that way.
    #[serde(default)]
    pub path_access: Option<ArgRole>,
    /// Tags the match adds (`recursive` for tree deletions).
    #[serde(default)]
    pub tags: Vec<String>,
}

/// What a program name refers to.
#[derive(Debug, Clone, Copy)]
pub enum Entry {
    Wrapper(usize),
    Shell(usize),
    Interpreter(usize),
    Program(usize),
}

#[derive(Debug, thiserror::Error)]
pub enum KbError {
    #[error("invalid program knowledge base: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("program knowledge base names `{0}` twice")]
    Duplicate(String),
}

impl KnowledgeBase {
    pub fn builtin() -> Result<Self, KbError> {
        Self::parse(BUILTIN_KB)
    }

    pub fn parse(text: &str) -> Result<Self, KbError> {
        let mut kb: KnowledgeBase = toml::from_str(text)?;
        kb.build_index()?;
        Ok(kb)
    }

    fn build_index(&mut self) -> Result<(), KbError> {
        let mut index = HashMap::new();
        let groups = self
            .wrappers
            .iter()
            .enumerate()
            .map(|(i, w)| (&w.names, Entry::Wrapper(i)))
            .chain(
                self.shells
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (&s.names, Entry::Shell(i))),
            )
            .chain(
                self.interpreters
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (&s.names, Entry::Interpreter(i))),
            )
            .chain(
                self.programs
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (&p.names, Entry::Program(i))),
            );
        for (names, entry) in groups {
            for name in names {
                if index.insert(name.clone(), entry).is_some() {
                    return Err(KbError::Duplicate(name.clone()));
                }
            }
        }
        self.index = index;
        Ok(())
    }

    /// Look a program up by its effective name. Versioned interpreters (`python3.12`) and
    /// `mkfs.ext4`-style names fall back to their stem.
    /// The knowledge about an environment variable, if setting it makes something run.
    pub fn env_var(&self, name: &str) -> Option<&EnvVarSpec> {
        self.env_vars.iter().find(|v| v.matches(name))
    }

    pub fn lookup(&self, name: &str) -> Option<Entry> {
        if let Some(e) = self.index.get(name) {
            return Some(*e);
        }
        let stem = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
        if stem != name
            && !stem.is_empty()
            && let Some(e) = self.index.get(stem)
        {
            return Some(*e);
        }
        let head = name.split('.').next().unwrap_or(name);
        if head != name {
            return self.index.get(head).copied();
        }
        None
    }
}

#[cfg(test)]
mod tests;
