//! The desired deployment: the TOML deployment file plus `alluxio-site.properties`,
//! validated into a [`Desired`] value that the planner trusts completely.
//!
//! Everything here is offline: no Mesos, no state file. Errors are located
//! diagnostics (file, line, column, and a help line with the fix).
//!
//! Interface types live in this file; parsing and validation live in the
//! submodules.

use crate::address::Role;
use crate::desired::constraint::Constraint;
use crate::desired::secrets::SiteProperties;
use crate::desired::size::ByteSize;
use std::path::PathBuf;
use std::time::Duration;

pub mod constraint;
pub mod deployment_file;
pub mod diagnostic;
pub mod kinds;
pub mod load;
pub mod locator;
pub mod properties;
pub mod secrets;
pub mod settings;
pub mod size;

pub use constraint::{parse_constraint, ConstraintError};
pub use diagnostic::{DesiredError, Location, Problem};
pub use load::{
    effective_user_name, load, load_with_env, load_with_warnings, state_location_of, Loaded,
    ACCOUNT_OF_EUID,
};
pub use locator::parse_master_locator;

/// A fully validated deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// Deployment name (`name` in the TOML file).
    pub name: String,
    pub mesos: MesosSettings,
    pub install: Install,
    pub master: MasterSpec,
    pub worker: WorkerSpec,
    /// `alluxio.zookeeper.address` when `alluxio.zookeeper.enabled=true`.
    pub zookeeper: Option<String>,
    /// The effective site properties passed to every task: the properties
    /// file, with the settings given in the TOML file written under their
    /// Alluxio keys. Secrets are held as [`secrets::PropertyValue::Secret`].
    pub site: SiteProperties,
    /// The settings given in the deployment file, by the property key they
    /// are written under, with the `table.key` the user wrote: plans name
    /// a change the way it was written.
    pub setting_names: std::collections::BTreeMap<String, String>,
    /// `[state] url`; `None`: the state file beside the deployment file.
    pub state: Option<crate::state::StateLocation>,
    pub files: SourceFiles,
}

/// Where the deployment came from (for messages and relative paths).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFiles {
    pub deployment: PathBuf,
    pub properties: PathBuf,
}

/// How to reach Mesos and who we are there.
#[derive(Debug, Clone, PartialEq)]
pub struct MesosSettings {
    /// None when the file does not say: `--mesos` or `--mesos-state` must then.
    pub master: Option<MasterLocator>,
    /// Framework name (defaults to the deployment name).
    pub framework_name: String,
    pub principal: Option<String>,
    /// The framework secret; never printed (its `Debug` is redacted).
    pub secret: Option<secrets::Secret>,
    /// `[migrate] from_framework`: the AlluxioFramework to take over, by
    /// name or ID (None: one named `alluxio` that looks like it).
    pub migrate_from: Option<String>,
    /// `[migrate] principal` and `ALLUXIO_MESOS_OPERATOR_SECRET`: who
    /// tears the old framework down (None: the framework's credentials).
    pub operator: Option<(String, Option<secrets::Secret>)>,
    /// Role the framework registers with (`*` by default).
    pub role: String,
    /// Unix user the tasks run as.
    pub user: String,
    /// How long Mesos keeps our tasks after the CLI disconnects.
    pub failover_timeout: Duration,
    pub ca_cert: Option<PathBuf>,
    /// Cluster file for `master = "local"` (None: the built-in three agents).
    pub local_cluster: Option<PathBuf>,
}

/// The `[mesos] master` setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MasterLocator {
    /// One or more `http(s)://host:port` URLs (tried in order, following the leader).
    Http(Vec<String>),
    /// `zk://[user:pass@]host:port,.../path`.
    ZooKeeper(String),
    /// The embedded emulator (`master = "local"`).
    Local,
}

/// Where Alluxio and Java come from on the agents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Install {
    pub alluxio: AlluxioSource,
    pub jdk: JdkSource,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlluxioSource {
    /// Installed on every agent at `alluxio.home`.
    Local { home: String },
    /// A tarball that Mesos fetches and extracts into the sandbox.
    Tarball { url: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JdkSource {
    /// Java already on the agents.
    Local,
    /// A JDK tarball fetched by Mesos; `path` is the directory it unpacks to (JAVA_HOME).
    Download { url: String, path: String },
}

/// What masters and workers both have: a task's resources, ports,
/// placement and how it runs. [`Desired::role`] gives a role's.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleSpec {
    pub cpus: f64,
    /// JVM heap and overhead (a worker's ramdisk comes on top).
    pub mem: ByteSize,
    pub rpc_port: u16,
    pub web_port: u16,
    pub constraints: Option<Constraint>,
    pub task_name: String,
    /// Run this command under the Mesos command executor instead of the Alluxio scripts.
    pub command: Option<String>,
    /// Passed to Mesos as the task's health check; apply waits for healthy.
    pub health_check: Option<HealthCheck>,
    /// When apply counts a launched task as started.
    pub ready: Ready,
    /// The deployment file says `ready` (else it is the default).
    pub ready_set: bool,
}

/// When apply counts a launched task as started: Mesos says TASK_RUNNING
/// (and healthy, with a health check), or Alluxio itself says it serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Ready {
    pub when: ReadyWhen,
    /// How long Alluxio may take to serve once Mesos runs the task.
    #[serde(rename = "timeout_s", with = "crate::timing::seconds")]
    pub timeout: std::time::Duration,
}

impl Default for Ready {
    /// What plan files of earlier releases meant: Mesos's word.
    fn default() -> Ready {
        Ready {
            when: ReadyWhen::Mesos,
            timeout: std::time::Duration::from_secs(300),
        }
    }
}

impl Ready {
    /// The default launch runs Alluxio, so Alluxio is asked; an operator's
    /// `command` may run anything, so Mesos's word is taken.
    pub fn default_for(command: Option<&str>, timeout: std::time::Duration) -> Ready {
        let when = if command.is_some() {
            ReadyWhen::Mesos
        } else {
            ReadyWhen::Alluxio
        };
        Ready { when, timeout }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReadyWhen {
    /// TASK_RUNNING for the settle time (and healthy, with a health check).
    #[default]
    Mesos,
    /// That, and then Alluxio's REST API: a master answers
    /// `GET /api/v1/master/info` on its web port; the leading master lists
    /// a worker among its `workers`.
    Alluxio,
}

impl std::fmt::Display for ReadyWhen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ReadyWhen::Mesos => "mesos",
            ReadyWhen::Alluxio => "alluxio",
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct MasterSpec {
    pub count: u32,
    /// Pin every master to this agent hostname.
    pub hostname: Option<String>,
    pub task: RoleSpec,
}

/// `health_check = { tcp = true }` (the RPC port accepts connections) or
/// `health_check = { http = "/path" }` (the web port answers 2xx/3xx), with
/// optional timing keys (see [`HealthTiming`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    pub probe: HealthProbe,
    pub timing: HealthTiming,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthProbe {
    Tcp,
    Http { path: String },
}

/// When Mesos checks, and how many failures kill the task. Defaults suit a
/// JVM that takes a while to start: failures in the first minute do not
/// count until a check has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthTiming {
    /// Before the first check (`delay_seconds`).
    pub delay: std::time::Duration,
    /// Between checks (`interval_seconds`).
    pub interval: std::time::Duration,
    /// One check's bound (`timeout_seconds`).
    pub timeout: std::time::Duration,
    /// Failures in a row that kill the task (`consecutive_failures`).
    pub consecutive_failures: u32,
    /// Failures before the first success within it do not count
    /// (`grace_period_seconds`).
    pub grace_period: std::time::Duration,
}

impl Default for HealthTiming {
    fn default() -> Self {
        use std::time::Duration;
        HealthTiming {
            delay: Duration::from_secs(15),
            interval: Duration::from_secs(10),
            timeout: Duration::from_secs(5),
            consecutive_failures: 3,
            grace_period: Duration::from_secs(60),
        }
    }
}

impl std::fmt::Display for HealthCheck {
    /// `tcp`, `http /path`; the timing too when it is not the default.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.probe {
            HealthProbe::Tcp => f.write_str("tcp")?,
            HealthProbe::Http { path } => write!(f, "http {path}")?,
        }
        let t = &self.timing;
        if *t != HealthTiming::default() {
            let d = |d: &std::time::Duration| humantime::format_duration(*d).to_string();
            write!(
                f,
                " (delay {}, every {}, timeout {}, {} failures, grace {})",
                d(&t.delay),
                d(&t.interval),
                d(&t.timeout),
                t.consecutive_failures,
                d(&t.grace_period)
            )?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerCount {
    /// One worker on every eligible agent.
    All,
    Exactly(u32),
}

#[derive(Debug, Clone, PartialEq)]
pub struct WorkerSpec {
    pub count: WorkerCount,
    /// `alluxio.worker.memory.size`: Mesos must account for it too.
    pub ramdisk: ByteSize,
    pub data_port: u16,
    /// Workers replaced at a time.
    pub max_unavailable: u32,
    pub task: RoleSpec,
}

impl MasterSpec {
    pub fn ports(&self) -> [u16; 2] {
        [self.task.rpc_port, self.task.web_port]
    }
}

impl WorkerSpec {
    pub fn ports(&self) -> [u16; 3] {
        [self.task.rpc_port, self.data_port, self.task.web_port]
    }

    /// What Mesos must hold for a worker: the JVM plus the ramdisk.
    pub fn total_mem(&self) -> ByteSize {
        ByteSize(self.task.mem.0 + self.ramdisk.0)
    }
}

impl Desired {
    /// On the embedded emulator (`master = "local"`), whose tasks run no
    /// Alluxio, a task counts as started when Mesos runs it, unless the
    /// deployment file says `ready`.
    pub fn ask_mesos_unless_set(&mut self) {
        for spec in [&mut self.master.task, &mut self.worker.task] {
            if !spec.ready_set {
                spec.ready.when = ReadyWhen::Mesos;
            }
        }
    }

    /// What a task of `role` has in common with the other role's.
    pub fn role(&self, role: Role) -> &RoleSpec {
        match role {
            Role::Master => &self.master.task,
            Role::Worker => &self.worker.task,
        }
    }

    /// A task of `role`'s ports, in the order it is given them.
    pub fn ports(&self, role: Role) -> Vec<u16> {
        match role {
            Role::Master => self.master.ports().to_vec(),
            Role::Worker => self.worker.ports().to_vec(),
        }
    }

    /// A task of `role`'s ramdisk (masters have none).
    pub fn ramdisk(&self, role: Role) -> ByteSize {
        match role {
            Role::Master => ByteSize(0),
            Role::Worker => self.worker.ramdisk,
        }
    }
}
