//! Records after the decision: what ran or failed, requests no decision was asked for, payloads
//! that could not be read, and the write-ahead ordering of receipts.

use super::*;

impl Daemon {
    /// PostToolUse / PostToolUseFailure: append `executed` or `failed` to the call's receipt.
    pub(crate) async fn record_execution(
        &self,
        request: ActionRequest,
    ) -> Result<Verdict, crate::store::StoreError> {
        let outcome = if request.event == HookEvent::PostToolUseFailure {
            Outcome::Failed
        } else {
            Outcome::Executed
        };
        let mut receipt_id = request
            .tool_use_id
            .as_ref()
            .and_then(|t| self.approvals.lock_recent().by_tool_use.get(t).cloned());
        if receipt_id.is_none()
            && let Some(t) = &request.tool_use_id
        {
            receipt_id = self.lock_reader().find_by_tool_use(t)?;
        }
        if receipt_id.is_none() && request.tool_use_id.is_none() {
            let key = (
                request.session.clone().unwrap_or_default(),
                action_key(&request),
            );
            receipt_id = self
                .approvals
                .lock_recent()
                .by_action
                .get(&key)
                .map(|(id, ..)| id.clone());
        }
        let detail = json!({"error": request.error});
        let (id, ops) = match receipt_id {
            Some(id) => (
                id.clone(),
                vec![Op::Event(NewEvent {
                    receipt_id: id,
                    time_ms: now_ms(),
                    outcome: outcome.as_str().to_string(),
                    actor: "agent".into(),
                    detail,
                })],
            ),
            None => {
                // The tool ran without a decision from Airlock: record that loudly.
                let judge = match self.judge_of(request.session.as_deref()).await {
                    Ok(judge) => judge,
                    Err(why) => return self.record_unjudged(&request, &why).await,
                };
                let mut classification =
                    off_the_reactor(|| judge.classifier(self).classify(&request));
                judge.policy.enrich(&request, &mut classification);
                let id = uuid::Uuid::now_v7().to_string();
                let receipt = receipt_of(
                    &request,
                    &id,
                    json!(classification.classes()),
                    Decision::Allow,
                    "executed without a pre-execution decision from Airlock (is the PreToolUse hook installed?)",
                    json!({
                        "unmediated": true,
                        "policy_sha256": judge.policy.bundle_sha256(),
                    }),
                );
                let event = NewEvent {
                    receipt_id: id.clone(),
                    time_ms: now_ms(),
                    outcome: outcome.as_str().to_string(),
                    actor: "agent".into(),
                    detail: json!({"error": request.error, "unmediated": true}),
                };
                (id, vec![Op::Receipt(Box::new(receipt)), Op::Event(event)])
            }
        };
        self.write(ops).await?;
        self.snapshot_after(&id).await;
        Ok(Verdict {
            receipt_id: id,
            decision: Decision::Allow,
            outcome,
            classes: Vec::new(),
            rules: Vec::new(),
            reason: format!("recorded `{outcome}`"),
        })
    }

    /// A payload no adapter understands is still recorded, and denied.
    /// A request no view could be found for (its user vanished from the machine between
    /// accept and decision): denied, and recorded as such.
    pub(crate) async fn record_unjudged(
        &self,
        request: &ActionRequest,
        why: &str,
    ) -> Result<Verdict, crate::store::StoreError> {
        let id = uuid::Uuid::now_v7().to_string();
        let reason = format!("denied: Airlock has no policy to judge this request by ({why})");
        let receipt = receipt_of(
            request,
            &id,
            json!([ActionClass::Unknown]),
            Decision::Deny,
            &reason,
            json!({"unjudged": why}),
        );
        self.write_first(receipt, Outcome::Denied, "daemon", json!({"unjudged": why}))
            .await?;
        Ok(Verdict {
            receipt_id: id,
            decision: Decision::Deny,
            outcome: Outcome::Denied,
            classes: vec![ActionClass::Unknown],
            rules: Vec::new(),
            reason,
        })
    }

    pub(crate) async fn record_bad_payload(
        &self,
        agent: &str,
        payload: &Value,
        message: &str,
    ) -> Response {
        let id = uuid::Uuid::now_v7().to_string();
        let reason = format!("the hook input could not be understood ({message})");
        let receipt = NewReceipt {
            id: id.clone(),
            time_ms: now_ms(),
            agent: agent.to_string(),
            session: payload
                .get("session_id")
                .and_then(Value::as_str)
                .map(str::to_string),
            cwd: payload
                .get("cwd")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            tool: payload
                .get("tool_name")
                .and_then(Value::as_str)
                .unwrap_or("(invalid input)")
                .to_string(),
            event: payload
                .get("hook_event_name")
                .and_then(Value::as_str)
                .unwrap_or("(invalid input)")
                .to_string(),
            tool_use_id: None,
            input: redact_value(payload),
            classes: json!([ActionClass::Unknown]),
            rules: json!([]),
            decision: Decision::Deny.as_str().to_string(),
            reason: reason.clone(),
            detail: json!({"bad_payload": message}),
        };
        let written = self
            .write_first(
                receipt,
                Outcome::Denied,
                "daemon",
                json!({"bad_payload": message}),
            )
            .await;
        match written {
            Ok(()) => Response::Error {
                code: ErrorCode::BadPayload,
                message: reason,
            },
            Err(e) => Response::Error {
                code: ErrorCode::Internal,
                message: format!("{reason}; recording it also failed: {e}"),
            },
        }
    }

    pub(crate) async fn write_first(
        &self,
        receipt: NewReceipt,
        outcome: Outcome,
        actor: &str,
        detail: Value,
    ) -> Result<(), crate::store::StoreError> {
        let summary = ReceiptSummary {
            id: receipt.id.clone(),
            seq: 0,
            time_ms: receipt.time_ms,
            agent: receipt.agent.clone(),
            session: receipt.session.clone(),
            cwd: receipt.cwd.clone(),
            tool: receipt.tool.clone(),
            kind: crate::adapters::tool_kind(&receipt.agent, &receipt.tool),
            event: receipt.event.clone(),
            input: receipt.input.clone(),
            classes: serde_json::from_value(receipt.classes.clone()).unwrap_or_default(),
            rules: Vec::new(),
            decision: serde_json::from_value(Value::String(receipt.decision.clone()))
                .unwrap_or(Decision::Deny),
            reason: receipt.reason.clone(),
            outcomes: vec![outcome],
        };
        let event = NewEvent {
            receipt_id: receipt.id.clone(),
            time_ms: receipt.time_ms,
            outcome: outcome.as_str().to_string(),
            actor: actor.to_string(),
            detail,
        };
        self.write(vec![Op::Receipt(Box::new(receipt)), Op::Event(event)])
            .await?;
        if self.events.receiver_count() > 0 {
            let _ = self.events.send(Event::Recorded { receipt: summary });
        }
        Ok(())
    }

    pub(crate) async fn write(&self, ops: Vec<Op>) -> Result<(), crate::store::StoreError> {
        self.writer.write(ops).await
    }

    pub(crate) fn remember(&self, request: &ActionRequest, receipt: &str, permitted: bool) {
        let key = (
            request.session.clone().unwrap_or_default(),
            action_key(request),
        );
        self.approvals.lock_recent().remember(
            request.tool_use_id.as_deref(),
            key,
            receipt,
            permitted,
        );
    }
}
