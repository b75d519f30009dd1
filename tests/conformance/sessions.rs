//! The scripted sessions, each run against real Mesos and mesos-sim
//! started from the same cluster description. A session is a list of
//! named requests; the answers are compared one by one.

use crate::compare::Answer;
use crate::scheduler;
use crate::support::cluster::TestCluster;
use serde_json::{json, Value};
use std::time::Duration;

/// One request of a session.
pub enum Request {
    Get(&'static str),
    /// `POST /api/v1` with this call (operator API).
    Operator(Value),
}

impl Request {
    pub fn name(&self) -> String {
        match self {
            Request::Get(path) => format!("GET {path}"),
            Request::Operator(call) => format!("operator {}", call["type"].as_str().unwrap_or("?")),
        }
    }
}

/// Reads of an idle cluster (agents, no framework): the operator API's GET
/// calls and the master's read endpoints, aliases included.
pub fn idle_reads() -> Vec<Request> {
    let op = |t: &str| Request::Operator(json!({ "type": t }));
    vec![
        op("GET_HEALTH"),
        op("GET_VERSION"),
        op("GET_STATE"),
        op("GET_AGENTS"),
        op("GET_FRAMEWORKS"),
        op("GET_TASKS"),
        op("GET_ROLES"),
        op("GET_WEIGHTS"),
        op("GET_MASTER"),
        op("GET_FLAGS"),
        Request::Operator(json!({"type": "GET_METRICS", "get_metrics": {}})),
        Request::Get("/master/state"),
        Request::Get("/master/state-summary"),
        Request::Get("/master/slaves"),
        Request::Get("/master/frameworks"),
        Request::Get("/master/roles"),
        Request::Get("/master/tasks"),
        Request::Get("/master/flags"),
        Request::Get("/master/health"),
        Request::Get("/metrics/snapshot"),
        Request::Get("/version"),
        Request::Get("/master/state.json"),
        Request::Get("/master/slaves.json"),
    ]
}

/// The cluster's agents' hostnames, sorted: the order the sessions name
/// agents and hosts in (`<host-1>`, `<agent-1>`, ...).
pub fn hosts(cluster: &TestCluster) -> Vec<String> {
    let mut hosts: Vec<String> = cluster
        .desc
        .agents
        .iter()
        .map(|a| a.hostname.clone())
        .collect();
    hosts.sort();
    hosts
}

/// Sends `request` to the cluster's master and records the answer.
pub async fn ask(cluster: &TestCluster, request: &Request) -> Answer {
    let client = scheduler::http();
    let base = cluster.url();
    let sent = match request {
        Request::Get(path) => client.get(format!("{base}{path}")),
        Request::Operator(call) => client
            .post(format!("{base}/api/v1"))
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .json(call),
    };
    let response = sent
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}: {}: {e}", cluster.backend, request.name()));
    scheduler::answer_of(response).await
}

/// The exchanges of one backend's sessions, by name, with the values that
/// differ between any two clusters (IDs the session learnt) replaced by
/// names, so that texts can be compared verbatim.
#[derive(Default)]
pub struct Record {
    pub exchanges: Vec<(String, Answer)>,
    names: Vec<(String, String)>,
    pub timings: Vec<(&'static str, Duration)>,
}

impl Record {
    /// From now on `value` reads `name` in every recorded string.
    pub fn name(&mut self, value: &str, name: &str) {
        if !value.is_empty() && !self.names.iter().any(|(v, _)| v == value) {
            self.names.push((value.to_string(), name.to_string()));
            // Longest first: an ID that contains another is replaced whole.
            self.names.sort_by_key(|(v, _)| std::cmp::Reverse(v.len()));
        }
    }

    pub fn add(&mut self, exchange: impl Into<String>, mut answer: Answer) {
        if let Some(text) = &answer.text {
            answer.text = Some(self.normalise(text));
        }
        if let Some(body) = &mut answer.body {
            self.normalise_json(body);
        }
        self.exchanges.push((exchange.into(), answer));
    }

    /// Writes the exchanges (normalised) as JSON, for reading.
    pub fn save(&self, path: &std::path::Path) {
        let exchanges: Vec<Value> = self
            .exchanges
            .iter()
            .map(|(name, a)| {
                json!({"exchange": name, "status": a.status, "headers": a.headers,
                       "body": a.body, "text": a.text})
            })
            .collect();
        let text = serde_json::to_string_pretty(&exchanges).unwrap();
        std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }

    pub fn time(&mut self, what: &'static str, took: Duration) {
        self.timings.push((what, took));
    }

    fn normalise(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (value, name) in &self.names {
            out = out.replace(value.as_str(), name);
        }
        out
    }

    fn normalise_json(&self, value: &mut Value) {
        match value {
            Value::String(s) => *s = self.normalise(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.normalise_json(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.normalise_json(v)),
            _ => {}
        }
    }
}
