//! What a genuine button press does. Each runs in its own task: an approval with a policy
//! amendment writes files, and the notifier must keep reading events meanwhile.

use super::shown::Entry;
use super::text::{APPROVE, DEFAULT, DENY};
use crate::daemon::Daemon;
use crate::daemon::who::Who;
use airlock_protocol::{ApprovalScope, Decision, Response};
use std::sync::Arc;

pub fn invoke(daemon: &Arc<Daemon>, entry: &Entry, action: &str) {
    let id = entry.approval.clone();
    match (entry.decision, action) {
        (Decision::Ask, APPROVE) => {
            let daemon = daemon.clone();
            tokio::spawn(async move {
                let answer = daemon
                    .approve(&id, ApprovalScope::Once, None, &Who::notification())
                    .await;
                report(&id, "approve", answer);
            });
        }
        (Decision::Ask, DENY) => {
            let answer = daemon.deny(
                &id,
                Some("denied from the desktop notification".into()),
                &Who::notification(),
            );
            report(&id, "deny", answer);
        }
        (_, DEFAULT) => {
            // The desktop app, subscribed to events, opens its window on this request.
            tracing::info!(approval = %id, "notification clicked: showing the approvals window");
            let _ = daemon
                .events
                .send(airlock_protocol::Event::ShowApprovals { id: id.to_string() });
        }
        (decision, other) => tracing::warn!(
            approval = %id,
            action = other,
            decision = decision.as_str(),
            "ignored a notification action Airlock did not offer"
        ),
    }
}

fn report(id: &str, action: &str, answer: Response) {
    match answer {
        Response::Done { message } => {
            tracing::info!(approval = %id, action, %message, "decided from a desktop notification");
        }
        // Most often: already decided elsewhere (window, CLI, expiry) a moment earlier.
        Response::Error { code, message } => tracing::info!(
            approval = %id,
            action,
            code = code.as_str(),
            %message,
            "a desktop notification's button did nothing"
        ),
        other => tracing::warn!(approval = %id, action, answer = ?other, "unexpected answer"),
    }
}
