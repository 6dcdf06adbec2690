//! The daemon's own notifier (user mode, where the daemon shares the user's session bus): the
//! daemon's state as the notifier's [`Source`]. Button presses are judged like any other
//! approval, as coming from the notification surface.

use super::Daemon;
use super::who::Who;
use airlock_notify::{Answer, Incoming, Source};
use airlock_protocol::{ApprovalScope, Event, PendingApproval};
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc};

/// Start the daemon's own notifier on the current tokio runtime, unless it runs already. It
/// subscribes to the daemon's events before returning, so no approval raised after this call
/// is missed.
pub fn spawn_notifier(daemon: Arc<Daemon>) {
    if !daemon.live.start_notifier() {
        return;
    }
    let source = InDaemon(daemon);
    let events = source.follow();
    tokio::spawn(airlock_notify::run(source, events));
}

#[derive(Clone)]
struct InDaemon(Arc<Daemon>);

impl Source for InDaemon {
    fn enabled(&self) -> bool {
        self.0.live.notifications_enabled()
    }

    async fn pending(&self) -> Vec<PendingApproval> {
        self.0.pending_list()
    }

    async fn approve(&self, id: String) -> Answer {
        Ok(self
            .0
            .approve(&id, ApprovalScope::Once, None, &Who::notification())
            .await)
    }

    async fn deny(&self, id: String) -> Answer {
        let reason = Some(airlock_notify::DENIED_FROM_NOTIFICATION.to_string());
        Ok(self.0.deny(&id, reason, &Who::notification()))
    }

    /// An event the desktop app follows to open its window.
    fn show_approvals(&self, id: &str) {
        let _ = self
            .0
            .events
            .send(Event::ShowApprovals { id: id.to_string() });
    }

    /// The receiver ends when the daemon's event bus closes.
    fn follow(&self) -> mpsc::Receiver<Incoming> {
        let (tx, rx) = mpsc::channel(256);
        let mut events = self.0.events.subscribe();
        tokio::spawn(async move {
            loop {
                let incoming = match events.recv().await {
                    Ok(event) => Incoming::Event(Box::new(event)),
                    Err(broadcast::error::RecvError::Lagged(_)) => Incoming::Missed,
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                if tx.send(incoming).await.is_err() {
                    return;
                }
            }
        });
        rx
    }
}
