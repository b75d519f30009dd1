//! `alluxio-mesos state list | show ADDRESS | rm ADDRESS | import ADDRESS TASK_ID`.

use super::{context, exit, CliError, CliResult, Global};
use crate::address::Address;
use crate::render::state as view;
use crate::state::manage::{self, ManageError};
use crate::state::{self, StateStore};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct StateArgs {
    #[command(flatten)]
    pub state: super::StateArg,
    #[command(subcommand)]
    pub command: StateCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum StateCommand {
    /// List the addresses recorded in the state, sorted, with their task's state and agent.
    List,
    /// Show the records of one address (text; --json for JSON).
    Show {
        address: Address,
        /// Print the records as a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Stop managing a task (Mesos is not touched): plans no longer adopt it
    /// (they show it as an unmanaged task of ours and plan a new task for the
    /// address) until `state import` takes it back.
    Rm {
        address: Address,
        /// How long to wait for another run's lock.
        #[arg(long, default_value = "0s", value_parser = humantime::parse_duration)]
        lock_timeout: Duration,
    },
    /// Manage a running task of this deployment's framework under ADDRESS
    /// (reads the live cluster; Mesos is not touched).
    Import {
        address: Address,
        task_id: String,
        /// How long to wait for another run's lock.
        #[arg(long, default_value = "0s", value_parser = humantime::parse_duration)]
        lock_timeout: Duration,
        #[command(flatten)]
        mesos: super::MesosArgs,
    },
    /// Print the state JSON (from the file or ZooKeeper) on stdout.
    Pull,
    /// Upload a state JSON file as the current state (refuses another
    /// lineage or a lower serial unless --force).
    Push {
        file: PathBuf,
        /// Replace the stored state even if it is of another lineage or newer.
        #[arg(long)]
        force: bool,
        /// How long to wait for another run's lock.
        #[arg(long, default_value = "0s", value_parser = humantime::parse_duration)]
        lock_timeout: Duration,
    },
    /// Copy the state to another location (a file or zk://...), then use
    /// that location with --state or [state] url.
    Migrate {
        /// Where to: a file path or zk://host:2181/alluxio-mesos/<deployment>.
        #[arg(long, value_name = "FILE|URL")]
        to: String,
        /// Overwrite a state already at the destination.
        #[arg(long)]
        force: bool,
        /// How long to wait for either lock.
        #[arg(long, default_value = "0s", value_parser = humantime::parse_duration)]
        lock_timeout: Duration,
    },
}

pub fn run(g: &Global, cmd: &StateCommand) -> CliResult {
    let location = context::state_location(g)?;
    let missing = || ManageError::NoState(location.to_string());
    match cmd {
        StateCommand::List => {
            let st = state::load_at(&location)?.ok_or_else(missing)?;
            print!("{}", view::list(&st));
        }
        StateCommand::Show { address, json } => {
            let st = state::load_at(&location)?.ok_or_else(missing)?;
            let records: Vec<_> = st.tasks.iter().filter(|t| &t.address == address).collect();
            if records.is_empty() {
                return Err(ManageError::NotInState(address.clone()).into());
            }
            if *json {
                print!("{}", view::records_json(&records));
            } else {
                print!("{}", view::records_text(&records));
            }
        }
        StateCommand::Pull => {
            let st = state::load_at(&location)?.ok_or_else(missing)?;
            use std::io::Write;
            std::io::stdout().write_all(&state::render_state(&st))?;
        }
        StateCommand::Push {
            file,
            force,
            lock_timeout,
        } => {
            let uploaded = state::load(file)?
                .ok_or_else(|| CliError::msg(format!("{} does not exist", file.display())))?;
            let mut store =
                StateStore::open_at(&location, &uploaded.deployment, "state push", *lock_timeout)?;
            store.replace(uploaded, *force)?;
            let serial = store.state().serial;
            store.close()?;
            print!("{}", view::pushed(file, &location, serial));
        }
        StateCommand::Migrate {
            to,
            force,
            lock_timeout,
        } => {
            let target = state::StateLocation::parse(to)?;
            if target == location {
                return Err(CliError::msg(format!("the state is already at {location}")));
            }
            let st = state::load_at(&location)?.ok_or_else(missing)?;
            // The source stays locked while it is copied, so no run writes it meanwhile.
            let source =
                StateStore::open_at(&location, &st.deployment, "state migrate", *lock_timeout)?;
            let mut dest =
                StateStore::open_at(&target, &st.deployment, "state migrate", *lock_timeout)?;
            if !dest.is_new() && !force {
                return Err(CliError::msg(format!(
                    "{target} already holds a state of deployment {:?} (serial {}); pass --force to replace it",
                    dest.state().deployment,
                    dest.state().serial
                )));
            }
            dest.replace(source.state().clone(), true)?;
            let serial = dest.state().serial;
            dest.close()?;
            source.close()?;
            print!(
                "{}",
                view::migrated(&st.deployment, &location, &target, serial)
            );
        }
        StateCommand::Rm {
            address,
            lock_timeout,
        } => {
            let st = state::load_at(&location)?.ok_or_else(missing)?;
            let mut store =
                StateStore::open_at(&location, &st.deployment, "state rm", *lock_timeout)?;
            let ids = manage::remove(&mut store, address)?;
            print!("{}", view::removed(address, &location, &ids));
        }
        StateCommand::Import {
            address,
            task_id,
            lock_timeout,
            mesos,
        } => {
            let desired = context::load_desired(g)?;
            let location = context::state_location_for(g, &desired)?;
            let mut store =
                StateStore::open_at(&location, &desired.name, "state import", *lock_timeout)?;
            let current = (!store.is_new()).then(|| store.state().clone());
            let live = context::acquire_live(g, mesos, &desired, current.as_ref(), None)?;
            manage::import(&mut store, &live, &desired.name, address, task_id)?;
            store.close()?;
            print!("{}", view::imported(task_id, address, &location));
        }
    }
    Ok(exit::OK)
}
