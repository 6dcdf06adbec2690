//! `airlock hook AGENT`: the fail-closed shim lives in `airlock-hook` (a crate without the
//! daemon's runtime, WebAuthn, D-Bus, SQLite or the shell parser); here are only its arguments,
//! for `--help`, man pages and completions.

use crate::adapters;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The coding agent whose hook protocol to speak.
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(adapters::KNOWN_AGENTS))]
    agent: String,
}

pub use airlock_hook::run_from_args;
