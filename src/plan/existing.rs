//! What runs now: our framework's tasks in Mesos, joined with the state
//! file's records, grouped by deployment address.
//!
//! Mesos is the truth for what runs; the state file fills in what Mesos
//! does not say (an address for a task without labels) and remembers
//! tasks Mesos has forgotten (launched, then the framework was torn down).

use super::model::{AgentRef, ExistingTask};
use super::{LABEL_ADDRESS, LABEL_CONFIG_HASH};
use crate::address::Address;
use crate::fit::ExecutorShare;
use crate::live::{LiveCluster, LiveTask};
use crate::state::{RecordedState, State, TaskRecord};
use mesos_api::TaskState;
use std::collections::{BTreeMap, HashMap};

/// A task that ended (or vanished), kept to explain a relaunch.
#[derive(Debug, Clone, PartialEq)]
pub struct Ended {
    pub task: ExistingTask,
    /// One line: `was TASK_LOST at 2026-11-20T10:00:00Z: agent removed`.
    pub what: String,
}

/// The tasks of one address.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Slot {
    /// The task serving this address (staging, starting or running).
    pub active: Option<ExistingTask>,
    /// Further active tasks claiming the same address: to be killed.
    pub duplicates: Vec<ExistingTask>,
    /// Tasks of this address being killed (TASK_KILLING), e.g. by a run
    /// that was stopped: they still hold their resources until they end.
    pub killing: Vec<ExistingTask>,
    /// The most recent ended task, when nothing is active.
    pub ended: Option<Ended>,
}

/// Every task of ours, by address; plus tasks of our framework that belong to no address.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Existing {
    pub slots: BTreeMap<Address, Slot>,
    pub strays: Vec<ExistingTask>,
    /// Active tasks let go with `state rm`, with the address they had.
    pub unmanaged: Vec<(Option<Address>, ExistingTask)>,
}

/// A task of ours, live or only recorded in the state, with the slot it
/// claims (its label, else its record).
struct ClaimedTask {
    address: Option<Address>,
    task: ExistingTask,
    state: Option<TaskState>,
    updated_at: Option<f64>,
    what: String,
}

fn rfc3339(ts: f64) -> String {
    chrono::DateTime::from_timestamp(ts.floor() as i64, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| format!("{ts}"))
}

fn describe_end(task: &LiveTask) -> String {
    let mut s = format!("was {}", task.state);
    if let Some(ts) = task.updated_at {
        s.push_str(&format!(" at {}", rfc3339(ts)));
    }
    if let Some(m) = task.message.as_deref().filter(|m| !m.is_empty()) {
        s.push_str(&format!(": {m}"));
    }
    s
}

/// The ports a live task holds.
pub(crate) fn ports_of(task: &LiveTask) -> Vec<u16> {
    task.resources
        .ports
        .ports()
        .filter_map(|p| u16::try_from(p).ok())
        .collect()
}

/// A live task as plans see it, on the agent named `hostname`.
pub(crate) fn existing_task(
    task: &LiveTask,
    hostname: String,
    config_hash: Option<String>,
) -> ExistingTask {
    ExistingTask {
        task_id: task.id.clone(),
        agent: AgentRef {
            id: task.agent_id.clone(),
            hostname,
        },
        state: Some(task.state),
        cpus: task.resources.cpus,
        mem_mb: task.resources.mem_mb,
        ports: ports_of(task),
        config_hash,
        executor: task.has_executor.then_some(ExecutorShare::DEFAULT),
    }
}

/// Joins live tasks and state records. Deterministic: ties are broken by task ID.
pub fn collect(live: &LiveCluster, state: Option<&State>) -> Existing {
    let hostnames: HashMap<&str, &str> = live
        .agents
        .iter()
        .map(|a| (a.id.as_str(), a.hostname.as_str()))
        .collect();
    let records: HashMap<&str, &TaskRecord> = state
        .map(|s| s.tasks.iter().map(|t| (t.task_id.as_str(), t)).collect())
        .unwrap_or_default();

    let mut candidates = Vec::new();
    let live_tasks = live
        .framework
        .as_ref()
        .map(|f| f.tasks.as_slice())
        .unwrap_or(&[]);
    for task in live_tasks {
        let record = records.get(task.id.as_str());
        let address = task
            .labels
            .get(LABEL_ADDRESS)
            .and_then(|a| a.parse().ok())
            .or_else(|| record.map(|r| r.address.clone()));
        let hostname = hostnames
            .get(task.agent_id.as_str())
            .map(|h| h.to_string())
            .or_else(|| record.map(|r| r.hostname.clone()))
            .unwrap_or_else(|| task.agent_id.clone());
        candidates.push(ClaimedTask {
            address,
            task: existing_task(
                task,
                hostname,
                task.labels
                    .get(LABEL_CONFIG_HASH)
                    .cloned()
                    .or_else(|| record.map(|r| r.config_hash.clone())),
            ),
            state: Some(task.state),
            updated_at: task.updated_at,
            what: describe_end(task),
        });
    }

    // Records Mesos does not know: forgotten after a teardown, or launched
    // by a run that crashed before Mesos accepted the task.
    let known: std::collections::HashSet<&str> = live_tasks.iter().map(|t| t.id.as_str()).collect();
    let framework_missing = live.framework.is_none();
    for record in state.map(|s| s.tasks.as_slice()).unwrap_or(&[]) {
        if known.contains(record.task_id.as_str()) {
            continue;
        }
        if matches!(record.state, RecordedState::Mesos(s) if s.is_terminal()) {
            continue;
        }
        let why = if framework_missing {
            "is unknown to Mesos: the framework is not registered (torn down, or its failover timeout passed)"
        } else {
            "is unknown to Mesos"
        };
        let recorded = match record.state {
            RecordedState::Pending => "pending".to_string(),
            RecordedState::Mesos(s) => s.to_string(),
        };
        candidates.push(ClaimedTask {
            address: Some(record.address.clone()),
            task: ExistingTask {
                task_id: record.task_id.clone(),
                agent: AgentRef {
                    id: record.agent_id.clone(),
                    hostname: record.hostname.clone(),
                },
                state: None,
                cpus: record.resources.cpus,
                mem_mb: record.resources.mem_mb,
                ports: record.ports.clone(),
                config_hash: Some(record.config_hash.clone()),
                // Mesos holds nothing for a task it does not know.
                executor: None,
            },
            state: None,
            updated_at: None,
            what: format!("task {} {why} (recorded as {recorded})", record.task_id),
        });
    }

    let mut existing = Existing::default();
    let unmanaged: std::collections::HashSet<&str> = state
        .map(|s| s.unmanaged_task_ids.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let (let_go, candidates): (Vec<ClaimedTask>, Vec<ClaimedTask>) = candidates
        .into_iter()
        .partition(|c| unmanaged.contains(c.task.task_id.as_str()));
    existing.unmanaged = let_go
        .into_iter()
        .filter(|c| c.state.is_some_and(TaskState::is_active))
        .map(|c| (c.address, c.task))
        .collect();
    let mut by_address: BTreeMap<Address, Vec<ClaimedTask>> = BTreeMap::new();
    for c in candidates {
        match c.address.clone() {
            Some(a) => by_address.entry(a).or_default().push(c),
            None if c.state.is_some_and(TaskState::is_active) => existing.strays.push(c.task),
            None => {}
        }
    }
    existing.strays.sort_by(|a, b| a.task_id.cmp(&b.task_id));

    for (address, mut cands) in by_address {
        // Best first: running, then staging/starting, then newest, then task ID.
        cands.sort_by(|a, b| {
            let rank = |c: &ClaimedTask| match c.state {
                Some(TaskState::Running) => 0,
                Some(s) if s.is_active() => 1,
                _ => 2,
            };
            rank(a)
                .cmp(&rank(b))
                .then(
                    b.updated_at
                        .unwrap_or(0.0)
                        .total_cmp(&a.updated_at.unwrap_or(0.0)),
                )
                .then(a.task.task_id.cmp(&b.task.task_id))
        });
        let mut slot = Slot::default();
        for c in cands {
            let active = c.state.is_some_and(TaskState::is_active);
            if active && slot.active.is_none() {
                slot.active = Some(c.task);
            } else if active {
                slot.duplicates.push(c.task);
            } else if c.state == Some(TaskState::Killing) {
                slot.killing.push(c.task);
            } else if slot.ended.is_none() {
                slot.ended = Some(Ended {
                    task: c.task,
                    what: c.what,
                });
            }
        }
        existing.slots.insert(address, slot);
    }
    existing
}
