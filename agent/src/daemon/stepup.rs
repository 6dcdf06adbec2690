//! Security-key ceremonies in the daemon: opening a challenge bound to one action, checking
//! the assertion that answers it, and registering and removing keys.

use super::state::Daemon;
use crate::stepup::{Proof, StepUpError, binding};
use crate::store::keys::StoredKey;
use crate::store::now_ms;
use airlock_protocol::{
    ApprovalScope, Decision, ErrorCode, Outcome, Response, SecurityKeyInfo, StepUpTarget,
};
use serde_json::{Value, json};

static FINISHING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The signature counter stored in a key's webauthn-rs JSON.
fn counter(credential: &str) -> u64 {
    serde_json::from_str::<Value>(credential)
        .ok()
        .and_then(|v| v.pointer("/cred/counter").and_then(Value::as_u64))
        .unwrap_or(0)
}

/// How long a ceremony not tied to a pending request stays open.
const CONTROL_CEREMONY_MS: i64 = 120_000;

impl Daemon {
    /// Whether a step-up request can be approved at all. On a database error, assume a key is
    /// registered: the request is then held, and approving it still needs a valid assertion.
    pub fn has_security_key(&self) -> bool {
        self.active_keys().map_or(true, |keys| !keys.is_empty())
    }

    /// Keys that may take part in step-up: registered through the chain, not removed, and
    /// whose attestation re-verifies (a key row that fails is logged and ignored).
    fn active_keys(&self) -> Result<Vec<StoredKey>, Box<Response>> {
        let keys = self
            .lock_reader()
            .active_keys()
            .map_err(|e| Box::new(internal(e)))?;
        Ok(self.stepup.usable_keys(keys))
    }

    /// Open a ceremony for `target` and return the challenge for the client's key.
    pub fn step_up_begin(&self, target: StepUpTarget) -> Response {
        let keys = match self.active_keys() {
            Ok(k) => k,
            Err(r) => return *r,
        };
        let (action, description, expires_ms) = match &target {
            StepUpTarget::Approve { id, scope } => {
                let pending = self.approvals.lock_pending();
                let Some(p) = pending.get(id) else {
                    return Response::Error {
                        code: ErrorCode::NotFound,
                        message: format!("no pending request `{id}`; see `airlock pending`"),
                    };
                };
                if p.approval.decision == Decision::StepUp && *scope != ApprovalScope::Once {
                    return once_only(id);
                }
                (
                    binding::action_bytes(&target, Some(&p.receipt_fields)),
                    format!(
                        "approve ({}) for {} in {}: {} [{}]",
                        scope_word(*scope),
                        p.approval.agent,
                        p.approval.cwd,
                        full_action(&p.approval),
                        p.approval
                            .classes
                            .iter()
                            .map(|c| c.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    p.approval.expires_ms,
                )
            }
            StepUpTarget::Resume => (
                binding::action_bytes(&target, None),
                "end Airlock's emergency stop".to_string(),
                now_ms() + CONTROL_CEREMONY_MS,
            ),
            StepUpTarget::KeyAdd { name } => (
                binding::action_bytes(&target, None),
                format!("register another security key named `{name}`"),
                now_ms() + CONTROL_CEREMONY_MS,
            ),
            StepUpTarget::KeyRemove { id } => (
                binding::action_bytes(&target, None),
                format!("remove security key `{id}`"),
                now_ms() + CONTROL_CEREMONY_MS,
            ),
        };
        match self
            .stepup
            .begin(target, &action, description, &keys, expires_ms)
        {
            Ok(challenge) => Response::StepUpChallenge(Box::new(challenge)),
            Err(e) => step_up_error(e),
        }
    }

    /// Check the assertion answering `target`'s ceremony; persist the key's new counter.
    pub fn check_step_up(
        &self,
        target: &StepUpTarget,
        assertion: Option<&Value>,
    ) -> Result<Proof, Box<Response>> {
        // One verification at a time, against the keys' current counters: two ceremonies
        // finishing out of order must not move a stored counter backwards.
        let _one_at_a_time = FINISHING.lock().unwrap_or_else(|p| p.into_inner());
        let keys = self.active_keys()?;
        if keys.is_empty() {
            return Err(Box::new(step_up_error(StepUpError::NoKeys)));
        }
        let Some(assertion) = assertion else {
            return Err(Box::new(step_up_error(StepUpError::AssertionRequired)));
        };
        let (proof, used) = self.stepup.finish(target, assertion, &keys).map_err(|e| {
            tracing::warn!(error = %e, ?target, "a security-key assertion was refused");
            step_up_error(e)
        })?;
        let stored = keys
            .iter()
            .find(|k| k.info.id == used.info.id)
            .map(|k| counter(&k.credential))
            .unwrap_or(0);
        let signed = counter(&used.credential);
        if stored > 0 && signed <= stored {
            tracing::warn!(key = %used.info.name, stored, signed, "signature counter did not advance");
            return Err(Box::new(step_up_error(StepUpError::Refused(format!(
                "the key's signature counter did not advance ({signed} after {stored}): a replayed assertion or a cloned key; start the approval again"
            )))));
        }
        self.lock_reader()
            .update_key_use(&used.info.id, &used.credential, now_ms())
            .map_err(|e| Box::new(internal(e)))?;
        Ok(proof)
    }

    /// Registered keys, a refused one (its attestation no longer verifies) with the reason in
    /// place of its attestation, so the person sees why a key they own is not asked for.
    /// [`Self::check_step_up`], and when an assertion was given and refused (a wrong, replayed
    /// or forged key), a denied receipt saying which key signed and why it was refused.
    pub async fn checked_step_up(
        &self,
        target: &StepUpTarget,
        assertion: Option<&Value>,
        actor: &str,
    ) -> Result<Proof, Box<Response>> {
        let refused = match self.check_step_up(target, assertion) {
            Ok(proof) => return Ok(proof),
            Err(refused) => refused,
        };
        if let (Some(assertion), Response::Error { message, .. }) = (assertion, refused.as_ref()) {
            let input = json!({
                "action": "step-up",
                "target": target,
                "credential_id": assertion.get("id"),
            });
            if let Err(e) = self
                .record_control("step-up", input, Outcome::Denied, actor, message)
                .await
            {
                tracing::error!(error = %e, "cannot record a refused security-key assertion");
            }
        }
        Err(refused)
    }

    /// Registered keys that are refused now, with why (for the start record and the log).
    pub fn refused_keys(&self) -> Vec<Value> {
        let registered = self.lock_reader().active_keys().unwrap_or_default();
        registered
            .iter()
            .filter_map(|k| {
                self.stepup
                    .judge_key(k)
                    .err()
                    .map(|why| json!({"name": k.info.name, "id": k.info.id, "why": why}))
            })
            .collect()
    }

    pub fn key_list(&self) -> Response {
        match self.lock_reader().active_keys() {
            Ok(keys) => Response::Keys {
                items: keys
                    .into_iter()
                    .map(|k| match self.stepup.judge_key(&k) {
                        // Said from what was verified, not the row's own text.
                        Ok(()) => SecurityKeyInfo {
                            attestation: match &k.vouched.attestation_root {
                                Some(root) => format!(
                                    "attested: chains to trusted root {}",
                                    &root[..root.len().min(16)]
                                ),
                                None => "not attested (registered with attestation off)".into(),
                            },
                            ..k.info
                        },
                        Err(why) => SecurityKeyInfo {
                            attestation: format!("REFUSED, not used for approvals: {why}"),
                            ..k.info
                        },
                    })
                    .collect(),
            },
            Err(e) => internal(e),
        }
    }

    pub async fn key_register_begin(
        &self,
        name: &str,
        assertion: Option<&Value>,
        actor: &str,
    ) -> Response {
        let name = name.trim();
        if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
            return bad_request(format!(
                "key name `{name}` is not usable: give 1 to 64 printable characters, e.g. `--name yubikey-blue`"
            ));
        }
        let registered = match self.lock_reader().active_keys() {
            Ok(k) => k,
            Err(e) => return internal(e),
        };
        let keys = self.stepup.usable_keys(registered.clone());
        // The first key needs no touch. "First" means no key is registered, not "none is
        // usable now": a trust root swapped under a registered key refuses that key, and must
        // not turn the next registration into one nobody has to approve.
        if keys.is_empty()
            && let Some(refused) = registered.first()
        {
            let why = self.stepup.judge_key(refused).err().unwrap_or_default();
            return Response::Error {
                code: ErrorCode::Forbidden,
                message: format!(
                    "security keys are registered but none is usable now ({why}); adding a key needs a touch of a registered one, so restore the trust roots they were registered under (settings.toml [step_up] attestation_ca_files and the files it lists) and try again"
                ),
            };
        }
        match self.lock_reader().key_name_taken(name) {
            Ok(true) => {
                return bad_request(format!(
                    "a key named `{name}` is already registered; choose another `--name`"
                ));
            }
            Ok(false) => {}
            Err(e) => return internal(e),
        }
        let mut authorised_by = None;
        if !keys.is_empty() {
            let target = StepUpTarget::KeyAdd {
                name: name.to_string(),
            };
            match self.checked_step_up(&target, assertion, actor).await {
                Ok(proof) => authorised_by = Some(proof),
                Err(r) => return *r,
            }
        }
        match self.stepup.begin_registration(name, &keys, authorised_by) {
            Ok(options) => Response::KeyRegistration {
                options,
                origin: crate::stepup::ORIGIN.to_string(),
            },
            Err(e) => step_up_error(e),
        }
    }

    pub async fn key_register_finish(
        &self,
        name: &str,
        credential: &Value,
        actor: &str,
    ) -> Response {
        let (key, authorised_by) = match self.stepup.finish_registration(name.trim(), credential) {
            Ok(k) => k,
            Err(e) => return step_up_error(e),
        };
        if let Err(e) = self.lock_reader().insert_key(&key) {
            return internal(e);
        }
        let message = format!(
            "registered security key `{}` ({}); step-up approvals can now be given with it",
            key.info.name, key.info.attestation
        );
        let mut input = json!({
            "action": "key add",
            "name": key.info.name,
            "credential_id": key.info.id,
            "credential_sha256": key.vouched.credential_sha256,
            "registration_sha256": key.vouched.registration_sha256,
            "attestation_root": key.vouched.attestation_root,
            "attestation": key.info.attestation,
            "aaguid": key.info.aaguid,
        });
        if let Some(proof) = authorised_by {
            input["step_up"] = json!(proof);
        }
        if let Err(e) = self
            .record_control("key add", input, Outcome::Executed, actor, &message)
            .await
        {
            return internal(e);
        }
        Response::Done { message }
    }

    pub async fn key_remove(&self, id: &str, assertion: Option<&Value>, actor: &str) -> Response {
        let keys = match self.active_keys() {
            Ok(k) => k,
            Err(r) => return *r,
        };
        let Some(key) = keys.iter().find(|k| k.info.id == id || k.info.name == id) else {
            return Response::Error {
                code: ErrorCode::NotFound,
                message: format!("no registered key `{id}`; see `airlock key list`"),
            };
        };
        let target = StepUpTarget::KeyRemove { id: id.to_string() };
        let proof = match self.checked_step_up(&target, assertion, actor).await {
            Ok(p) => p,
            Err(r) => return *r,
        };
        if let Err(e) = self.lock_reader().remove_key(&key.info.id, now_ms()) {
            return internal(e);
        }
        let message = format!("removed security key `{}`", key.info.name);
        let input = json!({
            "action": "key remove",
            "name": key.info.name,
            "credential_id": key.info.id,
            "step_up": proof,
        });
        if let Err(e) = self
            .record_control("key remove", input, Outcome::Executed, actor, &message)
            .await
        {
            return internal(e);
        }
        Response::Done { message }
    }
}

/// The whole action, not the notification's few words: the person checks this before touching.
fn full_action(approval: &airlock_protocol::PendingApproval) -> String {
    let field = |name: &str| approval.input.get(name).and_then(Value::as_str);
    match field("command") {
        Some(command) => command.to_string(),
        None => match field("file_path").or_else(|| field("url")) {
            Some(target) => format!("{} {target}", approval.tool),
            None => format!("{} {}", approval.tool, approval.input),
        },
    }
}

fn scope_word(scope: ApprovalScope) -> &'static str {
    match scope {
        ApprovalScope::Once => "once",
        ApprovalScope::Session => "for the session",
        ApprovalScope::Always => "always",
    }
}

pub fn once_only(id: &str) -> Response {
    Response::Error {
        code: ErrorCode::BadRequest,
        message: format!(
            "request `{id}` needs a security-key approval, which is for this request only: approve it with `--scope once`"
        ),
    }
}

pub fn step_up_error(e: StepUpError) -> Response {
    let code = match e {
        StepUpError::Internal(_) => ErrorCode::Internal,
        StepUpError::BadAssertion(_) => ErrorCode::BadRequest,
        StepUpError::AssertionRequired => ErrorCode::StepUpRequired,
        _ => ErrorCode::Forbidden,
    };
    Response::Error {
        code,
        message: e.to_string(),
    }
}

fn bad_request(message: String) -> Response {
    Response::Error {
        code: ErrorCode::BadRequest,
        message,
    }
}

fn internal(e: impl std::fmt::Display) -> Response {
    Response::Error {
        code: ErrorCode::Internal,
        message: e.to_string(),
    }
}
