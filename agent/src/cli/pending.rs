//! `airlock pending`

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
    let mut client = super::connect(&super::home()?)?;
    let items = match super::expect_ok(client.call(Request::Pending {})?)? {
        Response::Pending { items } => items,
        other => anyhow::bail!("unexpected answer from the daemon: {other:?}"),
    };
    if args.json {
        output::print_json(&items)?;
        return Ok(ExitCode::SUCCESS);
    }
    if items.is_empty() {
        println!("nothing is waiting for approval");
        return Ok(ExitCode::SUCCESS);
    }
    let now = crate::store::now_ms();
    for item in &items {
        let left = (item.expires_ms - now).max(0) / 1000;
        println!("{}  [{}] expires in {left}s", item.id, item.decision);
        println!(
            "  {} in {} (session {})",
            crate::printable::printable(&item.agent),
            crate::printable::printable(&item.cwd),
            crate::printable::printable(item.session.as_deref().unwrap_or("-"))
        );
        println!("  {}", output::input_line(&item.tool, &item.input));
        println!("  classes: {}", output::classes(&item.classes));
        println!("  why: {}", crate::printable::printable(&item.reason));
        let scopes: Vec<&str> = item.scopes.iter().map(|s| s.as_str()).collect();
        println!("  approve with: --scope {}", scopes.join("|"));
        if let Some(note) = &item.always_note {
            println!("  always: {}", crate::printable::printable(note));
        }
        println!();
    }
    println!(
        "approve with `airlock approve ID [--scope once|session|always]`, reject with `airlock deny ID [--reason TEXT]`"
    );
    Ok(ExitCode::SUCCESS)
}
