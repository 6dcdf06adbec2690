//! The decision path: classify, evaluate, record, answer (or hold for a human).

use super::controls::{self, AgentProcess};
use super::decision::{self, Action, ControlFacts, DecisionDetail, Facts, Ruling, UnitDetail};
use super::state::{Daemon, Pending, Resolution};
use crate::adapters;
use crate::classify::Classification;
use crate::policy::scopes::{self, Held};
use crate::policy::{Evaluation, amend};
use crate::redact::redact_value;
use crate::request::{ActionRequest, HookEvent, ToolCall};
use crate::store::{NewEvent, NewReceipt, Op, now_ms};
use airlock_protocol::{
    ActionClass, ApprovalScope, Decision, ErrorCode, Event, Outcome, PendingApproval,
    ReceiptSummary, Response, RuleHit, SessionState, StepUpTarget, Verdict,
};
use serde_json::{Value, json};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

/// How long after a PreToolUse approval a PermissionRequest for the same action is answered
/// from it instead of asking the human twice.
const PERMISSION_FOLLOW_UP: Duration = Duration::from_secs(120);

pub use super::who::Peer;
use super::who::Who;

mod always;
mod hold;
mod records;

impl Daemon {
    /// Handle one hook request. `closed` resolves if the hook's connection goes away (the agent
    /// gave up waiting), which cancels a pending approval.
    pub async fn handle_hook(
        self: &Arc<Self>,
        agent: &str,
        payload: Value,
        agent_pid: Option<u32>,
        peer: Peer,
        closed: impl Future<Output = ()>,
    ) -> Response {
        let mut request = match adapters::parse(agent, &payload) {
            Ok(r) => r,
            Err(err) => {
                return self
                    .record_bad_payload(agent, &payload, &err.to_string())
                    .await;
            }
        };
        // System mode: the request is its user's, judged in their view, kept in their
        // sessions.
        if let Some(users) = &self.users {
            let view = peer
                .uid
                .ok_or_else(|| "the kernel did not say who sent it".to_string())
                .and_then(|uid| users.view(uid));
            match view {
                Ok(view) => {
                    request.session = Some(super::users::session_of(
                        &view.user.name,
                        request.session.as_deref(),
                    ));
                }
                Err(why) => {
                    return self
                        .record_bad_payload(
                            agent,
                            &payload,
                            &format!("no user to judge it for: {why}"),
                        )
                        .await;
                }
            }
        }
        let result = if request.event.is_decision() {
            self.decide(request, agent_pid, peer, closed).await
        } else {
            self.record_execution(request).await
        };
        match result {
            Ok(verdict) => Response::Verdict(verdict),
            Err(err) => {
                tracing::error!(error = %err, "hook request failed");
                Response::Error {
                    code: ErrorCode::Internal,
                    message: format!(
                        "Airlock could not record a decision, so the call is blocked: {err}"
                    ),
                }
            }
        }
    }

    async fn decide(
        self: &Arc<Self>,
        request: ActionRequest,
        agent_pid: Option<u32>,
        peer: Peer,
        closed: impl Future<Output = ()>,
    ) -> Result<Verdict, crate::store::StoreError> {
        self.decisions.fetch_add(1, Ordering::Relaxed);
        let now = now_ms();
        let session = session_name(&request);
        // Init is never an agent: a hook whose parents all exited names it.
        // The agent's pid is the hook's word: believed only for a process of the hook's own
        // user (in system mode another user's process, or the daemon's, is never an "agent"
        // whose descendants lose the right to approve, or whom `stop --kill` signals).
        let agent_process = agent_pid
            .filter(|pid| *pid > 1 && *pid != std::process::id())
            .filter(|pid| self.users.is_none() || process_owner(*pid) == peer.uid)
            .and_then(|pid| {
                controls::process_start_time(pid).map(|start_time| AgentProcess { pid, start_time })
            });
        self.controls.touch(
            &session,
            &request.agent,
            &request.cwd.display().to_string(),
            agent_process,
            now,
        );
        let judge = match self.judge_of(request.session.as_deref()).await {
            Ok(judge) => judge,
            Err(why) => return self.record_unjudged(&request, &why).await,
        };
        let mut classification = off_the_reactor(|| judge.classifier(self).classify(&request));
        let policy = judge.policy.clone();
        policy.enrich(&request, &mut classification);
        let evaluation = policy.evaluate(&request, &classification);
        let action = action_key(&request);
        let session_key = (request.session.clone().unwrap_or_default(), action.clone());
        let id = uuid::Uuid::now_v7().to_string();

        let approved_before = if request.event == HookEvent::PermissionRequest {
            let recent = self
                .approvals
                .lock_recent()
                .by_action
                .get(&session_key)
                .cloned();
            recent.and_then(|(earlier, approved, when)| {
                let fresh = SystemTime::now().duration_since(when).unwrap_or_default()
                    < PERMISSION_FOLLOW_UP;
                (approved && fresh).then_some(earlier)
            })
        } else {
            None
        };
        let classes = classification.classes();
        let controls = ControlFacts {
            block: self.controls.block(&session, &classes),
            breaker: self.controls.trips_before(
                policy.breakers(),
                &session,
                &classes,
                &decision::tags_of(&classification),
                now,
            ),
            budget: self
                .controls
                .over_budget(policy.budgets(), &session, &classes, now),
        };
        let ruling = decision::rule(
            &Facts {
                session: &session,
                event: request.event,
                classification: &classification,
                evaluation: &evaluation,
                session_grant: request.session.is_some()
                    && self.approvals.lock_grants().contains(&session_key),
                approved_before: approved_before.as_deref(),
                controls,
                has_security_key: &|| self.has_security_key(),
            },
            crate::store::format_ms,
        );
        if let Some(trip) = &ruling.trip {
            self.trip(&session, &trip.breaker, &trip.reason).await;
        }
        let Ruling {
            decision,
            hits,
            reason,
            action: ruled,
            ..
        } = ruling;
        let detail = DecisionDetail {
            units: classification.units.iter().map(UnitDetail::of).collect(),
            policy_decision: evaluation.decision,
            policy_sha256: policy.bundle_sha256(),
            subagent: request.subagent.as_deref(),
            subagent_type: request.subagent_type.as_deref(),
            permission_mode: request.permission_mode.as_deref(),
            agent_pid,
            hook_pid: peer.pid,
            os_user: os_user(peer.uid, judge.user()),
        };
        let receipt = NewReceipt {
            time_ms: now,
            rules: json!(hits),
            ..receipt_of(
                &request,
                &id,
                json!(classes),
                decision,
                &reason,
                detail.to_value(),
            )
        };
        let verdict_classes: Vec<ActionClass> = classes.iter().copied().collect();
        let rule_ids = decision::rule_ids(&hits);
        let verdict = |outcome: Outcome, reason: String| Verdict {
            receipt_id: id.clone(),
            decision,
            outcome,
            classes: verdict_classes.clone(),
            rules: rule_ids.clone(),
            reason,
        };

        match ruled {
            Action::Refuse {
                outcome,
                detail,
                answer,
            } => {
                self.write_first(receipt, outcome, "controls", detail)
                    .await?;
                self.remember(&request, &id, false);
                self.after_refusal(&session, &policy, now).await;
                Ok(verdict(outcome, answer))
            }
            Action::Allow => {
                // Pre-images first: their manifest is chained in the receipt itself.
                let (snapshots, manifest) =
                    self.take_snapshots(&id, &request, &classification, false);
                let mut receipt = receipt;
                if let Some(manifest) = manifest {
                    receipt.detail["snapshots"] = manifest;
                }
                self.write_first(receipt, Outcome::Allowed, "policy", json!({}))
                    .await?;
                if !snapshots.is_empty() {
                    self.write(snapshots).await?;
                }
                self.remember(&request, &id, true);
                self.controls
                    .record_permitted(policy.budgets(), &session, &classes, now);
                Ok(verdict(Outcome::Allowed, reason))
            }
            Action::Deny { answer } => {
                self.write_first(receipt, Outcome::Denied, "policy", json!({}))
                    .await?;
                self.remember(&request, &id, false);
                self.after_refusal(&session, &policy, now).await;
                Ok(verdict(Outcome::Denied, answer))
            }
            Action::DenyNoKey { answer } => {
                let now_shown = now_ms();
                let held = Held {
                    request: &request,
                    classification: &classification,
                    evaluation: &evaluation,
                };
                let _ = self.events.send(Event::StepUpUnavailable {
                    approval: self.pending_approval(
                        &policy,
                        &id,
                        &held,
                        hits.clone(),
                        &reason,
                        (now_shown, now_shown),
                    ),
                });
                self.write_first(
                    receipt,
                    Outcome::Denied,
                    "policy",
                    json!({"step_up": "no security key registered"}),
                )
                .await?;
                self.remember(&request, &id, false);
                self.after_refusal(&session, &policy, now).await;
                Ok(verdict(Outcome::Denied, answer))
            }
            Action::Hold => {
                let receipt_fields = receipt.fields_json();
                self.write_first(receipt, Outcome::ApprovalRequired, "policy", json!({}))
                    .await?;
                let (outcome, why) = self
                    .hold(
                        &id,
                        request.clone(),
                        classification.clone(),
                        evaluation,
                        hits,
                        reason,
                        receipt_fields,
                        closed,
                    )
                    .await?;
                self.remember(&request, &id, outcome.permits());
                if outcome.permits() {
                    // (The pre-images were taken as the approval was recorded, in `hold`.)
                    self.controls
                        .record_permitted(policy.budgets(), &session, &classes, now_ms());
                } else if outcome != Outcome::Canceled {
                    self.after_refusal(&session, &policy, now_ms()).await;
                }
                Ok(verdict(outcome, why))
            }
        }
    }

    /// Count a refusal; a denial breaker that trips contains the session.
    async fn after_refusal(&self, session: &str, policy: &crate::policy::Policy, now: i64) {
        if let Some(breaker) = self
            .controls
            .record_refusal(policy.breakers(), session, now)
        {
            let reason = format!(
                "circuit breaker `{}` tripped: {}",
                breaker.id, breaker.justification
            );
            self.trip(session, &breaker.id, &reason).await;
        }
    }

    /// Contain a session because a breaker tripped, tell subscribers, and record the trip as a
    /// chained `airlock breaker trip` (a trip by a denial count has no request receipt of its
    /// own that says so).
    async fn trip(&self, session: &str, breaker: &str, reason: &str) {
        let input = json!({
            "action": "breaker trip",
            "session": session,
            "breaker": breaker,
            "contained": true,
        });
        if let Err(e) = self
            .record_control("breaker trip", input, Outcome::Executed, "daemon", reason)
            .await
        {
            tracing::error!(error = %e, "cannot record a breaker trip");
        }
        match self.controls.set_state(
            session,
            SessionState::Contained,
            &format!("breaker `{breaker}`"),
        ) {
            Ok(summary) => {
                tracing::warn!(
                    session,
                    breaker,
                    "circuit breaker tripped; session contained"
                );
                let _ = self.events.send(Event::BreakerTripped {
                    session: session.to_string(),
                    breaker: breaker.to_string(),
                    reason: reason.to_string(),
                });
                let _ = self.events.send(Event::SessionChanged { session: summary });
            }
            Err(err) => tracing::error!(error = %err, "cannot persist a contained session"),
        }
    }
}

/// Sessions are keyed by the agent's session id; requests without one share a pseudo-session.
/// Run `f` (a classification: it reads files and may take a while) without holding up the
/// daemon's other connections: the worker it runs on hands its other tasks to a new one
/// (review round 16, R16-2). Outside a multi-threaded runtime it just runs.
pub(crate) fn off_the_reactor<R>(f: impl FnOnce() -> R) -> R {
    let multi = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if multi {
        tokio::task::block_in_place(f)
    } else {
        f()
    }
}

pub fn session_name(request: &ActionRequest) -> String {
    request
        .session
        .clone()
        .unwrap_or_else(|| format!("({} without session)", request.agent))
}

/// The normalised action: what "the same action" means for session grants and for linking
/// hook events of one call.
pub fn action_key(request: &ActionRequest) -> String {
    let tool = &request.tool;
    let words = |command: &str| command.split_whitespace().collect::<Vec<_>>().join(" ");
    match &request.call {
        ToolCall::Shell { command }
        | ToolCall::PowerShell {
            command: Some(command),
        } => format!("{tool}:{}", words(command)),
        ToolCall::WriteFile { path, .. } | ToolCall::EditFile { path, .. } => {
            format!("{tool}:{path}")
        }
        ToolCall::WebFetch { url } => format!("{tool}:{url}"),
        _ => format!("{tool}:{}", request.input),
    }
}

/// A few words for a notification: the agent, the tool and the classes, never the full command.
fn summary(request: &ActionRequest, classification: &Classification) -> String {
    let classes: Vec<&str> = classification
        .classes()
        .into_iter()
        .filter(|c| *c != ActionClass::Read)
        .map(|c| c.as_str())
        .collect();
    let program = classification
        .units
        .iter()
        .find_map(|u| u.program.clone())
        .map(|p| format!(" `{p}`"))
        .unwrap_or_default();
    format!(
        "{} wants to run {}{} ({})",
        request.agent,
        request.tool,
        program,
        classes.join(", ")
    )
}

/// The uid a process runs as (the owner of its `/proc` entry).
fn process_owner(pid: u32) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/proc/{pid}"))
        .ok()
        .map(|m| m.uid())
}

/// A receipt for `request` as it came, with no rule hits and the time now (a decided request's
/// receipt sets its own time and hits on top).
fn receipt_of(
    request: &ActionRequest,
    id: &str,
    classes: Value,
    decision: Decision,
    reason: &str,
    detail: Value,
) -> NewReceipt {
    NewReceipt {
        id: id.to_string(),
        time_ms: now_ms(),
        agent: request.agent.clone(),
        session: request.session.clone(),
        cwd: request.cwd.display().to_string(),
        tool: request.tool.clone(),
        event: request.event.as_str().to_string(),
        tool_use_id: request.tool_use_id.clone(),
        input: redact_value(&request.input),
        classes,
        rules: json!([]),
        decision: decision.as_str().to_string(),
        reason: reason.to_string(),
        detail,
    }
}

fn forbidden(why: &str) -> Response {
    Response::Error {
        code: ErrorCode::Forbidden,
        message: why.to_string(),
    }
}

/// Who the request is by, as the kernel says (the daemon's own user in user mode; its name
/// looked up once, not on every request's path).
fn os_user(uid: Option<u32>, judged_for: Option<&crate::system::OsUser>) -> decision::OsUserDetail {
    static OWN: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let name = match judged_for {
        Some(user) => Some(user.name.clone()),
        None => OWN
            .get_or_init(|| {
                crate::system::OsUser::by_uid(rustix::process::geteuid().as_raw()).map(|u| u.name)
            })
            .clone(),
    };
    decision::OsUserDetail { uid, name }
}

fn not_found(id: &str) -> Response {
    Response::Error {
        code: ErrorCode::NotFound,
        message: format!(
            "no pending request `{id}` (it may have been decided or expired); see `airlock pending`"
        ),
    }
}

/// The justification of a rule added by an `always` approval.
fn always_note(id: &str) -> String {
    format!(
        "Always allowed from Airlock request {id} on {}.",
        jiff::Timestamp::now().strftime("%Y-%m-%d")
    )
}
