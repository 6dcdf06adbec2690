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
    if let Some(system) = &home.system {
        // Its state is the account's own, out of every user's reach: started as anyone else
        // (root included) it would make files the account cannot use, or be reachable by them.
        let account = system.account_user()?;
        let me = rustix::process::geteuid().as_raw();
        if me != account.uid {
            anyhow::bail!(
                "system mode is installed (`{}`): the daemon runs as the account `{}` (uid {}), not uid {me}; start it with `sudo systemctl start airlock`, or as its unit does: `setpriv --reuid={} --regid={} --init-groups --inh-caps=+dac_read_search --ambient-caps=+dac_read_search airlock daemon`",
                crate::system::MARKER,
                account.name,
                account.uid,
                account.name,
                account.name,
            );
        }
    }
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
