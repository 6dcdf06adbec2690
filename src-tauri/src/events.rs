//! Live updates: one subscription to the daemon's event stream, forwarded to the window and
//! reflected in the tray. Reconnects when the daemon restarts.

use crate::link;
use airlock_protocol::{Event, Request, Response};
use std::time::Duration;
use tauri::{AppHandle, Emitter};

pub fn spawn(app: AppHandle) {
    std::thread::Builder::new()
        .name("airlock-events".into())
        .spawn(move || {
            loop {
                refresh(&app);
                if let Err(e) = follow(&app) {
                    tracing::debug!(error = %e, "event stream ended");
                }
                let _ = app.emit(
                    airlock_protocol::window::events::DAEMON_LINK,
                    "disconnected",
                );
                std::thread::sleep(Duration::from_secs(1));
            }
        })
        .ok();
}

fn follow(app: &AppHandle) -> Result<(), String> {
    let mut client = link::connect().map_err(|e| e.message)?;
    client
        .send(1, Request::Subscribe {})
        .map_err(|e| e.to_string())?;
    let _ = app.emit(airlock_protocol::window::events::DAEMON_LINK, "connected");
    loop {
        match client.receive().map_err(|e| e.to_string())? {
            Response::Event(event) => {
                if let Event::ShowApprovals { .. } = &event {
                    crate::show_window(app);
                }
                let _ = app.emit(airlock_protocol::window::events::DAEMON_EVENT, &event);
                refresh(app);
            }
            Response::Done { .. } => {}
            other => tracing::debug!(?other, "unexpected message on the event stream"),
        }
    }
}

/// Re-read the daemon's status into the tray.
pub fn refresh(app: &AppHandle) {
    match link::call(Request::Status {}) {
        Ok(Response::Status(info)) => crate::tray::show(app, Ok(&info)),
        Ok(_) => {}
        Err(e) => crate::tray::show(app, Err(&e.message)),
    }
}
