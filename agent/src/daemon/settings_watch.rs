//! Following settings.toml while the daemon runs, so a change made in the desktop app (or by
//! hand) applies within seconds: the approval timeout for new requests, and notifications on or
//! off. A settings file that does not parse is reported and ignored; the last good values stay.
//! Every change (and every file that fails to load) is a chained record.

use super::state::Daemon;
use crate::settings::Settings;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// The settings a running daemon follows: read by requests, written only by [`follow`].
pub struct LiveSettings {
    /// How long an `ask` waits, in ms.
    approval_timeout_ms: AtomicU64,
    /// `--approval-timeout` was given: settings.toml does not change it.
    approval_timeout_pinned: bool,
    /// `[notifications] enabled`; the notifier checks it before each notification.
    notifications_enabled: AtomicBool,
    /// Whether the daemon's notifier task runs (started when notifications are first enabled).
    notifier_running: AtomicBool,
}

impl LiveSettings {
    pub fn new(settings: &Settings, pinned_timeout: Option<Duration>) -> Self {
        Self {
            approval_timeout_ms: AtomicU64::new(
                pinned_timeout
                    .unwrap_or_else(|| settings.approval_timeout())
                    .as_millis() as u64,
            ),
            approval_timeout_pinned: pinned_timeout.is_some(),
            notifications_enabled: AtomicBool::new(settings.notifications.enabled),
            notifier_running: AtomicBool::new(false),
        }
    }

    pub fn approval_timeout(&self) -> Duration {
        Duration::from_millis(self.approval_timeout_ms.load(Ordering::Relaxed))
    }

    pub fn notifications_enabled(&self) -> bool {
        self.notifications_enabled.load(Ordering::Relaxed)
    }

    /// Mark the notifier started; `false` if it already was.
    pub fn start_notifier(&self) -> bool {
        !self.notifier_running.swap(true, Ordering::Relaxed)
    }

    /// Take `settings` in; whether the approval timeout changed.
    fn apply(&self, settings: &Settings) -> bool {
        self.notifications_enabled
            .store(settings.notifications.enabled, Ordering::Relaxed);
        if self.approval_timeout_pinned {
            return false;
        }
        let ms = settings.approval_timeout().as_millis() as u64;
        self.approval_timeout_ms.swap(ms, Ordering::Relaxed) != ms
    }
}

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
    if daemon.live.apply(settings) {
        tracing::info!(
            secs = daemon.live.approval_timeout().as_secs(),
            "approval timeout changed in settings"
        );
    }
    // In system mode each user's own `airlock notify` raises their notifications.
    if settings.notifications.enabled && daemon.users.is_none() {
        super::notifier::spawn_notifier(daemon.clone());
    }
}
