//! Shipping the receipt log to its retention targets: every row and signed checkpoint to
//! PostgreSQL, signed checkpoints to syslog (`crate::retention`).
//!
//! On a thread and a database connection of its own, so no decision ever waits on a target: a
//! target that is down only makes rows wait in the outbox — the chain itself, after the
//! target's position (`store/outbox.rs`) — and they are shipped in order when it answers. A
//! PostgreSQL copy says how far it got at every connection, so a `kill -9` between its commit
//! and the local cursor's update ships nothing twice; its trigger refuses a row that does not
//! continue the retained chain, so nothing is shipped out of order either.
//!
//! What happens to a target is chained too: the first failure (`airlock retention outage`), the
//! recovery (`retention resumed`), and shipping stopped because the local log no longer
//! continues the retained copy (`retention stopped`: rewritten here, or the copy was written to
//! by another holder of the role).

use super::state::Daemon;
use crate::retention::postgres::{PostgresError, Retained};
use crate::settings::RetentionSettings;
use crate::store::{Store, StoreError, format_ms, now_ms};
use airlock_protocol::Outcome;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often the outbox is looked at.
const POLL: Duration = Duration::from_millis(200);
/// How long a failed target rests before the next try.
const RETRY: Duration = Duration::from_secs(2);

/// The outbox cursors' names.
const ROWS: &str = "postgres rows";
const SYSLOG: &str = "syslog";

/// A change in a target's state, chained as a control receipt.
pub struct Transition {
    pub action: &'static str,
    pub input: Value,
    pub outcome: Outcome,
    pub reason: String,
}

pub struct Shipper {
    targets: Mutex<Targets>,
    /// One line per target for `airlock status`; apart from `targets` so status never waits on
    /// a slow connection.
    status: Mutex<Vec<String>>,
}

struct Targets {
    store: Store,
    postgres: Option<PostgresTarget>,
    syslog: Option<SyslogTarget>,
}

/// How a target is doing.
#[derive(Default)]
struct Health {
    /// Since when it has failed, and why.
    failing: Option<(i64, String)>,
    /// Shipping stopped for good (until a restart), and why.
    stopped: Option<String>,
    next_try: Option<Instant>,
}

impl Health {
    fn due(&self, force: bool) -> bool {
        self.stopped.is_none() && (force || self.next_try.is_none_or(|t| Instant::now() >= t))
    }

    /// A failure: the first of a run is a transition.
    fn fail(&mut self, target: &str, error: String, waiting: i64) -> Option<Transition> {
        self.next_try = Some(Instant::now() + RETRY);
        if self.failing.is_some() {
            self.failing = Some((self.failing.as_ref().map_or(now_ms(), |f| f.0), error));
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
        self.next_try = None;
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

struct PostgresTarget {
    conninfo: String,
    log_id: String,
    /// Shown in messages: where, never the password.
    shown: String,
    batch_rows: usize,
    verifier_key: String,
    connection: Option<Retained>,
    health: Health,
    /// The newest retained row and checkpoint, as last seen.
    rows: i64,
    checkpoint: i64,
    /// The local cursor's name: per database, so pointing at a new one starts afresh.
    cursor: String,
    /// A copy found behind what was shipped to it (said once per connection).
    behind: Option<String>,
}

struct SyslogTarget {
    socket: PathBuf,
    health: Health,
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
            PostgresError::Refused { .. } | PostgresError::BadConnectionString(_) => {
                ShipError::Diverged(e.to_string())
            }
            other => ShipError::Unreachable(other.to_string()),
        }
    }
}

impl From<StoreError> for ShipError {
    fn from(e: StoreError) -> Self {
        ShipError::Unreachable(format!("cannot read the local receipt log: {e}"))
    }
}

impl Shipper {
    /// The targets `settings` names for `database`, checked (a connection string that does not
    /// parse is refused here, so the daemon does not start with a retention that cannot work).
    pub fn open(
        database: &Path,
        settings: &RetentionSettings,
        verifier_key: String,
    ) -> anyhow::Result<Self> {
        let postgres = if settings.postgres.trim().is_empty() {
            None
        } else {
            use std::str::FromStr;
            postgres::Config::from_str(&settings.postgres).map_err(|e| {
                anyhow::anyhow!(
                    "`[retention] postgres` in settings.toml does not parse as a PostgreSQL connection string ({e}); write `host=/run/postgresql user=airlock_writer dbname=airlock` or `postgres://user@host/db`, or leave it empty"
                )
            })?;
            Some(PostgresTarget {
                conninfo: settings.postgres.clone(),
                log_id: crate::retention::postgres::log_id(database),
                shown: format!(
                    "PostgreSQL {}",
                    crate::retention::postgres::redacted(&settings.postgres)
                ),
                batch_rows: settings.batch_rows.max(1) as usize,
                verifier_key,
                connection: None,
                health: Health::default(),
                rows: 0,
                checkpoint: 0,
                cursor: format!(
                    "{ROWS} {}",
                    crate::retention::postgres::redacted(&settings.postgres)
                ),
                behind: None,
            })
        };
        let syslog = settings.syslog.then(|| SyslogTarget {
            socket: settings.syslog_socket.clone(),
            health: Health::default(),
        });
        let shipper = Self {
            targets: Mutex::new(Targets {
                store: Store::open(database)?,
                postgres,
                syslog,
            }),
            status: Mutex::new(Vec::new()),
        };
        shipper.refresh_status(&shipper.lock_targets());
        Ok(shipper)
    }

    fn lock_targets(&self) -> std::sync::MutexGuard<'_, Targets> {
        self.targets.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One line per target for `airlock status`.
    pub fn status(&self) -> Vec<String> {
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Ship what waits, to every target that is due (`force`: whether resting or not). Returns
    /// the targets' state changes, for the caller to chain.
    pub fn ship(&self, force: bool) -> Vec<Transition> {
        let mut targets = self.lock_targets();
        let Targets {
            store,
            postgres,
            syslog,
        } = &mut *targets;
        let mut transitions = Vec::new();
        if let Some(pg) = postgres
            && pg.health.due(force)
        {
            transitions.extend(pg.pass(store));
        }
        if let Some(sl) = syslog
            && sl.health.due(force)
        {
            transitions.extend(sl.pass(store));
        }
        self.refresh_status(&targets);
        transitions
    }

    fn refresh_status(&self, targets: &Targets) {
        let newest = targets.store.newest_seq().unwrap_or(0);
        let mut lines = Vec::new();
        if let Some(pg) = &targets.postgres {
            let waiting = (newest - pg.rows).max(0);
            lines.push(match (&pg.health.stopped, &pg.health.failing) {
                (Some(why), _) => {
                    format!("{}: STOPPED ({why}); {waiting} rows not retained", pg.shown)
                }
                (None, Some((since, error))) => format!(
                    "{}: UNREACHABLE since {} ({error}); {waiting} rows waiting in the outbox",
                    pg.shown,
                    format_ms(*since)
                ),
                (None, None) => format!(
                    "{}: rows 1–{} retained ({waiting} waiting), checkpoints up to row {}",
                    pg.shown, pg.rows, pg.checkpoint
                ),
            });
        }
        if let Some(sl) = &targets.syslog {
            let sent = targets.store.retention_cursor(SYSLOG).unwrap_or(0);
            let shown = format!("syslog `{}`", sl.socket.display());
            lines.push(match &sl.health.failing {
                Some((since, error)) => format!(
                    "{shown}: NOT SENT since {} ({error}); checkpoints after row {sent} wait in the outbox",
                    format_ms(*since)
                ),
                None if sent == 0 => format!("{shown}: no checkpoint sent yet"),
                None => format!("{shown}: checkpoints up to row {sent} sent"),
            });
        }
        if lines.is_empty() {
            lines.push(
                "off: no copy of the log is kept outside this machine (`[retention]` in settings.toml)"
                    .into(),
            );
        }
        *self.status.lock().unwrap_or_else(|p| p.into_inner()) = lines;
    }
}

impl PostgresTarget {
    fn pass(&mut self, store: &Store) -> Vec<Transition> {
        let waiting = store.newest_seq().unwrap_or(0) - self.rows;
        let result = self.ship(store);
        let mut transitions: Vec<Transition> = self
            .behind
            .take()
            .map(|why| Transition {
                action: "retention behind",
                input: json!({"target": self.shown, "why": why}),
                outcome: Outcome::Failed,
                reason: format!("{}: {why}; the missing rows are shipped again", self.shown),
            })
            .into_iter()
            .collect();
        transitions.extend(match result {
            Ok(shipped) => self.health.succeed(&self.shown, shipped),
            Err(ShipError::Unreachable(error)) => {
                self.connection = None;
                self.health.fail(&self.shown, error, waiting.max(0))
            }
            Err(ShipError::Diverged(why)) => {
                self.connection = None;
                Some(self.health.stop(&self.shown, why))
            }
        });
        transitions
    }

    /// Everything after the copy's newest row, then the checkpoints it lacks. Returns how many
    /// were shipped.
    fn ship(&mut self, store: &Store) -> Result<i64, ShipError> {
        let fresh = self.connection.is_none();
        if fresh {
            let mut retained = Retained::connect(&self.conninfo, self.log_id.clone())?;
            retained.note_key(&self.verifier_key)?;
            self.connection = Some(retained);
        }
        let Some(retained) = self.connection.as_mut() else {
            return Ok(0);
        };
        // The copy's own answer wins over the local cursor: what it committed is what it has.
        let (mut seq, mut hash) = retained.newest()?;
        let shipped_before = store.retention_cursor(&self.cursor)?;
        if fresh && seq < shipped_before {
            self.behind = Some(format!(
                "the retained copy ends at row {seq}, but rows up to {shipped_before} were shipped to it: rows were removed there by someone with more rights than the daemon's role"
            ));
        }
        self.rows = seq;
        let mut shipped = 0;
        loop {
            let rows = store.chain_rows_after(seq, self.batch_rows)?;
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
            retained.append(&rows)?;
            shipped += rows.len() as i64;
            self.rows = seq;
            store.set_retention_cursor(&self.cursor, seq)?;
        }
        // Checkpoints follow the rows they sign.
        let mut checkpoint = retained.newest_checkpoint()?;
        for head in store.tree_heads_after(checkpoint as u64)? {
            if head.size as i64 > seq {
                break;
            }
            retained.add_checkpoint(head.size as i64, &head.note)?;
            checkpoint = head.size as i64;
            shipped += 1;
        }
        self.checkpoint = checkpoint;
        Ok(shipped)
    }
}

impl SyslogTarget {
    fn pass(&mut self, store: &Store) -> Option<Transition> {
        let shown = format!("syslog `{}`", self.socket.display());
        let mut sent = 0;
        let result = (|| -> Result<(), String> {
            let cursor = store.retention_cursor(SYSLOG).map_err(|e| e.to_string())?;
            let heads = store
                .tree_heads_after(cursor.max(0) as u64)
                .map_err(|e| e.to_string())?;
            for head in heads {
                crate::retention::syslog::send(&self.socket, &head.note)
                    .map_err(|e| e.to_string())?;
                sent += 1;
                store
                    .set_retention_cursor(SYSLOG, head.size as i64)
                    .map_err(|e| e.to_string())?;
            }
            Ok(())
        })();
        match result {
            Ok(()) => self.health.succeed(&shown, sent),
            Err(error) => self.health.fail(&shown, error, 0),
        }
    }
}

/// Ship in the background for as long as the daemon runs; state changes are chained.
pub fn spawn(daemon: Arc<Daemon>, runtime: tokio::runtime::Handle) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("airlock-shipper".into())
        .spawn(move || {
            loop {
                std::thread::sleep(POLL);
                for transition in daemon.shipper.ship(false) {
                    if transition.outcome == Outcome::Failed {
                        tracing::warn!(reason = %transition.reason, "retention");
                    } else {
                        tracing::info!(reason = %transition.reason, "retention");
                    }
                    runtime.block_on(daemon.record_retention(transition));
                }
            }
        })?;
    Ok(())
}

impl Daemon {
    async fn record_retention(&self, transition: Transition) {
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
    /// (state changes found now are only logged: the log is closed).
    pub async fn flush_retention(self: &Arc<Self>) {
        let daemon = self.clone();
        let pass = tokio::task::spawn_blocking(move || daemon.shipper.ship(true));
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
