//! The master's summary endpoints: `/master/state-summary` and
//! `/master/roles` (`src/master/readonly_handler.cpp`) and `/master/flags`
//! (`Master::Http::__flags`, `src/master/http.cpp`), in their 1.x shapes.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use mesos_api::{ResourceSummary, TaskState};
use serde_json::{json, Map, Value};

use crate::app::{faults, json, not_leading, SharedApp};
use crate::model::{pools_add, pools_total, Master, RolePools, Task, MAX_COMPLETED_TASKS};
use crate::read_api::{agent_json, capabilities_json, resource_map};

/// The task states `TaskStateSummary` counts, with their JSON keys.
const SUMMARY_STATES: [(TaskState, &str); 10] = [
    (TaskState::Staging, "TASK_STAGING"),
    (TaskState::Starting, "TASK_STARTING"),
    (TaskState::Running, "TASK_RUNNING"),
    (TaskState::Killing, "TASK_KILLING"),
    (TaskState::Finished, "TASK_FINISHED"),
    (TaskState::Killed, "TASK_KILLED"),
    (TaskState::Failed, "TASK_FAILED"),
    (TaskState::Lost, "TASK_LOST"),
    (TaskState::Error, "TASK_ERROR"),
    (TaskState::Unreachable, "TASK_UNREACHABLE"),
];

/// A `Duration` as stout's `stringify` writes it in flags: the largest
/// unit the value reaches (`100ms`, `1secs`, `5mins`).
pub fn duration_flag(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    let units: [(f64, &str); 8] = [
        (1.0, "ns"),
        (1e3, "us"),
        (1e6, "ms"),
        (1e9, "secs"),
        (60e9, "mins"),
        (3600e9, "hrs"),
        (86400e9, "days"),
        (604800e9, "weeks"),
    ];
    let (scale, unit) = units
        .iter()
        .rev()
        .find(|(scale, _)| ns >= *scale)
        .copied()
        .unwrap_or((1.0, "ns"));
    format!("{}{unit}", ns / scale)
}

/// The master flags the emulator's configuration stands for, as strings.
pub fn flags(m: &Master) -> Map<String, Value> {
    let auth = &m.spec.authentication;
    let on = !auth.principals.is_empty();
    let mut f = Map::new();
    let mut set = |k: &str, v: String| {
        f.insert(k.to_string(), Value::String(v));
    };
    set(
        "allocation_interval",
        duration_flag(m.spec.timing.allocation_interval),
    );
    set("authenticate_frameworks", "false".into());
    set("authenticate_http_frameworks", on.to_string());
    set(
        "authenticate_http_readonly",
        (on && auth.http_readonly).to_string(),
    );
    set(
        "authenticate_http_readwrite",
        (on && auth.http_readwrite).to_string(),
    );
    set("hostname", m.hostname.clone());
    set("ip", m.ip.to_string());
    set("port", m.port.to_string());
    set(
        "max_completed_tasks_per_framework",
        MAX_COMPLETED_TASKS.to_string(),
    );
    if !m.spec.timing.offer_timeout.is_zero() {
        set("offer_timeout", duration_flag(m.spec.timing.offer_timeout));
    }
    f
}

async fn guard(app: &SharedApp, uri: &Uri) -> Option<Response> {
    if let Some(r) = faults(app, false).await {
        return Some(r);
    }
    not_leading(app, uri)
}

/// `/master/flags`: `{"flags": {...}}`. Any master answers, leading or not.
pub async fn flags_endpoint(State(app): State<SharedApp>) -> Response {
    if let Some(r) = faults(&app, false).await {
        return r;
    }
    let m = app.lock();
    json(&json!({ "flags": flags(&m) }))
}

/// Counts of tasks by state, as `TaskStateSummary` keys them.
fn state_counts<'a>(tasks: impl Iterator<Item = &'a Task>) -> Map<String, Value> {
    let mut counts: BTreeMap<&str, u64> = SUMMARY_STATES.iter().map(|(_, k)| (*k, 0)).collect();
    for t in tasks {
        if let Some((_, key)) = SUMMARY_STATES.iter().find(|(s, _)| *s == t.state) {
            *counts.get_mut(key).expect("every key counted") += 1;
        }
    }
    counts
        .into_iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect()
}

/// Every task a registered framework knows (live, unreachable, completed),
/// which is what the summaries are computed from.
fn all_tasks(f: &crate::model::Framework) -> impl Iterator<Item = &Task> {
    f.tasks
        .values()
        .chain(f.unreachable_tasks.values())
        .chain(f.completed_tasks.iter())
}

/// `/master/state-summary`.
pub fn state_summary_json(m: &Master) -> Value {
    let holdings = m.holdings();
    let slaves: Vec<Value> = m
        .agents
        .values()
        .filter(|a| !a.removed)
        .map(|a| {
            let mut v = agent_json(m, &holdings, a);
            let on_agent = m
                .frameworks
                .values()
                .flat_map(all_tasks)
                .filter(|t| t.agent_id == a.id);
            let obj = v.as_object_mut().expect("agent JSON is an object");
            obj.extend(state_counts(on_agent));
            let ids: BTreeSet<&str> = m
                .frameworks
                .values()
                .filter(|f| all_tasks(f).any(|t| t.agent_id == a.id))
                .map(|f| f.id.as_str())
                .collect();
            obj.insert("framework_ids".into(), json!(ids));
            v
        })
        .collect();
    let frameworks: Vec<Value> = m
        .frameworks
        .values()
        .map(|f| {
            let mut used = RolePools::new();
            for t in f.tasks.values() {
                pools_add(&mut used, &t.held);
            }
            let mut offered = RolePools::new();
            for o in m.offers.values().filter(|o| o.framework_id == f.id) {
                pools_add(&mut offered, &o.pools);
            }
            let caps = capabilities_json(f);
            let mut v = json!({
                "id": f.id,
                "name": f.info.name,
                "used_resources": resource_map(&pools_total(&used)),
                "offered_resources": resource_map(&pools_total(&offered)),
                "capabilities": caps,
                "hostname": f.info.hostname.clone().unwrap_or_default(),
                "webui_url": f.info.webui_url.clone().unwrap_or_default(),
                "active": f.connected(),
                "connected": f.connected(),
                "recovered": false,
            });
            let obj = v.as_object_mut().expect("framework JSON is an object");
            obj.extend(state_counts(all_tasks(f)));
            let ids: BTreeSet<&str> = all_tasks(f).map(|t| t.agent_id.as_str()).collect();
            obj.insert("slave_ids".into(), json!(ids));
            v
        })
        .collect();
    json!({
        "hostname": m.hostname,
        "slaves": slaves,
        "frameworks": frameworks,
    })
}

pub async fn state_summary(State(app): State<SharedApp>, uri: Uri) -> Response {
    if let Some(r) = guard(&app, &uri).await {
        return r;
    }
    let v = state_summary_json(&app.lock());
    json(&v)
}

/// `ResourceQuantities` JSON: every scalar, and ranges as their size.
fn quantities(s: &ResourceSummary) -> Value {
    let mut q = Map::new();
    for (name, v) in [("cpus", s.cpus), ("disk", s.disk), ("mem", s.mem)] {
        if v > 0.0 {
            q.insert(name.into(), json!(v));
        }
    }
    if !s.ports.is_empty() {
        q.insert("ports".into(), json!(s.ports.len() as f64));
    }
    Value::Object(q)
}

/// `Master::knownRoles`: roles of subscribed frameworks and of agent
/// reservations, with their ancestors (`a/b` brings `a`).
fn known_roles(m: &Master) -> BTreeSet<String> {
    let mut roles = BTreeSet::new();
    let direct = m.frameworks.values().flat_map(|f| f.roles()).chain(
        m.agents
            .values()
            .filter(|a| !a.removed)
            .flat_map(|a| a.total.keys().filter(|r| r.as_str() != "*").cloned()),
    );
    for role in direct {
        let mut prefix = role.as_str();
        roles.insert(role.clone());
        while let Some(i) = prefix.rfind('/') {
            prefix = &prefix[..i];
            roles.insert(prefix.to_string());
        }
    }
    roles
}

/// `/master/roles`.
pub fn roles_json(m: &Master) -> Value {
    let roles: Vec<Value> = known_roles(m)
        .into_iter()
        .map(|name| {
            let mut allocated = RolePools::new();
            for f in m.frameworks.values() {
                for t in f.tasks.values().filter(|t| t.role == name) {
                    pools_add(&mut allocated, &t.held);
                }
            }
            let mut offered = RolePools::new();
            for o in m.offers.values().filter(|o| o.role == name) {
                pools_add(&mut offered, &o.pools);
            }
            let mut reserved = ResourceSummary::default();
            for a in m.agents.values().filter(|a| !a.removed) {
                if let Some(r) = a.total.get(&name) {
                    reserved = reserved.plus(r);
                }
            }
            let allocated = pools_total(&allocated);
            let offered = pools_total(&offered);
            let frameworks: Vec<&str> = m
                .frameworks
                .values()
                .filter(|f| f.roles().contains(&name))
                .map(|f| f.id.as_str())
                .collect();
            json!({
                "name": name,
                "weight": 1.0,
                "quota": {"role": name, "guarantee": {}, "limit": {}, "consumed": quantities(&allocated)},
                "resources": quantities(&allocated.plus(&offered)),
                "allocated": quantities(&allocated),
                "offered": quantities(&offered),
                "reserved": quantities(&reserved),
                "frameworks": frameworks,
            })
        })
        .collect();
    json!({ "roles": roles })
}

pub async fn roles(State(app): State<SharedApp>, uri: Uri) -> Response {
    if let Some(r) = guard(&app, &uri).await {
        return r;
    }
    let v = roles_json(&app.lock());
    json(&v)
}

#[cfg(test)]
mod tests {
    use super::duration_flag;
    use std::time::Duration;

    #[test]
    fn durations_are_written_in_their_largest_unit() {
        assert_eq!(duration_flag(Duration::from_millis(100)), "100ms");
        assert_eq!(duration_flag(Duration::from_secs(1)), "1secs");
        assert_eq!(duration_flag(Duration::from_millis(1500)), "1.5secs");
        assert_eq!(duration_flag(Duration::from_secs(300)), "5mins");
        assert_eq!(duration_flag(Duration::ZERO), "0ns");
    }
}
