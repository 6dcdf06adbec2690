//! `airlock verify`

use crate::settings::Settings;
use crate::store::Store;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Verify this database instead of the configured one.
    #[arg(long, value_name = "FILE")]
    database: Option<std::path::PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let path = match args.database {
        Some(p) => p,
        None => super::home()?.database(),
    };
    if !path.exists() {
        // Nothing to verify is a failed verification: a deleted database must not pass.
        let seen = crate::store::witness::last(&path);
        let why = match &seen {
            Some((seq, _)) => {
                format!("it held a chain of {seq} rows when last written: the database was deleted")
            }
            None => "if the daemon never ran, there is nothing to verify yet".into(),
        };
        if args.json {
            super::output::print_json(&serde_json::json!({
                "ok": false,
                "problem": format!("no receipt database at `{}`", path.display()),
                "detail": why,
            }))?;
        } else {
            println!("FAILED: no receipt database at `{}`: {why}", path.display());
        }
        return Ok(ExitCode::from(super::EXIT_VERIFY_FAILED));
    }
    let store = Store::open_read_only(&path)?;
    let report = store.verify()?;
    // Keys are judged against the trust roots of this home's settings, as the daemon does.
    let settings_file = super::home()?.settings_file();
    let settings = Settings::load(&settings_file)?;
    let (keys, proofs) = crate::stepup::audit::audit(&store, &settings.step_up)?;
    let ok = report.ok() && proofs.problem.is_none() && keys.problems.is_empty();
    if args.json {
        super::output::print_json(&serde_json::json!({
            "chain": report,
            "keys": keys,
            "step_up": proofs,
            "ok": ok,
        }))?;
    } else {
        match &report.problem {
            None => println!(
                "ok: {} rows verified ({} receipts, {} events); chain head at row {}",
                report.rows, report.receipts, report.events, report.head_seq
            ),
            Some(p) => {
                let id =
                    p.id.as_deref()
                        .map(|i| format!(", receipt {i}"))
                        .unwrap_or_default();
                println!("FAILED at row {} ({}{id}): {}", p.seq, p.table, p.message);
                println!("{} rows before it verified", report.rows);
            }
        }
        if keys.problems.is_empty() {
            println!(
                "ok: {} security keys' registrations re-verified against the trust roots ({})",
                keys.verified,
                crate::stepup::trust::describe(&settings.step_up, &settings_file)
            );
        }
        for problem in &keys.problems {
            println!("FAILED: {problem}");
        }
        match &proofs.problem {
            None => println!(
                "ok: {} security-key approvals re-verified against the registered keys",
                proofs.verified
            ),
            Some(p) => println!(
                "FAILED at row {} (receipt {}): {}",
                p.seq, p.receipt_id, p.message
            ),
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_VERIFY_FAILED)
    })
}
