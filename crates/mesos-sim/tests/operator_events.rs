//! The v1 operator API's event stream, `SUBSCRIBE` on `/api/v1`
//! (`Master::Http::subscribe` and `ReadOnlyHandler::subscribe` in
//! `src/master/`, `Master::Subscribers` in `src/master/master.cpp`, the
//! events of `include/mesos/v1/master/master.proto`):
//!
//! - 200, `Content-Type: application/json`, a RecordIO stream that starts
//!   with SUBSCRIBED (`get_state`, the whole GET_STATE, and
//!   `heartbeat_interval_seconds`) and a HEARTBEAT, then a HEARTBEAT every
//!   interval;
//! - TASK_ADDED when a task is launched (`Framework::addTask`: the Task,
//!   TASK_STAGING), TASK_UPDATED for each status with a new state
//!   (`Master::updateTask`: `framework_id`, `status`, `state`);
//! - FRAMEWORK_ADDED for a new framework, FRAMEWORK_UPDATED when it
//!   subscribes again (`sendFrameworkUpdates`), FRAMEWORK_REMOVED with its
//!   `framework_info` when it is torn down (`removeFramework`, after the
//!   TASK_UPDATED of its tasks killed);
//! - no AGENT_REMOVED for an unreachable agent (only `_removeSlave`, for
//!   a gone one, sends it), AGENT_ADDED with the
//!   GetAgents.Agent when it comes back (`addSlave`).

mod common;

use std::time::Duration;

use common::*;
use futures_util::StreamExt;
use mesos_api::recordio::Decoder;
use mesos_api::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Every wait for an event is bounded by this.
const WAIT: Duration = Duration::from_secs(10);

/// An open operator event stream.
struct Events {
    body: std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    decoder: Decoder,
    queue: std::collections::VecDeque<Value>,
    headers: reqwest::header::HeaderMap,
}

impl Events {
    async fn open(url: &str) -> Events {
        let resp = client()
            .post(format!("{url}/api/v1"))
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .body(r#"{"type": "SUBSCRIBE"}"#)
            .send()
            .await
            .expect("SUBSCRIBE request");
        assert_eq!(resp.status(), StatusCode::OK);
        Events {
            headers: resp.headers().clone(),
            body: Box::pin(resp.bytes_stream()),
            decoder: Decoder::new(),
            queue: Default::default(),
        }
    }

    /// The next event; panics after `WAIT`.
    async fn next(&mut self) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some(e) = self.queue.pop_front() {
                return e;
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.next())
                .await
                .expect("an operator event within the wait")
                .expect("the stream stays open")
                .expect("stream chunk");
            for rec in self.decoder.feed(&chunk).expect("valid RecordIO") {
                self.queue
                    .push_back(serde_json::from_slice(&rec).expect("event JSON"));
            }
        }
    }

    /// The next event of `kind`, skipping HEARTBEATs only.
    async fn expect(&mut self, kind: &str) -> Value {
        loop {
            let e = self.next().await;
            if e["type"] == kind {
                return e;
            }
            assert_eq!(e["type"], "HEARTBEAT", "expected {kind}, got {e}");
        }
    }
}

async fn get_state(url: &str) -> Value {
    let resp = client()
        .post(format!("{url}/api/v1"))
        .header("Content-Type", "application/json")
        .body(r#"{"type": "GET_STATE"}"#)
        .send()
        .await
        .unwrap();
    let v: Value = resp.json().await.unwrap();
    v["get_state"].clone()
}

#[tokio::test]
async fn subscribe_starts_with_the_state_and_a_heartbeat() {
    let sim = start(&format!(
        "[timing]\nallocation_interval = \"30ms\"\nheartbeat_interval = \"200ms\"\n{}",
        agents(2, "[31000-32000]")
    ))
    .await;
    let state = get_state(&sim.url()).await;
    let mut events = Events::open(&sim.url()).await;
    assert_eq!(events.headers["content-type"], "application/json");
    assert!(events.headers.get("content-length").is_none());
    let subscribed = events.next().await;
    assert_eq!(subscribed["type"], "SUBSCRIBED");
    assert_eq!(subscribed["subscribed"]["get_state"], state);
    assert_eq!(
        subscribed["subscribed"]["get_state"]["get_agents"]["agents"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        subscribed["subscribed"]["heartbeat_interval_seconds"],
        json!(0.2)
    );
    // A heartbeat at once, then one every interval.
    for _ in 0..3 {
        assert_eq!(events.next().await, json!({"type": "HEARTBEAT"}));
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn framework_task_and_agent_changes_are_streamed() {
    let sim = start_default().await;
    let mut events = Events::open(&sim.url()).await;
    assert_eq!(events.next().await["type"], "SUBSCRIBED");

    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let fid = sub.framework_id.value.clone();
    let added = events.expect("FRAMEWORK_ADDED").await;
    let fw = &added["framework_added"]["framework"];
    assert_eq!(fw["framework_info"]["id"]["value"], fid);
    assert_eq!(fw["framework_info"]["name"], "f");
    assert_eq!(fw["active"], true);
    assert_eq!(fw["connected"], true);
    assert_eq!(fw["recovered"], false);
    assert_eq!(fw["registered_time"], fw["reregistered_time"]);
    assert_eq!(fw["unregistered_time"], json!({"nanoseconds": 0}));
    assert!(fw.get("offered_resources").is_none(), "{fw}");

    let offer = sub.offers().await.remove(0);
    let resources = vec![Resource::cpus(0.5), Resource::mem(64.0)];
    sub.launch_command(&offer, "t", "t1", resources, "sleep 100")
        .await;
    let task = events.expect("TASK_ADDED").await["task_added"]["task"].clone();
    assert_eq!(task["task_id"], json!({"value": "t1"}));
    assert_eq!(task["framework_id"], json!({"value": fid}));
    assert_eq!(task["agent_id"], json!({"value": offer.agent_id.value}));
    assert_eq!(task["state"], "TASK_STAGING");
    sub.until_state("t1", TaskState::Running).await;
    for state in ["TASK_STARTING", "TASK_RUNNING"] {
        let e = events.expect("TASK_UPDATED").await;
        let u = &e["task_updated"];
        assert_eq!(u["framework_id"], json!({"value": fid}));
        assert_eq!(u["state"], state);
        assert_eq!(u["status"]["state"], state);
        assert_eq!(u["status"]["task_id"], json!({"value": "t1"}));
    }

    // The agent goes and comes back.
    let agent = offer.agent_id.value.clone();
    sim.remove_agent(&agent);
    let lost = events.expect("TASK_UPDATED").await;
    assert_eq!(lost["task_updated"]["state"], "TASK_LOST");
    // Unreachable is not removed: real masters send AGENT_REMOVED only for
    // an agent that is gone (`_removeSlave`), so the next event is its
    // return (`expect` fails on any other).
    sim.restore_agent(&agent);
    let back = events.expect("AGENT_ADDED").await;
    let a = &back["agent_added"]["agent"];
    assert_eq!(a["agent_info"]["id"], json!({"value": agent}));
    let slaves = sim.state_json();
    let pid = slaves["slaves"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == agent.as_str())
        .unwrap()["pid"]
        .clone();
    assert_eq!(a["pid"], pid);

    // The framework subscribes again, launches, and is torn down.
    drop(sub);
    let mut info = framework("f");
    info.id = Some(FrameworkId::new(fid.clone()));
    let (mut sub, _) = Subscription::open(&sim.url(), info).await;
    let updated = events.expect("FRAMEWORK_UPDATED").await;
    let fw = &updated["framework_updated"]["framework"];
    assert_eq!(fw["framework_info"]["id"]["value"], fid);
    assert_eq!(fw["connected"], true);
    let offer = sub.offers().await.remove(0);
    let resources = vec![Resource::cpus(0.5), Resource::mem(64.0)];
    sub.launch_command(&offer, "t", "t2", resources, "sleep 100")
        .await;
    assert_eq!(
        events.expect("TASK_ADDED").await["task_added"]["task"]["task_id"],
        json!({"value": "t2"})
    );
    sub.call(&Call::teardown(sub.framework_id.clone())).await;
    let mut killed = None;
    let gone = loop {
        let e = events.next().await;
        match e["type"].as_str().unwrap() {
            "TASK_UPDATED" if e["task_updated"]["state"] == "TASK_KILLED" => {
                killed = Some(e["task_updated"]["status"].clone());
            }
            "FRAMEWORK_REMOVED" => break e,
            _ => {}
        }
    };
    let killed = killed.expect("TASK_UPDATED for the killed task before FRAMEWORK_REMOVED");
    assert_eq!(killed["task_id"], json!({"value": "t2"}));
    assert_eq!(killed["reason"], "REASON_FRAMEWORK_REMOVED");
    assert_eq!(killed["source"], "SOURCE_MASTER");
    let info = &gone["framework_removed"]["framework_info"];
    assert_eq!(info["id"]["value"], fid);
    assert_eq!(info["name"], "f");
    sim.shutdown().await;
}

#[tokio::test]
async fn operator_streams_end_with_the_master() {
    let sim = start_default().await;
    let mut events = Events::open(&sim.url()).await;
    assert_eq!(events.next().await["type"], "SUBSCRIBED");
    assert_eq!(events.next().await["type"], "HEARTBEAT");
    // Losing leadership closes every stream, the operators' included.
    assert!(sim.drop_streams() >= 1);
    let end = tokio::time::timeout(WAIT, events.body.next())
        .await
        .expect("the stream ends within the wait");
    assert!(end.is_none(), "{end:?}");
    sim.shutdown().await;
}
