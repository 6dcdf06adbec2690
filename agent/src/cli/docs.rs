//! `airlock completions SHELL` and `airlock man DIR`: the shell completions and man pages the
//! .deb ships, generated from the very definitions the command line parses with.

use clap::CommandFactory;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Where to write `airlock.1` and a page per subcommand (`airlock-approve.1`, …).
    dir: PathBuf,
}

pub fn completions(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut command = super::Cli::command();
    clap_complete::generate(args.shell, &mut command, "airlock", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}

pub fn man(args: ManArgs) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.dir)
        .map_err(|e| anyhow::anyhow!("cannot make `{}`: {e}", args.dir.display()))?;
    clap_mangen::generate_to(super::Cli::command(), &args.dir)
        .map_err(|e| anyhow::anyhow!("cannot write man pages to `{}`: {e}", args.dir.display()))?;
    Ok(ExitCode::SUCCESS)
}
