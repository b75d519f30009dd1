//! The scripted sessions, each run against real Mesos and mesos-sim
//! started from the same cluster description. A session is a list of
//! named requests; the answers are compared one by one.

use crate::compare::Answer;
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

/// Sends `request` to the cluster's master and records the answer.
pub async fn ask(cluster: &TestCluster, request: &Request) -> Answer {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
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
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let mut headers = Vec::new();
    if let Some(ct) = header("Content-Type") {
        headers.push(("Content-Type".to_string(), ct));
    }
    // Present or not: their values are IDs and addresses.
    for name in ["Mesos-Stream-Id", "Location"] {
        if header(name).is_some() {
            headers.push((name.to_string(), "(present)".to_string()));
        }
    }
    let bytes = response.bytes().await.unwrap_or_default();
    let body = serde_json::from_slice(&bytes).ok();
    let text = match &body {
        Some(_) => None,
        None if bytes.is_empty() => None,
        None => Some(String::from_utf8_lossy(&bytes).into_owned()),
    };
    Answer {
        status,
        headers,
        body,
        text,
    }
}
