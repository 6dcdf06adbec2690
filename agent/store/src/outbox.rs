//! How far each retention target has been shipped.
//!
//! The outbox is the chain itself: rows and checkpoints after a target's position wait in the
//! database, in order, across restarts and outages, and are shipped from there; nothing is
//! copied a second time on a decision's path. A target that can say how far it got (PostgreSQL
//! answers with its newest row) is asked at every connection and that answer wins, so a crash
//! between its commit and the cursor's update never ships a row twice; the cursor is what
//! `airlock status` reports and what a target that cannot answer (syslog) resumes from.

use super::{Store, StoreError, now_ms};
use rusqlite::OptionalExtension;

impl Store {
    /// The position `target` was last shipped to (0: nothing yet).
    pub fn retention_cursor(&self, target: &str) -> Result<i64, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT position FROM retention_cursor WHERE target = ?1",
                [target],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0))
    }

    /// Record that `target` now holds everything up to `position`.
    pub fn set_retention_cursor(&self, target: &str, position: i64) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO retention_cursor (target, position, time_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT (target) DO UPDATE SET position = excluded.position, time_ms = excluded.time_ms",
            rusqlite::params![target, position, now_ms()],
        )?;
        Ok(())
    }

    /// The value of `key` in the log's fixed facts, set to `value` the first time.
    pub fn log_fact_or_set(&self, key: &str, value: &str) -> Result<String, StoreError> {
        self.conn().execute(
            "INSERT INTO log_meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
            rusqlite::params![key, value],
        )?;
        Ok(self
            .conn()
            .query_row("SELECT value FROM log_meta WHERE key = ?1", [key], |r| {
                r.get(0)
            })?)
    }

    /// The value of `key` in the log's fixed facts, if set.
    pub fn log_fact(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .query_row("SELECT value FROM log_meta WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// The row at `seq` as stored, if the chain has it.
    pub fn chain_row(&self, seq: i64) -> Result<Option<super::ChainRow>, StoreError> {
        if seq <= 0 {
            return Ok(None);
        }
        Ok(self
            .chain_rows_after(seq - 1, 1)?
            .into_iter()
            .find(|r| r.seq == seq))
    }

    /// The chain's newest row.
    pub fn newest_seq(&self) -> Result<i64, StoreError> {
        Ok(super::read_head(self.conn())?.0)
    }
}

#[cfg(test)]
mod tests {
    use crate::Store;

    #[test]
    fn a_cursor_starts_at_zero_and_keeps_the_last_position() {
        let store = Store::in_memory().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(store.retention_cursor("syslog").ok(), Some(0));
        store
            .set_retention_cursor("syslog", 7)
            .unwrap_or_else(|e| panic!("{e}"));
        store
            .set_retention_cursor("syslog", 9)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(store.retention_cursor("syslog").ok(), Some(9));
        assert_eq!(store.retention_cursor("postgres").ok(), Some(0));
    }
}
