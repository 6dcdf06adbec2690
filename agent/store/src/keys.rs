//! Registered security keys. A key's row is what later verifies the chained approvals it
//! signed, so rows are never deleted, only marked removed. The rows themselves are not chained,
//! but each registration is: a key is returned only when the chained `key add` receipt names its
//! credential and the SHA-256 of its id and public key (`credential_sha256`), so a row written
//! into the table by anything but Airlock's registration is ignored at step-up and by verify.
//! What that receipt recorded about the registration ([`Vouched`]) travels with the key: the
//! step-up layer re-checks the attestation against it (`stepup::attested`).

use super::{Store, StoreError};
use airlock_protocol::SecurityKeyInfo;
use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// A key as stored: its public description, the webauthn-rs `SecurityKey` JSON, the record of
/// its registration (authenticator response and ceremony state, JSON; `None` for keys added
/// before it was kept) and what the chained `key add` receipt says about it.
#[derive(Debug, Clone)]
pub struct StoredKey {
    pub info: SecurityKeyInfo,
    pub credential: String,
    pub registration: Option<String>,
    pub vouched: Vouched,
}

/// What a chained `key add` receipt recorded about a key's registration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Vouched {
    /// SHA-256 of the credential id and public key (`None`: recorded before it was).
    pub credential_sha256: Option<String>,
    /// SHA-256 of the stored registration record.
    pub registration_sha256: Option<String>,
    /// The attestation root the key chained to (hex key id), when attestation was on.
    pub attestation_root: Option<String>,
    /// A chained `key remove` receipt names it.
    pub removed: bool,
}

impl Store {
    /// Keys that can approve now: not removed, by the row or by a chained `key remove` (a
    /// removal cannot be undone by clearing the row's `removed_ms`).
    pub fn active_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        Ok(self
            .keys_where("removed_ms IS NULL")?
            .into_iter()
            .filter(|k| !k.vouched.removed)
            .collect())
    }

    /// Every key ever registered, removed ones included (for offline verification).
    pub fn all_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        self.keys_where("1")
    }

    fn keys_where(&self, condition: &str) -> Result<Vec<StoredKey>, StoreError> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT id, name, created_ms, attestation, aaguid, last_used_ms, credential, registration FROM security_keys WHERE {condition} ORDER BY created_ms"
        ))?;
        let chained = self.chained_keys()?;
        let rows = stmt.query_map([], |r| {
            Ok(StoredKey {
                info: SecurityKeyInfo {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    created_ms: r.get(2)?,
                    attestation: r.get(3)?,
                    aaguid: r.get(4)?,
                    last_used_ms: r.get(5)?,
                },
                credential: r.get(6)?,
                registration: r.get(7)?,
                vouched: Vouched::default(),
            })
        })?;
        let keys: Vec<StoredKey> = rows.collect::<Result<_, _>>()?;
        Ok(keys
            .into_iter()
            .filter_map(|mut k| match chained.get(&k.info.id) {
                Some(vouched) if registered_as(vouched, &k) => {
                    k.vouched = vouched.clone();
                    Some(k)
                }
                _ => {
                    tracing::warn!(
                        key = %k.info.id,
                        "a security key row no chained registration vouches for is ignored"
                    );
                    None
                }
            })
            .collect())
    }

    /// Ids of key rows no chained registration vouches for: written by something other than
    /// Airlock's registration (what `airlock verify` reports).
    pub fn unvouched_key_rows(&self) -> Result<Vec<String>, StoreError> {
        let chained = self.chained_keys()?;
        let mut stmt = self
            .conn()
            .prepare("SELECT id, credential FROM security_keys ORDER BY created_ms")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut unvouched = Vec::new();
        for row in rows {
            let (id, credential) = row?;
            let vouched = chained
                .get(&id)
                .is_some_and(|v| match &v.credential_sha256 {
                    Some(hash) => *hash == credential_sha256(&credential),
                    None => true,
                });
            if !vouched {
                unvouched.push(id);
            }
        }
        Ok(unvouched)
    }

    /// Each key the receipt chain records as registered, by credential id. Only rows after the
    /// last one looked at are read (by sequence, the primary key), so a long chain costs this
    /// once.
    fn chained_keys(&self) -> Result<HashMap<String, Vouched>, StoreError> {
        let mut known = self.key_registrations.borrow_mut();
        // One snapshot for both reads: a registration committed between them is never skipped.
        let tx = self.conn().unchecked_transaction()?;
        let mut stmt = self.conn().prepare_cached(
            "SELECT seq, tool, input FROM receipts WHERE seq > ?1 AND tool IN ('airlock key add', 'airlock key remove') ORDER BY seq",
        )?;
        let after = known.seen;
        let rows = stmt.query_map([after], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for row in rows {
            let (seq, tool, input) = row?;
            known.seen = known.seen.max(seq);
            let Ok(value) = serde_json::from_str::<serde_json::Value>(&input) else {
                continue;
            };
            let Some(id) = value.get("credential_id").and_then(|v| v.as_str()) else {
                continue;
            };
            if tool == "airlock key remove" {
                if let Some(key) = known.keys.get_mut(id) {
                    key.removed = true;
                }
                continue;
            }
            {
                // A removal is final: a later `key add` naming the same credential does not
                // bring it back.
                let removed = known.keys.get(id).is_some_and(|k| k.removed);
                let text = |field: &str| {
                    value
                        .get(field)
                        .and_then(|v| v.as_str())
                        .map(str::to_string)
                };
                known.keys.insert(
                    id.to_string(),
                    Vouched {
                        credential_sha256: text("credential_sha256"),
                        registration_sha256: text("registration_sha256"),
                        attestation_root: text("attestation_root"),
                        removed,
                    },
                );
            }
        }
        // Rows up to the newest now present were all looked at.
        let newest: i64 =
            self.conn()
                .query_row("SELECT coalesce(max(seq), 0) FROM receipts", [], |r| {
                    r.get(0)
                })?;
        known.seen = known.seen.max(newest);
        drop(stmt);
        tx.commit()?;
        Ok(known.keys.clone())
    }

    pub fn insert_key(&self, key: &StoredKey) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO security_keys (id, name, created_ms, credential, attestation, aaguid, registration) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                key.info.id,
                key.info.name,
                key.info.created_ms,
                key.credential,
                key.info.attestation,
                key.info.aaguid,
                key.registration
            ],
        )?;
        Ok(())
    }

    /// Store the credential after a use (its signature counter moved) and when it was used.
    pub fn update_key_use(
        &self,
        id: &str,
        credential: &str,
        used_ms: i64,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE security_keys SET credential = ?2, last_used_ms = ?3 WHERE id = ?1",
            params![id, credential, used_ms],
        )?;
        Ok(())
    }

    /// Mark a key removed (by id or name). Returns the key, or `None` if no active key matches.
    pub fn remove_key(
        &self,
        id_or_name: &str,
        now_ms: i64,
    ) -> Result<Option<SecurityKeyInfo>, StoreError> {
        let found = self
            .active_keys()?
            .into_iter()
            .find(|k| k.info.id == id_or_name || k.info.name == id_or_name);
        let Some(key) = found else { return Ok(None) };
        self.conn().execute(
            "UPDATE security_keys SET removed_ms = ?2 WHERE id = ?1",
            params![key.info.id, now_ms],
        )?;
        Ok(Some(key.info))
    }

    pub fn key_name_taken(&self, name: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT 1 FROM security_keys WHERE name = ?1 AND removed_ms IS NULL",
                [name],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }
}

/// Key registrations found in the chain, and the last receipt row looked at.
#[derive(Debug, Default)]
pub struct Registrations {
    seen: i64,
    keys: HashMap<String, Vouched>,
}

/// The SHA-256 of what identifies a stored credential — its id and public key, not its
/// signature counter, which moves with every use — as a `key add` receipt records it.
pub fn credential_sha256(credential: &str) -> String {
    let stable = serde_json::from_str::<serde_json::Value>(credential)
        .ok()
        .and_then(|v| {
            let id = v.pointer("/cred/cred_id")?.clone();
            let key = v.pointer("/cred/cred")?.clone();
            Some(serde_json::json!({"cred_id": id, "cred": key}).to_string())
        })
        .unwrap_or_else(|| credential.to_string());
    hex::encode(Sha256::digest(stable.as_bytes()))
}

/// Whether the chained registration of `key`'s id vouches for its public key.
fn registered_as(vouched: &Vouched, key: &StoredKey) -> bool {
    match &vouched.credential_sha256 {
        Some(hash) => *hash == credential_sha256(&key.credential),
        // Recorded before registrations carried the hash: the credential id must match (and
        // such a key has no registration record, so step-up refuses it anyway).
        None => true,
    }
}

/// SHA-256 (hex) of a stored registration record, as the `key add` receipt records it.
pub fn registration_sha256(registration: &str) -> String {
    hex::encode(Sha256::digest(registration.as_bytes()))
}
