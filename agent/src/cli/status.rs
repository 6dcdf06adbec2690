//! `airlock status`

use super::output;
use airlock_protocol::{Request, Response};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let home = super::home()?;
    let mut client = match super::connect(&home) {
        Ok(c) => c,
        Err(e) => {
            if args.json {
                output::print_json(&serde_json::json!({"running": false, "error": e.to_string()}))?;
            } else {
                println!("daemon: not running ({e:#})");
            }
            return Ok(ExitCode::from(super::EXIT_ERROR));
        }
    };
    let status = match super::expect_ok(client.call(Request::Status {})?)? {
        Response::Status(s) => s,
        other => anyhow::bail!("unexpected answer from the daemon: {other:?}"),
    };
    if args.json {
        output::print_json(&status)?;
    } else {
        println!(
            "daemon: running (pid {}, version {}, protocol {})",
            status.pid, status.version, status.protocol
        );
        println!("since: {}", output::local_time(status.started_ms));
        println!(
            "policy: {} rules from {} files",
            status.policy_rules,
            status.policy_files.len()
        );
        for file in &status.policy_files {
            println!("  {file}");
        }
        match &status.stopped {
            Some(stop) => println!(
                "EMERGENCY STOP since {} by {}: {} (every agent request is denied; `airlock resume` ends it)",
                output::local_time(stop.since_ms),
                stop.by,
                stop.reason
            ),
            None => println!("armed: requests are decided by policy"),
        }
        println!("decisions: {}", status.decisions);
        println!("pending: {}", status.pending);
        println!("receipts: {}", status.database);
        let log = &status.receipt_log;
        println!(
            "write-ahead log: {} (peak {}, {} resets)",
            output::bytes(log.wal_bytes),
            output::bytes(log.wal_peak_bytes),
            log.wal_resets
        );
        if let Some(stuck) = &log.wal_stuck {
            println!("WARNING: {stuck}");
        }
        println!("socket: {}", status.socket);
        if !status.mode.is_empty() {
            println!("mode: {}", status.mode);
        }
        if !status.checkpoints.is_empty() {
            println!("checkpoints: {}", status.checkpoints);
        }
        for line in &status.retention {
            println!("retention: {line}");
        }
        if !status.checkpoint_key.is_empty() {
            println!("checkpoint key: {}", status.checkpoint_key);
        }
    }
    Ok(ExitCode::SUCCESS)
}
