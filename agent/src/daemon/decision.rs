//! The decision core: what the daemon rules for one request, from what its components know at
//! that moment — the classification, the policy's evaluation, the session's grants and the
//! runtime controls. Pure: no I/O, no clock, no locks, no events. `decide.rs` gathers the facts,
//! asks [`rule`], then carries the ruling out (a breaker trip, the receipt, a hold, the answer),
//! so every front end that decides tool calls (the hook today; an MCP proxy next) shares one
//! order of precedence, tested here directly.
//!
//! The order: the policy's decision; a human's earlier approval of the same action (a session
//! grant, or the PreToolUse approval a PermissionRequest follows) turns an `ask` into `allow`;
//! then runtime controls refuse whatever that says — the emergency stop or a canceled or
//! contained session, a circuit breaker the request trips, an exhausted budget; a `step-up`
//! with no security key registered is denied; what is left is allowed, denied or held.

use super::controls::Block;
use crate::classify::Classification;
use crate::policy::Evaluation;
use crate::policy::{Breaker, Budget};
use crate::request::HookEvent;
use airlock_protocol::{ActionClass, Decision, Outcome, RuleHit};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// What the daemon knows when a request arrives.
pub struct Facts<'a> {
    pub session: &'a str,
    pub event: HookEvent,
    pub classification: &'a Classification,
    pub evaluation: &'a Evaluation,
    /// A human approved this exact action for this session earlier, in Airlock.
    pub session_grant: bool,
    /// The receipt of a PreToolUse approval of this action recent enough that this
    /// PermissionRequest is answered from it.
    pub approved_before: Option<&'a str>,
    pub controls: ControlFacts<'a>,
    /// Whether a security key is registered: asked only of a `step-up` (it reads the store).
    pub has_security_key: &'a dyn Fn() -> bool,
}

/// The runtime controls as they stand for the request's session (looked up, not acted on).
#[derive(Default)]
pub struct ControlFacts<'a> {
    /// The emergency stop, or the session canceled or contained (for what it does).
    pub block: Option<Block>,
    /// A breaker the request trips before it runs (a tag, or a sequence of classes).
    pub breaker: Option<&'a Breaker>,
    /// A budget the request would exceed.
    pub budget: Option<&'a Budget>,
}

/// What to do with the request.
#[derive(Debug, Clone, PartialEq)]
pub struct Ruling {
    /// The decision the receipt records: the policy's, or `allow` by a human's earlier approval.
    pub decision: Decision,
    /// The rules (or grant, or control) behind it.
    pub hits: Vec<RuleHit>,
    /// Why, for the receipt.
    pub reason: String,
    pub action: Action,
    /// A breaker this request trips: its session is to be contained, before anything is
    /// recorded of the request itself.
    pub trip: Option<Trip>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A runtime control refuses it whatever the policy said.
    Refuse {
        outcome: Outcome,
        /// What the receipt's first event says (which control).
        detail: Value,
        /// What the agent is told.
        answer: String,
    },
    Allow,
    Deny {
        answer: String,
    },
    /// It needs a security-key approval and no key is registered: denied, and the person told
    /// how to fix that.
    DenyNoKey {
        answer: String,
    },
    /// Held for a human (`ask`) or a security key (`step-up`).
    Hold,
}

/// A circuit breaker tripping: contain the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trip {
    pub breaker: String,
    pub reason: String,
}

/// Rule on one request. `format_time` renders a time for a person (the emergency stop's).
pub fn rule(facts: &Facts, format_time: impl Fn(i64) -> String) -> Ruling {
    let classification = facts.classification;
    let mut decision = facts.evaluation.decision;
    let mut hits = facts.evaluation.hits.clone();
    let mut reason = facts.evaluation.reason.clone();
    if decision == Decision::Ask && facts.session_grant {
        decision = Decision::Allow;
        hits = vec![grant_hit(
            "grant.session",
            "approved for this session earlier",
            classification,
        )];
        reason = "allowed: a human approved this action for this session in Airlock".to_string();
    }
    if decision == Decision::Ask
        && facts.event == HookEvent::PermissionRequest
        && let Some(earlier) = facts.approved_before
    {
        decision = Decision::Allow;
        hits = vec![grant_hit(
            "grant.pre-tool-use",
            &format!("already approved in receipt {earlier}"),
            classification,
        )];
        reason = format!("allowed: already approved in Airlock (receipt {earlier})");
    }

    // Runtime controls come before the policy's answer: a stop, a canceled or contained
    // session, a tripped breaker or an exhausted budget refuses whatever policy said.
    let (refusal, trip) = gate(facts, decision, format_time);
    if let Some(refusal) = refusal {
        return Ruling {
            decision,
            hits: vec![refusal.hit],
            action: Action::Refuse {
                outcome: refusal.outcome,
                detail: refusal.detail,
                answer: deny_for_model(&refusal.reason),
            },
            reason: refusal.reason,
            trip,
        };
    }
    let action = match decision {
        Decision::Allow => Action::Allow,
        Decision::Deny => Action::Deny {
            answer: deny_for_model(&reason),
        },
        Decision::StepUp if !(facts.has_security_key)() => Action::DenyNoKey {
            answer: format!(
                "{reason}. It needs a security-key approval, but no security key is registered with Airlock (register one with `airlock key add`), so it was not run. Tell the user it needs a security-key approval."
            ),
        },
        Decision::Ask | Decision::StepUp => Action::Hold,
    };
    Ruling {
        decision,
        hits,
        reason,
        action,
        trip,
    }
}

/// A request refused by a runtime control.
struct Refusal {
    outcome: Outcome,
    hit: RuleHit,
    reason: String,
    detail: Value,
}

/// The runtime control that refuses the request, if any, and a breaker it trips (which may
/// trip without refusing: a request the policy denies anyway still contains its session).
fn gate(
    facts: &Facts,
    decision: Decision,
    format_time: impl Fn(i64) -> String,
) -> (Option<Refusal>, Option<Trip>) {
    let session = facts.session;
    let classes = facts.classification.classes();
    let first_class = classes
        .iter()
        .next()
        .copied()
        .unwrap_or(ActionClass::Unknown);
    let hit = |id: &str, justification: &str| RuleHit {
        id: id.to_string(),
        decision: Decision::Deny,
        justification: justification.to_string(),
        class: first_class,
        source: "controls".to_string(),
    };
    if let Some(block) = &facts.controls.block {
        let (id, reason) = match block {
            Block::Stopped(stop) => (
                "control.emergency-stop",
                format!(
                    "Airlock's emergency stop is on (since {}, by {}: {}); every agent action is denied until a person runs `airlock resume`",
                    format_time(stop.since_ms),
                    stop.by,
                    stop.reason
                ),
            ),
            Block::SessionCanceled(why) => (
                "control.session-canceled",
                format!(
                    "this session was canceled in Airlock ({why}); every further action is denied"
                ),
            ),
            Block::SessionContained(why) => (
                "control.session-contained",
                format!(
                    "this session is contained in Airlock ({why}); only reading is allowed until a person runs `airlock session release {session}`"
                ),
            ),
        };
        let refusal = Refusal {
            outcome: Outcome::Denied,
            hit: hit(id, &reason),
            detail: json!({"control": id}),
            reason,
        };
        return (Some(refusal), None);
    }
    if let Some(breaker) = facts.controls.breaker {
        if decision == Decision::Deny {
            // The policy's deny stands as the reason; the attempt still contains the session.
            let trip = Trip {
                breaker: breaker.id.clone(),
                reason: format!(
                    "circuit breaker `{}` tripped: {}",
                    breaker.id, breaker.justification
                ),
            };
            return (None, Some(trip));
        }
        let reason = format!(
            "circuit breaker `{}` tripped: {} The session is now contained (only reading is allowed) until a person runs `airlock session release {session}`",
            breaker.id, breaker.justification
        );
        let trip = Trip {
            breaker: breaker.id.clone(),
            reason: reason.clone(),
        };
        let refusal = Refusal {
            outcome: Outcome::Denied,
            hit: hit(&breaker.id, &breaker.justification),
            detail: json!({"breaker": breaker.id}),
            reason,
        };
        return (Some(refusal), Some(trip));
    }
    if decision < Decision::Deny
        && let Some(budget) = facts.controls.budget
    {
        let reason = format!(
            "rate limited by budget `{}`: at most {} such actions per {} s{} ({})",
            budget.id,
            budget.max,
            budget.window.as_secs(),
            if budget.per_session {
                " in a session"
            } else {
                ""
            },
            budget.justification
        );
        let refusal = Refusal {
            outcome: Outcome::RateLimited,
            hit: hit(&budget.id, &budget.justification),
            detail: json!({"budget": budget.id}),
            reason,
        };
        return (Some(refusal), None);
    }
    (None, None)
}

/// The tags of every unit, for breakers that trip on one.
pub fn tags_of(classification: &Classification) -> BTreeSet<String> {
    classification
        .units
        .iter()
        .flat_map(|u| u.tags.iter().cloned())
        .collect()
}

fn grant_hit(id: &str, justification: &str, classification: &Classification) -> RuleHit {
    RuleHit {
        id: id.to_string(),
        decision: Decision::Allow,
        justification: justification.to_string(),
        class: classification
            .classes()
            .into_iter()
            .next()
            .unwrap_or(ActionClass::Unknown),
        source: "daemon".to_string(),
    }
}

/// What the agent is told when a request is refused: the reason, and not to work around it.
pub fn deny_for_model(reason: &str) -> String {
    format!(
        "{reason}. Do not try to reach the same result another way; if it is needed, ask the user."
    )
}

/// The rule ids of `hits`, each once, in order (a verdict's `rules`).
pub fn rule_ids(hits: &[RuleHit]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for hit in hits {
        if !ids.contains(&hit.id) {
            ids.push(hit.id.clone());
        }
    }
    ids
}

/// The decision part of a request's receipt detail: what was classified and judged, and by
/// which policy. Typed here, so what a receipt says of a decision has one definition.
#[derive(Debug, Serialize)]
pub struct DecisionDetail<'a> {
    pub units: Vec<UnitDetail<'a>>,
    /// What the policy said before grants and controls.
    pub policy_decision: Decision,
    pub policy_sha256: &'a str,
    pub subagent: Option<&'a str>,
    pub subagent_type: Option<&'a str>,
    pub permission_mode: Option<&'a str>,
    pub agent_pid: Option<u32>,
    pub hook_pid: Option<u32>,
    pub os_user: OsUserDetail,
}

/// One classified unit, as a receipt keeps it (its text redacted).
#[derive(Debug, Serialize)]
pub struct UnitDetail<'a> {
    pub text: String,
    pub depth: usize,
    pub program: Option<&'a str>,
    pub classes: &'a BTreeSet<ActionClass>,
    pub tags: &'a BTreeSet<String>,
    pub paths: &'a [crate::classify::PathRef],
    pub hosts: &'a [String],
    pub source: &'a str,
}

/// Who the request is by, as the kernel says.
#[derive(Debug, Serialize)]
pub struct OsUserDetail {
    pub uid: Option<u32>,
    pub name: Option<String>,
}

impl<'a> UnitDetail<'a> {
    pub fn of(unit: &'a crate::classify::Unit) -> Self {
        Self {
            text: crate::redact::redact_str(&unit.text),
            depth: unit.depth,
            program: unit.program.as_deref(),
            classes: &unit.classes,
            tags: &unit.tags,
            paths: &unit.paths,
            hosts: &unit.hosts,
            source: &unit.source,
        }
    }
}

impl DecisionDetail<'_> {
    /// As JSON (a receipt's `detail`, which later steps add to).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or_else(|e| json!({"unserializable": e.to_string()}))
    }
}

#[cfg(test)]
mod tests;
