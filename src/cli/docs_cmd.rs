//! `alluxio-mesos completions SHELL` and `alluxio-mesos man`: both made from
//! the same clap definitions as the parser, so they never drift from it.

use super::{CliError, CliResult};
use std::path::PathBuf;

/// The shells completions are made for.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for; e.g. `alluxio-mesos completions bash > /etc/bash_completion.d/alluxio-mesos`.
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write a page per command (alluxio-mesos.1, alluxio-mesos-plan.1, ...) into DIR instead of printing the main page.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn completions(args: &CompletionsArgs) -> CliResult {
    use clap_complete::Shell;
    let shell = match args.shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
        CompletionShell::Powershell => Shell::PowerShell,
    };
    let mut cmd = super::command();
    clap_complete::generate(shell, &mut cmd, "alluxio-mesos", &mut std::io::stdout());
    Ok(super::exit::OK)
}

pub fn man(args: &ManArgs) -> CliResult {
    let cmd = super::command();
    match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| CliError::msg(format!("cannot create {}: {e}", dir.display())))?;
            clap_mangen::generate_to(cmd, dir).map_err(|e| {
                CliError::msg(format!(
                    "cannot write the man pages into {}: {e}",
                    dir.display()
                ))
            })?;
            println!("Wrote the man pages into {}.", dir.display());
        }
        None => clap_mangen::Man::new(cmd).render(&mut std::io::stdout())?,
    }
    Ok(super::exit::OK)
}
