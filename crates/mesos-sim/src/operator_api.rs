//! `POST /api/v1`, the v1 operator API: SUBSCRIBE (`operator_events`), GET_STATE, GET_AGENTS,
//! GET_FRAMEWORKS, GET_TASKS, GET_EXECUTORS, GET_ROLES, GET_FLAGS,
//! GET_METRICS, GET_VERSION, GET_HEALTH, GET_MASTER (and the empty answers
//! of GET_OPERATIONS, GET_WEIGHTS, GET_QUOTA, GET_MAINTENANCE_STATUS) in
//! the v1 shapes (`agent_id`, IDs as `{"value": ...}`, Resource arrays).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use mesos_api::{AgentId, FrameworkId, Labels, TaskId, TaskStatus};
use serde_json::{json, Value};

use crate::app::{accepts_json, json, json_body, text, SharedApp};
use crate::model::{pools_total, resources_of, Master, Task};

/// `master::Call::Type` in `include/mesos/v1/master/master.proto`.
const MASTER_CALL_TYPES: &[&str] = &[
    "UNKNOWN",
    "GET_HEALTH",
    "GET_FLAGS",
    "GET_VERSION",
    "GET_METRICS",
    "GET_LOGGING_LEVEL",
    "SET_LOGGING_LEVEL",
    "LIST_FILES",
    "READ_FILE",
    "GET_STATE",
    "GET_AGENTS",
    "GET_FRAMEWORKS",
    "GET_EXECUTORS",
    "GET_OPERATIONS",
    "GET_TASKS",
    "GET_ROLES",
    "GET_WEIGHTS",
    "UPDATE_WEIGHTS",
    "GET_MASTER",
    "SUBSCRIBE",
    "RESERVE_RESOURCES",
    "UNRESERVE_RESOURCES",
    "CREATE_VOLUMES",
    "DESTROY_VOLUMES",
    "GROW_VOLUME",
    "SHRINK_VOLUME",
    "GET_MAINTENANCE_STATUS",
    "GET_MAINTENANCE_SCHEDULE",
    "UPDATE_MAINTENANCE_SCHEDULE",
    "START_MAINTENANCE",
    "STOP_MAINTENANCE",
    "DRAIN_AGENT",
    "DEACTIVATE_AGENT",
    "REACTIVATE_AGENT",
    "GET_QUOTA",
    "UPDATE_QUOTA",
    "SET_QUOTA",
    "REMOVE_QUOTA",
    "TEARDOWN",
    "MARK_AGENT_GONE",
];

fn nanos(secs: f64) -> Value {
    json!({ "nanoseconds": (secs * 1e9) as i64 })
}

/// A task in the v1 `Task` shape: no `role` (v1 `Task` has none), its
/// resources with the role they are allocated to, its statuses with their
/// uuids, and the state and uuid of the latest status update (the one
/// waiting for its acknowledgement, else the last one).
pub fn v1_task(t: &Task) -> Value {
    let mut resources = t.info.resources.clone();
    for r in &mut resources {
        r.allocation_info = Some(mesos_api::AllocationInfo {
            role: Some(t.role.clone()),
        });
    }
    let mut v = json!({
        "name": t.info.name,
        "task_id": TaskId::new(t.id()),
        "framework_id": FrameworkId::new(t.framework_id.clone()),
        "agent_id": AgentId::new(t.agent_id.clone()),
        "state": t.state,
        "resources": resources,
        "statuses": t.statuses,
    });
    if let Some(e) = &t.info.executor {
        v["executor_id"] = json!(e.executor_id);
    }
    let latest: Option<&TaskStatus> = t
        .pending
        .front()
        .map(|p| &p.status)
        .or_else(|| t.statuses.iter().rev().find(|s| s.uuid.is_some()));
    if let Some(status) = latest {
        v["status_update_state"] = json!(status.state);
        if let Some(u) = &status.uuid {
            v["status_update_uuid"] = json!(u);
        }
    }
    let labels: Option<&Labels> = t.info.labels.as_ref();
    if let Some(l) = labels {
        v["labels"] = json!(l);
    }
    for (k, field) in [
        ("discovery", &t.info.discovery),
        ("container", &t.info.container),
    ] {
        if let Some(x) = field {
            v[k] = x.clone();
        }
    }
    if let Some(h) = &t.info.health_check {
        v["health_check"] = json!(h);
    }
    if t.statuses.is_empty() {
        v.as_object_mut().map(|o| o.remove("statuses"));
    }
    v
}

fn get_tasks(m: &Master) -> Value {
    let mut tasks = Vec::new();
    let mut unreachable = Vec::new();
    let mut completed = Vec::new();
    for f in m.frameworks.values().chain(m.removed_frameworks.values()) {
        tasks.extend(f.tasks.values().map(v1_task));
        unreachable.extend(f.unreachable_tasks.values().map(v1_task));
        completed.extend(f.completed_tasks.iter().map(v1_task));
    }
    lists(
        m,
        [
            ("tasks", tasks),
            ("unreachable_tasks", unreachable),
            ("completed_tasks", completed),
        ],
    )
}

/// An object of lists, empty ones as `[]` or left out as the emulated
/// version does (see [`Master::writes_empty_v1_lists`]).
fn lists<const N: usize>(m: &Master, lists: [(&str, Vec<Value>); N]) -> Value {
    let mut v = json!({});
    for (key, list) in lists {
        if !list.is_empty() || m.writes_empty_v1_lists() {
            v[key] = Value::Array(list);
        }
    }
    v
}

/// An agent in the v1 `GetAgents.Agent` shape.
pub fn v1_agent(m: &Master, holdings: &crate::model::Holdings, a: &crate::model::Agent) -> Value {
    let mut info = a.v1_info();
    if !m.writes_empty_v1_lists() {
        info.as_object_mut().map(|o| o.remove("checkpoint"));
    }
    let mut v = json!({
        "agent_info": info,
        "active": a.active,
        "pid": m.agent_pid(a),
        "version": m.spec.master.version,
        "registered_time": nanos(a.registered_time),
        "total_resources": resources_of(&a.total),
        "capabilities": m.agent_capabilities().iter().map(|c| json!({"type": c})).collect::<Vec<_>>(),
    });
    // Since 1.9 (1.7.3 has no such field).
    if m.version_at_least(1, 9) {
        v["deactivated"] = json!(!a.active);
    }
    // Left out when empty, as real masters do.
    for (key, held) in [
        (
            "allocated_resources",
            resources_of(&holdings.used_on(&a.id)),
        ),
        (
            "offered_resources",
            resources_of(&holdings.offered_on(&a.id)),
        ),
    ] {
        if !held.is_empty() {
            v[key] = json!(held);
        }
    }
    v
}

fn get_agents(m: &Master) -> Value {
    let holdings = m.holdings();
    let agents: Vec<Value> = m
        .agents
        .values()
        .filter(|a| !a.removed)
        .map(|a| v1_agent(m, &holdings, a))
        .collect();
    // The emulator recovers no registry: no agent is ever "recovered".
    lists(m, [("agents", agents), ("recovered_agents", Vec::new())])
}

/// A framework's `FrameworkInfo` as the master keeps it: with its ID and
/// the defaults of `failover_timeout` and `checkpoint` written out.
pub fn v1_framework_info(f: &crate::model::Framework) -> mesos_api::FrameworkInfo {
    let mut info = f.info.clone();
    info.failover_timeout = Some(info.failover_timeout.unwrap_or(0.0));
    info.checkpoint = Some(info.checkpoint.unwrap_or(false));
    info
}

fn get_frameworks(m: &Master) -> Value {
    let one = |f: &crate::model::Framework, active: bool| {
        let mut used = crate::model::RolePools::new();
        for t in f.tasks.values() {
            crate::model::pools_add(&mut used, &t.held);
        }
        let mut v = json!({
            "framework_info": v1_framework_info(f),
            "active": active && f.connected(),
            "connected": active && f.connected(),
            "recovered": false,
            "registered_time": nanos(f.registered_time),
            // Written from the first subscription on (seen on 1.11.0).
            "reregistered_time": nanos(f.reregistered_time.unwrap_or(f.registered_time)),
        });
        // Offer constraints came with 1.11; none are modelled.
        if m.version_at_least(1, 11) {
            v["offer_constraints"] = json!({});
        }
        if let Some(t) = f.unregistered_time {
            v["unregistered_time"] = nanos(t);
        }
        let alloc = resources_of(&used);
        if !alloc.is_empty() {
            v["allocated_resources"] = json!(alloc);
        }
        let offers: Vec<Value> = m
            .offers
            .values()
            .filter(|o| o.framework_id == f.id)
            .filter_map(|o| {
                m.agents
                    .get(&o.agent_id)
                    .map(|a| json!(o.to_offer(m, a, None)))
            })
            .collect();
        if !offers.is_empty() {
            let mut offered = crate::model::RolePools::new();
            for o in m.offers.values().filter(|o| o.framework_id == f.id) {
                crate::model::pools_add(&mut offered, &o.pools);
            }
            v["offered_resources"] = json!(resources_of(&offered));
            v["offers"] = Value::Array(offers);
        }
        let _ = pools_total(&used);
        v
    };
    let fws: Vec<Value> = m.frameworks.values().map(|f| one(f, true)).collect();
    let done: Vec<Value> = m
        .removed_frameworks
        .values()
        .map(|f| one(f, false))
        .collect();
    lists(m, [("frameworks", fws), ("completed_frameworks", done)])
}

/// Calls `validation::master::call::validate` refuses without their
/// payload (the payload key is the type in lower case).
const PAYLOAD_REQUIRED: &[&str] = &[
    "GET_METRICS",
    "SET_LOGGING_LEVEL",
    "LIST_FILES",
    "READ_FILE",
    "UPDATE_WEIGHTS",
    "RESERVE_RESOURCES",
    "UNRESERVE_RESOURCES",
    "CREATE_VOLUMES",
    "DESTROY_VOLUMES",
    "GROW_VOLUME",
    "SHRINK_VOLUME",
    "UPDATE_MAINTENANCE_SCHEDULE",
    "START_MAINTENANCE",
    "STOP_MAINTENANCE",
    "DRAIN_AGENT",
    "DEACTIVATE_AGENT",
    "REACTIVATE_AGENT",
    "UPDATE_QUOTA",
    "SET_QUOTA",
    "REMOVE_QUOTA",
    "TEARDOWN",
    "MARK_AGENT_GONE",
];

/// `ReadOnlyHandler::getRoles`: every known role with its weight, its
/// frameworks, and the scalar quantities allocated or offered to it.
fn get_roles(m: &Master) -> Value {
    let listed = crate::overview_api::roles_json(m);
    let roles: Vec<Value> = listed["roles"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let mut v = json!({"name": r["name"], "weight": r["weight"]});
            let resources: Vec<Value> = ["cpus", "mem", "disk", "gpus"]
                .iter()
                .filter_map(|name| {
                    r["resources"][name]
                        .as_f64()
                        .map(|q| json!({"name": name, "type": "SCALAR", "scalar": {"value": q}}))
                })
                .collect();
            if !resources.is_empty() {
                v["resources"] = json!(resources);
            }
            let frameworks: Vec<Value> = r["frameworks"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|id| json!({"value": id}))
                .collect();
            if !frameworks.is_empty() {
                v["frameworks"] = json!(frameworks);
            }
            v
        })
        .collect();
    if roles.is_empty() {
        json!({})
    } else {
        json!({ "roles": roles })
    }
}

/// GET_EXECUTORS: the custom executors of live tasks (the master does not
/// know command executors), with the agent they run on.
fn get_executors(m: &Master) -> Value {
    let mut seen = std::collections::BTreeMap::new();
    for f in m.frameworks.values() {
        for t in f.tasks.values().filter(|t| !t.state.is_terminal()) {
            if let Some(e) = &t.info.executor {
                let mut info = e.clone();
                info.framework_id = Some(FrameworkId::new(f.id.clone()));
                seen.entry((
                    f.id.clone(),
                    t.agent_id.clone(),
                    e.executor_id.value.clone(),
                ))
                .or_insert_with(|| {
                    json!({
                        "agent_id": AgentId::new(t.agent_id.clone()),
                        "executor_info": info,
                    })
                });
            }
        }
    }
    lists(m, [("executors", seen.into_values().collect())])
}

/// GET_STATE (also the snapshot in the event stream's SUBSCRIBED).
pub fn get_state(m: &Master) -> Value {
    json!({
        "get_tasks": get_tasks(m),
        "get_executors": get_executors(m),
        "get_frameworks": get_frameworks(m),
        "get_agents": get_agents(m),
    })
}

fn version_info(m: &Master) -> Value {
    json!({ "version_info": crate::read_api::build_info(m) })
}

/// TEARDOWN, as `Master::Http::_teardown`: a registered framework is
/// removed (its tasks killed, its stream closed) and the answer is an
/// empty 200; any other ID is a 400.
fn teardown(app: &SharedApp, call: &Value) -> Response {
    let Some(fid) = call["teardown"]["framework_id"]["value"].as_str() else {
        return text(
            StatusCode::BAD_REQUEST,
            "Failed to convert JSON into Call protobuf: Missing required fields: teardown.framework_id",
        );
    };
    {
        let mut m = app.lock();
        if !m.frameworks.contains_key(fid) {
            return text(
                StatusCode::BAD_REQUEST,
                "No framework found with specified ID",
            );
        }
        m.remove_framework(fid);
    }
    app.touch();
    axum::response::IntoResponse::into_response(StatusCode::OK)
}

/// The operator endpoint.
pub async fn handle(
    State(app): State<SharedApp>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(r) = crate::app::v1_preamble(&app, &method, &uri).await {
        return r;
    }
    let call = match json_body(&headers, &body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    // `type` is an optional enum: stout's parse drops a value it does not
    // know, so an unknown type is a missing one for the validation.
    let Some(kind) = call
        .get("type")
        .and_then(Value::as_str)
        .filter(|k| MASTER_CALL_TYPES.contains(k))
    else {
        return text(
            StatusCode::BAD_REQUEST,
            "Failed to validate master::Call: Expecting 'type' to be present",
        );
    };
    if PAYLOAD_REQUIRED.contains(&kind) {
        let key = kind.to_ascii_lowercase();
        if call.get(&key).is_none_or(Value::is_null) {
            return text(
                StatusCode::BAD_REQUEST,
                format!("Failed to validate master::Call: Expecting '{key}' to be present"),
            );
        }
    }
    if !accepts_json(&headers) {
        return text(
            StatusCode::NOT_ACCEPTABLE,
            "Expecting 'Accept' to allow application/json or application/x-protobuf",
        );
    }
    if kind == "SUBSCRIBE" {
        return crate::operator_events::subscribe(&app);
    }
    if kind == "TEARDOWN" {
        return teardown(&app, &call);
    }
    let m = app.lock();
    let payload = match kind {
        "GET_HEALTH" => json!({"healthy": true}),
        "GET_VERSION" => version_info(&m),
        "GET_AGENTS" => get_agents(&m),
        "GET_FRAMEWORKS" => get_frameworks(&m),
        "GET_TASKS" => get_tasks(&m),
        "GET_MASTER" => {
            json!({"master_info": m.master_info(), "start_time": m.start_time, "elected_time": m.start_time})
        }
        "GET_FLAGS" => json!({"flags": crate::overview_api::flags(&m)
            .into_iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect::<Vec<_>>()}),
        "GET_METRICS" => json!({"metrics": crate::metrics::snapshot(&m)
            .into_iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect::<Vec<_>>()}),
        "GET_ROLES" => get_roles(&m),
        "GET_EXECUTORS" => get_executors(&m),
        // The emulator carries out no offer operations but LAUNCH, sets no
        // weights or quotas and schedules no maintenance: all empty, as a
        // master with none of them answers.
        "GET_OPERATIONS" => json!({}),
        // A master with no weights leaves the payload out.
        "GET_WEIGHTS" => return json(&json!({ "type": kind })),
        "GET_QUOTA" | "GET_MAINTENANCE_STATUS" => json!({"status": {}}),
        "GET_STATE" => get_state(&m),
        other => {
            return text(
                StatusCode::NOT_IMPLEMENTED,
                format!("mesos-sim does not implement the operator call {other}"),
            )
        }
    };
    let key = kind.to_ascii_lowercase();
    json(&json!({ "type": kind, key: payload }))
}
