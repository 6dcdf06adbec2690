//! What a genuine button press does. Each runs in its own task: an approval with a policy
//! amendment writes files, and the notifier must keep reading events meanwhile.

use super::shown::Entry;
use super::source::{Answer, Source};
use super::text::{APPROVE, DEFAULT, DENY};
use airlock_protocol::{Decision, Response};

pub fn invoke<S: Source>(source: &S, entry: &Entry, action: &str) {
    let id = entry.approval.clone();
    match (entry.decision, action) {
        (Decision::Ask, APPROVE) => {
            let source = source.clone();
            tokio::spawn(async move {
                let answer = source.approve(id.clone()).await;
                report(&id, "approve", answer);
            });
        }
        (Decision::Ask, DENY) => {
            let source = source.clone();
            tokio::spawn(async move {
                let answer = source.deny(id.clone()).await;
                report(&id, "deny", answer);
            });
        }
        (_, DEFAULT) => {
            tracing::info!(approval = %id, "notification clicked: showing the approvals window");
            source.show_approvals(&id);
        }
        (decision, other) => tracing::warn!(
            approval = %id,
            action = other,
            decision = decision.as_str(),
            "ignored a notification action Airlock did not offer"
        ),
    }
}

fn report(id: &str, action: &str, answer: Answer) {
    match answer {
        Ok(Response::Done { message }) => {
            tracing::info!(approval = %id, action, %message, "decided from a desktop notification");
        }
        // Most often: already decided elsewhere (window, CLI, expiry) a moment earlier.
        Ok(Response::Error { code, message }) => tracing::info!(
            approval = %id,
            action,
            code = code.as_str(),
            %message,
            "a desktop notification's button did nothing"
        ),
        Ok(other) => tracing::warn!(approval = %id, action, answer = ?other, "unexpected answer"),
        Err(error) => {
            tracing::warn!(approval = %id, action, %error, "cannot reach the Airlock daemon")
        }
    }
}
