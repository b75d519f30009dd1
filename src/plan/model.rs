//! The plan: what would change, where and why.
//!
//! The types make wrong plans unrepresentable: a launch always has an agent
//! and a task specification, a kill always names an existing task. The JSON
//! contract (docs/plan-json.md) is a flattened view produced by
//! [`crate::render::json`], not these types' derive.

use crate::address::{Address, Role};
use crate::fit::{Demand, ExecutorShare};
use mesos_api::TaskState;
use serde::{Deserialize, Serialize};

/// The plan JSON contract version.
pub const FORMAT_VERSION: &str = "1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub deployment: String,
    /// Every slot of the deployment, sorted by address (masters first).
    pub changes: Vec<Change>,
    pub placement_failures: Vec<PlacementFailure>,
    /// Unified diff of the effective site properties, secrets redacted.
    pub config_diff: String,
    /// Notes on the configuration diff (e.g. client-only keys replace nothing).
    pub config_notes: Vec<String>,
    /// Things a reviewer should know that are not changes.
    pub warnings: Vec<String>,
    /// Whether this plan was made with `--destroy`.
    pub destroy: bool,
    /// How apply rolls the changes out (decided here, shown to reviewers,
    /// never re-read from the deployment by apply).
    pub rollout: Rollout,
    /// The configuration the state records as applied once every change
    /// is done (None for a destroy plan).
    pub applied: Option<crate::state::AppliedConfig>,
}

/// The rollout policy apply follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollout {
    /// Workers replaced at a time (masters always go one at a time).
    pub max_unavailable: u32,
}

impl Rollout {
    /// One line for reviewers.
    pub fn describe(&self) -> String {
        format!(
            "kills first; then masters one at a time (standbys before the Alluxio leader that ZooKeeper names at apply time); then new workers in parallel and running workers replaced {} at a time",
            self.max_unavailable.max(1)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentRef {
    pub id: String,
    pub hostname: String,
}

/// What a planned task will be launched with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskSpec {
    /// Mesos task name (`AlluxioMaster`, `AlluxioWorker`).
    pub name: String,
    pub cpus: f64,
    /// JVM memory, MB.
    pub jvm_mem_mb: f64,
    /// Ramdisk memory, MB (0 for masters).
    pub ramdisk_mb: f64,
    pub ports: Vec<u16>,
    /// Where Alluxio comes from: `LOCAL /opt/alluxio` or the tarball URL.
    pub install: String,
    pub config_hash: String,
    /// The default launcher's executor, which holds resources of its own
    /// beside the task (None for a `command` task).
    pub executor: Option<ExecutorShare>,
}

impl TaskSpec {
    /// The task's own memory: JVM plus ramdisk.
    pub fn mem_mb(&self) -> f64 {
        self.jvm_mem_mb + self.ramdisk_mb
    }

    /// What the task needs from an agent, its executor included.
    pub fn demand(&self) -> Demand {
        Demand {
            cpus: self.cpus,
            jvm_mem_mb: self.jvm_mem_mb,
            ramdisk_mb: self.ramdisk_mb,
            ports: self.ports.clone(),
            executor: self.executor,
        }
    }
}

/// A task that exists now (in Mesos, or at least in the state file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExistingTask {
    pub task_id: String,
    pub agent: AgentRef,
    /// The last state Mesos reported; None when Mesos does not know the task.
    pub state: Option<TaskState>,
    pub cpus: f64,
    pub mem_mb: f64,
    pub ports: Vec<u16>,
    pub config_hash: Option<String>,
    /// The executor that holds resources beside the task, when it has one.
    #[serde(default)]
    pub executor: Option<ExecutorShare>,
}

impl ExistingTask {
    /// What the task holds on its agent, its executor included.
    pub fn demand(&self) -> Demand {
        Demand {
            cpus: self.cpus,
            jvm_mem_mb: self.mem_mb,
            ramdisk_mb: 0.0,
            ports: self.ports.clone(),
            executor: self.executor,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Action {
    Launch {
        agent: AgentRef,
        after: TaskSpec,
    },
    Kill {
        before: ExistingTask,
    },
    Replace {
        before: ExistingTask,
        agent: AgentRef,
        after: TaskSpec,
    },
    NoOp {
        before: ExistingTask,
    },
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Launch { .. } => "launch",
            Action::Kill { .. } => "kill",
            Action::Replace { .. } => "replace",
            Action::NoOp { .. } => "no-op",
        }
    }

    pub fn before(&self) -> Option<&ExistingTask> {
        match self {
            Action::Launch { .. } => None,
            Action::Kill { before } | Action::Replace { before, .. } | Action::NoOp { before } => {
                Some(before)
            }
        }
    }

    pub fn after(&self) -> Option<(&AgentRef, &TaskSpec)> {
        match self {
            Action::Launch { agent, after } | Action::Replace { agent, after, .. } => {
                Some((agent, after))
            }
            Action::Kill { .. } | Action::NoOp { .. } => None,
        }
    }

    /// The agent the change happens on (new agent for launches and replacements).
    pub fn agent(&self) -> &AgentRef {
        match self {
            Action::Launch { agent, .. } | Action::Replace { agent, .. } => agent,
            Action::Kill { before } | Action::NoOp { before } => &before.agent,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub address: Address,
    pub action: Action,
    /// Why: one line each, in the order they were found.
    pub reasons: Vec<String>,
    /// Whether apply may launch it on another eligible agent when the
    /// planned one sends no fitting offer in time (or leaves Mesos).
    pub may_move: bool,
}

impl Change {
    pub fn role(&self) -> Role {
        self.address.role()
    }
}

/// Why one agent cannot take a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentRejection {
    pub agent: AgentRef,
    pub reasons: Vec<String>,
}

/// A task (or, for `count = "all"` workers, a set of agents) that cannot be placed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlacementFailure {
    /// The slot, or None for "a worker on every agent".
    pub address: Option<Address>,
    pub role: Role,
    /// One line: what could not be placed.
    pub summary: String,
    /// How many tasks this failure leaves unplaced.
    pub unplaced: u32,
    /// Every agent considered, with why it was rejected.
    pub agents: Vec<AgentRejection>,
    /// What the operator can do (e.g. the two port remedies).
    pub remedies: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub launch: u32,
    pub replace: u32,
    pub kill: u32,
    pub unplaceable: u32,
}

impl Plan {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.changes {
            match c.action {
                Action::Launch { .. } => s.launch += 1,
                Action::Replace { .. } => s.replace += 1,
                Action::Kill { .. } => s.kill += 1,
                Action::NoOp { .. } => {}
            }
        }
        s.unplaceable = self.placement_failures.iter().map(|f| f.unplaced).sum();
        s
    }

    /// Whether live differs from desired: changes to make, or tasks that
    /// cannot be placed (they are pending too, only not actionable now).
    pub fn differs(&self) -> bool {
        self.has_changes() || self.placement_failures.iter().any(|f| f.unplaced > 0)
    }

    /// Whether applying the plan would change anything.
    pub fn has_changes(&self) -> bool {
        self.changes
            .iter()
            .any(|c| !matches!(c.action, Action::NoOp { .. }))
    }
}
