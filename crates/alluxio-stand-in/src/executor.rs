//! The stand-in's Mesos executor, in the place of Alluxio's
//! `AlluxioMasterExecutor` and `AlluxioWorkerExecutor`.
//!
//! It speaks the v1 executor HTTP API to its agent (`executor.proto`,
//! `docs/executor-http-api.md`): SUBSCRIBE on `MESOS_AGENT_ENDPOINT`, then
//! LAUNCH, KILL, ACKNOWLEDGED, SHUTDOWN and ERROR events on the stream, and
//! UPDATE calls with a fresh UUID each, kept until acknowledged and sent
//! again in the next SUBSCRIBE with the tasks no update of which was
//! acknowledged yet. With checkpointing it re-subscribes after a
//! disconnection for up to `MESOS_RECOVERY_TIMEOUT`, backing off up to
//! `MESOS_SUBSCRIPTION_BACKOFF_MAX`; without it, it ends its tasks and exits.
//!
//! A launched task is a stand-in Alluxio process (see [`crate::alluxio`]),
//! in a process group of its own that dies with the executor. Its states:
//! TASK_STARTING when the process is started, TASK_RUNNING once its RPC port
//! accepts connections (Alluxio's own executors say TASK_RUNNING before
//! Alluxio starts; the stand-in waits, so that TASK_RUNNING means a process
//! is listening), TASK_KILLING and TASK_KILLED on KILL or SHUTDOWN, and
//! TASK_FINISHED or TASK_FAILED when the process exits on its own, with the
//! command executor's messages ("Command exited with status 3", "Command
//! terminated with signal Terminated").
//!
//! The task's health check runs here, as Mesos's checker runs it for the
//! command executor (see [`crate::health`]).

use crate::health::{self, HealthReport};
use crate::site::{resolve, Role, Site, HOSTNAME_ENV};
use anyhow::{anyhow, bail, Context, Result};
use base64::Engine;
use mesos_api::recordio::Decoder;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::os::unix::process::{CommandExt as _, ExitStatusExt};
use std::process::ExitStatus;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;

/// How long a started process has to listen on its RPC port.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(120);

/// The command executor's default kill grace period.
const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(3);

/// How long the executor waits for the acknowledgement of its last terminal
/// update before it exits anyway (the command executor's fail-safe).
const LAST_ACK_WAIT: Duration = Duration::from_secs(60);

/// What the agent told the executor through its environment.
#[derive(Debug, Clone)]
struct AgentEnv {
    url: String,
    framework_id: String,
    executor_id: String,
    checkpoint: bool,
    recovery_timeout: Duration,
    backoff_max: Duration,
    shutdown_grace: Duration,
    token: Option<String>,
}

impl AgentEnv {
    fn from_env() -> Result<AgentEnv> {
        let var = |k: &str| {
            std::env::var(k).map_err(|_| anyhow!("{k} is not set: run me as a Mesos executor"))
        };
        let duration = |k: &str, default: Duration| match std::env::var(k) {
            Ok(v) => parse_mesos_duration(&v).ok_or_else(|| anyhow!("{k}={v:?} is not a duration")),
            Err(_) => Ok(default),
        };
        Ok(AgentEnv {
            url: format!("http://{}/api/v1/executor", var("MESOS_AGENT_ENDPOINT")?),
            framework_id: var("MESOS_FRAMEWORK_ID")?,
            executor_id: var("MESOS_EXECUTOR_ID")?,
            checkpoint: std::env::var("MESOS_CHECKPOINT").as_deref() == Ok("1"),
            recovery_timeout: duration("MESOS_RECOVERY_TIMEOUT", Duration::from_secs(900))?,
            backoff_max: duration("MESOS_SUBSCRIPTION_BACKOFF_MAX", Duration::from_secs(2))?,
            shutdown_grace: duration(
                "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD",
                Duration::from_secs(5),
            )?,
            token: std::env::var("MESOS_EXECUTOR_AUTHENTICATION_TOKEN").ok(),
        })
    }
}

/// Mesos's `Duration` text: `15mins`, `5secs`, `250ms`, `1.5hrs`.
pub fn parse_mesos_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(end);
    let n: f64 = num.parse().ok()?;
    let secs = match unit {
        "ns" => n / 1e9,
        "us" => n / 1e6,
        "ms" => n / 1e3,
        "secs" => n,
        "mins" => n * 60.0,
        "hrs" => n * 3600.0,
        "days" => n * 86400.0,
        "weeks" => n * 7.0 * 86400.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(secs))
}

/// What the executor's helpers tell its loop.
#[derive(Debug)]
enum Note {
    /// The task's process listens on its RPC port.
    Listening(String),
    /// It did not within [`LISTEN_TIMEOUT`].
    NotListening(String, String),
    Exited(String, ExitStatus),
    Health(String, HealthReport),
}

#[derive(Debug)]
struct Task {
    info: Value,
    pgid: i32,
    /// The address its process serves on (its health checks go there).
    host: String,
    killing: bool,
    killed_by_health_check: bool,
    /// Why the executor ended it itself, for the terminal update.
    failure: Option<String>,
    terminal_sent: bool,
    health: Option<tokio::task::AbortHandle>,
}

struct Executor {
    role: Role,
    env: AgentEnv,
    client: reqwest::Client,
    notes_tx: mpsc::UnboundedSender<Note>,
    notes: mpsc::UnboundedReceiver<Note>,
    tasks: BTreeMap<String, Task>,
    /// Tasks no update of which was acknowledged yet.
    unacknowledged_tasks: BTreeMap<String, Value>,
    /// Updates sent and not acknowledged, by UUID.
    unacknowledged_updates: BTreeMap<String, Value>,
    agent_hostname: Option<String>,
    task_killing_state: bool,
    shutting_down: bool,
    last_terminal_at: Option<Instant>,
}

/// Runs the executor for `role` until its tasks have ended.
pub async fn run(role: Role) -> Result<()> {
    let env = AgentEnv::from_env()?;
    let (notes_tx, notes) = mpsc::unbounded_channel();
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .build()?;
    let mut ex = Executor {
        role,
        env,
        client,
        notes_tx,
        notes,
        tasks: BTreeMap::new(),
        unacknowledged_tasks: BTreeMap::new(),
        unacknowledged_updates: BTreeMap::new(),
        agent_hostname: None,
        task_killing_state: false,
        shutting_down: false,
        last_terminal_at: None,
    };
    let outcome = ex.serve().await;
    ex.end_every_process().await;
    outcome
}

impl Executor {
    async fn serve(&mut self) -> Result<()> {
        let mut disconnected_at: Option<Instant> = None;
        let mut backoff = Duration::from_millis(250);
        loop {
            let response = match self.subscribe().await {
                Ok(r) => r,
                Err(e) => {
                    let since = *disconnected_at.get_or_insert_with(Instant::now);
                    if !self.env.checkpoint || since.elapsed() >= self.env.recovery_timeout {
                        return Err(e.context("cannot subscribe to the agent"));
                    }
                    eprintln!("stand-in executor: {e:#}; subscribing again in {backoff:?}");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(self.env.backoff_max);
                    continue;
                }
            };
            backoff = Duration::from_millis(250);
            if self.stream(response).await? {
                return Ok(());
            }
            if !self.env.checkpoint {
                bail!(
                    "the agent closed the subscription and checkpointing is off: ending the tasks"
                );
            }
            eprintln!("stand-in executor: disconnected from the agent; subscribing again");
            disconnected_at = Some(Instant::now());
        }
    }

    fn call(&self, body: Value) -> reqwest::RequestBuilder {
        let mut req = self
            .client
            .post(&self.env.url)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .json(&body);
        if let Some(token) = &self.env.token {
            req = req.bearer_auth(token);
        }
        req
    }

    fn ids(&self) -> (Value, Value) {
        (
            json!({ "value": self.env.executor_id }),
            json!({ "value": self.env.framework_id }),
        )
    }

    async fn subscribe(&self) -> Result<reqwest::Response> {
        let (executor_id, framework_id) = self.ids();
        let body = json!({
            "type": "SUBSCRIBE",
            "executor_id": executor_id,
            "framework_id": framework_id,
            "subscribe": {
                "unacknowledged_tasks": self.unacknowledged_tasks.values().collect::<Vec<_>>(),
                "unacknowledged_updates": self.unacknowledged_updates.values()
                    .map(|status| json!({ "status": status })).collect::<Vec<_>>(),
            },
        });
        let response = self
            .call(body)
            .send()
            .await
            .with_context(|| format!("POST {}", self.env.url))?;
        let status = response.status();
        if status != reqwest::StatusCode::OK {
            let text = response.text().await.unwrap_or_default();
            bail!(
                "SUBSCRIBE to {} answered {status}: {}",
                self.env.url,
                text.trim()
            );
        }
        Ok(response)
    }

    /// Serves one subscription; true once the executor is done.
    async fn stream(&mut self, mut response: reqwest::Response) -> Result<bool> {
        let mut decoder = Decoder::new();
        loop {
            if self.done() {
                return Ok(true);
            }
            let ack_deadline = self.last_terminal_at.map(|t| t + LAST_ACK_WAIT);
            tokio::select! {
                chunk = response.chunk() => {
                    let chunk = match chunk {
                        Ok(Some(c)) => c,
                        Ok(None) | Err(_) => return Ok(false),
                    };
                    for record in decoder.feed(&chunk).context("the agent's event stream")? {
                        let event: Value = serde_json::from_slice(&record)
                            .context("an event of the agent that is not JSON")?;
                        self.on_event(event).await?;
                    }
                }
                Some(note) = self.notes.recv() => self.on_note(note).await,
                _ = sleep_until(ack_deadline) => {
                    eprintln!("stand-in executor: the last update was not acknowledged within {LAST_ACK_WAIT:?}; exiting");
                    return Ok(true);
                }
            }
        }
    }

    /// Every launched task ended and was told, and the agent acknowledged
    /// it (or the agent asked for a shutdown).
    fn done(&self) -> bool {
        let all_ended = !self.tasks.is_empty() && self.tasks.values().all(|t| t.terminal_sent);
        all_ended && (self.unacknowledged_updates.is_empty() || self.shutting_down)
    }

    async fn on_event(&mut self, event: Value) -> Result<()> {
        match event["type"].as_str().unwrap_or("") {
            "SUBSCRIBED" => {
                let s = &event["subscribed"];
                self.agent_hostname = s["agent_info"]["hostname"].as_str().map(str::to_string);
                self.task_killing_state = s["framework_info"]["capabilities"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|c| c["type"] == "TASK_KILLING_STATE"));
                println!(
                    "stand-in executor {} subscribed to agent {}",
                    self.env.executor_id,
                    self.agent_hostname.as_deref().unwrap_or("?")
                );
            }
            "LAUNCH" => self.launch(event["launch"]["task"].clone()).await,
            "LAUNCH_GROUP" => {
                eprintln!("stand-in executor: LAUNCH_GROUP is not supported; ignored");
            }
            "KILL" => {
                let id = event["kill"]["task_id"]["value"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                let grace = grace_of(&event["kill"]["kill_policy"]);
                self.kill(&id, grace).await;
            }
            "ACKNOWLEDGED" => {
                let ack = &event["acknowledged"];
                if let Some(uuid) = ack["uuid"].as_str() {
                    self.unacknowledged_updates.remove(uuid);
                }
                if let Some(id) = ack["task_id"]["value"].as_str() {
                    self.unacknowledged_tasks.remove(id);
                }
            }
            "SHUTDOWN" => {
                println!("stand-in executor: shutting down");
                self.shutting_down = true;
                let grace = (self.env.shutdown_grace / 2).min(DEFAULT_KILL_GRACE);
                let ids: Vec<String> = self.tasks.keys().cloned().collect();
                for id in ids {
                    self.kill(&id, grace).await;
                }
                if self.tasks.is_empty() {
                    std::process::exit(0);
                }
            }
            "ERROR" => {
                bail!("the agent reported an error: {}", event["error"]["message"]);
            }
            // HEARTBEAT and MESSAGE need no answer.
            _ => {}
        }
        Ok(())
    }

    async fn launch(&mut self, info: Value) {
        let id = info["task_id"]["value"].as_str().unwrap_or("").to_string();
        self.unacknowledged_tasks.insert(id.clone(), info.clone());
        let mut task = Task {
            info,
            pgid: 0,
            host: String::new(),
            killing: false,
            killed_by_health_check: false,
            failure: None,
            terminal_sent: false,
            health: None,
        };
        match self.start_process(&id) {
            Ok((pgid, host)) => {
                (task.pgid, task.host) = (pgid, host);
                self.tasks.insert(id.clone(), task);
                self.update(&id, "TASK_STARTING", None, None).await;
            }
            Err(e) => {
                let message = format!(
                    "the stand-in Alluxio {} did not start: {e:#}",
                    self.role.as_str()
                );
                eprintln!("stand-in executor: {message}");
                task.terminal_sent = true;
                self.tasks.insert(id.clone(), task);
                self.update(&id, "TASK_FAILED", Some(message), None).await;
                self.last_terminal_at = Some(Instant::now());
            }
        }
    }

    /// Starts the stand-in process of this role, in a process group of its
    /// own that the kernel kills when the executor dies, and watches it.
    /// Returns its process group and the host it serves on.
    fn start_process(&mut self, id: &str) -> Result<(i32, String)> {
        let hostname = self
            .agent_hostname
            .clone()
            .context("LAUNCH came before SUBSCRIBED")?;
        let site = Site::load()?;
        let ports = site.ports(self.role)?;
        let host = site.own_hostname(self.role, &hostname);
        let ip = resolve(&host)?;
        let mut command = std::process::Command::new(std::env::current_exe()?);
        command.arg(self.role.as_str()).env(HOSTNAME_ENV, &hostname);
        command.process_group(0);
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork
        // and exec.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let mut child = tokio::process::Command::from(command)
            .spawn()
            .context("cannot start the stand-in process")?;
        let pid = child.id().context("the started process has no pid")? as i32;
        println!(
            "stand-in executor: started the Alluxio {} for task {id} (pid {pid})",
            self.role.as_str()
        );
        let notes = self.notes_tx.clone();
        let task = id.to_string();
        tokio::spawn(async move {
            if let Ok(status) = child.wait().await {
                let _ = notes.send(Note::Exited(task, status));
            }
        });
        let notes = self.notes_tx.clone();
        let task = id.to_string();
        let rpc = SocketAddr::new(ip, ports.rpc);
        tokio::spawn(async move {
            let start = Instant::now();
            while start.elapsed() < LISTEN_TIMEOUT {
                if tokio::net::TcpStream::connect(rpc).await.is_ok() {
                    let _ = notes.send(Note::Listening(task));
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let _ = notes.send(Note::NotListening(
                task,
                format!("nothing listened on the RPC port {rpc} within {LISTEN_TIMEOUT:?}"),
            ));
        });
        Ok((pid, host))
    }

    async fn on_note(&mut self, note: Note) {
        match note {
            Note::Listening(id) => {
                let Some(task) = self.tasks.get_mut(&id) else {
                    return;
                };
                if task.killing || task.terminal_sent {
                    return;
                }
                if let Some(check) = task.info.get("health_check").cloned() {
                    let host = task.host.clone();
                    let notes = self.notes_tx.clone();
                    let task_id = id.clone();
                    let handle = tokio::spawn(async move {
                        health::run(&check, &host, |report| {
                            let _ = notes.send(Note::Health(task_id.clone(), report));
                        })
                        .await
                    });
                    task.health = Some(handle.abort_handle());
                }
                self.update(&id, "TASK_RUNNING", None, None).await;
            }
            Note::NotListening(id, why) => {
                if let Some(task) = self.tasks.get_mut(&id) {
                    task.failure = Some(why);
                }
                self.kill(&id, DEFAULT_KILL_GRACE).await;
            }
            Note::Health(id, report) => {
                let Some(task) = self.tasks.get(&id) else {
                    return;
                };
                if task.killing || task.terminal_sent {
                    return;
                }
                self.update(
                    &id,
                    "TASK_RUNNING",
                    None,
                    Some((report.healthy, "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED")),
                )
                .await;
                if report.kill {
                    if let Some(task) = self.tasks.get_mut(&id) {
                        task.killed_by_health_check = true;
                    }
                    self.kill(&id, grace_of(&self.tasks[&id].info["kill_policy"]))
                        .await;
                }
            }
            Note::Exited(id, status) => self.exited(&id, status).await,
        }
    }

    async fn kill(&mut self, id: &str, grace: Duration) {
        let Some(task) = self.tasks.get_mut(id) else {
            eprintln!("stand-in executor: KILL of unknown task {id} ignored");
            return;
        };
        if task.killing || task.terminal_sent {
            return;
        }
        task.killing = true;
        if let Some(h) = task.health.take() {
            h.abort();
        }
        let pgid = task.pgid;
        signal_group(pgid, libc::SIGTERM);
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            signal_group(pgid, libc::SIGKILL);
        });
        if self.task_killing_state {
            self.update(id, "TASK_KILLING", None, None).await;
        }
    }

    async fn exited(&mut self, id: &str, status: ExitStatus) {
        let Some(task) = self.tasks.get_mut(id) else {
            return;
        };
        if let Some(h) = task.health.take() {
            h.abort();
        }
        task.terminal_sent = true;
        let message = command_message(status);
        let (state, message) = match (&task.failure, task.killing) {
            (Some(why), _) => ("TASK_FAILED", format!("{why}; {message}")),
            (None, true) => ("TASK_KILLED", message),
            (None, false) if status.success() => ("TASK_FINISHED", message),
            (None, false) => ("TASK_FAILED", message),
        };
        // As the command executor: a kill for failing health checks ends
        // with `healthy: false`, and no reason.
        let healthy = task.killed_by_health_check.then_some((false, ""));
        println!("stand-in executor: task {id}: {state}: {message}");
        self.update(id, state, Some(message), healthy).await;
        self.last_terminal_at = Some(Instant::now());
        if self.shutting_down && self.tasks.values().all(|t| t.terminal_sent) {
            // The agent destroys the container after its grace period; the
            // updates are with it already (202).
            std::process::exit(0);
        }
    }

    /// Sends a status update; an update that does not reach the agent stays
    /// unacknowledged and goes with the next SUBSCRIBE.
    async fn update(
        &mut self,
        id: &str,
        state: &str,
        message: Option<String>,
        health: Option<(bool, &str)>,
    ) {
        let uuid =
            base64::engine::general_purpose::STANDARD.encode(uuid::Uuid::new_v4().as_bytes());
        let mut status = json!({
            "task_id": { "value": id },
            "state": state,
            "source": "SOURCE_EXECUTOR",
            "executor_id": { "value": self.env.executor_id },
            "uuid": uuid,
            "timestamp": SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0),
        });
        if let Some(m) = message {
            status["message"] = json!(m);
        }
        if let Some((healthy, reason)) = health {
            status["healthy"] = json!(healthy);
            if !reason.is_empty() {
                status["reason"] = json!(reason);
            }
        }
        self.unacknowledged_updates.insert(uuid, status.clone());
        let (executor_id, framework_id) = self.ids();
        let body = json!({
            "type": "UPDATE",
            "executor_id": executor_id,
            "framework_id": framework_id,
            "update": { "status": status },
        });
        match self.call(body).send().await {
            Ok(r) if r.status() == reqwest::StatusCode::ACCEPTED => {}
            Ok(r) => {
                let code = r.status();
                let text = r.text().await.unwrap_or_default();
                eprintln!(
                    "stand-in executor: UPDATE {state} of {id} answered {code}: {}",
                    text.trim()
                );
            }
            Err(e) => eprintln!("stand-in executor: UPDATE {state} of {id} not sent: {e}"),
        }
    }

    /// Nothing of ours outlives the executor.
    async fn end_every_process(&mut self) {
        for task in self
            .tasks
            .values()
            .filter(|t| !t.terminal_sent && t.pgid > 0)
        {
            signal_group(task.pgid, libc::SIGKILL);
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}

/// A kill policy's grace period, or the command executor's default.
fn grace_of(kill_policy: &Value) -> Duration {
    kill_policy["grace_period"]["nanoseconds"]
        .as_i64()
        .map(|ns| Duration::from_nanos(ns.max(0) as u64))
        .unwrap_or(DEFAULT_KILL_GRACE)
}

fn signal_group(pgid: i32, signal: i32) {
    if pgid > 0 {
        // SAFETY: kill(2) with a negative pid signals that process group.
        unsafe {
            libc::kill(-pgid, signal);
        }
    }
}

/// The command executor's words for how a process ended (`WSTRINGIFY`).
fn command_message(status: ExitStatus) -> String {
    mesos_api::command_status::command_status_message(status.code(), status.signal())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mesos_durations_as_the_agent_writes_them() {
        assert_eq!(
            parse_mesos_duration("15mins"),
            Some(Duration::from_secs(900))
        );
        assert_eq!(parse_mesos_duration("5secs"), Some(Duration::from_secs(5)));
        assert_eq!(
            parse_mesos_duration("250ms"),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            parse_mesos_duration("1.5hrs"),
            Some(Duration::from_secs(5400))
        );
        assert_eq!(parse_mesos_duration("5 s"), None);
    }

    #[test]
    fn endings_are_worded_as_the_command_executor_words_them() {
        assert_eq!(
            command_message(ExitStatus::from_raw(3 << 8)),
            "Command exited with status 3"
        );
        assert_eq!(
            command_message(ExitStatus::from_raw(libc::SIGTERM)),
            "Command terminated with signal Terminated"
        );
    }

    #[test]
    fn a_kill_policy_sets_the_grace_period() {
        let p = json!({"grace_period": {"nanoseconds": 1_500_000_000i64}});
        assert_eq!(grace_of(&p), Duration::from_millis(1500));
        assert_eq!(grace_of(&Value::Null), DEFAULT_KILL_GRACE);
    }
}
