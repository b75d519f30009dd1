//! The state: what `apply` launched, for the next plan and apply, kept in a
//! local file or in ZooKeeper (see `backend`).
//!
//! Schema types live in this file (the state file format, docs/state-file.md);
//! locking, atomic writes and backups live in the submodules.

mod backend;
mod error;
mod file;
mod file_backend;
mod lock;
pub mod manage;
mod store;
mod zk;

pub use backend::{open_backend, LockTaken, Revision, StateBackend, StateLocation};
pub use error::{backup_path, lock_path, StateError};
pub use file::{load, load_for, parse};
pub use lock::{force_unlock, force_unlock_if, holder, read_lock, LockHolder, LockInfo};
pub use store::{StateSink, StateStore};
pub use zk::ZkBackend;

/// Reads the state wherever it lives; `None` when nothing was stored yet.
pub fn load_at(location: &StateLocation) -> Result<Option<State>, StateError> {
    match location {
        StateLocation::File(p) => load(p),
        other => Ok(open_backend(other)?.read()?.map(|(s, _)| s)),
    }
}

/// Like [`load_at`], and refuses the state of another deployment.
pub fn load_for_at(
    location: &StateLocation,
    deployment: &str,
) -> Result<Option<State>, StateError> {
    match location {
        StateLocation::File(p) => load_for(p, deployment),
        other => {
            let backend = open_backend(other)?;
            let state = backend.read()?.map(|(s, _)| s);
            if let Some(s) = &state {
                file::check_deployment(std::path::Path::new(&backend.location()), s, deployment)?;
            }
            Ok(state)
        }
    }
}

/// The time the state writes on a record it changes (RFC 3339, UTC, to
/// the second).
pub fn timestamp_now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The bytes a state is stored as (pretty JSON, final newline), in every backend.
pub fn render_state(state: &State) -> Vec<u8> {
    file::render(state)
}

use crate::address::{Address, Role};
use mesos_api::TaskState;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The state file format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    pub format_version: u32,
    /// Identifies one deployment's history; a state of another lineage is refused.
    pub lineage: String,
    /// Incremented on every write.
    pub serial: u64,
    pub deployment: String,
    /// Our Mesos framework ID, reused on every subscribe.
    pub framework_id: Option<String>,
    /// Hex key of the secret fingerprints (see `desired::secrets::SecretHasher`).
    pub secret_hash_key: String,
    pub tasks: Vec<TaskRecord>,
    /// The configuration of the last successful apply (for the plan's diff and reasons).
    #[serde(default)]
    pub applied: Option<AppliedConfig>,
    #[serde(default)]
    pub outputs: Outputs,
    /// What each configuration still running was launched with, by
    /// configuration hash: what `apply --rollback-on-failure` relaunches.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub launch_templates: BTreeMap<String, LaunchTemplate>,
    /// Tasks let go with `state rm`: never adopted again from their Mesos
    /// labels, until `state import` takes them back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmanaged_task_ids: Vec<String>,
    /// The URL of the leading Mesos master at the last apply, for
    /// `plan --refresh-only` to tell a change of leader.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mesos_leader: Option<String>,
}

/// What a task was launched with, as far as Mesos is concerned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskResources {
    pub cpus: f64,
    /// Total memory held in Mesos (worker: JVM plus ramdisk), MB.
    pub mem_mb: f64,
    /// The ramdisk part of `mem_mb` (0 for masters), MB.
    #[serde(default)]
    pub ramdisk_mb: f64,
}

/// `pending`: intent written before the launch; otherwise the last Mesos state seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordedState {
    Pending,
    Mesos(TaskState),
}

impl Serialize for RecordedState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            RecordedState::Pending => s.serialize_str("pending"),
            RecordedState::Mesos(t) => s.serialize_str(t.as_str()),
        }
    }
}

impl<'de> Deserialize<'de> for RecordedState {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s == "pending" {
            return Ok(RecordedState::Pending);
        }
        TaskState::parse(&s).map(RecordedState::Mesos).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown task state {} (expected \"pending\" or a Mesos state such as \"TASK_RUNNING\")",
                crate::excerpt::quoted(&s)
            ))
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskRecord {
    pub address: Address,
    pub task_id: String,
    pub role: Role,
    pub agent_id: String,
    pub hostname: String,
    pub ports: Vec<u16>,
    pub resources: TaskResources,
    /// Hash of the configuration in this task's scope (see `plan::config`).
    pub config_hash: String,
    pub state: RecordedState,
    /// RFC 3339 time of the last change of this record.
    pub updated_at: String,
}

/// The record that stands for an address among its records: its running
/// task, else its most recent record (an interrupted replacement leaves two).
pub fn current_record<'a>(
    records: impl IntoIterator<Item = &'a TaskRecord>,
) -> Option<&'a TaskRecord> {
    records.into_iter().max_by_key(|t| {
        (
            matches!(t.state, RecordedState::Mesos(s) if s.is_active()),
            t.updated_at.clone(),
        )
    })
}

/// The configuration of the last successful apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppliedConfig {
    /// Effective site properties, secrets as fingerprints.
    pub site_properties: BTreeMap<String, String>,
    /// The masters' configuration fields (see `plan::config::RoleConfig`).
    #[serde(default)]
    pub master: BTreeMap<String, String>,
    /// The workers' configuration fields.
    #[serde(default)]
    pub worker: BTreeMap<String, String>,
    /// The configuration fields behind the hash label of each task left
    /// running under an older label than `master`'s or `worker`'s, by hash:
    /// a task kept through a change that concerned none of its fields (a
    /// master count) is explained later against what it was launched with.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub launched: BTreeMap<String, BTreeMap<String, String>>,
}

/// How the tasks of one configuration were launched: the `TaskInfo` less
/// what every launch picks anew, and the site properties with secrets as
/// fingerprints. A rollback restores it with the secrets of the deployment
/// file, and only while their fingerprints still match (the old value of a
/// changed secret is kept nowhere).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaunchTemplate {
    pub role: Role,
    /// `TaskInfo` JSON without task, executor, agent and framework IDs,
    /// resources, labels, and the environment variables made from the site
    /// properties (see `launch::template`).
    pub task_info: serde_json::Value,
    pub resources: TaskResources,
    pub ports: Vec<u16>,
    /// The site properties the tasks got, secrets as fingerprints.
    pub site_properties: BTreeMap<String, String>,
}

/// Where the deployment can be reached (`alluxio-mesos output`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outputs {
    /// `alluxio://host:19998` for every master.
    #[serde(default)]
    pub master_rpc: Vec<String>,
    /// `http://host:19999` for every master.
    #[serde(default)]
    pub master_web: Vec<String>,
}

impl State {
    /// The state of a deployment that has never been applied.
    pub fn empty(deployment: &str) -> State {
        State {
            format_version: FORMAT_VERSION,
            lineage: uuid::Uuid::new_v4().to_string(),
            serial: 0,
            deployment: deployment.to_string(),
            framework_id: None,
            secret_hash_key: crate::desired::secrets::SecretHasher::for_new_deployment(deployment)
                .key_hex(),
            tasks: Vec::new(),
            applied: None,
            outputs: Outputs::default(),
            launch_templates: BTreeMap::new(),
            unmanaged_task_ids: Vec::new(),
            mesos_leader: None,
        }
    }
}
