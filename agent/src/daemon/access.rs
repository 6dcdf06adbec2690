//! Who may ask for what, in system mode (in user mode the socket admits its one user only, and
//! everything below answers yes).
//!
//! Every user may send hooks, stop everything (it fails closed), read the status and register
//! their own launchers. They see and decide only what belongs to their own sessions — pending
//! requests, approvals, "always", step-up ceremonies, session controls, events. What acts on the
//! whole machine and could loosen it — resuming after an emergency stop, adding or removing
//! security keys — is for root and the admin group. Rollback writes users' files, which the
//! daemon never does in system mode: it is refused there.

use super::state::Daemon;
use super::users::owner_of;
use super::who::Peer;
use airlock_protocol::{ErrorCode, Event, Request, Response, StepUpTarget};

/// `Some(refusal)` when `peer` may not make `request`.
pub fn refuse(daemon: &Daemon, peer: &Peer, request: &Request) -> Option<Response> {
    daemon.users.as_ref()?;
    let owns_pending = |id: &str| {
        let session = daemon
            .approvals
            .lock_pending()
            .get(id)
            .and_then(|p| p.request.session.clone());
        // An unknown id is answered as not found by the handler, not as a refusal here.
        session.is_none() || daemon.may_act_on(peer, session.as_deref())
    };
    let allowed = match request {
        // Anyone may stop everything (it fails closed); signalling agents is for admins.
        Request::Stop { kill, .. } => !kill || daemon.is_admin(peer),
        Request::Hook { .. }
        | Request::Status {}
        | Request::Launch {}
        | Request::LaunchEnded {}
        | Request::Pending {}
        | Request::Sessions {}
        | Request::History { .. }
        | Request::Receipt { .. }
        | Request::Subscribe {}
        | Request::PolicyCheck {}
        | Request::KeyList {} => true,
        Request::Approve { id, .. } | Request::Deny { id, .. } | Request::PreviewAlways { id } => {
            owns_pending(id)
        }
        Request::StepUpBegin { target } => match target {
            StepUpTarget::Approve { id, .. } => owns_pending(id),
            StepUpTarget::Resume | StepUpTarget::KeyAdd { .. } | StepUpTarget::KeyRemove { .. } => {
                daemon.is_admin(peer)
            }
        },
        Request::SessionCancel { id, .. }
        | Request::SessionContain { id, .. }
        | Request::SessionRelease { id } => daemon.may_act_on(peer, Some(id)),
        Request::Resume { .. }
        | Request::KeyRegisterBegin { .. }
        | Request::KeyRegisterFinish { .. }
        | Request::KeyRemove { .. } => daemon.is_admin(peer),
        Request::Rollback { .. } => {
            return Some(Response::Error {
                code: ErrorCode::Forbidden,
                message: "rollback is not available in system mode yet: the daemon never writes users' files (restore from the pre-images with your own tools, or use version control)".into(),
            });
        }
    };
    (!allowed).then(|| Response::Error {
        code: ErrorCode::Forbidden,
        message: "in system mode you may see and decide only your own requests and sessions; resuming after an emergency stop and managing security keys are for root and the admin group".into(),
    })
}

/// Whether an event may go to `peer`'s subscription: what names a session goes to its user
/// (and admins); machine-wide news goes to everyone.
pub fn may_see(daemon: &Daemon, peer: &Peer, event: &Event) -> bool {
    if daemon.users.is_none() || daemon.is_admin(peer) {
        return true;
    }
    let session = match event {
        Event::ApprovalPending { approval } | Event::StepUpUnavailable { approval } => {
            approval.session.clone()
        }
        Event::Recorded { receipt } => receipt.session.clone(),
        Event::SessionChanged { session } => Some(session.id.clone()),
        Event::BreakerTripped { session, .. } => Some(session.clone()),
        Event::ShowApprovals { id } | Event::ApprovalResolved { id, .. } => daemon
            .approvals
            .lock_pending()
            .get(id)
            .and_then(|p| p.request.session.clone()),
        Event::EmergencyStop { .. } | Event::PolicyReloaded { .. } => return true,
    };
    session.is_some_and(|s| owner_of(&s).is_some() && daemon.may_act_on(peer, Some(&s)))
}
