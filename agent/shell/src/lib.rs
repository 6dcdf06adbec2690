//! Static extraction of every simple command from a bash script.
//!
//! The classifier must never be bypassed by nesting, so this module walks *every*
//! construct of the script (lists, pipelines, compound commands, function bodies,
//! `[[ .. ]]`, arithmetic, redirect targets, assignment values, heredoc bodies, ...)
//! and re-parses the text of every command substitution (`$(..)`, backticks) and
//! process substitution (`<(..)`, `>(..)`) with the full parser, recursively.
//!
//! Parsing is done with `brush-parser`. That crate is not hardened against adversarial
//! input: it has internal `unwrap`s, recurses once per nesting level (a stack overflow
//! aborts the process and cannot be caught), and its PEG grammars backtrack exponentially
//! on some nested-but-invalid inputs (e.g. 30 unclosed `(` take minutes). We therefore:
//!
//! * reject oversized scripts and scripts whose bracket / compound-command nesting is
//!   deeper than a fixed bound *before* handing them to brush (bounds stack use and the
//!   exponent of the backtracking);
//! * run the parse on one of a few warm parser threads with a large stack, inside `catch_unwind`, and
//!   give up with an error after [`PARSE_TIMEOUT`] (the thread is then left to finish on
//!   its own; at most [`MAX_RUNAWAY_PARSES`] such threads may exist before every further
//!   parse fails fast) — except short scripts with nothing that nests (no parentheses,
//!   braces, brackets, backticks or `case`), whose parse is linear, which are parsed on the
//!   calling thread (still inside `catch_unwind`): the hand-off costs more than such a parse.
//!
//! Every failure is reported as [`ShellParseError`]; callers should treat an unparsable
//! script as "unknown / needs review", never as "safe". `parse_script` blocks the calling
//! thread (typically well under a millisecond, at most [`PARSE_TIMEOUT`]).
//!
//! # Output order
//!
//! [`ParsedScript::commands`] is a pre-order traversal in source order: a command comes
//! before the commands nested in its own words, assignments and redirects (which run
//! *before* it at execution time), and compound commands contribute their commands in
//! source order (for an `if`: condition, then-branch, elif/else branches).
//!
//! # Limitations
//!
//! * Static only. Strings that other programs execute (`eval "$x"`, `bash -c '...'`,
//!   `xargs sh`, `find -exec`, `source f`) are just words here (the classifier may feed
//!   them to [`parse_script`] again); variable values, aliases, `${!x}` indirection and
//!   arithmetic evaluation of variables holding `a[$(cmd)]` are invisible.
//! * Globs and brace expansions are not expanded (`{a,b}` becomes [`WordPiece::Other`]).
//! * Function bodies are reported once, with the context of the definition site
//!   (`background`, pipelines, inherited redirects), not per call site.
//! * brush-parser gaps surface as errors: `select` loops, `$(case x in a) ...;; esac)`
//!   (a case pattern without the optional leading `(` inside `$(..)`). `time` and `!`
//!   are accepted but not recorded.
//! * Conservative limits (all result in `Err`): 1 MiB of script, 128 nested brackets
//!   (counted even inside quotes), 64 nested compound commands, 10 nested subshells /
//!   `case`s, 8 nested expansions inside one word, substitution depth 32, 5 s.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::Duration;

use brush_parser::ast;
use brush_parser::word::{self as bword, WordPieceWithSource};
use brush_parser::{ParserOptions, Token};

/// Maximum nesting of command / process substitutions and subshells (the `depth` field).
pub const MAX_DEPTH: usize = 32;
/// Scripts longer than this (in bytes) are rejected outright.
pub const MAX_SCRIPT_BYTES: usize = 1024 * 1024;
/// Maximum net nesting of `(`/`{`/`[` characters anywhere in a (sub)script, counted without
/// regard to quoting. Bounds brush's recursion (tokenizer and word parser) so it cannot
/// overflow the stack.
pub(crate) const MAX_BRACKET_NESTING: usize = 128;
/// Maximum nesting of compound commands (`(`, `{`, `if`, loops, `case`, `[[`) at the token
/// level. Bounds the recursion of brush's command grammar.
pub(crate) const MAX_STRUCT_NESTING: usize = 64;
/// Maximum nesting of the constructs on which brush's command grammar backtracks
/// exponentially (`(` and `case`). Each level roughly doubles the worst-case parse time.
pub(crate) const MAX_BACKTRACK_NESTING: usize = 10;
/// Maximum nesting of expansions (`$(`, `${`, `$[`) and the parentheses inside them within
/// a single word: brush's word grammar backtracks exponentially on them (each level
/// multiplies the worst case by ~3; at 8 it is tens of milliseconds).
pub(crate) const MAX_WORD_NESTING: usize = 8;
/// Hard bound on the recursion of our own AST walker (belt and braces: the token-level
/// checks above already bound it).
pub(crate) const MAX_WALK_NESTING: usize = 512;
/// Budget for heredoc text copied into the output: an inherited heredoc is repeated in
/// every command of the compound command it feeds, which would otherwise let a 1 MiB
/// script produce gigabytes of output.
pub(crate) const MAX_COPIED_TEXT_BYTES: usize = 32 * 1024 * 1024;
/// Stack size of the parser thread.
pub(crate) const PARSER_STACK_BYTES: usize = 16 * 1024 * 1024;
/// Wall-clock budget of one `parse_script` call.
pub const PARSE_TIMEOUT: Duration = Duration::from_secs(5);
/// How many timed-out parser threads may still be running before we refuse new work.
pub const MAX_RUNAWAY_PARSES: usize = 2;

/// Number of parser threads that exceeded [`PARSE_TIMEOUT`] and are still running.
pub(crate) static RUNAWAY_PARSES: AtomicUsize = AtomicUsize::new(0);

/// Why a script could not be analysed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("shell parse error: {message}")]
pub struct ShellParseError {
    pub message: String,
}

impl ShellParseError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

pub(crate) type Result<T> = std::result::Result<T, ShellParseError>;

/// Everything extracted from a script.
#[derive(Debug, Clone, Default)]
pub struct ParsedScript {
    /// Every simple command at every nesting depth, in pre-order (see module docs).
    pub commands: Vec<SimpleCommand>,
    /// Names of functions defined anywhere in the script (including inside substitutions),
    /// in definition order, possibly with duplicates.
    pub functions: Vec<String>,
}

/// One simple command (`[assignments] [words] [redirects]`).
///
/// Besides real simple commands, two pseudo-commands are emitted so that a classifier
/// sees them: `[[ ... ]]` (words: `[[`, the operands and operators, `]]`) and arithmetic
/// commands `(( expr ))` (words: `((`, the expression, `))`).
#[derive(Debug, Clone)]
pub struct SimpleCommand {
    /// 0 at top level; +1 for each command substitution `$(..)`/backticks, process
    /// substitution `<(..)`/`>(..)`, subshell `( .. )`. (Brace groups, loops, if/case,
    /// functions and coprocs do not add depth.)
    pub depth: usize,
    /// Leading `VAR=value` assignments. Array elements are named `a[idx]`; an array value
    /// `(x y)` is represented by the element words joined with `Literal(" ")`.
    pub assignments: Vec<(String, ShellWord)>,
    /// Command name followed by its arguments (redirections removed). May be empty for a
    /// pure assignment or redirection-only command. Process substitutions appear here as a
    /// word whose only piece is [`WordPiece::CommandSubst`].
    pub words: Vec<ShellWord>,
    /// The command's own redirects followed by those it inherits from enclosing compound
    /// commands / function bodies (`{ ..; } > f`), the latter with `inherited == true`.
    pub redirects: Vec<Redirect>,
    /// Body text of a heredoc (`<<EOF`, `<<-EOF`, `<<'EOF'`) or here-string (`<<< word`)
    /// that feeds this command's stdin, if any (also when inherited from an enclosing
    /// compound command). For a here-string this is the word's static value if it has one,
    /// else its raw text.
    pub stdin_text: Option<String>,
    /// Identifies the innermost pipeline this command belongs to; unique across the script.
    pub pipeline_id: usize,
    /// Position in that pipeline (0 = first).
    pub pipeline_pos: usize,
    /// Pipelines that contain this command indirectly, outermost first, as
    /// `(pipeline_id, pipeline_pos)`: e.g. in `curl x | (sh)` or `curl x | { sh; }` the
    /// `sh` is first in its own pipeline but also at position 1 of the `curl` pipeline.
    /// Command substitutions inherit stdin, so their commands also list the pipeline of
    /// the command they appear in.
    pub enclosing_pipelines: Vec<(usize, usize)>,
    /// Name of the function whose body contains this command, if any (innermost).
    pub in_function: Option<String>,
    /// True when run asynchronously (`&`), as part of a background list / pipeline, or in
    /// a coproc (inherited by everything nested inside).
    pub background: bool,
}

impl SimpleCommand {
    /// The command-name word, if any.
    pub fn name(&self) -> Option<&ShellWord> {
        self.words.first()
    }

    /// The static command name, if the command has one and it is fully static.
    pub fn static_name(&self) -> Option<String> {
        self.name().and_then(ShellWord::literal)
    }
}

/// A shell word, as written and decomposed.
#[derive(Debug, Clone)]
pub struct ShellWord {
    /// Source text of the word as written (quotes included).
    pub raw: String,
    pub pieces: Vec<WordPiece>,
}

/// A piece of a [`ShellWord`]. Adjacent `Literal` (resp. `Glob`) pieces are merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WordPiece {
    /// Literal text after quote removal and backslash-escape processing (`\rm` -> "rm",
    /// `"a b"` -> "a b", `'x'` -> "x", `$'\x72m'` -> "rm").
    Literal(String),
    /// An unquoted glob pattern (`*`, `?`, `[...]`, extglob `@(..)` etc.), kept as text.
    Glob(String),
    /// Parameter expansion (`$HOME`, `${HOME}`, `$1`, `${X:-y}` -> "HOME", "1", "X").
    /// When the expansion's operand words contain command substitutions
    /// (`${X:-$(rm -rf /)}`), a `CommandSubst` piece follows.
    Param(String),
    /// An element or all elements of an array variable (`${a[0]}`, `${a[@]}`): its value is
    /// not known exactly, but may be one of the values the variable was seen to get. Never
    /// stands for a known value where something is allowed; only for finding more to flag.
    ArrayParam(String),
    /// Tilde prefix at word start: `~` -> "", `~user` -> "user", `~+` -> "+", `~-` -> "-".
    Tilde(String),
    /// Command substitution (`$(..)`, backticks) or process substitution; its commands
    /// are extracted into [`ParsedScript::commands`] at depth + 1.
    CommandSubst,
    /// Arithmetic expansion `$((..))` (raw text), unquoted brace expansion `{a,b}` (raw
    /// text: the word expands to several words), or anything else that is not static.
    Other(String),
}

impl ShellWord {
    /// The word's value when it is fully static (only `Literal` and `Glob` pieces, globs
    /// kept verbatim); `None` when it contains `Param`/`Tilde`/`CommandSubst`/`Other`.
    pub fn literal(&self) -> Option<String> {
        let mut s = String::new();
        for p in &self.pieces {
            match p {
                WordPiece::Literal(t) | WordPiece::Glob(t) => s.push_str(t),
                _ => return None,
            }
        }
        Some(s)
    }

    /// Whether the word contains an unquoted glob pattern.
    pub fn has_glob(&self) -> bool {
        self.pieces.iter().any(|p| matches!(p, WordPiece::Glob(_)))
    }

    /// Whether the word contains a command substitution, parameter or other expansion.
    pub fn is_dynamic(&self) -> bool {
        self.pieces.iter().any(|p| {
            matches!(
                p,
                WordPiece::CommandSubst
                    | WordPiece::Param(_)
                    | WordPiece::ArrayParam(_)
                    | WordPiece::Other(_)
            )
        })
    }

    /// Whether the word contains a command or process substitution.
    pub fn has_command_subst(&self) -> bool {
        self.pieces.contains(&WordPiece::CommandSubst)
    }

    /// A fully literal word (used for fds and synthesized words).
    pub(crate) fn plain(text: &str) -> Self {
        Self {
            raw: text.to_owned(),
            pieces: vec![WordPiece::Literal(text.to_owned())],
        }
    }

    /// The static value, or the raw text when the word is dynamic.
    pub(crate) fn value_or_raw(&self) -> String {
        self.literal().unwrap_or_else(|| self.raw.clone())
    }
}

/// One redirection.
#[derive(Debug, Clone)]
pub struct Redirect {
    /// Explicit fd number (`2>`), `None` when defaulted (0 for input kinds, 1 for output
    /// kinds; `&>`/`&>>` redirect both stdout and stderr and also have `None`).
    pub fd: Option<i32>,
    pub kind: RedirectKind,
    /// The file / fd word (for a heredoc: the delimiter as written; for a process
    /// substitution target: a `CommandSubst`-only word).
    pub target: ShellWord,
    /// The operator as written: `<`, `>`, `>|`, `>>`, `<>`, `<&`, `>&`, `&>`, `&>>`, `<<`,
    /// `<<-`, `<<<`.
    pub op: String,
    /// Heredoc body text (unexpanded), for `HereDoc` redirects.
    pub heredoc_body: Option<String>,
    /// True when inherited from an enclosing compound command or function body.
    pub inherited: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectKind {
    /// `<`
    Read,
    /// `>`, `>|`, `&>`
    Write,
    /// `>>`, `&>>`
    Append,
    /// `<>`
    ReadWrite,
    /// `<&`
    DupIn,
    /// `>&`
    DupOut,
    /// `<<`, `<<-`
    HereDoc,
    /// `<<<`
    HereString,
}

/// Parse a shell script; `Err` on any syntax error (unterminated quote etc.) or when the
/// script exceeds the module's size / nesting / time bounds. Never panics.
pub fn parse_script(script: &str) -> std::result::Result<ParsedScript, ShellParseError> {
    if script.len() > MAX_SCRIPT_BYTES {
        return Err(ShellParseError::new(format!(
            "script too large ({} bytes, limit {MAX_SCRIPT_BYTES})",
            script.len()
        )));
    }
    // Cheap check first so absurd inputs never reach (or spawn) the parser.
    check_bracket_nesting(script)?;
    if RUNAWAY_PARSES.load(Ordering::SeqCst) >= MAX_RUNAWAY_PARSES {
        return Err(ShellParseError::new(
            "too many timed-out parses still running; refusing to parse",
        ));
    }

    if script.len() <= INLINE_MAX_BYTES && inline_safe(script) {
        // brush-parser contains `unwrap`s; a panic must become an error, not a crash.
        return catch_unwind(AssertUnwindSafe(|| parse_on_this_thread(script)))
            .unwrap_or_else(|_| Err(ShellParseError::new("internal parser panic")));
    }
    let (reply, answer) = mpsc::sync_channel(1);
    let state = Arc::new(AtomicU8::new(QUEUED));
    let job = Job {
        script: script.to_owned(),
        state: Arc::clone(&state),
        reply,
    };
    let pool = parser_pool()?;
    if pool.jobs.send(job).is_err() {
        return Err(ShellParseError::new("the parser threads have stopped"));
    }
    match answer.recv_timeout(PARSE_TIMEOUT) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err(ShellParseError::new("parser thread died"))
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            // Still waiting in the queue: withdraw it; no worker is stuck on it.
            if state
                .compare_exchange(QUEUED, ABANDONED, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                return Err(ShellParseError::new(format!(
                    "parse timed out after {PARSE_TIMEOUT:?} (parser busy)"
                )));
            }
            // Count first, then mark abandoned, so the worker's decrement (which only
            // happens after it observes ABANDONED) can never precede our increment.
            RUNAWAY_PARSES.fetch_add(1, Ordering::SeqCst);
            if state
                .compare_exchange(RUNNING, ABANDONED, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                // The stuck worker exits when it finally finishes; replace it now so the
                // pool keeps its size.
                let _ = spawn_parser_worker(Arc::clone(&pool.queue));
                Err(ShellParseError::new(format!(
                    "parse timed out after {PARSE_TIMEOUT:?}"
                )))
            } else {
                // The worker finished in the meantime; its result is (about to be) sent.
                RUNAWAY_PARSES.fetch_sub(1, Ordering::SeqCst);
                answer
                    .recv_timeout(Duration::from_secs(1))
                    .unwrap_or_else(|_| Err(ShellParseError::new("parser thread died")))
            }
        }
    }
}

mod expand;
mod guard;
mod pool;
mod walk;
mod words;

use guard::*;
use pool::*;
use walk::*;
use words::*;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
