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
//! and saved together once no further event is waiting (or the batch is
//! full: [`BATCH_LIMIT`], or a quarter of the state's tasks), and only then
//! acknowledged. An update that was not saved is therefore not
//! acknowledged either, and Mesos sends it again after a crash.
//!
//! Offers from agents whose new workers wait for the masters to run are
//! held rather than declined (and declined at the end if unused), so the
//! workers launch as soon as they may instead of an allocation later.

mod offers;
mod ready;
mod record;
mod status;
#[cfg(test)]
mod tests;

use super::alluxio_ready;
use super::steps::{self, Launchable, NewTask, Phase, Step};
use crate::launch::template;
use crate::mesos::scheduler::{SchedulerApi, SchedulerError, Subscription};
use crate::retry::backoff;
use crate::timing::elapsed;

pub use super::steps::ROLL_BACK;
use crate::address::{Address, Role};
use crate::desired::constraint::Constraint;
use crate::desired::{Desired, ReadyWhen};
use crate::plan::model::{AgentRef, Plan, Rollout};
use crate::plan::secret_hasher;
use crate::state::{LaunchTemplate, Outputs, RecordedState, State, StateSink, TaskRecord};
use mesos_api::scheduler::{Call, Event, EventType, ReconcileTask};
use mesos_api::v1::{
    AgentId, Capability, CapabilityType, Filters, FrameworkId, FrameworkInfo, Labels, Offer,
    Operation, Reason, TaskId, TaskInfo, TaskStatus,
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
    /// the slots this run replaced (see `Engine::rollback_steps`).
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
    #[error("the event stream from {url} closed right after SUBSCRIBED {times} times in a row, so no call could follow it: a proxy or load balancer between alluxio-mesos and the master may end (or buffer) long-lived responses; point [mesos] master at the masters themselves, or raise the proxy's idle timeout")]
    StreamClosedAfterSubscribed { url: String, times: u32 },
}

/// Whether an ERROR on SUBSCRIBE says the framework was removed: Mesos's
/// words (master.cpp) when the ID belongs to a completed framework.
fn is_framework_removed(message: &str) -> bool {
    message.contains("Framework has been removed")
}

/// A call's error that means the subscription is gone (the master died,
/// restarts or lost its leadership): the drive subscribes again rather
/// than fail. Anything else ends the run.
fn stream_lost(e: ApplyError) -> Result<SchedulerError, ApplyError> {
    match e {
        ApplyError::Scheduler(s) if s.is_transient() => Ok(s),
        other => Err(other),
    }
}

/// Subscriptions in a row whose stream is gone before the first call is
/// answered, before apply stops: a fault this regular will not heal.
const MAX_CLOSED_AFTER_SUBSCRIBED: u32 = 3;

/// Events handled in a row before the steps are looked at again.
const MAX_BURST: usize = 4096;

/// Statuses recorded in memory before a save forces itself, at the least;
/// a larger state waits for a quarter of its task count (see [`Batch::full`]).
pub const BATCH_LIMIT: usize = 256;

/// How long the loop waits for an event before it looks at the steps
/// again (timeouts, settle times, Alluxio's readiness).
const IDLE_WAIT: Duration = Duration::from_millis(250);

/// Statuses received but not yet saved, and their acknowledgements, which
/// wait for the save.
///
/// The save is not put off to gather more: a task's next update comes
/// only once its last one is acknowledged (the agent's status update
/// manager sends one at a time), so a held acknowledgement would hide a
/// failure that follows TASK_RUNNING until after the settle time.
#[derive(Default)]
struct Batch {
    statuses: Vec<(String, TaskState)>,
    acks: Vec<Call>,
}

impl Batch {
    fn push(&mut self, status: (String, TaskState), ack: Option<Call>) {
        self.statuses.push(status);
        self.acks.extend(ack);
    }

    fn is_empty(&self) -> bool {
        self.statuses.is_empty() && self.acks.is_empty()
    }

    /// Whether the batch must be saved now, in a state of `tasks` records,
    /// although more events wait. A write costs the whole state: a limit
    /// that grows with it keeps the writes of a rollout bounded in number,
    /// so its cost stays linear in the tasks (10,000 workers wrote their
    /// 6 MB state 88 times with a fixed limit of 256).
    fn full(&self, tasks: usize) -> bool {
        self.statuses.len() >= BATCH_LIMIT.max(tasks / 4)
    }
}

/// Why a step's task cannot be launched with an offer.
enum NotLaunched {
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

/// The engine over a master `M` (HTTP, or a test's fake) and a state sink
/// `S` (the state store, or a test's memory).
pub struct Engine<'a, M: SchedulerApi, S: StateSink> {
    pub desired: &'a Desired,
    pub client: &'a M,
    pub store: &'a mut S,
    pub opts: ApplyOptions,
    pub interrupted: Arc<AtomicBool>,
    pub progress: &'a mut dyn Progress,
    /// After a successful run, end the framework (TEARDOWN) and forget its ID.
    pub teardown: bool,
    /// What Mesos has yet to answer to this subscription's explicit
    /// reconciliation, and until when apply waits for it.
    pub reconciling: Reconciling,
    /// Agents Mesos reported removed during this run, and when.
    pub lost_agents: HashMap<String, Instant>,
    /// The step of each task this drive kills or launches, so that a
    /// status update finds its step without a scan.
    pub by_task: HashMap<String, usize>,
    /// Offers were declined with the long filter since the last REVIVE: a
    /// step that needs an offer again (a retry) revives, instead of waiting
    /// out the filter on every agent.
    pub declined_for_long: bool,
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

impl<M: SchedulerApi, S: StateSink> Engine<'_, M, S> {
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
    /// A framework that Mesos removed is registered anew, once.
    async fn subscribe(&mut self) -> Result<Subscription, ApplyError> {
        let sub = match self.client.subscribe(self.framework_info()).await {
            Ok(s) => s,
            Err(SchedulerError::Subscription(m)) if is_framework_removed(&m) => {
                let Some(removed) = self.store.state().framework_id.clone() else {
                    return Err(ApplyError::Refused(m));
                };
                self.progress.line(&format!(
                    "Mesos removed framework {removed} ({m}): no scheduler subscribed within its failover_timeout of {}, or it was torn down, and its tasks were killed; registering a new framework",
                    humantime::format_duration(self.desired.mesos.failover_timeout)
                ));
                // Its tasks are gone with it: forget the ID and every record
                // under it, so nothing is reconciled or killed in its name.
                self.store.update(|s| {
                    s.framework_id = None;
                    s.tasks.clear();
                })?;
                match self.client.subscribe(self.framework_info()).await {
                    Ok(s) => s,
                    Err(SchedulerError::Subscription(m)) => return Err(ApplyError::Refused(m)),
                    Err(e) => return Err(e.into()),
                }
            }
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
        let subscribing = Instant::now();
        let mut sub = self.resubscribe().await?;
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
    fn report_waves(&mut self, steps: &[Step], reported: &mut [bool; 3], started: Instant) {
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
        // A call that failed because the master is gone: handled as a
        // broken event stream, at the next turn of the loop.
        let mut broken: Option<SchedulerError> = None;
        // Offers from agents whose steps cannot start yet (workers while
        // the masters start): kept rather than declined, so the workers
        // launch the moment they may instead of an allocation later.
        let mut held: Vec<Offer> = Vec::new();
        let mut burst = 0usize;
        self.by_task.clear();
        let started = Instant::now();
        // Waves: kills, masters, workers; each reported once when its steps end.
        let mut wave_reported = [false; 3];
        let mut alluxio = alluxio_ready::Probe::default();

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
                            .all(|s| {
                                matches!(
                                    s.phase,
                                    Phase::Settling { .. } | Phase::Serving { .. } | Phase::Done(_)
                                )
                            })
                    });
                    for i in steps::startable(steps, rollout.max_unavailable, workers_may_launch) {
                        if let Err(e) = self.start(sub, &mut steps[i]).await {
                            broken = Some(stream_lost(e)?);
                            break;
                        }
                        if let Phase::Killing { task_id, .. } = &steps[i].phase {
                            self.by_task.insert(task_id.clone(), i);
                        }
                    }
                }
                if broken.is_none()
                    && !held.is_empty()
                    && (interrupted
                        || steps
                            .iter()
                            .any(|s| matches!(s.phase, Phase::NeedOffer { .. })))
                {
                    let offers = std::mem::take(&mut held);
                    if let Err(e) = self
                        .on_offers(sub, steps, offers, &mut held, interrupted)
                        .await
                    {
                        broken = Some(stream_lost(e)?);
                    }
                }
                let waiting_for_offers = steps
                    .iter()
                    .any(|s| matches!(s.phase, Phase::NeedOffer { .. }));
                if broken.is_none() && waiting_for_offers && (!revived || self.declined_for_long) {
                    let revive = Call::revive(sub.framework_id.clone(), Vec::new());
                    match self.client.call(sub, &revive).await {
                        Ok(()) => {
                            revived = true;
                            self.declined_for_long = false;
                        }
                        Err(e) => broken = Some(stream_lost(e.into())?),
                    }
                }
                let in_flight = steps.iter().any(Step::in_flight);
                let ended = steps.iter().all(Step::finished) || (interrupted && !in_flight);
                if broken.is_none() && ended && (interrupted || self.reconciling.done()) {
                    match self.finish_stream(sub, &mut batch, &mut held).await {
                        Ok(()) => break,
                        Err(e) => broken = Some(stream_lost(e)?),
                    }
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
                self.check_alluxio(steps, &mut alluxio);
                self.check_timeouts(steps, rollout);
            }
            // Within a burst, or with statuses unsaved, only take events
            // already waiting.
            let wait = if burst == 0 && batch.is_empty() {
                IDLE_WAIT
            } else {
                Duration::ZERO
            };
            // A call that found the master gone ends the subscription as a
            // broken stream does: both go to whichever master leads now.
            let next = match broken.take() {
                Some(e) => Err(e),
                None => sub.next_event_within(wait).await,
            };
            let event = match next {
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
                    if let Err(e) = self.kill_again(sub, steps).await {
                        broken = Some(stream_lost(e)?);
                    }
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let Some(event) = event else {
                if let Err(e) = self.flush(sub, &mut batch).await {
                    broken = Some(stream_lost(e)?);
                }
                burst = 0;
                continue;
            };
            let handled = self
                .handle(sub, steps, event, &mut batch, &mut held, interrupted)
                .await;
            if let Err(e) = handled {
                broken = Some(stream_lost(e)?);
                burst = 0;
                continue;
            }
            burst = (burst + 1) % MAX_BURST;
            if batch.full(self.store.state().tasks.len()) {
                if let Err(e) = self.flush(sub, &mut batch).await {
                    broken = Some(stream_lost(e)?);
                    burst = 0;
                }
            }
        }
        Ok(interrupted)
    }

    /// The last calls of a drive: what is unsaved is saved and
    /// acknowledged, and offers still held are declined.
    async fn finish_stream(
        &mut self,
        sub: &Subscription,
        batch: &mut Batch,
        held: &mut Vec<Offer>,
    ) -> Result<(), ApplyError> {
        self.flush(sub, batch).await?;
        if !held.is_empty() {
            let ids = held.drain(..).map(|o| o.id).collect();
            let call = Call::decline(sub.framework_id.clone(), ids, Some(30.0));
            self.client.call(sub, &call).await?;
        }
        Ok(())
    }

    /// After a new subscription, the KILL of every task still being killed
    /// is sent again: one sent to a master that died may never have
    /// reached the agent (a KILL is not kept across a failover; Mesos
    /// accepts it twice).
    async fn kill_again(&mut self, sub: &Subscription, steps: &[Step]) -> Result<(), ApplyError> {
        let kills: Vec<Call> = steps
            .iter()
            .filter_map(|s| match (&s.phase, &s.old) {
                (Phase::Killing { task_id, .. }, Some(old)) => Some(Call::kill(
                    sub.framework_id.clone(),
                    TaskId::new(task_id.clone()),
                    Some(AgentId::new(old.agent.id.clone())),
                )),
                _ => None,
            })
            .collect();
        if !kills.is_empty() {
            self.client.call_all(sub, &kills).await?;
        }
        Ok(())
    }

    /// Subscribes, asking again with backoff while the failure is transient.
    async fn resubscribe(&mut self) -> Result<Subscription, ApplyError> {
        let mut attempt = 0;
        let mut closed_in_a_row = 0;
        loop {
            match self.subscribe().await {
                Ok(s) => return Ok(s),
                Err(ApplyError::Scheduler(SchedulerError::NotSubscribed { url, .. }))
                    if closed_in_a_row + 1 >= MAX_CLOSED_AFTER_SUBSCRIBED =>
                {
                    return Err(ApplyError::StreamClosedAfterSubscribed {
                        url,
                        times: MAX_CLOSED_AFTER_SUBSCRIBED,
                    });
                }
                Err(ApplyError::Scheduler(e))
                    if e.is_transient() && attempt < self.opts.max_reconnects =>
                {
                    if matches!(e, SchedulerError::NotSubscribed { .. }) {
                        closed_in_a_row += 1;
                    } else {
                        closed_in_a_row = 0;
                    }
                    attempt += 1;
                    let wait = backoff(attempt);
                    self.progress.line(&format!(
                        "{e}; subscribing again in {:.1}s",
                        wait.as_secs_f64()
                    ));
                    tokio::time::sleep(wait).await;
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
}
