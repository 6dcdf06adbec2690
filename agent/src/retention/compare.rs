//! `airlock verify --against postgres://…`: the local log against its retained copy, row by
//! row, naming the first place they part — a row rewritten after it was retained, rows deleted
//! or cut off locally, or a retained copy that itself does not hold together.

use super::postgres::{PostgresError, Retained, RetainedRow};
use crate::store::chain::{self, GENESIS};
use crate::store::{ChainRow, Store, StoreError};
use serde::Serialize;
use std::collections::VecDeque;

/// Rows read per query from each side.
const WINDOW: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error(transparent)]
    Postgres(#[from] PostgresError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Serialize)]
pub struct Comparison {
    /// Where the copy is (no password).
    pub target: String,
    pub log_id: String,
    /// Retained rows that match the local log.
    pub matching: i64,
    /// Local rows after the newest retained one (not shipped yet, or shipping stopped).
    pub not_yet_retained: i64,
    /// The keys the copy says this log's checkpoints were signed with.
    pub keys: Vec<String>,
    /// The first divergence.
    pub problem: Option<String>,
}

/// Walk both in order and stop at the first difference.
pub fn compare(store: &Store, retained: &mut Retained) -> Result<Comparison, CompareError> {
    let log_id = retained.log_id().to_string();
    let mut report = Comparison {
        target: retained.target().to_string(),
        log_id: log_id.clone(),
        matching: 0,
        not_yet_retained: 0,
        keys: retained.keys()?,
        problem: None,
    };
    let local_newest = store.newest_seq()?;
    let mut local = LocalRows::new(store);
    let mut after = 0i64;
    let mut prev = GENESIS.to_string();
    loop {
        let window = retained.rows_after(after, WINDOW as i64)?;
        if window.is_empty() {
            break;
        }
        for row in window {
            if let Some(problem) = check_retained(&row, after, &prev) {
                report.problem = Some(problem);
                return Ok(report);
            }
            match local.get(row.seq)? {
                None => {
                    report.problem = Some(format!(
                        "row {} is retained but missing from the local log (which ends at row {local_newest}): it was deleted or cut off there",
                        row.seq
                    ));
                    return Ok(report);
                }
                Some(mine) if mine.hash != row.hash || mine.canonical != row.canonical => {
                    report.problem = Some(format!(
                        "row {} was rewritten locally after it was retained (retained hash {}…, local {}…)",
                        row.seq,
                        &row.hash[..row.hash.len().min(16)],
                        &mine.hash[..mine.hash.len().min(16)],
                    ));
                    return Ok(report);
                }
                Some(_) => report.matching += 1,
            }
            after = row.seq;
            prev = row.hash;
        }
    }
    if after == 0 && local_newest > 0 {
        let others = retained.log_ids()?;
        report.problem = Some(format!(
            "the retained copy holds no row of log `{log_id}` (the local log has {local_newest}); logs it holds: {}",
            if others.is_empty() {
                "none".to_string()
            } else {
                others.join(", ")
            }
        ));
        return Ok(report);
    }
    report.not_yet_retained = (local_newest - after).max(0);
    Ok(report)
}

/// The retained row must continue the retained chain (the table's trigger makes sure, unless
/// someone with more rights than the daemon's role changed the copy).
fn check_retained(row: &RetainedRow, after: i64, prev: &str) -> Option<String> {
    if row.seq != after + 1 {
        return Some(format!(
            "the retained copy has no row {} (its next row is {}): it was changed by someone with more rights than the daemon's role",
            after + 1,
            row.seq
        ));
    }
    if row.prev_hash != prev || chain::link(prev, &row.canonical) != row.hash {
        return Some(format!(
            "retained row {} does not hold together with the one before it: the copy was changed by someone with more rights than the daemon's role",
            row.seq
        ));
    }
    None
}

/// The local log's rows in order, read a window at a time.
struct LocalRows<'a> {
    store: &'a Store,
    buffered: VecDeque<ChainRow>,
    after: i64,
}

impl<'a> LocalRows<'a> {
    fn new(store: &'a Store) -> Self {
        Self {
            store,
            buffered: VecDeque::new(),
            after: 0,
        }
    }

    /// The local row at `seq` (asked for in increasing order), if the log has it.
    fn get(&mut self, seq: i64) -> Result<Option<ChainRow>, StoreError> {
        loop {
            while self.buffered.front().is_some_and(|r| r.seq < seq) {
                self.buffered.pop_front();
            }
            if let Some(row) = self.buffered.front() {
                return Ok((row.seq == seq).then(|| row.clone()));
            }
            let more = self.store.chain_rows_after(self.after, WINDOW)?;
            let Some(last) = more.last() else {
                return Ok(None);
            };
            self.after = last.seq;
            self.buffered.extend(more);
        }
    }
}
