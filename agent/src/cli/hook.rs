//! `airlock hook AGENT`: the shim a coding agent runs before and after every tool call.
//!
//! Hot path and security boundary at once: it loads no policy and opens no database (one
//! connect, one round trip to the warm daemon), and it fails closed — if the daemon is down,
//! the input is malformed, or anything at all goes wrong (even a panic), it blocks with exit 2.

use crate::adapters::{self, claude_code};
use crate::client::Client;
use crate::home::AirlockHome;
use airlock_protocol::{Request, Response};
use std::io::{Read, Write};
use std::process::ExitCode;

/// Largest hook input read (file writes carry their content).
const MAX_INPUT: u64 = 32 * 1024 * 1024;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The coding agent whose hook protocol to speak.
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(adapters::KNOWN_AGENTS))]
    agent: String,
}

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
    let _ = std::io::stdout().write_all(output.stdout.as_bytes());
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().write_all(output.stderr.as_bytes());
    // Any code other than 0 and 2 would let the agent proceed: only ever use those.
    ExitCode::from(if output.exit_code == 0 { 0 } else { 2 })
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
    let home = match AirlockHome::from_env() {
        Ok(h) => h,
        Err(e) => return claude_code::fail_closed(event, &e.to_string()),
    };
    let mut client = match Client::connect(&home.socket()) {
        Ok(c) => c,
        Err(e) => return claude_code::fail_closed(event, &e.to_string()),
    };
    let request = Request::Hook {
        agent: agent.to_string(),
        payload,
        agent_pid: Some(rustix::process::getppid().map_or(0, |p| p.as_raw_nonzero().get() as u32)),
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
