//! Finding and reading a task's sandbox files, the way the Mesos web UI
//! does: the master names the agent (`pid` `slave(1)@host:port`), the
//! agent's `/slave(1)/state` names the executor's sandbox `directory`, and
//! the agent's `/files/read` serves the file in pages.

use serde_json::Value;

/// Where a task's sandbox lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sandbox {
    /// `http://host:port` of the agent.
    pub agent_url: String,
    /// The sandbox directory on the agent.
    pub directory: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot read {url}: {cause}")]
    Http { url: String, cause: String },
    #[error("the Mesos master does not list agent {0}: it may have been removed, and its sandboxes with it")]
    UnknownAgent(String),
    #[error("agent {agent} has an unusable pid {}", crate::excerpt::quoted(.pid))]
    BadPid { agent: String, pid: String },
    #[error("agent {agent} has no sandbox for task {task}: it may have been garbage-collected")]
    NoSandbox { agent: String, task: String },
}

async fn get_json(client: &reqwest::Client, url: &str) -> Result<Value, SandboxError> {
    let err = |cause: String| SandboxError::Http {
        url: url.to_string(),
        cause,
    };
    let resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| err(e.to_string()))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(err(format!("HTTP {status}")));
    }
    resp.json().await.map_err(|e| err(format!("not JSON: {e}")))
}

/// `slave(1)@10.0.0.11:5051` -> (`http://10.0.0.11:5051`, `slave(1)`).
fn split_pid(pid: &str, scheme: &str) -> Option<(String, String)> {
    let (id, addr) = pid.split_once('@')?;
    (!id.is_empty() && !addr.is_empty()).then(|| (format!("{scheme}://{addr}"), id.to_string()))
}

/// Every executor entry of an agent's state document.
fn executors(state: &Value) -> impl Iterator<Item = &Value> {
    ["frameworks", "completed_frameworks"]
        .into_iter()
        .flat_map(move |k| state[k].as_array().into_iter().flatten())
        .flat_map(|f| {
            ["executors", "completed_executors"]
                .into_iter()
                .flat_map(move |k| f[k].as_array().into_iter().flatten())
        })
}

fn runs_task(executor: &Value, task_id: &str) -> bool {
    let listed = ["tasks", "completed_tasks", "queued_tasks"]
        .iter()
        .any(|k| {
            executor[*k]
                .as_array()
                .into_iter()
                .flatten()
                .any(|t| t["id"].as_str() == Some(task_id))
        });
    listed || executor["source"].as_str() == Some(task_id)
}

/// Looks the sandbox of `task_id` on `agent_id` up through the master at `master_url`.
pub async fn find(
    client: &reqwest::Client,
    master_url: &str,
    agent_id: &str,
    task_id: &str,
) -> Result<Sandbox, SandboxError> {
    let master = master_url.trim_end_matches('/');
    let slaves = get_json(client, &format!("{master}/master/slaves")).await?;
    let agent = slaves["slaves"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["id"].as_str() == Some(agent_id))
        .ok_or_else(|| SandboxError::UnknownAgent(agent_id.to_string()))?;
    let pid = agent["pid"].as_str().unwrap_or_default();
    let scheme = if master.starts_with("https://") {
        "https"
    } else {
        "http"
    };
    let (agent_url, endpoint) = split_pid(pid, scheme).ok_or_else(|| SandboxError::BadPid {
        agent: agent_id.to_string(),
        pid: pid.to_string(),
    })?;
    let state = get_json(client, &format!("{agent_url}/{endpoint}/state")).await?;
    let directory = executors(&state)
        .find(|e| runs_task(e, task_id))
        .and_then(|e| e["directory"].as_str())
        .ok_or_else(|| SandboxError::NoSandbox {
            agent: agent_id.to_string(),
            task: task_id.to_string(),
        })?;
    Ok(Sandbox {
        agent_url,
        directory: directory.to_string(),
    })
}

/// Reads `length` bytes of a sandbox file from `offset` (`/files/read`).
/// Returns the data and the offset after it.
pub async fn read(
    client: &reqwest::Client,
    sandbox: &Sandbox,
    file: &str,
    offset: u64,
    length: u64,
) -> Result<(String, u64), SandboxError> {
    let path = format!("{}/{file}", sandbox.directory);
    let url = format!("{}/files/read", sandbox.agent_url);
    let err = |cause: String| SandboxError::Http {
        url: url.clone(),
        cause,
    };
    let resp = client
        .get(&url)
        .query(&[
            ("path", path.as_str()),
            ("offset", &offset.to_string()),
            ("length", &length.to_string()),
        ])
        .send()
        .await
        .map_err(|e| err(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(err(format!("HTTP {} for {path}", resp.status())));
    }
    let page: Value = resp
        .json()
        .await
        .map_err(|e| err(format!("not JSON: {e}")))?;
    let data = page["data"].as_str().unwrap_or_default().to_string();
    let next = offset + data.len() as u64;
    Ok((data, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_pids_split_into_url_and_endpoint() {
        assert_eq!(
            split_pid("slave(1)@10.0.0.11:5051", "http"),
            Some(("http://10.0.0.11:5051".into(), "slave(1)".into()))
        );
        assert_eq!(split_pid("garbage", "http"), None);
    }

    #[test]
    fn executors_are_found_by_their_tasks_or_source() {
        let state = serde_json::json!({
            "frameworks": [{"executors": [{"source": "t1", "directory": "/a", "tasks": []}]}],
            "completed_frameworks": [{"completed_executors": [{"directory": "/b", "completed_tasks": [{"id": "t2"}]}]}]
        });
        let dirs: Vec<_> = ["t1", "t2"]
            .iter()
            .map(|t| executors(&state).find(|e| runs_task(e, t)).unwrap()["directory"].clone())
            .collect();
        assert_eq!(dirs, ["/a", "/b"]);
    }
}
