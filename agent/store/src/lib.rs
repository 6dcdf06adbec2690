//! Receipts: an append-only, hash-chained SQLite log of every request and every outcome.

pub mod chain;
pub mod checkpoint;
pub mod keys;
pub mod outbox;
mod query;
mod schema;
mod snapshots;
pub mod tree;
mod verify;
pub mod witness;
pub mod writer;

use chain::{EventRow, GENESIS, ReceiptRow};
use rusqlite::{Connection, OpenFlags, params};
use std::path::{Path, PathBuf};

pub use airlock_protocol::{ReceiptDetail, TimelineEntry};
pub use query::LogFilter;
pub use verify::{ChainRow, VerifyProblem, VerifyReport};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("receipt database `{path}`: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("receipt database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("receipt database: write failed: {0}")]
    Write(String),
    #[error("receipt database: the writer has stopped")]
    WriterGone,
    #[error("no receipt `{0}`")]
    NotFound(String),
}

/// A new request's receipt (seq and hashes are assigned when written).
#[derive(Debug, Clone)]
pub struct NewReceipt {
    pub id: String,
    pub time_ms: i64,
    pub agent: String,
    pub session: Option<String>,
    pub cwd: String,
    pub tool: String,
    pub event: String,
    pub tool_use_id: Option<String>,
    pub input: serde_json::Value,
    pub classes: serde_json::Value,
    pub rules: serde_json::Value,
    pub decision: String,
    pub reason: String,
    pub detail: serde_json::Value,
}

/// An outcome appended to a receipt.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub receipt_id: String,
    pub time_ms: i64,
    pub outcome: String,
    /// Who caused it: `policy`, `cli`, `ui`, `expiry`, `agent`, `daemon`.
    pub actor: String,
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone)]
pub enum Op {
    Receipt(Box<NewReceipt>),
    Event(NewEvent),
    /// A file's pre-image, taken before a tool call changed it (not chained).
    Snapshot(Snapshot),
    /// What a file looked like after the tool ran (`None`: it no longer exists).
    SnapshotAfter {
        receipt_id: String,
        path: String,
        post_hash: Option<String>,
    },
    /// A snapshot was restored.
    SnapshotRestored {
        id: i64,
    },
}

/// A file's state before a tool call changed it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Snapshot {
    pub id: i64,
    pub receipt_id: String,
    pub session: Option<String>,
    pub time_ms: i64,
    pub path: String,
    pub existed: bool,
    /// SHA-256 of the content (the blob's name), when it existed.
    pub pre_hash: Option<String>,
    pub mode: Option<u32>,
    pub size: u64,
    /// SHA-256 after the tool ran, once PostToolUse reported it.
    pub post_hash: Option<String>,
    pub post_known: bool,
    pub restored: bool,
}

/// A row serialised for the chain, waiting for its position.
#[derive(Debug, Clone)]
pub struct Prepared {
    row: PreparedRow,
    /// The row's fields after its position, as a JSON array (see [`chain::canonical`]).
    fields: String,
}

#[derive(Debug, Clone)]
enum PreparedRow {
    Receipt(Box<ReceiptRow>),
    Event(EventRow),
    Other(Op),
}

impl NewReceipt {
    fn row(&self) -> ReceiptRow {
        let r = self;
        ReceiptRow {
            seq: 0,
            id: r.id.clone(),
            time_ms: r.time_ms,
            agent: r.agent.clone(),
            session: r.session.clone(),
            cwd: r.cwd.clone(),
            tool: r.tool.clone(),
            event: r.event.clone(),
            tool_use_id: r.tool_use_id.clone(),
            input: r.input.to_string(),
            classes: r.classes.to_string(),
            rules: r.rules.to_string(),
            decision: r.decision.clone(),
            reason: r.reason.clone(),
            detail: r.detail.to_string(),
        }
    }

    /// The receipt's fields as chained ([`ReceiptRow::fields_json`]); a step-up challenge
    /// commits to these.
    pub fn fields_json(&self) -> String {
        self.row().fields_json()
    }
}

impl From<&Op> for Prepared {
    fn from(op: &Op) -> Self {
        match op {
            Op::Receipt(r) => {
                let row = r.row();
                Prepared {
                    fields: row.fields_json(),
                    row: PreparedRow::Receipt(Box::new(row)),
                }
            }
            Op::Snapshot(_) | Op::SnapshotAfter { .. } | Op::SnapshotRestored { .. } => Prepared {
                row: PreparedRow::Other(op.clone()),
                fields: String::new(),
            },
            Op::Event(e) => {
                let row = EventRow {
                    seq: 0,
                    receipt_id: e.receipt_id.clone(),
                    time_ms: e.time_ms,
                    outcome: e.outcome.clone(),
                    actor: e.actor.clone(),
                    detail: e.detail.to_string(),
                };
                Prepared {
                    fields: row.fields_json(),
                    row: PreparedRow::Event(row),
                }
            }
        }
    }
}

/// One connection to the receipt database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    head: (i64, String),
    /// Key registrations read from the chain so far, and the last row looked at (see
    /// `keys.rs`): later reads only look at rows after it.
    key_registrations: std::cell::RefCell<keys::Registrations>,
}

impl Store {
    /// Open (creating and migrating) the database for writing.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let conn = Connection::open(path).map_err(open_err)?;
        schema::configure(&conn).map_err(open_err)?;
        schema::migrate(&conn).map_err(open_err)?;
        let head = read_head(&conn)?;
        Ok(Self {
            conn,
            path: path.to_path_buf(),
            head,
            key_registrations: Default::default(),
        })
    }

    /// Open an existing database read-only (for `log`, `verify`, the history view).
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_err)?;
        let head = read_head(&conn).map_err(|e| match e {
            StoreError::Sql(source) => StoreError::Open {
                path: path.to_path_buf(),
                source,
            },
            other => other,
        })?;
        Ok(Self {
            conn,
            path: path.to_path_buf(),
            head,
            key_registrations: Default::default(),
        })
    }

    /// An in-memory store for tests.
    pub fn in_memory() -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory()?;
        schema::migrate(&conn)?;
        Ok(Self {
            conn,
            path: PathBuf::from(":memory:"),
            head: (0, GENESIS.to_string()),
            key_registrations: Default::default(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append operations in one transaction, extending the chain.
    pub fn append(&mut self, ops: &[Op]) -> Result<(), StoreError> {
        let prepared: Vec<Prepared> = ops.iter().map(Prepared::from).collect();
        self.append_prepared(&prepared)
    }

    /// Append rows already serialised by [`Prepared::from`]: the writer thread only assigns
    /// positions, hashes and inserts.
    pub fn append_prepared(&mut self, rows: &[Prepared]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let (mut seq, mut prev) = self.head.clone();
        {
            let mut insert_receipt = tx.prepare_cached(
                "INSERT INTO receipts (seq, id, time_ms, agent, session, cwd, tool, event, tool_use_id, input, classes, rules, decision, reason, detail, prev_hash, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            )?;
            let mut insert_event = tx.prepare_cached(
                "INSERT INTO events (seq, receipt_id, time_ms, outcome, actor, detail, prev_hash, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for row in rows {
                match &row.row {
                    PreparedRow::Receipt(r) => {
                        seq += 1;
                        let hash =
                            chain::link(&prev, &chain::canonical("receipt", seq, &row.fields));
                        insert_receipt.execute(params![
                            seq,
                            r.id,
                            r.time_ms,
                            r.agent,
                            r.session,
                            r.cwd,
                            r.tool,
                            r.event,
                            r.tool_use_id,
                            r.input,
                            r.classes,
                            r.rules,
                            r.decision,
                            r.reason,
                            r.detail,
                            prev,
                            hash
                        ])?;
                        prev = hash;
                    }
                    PreparedRow::Event(e) => {
                        seq += 1;
                        let hash = chain::link(&prev, &chain::canonical("event", seq, &row.fields));
                        insert_event.execute(params![
                            seq,
                            e.receipt_id,
                            e.time_ms,
                            e.outcome,
                            e.actor,
                            e.detail,
                            prev,
                            hash
                        ])?;
                        prev = hash;
                    }
                    PreparedRow::Other(op) => snapshots::apply(&tx, op)?,
                }
            }
            let mut update_head = tx.prepare_cached(
                "INSERT INTO chain_head (one, seq, hash) VALUES (1, ?1, ?2)
                 ON CONFLICT(one) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            )?;
            update_head.execute(params![seq, prev])?;
        }
        tx.commit()?;
        self.head = (seq, prev);
        Ok(())
    }

    /// Stop this connection from checkpointing the WAL at commit (another connection does).
    pub fn disable_autocheckpoint(&self) -> Result<(), StoreError> {
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        Ok(())
    }

    /// The open database, for the read-only queries other components make over receipts they
    /// interpret themselves (the step-up audit, the tree heads' state).
    pub fn conn(&self) -> &Connection {
        &self.conn
    }
}

fn read_head(conn: &Connection) -> Result<(i64, String), StoreError> {
    let head = conn.query_row("SELECT seq, hash FROM chain_head WHERE one = 1", [], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
    });
    match head {
        Ok(head) => Ok(head),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok((0, GENESIS.to_string())),
        Err(e) => Err(e.into()),
    }
}

/// A time for people: local, to the second.
pub fn format_ms(ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(ts) => ts
            .to_zoned(jiff::tz::TimeZone::system())
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string(),
        Err(_) => ms.to_string(),
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

#[cfg(test)]
mod tests;
