//! The app's link to the daemon: one short connection per request, like the CLI. The daemon
//! holds all state; the app never decides anything itself. Failures reach the window as
//! `{code, message}` ([`WindowError`]), the daemon's own code when it answered with an error.

use airlock_client::Client;
use airlock_client::home::AirlockHome;
use airlock_protocol::window::{WindowError, WindowErrorCode};
use airlock_protocol::{Request, Response};

pub type Answer<T> = Result<T, WindowError>;

pub fn home() -> Answer<AirlockHome> {
    AirlockHome::from_env().map_err(|e| WindowError::new(WindowErrorCode::Settings, e.to_string()))
}

pub fn connect() -> Answer<Client> {
    let home = home()?;
    Client::connect_to(&home)
        .map(|client| client.with_surface(airlock_protocol::Surface::Window))
        .map_err(|e| {
            WindowError::new(
                WindowErrorCode::Unreachable,
                format!(
                    "cannot reach the Airlock daemon at `{}` ({e}); start it with `airlock daemon`",
                    home.socket().display()
                ),
            )
        })
}

/// Send one request; a daemon error becomes `Err` with the daemon's code and message.
pub fn call(request: Request) -> Answer<Response> {
    let response = connect()?
        .call(request)
        .map_err(|e| WindowError::new(WindowErrorCode::Unreachable, e.to_string()))?;
    match response {
        Response::Error { code, message } => Err(WindowError::from_daemon(code, message)),
        other => Ok(other),
    }
}

/// Send a request whose answer is `Done { message }`.
pub fn done(request: Request) -> Answer<String> {
    message_of(call(request)?)
}

/// The message of a `Done` answer; an error answer becomes `Err` with the daemon's message.
pub fn message_of(response: Response) -> Answer<String> {
    match response {
        Response::Done { message } => Ok(message),
        Response::Error { code, message } => Err(WindowError::from_daemon(code, message)),
        other => Err(unexpected(&other)),
    }
}

/// An answer the request does not call for.
pub fn unexpected(answer: &Response) -> WindowError {
    WindowError::new(
        WindowErrorCode::UnexpectedAnswer,
        format!("unexpected answer from the daemon: {answer:?}"),
    )
}
