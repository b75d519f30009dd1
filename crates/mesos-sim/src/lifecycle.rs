//! Task state changes and the status updates that report them.
//!
//! Updates that come "from the agent" carry a uuid and are resent (with
//! doubling backoff) until acknowledged; only the oldest unacknowledged
//! update of a task is on the wire, as the agent's status update manager
//! does. Updates the master makes itself (reconciliation, agent loss)
//! carry no uuid and are sent once.

use std::time::{Duration, Instant};

use mesos_api::scheduler::ReconcileTask;
use mesos_api::{AgentId, Event, ExecutorId, Reason, Source, TaskState, TaskStatus};

use crate::model::{now_secs, Master, PendingUpdate, Task, Timer};

/// Longest resend interval of an unacknowledged update (Mesos: 10 minutes).
const MAX_BACKOFF: Duration = Duration::from_secs(600);

/// How a status update is produced.
pub struct Change<'a> {
    pub state: TaskState,
    pub source: Source,
    pub reason: Option<Reason>,
    pub message: Option<&'a str>,
    /// Agent-originated updates are acknowledged; master-made ones are not.
    pub acknowledged: bool,
    /// The health check's verdict, on the updates that carry one.
    pub healthy: Option<bool>,
    /// The UUID a custom executor gave its update (the agent forwards it
    /// unchanged, and the acknowledgement names it); None: a new one.
    pub uuid: Option<String>,
}

impl Change<'_> {
    pub fn executor(state: TaskState) -> Change<'static> {
        Change {
            state,
            source: Source::SourceExecutor,
            reason: None,
            message: None,
            acknowledged: true,
            healthy: None,
            uuid: None,
        }
    }
}

/// The `container_status` the agent merges into the updates it forwards
/// (`Slave::_statusUpdate`): the containerizer's ContainerID, the
/// executor's pid and, as no isolator reports a network, the agent's own
/// IP.
fn container_status(task: &Task, agent_ip: std::net::Ipv4Addr) -> serde_json::Value {
    serde_json::json!({
        "container_id": {"value": task.container_id},
        "executor_pid": task.executor_pid(),
        "network_infos": [{"ip_addresses": [{"protocol": "IPv4", "ip_address": agent_ip.to_string()}]}],
    })
}

fn status_for(task: &Task, change: &Change<'_>, agent_ip: std::net::Ipv4Addr) -> TaskStatus {
    let mut st = TaskStatus::new(task.info.task_id.clone(), change.state);
    st.source = Some(change.source);
    st.reason = change.reason;
    st.message = change.message.map(str::to_string);
    st.healthy = change.healthy;
    st.agent_id = Some(AgentId::new(task.agent_id.clone()));
    if change.source != Source::SourceMaster {
        st.executor_id = Some(ExecutorId::new(task.executor_id()));
        st.container_status = Some(container_status(task, agent_ip));
    }
    st.timestamp = Some(now_secs());
    // The master marks the tasks of an agent it removes unreachable, and
    // says since when, whether the framework is partition-aware or not.
    if change.reason == Some(Reason::ReasonAgentRemoved) {
        st.unreachable_time = Some(mesos_api::TimeInfo {
            nanoseconds: (now_secs() * 1e9) as i64,
        });
    }
    if change.acknowledged {
        st.uuid = Some(
            change
                .uuid
                .clone()
                .unwrap_or_else(|| mesos_api::uuid_to_base64(&uuid::Uuid::new_v4())),
        );
    }
    st
}

impl Master {
    /// Moves a task to a new state and reports it to its framework.
    /// Returns false when the task is unknown.
    pub fn change_task(&mut self, fid: &str, task_id: &str, change: Change<'_>) -> bool {
        let retry = self.spec.timing.status_update_retry;
        // Agents listen on the emulator's IP, each on a port of its own.
        let agent_ip = self.ip;
        let Some(fw) = self.frameworks.get_mut(fid) else {
            return false;
        };
        let Some(task) = fw
            .tasks
            .get_mut(task_id)
            .or_else(|| fw.unreachable_tasks.get_mut(task_id))
        else {
            return false;
        };
        if task.state.is_terminal() {
            return true;
        }
        let status = status_for(task, &change, agent_ip);
        let previous = task.statuses.last().cloned();
        let published = status.clone();
        task.state = change.state;
        task.statuses.push(status.clone());
        if change.state.is_terminal() {
            task.held.clear();
            task.timer = None;
            // A custom executor ends itself once it has told the agent;
            // a command's process is ended here.
            if task.executor_stream.is_none() {
                if let Some(p) = task.process.take() {
                    let _ = p.send(());
                }
            }
        }
        let now = Instant::now();
        if change.acknowledged {
            let first = task.pending.is_empty();
            let mut pu = PendingUpdate {
                status: status.clone(),
                next_send: None,
                backoff: retry,
            };
            if first && fw.connection.is_some() {
                pu.next_send = Some(now + retry);
                fw.send(&Event::update(status));
            } else if first {
                pu.next_send = Some(now);
            }
            if let Some(at) = pu.next_send {
                self.wakeups.book(at, fid, task_id);
            }
            let task = fw
                .tasks
                .get_mut(task_id)
                .or_else(|| fw.unreachable_tasks.get_mut(task_id))
                .expect("task looked up above");
            task.pending.push_back(pu);
        } else {
            fw.send(&Event::update(status));
            if change.state.is_terminal() && change.reason == Some(Reason::ReasonAgentRemoved) {
                // Real masters keep the task of a removed agent among the
                // framework's unreachable tasks, as TASK_LOST for a
                // framework that is not partition-aware (seen on 1.7.3
                // and 1.11.0).
                if let Some(t) = fw.tasks.remove(task_id) {
                    fw.unreachable_tasks.insert(task_id.to_string(), t);
                }
            } else if change.state.is_terminal() {
                if let Some(t) = fw.unreachable_tasks.remove(task_id) {
                    fw.tasks.insert(task_id.to_string(), t);
                }
                fw.complete_task(task_id);
            }
        }
        let task = self.find_task(fid, task_id).cloned();
        if let Some(t) = task {
            self.record(fid, &t, change.state);
            self.publish_task_updated(&t, &published, previous.as_ref());
        }
        self.dirty = true;
        true
    }

    fn find_task(&self, fid: &str, task_id: &str) -> Option<&Task> {
        let fw = self.frameworks.get(fid)?;
        fw.tasks
            .get(task_id)
            .or_else(|| fw.unreachable_tasks.get(task_id))
            .or_else(|| fw.completed_tasks.iter().rev().find(|t| t.id() == task_id))
    }

    /// ACKNOWLEDGE: drops the matching update and puts the next one on the
    /// wire; a task whose terminal update is acknowledged is completed.
    pub fn acknowledge(&mut self, fid: &str, task_id: &str, uuid: &str) {
        let Some(fw) = self.frameworks.get_mut(fid) else {
            return;
        };
        let Some(task) = fw
            .tasks
            .get_mut(task_id)
            .or_else(|| fw.unreachable_tasks.get_mut(task_id))
        else {
            return;
        };
        let Some(pos) = task
            .pending
            .iter()
            .position(|p| p.status.uuid.as_deref() == Some(uuid))
        else {
            return;
        };
        // The agent drops the acknowledged update and every older one, and
        // tells a custom executor.
        if let Some(stream) = &task.executor_stream {
            crate::executor_api::send(
                stream,
                &serde_json::json!({
                    "type": "ACKNOWLEDGED",
                    "acknowledged": {"task_id": task.info.task_id, "uuid": uuid},
                }),
            );
        }
        task.pending.drain(..=pos);
        if let Some(next) = task.pending.front_mut() {
            let now = Instant::now();
            next.next_send = Some(now);
            self.wakeups.book(now, fid, task_id);
        }
        if task.pending.is_empty() && task.state.is_terminal() {
            fw.complete_task(task_id);
        }
        self.dirty = true;
    }

    /// Resends the unacknowledged updates of the `due` tasks whose time has come.
    pub fn resend_updates(&mut self, now: Instant, due: &[(String, String)]) {
        for (fid, tid) in due {
            let Some(fw) = self.frameworks.get_mut(fid) else {
                continue;
            };
            let Some(conn) = &fw.connection else {
                continue;
            };
            let task = fw
                .tasks
                .get_mut(tid)
                .or_else(|| fw.unreachable_tasks.get_mut(tid));
            let Some(front) = task.and_then(|t| t.pending.front_mut()) else {
                continue;
            };
            if front.next_send.is_some_and(|t| t <= now) {
                conn.send(&Event::update(front.status.clone()));
                let next = now + front.backoff;
                front.next_send = Some(next);
                front.backoff = (front.backoff * 2).min(MAX_BACKOFF);
                self.wakeups.book(next, fid, tid);
            }
        }
    }

    /// Puts every task's oldest unacknowledged update on the wire again
    /// (after a (re-)subscription).
    pub fn resend_all_pending(&mut self, fid: &str) {
        let retry = self.spec.timing.status_update_retry;
        if let Some(fw) = self.frameworks.get_mut(fid) {
            for (tid, t) in fw.tasks.iter_mut().chain(fw.unreachable_tasks.iter_mut()) {
                if let Some(front) = t.pending.front_mut() {
                    let now = Instant::now();
                    front.next_send = Some(now);
                    front.backoff = retry;
                    self.wakeups.book(now, fid, tid);
                }
            }
        }
    }

    /// When a task that just became RUNNING has a health check, the time
    /// its first (passing) result is reported. The emulator does not probe
    /// the task: it reports healthy after the start delay.
    pub fn health_timer(&self, fid: &str, tid: &str, now: Instant) -> Option<(Timer, Instant)> {
        let task = self.frameworks.get(fid)?.tasks.get(tid)?;
        task.info
            .health_check
            .as_ref()
            .map(|_| (Timer::Healthy, now + self.spec.timing.task_start_delay))
    }

    /// Fires task timers: STARTING, RUNNING, health, and the end of a KILLING.
    pub fn run_task_timers(
        &mut self,
        now: Instant,
        due: &[(String, String)],
    ) -> Vec<(String, String)> {
        let due: Vec<(String, String, Timer)> = due
            .iter()
            .filter_map(|(fid, tid)| {
                let (timer, at) = self.frameworks.get(fid)?.tasks.get(tid)?.timer?;
                (at <= now).then(|| (fid.clone(), tid.clone(), timer))
            })
            .collect();
        let delay = self.spec.timing.task_start_delay;
        let mut to_spawn = Vec::new();
        for (fid, tid, timer) in due {
            let next = match timer {
                Timer::Starting => {
                    // A custom executor says TASK_STARTING itself, if at all.
                    let custom =
                        self.frameworks[&fid].tasks[&tid].has_custom_executor(self.spec.exec);
                    if !custom {
                        self.change_task(&fid, &tid, Change::executor(TaskState::Starting));
                    }
                    if self.spec.exec {
                        to_spawn.push((fid.clone(), tid.clone()));
                        None
                    } else {
                        Some((Timer::Running, now + delay))
                    }
                }
                Timer::Running => {
                    self.change_task(&fid, &tid, Change::executor(TaskState::Running));
                    self.health_timer(&fid, &tid, now)
                }
                Timer::Healthy => {
                    // What the agent's health checker sends after its first
                    // success: TASK_RUNNING again, now with `healthy`.
                    self.change_task(
                        &fid,
                        &tid,
                        Change {
                            reason: Some(Reason::ReasonTaskHealthCheckStatusUpdated),
                            healthy: Some(true),
                            ..Change::executor(TaskState::Running)
                        },
                    );
                    None
                }
                Timer::Killed => {
                    // What the command executor says of a command it killed.
                    self.change_task(
                        &fid,
                        &tid,
                        Change {
                            message: Some("Command terminated with signal Terminated"),
                            ..Change::executor(TaskState::Killed)
                        },
                    );
                    None
                }
                Timer::ExecutorRegistration => {
                    let timeout = self.spec.timing.executor_registration_timeout;
                    let message = format!(
                        "Executor did not register within {}",
                        crate::executor_api::mesos_duration(timeout)
                    );
                    self.change_task(
                        &fid,
                        &tid,
                        Change {
                            state: TaskState::Failed,
                            source: Source::SourceAgent,
                            reason: Some(Reason::ReasonExecutorRegistrationTimeout),
                            message: Some(&message),
                            acknowledged: true,
                            healthy: None,
                            uuid: None,
                        },
                    );
                    None
                }
            };
            let live = self
                .frameworks
                .get(&fid)
                .and_then(|f| f.tasks.get(&tid))
                .is_some_and(|t| !t.state.is_terminal());
            if live {
                self.set_timer(&fid, &tid, next);
            }
        }
        to_spawn
    }

    /// Sets the timer of task `tid` of `fid` (among its running tasks)
    /// and books the clock's look at it.
    pub fn set_timer(&mut self, fid: &str, tid: &str, timer: Option<(Timer, Instant)>) {
        if let Some(t) = self
            .frameworks
            .get_mut(fid)
            .and_then(|f| f.tasks.get_mut(tid))
        {
            t.timer = timer;
            if let Some((_, at)) = timer {
                self.wakeups.book(at, fid, tid);
            }
        }
    }

    /// Debug builds: every timer and resend time the clock acts on is
    /// booked, so no task waits forever for a look that never comes.
    pub fn check_wakeups(&self) {
        for (fid, fw) in &self.frameworks {
            for (tid, t) in &fw.tasks {
                if let Some((timer, at)) = t.timer {
                    assert!(
                        self.wakeups.is_booked(at, fid, tid),
                        "timer {timer:?} of task {tid} set without its wake-up"
                    );
                }
            }
            if fw.connection.is_none() {
                continue;
            }
            for (tid, t) in fw.tasks.iter().chain(&fw.unreachable_tasks) {
                if let Some(at) = t.pending.front().and_then(|p| p.next_send) {
                    assert!(
                        self.wakeups.is_booked(at, fid, tid),
                        "update resend of task {tid} set without its wake-up"
                    );
                }
            }
        }
    }

    /// KILL: as the agent would, with TASK_KILLING first for frameworks
    /// that declared TASK_KILLING_STATE. Unknown tasks are reconciled
    /// instead, as `Master::kill` does.
    pub fn kill_task(&mut self, fid: &str, task_id: &str, agent_id: Option<&AgentId>) {
        let Some(fw) = self.frameworks.get_mut(fid) else {
            return;
        };
        let killing_state = fw
            .info
            .has_capability(mesos_api::CapabilityType::TaskKillingState);
        // An unreachable task is unknown here too (`Framework::getTask`
        // looks at the running tasks only): the answer is its
        // reconciliation, TASK_LOST or TASK_UNREACHABLE.
        let Some(task) = fw.tasks.get_mut(task_id) else {
            self.reconcile(
                fid,
                &[ReconcileTask {
                    task_id: task_id.into(),
                    agent_id: agent_id.cloned(),
                }],
            );
            return;
        };
        if task.state.is_terminal() || task.kill_requested {
            return;
        }
        task.kill_requested = true;
        // A subscribed custom executor is asked; it reports what follows.
        if let Some(stream) = &task.executor_stream {
            crate::executor_api::send(
                stream,
                &serde_json::json!({"type": "KILL", "kill": {"task_id": task.info.task_id}}),
            );
            return;
        }
        let staging = task.state == TaskState::Staging;
        let process = task.process.clone();
        let delay = self.spec.timing.task_start_delay;
        if staging {
            self.change_task(
                fid,
                task_id,
                Change {
                    state: TaskState::Killed,
                    source: Source::SourceAgent,
                    reason: Some(Reason::ReasonTaskKilledDuringLaunch),
                    message: Some("Task killed before delivery to the executor"),
                    acknowledged: true,
                    healthy: None,
                    uuid: None,
                },
            );
            return;
        }
        if killing_state {
            self.change_task(fid, task_id, Change::executor(TaskState::Killing));
        }
        match process {
            Some(p) => {
                let _ = p.send(());
            }
            None => {
                self.set_timer(fid, task_id, Some((Timer::Killed, Instant::now() + delay)));
            }
        }
    }

    /// RECONCILE: explicit for `tasks`, implicit (every known task) when empty.
    pub fn reconcile(&mut self, fid: &str, tasks: &[ReconcileTask]) {
        let Some(fw) = self.frameworks.get(fid) else {
            return;
        };
        let aware = fw.partition_aware();
        let mut updates = Vec::new();
        // As `Master::reconcile`: the state of the update being delivered
        // (the oldest unacknowledged one) wins over the latest known state,
        // so a framework never learns of a state before its update.
        let latest = |t: &Task| {
            let state = t.pending.front().map_or(t.state, |p| p.status.state);
            let mut st = TaskStatus::new(t.info.task_id.clone(), state);
            st.source = Some(Source::SourceMaster);
            st.reason = Some(Reason::ReasonReconciliation);
            st.message = Some("Reconciliation: Latest task state".to_string());
            st.agent_id = Some(AgentId::new(t.agent_id.clone()));
            st.timestamp = Some(now_secs());
            if t.info.executor.is_some() {
                st.executor_id = Some(ExecutorId::new(t.executor_id()));
            }
            // `getTaskContainerStatus`: the latest status that has one.
            st.container_status = t
                .statuses
                .iter()
                .rev()
                .find_map(|s| s.container_status.clone());
            st
        };
        // As `Master::reconcile`: the framework's unreachable tasks are not
        // among the tasks it knows; they are answered by their agent's fate.
        if tasks.is_empty() {
            for t in fw.tasks.values() {
                updates.push(latest(t));
            }
        } else {
            for rt in tasks {
                if let Some(t) = fw.tasks.get(&rt.task_id.value) {
                    updates.push(latest(t));
                    continue;
                }
                let agent = rt.agent_id.as_ref().and_then(|a| self.agents.get(&a.value));
                let mut unreachable_time = None;
                let (state, message) = match agent {
                    Some(a) if !a.removed => (
                        TaskState::Gone,
                        "Reconciliation: Task is unknown to the agent",
                    ),
                    Some(a) => {
                        unreachable_time = a.removed_time.map(|t| mesos_api::TimeInfo {
                            nanoseconds: (t * 1e9) as i64,
                        });
                        (
                            TaskState::Unreachable,
                            "Reconciliation: Task is unreachable",
                        )
                    }
                    None => (TaskState::Unknown, "Reconciliation: Task is unknown"),
                };
                let mut st = TaskStatus::new(
                    rt.task_id.clone(),
                    if aware { state } else { TaskState::Lost },
                );
                st.source = Some(Source::SourceMaster);
                st.reason = Some(Reason::ReasonReconciliation);
                st.message = Some(message.to_string());
                st.agent_id = rt.agent_id.clone();
                st.timestamp = Some(now_secs());
                st.unreachable_time = unreachable_time;
                updates.push(st);
            }
        }
        for st in updates {
            fw.send(&Event::update(st));
        }
    }

    /// Ends every task of a framework without status updates (TEARDOWN,
    /// failover timeout) and forgets the framework.
    pub fn remove_framework(&mut self, fid: &str) {
        let offer_ids: Vec<String> = self
            .offers
            .values()
            .filter(|o| o.framework_id == fid)
            .map(|o| o.id.clone())
            .collect();
        for o in offer_ids {
            self.offers.remove(&o);
        }
        let Some(mut fw) = self.frameworks.remove(fid) else {
            return;
        };
        fw.connection = None;
        fw.unregistered_time = Some(now_secs());
        let ids: Vec<String> = fw
            .tasks
            .keys()
            .chain(fw.unreachable_tasks.keys())
            .cloned()
            .collect();
        for tid in ids {
            let mut t = fw
                .tasks
                .remove(&tid)
                .or_else(|| fw.unreachable_tasks.remove(&tid))
                .expect("id listed above");
            if let Some(p) = t.process.take() {
                let _ = p.send(());
            }
            if !t.state.is_terminal() {
                t.state = TaskState::Killed;
                let mut st = TaskStatus::new(t.info.task_id.clone(), TaskState::Killed);
                st.source = Some(Source::SourceMaster);
                st.reason = Some(Reason::ReasonFrameworkRemoved);
                st.message = Some(format!("Framework {fid} removed"));
                st.agent_id = Some(AgentId::new(t.agent_id.clone()));
                st.timestamp = Some(now_secs());
                let previous = t.statuses.last().cloned();
                t.statuses.push(st.clone());
                self.record(fid, &t, TaskState::Killed);
                self.publish_task_updated(&t, &st, previous.as_ref());
            }
            t.held.clear();
            t.pending.clear();
            t.timer = None;
            fw.tasks.insert(tid.clone(), t);
            fw.complete_task(&tid);
        }
        self.publish_framework_removed(&fw);
        self.removed_frameworks.insert(fid.to_string(), fw);
        self.dirty = true;
    }

    /// An agent goes away: offers on it are rescinded and its tasks become
    /// TASK_LOST (TASK_UNREACHABLE for partition-aware frameworks).
    pub fn remove_agent(&mut self, agent_id: &str) -> bool {
        let Some(agent) = self.agents.get_mut(agent_id) else {
            return false;
        };
        if agent.removed {
            return true;
        }
        agent.removed = true;
        agent.removed_time = Some(now_secs());
        let offers: Vec<_> = self
            .offers
            .values()
            .filter(|o| o.agent_id == agent_id)
            .cloned()
            .collect();
        for o in offers {
            self.rescind(&o.id);
        }
        let mut affected = Vec::new();
        for (fid, fw) in &self.frameworks {
            for (tid, t) in &fw.tasks {
                if t.agent_id == agent_id && !t.state.is_terminal() {
                    affected.push((fid.clone(), tid.clone(), fw.partition_aware()));
                }
            }
        }
        for (fid, tid, aware) in affected {
            let state = if aware {
                TaskState::Unreachable
            } else {
                TaskState::Lost
            };
            if aware {
                if let Some(fw) = self.frameworks.get_mut(&fid) {
                    if let Some(mut t) = fw.tasks.remove(&tid) {
                        t.timer = None;
                        if let Some(p) = t.process.take() {
                            let _ = p.send(());
                        }
                        fw.unreachable_tasks.insert(tid.clone(), t);
                    }
                }
            }
            self.change_task(
                &fid,
                &tid,
                Change {
                    state,
                    source: Source::SourceMaster,
                    reason: Some(Reason::ReasonAgentRemoved),
                    // The master's words when an agent stops answering its
                    // pings, the way a host that dies is noticed.
                    message: Some("health check timed out"),
                    acknowledged: false,
                    healthy: None,
                    uuid: None,
                },
            );
            if let Some(t) = self
                .frameworks
                .get_mut(&fid)
                .and_then(|f| f.unreachable_tasks.get_mut(&tid))
            {
                t.held.clear();
            }
        }
        // After the tasks' updates, every connected framework is told the
        // agent is lost (`Master::sendSlaveLost`: a LostSlaveMessage, which
        // the v1 API delivers as FAILURE with only `agent_id`).
        let lost = mesos_api::scheduler::Event::failure(mesos_api::scheduler::Failure {
            agent_id: Some(mesos_api::AgentId::new(agent_id)),
            executor_id: None,
            status: None,
        });
        for fw in self.frameworks.values().filter(|f| f.connected()) {
            fw.send(&lost);
        }
        // No AGENT_REMOVED: `Master::__removeSlave` (unreachable) sends
        // none; only `_removeSlave` (an agent gone) does (seen on 1.11.0).
        self.dirty = true;
        true
    }

    /// Withdraws an offer and tells its framework.
    pub fn rescind(&mut self, offer_id: &str) {
        if let Some(o) = self.offers.remove(offer_id) {
            if let Some(fw) = self.frameworks.get(&o.framework_id) {
                fw.send(&Event::rescind(offer_id.into()));
            }
        }
    }
}
