//! A registered key is accepted only while its registration still proves it.
//!
//! Registration keeps what the authenticator answered (its attestation over the new
//! credential) and the ceremony's state; the chained `key add` receipt records the SHA-256 of
//! that record and the attestation root it chained to. Before a key takes part in a step-up, and
//! when `airlock verify` re-checks approvals, the attestation is verified again from that record
//! against the trust roots, and the credential it attests must be the one stored. A key row
//! written into the database by anything else — a key pair some program just made, with
//! signatures that verify perfectly well against it — has no vendor attestation to show and is
//! refused, whatever the table says.
//!
//! What this cannot stop in user mode: a process of the same user that adds its own CA to
//! `settings.toml`, writes a matching record and rewrites the chain (and its witness) after it.
//! The daemon's own account (system mode) takes those files out of its reach.

use super::{ORIGIN, RP_ID};
use airlock_store::keys::{StoredKey, Vouched, registration_sha256};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Digest;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};
use url::Url;
use webauthn_rs::prelude::{AttestationCaList, SecurityKey, SecurityKeyRegistration};
use webauthn_rs_core::WebauthnCore;
use webauthn_rs_core::proto::{RegisterPublicKeyCredential, RegistrationState};

/// What registration leaves to re-check later (stored as JSON in the key's row).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    /// The authenticator's answer: attestation object and client data.
    response: RegisterPublicKeyCredential,
    /// The ceremony it answered: challenge, policy, algorithms.
    state: RegistrationState,
}

/// The record to store for a registration that just verified.
pub fn record(response: &Value, state: &SecurityKeyRegistration) -> Result<String, String> {
    let state = serde_json::to_value(state).map_err(|e| e.to_string())?;
    let record = Record {
        response: serde_json::from_value(response.clone()).map_err(|e| e.to_string())?,
        state: serde_json::from_value(state["rs"].clone())
            .map_err(|e| format!("the ceremony state has no readable `rs`: {e}"))?,
    };
    serde_json::to_string(&record).map_err(|e| e.to_string())
}

/// A registration that verified: the root its attestation chains to (hex key id), `None`
/// when attestation is off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attested {
    pub root: Option<String>,
}

/// Verify `registration` again against `cas` (`None`: attestation off) and check it attests
/// `credential` (the stored webauthn-rs `SecurityKey` JSON).
pub fn reverify(
    registration: &str,
    credential: &str,
    cas: Option<&AttestationCaList>,
) -> Result<Attested, String> {
    let record: Record = serde_json::from_str(registration)
        .map_err(|e| format!("its registration record is unreadable ({e})"))?;
    let origin = Url::parse(ORIGIN).map_err(|e| e.to_string())?;
    let core = WebauthnCore::new_unsafe_experts_only(
        "Airlock",
        RP_ID,
        vec![origin],
        Duration::from_secs(120),
        None,
        None,
    );
    let attested = core
        .register_credential(&record.response, &record.state, cas)
        .map_err(|e| format!("its attestation does not verify against the trust roots ({e:?})"))?;
    let root = match cas {
        Some(cas) => webauthn_rs_core::attestation::verify_attestation_ca_chain(
            &attested.attestation.data,
            cas,
            SystemTime::now(),
        )
        .ok()
        .flatten()
        .and_then(|ca| ca.get_kid().ok())
        .map(|kid| hex::encode(kid.as_slice())),
        None => None,
    };
    let attested = serde_json::to_value(&attested).map_err(|e| e.to_string())?;
    // Compared as the typed key step-up will use, not as loose JSON: a stored credential with
    // duplicate fields reads one way as JSON and another (or not at all) as a key.
    let stored = serde_json::to_value(well_formed(credential)?).map_err(|e| e.to_string())?;
    let same = |field: &str| {
        stored.pointer(&format!("/cred/{field}")) == attested.get(field)
            && attested.get(field).is_some()
    };
    if !same("cred_id") || !same("cred") {
        return Err("its stored public key is not the one its registration attested".to_string());
    }
    Ok(Attested { root })
}

/// A key's id, the SHA-256 of its stored credential text (exactly as stored: two texts that
/// read as the same JSON may not read as the same key) and of its registration record, and
/// what its chained receipt recorded: everything a verdict depends on but the trust roots.
type VerdictKey = (String, String, String, Vouched);

/// The stored credential as the typed webauthn-rs key (duplicate or unknown fields refused).
fn well_formed(credential: &str) -> Result<SecurityKey, String> {
    serde_json::from_str(credential)
        .map_err(|e| format!("its stored credential is not a well-formed key ({e})"))
}

/// Decides, with a cache, whether stored keys may take part in step-up.
pub struct KeyJudge {
    cas: Option<AttestationCaList>,
    /// The verdict for each [`VerdictKey`] (a use moves the key's signature counter, so the
    /// next look verifies again: step-ups are few).
    verdicts: Mutex<HashMap<VerdictKey, Result<(), String>>>,
}

impl KeyJudge {
    pub fn new(cas: Option<AttestationCaList>) -> Self {
        Self {
            cas,
            verdicts: Mutex::new(HashMap::new()),
        }
    }

    /// Why `key` may not be used, or `Ok`.
    pub fn judge(&self, key: &StoredKey) -> Result<(), String> {
        let Some(registration) = &key.registration else {
            return Err(format!(
                "security key `{}` was registered before Airlock kept registrations to re-check; remove it (`airlock key remove {}`) and add it again",
                key.info.name, key.info.name
            ));
        };
        let cache_key = (
            key.info.id.clone(),
            hex::encode(sha2::Sha256::digest(key.credential.as_bytes())),
            registration_sha256(registration),
            key.vouched.clone(),
        );
        let mut verdicts = self.verdicts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(verdict) = verdicts.get(&cache_key) {
            return verdict.clone();
        }
        let verdict = self.judge_uncached(key, registration, &cache_key.2);
        if let Err(why) = &verdict {
            tracing::warn!(key = %key.info.id, %why, "a security key is refused");
        }
        verdicts.insert(cache_key, verdict.clone());
        verdict
    }

    fn judge_uncached(
        &self,
        key: &StoredKey,
        registration: &str,
        registration_hash: &str,
    ) -> Result<(), String> {
        let name = &key.info.name;
        let typed =
            well_formed(&key.credential).map_err(|why| format!("security key `{name}`: {why}"))?;
        // The row's id is what the chain vouches for and what proofs name: it must be the
        // credential's own id, or a row could borrow another key's registration.
        if super::binding::encode(typed.cred_id().as_ref()) != key.info.id {
            return Err(format!(
                "security key `{name}`: its row id is not its credential's id"
            ));
        }
        if key.vouched.registration_sha256.as_deref() != Some(registration_hash) {
            return Err(format!(
                "security key `{name}`: its registration record is not the one its chained `key add` receipt recorded"
            ));
        }
        let attested = reverify(registration, &key.credential, self.cas.as_ref())
            .map_err(|why| format!("security key `{name}`: {why}"))?;
        if let (Some(recorded), Some(now)) = (&key.vouched.attestation_root, &attested.root)
            && recorded != now
        {
            return Err(format!(
                "security key `{name}` now chains to another attestation root than when it was registered"
            ));
        }
        Ok(())
    }

    /// The keys of `keys` that may be used; the others are logged once each.
    pub fn usable(&self, keys: Vec<StoredKey>) -> Vec<StoredKey> {
        keys.into_iter().filter(|k| self.judge(k).is_ok()).collect()
    }
}

#[cfg(all(test, feature = "soft-authenticator"))]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crypto_glue::traits::{EncodePem, LineEndingPem};
    use webauthn_authenticator_rs::WebauthnAuthenticator;
    use webauthn_authenticator_rs::softtoken::SoftToken;
    use webauthn_rs::prelude::{SecurityKey, Uuid, WebauthnBuilder};

    /// A fresh software key, the CA list holding its attestation root, and one registration of
    /// it: (record, stored credential JSON).
    fn registered() -> (AttestationCaList, String, String) {
        let (token, ca) = SoftToken::new(true).unwrap();
        let pem = ca.to_pem(LineEndingPem::LF).unwrap();
        let cas = AttestationCaList::try_from(pem.as_bytes()).unwrap();
        let origin = Url::parse(ORIGIN).unwrap();
        let webauthn = WebauthnBuilder::new(RP_ID, &origin)
            .unwrap()
            .build()
            .unwrap();
        let (options, state) = webauthn
            .start_securitykey_registration(Uuid::new_v4(), "k", "k", None, Some(cas.clone()), None)
            .unwrap();
        let mut token = token;
        let response = token.do_registration(origin, options).unwrap();
        let key: SecurityKey = webauthn
            .finish_securitykey_registration(&response, &state)
            .unwrap();
        let record = record(&serde_json::to_value(&response).unwrap(), &state).unwrap();
        (cas, record, serde_json::to_string(&key).unwrap())
    }

    #[test]
    fn a_registration_re_verifies_against_its_root() {
        let (cas, record, credential) = registered();
        let attested = reverify(&record, &credential, Some(&cas)).unwrap();
        let root = hex::encode(cas.cas().keys().next().unwrap().as_slice());
        assert_eq!(attested.root.as_deref(), Some(root.as_str()));
    }

    #[test]
    fn another_root_refuses_it() {
        let (_, record, credential) = registered();
        let (other, ..) = registered();
        let why = reverify(&record, &credential, Some(&other)).unwrap_err();
        assert!(
            why.contains("does not verify against the trust roots"),
            "{why}"
        );
    }

    #[test]
    fn a_record_of_another_key_does_not_vouch_for_this_one() {
        let (cas, record, _) = registered();
        let (_, _, other_credential) = registered();
        // The record verifies, but attests a different public key.
        let why = reverify(&record, &other_credential, Some(&cas)).unwrap_err();
        assert!(
            why.contains("not the one its registration attested"),
            "{why}"
        );
    }

    #[test]
    fn a_changed_byte_in_the_attestation_is_refused() {
        let (cas, record, credential) = registered();
        let mut value: Value = serde_json::from_str(&record).unwrap();
        let object = value["response"]["response"]["attestationObject"]
            .as_str()
            .unwrap()
            .to_string();
        let mut bytes = crate::binding::decode(&object).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        value["response"]["response"]["attestationObject"] =
            Value::String(crate::binding::encode(&bytes));
        let why = reverify(&value.to_string(), &credential, Some(&cas)).unwrap_err();
        assert!(!why.is_empty());
    }

    #[test]
    fn without_a_record_or_with_another_record_a_key_is_refused() {
        use airlock_store::keys::credential_sha256;
        let (cas, record, credential) = registered();
        let (_, other_record, _) = registered();
        let typed: SecurityKey = serde_json::from_str(&credential).unwrap();
        let id = crate::binding::encode(typed.cred_id().as_ref());
        let key = |registration: Option<String>| StoredKey {
            info: airlock_protocol::SecurityKeyInfo {
                id: id.clone(),
                name: "k".into(),
                created_ms: 0,
                attestation: String::new(),
                aaguid: None,
                last_used_ms: None,
            },
            credential: credential.clone(),
            registration,
            vouched: Vouched {
                credential_sha256: Some(credential_sha256(&credential)),
                registration_sha256: Some(registration_sha256(&record)),
                attestation_root: None,
                removed: false,
            },
        };
        let judge = KeyJudge::new(Some(cas));
        assert_eq!(judge.judge(&key(Some(record.clone()))), Ok(()));
        let mut elsewhere = key(Some(record.clone()));
        elsewhere.vouched.attestation_root = Some("00".repeat(32));
        let why = judge.judge(&elsewhere).unwrap_err();
        assert!(why.contains("another attestation root"), "{why}");
        let mut borrowed = key(Some(record.clone()));
        borrowed.info.id = "another-id".into();
        let why = judge.judge(&borrowed).unwrap_err();
        assert!(why.contains("row id is not its credential's id"), "{why}");
        let mut doubled = key(Some(record.clone()));
        doubled.credential = doubled.credential.replacen('{', "{\"cred\":{},", 1);
        let why = judge.judge(&doubled).unwrap_err();
        assert!(why.contains("not a well-formed key"), "{why}");
        let why = judge.judge(&key(None)).unwrap_err();
        assert!(why.contains("add it again"), "{why}");
        let why = judge.judge(&key(Some(other_record))).unwrap_err();
        assert!(
            why.contains("not the one its chained `key add` receipt recorded"),
            "{why}"
        );
    }
}
