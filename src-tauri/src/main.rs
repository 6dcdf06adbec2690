//! Airlock's desktop app: tray with emergency stop, approvals window, history. A client of the
//! daemon like the CLI; every decision and every rule lives in the agent library.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod events;
mod link;
mod notifications;
mod pin;
mod tray;

use tauri::{AppHandle, Manager, WindowEvent};

pub fn show_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
}

fn main() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("AIRLOCK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    // `--background`: start in the tray only (for login autostart).
    let background = std::env::args().any(|a| a == "--background");
    let app = tauri::Builder::default()
        .manage(pin::PinSlot::default())
        .setup(move |app| {
            let (_tray, items) = tray::build(app.handle())?;
            app.manage(items);
            if background && let Some(window) = app.get_webview_window("main") {
                let _ = window.hide();
            }
            events::spawn(app.handle().clone());
            notifications::spawn(app.handle().clone());
            Ok(())
        })
        .on_window_event(|window, event| {
            // Closing the window keeps the tray (and the emergency stop) running.
            if let WindowEvent::CloseRequested { api, .. } = event {
                api.prevent_close();
                let _ = window.hide();
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::status,
            commands::pending,
            commands::approve,
            commands::deny,
            commands::preview_always,
            commands::change_diff,
            commands::stop,
            commands::resume,
            commands::rollback,
            commands::history,
            commands::receipt,
            commands::verify,
            commands::settings,
            commands::save_approval_timeout,
            commands::save_notifications,
            pin::submit_pin,
        ])
        .build(tauri::generate_context!("../tauri.conf.json"));
    match app {
        Ok(app) => app.run(|_, _| {}),
        Err(e) => {
            eprintln!("airlock-desktop: cannot start: {e}");
            std::process::exit(1);
        }
    }
}
