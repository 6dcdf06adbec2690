//! `airlock retention`: setting up the copies of the log kept elsewhere.

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the SQL that makes the PostgreSQL tables the daemon ships the log to, for the
    /// database's owner to run (`psql -f`). The role it names may then only add rows and read
    /// them; point `[retention] postgres` in settings.toml at the database as that role.
    PostgresSchema {
        /// A role a daemon connects as (INSERT and SELECT only, its own logs only); one per
        /// machine, repeat for several.
        #[arg(long = "role", default_value = "airlock_writer")]
        roles: Vec<String>,
        /// A role that may read every log (`airlock verify --against` as an auditor); repeatable.
        #[arg(long = "auditor")]
        auditors: Vec<String>,
    },
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::PostgresSchema { roles, auditors } => {
            let sql = crate::retention::postgres::schema_sql(&roles, &auditors)
                .map_err(|why| anyhow::anyhow!("airlock retention postgres-schema: {why}"))?;
            print!("{sql}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
