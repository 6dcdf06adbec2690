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
    /// Check the signed checkpoints with this public key (a copy kept where the agent's user
    /// cannot write) instead of `checkpoint.pub` beside the database; with it, a log with rows
    /// but no checkpoint fails.
    #[arg(long, value_name = "FILE")]
    public_key: Option<std::path::PathBuf>,
    /// Also check the log against the checkpoints retained in this file (a syslog file the
    /// daemon sent them to, or a copy of it): rows cut back below a retained checkpoint fail.
    #[arg(long, value_name = "FILE")]
    retained: Option<std::path::PathBuf>,
    /// Compare the log with the copy the daemon shipped to this PostgreSQL database (a
    /// connection string, e.g. `postgres://auditor@/airlock?host=/run/postgresql`; a password
    /// from `PGPASSWORD`): names the first row rewritten, deleted or cut off locally, or never
    /// shipped; its checkpoints are checked too.
    #[arg(long, value_name = "CONNECTION")]
    against: Option<String>,
    /// Also compare with this log of that database (by default the log is found by its first
    /// row, under every name it was shipped as).
    #[arg(long, value_name = "ID", requires = "against")]
    log_id: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let own_database = args.database.is_none();
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
    let mut report = store.verify()?;
    // The daemon writes the witness after every commit: Airlock's own database with rows and
    // no witness lost it. (A copy given with `--database` may come without one.)
    if own_database && report.problem.is_none() && report.head_seq > 0 {
        let witness = crate::store::witness::path_for(&path);
        let missing = match crate::store::witness::all(&path) {
            Ok(heads) if heads.is_empty() => Some(format!(
                "the witness `{}` is missing or empty, but the chain has {} rows: it was removed",
                witness.display(),
                report.head_seq
            )),
            Ok(_) => None,
            Err(why) => Some(format!("the witness {why}: it was replaced")),
        };
        report.problem = missing.map(|message| crate::store::VerifyProblem {
            seq: report.head_seq,
            table: "chain_head".into(),
            id: None,
            message,
        });
    }
    // Keys are judged against the trust roots of this home's settings, as the daemon does.
    let settings_file = super::home()?.settings_file();
    let settings = Settings::load(&settings_file)?;
    let (keys, proofs) = crate::stepup::audit::audit(&store, &settings.step_up)?;
    let mut retained_notes = Vec::new();
    let against = match &args.against {
        None => None,
        Some(conninfo) => {
            // Never on the command line (`ps` shows it): `PGPASSWORD`, as libpq reads it.
            let password = std::env::var("PGPASSWORD").ok();
            let mut copy = crate::retention::postgres::Retained::connect(
                conninfo,
                password.as_deref(),
                String::new(),
            )
            .map_err(|e| anyhow::anyhow!("--against: {e}"))?;
            let comparison =
                crate::retention::compare::compare(&store, &mut copy, args.log_id.as_deref())?;
            for log in &comparison.logs {
                copy.set_log(log.clone());
                retained_notes.extend(copy.checkpoints()?);
            }
            Some(comparison)
        }
    };
    let tree = check_tree(
        &store,
        &path,
        args.public_key.as_deref(),
        args.retained.as_deref(),
        retained_notes,
        report.rows,
    )?;
    let ok = report.ok()
        && proofs.problem.is_none()
        && keys.problems.is_empty()
        && tree.problem.is_none()
        && against.as_ref().is_none_or(|c| c.problem.is_none());
    if args.json {
        super::output::print_json(&serde_json::json!({
            "chain": report,
            "keys": keys,
            "step_up": proofs,
            "checkpoints": tree,
            "retained_copy": against,
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
        let unclean = store.unclean_stops().unwrap_or_default();
        if !unclean.is_empty() {
            println!(
                "note: {} daemon run(s) ended without a stop record (killed or crashed; rows they wrote after their last checkpoint cannot be vouched for): the starts at rows {}",
                unclean.len(),
                unclean
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        match &tree.problem {
            None if tree.verified == 0 => println!(
                "no signed checkpoints yet (the daemon signs one every {} rows, every 10 s with new rows, and when it stops)",
                crate::daemon::CHECKPOINT_EVERY_ROWS
            ),
            None => println!(
                "ok: {} signed checkpoints verified with {}; the newest covers row {}{}",
                tree.verified,
                tree.public_key,
                tree.newest,
                if tree.unsigned_rows > 0 {
                    format!(" ({} rows after it are not signed yet)", tree.unsigned_rows)
                } else {
                    String::new()
                }
            ),
            Some(problem) => println!("FAILED: signed checkpoints: {problem}"),
        }
        if let Some(c) = &against {
            match &c.problem {
                None => println!(
                    "ok: {} rows match the copy retained at {} (log `{}`){}",
                    c.matching,
                    c.target,
                    c.logs.join("`, `"),
                    if c.not_yet_retained > 0 {
                        format!("; {} newer rows are not retained yet", c.not_yet_retained)
                    } else {
                        String::new()
                    }
                ),
                Some(problem) => println!(
                    "FAILED: the copy retained at {} (log `{}`): {problem}",
                    c.target,
                    c.logs.join("`, `")
                ),
            }
            for note in &c.notes {
                println!("note: {note}");
            }
            if c.keys.len() > 1 {
                println!(
                    "note: the retained copy knows {} checkpoint keys for this log (it was given a new key): {}",
                    c.keys.len(),
                    c.keys.join(", ")
                );
            }
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_VERIFY_FAILED)
    })
}

/// The checkpoints checked with the pinned public key, or the one beside the database.
fn check_tree(
    store: &Store,
    database: &std::path::Path,
    pinned: Option<&std::path::Path>,
    retained: Option<&std::path::Path>,
    mut notes: Vec<String>,
    rows: i64,
) -> anyhow::Result<crate::store::tree::TreeReport> {
    use crate::store::tree::signing::public_key_path;
    let (file, source) = match pinned {
        Some(file) => (file.to_path_buf(), "pinned"),
        None => (public_key_path(database), "beside the database"),
    };
    let key = match std::fs::read_to_string(&file) {
        Ok(key) => key,
        Err(e) if pinned.is_none() && e.kind() == std::io::ErrorKind::NotFound => {
            // No key was ever made: a log from before checkpoints, or no daemon ran.
            String::new()
        }
        Err(e) => anyhow::bail!(
            "cannot read the public key `{}`: {e}; give a copy of `checkpoint.pub` from beside the receipt database",
            file.display()
        ),
    };
    let source = format!("{source}: {}", file.display());
    let mut heads = store.tree_heads()?;
    if let Some(retained) = retained {
        let text = std::fs::read_to_string(retained).map_err(|e| {
            anyhow::anyhow!(
                "cannot read the retained checkpoints `{}`: {e}",
                retained.display()
            )
        })?;
        let from_file: Vec<String> = crate::daemon::retained_checkpoints(&text)
            .into_iter()
            .filter(|note| crate::store::tree::signing::names_key(note, &key))
            .collect();
        if from_file.is_empty() {
            anyhow::bail!(
                "`{}` holds no checkpoint of this log (lines with `airlock-checkpoint` signed by its key); give the syslog file the daemon sends them to",
                retained.display()
            );
        }
        notes.extend(from_file);
    }
    if !notes.is_empty() {
        for note in notes {
            let size = crate::store::tree::signing::open(&note, &key)
                .map(|c| c.size())
                .unwrap_or(0);
            heads.push(crate::store::tree::TreeHead {
                size,
                time_ms: 0,
                note,
            });
        }
        heads.sort_by_key(|h| h.size);
        heads.dedup_by(|a, b| a.note == b.note);
    }
    let mut report = if key.trim().is_empty() {
        crate::store::tree::TreeReport {
            verified: 0,
            newest: 0,
            unsigned_rows: 0,
            public_key: source,
            problem: (!store.tree_heads()?.is_empty()).then(|| {
                "checkpoints exist but their public key is missing; give it with `--public-key`"
                    .to_string()
            }),
        }
    } else {
        crate::store::tree::verify_tree_heads(store, &heads, &key, &source)?
    };
    if pinned.is_some() && report.problem.is_none() && report.verified == 0 && rows > 0 {
        report.problem = Some(format!(
            "{rows} rows but no signed checkpoint: the checkpoints were removed"
        ));
    }
    Ok(report)
}
