//! The app's link to the daemon: one short connection per request, like the CLI. The daemon
//! holds all state; the app never decides anything itself.

use airlock_client::Client;
use airlock_client::home::AirlockHome;
use airlock_protocol::{Request, Response};

pub fn home() -> Result<AirlockHome, String> {
    AirlockHome::from_env().map_err(|e| e.to_string())
}

pub fn connect() -> Result<Client, String> {
    let home = home()?;
    Client::connect_to(&home)
        .map(|client| client.with_surface(airlock_protocol::Surface::Window))
        .map_err(|e| {
            format!(
                "cannot reach the Airlock daemon at `{}` ({e}); start it with `airlock daemon`",
                home.socket().display()
            )
        })
}

/// Send one request; a daemon error becomes `Err` with the daemon's message.
pub fn call(request: Request) -> Result<Response, String> {
    let response = connect()?.call(request).map_err(|e| e.to_string())?;
    match response {
        Response::Error { code, message } => Err(format!("{message} [{}]", code.as_str())),
        other => Ok(other),
    }
}

/// Send a request whose answer is `Done { message }`.
pub fn done(request: Request) -> Result<String, String> {
    message_of(call(request)?)
}

/// The message of a `Done` answer; an error answer becomes `Err` with the daemon's message.
pub fn message_of(response: Response) -> Result<String, String> {
    match response {
        Response::Done { message } => Ok(message),
        Response::Error { code, message } => Err(format!("{message} [{}]", code.as_str())),
        other => Err(format!("unexpected answer from the daemon: {other:?}")),
    }
}
