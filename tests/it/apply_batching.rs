//! apply at a scale where per-status state writes would show: launch
//! intents are saved per OFFERS event and statuses per burst, so the state
//! file is written far fewer times than there are tasks, and every task
//! still ends recorded as running.

use crate::support;

use std::io::Write;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_workers_are_recorded_with_fewer_state_writes_than_tasks() {
    let agents = 30;
    let dir = tempfile::tempdir().unwrap();
    let cluster_file = dir.path().join("cluster.toml");
    let mut f = std::fs::File::create(&cluster_file).unwrap();
    mesos_sim::gen::write_cluster(&mut f, agents, ALLUXIO_AGENT_PORTS, 5, "100ms", "50ms").unwrap();
    f.flush().unwrap();
    let cluster = mesos_sim::ClusterSpec::load(&cluster_file).expect("generated cluster file");
    let sim = mesos_sim::Sim::start(cluster, "127.0.0.1:0".parse().unwrap(), None)
        .await
        .expect("the emulator must start on 127.0.0.1");
    let d = Deployment::new(&sim.url(), "", SITE);

    let toml = d.toml();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_alluxio-mesos"))
            .arg("-c")
            .arg(toml)
            .args(["apply", "--auto-approve"])
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let state = d.state();
    assert_eq!(running_addresses(&state).len(), agents + 1, "{state}");
    // One write per status would be at least three per task (intent,
    // STARTING, RUNNING): 93 here.
    let serial = state["serial"].as_u64().expect("serial");
    assert!(
        serial < (agents + 1) as u64,
        "{serial} state writes for {} tasks",
        agents + 1
    );
    sim.shutdown().await;
}
