//! The notifier task: daemon events in, notifications out; the server's genuine signals in,
//! approvals and denials out. It only reads the event bus, so nothing on the decision path
//! ever waits for it; without a bus or a server it says so once and the window and CLI work
//! as before.

use super::bus::{Bus, Signals};
use super::shown::Shown;
use super::source::{Incoming, Source};
use super::{actions, text, trust};
use airlock_protocol::{Event, PendingApproval};
use futures_util::StreamExt;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use zbus::Message;
use zbus::names::OwnedUniqueName;

/// Raise the notifications of the daemon behind `source` until its events end (or the
/// session bus goes away).
pub async fn run_for<S: Source>(source: S) {
    let events = source.follow();
    run(source, events).await
}

/// The notification server we talk to, and its signals (filtered by the bus on its name).
struct Server {
    owner: OwnedUniqueName,
    signals: Signals,
}

struct Notifier<S> {
    source: S,
    bus: Bus,
    server: Option<Server>,
    shown: Shown,
    /// "No notification server" is logged once until one appears.
    told_no_server: bool,
    /// When the bus was last asked to start a server: a burst of approvals with none installed
    /// must not mean a burst of activation attempts, each of which can take seconds.
    activated_at: Option<Instant>,
}

/// How often to ask the bus to start a notification server that is not running.
const ACTIVATION_INTERVAL: Duration = Duration::from_secs(60);

/// What woke the notifier (events are boxed: a pending approval is large).
enum Wake {
    Event(Option<Incoming>),
    OwnerChanged(Option<zbus::Result<Message>>),
    Signal(Option<zbus::Result<Message>>),
}

/// Raise notifications for `events` (already followed: see [`Source::follow`]).
pub async fn run<S: Source>(source: S, mut events: mpsc::Receiver<Incoming>) {
    let bus = match Bus::connect().await {
        Ok(bus) => bus,
        Err(error) => {
            tracing::info!(
                %error,
                "no D-Bus session bus, so no desktop notifications; approve in the Airlock window or with `airlock approve`"
            );
            return;
        }
    };
    // Watch the name before looking its owner up, so a change in between is not missed.
    let mut owner_changes = match bus.owner_changes().await {
        Ok(stream) => stream,
        Err(error) => {
            tracing::warn!(%error, "cannot watch for a notification server; desktop notifications are off");
            return;
        }
    };
    let mut notifier = Notifier {
        source,
        bus,
        server: None,
        shown: Shown::default(),
        told_no_server: false,
        activated_at: None,
    };
    notifier.find_server(false).await;
    loop {
        let wake = {
            let signal = next_signal(&mut notifier.server);
            tokio::select! {
                event = events.recv() => Wake::Event(event),
                changed = owner_changes.next() => Wake::OwnerChanged(changed),
                signal = signal => Wake::Signal(signal),
            }
        };
        match wake {
            Wake::Event(Some(Incoming::Event(event))) => match *event {
                Event::ApprovalPending { approval } => notifier.show(&approval).await,
                Event::ApprovalResolved { id, .. } => notifier.close(&id).await,
                Event::StepUpUnavailable { approval } => notifier.tell_no_key(&approval).await,
                Event::EmergencyStop { stop: Some(stop) }
                    if stop.by == airlock_protocol::STOPPED_BY_WATCHDOG =>
                {
                    notifier.tell(&text::impostor_content()).await
                }
                _ => {}
            },
            Wake::Event(Some(Incoming::Missed)) => notifier.resync().await,
            Wake::Event(None) => return,
            Wake::OwnerChanged(Some(Ok(message))) => {
                if trust::from_bus(&message.header()) {
                    notifier.server_changed().await;
                } else {
                    tracing::warn!(
                        sender = ?message.header().sender(),
                        "ignored a NameOwnerChanged that did not come from the bus"
                    );
                }
            }
            Wake::Signal(Some(Ok(message))) => notifier.signal(&message),
            Wake::OwnerChanged(Some(Err(error))) | Wake::Signal(Some(Err(error))) => {
                tracing::debug!(%error, "unreadable message from the session bus");
            }
            Wake::OwnerChanged(None) | Wake::Signal(None) => {
                tracing::info!("the D-Bus session bus went away; desktop notifications are off");
                return;
            }
        }
    }
}

/// The next signal from the server, or never if there is none.
async fn next_signal(server: &mut Option<Server>) -> Option<zbus::Result<Message>> {
    match server {
        Some(server) => server.signals.next().await,
        None => std::future::pending().await,
    }
}

impl<S: Source> Notifier<S> {
    /// Look the server up and subscribe to its signals. With `activate`, ask the bus to start
    /// an installed one that is not running (dunst, mako and others are D-Bus activatable).
    async fn find_server(&mut self, activate: bool) {
        let mut owner = self.bus.owner().await;
        let recently = self
            .activated_at
            .is_some_and(|at| at.elapsed() < ACTIVATION_INTERVAL);
        if owner.is_none() && activate && !recently {
            self.activated_at = Some(Instant::now());
            match self.bus.activate().await {
                Ok(()) => owner = self.bus.owner().await,
                Err(error) => tracing::debug!(%error, "no notification server could be started"),
            }
        }
        let Some(owner) = owner else {
            if !self.told_no_server {
                tracing::warn!(
                    "no desktop notification server on the session bus; approve in the Airlock window or with `airlock approve` (turn this off with `[notifications] enabled = false`)"
                );
                self.told_no_server = true;
            }
            return;
        };
        match self.bus.subscribe(&owner).await {
            Ok(signals) => {
                let server = self.bus.server_information(&owner).await;
                tracing::info!(
                    owner = %owner,
                    server = server.as_deref().unwrap_or("unknown"),
                    "desktop notifications for approvals"
                );
                self.told_no_server = false;
                self.server = Some(Server { owner, signals });
            }
            Err(error) => {
                tracing::warn!(%error, "cannot subscribe to the notification server's signals")
            }
        }
    }

    /// The server's name changed hands. Ask the bus who owns it now (the signal's arguments are
    /// not needed, and not trusted); a new owner means new ids, so forget ours and show the
    /// pending requests again there.
    async fn server_changed(&mut self) {
        let now = self.bus.owner().await;
        let before = self.server.as_ref().map(|s| &s.owner);
        if now.as_ref() == before {
            return;
        }
        if before.is_some() {
            tracing::info!(now = ?now.as_ref().map(|o| o.as_str()), "the notification server changed");
        }
        self.server = None;
        self.shown.clear();
        if now.is_none() {
            // It went away: say so (once) again.
            self.told_no_server = false;
        }
        self.find_server(false).await;
        if self.server.is_some() {
            self.resync().await;
        }
    }

    async fn show(&mut self, approval: &PendingApproval) {
        // Turned off in settings since the notifier started: stay quiet.
        if !self.source.enabled() {
            return;
        }
        if self.shown.has_approval(&approval.id) {
            return;
        }
        if self.server.is_none() {
            self.find_server(true).await;
        }
        let Some(server) = &self.server else { return };
        let Some(content) = text::content(approval, now_ms()) else {
            return;
        };
        match self.bus.notify(&server.owner, &content).await {
            Ok(id) => self.shown.insert(id, &approval.id, approval.decision),
            Err(error) => {
                tracing::warn!(%error, approval = %approval.id, "cannot show a notification")
            }
        }
    }

    async fn tell_no_key(&mut self, approval: &PendingApproval) {
        self.tell(&text::no_key_content(approval)).await;
    }

    /// Show a notification with nothing to decide (if notifications are on).
    async fn tell(&mut self, content: &text::Content) {
        if !self.source.enabled() {
            return;
        }
        if self.server.is_none() {
            self.find_server(true).await;
        }
        let Some(server) = &self.server else { return };
        if let Err(error) = self.bus.notify(&server.owner, content).await {
            tracing::warn!(%error, summary = %content.summary, "cannot show a notification");
        }
    }

    async fn close(&mut self, approval: &str) {
        let Some(id) = self.shown.remove_approval(approval) else {
            return;
        };
        if let Some(server) = &self.server
            && let Err(error) = self.bus.close(&server.owner, id).await
        {
            tracing::debug!(%error, id, "cannot close a notification");
        }
    }

    /// Make the screen match the pending list: close what was decided, show what is waiting.
    async fn resync(&mut self) {
        let pending = self.source.pending().await;
        for approval in self.shown.approvals() {
            if !pending.iter().any(|p| p.id == approval) {
                self.close(&approval).await;
            }
        }
        for approval in &pending {
            self.show(approval).await;
        }
    }

    /// A signal on the server's match rules. Checked again here: a signal addressed to our
    /// connection arrives whatever the match rules say.
    fn signal(&mut self, message: &Message) {
        let Some(server) = &self.server else { return };
        let header = message.header();
        if trust::from_server(&header, &server.owner, trust::ACTION_INVOKED) {
            let Ok((id, action)) = message.body().deserialize::<(u32, String)>() else {
                return;
            };
            match self.shown.get(id) {
                Some(entry) => actions::invoke(&self.source, entry, &action),
                None => {
                    tracing::debug!(id, "ActionInvoked for a notification Airlock did not show")
                }
            }
        } else if trust::from_server(&header, &server.owner, trust::NOTIFICATION_CLOSED) {
            if let Ok((id, _reason)) = message.body().deserialize::<(u32, u32)>() {
                self.shown.remove_id(id);
            }
        } else {
            tracing::warn!(
                sender = ?header.sender(),
                path = ?header.path(),
                member = ?header.member(),
                "ignored a notification signal that did not come from the notification server"
            );
        }
    }
}

/// Milliseconds since the Unix epoch (how old a request is, in its notification's text).
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
