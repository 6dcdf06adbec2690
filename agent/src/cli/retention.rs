//! `airlock retention`: setting up the copies of the log kept elsewhere.

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the SQL that makes the PostgreSQL tables the daemon ships the log to, for the
    /// database's owner to run (`psql -f`). The role it names may then only add rows and read
    /// them; point `[retention] postgres` in settings.toml at the database as that role.
    PostgresSchema {
        /// The role the daemons connect as (INSERT and SELECT only).
        #[arg(long, default_value = "airlock_writer")]
        role: String,
    },
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::PostgresSchema { role } => {
            let sql = crate::retention::postgres::schema_sql(&role)
                .map_err(|why| anyhow::anyhow!("--role: {why}"))?;
            print!("{sql}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
