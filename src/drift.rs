//! Drift: what changed in Mesos since the last apply, read without
//! changing anything (`plan --refresh-only`), and recorded in the state
//! without launching or killing anything (`apply --refresh-only`).
//!
//! The state is what the last apply saw; Mesos is what is true now. Each
//! finding says what was observed and what a normal plan would do about
//! it, so that a nightly job can tell "something happened" from "apply
//! would change something".

use crate::address::Address;
use crate::live::{LiveCluster, LiveTask};
use crate::mesos::task_statuses::StatusFacts;
use crate::plan::{Action, Plan};
use crate::state::{RecordedState, State, TaskRecord};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// What kind of change a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A recorded task ended, failed or was lost.
    TaskEnded,
    /// A recorded task Mesos no longer knows.
    TaskForgotten,
    /// The agent of a recorded task left Mesos or was deactivated.
    AgentGone,
    /// Mesos removed our framework (or never knew the recorded one).
    FrameworkRemoved,
    /// A task of our framework the state does not record.
    UnrecordedTask,
    /// Another Mesos master leads than at the last apply.
    LeaderChanged,
}

/// One change, as a reviewer reads it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub kind: Kind,
    /// The deployment address concerned, when there is one.
    pub address: Option<Address>,
    /// What it concerns: a task, an agent, the framework, the leader.
    pub subject: String,
    /// What Mesos shows now, against what the state recorded.
    pub observed: String,
    /// What a normal plan would do about it.
    pub plan: String,
}

/// The drift of one deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct Drift {
    pub deployment: String,
    /// The serial of the state compared with; None before the first apply.
    pub serial: Option<u64>,
    pub findings: Vec<Finding>,
}

impl Drift {
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty()
    }
}

/// The recorded tasks Mesos shows ended (or lost), whose reasons and
/// messages are worth asking for: state documents carry neither.
pub fn ended_task_ids(live: &LiveCluster, state: Option<&State>) -> HashSet<String> {
    let Some(state) = state else {
        return HashSet::new();
    };
    let live_tasks = live_by_id(live);
    recorded_running(state)
        .filter(|r| {
            live_tasks
                .get(r.task_id.as_str())
                .is_some_and(|t| !t.state.is_active())
        })
        .map(|r| r.task_id.clone())
        .collect()
}

/// Compares `state` with `live`. `plan` is the normal plan of the same
/// inputs; `statuses` adds Mesos's reasons and messages to ended tasks;
/// `leader` is the URL of the leading master now, when it means anything.
pub fn detect(
    live: &LiveCluster,
    state: Option<&State>,
    plan: &Plan,
    statuses: &HashMap<String, StatusFacts>,
    leader: Option<&str>,
) -> Drift {
    let mut drift = Drift {
        deployment: plan.deployment.clone(),
        serial: state.map(|s| s.serial),
        findings: Vec::new(),
    };
    let Some(state) = state else {
        return drift;
    };
    let would = Would { plan };
    let findings = &mut drift.findings;
    framework(live, state, &would, findings);
    let live_tasks = live_by_id(live);
    for record in recorded_running(state) {
        match live_tasks.get(record.task_id.as_str()) {
            Some(t) if t.state.is_active() => {}
            Some(t) => findings.push(Finding {
                kind: Kind::TaskEnded,
                address: Some(record.address.clone()),
                subject: format!("task {} on {}", record.task_id, record.hostname),
                observed: ended(record, t, statuses.get(&t.id)),
                plan: would.address(&record.address),
            }),
            None => findings.push(Finding {
                kind: Kind::TaskForgotten,
                address: Some(record.address.clone()),
                subject: format!("task {} on {}", record.task_id, record.hostname),
                observed: forgotten(record, live),
                plan: would.address(&record.address),
            }),
        }
    }
    agents(live, state, &would, findings);
    unrecorded(live, state, &would, findings);
    if let (Some(before), Some(now)) = (state.mesos_leader.as_deref(), leader) {
        if before != now {
            findings.push(Finding {
                kind: Kind::LeaderChanged,
                address: None,
                subject: "the leading Mesos master".into(),
                observed: format!("{now} leads; {before} led at the last apply"),
                plan: "nothing: a change of leader changes no task, and apply follows the leader"
                    .into(),
            });
        }
    }
    drift
}

/// Records what `drift` observed in `state`: ended and forgotten tasks are
/// dropped, tasks of ours it did not record are added at their address,
/// the states of running tasks and the leader are brought up to date.
/// Nothing in Mesos changes. Returns how many records changed.
pub fn record(state: &mut State, live: &LiveCluster, leader: Option<&str>) -> usize {
    let live_tasks = live_by_id(live);
    let mut changed = 0;
    state.tasks.retain(|r| {
        let keep = !is_running(r)
            || live_tasks
                .get(r.task_id.as_str())
                .is_some_and(|t| t.state.is_active());
        changed += usize::from(!keep);
        keep
    });
    for r in &mut state.tasks {
        if let Some(t) = live_tasks.get(r.task_id.as_str()) {
            if r.state != RecordedState::Mesos(t.state) {
                r.state = RecordedState::Mesos(t.state);
                r.updated_at = crate::state::timestamp_now();
                changed += 1;
            }
        }
    }
    for (address, task) in unrecorded_tasks(live, state) {
        if let Some(address) = address {
            let record = crate::state::manage::record_of(live, task, &address);
            state.tasks.push(record);
            changed += 1;
        }
    }
    if leader.is_some() && state.mesos_leader.as_deref() != leader {
        state.mesos_leader = leader.map(str::to_string);
        changed += 1;
    }
    changed
}

/// What a normal plan does, in a few words.
struct Would<'a> {
    plan: &'a Plan,
}

impl Would<'_> {
    fn address(&self, address: &Address) -> String {
        if let Some(c) = self.plan.changes.iter().find(|c| &c.address == address) {
            return match &c.action {
                Action::Launch { agent, .. } => {
                    format!("launch {address} on {}", agent.hostname)
                }
                Action::Replace { agent, .. } => format!(
                    "replace {address} on {} ({})",
                    agent.hostname,
                    c.reasons.join("; ")
                ),
                Action::Kill { before } => {
                    format!("kill task {} ({})", before.task_id, c.reasons.join("; "))
                }
                Action::NoOp { before } => {
                    format!("nothing: {address} runs as task {}", before.task_id)
                }
            };
        }
        if let Some(f) = self
            .plan
            .placement_failures
            .iter()
            .find(|f| f.address.as_ref() == Some(address))
        {
            return format!("nothing it can: {}", f.summary);
        }
        format!("nothing: {address} is no longer part of the deployment")
    }
}

fn framework(live: &LiveCluster, state: &State, would: &Would, findings: &mut Vec<Finding>) {
    let Some(id) = &state.framework_id else {
        return;
    };
    let observed = match &live.framework {
        Some(f) if f.removed => format!(
            "Mesos removed framework {id} (the master lists it among its completed frameworks) and killed its tasks: no scheduler subscribed within its failover_timeout, or someone tore it down"
        ),
        Some(_) => return,
        None => format!(
            "the master does not know framework {id}: it was removed long ago, or this is another cluster"
        ),
    };
    let launches = would.plan.summary().launch;
    findings.push(Finding {
        kind: Kind::FrameworkRemoved,
        address: None,
        subject: format!("framework {id}"),
        observed,
        plan: format!("register a new framework and launch {launches} task(s)"),
    });
}

fn agents(live: &LiveCluster, state: &State, would: &Would, findings: &mut Vec<Finding>) {
    let by_id: HashMap<&str, &crate::live::Agent> =
        live.agents.iter().map(|a| (a.id.as_str(), a)).collect();
    let mut gone: BTreeMap<(&str, &str), Vec<&TaskRecord>> = BTreeMap::new();
    for r in recorded_running(state) {
        if by_id.get(r.agent_id.as_str()).is_none_or(|a| !a.active) {
            gone.entry((r.hostname.as_str(), r.agent_id.as_str()))
                .or_default()
                .push(r);
        }
    }
    for ((hostname, id), records) in gone {
        let what = if by_id.contains_key(id) {
            "is deactivated (draining, or down for maintenance)"
        } else {
            "is no longer registered with the master (removed, or unreachable after failing its health checks)"
        };
        let ran: Vec<String> = records.iter().map(|r| r.address.to_string()).collect();
        let plans: Vec<String> = records.iter().map(|r| would.address(&r.address)).collect();
        findings.push(Finding {
            kind: Kind::AgentGone,
            address: None,
            subject: format!("agent {hostname} ({id})"),
            observed: format!("{what}; it ran {}", ran.join(", ")),
            plan: plans.join("; "),
        });
    }
}

fn unrecorded(live: &LiveCluster, state: &State, would: &Would, findings: &mut Vec<Finding>) {
    for (address, task) in unrecorded_tasks(live, state) {
        let (observed, plan) = match &address {
            Some(a) => (
                format!(
                    "{} at {a}, and the state does not record it (a run stopped before saving it, or it was launched elsewhere)",
                    task.state
                ),
                would.address(a),
            ),
            None => (
                format!("{}, and it belongs to no address of the deployment", task.state),
                "nothing: a task of no address is left alone".to_string(),
            ),
        };
        findings.push(Finding {
            kind: Kind::UnrecordedTask,
            address,
            subject: format!("task {}", task.id),
            observed,
            plan,
        });
    }
}

/// Active tasks of our framework the state neither records nor let go,
/// with the address their label names.
fn unrecorded_tasks<'a>(
    live: &'a LiveCluster,
    state: &State,
) -> Vec<(Option<Address>, &'a LiveTask)> {
    let recorded: HashSet<&str> = state.tasks.iter().map(|t| t.task_id.as_str()).collect();
    let unmanaged: HashSet<&str> = state
        .unmanaged_task_ids
        .iter()
        .map(String::as_str)
        .collect();
    live.framework
        .iter()
        .flat_map(|f| &f.tasks)
        .filter(|t| t.state.is_active())
        .filter(|t| !recorded.contains(t.id.as_str()) && !unmanaged.contains(t.id.as_str()))
        .map(|t| {
            let address = t
                .labels
                .get(crate::plan::LABEL_ADDRESS)
                .and_then(|a| a.parse().ok());
            (address, t)
        })
        .collect()
}

fn live_by_id(live: &LiveCluster) -> HashMap<&str, &LiveTask> {
    live.framework
        .iter()
        .flat_map(|f| &f.tasks)
        .map(|t| (t.id.as_str(), t))
        .collect()
}

/// A record of a task the last apply left running (or launching).
fn is_running(r: &TaskRecord) -> bool {
    match r.state {
        RecordedState::Pending => true,
        RecordedState::Mesos(s) => !s.is_terminal(),
    }
}

fn recorded_running(state: &State) -> impl Iterator<Item = &TaskRecord> {
    state.tasks.iter().filter(|r| is_running(r))
}

fn recorded_as(r: &TaskRecord) -> String {
    match r.state {
        RecordedState::Pending => "being launched".into(),
        RecordedState::Mesos(s) => s.to_string(),
    }
}

/// `TASK_FAILED (REASON_COMMAND_EXECUTOR_FAILED, from the agent) at T:
/// message; recorded as TASK_RUNNING`.
fn ended(record: &TaskRecord, task: &LiveTask, facts: Option<&StatusFacts>) -> String {
    let mut s = facts
        .and_then(|f| f.state.clone())
        .unwrap_or_else(|| task.state.to_string());
    let reason = facts.and_then(|f| f.reason.as_deref());
    let source = facts.and_then(|f| f.source.as_deref()).map(|s| {
        match s {
            "SOURCE_MASTER" => "from the master",
            "SOURCE_AGENT" => "from the agent",
            "SOURCE_EXECUTOR" => "from the executor",
            other => other,
        }
        .to_string()
    });
    let detail: Vec<String> = reason
        .map(str::to_string)
        .into_iter()
        .chain(source)
        .collect();
    if !detail.is_empty() {
        s.push_str(&format!(" ({})", detail.join(", ")));
    }
    if let Some(ts) = task.updated_at {
        if let Some(t) = chrono::DateTime::from_timestamp(ts.floor() as i64, 0) {
            s.push_str(&format!(" at {}", t.format("%Y-%m-%dT%H:%M:%SZ")));
        }
    }
    let message = facts
        .and_then(|f| f.message.clone())
        .or_else(|| task.message.clone());
    if let Some(m) = message {
        s.push_str(&format!(": {m}"));
    }
    format!("{s}; recorded as {} at the last apply", recorded_as(record))
}

fn forgotten(record: &TaskRecord, live: &LiveCluster) -> String {
    let why = match &live.framework {
        None => "its framework is gone",
        Some(f) if f.removed => "its framework was removed",
        Some(_) if record.state == RecordedState::Pending => {
            "a run stopped before Mesos accepted it"
        }
        Some(_) => "the master has forgotten it (a new leader keeps no finished tasks, and a master keeps a bounded number)",
    };
    format!(
        "Mesos does not know it: {why}; recorded as {} at the last apply",
        recorded_as(record)
    )
}
