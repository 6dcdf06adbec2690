//! The D-Bus side: one session-bus connection that both sends `Notify` and receives the
//! server's signals. One connection for both matters: servers such as dunst send
//! `ActionInvoked` only to the connection that created the notification (notify-rust keeps a
//! private connection per notification, which is why it is not used here).
//!
//! Every call has a deadline: a hung notification server must not stall the notifier.

use super::text::Content;
use super::trust::{
    ACTION_INVOKED, BUS_NAME, NOTIFICATION_CLOSED, SERVER_INTERFACE, SERVER_NAME, SERVER_PATH,
};
use futures_util::stream::{self, Select};
use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;
use zbus::Variant;
use zbus::fdo::DBusProxy;
use zbus::message::Type;
use zbus::names::{OwnedUniqueName, UniqueName, WellKnownName};
use zbus::{Connection, MatchRule, MessageStream};

const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Starting a notification server on demand (D-Bus activation) can take a moment; longer means
/// it is not coming.
const ACTIVATION_TIMEOUT: Duration = Duration::from_secs(3);

/// `ActionInvoked` and `NotificationClosed` from one server, as one stream.
pub type Signals = Select<MessageStream, MessageStream>;

pub struct Bus {
    connection: Connection,
    dbus: DBusProxy<'static>,
}

impl Bus {
    /// Connect to the session bus (`DBUS_SESSION_BUS_ADDRESS`, else `$XDG_RUNTIME_DIR/bus`).
    pub async fn connect() -> Result<Self, BusError> {
        let connection = deadline(CALL_TIMEOUT, Connection::session()).await?;
        let dbus = deadline(CALL_TIMEOUT, DBusProxy::new(&connection)).await?;
        Ok(Self { connection, dbus })
    }

    /// `NameOwnerChanged` for the notification server's name: it started, stopped or was
    /// replaced.
    pub async fn owner_changes(&self) -> Result<MessageStream, BusError> {
        let rule = MatchRule::builder()
            .msg_type(Type::Signal)
            .sender(BUS_NAME)
            .path("/org/freedesktop/DBus")
            .interface("org.freedesktop.DBus")
            .member("NameOwnerChanged")
            .arg(0, SERVER_NAME)
            .build()?;
        deadline(
            CALL_TIMEOUT,
            MessageStream::for_match_rule(rule, &self.connection, None),
        )
        .await
    }

    /// The unique name that owns `org.freedesktop.Notifications` now, if any.
    pub async fn owner(&self) -> Option<OwnedUniqueName> {
        let name = WellKnownName::from_static_str_unchecked(SERVER_NAME);
        deadline(CALL_TIMEOUT, self.dbus.get_name_owner(name.into()))
            .await
            .ok()
    }

    /// Ask the bus to start a notification server that is installed but not running.
    pub async fn activate(&self) -> Result<(), BusError> {
        let name = WellKnownName::from_static_str_unchecked(SERVER_NAME);
        deadline(ACTIVATION_TIMEOUT, self.dbus.start_service_by_name(name, 0))
            .await
            .map(|_| ())
    }

    /// Subscribe to `owner`'s signals. The match rules name the sender, so the bus delivers
    /// nobody else's broadcasts; `for_match_rule` returns once the bus has added them, so
    /// call this before any `Notify` to `owner`.
    pub async fn subscribe(&self, owner: &UniqueName<'_>) -> Result<Signals, BusError> {
        let actions = self.server_signal(owner, ACTION_INVOKED).await?;
        let closed = self.server_signal(owner, NOTIFICATION_CLOSED).await?;
        Ok(stream::select(actions, closed))
    }

    async fn server_signal(
        &self,
        owner: &UniqueName<'_>,
        member: &'static str,
    ) -> Result<MessageStream, BusError> {
        let rule = MatchRule::builder()
            .msg_type(Type::Signal)
            .sender(owner.clone())
            .path(SERVER_PATH)
            .interface(SERVER_INTERFACE)
            .member(member)
            .build()?;
        deadline(
            CALL_TIMEOUT,
            MessageStream::for_match_rule(rule, &self.connection, None),
        )
        .await
    }

    /// The server's name and version, for the log.
    pub async fn server_information(&self, owner: &UniqueName<'_>) -> Option<String> {
        let reply = deadline(
            CALL_TIMEOUT,
            self.connection.call_method(
                Some(owner),
                SERVER_PATH,
                Some(SERVER_INTERFACE),
                "GetServerInformation",
                &(),
            ),
        )
        .await
        .ok()?;
        let (name, vendor, version, _spec): (String, String, String, String) =
            reply.body().deserialize().ok()?;
        Some(format!("{name} {version} ({vendor})"))
    }

    /// Show `content`; returns the server's id for it. Sent to the server's unique name, not
    /// the well-known one, so the id surely belongs to the server whose signals we trust.
    pub async fn notify(&self, owner: &UniqueName<'_>, content: &Content) -> Result<u32, BusError> {
        let actions: Vec<&str> = content
            .actions
            .iter()
            .flat_map(|(key, label)| [*key, *label])
            .collect();
        let hints: HashMap<&str, Variant<'_>> = HashMap::new();
        let reply = deadline(
            CALL_TIMEOUT,
            self.connection.call_method(
                Some(owner),
                SERVER_PATH,
                Some(SERVER_INTERFACE),
                "Notify",
                &(
                    "Airlock",
                    0u32,
                    "dialog-warning",
                    content.summary.as_str(),
                    content.body.as_str(),
                    actions,
                    hints,
                    content.timeout_ms,
                ),
            ),
        )
        .await?;
        Ok(reply.body().deserialize::<u32>()?)
    }

    /// Take notification `id` off the screen.
    pub async fn close(&self, owner: &UniqueName<'_>, id: u32) -> Result<(), BusError> {
        deadline(
            CALL_TIMEOUT,
            self.connection.call_method(
                Some(owner),
                SERVER_PATH,
                Some(SERVER_INTERFACE),
                "CloseNotification",
                &(id),
            ),
        )
        .await
        .map(|_| ())
    }
}

/// Why a session-bus call failed (for the log: notifications are a convenience).
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error(transparent)]
    Bus(#[from] zbus::Error),
    #[error(transparent)]
    Call(#[from] zbus::fdo::Error),
    #[error("no answer from the session bus within {0} s")]
    Timeout(u64),
}

/// Run a bus call with a deadline.
async fn deadline<T, E: Into<BusError>>(
    limit: Duration,
    call: impl Future<Output = Result<T, E>>,
) -> Result<T, BusError> {
    match tokio::time::timeout(limit, call).await {
        Ok(result) => result.map_err(Into::into),
        Err(_) => Err(BusError::Timeout(limit.as_secs())),
    }
}
