//! `alluxio-mesos state list | show ADDRESS | rm ADDRESS | import ADDRESS TASK_ID`.

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
            let ids: Vec<String> = store
                .state()
                .tasks
                .iter()
                .filter(|t| &t.address == address)
                .map(|t| t.task_id.clone())
                .collect();
            if ids.is_empty() {
                return Err(CliError::msg(format!(
                    "{address} is not in the state; `alluxio-mesos state list` shows what is"
                )));
            }
            store.update(|s| {
                s.tasks.retain(|t| &t.address != address);
                s.unmanaged_task_ids.extend(ids.iter().cloned());
            })?;
            println!(
                "Removed {} record(s) of {address} from {}; Mesos was not touched. Plans now show task(s) {} as unmanaged; `alluxio-mesos state import '{address}' TASK_ID` takes one back.",
                ids.len(),
                path.display(),
                ids.join(", ")
            );
        }
        StateCommand::Import {
            address,
            task_id,
            lock_timeout,
        } => import(g, address, task_id, *lock_timeout)?,
    }
    Ok(0)
}

/// Records a running task of our framework under `address`, so that plans
/// manage it (the inverse of `state rm`).
fn import(
    g: &Global,
    address: &Address,
    task_id: &str,
    lock_timeout: Duration,
) -> Result<(), CliError> {
    let desired = context::load_desired(g)?;
    let path = context::state_path(g);
    let mut store = StateStore::open(&path, &desired.name, "state import", lock_timeout)?;
    let current = (!store.is_new()).then(|| store.state().clone());
    let live = context::acquire_live(g, &desired, current.as_ref(), None)?;
    let framework = live.framework.as_ref().ok_or_else(|| {
        CliError::msg(format!(
            "the framework of deployment {} is not registered with Mesos ({}): there is no task to import",
            desired.name, live.source
        ))
    })?;
    let task = framework
        .tasks
        .iter()
        .find(|t| t.id == task_id && t.state.is_active())
        .ok_or_else(|| {
            CliError::msg(format!(
                "{task_id} is not a running task of framework {} ({}); `alluxio-mesos plan` lists the unmanaged tasks of this deployment",
                framework.id, live.source
            ))
        })?;
    if store
        .state()
        .tasks
        .iter()
        .any(|t| &t.address == address && t.task_id != task_id)
    {
        return Err(CliError::msg(format!(
            "{address} already has a task in the state; `alluxio-mesos state rm '{address}'` it first"
        )));
    }
    let hostname = live
        .agents
        .iter()
        .find(|a| a.id == task.agent_id)
        .map_or_else(|| task.agent_id.clone(), |a| a.hostname.clone());
    let record = state::TaskRecord {
        address: address.clone(),
        task_id: task.id.clone(),
        role: address.role(),
        agent_id: task.agent_id.clone(),
        hostname,
        ports: task
            .resources
            .ports
            .ports()
            .filter_map(|p| u16::try_from(p).ok())
            .collect(),
        resources: state::TaskResources {
            cpus: task.resources.cpus,
            mem_mb: task.resources.mem_mb,
            ramdisk_mb: 0.0,
        },
        // Its label, or none: the next plan then says why it is replaced.
        config_hash: task
            .labels
            .get(crate::plan::LABEL_CONFIG_HASH)
            .cloned()
            .unwrap_or_default(),
        state: state::RecordedState::Mesos(task.state),
        updated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    store.update(|s| {
        s.unmanaged_task_ids.retain(|id| id != task_id);
        s.tasks.retain(|t| t.task_id != task_id);
        s.tasks.push(record);
        if s.framework_id.is_none() {
            s.framework_id = Some(framework.id.clone());
        }
    })?;
    store.close()?;
    println!(
        "Imported task {task_id} as {address} into {}; run `alluxio-mesos plan` to see what it means.",
        path.display()
    );
    Ok(())
}
