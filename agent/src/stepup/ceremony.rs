//! Completing a security-key ceremony from a client (the CLI, the desktop app): ask the daemon
//! for a challenge bound to the action, have the key sign it, and send the request again with
//! the assertion.

use super::authenticator::{PinPrompt, terminal_pin};
use crate::client::Client;
use airlock_protocol::{ErrorCode, Request, Response, StepUpTarget};
use serde_json::Value;

/// [`call_with_pin`] with the PIN asked for at the terminal.
pub fn call_with_key(
    client: &mut Client,
    target: StepUpTarget,
    always: bool,
    request: impl Fn(Option<Value>) -> Request,
) -> anyhow::Result<Response> {
    call_with_pin(client, target, always, request, terminal_pin())
}

/// Send `request(None)`; if the daemon answers that it needs a security key, run the ceremony
/// for `target` and send `request(Some(assertion))`. With `always`, start with the key.
pub fn call_with_pin(
    client: &mut Client,
    target: StepUpTarget,
    always: bool,
    request: impl Fn(Option<Value>) -> Request,
    pin: PinPrompt,
) -> anyhow::Result<Response> {
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
    let assertion = sign(client, target, pin)?;
    Ok(client.call(request(Some(assertion)))?)
}

/// Open a ceremony for `target` and have the security key sign it.
pub fn sign(client: &mut Client, target: StepUpTarget, pin: PinPrompt) -> anyhow::Result<Value> {
    let challenge = match client.call(Request::StepUpBegin { target })? {
        Response::StepUpChallenge(c) => c,
        Response::Error { code, message } => anyhow::bail!("{message} [{}]", code.as_str()),
        other => anyhow::bail!("unexpected answer from the daemon: {other:?}"),
    };
    eprintln!("Security-key approval needed to {}.", challenge.action);
    let origin = challenge.origin.clone();
    let options = challenge.options.clone();
    // CTAP calls block; keep them off this thread's stack of callers (and any runtime).
    std::thread::spawn(move || super::authenticator::sign(&origin, &options, pin))
        .join()
        .map_err(|_| anyhow::anyhow!("the security-key thread panicked"))?
}
