//! Holding a request for a human: the wait, approval, denial, cancellation, the pending list.

use super::*;

impl Daemon {
    /// Wait for a human (or expiry, or the agent giving up). Records the outcome.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn hold(
        self: &Arc<Self>,
        id: &str,
        request: ActionRequest,
        classification: Classification,
        evaluation: Evaluation,
        hits: Vec<RuleHit>,
        reason: String,
        receipt_fields: String,
        closed: impl Future<Output = ()>,
    ) -> Result<(Outcome, String), crate::store::StoreError> {
        let created = now_ms();
        let timeout = self.live.approval_timeout();
        let held = Held {
            request: &request,
            classification: &classification,
            evaluation: &evaluation,
        };
        let policy = match self.judge_of(request.session.as_deref()).await {
            Ok(judge) => judge.policy,
            Err(_) => self.policy.current(),
        };
        let approval = self.pending_approval(
            &policy,
            id,
            &held,
            hits,
            &reason,
            (created, created + timeout.as_millis() as i64),
        );
        let (resolve, resolution) = tokio::sync::oneshot::channel();
        self.approvals.lock_pending().insert(
            id.to_string(),
            Pending {
                approval: approval.clone(),
                request,
                classification,
                evaluation,
                receipt_fields,
                resolve: Some(resolve),
            },
        );
        let _ = self.events.send(Event::ApprovalPending { approval });

        let result = tokio::select! {
            r = resolution => r.ok(),
            () = tokio::time::sleep(timeout) => None,
            () = closed => Some(Resolution::Canceled {
                reason: "the agent stopped waiting (hook timed out or the agent was stopped)".into(),
                actor: "agent".into(),
            }),
        };
        let held = self.approvals.lock_pending().remove(id);
        self.stepup.forget(id);
        let (outcome, actor, mut detail, why) = match result {
            Some(Resolution::Approved {
                scope,
                actor,
                who,
                note,
                proof,
            }) => (
                Outcome::Approved,
                actor,
                match &proof {
                    Some(proof) => json!({
                        "scope": scope,
                        "note": note,
                        "who": who,
                        "key_touched": true,
                        "step_up": proof,
                    }),
                    None => {
                        json!({"scope": scope, "note": note, "who": who, "key_touched": false})
                    }
                },
                match proof {
                    Some(_) => {
                        "approved by a human in Airlock with a security-key touch".to_string()
                    }
                    None => format!("approved by a human in Airlock (scope: {})", scope.as_str()),
                },
            ),
            Some(Resolution::Rejected {
                reason: r,
                actor,
                who,
            }) => {
                let why = match &r {
                    Some(text) => format!(
                        "A human rejected this action in Airlock: {text}. Do not try to reach the same result another way; ask the user how to proceed."
                    ),
                    None => "A human rejected this action in Airlock. Do not try to reach the same result another way; ask the user how to proceed.".to_string(),
                };
                (
                    Outcome::Rejected,
                    actor,
                    json!({"reason": r, "who": who, "key_touched": false}),
                    why,
                )
            }
            Some(Resolution::Canceled { reason: r, actor }) => (
                Outcome::Canceled,
                actor,
                json!({"reason": r}),
                format!("Airlock canceled this request: {r}. The action was not run."),
            ),
            None => (
                Outcome::Expired,
                "expiry".to_string(),
                json!({"after_secs": timeout.as_secs()}),
                format!(
                    "Nobody approved this in Airlock within {} seconds, so it was not run ({reason}). Ask the user to approve it (for example with `airlock pending` and `airlock approve`) before trying again.",
                    timeout.as_secs()
                ),
            ),
        };
        // An approved request is about to run: take its pre-images now (not when it was asked
        // for: files may have changed while it waited), with their manifest in the chained
        // approval event.
        let mut snapshots = Vec::new();
        if outcome == Outcome::Approved
            && let Some(held) = &held
        {
            let (ops, manifest) =
                self.take_snapshots(id, &held.request, &held.classification, true);
            if let Some(manifest) = manifest {
                detail["snapshots"] = manifest;
            }
            snapshots = ops;
        }
        let mut ops = vec![Op::Event(NewEvent {
            receipt_id: id.to_string(),
            time_ms: now_ms(),
            outcome: outcome.as_str().to_string(),
            actor,
            detail,
        })];
        ops.extend(snapshots);
        self.write(ops).await?;
        let _ = self.events.send(Event::ApprovalResolved {
            id: id.to_string(),
            outcome,
        });
        Ok((outcome, why))
    }

    /// Approve a pending request. With scope `always`, the policy amendment is written (and the
    /// amended policy loaded) before the request is released.
    pub async fn approve(
        &self,
        id: &str,
        scope: ApprovalScope,
        assertion: Option<&Value>,
        who: &Who,
    ) -> Response {
        let actor = &who.label();
        let (prepared, decision) = {
            let pending = self.approvals.lock_pending();
            match pending.get(id) {
                None => return not_found(id),
                Some(p) => (
                    (
                        p.request.clone(),
                        p.classification.clone(),
                        p.evaluation.clone(),
                    ),
                    p.approval.decision,
                ),
            }
        };
        // A security-key approval is for this one request; loosening policy from an approval
        // may be configured to need a key too, and "always" for a guarded action is refused
        // or needs one (see `policy::scopes`).
        if decision == Decision::StepUp && scope != ApprovalScope::Once {
            return crate::daemon::stepup::once_only(id);
        }
        let mut needs_key = decision == Decision::StepUp;
        if scope == ApprovalScope::Always {
            let (request, classification, evaluation) = &prepared;
            let held = Held {
                request,
                classification,
                evaluation,
            };
            let policy = match self.judge_of(request.session.as_deref()).await {
                Ok(judge) => judge.policy,
                Err(why) => return forbidden(&why),
            };
            match scopes::always(&held, &policy, self.always_settings()) {
                Ok(key) => needs_key |= key,
                Err(refused) => return self.refuse_always(id, &refused, actor).await,
            }
        }
        let proof = if needs_key {
            let target = StepUpTarget::Approve {
                id: id.to_string(),
                scope,
            };
            match self.checked_step_up(&target, assertion, actor).await {
                Ok(proof) => Some(Box::new(proof)),
                Err(refused) => return *refused,
            }
        } else {
            None
        };
        let mut note = None;
        if scope == ApprovalScope::Always {
            let (request, classification, evaluation) = prepared;
            match self
                .amend_policy(&request, &classification, &evaluation, id)
                .await
            {
                Ok(message) => note = Some(message),
                Err(message) => {
                    return Response::Error {
                        code: ErrorCode::Forbidden,
                        message,
                    };
                }
            }
        } else if scope == ApprovalScope::Session {
            let (request, ..) = prepared;
            match &request.session {
                Some(session) => {
                    self.approvals
                        .lock_grants()
                        .insert((session.clone(), action_key(&request)));
                }
                None => {
                    return Response::Error {
                        code: ErrorCode::BadRequest,
                        message: format!(
                            "request `{id}` has no session id, so it cannot be approved for the session; approve it `once`"
                        ),
                    };
                }
            }
        }
        let sender = self
            .approvals
            .lock_pending()
            .get_mut(id)
            .and_then(|p| p.resolve.take());
        match sender {
            Some(sender) => {
                let message = match &note {
                    Some(n) => format!("approved `{id}` ({}); {n}", scope.as_str()),
                    None => format!("approved `{id}` ({})", scope.as_str()),
                };
                let _ = sender.send(Resolution::Approved {
                    scope,
                    actor: actor.to_string(),
                    who: who.json(),
                    note,
                    proof,
                });
                Response::Done { message }
            }
            None => not_found(id),
        }
    }

    pub fn deny(&self, id: &str, reason: Option<String>, who: &Who) -> Response {
        let sender = self
            .approvals
            .lock_pending()
            .get_mut(id)
            .and_then(|p| p.resolve.take());
        match sender {
            Some(sender) => {
                let _ = sender.send(Resolution::Rejected {
                    reason,
                    actor: who.label(),
                    who: who.json(),
                });
                Response::Done {
                    message: format!("rejected `{id}`"),
                }
            }
            None => not_found(id),
        }
    }

    /// Cancel every pending approval (emergency stop, daemon shutdown).
    pub fn cancel_all(&self, reason: &str) {
        self.cancel_where(reason, |_| true);
    }

    /// Cancel the pending approvals of one session.
    pub fn cancel_session(&self, session: &str, reason: &str) {
        self.cancel_where(reason, |p| session_name(&p.request) == session);
    }

    pub(crate) fn cancel_where(&self, reason: &str, which: impl Fn(&Pending) -> bool) {
        let senders: Vec<_> = self
            .approvals
            .lock_pending()
            .values_mut()
            .filter(|p| which(p))
            .filter_map(|p| p.resolve.take())
            .collect();
        for sender in senders {
            let _ = sender.send(Resolution::Canceled {
                reason: reason.to_string(),
                actor: "daemon".into(),
            });
        }
    }

    pub fn pending_list(&self) -> Vec<PendingApproval> {
        let mut items: Vec<PendingApproval> = self
            .approvals
            .lock_pending()
            .values()
            .map(|p| p.approval.clone())
            .collect();
        items.sort_by_key(|a| a.created_ms);
        items
    }

    /// A request as people see it while it waits (or as it was refused), from `created` to
    /// `expires` (ms), with the scopes they may approve it with.
    pub(crate) fn pending_approval(
        &self,
        policy: &crate::policy::Policy,
        id: &str,
        held: &Held<'_>,
        rules: Vec<RuleHit>,
        reason: &str,
        (created_ms, expires_ms): (i64, i64),
    ) -> PendingApproval {
        let Held {
            request,
            classification,
            evaluation,
        } = held;
        let offered = scopes::offered(held, policy, self.always_settings());
        PendingApproval {
            id: id.to_string(),
            agent: request.agent.clone(),
            session: request.session.clone(),
            cwd: request.cwd.display().to_string(),
            tool: request.tool.clone(),
            kind: request.call.kind(),
            summary: summary(request, classification),
            input: redact_value(&request.input),
            classes: classification.classes().into_iter().collect(),
            decision: evaluation.decision,
            rules,
            reason: reason.to_string(),
            units: classification.units.iter().map(|u| u.summary()).collect(),
            scopes: offered.scopes,
            key_scopes: offered.key_scopes,
            always_note: offered.always_note,
            created_ms,
            expires_ms,
        }
    }
}
