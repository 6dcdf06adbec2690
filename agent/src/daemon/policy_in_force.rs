//! The policy in force: where it is loaded from, the compiled policy requests are judged by
//! now, and the lock that serialises amendments ("always" approvals) and reloads, so an
//! amendment is never lost to a reload that read the files before it was written.

use crate::policy::Policy;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

pub struct PolicyInForce {
    /// Shipped policy first, then the user's (or the machine's) policy directory.
    dirs: Vec<PathBuf>,
    current: RwLock<Arc<Policy>>,
    changing: tokio::sync::Mutex<()>,
}

impl PolicyInForce {
    pub fn new(dirs: Vec<PathBuf>, policy: Policy) -> Self {
        Self {
            dirs,
            current: RwLock::new(Arc::new(policy)),
            changing: tokio::sync::Mutex::new(()),
        }
    }

    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// The policy new requests are judged by.
    pub fn current(&self) -> Arc<Policy> {
        match self.current.read() {
            Ok(p) => p.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Put `policy` in force.
    pub fn replace(&self, policy: Arc<Policy>) {
        match self.current.write() {
            Ok(mut p) => *p = policy,
            Err(poisoned) => *poisoned.into_inner() = policy,
        }
    }

    /// Held while the policy files are amended or reloaded.
    pub async fn lock_changes(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.changing.lock().await
    }
}
