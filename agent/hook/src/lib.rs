//! `airlock hook AGENT`: the shim a coding agent runs before and after every tool call.
//!
//! Hot path and security boundary at once: it loads no policy and opens no database (one
//! connect, one round trip to the warm daemon), and it fails closed — if the daemon is down,
//! the input is malformed, or anything at all goes wrong (even a panic), it blocks with exit 2.

use airlock_client::Client;
use airlock_client::home::AirlockHome;
use airlock_protocol::{Request, Response};
use airlock_request::adapters::{self, claude_code};
use std::io::{Read, Write};
use std::process::ExitCode;

/// Largest hook input read (file writes carry their content).
const MAX_INPUT: u64 = 32 * 1024 * 1024;

/// The hook answers by then whatever happens: Claude Code kills a hook at its timeout (600 s as
/// `airlock install` writes it) and a killed hook lets the call through, so a daemon that is
/// slow, stalled or flooded must never make the hook outlive it (review round 16, R16-2).
/// `AIRLOCK_HOOK_DEADLINE_SECS` may only lower it.
const DEADLINE_SECS: u64 = 590;

/// Whether the hook has written its answer (the deadline's and the daemon's never both).
static ANSWERED: std::sync::Mutex<bool> = std::sync::Mutex::new(false);

pub fn run_from_args(args: &[String]) -> ExitCode {
    let agent = args.get(2).cloned().unwrap_or_default();
    let outcome = std::panic::catch_unwind(|| run(&agent));
    let output = match outcome {
        Ok(output) => output,
        Err(_) => claude_code::fail_closed(
            None,
            "Airlock's hook crashed; the call is blocked to be safe",
        ),
    };
    let mut answered = ANSWERED.lock().unwrap_or_else(|p| p.into_inner());
    write_output(&output);
    *answered = true;
    // Any code other than 0 and 2 would let the agent proceed: only ever use those.
    ExitCode::from(if output.exit_code == 0 { 0 } else { 2 })
}

fn write_output(output: &adapters::HookOutput) {
    let _ = std::io::stdout().write_all(output.stdout.as_bytes());
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().write_all(output.stderr.as_bytes());
}

/// Block the call at the deadline if no answer was written by then.
fn start_deadline(event: Option<airlock_request::HookEvent>) {
    let secs = std::env::var("AIRLOCK_HOOK_DEADLINE_SECS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(DEADLINE_SECS, |v| v.min(DEADLINE_SECS));
    let _ = std::thread::Builder::new()
        .name("airlock-hook-deadline".into())
        .spawn(move || {
            std::thread::sleep(std::time::Duration::from_secs(secs));
            let answered = ANSWERED.lock().unwrap_or_else(|p| p.into_inner());
            if !*answered {
                write_output(&claude_code::fail_closed(
                    event,
                    &format!(
                        "the Airlock daemon did not answer within {secs} s (the agent would give up on the hook and run the call)"
                    ),
                ));
                std::process::exit(2);
            }
        });
}

fn run(agent: &str) -> adapters::HookOutput {
    if !adapters::KNOWN_AGENTS.contains(&agent) {
        return claude_code::fail_closed(
            None,
            &format!(
                "`airlock hook` was given unknown agent `{agent}`; use one of: {}",
                adapters::KNOWN_AGENTS.join(", ")
            ),
        );
    }
    let mut input = String::new();
    if let Err(e) = std::io::stdin().take(MAX_INPUT).read_to_string(&mut input) {
        return claude_code::fail_closed(None, &format!("cannot read the hook input: {e}"));
    }
    // Malformed input is still sent to the daemon (as text), so it is recorded.
    let payload = serde_json::from_str::<serde_json::Value>(&input)
        .unwrap_or(serde_json::Value::String(input));
    let event = adapters::event_of(agent, &payload);
    start_deadline(event);
    let home = match AirlockHome::from_env() {
        Ok(h) => h,
        Err(e) => return claude_code::fail_closed(event, &e.to_string()),
    };
    // In system mode the peer must run as Airlock's account (checked while connecting); in
    // user mode only the daemon holding Airlock's lock may answer: anything else on the socket
    // is an impostor (see `identity`).
    let mut client = match Client::connect_to(&home) {
        Ok(c) => c,
        Err(e) => return claude_code::fail_closed(event, &e.to_string()),
    };
    let holders = airlock_client::identity::lock_holders(&home.lock_file());
    match client.peer_pid() {
        _ if home.system.is_some() => {}
        Some(peer)
            if holders.contains(&peer) && airlock_client::identity::runs_this_program(peer) => {}
        Some(peer) if holders.contains(&peer) => {
            return claude_code::fail_closed(
                event,
                &format!(
                    "process {peer} answered on Airlock's socket and holds its lock, but is not the `airlock` program this hook is (an impostor, or the daemon runs another copy or an older build of Airlock); restart the Airlock daemon from the same installation"
                ),
            );
        }
        peer => {
            let who = peer.map_or("an unknown process".to_string(), |p| format!("process {p}"));
            return claude_code::fail_closed(
                event,
                &format!(
                    "{who} answered on Airlock's socket `{}` but does not hold the daemon's lock `{}`: an impostor may have replaced the socket; restart the Airlock daemon",
                    home.socket().display(),
                    home.lock_file().display()
                ),
            );
        }
    }
    let request = Request::Hook {
        agent: agent.to_string(),
        payload,
        agent_pid: Some(agent_process()),
    };
    match client.call(request) {
        Ok(Response::Verdict(verdict)) => match event {
            Some(event) => adapters::render(agent, event, &verdict),
            None => claude_code::fail_closed(None, &verdict.reason),
        },
        Ok(Response::Error { message, .. }) => claude_code::fail_closed(event, &message),
        Ok(other) => claude_code::fail_closed(
            event,
            &format!("unexpected answer from the daemon: {other:?}"),
        ),
        Err(e) => claude_code::fail_closed(event, &e.to_string()),
    }
}

/// Shells and wrappers between an agent and its hooks (`agent/kb/processes.toml`).
const PROCESSES_KB: &str = include_str!("../../kb/processes.toml");

#[derive(serde::Deserialize)]
struct ProcessesKb {
    shells_and_wrappers: Vec<String>,
}

/// The agent's own process: the hook's first ancestor that is not a shell or a wrapper. Claude
/// Code runs hooks as `/bin/sh -c "…"`, and dash stays as the hook's parent: registering that
/// short-lived shell would let the agent's later shells pass for someone else.
fn agent_process() -> u32 {
    let parent = rustix::process::getppid().map_or(0, |p| p.as_raw_nonzero().get() as u32);
    let skip: Vec<String> = toml::from_str::<ProcessesKb>(PROCESSES_KB)
        .map(|kb| kb.shells_and_wrappers)
        .unwrap_or_default();
    first_non_wrapper(parent, &skip)
}

/// From `pid` upwards, the first process whose program is not in `skip` (`pid` itself when every
/// ancestor up to init is one, or `/proc` cannot tell).
fn first_non_wrapper(pid: u32, skip: &[String]) -> u32 {
    let mut current = pid;
    for _ in 0..32 {
        let name = std::fs::read_to_string(format!("/proc/{current}/comm")).unwrap_or_default();
        if !skip.iter().any(|s| s == name.trim()) {
            return current;
        }
        match airlock_client::process::parent_pid(current) {
            Some(parent) if parent > 1 => current = parent,
            _ => return pid,
        }
    }
    pid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registered_agent_is_above_the_shells_that_run_the_hook() {
        // sh -c 'sh -c "sleep 5; true"; true': two shells between this process and the sleep.
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sh -c 'sleep 5; true'; true"])
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
        let outer = child.id();
        let inner = std::fs::read_to_string(format!("/proc/{outer}/task/{outer}/children"))
            .unwrap_or_default()
            .split_whitespace()
            .next()
            .and_then(|p| p.parse::<u32>().ok())
            .expect("the inner shell");
        let skip: Vec<String> = toml::from_str::<ProcessesKb>(PROCESSES_KB)
            .unwrap()
            .shells_and_wrappers;
        assert_eq!(first_non_wrapper(inner, &skip), std::process::id());
        assert_eq!(
            first_non_wrapper(std::process::id(), &skip),
            std::process::id()
        );
        child.kill().ok();
        child.wait().ok();
    }
}
