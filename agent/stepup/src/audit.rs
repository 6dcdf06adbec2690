//! `airlock verify`'s second half: every security-key approval in the receipt log is
//! re-checked offline against the stored public keys (removed keys included), and every key
//! row must be one a chained registration vouches for whose attestation re-verifies against the
//! trust roots (see [`super::attested`]).

use super::attested::KeyJudge;
use super::{Proof, binding, proof};
use airlock_protocol::StepUpTarget;
use airlock_store::chain::ReceiptRow;
use airlock_store::{Store, StoreError};
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

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Trust(#[from] super::trust::TrustError),
}

/// The whole security-key audit `airlock verify` (and the window) run: every key row judged
/// against the trust roots of these settings, then every recorded approval re-checked with the
/// keys that pass.
pub fn audit(
    store: &Store,
    step_up: &airlock_client::settings::StepUpSettings,
) -> Result<(KeyReport, ProofReport), AuditError> {
    let judge = KeyJudge::new(super::trust::attestation_cas(step_up)?);
    let keys = verify_keys(store, &judge)?;
    let proofs = verify_proofs(store, &judge)?;
    Ok((keys, proofs))
}

/// What `verify` found about the registered keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyReport {
    /// Keys (removed ones included) whose registration re-verified.
    pub verified: usize,
    /// Every key row that is refused, and why.
    pub problems: Vec<String>,
}

/// Check every key row: vouched for by a chained registration, and attested.
pub fn verify_keys(store: &Store, judge: &KeyJudge) -> Result<KeyReport, StoreError> {
    let mut report = KeyReport {
        verified: 0,
        problems: Vec::new(),
    };
    for id in store.unvouched_key_rows()? {
        report.problems.push(format!(
            "security key row {id} was not written by a registration: no chained `key add` receipt vouches for it"
        ));
    }
    for key in store.all_keys()? {
        match judge.judge(&key) {
            Ok(()) => report.verified += 1,
            Err(why) => report.problems.push(why),
        }
    }
    Ok(report)
}

/// Re-check every security-key proof in the chain with the keys `judge` accepts.
pub fn verify_proofs(store: &Store, judge: &KeyJudge) -> Result<ProofReport, StoreError> {
    let keys: HashMap<String, String> = store
        .all_keys()?
        .into_iter()
        .filter(|k| judge.judge(k).is_ok())
        .map(|k| (k.info.id, k.credential))
        .collect();
    // (seq, receipt id, the proof's JSON, the receipt fields it must bind (approvals), or the
    // control action it must authorise)
    let mut found: Vec<(i64, String, serde_json::Value, Binds)> = Vec::new();
    // Window by window, each its own short read: a long scan would pin the write-ahead log.
    // Up to the last row present, not the recorded head: rows past a moved-back head count too.
    let head: i64 = store.conn().query_row(
        "SELECT coalesce(max(m), 0) FROM (SELECT max(seq) AS m FROM receipts UNION ALL SELECT max(seq) FROM events)",
        [],
        |r| r.get(0),
    )?;
    let mut after = 0;
    while after < head {
        let upto = after + WINDOW;
        collect_window(store, after, upto, &mut found)?;
        after = upto;
    }
    found.sort_by_key(|f| f.0);

    let mut report = ProofReport {
        verified: 0,
        problem: None,
    };
    for (seq, receipt_id, value, binds) in found {
        if let Err(message) = check(&receipt_id, value, &binds, &keys) {
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

/// Chain positions scanned per read.
const WINDOW: i64 = 2000;

/// Proofs recorded in rows `after < seq <= upto`.
fn collect_window(
    store: &Store,
    after: i64,
    upto: i64,
    found: &mut Vec<(i64, String, serde_json::Value, Binds)>,
) -> Result<(), StoreError> {
    let conn = store.conn();
    let mut events = conn.prepare_cached(
        "SELECT e.seq, e.receipt_id, e.detail, r.decision FROM events e JOIN receipts r ON r.id = e.receipt_id WHERE e.seq > ?1 AND e.seq <= ?2 AND e.outcome = 'approved' AND (r.decision = 'step-up' OR instr(e.detail, '\"step_up\"') > 0) ORDER BY e.seq",
    )?;
    for row in events.query_map([after, upto], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
        ))
    })? {
        let (seq, receipt_id, detail, _decision) = row?;
        let detail: serde_json::Value = serde_json::from_str(&detail).unwrap_or_default();
        let fields = receipt_row(store, &receipt_id)?
            .map(|r| r.fields_json())
            .unwrap_or_default();
        // A step-up receipt approved without a proof fails below (`null` is not a proof).
        found.push((
            seq,
            receipt_id,
            detail["step_up"].clone(),
            Binds::Receipt(fields),
        ));
    }
    let mut controls = conn.prepare_cached(
        "SELECT seq, id, tool, input FROM receipts WHERE seq > ?1 AND seq <= ?2 AND event = 'control' AND instr(input, '\"step_up\"') > 0 ORDER BY seq",
    )?;
    for row in controls.query_map([after, upto], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
        ))
    })? {
        let (seq, id, tool, input) = row?;
        let input: serde_json::Value = serde_json::from_str(&input).unwrap_or_default();
        found.push((
            seq,
            id,
            input["step_up"].clone(),
            Binds::Control(tool, input),
        ));
    }
    Ok(())
}

/// What a proof must be about.
enum Binds {
    /// The approval of this receipt (its chained fields).
    Receipt(String),
    /// The control action recorded in this receipt (tool and input).
    Control(String, serde_json::Value),
}

fn check(
    receipt_id: &str,
    value: serde_json::Value,
    binds: &Binds,
    keys: &HashMap<String, String>,
) -> Result<(), String> {
    if value.is_null() {
        return Err("a step-up request was approved without a security-key proof".to_string());
    }
    let proof: Proof = serde_json::from_value(value)
        .map_err(|e| format!("the security-key proof is malformed: {e}"))?;
    let fields = match (binds, &proof.target) {
        (Binds::Receipt(fields), StepUpTarget::Approve { id, .. }) if id == receipt_id => {
            Some(fields.as_str())
        }
        (Binds::Receipt(_), _) => {
            return Err("the security-key proof is for a different request".into());
        }
        (Binds::Control(tool, input), target) => {
            let matches = match target {
                StepUpTarget::Resume => tool == "airlock resume",
                StepUpTarget::KeyAdd { name } => {
                    tool == "airlock key add" && input["name"] == name.as_str()
                }
                StepUpTarget::KeyRemove { id } => {
                    tool == "airlock key remove"
                        && (input["name"] == id.as_str() || input["credential_id"] == id.as_str())
                }
                StepUpTarget::Approve { .. } => false,
            };
            if !matches {
                return Err(format!(
                    "the security-key proof authorises a different action than `{tool}`"
                ));
            }
            None
        }
    };
    let credential = keys.get(&proof.credential_id).ok_or_else(|| {
        format!(
            "the key {} that signed is not a registered key (no row, a row its chained registration does not vouch for, or one whose attestation does not re-verify)",
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
            &format!("SELECT {} FROM receipts WHERE id = ?1", ReceiptRow::COLUMNS),
            [id],
            ReceiptRow::from_sql,
        )
        .optional()?)
}
