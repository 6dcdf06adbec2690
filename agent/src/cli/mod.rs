//! The `airlock` command line. One file per subcommand; `anyhow` at this edge only.
//!
//! Exit codes: 0 success; 1 error; 2 the hook blocked the call; 3 the policy is invalid;
//! 4 receipt verification failed.

mod approve;
mod controls;
mod daemon;
mod docs;
mod explain;
mod hook;
mod install;
mod install_system;
mod key;
mod launcher_alias;
mod log;
mod notify;
mod output;
mod pending;
mod policy;
mod retention;
mod run;
mod status;
mod verify;

use crate::home::{AirlockHome, default_policy_dir};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

pub const EXIT_ERROR: u8 = 1;
pub const EXIT_BLOCKED: u8 = 2;
pub const EXIT_INVALID_POLICY: u8 = 3;
pub const EXIT_VERIFY_FAILED: u8 = 4;

#[derive(Debug, Parser)]
#[command(
    name = "airlock",
    version,
    about = "Mediates coding-agent tool calls by policy and keeps tamper-evident receipts."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the enforcement daemon in the foreground.
    Daemon(daemon::Args),
    /// The command a coding agent runs as its hook (reads the hook JSON on stdin).
    Hook(hook::Args),
    /// Classify and decide without running or recording anything.
    Explain(explain::Args),
    /// List requests waiting for a human.
    Pending(pending::Args),
    /// Approve a pending request.
    Approve(approve::ApproveArgs),
    /// Reject a pending request.
    Deny(approve::DenyArgs),
    /// List receipts.
    Log(log::Args),
    /// Show one receipt with its outcome timeline.
    Show(log::ShowArgs),
    /// Re-check the receipt hash chain.
    Verify(verify::Args),
    /// Daemon status.
    Status(status::Args),
    /// Add Airlock's hooks to a coding agent's settings.
    Install(install::Args),
    /// Remove Airlock's hooks from a coding agent's settings.
    Uninstall(install::Args),
    /// Policy tools.
    #[command(subcommand)]
    Policy(policy::Command),
    /// Emergency stop: deny every new agent request until `airlock resume`.
    Stop(controls::StopArgs),
    /// End an emergency stop.
    Resume,
    /// List, cancel, contain or release agent sessions.
    #[command(subcommand)]
    Session(controls::SessionCommand),
    /// Restore the files a request (or a whole session) changed.
    Rollback(controls::RollbackArgs),
    /// Start a coding agent below a launcher that keeps its whole process tree (so nothing it
    /// starts can approve or loosen anything): `airlock run -- claude`.
    Run(run::Args),
    /// Security keys for step-up approvals: add, list, remove.
    #[command(subcommand)]
    Key(key::Command),
    /// Copies of the receipt log kept where its writer cannot rewrite them.
    #[command(subcommand)]
    Retention(retention::Command),
    /// Show this user's requests as desktop notifications (system mode: run it in your session).
    Notify(notify::Args),
    /// Print shell completions: `airlock completions bash > /etc/bash_completion.d/airlock`.
    Completions(docs::CompletionsArgs),
    /// Write the man pages into a directory (packaging).
    #[command(hide = true)]
    Man(docs::ManArgs),
}

pub fn main() -> ExitCode {
    // The hook path must never fail open: handle it before anything else can go wrong.
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("hook") {
        return hook::run_from_args(&args);
    }
    init_tracing();
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Daemon(_)) {
        stop_quietly_on_closed_output();
    }
    let result = match cli.command {
        Command::Daemon(a) => daemon::run(a),
        Command::Hook(_) => Ok(ExitCode::from(EXIT_BLOCKED)),
        Command::Explain(a) => explain::run(a),
        Command::Pending(a) => pending::run(a),
        Command::Approve(a) => approve::approve(a),
        Command::Deny(a) => approve::deny(a),
        Command::Log(a) => log::run(a),
        Command::Show(a) => log::show(a),
        Command::Verify(a) => verify::run(a),
        Command::Status(a) => status::run(a),
        Command::Install(a) => install::install(a),
        Command::Uninstall(a) => install::uninstall(a),
        Command::Policy(c) => policy::run(c),
        Command::Stop(a) => controls::stop(a),
        Command::Resume => controls::resume(),
        Command::Session(c) => controls::session(c),
        Command::Rollback(a) => controls::rollback(a),
        Command::Key(c) => key::run(c),
        Command::Run(a) => run::run(a),
        Command::Retention(c) => retention::run(c),
        Command::Notify(a) => notify::run(a),
        Command::Completions(a) => docs::completions(a),
        Command::Man(a) => docs::man(a),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("airlock: {err:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("AIRLOCK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

pub(crate) fn home() -> anyhow::Result<AirlockHome> {
    Ok(AirlockHome::from_env()?)
}

/// The shipped policy directory followed by the user's.
pub(crate) fn policy_dirs(home: &AirlockHome) -> Vec<PathBuf> {
    vec![default_policy_dir(), home.user_policy_dir()]
}

/// A client for the person at this terminal (the surface is recorded as the CLI's claim).
pub(crate) fn connect(home: &AirlockHome) -> anyhow::Result<crate::client::Client> {
    Ok(crate::client::Client::connect_to(home)?.with_surface(airlock_protocol::Surface::Terminal))
}

/// Print the message of a `Done` answer.
pub(crate) fn print_done(response: airlock_protocol::Response) -> anyhow::Result<ExitCode> {
    match response {
        airlock_protocol::Response::Done { message } => {
            println!("{message}");
            Ok(ExitCode::SUCCESS)
        }
        other => anyhow::bail!("unexpected answer from the daemon: {other:?}"),
    }
}

/// Turn an error response into an error.
pub(crate) fn expect_ok(
    response: airlock_protocol::Response,
) -> anyhow::Result<airlock_protocol::Response> {
    match response {
        airlock_protocol::Response::Error { code, message } => {
            anyhow::bail!("{message} [{}]", code.as_str())
        }
        other => Ok(other),
    }
}

/// A printing command whose reader went away (`airlock log | head`) stops quietly, as Unix
/// tools do. Rust ignores SIGPIPE, so `println!` panics on the closed pipe instead; that one
/// panic becomes a quiet exit (restoring SIGPIPE would need `unsafe`, which the crate forbids).
/// The daemon, which must outlive a client that hangs up, never prints to a pipe this way, and
/// the hook returns before this.
fn stop_quietly_on_closed_output() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to std") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}
