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
}

impl Store {
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        let conn = self.conn();
        let mut receipts = conn.prepare(&format!(
            "SELECT {}, prev_hash, hash FROM receipts ORDER BY seq",
            ReceiptRow::COLUMNS
        ))?;
        let mut events = conn.prepare(
            "SELECT seq, receipt_id, time_ms, outcome, actor, detail, prev_hash, hash FROM events ORDER BY seq",
        )?;
        let mut r_iter = receipts
            .query_map([], |r| {
                Ok(Row::Receipt(
                    ReceiptRow::from_sql(r)?,
                    r.get(15)?,
                    r.get(16)?,
                ))
            })?
            .peekable();
        let mut e_iter = events
            .query_map([], |r| {
                Ok(Row::Event(
                    EventRow {
                        seq: r.get(0)?,
                        receipt_id: r.get(1)?,
                        time_ms: r.get(2)?,
                        outcome: r.get(3)?,
                        actor: r.get(4)?,
                        detail: r.get(5)?,
                    },
                    r.get(6)?,
                    r.get(7)?,
                ))
            })?
            .peekable();

        let mut report = VerifyReport {
            rows: 0,
            receipts: 0,
            events: 0,
            head_seq: 0,
            problem: None,
        };
        let mut expected_seq = 1;
        let mut prev = GENESIS.to_string();
        loop {
            let take_receipt = match (r_iter.peek(), e_iter.peek()) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(Ok(r)), Some(Ok(e))) => r.seq() < e.seq(),
                (Some(Err(_)), _) => true,
                (_, Some(Err(_))) => false,
            };
            let row = if take_receipt {
                r_iter.next()
            } else {
                e_iter.next()
            };
            let Some(row) = row else { break };
            let row = row?;
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
            if seq != expected_seq {
                report.problem = Some(VerifyProblem {
                    seq: expected_seq,
                    table: "receipts/events".into(),
                    id: None,
                    message: if seq > expected_seq {
                        format!(
                            "row {expected_seq} is missing (deleted?); the next row found is {seq}"
                        )
                    } else {
                        format!("row {seq} appears twice")
                    },
                });
                return Ok(report);
            }
            if *stored_prev != prev {
                report.problem = Some(problem(format!(
                    "row {seq} does not link to the row before it (prev_hash changed, or the row before was altered)"
                )));
                return Ok(report);
            }
            let computed = chain::link(&prev, &canonical);
            if computed != *stored_hash {
                report.problem = Some(problem(format!(
                    "row {seq} was modified after it was written (its hash does not match its contents)"
                )));
                return Ok(report);
            }
            match row {
                Row::Receipt(..) => report.receipts += 1,
                Row::Event(..) => report.events += 1,
            }
            report.rows += 1;
            prev = computed;
            expected_seq += 1;
        }
        let head = conn.query_row("SELECT seq, hash FROM chain_head WHERE one = 1", [], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        });
        let (head_seq, head_hash) = match head {
            Ok(h) => h,
            Err(rusqlite::Error::QueryReturnedNoRows) => (0, GENESIS.to_string()),
            Err(e) => return Err(e.into()),
        };
        report.head_seq = head_seq;
        if head_seq != report.rows || head_hash != prev {
            report.problem = Some(VerifyProblem {
                seq: head_seq.max(report.rows),
                table: if head_seq > report.rows {
                    "receipts/events".into()
                } else {
                    "chain_head".into()
                },
                id: None,
                message: if head_seq > report.rows {
                    format!(
                        "the chain head records {head_seq} rows but only {} exist: row {} onwards was deleted",
                        report.rows,
                        report.rows + 1
                    )
                } else {
                    format!(
                        "the chain head does not match the last row {} (it was altered)",
                        report.rows
                    )
                },
            });
        }
        Ok(report)
    }
}
