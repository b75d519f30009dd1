//! A Mesos-compatible master emulator, for tests and for `master = "local"`.
//!
//! It speaks the v1 scheduler API (`POST /api/v1/scheduler`, RecordIO event
//! stream), the v1 operator API and the old read-only endpoints with the
//! status codes, texts and JSON shapes of a real 1.x master, offers the
//! resources of agents described in a cluster file, and plays task
//! lifecycles (optionally running the commands). Tests drive failures
//! through [`SimHandle`] or the `/__sim/` HTTP prefix. It is not a
//! scheduler, an agent or a container runtime: see README.md for what
//! differs from Mesos.

// Handlers return early with a ready HTTP response as the error value;
// boxing every one of them would only add noise.
#![allow(clippy::result_large_err)]

pub mod agent_api;
pub mod agent_http;
pub mod agent_state;
pub mod agent_v1;
mod allocator;
pub mod app;
pub mod cluster;
pub mod executor_api;
pub mod faults;
pub mod gen;
pub mod launch;
pub mod lifecycle;
pub mod metrics;
pub mod model;
pub mod operator_api;
pub mod operator_events;
pub mod overview_api;
pub mod persist;
pub mod process;
pub mod read_api;
pub mod routing;
pub mod sandbox;
pub mod scheduler_api;
pub mod server;
pub mod strict;
pub mod tls;
pub mod wakeups;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use cluster::{AgentSpec, ClusterSpec, Timing};
pub use model::Transition;
pub use tls::TlsFiles;

use app::{App, SharedApp};

/// How to run an emulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub cluster: ClusterSpec,
    /// Where to listen; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Save and reload state here (`mesos-sim-state.json`, plus sandboxes).
    pub persist_dir: Option<PathBuf>,
    /// Start as a non-leading master that redirects here (`--leader`).
    pub leader: Option<String>,
    /// Where task sandboxes go; default: under `persist_dir`, else a fresh
    /// temporary directory removed at shutdown.
    pub sandbox_dir: Option<PathBuf>,
    /// Register in ZooKeeper as a Mesos master does (`--zk`): an ephemeral
    /// sequential `json.info_` znode under the URL's path holding this
    /// master's MasterInfo. The lowest sequence leads per ZooKeeper, so a
    /// test that wants the registry and the emulators to agree registers
    /// the leading emulator first and starts the others with `leader`.
    pub zk: Option<mesos_zk::ZkUrl>,
    /// Serve HTTPS only, with this certificate and key (PEM), as a master
    /// with `LIBPROCESS_SSL_ENABLED=true` does.
    pub tls: Option<TlsFiles>,
    /// Refuse (400) every JSON scheduler call that is not exactly valid
    /// for Mesos's v1 `scheduler.proto`: unknown fields or enum values,
    /// two members of a oneof, missing required fields, out-of-range
    /// integers. Off by default, since real Mesos is lenient; tests turn it
    /// on to prove the calls they send are exact (see [`strict`]).
    pub strict_calls: bool,
}

impl SimConfig {
    pub fn new(cluster: ClusterSpec, listen: SocketAddr) -> Self {
        SimConfig {
            cluster,
            listen,
            persist_dir: None,
            leader: None,
            sandbox_dir: None,
            zk: None,
            tls: None,
            strict_calls: false,
        }
    }
}

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot create sandbox directory {path}: {source}")]
    Sandbox {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot load saved emulator state: {0}")]
    Load(String),
    #[error("cannot serve HTTPS: {0}")]
    Tls(String),
    #[error("{0}")]
    AgentListener(String),
    #[error("cannot register the emulated master in ZooKeeper: {0}")]
    ZooKeeper(mesos_zk::ZkError),
}

/// The emulator entry point.
pub struct Sim;

impl Sim {
    /// Starts an emulator; the returned handle serves until `shutdown`.
    pub async fn start(
        cluster: ClusterSpec,
        listen: SocketAddr,
        persist_dir: Option<PathBuf>,
    ) -> Result<SimHandle, SimError> {
        let mut cfg = SimConfig::new(cluster, listen);
        cfg.persist_dir = persist_dir;
        Sim::start_with(cfg).await
    }

    pub async fn start_with(cfg: SimConfig) -> Result<SimHandle, SimError> {
        let tls = cfg
            .tls
            .as_ref()
            .map(tls::server_config)
            .transpose()
            .map_err(SimError::Tls)?;
        let listener = tokio::net::TcpListener::bind(cfg.listen)
            .await
            .map_err(|source| SimError::Bind {
                addr: cfg.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| SimError::Bind {
            addr: cfg.listen,
            source,
        })?;
        let (sandbox_root, temp_sandbox) = match (&cfg.sandbox_dir, &cfg.persist_dir) {
            (Some(d), _) => (d.clone(), false),
            (None, Some(p)) => (p.join("sandboxes"), false),
            (None, None) => (
                std::env::temp_dir().join(format!("mesos-sim-{}", uuid::Uuid::new_v4())),
                true,
            ),
        };
        std::fs::create_dir_all(&sandbox_root).map_err(|source| SimError::Sandbox {
            path: sandbox_root.display().to_string(),
            source,
        })?;
        let persist_file = cfg
            .persist_dir
            .as_ref()
            .map(|d| d.join("mesos-sim-state.json"));
        let snapshot = match &persist_file {
            Some(f) => persist::load(f).map_err(SimError::Load)?,
            None => None,
        };
        let mut master = model::Master::new(
            cfg.cluster,
            addr,
            sandbox_root.clone(),
            snapshot.as_ref().map(|s| s.master_id.clone()),
        );
        if let Some(s) = snapshot {
            master.restore(s);
        }
        master
            .listen_for_agents()
            .map_err(SimError::AgentListener)?;
        if let Some(leader) = cfg.leader {
            master.leading = false;
            master.leader_url = Some(leader);
        }
        let registration = match &cfg.zk {
            Some(url) => {
                let info = mesos_api::MasterInfo::new(
                    master.id.clone(),
                    master.ip,
                    master.port,
                    master.spec.master.hostname.clone(),
                    Some(master.spec.master.version.clone()),
                );
                let info = serde_json::to_value(info).expect("a MasterInfo is JSON");
                Some(
                    mesos_zk::register_master(url, &info)
                        .await
                        .map_err(SimError::ZooKeeper)?,
                )
            }
            None => None,
        };
        let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
        let app = App::new(
            master,
            persist_file,
            strict::CallAudit::new(cfg.strict_calls),
            agent_http::AgentServers::new(tls.clone(), stop_rx.clone()),
        );
        process::recover(&app);
        agent_http::serve_new(&app);
        let clock = tokio::spawn(server::clock(app.clone()));
        let persister = tokio::spawn(server::persister(app.clone()));
        let router = server::router(app.clone());
        let scheme = if tls.is_some() { "https" } else { "http" };
        let server = match tls {
            Some(config) => tokio::spawn(tls::serve(listener, router, config, stop_rx)),
            None => tokio::spawn(async move {
                let _ = axum::serve(listener, router)
                    .with_graceful_shutdown(async move {
                        let _ = stop_rx.wait_for(|s| *s).await;
                    })
                    .await;
            }),
        };
        Ok(SimHandle {
            app,
            addr,
            stop: stop_tx,
            tasks: vec![clock, persister],
            server: Some(server),
            temp_sandbox: temp_sandbox.then_some(sandbox_root),
            registration,
            scheme,
        })
    }
}

/// A running emulator.
pub struct SimHandle {
    app: SharedApp,
    addr: SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    temp_sandbox: Option<PathBuf>,
    /// The ZooKeeper membership (with `zk`): dropping it ends the session.
    registration: Option<mesos_zk::Registration>,
    /// `http` or `https`.
    scheme: &'static str,
}

impl SimHandle {
    /// `http://127.0.0.1:PORT`, or `https://...` when serving TLS (no
    /// trailing slash).
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The master ID (framework IDs are `<master id>-NNNN`).
    pub fn master_id(&self) -> String {
        self.app.lock().id.clone()
    }

    /// Agent IDs by hostname.
    pub fn agents(&self) -> Vec<(String, String)> {
        self.app
            .lock()
            .agents
            .values()
            .map(|a| (a.hostname.clone(), a.id.clone()))
            .collect()
    }

    /// Every task state change so far, oldest first.
    pub fn transitions(&self) -> Vec<Transition> {
        self.app.lock().transitions.clone()
    }

    /// The violations strict-calls mode refused so far (`"<path>: <reason>"`),
    /// oldest first; always empty when strict mode is off.
    pub fn strict_violations(&self) -> Vec<String> {
        self.app.calls.violations()
    }

    /// How many JSON scheduler calls of each `type` arrived (e.g.
    /// `"SUBSCRIBE" -> 2`), counted as sent, refused ones included.
    pub fn call_types_seen(&self) -> std::collections::BTreeMap<String, usize> {
        self.app.calls.call_types()
    }

    /// The `/master/state` document as it is now.
    pub fn state_json(&self) -> serde_json::Value {
        read_api::state_json(&self.app.lock())
    }

    /// Removes an agent (by ID or hostname): offers rescinded, tasks LOST or UNREACHABLE.
    pub fn remove_agent(&self, agent: &str) -> bool {
        let ok = {
            let mut m = self.app.lock();
            m.find_agent(agent).is_some_and(|id| m.remove_agent(&id))
        };
        self.app.touch();
        ok
    }

    /// Brings a removed agent back.
    pub fn restore_agent(&self, agent: &str) -> bool {
        let mut m = self.app.lock();
        m.find_agent(agent).is_some_and(|id| m.restore_agent(&id))
    }

    /// Adds an agent (or replaces the one with the same hostname); returns
    /// its ID, or why the agent is not acceptable.
    pub fn add_agent(&self, spec: &AgentSpec) -> Result<String, String> {
        let id = self.app.lock().try_add_agent(spec);
        agent_http::serve_new(&self.app);
        self.app.touch();
        id
    }

    /// `http://ip:port` (or `https://`) of an agent's own listener, by ID
    /// or hostname: where its `/slave(1)/state` and `/files/*` answer.
    pub fn agent_url(&self, agent: &str) -> Option<String> {
        let m = self.app.lock();
        let id = m.find_agent(agent)?;
        Some(format!("{}://{}:{}", self.scheme, m.ip, m.agents[&id].port))
    }

    /// Fails a task as if its command had exited non-zero.
    pub fn fail_task(&self, task_id: &str, message: &str) -> bool {
        let ok = self.app.lock().fail_task(task_id, message);
        self.app.touch();
        ok
    }

    /// Drops every subscription stream, schedulers' and operators';
    /// returns how many.
    pub fn drop_streams(&self) -> usize {
        self.app.lock().drop_streams()
    }

    /// Stops or resumes leading; `leader` is where a non-leader redirects (None: 503).
    pub fn set_leading(&self, leading: bool, leader: Option<String>) {
        let mut m = self.app.lock();
        m.set_leading(leading);
        m.leader_url = leader;
    }

    /// The next `n` scheduler/operator calls answer 503.
    pub fn fail_next_calls(&self, n: u32) {
        self.app.lock().faults.fail_next_calls = n;
    }

    /// Closes every subscription stream right after its SUBSCRIBED event
    /// (and the first HEARTBEAT), from now on, or no more.
    pub fn end_streams_after_subscribed(&self, on: bool) {
        self.app.lock().faults.end_streams_after_subscribed = on;
    }

    /// Delays every Mesos response.
    pub fn set_response_delay(&self, d: Duration) {
        self.app.lock().faults.response_delay = d;
    }

    /// The znode this master registered in ZooKeeper (e.g.
    /// `/mesos/json.info_0000000003`), while it is registered.
    pub fn zk_znode(&self) -> Option<String> {
        self.registration.as_ref().map(|r| r.znode().to_string())
    }

    /// Leaves ZooKeeper as a dying master does: its znode is deleted and its
    /// session ended, so the next master in sequence becomes the leader for
    /// every detector. The emulator keeps serving HTTP (use `set_leading` to
    /// change what it answers). Returns whether it was registered.
    pub async fn withdraw_from_zookeeper(&mut self) -> Result<bool, mesos_zk::ZkError> {
        match self.registration.take() {
            Some(r) => r.close().await.map(|()| true),
            None => Ok(false),
        }
    }

    /// Stops serving: the ZooKeeper registration (if any) ends, streams
    /// end, state is saved, running commands are killed.
    pub async fn shutdown(mut self) {
        self.stop_now().await;
    }

    async fn stop_now(&mut self) {
        if let Some(r) = self.registration.take() {
            // Dropping the session would remove the znode too, only later.
            let _ = r.close().await;
        }
        // With a persist directory, tasks' processes run on, as executors
        // outlive a stopped agent, for the next start to recover; without
        // one, nothing may outlive the emulator.
        let keep_processes = self.app.persist_file.is_some();
        let mut ending = Vec::new();
        {
            let mut m = self.app.lock();
            m.drop_operator_streams();
            for fw in m.frameworks.values_mut() {
                fw.connection = None;
                for t in fw.tasks.values_mut() {
                    if keep_processes {
                        continue;
                    }
                    if let Some(p) = t.process.take() {
                        let _ = p.send(());
                        ending.extend(t.process_id);
                    }
                }
            }
        }
        // The kills run on this runtime: wait for them (bounded), then make
        // sure of the groups that are left.
        let deadline = std::time::Instant::now() + process::GRACE + Duration::from_secs(1);
        while ending.iter().any(process::ProcessId::is_running)
            && std::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        for id in ending.iter().filter(|id| id.is_running()) {
            process::signal_group(id.pid, process::Signal::Kill);
        }
        for t in self.tasks.drain(..) {
            t.abort();
        }
        if let Some(f) = self.app.persist_file.clone() {
            server::save_now(&self.app, &f);
        }
        let _ = self.stop.send(true);
        if let Some(s) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), s).await;
        }
        // The agents' servers end together (graceful, 5 s at most in all);
        // those still serving a connection then are cut.
        let agents = self.app.agent_servers.take_tasks();
        let aborts: Vec<_> = agents.iter().map(|t| t.abort_handle()).collect();
        let all = futures_util::future::join_all(agents);
        let _ = tokio::time::timeout(Duration::from_secs(5), all).await;
        for a in aborts {
            a.abort();
        }
        if let Some(d) = self.temp_sandbox.take() {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        // Dropped without `shutdown` (a test that panicked): the commands
        // still running get SIGKILL now, as nothing may outlive an emulator
        // without a persist directory.
        if self.app.persist_file.is_none() {
            let m = self.app.lock();
            for fw in m.frameworks.values() {
                for id in fw.tasks.values().filter_map(|t| t.process_id.as_ref()) {
                    if id.is_running() {
                        process::signal_group(id.pid, process::Signal::Kill);
                    }
                }
            }
        }
        for t in self.tasks.drain(..) {
            t.abort();
        }
        let _ = self.stop.send(true);
        if let Some(s) = self.server.take() {
            s.abort();
        }
        self.app.agent_servers.abort_all();
        if let Some(d) = self.temp_sandbox.take() {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}
