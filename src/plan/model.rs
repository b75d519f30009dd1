//! The plan: what would change, where and why.
//!
//! The types make wrong plans unrepresentable: a launch always has an agent
//! and a task specification, a kill always names an existing task. The JSON
//! contract (docs/plan-json.md) is a flattened view produced by
//! [`crate::render::json`], not these types' derive.

use crate::address::{Address, Role};
use crate::desired::constraint::Constraint;
use crate::desired::{Ready, ReadyWhen};
use crate::fit::{Demand, ExecutorShare};
use crate::state::LaunchTemplate;
use mesos_api::TaskState;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    /// Set when the plan was limited with `--target`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targeting: Option<Targeting>,
    /// Set when apply first tears down a running AlluxioFramework.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub takeover: Option<Takeover>,
    /// How apply rolls the changes out (decided here, shown to reviewers,
    /// never re-read from the deployment by apply).
    pub rollout: Rollout,
    /// The configuration the state records as applied once every change
    /// is done (None for a destroy plan).
    pub applied: Option<crate::state::AppliedConfig>,
    /// How each configuration this plan launches is launched, by
    /// configuration hash: the `TaskInfo` without what each launch sets,
    /// secrets as fingerprints. Apply launches nothing else.
    pub launch_templates: BTreeMap<String, LaunchTemplate>,
    /// The masters' ports, for the outputs (`alluxio://host:rpc`, web UI).
    pub master_ports: MasterPorts,
}

/// A plan limited with `--target`: the addresses asked for, those added
/// because the targets need them, and how many changes (and unplaced
/// tasks) of the rest of the deployment the plan leaves out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Targeting {
    pub targets: Vec<Address>,
    pub needed: Vec<Address>,
    pub left_out: u32,
}

impl Targeting {
    /// Terraform's warning for a targeted plan, in our words.
    pub fn warning(&self) -> String {
        let names = |v: &[Address]| {
            v.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let needed = if self.needed.is_empty() {
            String::new()
        } else {
            format!(
                " and {} (needed by the targeted workers)",
                names(&self.needed)
            )
        };
        let rest = match self.left_out {
            0 => "nothing else of the deployment differs now".to_string(),
            n => format!("{n} other change(s) of the deployment are left out"),
        };
        format!(
            "targeting is in effect (--target): this plan covers {}{needed} only; {rest}, and after apply the cluster and the state may not match the whole deployment. --target is for exceptional cases, such as recovering from a mistake or an error, not for routine use: run a plan without it afterwards",
            names(&self.targets)
        )
    }
}

/// A running AlluxioFramework that apply tears down (operator API
/// TEARDOWN) before it launches this deployment on the resources freed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Takeover {
    pub framework_id: String,
    pub framework_name: String,
    /// Its running tasks, with their Mesos task names.
    pub tasks: Vec<(String, ExistingTask)>,
    /// Who sends the TEARDOWN (a principal, or none).
    pub operator: Option<String>,
}

impl Takeover {
    /// One line for the plan's heading.
    pub fn headline(&self) -> String {
        format!(
            "AlluxioFramework {:?} ({}) will be torn down and taken over",
            self.framework_name, self.framework_id
        )
    }

    /// What a reviewer must know: its tasks, the downtime, what apply does.
    pub fn details(&self) -> Vec<String> {
        const SHOWN: usize = 10;
        let mut tasks: Vec<String> = self
            .tasks
            .iter()
            .take(SHOWN)
            .map(|(name, t)| {
                let ports = crate::fit::fmt_ports(&t.ports);
                format!(
                    "{name} {} on {} (ports {ports})",
                    t.task_id, t.agent.hostname
                )
            })
            .collect();
        if self.tasks.len() > SHOWN {
            tasks.push(format!("and {} more", self.tasks.len() - SHOWN));
        }
        let operator = match &self.operator {
            Some(p) => format!("as operator principal {p}"),
            None => "without credentials (none are configured)".to_string(),
        };
        vec![
            format!("its {} running task(s): {}", self.tasks.len(), tasks.join(", ")),
            format!(
                "downtime: Mesos lets one framework end another's tasks only through the operator API's TEARDOWN, so all {} stop at once; Alluxio is down from the teardown until the new masters serve and the workers register again",
                self.tasks.len()
            ),
            format!(
                "apply sends TEARDOWN {operator}, only after confirmation on a terminal or with --auto-approve, waits until Mesos no longer lists the framework, then launches this deployment on the resources its tasks free (each launch waits for the offer that brings them back)"
            ),
        ]
    }
}

/// The masters' RPC and web ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasterPorts {
    pub rpc: u16,
    pub web: u16,
}

/// The rollout policy apply follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollout {
    /// Workers replaced at a time (masters always go one at a time).
    pub max_unavailable: u32,
    /// The masters to replace, in the order apply replaces them: standbys
    /// before the Alluxio leader (see [`Plan::replace_leader_last`]).
    pub master_order: Vec<Address>,
    /// What is known of the Alluxio leader, one line (None: not asked,
    /// fewer than two running masters are replaced).
    pub leader: Option<String>,
    /// The master whose hostname the plan's workers are started with
    /// (ZooKeeper off): workers launched into empty slots wait until it
    /// runs. None with ZooKeeper on: they launch at once, beside the masters.
    pub workers_wait_for: Option<Address>,
    /// What an agent must meet to take a master or worker that moves off
    /// its planned agent.
    pub master_constraints: Option<Constraint>,
    pub worker_constraints: Option<Constraint>,
    /// When apply counts a launched master, and worker, as started. Plan
    /// files of earlier releases lack it: Mesos's word, as they promised.
    #[serde(default)]
    pub master_ready: Ready,
    #[serde(default)]
    pub worker_ready: Ready,
}

impl Rollout {
    /// One line for reviewers.
    pub fn describe(&self) -> String {
        let masters = match self.master_order.as_slice() {
            [] | [_] => "masters one at a time".to_string(),
            order => format!(
                "masters one at a time, in this order: {}",
                order
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let leader = self
            .leader
            .as_deref()
            .map(|l| format!(" ({l})"))
            .unwrap_or_default();
        let fresh = match &self.workers_wait_for {
            Some(master) => format!("new workers all at once when {master} runs"),
            None => "new workers all at once, beside the masters".to_string(),
        };
        format!(
            "kills first; {masters}{leader}; {fresh}; running workers replaced {} at a time once the masters are done{}",
            self.max_unavailable.max(1),
            self.readiness()
        )
    }

    /// When a task of `role` counts as started.
    pub fn ready(&self, role: Role) -> Ready {
        match role {
            Role::Master => self.master_ready,
            Role::Worker => self.worker_ready,
        }
    }

    /// When a task counts as started, where Alluxio is asked ("" when Mesos's
    /// TASK_RUNNING is enough for both roles, as it always was).
    fn readiness(&self) -> String {
        let part = |role: &str, ready: &Ready, alluxio: &str| match ready.when {
            ReadyWhen::Mesos => format!("{role} once Mesos runs them"),
            ReadyWhen::Alluxio => format!(
                "{role} once {alluxio} (within {})",
                humantime::format_duration(ready.timeout)
            ),
        };
        if self.master_ready.when == ReadyWhen::Mesos && self.worker_ready.when == ReadyWhen::Mesos
        {
            return String::new();
        }
        format!(
            "; started means: {}, {}",
            part("masters", &self.master_ready, "Alluxio's REST API answers"),
            part(
                "workers",
                &self.worker_ready,
                "the leading master lists them"
            )
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
    /// Each reason without what is particular to this agent (how much it
    /// has free, its attributes): plans group agents by these. Plan files
    /// written before causes existed have none; the reasons stand in.
    #[serde(default)]
    pub causes: Vec<String>,
}

/// One reason an agent cannot take a task: its cause, shared by every
/// agent rejected for the same thing, and the whole line for this agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Why {
    pub cause: String,
    pub reason: String,
}

impl Why {
    /// A reason with nothing particular to the agent.
    pub fn general(reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Why {
            cause: reason.clone(),
            reason,
        }
    }
}

impl AgentRejection {
    pub fn new(agent: AgentRef, whys: Vec<Why>) -> Self {
        let (causes, reasons) = whys.into_iter().map(|w| (w.cause, w.reason)).unzip();
        AgentRejection {
            agent,
            reasons,
            causes,
        }
    }

    /// The causes, or the reasons of a plan file that has no causes.
    pub fn causes(&self) -> &[String] {
        if self.causes.len() == self.reasons.len() {
            &self.causes
        } else {
            &self.reasons
        }
    }
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

/// What apply's caller learnt of the Alluxio leader (from ZooKeeper).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaderKnowledge {
    /// The leader's RPC address, and the ZooKeeper URL (credentials
    /// redacted) of the leader path it was read from.
    Known {
        host: String,
        port: u16,
        zookeeper: String,
    },
    /// Why the leader is not known.
    Unknown { why: String },
}

impl Plan {
    /// How many running masters this plan replaces: with two or more, the
    /// order matters (the Alluxio leader goes last, so Alluxio fails over
    /// once rather than once per master).
    pub fn running_masters_replaced(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| c.role() == Role::Master)
            .filter(|c| matches!(&c.action, Action::Replace { before, .. } if before.state.is_some_and(TaskState::is_active)))
            .count()
    }

    /// Moves the replacement of the master running at the leader's
    /// `host:port` after the other masters in `rollout.master_order` and
    /// says what was found in `rollout.leader`. The port is the RPC port,
    /// or one the old task holds (a plan may change the RPC port).
    pub fn replace_leader_last(&mut self, leader: &LeaderKnowledge) {
        if self.running_masters_replaced() < 2 {
            return;
        }
        let line = match leader {
            LeaderKnowledge::Unknown { why } => {
                format!("Alluxio leader unknown ({why}): masters are replaced in index order")
            }
            LeaderKnowledge::Known {
                host,
                port,
                zookeeper,
            } => {
                let rpc = self.master_ports.rpc;
                let is_leader = |c: &Change| {
                    matches!(&c.action, Action::Replace { before, .. }
                        if before.state.is_some_and(TaskState::is_active)
                            && before.agent.hostname.eq_ignore_ascii_case(host)
                            && (*port == rpc || before.ports.contains(port)))
                };
                let found = self
                    .changes
                    .iter()
                    .find(|c| c.role() == Role::Master && is_leader(c))
                    .map(|c| c.address.clone());
                match found {
                    Some(address) => {
                        let order = &mut self.rollout.master_order;
                        order.retain(|a| *a != address);
                        order.push(address.clone());
                        format!("Alluxio leader: {address} ({host}:{port}, from ZooKeeper {zookeeper}): replaced last")
                    }
                    None => format!(
                        "Alluxio leader {host}:{port} (from ZooKeeper {zookeeper}) is none of the running masters being replaced: masters are replaced in index order"
                    ),
                }
            }
        };
        self.rollout.leader = Some(line);
    }

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
    /// A plan limited with `--target` still judges the whole deployment.
    pub fn differs(&self) -> bool {
        self.has_changes()
            || self.placement_failures.iter().any(|f| f.unplaced > 0)
            || self.targeting.as_ref().is_some_and(|t| t.left_out > 0)
    }

    /// Whether applying the plan would change anything.
    pub fn has_changes(&self) -> bool {
        self.takeover.is_some()
            || self
                .changes
                .iter()
                .any(|c| !matches!(c.action, Action::NoOp { .. }))
    }
}
