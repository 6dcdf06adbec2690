//! Registered security keys. Not part of the receipt chain: a key's row is what later verifies
//! the chained approvals it signed, so rows are never deleted, only marked removed.

use super::{Store, StoreError};
use airlock_protocol::SecurityKeyInfo;
use rusqlite::{OptionalExtension, params};

/// A key as stored: its public description and the webauthn-rs `SecurityKey` JSON.
#[derive(Debug, Clone)]
pub struct StoredKey {
    pub info: SecurityKeyInfo,
    pub credential: String,
}

impl Store {
    /// Keys that can approve now (not removed).
    pub fn active_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        self.keys_where("removed_ms IS NULL")
    }

    /// Every key ever registered, removed ones included (for offline verification).
    pub fn all_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        self.keys_where("1")
    }

    fn keys_where(&self, condition: &str) -> Result<Vec<StoredKey>, StoreError> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT id, name, created_ms, attestation, aaguid, last_used_ms, credential FROM security_keys WHERE {condition} ORDER BY created_ms"
        ))?;
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
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn insert_key(&self, key: &StoredKey) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO security_keys (id, name, created_ms, credential, attestation, aaguid) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                key.info.id,
                key.info.name,
                key.info.created_ms,
                key.credential,
                key.info.attestation,
                key.info.aaguid
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
