//! What the cluster does to a run: an agent lost in the middle of a rolling
//! replacement, with a worker or the master on it.

use super::*;

/// An agent dies while its worker waits for its replacement: the run
/// notices it from the master's events, ends that step as not started
/// (nothing is rolled back for it), finishes the others and exits 1. Once
/// the agent is back, the next plan launches its worker and apply
/// converges.
pub async fn agent_lost_mid_apply(backend: Backend) {
    let cluster = TestCluster::start(backend, &ClusterDesc::agents(3)).await;
    let d = sleepers(&cluster, "", "");
    expect_code(&cluster, &apply(&d).await, 0, "apply");
    let state = cluster.state().await;
    let master_agent = live_tasks(&state)
        .into_iter()
        .find(|(_, a, _, _)| a == "master[0]")
        .map(|(_, _, _, agent)| agent)
        .expect("a live master");
    // The last worker replaced (addresses in order) on an agent without
    // the master: it is still waiting when its agent dies.
    let victim = cluster
        .desc
        .agents
        .iter()
        .rev()
        .find(|a| {
            let id = state["slaves"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["hostname"] == a.hostname.as_str())
                .and_then(|s| s["id"].as_str())
                .unwrap_or_default();
            id != master_agent
        })
        .expect("an agent without the master")
        .clone();
    let old_workers: Vec<String> = live_tasks(&state)
        .into_iter()
        .filter(|(_, a, _, _)| a.starts_with("worker["))
        .map(|(id, _, _, _)| id)
        .collect();

    d.set_site(&SITE.replace("/tmp/underfs", "/tmp/underfs-2"));
    let run = tokio::spawn({
        let toml = d.toml();
        async move {
            tokio::task::spawn_blocking(move || {
                crate::support::run_cli(
                    &toml,
                    &["apply", "--auto-approve", "--settle-time", SETTLE],
                )
            })
            .await
            .unwrap()
        }
    });
    // The first worker's old task ends: the workers' wave has begun.
    cluster
        .wait_for(
            "the first worker replacement",
            Duration::from_secs(120),
            |s| {
                let live: Vec<String> = live_tasks(s)
                    .into_iter()
                    .filter(|(_, _, st, _)| !is_terminal(st))
                    .map(|(id, _, _, _)| id)
                    .collect();
                old_workers.iter().any(|id| !live.contains(id))
            },
        )
        .await;
    cluster.stop_agent(&victim.name).await;
    let r = run.await.unwrap();
    expect_code(&cluster, &r, 1, "apply with an agent lost");
    let victim_address = format!("worker[\"{}\"]", victim.hostname);
    let said = format!("{}{}", r.stdout, r.stderr);
    assert!(
        said.contains(&format!("agent {} was removed", victim.hostname))
            || said.contains(&format!("agent {} removed", victim.hostname)),
        "{said}"
    );
    assert!(!said.contains("Rolled back"), "{said}");
    assert!(!said.contains("rolling back"), "{said}");
    assert!(
        r.stdout.contains("1 not started"),
        "{}: {victim_address} should end as not started:\n{}",
        cluster.backend,
        r.stdout
    );

    // The agent comes back (same ID, its tasks gone with the host): the
    // next plan launches its worker, and apply converges.
    cluster.start_agent(&victim.name).await;
    let hostname = victim.hostname.clone();
    cluster
        .wait_for("the agent's return", Duration::from_secs(120), |s| {
            s["slaves"].as_array().into_iter().flatten().any(|a| {
                a["hostname"] == hostname.as_str() && a["active"] == serde_json::json!(true)
            })
        })
        .await;
    let plan = cli(&d, &["plan", "--detailed-exitcode"]).await;
    expect_code(&cluster, &plan, 2, "plan after the agent's return");
    assert!(
        plan.stdout
            .contains(&format!("# {victim_address} will be launched")),
        "{}",
        plan.stdout
    );
    expect_code(
        &cluster,
        &apply(&d).await,
        0,
        "apply after the agent's return",
    );
    assert_converged(&cluster, &d, 4).await;
    cluster.shutdown().await;
}

/// With ZooKeeper on, a master may move: its agent dies while the master is
/// being replaced, and the run places it on another agent instead; the
/// worker of the dead agent ends as not started, and the exit code says so.
pub async fn master_moves_off_a_lost_agent(backend: Backend) {
    let cluster = TestCluster::start(backend, &ClusterDesc::agents(3)).await;
    // Alluxio's ZooKeeper (which only the plan's leader lookup reads here):
    // a port nothing listens on, so the lookup says it does not know.
    let site = format!(
        "{SITE}alluxio.zookeeper.enabled=true\nalluxio.zookeeper.address=127.0.0.1:{}\n",
        crate::support::cluster::free_port()
    );
    let d = sleepers(&cluster, "", "");
    d.set_site(&site);
    // A master that ignores SIGTERM stays TASK_KILLING for the executor's
    // grace period: the window in which its agent dies.
    let toml = std::fs::read_to_string(d.toml()).unwrap().replacen(
        "command = \"exec sleep 600\"",
        "command = \"trap '' TERM; exec sleep 600\"",
        1,
    );
    std::fs::write(d.toml(), toml).unwrap();
    expect_code(&cluster, &apply(&d).await, 0, "apply");
    let state = cluster.state().await;
    let (old_master, _, _, master_agent) = live_tasks(&state)
        .into_iter()
        .find(|(_, a, _, _)| a == "master[0]")
        .expect("a live master");
    let victim =
        cluster
            .desc
            .agents
            .iter()
            .find(|a| {
                state["slaves"].as_array().unwrap().iter().any(|s| {
                    s["hostname"] == a.hostname.as_str() && s["id"] == master_agent.as_str()
                })
            })
            .expect("the master's agent")
            .clone();

    // Every task is replaced, the master first; its agent dies while the
    // old master is being killed.
    d.set_site(&site.replace("/tmp/underfs", "/tmp/underfs-2"));
    let toml = d.toml();
    let run = tokio::task::spawn_blocking(move || {
        crate::support::run_cli(&toml, &["apply", "--auto-approve", "--settle-time", SETTLE])
    });
    cluster
        .wait_for("the old master's kill", Duration::from_secs(120), |s| {
            live_tasks(s)
                .iter()
                .any(|(id, _, st, _)| *id == old_master && st == "TASK_KILLING")
        })
        .await;
    cluster.stop_agent(&victim.name).await;
    let r = run.await.unwrap();
    expect_code(&cluster, &r, 1, "apply with the master's agent lost");
    let said = format!("{}{}", r.stdout, r.stderr);
    assert!(said.contains("placing it on"), "{said}");
    assert!(!said.contains("Rolled back"), "{said}");
    assert!(r.stdout.contains("1 not started"), "{}", r.stdout);
    let state = cluster.state().await;
    let (_, _, st, agent) = live_tasks(&state)
        .into_iter()
        .find(|(_, a, st, _)| a == "master[0]" && !is_terminal(st))
        .expect("a live master after the move");
    assert_eq!(st, "TASK_RUNNING");
    assert_ne!(agent, master_agent, "the master did not move");
    cluster.shutdown().await;
}
