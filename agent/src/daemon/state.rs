//! The daemon's shared state: compiled policy, classifier, the receipt writer, pending
//! approvals, session grants, and the event bus the desktop app subscribes to.

use crate::classify::{Classification, Classifier};
use crate::home::AirlockHome;
use crate::policy::{Evaluation, Policy};
use crate::request::ActionRequest;
use crate::store::Store;
use crate::store::writer::Writer;
use airlock_protocol::{ApprovalScope, Event, PendingApproval};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};
use tokio::sync::{broadcast, oneshot};

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

pub struct Daemon {
    pub home: AirlockHome,
    pub policy_dirs: Vec<PathBuf>,
    pub policy: RwLock<Arc<Policy>>,
    pub classifier: Classifier,
    pub writer: Writer,
    /// Signed checkpoints of the receipt log (its own thread and connection).
    pub tree_heads: Arc<super::tree_heads::TreeHeads>,
    /// System mode: each user's view (classifier, policy); `None` in user mode.
    pub users: Option<super::users::Users>,
    /// Copies of the log kept elsewhere (PostgreSQL, syslog), shipped from its own thread.
    pub shipper: super::shipper::Shipper,
    /// A read connection for lookups the in-memory index has forgotten.
    pub reader: Mutex<Store>,
    pub pending: Mutex<HashMap<String, Pending>>,
    /// (session, action key) pairs approved with scope `session`.
    pub grants: Mutex<HashSet<(String, String)>>,
    pub recent: Mutex<RecentIndex>,
    pub events: broadcast::Sender<Event>,
    pub controls: super::controls::Controls,
    /// How long an `ask` waits, in ms; follows settings.toml unless `--approval-timeout` pinned it.
    pub approval_timeout_ms: std::sync::atomic::AtomicU64,
    pub approval_timeout_pinned: bool,
    /// `[notifications] enabled`, followed live; the notifier checks it before each notification.
    pub notifications_enabled: std::sync::atomic::AtomicBool,
    /// Whether a notifier task runs (it is started when notifications are first enabled).
    pub notifier_running: std::sync::atomic::AtomicBool,
    pub started_ms: i64,
    pub decisions: AtomicU64,
    pub uid: u32,
    /// Serialises policy amendments and reloads.
    pub policy_lock: tokio::sync::Mutex<()>,
    /// The WebAuthn relying party for security-key approvals.
    pub stepup: crate::stepup::RelyingParty,
    pub step_up_settings: crate::settings::StepUpSettings,
    /// `[approvals]`, read at start like the step-up settings: a change takes a restart.
    pub approval_settings: crate::settings::ApprovalSettings,
}

impl Daemon {
    /// What settings.toml says about "always" approvals.
    pub fn always_settings(&self) -> crate::policy::scopes::AlwaysSettings {
        crate::policy::scopes::AlwaysSettings {
            guarded: self.approval_settings.always_for_guarded,
            loosening_needs_key: self.step_up_settings.policy_loosening,
        }
    }

    pub fn approval_timeout(&self) -> Duration {
        Duration::from_millis(
            self.approval_timeout_ms
                .load(std::sync::atomic::Ordering::Relaxed),
        )
    }

    pub fn current_policy(&self) -> Arc<Policy> {
        match self.policy.read() {
            Ok(p) => p.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn lock_pending(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn lock_grants(&self) -> std::sync::MutexGuard<'_, HashSet<(String, String)>> {
        self.grants.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn lock_recent(&self) -> std::sync::MutexGuard<'_, RecentIndex> {
        self.recent.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn lock_reader(&self) -> std::sync::MutexGuard<'_, Store> {
        self.reader.lock().unwrap_or_else(|p| p.into_inner())
    }
}
