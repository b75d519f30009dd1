//! Helpers shared by the emulator's integration tests: start an emulator
//! on an ephemeral port, subscribe and read the RecordIO event stream,
//! send calls.
#![allow(dead_code)]

use std::time::Duration;

use futures_util::StreamExt;
use mesos_api::recordio::Decoder;
use mesos_api::scheduler::EventType;
use mesos_api::{
    Call, CommandInfo, Event, FrameworkId, FrameworkInfo, Offer, Resource, TaskInfo, TaskState,
    TaskStatus,
};
use mesos_sim::{ClusterSpec, Sim, SimConfig, SimHandle};
use reqwest::StatusCode;

pub const FAST: &str = r#"
[timing]
allocation_interval = "30ms"
task_start_delay = "30ms"
heartbeat_interval = "15s"
status_update_retry = "10s"
"#;

pub fn agents(n: usize, ports: &str) -> String {
    let mut s = String::new();
    for i in 1..=n {
        s.push_str(&format!(
            "[[agents]]\nid = \"agent-{i}\"\nhostname = \"host{i}\"\ncpus = 4\nmem = 8192\ndisk = 1000\nports = \"{ports}\"\nattributes = {{ rack = \"r{i}\" }}\n\n"
        ));
    }
    s
}

/// Starts an emulator from cluster TOML on 127.0.0.1:0.
pub async fn start(toml: &str) -> SimHandle {
    let spec = ClusterSpec::parse(toml).expect("test cluster file must parse");
    Sim::start(spec, "127.0.0.1:0".parse().unwrap(), None)
        .await
        .expect("emulator must start on 127.0.0.1")
}

/// Starts an emulator in strict-calls mode (every scheduler call checked
/// against Mesos's v1 scheduler.proto) from cluster TOML on 127.0.0.1:0.
pub async fn start_strict(toml: &str) -> SimHandle {
    let spec = ClusterSpec::parse(toml).expect("test cluster file must parse");
    let cfg = SimConfig {
        strict_calls: true,
        ..SimConfig::new(spec, "127.0.0.1:0".parse().unwrap())
    };
    Sim::start_with(cfg)
        .await
        .expect("emulator must start on 127.0.0.1")
}

pub async fn start_default() -> SimHandle {
    start(&format!("{FAST}\n{}", agents(3, "[31000-32000]"))).await
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// An open SUBSCRIBE stream.
pub struct Subscription {
    pub url: String,
    pub stream_id: String,
    pub framework_id: FrameworkId,
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    body: std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    decoder: Decoder,
    queue: std::collections::VecDeque<Event>,
    /// OFFERS events a wait for something else went past: their offers
    /// stay outstanding, so [`Subscription::offers`] hands them out first.
    passed_offers: std::collections::VecDeque<Event>,
    ended: bool,
    /// Every event record received so far, as the JSON the emulator wrote.
    pub raw_events: Vec<serde_json::Value>,
}

impl Subscription {
    /// Subscribes and reads the first event (SUBSCRIBED or ERROR).
    pub async fn open(url: &str, info: FrameworkInfo) -> (Subscription, Event) {
        let call = Call::subscribe(info);
        let resp = client()
            .post(format!("{url}/api/v1/scheduler"))
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .json(&call)
            .send()
            .await
            .expect("SUBSCRIBE request");
        let status = resp.status();
        let headers = resp.headers().clone();
        let stream_id = headers
            .get("Mesos-Stream-Id")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let mut sub = Subscription {
            url: url.to_string(),
            stream_id,
            framework_id: FrameworkId::new(""),
            status,
            headers,
            body: Box::pin(resp.bytes_stream()),
            decoder: Decoder::new(),
            queue: Default::default(),
            passed_offers: Default::default(),
            ended: false,
            raw_events: Vec::new(),
        };
        let first = sub.next(Duration::from_secs(5)).await.expect("first event");
        if let Some(s) = &first.subscribed {
            sub.framework_id = s.framework_id.clone();
        }
        (sub, first)
    }

    /// The next event, or None at end of stream / timeout.
    pub async fn next(&mut self, timeout: Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Some(e);
            }
            if self.ended {
                return None;
            }
            let chunk = match tokio::time::timeout_at(deadline, self.body.next()).await {
                Err(_) => return None,
                Ok(None) | Ok(Some(Err(_))) => {
                    self.ended = true;
                    return None;
                }
                Ok(Some(Ok(c))) => c,
            };
            for rec in self.decoder.feed(&chunk).expect("valid RecordIO") {
                let e: Event = serde_json::from_slice(&rec).expect("valid event JSON");
                self.raw_events
                    .push(serde_json::from_slice(&rec).expect("valid event JSON"));
                self.queue.push_back(e);
            }
        }
    }

    /// Waits for an event matching `pred`, skipping others.
    pub async fn wait_for(
        &mut self,
        timeout: Duration,
        pred: impl Fn(&Event) -> bool,
    ) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let e = self.next(left).await?;
            if pred(&e) {
                return Some(e);
            }
            if e.kind == EventType::Offers {
                self.passed_offers.push_back(e);
            }
        }
    }

    /// Whether the stream ends within `timeout` (events before the end are dropped).
    pub async fn ends_within(&mut self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            if self.next(left).await.is_none() {
                return self.ended;
            }
        }
    }

    pub async fn offers(&mut self) -> Vec<Offer> {
        let event = match self.passed_offers.pop_front() {
            Some(e) => e,
            None => self
                .wait_for(Duration::from_secs(5), |e| e.kind == EventType::Offers)
                .await
                .expect("an OFFERS event"),
        };
        event.offers.unwrap().offers
    }

    /// The next UPDATE status.
    pub async fn update(&mut self) -> TaskStatus {
        self.wait_for(Duration::from_secs(5), |e| e.kind == EventType::Update)
            .await
            .expect("an UPDATE event")
            .update
            .unwrap()
            .status
    }

    /// Sends a call on this subscription's stream id.
    pub async fn call(&self, call: &Call) -> (StatusCode, String) {
        send(&self.url, Some(&self.stream_id), call).await
    }

    /// Acknowledges a status if it needs it.
    pub async fn ack(&self, st: &TaskStatus) {
        if let Some(c) = Call::acknowledge(self.framework_id.clone(), st) {
            assert_eq!(self.call(&c).await.0, StatusCode::ACCEPTED);
        }
    }

    /// Sends ACCEPT launching `tasks` on `offer` (no filters); returns the answer.
    pub async fn launch(&self, offer: &Offer, tasks: Vec<TaskInfo>) -> (StatusCode, String) {
        let call = Call::launch(
            self.framework_id.clone(),
            vec![offer.id.clone()],
            tasks,
            None,
        );
        self.call(&call).await
    }

    /// Launches one command task `id` (named `name`) running `shell` with `resources` on `offer`.
    pub async fn launch_command(
        &self,
        offer: &Offer,
        name: &str,
        id: &str,
        resources: Vec<Resource>,
        shell: &str,
    ) -> (StatusCode, String) {
        let task = TaskInfo::command(
            name,
            id,
            offer.agent_id.clone(),
            resources,
            CommandInfo::shell(shell),
        );
        self.launch(offer, vec![task]).await
    }

    /// Reads updates, acknowledging each, until task `id` reaches `state`; returns all read.
    pub async fn until_state(&mut self, id: &str, state: TaskState) -> Vec<TaskStatus> {
        let mut seen = Vec::new();
        loop {
            let st = self.update().await;
            self.ack(&st).await;
            let done = st.task_id.value == id && st.state == state;
            seen.push(st);
            if done {
                return seen;
            }
        }
    }

    /// Reads updates, acknowledging each, until task `id` ends; returns its terminal status.
    pub async fn until_terminal(&mut self, id: &str) -> TaskStatus {
        loop {
            let st = self.update().await;
            self.ack(&st).await;
            if st.task_id.value == id && st.state.is_terminal() {
                return st;
            }
        }
    }
}

/// POSTs a call with an optional stream id.
pub async fn send(url: &str, stream_id: Option<&str>, call: &Call) -> (StatusCode, String) {
    let mut req = client()
        .post(format!("{url}/api/v1/scheduler"))
        .header("Content-Type", "application/json")
        .json(call);
    if let Some(s) = stream_id {
        req = req.header("Mesos-Stream-Id", s);
    }
    let resp = req.send().await.expect("call request");
    let status = resp.status();
    (status, resp.text().await.unwrap_or_default())
}

pub fn framework(name: &str) -> FrameworkInfo {
    FrameworkInfo {
        failover_timeout: Some(3600.0),
        ..FrameworkInfo::new("tester", name)
    }
}

/// `slave(1)@ip:port` -> (`http://ip:port`, `slave(1)`): where an
/// agent's own listener answers, and its process.
pub fn agent_address(pid: &str) -> (String, String) {
    let (process, addr) = pid.split_once('@').expect("a pid is process@ip:port");
    (format!("http://{addr}"), process.to_string())
}

/// `http://ip:port/slave(1)` of the agent with this ID, from `/master/slaves`.
pub async fn agent_base(master_url: &str, agent_id: &str) -> String {
    let slaves = get_json(&format!("{master_url}/master/slaves")).await;
    let agent = slaves["slaves"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == agent_id)
        .unwrap_or_else(|| panic!("agent {agent_id} in /master/slaves"));
    let (addr, process) = agent_address(agent["pid"].as_str().unwrap());
    format!("{addr}/{process}")
}

pub async fn get_json(url: &str) -> serde_json::Value {
    let r = client().get(url).send().await.expect("GET");
    assert_eq!(r.status(), StatusCode::OK, "GET {url}");
    r.json().await.expect("JSON body")
}
