//! The v1 operator API's event stream: `SUBSCRIBE` on `/api/v1`
//! (`Master::Http::subscribe`, `ReadOnlyHandler::subscribe` and
//! `Master::Subscribers` in `src/master/`, events in
//! `include/mesos/v1/master/master.proto`).
//!
//! A subscriber gets a RecordIO stream of JSON events: SUBSCRIBED with the
//! whole GET_STATE and `heartbeat_interval_seconds`, a HEARTBEAT at once
//! and then every heartbeat interval, and, as the master changes,
//! TASK_ADDED (a task launched), TASK_UPDATED (a task's status with a new
//! state, or a health check result), AGENT_ADDED (no AGENT_REMOVED: only a
//! gone agent has one, and agents here only become unreachable) and
//! FRAMEWORK_ADDED / FRAMEWORK_UPDATED / FRAMEWORK_REMOVED. Events are
//! built only while someone subscribes, as the master does.

use std::time::Instant;

use axum::body::Bytes;
use axum::response::Response;
use mesos_api::{FrameworkId, Reason, TaskStatus};
use serde_json::{json, Value};
use tokio::sync::mpsc::UnboundedSender;

use crate::app::SharedApp;
use crate::model::{Framework, Master, Task};
use crate::operator_api::{get_state, v1_agent, v1_framework_info, v1_task};

/// `--max_operator_event_stream_subscribers` (default 1000): beyond it the
/// oldest subscriber's stream is closed.
const MAX_SUBSCRIBERS: usize = 1000;

/// An open operator event stream.
#[derive(Debug)]
pub struct Subscriber {
    tx: UnboundedSender<Bytes>,
    last_heartbeat: Instant,
}

impl Subscriber {
    fn send(&self, record: &Bytes) -> bool {
        self.tx.send(record.clone()).is_ok()
    }
}

/// `{"type": TYPE, "<type in lower case>": payload}`, as a RecordIO record.
fn record(kind: &str, payload: Option<Value>) -> Bytes {
    let mut event = json!({ "type": kind });
    if let Some(p) = payload {
        event[kind.to_ascii_lowercase()] = p;
    }
    Bytes::from(mesos_api::recordio::encode_json(&event))
}

/// `Subscribed.heartbeat_interval_seconds`: the master's heartbeat period
/// (Mesos: `DEFAULT_HEARTBEAT_INTERVAL`, 15 s; here `heartbeat_interval`).
fn heartbeat_seconds(m: &Master) -> f64 {
    m.spec.timing.heartbeat_interval.as_secs_f64()
}

/// SUBSCRIBE: 200 with `Content-Type: application/json` and a stream that
/// starts with SUBSCRIBED and a HEARTBEAT.
pub fn subscribe(app: &SharedApp) -> Response {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Bytes>();
    {
        let mut m = app.lock();
        let subscribed = json!({
            "get_state": get_state(&m),
            "heartbeat_interval_seconds": heartbeat_seconds(&m),
        });
        let _ = tx.send(record("SUBSCRIBED", Some(subscribed)));
        let _ = tx.send(record("HEARTBEAT", None));
        if m.operator_subscribers.len() >= MAX_SUBSCRIBERS {
            m.operator_subscribers.remove(0);
        }
        m.operator_subscribers.push(Subscriber {
            tx,
            last_heartbeat: Instant::now(),
        });
    }
    crate::app::event_stream(rx)
}

impl Master {
    /// Sends an event to every operator subscriber, building it only when
    /// there is one; streams whose client went away are dropped.
    fn publish(&mut self, kind: &str, payload: impl FnOnce(&Master) -> Value) {
        if self.operator_subscribers.is_empty() {
            return;
        }
        let rec = record(kind, Some(payload(self)));
        self.operator_subscribers.retain(|s| s.send(&rec));
    }

    /// HEARTBEAT to every subscriber whose period has passed.
    pub fn heartbeat_operators(&mut self, now: Instant) {
        let period = self.spec.timing.heartbeat_interval;
        let beat = record("HEARTBEAT", None);
        self.operator_subscribers.retain_mut(|s| {
            if now.duration_since(s.last_heartbeat) < period {
                return !s.tx.is_closed();
            }
            s.last_heartbeat = now;
            s.send(&beat)
        });
    }

    /// Closes every operator event stream.
    pub fn drop_operator_streams(&mut self) -> usize {
        std::mem::take(&mut self.operator_subscribers).len()
    }

    /// TASK_ADDED (`Framework::addTask`): a task the master now knows.
    pub fn publish_task_added(&mut self, task: &Task) {
        self.publish("TASK_ADDED", |_| json!({ "task": v1_task(task) }));
    }

    /// TASK_UPDATED (`Master::updateTask`): sent when the status has a new
    /// state, or reports a (health) check, with the task's latest state.
    pub fn publish_task_updated(
        &mut self,
        task: &Task,
        status: &TaskStatus,
        previous: Option<&TaskStatus>,
    ) {
        let check = matches!(
            status.reason,
            Some(Reason::ReasonTaskHealthCheckStatusUpdated | Reason::ReasonTaskCheckStatusUpdated)
        );
        if previous.is_some_and(|p| p.state == status.state) && !check {
            return;
        }
        self.publish("TASK_UPDATED", |_| {
            json!({
                "framework_id": FrameworkId::new(task.framework_id.clone()),
                "status": status,
                "state": task.state,
            })
        });
    }

    /// AGENT_ADDED (`Master::addSlave`): an agent registered or came back.
    pub fn publish_agent_added(&mut self, agent_id: &str) {
        self.publish("AGENT_ADDED", |m| {
            let holdings = m.holdings();
            match m.agents.get(agent_id) {
                Some(a) => json!({ "agent": v1_agent(m, &holdings, a) }),
                None => json!({}),
            }
        });
    }

    /// FRAMEWORK_ADDED (`createFrameworkAdded`): a new framework, or one
    /// the master learns of again after a failover (`recovered`).
    pub fn publish_framework_added(&mut self, fid: &str, recovered: bool) {
        self.publish(
            "FRAMEWORK_ADDED",
            |m| json!({ "framework": framework_event(m, fid, recovered) }),
        );
    }

    /// FRAMEWORK_UPDATED (`Master::sendFrameworkUpdates`): a framework
    /// subscribed again.
    pub fn publish_framework_updated(&mut self, fid: &str) {
        self.publish(
            "FRAMEWORK_UPDATED",
            |m| json!({ "framework": framework_event(m, fid, false) }),
        );
    }

    /// FRAMEWORK_REMOVED (`Master::removeFramework`): torn down or failed
    /// over too late.
    pub fn publish_framework_removed(&mut self, framework: &Framework) {
        self.publish(
            "FRAMEWORK_REMOVED",
            |_| json!({ "framework_info": v1_framework_info(framework) }),
        );
    }
}

/// The `GetFrameworks.Framework` of framework events: the info, whether it
/// is active, connected and recovered, and its three times, set even when
/// they never happened (0), as `createFrameworkAdded` sets them; no
/// resources or offers.
fn framework_event(m: &Master, fid: &str, recovered: bool) -> Value {
    let Some(f) = m.frameworks.get(fid) else {
        return json!({});
    };
    let nanos = |secs: f64| json!({ "nanoseconds": (secs * 1e9) as i64 });
    let connected = f.connected() && !recovered;
    json!({
        "framework_info": v1_framework_info(f),
        "active": connected,
        "connected": connected,
        "recovered": recovered,
        "registered_time": nanos(f.registered_time),
        "reregistered_time": nanos(f.reregistered_time.unwrap_or(f.registered_time)),
        "unregistered_time": nanos(f.unregistered_time.unwrap_or(0.0)),
    })
}
