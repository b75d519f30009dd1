//! Exec mode (commands really run in sandboxes) and state kept across
//! emulator restarts.

mod common;

use std::time::Duration;

use common::*;
use mesos_api::*;
use mesos_sim::process::ProcessId;
use mesos_sim::{ClusterSpec, Sim};

fn exec_cluster() -> String {
    format!("exec = true\n{FAST}\n{}", agents(1, "[31000-32000]"))
}

async fn run(sub: &mut Subscription, offer: &Offer, id: &str, cmd: CommandInfo) {
    let task = TaskInfo::command(
        "job",
        id,
        offer.agent_id.clone(),
        vec![Resource::cpus(0.1), Resource::mem(32.0)],
        cmd,
    );
    sub.call(&Call::launch(
        sub.framework_id.clone(),
        vec![offer.id.clone()],
        vec![task],
        Some(Filters::refuse(0.0)),
    ))
    .await;
}

#[tokio::test]
async fn commands_run_in_the_sandbox_and_their_exit_decides_the_state() {
    let sim = start(&exec_cluster()).await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let src = tempfile::tempdir().unwrap();
    let payload = src.path().join("payload.txt");
    std::fs::write(&payload, "fetched").unwrap();
    let offer = sub.offers().await.remove(0);
    run(
        &mut sub,
        &offer,
        "ok",
        CommandInfo {
            uris: vec![CommandUri::new(format!("file://{}", payload.display()))],
            environment: Some(Environment::from_pairs([("GREETING", "hi")])),
            ..CommandInfo::shell("echo $GREETING; cat payload.txt; echo err >&2")
        },
    )
    .await;
    let st = sub.until_terminal("ok").await;
    assert_eq!(st.state, TaskState::Finished);
    let state = get_json(&format!("{}/master/state", sim.url())).await;
    let agent_pid = state["slaves"][0]["pid"].as_str().unwrap().to_string();
    let (agent_url, name) = agent_address(&agent_pid);
    let ast = get_json(&format!("{agent_url}/{name}/state")).await;
    let dir = ast["frameworks"][0]["completed_executors"][0]["directory"]
        .as_str()
        .unwrap()
        .to_string();
    let out = get_json(&format!(
        "{agent_url}/files/read?path={dir}/stdout&offset=0"
    ))
    .await;
    assert_eq!(out["data"], "hi\nfetched");
    let err = std::fs::read_to_string(format!("{dir}/stderr")).unwrap();
    assert!(err.contains("err"));

    let offer = sub.offers().await.remove(0);
    run(&mut sub, &offer, "bad", CommandInfo::shell("exit 3")).await;
    let st = sub.until_terminal("bad").await;
    assert_eq!(st.state, TaskState::Failed);
    assert_eq!(st.message.as_deref(), Some("Command exited with status 3"));
}

#[tokio::test]
async fn killing_a_running_command_ends_it_as_killed() {
    let sim = start(&exec_cluster()).await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let offer = sub.offers().await.remove(0);
    // The command notes the SIGTERM it gets in its sandbox, then exits.
    let cmd = "trap 'echo TERM > got-term; exit 0' TERM; echo started > ready; sleep 300 & wait";
    run(&mut sub, &offer, "long", CommandInfo::shell(cmd)).await;
    sub.until_state("long", TaskState::Running).await;
    let sandbox = sandbox_of(&sim, "long").await;
    // The shell has set its trap once it says so.
    wait_for_file(&sandbox.join("ready")).await;
    sub.call(&Call::kill(sub.framework_id.clone(), "long".into(), None))
        .await;
    let st = sub.until_terminal("long").await;
    assert_eq!(st.state, TaskState::Killed);
    // SIGTERM reached the command (not only the SIGKILL after the grace).
    assert_eq!(
        std::fs::read_to_string(sandbox.join("got-term")).unwrap(),
        "TERM\n"
    );
}

/// The sandbox directory of the task `task`, as the agent's state names it.
async fn sandbox_of(sim: &mesos_sim::SimHandle, task: &str) -> std::path::PathBuf {
    let state = get_json(&format!("{}/master/state", sim.url())).await;
    let (agent_url, name) = agent_address(state["slaves"][0]["pid"].as_str().unwrap());
    let ast = get_json(&format!("{agent_url}/{name}/state")).await;
    let executors = ast["frameworks"][0]["executors"].as_array().unwrap();
    let dir = executors
        .iter()
        .find(|e| e["tasks"][0]["id"] == task)
        .and_then(|e| e["directory"].as_str())
        .expect("the task's executor is listed");
    dir.into()
}

/// Waits (bounded) until `file` exists.
async fn wait_for_file(file: &std::path::Path) {
    for _ in 0..600 {
        if file.exists() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{} did not appear within a minute", file.display());
}

#[tokio::test]
async fn a_missing_uri_fails_the_launch() {
    let sim = start(&exec_cluster()).await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let offer = sub.offers().await.remove(0);
    run(
        &mut sub,
        &offer,
        "nofile",
        CommandInfo {
            uris: vec![CommandUri::new("file:///definitely/not/here.tar.gz")],
            ..CommandInfo::shell("true")
        },
    )
    .await;
    let st = sub.until_terminal("nofile").await;
    assert_eq!(st.state, TaskState::Failed);
    assert_eq!(st.reason, Some(Reason::ReasonContainerLaunchFailed));
}

#[tokio::test]
async fn state_survives_a_restart_with_a_persist_dir() {
    let dir = tempfile::tempdir().unwrap();
    let spec = ClusterSpec::parse(&format!("{FAST}\n{}", agents(2, "[31000-32000]"))).unwrap();
    let sim = Sim::start(
        spec.clone(),
        "127.0.0.1:0".parse().unwrap(),
        Some(dir.path().to_path_buf()),
    )
    .await
    .unwrap();
    let master_id = sim.master_id();
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let offer = sub.offers().await.remove(0);
    sub.launch_command(&offer, "w", "t1", vec![Resource::cpus(1.0)], "sleep 1000")
        .await;
    sub.until_state("t1", TaskState::Running).await;
    let fid = sub.framework_id.clone();
    drop(sub);
    sim.shutdown().await;
    assert!(dir.path().join("mesos-sim-state.json").exists());

    // The cluster file gains an agent between runs.
    let spec = ClusterSpec::parse(&format!("{FAST}\n{}", agents(3, "[31000-32000]"))).unwrap();
    let sim = Sim::start(
        spec,
        "127.0.0.1:0".parse().unwrap(),
        Some(dir.path().to_path_buf()),
    )
    .await
    .unwrap();
    assert_eq!(sim.master_id(), master_id);
    let mut hosts: Vec<String> = sim.agents().into_iter().map(|(h, _)| h).collect();
    hosts.sort();
    assert_eq!(hosts, ["host1", "host2", "host3"]);
    let state = get_json(&format!("{}/master/state", sim.url())).await;
    assert_eq!(state["frameworks"][0]["id"], fid.value);
    assert_eq!(state["frameworks"][0]["tasks"][0]["state"], "TASK_RUNNING");
    let mut info = framework("f");
    info.id = Some(fid.clone());
    let (mut sub, ev) = Subscription::open(&sim.url(), info).await;
    assert_eq!(ev.subscribed.unwrap().framework_id, fid);
    sub.call(&Call::reconcile(fid.clone(), vec![])).await;
    let st = sub.update().await;
    assert_eq!(
        (st.task_id.value.as_str(), st.state),
        ("t1", TaskState::Running)
    );
    // The next new framework does not reuse an ID.
    let (_other, ev) = Subscription::open(&sim.url(), framework("g")).await;
    assert_eq!(
        ev.subscribed.unwrap().framework_id.value,
        format!("{master_id}-0001")
    );
    // Used resources are still accounted for.
    let offers = sub.offers().await;
    let o = offers.iter().find(|o| o.agent_id == offer.agent_id);
    if let Some(o) = o {
        assert_eq!(ResourceSummary::of(&o.resources).cpus, 3.0);
    }
}

/// A command that notes its SIGTERM and the pid of the `sleep` it starts
/// (a grandchild of the emulator, in the command's process group).
const NOTING_COMMAND: &str =
    "trap 'echo TERM > got-term; exit 0' TERM; sleep 300 & echo $! > child-pid; wait";

/// The process whose pid the command wrote to `child-pid` in `sandbox`.
async fn noted_child(sandbox: &std::path::Path) -> ProcessId {
    let file = sandbox.join("child-pid");
    wait_for_file(&file).await;
    let mut text = String::new();
    for _ in 0..600 {
        text = std::fs::read_to_string(&file).unwrap();
        if text.ends_with('\n') {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pid = text.trim().parse().expect("a pid");
    ProcessId::of(pid).expect("the child runs")
}

/// Waits (bounded) until `process` has ended.
async fn until_ended(process: ProcessId) {
    for _ in 0..600 {
        if !process.is_running() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("process {} still runs after a minute", process.pid);
}

#[tokio::test]
async fn stopping_an_emulator_without_a_persist_dir_ends_every_command() {
    let sim = start(&exec_cluster()).await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let offer = sub.offers().await.remove(0);
    run(&mut sub, &offer, "long", CommandInfo::shell(NOTING_COMMAND)).await;
    sub.until_state("long", TaskState::Running).await;
    let child = noted_child(&sandbox_of(&sim, "long").await).await;
    drop(sub);
    sim.shutdown().await;
    until_ended(child).await;
}

/// As an agent recovers its executors: with a persist directory a command
/// runs on while the emulator is stopped, and the next start can kill it.
#[tokio::test]
async fn a_command_outlives_a_restart_with_a_persist_dir_and_is_killed_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let start_here = || async {
        Sim::start(
            ClusterSpec::parse(&exec_cluster()).unwrap(),
            "127.0.0.1:0".parse().unwrap(),
            Some(dir.path().to_path_buf()),
        )
        .await
        .unwrap()
    };
    let sim = start_here().await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let offer = sub.offers().await.remove(0);
    run(&mut sub, &offer, "long", CommandInfo::shell(NOTING_COMMAND)).await;
    sub.until_state("long", TaskState::Running).await;
    let sandbox = sandbox_of(&sim, "long").await;
    let child = noted_child(&sandbox).await;
    let fid = sub.framework_id.clone();
    drop(sub);
    sim.shutdown().await;
    assert!(child.is_running(), "the command ended with the emulator");

    let sim = start_here().await;
    let mut info = framework("f");
    info.id = Some(fid.clone());
    let (mut sub, _) = Subscription::open(&sim.url(), info).await;
    sub.call(&Call::kill(fid, "long".into(), None)).await;
    let st = sub.until_terminal("long").await;
    assert_eq!(st.state, TaskState::Killed);
    until_ended(child).await;
    assert_eq!(
        std::fs::read_to_string(sandbox.join("got-term")).unwrap(),
        "TERM\n"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_corrupt_state_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mesos-sim-state.json"), "{oops").unwrap();
    let spec = ClusterSpec::parse("").unwrap();
    let err = Sim::start(
        spec,
        "127.0.0.1:0".parse().unwrap(),
        Some(dir.path().to_path_buf()),
    )
    .await
    .err()
    .expect("must refuse a corrupt state file");
    let msg = err.to_string();
    assert!(
        msg.contains("mesos-sim-state.json") && msg.contains("delete it"),
        "{msg}"
    );
}
