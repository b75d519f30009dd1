//! `alluxio-mesos state list | show ADDRESS | rm ADDRESS`.

use super::{context, CliError, CliResult, Global};
use crate::address::Address;
use crate::state::{self, StateStore};
use std::time::Duration;

#[derive(Debug, clap::Subcommand)]
pub enum StateCommand {
    /// List the addresses recorded in the state.
    List,
    /// Show one recorded task as JSON.
    Show { address: Address },
    /// Forget a task (Mesos is not touched): the next plan treats it as never launched.
    Rm {
        address: Address,
        /// How long to wait for another run's lock.
        #[arg(long, default_value = "0s", value_parser = humantime::parse_duration)]
        lock_timeout: Duration,
    },
}

pub fn run(g: &Global, cmd: &StateCommand) -> CliResult {
    let path = context::state_path(g);
    let missing = || {
        CliError::msg(format!(
            "no state at {}: nothing has been applied yet",
            path.display()
        ))
    };
    match cmd {
        StateCommand::List => {
            let st = state::load(&path)?.ok_or_else(missing)?;
            for t in &st.tasks {
                println!("{}", t.address);
            }
        }
        StateCommand::Show { address } => {
            let st = state::load(&path)?.ok_or_else(missing)?;
            let records: Vec<_> = st.tasks.iter().filter(|t| &t.address == address).collect();
            if records.is_empty() {
                return Err(CliError::msg(format!(
                    "{address} is not in the state; `alluxio-mesos state list` shows what is"
                )));
            }
            println!(
                "{}",
                serde_json::to_string_pretty(&records).map_err(CliError::msg)?
            );
        }
        StateCommand::Rm {
            address,
            lock_timeout,
        } => {
            let st = state::load(&path)?.ok_or_else(missing)?;
            let mut store = StateStore::open(&path, &st.deployment, "state rm", *lock_timeout)?;
            let before = store.state().tasks.len();
            store.update(|s| s.tasks.retain(|t| &t.address != address))?;
            let removed = before - store.state().tasks.len();
            if removed == 0 {
                return Err(CliError::msg(format!(
                    "{address} is not in the state; `alluxio-mesos state list` shows what is"
                )));
            }
            println!(
                "Removed {removed} record(s) of {address} from {}. Mesos was not touched.",
                path.display()
            );
        }
    }
    Ok(0)
}
