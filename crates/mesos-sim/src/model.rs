//! The emulated master's state: agents, frameworks, tasks, offers and the
//! record of task transitions. Plain data plus small queries; the rules
//! that change it live in `allocator`, `lifecycle` and `scheduler_api`.
//!
//! Fields marked `#[serde(skip)]` are runtime-only (clocks, connections);
//! the rest is what `persist` saves between runs.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use mesos_api::{
    AgentId, Attribute, Event, FrameworkId, FrameworkInfo, OfferId, Resource, ResourceSummary,
    TaskInfo, TaskState, TaskStatus,
};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::UnboundedSender;

use crate::cluster::{AgentSpec, ClusterSpec};

/// Seconds since the epoch, as Mesos writes timestamps.
pub fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

/// The role pools of an agent or an offer: `"*"` is unreserved.
pub type RolePools = BTreeMap<String, ResourceSummary>;

/// Splits resources into role pools by their reservation.
pub fn pools_of(resources: &[Resource]) -> RolePools {
    let mut by_role: BTreeMap<String, Vec<Resource>> = BTreeMap::new();
    for r in resources {
        let role = r.reserved_role().unwrap_or("*").to_string();
        by_role.entry(role).or_default().push(r.clone());
    }
    by_role
        .into_iter()
        .map(|(role, rs)| (role, ResourceSummary::of(&rs)))
        .collect()
}

/// The three ways Mesos writes a resource's reservation
/// (`convertResourceFormat` in `src/common/resources_utils.cpp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceFormat {
    /// Endpoints and the operator API: `role` (`"*"` when unreserved)
    /// and, when reserved, `reservations` too.
    Endpoint,
    /// Offers to frameworks without RESERVATION_REFINEMENT: `role` only.
    PreRefinement,
    /// Offers to RESERVATION_REFINEMENT frameworks: `reservations` only.
    PostRefinement,
}

/// Resources for role pools in a given format.
pub fn resources_in(pools: &RolePools, format: ResourceFormat) -> Vec<Resource> {
    let mut out = Vec::new();
    for (role, s) in pools {
        for r in s.to_resources() {
            let mut r = if role == "*" { r } else { r.reserved_to(role) };
            match format {
                ResourceFormat::Endpoint => {
                    r.role = Some(role.clone());
                }
                ResourceFormat::PreRefinement => {
                    r.role = Some(role.clone());
                    r.reservations.clear();
                }
                ResourceFormat::PostRefinement => {
                    r.role = None;
                }
            }
            out.push(r);
        }
    }
    out
}

/// Resources for role pools as the endpoints write them.
pub fn resources_of(pools: &RolePools) -> Vec<Resource> {
    resources_in(pools, ResourceFormat::Endpoint)
}

pub fn pools_add(a: &mut RolePools, b: &RolePools) {
    for (role, s) in b {
        let e = a.entry(role.clone()).or_default();
        *e = e.plus(s);
    }
}

pub fn pools_sub(a: &mut RolePools, b: &RolePools) {
    for (role, s) in b {
        if let Some(e) = a.get_mut(role) {
            *e = e.minus(s);
        }
    }
    a.retain(|_, s| !s.is_empty());
}

pub fn pools_contain(have: &RolePools, need: &RolePools) -> bool {
    need.iter()
        .all(|(role, n)| n.is_empty() || have.get(role).is_some_and(|h| h.contains(n)))
}

pub fn pools_total(p: &RolePools) -> ResourceSummary {
    p.values()
        .fold(ResourceSummary::default(), |acc, s| acc.plus(s))
}

/// An agent of the emulated cluster.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Agent {
    pub id: String,
    pub hostname: String,
    /// The port of the agent's own HTTP listener on the emulator's IP
    /// (0 until it is bound). Saved, so that a restarted emulator asks
    /// for the same port again (see `Master::listen_for_agents`).
    pub port: u16,
    /// Whether this run of the emulator listens on `port` for the agent.
    #[serde(skip)]
    pub listening: bool,
    /// Everything the agent has, by role.
    pub total: RolePools,
    pub attributes: Vec<Attribute>,
    pub active: bool,
    /// Removed agents stay known (their ID is "gone") but offer nothing.
    pub removed: bool,
    /// When it was removed (marked unreachable), in seconds since the
    /// epoch: what reconciliation reports as `unreachable_time`.
    #[serde(default)]
    pub removed_time: Option<f64>,
    pub registered_time: f64,
}

impl Agent {
    /// Its v1 `AgentInfo`, as GET_AGENTS, GET_AGENT and an executor's
    /// SUBSCRIBED carry it: checkpointing on (agents' default), and its
    /// resources without the deprecated `role` (which real masters write in
    /// `total_resources` but not here).
    pub fn v1_info(&self) -> serde_json::Value {
        let mut resources = serde_json::to_value(resources_of(&self.total))
            .unwrap_or_else(|_| serde_json::json!([]));
        for r in resources.as_array_mut().into_iter().flatten() {
            if let Some(o) = r.as_object_mut() {
                o.remove("role");
            }
        }
        let mut info = serde_json::json!({
            "hostname": self.hostname,
            "id": AgentId::new(self.id.clone()),
            "port": self.port,
            "resources": resources,
            "checkpoint": true,
        });
        if !self.attributes.is_empty() {
            info["attributes"] = serde_json::json!(self.attributes);
        }
        info
    }
    pub fn from_spec(spec: &AgentSpec, id: String) -> Agent {
        let mut total = RolePools::new();
        total.insert(
            "*".to_string(),
            ResourceSummary {
                cpus: spec.cpus,
                mem: spec.mem,
                disk: spec.disk,
                ports: spec.ports.clone(),
            },
        );
        for (role, r) in &spec.reserved {
            total.insert(
                role.clone(),
                ResourceSummary {
                    cpus: r.cpus,
                    mem: r.mem,
                    disk: r.disk,
                    ports: r.ports.clone(),
                },
            );
        }
        total.retain(|_, s| !s.is_empty());
        let attributes = spec
            .attributes
            .iter()
            .map(|(k, v)| match v {
                toml::Value::Integer(i) => Attribute::scalar(k, *i as f64),
                toml::Value::Float(f) => Attribute::scalar(k, *f),
                toml::Value::String(s) => Attribute::text(k, s),
                other => Attribute::text(k, other.to_string()),
            })
            .collect();
        Agent {
            id,
            hostname: spec.hostname.clone(),
            port: 0,
            listening: false,
            total,
            attributes,
            active: spec.active,
            removed: false,
            removed_time: None,
            registered_time: now_secs(),
        }
    }
}

/// A status update waiting for its acknowledgement.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingUpdate {
    pub status: TaskStatus,
    #[serde(skip)]
    pub next_send: Option<Instant>,
    #[serde(skip)]
    pub backoff: Duration,
}

/// What happens next to a task by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    Starting,
    Running,
    /// The first health check result of a task that has one.
    Healthy,
    Killed,
    /// Exec mode: the custom executor has not subscribed in time.
    ExecutorRegistration,
}

/// A task the master knows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Task {
    pub info: TaskInfo,
    pub framework_id: String,
    pub agent_id: String,
    pub state: TaskState,
    /// Role pools this task holds on its agent (empty once terminal).
    pub held: RolePools,
    /// The role it was launched under.
    pub role: String,
    pub statuses: Vec<TaskStatus>,
    /// Updates (with uuid) not yet acknowledged, oldest first; only the
    /// first is on the wire, as the agent's status update manager does.
    pub pending: VecDeque<PendingUpdate>,
    pub sandbox: PathBuf,
    #[serde(skip)]
    pub timer: Option<(Timer, Instant)>,
    /// Set while a real process runs for the task (exec mode).
    #[serde(skip)]
    pub process: Option<tokio::sync::mpsc::UnboundedSender<()>>,
    /// A kill was asked for; the process result becomes TASK_KILLED.
    #[serde(default)]
    pub kill_requested: bool,
    /// Which process runs the task's command (exec mode): saved, so that
    /// a restarted emulator recovers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_id: Option<crate::process::ProcessId>,
    /// The ContainerID of the task's (emulated) executor container, which
    /// the agent puts in the `container_status` of its updates.
    #[serde(default = "new_container_id")]
    pub container_id: String,
    /// Exec mode, a task with an ExecutorInfo: the subscription of its
    /// executor (v1 executor API), once it subscribed.
    #[serde(skip)]
    pub executor_stream: Option<UnboundedSender<Bytes>>,
    /// The executor was sent this task's LAUNCH.
    #[serde(skip)]
    pub delivered: bool,
}

/// A fresh ContainerID: the Mesos containerizer uses a UUID.
pub fn new_container_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl Task {
    pub fn id(&self) -> &str {
        &self.info.task_id.value
    }

    /// The pid agents report as its executor's: the task's process in
    /// exec mode; without a process, the emulator's own (a pid that
    /// exists, as clients may look it up).
    pub fn executor_pid(&self) -> u32 {
        self.process_id.map_or(std::process::id(), |p| p.pid)
    }

    /// Exec mode runs this task's ExecutorInfo as a real custom executor,
    /// which speaks the v1 executor API to its agent.
    pub fn has_custom_executor(&self, exec: bool) -> bool {
        exec && self.info.executor.is_some()
    }

    pub fn executor_id(&self) -> String {
        match &self.info.executor {
            Some(e) => e.executor_id.value.clone(),
            None => self.id().to_string(),
        }
    }
}

/// A subscription stream.
#[derive(Debug)]
pub struct Connection {
    pub stream_id: uuid::Uuid,
    pub tx: UnboundedSender<Bytes>,
    pub last_heartbeat: Instant,
}

impl Connection {
    /// Writes an event; a closed stream is noticed by the ticker.
    pub fn send(&self, event: &Event) {
        let _ = self
            .tx
            .send(Bytes::from(mesos_api::recordio::encode_json(event)));
    }
}

/// A decline/accept filter, as the allocator's refused-resources filter:
/// until `until`, no offer of its agent whose resources all lie within
/// `resources` (what was declined, or what an ACCEPT left unused). Once
/// more is free there (a task ended), the agent is offered again.
#[derive(Debug, Clone)]
pub struct OfferFilter {
    pub until: Instant,
    pub resources: RolePools,
}

/// A framework's offer filters, by agent ID: every ACCEPT leaves one, so
/// a framework running 10,000 tasks holds about as many, and an
/// allocation round looks up each agent's own instead of scanning all.
#[derive(Debug, Clone, Default)]
pub struct OfferFilters {
    by_agent: std::collections::HashMap<String, Vec<OfferFilter>>,
}

impl OfferFilters {
    pub fn add(&mut self, agent_id: &str, filter: OfferFilter) {
        self.by_agent
            .entry(agent_id.to_string())
            .or_default()
            .push(filter);
    }

    /// Drops the filters that have run out by `now`.
    pub fn expire(&mut self, now: Instant) {
        self.by_agent.retain(|_, fs| {
            fs.retain(|f| f.until > now);
            !fs.is_empty()
        });
    }

    /// Whether an offer of `pools` on `agent_id` is held back.
    pub fn refuses(&self, agent_id: &str, pools: &RolePools) -> bool {
        self.by_agent.get(agent_id).is_some_and(|fs| {
            fs.iter().any(|f| {
                pools
                    .iter()
                    .all(|(key, s)| f.resources.get(key).is_some_and(|r| r.contains(s)))
            })
        })
    }

    pub fn clear(&mut self) {
        self.by_agent.clear();
    }
}

/// A framework the master knows.
#[derive(Debug, Serialize, Deserialize)]
pub struct Framework {
    pub id: String,
    pub info: FrameworkInfo,
    pub registered_time: f64,
    #[serde(default)]
    pub reregistered_time: Option<f64>,
    #[serde(default)]
    pub unregistered_time: Option<f64>,
    pub tasks: BTreeMap<String, Task>,
    pub completed_tasks: VecDeque<Task>,
    pub unreachable_tasks: BTreeMap<String, Task>,
    #[serde(default)]
    pub suppressed_roles: BTreeSet<String>,
    #[serde(skip)]
    pub connection: Option<Connection>,
    /// When the scheduler went away (for failover_timeout).
    #[serde(skip)]
    pub disconnected_at: Option<Instant>,
    #[serde(skip)]
    pub filters: OfferFilters,
}

/// Mesos caps completed tasks per framework (`--max_completed_tasks_per_framework`).
pub const MAX_COMPLETED_TASKS: usize = 1000;

impl Framework {
    pub fn connected(&self) -> bool {
        self.connection.is_some()
    }

    pub fn partition_aware(&self) -> bool {
        self.info
            .has_capability(mesos_api::CapabilityType::PartitionAware)
    }

    pub fn roles(&self) -> Vec<String> {
        self.info.effective_roles()
    }

    pub fn send(&self, event: &Event) {
        if let Some(c) = &self.connection {
            c.send(event);
        }
    }

    pub fn fid(&self) -> FrameworkId {
        FrameworkId::new(self.id.clone())
    }

    /// Moves a task to `completed_tasks`, keeping the cap.
    pub fn complete_task(&mut self, task_id: &str) {
        if let Some(t) = self.tasks.remove(task_id) {
            self.completed_tasks.push_back(t);
            while self.completed_tasks.len() > MAX_COMPLETED_TASKS {
                self.completed_tasks.pop_front();
            }
        }
    }
}

/// An outstanding offer.
#[derive(Debug, Clone)]
pub struct OfferRec {
    pub id: String,
    pub framework_id: String,
    pub agent_id: String,
    pub role: String,
    pub pools: RolePools,
    pub created: Instant,
}

impl OfferRec {
    /// The offer as sent to `framework` (None: as the master itself lists
    /// it, in the operator API). Resources are in the format its
    /// RESERVATION_REFINEMENT capability asks for; only a MULTI_ROLE
    /// framework is told the role of an allocation (real masters strip
    /// `allocation_info` from offers to the others).
    pub fn to_offer(
        &self,
        master: &Master,
        agent: &Agent,
        framework: Option<&FrameworkInfo>,
    ) -> mesos_api::Offer {
        let has = |c| framework.is_none_or(|f| f.has_capability(c));
        let format = if has(mesos_api::CapabilityType::ReservationRefinement) {
            ResourceFormat::PostRefinement
        } else {
            ResourceFormat::PreRefinement
        };
        let allocation_info =
            has(mesos_api::CapabilityType::MultiRole).then(|| mesos_api::AllocationInfo {
                role: Some(self.role.clone()),
            });
        let mut resources = resources_in(&self.pools, format);
        for r in &mut resources {
            r.allocation_info = allocation_info.clone();
        }
        if master.offers_non_scalars_first() {
            resources.sort_by_key(|r| r.kind == mesos_api::ValueType::Scalar);
        }
        mesos_api::Offer {
            id: OfferId::new(self.id.clone()),
            framework_id: FrameworkId::new(self.framework_id.clone()),
            agent_id: AgentId::new(self.agent_id.clone()),
            hostname: agent.hostname.clone(),
            url: Some(master.agent_url(agent)),
            domain: None,
            resources,
            attributes: agent.attributes.clone(),
            executor_ids: Vec::new(),
            unavailability: None,
            allocation_info,
        }
    }
}

/// One task state change, as the emulator recorded it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    /// Milliseconds since the emulator started.
    pub at_ms: u64,
    /// Seconds since the epoch.
    pub timestamp: f64,
    pub framework_id: String,
    pub task_id: String,
    pub task_name: String,
    pub agent_id: String,
    pub hostname: String,
    pub state: TaskState,
}

/// Failure modes switched on through `faults`.
#[derive(Debug, Default, Clone)]
pub struct Faults {
    /// The next N scheduler/operator API calls answer 503.
    pub fail_next_calls: u32,
    /// Every response is delayed this long.
    pub response_delay: Duration,
    /// Every subscription stream closes right after SUBSCRIBED, as behind
    /// a proxy that ends streaming responses early.
    pub end_streams_after_subscribed: bool,
}

/// An agent's libprocess id: each agent is a process of its own (its own
/// listener here), and a standalone agent's only `Slave` process is always
/// the first of its kind, whatever the cluster's size (seen on 1.7.3 and
/// 1.11.0); clients build `/slave(1)/...` URLs on that.
pub const AGENT_PROCESS: &str = "slave(1)";

/// The whole emulated master.
#[derive(Debug)]
pub struct Master {
    pub id: String,
    pub spec: ClusterSpec,
    pub hostname: String,
    pub ip: std::net::Ipv4Addr,
    pub port: u16,
    pub start_time: f64,
    pub started: Instant,
    pub agents: BTreeMap<String, Agent>,
    pub frameworks: BTreeMap<String, Framework>,
    /// Torn-down frameworks (`completed_frameworks`); their IDs cannot come back.
    pub removed_frameworks: BTreeMap<String, Framework>,
    pub offers: BTreeMap<String, OfferRec>,
    pub next_framework: u64,
    pub next_offer: u64,
    pub transitions: Vec<Transition>,
    pub leading: bool,
    /// Where a non-leading master sends clients (`--leader`).
    pub leader_url: Option<String>,
    pub faults: Faults,
    pub last_allocation: Instant,
    /// An event after which a real master allocates at once, besides its
    /// periodic batch (a framework subscribing, REVIVE); the next tick does.
    pub allocate_soon: bool,
    pub sandbox_root: PathBuf,
    /// Something persistent changed since the last save.
    pub dirty: bool,
    /// Agent listeners bound (so their ports are in the agents' pids)
    /// whose HTTP servers `agent_http::serve_new` has not started yet;
    /// connections wait in the listen backlog meanwhile.
    pub unserved_listeners: Vec<(String, std::net::TcpListener)>,
    /// Open operator API event streams (`operator_events`), oldest first.
    pub operator_subscribers: Vec<crate::operator_events::Subscriber>,
    /// When the clock must look at which task (timers, update resends).
    pub wakeups: crate::wakeups::Wakeups,
    /// Sandboxes of tasks just launched, made by the clock outside the
    /// lock (as an agent makes one once the task reaches it).
    pub sandboxes_to_create: Vec<PathBuf>,
}

impl Master {
    pub fn new(
        spec: ClusterSpec,
        listen: std::net::SocketAddr,
        sandbox_root: PathBuf,
        master_id: Option<String>,
    ) -> Master {
        let id = master_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let ip = match listen.ip() {
            std::net::IpAddr::V4(v4) if !v4.is_unspecified() => v4,
            _ => std::net::Ipv4Addr::LOCALHOST,
        };
        let hostname = spec
            .master
            .hostname
            .clone()
            .unwrap_or_else(|| ip.to_string());
        let mut agents = BTreeMap::new();
        for (i, a) in spec.agents.iter().enumerate() {
            let aid = a.id.clone().unwrap_or_else(|| format!("{id}-S{i}"));
            agents.insert(aid.clone(), Agent::from_spec(a, aid));
        }
        Master {
            id,
            spec,
            hostname,
            ip,
            port: listen.port(),
            start_time: now_secs(),
            started: Instant::now(),
            agents,
            frameworks: BTreeMap::new(),
            removed_frameworks: BTreeMap::new(),
            offers: BTreeMap::new(),
            next_framework: 0,
            next_offer: 0,
            transitions: Vec::new(),
            leading: true,
            leader_url: None,
            faults: Faults::default(),
            last_allocation: Instant::now(),
            allocate_soon: false,
            sandbox_root,
            dirty: false,
            unserved_listeners: Vec::new(),
            operator_subscribers: Vec::new(),
            wakeups: Default::default(),
            sandboxes_to_create: Vec::new(),
        }
    }

    /// Whether the emulated version is `major.minor` or later. An
    /// unreadable version counts as the newest.
    pub fn version_at_least(&self, major: u32, minor: u32) -> bool {
        let mut parts = self
            .spec
            .master
            .version
            .split('.')
            .map(|p| p.parse::<u32>());
        match (parts.next(), parts.next()) {
            (Some(Ok(ma)), Some(Ok(mi))) => (ma, mi) >= (major, minor),
            _ => true,
        }
    }

    /// Whether this master is older than 1.8.0, the release that removed
    /// the `.json` endpoint aliases.
    pub fn serves_json_aliases(&self) -> bool {
        !self.version_at_least(1, 8)
    }

    /// The v1 operator API writes empty lists as `[]` and agents'
    /// `agent_info.checkpoint`: seen on 1.11.0; 1.7.3 and 1.9.0 leave both
    /// out (1.10 is not checked: emulated as 1.9).
    pub fn writes_empty_v1_lists(&self) -> bool {
        self.version_at_least(1, 11)
    }

    /// Offers (and the master's texts about them) list ranges and sets
    /// before scalars: seen on 1.9.0 and 1.11.0 (`ports` first); 1.7.3
    /// keeps the agent's order.
    pub fn offers_non_scalars_first(&self) -> bool {
        self.version_at_least(1, 9)
    }

    /// `master@ip:port`.
    pub fn pid(&self) -> String {
        format!("master@{}:{}", self.ip, self.port)
    }

    /// `slave(N)@ip:port`: the agent's own listener.
    pub fn agent_pid(&self, agent: &Agent) -> String {
        format!("{AGENT_PROCESS}@{}:{}", self.ip, agent.port)
    }

    /// The agent's `mesos.v1.URL` as the master puts it in every offer:
    /// `http` (Mesos never says `https` here), the agent's hostname and
    /// the address of its pid (its own listener), path `/<pid id>`.
    pub fn agent_url(&self, agent: &Agent) -> serde_json::Value {
        serde_json::json!({
            "scheme": "http",
            "address": {
                "hostname": agent.hostname,
                "ip": self.ip.to_string(),
                "port": agent.port,
            },
            "path": format!("/{AGENT_PROCESS}"),
        })
    }

    /// The master's capabilities as `/master/state` lists them (seen on
    /// 1.7.3, 1.9.0 and 1.11.0).
    pub fn master_capabilities(&self) -> &'static [&'static str] {
        if self.version_at_least(1, 9) {
            &["AGENT_UPDATE", "AGENT_DRAINING", "QUOTA_V2"]
        } else {
            &["AGENT_UPDATE"]
        }
    }

    /// An agent's capabilities as the master lists them (the agents'
    /// defaults of each version: seen on 1.7.3, 1.9.0 and 1.11.0).
    pub fn agent_capabilities(&self) -> &'static [&'static str] {
        const ALL: [&str; 8] = [
            "MULTI_ROLE",
            "HIERARCHICAL_ROLE",
            "RESERVATION_REFINEMENT",
            "RESOURCE_PROVIDER",
            "RESIZE_VOLUME",
            "AGENT_OPERATION_FEEDBACK",
            "AGENT_DRAINING",
            "TASK_RESOURCE_LIMITS",
        ];
        if self.version_at_least(1, 11) {
            &ALL
        } else if self.version_at_least(1, 9) {
            &ALL[..7]
        } else {
            &ALL[..5]
        }
    }

    pub fn master_info(&self) -> mesos_api::MasterInfo {
        mesos_api::MasterInfo {
            // In v1 JSON a capability the v1 enum lacks (QUOTA_V2) is `{}`.
            capabilities: self
                .master_capabilities()
                .iter()
                .map(|c| match *c {
                    "QUOTA_V2" => serde_json::json!({}),
                    c => serde_json::json!({ "type": c }),
                })
                .collect(),
            ..mesos_api::MasterInfo::new(
                self.id.clone(),
                self.ip,
                self.port,
                Some(self.hostname.clone()),
                Some(self.spec.master.version.clone()),
            )
        }
    }

    pub fn new_framework_id(&mut self) -> String {
        let id = format!("{}-{:04}", self.id, self.next_framework);
        self.next_framework += 1;
        self.dirty = true;
        id
    }

    pub fn new_offer_id(&mut self) -> String {
        let id = format!("{}-O{}", self.id, self.next_offer);
        self.next_offer += 1;
        id
    }

    /// What tasks and offers hold on every agent, in one pass over the
    /// tasks and the offers: reading all agents stays linear in their
    /// number (10,000 agents with 10,000 offers would otherwise cost 10^8
    /// comparisons per allocation round).
    pub fn holdings(&self) -> Holdings {
        let mut h = Holdings::default();
        for f in self.frameworks.values() {
            for t in f.tasks.values().chain(f.unreachable_tasks.values()) {
                pools_add(h.used.entry(t.agent_id.clone()).or_default(), &t.held);
            }
        }
        for o in self.offers.values() {
            pools_add(h.offered.entry(o.agent_id.clone()).or_default(), &o.pools);
        }
        h
    }

    /// Records a transition for tests that check the order of events.
    pub fn record(&mut self, fid: &str, task: &Task, state: TaskState) {
        let hostname = self
            .agents
            .get(&task.agent_id)
            .map(|a| a.hostname.clone())
            .unwrap_or_default();
        self.transitions.push(Transition {
            at_ms: self.started.elapsed().as_millis() as u64,
            timestamp: now_secs(),
            framework_id: fid.to_string(),
            task_id: task.id().to_string(),
            task_name: task.info.name.clone(),
            agent_id: task.agent_id.clone(),
            hostname,
            state,
        });
    }
}

/// What tasks (`used`) and offers (`offered`) hold, by agent ID.
#[derive(Debug, Default)]
pub struct Holdings {
    pub used: std::collections::HashMap<String, RolePools>,
    pub offered: std::collections::HashMap<String, RolePools>,
}

impl Holdings {
    pub fn used_on(&self, agent_id: &str) -> RolePools {
        self.used.get(agent_id).cloned().unwrap_or_default()
    }

    pub fn offered_on(&self, agent_id: &str) -> RolePools {
        self.offered.get(agent_id).cloned().unwrap_or_default()
    }

    /// What `agent` has neither given to tasks nor offered.
    pub fn free_on(&self, agent: &Agent) -> RolePools {
        let mut free = agent.total.clone();
        if let Some(used) = self.used.get(&agent.id) {
            pools_sub(&mut free, used);
        }
        if let Some(offered) = self.offered.get(&agent.id) {
            pools_sub(&mut free, offered);
        }
        free
    }
}
