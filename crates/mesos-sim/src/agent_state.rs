//! What an emulated agent tells about itself: `/slave(N)/state` (the
//! `FrameworkWriter` and `ExecutorWriter` of `src/slave/http.cpp`) and
//! `/slave(N)/monitor/statistics` (`Http::_statistics`, the agent's
//! resource monitor).
//!
//! Executors are derived from tasks: a command task has its own command
//! executor (ID and source the task ID, as the agent names it), tasks that
//! name an ExecutorInfo share that executor. An executor whose tasks have
//! all ended is a completed executor.

use std::collections::BTreeMap;

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::Response;
use mesos_api::TaskState;
use serde_json::{json, Value};

use crate::app::{json, text, SharedApp};
use crate::model::{now_secs, pools_add, pools_total, Agent, Framework, Master, RolePools, Task};
use crate::read_api::{resource_map, task_json};

/// The agent a `slave(N)` path segment names, if it is present.
fn agent_of<'m>(m: &'m Master, segment: &str) -> Option<&'m Agent> {
    let index: usize = segment
        .strip_prefix("slave(")
        .and_then(|s| s.strip_suffix(')'))
        .and_then(|n| n.parse().ok())?;
    m.agents.values().find(|a| a.index == index && !a.removed)
}

/// The tasks of one executor of a framework on an agent.
struct Executor<'a> {
    tasks: Vec<&'a Task>,
}

impl Executor<'_> {
    fn first(&self) -> &Task {
        self.tasks[0]
    }

    fn done(&self) -> bool {
        self.tasks.iter().all(|t| t.state.is_terminal())
    }

    /// `ExecutorWriter`: the executor, its launched, queued (not yet
    /// started: STAGING) and completed tasks.
    fn to_json(&self, m: &Master) -> Value {
        let t = self.first();
        let (name, source) = match &t.info.executor {
            Some(e) => (
                e.name.clone().unwrap_or_default(),
                e.source.clone().unwrap_or_default(),
            ),
            None => (
                format!("Command Executor (Task: {})", t.id()),
                t.id().to_string(),
            ),
        };
        let mut allocated = RolePools::new();
        for task in self.tasks.iter().filter(|x| !x.state.is_terminal()) {
            pools_add(
                &mut allocated,
                &crate::model::pools_of(&task.info.resources),
            );
        }
        if let Some(e) = &t.info.executor {
            pools_add(&mut allocated, &crate::model::pools_of(&e.resources));
        }
        let (queued, launched): (Vec<&Task>, Vec<&Task>) = self
            .tasks
            .iter()
            .filter(|x| !x.state.is_terminal())
            .partition(|x| x.state == TaskState::Staging);
        let mut v = json!({
            "id": t.executor_id(),
            "name": name,
            "source": source,
            "container": t.container_id,
            "directory": t.sandbox.display().to_string(),
            "resources": resource_map(&pools_total(&allocated)),
            "role": t.role,
            "tasks": launched.iter().map(|x| task_json(m, x)).collect::<Vec<_>>(),
            "queued_tasks": queued.iter().map(|x| queued_task_json(x)).collect::<Vec<_>>(),
            "completed_tasks": self.tasks.iter().filter(|x| x.state.is_terminal()).map(|x| task_json(m, x)).collect::<Vec<_>>(),
        });
        if let Some(e) = &t.info.executor {
            if let Some(l) = &e.labels {
                v["labels"] = json!(l.labels);
            }
            if let Some(k) = e.kind {
                v["type"] = json!(k);
            }
        }
        v
    }
}

/// A queued task is written as its TaskInfo, in the agent's (v0) names.
fn queued_task_json(t: &Task) -> Value {
    let mut v = serde_json::to_value(&t.info).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        if let Some(a) = o.remove("agent_id") {
            o.insert("slave_id".into(), a);
        }
    }
    v
}

/// The executors of a framework on an agent, by executor ID.
fn executors_on<'a>(f: &'a Framework, agent_id: &str) -> BTreeMap<String, Executor<'a>> {
    let mut by_id: BTreeMap<String, Executor<'a>> = BTreeMap::new();
    let tasks = f
        .tasks
        .values()
        .chain(f.unreachable_tasks.values())
        .chain(f.completed_tasks.iter());
    for t in tasks.filter(|t| t.agent_id == agent_id) {
        by_id
            .entry(t.executor_id())
            .or_insert_with(|| Executor { tasks: Vec::new() })
            .tasks
            .push(t);
    }
    by_id
}

/// `FrameworkWriter`.
fn framework_json(m: &Master, f: &Framework, agent_id: &str) -> Option<Value> {
    let executors = executors_on(f, agent_id);
    if executors.is_empty() {
        return None;
    }
    let (done, live): (Vec<_>, Vec<_>) = executors.values().partition(|e| e.done());
    let mut v = json!({
        "id": f.id,
        "name": f.info.name,
        "user": f.info.user,
        "failover_timeout": f.info.failover_timeout.unwrap_or(0.0),
        "checkpoint": f.info.checkpoint.unwrap_or(false),
        "hostname": f.info.hostname.clone().unwrap_or_default(),
        "executors": live.iter().map(|e| e.to_json(m)).collect::<Vec<_>>(),
        "completed_executors": done.iter().map(|e| e.to_json(m)).collect::<Vec<_>>(),
    });
    if let Some(p) = &f.info.principal {
        v["principal"] = json!(p);
    }
    if f.info.has_capability(mesos_api::CapabilityType::MultiRole) {
        v["roles"] = json!(f.info.roles);
    } else {
        v["role"] = json!(f.info.role.clone().unwrap_or_else(|| "*".into()));
    }
    Some(v)
}

/// `/slave(N)/state`.
pub async fn state(State(app): State<SharedApp>, UrlPath(seg): UrlPath<String>) -> Response {
    let m = app.lock();
    let Some(agent) = agent_of(&m, &seg) else {
        return text(StatusCode::NOT_FOUND, "");
    };
    let frameworks: Vec<Value> = m
        .frameworks
        .values()
        .filter_map(|f| framework_json(&m, f, &agent.id))
        .collect();
    let completed: Vec<Value> = m
        .removed_frameworks
        .values()
        .filter_map(|f| framework_json(&m, f, &agent.id))
        .collect();
    json(&json!({
        "id": agent.id,
        "pid": m.agent_pid(agent),
        "hostname": agent.hostname,
        "version": m.spec.master.version,
        "master_hostname": m.hostname,
        "resources": resource_map(&pools_total(&agent.total)),
        "frameworks": frameworks,
        "completed_frameworks": completed,
    }))
}

/// `/slave(N)/monitor/statistics`: one entry per running executor. No
/// usage is sampled (there may be no process at all): the statistics hold
/// the timestamp and the limits the containerizer would set.
pub async fn statistics(State(app): State<SharedApp>, UrlPath(seg): UrlPath<String>) -> Response {
    let m = app.lock();
    let Some(agent) = agent_of(&m, &seg) else {
        return text(StatusCode::NOT_FOUND, "");
    };
    let mut out = Vec::new();
    for f in m.frameworks.values() {
        for e in executors_on(f, &agent.id).values().filter(|e| !e.done()) {
            let ex = e.to_json(&m);
            let res = &ex["resources"];
            out.push(json!({
                "framework_id": f.id,
                "executor_id": ex["id"],
                "executor_name": ex["name"],
                "source": ex["source"],
                "statistics": {
                    "timestamp": now_secs(),
                    "cpus_limit": res["cpus"],
                    "mem_limit_bytes": (res["mem"].as_f64().unwrap_or(0.0) * 1024.0 * 1024.0) as u64,
                },
            }));
        }
    }
    json(&Value::Array(out))
}
