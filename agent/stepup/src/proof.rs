//! Offline re-verification of a stored step-up proof: what `airlock verify` does for every
//! security-key approval, with nothing but the database.

use super::{ORIGIN, Proof, RP_ID, binding};
use sha2::{Digest, Sha256};
use webauthn_rs_core::proto::Credential;

/// Check that `proof` is a valid signature, by the stored key, over a challenge derived from
/// `action` (the canonical bytes of what was authorised) and the proof's nonce.
pub fn verify(proof: &Proof, action: &[u8], stored_credential: &str) -> Result<(), String> {
    let nonce = binding::decode(&proof.nonce).ok_or("the nonce is not base64url")?;
    let expected = binding::encode(&binding::challenge(action, &nonce));
    let client_data =
        binding::decode(&proof.client_data_json).ok_or("clientDataJSON is not base64url")?;
    let collected: serde_json::Value = serde_json::from_slice(&client_data)
        .map_err(|e| format!("clientDataJSON is not JSON: {e}"))?;
    if collected["type"] != "webauthn.get" {
        return Err(format!(
            "clientDataJSON type is {}, not webauthn.get",
            collected["type"]
        ));
    }
    let signed_challenge = collected["challenge"].as_str().unwrap_or_default();
    if signed_challenge.trim_end_matches('=') != expected {
        return Err(
            "the signed challenge does not match this receipt (the receipt or the proof was changed, or it was signed for another action)"
                .into(),
        );
    }
    let origin = collected["origin"]
        .as_str()
        .and_then(|o| url::Url::parse(o).ok());
    if origin.as_ref().map(url::Url::origin) != url::Url::parse(ORIGIN).ok().map(|u| u.origin()) {
        return Err(format!(
            "signed for origin {}, not {ORIGIN}",
            collected["origin"]
        ));
    }
    let auth_data =
        binding::decode(&proof.authenticator_data).ok_or("authenticatorData is not base64url")?;
    if auth_data.len() < 37 {
        return Err("authenticatorData is too short".into());
    }
    if auth_data[..32] != Sha256::digest(RP_ID.as_bytes())[..] {
        return Err(format!(
            "authenticatorData is not for relying party {RP_ID}"
        ));
    }
    if auth_data[32] & 0x01 == 0 {
        return Err("the key did not report user presence (no touch)".into());
    }
    let signature = binding::decode(&proof.signature).ok_or("the signature is not base64url")?;
    let key: serde_json::Value = serde_json::from_str(stored_credential)
        .map_err(|e| format!("the stored key is unreadable: {e}"))?;
    let credential: Credential = serde_json::from_value(key["cred"].clone())
        .map_err(|e| format!("the stored key is unreadable: {e}"))?;
    let mut signed = auth_data.clone();
    signed.extend_from_slice(&Sha256::digest(&client_data));
    match credential.cred.verify_signature(&signature, &signed) {
        Ok(true) => Ok(()),
        Ok(false) => Err("the signature does not verify with the registered key".into()),
        Err(e) => Err(format!("the signature cannot be checked: {e:?}")),
    }
}
