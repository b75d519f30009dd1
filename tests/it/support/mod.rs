//! Shared by the end-to-end tests: an emulated Mesos master started in this
//! process, a deployment written to a temporary directory, and the real CLI
//! binary run against them.

#![allow(dead_code)]

pub mod alluxio_framework;
pub mod alluxio_workload;
pub mod cluster;
pub mod stand_in;
mod tools;

#[allow(unused_imports)]
pub use alluxio_workload::ALLUXIO_AGENT_PORTS;
pub use tools::{serve, task_label};

use mesos_sim::{ClusterSpec, Sim, SimConfig, SimHandle};
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Cli {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<std::process::Output> for Cli {
    /// The exit code (-1 when killed by a signal) and the output as text.
    fn from(out: std::process::Output) -> Cli {
        Cli {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
            stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
        }
    }
}

impl Cli {
    pub fn ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// A deployment directory: alluxio-mesos.toml + alluxio-site.properties.
pub struct Deployment {
    pub dir: tempfile::TempDir,
}

pub const SITE: &str = "alluxio.integration.mesos.alluxio.jar.url=LOCAL\nalluxio.home=/opt/alluxio\nalluxio.underfs.address=/tmp/underfs\n";

impl Deployment {
    pub fn new(master_url: &str, extra_toml: &str, site: &str) -> Deployment {
        Self::with_user(master_url, "user = \"alluxio\"\n", extra_toml, site)
    }

    /// A deployment whose tasks run as the account that runs the tests (no
    /// `[mesos] user`): what real Mesos needs, whose agents refuse a user
    /// they do not have.
    pub fn of_this_account(master_url: &str, extra_toml: &str, site: &str) -> Deployment {
        Self::with_user(master_url, "", extra_toml, site)
    }

    fn with_user(master_url: &str, user_line: &str, extra_toml: &str, site: &str) -> Deployment {
        let toml = deployment_text(master_url, user_line, extra_toml);
        Self::from_toml(&asking_mesos(&toml), site)
    }

    /// A deployment that keeps the default of `ready` (Alluxio is asked
    /// whether the default launch serves): for clusters that run a real or
    /// stand-in Alluxio.
    pub fn asking_alluxio(master_url: &str, extra_toml: &str, site: &str) -> Deployment {
        Self::from_toml(&deployment_text(master_url, "", extra_toml), site)
    }

    fn from_toml(toml: &str, site: &str) -> Deployment {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("alluxio-mesos.toml"), toml).unwrap();
        std::fs::write(dir.path().join("alluxio-site.properties"), site).unwrap();
        Deployment { dir }
    }

    pub fn toml(&self) -> PathBuf {
        self.dir.path().join("alluxio-mesos.toml")
    }

    pub fn state_file(&self) -> PathBuf {
        self.dir.path().join("alluxio-mesos.state.json")
    }

    pub fn set_site(&self, site: &str) {
        std::fs::write(self.dir.path().join("alluxio-site.properties"), site).unwrap();
    }

    pub fn state(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.state_file()).expect("state file"))
            .expect("state JSON")
    }

    /// Runs the CLI on this deployment and waits for it.
    pub fn cli(&self, args: &[&str]) -> Cli {
        run_cli(&self.toml(), args)
    }
}

/// Runs the real binary from the repository's root, with a state location
/// that holds nothing, so that no state of a previous local run leaks into
/// plans of the repository's example and fixture files.
/// The deployment file of the tests: named `alluxio`, on `master_url`.
fn deployment_text(master_url: &str, user_line: &str, extra_toml: &str) -> String {
    format!("name = \"alluxio\"\n[mesos]\nmaster = \"{master_url}\"\n{user_line}{extra_toml}\n")
}

/// `toml` with `ready = "mesos"` for each role that does not say `ready`:
/// the emulator's tasks run no Alluxio to ask whether it serves. The line
/// goes at the end of the role's table (or a new table at the end), so the
/// lines a test's diagnostics point at do not move. Text that is not valid
/// TOML is left as it is (tests of bad deployment files).
fn asking_mesos(toml: &str) -> String {
    let Ok(doc) = toml.parse::<toml::Table>() else {
        return toml.to_string();
    };
    let mut lines: Vec<String> = toml.lines().map(str::to_string).collect();
    for role in ["master", "worker"] {
        let line = "ready = \"mesos\"".to_string();
        match doc.get(role) {
            Some(t) if t.get("ready").is_some() => {}
            None => lines.extend([format!("[{role}]"), line]),
            Some(_) => {
                let header = format!("[{role}]");
                let Some(h) = lines.iter().position(|l| l.trim() == header) else {
                    continue; // an inline table: left as it is
                };
                let end = (h + 1..lines.len())
                    .find(|&i| lines[i].trim_start().starts_with('['))
                    .unwrap_or(lines.len());
                lines.insert(end, line);
            }
        }
    }
    lines.join("\n") + "\n"
}

pub fn run_in_repo(args: &[&str]) -> Cli {
    let out = Command::new(env!("CARGO_BIN_EXE_alluxio-mesos"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env("ALLUXIO_MESOS_STATE", "target/tests-in-repo-no-state.json")
        .args(args)
        .output()
        .expect("the CLI runs");
    Cli::from(out)
}

/// Runs the real binary with `-c deployment` and the arguments.
pub fn run_cli(deployment: &Path, args: &[&str]) -> Cli {
    let out = Command::new(env!("CARGO_BIN_EXE_alluxio-mesos"))
        .arg("-c")
        .arg(deployment)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run alluxio-mesos");
    Cli::from(out)
}

/// Runs the real binary in `dir` as a user types it there: the deployment
/// file found by its default name, so messages name files as the user sees
/// them. No terminal (standard input closed too, so miette draws at its
/// fixed 80 columns), no colours, and nothing from the environment that
/// would change the output: what snapshots of the output need.
pub fn run_here(dir: &Path, args: &[&str]) -> Cli {
    let out = Command::new(env!("CARGO_BIN_EXE_alluxio-mesos"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("ALLUXIO_MESOS_STATE")
        .env_remove("ALLUXIO_MESOS_SECRET")
        .env_remove("FORCE_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("FORCE_HYPERLINK")
        .env_remove("NO_GRAPHICS")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run alluxio-mesos");
    Cli::from(out)
}

/// [`run_cli`] off the async runtime's threads, which serve the emulator.
pub async fn cli(d: &Deployment, args: &[&str]) -> Cli {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let toml = d.toml();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_cli(&toml, &args)
    })
    .await
    .expect("CLI thread")
}

impl Deployment {}

pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Starts an emulator on a loopback port from a cluster file of fixtures/clusters.
/// The emulator runs in strict-calls mode: every call the CLI sends must be
/// exactly valid for Mesos's v1 scheduler.proto, or it is refused with 400.
pub async fn start_sim(cluster_file: &str) -> SimHandle {
    let cluster = ClusterSpec::load(&repo_path(cluster_file)).expect("cluster file");
    Sim::start_with(SimConfig {
        strict_calls: true,
        ..SimConfig::new(cluster, "127.0.0.1:0".parse().unwrap())
    })
    .await
    .expect("the emulator must start on 127.0.0.1")
}

/// Tasks of the state file that Mesos reports running, by address.
pub fn running_addresses(state: &serde_json::Value) -> Vec<String> {
    let mut v: Vec<String> = state["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["state"] == "TASK_RUNNING")
        .map(|t| t["address"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

/// Starts an emulator from cluster-file text, in strict-calls mode.
pub async fn start_sim_from(text: &str) -> SimHandle {
    let cluster = ClusterSpec::parse(text).expect("cluster file text");
    Sim::start_with(SimConfig {
        strict_calls: true,
        ..SimConfig::new(cluster, "127.0.0.1:0".parse().unwrap())
    })
    .await
    .expect("the emulator must start on 127.0.0.1")
}

/// A cluster of `n` agents offering the Alluxio ports, with the given timing.
pub fn cluster_text(n: usize, task_start_delay: &str, exec: bool) -> String {
    let mut s = format!(
        "exec = {exec}\n[timing]\nallocation_interval = \"100ms\"\ntask_start_delay = \"{task_start_delay}\"\nheartbeat_interval = \"1s\"\n"
    );
    for i in 1..=n {
        s.push_str(&format!(
            "[[agents]]\nhostname = \"agent{i}.example.com\"\ncpus = 8\nmem = 16384\ndisk = 102400\nports = \"[19998-19999, 29998-30000, 31000-32000]\"\n"
        ));
    }
    s
}

/// Non-terminal tasks per deployment address, from the emulator's /master/state.
pub fn live_tasks_by_address(
    state: &serde_json::Value,
) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for f in state["frameworks"].as_array().into_iter().flatten() {
        for t in f["tasks"].as_array().into_iter().flatten() {
            let st = t["state"].as_str().unwrap_or_default();
            if !matches!(st, "TASK_STAGING" | "TASK_STARTING" | "TASK_RUNNING") {
                continue;
            }
            let address = task_label(t, "alluxio-mesos.address")
                .unwrap_or_else(|| "(no address)".to_string());
            out.entry(address)
                .or_default()
                .push(t["id"].as_str().unwrap_or_default().to_string());
        }
    }
    out
}

/// The configuration hash label of each task of ours that is not
/// terminal, by address, from a master's state document.
pub fn config_hashes(state: &serde_json::Value) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    for f in state["frameworks"].as_array().into_iter().flatten() {
        for t in f["tasks"].as_array().into_iter().flatten() {
            let st = t["state"].as_str().unwrap_or_default();
            if !matches!(st, "TASK_STAGING" | "TASK_STARTING" | "TASK_RUNNING") {
                continue;
            }
            out.insert(
                task_label(t, "alluxio-mesos.address").unwrap_or_default(),
                task_label(t, "alluxio-mesos.config-hash").unwrap_or_default(),
            );
        }
    }
    out
}

/// From the emulator's record of task states: the fewest tasks named
/// `task_name` running at any moment from transition `since` on (None when
/// no such task changed state since then).
pub fn fewest_running_since(sim: &SimHandle, task_name: &str, since: usize) -> Option<usize> {
    let mut running: std::collections::BTreeMap<String, bool> = Default::default();
    let mut fewest = None;
    for (i, t) in sim.transitions().iter().enumerate() {
        if t.task_name != task_name {
            continue;
        }
        running.insert(t.task_id.clone(), t.state == mesos_api::TaskState::Running);
        if i >= since {
            let now = running.values().filter(|r| **r).count();
            fewest = Some(fewest.map_or(now, |f: usize| f.min(now)));
        }
    }
    fewest
}

/// Exactly `expected` addresses have a live task, one each.
pub fn assert_one_task_per_address(sim: &mesos_sim::SimHandle, expected: usize) {
    let by_address = live_tasks_by_address(&sim.state_json());
    assert_eq!(by_address.len(), expected, "{by_address:#?}");
    for (address, tasks) in &by_address {
        assert_eq!(tasks.len(), 1, "{address} has {tasks:?}");
    }
}

/// A state record of a running task at `address`, for tests that write a
/// state by hand.
pub fn running_record(
    address: &str,
    task_id: &str,
    agent_id: &str,
    hostname: &str,
) -> alluxio_mesos::state::TaskRecord {
    use alluxio_mesos::state::{RecordedState, TaskRecord, TaskResources};
    let address: alluxio_mesos::address::Address = address.parse().expect("an address");
    TaskRecord {
        role: address.role(),
        address,
        task_id: task_id.into(),
        agent_id: agent_id.into(),
        hostname: hostname.into(),
        ports: vec![],
        resources: TaskResources {
            cpus: 1.0,
            mem_mb: 1024.0,
            ramdisk_mb: 0.0,
        },
        config_hash: "h".into(),
        state: RecordedState::Mesos(mesos_api::TaskState::Running),
        updated_at: "2026-12-07T00:00:00Z".into(),
    }
}
