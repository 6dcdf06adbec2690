//! `airlock verify`'s second half: every security-key approval in the receipt log is
//! re-checked offline against the stored public keys (removed keys included).

use super::{Proof, binding, proof};
use crate::store::chain::ReceiptRow;
use crate::store::{Store, StoreError};
use airlock_protocol::StepUpTarget;
use rusqlite::OptionalExtension;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProofReport {
    /// Security-key proofs found and verified.
    pub verified: usize,
    /// The first one that did not verify.
    pub problem: Option<ProofProblem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProofProblem {
    pub seq: i64,
    pub receipt_id: String,
    pub message: String,
}

pub fn verify_proofs(store: &Store) -> Result<ProofReport, StoreError> {
    let keys: HashMap<String, String> = store
        .all_keys()?
        .into_iter()
        .map(|k| (k.info.id, k.credential))
        .collect();
    let conn = store.conn();
    // (seq, receipt id, the proof's JSON, the receipt fields it must bind, or None for controls)
    let mut found: Vec<(i64, String, serde_json::Value, Option<String>)> = Vec::new();
    let mut events = conn.prepare(
        "SELECT seq, receipt_id, detail FROM events WHERE outcome = 'approved' AND detail LIKE '%\"step_up\"%' ORDER BY seq",
    )?;
    for row in events.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })? {
        let (seq, receipt_id, detail) = row?;
        let detail: serde_json::Value = serde_json::from_str(&detail).unwrap_or_default();
        let fields = receipt_row(store, &receipt_id)?.map(|r| r.fields_json());
        found.push((
            seq,
            receipt_id,
            detail["step_up"].clone(),
            Some(fields.unwrap_or_default()),
        ));
    }
    let mut controls = conn.prepare(
        "SELECT seq, id, input FROM receipts WHERE event = 'control' AND input LIKE '%\"step_up\"%' ORDER BY seq",
    )?;
    for row in controls.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })? {
        let (seq, id, input) = row?;
        let input: serde_json::Value = serde_json::from_str(&input).unwrap_or_default();
        found.push((seq, id, input["step_up"].clone(), None));
    }
    found.sort_by_key(|f| f.0);

    let mut report = ProofReport {
        verified: 0,
        problem: None,
    };
    for (seq, receipt_id, value, fields) in found {
        if let Err(message) = check(&receipt_id, value, fields.as_deref(), &keys) {
            report.problem = Some(ProofProblem {
                seq,
                receipt_id,
                message,
            });
            return Ok(report);
        }
        report.verified += 1;
    }
    Ok(report)
}

fn check(
    receipt_id: &str,
    value: serde_json::Value,
    fields: Option<&str>,
    keys: &HashMap<String, String>,
) -> Result<(), String> {
    let proof: Proof = serde_json::from_value(value)
        .map_err(|e| format!("the security-key proof is malformed: {e}"))?;
    match (&proof.target, fields) {
        (StepUpTarget::Approve { id, .. }, Some(_)) if id == receipt_id => {}
        (StepUpTarget::Approve { .. }, _) => {
            return Err("the security-key proof names a different request".into());
        }
        (_, Some(_)) => return Err("an approval carries a proof for a different action".into()),
        (_, None) => {}
    }
    let credential = keys.get(&proof.credential_id).ok_or_else(|| {
        format!(
            "the key {} that signed is not in the key table",
            proof.credential_id
        )
    })?;
    let action = binding::action_bytes(&proof.target, fields);
    proof::verify(&proof, &action, credential)
        .map_err(|e| format!("security-key approval does not verify: {e}"))
}

fn receipt_row(store: &Store, id: &str) -> Result<Option<ReceiptRow>, StoreError> {
    Ok(store
        .conn()
        .query_row(
            "SELECT seq, id, time_ms, agent, session, cwd, tool, event, tool_use_id, input, classes, rules, decision, reason, detail FROM receipts WHERE id = ?1",
            [id],
            |r| {
                Ok(ReceiptRow {
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
            },
        )
        .optional()?)
}
