//! apply replaces the standby Alluxio masters before the leader, which it
//! learns from ZooKeeper as Alluxio's clients do (the newest child of the
//! leader path, named `host:rpcport`). Through the real binary against the
//! emulator, with a real ZooKeeper server started here.

use crate::support;
use crate::zookeeper;

use mesos_api::TaskState;
use mesos_sim::SimHandle;
use std::time::Duration;
use support::*;
use zookeeper::ZkServer;
use zookeeper_client::{Acls, Client, CreateMode};

/// Started on the test's own thread, which lives as long as the test: the
/// server dies with the thread that spawned it (`PR_SET_PDEATHSIG`), and a
/// blocking-pool thread exits after 10 s idle.
fn start_zookeeper() -> ZkServer {
    ZkServer::start()
}

/// Two masters on an emulated cluster of three agents, with Alluxio's
/// ZooKeeper at `zk` (`host:port`).
fn two_masters(sim: &SimHandle, zk: &str) -> Deployment {
    let site = format!("{SITE}alluxio.zookeeper.enabled=true\nalluxio.zookeeper.address={zk}\n");
    Deployment::new(&sim.url(), "[master]\ncount = 2\ncpus = 1\n", &site)
}

/// A change of the masters' configuration only: both masters are replaced.
fn change_master_cpus(d: &Deployment, cpus: &str) {
    let toml = std::fs::read_to_string(d.toml()).unwrap();
    // `cpus` is set once, in [master].
    let mut changed = String::new();
    for line in toml.lines() {
        if line.starts_with("cpus = ") {
            changed.push_str(&format!("cpus = {cpus}\n"));
        } else {
            changed.push_str(line);
            changed.push('\n');
        }
    }
    assert_ne!(toml, changed, "the master cpus change");
    std::fs::write(d.toml(), changed).unwrap();
}

/// `(task ID, hostname)` of a master in the state file.
fn master_task(d: &Deployment, index: u32) -> (String, String) {
    let state = d.state();
    let address = format!("master[{index}]");
    let task = state["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["address"] == address.as_str())
        .unwrap_or_else(|| panic!("{address} in the state file: {state:#}"));
    (
        task["task_id"].as_str().unwrap().to_string(),
        task["hostname"].as_str().unwrap().to_string(),
    )
}

/// Where, among the emulator's transitions from `since` on, the task ended.
fn ended_at(sim: &SimHandle, task_id: &str, since: usize) -> usize {
    sim.transitions()
        .iter()
        .enumerate()
        .skip(since)
        .find(|(_, t)| t.task_id == task_id && t.state == TaskState::Killed)
        .map(|(i, _)| i)
        .unwrap_or_else(|| panic!("task {task_id} was not killed"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_leading_master_named_in_zookeeper_is_replaced_last() {
    let zk = start_zookeeper();
    let sim = start_sim_from(&cluster_text(3, "50ms", false)).await;
    let d = two_masters(&sim, &zk.address());
    cli(&d, &["apply", "--auto-approve", "--settle-time", "0s"])
        .await
        .ok();
    let (old0, host0) = master_task(&d, 0);
    let (old1, host1) = master_task(&d, 1);
    assert_ne!(host0, host1);

    // What Alluxio's masters write: master[1] led first, then master[0]
    // took over (its node is the newer one); master[1]'s node lingers, as
    // an old leader's does until its session expires.
    let client = Client::connect(&zk.address()).await.unwrap();
    let persistent = CreateMode::Persistent.with_acls(Acls::anyone_all());
    let ephemeral = CreateMode::Ephemeral.with_acls(Acls::anyone_all());
    client.create("/leader", b"", &persistent).await.unwrap();
    for host in [&host1, &host0] {
        client
            .create(&format!("/leader/{host}:19998"), b"", &ephemeral)
            .await
            .unwrap();
        // Creation times have millisecond resolution.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    change_master_cpus(&d, "0.5");
    let since = sim.transitions().len();
    let r = cli(&d, &["apply", "--auto-approve", "--settle-time", "0s"]).await;
    r.ok();
    let expected = format!(
        "Alluxio leader: master[0] ({host0}:19998, from ZooKeeper zk://{}/leader): replaced last",
        zk.address()
    );
    assert!(r.stderr.contains(&expected), "{}", r.stderr);
    assert!(
        ended_at(&sim, &old1, since) < ended_at(&sim, &old0, since),
        "master[1] (standby) must be killed before master[0] (leader):\n{}",
        r.stderr
    );
    // The standby ran again before the leader went down.
    let (new1, _) = master_task(&d, 1);
    let new1_running = sim
        .transitions()
        .iter()
        .position(|t| t.task_id == new1 && t.state == TaskState::Running)
        .expect("the new master[1] runs");
    assert!(new1_running < ended_at(&sim, &old0, since));
    drop(client);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_known_leader_masters_are_replaced_in_index_order_and_apply_goes_on() {
    let mut zk = Some(start_zookeeper());
    let address = zk.as_ref().unwrap().address();
    let sim = start_sim_from(&cluster_text(3, "50ms", false)).await;
    let d = two_masters(&sim, &address);
    cli(&d, &["apply", "--auto-approve", "--settle-time", "0s"])
        .await
        .ok();

    // ZooKeeper answers, but no master holds the leader path.
    for (round, cpus) in ["0.5", "0.25"].into_iter().enumerate() {
        if round == 1 {
            // ZooKeeper is gone: asking fails within its bound, apply goes on.
            drop(zk.take());
        }
        let (old0, _) = master_task(&d, 0);
        let (old1, _) = master_task(&d, 1);
        change_master_cpus(&d, cpus);
        let since = sim.transitions().len();
        let r = cli(&d, &["apply", "--auto-approve", "--settle-time", "0s"]).await;
        r.ok();
        let line = r
            .stderr
            .lines()
            .find(|l| l.starts_with("Alluxio leader unknown ("))
            .unwrap_or_else(|| panic!("no 'leader unknown' line:\n{}", r.stderr));
        assert!(
            line.ends_with("): masters are replaced in index order"),
            "{line}"
        );
        let why = if round == 0 {
            "'/leader' does not exist"
        } else {
            "no ZooKeeper reachable"
        };
        assert!(line.contains(why) && line.contains(&address), "{line}");
        assert!(
            ended_at(&sim, &old0, since) < ended_at(&sim, &old1, since),
            "index order:\n{}",
            r.stderr
        );
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_master_replacement_does_not_ask_zookeeper() {
    let zk = start_zookeeper();
    let sim = start_sim_from(&cluster_text(2, "50ms", false)).await;
    let site = format!(
        "{SITE}alluxio.zookeeper.enabled=true\nalluxio.zookeeper.address={}\n",
        zk.address()
    );
    let d = Deployment::new(&sim.url(), "[master]\ncpus = 1\n", &site);
    cli(&d, &["apply", "--auto-approve", "--settle-time", "0s"])
        .await
        .ok();
    change_master_cpus(&d, "0.5");
    let r = cli(&d, &["apply", "--auto-approve", "--settle-time", "0s"]).await;
    r.ok();
    assert!(r.stderr.contains("master[0]: killing task"), "{}", r.stderr);
    assert!(!r.stderr.contains("Alluxio leader"), "{}", r.stderr);
    sim.shutdown().await;
}
