//! The v1 executor API of an emulated agent, `POST /api/v1/executor` at the
//! agent's own address (`src/slave/http.cpp` `Http::executor`, and
//! `docs/executor-http-api.md`), for custom executors in exec mode: the
//! agent starts the ExecutorInfo's command with the environment a real
//! agent gives executors, and the executor subscribes.
//!
//! - SUBSCRIBE: 200 and a RecordIO stream of events: SUBSCRIBED (the
//!   ExecutorInfo, FrameworkInfo, AgentInfo and ContainerID), then LAUNCH
//!   for each of its tasks not yet delivered. A later KILL from the
//!   scheduler becomes a KILL event, an acknowledgement an ACKNOWLEDGED
//!   event with the executor's UUID.
//! - UPDATE: 202; the status goes to the scheduler with the executor's UUID,
//!   as the agent's status update manager forwards it.
//!
//! Tasks whose executor does not subscribe within the registration timeout
//! fail with REASON_EXECUTOR_REGISTRATION_TIMEOUT; an executor that exits
//! before its task ends fails it with REASON_EXECUTOR_TERMINATED ("Executor
//! terminated"). Not modelled: re-subscription after an agent restart (the
//! emulator's agents do not restart under a running executor), the
//! `unacknowledged_*` lists of SUBSCRIBE, MESSAGE and HEARTBEAT, and
//! executor authentication.

use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::Response;
use mesos_api::{Reason, Source, TaskState};
use serde_json::{json, Value};
use tokio::sync::mpsc::UnboundedSender;

use crate::agent_api::AgentScope;
use crate::app::{text, SharedApp};
use crate::lifecycle::Change;
use crate::model::{Master, Task};

/// Writes one event on an executor's stream (a closed stream is ignored:
/// the executor's exit is noticed from its process).
pub fn send(stream: &UnboundedSender<Bytes>, event: &Value) {
    let _ = stream.send(Bytes::from(mesos_api::recordio::encode_json(event)));
}

/// A duration as Mesos prints it (`1mins`, `5secs`).
pub fn mesos_duration(d: std::time::Duration) -> String {
    let s = d.as_secs();
    if s >= 60 && s.is_multiple_of(60) {
        format!("{}mins", s / 60)
    } else if d.subsec_millis() == 0 {
        format!("{s}secs")
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// What a real agent puts in a custom executor's environment (empty for
/// a command task, or outside exec mode).
pub fn environment(m: &Master, task: &Task) -> Vec<(&'static str, String)> {
    if !task.has_custom_executor(m.spec.exec) {
        return Vec::new();
    }
    let Some(agent) = m.agents.get(&task.agent_id) else {
        return Vec::new();
    };
    let checkpoint = m
        .frameworks
        .get(&task.framework_id)
        .is_some_and(|f| f.info.checkpoint == Some(true));
    let mut env = vec![
        ("MESOS_AGENT_ENDPOINT", format!("{}:{}", m.ip, agent.port)),
        ("MESOS_EXECUTOR_ID", task.executor_id()),
        ("MESOS_SLAVE_ID", task.agent_id.clone()),
        ("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "5secs".into()),
        (
            "MESOS_CHECKPOINT",
            if checkpoint { "1" } else { "0" }.into(),
        ),
    ];
    if checkpoint {
        env.push(("MESOS_RECOVERY_TIMEOUT", "15mins".into()));
        env.push(("MESOS_SUBSCRIPTION_BACKOFF_MAX", "2secs".into()));
    }
    env
}

fn bad(message: impl Into<String>) -> Response {
    text(StatusCode::BAD_REQUEST, message)
}

/// `POST /slave(1)/api/v1/executor`.
pub async fn handle(
    State(app): State<SharedApp>,
    Extension(agent): Extension<AgentScope>,
    body: Bytes,
) -> Response {
    let call: Value = match crate::app::parse_json(&body) {
        Ok(v) => v,
        Err(e) => return bad(e),
    };
    let fid = call["framework_id"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let eid = call["executor_id"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let response = match call["type"].as_str() {
        Some("SUBSCRIBE") => subscribe(&app, &agent.id, &fid, &eid),
        Some("UPDATE") => update(&app, &agent.id, &fid, &eid, &call["update"]["status"]),
        Some(other) => text(
            StatusCode::NOT_IMPLEMENTED,
            format!("mesos-sim does not implement the executor call {other}"),
        ),
        None => bad("Expecting 'type' to be present"),
    };
    app.touch();
    response
}

/// Whether `task` runs on `agent_id` under custom executor `eid`.
fn runs_under(task: &Task, agent_id: &str, eid: &str) -> bool {
    task.agent_id == agent_id && task.info.executor.is_some() && task.executor_id() == eid
}

/// The IDs of `fid`'s tasks on `agent_id` that run under executor `eid`.
fn tasks_of(m: &Master, agent_id: &str, fid: &str, eid: &str) -> Vec<String> {
    m.frameworks
        .get(fid)
        .map(|f| {
            f.tasks
                .values()
                .filter(|t| runs_under(t, agent_id, eid))
                .map(|t| t.id().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn subscribe(app: &SharedApp, agent_id: &str, fid: &str, eid: &str) -> Response {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Bytes>();
    let mut m = app.lock();
    let ids = tasks_of(&m, agent_id, fid, eid);
    if ids.is_empty() {
        return bad(format!(
            "Executor '{eid}' of framework {fid} is not known to this agent"
        ));
    }
    let Some(agent) = m.agents.get(agent_id) else {
        return bad("Unknown agent");
    };
    let agent_info = agent.v1_info();
    let fw = &m.frameworks[fid];
    let first = &fw.tasks[&ids[0]];
    let mut executor_info = serde_json::to_value(&first.info.executor).unwrap_or(Value::Null);
    executor_info["framework_id"] = json!({ "value": fid });
    send(
        &tx,
        &json!({
            "type": "SUBSCRIBED",
            "subscribed": {
                "executor_info": executor_info,
                "framework_info": fw.info,
                "agent_info": agent_info,
                "container_id": {"value": first.container_id},
            },
        }),
    );
    let fw = m.frameworks.get_mut(fid).expect("looked up above");
    for id in ids {
        let task = fw.tasks.get_mut(&id).expect("listed above");
        task.executor_stream = Some(tx.clone());
        if matches!(
            task.timer,
            Some((crate::model::Timer::ExecutorRegistration, _))
        ) {
            task.timer = None;
        }
        if !task.delivered && !task.kill_requested {
            task.delivered = true;
            let mut info = serde_json::to_value(&task.info).unwrap_or(Value::Null);
            info["executor"]["framework_id"] = json!({ "value": fid });
            send(&tx, &json!({"type": "LAUNCH", "launch": {"task": info}}));
        }
    }
    m.dirty = true;
    drop(m);
    crate::app::event_stream(rx)
}

/// UPDATE, checked as `validation::executor::call::validate` does.
fn update(app: &SharedApp, agent_id: &str, fid: &str, eid: &str, status: &Value) -> Response {
    let tid = status["task_id"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let Some(uuid) = status["uuid"].as_str().map(str::to_string) else {
        return bad("Expecting 'uuid' to be present");
    };
    if status["source"] != "SOURCE_EXECUTOR" {
        return bad("Received Call from executor with invalid 'source'");
    }
    let state: TaskState = match serde_json::from_value(status["state"].clone()) {
        Ok(s) => s,
        Err(_) => return bad(format!("Unknown task state {}", status["state"])),
    };
    if state == TaskState::Staging {
        return bad("Received TASK_STAGING from executor");
    }
    let reason: Option<Reason> = serde_json::from_value(status["reason"].clone()).ok();
    let message = status["message"].as_str().map(str::to_string);
    let mut m = app.lock();
    let of_this_executor = m
        .frameworks
        .get(fid)
        .and_then(|f| f.tasks.get(&tid))
        .is_some_and(|t| runs_under(t, agent_id, eid));
    if !of_this_executor {
        return bad(format!("Task {tid} is not a task of executor '{eid}'"));
    }
    m.change_task(
        fid,
        &tid,
        Change {
            state,
            source: Source::SourceExecutor,
            reason,
            message: message.as_deref(),
            acknowledged: true,
            healthy: status["healthy"].as_bool(),
            uuid: Some(uuid),
        },
    );
    text(StatusCode::ACCEPTED, "")
}
