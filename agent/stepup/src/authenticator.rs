//! The client side of a step-up: talk CTAP2 to the security key and return the WebAuthn JSON
//! the daemon verifies. WebKitGTK has no WebAuthn, so the desktop app uses this too.
//!
//! Real keys are reached over USB HID. CTAP calls block (the library runs its own executor
//! inside), so callers run these functions off any async runtime; the USB transport gets its
//! own small runtime here.
//!
//! With the `soft-authenticator` feature (tests only, never release builds) and
//! `AIRLOCK_SOFT_TOKEN=FILE`, a software CTAP2 token stored in FILE answers instead.

use serde_json::Value;
use std::time::Duration;
use url::Url;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::types::{CableRequestType, CableState, EnrollSampleStatus};
use webauthn_authenticator_rs::ui::UiCallback;
use webauthn_rs_proto::{CreationChallengeResponse, RequestChallengeResponse};

#[cfg(all(feature = "soft-authenticator", not(debug_assertions)))]
compile_error!(
    "the `soft-authenticator` feature lets software answer step-up challenges; it is for tests and must not be enabled in release builds"
);

/// How long to wait for a key to be plugged in and touched (`AIRLOCK_KEY_WAIT_SECS`).
fn key_wait() -> Duration {
    let secs = std::env::var("AIRLOCK_KEY_WAIT_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    Duration::from_secs(secs)
}

/// Asks the person for the key's PIN when the key wants one (`None`: they declined). The CLI
/// reads it at the terminal; the desktop app asks in its window.
pub type PinPrompt = Box<dyn Fn() -> Option<String> + Send + Sync>;

/// The terminal's PIN prompt (no echo, on stderr).
pub fn terminal_pin() -> PinPrompt {
    Box::new(|| webauthn_authenticator_rs::ui::Cli {}.request_pin())
}

/// Why talking to the security key failed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the daemon sent a bad origin `{0}`; use matching Airlock versions")]
    BadOrigin(String),
    #[error(
        "the daemon's {what} are not WebAuthn options ({source}); use matching Airlock versions"
    )]
    BadOptions {
        what: &'static str,
        source: serde_json::Error,
    },
    #[error("the security key did not {what}: {reason}")]
    Refused { what: &'static str, reason: String },
    #[error("cannot start the security-key runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot open USB security keys: {0} (is /dev/hidraw* readable by you?)")]
    Usb(String),
    #[error("cannot watch for security keys: {0}")]
    Watch(String),
    #[error("no security key answered within {0} s; plug one in and try again")]
    NoKey(u64),
    #[error("the key's answer cannot be sent: {0}")]
    Answer(serde_json::Error),
    #[error("soft token `{path}`: {reason}")]
    SoftToken { path: String, reason: String },
}

/// Sign a step-up challenge: `options` is the daemon's `RequestChallengeResponse` JSON.
pub fn sign(origin: &str, options: &Value, pin: PinPrompt) -> Result<Value, KeyError> {
    let (origin, options) =
        from_daemon::<RequestChallengeResponse>(origin, options, "challenge options")?;
    with_backend(pin, |backend| {
        answer("sign", backend.do_authentication(origin, options))
    })
}

/// Make a credential on the key: `options` is the daemon's `CreationChallengeResponse` JSON.
pub fn register(origin: &str, options: &Value, pin: PinPrompt) -> Result<Value, KeyError> {
    let (origin, options) =
        from_daemon::<CreationChallengeResponse>(origin, options, "registration options")?;
    with_backend(pin, |backend| {
        answer("register", backend.do_registration(origin, options))
    })
}

/// The origin and WebAuthn options the daemon sent (`what` names them in an error).
fn from_daemon<T: serde::de::DeserializeOwned>(
    origin: &str,
    options: &Value,
    what: &'static str,
) -> Result<(Url, T), KeyError> {
    let url = Url::parse(origin).map_err(|_| KeyError::BadOrigin(origin.to_string()))?;
    let options = serde_json::from_value(options.clone())
        .map_err(|source| KeyError::BadOptions { what, source })?;
    Ok((url, options))
}

/// The key's answer to `what` as the JSON the daemon verifies.
fn answer<T: serde::Serialize, E: std::fmt::Debug>(
    what: &'static str,
    result: Result<T, E>,
) -> Result<Value, KeyError> {
    let credential = result.map_err(|e| KeyError::Refused {
        what,
        reason: format!("{e:?}"),
    })?;
    serde_json::to_value(credential).map_err(KeyError::Answer)
}

fn with_backend(
    pin: PinPrompt,
    ceremony: impl FnOnce(&mut dyn WebauthnAuthenticator) -> Result<Value, KeyError>,
) -> Result<Value, KeyError> {
    #[cfg(feature = "soft-authenticator")]
    if let Some(path) = std::env::var_os("AIRLOCK_SOFT_TOKEN") {
        return soft::with_token(std::path::Path::new(&path), ceremony);
    }
    usb(pin, ceremony)
}

fn usb(
    pin: PinPrompt,
    ceremony: impl FnOnce(&mut dyn WebauthnAuthenticator) -> Result<Value, KeyError>,
) -> Result<Value, KeyError> {
    use webauthn_authenticator_rs::ctap2::select_one_device;
    use webauthn_authenticator_rs::transport::{AnyTransport, Transport};

    // The USB transport's I/O runs on this runtime's worker while the CTAP call blocks the
    // calling thread.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(KeyError::Runtime)?;
    let _entered = runtime.enter();
    let ui = Prompts { pin };
    let transport = runtime
        .block_on(AnyTransport::new())
        .map_err(|e| KeyError::Usb(format!("{e:?}")))?;
    let stream = runtime
        .block_on(transport.watch())
        .map_err(|e| KeyError::Watch(format!("{e:?}")))?;
    eprintln!("Insert your security key and touch it when it blinks…");
    let mut authenticator = runtime
        .block_on(async { tokio::time::timeout(key_wait(), select_one_device(stream, &ui)).await })
        .ok()
        .flatten()
        .ok_or(KeyError::NoKey(key_wait().as_secs()))?;
    ceremony(&mut authenticator)
}

/// Prompts on stderr (stdout may carry JSON); the PIN comes from the caller's prompt.
struct Prompts {
    pin: PinPrompt,
}

impl std::fmt::Debug for Prompts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Prompts")
    }
}

impl UiCallback for Prompts {
    fn request_pin(&self) -> Option<String> {
        (self.pin)()
    }

    fn request_touch(&self) {
        eprintln!("Touch your security key to approve.");
    }

    fn processing(&self) {}

    fn fingerprint_enrollment_feedback(
        &self,
        remaining_samples: u32,
        _feedback: Option<EnrollSampleStatus>,
    ) {
        eprintln!("Fingerprint: {remaining_samples} more sample(s) needed.");
    }

    fn cable_qr_code(&self, _request_type: CableRequestType, _url: String) {}

    fn dismiss_qr_code(&self) {}

    fn cable_status_update(&self, _state: CableState) {}
}

#[cfg(feature = "soft-authenticator")]
mod soft {
    use super::*;
    use std::fs::OpenOptions;
    use std::path::Path;
    use webauthn_authenticator_rs::softtoken::SoftTokenFile;

    /// A software token kept in `path` (saved again after the ceremony: its counter moves).
    pub fn with_token(
        path: &Path,
        ceremony: impl FnOnce(&mut dyn WebauthnAuthenticator) -> Result<Value, KeyError>,
    ) -> Result<Value, KeyError> {
        let soft_token = |reason: String| KeyError::SoftToken {
            path: path.display().to_string(),
            reason,
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| soft_token(format!("cannot open it: {e}")))?;
        let mut token = SoftTokenFile::open(file).map_err(|e| soft_token(format!("{e:?}")))?;
        ceremony(&mut token)
    }
}
