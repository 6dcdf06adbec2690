//! The hash chain over receipts and events.
//!
//! Both tables share one sequence. Each row stores `prev_hash` (the previous row's hash) and
//! `hash = SHA-256(prev_hash || 0x0a || canonical)`, where `canonical` is a JSON array of the
//! row's fields in a fixed order. Changing, inserting or deleting any row breaks the chain at or
//! right after it; `chain_head` catches a deleted last row.

use sha2::{Digest, Sha256};

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A receipt row as hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptRow {
    pub seq: i64,
    pub id: String,
    pub time_ms: i64,
    pub agent: String,
    pub session: Option<String>,
    pub cwd: String,
    pub tool: String,
    pub event: String,
    pub tool_use_id: Option<String>,
    pub input: String,
    pub classes: String,
    pub rules: String,
    pub decision: String,
    pub reason: String,
    pub detail: String,
}

/// An event row as hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    pub seq: i64,
    pub receipt_id: String,
    pub time_ms: i64,
    pub outcome: String,
    pub actor: String,
    pub detail: String,
}

impl ReceiptRow {
    /// The columns [`ReceiptRow::from_sql`] reads, in order, for a `SELECT`.
    pub const COLUMNS: &'static str = "seq, id, time_ms, agent, session, cwd, tool, event, tool_use_id, input, classes, rules, decision, reason, detail";

    /// A row selected with [`ReceiptRow::COLUMNS`] first.
    pub fn from_sql(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            seq: r.get(0)?,
            id: r.get(1)?,
            time_ms: r.get(2)?,
            agent: r.get(3)?,
            session: r.get(4)?,
            cwd: r.get(5)?,
            tool: r.get(6)?,
            event: r.get(7)?,
            tool_use_id: r.get(8)?,
            input: r.get(9)?,
            classes: r.get(10)?,
            rules: r.get(11)?,
            decision: r.get(12)?,
            reason: r.get(13)?,
            detail: r.get(14)?,
        })
    }

    /// The row's fields after its position, as a JSON array. Computed by the caller, outside
    /// the single writer thread; the writer splices in the position.
    pub fn fields_json(&self) -> String {
        serde_json::to_string(&(
            &self.id,
            self.time_ms,
            &self.agent,
            &self.session,
            &self.cwd,
            &self.tool,
            &self.event,
            &self.tool_use_id,
            &self.input,
            &self.classes,
            &self.rules,
            &self.decision,
            &self.reason,
            &self.detail,
        ))
        .unwrap_or_default()
    }

    pub fn canonical(&self) -> String {
        canonical("receipt", self.seq, &self.fields_json())
    }
}

impl EventRow {
    pub const COLUMNS: &'static str = "seq, receipt_id, time_ms, outcome, actor, detail";

    /// The row from a query whose first columns are [`Self::COLUMNS`].
    pub fn from_sql(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            seq: r.get(0)?,
            receipt_id: r.get(1)?,
            time_ms: r.get(2)?,
            outcome: r.get(3)?,
            actor: r.get(4)?,
            detail: r.get(5)?,
        })
    }

    pub fn fields_json(&self) -> String {
        serde_json::to_string(&(
            &self.receipt_id,
            self.time_ms,
            &self.outcome,
            &self.actor,
            &self.detail,
        ))
        .unwrap_or_default()
    }

    pub fn canonical(&self) -> String {
        canonical("event", self.seq, &self.fields_json())
    }
}

/// `["kind",seq,field,…]`: the row's canonical serialisation, from its kind, position and
/// `fields_json`.
pub fn canonical(kind: &str, seq: i64, fields_json: &str) -> String {
    let rest = fields_json.strip_prefix('[').unwrap_or(fields_json);
    format!("[\"{kind}\",{seq},{rest}")
}

pub fn link(prev_hash: &str, canonical: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical.as_bytes());
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_field_change_changes_the_hash() {
        let row = EventRow {
            seq: 2,
            receipt_id: "r".into(),
            time_ms: 1,
            outcome: "allowed".into(),
            actor: "policy".into(),
            detail: "{}".into(),
        };
        let base = link(GENESIS, &row.canonical());
        let mut changed = row.clone();
        changed.outcome = "denied".into();
        assert_ne!(base, link(GENESIS, &changed.canonical()));
        assert_ne!(base, link(&"1".repeat(64), &row.canonical()));
        assert_eq!(base, link(GENESIS, &row.canonical()));
    }
}
