//! Snapshot rows: writing (inside the writer's transaction) and reading.

use super::{Op, Snapshot, Store, StoreError};
use rusqlite::{Transaction, params};

pub(super) fn apply(tx: &Transaction<'_>, op: &Op) -> rusqlite::Result<()> {
    match op {
        Op::Snapshot(s) => {
            tx.prepare_cached(
                "INSERT INTO snapshots (receipt_id, session, time_ms, path, existed, pre_hash, mode, size)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                s.receipt_id,
                s.session,
                s.time_ms,
                s.path,
                s.existed,
                s.pre_hash,
                s.mode,
                s.size as i64
            ])?;
        }
        Op::SnapshotAfter {
            receipt_id,
            path,
            post_hash,
        } => {
            tx.prepare_cached(
                "UPDATE snapshots SET post_hash = ?3, post_known = 1 WHERE receipt_id = ?1 AND path = ?2",
            )?
            .execute(params![receipt_id, path, post_hash])?;
        }
        Op::SnapshotRestored { id } => {
            tx.prepare_cached("UPDATE snapshots SET restored = 1 WHERE id = ?1")?
                .execute(params![id])?;
        }
        Op::Receipt(_) | Op::Event(_) => {}
    }
    Ok(())
}

const COLUMNS: &str = "id, receipt_id, session, time_ms, path, existed, pre_hash, mode, size, post_hash, post_known, restored";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Snapshot> {
    Ok(Snapshot {
        id: r.get(0)?,
        receipt_id: r.get(1)?,
        session: r.get(2)?,
        time_ms: r.get(3)?,
        path: r.get(4)?,
        existed: r.get(5)?,
        pre_hash: r.get(6)?,
        mode: r.get(7)?,
        size: r.get::<_, i64>(8)? as u64,
        post_hash: r.get(9)?,
        post_known: r.get(10)?,
        restored: r.get(11)?,
    })
}

impl Store {
    /// The snapshots of one receipt, in the order they were taken.
    pub fn snapshots(&self, receipt_id: &str) -> Result<Vec<Snapshot>, StoreError> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {COLUMNS} FROM snapshots WHERE receipt_id = ?1 ORDER BY id"
        ))?;
        let rows = stmt.query_map([receipt_id], row)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(Into::into)
    }

    /// Receipts of a session with snapshots not yet restored, newest first.
    pub fn snapshot_receipts(&self, session: &str) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn().prepare(
            "SELECT receipt_id, max(id) AS newest FROM snapshots WHERE session = ?1 AND restored = 0
             GROUP BY receipt_id ORDER BY newest DESC",
        )?;
        let rows = stmt.query_map([session], |r| r.get::<_, String>(0))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(Into::into)
    }
}
