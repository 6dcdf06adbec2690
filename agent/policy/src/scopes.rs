//! Which scopes a request waiting for a human may be approved with, and why not the others.
//!
//! `always` turns one approval into a standing allow. For guarded actions — writes to
//! production, pushes and uploads, messages to people, data exports, and any class whose
//! baseline is step-up — one "always" would remove that gate everywhere, without a key. So it is
//! refused there (the session scope is offered instead) unless settings.toml accepts it with a
//! security-key touch. The daemon enforces this on approval and tells the window the same
//! answer in advance, so the window never offers a button the daemon would refuse.

use super::amend::{self, AmendError};
use super::{Evaluation, Policy};
use airlock_classify::Classification;
use airlock_protocol::{ActionClass, ApprovalScope, Decision};
use airlock_request::ActionRequest;

pub use airlock_protocol::GuardedAlways;

/// Classes for which "always" is refused by default, besides those whose baseline is step-up.
pub const GUARDED_CLASSES: [ActionClass; 4] = [
    ActionClass::ProdWrite,
    ActionClass::RemoteWrite,
    ActionClass::ExternalComm,
    ActionClass::DataExport,
];

/// How "always" is configured: what settings.toml says about it.
#[derive(Debug, Clone, Copy)]
pub struct AlwaysSettings {
    pub guarded: GuardedAlways,
    /// `[step_up] policy_loosening`: every "always" needs a key.
    pub loosening_needs_key: bool,
}

/// Why "always" cannot be given to a request.
#[derive(Debug, thiserror::Error)]
pub enum AlwaysRefused {
    #[error(
        "cannot always-allow a {} action: one \"always\" would remove this gate for every such action from now on, without a security key. Approve it with `--scope session` (for this session only) or `--scope once`; to allow \"always\" here with a security-key touch, set `always_for_guarded = \"with-key\"` under `[approvals]` in settings.toml and restart the daemon",
        list(.0)
    )]
    Guarded(Vec<ActionClass>),
    #[error(transparent)]
    NotExact(#[from] AmendError),
}

impl AlwaysRefused {
    /// The guarded classes that refused it (empty for other reasons).
    pub fn classes(&self) -> &[ActionClass] {
        match self {
            AlwaysRefused::Guarded(classes) => classes,
            AlwaysRefused::NotExact(_) => &[],
        }
    }
}

/// The request a human is deciding, as the policy saw it.
pub struct Held<'a> {
    pub request: &'a ActionRequest,
    pub classification: &'a Classification,
    pub evaluation: &'a Evaluation,
}

/// Whether "always" may be given to `held`; `Ok(true)` when it needs a security-key touch.
pub fn always(
    held: &Held<'_>,
    policy: &Policy,
    settings: AlwaysSettings,
) -> Result<bool, AlwaysRefused> {
    let guarded = guarded_classes(held.evaluation, policy);
    if !guarded.is_empty() && settings.guarded == GuardedAlways::Refuse {
        return Err(AlwaysRefused::Guarded(guarded));
    }
    amend::entries_for(held.request, held.classification, held.evaluation, "")?;
    Ok(settings.loosening_needs_key || !guarded.is_empty())
}

/// The scopes a human may approve `held` with, which of them need a key, and why `always` is
/// missing or needs a key.
pub fn offered(held: &Held<'_>, policy: &Policy, settings: AlwaysSettings) -> Offered {
    if held.evaluation.decision == Decision::StepUp {
        return Offered {
            scopes: vec![ApprovalScope::Once],
            key_scopes: vec![ApprovalScope::Once],
            always_note: Some(
                "a security-key approval is for this request only, so it cannot be given for the session or always".to_string(),
            ),
        };
    }
    let mut scopes = vec![ApprovalScope::Once];
    if held.request.session.is_some() {
        scopes.push(ApprovalScope::Session);
    }
    let mut key_scopes = Vec::new();
    let always_note = match always(held, policy, settings) {
        Ok(needs_key) => {
            scopes.push(ApprovalScope::Always);
            needs_key.then(|| {
                key_scopes.push(ApprovalScope::Always);
                "\"always\" needs a security-key touch here (settings.toml)".to_string()
            })
        }
        Err(refused) => Some(refused.to_string()),
    };
    Offered {
        scopes,
        key_scopes,
        always_note,
    }
}

/// What [`offered`] answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offered {
    pub scopes: Vec<ApprovalScope>,
    pub key_scopes: Vec<ApprovalScope>,
    pub always_note: Option<String>,
}

/// The classes a human was asked about that are guarded: the fixed [`GUARDED_CLASSES`] and any
/// whose baseline in this policy is step-up (or stricter).
fn guarded_classes(evaluation: &Evaluation, policy: &Policy) -> Vec<ActionClass> {
    let mut classes: Vec<ActionClass> = evaluation
        .details
        .iter()
        .filter(|d| d.decision > Decision::Allow)
        .map(|d| d.class)
        .filter(|c| GUARDED_CLASSES.contains(c) || policy.baseline_decision(*c) >= Decision::StepUp)
        .collect();
    classes.sort();
    classes.dedup();
    classes
}

fn list(classes: &[ActionClass]) -> String {
    let names: Vec<String> = classes.iter().map(|c| format!("`{c}`")).collect();
    names.join(" and ")
}
