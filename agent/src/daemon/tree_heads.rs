//! Signing checkpoints of the receipt log while the daemon runs: every [`EVERY_ROWS`] rows, or
//! [`EVERY`] when fewer came, and once more at a clean stop. On a thread and a database
//! connection of their own: extending the Merkle tree and signing never sit on an answer's path.

use crate::store::tree::signing::{SigningError, TreeSigner};
use crate::store::tree::{TreeHead, checkpoint_text};
use crate::store::{Store, StoreError, now_ms};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Sign after this many new rows…
pub const EVERY_ROWS: u64 = 1000;
/// …or this long after the last checkpoint when any row came. Short, because rows written
/// after the last checkpoint that left the machine are what a `kill -9` and a cut-back can
/// still remove unseen where only checkpoints are retained (syslog); PostgreSQL gets every row.
pub const EVERY: Duration = Duration::from_secs(10);
/// How often the thread looks.
const POLL: Duration = Duration::from_secs(1);

pub struct TreeHeads {
    inner: Mutex<Inner>,
}

struct Inner {
    store: Store,
    signer: TreeSigner,
    last_size: u64,
    last_ms: i64,
    /// What the last attempt came to, for `airlock status`.
    state: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TreeHeadError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Signing(#[from] SigningError),
    #[error(
        "the stored Merkle tree no longer gives the root signed at row {0}: `tree_hashes` was changed; no checkpoint is signed over it (run `airlock verify`)"
    )]
    Tampered(u64),
}

impl TreeHeads {
    pub fn open(database: &Path) -> Result<Self, TreeHeadError> {
        let store = Store::open(database)?;
        let signer = TreeSigner::load_or_create(database)?;
        let last_size = store.last_tree_head_size()?.unwrap_or(0);
        Ok(Self {
            inner: Mutex::new(Inner {
                store,
                signer,
                last_size,
                last_ms: now_ms(),
                state: "no checkpoint signed by this daemon yet".into(),
            }),
        })
    }

    /// The last checkpoint attempt: signed, or why not.
    pub fn state(&self) -> String {
        self.lock().state.clone()
    }

    /// Where the signing key is kept, and why there.
    pub fn key_location(&self) -> String {
        self.lock().signer.location.clone()
    }

    /// The public key checkpoints verify with.
    pub fn verifier_key(&self) -> String {
        self.lock().signer.verifier_key.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sign a checkpoint of everything written so far, if anything was written since the last.
    /// Returns the size signed.
    pub fn sign_now(&self) -> Result<Option<u64>, TreeHeadError> {
        let mut inner = self.lock();
        let result = Self::sign_locked(&mut inner);
        if let Err(e) = &result {
            inner.state = format!("NOT SIGNING: {e}");
        }
        result
    }

    fn sign_locked(inner: &mut Inner) -> Result<Option<u64>, TreeHeadError> {
        // The tree is extended from its stored hashes: they must still give the root the last
        // checkpoint signed, or a changed `tree_hashes` would be signed (and sent) as the log.
        if let Some(last) = inner.store.tree_heads()?.last() {
            let signed = crate::store::tree::signing::open(&last.note, &inner.signer.verifier_key)
                .map_err(|_| TreeHeadError::Tampered(last.size))?;
            if inner.store.stored_root(last.size)? != *signed.hash() {
                return Err(TreeHeadError::Tampered(last.size));
            }
        }
        let (size, root) = inner.store.extend_tree()?;
        if size == inner.last_size {
            return Ok(None);
        }
        let text = checkpoint_text(&inner.signer.origin, size, root)?;
        let note = inner.signer.sign(&text)?;
        let time_ms = now_ms();
        inner.store.add_tree_head(&TreeHead {
            size,
            time_ms,
            note: note.clone(),
        })?;
        // Copies leave from the outbox (`daemon/shipper.rs`), not from here.
        inner.state = format!(
            "last signed at row {size} ({})",
            crate::store::format_ms(time_ms)
        );
        inner.last_size = size;
        inner.last_ms = time_ms;
        Ok(Some(size))
    }

    /// Sign if enough rows came, or enough time passed with any.
    fn sign_if_due(&self) -> Result<(), TreeHeadError> {
        let (last_size, last_ms, newest) = {
            let inner = self.lock();
            let newest: i64 = inner
                .store
                .conn()
                .query_row("SELECT coalesce(max(seq), 0) FROM chain_head", [], |r| {
                    r.get(0)
                })
                .map_err(StoreError::from)?;
            (inner.last_size, inner.last_ms, newest as u64)
        };
        let waiting = newest.saturating_sub(last_size);
        let due = waiting >= EVERY_ROWS
            || (waiting > 0 && now_ms() - last_ms >= EVERY.as_millis() as i64);
        if due {
            self.sign_now()?;
        }
        Ok(())
    }
}

/// Sign in the background for as long as the daemon runs.
pub fn spawn(heads: Arc<TreeHeads>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("airlock-tree".into())
        .spawn(move || {
            loop {
                std::thread::sleep(POLL);
                if let Err(e) = heads.sign_if_due() {
                    tracing::error!(error = %e, "cannot sign a checkpoint of the receipt log");
                }
            }
        })?;
    Ok(())
}
