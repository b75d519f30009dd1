//! Drives a plan through a scheduler subscription and records every step in
//! the state file.
//!
//! Order (the plan's rollout, see `steps::startable`): kills of excess
//! tasks; then masters one at a time in the plan's order (the Alluxio
//! leader last); workers launched into empty slots all at once, as soon as
//! the master they are pointed at runs (at once with ZooKeeper on); then
//! worker replacements in a sliding window of `max_unavailable` (kill the
//! old task, wait until it is terminal, launch the new one, wait for
//! RUNNING and the settle time).
//!
//! A failed replacement stops the rolling replacement; with `rollback`
//! (the default) every slot this run replaced then gets its last applied
//! configuration back from the launch templates of the state file, under
//! the same limits (see `crate::launch::template`).
//!
//! Crash safety: a launch's intent (`pending`, with its task ID and agent)
//! is saved before the ACCEPT is sent, and every status after it; a run
//! that dies at any instant leaves a state from which the next plan adopts
//! what Mesos runs (by the task's labels) and relaunches what it does not
//! know. Nothing is launched twice under one address.
//!
//! Saves are batched, which is what keeps a run of 1,000 workers from
//! writing (and fsyncing) the state file thousands of times: the intents
//! of all launches answering one OFFERS event are saved together, before
//! any of their ACCEPTs; statuses are recorded in memory as they arrive,
//! and saved together once no further event is waiting (or every
//! [`BATCH_LIMIT`] statuses), and only then acknowledged. An update that
//! was not saved is therefore not acknowledged either, and Mesos sends it
//! again after a crash.
//!
//! Offers from agents whose new workers wait for the masters to run are
//! held rather than declined (and declined at the end if unused), so the
//! workers launch as soon as they may instead of an allocation later.

use super::scheduler::{SchedulerClient, SchedulerError, Subscription};
use super::steps::{self, Launchable, NewTask, Phase, Step};
use crate::launch::template;
use crate::retry::backoff;

pub use super::steps::ROLL_BACK;
use crate::address::{Address, Role};
use crate::desired::constraint::Constraint;
use crate::desired::Desired;
use crate::plan::model::{AgentRef, Plan, Rollout};
use crate::plan::secret_hasher;
use crate::state::{LaunchTemplate, Outputs, RecordedState, State, StateStore, TaskRecord};
use mesos_api::scheduler::{Call, Event, EventType, ReconcileTask};
use mesos_api::v1::{
    AgentId, Capability, CapabilityType, Filters, FrameworkId, FrameworkInfo, Labels, Offer,
    Operation, TaskId, TaskInfo, TaskStatus,
};
use mesos_api::TaskState;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// How long to wait for an offer from a task's planned agent.
    pub offer_timeout: Duration,
    /// How long a launched task may take to reach TASK_RUNNING.
    pub running_timeout: Duration,
    /// How long a killed task may take to become terminal.
    pub kill_timeout: Duration,
    /// Launch attempts per task before the step fails.
    pub max_attempts: u32,
    /// Re-subscriptions after a broken stream before apply gives up.
    pub max_reconnects: u32,
    /// How long a task must stay TASK_RUNNING to count as started: Mesos
    /// reports RUNNING as soon as the process starts, so a process that
    /// dies at once (bad configuration) is caught and retried here.
    pub settle: Duration,
    /// When a replacement fails, put the last applied configuration back on
    /// the slots this run replaced (see [`Engine::rollback_steps`]).
    pub rollback: bool,
    /// `-v`: the time of each phase (subscribing, each wave of steps).
    pub verbose: bool,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            offer_timeout: Duration::from_secs(60),
            running_timeout: Duration::from_secs(300),
            kill_timeout: Duration::from_secs(120),
            max_attempts: 3,
            max_reconnects: 8,
            settle: Duration::from_secs(3),
            rollback: true,
            verbose: false,
        }
    }
}

/// What the operator sees while apply runs.
pub trait Progress {
    fn line(&mut self, line: &str);
    /// `done` of `total` steps have finished (called when the count changes).
    fn advance(&mut self, _done: usize, _total: usize) {}
}

#[derive(Debug, Clone, PartialEq)]
pub enum StepOutcome {
    Done(String),
    Failed(String),
    NotStarted(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct StepReport {
    pub address: Address,
    pub action: &'static str,
    pub outcome: StepOutcome,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApplyReport {
    pub steps: Vec<StepReport>,
    pub interrupted: bool,
    pub outputs: Outputs,
}

impl ApplyReport {
    pub fn succeeded(&self) -> bool {
        !self.interrupted
            && self
                .steps
                .iter()
                .all(|s| matches!(s.outcome, StepOutcome::Done(_)))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Scheduler(#[from] SchedulerError),
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    #[error("another scheduler subscribed with this framework ID ({0}): another apply took over; this one stopped. Run plan again when it is done")]
    TakenOver(String),
    #[error("Mesos refused the framework: {0}")]
    Refused(String),
}

/// Events handled in a row before the steps are looked at again.
const MAX_BURST: usize = 4096;

/// Statuses recorded in memory before a save forces itself.
pub const BATCH_LIMIT: usize = 256;

/// Statuses received but not yet saved, and their acknowledgements, which
/// wait for the save.
#[derive(Default)]
struct Batch {
    statuses: Vec<(String, TaskState)>,
    acks: Vec<Call>,
}

/// Why a step's task cannot be launched with an offer.
enum Unfit {
    /// Not with this offer: wait for another.
    Shortfall(String),
    /// Not with any offer: the step fails.
    Never(String),
}

/// A launch decided for one offer, waiting for its intent to be saved.
struct Launch {
    step: usize,
    record: TaskRecord,
    /// The launch template of a configuration not yet in the state file.
    template: Option<LaunchTemplate>,
    call: Call,
    line: String,
}

pub struct Engine<'a> {
    pub desired: &'a Desired,
    pub client: &'a SchedulerClient,
    pub store: &'a mut StateStore,
    pub opts: ApplyOptions,
    pub interrupted: Arc<AtomicBool>,
    pub progress: &'a mut dyn Progress,
    /// After a successful run, end the framework (TEARDOWN) and forget its ID.
    pub teardown: bool,
    /// What Mesos has yet to answer to this subscription's explicit
    /// reconciliation, and until when apply waits for it.
    pub reconciling: Reconciling,
    /// Agents Mesos reported removed (FAILURE events) during this run.
    pub lost_agents: HashSet<String>,
    /// The step of each task this drive kills or launches, so that a
    /// status update finds its step without a scan.
    pub by_task: HashMap<String, usize>,
}

/// The tasks of an explicit reconciliation that Mesos has not answered yet.
/// Apply waits for the answers (bounded) before it ends, so the state file
/// records what Mesos says of every task it knows, also on a run with
/// nothing to change (a task killed by a run that died is recorded as
/// ended, not left as running).
#[derive(Debug, Default)]
pub struct Reconciling {
    pub waiting: HashSet<String>,
    pub until: Option<Instant>,
}

/// How long apply waits for the answers to its explicit reconciliation.
pub const RECONCILE_TIMEOUT: Duration = Duration::from_secs(15);

impl Reconciling {
    fn done(&self) -> bool {
        self.waiting.is_empty() || self.until.is_some_and(|u| Instant::now() >= u)
    }
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn describe(status: &TaskStatus) -> String {
    let mut s = status.state.to_string();
    if let Some(r) = status.reason {
        if let Ok(serde_json::Value::String(name)) = serde_json::to_value(r) {
            s.push_str(&format!(" ({name})"));
        }
    }
    if let Some(m) = status.message.as_deref().filter(|m| !m.is_empty()) {
        s.push_str(&format!(": {m}"));
    }
    s
}

impl<'a> Engine<'a> {
    fn framework_info(&self) -> FrameworkInfo {
        let m = &self.desired.mesos;
        let mut info = FrameworkInfo::new(m.user.clone(), m.framework_name.clone());
        info.id = self
            .store
            .state()
            .framework_id
            .clone()
            .map(FrameworkId::new);
        info.failover_timeout = Some(m.failover_timeout.as_secs_f64());
        info.checkpoint = Some(true);
        info.role = Some(m.role.clone());
        info.principal = m.principal.clone();
        info.capabilities = vec![Capability {
            kind: Some(CapabilityType::TaskKillingState),
        }];
        info.labels = Some(Labels::from_pairs([(
            crate::plan::LABEL_DEPLOYMENT,
            self.desired.name.as_str(),
        )]));
        info
    }

    /// Subscribes (re-using the framework ID), records the ID, reconciles.
    async fn subscribe(&mut self) -> Result<Subscription, ApplyError> {
        let sub = match self.client.subscribe(self.framework_info()).await {
            Ok(s) => s,
            Err(SchedulerError::Subscription(m)) => return Err(ApplyError::Refused(m)),
            Err(e) => return Err(e.into()),
        };
        let id = sub.framework_id.value.clone();
        if self.store.state().framework_id.as_deref() != Some(id.as_str()) {
            self.store.update(|s| s.framework_id = Some(id.clone()))?;
            self.progress
                .line(&format!("Registered with Mesos as framework {id}"));
        }
        // Explicit reconciliation for what we know, then implicit for the rest.
        let known: Vec<ReconcileTask> = self
            .store
            .state()
            .tasks
            .iter()
            .filter(|t| !matches!(t.state, RecordedState::Mesos(s) if s.is_terminal()))
            .map(|t| ReconcileTask {
                task_id: TaskId::new(t.task_id.clone()),
                agent_id: Some(AgentId::new(t.agent_id.clone())),
            })
            .collect();
        let fid = sub.framework_id.clone();
        self.reconciling = Reconciling {
            waiting: known.iter().map(|t| t.task_id.value.clone()).collect(),
            until: Some(Instant::now() + RECONCILE_TIMEOUT),
        };
        if !known.is_empty() {
            self.client
                .call(&sub, &Call::reconcile(fid.clone(), known))
                .await?;
        }
        self.client
            .call(&sub, &Call::reconcile(fid, Vec::new()))
            .await?;
        Ok(sub)
    }

    /// Saves the statuses of `batch` in one write, then acknowledges them.
    async fn flush(&mut self, sub: &Subscription, batch: &mut Batch) -> Result<(), ApplyError> {
        self.save_statuses(batch)?;
        let acks = std::mem::take(&mut batch.acks);
        self.client.call_all(sub, &acks).await?;
        Ok(())
    }

    /// Writes the batch's statuses (the last one of each task wins); no
    /// write when none changes a recorded state.
    fn save_statuses(&mut self, batch: &mut Batch) -> Result<(), ApplyError> {
        let mut latest: HashMap<String, TaskState> = HashMap::new();
        for (id, state) in batch.statuses.drain(..) {
            latest.insert(id, state);
        }
        let changed: HashSet<&str> = self
            .store
            .state()
            .tasks
            .iter()
            .filter(|t| {
                latest
                    .get(&t.task_id)
                    .is_some_and(|s| t.state != RecordedState::Mesos(*s))
            })
            .map(|t| t.task_id.as_str())
            .collect();
        if changed.is_empty() {
            return Ok(());
        }
        let changed: HashSet<String> = changed.into_iter().map(str::to_string).collect();
        let now = now_rfc3339();
        self.store.update(|s| {
            for t in s.tasks.iter_mut().filter(|t| changed.contains(&t.task_id)) {
                t.state = RecordedState::Mesos(latest[&t.task_id]);
                t.updated_at = now.clone();
            }
        })?;
        Ok(())
    }

    /// After a failed replacement: the steps that put the last applied
    /// configuration back (see [`steps::rollback_steps`]).
    fn rollback_steps(&mut self, steps: &[Step]) -> Vec<Step> {
        let hasher = secret_hasher(self.desired, Some(self.store.state()));
        let state = self.store.state();
        let back =
            steps::rollback_steps(steps, &state.launch_templates, &self.desired.site, &hasher);
        if !back.is_empty() {
            self.progress.line(&format!(
                "A replacement failed: rolling back {} replaced task(s) to the last applied configuration",
                back.len()
            ));
        }
        back
    }

    pub async fn run(&mut self, plan: &Plan) -> Result<ApplyReport, ApplyError> {
        let mut steps = steps::steps_from(plan);
        if steps.is_empty() && self.store.state().framework_id.is_none() && !self.teardown {
            // No framework to keep alive and nothing to launch: registering
            // one now would only leave an empty framework behind.
            return self.finish(plan, &steps, false);
        }
        if let Some(leader) = &plan.rollout.leader {
            self.progress.line(leader);
        }
        let subscribing = std::time::Instant::now();
        let mut sub = self.subscribe().await?;
        if self.opts.verbose {
            self.progress.line(&format!(
                "Subscribed as framework {} in {}",
                sub.framework_id.value,
                elapsed(subscribing)
            ));
        }
        let mut interrupted = self.drive(&mut sub, &mut steps, &plan.rollout).await?;
        if self.opts.rollback && !interrupted {
            let mut back = self.rollback_steps(&steps);
            if !back.is_empty() {
                interrupted = self.drive(&mut sub, &mut back, &plan.rollout).await?;
                steps.extend(back);
            }
        }
        if !steps
            .iter()
            .any(|s| matches!(s.phase, Phase::NeedOffer { .. }))
        {
            let _ = self
                .client
                .call(&sub, &Call::suppress(sub.framework_id.clone(), Vec::new()))
                .await;
        }
        let report = self.finish(plan, &steps, interrupted)?;
        if self.teardown && report.succeeded() {
            self.client
                .call(&sub, &Call::teardown(sub.framework_id.clone()))
                .await?;
            self.store.update(|s| s.framework_id = None)?;
            self.progress
                .line(&format!("Tore down framework {}", sub.framework_id.value));
        }
        Ok(report)
    }

    /// `-v`: a line for each wave (kills, masters, workers) whose steps
    /// have all ended, with the time since the steps started.
    fn report_waves(
        &mut self,
        steps: &[Step],
        reported: &mut [bool; 3],
        started: std::time::Instant,
    ) {
        const NAMES: [&str; 3] = ["kills", "masters", "workers"];
        for (g, name) in NAMES.iter().enumerate() {
            let wave: Vec<&Step> = steps
                .iter()
                .filter(|s| usize::from(s.group()) == g)
                .collect();
            if reported[g] || wave.is_empty() || !wave.iter().all(|s| s.finished()) {
                continue;
            }
            reported[g] = true;
            self.progress.line(&format!(
                "Wave {name}: {} step(s) ended {} after the first step started",
                wave.len(),
                elapsed(started)
            ));
        }
    }

    /// Runs `steps` to their end (or to an interruption: then true).
    async fn drive(
        &mut self,
        sub: &mut Subscription,
        steps: &mut [Step],
        rollout: &Rollout,
    ) -> Result<bool, ApplyError> {
        let mut revived = false;
        let mut reconnects = 0u32;
        let mut interrupted = false;
        let mut last_done = usize::MAX;
        let mut batch = Batch::default();
        // Offers from agents whose steps cannot start yet (workers while
        // the masters start): kept rather than declined, so the workers
        // launch the moment they may instead of an allocation later.
        let mut held: Vec<Offer> = Vec::new();
        let mut burst = 0usize;
        self.by_task.clear();
        let started = std::time::Instant::now();
        // Waves: kills, masters, workers; each reported once when its steps end.
        let mut wave_reported = [false; 3];

        loop {
            // One pass over the steps per burst of events (not per event):
            // what is already waiting is handled first, so a run of 10,000
            // workers does not scan its steps once per status update.
            if burst == 0 {
                if self.interrupted.load(Ordering::SeqCst) && !interrupted {
                    interrupted = true;
                    self.progress.line(
                        "Interrupted: no new steps are started; recording what is in flight.",
                    );
                }
                steps::halt_after_failed_replacement(steps);
                let done = steps.iter().filter(|s| s.finished()).count();
                if done != last_done {
                    self.progress.advance(done, steps.len());
                    last_done = done;
                    if self.opts.verbose {
                        self.report_waves(steps, &mut wave_reported, started);
                    }
                }
                if !interrupted {
                    let workers_may_launch = rollout.workers_wait_for.as_ref().is_none_or(|m| {
                        steps
                            .iter()
                            .filter(|s| s.group() == 1 && s.address == *m)
                            .all(|s| matches!(s.phase, Phase::Settling { .. } | Phase::Done(_)))
                    });
                    for i in steps::startable(steps, rollout.max_unavailable, workers_may_launch) {
                        self.start(sub, &mut steps[i]).await?;
                        if let Phase::Killing { task_id, .. } = &steps[i].phase {
                            self.by_task.insert(task_id.clone(), i);
                        }
                    }
                }
                if !held.is_empty()
                    && (interrupted
                        || steps
                            .iter()
                            .any(|s| matches!(s.phase, Phase::NeedOffer { .. })))
                {
                    let offers = std::mem::take(&mut held);
                    self.on_offers(sub, steps, offers, &mut held, interrupted)
                        .await?;
                }
                let waiting_for_offers = steps
                    .iter()
                    .any(|s| matches!(s.phase, Phase::NeedOffer { .. }));
                if waiting_for_offers && !revived {
                    self.client
                        .call(sub, &Call::revive(sub.framework_id.clone(), Vec::new()))
                        .await?;
                    revived = true;
                }
                let in_flight = steps.iter().any(Step::in_flight);
                let ended = steps.iter().all(Step::finished) || (interrupted && !in_flight);
                if ended && (interrupted || self.reconciling.done()) {
                    self.flush(sub, &mut batch).await?;
                    if !held.is_empty() {
                        let ids = held.drain(..).map(|o| o.id).collect();
                        let call = Call::decline(sub.framework_id.clone(), ids, Some(30.0));
                        self.client.call(sub, &call).await?;
                    }
                    break;
                }
                if interrupted && in_flight {
                    // Give in-flight steps a bounded time to report, then stop.
                    for s in steps
                        .iter_mut()
                        .filter(|s| matches!(s.phase, Phase::NeedOffer { .. }))
                    {
                        s.phase = Phase::Failed("interrupted before an offer came".into());
                    }
                }
                self.check_timeouts(steps);
            }
            // Within a burst, or with statuses unsaved, only take events
            // already waiting.
            let wait = if burst == 0 && batch.statuses.is_empty() && batch.acks.is_empty() {
                Duration::from_millis(250)
            } else {
                Duration::ZERO
            };
            let event = match sub.next_event_within(wait).await {
                Ok(e) => e,
                Err(e) if e.is_transient() && reconnects < self.opts.max_reconnects => {
                    // Save what came; the acknowledgements are lost with the
                    // stream, and Mesos resends those updates.
                    self.save_statuses(&mut batch)?;
                    batch.acks.clear();
                    // Offers die with the subscription.
                    held.clear();
                    reconnects += 1;
                    let backoff = backoff(reconnects);
                    self.progress.line(&format!(
                        "{e}; subscribing again in {:.1}s",
                        backoff.as_secs_f64()
                    ));
                    tokio::time::sleep(backoff).await;
                    *sub = self.resubscribe().await?;
                    revived = false;
                    burst = 0;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let Some(event) = event else {
                self.flush(sub, &mut batch).await?;
                burst = 0;
                continue;
            };
            self.handle(sub, steps, event, &mut batch, &mut held, interrupted)
                .await?;
            burst = (burst + 1) % MAX_BURST;
            if batch.statuses.len() >= BATCH_LIMIT {
                self.flush(sub, &mut batch).await?;
            }
        }
        Ok(interrupted)
    }

    async fn resubscribe(&mut self) -> Result<Subscription, ApplyError> {
        let mut attempt = 0;
        loop {
            match self.subscribe().await {
                Ok(s) => return Ok(s),
                Err(ApplyError::Scheduler(e))
                    if e.is_transient() && attempt < self.opts.max_reconnects =>
                {
                    attempt += 1;
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn start(&mut self, sub: &Subscription, step: &mut Step) -> Result<(), ApplyError> {
        let now = Instant::now();
        match &step.old {
            Some(old) => {
                self.progress.line(&format!(
                    "{}: killing task {} on {}",
                    step.address, old.task_id, old.agent.hostname
                ));
                let call = Call::kill(
                    sub.framework_id.clone(),
                    TaskId::new(old.task_id.clone()),
                    Some(AgentId::new(old.agent.id.clone())),
                );
                self.client.call(sub, &call).await?;
                step.phase = Phase::Killing {
                    task_id: old.task_id.clone(),
                    since: now,
                };
            }
            None => {
                step.phase = Phase::NeedOffer {
                    since: now,
                    not_before: now,
                }
            }
        }
        Ok(())
    }

    /// Mesos reported an agent removed: a step planned there that may move
    /// takes the next fitting offer elsewhere at once (see
    /// [`Self::movable_step`]); one that may not is given up now rather than
    /// after the offer timeout.
    fn on_agent_lost(&mut self, steps: &mut [Step], agent_id: &str) {
        if !self.lost_agents.insert(agent_id.to_string()) {
            return;
        }
        let mut host = agent_id.to_string();
        for s in steps.iter_mut() {
            let Some((planned, _)) = &s.launch else {
                continue;
            };
            if planned.id != agent_id {
                continue;
            }
            host = planned.hostname.clone();
            if !s.may_move && matches!(s.phase, Phase::Waiting | Phase::NeedOffer { .. }) {
                s.phase = Phase::Halted(format!(
                    "not started: its agent {host} was removed from Mesos; run plan again to place it elsewhere"
                ));
            }
        }
        self.progress.line(&format!(
            "Mesos reports agent {host} removed (FAILURE event)"
        ));
    }

    fn check_timeouts(&mut self, steps: &mut [Step]) {
        let now = Instant::now();
        for s in steps.iter_mut() {
            let failed = match &s.phase {
                Phase::Killing { task_id, since }
                    if now.duration_since(*since) > self.opts.kill_timeout =>
                {
                    Some(format!(
                        "task {task_id} did not end within {}s of the kill",
                        self.opts.kill_timeout.as_secs()
                    ))
                }
                Phase::NeedOffer { since, .. }
                    if now.duration_since(*since) > self.opts.offer_timeout && !s.may_move =>
                {
                    let host = s
                        .launch
                        .as_ref()
                        .map(|(a, _)| a.hostname.clone())
                        .unwrap_or_default();
                    let secs = self.opts.offer_timeout.as_secs();
                    Some(match &s.last_shortfall {
                        Some(short) => format!("the offers from agent {host} did not fit within {secs}s; the last one lacked: {short}"),
                        None => format!("no offer from agent {host} within {secs}s (its resources may have been taken by another framework)"),
                    })
                }
                Phase::NeedOffer { since, .. }
                    if now.duration_since(*since) > self.opts.offer_timeout * 2 =>
                {
                    let secs = (self.opts.offer_timeout * 2).as_secs();
                    Some(match &s.last_shortfall {
                        Some(short) => format!("no offer that fits within {secs}s; the last one from the planned agent lacked: {short}"),
                        None => format!("no offer from any eligible agent within {secs}s"),
                    })
                }
                Phase::Launching { task_id, since, .. }
                    if now.duration_since(*since) > self.opts.running_timeout =>
                {
                    Some(format!(
                        "task {task_id} was not TASK_RUNNING within {}s",
                        self.opts.running_timeout.as_secs()
                    ))
                }
                Phase::Settling {
                    task_id,
                    agent,
                    since,
                } if now.duration_since(*since) >= self.opts.settle => {
                    s.phase = Phase::Done(format!("task {task_id} running on {}", agent.hostname));
                    None
                }
                _ => None,
            };
            if let Some(why) = failed {
                self.progress.line(&format!("{}: failed: {why}", s.address));
                s.phase = Phase::Failed(why);
            }
        }
    }

    async fn handle(
        &mut self,
        sub: &Subscription,
        steps: &mut [Step],
        event: Event,
        batch: &mut Batch,
        held: &mut Vec<Offer>,
        interrupted: bool,
    ) -> Result<(), ApplyError> {
        match event.kind {
            EventType::Update => {
                let Some(update) = event.update else {
                    return Ok(());
                };
                let status = update.status;
                // Acknowledged once saved (see the module doc): unacknowledged
                // updates are resent.
                if let Some(ack) = Call::acknowledge(sub.framework_id.clone(), &status) {
                    batch.acks.push(ack);
                }
                batch
                    .statuses
                    .push((status.task_id.value.clone(), status.state));
                self.on_status(steps, &status);
            }
            EventType::Offers => {
                let offers = event.offers.map(|o| o.offers).unwrap_or_default();
                // Statuses first: launches read the recorded masters.
                self.flush(sub, batch).await?;
                self.on_offers(sub, steps, offers, held, interrupted)
                    .await?;
            }
            EventType::Failure => {
                // An agent removed or unreachable (Mesos sends this with
                // only `agent_id`; with an executor ID it is an executor's
                // exit, which the task's own update reports).
                if let Some(f) = event.failure.filter(|f| f.executor_id.is_none()) {
                    if let Some(agent) = f.agent_id {
                        self.on_agent_lost(steps, &agent.value);
                    }
                }
            }
            EventType::Rescind => {
                if let Some(r) = event.rescind {
                    held.retain(|o| o.id != r.offer_id);
                }
            }
            EventType::Error => {
                let message = event.error.map(|e| e.message).unwrap_or_default();
                if message.contains("failed over") {
                    return Err(ApplyError::TakenOver(sub.framework_id.value.clone()));
                }
                return Err(ApplyError::Refused(message));
            }
            _ => {}
        }
        Ok(())
    }

    fn on_status(&mut self, steps: &mut [Step], status: &TaskStatus) {
        let id = status.task_id.value.as_str();
        self.reconciling.waiting.remove(id);
        let Some(&i) = self.by_task.get(id) else {
            return;
        };
        {
            let s = &mut steps[i];
            if let Some(new) = s.new_task.as_mut().filter(|n| n.task_id == id) {
                new.ended |= status.state.is_terminal();
            }
            match &s.phase {
                Phase::Killing { task_id, .. } if task_id == id && status.state.is_terminal() => {
                    self.progress
                        .line(&format!("{}: task {id} is {}", s.address, status.state));
                    s.old_ended = true;
                    s.phase = if s.launch.is_some() {
                        let now = Instant::now();
                        Phase::NeedOffer {
                            since: now,
                            not_before: now,
                        }
                    } else {
                        Phase::Done(format!("killed task {id}"))
                    };
                }
                Phase::Launching { task_id, agent, .. }
                | Phase::Settling { task_id, agent, .. }
                    if task_id == id =>
                {
                    let launching = matches!(s.phase, Phase::Launching { .. });
                    // With a health check, RUNNING is not enough: Mesos
                    // reports the verdict as a later RUNNING with `healthy`.
                    let checked = s.launch.as_ref().is_some_and(|(_, what)| {
                        what.template.task_info.get("health_check").is_some()
                    });
                    let ready = !checked || status.healthy == Some(true);
                    if status.state == TaskState::Running && launching && !ready {
                        self.progress.line(&format!(
                            "{}: {} on {}, waiting for its health check",
                            s.address, status.state, agent.hostname
                        ));
                    } else if status.state == TaskState::Running && launching {
                        let healthy = if checked { " (healthy)" } else { "" };
                        self.progress.line(&format!(
                            "{}: {} on {}{healthy}",
                            s.address, status.state, agent.hostname
                        ));
                        let (task_id, agent) = (task_id.clone(), agent.clone());
                        s.phase = if self.opts.settle.is_zero() {
                            Phase::Done(format!("task {id} running on {}", agent.hostname))
                        } else {
                            Phase::Settling {
                                task_id,
                                agent,
                                since: Instant::now(),
                            }
                        };
                    } else if status.state.is_terminal() {
                        let why = describe(status);
                        if s.attempts < self.opts.max_attempts {
                            let wait = backoff(s.attempts);
                            self.progress.line(&format!(
                                "{}: task {id} {why}; retrying in {:.1}s (attempt {} of {})",
                                s.address,
                                wait.as_secs_f64(),
                                s.attempts + 1,
                                self.opts.max_attempts
                            ));
                            let now = Instant::now();
                            s.phase = Phase::NeedOffer {
                                since: now,
                                not_before: now + wait,
                            };
                        } else {
                            self.progress.line(&format!(
                                "{}: failed after {} attempts: {why}",
                                s.address, s.attempts
                            ));
                            s.phase = Phase::Failed(format!(
                                "task {id} {why} (after {} attempts)",
                                s.attempts
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
    }

    async fn on_offers(
        &mut self,
        sub: &Subscription,
        steps: &mut [Step],
        offers: Vec<Offer>,
        held: &mut Vec<Offer>,
        interrupted: bool,
    ) -> Result<(), ApplyError> {
        let now = Instant::now();
        let mut decline = Vec::new();
        let mut launches = Vec::new();
        // Steps by planned agent, so that matching offers is linear.
        let mut by_agent: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, s) in steps.iter().enumerate() {
            if let Some((a, _)) = &s.launch {
                by_agent.entry(a.id.clone()).or_default().push(i);
            }
        }
        let masters_pending = steps.iter().any(|s| s.group() == 1 && !s.finished());
        // Configurations whose launch template this batch records already.
        let mut templated: HashSet<String> = HashSet::new();
        for offer in offers {
            // One task per offer: the rest of the agent comes back in the next
            // offer (accepting with refuse_seconds 0 when more is wanted there).
            let planned: &[usize] = by_agent
                .get(&offer.agent_id.value)
                .map_or(&[], Vec::as_slice);
            let pick = planned.iter().copied().find(|&i| {
                matches!(steps[i].phase, Phase::NeedOffer { not_before, .. } if not_before <= now)
            });
            let pick = pick.or_else(|| self.movable_step(steps, &offer, now));
            let Some(i) = pick else {
                // Held only for new workers waiting for the masters (a
                // short wait); never through a rolling replacement, which
                // would keep the agents from other frameworks for long.
                let later = masters_pending
                    && planned.iter().any(|&i| {
                        matches!(steps[i].phase, Phase::Waiting) && steps[i].old.is_none()
                    });
                if later && !interrupted {
                    held.push(offer);
                } else {
                    decline.push(offer.id.clone());
                }
                continue;
            };
            match self.prepare_launch(sub, &mut steps[i], &offer, &mut templated) {
                Some(mut launch) => {
                    launch.step = i;
                    launches.push(launch);
                }
                None => decline.push(offer.id.clone()),
            }
        }
        if !launches.is_empty() {
            // Intents first, all in one write: a crash after this line
            // leaves pending records that the next run reconciles.
            let records: Vec<TaskRecord> = launches.iter().map(|l| l.record.clone()).collect();
            let templates: Vec<(String, LaunchTemplate)> = launches
                .iter_mut()
                .filter_map(|l| Some((l.record.config_hash.clone(), l.template.take()?)))
                .collect();
            self.store.update(|s| {
                s.tasks.extend(records);
                for (hash, template) in templates {
                    s.launch_templates.entry(hash).or_insert(template);
                }
            })?;
            let mut calls = Vec::with_capacity(launches.len());
            for l in &launches {
                self.by_task.insert(l.record.task_id.clone(), l.step);
                self.progress.line(&l.line);
                calls.push(l.call.clone());
            }
            // One ACCEPT per offer, each on its own offer: independent.
            self.client.call_all(sub, &calls).await?;
            let now = Instant::now();
            for l in &launches {
                if let Phase::Launching { since, .. } = &mut steps[l.step].phase {
                    *since = now;
                }
            }
        }
        if !decline.is_empty() {
            // Nothing we want now: do not send these agents again for a while,
            // unless steps still wait for offers (then re-offer soon).
            let waiting = steps.iter().any(|s| {
                matches!(
                    s.phase,
                    Phase::NeedOffer { .. } | Phase::Killing { .. } | Phase::Waiting
                )
            });
            let refuse = if waiting { 1.0 } else { 30.0 };
            let call = Call::decline(sub.framework_id.clone(), decline, Some(refuse));
            self.client.call(sub, &call).await?;
        }
        Ok(())
    }

    /// A step whose planned agent sent nothing in time, that may move to this offer's agent.
    fn movable_step(&self, steps: &[Step], offer: &Offer, now: Instant) -> Option<usize> {
        let agent = offer.agent_id.value.as_str();
        let taken = |role: Role| {
            let by_state = self.store.state().tasks.iter().any(|t| {
                t.agent_id == agent
                    && t.role == role
                    && !matches!(t.state, RecordedState::Mesos(s) if s.is_terminal())
            });
            let by_plan = steps.iter().any(|s| {
                s.address.role() == role
                    && matches!(&s.launch, Some((a, _)) if a.id == agent)
                    && !matches!(s.phase, Phase::Failed(_))
            });
            by_state || by_plan
        };
        steps.iter().position(|s| {
            let Phase::NeedOffer { since, not_before } = s.phase else {
                return false;
            };
            let planned_lost =
                matches!(&s.launch, Some((a, _)) if self.lost_agents.contains(&a.id));
            s.may_move
                && not_before <= now
                && (planned_lost || now.duration_since(since) > self.opts.offer_timeout)
                && !taken(s.address.role())
                && offer_meets(s.move_constraints.as_ref(), offer)
        })
    }

    /// Decides the launch of the step's task on this offer (the step is
    /// then launching); None when it does not fit. The caller saves the
    /// intent and sends the ACCEPT.
    fn prepare_launch(
        &mut self,
        sub: &Subscription,
        step: &mut Step,
        offer: &Offer,
        templated: &mut HashSet<String>,
    ) -> Option<Launch> {
        let (planned, what) = step
            .launch
            .clone()
            .expect("only launch steps wait for offers");
        let agent = AgentRef {
            id: offer.agent_id.value.clone(),
            hostname: offer.hostname.clone(),
        };
        // A worker that moves takes the address of its new agent.
        let address = match (&step.address, agent.id != planned.id) {
            (Address::Worker(_), true) => Address::Worker(agent.hostname.clone()),
            (a, _) => a.clone(),
        };
        let task_id = crate::launch::new_task_id(&address);
        let built = self.task_info(sub, &what, &address, &task_id, offer, templated);
        let (info, template) = match built {
            Ok(built) => built,
            Err(Unfit::Shortfall(short)) => {
                if agent.id == planned.id {
                    step.last_shortfall = Some(short.clone());
                    self.progress.line(&format!(
                        "{}: the offer from {} does not fit ({short}); waiting for another",
                        step.address, agent.hostname
                    ));
                }
                return None;
            }
            Err(Unfit::Never(why)) => {
                step.phase = Phase::Failed(why);
                return None;
            }
        };
        if agent.id != planned.id {
            let why = if self.lost_agents.contains(&planned.id) {
                format!("{} was removed from Mesos", planned.hostname)
            } else {
                format!(
                    "no offer from {} in {}s",
                    planned.hostname,
                    self.opts.offer_timeout.as_secs()
                )
            };
            self.progress.line(&format!(
                "{}: {why}; placing it on {} instead{}",
                step.address,
                agent.hostname,
                if address != step.address {
                    format!(" as {address}")
                } else {
                    String::new()
                }
            ));
            step.address = address.clone();
        }
        let record = TaskRecord {
            address: address.clone(),
            task_id: task_id.clone(),
            role: address.role(),
            agent_id: agent.id.clone(),
            hostname: agent.hostname.clone(),
            ports: what.template.ports.clone(),
            resources: what.template.resources.clone(),
            config_hash: what.config_hash.clone(),
            state: RecordedState::Pending,
            updated_at: now_rfc3339(),
        };
        step.attempts += 1;
        let line = format!(
            "{}: launching task {task_id} on {}{}",
            step.address,
            agent.hostname,
            if what.restored {
                " with the last applied configuration"
            } else {
                ""
            }
        );
        let call = Call::accept(
            sub.framework_id.clone(),
            vec![offer.id.clone()],
            vec![Operation::launch(vec![info])],
            Some(Filters::refuse(0.0)),
        );
        step.new_task = Some(NewTask {
            task_id: task_id.clone(),
            agent: agent.clone(),
            ended: false,
        });
        step.phase = Phase::Launching {
            task_id,
            agent,
            since: Instant::now(),
        };
        Some(Launch {
            step: 0,
            record,
            template,
            call,
            line,
        })
    }

    /// The `TaskInfo` of `what` on `offer` (its template restored with the
    /// secrets of the deployment file, checked against their fingerprints),
    /// and the template to record in the state when neither the state file
    /// nor `templated` holds it yet (what a rollback relaunches).
    fn task_info(
        &self,
        sub: &Subscription,
        what: &Launchable,
        address: &Address,
        task_id: &str,
        offer: &Offer,
        templated: &mut HashSet<String>,
    ) -> Result<(TaskInfo, Option<LaunchTemplate>), Unfit> {
        let hasher = secret_hasher(self.desired, Some(self.store.state()));
        let never = |e: template::RestoreError| match e {
            template::RestoreError::Shortfall(short) => Unfit::Shortfall(short.to_string()),
            e if what.restored => Unfit::Never(format!(
                "cannot relaunch the last applied configuration: {e}"
            )),
            e => Unfit::Never(format!("cannot launch the planned configuration: {e}")),
        };
        let template = &what.template;
        let ctx = template::RestoreContext {
            deployment: &self.desired.name,
            framework_id: &sub.framework_id,
            site: &self.desired.site,
            hasher: &hasher,
        };
        let info = template::restore(&ctx, template, &what.config_hash, address, task_id, offer)
            .map_err(never)?;
        let known = self
            .store
            .state()
            .launch_templates
            .contains_key(&what.config_hash)
            || !templated.insert(what.config_hash.clone());
        Ok((info, (!known).then(|| (**template).clone())))
    }

    /// Hosts of the masters as recorded (running or being launched).
    fn master_hostnames(&self) -> Vec<String> {
        let mut masters: Vec<(&Address, &str)> = self
            .store
            .state()
            .tasks
            .iter()
            .filter(|t| {
                t.role == Role::Master
                    && !matches!(t.state, RecordedState::Mesos(s) if s.is_terminal())
            })
            .map(|t| (&t.address, t.hostname.as_str()))
            .collect();
        masters.sort();
        masters.dedup_by(|a, b| a.0 == b.0);
        masters.into_iter().map(|(_, h)| h.to_string()).collect()
    }

    fn finish(
        &mut self,
        plan: &Plan,
        steps: &[Step],
        interrupted: bool,
    ) -> Result<ApplyReport, ApplyError> {
        let reports: Vec<StepReport> = steps
            .iter()
            .map(|s| StepReport {
                address: s.address.clone(),
                action: s.action,
                outcome: match &s.phase {
                    Phase::Done(m) => StepOutcome::Done(m.clone()),
                    Phase::Failed(m) => StepOutcome::Failed(m.clone()),
                    Phase::Halted(m) => StepOutcome::NotStarted(m.clone()),
                    _ => StepOutcome::NotStarted("not started".into()),
                },
            })
            .collect();
        let all_done = !interrupted
            && reports
                .iter()
                .all(|r| matches!(r.outcome, StepOutcome::Done(_)));
        let ports = plan.master_ports;
        let masters = self.master_hostnames();
        let outputs = Outputs {
            master_rpc: masters
                .iter()
                .map(|h| format!("alluxio://{h}:{}", ports.rpc))
                .collect(),
            master_web: masters
                .iter()
                .map(|h| format!("http://{h}:{}", ports.web))
                .collect(),
        };
        let applied = plan.applied.clone();
        let out = outputs.clone();
        self.store.update(|s: &mut State| {
            // Terminal records are history Mesos keeps; the state keeps what runs.
            s.tasks
                .retain(|t| !matches!(t.state, RecordedState::Mesos(st) if st.is_terminal()));
            // Templates are kept for the configurations still running.
            let running: HashSet<&str> = s.tasks.iter().map(|t| t.config_hash.as_str()).collect();
            s.launch_templates
                .retain(|hash, _| running.contains(hash.as_str()));
            s.outputs = out;
            if all_done {
                s.applied = applied;
            }
        })?;
        Ok(ApplyReport {
            steps: reports,
            interrupted,
            outputs,
        })
    }
}

/// Whether an offer's agent meets the constraints a moving step must meet.
fn offer_meets(constraints: Option<&Constraint>, offer: &Offer) -> bool {
    let Some(c) = constraints else { return true };
    // Attribute values as text, by the rule the planner's document reader uses.
    let attrs: BTreeMap<String, String> = offer
        .attributes
        .iter()
        .filter_map(|a| {
            let value = match (&a.text, &a.scalar) {
                (Some(t), _) => t.value.clone(),
                (None, Some(s)) => crate::fit::attribute_text(s.value),
                _ => return None,
            };
            Some((a.name.clone(), value))
        })
        .collect();
    c.matches(&attrs)
}

/// Time since `since`, for `-v` lines: milliseconds below a second.
pub fn elapsed(since: std::time::Instant) -> String {
    let d = since.elapsed();
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}
