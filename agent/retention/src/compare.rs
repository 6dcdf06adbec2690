//! `airlock verify --against postgres://…`: the local log against its retained copy, row by
//! row, naming the first place they part — a row rewritten after it was retained, rows deleted
//! or cut off locally, a head the copy was told that the local log no longer holds, rows that
//! never reached the copy, or a retained copy that itself does not hold together.
//!
//! The log is found in the copy by its first row, not by its name: a log shipped under another
//! name (another spelling of its path, another host name) is the same log, and every name it was
//! shipped under is compared.

use super::postgres::{PostgresError, Retained, RetainedRow};
use airlock_store::chain::{self, GENESIS};
use airlock_store::{ChainRow, Store, StoreError};
use serde::Serialize;
use std::collections::VecDeque;

/// Rows read per query from each side.
const WINDOW: usize = 1000;
/// Rows older than this that never reached the copy fail the comparison; rows that reached it
/// later than this after they were written are named.
const LATE_MS: i64 = 60_000;

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
    /// Every name this log is kept under in the copy.
    pub logs: Vec<String>,
    /// Retained rows that match the local log (over every name).
    pub matching: i64,
    /// Local rows after the newest retained one.
    pub not_yet_retained: i64,
    /// The keys the copy says this log's checkpoints were signed with.
    pub keys: Vec<String>,
    /// What an auditor should know that is not a failure.
    pub notes: Vec<String>,
    /// The first divergence.
    pub problem: Option<String>,
}

/// Compare the local log with every log in the copy that begins with its first row (and with
/// `log_id`, when given).
pub fn compare(
    store: &Store,
    retained: &mut Retained,
    log_id: Option<&str>,
) -> Result<Comparison, CompareError> {
    let mut report = Comparison {
        target: retained.target().to_string(),
        logs: Vec::new(),
        matching: 0,
        not_yet_retained: 0,
        keys: Vec::new(),
        notes: Vec::new(),
        problem: None,
    };
    let local_newest = store.newest_seq()?;
    let mut logs = match store.chain_row(1)? {
        Some(first) => retained.logs_beginning_with(&first.hash)?,
        None => Vec::new(),
    };
    if let Some(id) = log_id
        && !logs.iter().any(|l| l == id)
    {
        logs.push(id.to_string());
    }
    if logs.is_empty() {
        let others = retained.log_ids()?;
        report.problem = Some(format!(
            "the copy holds no log beginning with this log's first row (the local log has {local_newest} rows); logs it holds: {} (compare with `--log-id`)",
            if others.is_empty() {
                "none".to_string()
            } else {
                others.join(", ")
            }
        ));
        return Ok(report);
    }
    if logs.len() > 1 {
        report.notes.push(format!(
            "this log was shipped under {} names ({}): each is compared",
            logs.len(),
            logs.join(", ")
        ));
    }
    let mut retained_newest = 0;
    let mut main_log: Option<String> = None;
    for log in &logs {
        retained.set_log(log.clone());
        for key in retained.keys()? {
            if !report.keys.contains(&key) {
                report.keys.push(key);
            }
        }
        let walked = walk(store, retained, local_newest, &mut report)?;
        if main_log.is_none() || walked > retained_newest {
            main_log = Some(log.clone());
        }
        retained_newest = retained_newest.max(walked);
        if report.problem.is_some() {
            report.logs = logs;
            return Ok(report);
        }
        if let Some(problem) = check_heads(store, retained, log)? {
            report.problem = Some(problem);
            report.logs = logs;
            return Ok(report);
        }
    }
    // Other logs of the same writer role (one role per machine) that this log does not
    // continue: it replaced them (a database made again, or a rewrite shipped under a new
    // name). Names are whoever wrote them's to choose, so only the role, which the copy's
    // row-level security binds, counts.
    let roles: Vec<&str> = logs.iter().map(|l| role_of(l)).collect();
    let others: Vec<String> = retained
        .log_ids()?
        .into_iter()
        .filter(|id| !logs.contains(id) && roles.contains(&role_of(id)))
        .collect();
    if !others.is_empty() {
        report.problem = Some(format!(
            "the copy also holds {} of the same writer role, which this log does not continue: this log replaced it (a database made again, or a rewrite shipped under a new name); compare with `--log-id` to see what it held",
            others
                .iter()
                .map(|o| format!("`{o}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        report.logs = logs;
        return Ok(report);
    }
    // Judged by the copy's clock, not by the times the rows give (which whoever writes the
    // log chooses): local rows past what the copy holds, while the copy has not heard from
    // the log for a while, never reached it. Contact counts for the name that holds the most
    // rows only: another name beginning with the same row is no news of this log.
    retained.set_log(main_log.unwrap_or_default());
    let last_contact = retained.last_contact()?;
    let server_now = retained.server_now()?;
    report.logs = logs;
    report.not_yet_retained = (local_newest - retained_newest).max(0);
    if report.not_yet_retained > 0 && server_now - last_contact > LATE_MS {
        report.problem = Some(format!(
            "local rows {}–{local_newest} never reached the copy, which last heard from this log at {} (its clock): shipping stopped or was held back, and what they say is not retained",
            retained_newest + 1,
            airlock_store::format_ms(last_contact)
        ));
    }
    Ok(report)
}

/// Walk one log of the copy against the local log; returns its newest retained row.
fn walk(
    store: &Store,
    retained: &mut Retained,
    local_newest: i64,
    report: &mut Comparison,
) -> Result<i64, CompareError> {
    let mut local = LocalRows::new(store);
    let mut after = 0i64;
    let mut prev = GENESIS.to_string();
    let mut late: Vec<i64> = Vec::new();
    loop {
        let window = retained.rows_after(after, WINDOW as i64)?;
        if window.is_empty() {
            break;
        }
        for row in window {
            if let Some(problem) = check_retained(&row, after, &prev) {
                report.problem = Some(problem);
                return Ok(after);
            }
            match local.get(row.seq)? {
                None => {
                    report.problem = Some(format!(
                        "row {} is retained but missing from the local log (which ends at row {local_newest}): it was deleted or cut off there",
                        row.seq
                    ));
                    return Ok(after);
                }
                Some(mine) if mine.hash != row.hash || mine.canonical != row.canonical => {
                    report.problem = Some(format!(
                        "row {} differs from the row the copy received at {} (retained hash {}…, local {}…): the local log was rewritten after it was retained",
                        row.seq,
                        airlock_store::format_ms(row.received_ms),
                        row.hash.chars().take(16).collect::<String>(),
                        mine.hash.chars().take(16).collect::<String>(),
                    ));
                    return Ok(after);
                }
                Some(_) => report.matching += 1,
            }
            if row.received_ms - row.time_ms > LATE_MS {
                late.push(row.seq);
            }
            after = row.seq;
            prev = row.hash;
        }
    }
    if let (Some(first), Some(last)) = (late.first(), late.last()) {
        report.notes.push(format!(
            "{} rows (between rows {first} and {last}) reached the copy more than {} s after the time they give: they were held back before they left (an outage, or on purpose), so the copy vouches for them only from when it received them",
            late.len(),
            LATE_MS / 1000
        ));
    }
    Ok(after)
}

/// The writer role a log's name begins with (`ROLE/…`).
fn role_of(log_id: &str) -> &str {
    log_id.split_once('/').map_or(log_id, |(role, _)| role)
}

/// Every head the copy was told must still be in the local log with that hash.
fn check_heads(
    store: &Store,
    retained: &mut Retained,
    log: &str,
) -> Result<Option<String>, CompareError> {
    for head in retained.heads()? {
        let mine = store.chain_row(head.seq)?;
        let problem = match mine {
            Some(row) if row.hash == head.hash => continue,
            Some(_) => format!(
                "row {} was the log's head when the copy was told at {} (log `{log}`), but the local row {} is another row: the log was rewritten after that (or someone holding the role's password told the copy a false head)",
                head.seq,
                airlock_store::format_ms(head.received_ms),
                head.seq
            ),
            None => format!(
                "the copy was told at {} that the log had {} rows (log `{log}`); the local log ends before: rows were deleted",
                airlock_store::format_ms(head.received_ms),
                head.seq
            ),
        };
        return Ok(Some(problem));
    }
    Ok(None)
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
