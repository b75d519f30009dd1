//! What an emulated agent tells about itself: `/slave(1)/state` (the
//! `FrameworkWriter` and `ExecutorWriter` of `src/slave/http.cpp`) and
//! `/slave(1)/monitor/statistics` (`Http::_statistics`, the agent's
//! resource monitor).
//!
//! Executors are derived from tasks: a command task has its own command
//! executor (ID and source the task ID, as the agent names it), tasks that
//! name an ExecutorInfo share that executor. An executor whose tasks have
//! all ended is a completed executor.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use mesos_api::TaskState;
use serde_json::{json, Value};

use crate::agent_api::AgentScope;
use crate::app::{json, text, SharedApp};
use crate::model::{now_secs, pools_add, pools_total, Agent, Framework, Master, RolePools, Task};
use crate::read_api::{resource_map, task_json};

/// The answer of the agent whose listener took the request, made by
/// `write`; 404 once the agent is removed.
fn answer(
    app: &SharedApp,
    scope: &AgentScope,
    write: impl FnOnce(&Master, &Agent) -> Value,
) -> Response {
    let m = app.lock();
    match m.agents.get(&scope.id).filter(|a| !a.removed) {
        Some(agent) => json(&write(&m, agent)),
        None => text(StatusCode::NOT_FOUND, ""),
    }
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
            None => (command_executor_name(t), t.id().to_string()),
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
            "tasks": launched.iter().map(|x| agent_task_json(m, x)).collect::<Vec<_>>(),
            "queued_tasks": queued.iter().map(|x| queued_task_json(x)).collect::<Vec<_>>(),
            "completed_tasks": self.tasks.iter().filter(|x| x.state.is_terminal()).map(|x| agent_task_json(m, x)).collect::<Vec<_>>(),
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

/// The name an agent gives a command task's executor (`getExecutorInfo`
/// in `src/slave/slave.cpp`): the task ID and the command, cut after 12
/// bytes when it is longer than 15.
fn command_executor_name(t: &Task) -> String {
    let cut = |s: &str| {
        if s.len() > 15 {
            let mut end = 12;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}...", &s[..end])
        } else {
            s.to_string()
        }
    };
    let command = t.info.command.clone().unwrap_or_default();
    let what = match (command.shell.unwrap_or(true), &command.value) {
        (true, None) => "(Command: NO COMMAND)".to_string(),
        (true, Some(v)) => format!("(Command: sh -c '{}')", cut(v)),
        (false, None) => "(Command: NO EXECUTABLE)".to_string(),
        (false, Some(v)) => {
            let mut args = vec![v.clone()];
            args.extend(command.arguments.iter().cloned());
            format!("(Command: [{}])", cut(&args.join(", ")))
        }
    };
    format!("Command Executor (Task: {}) {what}", t.id())
}

/// A task as the agent writes it: as the master does, but its statuses'
/// `container_status` lacks the executor's pid, which the agent adds only
/// to the updates it forwards (seen on 1.11.0).
fn agent_task_json(m: &Master, t: &Task) -> Value {
    let mut v = task_json(m, t);
    for status in v["statuses"].as_array_mut().into_iter().flatten() {
        if let Some(c) = status["container_status"].as_object_mut() {
            c.remove("executor_pid");
        }
    }
    v
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

/// `/slave(1)/state`.
pub async fn state(
    State(app): State<SharedApp>,
    Extension(scope): Extension<AgentScope>,
) -> Response {
    answer(&app, &scope, agent_state)
}

/// An agent's `/state` document.
fn agent_state(m: &Master, agent: &Agent) -> Value {
    let frameworks: Vec<Value> = m
        .frameworks
        .values()
        .filter_map(|f| framework_json(m, f, &agent.id))
        .collect();
    let completed: Vec<Value> = m
        .removed_frameworks
        .values()
        .filter_map(|f| framework_json(m, f, &agent.id))
        .collect();
    let total = pools_total(&agent.total);
    let allocated = m.holdings().used_on(&agent.id);
    let unreserved_allocated = allocated.get("*").cloned().unwrap_or_default();
    let build = crate::read_api::build_info(m);
    let mut v = json!({
        "id": agent.id,
        "pid": m.agent_pid(agent),
        "hostname": agent.hostname,
        "version": m.spec.master.version,
        "master_hostname": m.hostname,
        "start_time": agent.registered_time,
        "capabilities": m.agent_capabilities(),
        "attributes": crate::read_api::attributes_map(agent),
        "resources": resource_map(&total),
        "flags": agent_flags(m, agent),
        "reserved_resources": {},
        "reserved_resources_allocated": {},
        "reserved_resources_full": {},
        "unreserved_resources": resource_map(&agent.total.get("*").cloned().unwrap_or_default()),
        "unreserved_resources_allocated": resource_map(&unreserved_allocated),
        "unreserved_resources_full": crate::model::resources_in(&agent.total, crate::model::ResourceFormat::PreRefinement),
        "frameworks": frameworks,
        "completed_frameworks": completed,
    });
    // Since 1.9 (seen on 1.9.0 and 1.11.0; 1.7.3 has none).
    if m.version_at_least(1, 9) {
        v["resource_providers"] = json!([]);
    }
    for key in [
        "build_date",
        "build_time",
        "build_user",
        "git_sha",
        "git_tag",
    ] {
        v[key] = build[key].clone();
    }
    v
}

/// What the agent's resource monitor knows of each running executor: the
/// entries of `/slave(1)/monitor/statistics` and `/slave(1)/containers`.
/// Limits are the executor's resources (the command executor's share
/// included); usage is read from `/proc` for the task's process in exec
/// mode, and zero without one.
fn monitored(m: &Master, agent: &Agent, with_container: bool) -> Vec<Value> {
    let mut out = Vec::new();
    for f in m.frameworks.values() {
        for e in executors_on(f, &agent.id).values().filter(|e| !e.done()) {
            let ex = e.to_json(m);
            let res = &ex["resources"];
            let mem_bytes = (res["mem"].as_f64().unwrap_or(0.0) * 1024.0 * 1024.0) as u64;
            let usage = e.first().process_id.and_then(|p| p.usage());
            let (user, system, rss) = usage.unwrap_or((0.0, 0.0, 0));
            let mut v = json!({
                "framework_id": f.id,
                "executor_id": ex["id"],
                "executor_name": ex["name"],
                "source": ex["source"],
                "statistics": {
                    "timestamp": now_secs(),
                    "cpus_user_time_secs": user,
                    "cpus_system_time_secs": system,
                    "mem_limit_bytes": mem_bytes,
                    "mem_rss_bytes": rss,
                },
            });
            // CPU shares became a soft limit, and memory got one, when
            // tasks could have limits above their requests (1.11; 1.7.3 and
            // 1.9.0 write `cpus_limit`).
            if m.version_at_least(1, 11) {
                v["statistics"]["cpus_soft_limit"] = res["cpus"].clone();
                v["statistics"]["mem_soft_limit_bytes"] = json!(mem_bytes);
            } else {
                v["statistics"]["cpus_limit"] = res["cpus"].clone();
            }
            if with_container {
                let t = e.first();
                v["container_id"] = json!(t.container_id);
                v["status"] = json!({
                    "container_id": {"value": t.container_id},
                    "executor_pid": t.executor_pid(),
                });
            }
            out.push(v);
        }
    }
    out
}

/// `/slave(1)/monitor/statistics`: one entry per running executor.
pub async fn statistics(
    State(app): State<SharedApp>,
    Extension(scope): Extension<AgentScope>,
) -> Response {
    answer(&app, &scope, |m, agent| {
        Value::Array(monitored(m, agent, false))
    })
}

/// `/slave(1)/containers`: the running executors' containers, with their
/// ContainerID, executor pid and the same statistics.
pub async fn containers(
    State(app): State<SharedApp>,
    Extension(scope): Extension<AgentScope>,
) -> Response {
    answer(&app, &scope, |m, agent| {
        Value::Array(monitored(m, agent, true))
    })
}

/// `/slave(1)/flags`.
pub async fn flags(
    State(app): State<SharedApp>,
    Extension(scope): Extension<AgentScope>,
) -> Response {
    answer(
        &app,
        &scope,
        |m, agent| json!({ "flags": agent_flags(m, agent) }),
    )
}

/// The agent flags the cluster file stands for, as strings (a real agent
/// lists its ~150 command-line flags), in `/flags` and `/state`.
fn agent_flags(m: &Master, agent: &Agent) -> Value {
    let attributes: Vec<String> = crate::read_api::attributes_map(agent)
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}:{}", v.as_str().map_or(v.to_string(), str::to_string)))
        .collect();
    let t = pools_total(&agent.total);
    let resources = format!(
        "cpus:{};mem:{};disk:{};ports:{}",
        t.cpus, t.mem, t.disk, t.ports
    );
    json!({
        "hostname": agent.hostname,
        "port": agent.port.to_string(),
        "master": m.pid(),
        "attributes": attributes.join(";"),
        "resources": resources,
        "executor_registration_timeout": crate::overview_api::duration_flag(m.spec.timing.executor_registration_timeout),
        "switch_user": "false",
        "work_dir": m.sandbox_root.display().to_string(),
    })
}
