//! The live cluster: a Mesos master's `/master/state` document (fetched by
//! [`crate::mesos`], or saved) reduced to what planning needs: agents with
//! their free resources, and our framework's tasks.
//!
//! Interface types live in this file; reading documents of every Mesos
//! version lives in the submodules:
//! - `document`: a state document (any version, or a v1 `GET_STATE`
//!   answer, from a stream or a saved file) into a [`LiveCluster`]; says
//!   how our framework is chosen and how free resources are counted;
//! - `scan`: a forward-only JSON scanner that skips what is not needed;
//! - `resources`, `values`: the many spellings of resources, IDs, numbers,
//!   times, labels and attributes;
//! - `error`: [`LiveError`], one line with the cause and a hint.

mod document;
mod error;
mod resources;
mod scan;
mod values;

pub use document::{parse_state, read_state, read_state_file, read_state_parts};
pub use error::LiveError;
pub(crate) use error::{body_start, OFFLINE_HINT};

use mesos_api::{PortRanges, TaskState};
use std::collections::BTreeMap;

/// The leading numbers of a Mesos version as far as they parse
/// (`1.11.0` -> [1, 11, 0], `1.4.0-rc1` -> [1, 4], `dev` -> []).
pub fn version_numbers(version: &str) -> Vec<u32> {
    version
        .trim()
        .split('.')
        .map_while(|p| p.parse().ok())
        .collect()
}

/// The HTTP URL of the master whose libprocess PID is `pid`
/// (`master@10.0.0.5:5050` -> `http://10.0.0.5:5050`).
pub fn leader_url(pid: &str, scheme: &str) -> Option<String> {
    let addr = pid.trim().rsplit_once('@').map_or(pid.trim(), |(_, a)| a);
    let (host, port) = addr.rsplit_once(':')?;
    if host.is_empty() || port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(format!("{scheme}://{host}:{port}"))
}

/// Which framework is ours: by ID when the state file knows it, else by
/// name; and which one we would take over (see [`Predecessor`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameworkSelector {
    pub id: Option<String>,
    pub name: String,
    /// Our role: resources reserved for it count as free for us.
    pub role: String,
    pub predecessor: Option<Predecessor>,
}

/// The AlluxioFramework to take over: a registered framework with this
/// name or ID. Unless named in `[migrate] from_framework` (`explicit`), it
/// counts only when its running tasks look like Alluxio 1.x's: named as
/// Alluxio names them (`task_names`), and without this tool's labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Predecessor {
    pub name_or_id: String,
    pub explicit: bool,
    pub task_names: Vec<String>,
}

/// The name Alluxio 1.x's AlluxioFramework registers under.
pub const ALLUXIO_FRAMEWORK_NAME: &str = "alluxio";

impl Predecessor {
    /// Whether a framework of this ID and name is the one named.
    pub fn names(&self, id: Option<&str>, name: Option<&str>) -> bool {
        id == Some(self.name_or_id.as_str()) || name == Some(self.name_or_id.as_str())
    }

    /// Whether `tasks` are an AlluxioFramework's: some run, and every one
    /// that runs has an Alluxio task name and none of our labels.
    pub fn looks_like(&self, tasks: &[LiveTask]) -> bool {
        let running: Vec<&LiveTask> = tasks.iter().filter(|t| t.state.is_active()).collect();
        !running.is_empty()
            && running.iter().all(|t| {
                self.task_names.contains(&t.name)
                    && !t.labels.contains_key(crate::plan::LABEL_ADDRESS)
            })
    }
}

impl FrameworkSelector {
    /// The framework of `desired`: its ID as `state` recorded it, else its
    /// `[mesos] framework_name`.
    pub fn for_deployment(
        desired: &crate::desired::Desired,
        state: Option<&crate::state::State>,
    ) -> Self {
        let explicit = desired.mesos.migrate_from.clone();
        FrameworkSelector {
            id: state.and_then(|s| s.framework_id.clone()),
            name: desired.mesos.framework_name.clone(),
            role: desired.mesos.role.clone(),
            predecessor: Some(Predecessor {
                explicit: explicit.is_some(),
                name_or_id: explicit.unwrap_or_else(|| ALLUXIO_FRAMEWORK_NAME.to_string()),
                task_names: vec![
                    desired.master.task.task_name.clone(),
                    desired.worker.task.task_name.clone(),
                ],
            }),
        }
    }
}

/// Scalar and port resources of an agent or a task.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resources {
    pub cpus: f64,
    /// Memory in MB, as Mesos counts it.
    pub mem_mb: f64,
    pub disk_mb: f64,
    pub ports: PortRanges,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Agent {
    pub id: String,
    pub hostname: String,
    /// Missing on very old agents: treated as active.
    pub active: bool,
    /// Attribute values rendered as text (`rack: "r1"`, `gen: "3"`).
    pub attributes: BTreeMap<String, String>,
    pub total: Resources,
    /// Neither used by tasks (ours included), nor offered to other
    /// frameworks, nor reserved for roles other than ours (details in
    /// `document`).
    pub free: Resources,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LiveTask {
    pub id: String,
    pub name: String,
    pub agent_id: String,
    pub state: TaskState,
    pub labels: BTreeMap<String, String>,
    /// The task's own resources; a custom executor holds more beside them.
    pub resources: Resources,
    /// Whether it runs under a custom executor (`executor_id` set).
    pub has_executor: bool,
    /// Time of the latest status (seconds since the epoch), when known.
    pub updated_at: Option<f64>,
    /// The latest status message, when Mesos gave one.
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LiveFramework {
    pub id: String,
    pub name: String,
    pub active: bool,
    /// Found only among the master's completed frameworks: Mesos removed
    /// it (failover timeout expired, or torn down) and refuses its ID.
    pub removed: bool,
    /// Running, completed and unreachable tasks together, sorted by task ID.
    pub tasks: Vec<LiveTask>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LiveCluster {
    /// Where the document came from (URL or file path), for messages.
    pub source: String,
    /// `version` of the master, when the document says.
    pub version: Option<String>,
    /// Agents sorted by ID.
    pub agents: Vec<Agent>,
    /// Our framework, if Mesos knows it.
    pub framework: Option<LiveFramework>,
    /// A registered AlluxioFramework to take over (see [`Predecessor`]).
    pub predecessor: Option<LiveFramework>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leader_url_turns_a_libprocess_pid_into_an_http_url() {
        assert_eq!(
            leader_url("master@10.0.0.5:5050", "http").as_deref(),
            Some("http://10.0.0.5:5050")
        );
        assert_eq!(
            leader_url("master@mesos-1.example.com:5050", "https").as_deref(),
            Some("https://mesos-1.example.com:5050")
        );
        assert_eq!(leader_url("master@10.0.0.5", "http"), None);
        assert_eq!(leader_url("", "http"), None);
        assert_eq!(leader_url("master@:5050", "http"), None);
    }
}
