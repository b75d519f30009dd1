//! Drift, read-only: `plan --refresh-only` after a task ended, an agent
//! was lost and a record went missing; `apply --refresh-only` records it
//! without touching Mesos.

use super::*;

/// 1 master and 3 workers; then the master's command exits 7, agent3 is
/// lost, and the state loses worker[agent1]'s record. The drift names
/// each, with Mesos's own words, in text, JSON and Markdown; recording it
/// changes the state only; a plain apply then converges.
pub async fn drift_is_shown_and_recorded(backend: Backend) {
    let cluster = TestCluster::start(backend, &ClusterDesc::agents(3)).await;
    let trigger = tempfile::tempdir().unwrap();
    let stop = trigger.path().join("stop");
    let d = sleepers(&cluster, "", "");
    let toml = std::fs::read_to_string(d.toml()).unwrap().replace(
        "[master]\ncommand = \"exec sleep 600\"",
        &format!(
            "[master]\ncommand = \"while [ ! -e {} ]; do sleep 0.2; done; exit 7\"",
            stop.display()
        ),
    );
    std::fs::write(d.toml(), toml).unwrap();
    expect_code(&cluster, &apply(&d).await, 0, "apply");
    let none = cli(&d, &["plan", "--refresh-only", "--detailed-exitcode"]).await;
    expect_said(&cluster, &none, 0, "plan --refresh-only", "No drift.");

    // The master's command ends; agent3 goes; a record is lost.
    std::fs::write(&stop, "").unwrap();
    cluster
        .wait_for("the master's end", Duration::from_secs(60), |s| {
            live_tasks(s)
                .iter()
                .any(|(_, a, st, _)| a == "master[0]" && st == "TASK_FAILED")
        })
        .await;
    let agent3 = cluster.desc.agents[2].clone();
    cluster.stop_agent(&agent3.name).await;
    // Deactivated at once, then, after its health checks, removed (its
    // worker lost): no longer listed among the agents.
    let host3 = agent3.hostname.clone();
    cluster
        .wait_for("agent3's removal", Duration::from_secs(120), |s| {
            !s["slaves"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|a| a["hostname"] == host3.as_str())
        })
        .await;
    let mut state = d.state();
    state["tasks"]
        .as_array_mut()
        .unwrap()
        .retain(|t| t["address"] != "worker[\"agent1.example\"]");
    std::fs::write(d.state_file(), serde_json::to_vec_pretty(&state).unwrap()).unwrap();

    let drift = cli(&d, &["plan", "--refresh-only", "--detailed-exitcode"]).await;
    expect_code(&cluster, &drift, 2, "plan --refresh-only with drift");
    for words in [
        "master[0]: task",
        "TASK_FAILED (from the executor) at ",
        "Command exited with status 7; recorded as TASK_RUNNING at the last apply",
        &format!("agent {}", agent3.hostname),
        &format!("it ran worker[\"{}\"]", agent3.hostname),
        "TASK_RUNNING at worker[\"agent1.example\"], and the state does not record it",
        "a plan would:  launch master[0] on",
    ] {
        assert!(
            drift.stdout.contains(words),
            "{}: {words:?} not in:\n{}",
            cluster.backend,
            drift.stdout
        );
    }
    let json = cli(&d, &["plan", "--refresh-only", "--format", "json"]).await;
    expect_code(&cluster, &json, 0, "plan --refresh-only --format json");
    let doc: Value = serde_json::from_str(&json.stdout).expect("drift JSON");
    let kinds: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["kind"].as_str())
        .collect();
    for kind in ["task-ended", "agent-gone", "unrecorded-task"] {
        assert!(kinds.contains(&kind), "{kind} not in {kinds:?}");
    }
    assert_eq!(doc["drifted"], true);
    let md = cli(&d, &["plan", "--refresh-only", "--format", "markdown"]).await;
    expect_said(
        &cluster,
        &md,
        0,
        "markdown",
        "| what | observed | a plan would |",
    );

    // Recorded: refused without a terminal, then approved.
    let serial = d.state()["serial"].as_u64().unwrap();
    let refused = cli(&d, &["apply", "--refresh-only"]).await;
    expect_code(
        &cluster,
        &refused,
        1,
        "apply --refresh-only without approval",
    );
    let tasks_before = live_by_address(&cluster).await;
    let r = cli(&d, &["apply", "--refresh-only", "--auto-approve"]).await;
    expect_said(
        &cluster,
        &r,
        0,
        "apply --refresh-only",
        "Nothing was launched or killed.",
    );
    assert!(d.state()["serial"].as_u64().unwrap() > serial);
    assert_eq!(
        live_by_address(&cluster).await,
        tasks_before,
        "Mesos was changed"
    );
    let none = cli(&d, &["plan", "--refresh-only", "--detailed-exitcode"]).await;
    expect_said(
        &cluster,
        &none,
        0,
        "plan --refresh-only after recording",
        "No drift.",
    );

    // A normal apply brings the master back.
    std::fs::write(
        d.toml(),
        std::fs::read_to_string(d.toml()).unwrap().replace(
            &format!(
                "command = \"while [ ! -e {} ]; do sleep 0.2; done; exit 7\"",
                stop.display()
            ),
            "command = \"exec sleep 600\"",
        ),
    )
    .unwrap();
    expect_code(&cluster, &apply(&d).await, 0, "apply after the drift");
    assert_converged(&cluster, &d, 3).await;
    cluster.shutdown().await;
}
