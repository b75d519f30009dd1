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
    if let Some(addresses) = address_completion(shell) {
        print!("{addresses}");
    }
    Ok(super::exit::OK)
}

/// Completion of addresses from the state, after the generated script:
/// `--target` and `--replace`, `logs`, and `state show|rm|import` take
/// the first column of `alluxio-mesos state list` for the deployment the
/// line names (its `-c`/`--config` and `--state`), quoted for the shell.
fn address_completion(shell: clap_complete::Shell) -> Option<&'static str> {
    match shell {
        clap_complete::Shell::Bash => Some(BASH_ADDRESSES),
        clap_complete::Shell::Fish => Some(FISH_ADDRESSES),
        _ => None,
    }
}

const BASH_ADDRESSES: &str = r#"
# Addresses, from the state of the deployment the line names.
_alluxio_mesos_addresses() {
    local i args=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${COMP_WORDS[i]}" in
            -c|--config|--state) args+=("${COMP_WORDS[i]}" "${COMP_WORDS[i+1]}") ;;
        esac
    done
    "${COMP_WORDS[0]}" "${args[@]}" state list 2>/dev/null | while read -r address _; do
        printf '%s
' "$address"
    done
}

_alluxio_mesos_with_addresses() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"
    local before="${COMP_WORDS[COMP_CWORD-2]}" address
    if [[ "$prev" == --target || "$prev" == --replace || "$prev" == logs ||
          ( "$before" == state && ( "$prev" == show || "$prev" == rm || "$prev" == import ) ) ]]; then
        COMPREPLY=()
        while IFS= read -r address; do
            if [[ "$address" == "$cur"* ]]; then
                COMPREPLY+=("$(printf '%q' "$address")")
            fi
        done < <(_alluxio_mesos_addresses)
        return 0
    fi
    _alluxio__mesos "$@"
}

complete -F _alluxio_mesos_with_addresses -o bashdefault -o default alluxio-mesos
"#;

const FISH_ADDRESSES: &str = r#"
# Addresses, from the state of the deployment in the current directory.
function __alluxio_mesos_addresses
    alluxio-mesos state list 2>/dev/null | string replace -r '\s.*' ''
end
complete -c alluxio-mesos -n "__fish_seen_subcommand_from plan apply destroy" -l target -xa '(__alluxio_mesos_addresses)'
complete -c alluxio-mesos -n "__fish_seen_subcommand_from plan apply" -l replace -xa '(__alluxio_mesos_addresses)'
complete -c alluxio-mesos -n "__fish_seen_subcommand_from logs" -xa '(__alluxio_mesos_addresses)'
"#;

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
