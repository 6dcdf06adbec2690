//! `airlock policy check` and `airlock policy classes`

use crate::policy::Policy;
use airlock_protocol::ActionClass;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Validate policy directories (default: the shipped policy and yours) and summarise them.
    Check {
        /// Policy directories, in order.
        dirs: Vec<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the action classes rules can name.
    Classes,
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Check { dirs, json } => check(dirs, json),
        Command::Classes => {
            for class in ActionClass::ALL {
                println!("{class}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn check(dirs: Vec<PathBuf>, json: bool) -> anyhow::Result<ExitCode> {
    let dirs = if dirs.is_empty() {
        super::policy_dirs(&super::home()?)
    } else {
        dirs
    };
    match Policy::load(&dirs) {
        Ok(policy) => {
            if json {
                super::output::print_json(&serde_json::json!({
                    "ok": true,
                    "files": policy.files(),
                    "rules": policy.rules().map(|(id, d, f)| serde_json::json!({"id": id, "decision": d, "file": f})).collect::<Vec<_>>(),
                    "baselines": policy.baselines().map(|(c, d, f)| serde_json::json!({"class": c, "decision": d, "file": f})).collect::<Vec<_>>(),
                    "budgets": policy.budgets().iter().map(|b| serde_json::json!({"id": b.id, "max": b.max, "window_secs": b.window.as_secs(), "per_session": b.per_session, "classes": b.classes})).collect::<Vec<_>>(),
                    "breakers": policy.breakers().iter().map(|b| serde_json::json!({"id": b.id, "justification": b.justification})).collect::<Vec<_>>(),
                    "notes": policy.notes().iter().map(|(f, note)| serde_json::json!({"file": f, "note": note})).collect::<Vec<_>>(),
                }))?;
            } else {
                println!(
                    "ok: {} rules and {} baselines from {} files; every example passed",
                    policy.rule_count(),
                    policy.baseline_count(),
                    policy.files().len()
                );
                for file in policy.files() {
                    println!("  {}", file.display());
                    for note in policy.notes_for(file) {
                        println!("    note: {note}");
                    }
                }
                println!("baselines (when no rule matches):");
                for (class, decision, _) in policy.baselines() {
                    println!("  {:<20} {}", class.as_str(), decision);
                }
                if !policy.budgets().is_empty() {
                    println!("budgets:");
                    for b in policy.budgets() {
                        let classes: Vec<&str> = b.classes.iter().map(|c| c.as_str()).collect();
                        let scope = if b.per_session {
                            "per session"
                        } else {
                            "overall"
                        };
                        let all = classes.len() == airlock_protocol::ActionClass::ALL.len();
                        println!(
                            "  {:<36} at most {} per {} s {scope} ({})",
                            b.id,
                            b.max,
                            b.window.as_secs(),
                            if all {
                                "every request".to_string()
                            } else {
                                classes.join(", ")
                            }
                        );
                    }
                }
                if !policy.breakers().is_empty() {
                    println!("circuit breakers (contain the session when they trip):");
                    for b in policy.breakers() {
                        println!("  {:<36} {}", b.id, b.justification);
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            if json {
                super::output::print_json(
                    &serde_json::json!({"ok": false, "error": err.to_string()}),
                )?;
            } else {
                eprintln!("airlock: invalid policy: {err}");
            }
            Ok(ExitCode::from(super::EXIT_INVALID_POLICY))
        }
    }
}
