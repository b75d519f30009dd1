//! Which tasks the state manages, changed by hand: `state rm` lets the
//! tasks of an address go, `state import` takes a running task back. Mesos
//! is not touched by either.

use super::{RecordedState, StateError, StateStore, TaskRecord, TaskResources};
use crate::address::Address;
use crate::live::{LiveCluster, LiveTask};

#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    #[error("no state at {0}: nothing has been applied yet")]
    NoState(String),

    #[error("{0} is not in the state; `alluxio-mesos state list` shows what is")]
    NotInState(Address),

    #[error("the framework of deployment {deployment} is not registered with Mesos ({origin}): there is no task to import")]
    NoFramework { deployment: String, origin: String },

    #[error("{task_id} is not a running task of framework {framework} ({origin}); `alluxio-mesos plan` lists the unmanaged tasks of this deployment")]
    NotRunning {
        task_id: String,
        framework: String,
        origin: String,
    },

    #[error("{0} already has a task in the state; `alluxio-mesos state rm '{0}'` it first")]
    AddressTaken(Address),

    #[error(transparent)]
    State(#[from] StateError),
}

/// Drops the records of `address` and remembers their tasks as unmanaged,
/// so that plans no longer adopt them. Returns their task IDs.
pub fn remove(store: &mut StateStore, address: &Address) -> Result<Vec<String>, ManageError> {
    let ids: Vec<String> = store
        .state()
        .tasks
        .iter()
        .filter(|t| &t.address == address)
        .map(|t| t.task_id.clone())
        .collect();
    if ids.is_empty() {
        return Err(ManageError::NotInState(address.clone()));
    }
    store.update(|s| {
        s.tasks.retain(|t| &t.address != address);
        s.unmanaged_task_ids.extend(ids.iter().cloned());
    })?;
    Ok(ids)
}

/// Records the running task `task_id` of our framework under `address`,
/// so that plans manage it (the inverse of [`remove`]).
pub fn import(
    store: &mut StateStore,
    live: &LiveCluster,
    deployment: &str,
    address: &Address,
    task_id: &str,
) -> Result<(), ManageError> {
    let framework = live
        .framework
        .as_ref()
        .ok_or_else(|| ManageError::NoFramework {
            deployment: deployment.to_string(),
            origin: live.source.clone(),
        })?;
    let task = framework
        .tasks
        .iter()
        .find(|t| t.id == task_id && t.state.is_active())
        .ok_or_else(|| ManageError::NotRunning {
            task_id: task_id.to_string(),
            framework: framework.id.clone(),
            origin: live.source.clone(),
        })?;
    if store
        .state()
        .tasks
        .iter()
        .any(|t| &t.address == address && t.task_id != task_id)
    {
        return Err(ManageError::AddressTaken(address.clone()));
    }
    let record = record_of(live, task, address);
    store.update(|s| {
        s.unmanaged_task_ids.retain(|id| id != task_id);
        s.tasks.retain(|t| t.task_id != task_id);
        s.tasks.push(record);
        if s.framework_id.is_none() {
            s.framework_id = Some(framework.id.clone());
        }
    })?;
    Ok(())
}

/// The record of live task `task` at `address`, as the state keeps it.
pub fn record_of(live: &LiveCluster, task: &LiveTask, address: &Address) -> TaskRecord {
    let hostname = live
        .agents
        .iter()
        .find(|a| a.id == task.agent_id)
        .map_or_else(|| task.agent_id.clone(), |a| a.hostname.clone());
    TaskRecord {
        address: address.clone(),
        task_id: task.id.clone(),
        role: address.role(),
        agent_id: task.agent_id.clone(),
        hostname,
        ports: crate::plan::existing::ports_of(task),
        resources: TaskResources {
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
        state: RecordedState::Mesos(task.state),
        updated_at: crate::state::timestamp_now(),
    }
}
