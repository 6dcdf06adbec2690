//! Which signals may act on an approval. Any connection on the session bus can emit an
//! `ActionInvoked` signal, on any object path, and notification ids are small sequential
//! numbers, so "approve" from a signal means nothing unless the bus vouches that the
//! notification server sent it. The bus daemon fills in the sender of every message (a client
//! cannot choose it), so the check is: sender = the unique name that owns
//! `org.freedesktop.Notifications` right now, on the spec's path and interface. The match rules
//! ask the bus for exactly that; this is checked again on every message because a signal sent
//! straight to our connection (a unicast signal) reaches it whatever our match rules say.

use zbus::message::{Header, Type};
use zbus::names::UniqueName;

pub const SERVER_NAME: &str = "org.freedesktop.Notifications";
pub const SERVER_PATH: &str = "/org/freedesktop/Notifications";
pub const SERVER_INTERFACE: &str = "org.freedesktop.Notifications";
pub const ACTION_INVOKED: &str = "ActionInvoked";
pub const NOTIFICATION_CLOSED: &str = "NotificationClosed";

/// The bus daemon's own name: the only sender of `NameOwnerChanged` we believe.
pub const BUS_NAME: &str = "org.freedesktop.DBus";

/// Whether `header` is the signal `member` from the notification server owned by `owner`.
pub fn from_server(header: &Header<'_>, owner: &UniqueName<'_>, member: &str) -> bool {
    header.message_type() == Type::Signal
        && header.sender() == Some(owner)
        && header.path().is_some_and(|p| p.as_str() == SERVER_PATH)
        && header
            .interface()
            .is_some_and(|i| i.as_str() == SERVER_INTERFACE)
        && header.member().is_some_and(|m| m.as_str() == member)
}

/// Whether `header` is a `NameOwnerChanged` from the bus daemon. A forged one naming the
/// forger as the new server would otherwise make its `ActionInvoked` look genuine; even a
/// genuine one is only a cue to ask the bus who owns the name now.
pub fn from_bus(header: &Header<'_>) -> bool {
    header.message_type() == Type::Signal
        && header.sender().is_some_and(|s| s.as_str() == BUS_NAME)
        && header
            .interface()
            .is_some_and(|i| i.as_str() == "org.freedesktop.DBus")
        && header
            .member()
            .is_some_and(|m| m.as_str() == "NameOwnerChanged")
}

#[cfg(test)]
mod tests {
    use super::*;
    use zbus::Message;

    fn signal(sender: &str, path: &str, member: &str) -> Message {
        Message::signal(path, SERVER_INTERFACE, member)
            .sender(sender)
            .build(&(3u32, "approve"))
            .unwrap()
    }

    #[test]
    fn only_the_server_on_the_spec_path_is_believed() {
        let owner = UniqueName::try_from(":1.7").unwrap();
        let genuine = signal(":1.7", SERVER_PATH, ACTION_INVOKED);
        assert!(from_server(&genuine.header(), &owner, ACTION_INVOKED));
        // Someone else on the bus, the right path: `gdbus emit` from any process.
        let forged = signal(":1.42", SERVER_PATH, ACTION_INVOKED);
        assert!(!from_server(&forged.header(), &owner, ACTION_INVOKED));
        // The server's name, another path.
        let elsewhere = signal(":1.7", "/org/freedesktop/Notifications/x", ACTION_INVOKED);
        assert!(!from_server(&elsewhere.header(), &owner, ACTION_INVOKED));
        // Another member.
        assert!(!from_server(&genuine.header(), &owner, NOTIFICATION_CLOSED));
        // No sender at all (a peer-to-peer message).
        let anonymous = Message::signal(SERVER_PATH, SERVER_INTERFACE, ACTION_INVOKED)
            .build(&(3u32, "approve"))
            .unwrap();
        assert!(!from_server(&anonymous.header(), &owner, ACTION_INVOKED));
        // A method call that looks like the signal.
        let call = Message::method_call(SERVER_PATH, ACTION_INVOKED)
            .interface(SERVER_INTERFACE)
            .sender(":1.7")
            .build(&(3u32, "approve"))
            .unwrap();
        assert!(!from_server(&call.header(), &owner, ACTION_INVOKED));
    }

    #[test]
    fn name_owner_changes_come_from_the_bus_only() {
        let changed = |sender: &str| {
            Message::signal(
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus",
                "NameOwnerChanged",
            )
            .sender(sender)
            .build(&(SERVER_NAME, ":1.7", ":1.42"))
            .unwrap()
        };
        assert!(from_bus(&changed(BUS_NAME).header()));
        assert!(!from_bus(&changed(":1.42").header()));
    }
}
