//! One cluster description, two backends: the emulator (mesos-sim, in this
//! process) or real Apache Mesos (the harness in `../shared/real-mesos`,
//! one master and its agents in a process of their own, on a free port of
//! 127.0.0.1). A scenario written against [`TestCluster`] runs unchanged on
//! either; `tests/it/scenarios` holds them.
//!
//! Real clusters are started by the harness's `start` and stopped by its
//! `stop -d RUNDIR`, which signals only the processes it started (checked
//! by their command lines) and then every executor and task whose
//! environment points into the run dir: no task process outlives its test.

use mesos_sim::{ClusterSpec, Sim, SimConfig, SimHandle};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Where a scenario runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sim,
    /// Real Apache Mesos of this version (`../shared/real-mesos/setup V`).
    Real(&'static str),
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Backend::Sim => write!(f, "mesos-sim"),
            Backend::Real(v) => write!(f, "real Mesos {v}"),
        }
    }
}

/// One agent: its name (for stopping and restarting it), hostname,
/// resources and attributes.
#[derive(Debug, Clone)]
pub struct AgentDesc {
    pub name: String,
    pub hostname: String,
    pub cpus: f64,
    pub mem_mb: f64,
    pub disk_mb: f64,
    /// Mesos's range text, e.g. `[19998-19999,29998-30000,31000-32000]`.
    pub ports: String,
    pub attributes: Vec<(String, String)>,
}

/// A cluster: its agents, and the master's HTTP credentials when schedulers
/// must authenticate.
#[derive(Debug, Clone)]
pub struct ClusterDesc {
    pub agents: Vec<AgentDesc>,
    /// `(principal, secret)`: the master requires framework authentication.
    pub credentials: Option<(String, String)>,
    /// Real Mesos: every agent in a process of its own on its own port, as
    /// in production (the harness's `start-split`). HTTP executors need it:
    /// with agents sharing one process, `/api/v1/executor` reaches one
    /// agent only.
    pub split: bool,
    /// How long a custom executor has to subscribe (the agents'
    /// `--executor_registration_timeout`; None: Mesos's 1 minute).
    pub executor_registration_timeout: Option<Duration>,
    /// The Mesos version the emulator claims and behaves as (None: its
    /// default, 1.11.0). Real clusters run the version they are started with.
    pub sim_version: Option<&'static str>,
    /// The emulator runs as users run it: its default clocks (the
    /// conformance suite times them against real Mesos) instead of the
    /// tests' fast ones, and without strict checks of the calls it gets
    /// (which answer what real Mesos would drop silently).
    pub sim_as_shipped: bool,
}

/// The ports an agent must offer for a master and a worker with Alluxio's
/// defaults, and the default range beside them.
pub const ALLUXIO_PORTS: &str = "[19998-19999,29998-30000,31000-32000]";

impl ClusterDesc {
    /// `n` agents `agent<i>` with hostnames `agent<i>.example`, each with
    /// 4 cpus, 8 GB, Alluxio's ports and `rack:r<i>`.
    pub fn agents(n: usize) -> ClusterDesc {
        ClusterDesc {
            agents: (1..=n)
                .map(|i| AgentDesc {
                    name: format!("agent{i}"),
                    hostname: format!("agent{i}.example"),
                    cpus: 4.0,
                    mem_mb: 8192.0,
                    disk_mb: 20000.0,
                    ports: ALLUXIO_PORTS.to_string(),
                    attributes: vec![("rack".into(), format!("r{i}"))],
                })
                .collect(),
            credentials: None,
            split: false,
            executor_registration_timeout: None,
            sim_version: None,
            sim_as_shipped: false,
        }
    }

    /// `n` agents, each in a process of its own ([`ClusterDesc::split`]),
    /// whose hostnames are loopback addresses of their own
    /// (`127.0.<net>.11`, `.12`, ...): processes that serve on their host's
    /// address, as Alluxio does, then bind distinct addresses although the
    /// agents share one machine. `net` differs between the clusters of one
    /// test run, so that tests running side by side never share an address.
    pub fn on_loopback(n: usize) -> ClusterDesc {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let net = 20 + (std::process::id() + NEXT.fetch_add(1, Ordering::Relaxed)) % 200;
        let mut desc = ClusterDesc::agents(n);
        for (i, a) in desc.agents.iter_mut().enumerate() {
            a.hostname = format!("127.0.{net}.{}", 11 + i);
        }
        desc.split = true;
        desc
    }

    /// The emulator's cluster file: exec mode (task commands run for
    /// real), fast clocks.
    fn sim_toml(&self) -> String {
        let mut s = String::from("exec = true\n[timing]\n");
        if !self.sim_as_shipped {
            s.push_str(
                "allocation_interval = \"100ms\"\ntask_start_delay = \"50ms\"\nheartbeat_interval = \"1s\"\n",
            );
        }
        if let Some(t) = self.executor_registration_timeout {
            s.push_str(&format!(
                "executor_registration_timeout = \"{}ms\"\n",
                t.as_millis()
            ));
        }
        if let Some((principal, secret)) = &self.credentials {
            s.push_str(&format!(
                "[[authentication.principals]]\nprincipal = \"{principal}\"\nsecret = \"{secret}\"\n"
            ));
        }
        if let Some(v) = self.sim_version {
            s.push_str(&format!("[master]\nversion = \"{v}\"\n"));
        }
        for a in &self.agents {
            s.push_str(&format!(
                "[[agents]]\nhostname = \"{}\"\ncpus = {}\nmem = {}\ndisk = {}\nports = \"{}\"\n",
                a.hostname, a.cpus, a.mem_mb, a.disk_mb, a.ports
            ));
            if !a.attributes.is_empty() {
                let attrs: Vec<String> = a
                    .attributes
                    .iter()
                    .map(|(k, v)| format!("{k} = \"{v}\""))
                    .collect();
                s.push_str(&format!("attributes = {{ {} }}\n", attrs.join(", ")));
            }
        }
        s
    }

    /// The harness's cluster description: the master's timers short enough
    /// that a lost agent is noticed in seconds (as in its examples).
    fn real_json(&self) -> Value {
        json!({
            "master_flags": {
                "allocation_interval": "1secs",
                "agent_ping_timeout": "1secs",
                "max_agent_ping_timeouts": 3,
            },
            "agents": self.agents.iter().map(|a| {
                let attributes: Vec<String> =
                    a.attributes.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                let mut agent = json!({
                    "name": a.name,
                    "hostname": a.hostname,
                    "attributes": attributes.join(";"),
                    "resources": format!(
                        "cpus:{};mem:{};disk:{};ports:{}",
                        a.cpus, a.mem_mb, a.disk_mb, a.ports
                    ),
                });
                if let Some(t) = self.executor_registration_timeout {
                    agent["executor_registration_timeout"] = json!(format!("{}ms", t.as_millis()));
                }
                agent
            }).collect::<Vec<_>>(),
        })
    }
}

/// The real-Mesos harness: `REAL_MESOS_DIR`, else `../shared/real-mesos`
/// beside the repository.
pub fn real_mesos_dir() -> PathBuf {
    std::env::var_os("REAL_MESOS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/real-mesos"))
}

/// A real cluster started by the harness; stopped (with every task it ran)
/// when dropped.
pub struct RealMesos {
    pub version: &'static str,
    pub url: String,
    pub run_dir: tempfile::TempDir,
    stopped: bool,
}

impl RealMesos {
    /// Starts `desc` on a free port; panics with the harness's output when
    /// it cannot (a test that needs real Mesos fails loudly without it).
    pub fn start(version: &'static str, desc: &ClusterDesc) -> RealMesos {
        let harness = real_mesos_dir();
        assert!(
            harness.join("start").exists(),
            "real Mesos harness not found at {} (set REAL_MESOS_DIR)",
            harness.display()
        );
        let run_dir = tempfile::Builder::new()
            .prefix("real-mesos-")
            .tempdir()
            .expect("temp dir");
        let config = run_dir.path().join("cluster.json");
        std::fs::write(
            &config,
            serde_json::to_vec_pretty(&desc.real_json()).unwrap(),
        )
        .unwrap();
        let mut extra = Vec::new();
        if let Some((principal, secret)) = &desc.credentials {
            let creds = run_dir.path().join("credentials.json");
            let body = json!({"credentials": [{"principal": principal, "secret": secret}]});
            std::fs::write(&creds, body.to_string()).unwrap();
            extra.push("--".to_string());
            extra.push(format!("--credentials={}", creds.display()));
            extra.push("--authenticate_frameworks=true".to_string());
            extra.push("--authenticate_http_frameworks=true".to_string());
            extra.push("--http_framework_authenticators=basic".to_string());
        }
        // A port found free can be taken before the harness binds it: try
        // a few.
        let mut last = String::new();
        let start = if desc.split { "start-split" } else { "start" };
        for _ in 0..5 {
            let port = free_port();
            let out = Command::new(harness.join(start))
                .args(["-v", version, "-p", &port.to_string(), "-w", "90"])
                .arg("-d")
                .arg(run_dir.path().join("run"))
                .arg("-c")
                .arg(&config)
                .args(&extra)
                .output()
                .expect("run the harness's start");
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            if out.status.success() {
                // `start` prints the master's URL alone on stdout.
                let url = stdout
                    .split_whitespace()
                    .find(|w| w.starts_with("http://"))
                    .unwrap_or_else(|| panic!("no URL in the output of start: {stdout}"))
                    .to_string();
                return RealMesos {
                    version,
                    url,
                    run_dir,
                    stopped: false,
                };
            }
            last = format!(
                "exit {:?}\n{stdout}\n{}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            );
            stop_run_dir(&run_dir.path().join("run"));
        }
        panic!("real Mesos {version} did not start: {last}");
    }

    fn run(&self) -> PathBuf {
        self.run_dir.path().join("run")
    }

    /// The glog output of the master and its agents (of the master alone
    /// for a split cluster), for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let log = std::fs::read_to_string(self.run().join("cluster.log"))
            .or_else(|_| std::fs::read_to_string(self.run().join("master/master.log")))
            .unwrap_or_default();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Stops one agent process of a split cluster, with its tasks.
    async fn stop_split_agent(&self, name: &str) {
        let dir = self.run().join("agents").join(name);
        tokio::task::spawn_blocking(move || stop_run_dir(&dir))
            .await
            .expect("harness thread");
    }

    /// Restarts one agent process of a split cluster; it recovers its
    /// checkpoint.
    async fn restart_split_agent(&self, name: &str) {
        let (harness, run, name) = (real_mesos_dir(), self.run(), name.to_string());
        let out = tokio::task::spawn_blocking(move || {
            Command::new(harness.join("start-split"))
                .arg("-d")
                .arg(&run)
                .args(["-r", &name])
                .output()
                .expect("run the harness's start-split -r")
        })
        .await
        .expect("harness thread");
        assert!(
            out.status.success(),
            "start-split -r failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn stop(&mut self) {
        if !self.stopped {
            self.stopped = true;
            stop_run_dir(&self.run());
        }
    }
}

impl Drop for RealMesos {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `stop -d RUNDIR`: the harness's processes and their tasks, by PID.
fn stop_run_dir(run: &Path) {
    if !run.exists() {
        return;
    }
    let status = Command::new(real_mesos_dir().join("stop"))
        .arg("-d")
        .arg(run)
        .output();
    if let Ok(out) = status {
        if !out.status.success() {
            eprintln!(
                "stop -d {}: {}{}",
                run.display(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// A port of 127.0.0.1 that nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

enum Running {
    Sim(Box<SimHandle>),
    Real(RealMesos),
}

/// A cluster under test, whichever backend runs it.
pub struct TestCluster {
    pub backend: Backend,
    pub desc: ClusterDesc,
    running: Running,
    http: reqwest::Client,
}

impl TestCluster {
    pub async fn start(backend: Backend, desc: &ClusterDesc) -> TestCluster {
        let running = match backend {
            Backend::Sim => {
                let cluster = ClusterSpec::parse(&desc.sim_toml()).expect("cluster file text");
                Running::Sim(Box::new(
                    Sim::start_with(SimConfig {
                        strict_calls: !desc.sim_as_shipped,
                        ..SimConfig::new(cluster, "127.0.0.1:0".parse().unwrap())
                    })
                    .await
                    .expect("the emulator must start on 127.0.0.1"),
                ))
            }
            Backend::Real(version) => {
                let desc = desc.clone();
                Running::Real(
                    tokio::task::spawn_blocking(move || RealMesos::start(version, &desc))
                        .await
                        .expect("harness thread"),
                )
            }
        };
        TestCluster {
            backend,
            desc: desc.clone(),
            running,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        }
    }

    /// The master's URL.
    pub fn url(&self) -> String {
        match &self.running {
            Running::Sim(s) => s.url(),
            Running::Real(r) => r.url.clone(),
        }
    }

    /// A real cluster's run dir: its processes, sandboxes and logs.
    pub fn run_dir(&self) -> Option<PathBuf> {
        match &self.running {
            Running::Sim(_) => None,
            Running::Real(r) => Some(r.run()),
        }
    }

    pub fn sim(&self) -> Option<&SimHandle> {
        match &self.running {
            Running::Sim(s) => Some(s),
            Running::Real(_) => None,
        }
    }

    /// The master's `/master/state`, as any client reads it.
    pub async fn state(&self) -> Value {
        let url = format!("{}/master/state", self.url());
        let mut req = self.http.get(&url);
        if let Some((p, s)) = &self.desc.credentials {
            req = req.basic_auth(p, Some(s));
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        assert!(resp.status().is_success(), "GET {url}: {}", resp.status());
        resp.json().await.expect("/master/state is JSON")
    }

    /// Stops an agent as a host that dies: its tasks end, the master
    /// deactivates it, then marks it unreachable after its ping timeouts.
    pub async fn stop_agent(&self, name: &str) {
        match &self.running {
            Running::Sim(s) => {
                let host = self.hostname_of(name);
                assert!(s.remove_agent(&host), "no agent {host}");
            }
            Running::Real(r) if self.desc.split => r.stop_split_agent(name).await,
            Running::Real(_) => self.control("stop_agent", name).await,
        }
    }

    /// Restarts a stopped agent: it recovers its checkpoint and registers
    /// again under its old ID.
    pub async fn start_agent(&self, name: &str) {
        match &self.running {
            Running::Sim(s) => {
                let host = self.hostname_of(name);
                assert!(s.restore_agent(&host), "no agent {host}");
            }
            Running::Real(r) if self.desc.split => r.restart_split_agent(name).await,
            Running::Real(_) => self.control("start_agent", name).await,
        }
    }

    fn hostname_of(&self, name: &str) -> String {
        self.desc
            .agents
            .iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("no agent named {name}"))
            .hostname
            .clone()
    }

    async fn control(&self, verb: &str, name: &str) {
        let url = format!("{}/cluster/{verb}?name={name}", self.url());
        let resp = self
            .http
            .post(&url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {url}: {e}"));
        let status = resp.status();
        let body = resp.text().await.unwrap_or_default();
        assert!(status.is_success(), "POST {url}: {status} {body}");
    }

    /// Waits (bounded) until `ready` holds of the master's state.
    pub async fn wait_for(&self, what: &str, timeout: Duration, ready: impl Fn(&Value) -> bool) {
        let until = Instant::now() + timeout;
        loop {
            let state = self.state().await;
            if ready(&state) {
                return;
            }
            assert!(
                Instant::now() < until,
                "{}: {what} did not happen within {timeout:?}; /master/state: {state:#}",
                self.backend
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The glog tail of a real cluster (nothing for the emulator).
    pub fn log_tail(&self, lines: usize) -> String {
        match &self.running {
            Running::Sim(_) => String::new(),
            Running::Real(r) => r.log_tail(lines),
        }
    }

    pub async fn shutdown(self) {
        match self.running {
            Running::Sim(s) => s.shutdown().await,
            Running::Real(mut r) => tokio::task::spawn_blocking(move || r.stop())
                .await
                .expect("harness thread"),
        }
    }
}

/// Our framework's tasks that are not terminal, from a master's state:
/// `(task id, address label, state, agent id)`.
pub fn live_tasks(state: &Value) -> Vec<(String, String, String, String)> {
    let mut out = Vec::new();
    for f in state["frameworks"].as_array().into_iter().flatten() {
        for t in f["tasks"].as_array().into_iter().flatten() {
            let address = super::task_label(t, "alluxio-mesos.address")
                .unwrap_or_else(|| "(no address)".to_string());
            out.push((
                t["id"].as_str().unwrap_or_default().to_string(),
                address,
                t["state"].as_str().unwrap_or_default().to_string(),
                t["slave_id"].as_str().unwrap_or_default().to_string(),
            ));
        }
    }
    out
}
