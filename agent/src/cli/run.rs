//! `airlock run -- AGENT…`: start a coding agent below a launcher that keeps its whole process
//! tree.
//!
//! Without it, a process the agent starts can leave the agent's tree (`setsid`, a double fork,
//! `nohup … &` whose parent exits: re-parented to init) and then ask for an approval as if it
//! were the person. The launcher marks itself a child subreaper (`PR_SET_CHILD_SUBREAPER`), so
//! orphans below it are re-parented to it instead of init, registers itself with the daemon (by
//! its peer credentials) as the agent's process, runs the agent, and stays until every
//! descendant has exited — so none of them ever escapes to init while it runs.

use airlock_protocol::Request;
use rustix::process::WaitOptions;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The coding agent's command and its arguments (after `--`).
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // Not dumpable: no process of the same user may attach a debugger to the launcher (and,
    // for one, clear its subreaper flag so the agent's detached processes escape to init).
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot protect the launcher from debuggers ({e}); not starting the agent"
            )
        })?;
    // The argument is a flag: any non-zero value sets it (rustix passes the pid's number).
    rustix::process::set_child_subreaper(Some(rustix::process::getpid())).map_err(|e| {
        anyhow::anyhow!(
            "cannot keep the agent's processes below this launcher ({e}); not starting it"
        )
    })?;
    // Registered before the agent starts, so its first hook already finds it; a daemon that is
    // not running means no decisions at all: refuse to start the agent.
    let mut client = super::connect(&super::home()?)?;
    super::expect_ok(client.call(Request::Launch {})?)?;
    drop(client);
    let (program, rest) = args
        .command
        .split_first()
        .ok_or_else(|| anyhow::anyhow!("no agent command given: `airlock run -- claude …`"))?;
    let child = std::process::Command::new(program)
        .args(rest)
        .spawn()
        .map_err(|e| anyhow::anyhow!("cannot start `{program}`: {e}"))?;
    let agent = child.id();
    let mut code = 0u8;
    // Reap the agent and every orphan re-parented here, until none is left.
    loop {
        match rustix::process::wait(WaitOptions::empty()) {
            Ok(Some((pid, status))) => {
                if pid.as_raw_nonzero().get() as u32 == agent {
                    code = match (status.exit_status(), status.terminating_signal()) {
                        (Some(c), _) => u8::try_from(c).unwrap_or(1),
                        (None, Some(signal)) => 128u8.saturating_add(signal as u8),
                        _ => 1,
                    };
                }
            }
            Ok(None) => continue,
            Err(rustix::io::Errno::INTR) => continue,
            // No children left.
            Err(_) => break,
        }
    }
    // Tell the daemon the tree is gone; a launcher that disappears without this was killed.
    let ended = super::connect(&super::home()?)
        .and_then(|mut client| Ok(client.call(Request::LaunchEnded {})?));
    if let Err(e) = ended {
        eprintln!("airlock run: could not tell the daemon the agent ended ({e})");
    }
    Ok(ExitCode::from(code))
}
