//! Desktop notifications for requests that wait for a human: raised by the daemon in user mode,
//! by each user's own `airlock notify` in system mode (`source`).
//!
//! A notification names the agent and the action in a few words. For `ask` it has Approve and
//! Deny buttons; for `step-up` only a click that opens the approvals window (a security key is
//! needed). Clicking the notification itself asks for the approvals window. A decided or expired
//! request's notification is closed.
//!
//! The trap this module is built around: any process on the session bus can emit
//! `ActionInvoked`, so a button press is believed only from the unique bus name that owns
//! `org.freedesktop.Notifications`, on its object path, for a notification id Airlock created
//! (`trust`). Even then it is a convenience, not a security boundary: a same-user process can
//! drive the real server (`dunstctl`, `xdotool`). Step-up is what stops that.
//!
//! - `text`: what a notification says and which buttons it has.
//! - `bus`: the session-bus connection: `Notify`, `CloseNotification`, the server's signals.
//! - `trust`: which signals may act.
//! - `shown`: the notifications on screen, by id and by approval.
//! - `source`: where requests come from and answers go: the daemon itself (it implements
//!   [`Source`]) or its socket (`socket`).
//! - `actions`: what a button does to the daemon.
//! - `notifier`: the task that ties them to the daemon's event bus.
//! - `per_user`: system mode's notifier in the user's own process, one per session.

mod actions;
mod bus;
mod notifier;
pub mod per_user;
mod shown;
mod socket;
mod source;
mod text;
mod trust;

pub use notifier::{run, run_for};
pub use socket::Socket;
pub use source::{Answer, DENIED_FROM_NOTIFICATION, Incoming, OnClick, Source};
