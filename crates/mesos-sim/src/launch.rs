//! ACCEPT with LAUNCH operations, as `Master::accept` and
//! `validation::offer` / `validation::task` in Mesos: offers are checked
//! first (a bad offer fails every task with TASK_LOST / TASK_DROPPED and
//! REASON_INVALID_OFFERS), then each task (TASK_ERROR with
//! REASON_TASK_INVALID), then valid tasks are staged and what is left of
//! the offers returns to the pool behind the accept's filter.

use std::collections::BTreeSet;
use std::time::Instant;

use mesos_api::scheduler::Accept;
use mesos_api::{Event, Reason, Source, TaskInfo, TaskState, TaskStatus};

use crate::model::{now_secs, pools_contain, pools_of, pools_sub, Master, RolePools, Task, Timer};

/// Why a task cannot be launched (`validation::task` in Mesos).
fn validate_task(
    m: &Master,
    fid: &str,
    agent_id: &str,
    task: &TaskInfo,
    seen: &BTreeSet<String>,
    available: &RolePools,
    allocated_to: &str,
) -> Result<RolePools, String> {
    let id = &task.task_id.value;
    if id.is_empty() {
        return Err("ID must not be empty".into());
    }
    if id.contains('/') || id.chars().any(|c| c.is_control()) || id == "." || id == ".." {
        return Err(format!("'{id}' contains invalid characters"));
    }
    let fw = &m.frameworks[fid];
    if fw.tasks.contains_key(id) || fw.unreachable_tasks.contains_key(id) || seen.contains(id) {
        return Err(format!("Task has duplicate ID: {id}"));
    }
    if task.agent_id.value != agent_id {
        return Err(format!(
            "Task uses agent ID {} which does not match the offer's agent ID {agent_id}",
            task.agent_id.value
        ));
    }
    if task.command.is_some() == task.executor.is_some() {
        return Err(
            "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present"
                .into(),
        );
    }
    if let Some(c) = &task.command {
        if c.shell.unwrap_or(true) && c.value.as_deref().unwrap_or("").is_empty() {
            return Err("'CommandInfo.value' must be set when 'CommandInfo.shell' is true".into());
        }
    }
    let mut all = task.resources.clone();
    if let Some(e) = &task.executor {
        if e.executor_id.value.is_empty() {
            return Err("Executor ID must not be empty".into());
        }
        all.extend(e.resources.iter().cloned());
    }
    if all.is_empty() {
        return Err("Task uses no resources".into());
    }
    for r in &all {
        let ok = match r.kind {
            mesos_api::ValueType::Scalar => r
                .scalar
                .is_some_and(|s| s.value >= 0.0 && s.value.is_finite()),
            mesos_api::ValueType::Ranges => r
                .ranges
                .as_ref()
                .is_some_and(|rg| rg.range.iter().all(|x| x.begin <= x.end)),
            mesos_api::ValueType::Set => r.set.is_some(),
            mesos_api::ValueType::Text => false,
        };
        if !ok || r.name.is_empty() {
            return Err(format!(
                "Invalid resources: resource '{}' is malformed",
                r.name
            ));
        }
    }
    let need = pools_of(&all);
    if !pools_contain(available, &need) {
        let describe = |pools, ports_first| describe(pools, allocated_to, ports_first);
        return Err(format!(
            "Total resources {} required by task and its executor is more than available {}",
            describe(&need, false),
            describe(available, m.offers_non_scalars_first())
        ));
    }
    Ok(need)
}

/// Resources as Mesos prints them: `cpus(allocated: ROLE):1`, with
/// `(reservations: [(STATIC,ROLE)])` after reserved ones; the ports first
/// when the offer lists them first.
fn describe(p: &RolePools, allocated_to: &str, ports_first: bool) -> String {
    let mut scalars = Vec::new();
    let mut ports = Vec::new();
    for (role, s) in p {
        let r = if role == "*" {
            format!("(allocated: {allocated_to})")
        } else {
            format!("(allocated: {allocated_to})(reservations: [(STATIC,{role})])")
        };
        if s.cpus > 0.0 {
            scalars.push(format!("cpus{r}:{}", s.cpus));
        }
        if s.mem > 0.0 {
            scalars.push(format!("mem{r}:{}", s.mem));
        }
        if s.disk > 0.0 {
            scalars.push(format!("disk{r}:{}", s.disk));
        }
        if !s.ports.is_empty() {
            let text = format!("ports{r}:{}", s.ports);
            if ports_first {
                ports.push(text);
            } else {
                scalars.push(text);
            }
        }
    }
    ports.append(&mut scalars);
    if ports.is_empty() {
        "{}".into()
    } else {
        ports.join("; ")
    }
}

fn master_status(task: &TaskInfo, state: TaskState, reason: Reason, message: String) -> TaskStatus {
    let mut st = TaskStatus::new(task.task_id.clone(), state);
    st.source = Some(Source::SourceMaster);
    st.reason = Some(reason);
    st.message = Some(message);
    st.agent_id = Some(task.agent_id.clone());
    st.timestamp = Some(now_secs());
    st
}

/// ACCEPT, as `Master::accept`: offers are validated first (any bad offer
/// sends TASK_LOST/TASK_DROPPED with REASON_INVALID_OFFERS for every task),
/// then each task (TASK_ERROR with REASON_TASK_INVALID for a bad one).
pub fn accept(m: &mut Master, fid: &str, accept: Accept) {
    let offer_error = validate_offers(m, fid, &accept);
    let launches: Vec<TaskInfo> = accept
        .operations
        .iter()
        .filter(|o| o.kind == Some(mesos_api::OperationType::Launch))
        .flat_map(|o| o.launch.clone().unwrap_or_default().task_infos)
        .collect();
    if let Some(err) = offer_error {
        for oid in &accept.offer_ids {
            if m.offers
                .get(&oid.value)
                .is_some_and(|o| o.framework_id == fid)
            {
                m.offers.remove(&oid.value);
            }
        }
        let aware = m.frameworks[fid].partition_aware();
        let state = if aware {
            TaskState::Dropped
        } else {
            TaskState::Lost
        };
        for t in &launches {
            let st = master_status(
                t,
                state,
                Reason::ReasonInvalidOffers,
                format!("Task launched with invalid offers: {err}"),
            );
            m.frameworks[fid].send(&Event::update(st));
        }
        return;
    }
    let mut available = RolePools::new();
    let mut agent_id = String::new();
    let mut allocated_to = String::new();
    for oid in &accept.offer_ids {
        let o = m.offers.remove(&oid.value).expect("validated");
        crate::model::pools_add(&mut available, &o.pools);
        agent_id = o.agent_id;
        allocated_to = o.role;
    }
    let mut seen = BTreeSet::new();
    let delay = m.spec.timing.task_start_delay;
    for t in launches {
        match validate_task(m, fid, &agent_id, &t, &seen, &available, &allocated_to) {
            Err(e) => {
                let st = master_status(&t, TaskState::Error, Reason::ReasonTaskInvalid, e);
                m.frameworks[fid].send(&Event::update(st));
            }
            Ok(need) => {
                pools_sub(&mut available, &need);
                seen.insert(t.task_id.value.clone());
                let role = need
                    .keys()
                    .find(|r| r.as_str() != "*")
                    .cloned()
                    .or_else(|| m.frameworks[fid].roles().first().cloned())
                    .unwrap_or_else(|| "*".into());
                let sandbox = m
                    .sandbox_root
                    .join("slaves")
                    .join(&agent_id)
                    .join("frameworks")
                    .join(fid)
                    .join("executors")
                    .join(t.task_id.value.as_str())
                    .join("runs")
                    .join("latest");
                let task = Task {
                    info: t.clone(),
                    framework_id: fid.to_string(),
                    agent_id: agent_id.clone(),
                    state: TaskState::Staging,
                    held: need,
                    role,
                    statuses: Vec::new(),
                    pending: Default::default(),
                    sandbox,
                    timer: None,
                    process: None,
                    kill_requested: false,
                    process_id: None,
                    container_id: crate::model::new_container_id(),
                    executor_stream: None,
                    delivered: false,
                };
                m.record(fid, &task, TaskState::Staging);
                m.publish_task_added(&task);
                m.sandboxes_to_create.push(task.sandbox.clone());
                let fw = m.frameworks.get_mut(fid).expect("caller checked");
                fw.tasks.insert(t.task_id.value.clone(), task);
                let starting = (Timer::Starting, Instant::now() + delay);
                m.set_timer(fid, &t.task_id.value, Some(starting));
                m.dirty = true;
            }
        }
    }
    let refuse = accept
        .filters
        .unwrap_or_default()
        .refuse_seconds_or_default();
    if !crate::model::pools_total(&available).is_empty() {
        m.filter_agent(fid, &agent_id, refuse, available);
    }
}

/// `validation::offer::validate`.
fn validate_offers(m: &Master, fid: &str, accept: &Accept) -> Option<String> {
    if accept.offer_ids.is_empty() {
        return Some("No offers specified".into());
    }
    let mut seen = BTreeSet::new();
    let mut agent: Option<&str> = None;
    for oid in &accept.offer_ids {
        if !seen.insert(&oid.value) {
            return Some(format!("Duplicate offer {} in offer list", oid.value));
        }
        let Some(o) = m.offers.get(&oid.value) else {
            return Some(format!("Offer {} is no longer valid", oid.value));
        };
        if o.framework_id != fid {
            return Some(format!(
                "Offer {} has invalid framework {} while framework {fid} is expected",
                oid.value, o.framework_id
            ));
        }
        match agent {
            None => agent = Some(&o.agent_id),
            Some(a) if a != o.agent_id => {
                return Some(format!(
                    "Aggregated offers must belong to one single agent. Offer {} uses agent {} and agent {a}",
                    oid.value, o.agent_id
                ))
            }
            _ => {}
        }
    }
    None
}
