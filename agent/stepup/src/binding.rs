//! Binding a WebAuthn challenge to one action.
//!
//! webauthn-rs draws a random challenge and offers no way to choose one. Airlock keeps that
//! random value as the ceremony's nonce and replaces the challenge, in both the options sent to
//! the client and the server-side state, with
//! `SHA-256(LABEL || 0x00 || len(action) as u64 BE || action || nonce)`, where `action` is the
//! canonical description of what the touch authorises (for an approval: the scope and the
//! pending request's canonical receipt). An assertion therefore signs this exact action; one for
//! action A fails against the state for action B (`MismatchedChallenge`), and `airlock verify`
//! can recompute the challenge offline from the receipt and the stored nonce.
//!
//! The state's JSON layout belongs to webauthn-rs: [`rebind`] refuses a layout it does not
//! know, and tests/e2e_stepup.rs proves an assertion for one action fails against another.

use airlock_protocol::{ApprovalScope, StepUpTarget};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Domain separation: no other Airlock hash (receipt chain, blobs) starts like this.
pub const LABEL: &[u8] = b"airlock/step-up/v1";

pub fn challenge(action: &[u8], nonce: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(LABEL);
    hasher.update([0u8]);
    hasher.update((action.len() as u64).to_be_bytes());
    hasher.update(action);
    hasher.update(nonce);
    hasher.finalize().into()
}

/// The canonical bytes of what a ceremony authorises. `receipt_fields` is the pending
/// request's receipt as chained ([`airlock_store::chain::ReceiptRow::fields_json`]).
pub fn action_bytes(target: &StepUpTarget, receipt_fields: Option<&str>) -> Vec<u8> {
    let value = match target {
        StepUpTarget::Approve { id, scope } => serde_json::json!([
            "approve",
            id,
            scope_str(*scope),
            receipt_fields.unwrap_or_default()
        ]),
        StepUpTarget::Resume => serde_json::json!(["resume"]),
        StepUpTarget::KeyAdd { name } => serde_json::json!(["key-add", name]),
        StepUpTarget::KeyRemove { id } => serde_json::json!(["key-remove", id]),
    };
    value.to_string().into_bytes()
}

fn scope_str(scope: ApprovalScope) -> &'static str {
    match scope {
        ApprovalScope::Once => "once",
        ApprovalScope::Session => "session",
        ApprovalScope::Always => "always",
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the WebAuthn ceremony state has an unexpected layout ({0}); webauthn-rs changed")]
pub struct LayoutError(&'static str);

/// Replace the challenge in the client options (`RequestChallengeResponse` JSON) and the
/// server state (`SecurityKeyAuthentication` JSON). Returns the nonce: the random challenge
/// webauthn-rs drew.
pub fn rebind(
    options: &mut Value,
    state: &mut Value,
    action: &[u8],
) -> Result<(Vec<u8>, [u8; 32]), LayoutError> {
    let drawn = options
        .pointer("/publicKey/challenge")
        .and_then(Value::as_str)
        .ok_or(LayoutError("options have no publicKey.challenge"))?;
    let in_state = state
        .pointer("/ast/challenge")
        .and_then(Value::as_str)
        .ok_or(LayoutError("state has no ast.challenge"))?;
    let nonce = decode(drawn).ok_or(LayoutError("options challenge is not base64url"))?;
    if decode(in_state).as_deref() != Some(nonce.as_slice()) {
        return Err(LayoutError("state and options challenges differ"));
    }
    let bound = challenge(action, &nonce);
    let encoded = Value::String(URL_SAFE_NO_PAD.encode(bound));
    if let Some(slot) = options.pointer_mut("/publicKey/challenge") {
        *slot = encoded.clone();
    }
    if let Some(slot) = state.pointer_mut("/ast/challenge") {
        *slot = encoded;
    }
    Ok((nonce, bound))
}

/// Base64url, padded or not (webauthn-rs writes it unpadded).
pub fn decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_commits_to_action_and_nonce() {
        let a = challenge(b"[\"resume\"]", b"n1");
        assert_ne!(a, challenge(b"[\"resume\"]", b"n2"));
        assert_ne!(a, challenge(b"[\"key-add\",\"x\"]", b"n1"));
        // Length-prefixed: moving bytes between action and nonce changes the challenge.
        assert_ne!(challenge(b"ab", b"c"), challenge(b"a", b"bc"));
        assert_eq!(a, challenge(b"[\"resume\"]", b"n1"));
    }

    #[test]
    fn approvals_bind_scope_and_receipt() {
        let once = StepUpTarget::Approve {
            id: "r".into(),
            scope: ApprovalScope::Once,
        };
        let always = StepUpTarget::Approve {
            id: "r".into(),
            scope: ApprovalScope::Always,
        };
        assert_ne!(
            action_bytes(&once, Some("[1]")),
            action_bytes(&always, Some("[1]"))
        );
        assert_ne!(
            action_bytes(&once, Some("[1]")),
            action_bytes(&once, Some("[2]"))
        );
    }
}
