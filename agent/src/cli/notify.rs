//! `airlock notify`: desktop notifications for this user's requests, from a process of their
//! own. In system mode the daemon runs under its own account and reaches no user's session bus,
//! so each user runs this (from their session's autostart) — or the desktop app, which does the
//! same. It sees only that user's requests; its Approve and Deny are the user's own `approve` and
//! `deny`, judged by the daemon like any other.

use crate::notify::per_user::{self, Ran};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    let home = super::home()?;
    if home.system.is_none() {
        anyhow::bail!(
            "in user mode the daemon shows notifications itself (turn them on or off with `[notifications] enabled` in settings.toml); `airlock notify` is for system mode, where the daemon cannot reach your session bus"
        );
    }
    eprintln!("airlock notify: showing this user's Airlock requests as desktop notifications");
    match per_user::run(home, None)? {
        Ran::BusGone => eprintln!("airlock notify: the session bus went away; stopped"),
        Ran::AlreadyRunning => {
            eprintln!("airlock notify: already running in this session; nothing to do")
        }
    }
    Ok(ExitCode::SUCCESS)
}
