//! Fidelity against a real third-party client: pymesos 0.3.15 (PyPI), a
//! Mesos v1 scheduler library written against real masters, drives the
//! emulator through a whole framework life (subscribe, offers, launch,
//! acknowledgements, kill, failover, reconciliation, a rejected call,
//! teardown). `tests/python/pymesos_client.py` reports milestones as JSON
//! lines; this test checks them and, at the script's checkpoints and at the
//! end, the emulator's own record of what happened. The emulator runs in
//! strict-calls mode, so every call pymesos sends is also checked against
//! Mesos's v1 scheduler.proto.
//!
//! The interpreter is `<repo>/.venv/bin/python` (or `$PYMESOS_PYTHON`),
//! installed by `crates/mesos-sim/tests/python/install-pymesos.sh` (run by
//! `scripts/test`). Without it the test fails: it never skips.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mesos_api::TaskState;
use mesos_sim::{ClusterSpec, Sim, SimConfig, SimHandle};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};

/// The whole script may take this long; every wait inside it is bounded too.
const SCRIPT_LIMIT: Duration = Duration::from_secs(180);
/// How long the emulator gets to show what a milestone implies.
const SETTLE: Duration = Duration::from_secs(5);
const KILLED: &str = "pymesos-killed";
const KEPT: &str = "pymesos-kept";
const INSTALL: &str = "crates/mesos-sim/tests/python/install-pymesos.sh";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python that has pymesos, or a panic that says how to install it.
fn pymesos_python() -> PathBuf {
    let python = match std::env::var_os("PYMESOS_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => repo_root().join(".venv/bin/python"),
    };
    let probe = std::process::Command::new(&python)
        .args(["-c", "import pymesos; print(pymesos.__VERSION__)"])
        .output();
    match probe {
        Ok(out) if out.status.success() => {
            let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
            assert_eq!(
                version,
                "0.3.15",
                "{} has pymesos {version}, this test is written for 0.3.15; \
                 run `rm -rf .venv && {INSTALL}` in the repository",
                python.display()
            );
            python
        }
        Ok(out) => panic!(
            "{} cannot import pymesos ({}); install it with `{INSTALL}` \
             (from the repository root; scripts/test does this) or point \
             PYMESOS_PYTHON at a Python that has pymesos 0.3.15",
            python.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => panic!(
            "cannot run {} ({e}); install pymesos with `{INSTALL}` (from the \
             repository root; scripts/test does this) or point PYMESOS_PYTHON \
             at a Python that has pymesos 0.3.15",
            python.display()
        ),
    }
}

/// The running script: its milestones so far and its stderr, for failure
/// messages that show what pymesos saw.
struct Client {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    seen: Vec<String>,
    stderr: Arc<Mutex<String>>,
    deadline: Instant,
}

impl Client {
    fn start(master: &str) -> Client {
        let python = pymesos_python();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/pymesos_client.py");
        let mut child = tokio::process::Command::new(&python)
            .arg(&script)
            .arg(master)
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", python.display()));
        let stdin = child.stdin.take().expect("piped stdin");
        let lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_pipe = child.stderr.take().expect("piped stderr");
        let sink = stderr.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Client {
            child,
            stdin,
            lines,
            seen: Vec::new(),
            stderr,
            deadline: Instant::now() + SCRIPT_LIMIT,
        }
    }

    fn fail(&self, why: &str) -> ! {
        panic!(
            "{why}\n--- pymesos milestones ---\n{}\n--- pymesos stderr ---\n{}",
            self.seen.join("\n"),
            self.stderr.lock().unwrap()
        )
    }

    /// The next milestone, which must be `event`.
    async fn expect(&mut self, event: &str) -> Value {
        let left = self.deadline.saturating_duration_since(Instant::now());
        let line = match tokio::time::timeout(left, self.lines.next_line()).await {
            Err(_) => self.fail(&format!(
                "pymesos script still running after {SCRIPT_LIMIT:?}, waiting for `{event}`"
            )),
            Ok(Err(e)) => self.fail(&format!("cannot read the script's output: {e}")),
            Ok(Ok(None)) => self.fail(&format!("script ended before `{event}`")),
            Ok(Ok(Some(line))) => line,
        };
        self.seen.push(line.clone());
        let v: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| self.fail(&format!("milestone is not JSON ({e}): {line}")));
        if v["event"] != event {
            self.fail(&format!("expected milestone `{event}`, got {line}"));
        }
        v
    }

    /// Lets the script go on after a checkpoint milestone.
    async fn proceed(&mut self) {
        if let Err(e) = self.stdin.write_all(b"continue\n").await {
            self.fail(&format!("cannot answer the script's checkpoint: {e}"));
        }
        let _ = self.stdin.flush().await;
    }

    async fn finish(mut self) {
        let left = self.deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, self.child.wait()).await {
            Ok(Ok(status)) if status.success() => {}
            Ok(Ok(status)) => self.fail(&format!("script exited with {status}")),
            Ok(Err(e)) => self.fail(&format!("cannot wait for the script: {e}")),
            Err(_) => self.fail("script did not exit after `done`"),
        }
    }
}

fn frameworks<'a>(state: &'a Value, list: &str) -> Vec<&'a Value> {
    state[list]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

fn framework<'a>(state: &'a Value, list: &str, id: &str) -> Option<&'a Value> {
    frameworks(state, list).into_iter().find(|f| f["id"] == id)
}

/// `(task id, state)` of a framework's tasks in one of its task lists.
fn task_states(framework: &Value, list: &str) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = framework[list]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            (
                t["id"].as_str().unwrap_or_default().to_string(),
                t["state"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn pair(id: &str, state: &str) -> (String, String) {
    (id.to_string(), state.to_string())
}

/// Polls the emulator's `/master/state` until `check` passes or SETTLE ends.
async fn settle(sim: &SimHandle, client: &Client, what: &str, check: impl Fn(&Value) -> bool) {
    let until = Instant::now() + SETTLE;
    loop {
        let state = sim.state_json();
        if check(&state) {
            return;
        }
        if Instant::now() > until {
            client.fail(&format!(
                "emulator state does not show {what} after {SETTLE:?}: {}",
                serde_json::to_string_pretty(&state["frameworks"]).unwrap_or_default()
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn status<'a>(statuses: &'a Value, task: &str) -> &'a Value {
    statuses
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["task_id"] == task)
        .unwrap_or(&Value::Null)
}

fn is_reconciliation(s: &Value, state: &str) -> bool {
    s["state"] == state
        && s["reason"] == "REASON_RECONCILIATION"
        && s["source"] == "SOURCE_MASTER"
        && s["has_uuid"] == false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pymesos_scheduler_lives_a_whole_framework_life_against_the_emulator() {
    let cluster = repo_root().join("fixtures/clusters/alluxio-ports.toml");
    let spec = ClusterSpec::load(&cluster)
        .unwrap_or_else(|e| panic!("cannot load {}: {e}", cluster.display()));
    // Strict calls: every call pymesos sends must be exactly valid for
    // Mesos's v1 scheduler.proto (checked at the end), which proves the
    // checker accepts a real third-party client's calls.
    let cfg = SimConfig {
        strict_calls: true,
        ..SimConfig::new(spec, "127.0.0.1:0".parse().unwrap())
    };
    let sim = Sim::start_with(cfg)
        .await
        .expect("emulator must start on 127.0.0.1");
    let master = sim.url().trim_start_matches("http://").to_string();
    let mut client = Client::start(&master);

    // Subscribe: a new framework ID from this master; pymesos read /version.
    let m = client.expect("subscribed").await;
    let fid = m["framework_id"].as_str().unwrap_or_default().to_string();
    if !fid.starts_with(&format!("{}-", sim.master_id())) {
        client.fail(&format!("framework ID {fid:?} is not <master id>-NNNN"));
    }
    let version = sim.state_json()["version"].clone();
    if m["master_version"] != version || m["master_info"]["version"] != version {
        client.fail(&format!(
            "pymesos saw master version {m}, /version is {version}"
        ));
    }

    // Launch on an offer of one of the fixture's agents.
    let m = client.expect("launched").await;
    let agent = m["agent_id"].as_str().unwrap_or_default().to_string();
    if !sim.agents().iter().any(|(_, id)| *id == agent) {
        client.fail(&format!("launched on unknown agent {agent:?}"));
    }

    // Updates arrive in order; each one only after the previous was acknowledged.
    for task in [KILLED, KEPT] {
        let m = client.expect("task_running").await;
        if m["task_id"] != task
            || m["states"] != serde_json::json!(["TASK_STARTING", "TASK_RUNNING"])
        {
            client.fail(&format!("{task}: expected STARTING then RUNNING, got {m}"));
        }
    }

    // KILL: TASK_KILLING (declared capability) then TASK_KILLED; pymesos's
    // acknowledgement of the terminal update is what completes the task.
    let m = client.expect("task_killed").await;
    if m["task_id"] != KILLED || m["states"] != serde_json::json!(["TASK_KILLING", "TASK_KILLED"]) {
        client.fail(&format!("expected KILLING then KILLED, got {m}"));
    }
    settle(
        &sim,
        &client,
        "the kill acknowledged and the other task running",
        |s| {
            framework(s, "frameworks", &fid).is_some_and(|f| {
                f["active"] == true
                    && f["failover_timeout"] == 3600.0
                    && f["checkpoint"] == true
                    && task_states(f, "completed_tasks") == [pair(KILLED, "TASK_KILLED")]
                    && task_states(f, "tasks") == [pair(KEPT, "TASK_RUNNING")]
            })
        },
    )
    .await;
    client.proceed().await;

    // Disconnect without TEARDOWN: inactive, tasks kept (failover_timeout).
    client.expect("disconnected").await;
    settle(
        &sim,
        &client,
        "an inactive framework that kept its task",
        |s| {
            framework(s, "frameworks", &fid).is_some_and(|f| {
                f["active"] == false && task_states(f, "tasks") == [pair(KEPT, "TASK_RUNNING")]
            }) && framework(s, "completed_frameworks", &fid).is_none()
        },
    )
    .await;
    client.proceed().await;

    // Failover: the same framework ID back.
    let m = client.expect("resubscribed").await;
    if m["framework_id"] != fid.as_str() {
        client.fail(&format!(
            "failover gave {}, expected {fid}",
            m["framework_id"]
        ));
    }
    // Everything was acknowledged, so nothing is redelivered.
    let m = client.expect("redelivered").await;
    if m["statuses"] != serde_json::json!([]) {
        client.fail(&format!("acknowledged updates were resent: {m}"));
    }

    // Implicit reconciliation: the running task only.
    let m = client.expect("implicit_reconciliation").await;
    let statuses = m["statuses"].as_array().cloned().unwrap_or_default();
    if statuses.len() != 1 || !is_reconciliation(status(&m["statuses"], KEPT), "TASK_RUNNING") {
        client.fail(&format!("implicit reconciliation: {m}"));
    }
    if status(&m["statuses"], KEPT)["agent_id"] != agent.as_str() {
        client.fail(&format!("reconciled on another agent: {m}"));
    }
    // Explicit: the running task's state; the killed and acknowledged task is
    // no longer known to the master and has no agent given, so Mesos answers
    // TASK_UNKNOWN, which is TASK_LOST for a framework not PARTITION_AWARE.
    let m = client.expect("explicit_reconciliation").await;
    if !is_reconciliation(status(&m["statuses"], KEPT), "TASK_RUNNING")
        || !is_reconciliation(status(&m["statuses"], KILLED), "TASK_LOST")
    {
        client.fail(&format!("explicit reconciliation: {m}"));
    }

    // A call real Mesos rejects: validation's 400, which pymesos raises.
    let m = client.expect("rejected_acknowledge").await;
    let error = m["error"].as_str().unwrap_or_default();
    if !error.starts_with(
        "Failed to send request 400: b'Failed to validate scheduler::Call: Not a valid UUID",
    ) {
        client.fail(&format!("ACKNOWLEDGE with a 10-byte uuid: {m}"));
    }

    // TEARDOWN (pymesos's stop without failover), then the ID is refused.
    client.expect("torn_down").await;
    let m = client.expect("removed_framework_error").await;
    if m["message"] != "Framework has been removed" {
        client.fail(&format!("re-subscribing a removed framework: {m}"));
    }
    client.expect("done").await;

    // The emulator's own record: removed framework, both tasks killed.
    settle(
        &sim,
        &client,
        "the framework removed with its tasks killed",
        |s| {
            frameworks(s, "frameworks").is_empty()
                && frameworks(s, "completed_frameworks").len() == 1
                && framework(s, "completed_frameworks", &fid).is_some_and(|f| {
                    let mut all = task_states(f, "tasks");
                    all.extend(task_states(f, "completed_tasks"));
                    all.sort();
                    all == [pair(KEPT, "TASK_KILLED"), pair(KILLED, "TASK_KILLED")]
                })
        },
    )
    .await;
    let mut history: Vec<(String, Vec<TaskState>)> = Vec::new();
    for t in sim.transitions() {
        if t.framework_id != fid || t.agent_id != agent {
            client.fail(&format!("transition of another framework or agent: {t:?}"));
        }
        match history.iter_mut().find(|(id, _)| *id == t.task_id) {
            Some((_, states)) => states.push(t.state),
            None => history.push((t.task_id.clone(), vec![t.state])),
        }
    }
    history.sort_by(|a, b| a.0.cmp(&b.0));
    use TaskState::*;
    let expected = vec![
        (KEPT.to_string(), vec![Staging, Starting, Running, Killed]),
        (
            KILLED.to_string(),
            vec![Staging, Starting, Running, Killing, Killed],
        ),
    ];
    if history != expected {
        client.fail(&format!("transitions: {history:?}, expected {expected:?}"));
    }

    let violations = sim.strict_violations();
    if !violations.is_empty() {
        client.fail(&format!(
            "pymesos sent calls that are not valid for scheduler.proto: {violations:?}"
        ));
    }
    let seen = sim.call_types_seen();
    for kind in [
        "SUBSCRIBE",
        "ACCEPT",
        "ACKNOWLEDGE",
        "KILL",
        "RECONCILE",
        "TEARDOWN",
    ] {
        if !seen.contains_key(kind) {
            client.fail(&format!("pymesos never sent {kind}: {seen:?}"));
        }
    }

    client.finish().await;
    sim.shutdown().await;
}
