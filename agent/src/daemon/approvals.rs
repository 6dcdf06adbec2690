//! The approvals component: requests held for a human, the session grants they leave, and the
//! index of recent decisions that links later hook events (PostToolUse, PermissionRequest) to
//! them. Each is behind its own lock; a poisoned lock is taken over (the state stays usable).

use crate::classify::Classification;
use crate::policy::Evaluation;
use crate::request::ActionRequest;
use crate::settings::ApprovalSettings;
use airlock_protocol::{ApprovalScope, PendingApproval};
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;
use tokio::sync::oneshot;

/// Held requests, session grants and recent decisions.
pub struct Approvals {
    pending: Mutex<HashMap<String, Pending>>,
    /// (session, action key) pairs approved with scope `session`.
    grants: Mutex<HashSet<(String, String)>>,
    recent: Mutex<RecentIndex>,
    /// `[approvals]`, read at start: a change takes a restart.
    pub settings: ApprovalSettings,
}

impl Approvals {
    pub fn new(settings: ApprovalSettings) -> Self {
        Self {
            pending: Mutex::new(HashMap::new()),
            grants: Mutex::new(HashSet::new()),
            recent: Mutex::new(RecentIndex::default()),
            settings,
        }
    }

    pub fn lock_pending(&self) -> MutexGuard<'_, HashMap<String, Pending>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn lock_grants(&self) -> MutexGuard<'_, HashSet<(String, String)>> {
        self.grants.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn lock_recent(&self) -> MutexGuard<'_, RecentIndex> {
        self.recent.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// How a pending approval ended (other than expiring).
#[derive(Debug)]
pub enum Resolution {
    Approved {
        scope: ApprovalScope,
        actor: String,
        /// Who decided ([`super::who::Who`] as recorded).
        who: serde_json::Value,
        note: Option<String>,
        /// The verified security-key assertion, for a step-up approval.
        proof: Option<Box<crate::stepup::Proof>>,
    },
    Rejected {
        reason: Option<String>,
        actor: String,
        who: serde_json::Value,
    },
    Canceled {
        reason: String,
        actor: String,
    },
}

pub struct Pending {
    pub approval: PendingApproval,
    pub request: ActionRequest,
    pub classification: Classification,
    pub evaluation: Evaluation,
    /// The receipt's fields as chained: what a security-key approval of it signs.
    pub receipt_fields: String,
    pub resolve: Option<oneshot::Sender<Resolution>>,
}

/// What the daemon remembers about recent receipts, to link PostToolUse reports and
/// PermissionRequests to the PreToolUse decision of the same call.
#[derive(Default)]
pub struct RecentIndex {
    pub by_tool_use: HashMap<String, String>,
    /// session → its newest receipt (where `stop --kill` records `interrupted`).
    pub by_session: HashMap<String, String>,
    /// (session, action key) → (receipt id, permitted, when)
    pub by_action: HashMap<(String, String), (String, bool, SystemTime)>,
}

impl RecentIndex {
    /// Bound memory: the database is the fallback for anything forgotten.
    const MAX: usize = 50_000;

    pub fn remember(
        &mut self,
        tool_use_id: Option<&str>,
        action: (String, String),
        receipt: &str,
        permitted: bool,
    ) {
        if self.by_tool_use.len() > Self::MAX {
            self.by_tool_use.clear();
        }
        if self.by_action.len() > Self::MAX {
            self.by_action.clear();
        }
        if self.by_session.len() > Self::MAX {
            self.by_session.clear();
        }
        if let Some(id) = tool_use_id {
            self.by_tool_use.insert(id.to_string(), receipt.to_string());
        }
        self.by_session
            .insert(action.0.clone(), receipt.to_string());
        self.by_action
            .insert(action, (receipt.to_string(), permitted, SystemTime::now()));
    }
}
