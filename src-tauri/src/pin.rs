//! The security key's PIN, asked for in the window: the CTAP thread blocks until the person
//! answers (or gives up), since the webview has no terminal and no WebAuthn of its own.

use airlock_stepup::authenticator::PinPrompt;
use airlock_stepup::ceremony::KeyUi;
use std::sync::Mutex;
use std::sync::mpsc::{Sender, channel};
use std::time::Duration;
use tauri::{AppHandle, Emitter, Manager};

/// Where the window's answer goes; one PIN request at a time.
#[derive(Default)]
pub struct PinSlot(Mutex<Option<Sender<Option<String>>>>);

/// The window's side of a ceremony: a "touch your key" dialog naming the action, and the PIN.
pub fn window_ui(app: AppHandle) -> KeyUi {
    let shown = app.clone();
    KeyUi {
        before_touch: Box::new(move |challenge| {
            let _ = shown.emit(
                airlock_protocol::window::events::TOUCH_KEY,
                &challenge.action,
            );
        }),
        pin: window_prompt(app),
    }
}

fn window_prompt(app: AppHandle) -> PinPrompt {
    Box::new(move || {
        let (send, receive) = channel();
        if let Some(slot) = app.try_state::<PinSlot>() {
            *slot.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(send);
        }
        let _ = app.emit(airlock_protocol::window::events::PIN_REQUEST, ());
        receive
            .recv_timeout(Duration::from_secs(120))
            .ok()
            .flatten()
    })
}

/// The window's answer: the PIN, or `None` when the person canceled.
#[tauri::command]
pub fn submit_pin(slot: tauri::State<'_, PinSlot>, pin: Option<String>) {
    if let Some(send) = slot.0.lock().unwrap_or_else(|p| p.into_inner()).take() {
        let _ = send.send(pin);
    }
}
