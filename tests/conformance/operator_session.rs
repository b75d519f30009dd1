//! The operator event stream and the agent's endpoints: an operator
//! subscribes, a framework launches a command task (the agent's state,
//! statistics, containers and sandbox files are read while it runs), kills
//! it and tears down, then an agent goes away. Every event of the stream is
//! recorded by type and occurrence, with the types in order.

use crate::compare::Answer;
use crate::scheduler::{answer_of, head_of, http, observed, stream_http, Events, Scheduler};
use crate::sessions::Record;
use crate::support::cluster::TestCluster;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;

const MUST_COME: Duration = Duration::from_secs(60);

/// The operator's stream and every event it got but HEARTBEATs.
struct Operator {
    events: Events,
    seen: Vec<Value>,
}

impl Operator {
    /// Reads until an event matching `pred` came (bounded).
    async fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) {
        let deadline = Instant::now() + MUST_COME;
        loop {
            if self.seen.iter().any(&pred) {
                return;
            }
            let events = self.events.next_chunk(deadline).await.unwrap_or_else(|| {
                panic!(
                    "{}: the operator stream gave no {what} within {MUST_COME:?} (ended: {}); it gave {:?}",
                    self.events.url,
                    self.events.ended,
                    self.seen.iter().map(|e| e["type"].clone()).collect::<Vec<_>>()
                )
            });
            self.seen
                .extend(events.into_iter().filter(|e| e["type"] != "HEARTBEAT"));
        }
    }
}

impl Operator {
    /// Records the types of the events it got, in order.
    fn record_types(&self, rec: &mut Record, what: &str) {
        let types: Vec<&str> = self
            .seen
            .iter()
            .map(|e| e["type"].as_str().unwrap_or("?"))
            .collect();
        rec.add(what, observed(json!({ "types": types })));
    }

    /// Keeps what comes within `window`.
    async fn drain(&mut self, window: Duration) {
        let deadline = Instant::now() + window;
        while let Some(events) = self.events.next_chunk(deadline).await {
            self.seen
                .extend(events.into_iter().filter(|e| e["type"] != "HEARTBEAT"));
        }
    }
}

fn is(event: &Value, kind: &str) -> bool {
    event["type"] == kind
}

fn task_state(event: &Value, task: &str, state: &str) -> bool {
    is(event, "TASK_UPDATED")
        && event["task_updated"]["status"]["task_id"]["value"] == task
        && event["task_updated"]["state"] == state
}

async fn get(rec: &mut Record, what: &str, url: String) -> Answer {
    let response = http()
        .get(&url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let answer = answer_of(response).await;
    rec.add(what, answer.clone());
    answer
}

/// Subscribes to the operator event stream; its answer is recorded as `what`.
async fn subscribe(cluster: &TestCluster, rec: &mut Record, what: &str) -> Operator {
    let master = cluster.url();
    let response = stream_http()
        .post(format!("{master}/api/v1"))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .body(json!({"type": "SUBSCRIBE"}).to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("operator SUBSCRIBE to {master}: {e}"));
    rec.add(what, head_of(&response));
    let mut op = Operator {
        events: Events::new(&format!("{} at {master}", cluster.backend), response),
        seen: Vec::new(),
    };
    op.wait_for("SUBSCRIBED", |e| is(e, "SUBSCRIBED")).await;
    op
}

/// Runs the session on `cluster`, adding to `rec`.
pub async fn run(cluster: &TestCluster, rec: &mut Record) {
    let mut op = subscribe(cluster, rec, "operator SUBSCRIBE").await;

    let hosts = crate::sessions::hosts(cluster);
    let framework = OneTask::launch(cluster, rec, "conformance-operator", "t3", "sleep 1000").await;
    op.wait_for("FRAMEWORK_ADDED", |e| is(e, "FRAMEWORK_ADDED"))
        .await;
    op.wait_for("t3's TASK_RUNNING", |e| task_state(e, "t3", "TASK_RUNNING"))
        .await;
    agent_endpoints(cluster, rec, &hosts[0]).await;
    framework.kill_and_tear_down().await;
    op.wait_for("FRAMEWORK_REMOVED", |e| is(e, "FRAMEWORK_REMOVED"))
        .await;

    op.record_types(rec, "operator events: types in order");
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for event in &op.seen {
        let kind = event["type"].as_str().unwrap_or("?").to_string();
        let n = counts.entry(kind.clone()).or_default();
        *n += 1;
        rec.add(
            format!("operator event {kind} #{n}"),
            observed(event.clone()),
        );
    }
}

/// An agent goes away (its process stops): the master marks it
/// unreachable; what a fresh operator stream gets meanwhile is recorded.
pub async fn agent_goes_away(cluster: &TestCluster, rec: &mut Record) {
    let mut op = subscribe(cluster, rec, "operator SUBSCRIBE before an agent goes away").await;
    op.seen.clear();
    let host = crate::sessions::hosts(cluster).pop().expect("an agent");
    let gone = cluster
        .desc
        .agents
        .iter()
        .find(|a| a.hostname == host)
        .expect("listed")
        .name
        .clone();
    // Every agent is its own process, so `slave(1)`, whichever agent of
    // the cluster it is.
    let (base, _) = agent_address(cluster, &host).await;
    get(
        rec,
        "the second agent's GET /slave(1)/health",
        format!("{base}/slave(1)/health"),
    )
    .await;
    cluster.stop_agent(&gone).await;
    // Unreachable agents are no longer among `/master/state`'s agents.
    cluster
        .wait_for(
            "the stopped agent to be marked unreachable",
            MUST_COME,
            |state| {
                !state["slaves"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|a| a["hostname"] == host.as_str())
            },
        )
        .await;
    op.drain(Duration::from_secs(2)).await;
    op.record_types(rec, "operator events while an agent goes away");
}

/// The operator API's TEARDOWN: refused without its payload, its
/// framework ID, or a framework Mesos knows; then, of a running
/// framework, an empty 200 and the end of that framework's stream.
pub async fn operator_teardown(cluster: &TestCluster, rec: &mut Record) {
    let master = cluster.url();
    let call = |body: Value| {
        let url = format!("{master}/api/v1");
        async move {
            let response = http()
                .post(&url)
                .header("Content-Type", "application/json")
                .header("Accept", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap_or_else(|e| panic!("operator TEARDOWN at {url}: {e}"));
            answer_of(response).await
        }
    };
    for (what, body) in [
        (
            "operator TEARDOWN without its payload",
            json!({"type": "TEARDOWN"}),
        ),
        (
            "operator TEARDOWN without a framework ID",
            json!({"type": "TEARDOWN", "teardown": {}}),
        ),
        (
            "operator TEARDOWN of an unknown framework",
            json!({"type": "TEARDOWN", "teardown": {"framework_id": {"value": "no-such-framework"}}}),
        ),
    ] {
        rec.add(what, call(body).await);
    }
    let mut one = OneTask::launch(cluster, rec, "conformance-teardown", "t5", "sleep 1000").await;
    let id = one.s.framework_id.clone();
    rec.add(
        "operator TEARDOWN of a running framework",
        call(json!({"type": "TEARDOWN", "teardown": {"framework_id": {"value": id}}})).await,
    );
    let (ended, types) = one.s.ends_within(Duration::from_secs(10)).await;
    rec.add(
        "the framework's stream after an operator TEARDOWN",
        observed(json!({ "ended": ended, "types": types })),
    );
}

/// A framework with one command task running on the first agent (by
/// hostname): launched, its updates acknowledged, then killed and torn
/// down.
pub struct OneTask {
    s: Scheduler,
    task: String,
}

impl OneTask {
    pub async fn launch(
        cluster: &TestCluster,
        rec: &mut Record,
        name: &str,
        task: &str,
        command: &str,
    ) -> OneTask {
        let master = cluster.url();
        let info = json!({"user": crate::scheduler_session::user(), "name": name, "failover_timeout": 60.0});
        let (_, s) = Scheduler::subscribe(
            &master,
            &json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": info}}),
        )
        .await;
        let mut s = s.unwrap_or_else(|| panic!("{}: {name} opens no stream", cluster.backend));
        s.next_other(MUST_COME).await.expect("SUBSCRIBED");
        rec.name(&s.framework_id.clone(), &format!("<{name}>"));
        let first = crate::sessions::hosts(cluster).remove(0);
        let offer = s.take_offers(&[first], MUST_COME).await.remove(0);
        let task_info = json!({
            "name": "conformance",
            "task_id": {"value": task},
            "agent_id": offer["agent_id"],
            "resources": [
                {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                {"name": "mem", "type": "SCALAR", "scalar": {"value": 32.0}},
            ],
            "command": {"shell": true, "value": command},
        });
        let accept = json!({"type": "ACCEPT", "framework_id": {"value": s.framework_id}, "accept": {
            "offer_ids": [offer["id"]],
            "operations": [{"type": "LAUNCH", "launch": {"task_infos": [task_info]}}],
        }});
        s.call(&accept).await;
        let mut one = OneTask {
            s,
            task: task.to_string(),
        };
        let running = one.acknowledge_until("TASK_RUNNING").await;
        let pid = running["update"]["status"]["container_status"]["executor_pid"]
            .as_u64()
            .unwrap_or_else(|| {
                panic!(
                    "{}: TASK_RUNNING names no executor_pid: {running}",
                    cluster.backend
                )
            });
        wait_until_exec(cluster, pid as u32).await;
        one
    }

    pub async fn kill_and_tear_down(mut self) {
        let fw = json!({ "value": self.s.framework_id });
        let kill =
            json!({"type": "KILL", "framework_id": fw, "kill": {"task_id": {"value": self.task}}});
        self.s.call(&kill).await;
        self.acknowledge_until("TASK_KILLED").await;
        self.s
            .call(&json!({"type": "TEARDOWN", "framework_id": fw}))
            .await;
    }

    /// Acknowledges the task's updates until it reaches `state` (bounded).
    /// Returns the update that reached it.
    async fn acknowledge_until(&mut self, state: &str) -> Value {
        let task = self.task.clone();
        loop {
            let (_, update) = self
                .s
                .update_of(&task, MUST_COME)
                .await
                .unwrap_or_else(|| panic!("no update of {task} within {MUST_COME:?}"));
            if let Some(ack) = self.s.acknowledge(&update) {
                self.s.call(&ack).await;
            }
            let now = update["update"]["status"]["state"].as_str().unwrap_or("?");
            if now == state {
                return update;
            }
            assert!(
                !matches!(
                    now,
                    "TASK_FAILED" | "TASK_ERROR" | "TASK_LOST" | "TASK_DROPPED"
                ),
                "{task} ended {now} before {state}: {update}"
            );
        }
    }
}

/// Waits until the command under executor `pid` runs as itself. On a real
/// agent `pid` is the container's `mesos-containerizer`, under it the
/// command executor, which reports TASK_RUNNING once it has forked a
/// launch helper (`mesos-containerizer` again) that then execs the
/// command; a KILL that comes first ends the task "Command exited with
/// status 1", not with the signal (seen on 1.7.3 and 1.11.0, about one run
/// in ten). Real Mesos's race, not the emulator's: the session kills after.
async fn wait_until_exec(cluster: &TestCluster, pid: u32) {
    let until = Instant::now() + MUST_COME;
    loop {
        let tree = descendants(pid);
        let helper = tree.iter().any(|comm| comm.starts_with("mesos-contain"));
        // The emulator's `pid` is the command's own process.
        let own = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        let started = own.trim() == "sleep" || tree.iter().any(|comm| comm == "sleep");
        if !helper && started {
            return;
        }
        assert!(
            Instant::now() < until,
            "{}: the command under executor {pid} did not run within {MUST_COME:?}: {tree:?}",
            cluster.backend
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The command names (`comm`) of the descendants of `pid`, from `/proc`.
fn descendants(pid: u32) -> Vec<String> {
    let mut parents: Vec<(u32, u32, String)> = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(p) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let ppid = stat[close + 1..]
            .split_whitespace()
            .nth(1)
            .and_then(|x| x.parse().ok())
            .unwrap_or(0);
        parents.push((p, ppid, stat[open + 1..close].to_string()));
    }
    let mut out = Vec::new();
    let mut frontier = vec![pid];
    while let Some(at) = frontier.pop() {
        for (p, ppid, comm) in &parents {
            if *p == at && at != pid {
                out.push(comm.clone());
            }
            if *ppid == at {
                frontier.push(*p);
            }
        }
    }
    out
}

/// `host`'s agent's URL and process, from its pid in `/master/state`.
async fn agent_address(cluster: &TestCluster, host: &str) -> (String, String) {
    let state = cluster.state().await;
    let agent = state["slaves"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["hostname"] == host)
        .unwrap_or_else(|| panic!("no agent {host} in /master/state"));
    let pid = agent["pid"].as_str().expect("an agent's pid");
    let (process, address) = pid.split_once('@').expect("pid is process@ip:port");
    (format!("http://{address}"), process.to_string())
}

/// The agent's endpoints, read on `host`'s agent while a task runs there.
async fn agent_endpoints(cluster: &TestCluster, rec: &mut Record, host: &str) {
    let (base, process) = agent_address(cluster, host).await;
    // A real agent keeps the executors of frameworks torn down just before
    // until they have exited (seconds: their tasks get the kill grace
    // period); the emulator forgets them at once. Compared once settled:
    // only this session's framework left running there.
    let url = format!("{base}/{process}/state");
    let settled = Instant::now();
    loop {
        let state: Value = http()
            .get(&url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        if state["frameworks"].as_array().is_some_and(|f| f.len() == 1) {
            break;
        }
        assert!(
            settled.elapsed() < MUST_COME,
            "{url}: the executors of torn-down frameworks are still there after {MUST_COME:?}: {state}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "{url}: the agent had only this framework's executor left after {} ms",
        settled.elapsed().as_millis()
    );
    let agent_state = get(rec, "agent GET /state", url).await;
    let sandbox = agent_state
        .body
        .as_ref()
        .and_then(|s| {
            s["frameworks"]
                .as_array()?
                .iter()
                .flat_map(|f| f["executors"].as_array().into_iter().flatten())
                .find(|e| e["id"] == "t3")
                .and_then(|e| e["directory"].as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| panic!("{base}/{process}/state: no executor t3 with a directory"));
    rec.name(&sandbox, "<sandbox>");
    get(
        rec,
        "agent GET /monitor/statistics",
        format!("{base}/{process}/monitor/statistics"),
    )
    .await;
    get(
        rec,
        "agent GET /containers",
        format!("{base}/{process}/containers"),
    )
    .await;
    get(rec, "agent GET /flags", format!("{base}/{process}/flags")).await;
    get(rec, "agent GET /health", format!("{base}/{process}/health")).await;
    get(
        rec,
        "agent GET /files/browse of the sandbox",
        format!("{base}/files/browse?path={sandbox}"),
    )
    .await;
    get(
        rec,
        "agent GET /files/browse of no such path",
        format!("{base}/files/browse?path={sandbox}/nope"),
    )
    .await;
    get(
        rec,
        "agent GET /files/read of stdout's size",
        format!("{base}/files/read?path={sandbox}/stdout&offset=-1"),
    )
    .await;
    get(
        rec,
        "agent GET /files/read of stdout from 0, 5 bytes",
        format!("{base}/files/read?path={sandbox}/stdout&offset=0&length=5"),
    )
    .await;
    get(
        rec,
        "agent GET /files/read of no such file",
        format!("{base}/files/read?path={sandbox}/nope&offset=0"),
    )
    .await;
    get(
        rec,
        "agent GET /files/read without an offset",
        format!("{base}/files/read?path={sandbox}/stdout"),
    )
    .await;
}
