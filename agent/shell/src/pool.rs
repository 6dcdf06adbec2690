//! The warm parser threads: brush runs there with a big stack, a timeout and `catch_unwind`.

use crate::*;

/// Whether `text` has none of the constructs brush's grammars backtrack on (parentheses,
/// braces, brackets, backticks, `case`): without them a parse cannot nest, so its time and
/// stack are linear in the text and it needs neither the big stack nor the timeout. (A bound on
/// the nesting alone was not enough: random token soup found an input that ran away.)
pub(crate) fn inline_safe(text: &str) -> bool {
    !text.contains(['(', ')', '{', '}', '[', ']', '`'])
        && !text
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|word| word == "case" || word == "esac")
}

/// Hand-off states of one parse job.
pub(crate) const QUEUED: u8 = 0;
pub(crate) const RUNNING: u8 = 1;
pub(crate) const DONE: u8 = 2;
pub(crate) const ABANDONED: u8 = 3;

/// Parser threads kept warm: spawning a big-stack thread per parse would cost more than the
/// parse itself on the hook's hot path.
pub(crate) const PARSER_WORKERS: usize = 2;

/// Scripts at most this long with nothing that nests ([`inline_safe`]) are parsed on the
/// calling thread: handing them to a parser thread (two context switches) costs more than the
/// parse. Most commands an agent runs are like this.
pub(crate) const INLINE_MAX_BYTES: usize = 512;

pub(crate) struct Job {
    pub(crate) script: String,
    pub(crate) state: Arc<AtomicU8>,
    pub(crate) reply: mpsc::SyncSender<std::result::Result<ParsedScript, ShellParseError>>,
}

pub(crate) struct ParserPool {
    pub(crate) jobs: mpsc::Sender<Job>,
    pub(crate) queue: Arc<Mutex<mpsc::Receiver<Job>>>,
}

pub(crate) static PARSER_POOL: OnceLock<std::result::Result<ParserPool, String>> = OnceLock::new();

pub(crate) fn parser_pool() -> std::result::Result<&'static ParserPool, ShellParseError> {
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

pub(crate) fn spawn_parser_worker(queue: Arc<Mutex<mpsc::Receiver<Job>>>) -> std::io::Result<()> {
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
pub(crate) fn parse_on_this_thread(script: &str) -> Result<ParsedScript> {
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
