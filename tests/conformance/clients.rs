//! Third-party clients against both backends: pymesos 0.3.15 (a scheduler
//! library) lives a framework's life, and @dcos/mesos-client 1.0.0 reads
//! the operator API and its event stream while a framework launches, kills
//! and tears down. Each prints milestones as JSON lines (the scripts of the
//! emulator's own fidelity tests, `crates/mesos-sim/tests/{python,node}`);
//! every milestone is recorded as an exchange and compared like any other.
//! `scripts/test` installs both clients; without them the suite fails.

use crate::operator_session::OneTask;
use crate::sessions::Record;
use crate::support::cluster::TestCluster;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout};
use tokio::time::Instant;

/// Each script's whole run is bounded by this; its own waits are shorter.
const SCRIPT_LIMIT: Duration = Duration::from_secs(240);

fn sim_tests() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/mesos-sim/tests")
}

/// A client script's process and its milestone lines.
struct Script {
    what: String,
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    deadline: Instant,
}

impl Script {
    fn start(what: String, mut command: tokio::process::Command) -> Script {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{what}: cannot start the client ({e}); scripts/test installs it")
            });
        let lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        Script {
            what,
            child,
            lines,
            deadline: Instant::now() + SCRIPT_LIMIT,
        }
    }

    async fn next(&mut self) -> Value {
        let line = tokio::time::timeout_at(self.deadline, self.lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("{}: no milestone within {SCRIPT_LIMIT:?}", self.what))
            .unwrap_or_else(|e| panic!("{}: reading its output: {e}", self.what))
            .unwrap_or_else(|| panic!("{}: the client ended before its last milestone", self.what));
        serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("{}: a milestone is not JSON ({e}): {line}", self.what))
    }

    async fn finish(mut self) {
        let status = tokio::time::timeout_at(self.deadline, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("{}: the client did not exit", self.what))
            .unwrap_or_else(|e| panic!("{}: {e}", self.what));
        assert!(
            status.success(),
            "{}: the client exited {status}",
            self.what
        );
    }
}

/// Runs both clients on `cluster`, adding their milestones to `rec`.
pub async fn run(cluster: &TestCluster, rec: &mut Record) {
    pymesos(cluster, rec).await;
    mesos_client(cluster, rec).await;
}

async fn pymesos(cluster: &TestCluster, rec: &mut Record) {
    let python = std::env::var_os("PYMESOS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"));
    let mut command = tokio::process::Command::new(&python);
    let master = cluster.url();
    command
        .arg(sim_tests().join("python/pymesos_client.py"))
        .arg(master.trim_start_matches("http://"))
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::piped());
    let mut script = Script::start(format!("pymesos against {}", cluster.backend), command);
    let mut stdin = script.child.stdin.take().expect("piped stdin");
    let mut fid = String::new();
    let mut agent = String::new();
    loop {
        let mut m = script.next().await;
        let event = m["event"].as_str().unwrap_or("?").to_string();
        if event == "subscribed" {
            fid = m["framework_id"].as_str().unwrap_or_default().to_string();
            rec.name(&fid, "<pymesos-framework>");
        }
        if event == "launched" {
            rec.name(m["offer_id"].as_str().unwrap_or_default(), "<offer>");
            // pymesos takes the first offer that fits; which agent's comes
            // first is the allocator's shuffle, on real Mesos too.
            agent = m["agent_id"].as_str().unwrap_or_default().to_string();
        }
        if !agent.is_empty() {
            m = serde_json::from_str(&m.to_string().replace(&agent, "<pymesos-agent>"))
                .expect("JSON with one ID replaced");
        }
        rec.add(
            format!("pymesos milestone {event}"),
            crate::scheduler::observed(m.clone()),
        );
        if m["checkpoint"] == true {
            // What the script's own test checks at its checkpoints, asked
            // of the master: the kill recorded, then the framework inactive.
            let fid = fid.clone();
            let done = event.clone();
            cluster
                .wait_for(
                    &format!("pymesos checkpoint {done}"),
                    SCRIPT_LIMIT,
                    move |s| {
                        let framework = s["frameworks"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .find(|f| f["id"] == fid.as_str());
                        match done.as_str() {
                            "task_killed" => framework.is_some_and(|f| {
                                f["completed_tasks"]
                                    .as_array()
                                    .is_some_and(|t| !t.is_empty())
                            }),
                            _ => framework.is_some_and(|f| f["active"] == false),
                        }
                    },
                )
                .await;
            use tokio::io::AsyncWriteExt;
            stdin
                .write_all(b"continue\n")
                .await
                .expect("pymesos reads its checkpoint answers");
        }
        if event == "done" {
            break;
        }
    }
    drop(stdin);
    script.finish().await;
}

async fn mesos_client(cluster: &TestCluster, rec: &mut Record) {
    let node_dir = sim_tests().join("node");
    let mut command =
        tokio::process::Command::new(std::env::var_os("NODE").unwrap_or_else(|| "node".into()));
    command
        .current_dir(&node_dir)
        .arg("mesos_client_flow.js")
        .arg(cluster.url())
        .stdin(Stdio::null());
    let mut script = Script::start(
        format!("@dcos/mesos-client against {}", cluster.backend),
        command,
    );
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut record = |rec: &mut Record, m: &Value| {
        let step = m["step"].as_str().unwrap_or("?").to_string();
        let kind = match step.as_str() {
            "event" => format!("event {}", m["event"]["type"].as_str().unwrap_or("?")),
            _ => step,
        };
        let n = counts.entry(kind.clone()).or_default();
        *n += 1;
        rec.add(
            format!("mesos-client {kind} #{n}"),
            crate::scheduler::observed(m.clone()),
        );
    };
    // Until the client's stream is subscribed (its first HEARTBEAT).
    loop {
        let m = script.next().await;
        record(rec, &m);
        if m["event"]["type"] == "HEARTBEAT" {
            break;
        }
    }
    OneTask::launch(cluster, rec, "conformance-mesos-client", "t1", "sleep 100")
        .await
        .kill_and_tear_down()
        .await;
    loop {
        let m = script.next().await;
        if m["event"]["type"] != "HEARTBEAT" {
            record(rec, &m);
        }
        if m["step"] == "done" {
            break;
        }
    }
    script.finish().await;
}
