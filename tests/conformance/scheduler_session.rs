//! The scheduler API session: one framework's life on a cluster of two
//! agents, from SUBSCRIBE to TEARDOWN, with invalid calls and operations
//! on the way, then a framework whose failover timeout expires. Run on
//! each backend on its own (the IDs it learns differ); the exchanges are
//! compared by name afterwards. It also times what the emulator's clocks
//! stand for (see `timing.rs`).

use crate::scheduler::{observed, Scheduler};
use crate::sessions::Record;
use crate::support::cluster::TestCluster;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::time::Instant;

/// The bound of every wait for something that must come: generous, as CI
/// runs on a loaded machine; what must not come is watched for less.
const MUST_COME: Duration = Duration::from_secs(30);
/// How long the session watches for what must not come (offers of
/// declined resources, updates of a kill that has none).
const MAY_COME: Duration = Duration::from_secs(3);
/// An ID that no cluster has.
const NO_SUCH: &str = "conformance-no-such-id";

pub fn user() -> String {
    let out = std::process::Command::new("id")
        .arg("-un")
        .output()
        .expect("id -un");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn framework_info(failover_timeout: f64) -> Value {
    json!({"user": user(), "name": "conformance", "failover_timeout": failover_timeout})
}

fn subscribe_call(info: &Value, id: Option<&str>) -> Value {
    let mut info = info.clone();
    let mut call = json!({"type": "SUBSCRIBE"});
    if let Some(id) = id {
        info["id"] = json!({ "value": id });
        call["framework_id"] = json!({ "value": id });
    }
    call["subscribe"] = json!({ "framework_info": info });
    call
}

fn task(id: &str, offer: &Value, cpus: f64, command: Option<&str>) -> Value {
    let mut task = json!({
        "name": "conformance",
        "task_id": {"value": id},
        "agent_id": offer["agent_id"],
        "resources": [
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": cpus}},
            {"name": "mem", "type": "SCALAR", "scalar": {"value": 32.0}},
        ],
    });
    if let Some(command) = command {
        task["command"] = json!({"shell": true, "value": command});
    }
    task
}

/// Subscribes and records the answer and the first event under `what`.
async fn subscribe(rec: &mut Record, master: &str, what: &str, call: &Value) -> Option<Scheduler> {
    let (answer, scheduler) = Scheduler::subscribe(master, call).await;
    rec.add(what, answer);
    let mut scheduler = scheduler?;
    let first = scheduler.next_other(MUST_COME).await;
    rec.name(&scheduler.framework_id.clone(), "<framework>");
    rec.name(&scheduler.stream_id.clone(), "<stream>");
    rec.add(
        format!("{what}: first event"),
        observed(first.unwrap_or(json!({"none": true}))),
    );
    Some(scheduler)
}

struct Session {
    rec: Record,
    master: String,
    hosts: Vec<String>,
    s: Scheduler,
}

impl Session {
    fn fw(&self) -> Value {
        json!({ "value": self.s.framework_id })
    }

    /// Waits for an offer of every agent and records them, naming offers
    /// and agents; they stay at hand.
    async fn offers(&mut self, what: &str) {
        let offers = self.s.take_offers(&self.hosts, MUST_COME).await;
        self.s.keep(&self.hosts, &offers);
        for (i, offer) in offers.iter().enumerate() {
            let agent = offer["agent_id"]["value"].as_str().unwrap_or_default();
            self.rec.name(agent, &format!("<agent-{}>", i + 1));
            let id = offer["id"]["value"].as_str().unwrap_or_default();
            self.rec.name(id, "<offer>");
        }
        self.rec.add(
            what,
            observed(json!({"type": "OFFERS", "offers": {"offers": offers}})),
        );
    }

    async fn call(&mut self, what: &str, call: Value) {
        let answer = self.s.call(&call).await;
        self.rec.add(what, answer);
    }

    fn accept(&self, offer: &Value, operations: Value, refuse_seconds: f64) -> Value {
        json!({
            "type": "ACCEPT",
            "framework_id": self.fw(),
            "accept": {
                "offer_ids": [offer["id"]],
                "operations": operations,
                "filters": {"refuse_seconds": refuse_seconds},
            }
        })
    }

    fn decline(&self, offers: &[Value], filters: Option<f64>) -> Value {
        let ids: Vec<&Value> = offers.iter().map(|o| &o["id"]).collect();
        let mut call = json!({
            "type": "DECLINE",
            "framework_id": self.fw(),
            "decline": {"offer_ids": ids},
        });
        if let Some(refuse) = filters {
            call["decline"]["filters"] = json!({ "refuse_seconds": refuse });
        }
        call
    }

    /// The next update of `task`, recorded and acknowledged; None (and
    /// `{"none": true}` recorded) when none came within `timeout`.
    async fn update(&mut self, what: &str, task: &str, timeout: Duration) -> Option<Value> {
        let Some((_, update)) = self.s.update_of(task, timeout).await else {
            self.rec.add(what, observed(json!({"none": true})));
            return None;
        };
        self.rec.add(what, observed(update.clone()));
        if let Some(ack) = self.s.acknowledge(&update) {
            self.call(&format!("{what}: ACKNOWLEDGE"), ack).await;
        }
        Some(update)
    }

    /// Updates of `task` until one in `until` (or a terminal one), each
    /// recorded and acknowledged; the states in order are recorded too.
    async fn updates_until(&mut self, what: &str, task: &str, until: &[&str]) -> Vec<String> {
        let mut states = Vec::new();
        while states.len() < 6 {
            let Some(u) = self
                .update(
                    &format!("{what}: update {}", states.len() + 1),
                    task,
                    MUST_COME,
                )
                .await
            else {
                break;
            };
            let state = u["update"]["status"]["state"]
                .as_str()
                .unwrap_or("?")
                .to_string();
            states.push(state.clone());
            if until.contains(&state.as_str()) || terminal(&state) {
                break;
            }
        }
        self.rec.add(
            format!("{what}: states"),
            observed(json!({ "states": states })),
        );
        states
    }

    /// One invalid LAUNCH on a fresh offer of the first agent: the answer
    /// and the update it brings.
    async fn invalid_launch(&mut self, what: &str, task_id: &str, make: impl Fn(&Value) -> Value) {
        let offer = self
            .s
            .take_offers(&self.hosts[..1], MUST_COME)
            .await
            .remove(0);
        self.rec
            .name(offer["id"]["value"].as_str().unwrap_or_default(), "<offer>");
        let launch = json!([{"type": "LAUNCH", "launch": {"task_infos": [make(&offer)]}}]);
        let call = self.accept(&offer, launch, 0.0);
        self.call(what, call).await;
        self.update(&format!("{what}: update"), task_id, MUST_COME)
            .await;
    }
}

/// Whether a state Mesos writes (`TASK_KILLED`) is terminal.
fn terminal(state: &str) -> bool {
    serde_json::from_value::<mesos_api::TaskState>(json!(state)).is_ok_and(|s| s.is_terminal())
}

/// Runs the session on `cluster`, adding to `record`.
pub async fn run(cluster: &TestCluster, record: &mut Record) {
    let master = cluster.url();
    let hosts = crate::sessions::hosts(cluster);
    let mut rec = std::mem::take(record);
    let info = framework_info(60.0);
    let subscribed = Instant::now();
    let s = subscribe(
        &mut rec,
        &master,
        "SUBSCRIBE without a framework ID",
        &subscribe_call(&info, None),
    )
    .await
    .unwrap_or_else(|| panic!("{}: SUBSCRIBE opened no stream", cluster.backend));
    let mut x = Session {
        rec,
        master: master.clone(),
        hosts,
        s,
    };
    x.offers("OFFERS after SUBSCRIBE").await;
    x.rec
        .time("SUBSCRIBE to the first offers", subscribed.elapsed());
    call_errors(&mut x).await;
    invalid_operations(&mut x).await;
    let t1_agent = launch_and_kill(&mut x).await;
    reconcile(&mut x, &t1_agent).await;
    decline_and_revive(&mut x).await;
    heartbeats(&mut x);
    let after = failover_and_teardown(x, &info).await;
    *record = failover_timeout_expiry(after, &master).await;
}

/// Calls refused before they reach the framework: each error text.
async fn call_errors(x: &mut Session) {
    let decline = x.decline(&[json!({"id": {"value": NO_SUCH}})], None);
    let answer = x.s.send(None, decline.to_string()).await;
    x.rec.add("DECLINE without Mesos-Stream-Id", answer);
    let answer =
        x.s.send(
            Some("00000000-0000-4000-8000-000000000000"),
            decline.to_string(),
        )
        .await;
    x.rec
        .add("DECLINE with another stream's Mesos-Stream-Id", answer);
    let fw = x.fw();
    x.call(
        "ACCEPT without accept",
        json!({"type": "ACCEPT", "framework_id": fw}),
    )
    .await;
    let mut no_framework = decline.clone();
    no_framework.as_object_mut().unwrap().remove("framework_id");
    x.call("DECLINE without framework_id", no_framework).await;
    x.call(
        "a call of an unknown type",
        json!({"type": "CONFORMANCE", "framework_id": fw}),
    )
    .await;
    let answer =
        x.s.send(Some(&x.s.stream_id.clone()), "{".to_string())
            .await;
    x.rec.add("a body that is not JSON", answer);
    let mut other = decline.clone();
    other["framework_id"] = json!({ "value": NO_SUCH });
    x.call("DECLINE of another framework", other).await;
}

/// Invalid LAUNCH operations: each answered 202, then refused in an update.
async fn invalid_operations(x: &mut Session) {
    x.invalid_launch("LAUNCH with neither command nor executor", "bad-1", |o| {
        task("bad-1", o, 0.1, None)
    })
    .await;
    x.invalid_launch("LAUNCH using more than its offer", "bad-2", |o| {
        task("bad-2", o, 1000.0, Some("sleep 1000"))
    })
    .await;
    x.invalid_launch("LAUNCH with no resources", "bad-3", |o| {
        let mut t = task("bad-3", o, 0.1, Some("sleep 1000"));
        t["resources"] = json!([]);
        t
    })
    .await;
    x.invalid_launch("LAUNCH with a slash in the task ID", "bad/4", |o| {
        task("bad/4", o, 0.1, Some("sleep 1000"))
    })
    .await;
    // An offer that does not exist: no real offer is used.
    let ghost = json!({"id": {"value": NO_SUCH}, "agent_id": {"value": NO_SUCH}});
    let launch = json!([{"type": "LAUNCH", "launch": {"task_infos": [task("bad-5", &ghost, 0.1, Some("sleep 1000"))]}}]);
    let call = x.accept(&ghost, launch, 0.0);
    x.call("LAUNCH on an offer that does not exist", call).await;
    x.update(
        "LAUNCH on an offer that does not exist: update",
        "bad-5",
        MUST_COME,
    )
    .await;
}

/// A command task launched, its updates acknowledged; a second task whose
/// first update is not acknowledged (timing the resend); a duplicate task
/// ID; KILL of the running task, of the finished one and of an unknown one.
/// Returns the first task's agent.
async fn launch_and_kill(x: &mut Session) -> Value {
    let offer = x.s.take_offers(&x.hosts[..1], MUST_COME).await.remove(0);
    let agent = offer["agent_id"].clone();
    let launch = json!([{"type": "LAUNCH", "launch": {"task_infos": [task("t1", &offer, 0.1, Some("sleep 1000"))]}}]);
    let call = x.accept(&offer, launch, 0.0);
    let sent = Instant::now();
    x.call("ACCEPT with LAUNCH", call).await;
    let states = x.updates_until("LAUNCH t1", "t1", &["TASK_RUNNING"]).await;
    x.rec.time(
        "launch to TASK_RUNNING, updates acknowledged",
        sent.elapsed(),
    );
    assert_eq!(
        states.last().map(String::as_str),
        Some("TASK_RUNNING"),
        "{}: t1 did not run",
        x.master
    );

    // The resend of an unacknowledged update, on the second agent.
    let offer = x.s.take_offers(&x.hosts[1..2], MUST_COME).await.remove(0);
    let launch = json!([{"type": "LAUNCH", "launch": {"task_infos": [task("t2", &offer, 0.1, Some("sleep 1000"))]}}]);
    let call = x.accept(&offer, launch, 0.0);
    let accepted = Instant::now();
    x.call("ACCEPT with LAUNCH t2", call).await;
    let (first_at, first) =
        x.s.update_of("t2", MUST_COME)
            .await
            .expect("t2's first update");
    x.rec.time(
        "launch to first update (TASK_STARTING)",
        first_at - accepted,
    );
    let (again_at, again) =
        x.s.update_of("t2", MUST_COME + MUST_COME)
            .await
            .expect("t2's first update, sent again while unacknowledged");
    x.rec.time(
        "unacknowledged update sent again after",
        again_at - first_at,
    );
    x.rec.add(
        "an unacknowledged update, sent again",
        observed(again.clone()),
    );
    assert_eq!(
        first["update"]["status"]["uuid"], again["update"]["status"]["uuid"],
        "{}: the update sent again is the same update",
        x.master
    );
    if let Some(ack) = x.s.acknowledge(&first) {
        x.call("ACKNOWLEDGE of an update sent twice", ack).await;
    }
    let (running_at, running) = x.s.update_of("t2", MUST_COME).await.expect("t2 running");
    x.rec.add(
        "t2: the update after the acknowledged one",
        observed(running.clone()),
    );
    if let Some(ack) = x.s.acknowledge(&running) {
        x.s.call(&ack).await;
    }
    x.rec.time(
        "acknowledgement to the next update (TASK_RUNNING)",
        running_at - again_at,
    );

    x.invalid_launch("LAUNCH with the ID of a running task", "t1", |o| {
        task("t1", o, 0.1, Some("sleep 1000"))
    })
    .await;

    let kill = |task: &str, agent: Option<&Value>| {
        let mut k = json!({"task_id": {"value": task}});
        if let Some(a) = agent {
            k["agent_id"] = a.clone();
        }
        k
    };
    let fw = x.fw();
    let killed_at = Instant::now();
    x.call(
        "KILL of a running task",
        json!({"type": "KILL", "framework_id": fw, "kill": kill("t1", Some(&agent))}),
    )
    .await;
    x.updates_until("KILL of a running task", "t1", &[]).await;
    x.rec
        .time("KILL to the terminal update", killed_at.elapsed());
    x.call(
        "KILL of a finished task",
        json!({"type": "KILL", "framework_id": fw, "kill": kill("t1", Some(&agent))}),
    )
    .await;
    x.update("KILL of a finished task: update", "t1", MAY_COME)
        .await;
    x.call(
        "KILL of an unknown task",
        json!({"type": "KILL", "framework_id": fw, "kill": kill("ghost", None)}),
    )
    .await;
    x.update("KILL of an unknown task: update", "ghost", MUST_COME)
        .await;
    agent
}

/// Explicit reconciliation (a finished task, a running one and an unknown
/// one), then implicit (every task the master knows).
async fn reconcile(x: &mut Session, t1_agent: &Value) {
    let fw = x.fw();
    x.call(
        "RECONCILE explicit",
        json!({"type": "RECONCILE", "framework_id": fw, "reconcile": {"tasks": [
            {"task_id": {"value": "t1"}, "agent_id": t1_agent},
            {"task_id": {"value": "t2"}},
            {"task_id": {"value": "ghost"}},
        ]}}),
    )
    .await;
    for t in ["t1", "t2", "ghost"] {
        x.update(&format!("RECONCILE explicit: update of {t}"), t, MUST_COME)
            .await;
    }
    x.call(
        "RECONCILE implicit",
        json!({"type": "RECONCILE", "framework_id": fw, "reconcile": {"tasks": []}}),
    )
    .await;
    x.update("RECONCILE implicit: update of t2", "t2", MUST_COME)
        .await;
    x.update("RECONCILE implicit: update of t1", "t1", MAY_COME)
        .await;
}

/// DECLINE with a long filter (no offer comes back), REVIVE (they do);
/// DECLINE without filters (Mesos's default refusal) and with 0 seconds
/// (the next allocation), timed.
async fn decline_and_revive(x: &mut Session) {
    let hosts = x.hosts.clone();
    x.offers("OFFERS before DECLINE").await;
    let offers = x.s.take_all_offers();
    let call = x.decline(&offers, Some(3600.0));
    x.call("DECLINE with refuse_seconds 3600", call).await;
    let back = x.s.offers_within(&hosts, MAY_COME).await;
    x.rec.add(
        "offers within 3 s of a DECLINE for an hour",
        observed(json!({ "offers": back })),
    );
    let fw = x.fw();
    let revived = Instant::now();
    x.call("REVIVE", json!({"type": "REVIVE", "framework_id": fw}))
        .await;
    x.offers("OFFERS after REVIVE").await;
    x.rec.time("REVIVE to offers", revived.elapsed());

    let offers = x.s.take_all_offers();
    let call = x.decline(&offers, None);
    let declined = Instant::now();
    x.call("DECLINE without filters", call).await;
    x.offers("OFFERS after a DECLINE without filters").await;
    x.rec.time(
        "DECLINE without filters to offers (refuse_seconds)",
        declined.elapsed(),
    );

    let offers = x.s.take_all_offers();
    let call = x.decline(&offers, Some(0.0));
    let declined = Instant::now();
    x.call("DECLINE with refuse_seconds 0", call).await;
    x.offers("OFFERS after a DECLINE for 0 seconds").await;
    x.rec.time(
        "DECLINE for 0 seconds to offers (allocation interval)",
        declined.elapsed(),
    );
}

fn heartbeats(x: &mut Session) {
    let beats = &x.s.heartbeats;
    if let (Some(subscribed), Some(first)) = (x.s.subscribed_at, beats.first()) {
        x.rec
            .time("SUBSCRIBED to the first HEARTBEAT", *first - subscribed);
    }
    if beats.len() >= 2 {
        x.rec.time("HEARTBEAT interval", beats[1] - beats[0]);
    }
}

/// A second SUBSCRIBE of the framework (the first stream is told and
/// closed), then TEARDOWN, then a SUBSCRIBE of the removed framework.
async fn failover_and_teardown(mut x: Session, info: &Value) -> Record {
    let id = x.s.framework_id.clone();
    let call = subscribe_call(info, Some(&id));
    let mut rec = std::mem::take(&mut x.rec);
    let mut second = subscribe(
        &mut rec,
        &x.master,
        "SUBSCRIBE of a subscribed framework (failover)",
        &call,
    )
    .await
    .expect("the failover SUBSCRIBE opens a stream");
    let told = x.s.next_other(MUST_COME).await;
    rec.add(
        "the stream failed over from: next event",
        observed(told.unwrap_or(json!({"none": true}))),
    );
    let (ended, _) = x.s.ends_within(MUST_COME).await;
    rec.add(
        "the stream failed over from: ended",
        observed(json!({ "ended": ended })),
    );
    let answer = second
        .call(&json!({"type": "TEARDOWN", "framework_id": {"value": id}}))
        .await;
    rec.add("TEARDOWN", answer);
    let (ended, seen) = second.ends_within(MUST_COME).await;
    rec.add(
        "the stream after TEARDOWN",
        observed(json!({"ended": ended, "events": seen})),
    );
    let mut removed = subscribe(
        &mut rec,
        &x.master,
        "SUBSCRIBE of a removed framework",
        &call,
    )
    .await;
    if let Some(s) = &mut removed {
        let (ended, seen) = s.ends_within(MUST_COME).await;
        rec.add(
            "SUBSCRIBE of a removed framework: stream",
            observed(json!({"ended": ended, "events": seen})),
        );
    }
    rec
}

/// A framework that disconnects with a failover timeout of 1 s: the master
/// removes it (timed), and its SUBSCRIBE is then refused.
async fn failover_timeout_expiry(mut rec: Record, master: &str) -> Record {
    let info = framework_info(1.0);
    let call = subscribe_call(&info, None);
    let (_, s) = Scheduler::subscribe(master, &call).await;
    let mut s = s.expect("SUBSCRIBE with a failover timeout of 1 s opens a stream");
    s.next_other(MUST_COME).await.expect("SUBSCRIBED");
    let id = s.framework_id.clone();
    rec.name(&id, "<framework-2>");
    drop(s);
    let gone = Instant::now();
    let until = gone + MUST_COME;
    let http = crate::scheduler::http();
    loop {
        let frameworks: Value = http
            .get(format!("{master}/master/frameworks"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {master}/master/frameworks: {e}"))
            .json()
            .await
            .expect("/master/frameworks is JSON");
        let completed = frameworks["completed_frameworks"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|f| f["id"] == id.as_str());
        if completed {
            rec.time(
                "disconnect to removal, failover_timeout 1 s",
                gone.elapsed(),
            );
            break;
        }
        assert!(
            Instant::now() < until,
            "{master}: a framework with a failover timeout of 1 s was not removed within {MUST_COME:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let call = subscribe_call(&info, Some(&id));
    if let Some(mut s) = subscribe(
        &mut rec,
        master,
        "SUBSCRIBE after the failover timeout",
        &call,
    )
    .await
    {
        let (ended, seen) = s.ends_within(MUST_COME).await;
        rec.add(
            "SUBSCRIBE after the failover timeout: stream",
            observed(json!({"ended": ended, "events": seen})),
        );
    }
    rec
}
