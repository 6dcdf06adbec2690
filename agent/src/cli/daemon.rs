//! `airlock daemon`

use crate::daemon::{DaemonConfig, run as run_daemon};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Seconds an `ask` request waits for a human before it expires (default: settings.toml, 300).
    #[arg(long, value_name = "SECS")]
    approval_timeout: Option<u64>,
    /// Use this policy directory instead of the shipped one (the user's directory still applies).
    #[arg(long, value_name = "DIR")]
    policy: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let home = super::home()?;
    let mut policy_dirs = super::policy_dirs(&home);
    if let Some(dir) = args.policy {
        policy_dirs[0] = dir;
    }
    run_daemon(DaemonConfig {
        home,
        policy_dirs,
        approval_timeout: args.approval_timeout.map(Duration::from_secs),
    })?;
    Ok(ExitCode::SUCCESS)
}
