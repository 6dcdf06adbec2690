//! Completing a security-key ceremony from a client (the CLI, the desktop app): ask the daemon
//! for a challenge bound to the action, have the key sign it, and send the request again with
//! the assertion.

use super::authenticator::{KeyError, PinPrompt, terminal_pin};
use airlock_client::{Client, ClientError};
use airlock_protocol::{ErrorCode, Request, Response, StepUpChallenge, StepUpTarget};
use serde_json::Value;

/// Why a request with a security-key ceremony failed.
#[derive(Debug, thiserror::Error)]
pub enum CeremonyError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("{message} [{}]", code.as_str())]
    Daemon { code: ErrorCode, message: String },
    #[error("unexpected answer from the daemon: {0}")]
    Unexpected(String),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("the security-key thread stopped unexpectedly")]
    Panicked,
}

/// How a client talks to the person during a ceremony.
pub struct KeyUi {
    /// Shows what the touch will authorise, before the key is asked (the person must be able
    /// to check it is the action they mean to approve).
    pub before_touch: Box<dyn Fn(&StepUpChallenge) + Send + Sync>,
    /// Asks for the key's PIN when the key wants one.
    pub pin: PinPrompt,
}

/// At a terminal: the action on stderr (made printable), the PIN read without echo.
pub fn terminal_ui() -> KeyUi {
    KeyUi {
        before_touch: Box::new(|challenge| {
            eprintln!(
                "Security-key approval: touching your key will {}.",
                airlock_client::printable::printable(&challenge.action)
            );
        }),
        pin: terminal_pin(),
    }
}

/// Send `request(None)`; if the daemon answers that it needs a security key, run the ceremony
/// for `target` and send `request(Some(assertion))`. With `always`, start with the key.
pub fn call_with_key(
    client: &mut Client,
    target: StepUpTarget,
    always: bool,
    request: impl Fn(Option<Value>) -> Request,
    ui: KeyUi,
) -> Result<Response, CeremonyError> {
    if !always {
        let response = client.call(request(None))?;
        match response {
            Response::Error {
                code: ErrorCode::StepUpRequired,
                ..
            } => {}
            other => return Ok(other),
        }
    }
    let assertion = sign(client, target, ui)?;
    Ok(client.call(request(Some(assertion)))?)
}

/// Open a ceremony for `target` and have the security key sign it.
pub fn sign(client: &mut Client, target: StepUpTarget, ui: KeyUi) -> Result<Value, CeremonyError> {
    let challenge = match client.call(Request::StepUpBegin { target })? {
        Response::StepUpChallenge(c) => c,
        Response::Error { code, message } => return Err(CeremonyError::Daemon { code, message }),
        other => return Err(CeremonyError::Unexpected(format!("{other:?}"))),
    };
    (ui.before_touch)(&challenge);
    let pin = ui.pin;
    let origin = challenge.origin.clone();
    let options = challenge.options.clone();
    // CTAP calls block; keep them off this thread's stack of callers (and any runtime).
    std::thread::spawn(move || super::authenticator::sign(&origin, &options, pin))
        .join()
        .map_err(|_| CeremonyError::Panicked)?
        .map_err(CeremonyError::Key)
}
