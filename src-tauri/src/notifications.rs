//! Notifications in system mode: the daemon runs under its own account and cannot reach this
//! user's session bus, so the app raises the user's notifications itself — the same notifier as
//! `airlock notify`, one per session (whichever starts first shows them). In user mode the
//! daemon shows them and this does nothing.

use airlock_notify::per_user::{self, Ran};
use tauri::AppHandle;

pub fn spawn(app: AppHandle) {
    let Ok(home) = crate::link::home() else {
        return;
    };
    if home.system.is_none() {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("airlock-notifications".into())
        .spawn(move || {
            let window = app.clone();
            let on_click: airlock_notify::OnClick =
                Box::new(move |_approval: &str| crate::show_window(&window));
            match per_user::run(home, Some(on_click)) {
                Ok(Ran::BusGone) => tracing::info!("the session bus went away; no notifications"),
                Ok(Ran::AlreadyRunning) => {
                    tracing::info!("`airlock notify` shows this session's notifications")
                }
                Err(error) => tracing::warn!(%error, "cannot show notifications"),
            }
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "cannot start the notifications thread");
    }
}
