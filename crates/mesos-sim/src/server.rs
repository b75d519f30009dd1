//! Wiring: the HTTP routes, the clock that drives allocation, timers,
//! heartbeats and failover, and the persister.

use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{any, get, post};
use axum::Router;
use mesos_api::Event;

use crate::app::{authenticate, Auth, SharedApp};
use crate::routing::Host;
use tower_layer::Layer;

use crate::{
    agent_api, agent_state, agent_v1, faults, metrics, operator_api, overview_api, read_api,
    routing, scheduler_api,
};

/// Every route the emulator serves. Routes name canonical paths only:
/// every request path is first rewritten as libprocess resolves it
/// (`routing`), so `/state`, `/master/state/` and `/master/state` meet.
pub fn router(app: SharedApp) -> Router {
    let endpoints = Router::new()
        .route("/master/api/v1/scheduler", any(scheduler_api::handle))
        .route("/master/api/v1", any(operator_api::handle))
        .route("/master/state", get(read_api::state))
        .route("/master/state.json", get(read_api::state))
        .route("/master/frameworks", get(read_api::frameworks))
        .route("/master/slaves", get(read_api::slaves))
        .route("/master/tasks", get(read_api::tasks))
        .route("/master/tasks.json", get(read_api::tasks))
        .route("/master/state-summary", get(overview_api::state_summary))
        .route("/master/roles", get(overview_api::roles))
        .route("/master/roles.json", get(overview_api::roles))
        .route("/master/flags", get(overview_api::flags_endpoint))
        .route("/metrics/snapshot", get(metrics::snapshot_endpoint))
        .route("/master/redirect", get(read_api::redirect))
        .route("/master/health", get(read_api::health))
        .route("/version", get(read_api::version))
        .route("/__sim/agents", post(faults::add_agent))
        .route("/__sim/agents/:agent/remove", post(faults::remove_agent))
        .route("/__sim/agents/:agent/restore", post(faults::restore_agent))
        .route("/__sim/tasks/:task/fail", post(faults::fail_task))
        .route("/__sim/streams/drop", post(faults::drop_streams))
        .route("/__sim/leading", post(faults::leading))
        .route("/__sim/fail-next", post(faults::fail_next))
        .route("/__sim/delay", post(faults::delay))
        .route("/__sim/transitions", get(faults::transitions))
        .layer(middleware::from_fn_with_state(app.clone(), realm_guard))
        .layer(middleware::from_fn_with_state(
            app.clone(),
            json_alias_guard,
        ))
        .with_state(app);
    // A layer on a Router runs after routing; the path must be rewritten
    // before, so the rewriting wraps the whole router.
    let rewritten =
        middleware::map_request(|req| routing::canonicalize(Host::Master, req)).layer(endpoints);
    Router::new().fallback_service(rewritten)
}

/// The routes of the agents' own listeners (`agent_http`), shared by all
/// of them: an agent's process `slave(1)` (`/slave(1)/state`,
/// `/slave(1)/monitor/statistics`, `/slave(1)/health`, `/slave(1)/api/v1`),
/// its file server
/// `/files/*` over its own sandboxes, and `/version`. Which agent a
/// request is for comes with it ([`for_agent`]).
pub fn agent_routes(app: SharedApp) -> Router {
    Router::new()
        .route("/:agent/state", get(agent_state::state))
        .route("/:agent/state.json", get(agent_state::state))
        .route("/:agent/monitor/statistics", get(agent_state::statistics))
        .route(
            "/:agent/monitor/statistics.json",
            get(agent_state::statistics),
        )
        .route("/:agent/health", get(read_api::health))
        .route("/:agent/containers", get(agent_state::containers))
        .route("/:agent/flags", get(agent_state::flags))
        .route("/:agent/api/v1", any(agent_v1::handle))
        .route("/:agent/api/v1/executor", post(crate::executor_api::handle))
        .route("/files/browse", get(agent_api::browse))
        .route("/files/browse.json", get(agent_api::browse))
        .route("/files/read", get(agent_api::read))
        .route("/files/read.json", get(agent_api::read))
        .route("/files/download", get(agent_api::download))
        .route("/files/download.json", get(agent_api::download))
        .route("/version", get(read_api::version))
        .layer(middleware::from_fn_with_state(
            app.clone(),
            json_alias_guard,
        ))
        .with_state(app)
}

/// One agent's listener: its paths resolved as its libprocess does (a
/// path naming no process of it goes to its `slave(1)`), then the shared
/// [`agent_routes`] with the agent attached to the request.
pub fn for_agent(routes: &Router, agent_id: String) -> Router {
    let scope = agent_api::AgentScope { id: agent_id };
    let scoped = middleware::map_request(move |mut req: Request| {
        req.extensions_mut().insert(scope.clone());
        routing::canonicalize(Host::Agent, req)
    })
    .layer(routes.clone());
    Router::new().fallback_service(scoped)
}

/// Endpoints of Mesos' READONLY_HTTP_AUTHENTICATION_REALM that we serve
/// (canonical paths).
const READONLY_REALM: [&str; 9] = [
    "/master/flags",
    "/master/roles",
    "/master/state-summary",
    "/master/state",
    "/master/state.json",
    "/master/frameworks",
    "/master/slaves",
    "/master/tasks",
    "/master/tasks.json",
];
/// Endpoints of READWRITE_HTTP_AUTHENTICATION_REALM that we serve.
const READWRITE_REALM: [&str; 1] = ["/master/api/v1"];

/// HTTP authentication of the read-only and read-write realms, when the
/// cluster file turns them on. Like libprocess, it runs before the
/// endpoint (and so before leader redirection); the scheduler endpoint
/// authenticates itself because it also matches principals to frameworks.
async fn realm_guard(State(app): State<SharedApp>, req: Request, next: Next) -> Response {
    let required = {
        let m = app.lock();
        let a = &m.spec.authentication;
        let path = req.uri().path();
        !a.principals.is_empty()
            && ((a.http_readonly && READONLY_REALM.contains(&path))
                || (a.http_readwrite && READWRITE_REALM.contains(&path)))
    };
    if required {
        if let Auth::Refused(r) = authenticate(&app, req.headers()) {
            return r;
        }
    }
    next.run(req).await
}

/// The `.json` aliases of endpoints (`/master/state.json`,
/// `/files/read.json`, ...) were removed in Mesos 1.8.0 (MESOS-4509):
/// a master configured as 1.8 or newer answers them 404, as it would have
/// no such endpoint. Every canonical path ending in `.json` is one.
async fn json_alias_guard(State(app): State<SharedApp>, req: Request, next: Next) -> Response {
    if req.uri().path().ends_with(".json") && !app.lock().serves_json_aliases() {
        // libprocess's answer for a path no process serves.
        return crate::app::text(StatusCode::NOT_FOUND, "404 Not Found.");
    }
    next.run(req).await
}

/// How often the clock looks at timers.
const TICK: Duration = Duration::from_millis(10);

/// Advances the emulated master's time, forever.
pub async fn clock(app: SharedApp) {
    let mut interval = tokio::time::interval(TICK);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let to_spawn = tick(&app, Instant::now());
        crate::agent_http::serve_new(&app);
        // Off the lock: making thousands of directories must not hold up
        // the scheduler calls (a task's sandbox exists before its
        // TASK_STARTING, which comes a start delay later).
        let sandboxes = std::mem::take(&mut app.lock().sandboxes_to_create);
        if !sandboxes.is_empty() {
            tokio::task::spawn_blocking(move || {
                for dir in sandboxes {
                    let _ = crate::sandbox::create(&dir);
                }
            });
        }
        for (fid, tid) in to_spawn {
            crate::sandbox::spawn(app.clone(), fid, tid);
        }
    }
}

/// One step of the clock; returns the tasks whose commands must start.
pub fn tick(app: &SharedApp, now: Instant) -> Vec<(String, String)> {
    let mut m = app.lock();
    // Streams whose client went away.
    let closed: Vec<String> = m
        .frameworks
        .values()
        .filter(|f| f.connection.as_ref().is_some_and(|c| c.tx.is_closed()))
        .map(|f| f.id.clone())
        .collect();
    for fid in closed {
        m.disconnect(&fid);
    }
    // Failover timeouts.
    let expired: Vec<String> = m
        .frameworks
        .values()
        .filter(|f| {
            f.disconnected_at.is_some_and(|at| {
                let timeout = f.info.failover_timeout.unwrap_or(0.0);
                let timeout = if timeout.is_finite() && timeout > 0.0 {
                    Duration::from_secs_f64(timeout.min(1e10))
                } else {
                    Duration::ZERO
                };
                now.duration_since(at) >= timeout
            })
        })
        .map(|f| f.id.clone())
        .collect();
    for fid in expired {
        m.remove_framework(&fid);
    }
    // Heartbeats.
    let period = m.spec.timing.heartbeat_interval;
    for fw in m.frameworks.values_mut() {
        if let Some(c) = &mut fw.connection {
            if now.duration_since(c.last_heartbeat) >= period {
                c.send(&Event::heartbeat());
                c.last_heartbeat = now;
            }
        }
    }
    m.heartbeat_operators(now);
    let due = m.wakeups.take_due(now);
    let spawn = m.run_task_timers(now, &due);
    m.resend_updates(now, &due);
    if cfg!(debug_assertions) {
        m.check_wakeups();
    }
    m.expire_offers(now);
    // The periodic batch; an event-driven allocation leaves its phase be.
    let batch = now.duration_since(m.last_allocation) >= m.spec.timing.allocation_interval;
    if batch {
        m.last_allocation = now;
    }
    if batch || m.allocate_soon {
        m.allocate_soon = false;
        m.allocate(now);
    }
    if m.dirty {
        m.dirty = false;
        drop(m);
        app.touch();
    }
    spawn
}

/// Saves the state whenever something changed (at most every 50ms).
pub async fn persister(app: SharedApp) {
    let Some(file) = app.persist_file.clone() else {
        return;
    };
    loop {
        app.changed.notified().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        save_now(&app, &file);
    }
}

/// Saves the state now; a failure is reported, not fatal.
pub fn save_now(app: &SharedApp, file: &std::path::Path) {
    let m = app.lock();
    if let Err(e) = crate::persist::save(&m, file) {
        eprintln!("mesos-sim: cannot save state to {}: {e}", file.display());
    }
}
