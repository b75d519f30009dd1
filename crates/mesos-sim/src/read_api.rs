//! The old read-only endpoints (`/master/state`, `/master/frameworks`,
//! `/master/slaves`, `/master/tasks`, `/version`, ...) in the shapes a 1.x
//! master writes: `slaves`/`slave_id`, resources as maps with ports as a
//! string, reserved resources keyed by role.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use mesos_api::{ResourceSummary, ValueType};
use serde_json::{json, Map, Value};

use crate::app::{faults, json, not_leading, redirect_to, SharedApp};
use crate::model::{pools_total, Agent, Framework, Holdings, Master, RolePools, Task};

/// A resource map of the old endpoints: scalars always present, ports when any.
pub fn resource_map(s: &ResourceSummary) -> Value {
    let mut m = Map::new();
    m.insert("disk".into(), json!(s.disk));
    m.insert("mem".into(), json!(s.mem));
    m.insert("gpus".into(), json!(0.0));
    m.insert("cpus".into(), json!(s.cpus));
    if !s.ports.is_empty() {
        m.insert("ports".into(), json!(s.ports.to_string()));
    }
    Value::Object(m)
}

fn reserved_map(p: &RolePools) -> Value {
    let mut m = Map::new();
    for (role, s) in p.iter().filter(|(r, _)| r.as_str() != "*") {
        m.insert(role.clone(), resource_map(s));
    }
    Value::Object(m)
}

pub fn attributes_map(a: &Agent) -> Value {
    let mut m = Map::new();
    for at in &a.attributes {
        let v = match at.kind {
            ValueType::Scalar => json!(at.scalar.map(|s| s.value).unwrap_or(0.0)),
            _ => json!(at
                .text
                .as_ref()
                .map(|t| t.value.clone())
                .unwrap_or_default()),
        };
        m.insert(at.name.clone(), v);
    }
    Value::Object(m)
}

fn labels_array(t: &Task) -> Value {
    Value::Array(
        t.info
            .labels
            .as_ref()
            .map(|l| {
                l.labels
                    .iter()
                    .map(|l| match &l.value {
                        Some(v) => json!({"key": l.key, "value": v}),
                        None => json!({"key": l.key}),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    )
}

/// A task as `/master/state` shows it.
pub fn task_json(m: &Master, t: &Task) -> Value {
    let statuses: Vec<Value> = t
        .statuses
        .iter()
        .map(|s| {
            let mut v = json!({"state": s.state, "timestamp": s.timestamp.unwrap_or(0.0)});
            if let Some(c) = &s.container_status {
                v["container_status"] = c.clone();
            }
            if let Some(h) = s.healthy {
                v["healthy"] = json!(h);
            }
            v
        })
        .collect();
    // A terminal task keeps showing what it held so that the record is useful.
    let held = crate::model::pools_of(&t.info.resources);
    let mut v = json!({
        "id": t.id(),
        "name": t.info.name,
        "framework_id": t.framework_id,
        "executor_id": t.info.executor.as_ref().map(|e| e.executor_id.value.clone()).unwrap_or_default(),
        "slave_id": t.agent_id,
        "state": t.state,
        "resources": resource_map(&pools_total(&held)),
        "role": t.role,
        "statuses": statuses,
    });
    let labels = labels_array(t);
    if labels.as_array().is_some_and(|a| !a.is_empty()) {
        v["labels"] = labels;
    }
    if let Some(d) = &t.info.discovery {
        v["discovery"] = d.clone();
    }
    if let Some(c) = &t.info.container {
        v["container"] = c.clone();
    }
    if let Some(h) = &t.info.health_check {
        v["health_check"] = serde_json::to_value(h).unwrap_or(Value::Null);
    }
    let _ = m;
    v
}

fn offer_json(m: &Master, o: &crate::model::OfferRec) -> Value {
    json!({
        "id": o.id,
        "framework_id": o.framework_id,
        "slave_id": o.agent_id,
        "resources": resource_map(&pools_total(&o.pools)),
        "allocation_info": {"role": o.role},
        "hostname": m.agents.get(&o.agent_id).map(|a| a.hostname.clone()).unwrap_or_default(),
    })
}

/// A `CommandInfo` as `json(ObjectWriter*, const CommandInfo&)` in
/// `src/common/http.cpp` writes it: `argv` and `uris` always, the
/// environment as it was given (values included: Mesos shows them to
/// anyone who can read the state).
fn command_json(c: &mesos_api::CommandInfo) -> Value {
    let mut v = json!({
        "argv": c.arguments,
        "uris": c.uris.iter().map(|u| json!({
            "value": u.value,
            "executable": u.executable.unwrap_or(false),
        })).collect::<Vec<_>>(),
    });
    if let Some(shell) = c.shell {
        v["shell"] = json!(shell);
    }
    if let Some(value) = &c.value {
        v["value"] = json!(value);
    }
    if let Some(env) = &c.environment {
        v["environment"] = serde_json::to_value(env).unwrap_or(Value::Null);
    }
    v
}

/// The framework's custom executors the master knows of, one per agent and
/// executor ID, as `json(ObjectWriter*, const ExecutorInfo&)` writes them
/// plus `slave_id`. Command executors are the agent's business and are
/// not listed; an executor is listed while one of its tasks is live.
fn executors_json(f: &Framework) -> Vec<Value> {
    let mut seen = std::collections::BTreeMap::new();
    for t in f.tasks.values().filter(|t| !t.state.is_terminal()) {
        if let Some(e) = &t.info.executor {
            seen.entry((t.agent_id.clone(), e.executor_id.value.clone()))
                .or_insert((e, t.role.clone()));
        }
    }
    seen.into_iter()
        .map(|((agent, id), (e, role))| {
            let mut v = json!({
                "executor_id": id,
                "name": e.name.clone().unwrap_or_default(),
                "framework_id": f.id,
                "command": e.command.as_ref().map(command_json).unwrap_or_else(|| command_json(&Default::default())),
                "resources": resource_map(&ResourceSummary::of(&e.resources)),
                "slave_id": agent,
            });
            if !e.resources.is_empty() {
                v["role"] = json!(role);
            }
            if let Some(l) = &e.labels {
                v["labels"] = json!(l.labels);
            }
            if let Some(k) = e.kind {
                v["type"] = json!(k);
            }
            v
        })
        .collect()
}

/// A framework as `/master/state` and `/master/frameworks` show it.
pub fn framework_json(m: &Master, f: &Framework, active_list: bool) -> Value {
    let mut used = RolePools::new();
    for t in f.tasks.values() {
        crate::model::pools_add(&mut used, &t.held);
    }
    let mut offered = RolePools::new();
    let offers: Vec<Value> = m
        .offers
        .values()
        .filter(|o| o.framework_id == f.id)
        .map(|o| {
            crate::model::pools_add(&mut offered, &o.pools);
            offer_json(m, o)
        })
        .collect();
    let caps = capabilities_json(f);
    let mut v = json!({
        "id": f.id,
        "name": f.info.name,
        "user": f.info.user,
        "hostname": f.info.hostname.clone().unwrap_or_default(),
        "webui_url": f.info.webui_url.clone().unwrap_or_default(),
        "failover_timeout": f.info.failover_timeout.unwrap_or(0.0),
        "checkpoint": f.info.checkpoint.unwrap_or(false),
        "capabilities": caps,
        "active": active_list && f.connected(),
        "connected": active_list && f.connected(),
        "recovered": false,
        "registered_time": f.registered_time,
        "unregistered_time": f.unregistered_time.unwrap_or(0.0),
        "resources": resource_map(&pools_total(&used).plus(&pools_total(&offered))),
        "used_resources": resource_map(&pools_total(&used)),
        "offered_resources": resource_map(&pools_total(&offered)),
        "tasks": f.tasks.values().map(|t| task_json(m, t)).collect::<Vec<_>>(),
        "unreachable_tasks": f.unreachable_tasks.values().map(|t| task_json(m, t)).collect::<Vec<_>>(),
        "completed_tasks": f.completed_tasks.iter().map(|t| task_json(m, t)).collect::<Vec<_>>(),
        "offers": offers,
        "executors": executors_json(f),
        "labels": f.info.labels.as_ref().map(|l| serde_json::to_value(&l.labels).unwrap_or(Value::Null)).unwrap_or(json!([])),
    });
    if f.info.has_capability(mesos_api::CapabilityType::MultiRole) {
        v["roles"] = json!(f.info.roles);
    } else {
        v["role"] = json!(f.info.role.clone().unwrap_or_else(|| "*".into()));
    }
    if let Some(p) = &f.info.principal {
        v["principal"] = json!(p);
    }
    if let Some(t) = f.reregistered_time {
        v["reregistered_time"] = json!(t);
    }
    v
}

/// A framework's capabilities as the state endpoints list them (by name).
pub fn capabilities_json(f: &Framework) -> Vec<Value> {
    f.info
        .capabilities
        .iter()
        .filter_map(|c| c.kind)
        .map(|k| json!(k))
        .collect()
}

/// Every visible agent as `/master/state` and `/master/slaves` show it.
fn agents_json(m: &Master) -> Vec<Value> {
    let holdings = m.holdings();
    visible_agents(m)
        .map(|a| agent_json(m, &holdings, a))
        .collect()
}

/// An agent as `/master/state` and `/master/slaves` show it.
pub fn agent_json(m: &Master, holdings: &Holdings, a: &Agent) -> Value {
    let used = holdings.used_on(&a.id);
    let offered = holdings.offered_on(&a.id);
    let unreserved = a.total.get("*").cloned().unwrap_or_default();
    let mut v = json!({
        "id": a.id,
        "pid": m.agent_pid(a),
        "hostname": a.hostname,
        "port": a.port,
        "registered_time": a.registered_time,
        "resources": resource_map(&pools_total(&a.total)),
        "used_resources": resource_map(&pools_total(&used)),
        "offered_resources": resource_map(&pools_total(&offered)),
        "reserved_resources": reserved_map(&a.total),
        "unreserved_resources": resource_map(&unreserved),
        "attributes": attributes_map(a),
        "active": a.active,
        "version": m.spec.master.version,
        "capabilities": m.agent_capabilities(),
    });
    // Since 1.9 (1.7.3 has no such field).
    if m.version_at_least(1, 9) {
        v["deactivated"] = json!(!a.active);
    }
    v
}

fn visible_agents(m: &Master) -> impl Iterator<Item = &Agent> {
    m.agents.values().filter(|a| !a.removed)
}

/// `leader_info` in `/master/state`: the leader's ID, pid, hostname and
/// port only (seen on 1.7.3, 1.9.0 and 1.11.0), where GET_MASTER has the
/// whole MasterInfo.
fn leader_info(m: &Master) -> Value {
    json!({
        "id": m.id,
        "pid": m.pid(),
        "hostname": m.hostname,
        "port": m.port,
    })
}

/// The `/master/state` document.
pub fn state_json(m: &Master) -> Value {
    let version = &m.spec.master.version;
    json!({
        "version": version,
        "git_sha": "",
        "git_tag": version,
        "build_date": "",
        "build_time": 0.0,
        "build_user": "mesos-sim",
        "start_time": m.start_time,
        "elected_time": m.start_time,
        "id": m.id,
        "pid": m.pid(),
        "hostname": m.hostname,
        "capabilities": m.master_capabilities(),
        "activated_slaves": visible_agents(m).filter(|a| a.active).count() as f64,
        "deactivated_slaves": visible_agents(m).filter(|a| !a.active).count() as f64,
        "unreachable_slaves": m.agents.values().filter(|a| a.removed).count() as f64,
        "leader": m.pid(),
        "leader_info": leader_info(m),
        "flags": crate::overview_api::flags(m),
        "slaves": agents_json(m),
        "recovered_slaves": [],
        "frameworks": m.frameworks.values().map(|f| framework_json(m, f, true)).collect::<Vec<_>>(),
        "completed_frameworks": m.removed_frameworks.values().map(|f| framework_json(m, f, false)).collect::<Vec<_>>(),
        "orphan_tasks": [],
        "unregistered_frameworks": [],
    })
}

async fn guard(app: &SharedApp, uri: &Uri) -> Option<Response> {
    if let Some(r) = faults(app, false).await {
        return Some(r);
    }
    not_leading(app, uri)
}

pub async fn state(State(app): State<SharedApp>, uri: Uri) -> Response {
    if let Some(r) = guard(&app, &uri).await {
        return r;
    }
    let v = state_json(&app.lock());
    json(&v)
}

pub async fn frameworks(State(app): State<SharedApp>, uri: Uri) -> Response {
    if let Some(r) = guard(&app, &uri).await {
        return r;
    }
    let m = app.lock();
    json(&json!({
        "frameworks": m.frameworks.values().map(|f| framework_json(&m, f, true)).collect::<Vec<_>>(),
        "completed_frameworks": m.removed_frameworks.values().map(|f| framework_json(&m, f, false)).collect::<Vec<_>>(),
        "unregistered_frameworks": [],
    }))
}

pub async fn slaves(State(app): State<SharedApp>, uri: Uri) -> Response {
    if let Some(r) = guard(&app, &uri).await {
        return r;
    }
    let m = app.lock();
    json(&json!({
        "slaves": agents_json(&m),
        "recovered_slaves": [],
    }))
}

/// `TASK_LIMIT` in `src/master/constants.hpp`.
const TASK_LIMIT: usize = 100;

/// A `limit`/`offset` parameter as `ReadOnlyHandler::tasks` reads it:
/// `numify<int>`, with anything unreadable (or absent) giving the default
/// and a negative number cast to `size_t` (so `limit=-1` is no limit).
fn list_option(query: &HashMap<String, String>, key: &str, default: usize) -> usize {
    match query.get(key).and_then(|v| v.parse::<i32>().ok()) {
        Some(n) => n as isize as usize,
        None => default,
    }
}

/// `/master/tasks`: `framework_id` and `task_id` select, `order` (`asc`,
/// anything else descending) sorts by the first status's timestamp (tasks
/// without one first when ascending, last when descending), then `offset`
/// and `limit` page.
pub async fn tasks(
    State(app): State<SharedApp>,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(r) = guard(&app, &uri).await {
        return r;
    }
    let limit = list_option(&q, "limit", TASK_LIMIT);
    let offset = list_option(&q, "offset", 0);
    let ascending = q.get("order").map(String::as_str) == Some("asc");
    let want_framework = q.get("framework_id");
    let want_task = q.get("task_id");
    let m = app.lock();
    let mut all: Vec<(Option<f64>, Value)> = Vec::new();
    for f in m.frameworks.values().chain(m.removed_frameworks.values()) {
        if want_framework.is_some_and(|id| *id != f.id) {
            continue;
        }
        for t in f
            .tasks
            .values()
            .chain(f.unreachable_tasks.values())
            .chain(f.completed_tasks.iter())
        {
            if want_task.is_some_and(|id| id != t.id()) {
                continue;
            }
            let first = t.statuses.first().map(|s| s.timestamp.unwrap_or(0.0));
            all.push((first, task_json(&m, t)));
        }
    }
    all.sort_by(|(a, _), (b, _)| {
        let (a, b) = if ascending { (a, b) } else { (b, a) };
        match (a, b) {
            (None, None) => std::cmp::Ordering::Equal,
            (None, Some(_)) => std::cmp::Ordering::Less,
            (Some(_), None) => std::cmp::Ordering::Greater,
            (Some(x), Some(y)) => x.total_cmp(y),
        }
    });
    // `size_t` arithmetic as in Mesos: a huge offset wraps the end around.
    let end = offset.wrapping_add(limit).min(all.len());
    let page: Vec<Value> = all
        .into_iter()
        .enumerate()
        .filter(|(i, _)| *i >= offset && *i < end)
        .map(|(_, (_, v))| v)
        .collect();
    json(&json!({ "tasks": page }))
}

/// `/master/redirect`: 307 to the leader's base address (itself when leading).
pub async fn redirect(State(app): State<SharedApp>, uri: Uri) -> Response {
    let (leading, own, leader) = {
        let m = app.lock();
        (
            m.leading,
            format!("{}:{}", m.hostname, m.port),
            m.leader_url.clone(),
        )
    };
    if leading {
        return redirect_to(&own, uri.path(), None);
    }
    match leader {
        Some(l) => redirect_to(&l, uri.path(), None),
        None => crate::app::text(StatusCode::SERVICE_UNAVAILABLE, "No leader elected"),
    }
}

/// `/master/health`: 200 with an empty body.
pub async fn health() -> Response {
    StatusCode::OK.into_response()
}

/// The build a master reports (`/version`, GET_VERSION's `version_info`);
/// the emulator's own: the emulated version as its tag, no commit, no
/// build time.
pub fn build_info(m: &Master) -> Value {
    json!({
        "version": m.spec.master.version,
        "build_date": "",
        "build_time": 0.0,
        "build_user": "mesos-sim",
        "git_sha": "",
        "git_tag": m.spec.master.version,
    })
}

/// `/version`.
pub async fn version(State(app): State<SharedApp>) -> Response {
    json(&build_info(&app.lock()))
}
