//! Keeps the write-ahead log bounded under any load.
//!
//! The writer never checkpoints (its commits are on the answer's path); this thread does, on a
//! connection of its own. A PASSIVE checkpoint copies frames into the database without taking
//! the write lock, but under continuous writes it never *catches up*, and SQLite only starts the
//! log again from the beginning once every frame has been copied and no reader still needs the
//! old ones. So once the log passes [`RESET_AT`], a PASSIVE pass copies the bulk (writers keep
//! going), and a TRUNCATE checkpoint then copies only what arrived meanwhile, waits briefly for
//! readers that started before the copy (new readers read the database file and do not hold it
//! up) and cuts the file to zero. Only that short tail holds the writer back.
//!
//! A reader that keeps one transaction open for a long time (another program with the database
//! open, a stuck export) can still pin the log: then the log stays above [`STUCK_AT`], which is
//! reported in `airlock status` and logged with the reason, and cleared once it shrinks again.

use super::{Store, StoreError};
use airlock_protocol::ReceiptLogInfo;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often the log's size is looked at (a `stat`, nothing more).
const POLL_EVERY: Duration = Duration::from_millis(50);
/// How often a PASSIVE checkpoint runs while the log is small, so a pause in writing lets the
/// next commit start the log again from the beginning.
const PASSIVE_EVERY: Duration = Duration::from_millis(500);
/// Past this size the log is folded in and truncated.
pub const RESET_AT: u64 = 16 * 1024 * 1024;
/// Past this size for [`STUCK_AFTER`], the log is reported as stuck.
pub const STUCK_AT: u64 = 48 * 1024 * 1024;
const STUCK_AFTER: Duration = Duration::from_secs(5);
/// How long a TRUNCATE checkpoint waits for old readers while holding the write lock. Short:
/// the writer waits for it too.
const RESET_WAIT: Duration = Duration::from_millis(200);
/// What a log that restarts is cut back to, when the restart comes from a commit rather than
/// from a TRUNCATE checkpoint.
pub const JOURNAL_SIZE_LIMIT: i64 = 4 * 1024 * 1024;

/// Shared view of the checkpointer's state.
#[derive(Clone, Default)]
pub struct WalHealth(Arc<Mutex<ReceiptLogInfo>>);

impl WalHealth {
    pub fn report(&self) -> ReceiptLogInfo {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ReceiptLogInfo> {
        // A panic elsewhere never leaves this half-written: every update is one assignment.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The log file beside a database.
pub fn wal_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// Current size of the log beside `database` (0 when there is none).
pub fn wal_size(database: &Path) -> u64 {
    std::fs::metadata(wal_path(database)).map_or(0, |m| m.len())
}

/// What one `PRAGMA wal_checkpoint` said.
struct Outcome {
    /// SQLite could not finish: a writer or a reader was in the way.
    busy: bool,
    log_frames: i64,
    copied_frames: i64,
}

impl Store {
    fn wal_checkpoint(&self, mode: &str) -> Result<Outcome, StoreError> {
        let (busy, log_frames, copied_frames) =
            self.conn()
                .query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })?;
        Ok(Outcome {
            busy: busy != 0,
            log_frames,
            copied_frames,
        })
    }
}

/// Run the checkpointer on its own thread, forever.
pub fn spawn(checkpointer: Store, health: WalHealth) -> std::io::Result<()> {
    if let Err(e) = checkpointer.conn().busy_timeout(RESET_WAIT) {
        tracing::warn!(error = %e, "cannot bound the checkpointer's wait for readers");
    }
    std::thread::Builder::new()
        .name("airlock-checkpoint".into())
        .spawn(move || Checkpointer::new(checkpointer, health).run())?;
    Ok(())
}

struct Checkpointer {
    store: Store,
    database: PathBuf,
    health: WalHealth,
    last_passive: Instant,
    /// Since when the log has been above [`STUCK_AT`].
    above_since: Option<Instant>,
    last_busy: bool,
}

impl Checkpointer {
    fn new(store: Store, health: WalHealth) -> Self {
        Self {
            database: store.path().to_path_buf(),
            store,
            health,
            last_passive: Instant::now(),
            above_since: None,
            last_busy: false,
        }
    }

    fn run(mut self) {
        loop {
            std::thread::sleep(POLL_EVERY);
            self.tick();
        }
    }

    fn tick(&mut self) {
        let size = wal_size(&self.database);
        self.observe(size);
        if size >= RESET_AT {
            self.reset();
        } else if self.last_passive.elapsed() >= PASSIVE_EVERY {
            self.last_passive = Instant::now();
            if let Err(e) = self.store.wal_checkpoint("PASSIVE") {
                tracing::warn!(error = %e, "WAL checkpoint failed");
            }
        }
        self.check_stuck(wal_size(&self.database));
    }

    /// Fold the whole log in and truncate it: the bulk without the write lock, then the tail.
    fn reset(&mut self) {
        self.last_passive = Instant::now();
        if let Err(e) = self.store.wal_checkpoint("PASSIVE") {
            tracing::warn!(error = %e, "WAL checkpoint failed");
            return;
        }
        match self.store.wal_checkpoint("TRUNCATE") {
            Ok(outcome) => {
                self.last_busy = outcome.busy;
                if outcome.busy {
                    tracing::debug!(
                        log_frames = outcome.log_frames,
                        copied_frames = outcome.copied_frames,
                        "WAL reset postponed: a reader still uses the log"
                    );
                } else {
                    self.health.lock().wal_resets += 1;
                }
            }
            // SQLITE_BUSY here means the write lock could not be had in time; try next tick.
            Err(e) => {
                self.last_busy = true;
                tracing::debug!(error = %e, "WAL reset postponed");
            }
        }
        self.observe(wal_size(&self.database));
    }

    fn observe(&self, size: u64) {
        let mut report = self.health.lock();
        report.wal_bytes = size;
        report.wal_peak_bytes = report.wal_peak_bytes.max(size);
    }

    fn check_stuck(&mut self, size: u64) {
        if size < STUCK_AT {
            self.above_since = None;
            let mut report = self.health.lock();
            if report.wal_stuck.take().is_some() {
                tracing::info!(
                    wal_bytes = size,
                    "receipt log's WAL is back under its limit"
                );
            }
            return;
        }
        let since = *self.above_since.get_or_insert_with(Instant::now);
        if since.elapsed() < STUCK_AFTER {
            return;
        }
        let reason = if self.last_busy {
            "a reader holds an old snapshot of the receipt database (a long `airlock verify`, an export, or another program with the file open), so the log cannot be restarted"
        } else {
            "checkpoints are not keeping up with the write rate"
        };
        let message = format!(
            "write-ahead log at {} MB for {} s: {reason}",
            size / (1024 * 1024),
            since.elapsed().as_secs()
        );
        let mut report = self.health.lock();
        if report.wal_stuck.is_none() {
            tracing::warn!(wal_bytes = size, "{message}");
        }
        report.wal_stuck = Some(message);
    }
}
