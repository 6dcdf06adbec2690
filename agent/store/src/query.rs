//! Reading receipts back: filtered, paged listings and one receipt's full timeline.

use super::{Store, StoreError};
use airlock_protocol::{
    ActionClass, Decision, Outcome, ReceiptDetail, ReceiptSummary, TimelineEntry,
};
use rusqlite::OptionalExtension;
use rusqlite::types::Value;

/// Filters for `airlock log` and the history view. Results are newest first.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    pub session: Option<String>,
    pub agent: Option<String>,
    pub tool: Option<String>,
    pub outcome: Option<Outcome>,
    pub class: Option<ActionClass>,
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// Substring of the input, reason or cwd.
    pub text: Option<String>,
    /// Only receipts older than this chain position (for paging).
    pub before_seq: Option<i64>,
    pub limit: Option<usize>,
    /// Only sessions whose name begins with this (a user's, `USER/`, in system mode).
    pub session_prefix: Option<String>,
}

impl LogFilter {
    /// The filter a client asked for over the protocol (at most 5,000 receipts).
    pub fn from_wire(filter: airlock_protocol::HistoryFilter) -> Self {
        Self {
            session: filter.session,
            agent: filter.agent,
            tool: filter.tool,
            outcome: filter.outcome,
            class: filter.class,
            since_ms: filter.since_ms,
            until_ms: filter.until_ms,
            text: filter.text,
            before_seq: filter.before_seq,
            limit: Some(filter.limit.unwrap_or(50).min(5000) as usize),
            session_prefix: None,
        }
    }
}

/// A request as the runtime controls count it.
#[derive(Debug, Clone)]
pub struct RecentDecision {
    pub session: String,
    pub agent: String,
    pub cwd: String,
    pub time_ms: i64,
    pub classes: std::collections::BTreeSet<ActionClass>,
    /// Outcome names in order (`allowed`, `approval_required`, `approved`, …).
    pub outcomes: Vec<String>,
}

const SUMMARY_COLUMNS: &str = "r.id, r.seq, r.time_ms, r.agent, r.session, r.cwd, r.tool, r.event, r.input, r.classes, r.rules, r.decision, r.reason,
    (SELECT json_group_array(outcome) FROM (SELECT outcome FROM events WHERE receipt_id = r.id ORDER BY seq))";

impl Store {
    pub fn list(&self, filter: &LogFilter) -> Result<Vec<ReceiptSummary>, StoreError> {
        let mut clauses: Vec<&str> = Vec::new();
        let mut args: Vec<Value> = Vec::new();
        if let Some(s) = &filter.session {
            clauses.push("r.session = ?");
            args.push(Value::Text(s.clone()));
        }
        if let Some(a) = &filter.agent {
            clauses.push("r.agent = ?");
            args.push(Value::Text(a.clone()));
        }
        if let Some(t) = &filter.tool {
            clauses.push("r.tool = ?");
            args.push(Value::Text(t.clone()));
        }
        if let Some(o) = filter.outcome {
            clauses.push(
                "EXISTS (SELECT 1 FROM events e WHERE e.receipt_id = r.id AND e.outcome = ?)",
            );
            args.push(Value::Text(o.as_str().to_string()));
        }
        if let Some(c) = filter.class {
            clauses.push("EXISTS (SELECT 1 FROM json_each(r.classes) WHERE value = ?)");
            args.push(Value::Text(c.as_str().to_string()));
        }
        if let Some(since) = filter.since_ms {
            clauses.push("r.time_ms >= ?");
            args.push(Value::Integer(since));
        }
        if let Some(until) = filter.until_ms {
            clauses.push("r.time_ms < ?");
            args.push(Value::Integer(until));
        }
        if let Some(text) = &filter.text {
            clauses
                .push("(instr(r.input, ?) > 0 OR instr(r.reason, ?) > 0 OR instr(r.cwd, ?) > 0)");
            for _ in 0..3 {
                args.push(Value::Text(text.clone()));
            }
        }
        if let Some(before) = filter.before_seq {
            clauses.push("r.seq < ?");
            args.push(Value::Integer(before));
        }
        if let Some(prefix) = &filter.session_prefix {
            clauses.push("substr(r.session, 1, length(?)) = ?");
            args.push(Value::Text(prefix.clone()));
            args.push(Value::Text(prefix.clone()));
        }
        let where_sql = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let limit = filter.limit.unwrap_or(100) as i64;
        args.push(Value::Integer(limit));
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM receipts r {where_sql} ORDER BY r.seq DESC LIMIT ?"
        );
        let mut stmt = self.conn().prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args), summary_from_row)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(Into::into)
    }

    pub fn get(&self, id: &str) -> Result<ReceiptDetail, StoreError> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS}, r.tool_use_id, r.detail, r.hash FROM receipts r WHERE r.id = ?1"
        );
        let found = self.conn().query_row(&sql, [id], |row| {
            let summary = summary_from_row(row)?;
            let rules: String = row.get(10)?;
            Ok((
                summary,
                row.get::<_, Option<String>>(14)?,
                rules,
                row.get::<_, String>(15)?,
                row.get::<_, String>(16)?,
            ))
        });
        let (receipt, tool_use_id, rules, detail, hash) = match found {
            Ok(v) => v,
            Err(rusqlite::Error::QueryReturnedNoRows) => {
                return Err(StoreError::NotFound(id.to_string()));
            }
            Err(e) => return Err(e.into()),
        };
        let mut stmt = self
            .conn()
            .prepare("SELECT seq, time_ms, outcome, actor, detail FROM events WHERE receipt_id = ?1 ORDER BY seq")?;
        let timeline = stmt
            .query_map([id], |r| {
                Ok(TimelineEntry {
                    seq: r.get(0)?,
                    time_ms: r.get(1)?,
                    outcome: r.get(2)?,
                    actor: r.get(3)?,
                    detail: parse_json(&r.get::<_, String>(4)?),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ReceiptDetail {
            receipt,
            tool_use_id,
            rules: parse_json(&rules),
            detail: parse_json(&detail),
            hash,
            timeline,
        })
    }

    /// The newest receipt for a tool-use id (links PostToolUse to its PreToolUse).
    /// Requests decided since `since_ms`, oldest first, with their outcomes: what the runtime
    /// controls counted, for restoring their counters at start.
    pub fn recent_decisions(&self, since_ms: i64) -> Result<Vec<RecentDecision>, StoreError> {
        let mut stmt = self.conn().prepare(
            "SELECT r.session, r.agent, r.cwd, r.time_ms, r.classes,
                    (SELECT json_group_array(outcome) FROM (SELECT outcome FROM events WHERE receipt_id = r.id ORDER BY seq))
             FROM receipts r
             WHERE r.time_ms >= ?1 AND r.event IN ('pre_tool_use', 'permission_request')
             ORDER BY r.seq",
        )?;
        let rows = stmt.query_map([since_ms], |r| {
            Ok(RecentDecision {
                session: r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                agent: r.get(1)?,
                cwd: r.get(2)?,
                time_ms: r.get(3)?,
                classes: serde_json::from_str(&r.get::<_, String>(4)?).unwrap_or_default(),
                outcomes: serde_json::from_str(&r.get::<_, String>(5)?).unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Daemon starts with no `airlock daemon stop` between them and the start before: runs
    /// that ended killed or crashed (their last rows may be missing without a trace), as the
    /// sequence of the start that followed each.
    pub fn unclean_stops(&self) -> Result<Vec<i64>, StoreError> {
        let mut stmt = self.conn().prepare(
            "SELECT seq, tool FROM receipts WHERE tool IN ('airlock daemon start', 'airlock daemon stop') ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
        let mut running = false;
        let mut unclean = Vec::new();
        for row in rows {
            let (seq, tool) = row?;
            if tool == "airlock daemon start" {
                if running {
                    unclean.push(seq);
                }
                running = true;
            } else {
                running = false;
            }
        }
        Ok(unclean)
    }

    /// Whether a start recorded now would follow a start with no stop in between.
    pub fn unclean_stops_if_started_now(&self) -> Result<bool, StoreError> {
        let last: Option<String> = self
            .conn()
            .query_row(
                "SELECT tool FROM receipts WHERE tool IN ('airlock daemon start', 'airlock daemon stop') ORDER BY seq DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        Ok(last.as_deref() == Some("airlock daemon start"))
    }

    /// Receipts held for a person (`approval_required`) that never got an outcome after it:
    /// the daemon that held them ended without deciding (killed, crashed, power lost).
    pub fn unfinished_holds(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn().prepare(
            "SELECT h.receipt_id FROM events h WHERE h.outcome = 'approval_required'
               AND NOT EXISTS (SELECT 1 FROM events e WHERE e.receipt_id = h.receipt_id AND e.seq > h.seq)
             ORDER BY h.seq",
        )?;
        let ids = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(ids.collect::<Result<_, _>>()?)
    }

    pub fn find_by_tool_use(&self, tool_use_id: &str) -> Result<Option<String>, StoreError> {
        let found = self.conn().query_row(
            "SELECT id FROM receipts WHERE tool_use_id = ?1 AND event IN ('pre_tool_use', 'permission_request') ORDER BY seq DESC LIMIT 1",
            [tool_use_id],
            |r| r.get::<_, String>(0),
        );
        match found {
            Ok(id) => Ok(Some(id)),
            Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Counts of outcomes, for `airlock status` and the history chart.
    pub fn outcome_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare("SELECT outcome, count(*) FROM events GROUP BY outcome ORDER BY outcome")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(Into::into)
    }
}

fn summary_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ReceiptSummary> {
    let classes: String = row.get(9)?;
    let rules: String = row.get(10)?;
    let decision: String = row.get(11)?;
    let outcomes: String = row.get(13)?;
    let rule_ids = serde_json::from_str::<Vec<airlock_protocol::RuleHit>>(&rules)
        .map(|hits| {
            let mut ids: Vec<String> = Vec::new();
            for hit in hits {
                if !ids.contains(&hit.id) {
                    ids.push(hit.id);
                }
            }
            ids
        })
        .unwrap_or_default();
    Ok(ReceiptSummary {
        id: row.get(0)?,
        seq: row.get(1)?,
        time_ms: row.get(2)?,
        agent: row.get(3)?,
        session: row.get(4)?,
        cwd: row.get(5)?,
        tool: row.get(6)?,
        kind: airlock_request::adapters::tool_kind(
            &row.get::<_, String>(3)?,
            &row.get::<_, String>(6)?,
        ),
        event: row.get(7)?,
        input: parse_json(&row.get::<_, String>(8)?),
        classes: serde_json::from_str(&classes).unwrap_or_default(),
        rules: rule_ids,
        decision: serde_json::from_value(serde_json::Value::String(decision))
            .unwrap_or(Decision::Deny),
        reason: row.get(12)?,
        outcomes: serde_json::from_str::<Vec<String>>(&outcomes)
            .unwrap_or_default()
            .iter()
            .filter_map(|o| Outcome::parse(o))
            .collect(),
    })
}

fn parse_json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|_| serde_json::Value::String(text.to_string()))
}
