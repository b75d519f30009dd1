//! Leader failover on real HA masters: five `mesos-master` processes
//! electing a leader through a real ZooKeeper (the harness's `start-ha`;
//! five, so that two can die and a quorum of three stays),
//! the CLI pointed at `zk://`. The leading master is SIGKILLed in the
//! middle of an apply, of a destroy and of a plan: each run finds the new
//! leader, re-subscribes with the same framework ID, reconciles, and ends
//! with a true exit code, launching nothing twice.
//!
//! The emulator's side of the same story is `tests/it/real_cluster.rs`
//! (emulators registered in ZooKeeper).

use crate::scenarios::*;
use crate::support::cluster::{free_port, live_tasks, real_mesos_dir, ClusterDesc};
use crate::support::{cli, Deployment, SITE};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Five masters, ZooKeeper and the agents of `desc`, stopped with all
/// their tasks when dropped.
struct HaCluster {
    run_dir: tempfile::TempDir,
    zk: String,
    masters: Vec<(PathBuf, String)>,
    http: reqwest::Client,
}

impl HaCluster {
    fn start(version: &str, desc: &ClusterDesc) -> HaCluster {
        let harness = real_mesos_dir();
        let run_dir = tempfile::Builder::new()
            .prefix("real-mesos-ha-")
            .tempdir()
            .unwrap();
        let config = run_dir.path().join("cluster.json");
        std::fs::write(&config, desc_json(desc).to_string()).unwrap();
        let mut last = String::new();
        for _ in 0..5 {
            let port = ha_base_port();
            let out = Command::new(harness.join("start-ha"))
                .args(["-v", version, "-p", &port.to_string(), "-w", "90"])
                .args(["-n", &MASTERS.to_string()])
                .arg("-d")
                .arg(run_dir.path().join("run"))
                .arg("-c")
                .arg(&config)
                .output()
                .expect("run the harness's start-ha");
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            if out.status.success() {
                let zk = stdout
                    .split_whitespace()
                    .find(|w| w.starts_with("zk://"))
                    .unwrap_or_else(|| panic!("no zk:// URL from start-ha: {stdout}"))
                    .to_string();
                let run = run_dir.path().join("run");
                let masters = (1..=MASTERS)
                    .map(|i| {
                        let dir = run.join(format!("master{i}"));
                        let address = std::fs::read_to_string(dir.join("address"))
                            .expect("master address")
                            .trim()
                            .to_string();
                        (dir, format!("http://{address}"))
                    })
                    .collect();
                return HaCluster {
                    run_dir,
                    zk,
                    masters,
                    http: reqwest::Client::builder()
                        .timeout(Duration::from_secs(10))
                        .redirect(reqwest::redirect::Policy::none())
                        .build()
                        .unwrap(),
                };
            }
            last = format!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
            stop(&run_dir.path().join("run"));
        }
        panic!("real Mesos {version} HA did not start: {last}");
    }

    /// The leading master's URL and its run dir, as the masters say.
    async fn leader(&self) -> Option<(String, PathBuf)> {
        for (dir, url) in &self.masters {
            let Ok(resp) = self.http.get(format!("{url}/master/state")).send().await else {
                continue;
            };
            if !resp.status().is_success() {
                continue;
            }
            let Ok(state) = resp.json::<Value>().await else {
                continue;
            };
            if state["pid"].is_string() && state["pid"] == state["leader"] {
                return Some((url.clone(), dir.clone()));
            }
        }
        None
    }

    /// The leader's `/master/state`, waiting (bounded) for an election.
    async fn state(&self) -> Value {
        let until = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some((url, _)) = self.leader().await {
                if let Ok(resp) = self.http.get(format!("{url}/master/state")).send().await {
                    if let Ok(v) = resp.json::<Value>().await {
                        return v;
                    }
                }
            }
            assert!(Instant::now() < until, "no leading master within 120s");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// SIGKILLs the leading master (by the PID the harness saved).
    async fn kill_leader(&self) -> String {
        let (url, dir) = self.leader().await.expect("a leading master");
        let pid: i32 = std::fs::read_to_string(dir.join("pid"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // SAFETY: kill(2) with a PID this test's harness started.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
        url
    }

    fn log_tail(&self) -> String {
        let mut out = String::new();
        for (dir, _) in &self.masters {
            let log = std::fs::read_to_string(dir.join("master.log")).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            out.push_str(&lines[lines.len().saturating_sub(15)..].join("\n"));
            out.push('\n');
        }
        out
    }
}

impl Drop for HaCluster {
    fn drop(&mut self) {
        stop(&self.run_dir.path().join("run"));
    }
}

fn stop(run: &Path) {
    if run.exists() {
        let _ = Command::new(real_mesos_dir().join("stop"))
            .arg("-d")
            .arg(run)
            .output();
    }
}

/// Masters started: a quorum of three survives two leaders killed.
const MASTERS: u16 = 5;

/// A port P such that P (the agents), P+1..P+MASTERS (the masters) and
/// P+1000 (ZooKeeper) are free now.
fn ha_base_port() -> u16 {
    loop {
        let p = free_port();
        if p > 60000 {
            continue;
        }
        let free = |q: u16| std::net::TcpListener::bind(("127.0.0.1", q)).is_ok();
        if (0..=MASTERS).chain([1000]).all(|d| free(p + d)) {
            return p;
        }
    }
}

fn desc_json(desc: &ClusterDesc) -> Value {
    serde_json::json!({
        "master_flags": {"allocation_interval": "1secs"},
        "agents": desc.agents.iter().map(|a| serde_json::json!({
            "name": a.name,
            "hostname": a.hostname,
            "resources": format!("cpus:{};mem:{};disk:{};ports:{}", a.cpus, a.mem_mb, a.disk_mb, a.ports),
        })).collect::<Vec<_>>(),
    })
}

/// Our live tasks by address, from the leader.
async fn live(c: &HaCluster) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (id, address, state, _) in live_tasks(&c.state().await) {
        if !is_terminal(&state) {
            out.entry(address).or_default().push(id);
        }
    }
    out
}

/// Tasks that run `command`, the CLI pointed at the ZooKeeper URL.
fn deployment(c: &HaCluster, command: &str) -> Deployment {
    Deployment::of_this_account(
        &c.zk,
        &format!("[master]\ncommand = \"{command}\"\n[worker]\ncommand = \"{command}\"\n"),
        SITE,
    )
}

/// Runs the CLI in the background and SIGKILLs the leader once `when`
/// holds of the leader's state; returns the run's result.
async fn with_leader_killed(
    c: &HaCluster,
    d: &Deployment,
    args: &'static [&'static str],
    when: impl Fn(&Value) -> bool,
) -> crate::support::Cli {
    let toml = d.toml();
    let run = tokio::task::spawn_blocking(move || crate::support::run_cli(&toml, args));
    let until = Instant::now() + Duration::from_secs(120);
    while !when(&c.state().await) {
        assert!(Instant::now() < until, "the moment to kill never came");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let killed = c.kill_leader().await;
    println!("killed the leading master {killed}");
    run.await.unwrap()
}

/// An HA cluster of three agents with 1 master and 3 workers running
/// `command`, applied through ZooKeeper.
async fn deployed(version: &'static str, command: &str) -> (HaCluster, Deployment) {
    let c = tokio::task::spawn_blocking(move || HaCluster::start(version, &ClusterDesc::agents(3)))
        .await
        .unwrap();
    let d = deployment(&c, command);
    let first = apply(&d).await;
    assert_eq!(
        first.code,
        0,
        "{}\n{}\n{}",
        first.stdout,
        first.stderr,
        c.log_tail()
    );
    (c, d)
}

pub async fn leader_failover_mid_apply_and_plan(version: &'static str) {
    let (c, d) = deployed(version, "exec sleep 600").await;
    let framework = d.state()["framework_id"].as_str().unwrap().to_string();
    let old: Vec<String> = live(&c).await.into_values().flatten().collect();

    // A rolling replacement; the leader dies once the first task is gone.
    d.set_site(&SITE.replace("/tmp/underfs", "/tmp/underfs-2"));
    let r = with_leader_killed(
        &c,
        &d,
        &["apply", "--auto-approve", "--settle-time", SETTLE],
        |s| {
            let live: Vec<String> = live_tasks(s).into_iter().map(|(id, ..)| id).collect();
            old.iter().any(|id| !live.contains(id))
        },
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}\n{}", r.stdout, r.stderr, c.log_tail());
    assert!(
        r.stdout
            .contains("Apply complete: 0 launched, 4 replaced, 0 killed."),
        "{}",
        r.stdout
    );
    assert_eq!(d.state()["framework_id"], framework.as_str());
    let by_address = live(&c).await;
    assert_eq!(by_address.len(), 4, "{by_address:?}");
    assert!(by_address.values().all(|t| t.len() == 1), "{by_address:?}");

    // A plan while the next election runs: it waits for the new leader.
    c.kill_leader().await;
    let plan = cli(&d, &["plan", "--detailed-exitcode"]).await;
    assert_eq!(
        plan.code,
        0,
        "{}\n{}\n{}",
        plan.stdout,
        plan.stderr,
        c.log_tail()
    );
}

pub async fn leader_failover_mid_destroy(version: &'static str) {
    // Tasks that ignore SIGTERM: each stays TASK_KILLING until the
    // executor's grace period ends, so the leader dies mid-destroy.
    let (c, d) = deployed(version, "trap '' TERM; exec sleep 600").await;
    let r = with_leader_killed(&c, &d, &["destroy", "--auto-approve"], |s| {
        live_tasks(s)
            .iter()
            .any(|(_, _, st, _)| st == "TASK_KILLING")
    })
    .await;
    assert_eq!(r.code, 0, "{}\n{}\n{}", r.stdout, r.stderr, c.log_tail());
    assert!(live(&c).await.is_empty());
    assert!(d.state()["tasks"].as_array().unwrap().is_empty());
    let plan = cli(&d, &["plan", "--destroy", "--detailed-exitcode"]).await;
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
}
