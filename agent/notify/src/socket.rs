//! The daemon over its socket: the [`Source`] of a user's own notifier in system mode.

use crate::source::{Answer, Incoming, OnClick, Source};
use airlock_client::Client;
use airlock_client::home::AirlockHome;
use airlock_protocol::{ApprovalScope, PendingApproval, Request, Response, Surface};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// The daemon's socket, and what a click on a notification does in this process.
#[derive(Clone)]
pub struct Socket(Arc<Link>);

struct Link {
    home: AirlockHome,
    /// Open the approvals window (the desktop app); `None` in `airlock notify`.
    on_click: Option<OnClick>,
}

impl Socket {
    pub fn new(home: AirlockHome, on_click: Option<OnClick>) -> Self {
        Self(Arc::new(Link { home, on_click }))
    }

    async fn blocking_call(&self, request: Request) -> Answer {
        let link = self.0.clone();
        tokio::task::spawn_blocking(move || call(&link.home, request))
            .await
            .map_err(|e| e.to_string())?
    }
}

impl Source for Socket {
    fn enabled(&self) -> bool {
        true
    }

    async fn pending(&self) -> Vec<PendingApproval> {
        match self.blocking_call(Request::Pending {}).await {
            Ok(Response::Pending { items }) => items,
            Ok(other) => {
                tracing::warn!(answer = ?other, "unexpected answer to `pending`");
                Vec::new()
            }
            Err(error) => {
                tracing::warn!(%error, "cannot list the pending requests");
                Vec::new()
            }
        }
    }

    async fn approve(&self, id: String) -> Answer {
        let request = Request::Approve {
            id,
            scope: ApprovalScope::Once,
            assertion: None,
        };
        self.blocking_call(request).await
    }

    async fn deny(&self, id: String) -> Answer {
        let reason = Some(crate::source::DENIED_FROM_NOTIFICATION.to_string());
        self.blocking_call(Request::Deny { id, reason }).await
    }

    /// A user's own process has nobody to tell but the person, unless it is the desktop app,
    /// which opens its window.
    fn show_approvals(&self, id: &str) {
        match &self.0.on_click {
            Some(open_window) => open_window(id),
            None => tracing::info!(
                approval = %id,
                "notification clicked: decide it with `airlock approve` / `airlock deny`, or in the Airlock app"
            ),
        }
    }

    /// A lost connection is retried every second and each (re)connection starts with
    /// [`Incoming::Missed`].
    fn follow(&self) -> mpsc::Receiver<Incoming> {
        let (tx, rx) = mpsc::channel(256);
        let link = self.0.clone();
        let spawned = std::thread::Builder::new()
            .name("airlock-notify-events".into())
            .spawn(move || follow_socket(&link.home, &tx));
        if let Err(error) = spawned {
            tracing::error!(%error, "cannot start following the daemon's events");
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

fn subscribe(home: &AirlockHome) -> Result<Client, String> {
    let mut client = Client::connect_to(home).map_err(|e| e.to_string())?;
    client
        .send(1, Request::Subscribe {})
        .map_err(|e| e.to_string())?;
    Ok(client)
}

fn call(home: &AirlockHome, request: Request) -> Answer {
    Client::connect_to(home)
        .map_err(|e| e.to_string())?
        .with_surface(Surface::Notification)
        .call(request)
        .map_err(|e| e.to_string())
}
