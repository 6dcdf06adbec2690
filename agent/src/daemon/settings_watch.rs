//! Following settings.toml while the daemon runs, so a change made in the desktop app (or by
//! hand) applies within seconds: the approval timeout for new requests, and notifications on or
//! off. A settings file that does not parse is reported and ignored; the last good values stay.
//! Every change (and every file that fails to load) is a chained record.

use super::state::Daemon;
use crate::settings::Settings;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

pub async fn follow(daemon: Arc<Daemon>, mut current: Settings) {
    let path = daemon.home.settings_file();
    let stamp = |p: &std::path::Path| {
        std::fs::metadata(p)
            .ok()
            .map(|m| (m.modified().ok(), m.len()))
    };
    let mut last: Option<(Option<SystemTime>, u64)> = stamp(&path);
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = stamp(&path);
        if now == last {
            continue;
        }
        last = now;
        match Settings::load(&path) {
            Ok(settings) => {
                apply(&daemon, &settings);
                daemon.record_settings_change(&current, &settings).await;
                current = settings;
            }
            Err(e) => {
                tracing::warn!(error = %e, "settings changed but do not load; keeping the last good ones");
                daemon.record_settings_error(&e.to_string()).await;
            }
        }
    }
}

fn apply(daemon: &Arc<Daemon>, settings: &Settings) {
    if !daemon.approval_timeout_pinned {
        let ms = settings.approval_timeout().as_millis() as u64;
        if daemon.approval_timeout_ms.swap(ms, Ordering::Relaxed) != ms {
            tracing::info!(secs = ms / 1000, "approval timeout changed in settings");
        }
    }
    let enabled = settings.notifications.enabled;
    daemon
        .notifications_enabled
        .store(enabled, Ordering::Relaxed);
    // In system mode each user's own `airlock notify` raises their notifications.
    if enabled && daemon.users.is_none() && !daemon.notifier_running.load(Ordering::Relaxed) {
        super::notifier::spawn_notifier(daemon.clone());
    }
}
