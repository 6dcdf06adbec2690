//! Step-up: approvals that carry proof a human touched a registered FIDO2 security key for
//! this exact action.
//!
//! The daemon is the WebAuthn relying party ([`RelyingParty`]); clients (the CLI, the desktop
//! app) talk CTAP2 to the key ([`authenticator`]). A ceremony's challenge is bound to the
//! action ([`binding`]), its state is single use, and the signed assertion is stored in the
//! `approved` event so `airlock verify` can re-check it offline ([`proof`]).
//!
//! The client side (`authenticator`, `ceremony`) is behind the `key` feature: the daemon only
//! verifies, so it never links the USB HID and CTAP2 code.

pub mod attested;
pub mod audit;
#[cfg(feature = "key")]
pub mod authenticator;
pub mod binding;
#[cfg(feature = "key")]
pub mod ceremony;
pub mod proof;
pub mod trust;

use airlock_client::settings::StepUpSettings;
use airlock_protocol::{SecurityKeyInfo, StepUpChallenge, StepUpTarget};
use airlock_store::keys::{StoredKey, Vouched};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use url::Url;
use webauthn_rs::prelude::{
    AttestationCaList, PublicKeyCredential, RegisterPublicKeyCredential, SecurityKey,
    SecurityKeyAuthentication, SecurityKeyRegistration, Uuid, Webauthn, WebauthnBuilder,
};

/// The relying party id. `.invalid` never resolves, so no web page can ask a browser for an
/// assertion under it and trick the user into touching the key for Airlock's challenge.
pub const RP_ID: &str = "airlock.invalid";
pub const ORIGIN: &str = "https://airlock.invalid";

/// How long a registration ceremony waits for the key.
const REGISTRATION_TTL: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum StepUpError {
    #[error(
        "no security key is registered with Airlock, so a security-key approval is impossible; register one with `airlock key add`"
    )]
    NoKeys,
    #[error(
        "this needs a security-key approval: start one with `step_up_begin` (the CLI and the desktop app do this for you)"
    )]
    AssertionRequired,
    #[error(
        "no security-key challenge is open for this action (it was already used, expired, or was issued for a different action); start a new one"
    )]
    NoCeremony,
    #[error("the security-key assertion is not valid JSON for WebAuthn: {0}")]
    BadAssertion(String),
    #[error("the security-key assertion was refused: {0}")]
    Refused(String),
    #[error("the key registration was refused: {0}")]
    Registration(String),
    #[error("internal step-up error: {0}")]
    Internal(String),
}

/// An open ceremony: the webauthn-rs state (with its challenge replaced) and what it binds.
struct Ceremony {
    state: SecurityKeyAuthentication,
    nonce: Vec<u8>,
    expires_ms: i64,
}

/// What a verified assertion proves, stored in the `approved` event (all base64url).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proof {
    pub credential_id: String,
    pub client_data_json: String,
    pub authenticator_data: String,
    pub signature: String,
    pub nonce: String,
    /// What was signed, as hashed into the challenge (see [`binding::action_bytes`]); for an
    /// approval the receipt part is re-derived from the chained receipt when verifying.
    pub target: StepUpTarget,
}

/// A registration waiting for the new key, with the existing key's touch that authorised it.
struct OpenRegistration {
    state: SecurityKeyRegistration,
    expires_ms: i64,
    authorised_by: Option<Proof>,
}

pub struct RelyingParty {
    /// `[step_up]`, read at start: a change takes a restart.
    settings: StepUpSettings,
    webauthn: Webauthn,
    cas: Option<AttestationCaList>,
    judge: attested::KeyJudge,
    ceremonies: Mutex<HashMap<StepUpTarget, Ceremony>>,
    registrations: Mutex<HashMap<String, OpenRegistration>>,
}

impl RelyingParty {
    /// What settings.toml's `[step_up]` said when the daemon started.
    pub fn settings(&self) -> &StepUpSettings {
        &self.settings
    }

    pub fn new(settings: &StepUpSettings) -> Result<Self, StepUpError> {
        let origin = Url::parse(ORIGIN).map_err(|e| StepUpError::Internal(e.to_string()))?;
        let webauthn = WebauthnBuilder::new(RP_ID, &origin)
            .and_then(|b| {
                b.rp_name("Airlock")
                    .timeout(Duration::from_secs(120))
                    .build()
            })
            .map_err(|e| StepUpError::Internal(e.to_string()))?;
        let cas =
            trust::attestation_cas(settings).map_err(|e| StepUpError::Internal(e.to_string()))?;
        if cas.is_none() {
            tracing::warn!(
                "security-key attestation is OFF (settings.toml [step_up] require_attestation = false): any program can register itself as a key, so step-up proves nothing against a hostile process"
            );
        }
        Ok(Self {
            settings: settings.clone(),
            webauthn,
            judge: attested::KeyJudge::new(cas.clone()),
            cas,
            ceremonies: Mutex::new(HashMap::new()),
            registrations: Mutex::new(HashMap::new()),
        })
    }

    pub fn attestation_required(&self) -> bool {
        self.cas.is_some()
    }

    /// The keys of `keys` whose registration re-verifies against the trust roots (see
    /// [`attested`]); only these take part in step-up.
    pub fn usable_keys(&self, keys: Vec<StoredKey>) -> Vec<StoredKey> {
        self.judge.usable(keys)
    }

    /// Why `key` is refused, or `Ok`.
    pub fn judge_key(&self, key: &StoredKey) -> Result<(), String> {
        self.judge.judge(key)
    }

    /// Open a ceremony for `target`; `action` is [`binding::action_bytes`] of it. A newer
    /// ceremony for the same target replaces the older one.
    pub fn begin(
        &self,
        target: StepUpTarget,
        action: &[u8],
        description: String,
        keys: &[StoredKey],
        expires_ms: i64,
    ) -> Result<StepUpChallenge, StepUpError> {
        let keys = parse_keys(keys)?;
        if keys.is_empty() {
            return Err(StepUpError::NoKeys);
        }
        let (options, state) = self
            .webauthn
            .start_securitykey_authentication(&keys)
            .map_err(|e| StepUpError::Internal(e.to_string()))?;
        let mut options = to_json(&options)?;
        let mut state = to_json(&state)?;
        let (nonce, _) = binding::rebind(&mut options, &mut state, action)
            .map_err(|e| StepUpError::Internal(e.to_string()))?;
        let state: SecurityKeyAuthentication =
            serde_json::from_value(state).map_err(|e| StepUpError::Internal(e.to_string()))?;
        let now = airlock_store::now_ms();
        let mut ceremonies = self.lock_ceremonies();
        ceremonies.retain(|_, c| c.expires_ms > now);
        ceremonies.insert(
            target.clone(),
            Ceremony {
                state,
                nonce,
                expires_ms,
            },
        );
        Ok(StepUpChallenge {
            target,
            action: description,
            options,
            origin: ORIGIN.to_string(),
            expires_ms,
        })
    }

    /// Check an assertion for `target`. The ceremony is removed before checking: whatever the
    /// result, the same state can never verify a second assertion (a replay fails). On success
    /// returns the proof and the key's updated credential to persist (its counter moved).
    pub fn finish(
        &self,
        target: &StepUpTarget,
        assertion: &Value,
        keys: &[StoredKey],
    ) -> Result<(Proof, StoredKey), StepUpError> {
        let ceremony = self.lock_ceremonies().remove(target);
        let Some(ceremony) = ceremony else {
            return Err(StepUpError::NoCeremony);
        };
        if ceremony.expires_ms <= airlock_store::now_ms() {
            return Err(StepUpError::NoCeremony);
        }
        let credential: PublicKeyCredential = serde_json::from_value(assertion.clone())
            .map_err(|e| StepUpError::BadAssertion(e.to_string()))?;
        let result = self
            .webauthn
            .finish_securitykey_authentication(&credential, &ceremony.state)
            .map_err(|e| StepUpError::Refused(refusal_text(&e)))?;
        let used_id = binding::encode(result.cred_id().as_ref());
        let mut stored = keys
            .iter()
            .find(|k| k.info.id == used_id)
            .cloned()
            .ok_or_else(|| StepUpError::Refused("the key that signed is not registered".into()))?;
        let mut key: SecurityKey = serde_json::from_str(&stored.credential)
            .map_err(|e| StepUpError::Internal(e.to_string()))?;
        key.update_credential(&result);
        stored.credential =
            serde_json::to_string(&key).map_err(|e| StepUpError::Internal(e.to_string()))?;
        let proof = Proof {
            credential_id: used_id,
            client_data_json: binding::encode(&credential.response.client_data_json),
            authenticator_data: binding::encode(&credential.response.authenticator_data),
            signature: binding::encode(&credential.response.signature),
            nonce: binding::encode(&ceremony.nonce),
            target: target.clone(),
        };
        Ok((proof, stored))
    }

    /// Forget the ceremonies of a request that is no longer pending.
    pub fn forget(&self, request_id: &str) {
        self.lock_ceremonies()
            .retain(|t, _| !matches!(t, StepUpTarget::Approve { id, .. } if id == request_id));
    }

    /// Start registering a key: the make-credential options for the client.
    pub fn begin_registration(
        &self,
        name: &str,
        existing: &[StoredKey],
        authorised_by: Option<Proof>,
    ) -> Result<Value, StepUpError> {
        let exclude = parse_keys(existing)?
            .iter()
            .map(|k| k.cred_id().clone())
            .collect::<Vec<_>>();
        let (options, state) = self
            .webauthn
            .start_securitykey_registration(
                Uuid::new_v4(),
                name,
                name,
                Some(exclude),
                self.cas.clone(),
                None,
            )
            .map_err(|e| StepUpError::Internal(e.to_string()))?;
        let expires_ms = airlock_store::now_ms() + REGISTRATION_TTL.as_millis() as i64;
        self.lock_registrations().insert(
            name.to_string(),
            OpenRegistration {
                state,
                expires_ms,
                authorised_by,
            },
        );
        to_json(&options)
    }

    /// Finish registering: verify the attestation (against the trusted roots, unless
    /// attestation is off) and return the key to store, with the existing key's touch that
    /// authorised adding it (none for the first key).
    pub fn finish_registration(
        &self,
        name: &str,
        credential: &Value,
    ) -> Result<(StoredKey, Option<Proof>), StepUpError> {
        let Some(OpenRegistration {
            state,
            expires_ms: expires,
            authorised_by,
        }) = self.lock_registrations().remove(name)
        else {
            return Err(StepUpError::Registration(format!(
                "no registration is open for `{name}` (it expired or was used); run `airlock key add` again"
            )));
        };
        if expires <= airlock_store::now_ms() {
            return Err(StepUpError::Registration(
                "the registration expired; run `airlock key add` again".into(),
            ));
        }
        let response = credential;
        let credential: RegisterPublicKeyCredential = serde_json::from_value(credential.clone())
            .map_err(|e| StepUpError::BadAssertion(e.to_string()))?;
        let key = self
            .webauthn
            .finish_securitykey_registration(&credential, &state)
            .map_err(|e| {
                StepUpError::Registration(if self.cas.is_some() {
                    format!(
                        "{} — the key's attestation does not chain to a trusted vendor root; add the vendor's root CA to settings.toml [step_up] attestation_ca_files",
                        refusal_text(&e)
                    )
                } else {
                    refusal_text(&e)
                })
            })?;
        let attestation_json = serde_json::to_value(key.attestation()).unwrap_or(Value::Null);
        let aaguid = find_string(&attestation_json, "aaguid");
        let credential =
            serde_json::to_string(&key).map_err(|e| StepUpError::Internal(e.to_string()))?;
        // Keep what is needed to verify this registration again, and check right now that it
        // does: a record that cannot be re-verified would lock the key out later.
        let registration = attested::record(response, &state).map_err(StepUpError::Internal)?;
        let root = attested::reverify(&registration, &credential, self.cas.as_ref())
            .map_err(|why| {
                StepUpError::Internal(format!("the registration does not re-verify: {why}"))
            })?
            .root;
        let stored = StoredKey {
            info: SecurityKeyInfo {
                id: binding::encode(key.cred_id().as_ref()),
                name: name.to_string(),
                created_ms: airlock_store::now_ms(),
                attestation: if self.cas.is_some() {
                    "attested: chains to a trusted vendor root".to_string()
                } else {
                    "none (attestation off when registered)".to_string()
                },
                aaguid,
                last_used_ms: None,
            },
            vouched: Vouched {
                credential_sha256: Some(airlock_store::keys::credential_sha256(&credential)),
                registration_sha256: Some(airlock_store::keys::registration_sha256(&registration)),
                attestation_root: root,
                removed: false,
            },
            credential,
            registration: Some(registration),
        };
        Ok((stored, authorised_by))
    }

    fn lock_ceremonies(&self) -> std::sync::MutexGuard<'_, HashMap<StepUpTarget, Ceremony>> {
        self.ceremonies.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_registrations(&self) -> std::sync::MutexGuard<'_, HashMap<String, OpenRegistration>> {
        self.registrations.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn parse_keys(keys: &[StoredKey]) -> Result<Vec<SecurityKey>, StepUpError> {
    keys.iter()
        .map(|k| {
            serde_json::from_str(&k.credential).map_err(|e| {
                StepUpError::Internal(format!("stored key `{}` is unreadable: {e}", k.info.name))
            })
        })
        .collect()
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Value, StepUpError> {
    serde_json::to_value(value).map_err(|e| StepUpError::Internal(e.to_string()))
}

fn refusal_text(e: &webauthn_rs::prelude::WebauthnError) -> String {
    use webauthn_rs::prelude::WebauthnError as E;
    match e {
        E::MismatchedChallenge => {
            "it was signed for a different action, or a newer challenge was opened for this one (challenge mismatch); start the approval again".to_string()
        }
        E::UserNotPresent => {
            "the key did not report a touch; touch the key when it blinks and try again".to_string()
        }
        E::UserNotVerified => {
            "the key did not verify you (PIN or fingerprint); try again and enter the key's PIN when asked".to_string()
        }
        E::SignatureInvalid => {
            "the signature does not verify with the registered key; use a registered key (see `airlock key list`)".to_string()
        }
        E::CredentialPossibleCompromise => {
            "the key's signature counter went backwards (a replayed or cloned key?)".to_string()
        }
        other => format!("{other:?}; try again, and check the key is registered with `airlock key list`"),
    }
}

/// The first string under `key` anywhere in `value`.
fn find_string(value: &Value, key: &str) -> Option<String> {
    match value {
        Value::Object(map) => map
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| map.values().find_map(|v| find_string(v, key))),
        Value::Array(items) => items.iter().find_map(|v| find_string(v, key)),
        _ => None,
    }
}
