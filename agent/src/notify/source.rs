//! Where the notifier learns of requests and where a button press goes.
//!
//! In user mode the notifier runs inside the daemon (it shares the user's session bus). In
//! system mode the daemon runs under its own account and reaches no user's session bus, so each
//! user runs `airlock notify`: the same notifier in a process of their own, subscribed to the
//! daemon's socket like any other client. There it sees only that user's requests (the daemon
//! filters the event stream by peer), and a button press is an ordinary `approve`/`deny` over
//! the socket, judged by the daemon like one from the terminal.

use crate::daemon::Daemon;
use crate::home::AirlockHome;
use airlock_protocol::{ApprovalScope, Event, PendingApproval, Request, Response, Surface};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// What the notifier is told.
pub enum Incoming {
    Event(Box<Event>),
    /// Events may have been missed (a lagging receiver, a reconnect): the pending list is the
    /// truth.
    Missed,
}

#[derive(Clone)]
pub enum Source {
    /// Inside the daemon (user mode).
    Daemon(Arc<Daemon>),
    /// A user's own process talking to the daemon's socket (system mode).
    Socket(Arc<Link>),
}

/// What a click on a notification does in this process (given the approval's id).
pub type OnClick = Box<dyn Fn(&str) + Send + Sync>;

/// The daemon's socket, and what a click on a notification does in this process.
pub struct Link {
    pub home: AirlockHome,
    /// Open the approvals window (the desktop app); `None` in `airlock notify`.
    pub on_click: Option<OnClick>,
}

/// The answer a button press got, for the log.
pub type Answer = Result<Response, String>;

impl Source {
    /// Whether notifications are wanted now (the daemon's setting; a user who runs
    /// `airlock notify` wants them).
    pub fn enabled(&self) -> bool {
        match self {
            Source::Daemon(daemon) => daemon
                .notifications_enabled
                .load(std::sync::atomic::Ordering::Relaxed),
            Source::Socket(_) => true,
        }
    }

    /// The requests waiting for a human now.
    pub async fn pending(&self) -> Vec<PendingApproval> {
        match self {
            Source::Daemon(daemon) => daemon.pending_list(),
            Source::Socket(link) => {
                let link = link.clone();
                match tokio::task::spawn_blocking(move || call(&link.home, Request::Pending {}))
                    .await
                {
                    Ok(Ok(Response::Pending { items })) => items,
                    Ok(Ok(other)) => {
                        tracing::warn!(answer = ?other, "unexpected answer to `pending`");
                        Vec::new()
                    }
                    Ok(Err(error)) => {
                        tracing::warn!(%error, "cannot list the pending requests");
                        Vec::new()
                    }
                    Err(_) => Vec::new(),
                }
            }
        }
    }

    /// Approve once, as a person pressing the notification's button.
    pub async fn approve(&self, id: String) -> Answer {
        match self {
            Source::Daemon(daemon) => Ok(daemon
                .approve(
                    &id,
                    ApprovalScope::Once,
                    None,
                    &crate::daemon::who::Who::notification(),
                )
                .await),
            Source::Socket(link) => {
                let request = Request::Approve {
                    id,
                    scope: ApprovalScope::Once,
                    assertion: None,
                };
                blocking_call(link, request).await
            }
        }
    }

    pub async fn deny(&self, id: String) -> Answer {
        let reason = Some("denied from the desktop notification".to_string());
        match self {
            Source::Daemon(daemon) => {
                Ok(daemon.deny(&id, reason, &crate::daemon::who::Who::notification()))
            }
            Source::Socket(link) => blocking_call(link, Request::Deny { id, reason }).await,
        }
    }

    /// The notification itself was clicked: ask for the approvals window. Inside the daemon
    /// that is an event the desktop app follows; a user's own process has nobody to tell but
    /// the person (the app, when it runs, raises its own notifications instead).
    pub fn show_approvals(&self, id: &str) {
        match self {
            Source::Daemon(daemon) => {
                let _ = daemon
                    .events
                    .send(Event::ShowApprovals { id: id.to_string() });
            }
            Source::Socket(_) => tracing::info!(
                approval = %id,
                "notification clicked: decide it with `airlock approve` / `airlock deny`, or in the Airlock app"
            ),
        }
    }

    /// Start following the daemon's events; the receiver ends when they can end no more
    /// (the daemon's bus closed). Over the socket, a lost connection is retried every second
    /// and each (re)connection starts with [`Incoming::Missed`].
    pub fn follow(&self) -> mpsc::Receiver<Incoming> {
        let (tx, rx) = mpsc::channel(256);
        match self {
            Source::Daemon(daemon) => {
                let mut events = daemon.events.subscribe();
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
            }
            Source::Socket(link) => {
                let link = link.clone();
                let spawned = std::thread::Builder::new()
                    .name("airlock-notify-events".into())
                    .spawn(move || follow_socket(&link.home, &tx));
                if let Err(error) = spawned {
                    tracing::error!(%error, "cannot start following the daemon's events");
                }
            }
        }
        rx
    }
}

fn follow_socket(home: &AirlockHome, tx: &mpsc::Sender<Incoming>) {
    let mut told = false;
    loop {
        match subscribe(home) {
            Ok(mut client) => {
                told = false;
                tracing::info!("following the Airlock daemon's requests");
                if tx.blocking_send(Incoming::Missed).is_err() {
                    return;
                }
                loop {
                    match client.receive() {
                        Ok(Response::Event(event)) => {
                            if tx.blocking_send(Incoming::Event(Box::new(event))).is_err() {
                                return;
                            }
                        }
                        Ok(_) => {}
                        Err(error) => {
                            tracing::warn!(%error, "lost the Airlock daemon; reconnecting");
                            break;
                        }
                    }
                }
            }
            Err(error) if !told => {
                tracing::warn!(%error, "cannot reach the Airlock daemon; trying again every second");
                told = true;
            }
            Err(_) => {}
        }
        if tx.is_closed() {
            return;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

fn subscribe(home: &AirlockHome) -> Result<crate::client::Client, String> {
    let mut client = crate::client::Client::connect_to(home).map_err(|e| e.to_string())?;
    client
        .send(1, Request::Subscribe {})
        .map_err(|e| e.to_string())?;
    Ok(client)
}

fn call(home: &AirlockHome, request: Request) -> Answer {
    crate::client::Client::connect_to(home)
        .map_err(|e| e.to_string())?
        .with_surface(Surface::Notification)
        .call(request)
        .map_err(|e| e.to_string())
}

async fn blocking_call(link: &Arc<Link>, request: Request) -> Answer {
    let link = link.clone();
    tokio::task::spawn_blocking(move || call(&link.home, request))
        .await
        .map_err(|e| e.to_string())?
}
