//! The engine's crash-safety rules, against a fake master and an in-memory
//! state: fast, deterministic, no HTTP. The end-to-end tests against the
//! emulator (tests/it/apply_*.rs) stay the proof over the wire.
//!
//! The fake master and the fake state write into one log, so a test can
//! check the order of writes and calls: an intent saved before its ACCEPT,
//! a status saved before its acknowledgement.

use super::*;
use crate::mesos::scheduler::StreamItem;
use crate::plan::tests::{agent, desired, live};
use crate::plan::{make_plan, PlanOptions};
use crate::state::StateError;
use mesos_api::scheduler::CallType;
use std::sync::Mutex;
use tokio::sync::mpsc;

const PORTS: &str = "[19998-19999, 29998-30000, 31000-32000]";

#[derive(Debug, Clone)]
enum Entry {
    Write(Box<State>),
    Call(Box<Call>),
}

type Log = Arc<Mutex<Vec<Entry>>>;

/// The state in memory; every update is logged.
struct MemoryState {
    state: State,
    log: Log,
}

impl StateSink for MemoryState {
    fn state(&self) -> &State {
        &self.state
    }

    fn update(&mut self, change: impl FnOnce(&mut State)) -> Result<(), StateError> {
        let mut next = self.state.clone();
        change(&mut next);
        next.serial += 1;
        self.log
            .lock()
            .unwrap()
            .push(Entry::Write(Box::new(next.clone())));
        self.state = next;
        Ok(())
    }
}

/// A master that answers the way Mesos does, in miniature: an offer per
/// agent after SUBSCRIBE and after every ACCEPT or DECLINE on that agent,
/// RUNNING for a launch, KILLED for a kill, reconciliation answers from
/// what it runs (TASK_LOST for a task it does not know).
struct FakeMaster {
    log: Log,
    agents: Vec<(String, String)>,
    inner: Mutex<FakeInner>,
}

#[derive(Default)]
struct FakeInner {
    events: Option<mpsc::UnboundedSender<StreamItem>>,
    subscriptions: usize,
    next_offer: usize,
    next_uuid: u8,
    running: BTreeMap<String, String>,
    /// Streams to end right after this many ACCEPTs (a connection lost).
    drop_stream_after_accepts: Option<usize>,
    /// Launches (counted from 1) that fail: TASK_FAILED instead of RUNNING,
    /// sent after the offers that follow the ACCEPT, as an executor that
    /// dies a moment after starting.
    fail_launches: Vec<usize>,
    launches: usize,
    accepts: usize,
}

impl FakeMaster {
    fn new(log: Log, agents: usize) -> Self {
        FakeMaster {
            log,
            agents: (1..=agents)
                .map(|n| (format!("S{n}"), format!("a{n}")))
                .collect(),
            inner: Mutex::new(FakeInner::default()),
        }
    }

    fn send(inner: &FakeInner, event: Event) {
        if let Some(tx) = &inner.events {
            let _ = tx.send(StreamItem::Event(Box::new(event)));
        }
    }

    fn offer(inner: &mut FakeInner, agent: &(String, String)) {
        inner.next_offer += 1;
        let offer: Offer = serde_json::from_value(serde_json::json!({
            "id": {"value": format!("o{}", inner.next_offer)},
            "framework_id": {"value": "fw-1"},
            "agent_id": {"value": agent.0},
            "hostname": agent.1,
            "resources": [
                {"name": "cpus", "type": "SCALAR", "scalar": {"value": 16.0}, "role": "*"},
                {"name": "mem", "type": "SCALAR", "scalar": {"value": 65536.0}, "role": "*"},
                {"name": "disk", "type": "SCALAR", "scalar": {"value": 10000.0}, "role": "*"},
                {"name": "ports", "type": "RANGES", "role": "*",
                 "ranges": {"range": [{"begin": 19998, "end": 19999}, {"begin": 29998, "end": 30000}, {"begin": 31000, "end": 32000}]}}
            ]
        }))
        .expect("offer JSON");
        Self::send(inner, Event::offers(vec![offer]));
    }

    fn status(inner: &mut FakeInner, task: &str, agent: &str, state: &str, acked: bool) {
        let mut status = serde_json::json!({
            "task_id": {"value": task},
            "agent_id": {"value": agent},
            "state": state,
            "source": if acked { "SOURCE_EXECUTOR" } else { "SOURCE_MASTER" },
        });
        if acked {
            inner.next_uuid += 1;
            let uuid = base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                [inner.next_uuid; 16],
            );
            status["uuid"] = uuid.into();
        } else {
            status["reason"] = "REASON_RECONCILIATION".into();
        }
        let status: TaskStatus = serde_json::from_value(status).expect("status JSON");
        Self::send(inner, Event::update(status));
    }

    fn calls(&self) -> Vec<Call> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                Entry::Call(c) => Some((**c).clone()),
                Entry::Write(_) => None,
            })
            .collect()
    }

    fn react(&self, call: &Call) {
        let mut inner = self.inner.lock().unwrap();
        match call.kind {
            CallType::Accept => {
                let accept = call.accept.as_ref().expect("an ACCEPT has its payload");
                let mut failed = Vec::new();
                for op in &accept.operations {
                    for t in op.launch.iter().flat_map(|l| l.task_infos.iter()) {
                        let agent = t.agent_id.value.clone();
                        inner.launches += 1;
                        if inner.fail_launches.contains(&inner.launches) {
                            failed.push((t.task_id.value.clone(), agent));
                            continue;
                        }
                        inner.running.insert(t.task_id.value.clone(), agent.clone());
                        Self::status(&mut inner, &t.task_id.value, &agent, "TASK_RUNNING", true);
                    }
                }
                inner.accepts += 1;
                if inner.drop_stream_after_accepts == Some(inner.accepts) {
                    if let Some(tx) = inner.events.take() {
                        let _ = tx.send(StreamItem::End("connection reset".into()));
                    }
                }
                self.reoffer(&mut inner);
                for (task, agent) in failed {
                    Self::status(&mut inner, &task, &agent, "TASK_FAILED", true);
                }
            }
            CallType::Decline => {
                // Declined "for a while": offered again only when the
                // engine asked for a short filter (steps still wait).
                let refuse = call.decline.as_ref().unwrap().filters.as_ref();
                if refuse.is_some_and(|f| f.refuse_seconds_or_default() < 5.0) {
                    self.reoffer(&mut inner);
                }
            }
            // REVIVE removes the framework's filters: the allocator offers
            // every agent again.
            CallType::Revive => self.reoffer(&mut inner),
            CallType::Kill => {
                let k = call.kill.as_ref().unwrap();
                let agent = inner.running.remove(&k.task_id.value).unwrap_or_default();
                Self::status(&mut inner, &k.task_id.value, &agent, "TASK_KILLED", true);
            }
            CallType::Reconcile => {
                let tasks = &call.reconcile.as_ref().unwrap().tasks;
                let answers: Vec<(String, String, &str)> = if tasks.is_empty() {
                    inner
                        .running
                        .iter()
                        .map(|(t, a)| (t.clone(), a.clone(), "TASK_RUNNING"))
                        .collect()
                } else {
                    tasks
                        .iter()
                        .map(|t| match inner.running.get(&t.task_id.value) {
                            Some(a) => (t.task_id.value.clone(), a.clone(), "TASK_RUNNING"),
                            None => (t.task_id.value.clone(), String::new(), "TASK_LOST"),
                        })
                        .collect()
                };
                for (t, a, s) in answers {
                    Self::status(&mut inner, &t, &a, s, false);
                }
            }
            _ => {}
        }
    }

    /// Offers every agent again, as the allocator does once an offer is
    /// used or declined with a short filter.
    fn reoffer(&self, inner: &mut FakeInner) {
        for a in self.agents.clone() {
            Self::offer(inner, &a);
        }
    }
}

impl SchedulerApi for FakeMaster {
    async fn subscribe(&self, info: FrameworkInfo) -> Result<Subscription, SchedulerError> {
        self.log
            .lock()
            .unwrap()
            .push(Entry::Call(Box::new(Call::subscribe(info))));
        let (tx, rx) = mpsc::unbounded_channel();
        let mut inner = self.inner.lock().unwrap();
        inner.events = Some(tx);
        inner.subscriptions += 1;
        for a in self.agents.clone() {
            Self::offer(&mut inner, &a);
        }
        Ok(Subscription::from_events(
            FrameworkId::new("fw-1"),
            Duration::from_secs(15),
            rx,
        ))
    }

    async fn call(&self, _sub: &Subscription, call: &Call) -> Result<(), SchedulerError> {
        self.log
            .lock()
            .unwrap()
            .push(Entry::Call(Box::new(call.clone())));
        self.react(call);
        Ok(())
    }

    async fn call_all(&self, sub: &Subscription, calls: &[Call]) -> Result<(), SchedulerError> {
        for c in calls {
            self.call(sub, c).await?;
        }
        Ok(())
    }
}

struct Lines(Vec<String>);

impl Progress for Lines {
    fn line(&mut self, line: &str) {
        self.0.push(line.to_string());
    }
}

/// A fresh deployment on `agents` agents, applied by the engine against
/// the fake master; the log of writes and calls, and the final state.
async fn apply(agents: u32, state: State, master: &FakeMaster) -> (ApplyReport, State) {
    let d = desired();
    let cluster = live(
        (1..=agents)
            .map(|n| agent(n, PORTS, 16.0, 65536.0))
            .collect(),
        Vec::new(),
    );
    let plan = make_plan(&d, &cluster, Some(&state), &PlanOptions::default());
    let mut store = MemoryState {
        state,
        log: master.log.clone(),
    };
    let mut lines = Lines(Vec::new());
    let report = {
        let mut engine = Engine {
            desired: &d,
            client: master,
            store: &mut store,
            opts: ApplyOptions {
                settle: Duration::ZERO,
                ..ApplyOptions::default()
            },
            interrupted: Arc::new(AtomicBool::new(false)),
            progress: &mut lines,
            teardown: false,
            reconciling: Default::default(),
            lost_agents: Default::default(),
            by_task: Default::default(),
            declined_for_long: false,
        };
        tokio::time::timeout(Duration::from_secs(120), engine.run(&plan))
            .await
            .expect("the engine ends")
            .expect("the run succeeds")
    };
    assert!(report.succeeded(), "{report:?}\n{}", lines.0.join("\n"));
    (report, store.state)
}

fn launched_tasks(call: &Call) -> Vec<String> {
    call.accept
        .iter()
        .flat_map(|a| a.operations.iter())
        .flat_map(|op| op.launch.iter().flat_map(|l| l.task_infos.iter()))
        .map(|t| t.task_id.value.clone())
        .collect()
}

fn recorded(state: &State, task: &str) -> Option<RecordedState> {
    state
        .tasks
        .iter()
        .find(|t| t.task_id == task)
        .map(|t| t.state)
}

#[tokio::test]
async fn every_launch_intent_is_saved_before_its_accept() {
    let master = FakeMaster::new(Log::default(), 3);
    let (report, state) = apply(3, State::empty("alluxio"), &master).await;
    assert_eq!(report.steps.len(), 4, "1 master and 3 workers");
    let log = master.log.lock().unwrap().clone();
    let mut last_write: Option<&State> = None;
    let mut accepted = 0;
    for e in &log {
        match e {
            Entry::Write(s) => last_write = Some(s),
            Entry::Call(c) if c.kind == CallType::Accept => {
                for t in launched_tasks(c) {
                    let saved = last_write.and_then(|s| recorded(s, &t));
                    assert!(saved.is_some(), "ACCEPT of {t} before its intent was saved");
                    accepted += 1;
                }
            }
            Entry::Call(_) => {}
        }
    }
    assert_eq!(accepted, 4);
    let running = state
        .tasks
        .iter()
        .filter(|t| t.state == RecordedState::Mesos(TaskState::Running))
        .count();
    assert_eq!(running, 4);
}

/// The offers that came while the last step was launching were declined
/// for long; when its task then fails, the retry revives instead of waiting
/// out that filter (and the offer timeout) with no offer at all.
#[tokio::test]
async fn a_retry_after_every_offer_was_declined_revives() {
    let master = FakeMaster::new(Log::default(), 1);
    // Launch 1 is the master, launch 2 the worker.
    master.inner.lock().unwrap().fail_launches = vec![2];
    let (report, _) = apply(1, State::empty("alluxio"), &master).await;
    assert_eq!(report.steps.len(), 2);
    let calls = master.calls();
    let long_decline = calls
        .iter()
        .position(|c| {
            c.kind == CallType::Decline
                && c.decline
                    .as_ref()
                    .and_then(|d| d.filters.as_ref())
                    .is_some_and(|f| f.refuse_seconds_or_default() >= 5.0)
        })
        .expect("the offer that came while the worker launched was declined for long");
    // The calls in order, runs folded: "Decline x40".
    let mut kinds: Vec<(CallType, usize)> = Vec::new();
    for c in &calls {
        match kinds.last_mut() {
            Some((k, n)) if *k == c.kind => *n += 1,
            _ => kinds.push((c.kind, 1)),
        }
    }
    assert!(
        calls[long_decline..]
            .iter()
            .any(|c| c.kind == CallType::Revive),
        "no REVIVE after the long decline: {kinds:?}"
    );
    // Without the REVIVE the run only goes on once the silent stream is
    // given up and subscribed again (or, on Mesos, once the filter ends).
    assert_eq!(
        master.inner.lock().unwrap().subscriptions,
        1,
        "the retry waited for a new subscription: {kinds:?}"
    );
}

#[tokio::test]
async fn an_update_is_acknowledged_only_once_saved() {
    let master = FakeMaster::new(Log::default(), 2);
    apply(2, State::empty("alluxio"), &master).await;
    let log = master.log.lock().unwrap().clone();
    let mut last_write: Option<&State> = None;
    let mut acks = 0;
    for e in &log {
        match e {
            Entry::Write(s) => last_write = Some(s),
            Entry::Call(c) if c.kind == CallType::Acknowledge => {
                let task = &c.acknowledge.as_ref().unwrap().task_id.value;
                let saved = last_write.and_then(|s| recorded(s, task));
                assert_eq!(
                    saved,
                    Some(RecordedState::Mesos(TaskState::Running)),
                    "{task} acknowledged before its RUNNING was saved"
                );
                acks += 1;
            }
            Entry::Call(_) => {}
        }
    }
    assert_eq!(acks, 3, "one RUNNING per task, each acknowledged");
}

/// A stream lost mid-run: the engine subscribes again with its framework
/// ID and reconciles every task the state knows before it goes on; the
/// updates lost with the stream are resent by Mesos as reconciliation
/// answers, and no task is launched twice.
#[tokio::test]
async fn a_lost_stream_is_resubscribed_and_reconciled() {
    let master = FakeMaster::new(Log::default(), 2);
    master.inner.lock().unwrap().drop_stream_after_accepts = Some(1);
    let (_, state) = apply(2, State::empty("alluxio"), &master).await;
    let calls = master.calls();
    let subscribes: Vec<&Call> = calls
        .iter()
        .filter(|c| c.kind == CallType::Subscribe)
        .collect();
    assert_eq!(subscribes.len(), 2, "subscribed again after the loss");
    let again = subscribes[1].subscribe.as_ref().unwrap();
    assert_eq!(
        again.framework_info.id.as_ref().map(|i| i.value.as_str()),
        Some("fw-1"),
        "with the framework ID"
    );
    let first_launch = calls
        .iter()
        .find(|c| c.kind == CallType::Accept)
        .map(launched_tasks)
        .unwrap();
    let reconciled: Vec<String> = calls
        .iter()
        .filter(|c| c.kind == CallType::Reconcile)
        .flat_map(|c| c.reconcile.as_ref().unwrap().tasks.iter())
        .map(|t| t.task_id.value.clone())
        .collect();
    for t in &first_launch {
        assert!(reconciled.contains(t), "{t} not reconciled: {reconciled:?}");
    }
    let launches: Vec<String> = calls.iter().flat_map(launched_tasks).collect();
    assert_eq!(launches.len(), 3, "each slot launched once: {launches:?}");
    assert_eq!(state.tasks.len(), 3);
}

/// A crash left an intent whose ACCEPT never reached Mesos: the next run
/// reconciles it, records it lost (what Mesos answers for a task it does
/// not know), and the plan launches the slot anew.
#[tokio::test]
async fn an_intent_mesos_never_saw_is_reconciled_as_lost() {
    let master = FakeMaster::new(Log::default(), 1);
    let mut state = State::empty("alluxio");
    state.framework_id = Some("fw-1".into());
    state.tasks.push(TaskRecord {
        address: Address::Master(0),
        task_id: "alluxio-master-0-crashed".into(),
        role: Role::Master,
        agent_id: "S1".into(),
        hostname: "a1".into(),
        ports: vec![19998, 19999],
        resources: crate::state::TaskResources {
            cpus: 1.0,
            mem_mb: 1024.0,
            ramdisk_mb: 0.0,
        },
        config_hash: "old".into(),
        state: RecordedState::Pending,
        updated_at: "2026-11-29T00:00:00Z".into(),
    });
    let (_, state) = apply(1, state, &master).await;
    let calls = master.calls();
    let explicit: Vec<String> = calls
        .iter()
        .filter(|c| c.kind == CallType::Reconcile)
        .flat_map(|c| c.reconcile.as_ref().unwrap().tasks.iter())
        .map(|t| t.task_id.value.clone())
        .collect();
    assert_eq!(explicit, ["alluxio-master-0-crashed"]);
    assert!(
        recorded(&state, "alluxio-master-0-crashed").is_none(),
        "terminal records are dropped at the end"
    );
    let running: Vec<&TaskRecord> = state
        .tasks
        .iter()
        .filter(|t| t.state == RecordedState::Mesos(TaskState::Running))
        .collect();
    assert_eq!(running.len(), 2, "a master and a worker: {:?}", state.tasks);
}
