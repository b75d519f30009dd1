//! Fidelity against a second real third-party client: @dcos/mesos-client
//! 1.0.0 (npm), the DC/OS UI's client of the Mesos v1 operator API,
//! reads the emulator's operator API and event stream while this test
//! runs a framework's life through the scheduler API. It parses the
//! RecordIO stream with its own reader (`@dcos/recordio`, which counts
//! record lengths in UTF-8 bytes) and sees: GET_FLAGS answered; a call
//! without its payload refused with Mesos's 400 text; SUBSCRIBED with the
//! state and a HEARTBEAT; FRAMEWORK_ADDED, TASK_ADDED, a TASK_UPDATED per
//! state the emulator recorded, FRAMEWORK_REMOVED at teardown.
//!
//! `tests/node/mesos_client_flow.js` prints one JSON line per milestone.
//! The client is installed in `crates/mesos-sim/tests/node/node_modules`
//! by `crates/mesos-sim/tests/node/install-mesos-client.sh` (run by
//! `scripts/test`); without it, or without Node.js (`$NODE` or `node`),
//! the test fails naming the install command: it never skips.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::*;
use mesos_api::*;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

const INSTALL: &str = "crates/mesos-sim/tests/node/install-mesos-client.sh";
/// Each milestone must come within this; the script gives up after 60 s.
const WAIT: Duration = Duration::from_secs(20);

fn node_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node")
}

/// The Node.js to run, after checking that the client is installed.
fn node() -> PathBuf {
    let node = std::env::var_os("NODE").map_or_else(|| PathBuf::from("node"), PathBuf::from);
    let probe = std::process::Command::new(&node)
        .current_dir(node_dir())
        .args([
            "-e",
            "console.log(require('@dcos/mesos-client/package.json').version)",
        ])
        .output();
    match probe {
        Ok(out) if out.status.success() => {
            let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
            assert_eq!(
                version, "1.0.0",
                "@dcos/mesos-client {version} is installed, this test is written for 1.0.0; \
                 run `rm -rf crates/mesos-sim/tests/node/node_modules && {INSTALL}`"
            );
            node
        }
        Ok(out) => panic!(
            "@dcos/mesos-client is not installed ({}); install it with `{INSTALL}` \
             (from the repository root; scripts/test does this)",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => panic!(
            "cannot run {} ({e}); install Node.js and npm, then `{INSTALL}`, \
             or point NODE at a Node.js",
            node.display()
        ),
    }
}

/// The script's milestones, read line by line with a bounded wait.
struct Flow {
    child: tokio::process::Child,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

impl Flow {
    async fn next(&mut self) -> Value {
        match tokio::time::timeout(WAIT, self.lines.next_line()).await {
            Ok(Ok(Some(line))) => serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("not a JSON milestone ({e}): {line}")),
            other => {
                let _ = self.child.start_kill();
                let mut stderr = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    let _ = e.read_to_string(&mut stderr).await;
                }
                panic!("no milestone from the client ({other:?}); its stderr:\n{stderr}")
            }
        }
    }

    /// The next event the client parsed off the stream.
    async fn event(&mut self) -> Value {
        let m = self.next().await;
        assert_eq!(m["step"], "event", "{m}");
        m["event"].clone()
    }

    /// Events up to and including the first of `kind` (HEARTBEATs left out).
    async fn events_until(&mut self, kind: &str) -> Vec<Value> {
        let mut seen = Vec::new();
        loop {
            let e = self.event().await;
            let last = e["type"] == kind;
            if e["type"] != "HEARTBEAT" {
                seen.push(e);
            }
            if last {
                return seen;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dcos_mesos_client_reads_the_operator_api_and_its_event_stream() {
    let node = node();
    let sim = start_default().await;
    let mut child = tokio::process::Command::new(node)
        .current_dir(node_dir())
        .arg("mesos_client_flow.js")
        .arg(sim.url())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start node");
    let stdout = child.stdout.take().unwrap();
    let mut flow = Flow {
        child,
        lines: BufReader::new(stdout).lines(),
    };

    let flags = flow.next().await;
    assert_eq!(flags["step"], "flags", "{flags}");
    assert_eq!(flags["type"], "GET_FLAGS");
    let names: Vec<&str> = flags["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"allocation_interval"), "{names:?}");

    let refused = flow.next().await;
    assert_eq!(
        refused,
        json!({
            "step": "refused",
            "code": 400,
            "body": "Failed to validate master::Call: Expecting 'get_metrics' to be present",
        })
    );

    let subscribed = flow.event().await;
    assert_eq!(subscribed["type"], "SUBSCRIBED");
    let agents = subscribed["subscribed"]["get_state"]["get_agents"]["agents"]
        .as_array()
        .unwrap();
    assert_eq!(agents.len(), 3);
    // JavaScript writes the double 15.0 back as 15.
    assert_eq!(
        subscribed["subscribed"]["heartbeat_interval_seconds"].as_f64(),
        Some(15.0)
    );
    assert_eq!(flow.event().await, json!({"type": "HEARTBEAT"}));

    // A framework's life, through the scheduler API.
    let (mut sub, _) = Subscription::open(&sim.url(), framework("dcos-seen")).await;
    let fid = sub.framework_id.value.clone();
    let offer = sub.offers().await.remove(0);
    let resources = vec![Resource::cpus(0.5), Resource::mem(64.0)];
    sub.launch_command(&offer, "t", "t1", resources, "sleep 100")
        .await;
    sub.until_state("t1", TaskState::Running).await;
    sub.call(&Call::kill(
        sub.framework_id.clone(),
        TaskId::new("t1"),
        None,
    ))
    .await;
    sub.until_terminal("t1").await;
    sub.call(&Call::teardown(sub.framework_id.clone())).await;

    let events = flow.events_until("FRAMEWORK_REMOVED").await;
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"FRAMEWORK_ADDED"), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"FRAMEWORK_REMOVED"), "{kinds:?}");
    assert_eq!(
        events[0]["framework_added"]["framework"]["framework_info"]["id"]["value"],
        fid
    );
    let added: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "TASK_ADDED")
        .collect();
    assert_eq!(added.len(), 1, "{kinds:?}");
    assert_eq!(added[0]["task_added"]["task"]["task_id"]["value"], "t1");
    assert_eq!(added[0]["task_added"]["task"]["state"], "TASK_STAGING");
    // One TASK_UPDATED per state the emulator recorded after STAGING.
    let updated: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "TASK_UPDATED")
        .map(|e| e["task_updated"]["state"].as_str().unwrap())
        .collect();
    let recorded: Vec<String> = sim
        .transitions()
        .iter()
        .filter(|t| t.task_id == "t1" && t.state != TaskState::Staging)
        .map(|t| {
            serde_json::to_value(t.state)
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(updated, recorded, "{kinds:?}");
    assert_eq!(updated.last(), Some(&"TASK_KILLED"));
    assert_eq!(
        events.last().unwrap()["framework_removed"]["framework_info"]["id"]["value"],
        fid
    );

    assert_eq!(flow.next().await, json!({"step": "done"}));
    let status = tokio::time::timeout(WAIT, flow.child.wait())
        .await
        .expect("the client exits")
        .unwrap();
    assert!(status.success(), "{status}");
    sim.shutdown().await;
}
