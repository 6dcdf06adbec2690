//! The daemon: its components, each owning its state (approvals, controls, the policy in force,
//! live settings, step-up, the receipt writer and reader, retention, checkpoints), and the event
//! bus the desktop app subscribes to.

use crate::classify::Classifier;
use crate::home::AirlockHome;
use crate::store::Store;
use crate::store::writer::Writer;
use airlock_protocol::Event;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

pub use super::approvals::{Approvals, Pending, Resolution};
pub use super::policy_in_force::PolicyInForce;
pub use super::settings_watch::LiveSettings;

pub struct Daemon {
    pub home: AirlockHome,
    /// The policy in force and where it comes from.
    pub policy: PolicyInForce,
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
    /// Held requests, session grants, recent decisions.
    pub approvals: Approvals,
    pub events: broadcast::Sender<Event>,
    pub controls: super::controls::Controls,
    /// What settings.toml changes while the daemon runs (approval timeout, notifications).
    pub live: LiveSettings,
    pub started_ms: i64,
    pub decisions: AtomicU64,
    pub uid: u32,
    /// The WebAuthn relying party for security-key approvals (and its settings).
    pub stepup: crate::stepup::RelyingParty,
}

impl Daemon {
    /// What settings.toml says about "always" approvals.
    pub fn always_settings(&self) -> crate::policy::scopes::AlwaysSettings {
        crate::policy::scopes::AlwaysSettings {
            guarded: self.approvals.settings.always_for_guarded,
            loosening_needs_key: self.stepup.settings().policy_loosening,
        }
    }

    pub fn lock_reader(&self) -> std::sync::MutexGuard<'_, Store> {
        self.reader.lock().unwrap_or_else(|p| p.into_inner())
    }
}
