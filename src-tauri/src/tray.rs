//! The tray: armed / stopped / N pending at a glance, and the emergency stop that works even
//! with the window closed (it is a request to the daemon, which persists it).

use crate::link;
use airlock_protocol::{Request, StatusInfo};
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager, Wry};

pub const TRAY_ID: &str = "airlock";
const ICON: &[u8] = include_bytes!("../../icons/tray.png");
const ICON_STOPPED: &[u8] = include_bytes!("../../icons/tray-stopped.png");

pub struct TrayItems {
    pub status: MenuItem<Wry>,
    pub stop: MenuItem<Wry>,
    pub resume: MenuItem<Wry>,
}

pub fn build(app: &AppHandle) -> tauri::Result<(TrayIcon, TrayItems)> {
    let status = MenuItem::with_id(app, "status", "Airlock: connecting…", false, None::<&str>)?;
    let stop = MenuItem::with_id(app, "stop", "Emergency stop", true, None::<&str>)?;
    let resume = MenuItem::with_id(app, "resume", "Resume", false, None::<&str>)?;
    let open = MenuItem::with_id(app, "open", "Open Airlock", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let menu = Menu::with_items(
        app,
        &[
            &status,
            &PredefinedMenuItem::separator(app)?,
            &stop,
            &resume,
            &PredefinedMenuItem::separator(app)?,
            &open,
            &quit,
        ],
    )?;
    let tray = TrayIconBuilder::with_id(TRAY_ID)
        .icon(Image::from_bytes(ICON)?)
        .tooltip("Airlock")
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| match event.id.as_ref() {
            "stop" => {
                // Straight to the daemon, off the GTK thread: works with the window closed or
                // hung, and a slow daemon cannot freeze the tray.
                let app = app.clone();
                std::thread::spawn(move || {
                    let result = link::done(Request::Stop {
                        reason: Some("emergency stop from the tray".into()),
                        kill: false,
                    });
                    if let Err(e) = &result {
                        tracing::error!(error = %e, "emergency stop from the tray failed");
                        crate::show_window(&app);
                        let _ = tauri::Emitter::emit(
                            &app,
                            airlock_protocol::window::events::ERROR,
                            format!("The emergency stop did not reach the daemon: {e}"),
                        );
                    }
                    crate::events::refresh(&app);
                });
            }
            "resume" => {
                crate::show_window(app);
                let _ = tauri::Emitter::emit(
                    app,
                    airlock_protocol::window::events::RESUME_REQUESTED,
                    (),
                );
            }
            "open" => crate::show_window(app),
            "quit" => app.exit(0),
            _ => {}
        })
        .build(app)?;
    Ok((
        tray,
        TrayItems {
            status,
            stop,
            resume,
        },
    ))
}

/// Show the daemon's state in the tray.
pub fn show(app: &AppHandle, status: Result<&StatusInfo, &str>) {
    let Some(items) = app.try_state::<TrayItems>() else {
        return;
    };
    let (text, stopped) = match status {
        Ok(s) if s.stopped.is_some() => ("Airlock: STOPPED".to_string(), true),
        Ok(s) if s.pending > 0 => (format!("Airlock: armed · {} pending", s.pending), false),
        Ok(_) => ("Airlock: armed".to_string(), false),
        Err(_) => ("Airlock: daemon not running".to_string(), false),
    };
    let _ = items.status.set_text(&text);
    let _ = items.stop.set_enabled(!stopped && status.is_ok());
    let _ = items.resume.set_enabled(stopped);
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        let _ = tray.set_tooltip(Some(&text));
        if let Ok(icon) = Image::from_bytes(if stopped { ICON_STOPPED } else { ICON }) {
            let _ = tray.set_icon(Some(icon));
        }
    }
}
