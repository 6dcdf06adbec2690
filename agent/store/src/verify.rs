//! Re-checking the chain: every row's hash, every link, no gaps, and the recorded head.

use super::chain::{self, EventRow, GENESIS, ReceiptRow};
use super::{Store, StoreError};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub rows: i64,
    pub receipts: i64,
    pub events: i64,
    pub head_seq: i64,
    /// The first problem found, if any.
    pub problem: Option<VerifyProblem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyProblem {
    /// Chain position of the bad (or missing) row.
    pub seq: i64,
    /// `receipts`, `events` or `chain_head`.
    pub table: String,
    /// Receipt id of the row, when known.
    pub id: Option<String>,
    pub message: String,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.problem.is_none()
    }
}

// Rows live only while being checked, one at a time: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
enum Row {
    Receipt(ReceiptRow, String, String),
    Event(EventRow, String, String),
}

impl Row {
    fn seq(&self) -> i64 {
        match self {
            Row::Receipt(r, ..) => r.seq,
            Row::Event(e, ..) => e.seq,
        }
    }

    fn into_chain_row(self) -> ChainRow {
        match self {
            Row::Receipt(r, prev_hash, hash) => ChainRow {
                seq: r.seq,
                kind: "receipt",
                time_ms: r.time_ms,
                canonical: r.canonical(),
                prev_hash,
                hash,
            },
            Row::Event(e, prev_hash, hash) => ChainRow {
                seq: e.seq,
                kind: "event",
                time_ms: e.time_ms,
                canonical: e.canonical(),
                prev_hash,
                hash,
            },
        }
    }
}

/// One row of the chain as stored, in the form copies are kept elsewhere: its canonical
/// serialisation holds every field, and `hash = link(prev_hash, canonical)` can be checked
/// without the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainRow {
    pub seq: i64,
    /// `receipt` or `event`.
    pub kind: &'static str,
    pub time_ms: i64,
    pub canonical: String,
    pub prev_hash: String,
    pub hash: String,
}

impl ChainRow {
    /// Whether the row's stored hash is its contents' hash after `prev_hash`.
    pub fn hash_holds(&self) -> bool {
        chain::link(&self.prev_hash, &self.canonical) == self.hash
    }
}

/// Rows read per transaction (of each table). Each window is a short read transaction, so a verification of a
/// large log never pins the write-ahead log (see [`super::checkpoint`]).
const WINDOW: usize = 1000;

/// The walk along the chain: what the next row must be.
struct Walk {
    report: VerifyReport,
    expected_seq: i64,
    prev: String,
}

impl Walk {
    /// Check one row; `Err` carries the first problem.
    fn step(&mut self, row: Row) -> Result<(), VerifyProblem> {
        let (seq, table, id, canonical, stored_prev, stored_hash) = match &row {
            Row::Receipt(r, p, h) => (r.seq, "receipts", r.id.clone(), r.canonical(), p, h),
            Row::Event(e, p, h) => (e.seq, "events", e.receipt_id.clone(), e.canonical(), p, h),
        };
        let problem = |message: String| VerifyProblem {
            seq,
            table: table.to_string(),
            id: Some(id.clone()),
            message,
        };
        let expected_seq = self.expected_seq;
        if seq != expected_seq {
            return Err(VerifyProblem {
                seq: expected_seq,
                table: "receipts/events".into(),
                id: None,
                message: if seq > expected_seq {
                    format!("row {expected_seq} is missing (deleted?); the next row found is {seq}")
                } else {
                    format!("row {seq} appears twice")
                },
            });
        }
        if *stored_prev != self.prev {
            return Err(problem(format!(
                "row {seq} does not link to the row before it (prev_hash changed, or the row before was altered)"
            )));
        }
        let computed = chain::link(&self.prev, &canonical);
        if computed != *stored_hash {
            return Err(problem(format!(
                "row {seq} was modified after it was written (its hash does not match its contents)"
            )));
        }
        match row {
            Row::Receipt(..) => self.report.receipts += 1,
            Row::Event(..) => self.report.events += 1,
        }
        self.report.rows += 1;
        self.prev = computed;
        self.expected_seq += 1;
        Ok(())
    }

    /// Compare the recorded head with the last row walked.
    fn finish(mut self, head_seq: i64, head_hash: &str) -> VerifyReport {
        self.report.head_seq = head_seq;
        let rows = self.report.rows;
        if head_seq != rows || head_hash != self.prev {
            self.report.problem = Some(VerifyProblem {
                seq: head_seq.max(rows),
                table: if head_seq > rows {
                    "receipts/events".into()
                } else {
                    "chain_head".into()
                },
                id: None,
                message: if head_seq > rows {
                    format!(
                        "the chain head records {head_seq} rows but only {rows} exist: row {} onwards was deleted",
                        rows + 1
                    )
                } else {
                    format!("the chain head does not match the last row {rows} (it was altered)")
                },
            });
        }
        self.report
    }
}

/// One window of rows after a position, in chain order, from one snapshot.
struct Window {
    rows: Vec<Row>,
    /// Every row of the snapshot after the position is in `rows`.
    last: bool,
}

impl Store {
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        // Read before the chain: a head written there was committed first, so the snapshot
        // read below holds it even while the daemon keeps appending.
        let witnessed = super::witness::all(&self.path).unwrap_or_default();
        let mut walk = Walk {
            report: VerifyReport {
                rows: 0,
                receipts: 0,
                events: 0,
                head_seq: 0,
                problem: None,
            },
            expected_seq: 1,
            prev: GENESIS.to_string(),
        };
        loop {
            // Rows and head come from one snapshot, so rows appended meanwhile never look like
            // a head out of step. The transaction only reads; hashing happens after it ends.
            let tx = self.conn().unchecked_transaction()?;
            let window = self.window_after(walk.expected_seq - 1, WINDOW)?;
            let head = if window.last {
                Some(super::read_head(self.conn())?)
            } else {
                None
            };
            tx.commit()?;
            for row in window.rows {
                if let Err(problem) = walk.step(row) {
                    walk.report.problem = Some(problem);
                    return Ok(walk.report);
                }
            }
            if let Some((head_seq, head_hash)) = head {
                let mut report = walk.finish(head_seq, &head_hash);
                if report.problem.is_none() {
                    report.problem = self.behind_witness(witnessed.clone(), report.head_seq)?;
                }
                return Ok(report);
            }
        }
    }

    /// The chain head's position as stored.
    pub fn verify_head(&self) -> Result<i64, StoreError> {
        Ok(super::read_head(self.conn())?.0)
    }

    /// The chain against the heads written outside the database ([`super::witness`]).
    pub fn witness_problem(&self) -> Result<Option<VerifyProblem>, StoreError> {
        let witnessed = super::witness::all(&self.path).unwrap_or_default();
        let head = super::read_head(self.conn())?.0;
        self.behind_witness(witnessed, head)
    }

    /// The chain against every head seen outside the database ([`super::witness`]): it must
    /// still hold each of those rows, with those hashes (the newest checked first).
    fn behind_witness(
        &self,
        witnessed: Vec<(i64, String)>,
        head_seq: i64,
    ) -> Result<Option<VerifyProblem>, StoreError> {
        for (seq, hash) in witnessed.into_iter().rev() {
            if let Some(problem) = self.behind_one(seq, &hash, head_seq)? {
                return Ok(Some(problem));
            }
        }
        Ok(None)
    }

    fn behind_one(
        &self,
        seq: i64,
        hash: &str,
        head_seq: i64,
    ) -> Result<Option<VerifyProblem>, StoreError> {
        if seq == 0 {
            return Ok(None);
        }
        if seq > head_seq {
            return Ok(Some(VerifyProblem {
                seq,
                table: "chain_head".into(),
                id: None,
                message: format!(
                    "row {seq} was the chain's head when it was written, but the chain now ends at row {head_seq}: the newest rows were deleted and the head moved back"
                ),
            }));
        }
        let found: Option<String> = self
            .conn()
            .query_row(
                "SELECT hash FROM receipts WHERE seq = ?1 UNION ALL SELECT hash FROM events WHERE seq = ?1",
                [seq],
                |r| r.get(0),
            )
            .ok();
        Ok((found.as_deref() != Some(hash)).then(|| VerifyProblem {
            seq,
            table: "chain_head".into(),
            id: None,
            message: format!(
                "row {seq} is not the row that was the chain's head when it was written: the chain was rewritten from there"
            ),
        }))
    }

    /// Rows after `after` in chain order, as stored (at most `limit` of each table, fewer when
    /// one table runs ahead): what is shipped to retention. One short read transaction.
    pub fn chain_rows_after(&self, after: i64, limit: usize) -> Result<Vec<ChainRow>, StoreError> {
        let tx = self.conn().unchecked_transaction()?;
        let window = self.window_after(after, limit)?;
        tx.commit()?;
        Ok(window.rows.into_iter().map(Row::into_chain_row).collect())
    }

    /// Up to `window` rows of each table after `after`, merged; only rows up to the point
    /// both tables are known to be complete are returned.
    fn window_after(&self, after: i64, window: usize) -> Result<Window, StoreError> {
        let conn = self.conn();
        let mut receipts = conn.prepare_cached(&format!(
            "SELECT {}, prev_hash, hash FROM receipts WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            ReceiptRow::COLUMNS
        ))?;
        let receipts: Vec<Row> = receipts
            .query_map(rusqlite::params![after, window as i64], |r| {
                Ok(Row::Receipt(
                    ReceiptRow::from_sql(r)?,
                    r.get(15)?,
                    r.get(16)?,
                ))
            })?
            .collect::<Result<_, _>>()?;
        let mut events = conn.prepare_cached(&format!(
            "SELECT {}, prev_hash, hash FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            EventRow::COLUMNS
        ))?;
        let events: Vec<Row> = events
            .query_map(rusqlite::params![after, window as i64], |r| {
                Ok(Row::Event(EventRow::from_sql(r)?, r.get(6)?, r.get(7)?))
            })?
            .collect::<Result<_, _>>()?;
        // A table that filled its window may have more rows after its last one: rows of the
        // other table past that point wait for the next window.
        let bound = [&receipts, &events]
            .iter()
            .filter(|rows| rows.len() == window)
            .filter_map(|rows| rows.last().map(Row::seq))
            .min();
        let mut rows: Vec<Row> = receipts
            .into_iter()
            .chain(events)
            .filter(|row| bound.is_none_or(|b| row.seq() <= b))
            .collect();
        rows.sort_by_key(Row::seq);
        Ok(Window {
            rows,
            last: bound.is_none(),
        })
    }
}
