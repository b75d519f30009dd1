//! Fault injection, for tests: agents leaving and coming back, tasks
//! failing, subscription streams dropping, leadership lost, calls failing
//! with 503, slow responses. Available as methods on the master (used by
//! `SimHandle`) and over HTTP under `/__sim/` — a prefix no Mesos has.

use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use mesos_api::TaskState;
use serde_json::json;

use crate::app::{json, text, SharedApp};
use crate::cluster::AgentSpec;
use crate::lifecycle::Change;
use crate::model::{now_secs, Agent, Master};

impl Master {
    /// The agent with this ID or hostname.
    pub fn find_agent(&self, id_or_hostname: &str) -> Option<String> {
        self.agents
            .values()
            .find(|a| a.id == id_or_hostname || a.hostname == id_or_hostname)
            .map(|a| a.id.clone())
    }

    /// Adds an agent after checking it, or brings back the one with this
    /// hostname (same ID, new resources).
    pub fn try_add_agent(&mut self, spec: &AgentSpec) -> Result<String, String> {
        spec.validate().map_err(|e| format!("agent{e}"))?;
        if let Some(id) = &spec.id {
            if let Some(other) = self.agents.get(id) {
                if other.hostname != spec.hostname {
                    return Err(format!(
                        "agent id {id:?} already belongs to {}",
                        other.hostname
                    ));
                }
            }
        }
        let id = self.add_agent(spec);
        self.listen_for_agents()?;
        self.publish_agent_added(&id);
        Ok(id)
    }

    /// Adds an agent, or brings a removed one back (same ID, nothing running).
    pub fn add_agent(&mut self, spec: &AgentSpec) -> String {
        if let Some(id) = self.find_agent(&spec.hostname) {
            let old = &self.agents[&id];
            let mut a = Agent::from_spec(spec, id.clone());
            // The same agent process: it keeps its address.
            a.port = old.port;
            a.listening = old.listening;
            a.removed = false;
            self.agents.insert(id.clone(), a);
            self.dirty = true;
            return id;
        }
        let id = spec
            .id
            .clone()
            .unwrap_or_else(|| format!("{}-S{}", self.id, self.agents.len()));
        self.agents
            .insert(id.clone(), Agent::from_spec(spec, id.clone()));
        self.dirty = true;
        id
    }

    /// Brings a removed agent back as it was configured.
    pub fn restore_agent(&mut self, agent_id: &str) -> bool {
        match self.agents.get_mut(agent_id) {
            Some(a) => {
                a.removed = false;
                a.removed_time = None;
                a.registered_time = now_secs();
                self.dirty = true;
                self.publish_agent_added(agent_id);
                true
            }
            None => false,
        }
    }

    /// Makes a task fail as if its command had exited non-zero.
    pub fn fail_task(&mut self, task_id: &str, message: &str) -> bool {
        let fid = self
            .frameworks
            .values()
            .find(|f| f.tasks.contains_key(task_id))
            .map(|f| f.id.clone());
        let Some(fid) = fid else {
            return false;
        };
        self.change_task(
            &fid,
            task_id,
            Change {
                message: Some(message),
                ..Change::executor(TaskState::Failed)
            },
        )
    }

    /// Ends a framework's subscription as if the connection broke.
    pub fn disconnect(&mut self, fid: &str) {
        self.drop_offers_of(fid);
        if let Some(fw) = self.frameworks.get_mut(fid) {
            if fw.connection.take().is_some() {
                fw.disconnected_at = Some(Instant::now());
                fw.unregistered_time = Some(now_secs());
                fw.filters.clear();
            }
        }
    }

    /// Drops every subscription stream, the operators' event streams too.
    pub fn drop_streams(&mut self) -> usize {
        let ids: Vec<String> = self
            .frameworks
            .values()
            .filter(|f| f.connected())
            .map(|f| f.id.clone())
            .collect();
        for id in &ids {
            self.disconnect(id);
        }
        ids.len() + self.drop_operator_streams()
    }

    /// Stops or resumes leading. A master that stops leading drops its
    /// streams and offers, as a Mesos master does when it loses the election.
    pub fn set_leading(&mut self, leading: bool) {
        if !leading {
            self.drop_streams();
            self.offers.clear();
        }
        self.leading = leading;
    }
}

/// `POST /__sim/agents/{id or hostname}/remove`.
pub async fn remove_agent(State(app): State<SharedApp>, Path(agent): Path<String>) -> Response {
    let ok = {
        let mut m = app.lock();
        m.find_agent(&agent).is_some_and(|id| m.remove_agent(&id))
    };
    app.touch();
    done(ok, &agent)
}

/// `POST /__sim/agents/{id or hostname}/restore`.
pub async fn restore_agent(State(app): State<SharedApp>, Path(agent): Path<String>) -> Response {
    let ok = {
        let mut m = app.lock();
        m.find_agent(&agent).is_some_and(|id| m.restore_agent(&id))
    };
    app.touch();
    done(ok, &agent)
}

/// `POST /__sim/agents` with an agent as JSON (the cluster file's fields).
pub async fn add_agent(State(app): State<SharedApp>, body: String) -> Response {
    let spec: AgentSpec = match serde_json::from_str(&body) {
        Ok(s) => s,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("invalid agent: {e}")),
    };
    let added = app.lock().try_add_agent(&spec);
    crate::agent_http::serve_new(&app);
    app.touch();
    match added {
        Ok(id) => json(&json!({ "id": id })),
        Err(e) => text(StatusCode::BAD_REQUEST, e),
    }
}

#[derive(serde::Deserialize)]
pub struct FailBody {
    #[serde(default)]
    message: Option<String>,
}

/// `POST /__sim/tasks/{task id}/fail`.
pub async fn fail_task(
    State(app): State<SharedApp>,
    Path(task): Path<String>,
    body: Option<Json<FailBody>>,
) -> Response {
    let message = body
        .and_then(|b| b.0.message)
        .unwrap_or_else(|| "Injected failure (mesos-sim)".into());
    let ok = app.lock().fail_task(&task, &message);
    app.touch();
    done(ok, &task)
}

/// `POST /__sim/streams/drop`.
pub async fn drop_streams(State(app): State<SharedApp>) -> Response {
    let n = app.lock().drop_streams();
    json(&json!({ "dropped": n }))
}

#[derive(serde::Deserialize)]
pub struct LeadingQuery {
    leading: bool,
    #[serde(default)]
    leader: Option<String>,
}

/// `POST /__sim/leading?leading=false[&leader=http://host:port]`.
pub async fn leading(State(app): State<SharedApp>, Query(q): Query<LeadingQuery>) -> Response {
    let mut m = app.lock();
    m.set_leading(q.leading);
    if q.leader.is_some() {
        m.leader_url = q.leader;
    }
    StatusCode::NO_CONTENT.into_response()
}

#[derive(serde::Deserialize)]
pub struct CountQuery {
    n: u32,
}

/// `POST /__sim/fail-next?n=N`: the next N API calls answer 503.
pub async fn fail_next(State(app): State<SharedApp>, Query(q): Query<CountQuery>) -> Response {
    app.lock().faults.fail_next_calls = q.n;
    StatusCode::NO_CONTENT.into_response()
}

#[derive(serde::Deserialize)]
pub struct DelayQuery {
    ms: u64,
}

/// `POST /__sim/delay?ms=N`: delay every Mesos response.
pub async fn delay(State(app): State<SharedApp>, Query(q): Query<DelayQuery>) -> Response {
    app.lock().faults.response_delay = Duration::from_millis(q.ms);
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /__sim/transitions`: every task state change so far, in order.
pub async fn transitions(State(app): State<SharedApp>) -> Response {
    let t = app.lock().transitions.clone();
    json(&serde_json::to_value(t).unwrap_or_default())
}

fn done(ok: bool, what: &str) -> Response {
    if ok {
        StatusCode::NO_CONTENT.into_response()
    } else {
        text(
            StatusCode::NOT_FOUND,
            format!("no such agent or task: {what}"),
        )
    }
}
