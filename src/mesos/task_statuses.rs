//! The latest status of some tasks, with Mesos's reason and message, from
//! the v1 operator API's `GET_TASKS`.
//!
//! A state document's statuses carry neither (Mesos writes only `state`,
//! `timestamp`, `labels`, `container_status` and `healthy` there), so the
//! drift report asks for them here, and only for the tasks that ended.

use super::http::HttpLimits;
use super::MesosError;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};

/// The most a `GET_TASKS` answer may be: it lists every framework's tasks.
const MAX_ANSWER: usize = 512 << 20;

/// What Mesos said last of a task.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatusFacts {
    pub state: Option<String>,
    /// `REASON_*`, when Mesos gave one.
    pub reason: Option<String>,
    /// `SOURCE_MASTER`, `SOURCE_AGENT` or `SOURCE_EXECUTOR`.
    pub source: Option<String>,
    pub message: Option<String>,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    get_tasks: Option<Lists>,
}

#[derive(Deserialize, Default)]
struct Lists {
    #[serde(default)]
    tasks: Vec<Task>,
    #[serde(default)]
    completed_tasks: Vec<Task>,
    #[serde(default)]
    unreachable_tasks: Vec<Task>,
    #[serde(default)]
    orphan_tasks: Vec<Task>,
}

#[derive(Deserialize)]
struct Task {
    task_id: Value,
    #[serde(default)]
    statuses: Vec<Status>,
}

#[derive(Deserialize)]
struct Value {
    value: String,
}

#[derive(Deserialize)]
struct Status {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    timestamp: Option<f64>,
}

/// The latest status of each of `ids` that the master at `base` knows.
pub async fn latest_statuses(
    client: &reqwest::Client,
    base: &str,
    ids: &HashSet<String>,
    limits: &HttpLimits,
) -> Result<HashMap<String, StatusFacts>, MesosError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let (url, request) =
        super::http::operator_call(client, base, r#"{"type":"GET_TASKS"}"#.to_string(), limits);
    let failed = |what: String| {
        MesosError::msg(format!(
            "cannot read the tasks' statuses from {} (operator API GET_TASKS): {what}",
            super::state_fetch::redact(&url)
        ))
    };
    let mut resp = request.send().await.map_err(|e| failed(e.to_string()))?;
    if !resp.status().is_success() {
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        return Err(failed(format!("{status} {}", text.trim())));
    }
    let mut body = Vec::new();
    while let Some(chunk) = tokio::time::timeout(limits.headers, resp.chunk())
        .await
        .map_err(|_| failed(format!("no data for {:?}", limits.headers)))?
        .map_err(|e| failed(e.to_string()))?
    {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_ANSWER {
            return Err(failed(format!(
                "the answer is larger than {} MiB",
                MAX_ANSWER >> 20
            )));
        }
    }
    let answer: Answer = serde_json::from_slice(&body)
        .map_err(|e| failed(format!("not a GET_TASKS answer: {e}")))?;
    let lists = answer.get_tasks.unwrap_or_default();
    let mut out = HashMap::new();
    for task in lists
        .tasks
        .into_iter()
        .chain(lists.completed_tasks)
        .chain(lists.unreachable_tasks)
        .chain(lists.orphan_tasks)
    {
        if !ids.contains(&task.task_id.value) {
            continue;
        }
        // Statuses are in order; the last of the latest timestamp wins.
        let latest = task
            .statuses
            .into_iter()
            .enumerate()
            .max_by(|(ia, a), (ib, b)| {
                let t = |s: &Status| s.timestamp.unwrap_or(f64::NEG_INFINITY);
                t(a).total_cmp(&t(b)).then(ia.cmp(ib))
            })
            .map(|(_, s)| s);
        if let Some(s) = latest {
            out.insert(
                task.task_id.value,
                StatusFacts {
                    state: s.state,
                    reason: s.reason,
                    source: s.source,
                    message: s.message.filter(|m| !m.is_empty()),
                },
            );
        }
    }
    Ok(out)
}
