//! Shipping the receipt log to its retention targets: every row and signed checkpoint to
//! PostgreSQL, signed checkpoints to syslog (`crate::retention`).
//!
//! Each target has a thread and a database connection of its own ("lane"), so no decision
//! ever waits on a target and one target never waits on another: a target that is down only
//! makes rows wait in the outbox — the chain itself, after the target's position
//! (`store/outbox.rs`) — and they are shipped in order when it answers. PostgreSQL says how far
//! it got at every connection, so a `kill -9` between its commit and the local cursor's update
//! ships nothing twice; its trigger refuses a row that does not continue the retained chain.
//! Before the rows, the log's head is told to the copy, so rows held back and rewritten before
//! they leave still contradict what the copy was told.
//!
//! What happens to a target is chained: the first failure or a pass that hangs
//! (`airlock retention outage`, found by a watchdog thread when the lane itself is stuck), the
//! recovery (`retention resumed`), and shipping stopped because the local log no longer
//! continues the retained copy (`retention stopped`).

use super::state::Daemon;
use crate::retention::postgres::{PostgresError, Retained};
use crate::settings::RetentionSettings;
use crate::store::{Store, StoreError, format_ms, now_ms};
use airlock_protocol::Outcome;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often each lane looks at the outbox.
const POLL: Duration = Duration::from_millis(200);
/// How long a failed target rests before the next try.
const RETRY_MS: i64 = 2_000;
/// A pass that has not finished after this long is an outage (the target stopped answering).
const STALL_MS: i64 = 5_000;

/// The syslog cursor's name.
const SYSLOG: &str = "syslog";
/// The log fact naming the log in its PostgreSQL copies.
const LOG_ID: &str = "postgres log id";

/// A change in a target's state, chained as a control receipt.
pub struct Transition {
    pub action: &'static str,
    pub input: Value,
    pub outcome: Outcome,
    pub reason: String,
}

/// How a target is doing; shared between its lane and the watchdog, never held during I/O.
#[derive(Default)]
struct Health {
    /// Since when it has failed, and why.
    failing: Option<(i64, String)>,
    /// Shipping stopped for good (until a restart), and why.
    stopped: Option<String>,
    /// When the pass under way started (0: none).
    busy_since: i64,
    next_try: i64,
    /// The lane's own line for `airlock status` (its position).
    position: String,
    /// PostgreSQL: the newest retained row and checkpoint, to say what waits.
    retained: Option<(i64, i64)>,
    /// Things a pass found that are to be chained besides its outcome.
    notices: Vec<Transition>,
}

impl Health {
    fn due(&self, force: bool) -> bool {
        self.stopped.is_none() && (force || now_ms() >= self.next_try)
    }

    /// A failure: the first of a run is a transition.
    fn fail(&mut self, target: &str, error: String, waiting: i64) -> Option<Transition> {
        self.next_try = now_ms() + RETRY_MS;
        if let Some((since, _)) = self.failing {
            self.failing = Some((since, error));
            return None;
        }
        self.failing = Some((now_ms(), error.clone()));
        Some(Transition {
            action: "retention outage",
            input: json!({"target": target, "error": error, "waiting": waiting}),
            outcome: Outcome::Failed,
            reason: format!(
                "cannot ship the receipt log to {target}: {error}; rows wait in the outbox and are shipped in order when it answers"
            ),
        })
    }

    /// A success: the end of a failure run is a transition.
    fn succeed(&mut self, target: &str, shipped: i64) -> Option<Transition> {
        self.next_try = 0;
        let (since, error) = self.failing.take()?;
        let outage_ms = now_ms() - since;
        Some(Transition {
            action: "retention resumed",
            input: json!({"target": target, "outage_ms": outage_ms, "shipped": shipped, "last_error": error}),
            outcome: Outcome::Executed,
            reason: format!(
                "{target} answers again after {:.1} s; {shipped} waiting rows or checkpoints shipped",
                outage_ms as f64 / 1000.0
            ),
        })
    }

    fn stop(&mut self, target: &str, why: String) -> Transition {
        self.stopped = Some(why.clone());
        Transition {
            action: "retention stopped",
            input: json!({"target": target, "why": why}),
            outcome: Outcome::Failed,
            reason: format!("shipping to {target} stopped: {why}"),
        }
    }
}

/// What a lane ships to.
trait Target: Send {
    /// Ship what waits; `Err` says why not.
    fn pass(&mut self, store: &Store, health: &Mutex<Health>) -> Result<i64, ShipError>;
}

/// Why a shipping pass ended early.
enum ShipError {
    /// The target is not there or failed: try again later.
    Unreachable(String),
    /// The local log and the copy no longer agree: shipping more would make it worse.
    Diverged(String),
}

impl From<PostgresError> for ShipError {
    fn from(e: PostgresError) -> Self {
        match e {
            PostgresError::BadConnectionString(_) => ShipError::Diverged(e.to_string()),
            other => ShipError::Unreachable(other.to_string()),
        }
    }
}

impl From<StoreError> for ShipError {
    fn from(e: StoreError) -> Self {
        ShipError::Unreachable(format!("cannot read the local receipt log: {e}"))
    }
}

/// One target with its thread's state.
struct Lane {
    /// Shown in messages: where, never the password.
    shown: String,
    target: Mutex<Box<dyn Target>>,
    store: Mutex<Store>,
    health: Mutex<Health>,
}

impl Lane {
    fn lock_health(&self) -> std::sync::MutexGuard<'_, Health> {
        self.health.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One pass if due; the state changes it makes.
    fn run(&self, force: bool) -> Vec<Transition> {
        {
            let mut health = self.lock_health();
            if !health.due(force) {
                return Vec::new();
            }
            health.busy_since = now_ms();
        }
        let mut target = self.target.lock().unwrap_or_else(|p| p.into_inner());
        let store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        let result = target.pass(&store, &self.health);
        let waiting = store.newest_seq().unwrap_or(0);
        let mut health = self.lock_health();
        health.busy_since = 0;
        let mut transitions = std::mem::take(&mut health.notices);
        transitions.extend(match result {
            Ok(shipped) => health.succeed(&self.shown, shipped),
            Err(ShipError::Unreachable(error)) => health.fail(&self.shown, error, waiting),
            Err(ShipError::Diverged(why)) => Some(health.stop(&self.shown, why)),
        });
        transitions
    }

    /// A pass that has hung for [`STALL_MS`] is an outage, said while it still hangs.
    fn stalled(&self) -> Option<Transition> {
        let mut health = self.lock_health();
        let busy = health.busy_since;
        if busy == 0 || now_ms() - busy < STALL_MS || health.failing.is_some() {
            return None;
        }
        let why = format!(
            "no answer for {:.0} s (the server or the way to it stopped answering)",
            (now_ms() - busy) as f64 / 1000.0
        );
        health.fail(&self.shown, why, -1)
    }

    /// The lane's line for `airlock status`, with what waits counted against the log's
    /// newest row now (`newest`), not when the last pass ended.
    fn status(&self, newest: i64) -> String {
        let health = self.lock_health();
        let position = match health.retained {
            Some((rows, checkpoint)) => format!(
                "rows 1–{rows} retained, {} waiting in the outbox, checkpoints up to row {checkpoint}",
                (newest - rows).max(0)
            ),
            None => health.position.clone(),
        };
        // Said here too, not only by the watchdog: a watchdog that is stopped says nothing.
        if health.busy_since != 0 && now_ms() - health.busy_since >= STALL_MS {
            return format!(
                "{}: STALLED (a pass has had no answer for {:.0} s); {position}",
                self.shown,
                (now_ms() - health.busy_since) as f64 / 1000.0
            );
        }
        match (&health.stopped, &health.failing) {
            (Some(why), _) => format!("{}: STOPPED ({why}); {position}", self.shown),
            (None, Some((since, error))) => format!(
                "{}: UNREACHABLE since {} ({error}); {position}",
                self.shown,
                format_ms(*since),
            ),
            (None, None) => format!("{}: {position}", self.shown),
        }
    }
}

pub struct Shipper {
    lanes: Vec<Arc<Lane>>,
}

impl Shipper {
    /// The targets `settings` names for `database`, checked (a connection string that does not
    /// parse, or a password file that cannot be read, is refused here, so the daemon does not
    /// start with a retention that cannot work).
    pub fn open(
        database: &Path,
        settings: &RetentionSettings,
        verifier_key: String,
    ) -> anyhow::Result<Self> {
        let mut lanes = Vec::new();
        if !settings.postgres.trim().is_empty() {
            let target = PostgresTarget::open(database, settings, verifier_key)?;
            lanes.push(Arc::new(Lane {
                shown: target.shown.clone(),
                target: Mutex::new(Box::new(target)),
                store: Mutex::new(Store::open(database)?),
                health: Mutex::new(Health {
                    position: "not connected yet".into(),
                    ..Health::default()
                }),
            }));
        }
        if settings.syslog {
            let shown = format!("syslog `{}`", settings.syslog_socket.display());
            lanes.push(Arc::new(Lane {
                shown,
                target: Mutex::new(Box::new(SyslogTarget {
                    socket: settings.syslog_socket.clone(),
                })),
                store: Mutex::new(Store::open(database)?),
                health: Mutex::new(Health {
                    position: "no checkpoint sent yet".into(),
                    ..Health::default()
                }),
            }));
        }
        Ok(Self { lanes })
    }

    /// One line per target for `airlock status` (`newest`: the log's newest row).
    pub fn status(&self, newest: i64) -> Vec<String> {
        if self.lanes.is_empty() {
            return vec![
                "off: no copy of the log is kept outside this machine (`[retention]` in settings.toml)"
                    .into(),
            ];
        }
        self.lanes.iter().map(|lane| lane.status(newest)).collect()
    }

    /// One pass on every lane now, whether resting or not (at a clean stop).
    fn ship_all(&self) -> Vec<Transition> {
        self.lanes.iter().flat_map(|lane| lane.run(true)).collect()
    }
}

struct PostgresTarget {
    conninfo: String,
    password_file: Option<PathBuf>,
    database: PathBuf,
    shown: String,
    batch_rows: usize,
    verifier_key: String,
    connection: Option<Retained>,
    /// The log's name in the copy, fixed in the log the first time.
    log_id: Option<String>,
    /// The newest head told to the copy on this connection.
    told: Option<(i64, String)>,
}

impl PostgresTarget {
    fn open(
        database: &Path,
        settings: &RetentionSettings,
        verifier_key: String,
    ) -> anyhow::Result<Self> {
        use std::str::FromStr;
        postgres::Config::from_str(&settings.postgres).map_err(|e| {
            anyhow::anyhow!(
                "`[retention] postgres` in settings.toml does not parse as a PostgreSQL connection string ({e}); write `host=/run/postgresql user=airlock_writer dbname=airlock` or `postgres://user@host/db`, or leave it empty"
            )
        })?;
        if let Some(file) = &settings.postgres_password_file {
            std::fs::read_to_string(file).map_err(|e| {
                anyhow::anyhow!(
                    "`[retention] postgres_password_file` `{}` cannot be read: {e}",
                    file.display()
                )
            })?;
        }
        Ok(Self {
            conninfo: settings.postgres.clone(),
            password_file: settings.postgres_password_file.clone(),
            database: database.to_path_buf(),
            shown: format!(
                "PostgreSQL {}",
                crate::retention::postgres::redacted(&settings.postgres)
            ),
            batch_rows: settings.batch_rows.max(1) as usize,
            verifier_key,
            connection: None,
            log_id: None,
            told: None,
        })
    }

    /// Connect, fix the log's name, and check that the local log still holds what the copy
    /// holds at its newest row.
    fn connect(&mut self, store: &Store, health: &Mutex<Health>) -> Result<(), ShipError> {
        let password = match &self.password_file {
            Some(file) => Some(std::fs::read_to_string(file).map_err(|e| {
                ShipError::Unreachable(format!(
                    "cannot read the password file `{}`: {e}",
                    file.display()
                ))
            })?),
            None => None,
        };
        let mut retained = Retained::connect(&self.conninfo, password.as_deref(), String::new())?;
        let fresh = crate::retention::postgres::new_log_id(retained.role(), &self.database);
        let log_id = store.log_fact_or_set(LOG_ID, &fresh)?;
        if !log_id.starts_with(&format!("{}/", retained.role())) {
            return Err(ShipError::Unreachable(format!(
                "this log is kept as `{log_id}` but the connection is as role `{}`: connect as the role the log was first shipped as",
                retained.role()
            )));
        }
        retained.set_log(log_id.clone());
        retained.note_key(&self.verifier_key)?;
        let (tip, tip_hash) = retained.newest()?;
        let shipped_before = store.retention_cursor(&log_id)?;
        if tip < shipped_before {
            let why = format!(
                "the retained copy ends at row {tip}, but rows up to {shipped_before} were shipped to it: rows were removed there by someone with more rights than the daemon's role"
            );
            health
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .notices
                .push(Transition {
                    action: "retention behind",
                    input: json!({"target": self.shown, "why": why}),
                    outcome: Outcome::Failed,
                    reason: format!("{}: {why}; the missing rows are shipped again", self.shown),
                });
        }
        if tip > 0 {
            match store.chain_row(tip)? {
                Some(row) if row.hash == tip_hash => {}
                Some(_) => {
                    return Err(ShipError::Diverged(format!(
                        "local row {tip} is not the row {tip} the copy holds: the local log was rewritten after it was retained (run `airlock verify --against`)"
                    )));
                }
                None => {
                    return Err(ShipError::Diverged(format!(
                        "the copy holds rows up to {tip}, the local log ends before: local rows were deleted after they were retained (run `airlock verify --against`)"
                    )));
                }
            }
        }
        self.log_id = Some(log_id);
        self.told = None;
        self.connection = Some(retained);
        Ok(())
    }

    /// Everything after the copy's newest row (the head told first), then the checkpoints it
    /// lacks. Returns how many were shipped.
    fn ship(&mut self, store: &Store, health: &Mutex<Health>) -> Result<i64, ShipError> {
        if self.connection.is_none() {
            self.connect(store, health)?;
        }
        let batch_rows = self.batch_rows;
        let Some(retained) = self.connection.as_mut() else {
            return Ok(0);
        };
        let newest = store.newest_seq()?;
        if newest > 0 && self.told.as_ref().is_none_or(|(seq, _)| *seq != newest) {
            let hash = store.chain_row(newest)?.map(|r| r.hash).unwrap_or_default();
            retained.tell_head(newest, &hash)?;
            self.told = Some((newest, hash));
        }
        let (mut seq, mut hash) = retained.newest()?;
        let mut shipped = 0;
        let say = |rows: i64, checkpoint: Option<i64>| {
            let mut h = health.lock().unwrap_or_else(|p| p.into_inner());
            let checkpoint = checkpoint.unwrap_or(h.retained.map_or(0, |r| r.1));
            h.retained = Some((rows, checkpoint));
        };
        say(seq, None);
        loop {
            let rows = store.chain_rows_after(seq, batch_rows)?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                if row.prev_hash != hash {
                    return Err(ShipError::Diverged(format!(
                        "local row {} does not continue retained row {seq}: the local log was rewritten after that row was retained, or another holder of the role wrote to the copy (run `airlock verify --against`)",
                        row.seq
                    )));
                }
                if !row.hash_holds() {
                    return Err(ShipError::Diverged(format!(
                        "local row {} does not hash to its stored hash: it was changed, and is not shipped (run `airlock verify`)",
                        row.seq
                    )));
                }
                hash = row.hash.clone();
                seq = row.seq;
            }
            match retained.append(&rows) {
                Ok(()) => {}
                // Someone else appended at the tip meanwhile: what the copy holds now decides.
                Err(PostgresError::Refused { message, .. }) => {
                    let (tip, _) = retained.newest()?;
                    return Err(ShipError::Diverged(format!(
                        "the copy refused local rows after {}: {message} (it holds rows up to {tip}; another holder of the role wrote to it)",
                        rows[0].seq - 1
                    )));
                }
                Err(e) => return Err(e.into()),
            }
            shipped += rows.len() as i64;
            store.set_retention_cursor(self.log_id.as_deref().unwrap_or_default(), seq)?;
            say(seq, None);
        }
        // Checkpoints follow the rows they sign: those the copy does not hold yet.
        let heads = store.tree_heads()?;
        let sizes: Vec<i64> = heads
            .iter()
            .map(|h| h.size as i64)
            .filter(|s| *s <= seq)
            .collect();
        let held = retained.checkpoints_among(&sizes)?;
        let mut newest_checkpoint = 0;
        for head in heads {
            let size = head.size as i64;
            if size > seq {
                continue;
            }
            if let Some((_, note)) = held.iter().find(|(s, _)| *s == size) {
                if *note != head.note {
                    return Err(ShipError::Diverged(format!(
                        "the copy holds another checkpoint at row {size} than this log signed: someone holding the role's password wrote it there"
                    )));
                }
                newest_checkpoint = newest_checkpoint.max(size);
                continue;
            }
            retained.add_checkpoint(size, &head.note)?;
            newest_checkpoint = newest_checkpoint.max(size);
            shipped += 1;
        }
        say(seq, Some(newest_checkpoint));
        Ok(shipped)
    }
}

impl Target for PostgresTarget {
    fn pass(&mut self, store: &Store, health: &Mutex<Health>) -> Result<i64, ShipError> {
        let result = self.ship(store, health);
        if result.is_err() {
            self.connection = None;
        }
        result
    }
}

struct SyslogTarget {
    socket: PathBuf,
}

impl Target for SyslogTarget {
    fn pass(&mut self, store: &Store, health: &Mutex<Health>) -> Result<i64, ShipError> {
        let cursor = store.retention_cursor(SYSLOG)?;
        let mut sent = 0;
        for head in store.tree_heads_after(cursor.max(0) as u64)? {
            crate::retention::syslog::send(&self.socket, &head.note)
                .map_err(|e| ShipError::Unreachable(e.to_string()))?;
            sent += 1;
            store.set_retention_cursor(SYSLOG, head.size as i64)?;
        }
        let position = store.retention_cursor(SYSLOG)?;
        health.lock().unwrap_or_else(|p| p.into_inner()).position = if position == 0 {
            "no checkpoint sent yet".into()
        } else {
            format!("checkpoints up to row {position} sent")
        };
        Ok(sent)
    }
}

/// Ship in the background for as long as the daemon runs: a thread per lane, and a watchdog
/// that says when a lane hangs. State changes are chained.
pub fn spawn(daemon: Arc<Daemon>, runtime: tokio::runtime::Handle) -> std::io::Result<()> {
    for lane in daemon.shipper.lanes.clone() {
        let daemon = daemon.clone();
        let runtime = runtime.clone();
        std::thread::Builder::new()
            .name("airlock-shipper".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(POLL);
                    for transition in lane.run(false) {
                        runtime.block_on(daemon.record_retention(transition));
                    }
                }
            })?;
    }
    std::thread::Builder::new()
        .name("airlock-shipper-watch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(Duration::from_secs(1));
                for lane in &daemon.shipper.lanes {
                    if let Some(transition) = lane.stalled() {
                        runtime.block_on(daemon.record_retention(transition));
                    }
                }
            }
        })?;
    Ok(())
}

impl Daemon {
    async fn record_retention(&self, transition: Transition) {
        if transition.outcome == Outcome::Failed {
            tracing::warn!(reason = %transition.reason, "retention");
        } else {
            tracing::info!(reason = %transition.reason, "retention");
        }
        if let Err(e) = self
            .record_control(
                transition.action,
                transition.input,
                transition.outcome,
                "daemon",
                &transition.reason,
            )
            .await
        {
            tracing::error!(error = %e, "cannot record a retention state change");
        }
    }

    /// At a clean stop: one last pass, so the stop record and the last checkpoint leave too
    /// (state changes found now are only logged: the log is closed). Bounded: a target that
    /// hangs does not keep the daemon from ending.
    pub async fn flush_retention(self: &Arc<Self>) {
        let daemon = self.clone();
        let pass = tokio::task::spawn_blocking(move || daemon.shipper.ship_all());
        match tokio::time::timeout(Duration::from_secs(10), pass).await {
            Ok(Ok(transitions)) => {
                for t in transitions {
                    tracing::warn!(reason = %t.reason, "retention at stop");
                }
            }
            _ => tracing::warn!("the last retention pass did not finish in 10 s"),
        }
    }
}
