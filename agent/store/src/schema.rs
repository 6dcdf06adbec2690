//! Database schema. Migrations are append-only: never edit a shipped one, add the next.

use rusqlite::Connection;

/// Each entry is applied once, in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    // 1: receipts (one per request) and events (outcomes), chained in one sequence. Indexes are
    // few on purpose: every one is written on the hook's hot path. Time filters use the
    // sequence order (rows are appended in time order).
    r#"
    CREATE TABLE receipts (
        seq         INTEGER PRIMARY KEY,
        id          TEXT NOT NULL UNIQUE,
        time_ms     INTEGER NOT NULL,
        agent       TEXT NOT NULL,
        session     TEXT,
        cwd         TEXT NOT NULL,
        tool        TEXT NOT NULL,
        event       TEXT NOT NULL,
        tool_use_id TEXT,
        input       TEXT NOT NULL,
        classes     TEXT NOT NULL,
        rules       TEXT NOT NULL,
        decision    TEXT NOT NULL,
        reason      TEXT NOT NULL,
        detail      TEXT NOT NULL,
        prev_hash   TEXT NOT NULL,
        hash        TEXT NOT NULL
    ) STRICT;
    CREATE INDEX receipts_session ON receipts(session, seq);
    CREATE INDEX receipts_tool_use ON receipts(tool_use_id);
    CREATE TABLE events (
        seq         INTEGER PRIMARY KEY,
        receipt_id  TEXT NOT NULL,
        time_ms     INTEGER NOT NULL,
        outcome     TEXT NOT NULL,
        actor       TEXT NOT NULL,
        detail      TEXT NOT NULL,
        prev_hash   TEXT NOT NULL,
        hash        TEXT NOT NULL
    ) STRICT;
    CREATE INDEX events_receipt ON events(receipt_id, seq);
    -- The newest chain position; lets `verify` notice a deleted last row.
    CREATE TABLE chain_head (
        one   INTEGER PRIMARY KEY CHECK (one = 1),
        seq   INTEGER NOT NULL,
        hash  TEXT NOT NULL
    ) STRICT;
    "#,
    // 2: pre-images of files changed by tool calls, for rollback. Not chained: the blobs they
    // name are content-addressed, and every rollback is recorded as a chained `rolled_back` event.
    r#"
    CREATE TABLE snapshots (
        id          INTEGER PRIMARY KEY,
        receipt_id  TEXT NOT NULL,
        session     TEXT,
        time_ms     INTEGER NOT NULL,
        path        TEXT NOT NULL,
        existed     INTEGER NOT NULL,
        pre_hash    TEXT,
        mode        INTEGER,
        size        INTEGER NOT NULL,
        post_hash   TEXT,
        post_known  INTEGER NOT NULL DEFAULT 0,
        restored    INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    CREATE INDEX snapshots_receipt ON snapshots(receipt_id);
    CREATE INDEX snapshots_session ON snapshots(session, id);
    "#,
    // 3: registered security keys (webauthn-rs `SecurityKey` JSON, counter included). A removed
    // key keeps its row (`removed_ms`): `verify` still needs its public key for old approvals.
    r#"
    CREATE TABLE security_keys (
        id           TEXT PRIMARY KEY,
        name         TEXT NOT NULL,
        created_ms   INTEGER NOT NULL,
        credential   TEXT NOT NULL,
        attestation  TEXT NOT NULL,
        aaguid       TEXT,
        last_used_ms INTEGER,
        removed_ms   INTEGER
    ) STRICT;
    "#,
    // 4: what a key's registration was: the authenticator's response and the ceremony state
    // (JSON). Step-up and `verify` re-run the attestation check on it against the trust roots,
    // so a key row nobody registered (a self-made key pair) is never accepted.
    r#"
    ALTER TABLE security_keys ADD COLUMN registration TEXT;
    "#,
    // 5: the RFC 6962 Merkle tree over the chain's rows (one leaf per row, its hash), stored
    // the way Go's sumdb `tlog` stores it (`idx` from `stored_hash_index`), so inclusion and
    // consistency proofs can be made; and the signed checkpoints of it (C2SP signed notes).
    r#"
    CREATE TABLE tree_hashes (
        idx  INTEGER PRIMARY KEY,
        hash BLOB NOT NULL
    ) STRICT;
    CREATE TABLE tree_heads (
        size    INTEGER PRIMARY KEY,
        time_ms INTEGER NOT NULL,
        note    TEXT NOT NULL
    ) STRICT;
    "#,
    // 6: how far each retention target (PostgreSQL rows and checkpoints, syslog) has been
    // shipped. The outbox is the chain itself — rows after a target's position wait there, in
    // order, across restarts — so nothing is written twice on a decision's path.
    r#"
    CREATE TABLE retention_cursor (
        target   TEXT PRIMARY KEY,
        position INTEGER NOT NULL,
        time_ms  INTEGER NOT NULL
    ) STRICT;
    "#,
    // 7: facts about the log fixed when first needed — the name its retained copies keep it
    // under (so another spelling of the database's path cannot start a second copy).
    r#"
    CREATE TABLE log_meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) STRICT;
    "#,
];

pub fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let applied: usize =
        conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (index + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

/// Open a connection with the settings every Airlock connection uses.
pub fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
        return Err(rusqlite::Error::InvalidParameterName(format!(
            "journal_mode is {mode}, expected wal"
        )));
    }
    // NORMAL in WAL survives process crashes; a power loss can lose the newest commits, never
    // corrupt the chain.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // A log that restarts is cut back to this size instead of keeping its largest size.
    conn.pragma_update(
        None,
        "journal_size_limit",
        super::checkpoint::JOURNAL_SIZE_LIMIT,
    )?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}
