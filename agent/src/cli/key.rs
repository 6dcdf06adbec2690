//! `airlock key add|list|remove`: the security keys that can give step-up approvals.

use super::output;
use airlock_protocol::{Request, Response, StepUpTarget};
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Register a security key (touch it when it blinks). Once a key is registered, adding
    /// another needs a touch of an existing one.
    Add {
        /// A name to tell keys apart.
        #[arg(long, default_value = "security-key")]
        name: String,
    },
    /// List the registered keys.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a key (by name or credential id); needs a touch of a registered key.
    Remove {
        /// The key's name or credential id (see `airlock key list`).
        id: String,
    },
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    let mut client = super::connect(&super::home()?)?;
    match command {
        Command::Add { name } => {
            let target = StepUpTarget::KeyAdd { name: name.clone() };
            let response = crate::stepup::ceremony::call_with_key(
                &mut client,
                target,
                false,
                |assertion| Request::KeyRegisterBegin {
                    name: name.clone(),
                    assertion,
                },
                crate::stepup::ceremony::terminal_ui(),
            )?;
            let (options, origin) = match super::expect_ok(response)? {
                Response::KeyRegistration { options, origin } => (options, origin),
                other => anyhow::bail!("unexpected answer from the daemon: {other:?}"),
            };
            eprintln!("Registering security key `{name}`.");
            let credential = std::thread::spawn(move || {
                crate::stepup::authenticator::register(
                    &origin,
                    &options,
                    crate::stepup::authenticator::terminal_pin(),
                )
            })
            .join()
            .map_err(|_| anyhow::anyhow!("the security-key thread panicked"))??;
            let response =
                super::expect_ok(client.call(Request::KeyRegisterFinish { name, credential })?)?;
            super::print_done(response)
        }
        Command::List { json } => {
            let keys = match super::expect_ok(client.call(Request::KeyList {})?)? {
                Response::Keys { items } => items,
                other => anyhow::bail!("unexpected answer from the daemon: {other:?}"),
            };
            if json {
                output::print_json(&keys)?;
            } else if keys.is_empty() {
                println!("no security keys registered; add one with `airlock key add --name NAME`");
            } else {
                for key in keys {
                    let used = key
                        .last_used_ms
                        .map(crate::store::format_ms)
                        .unwrap_or_else(|| "never".to_string());
                    println!(
                        "{}  {}\n    added {}; last used {}; {}{}",
                        key.name,
                        key.id,
                        crate::store::format_ms(key.created_ms),
                        used,
                        key.attestation,
                        key.aaguid
                            .map(|a| format!(" (model {a})"))
                            .unwrap_or_default()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Remove { id } => {
            let target = StepUpTarget::KeyRemove { id: id.clone() };
            let response = crate::stepup::ceremony::call_with_key(
                &mut client,
                target,
                true,
                |assertion| Request::KeyRemove {
                    id: id.clone(),
                    assertion,
                },
                crate::stepup::ceremony::terminal_ui(),
            )?;
            super::print_done(super::expect_ok(response)?)
        }
    }
}
