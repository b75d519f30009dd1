//! `/metrics/snapshot`: the master's gauges and counters
//! (`src/master/metrics.cpp`, `Master::_*` gauges in `master.hpp`) under
//! their Mesos keys, every value a double. Message and event-queue
//! counters have nothing behind them here and are left out.

use axum::extract::State;
use axum::response::Response;
use mesos_api::TaskState;
use serde_json::{json, Map, Value};

use crate::app::{faults, json, SharedApp};
use crate::model::{pools_total, Master};

/// Gauges of live tasks by state (`master/tasks_<state>`).
const GAUGED: [(TaskState, &str); 5] = [
    (TaskState::Staging, "staging"),
    (TaskState::Starting, "starting"),
    (TaskState::Running, "running"),
    (TaskState::Killing, "killing"),
    (TaskState::Unreachable, "unreachable"),
];

/// Counters of tasks that ended in each terminal state since the start.
const COUNTED: [(TaskState, &str); 8] = [
    (TaskState::Finished, "finished"),
    (TaskState::Failed, "failed"),
    (TaskState::Killed, "killed"),
    (TaskState::Lost, "lost"),
    (TaskState::Error, "error"),
    (TaskState::Dropped, "dropped"),
    (TaskState::Gone, "gone"),
    (TaskState::GoneByOperator, "gone_by_operator"),
];

/// The snapshot as `{key: value}`.
pub fn snapshot(m: &Master) -> Map<String, Value> {
    let mut out = Map::new();
    let mut put = |k: &str, v: f64| {
        out.insert(format!("master/{k}"), json!(v));
    };
    put("elected", if m.leading { 1.0 } else { 0.0 });
    put("uptime_secs", m.started.elapsed().as_secs_f64());
    let present = || m.agents.values().filter(|a| !a.removed);
    // Emulated agents never disconnect: connected = registered.
    put(
        "slaves_active",
        present().filter(|a| a.active).count() as f64,
    );
    put(
        "slaves_inactive",
        present().filter(|a| !a.active).count() as f64,
    );
    put("slaves_connected", present().count() as f64);
    put("slaves_disconnected", 0.0);
    put(
        "slaves_unreachable",
        m.agents.values().filter(|a| a.removed).count() as f64,
    );
    let connected = m.frameworks.values().filter(|f| f.connected()).count() as f64;
    let registered = m.frameworks.len() as f64;
    put("frameworks_active", connected);
    put("frameworks_inactive", registered - connected);
    put("frameworks_connected", connected);
    put("frameworks_disconnected", registered - connected);
    put("outstanding_offers", m.offers.len() as f64);
    let live: Vec<TaskState> = m
        .frameworks
        .values()
        .flat_map(|f| f.tasks.values().chain(f.unreachable_tasks.values()))
        .map(|t| t.state)
        .collect();
    for (state, name) in GAUGED {
        put(
            &format!("tasks_{name}"),
            live.iter().filter(|s| **s == state).count() as f64,
        );
    }
    for (state, name) in COUNTED {
        let n = m.transitions.iter().filter(|t| t.state == state).count();
        put(&format!("tasks_{name}"), n as f64);
    }
    // Resources: totals of present agents, used by tasks.
    let mut total = mesos_api::ResourceSummary::default();
    let mut used = mesos_api::ResourceSummary::default();
    let holdings = m.holdings();
    for a in present() {
        total = total.plus(&pools_total(&a.total));
        used = used.plus(&pools_total(&holdings.used_on(&a.id)));
    }
    for (name, t, u) in [
        ("cpus", total.cpus, used.cpus),
        ("mem", total.mem, used.mem),
        ("disk", total.disk, used.disk),
        ("gpus", 0.0, 0.0),
    ] {
        put(&format!("{name}_total"), t);
        put(&format!("{name}_used"), u);
        put(
            &format!("{name}_percent"),
            if t > 0.0 { u / t } else { 0.0 },
        );
        put(&format!("{name}_revocable_total"), 0.0);
        put(&format!("{name}_revocable_used"), 0.0);
        put(&format!("{name}_revocable_percent"), 0.0);
    }
    out
}

/// `/metrics/snapshot`: served by the metrics process, leading or not.
pub async fn snapshot_endpoint(State(app): State<SharedApp>) -> Response {
    if let Some(r) = faults(&app, false).await {
        return r;
    }
    let m = app.lock();
    json(&Value::Object(snapshot(&m)))
}
