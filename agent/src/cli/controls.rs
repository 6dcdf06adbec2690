//! `airlock stop`, `resume`, `session …` and `rollback`: runtime controls for people.

use super::output;
use airlock_protocol::{Request, Response, SessionState};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct StopArgs {
    /// Also terminate (SIGTERM) the coding-agent processes of sessions active in the last hour.
    #[arg(long)]
    kill: bool,
    /// Why; recorded and shown to agents.
    #[arg(long)]
    reason: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
pub enum SessionCommand {
    /// Sessions the daemon has seen, newest first.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Deny every further request of a session.
    Cancel {
        id: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Allow only reading in a session until it is released.
    Contain {
        id: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Return a canceled or contained session (or one a circuit breaker tripped) to normal.
    Release { id: String },
}

#[derive(Debug, clap::Args)]
pub struct RollbackArgs {
    /// A receipt id (or, with --session, a session id: all its file changes, newest first).
    id: String,
    #[arg(long)]
    session: bool,
    /// Restore even if the files changed again since (that later work is lost).
    #[arg(long)]
    force: bool,
}

fn call(request: Request) -> anyhow::Result<Response> {
    let mut client = super::connect(&super::home()?)?;
    super::expect_ok(client.call(request)?)
}

pub fn stop(args: StopArgs) -> anyhow::Result<ExitCode> {
    super::print_done(call(Request::Stop {
        reason: args.reason,
        kill: args.kill,
    })?)
}

pub fn resume() -> anyhow::Result<ExitCode> {
    let mut client = super::connect(&super::home()?)?;
    let response = crate::stepup::ceremony::call_with_key(
        &mut client,
        airlock_protocol::StepUpTarget::Resume,
        false,
        |assertion| Request::Resume { assertion },
        crate::stepup::ceremony::terminal_ui(),
    )?;
    super::print_done(super::expect_ok(response)?)
}

pub fn rollback(args: RollbackArgs) -> anyhow::Result<ExitCode> {
    super::print_done(call(Request::Rollback {
        id: args.id,
        session: args.session,
        force: args.force,
    })?)
}

pub fn session(command: SessionCommand) -> anyhow::Result<ExitCode> {
    match command {
        SessionCommand::List { json } => {
            let items = match call(Request::Sessions {})? {
                Response::Sessions { items } => items,
                other => anyhow::bail!("unexpected answer from the daemon: {other:?}"),
            };
            if json {
                output::print_json(&items)?;
            } else if items.is_empty() {
                println!("no sessions yet");
            } else {
                for s in &items {
                    let state = match s.state {
                        SessionState::Active => "active".to_string(),
                        SessionState::Canceled => {
                            format!("CANCELED ({})", s.reason.as_deref().unwrap_or(""))
                        }
                        SessionState::Contained => {
                            format!("CONTAINED ({})", s.reason.as_deref().unwrap_or(""))
                        }
                    };
                    println!(
                        "{}  {}  {} requests, {} refused  last {}  {}  {}",
                        s.id,
                        s.agent,
                        s.requests,
                        s.denials,
                        output::local_time(s.last_ms),
                        s.cwd,
                        state
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        SessionCommand::Cancel { id, reason } => {
            super::print_done(call(Request::SessionCancel { id, reason })?)
        }
        SessionCommand::Contain { id, reason } => {
            super::print_done(call(Request::SessionContain { id, reason })?)
        }
        SessionCommand::Release { id } => super::print_done(call(Request::SessionRelease { id })?),
    }
}
