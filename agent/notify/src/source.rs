//! Where the notifier learns of requests and where a button press goes.
//!
//! In user mode the notifier runs inside the daemon (it shares the user's session bus): the
//! daemon implements [`Source`] over its own state. In system mode the daemon runs under its
//! own account and reaches no user's session bus, so each user runs `airlock notify` (or the
//! desktop app): the same notifier in a process of their own, subscribed to the daemon's socket
//! like any other client ([`crate::socket::Socket`]). There it sees only that user's requests
//! (the daemon filters the event stream by peer), and a button press is an ordinary
//! `approve`/`deny` over the socket, judged by the daemon like one from the terminal.

use airlock_protocol::{PendingApproval, Response};
use std::future::Future;
use tokio::sync::mpsc;

/// What the notifier is told.
pub enum Incoming {
    Event(Box<airlock_protocol::Event>),
    /// Events may have been missed (a lagging receiver, a reconnect): the pending list is the
    /// truth.
    Missed,
}

/// What a click on a notification does in this process (given the approval's id).
pub type OnClick = Box<dyn Fn(&str) + Send + Sync>;

/// The answer a button press got, for the log.
pub type Answer = Result<Response, String>;

/// The daemon, as the notifier sees it: its requests, its events, and where buttons go.
pub trait Source: Clone + Send + Sync + 'static {
    /// Whether notifications are wanted now (the daemon's setting; a user who runs
    /// `airlock notify` wants them).
    fn enabled(&self) -> bool;

    /// The requests waiting for a human now.
    fn pending(&self) -> impl Future<Output = Vec<PendingApproval>> + Send;

    /// Approve once, as a person pressing the notification's button.
    fn approve(&self, id: String) -> impl Future<Output = Answer> + Send;

    /// Deny, as a person pressing the notification's button.
    fn deny(&self, id: String) -> impl Future<Output = Answer> + Send;

    /// The notification itself was clicked: ask for the approvals window.
    fn show_approvals(&self, id: &str);

    /// Start following the daemon's events; the receiver ends when they can end no more.
    fn follow(&self) -> mpsc::Receiver<Incoming>;
}

/// The reason a denial from a notification's button records.
pub const DENIED_FROM_NOTIFICATION: &str = "denied from the desktop notification";
