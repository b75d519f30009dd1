//! A deployment's life: first apply, no-change applies, the framework's
//! end (failover timeout, destroy, teardown), logs and authentication.

use super::*;

/// 1 master and 3 workers on 3 agents of distinct hostnames; then the
/// plan finds nothing to do and `output` and `state list` say where they run.
pub async fn deploys_and_converges(backend: Backend) {
    let cluster = TestCluster::start(backend, &ClusterDesc::agents(3)).await;
    let d = sleepers(&cluster, "", "");
    let r = apply(&d).await;
    expect_said(
        &cluster,
        &r,
        0,
        "apply",
        "Apply complete: 4 launched, 0 replaced, 0 killed.",
    );
    assert_converged(&cluster, &d, 4).await;

    // Where the master runs, as the master reports it.
    let state = cluster.state().await;
    let (_, _, _, agent_id) = live_tasks(&state)
        .into_iter()
        .find(|(_, a, _, _)| a == "master[0]")
        .expect("a live master task");
    let host = state["slaves"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == agent_id.as_str())
        .and_then(|a| a["hostname"].as_str())
        .expect("the master's agent")
        .to_string();
    let out = cli(&d, &["output", "--json"]).await;
    expect_code(&cluster, &out, 0, "output --json");
    let outputs: Value = serde_json::from_str(&out.stdout).expect("output --json is JSON");
    assert_eq!(
        outputs["master_rpc"],
        serde_json::json!([format!("alluxio://{host}:19998")]),
        "{}",
        out.stdout
    );
    let list = cli(&d, &["state", "list"]).await;
    expect_code(&cluster, &list, 0, "state list");
    let mut listed: Vec<&str> = list
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            "master[0]",
            "worker[\"agent1.example\"]",
            "worker[\"agent2.example\"]",
            "worker[\"agent3.example\"]",
        ],
        "{}",
        list.stdout
    );
    cluster.shutdown().await;
}

/// One agent offers only Mesos's default ports, not a worker's: the plan
/// says so with exit 2, apply does what it can and exits 1.
pub async fn unplaceable(backend: Backend) {
    let mut desc = ClusterDesc::agents(2);
    desc.agents[1].ports = "[31000-32000]".into();
    let cluster = TestCluster::start(backend, &desc).await;
    let d = sleepers(&cluster, "", "");
    let plan = cli(&d, &["plan", "--detailed-exitcode"]).await;
    expect_code(&cluster, &plan, 2, "plan --detailed-exitcode");
    assert!(
        plan.stdout.contains("could not be placed") || plan.stdout.contains("cannot be placed"),
        "{}",
        plan.stdout
    );
    let r = apply(&d).await;
    expect_said(
        &cluster,
        &r,
        1,
        "apply",
        "Apply incomplete: 2 launched, 0 replaced, 0 killed; 1 could not be placed.",
    );
    assert_eq!(live_by_address(&cluster).await.len(), 2);
    cluster.shutdown().await;
}

/// A no-change apply re-subscribes with the stored framework ID, which
/// restarts Mesos's failover timer: applies every 2 s keep every task over
/// 20 s, with a 6 s failover timeout.
pub async fn keep_alive(backend: Backend) {
    let cluster = TestCluster::start(backend, &ClusterDesc::agents(2)).await;
    let d = sleepers(&cluster, "failover_timeout = \"6s\"", "");
    expect_code(&cluster, &apply(&d).await, 0, "apply");
    let before = live_by_address(&cluster).await;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let r = apply(&d).await;
        expect_said(
            &cluster,
            &r,
            0,
            "a no-change apply",
            "Apply complete: 0 launched, 0 replaced, 0 killed.",
        );
    }
    assert_eq!(live_by_address(&cluster).await, before, "a task was lost");
    assert_converged(&cluster, &d, 3).await;
    cluster.shutdown().await;
}

/// No apply within `failover_timeout`: Mesos removes the framework and
/// kills its tasks. The plan says what happened and what apply will do;
/// apply registers a new framework and launches everything, and the
/// removed ID is never sent again.
pub async fn removed_framework(backend: Backend) {
    let cluster = TestCluster::start(backend, &ClusterDesc::agents(2)).await;
    let d = sleepers(&cluster, "failover_timeout = \"2s\"", "");
    expect_code(&cluster, &apply(&d).await, 0, "apply");
    let removed = d.state()["framework_id"].as_str().unwrap().to_string();
    cluster
        .wait_for(
            "the framework's removal after its failover timeout",
            Duration::from_secs(60),
            |s| registered_framework(s, &removed).is_none() && completed_framework(s, &removed),
        )
        .await;

    let plan = cli(&d, &["plan", "--detailed-exitcode"]).await;
    expect_code(&cluster, &plan, 2, "plan --detailed-exitcode");
    let said = format!("{}{}", plan.stdout, plan.stderr);
    for words in [
        removed.as_str(),
        "was removed by Mesos",
        "failover_timeout (2s",
        "apply will register a new framework",
        "Plan: 3 to launch",
    ] {
        assert!(said.contains(words), "{words:?} not in:\n{said}");
    }
    // The same, as drift.
    let drift = cli(&d, &["plan", "--refresh-only", "--detailed-exitcode"]).await;
    expect_code(&cluster, &drift, 2, "plan --refresh-only");
    for words in [
        format!("framework {removed}"),
        format!("Mesos removed framework {removed}"),
        "register a new framework and launch 3 task(s)".to_string(),
    ] {
        assert!(
            drift.stdout.contains(&words),
            "{words:?} not in:\n{}",
            drift.stdout
        );
    }

    let r = apply(&d).await;
    expect_code(&cluster, &r, 0, "apply after the removal");
    let said = format!("{}{}", r.stdout, r.stderr);
    assert!(
        said.contains(&format!("Mesos removed framework {removed}")),
        "{said}"
    );
    let new = d.state()["framework_id"].as_str().unwrap().to_string();
    assert_ne!(new, removed);
    assert!(
        r.stdout
            .contains("Apply complete: 3 launched, 0 replaced, 0 killed."),
        "{}",
        r.stdout
    );
    // The next run subscribes as the new framework, without a detour.
    let again = apply(&d).await;
    expect_code(&cluster, &again, 0, "a no-change apply");
    let said = format!("{}{}", again.stdout, again.stderr);
    assert!(!said.contains(&removed), "{said}");
    assert_converged(&cluster, &d, 3).await;
    cluster.shutdown().await;
}

/// `destroy` kills every task and keeps the framework; `destroy
/// --teardown` ends the framework too: nothing of ours is left.
pub async fn destroy_and_teardown(backend: Backend) {
    let cluster = TestCluster::start(backend, &ClusterDesc::agents(2)).await;
    let d = sleepers(&cluster, "", "");
    expect_code(&cluster, &apply(&d).await, 0, "apply");
    let id = d.state()["framework_id"].as_str().unwrap().to_string();
    let r = cli(&d, &["destroy", "--auto-approve"]).await;
    expect_said(
        &cluster,
        &r,
        0,
        "destroy",
        "Destroy complete: 0 launched, 0 replaced, 3 killed.",
    );
    assert!(live_by_address(&cluster).await.is_empty());
    assert!(d.state()["tasks"].as_array().unwrap().is_empty());
    let plan = cli(&d, &["plan", "--destroy", "--detailed-exitcode"]).await;
    expect_code(&cluster, &plan, 0, "plan --destroy --detailed-exitcode");

    let r = cli(&d, &["destroy", "--auto-approve", "--teardown"]).await;
    expect_code(&cluster, &r, 0, "destroy --teardown");
    let state = cluster.state().await;
    assert!(
        registered_framework(&state, &id).is_none(),
        "{}: the framework is still registered: {state:#}",
        cluster.backend
    );
    assert!(live_tasks(&state).is_empty(), "{state:#}");
    assert!(d.state()["framework_id"].is_null());
    cluster.shutdown().await;
}

/// `logs` reads a task's stdout and stderr from its agent's sandbox.
pub async fn logs(backend: Backend) {
    let cluster = TestCluster::start(backend, &ClusterDesc::agents(1)).await;
    let d = Deployment::of_this_account(
        &cluster.url(),
        "[master]\ncommand = \"echo master says hello; echo master complains >&2; exec sleep 600\"\n[worker]\ncommand = \"exec sleep 600\"\n",
        SITE,
    );
    expect_code(&cluster, &apply(&d).await, 0, "apply");
    let out = cli(&d, &["logs", "master[0]"]).await;
    expect_code(&cluster, &out, 0, "logs");
    assert!(out.stdout.contains("master says hello"), "{}", out.stdout);
    assert!(!out.stdout.contains("complains"), "{}", out.stdout);
    let err = cli(&d, &["logs", "master[0]", "--stderr"]).await;
    expect_code(&cluster, &err, 0, "logs --stderr");
    assert!(err.stdout.contains("master complains"), "{}", err.stdout);
    cluster.shutdown().await;
}

/// A master that requires framework authentication: the right secret
/// registers; a wrong one exits 1 with Mesos's refusal and never shows.
pub async fn authentication(backend: Backend) {
    const SECRET: &str = "s3cret-Canary-5e1f";
    const WRONG: &str = "wrong-Canary-90ab";
    let mut desc = ClusterDesc::agents(1);
    desc.credentials = Some(("alluxio".into(), SECRET.into()));
    let cluster = TestCluster::start(backend, &desc).await;
    let d = sleepers(
        &cluster,
        "principal = \"alluxio\"\nsecret_file = \"secret\"",
        "",
    );
    let secret_file = d.dir.path().join("secret");
    std::fs::write(&secret_file, format!("{WRONG}\n")).unwrap();
    let r = apply(&d).await;
    expect_code(&cluster, &r, 1, "apply with a wrong secret");
    let said = format!("{}{}", r.stdout, r.stderr);
    assert!(said.contains("alluxio"), "{said}");
    assert!(
        said.contains("401") || said.to_lowercase().contains("authenticat"),
        "{said}"
    );
    assert!(!said.contains(WRONG), "the secret was printed:\n{said}");
    assert_eq!(live_by_address(&cluster).await.len(), 0);

    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    let r = apply(&d).await;
    expect_code(&cluster, &r, 0, "apply with the right secret");
    let said = format!("{}{}", r.stdout, r.stderr);
    assert!(!said.contains(SECRET), "the secret was printed:\n{said}");
    let state_text = std::fs::read_to_string(d.state_file()).unwrap();
    assert!(!state_text.contains(SECRET));
    assert_converged(&cluster, &d, 2).await;
    cluster.shutdown().await;
}

/// Command tasks filling an agent exactly: the master counts a command
/// task's resources only (the command executor's 0.1 cpus and 32 MB are
/// added by the agent and not counted against the offer), so the plan's
/// fit and Mesos's agree to the thousandth of a cpu: 1 + 1 cpus fill an
/// agent of 2, and a worker of 1 cpu does not fit an agent of 0.999.
pub async fn tight_fit(backend: Backend) {
    let mut desc = ClusterDesc::agents(2);
    desc.agents[0].cpus = 2.0;
    desc.agents[0].mem_mb = 3072.0;
    desc.agents[1].cpus = 0.999;
    desc.agents[1].mem_mb = 4096.0;
    let cluster = TestCluster::start(backend, &desc).await;
    let d = sleepers(&cluster, "", "");
    let plan = cli(&d, &["plan", "--detailed-exitcode"]).await;
    expect_code(&cluster, &plan, 2, "plan --detailed-exitcode");
    assert!(plan.stdout.contains("0.999"), "{}", plan.stdout);
    let r = apply(&d).await;
    expect_said(
        &cluster,
        &r,
        1,
        "apply",
        "Apply incomplete: 2 launched, 0 replaced, 0 killed; 1 could not be placed.",
    );
    let state = cluster.state().await;
    let full = state["slaves"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["hostname"] == "agent1.example")
        .expect("agent1 in /master/state");
    assert_eq!(
        (
            full["used_resources"]["cpus"].as_f64(),
            full["used_resources"]["mem"].as_f64()
        ),
        (Some(2.0), Some(3072.0)),
        "{}: the master counts the tasks alone: {full:#}",
        cluster.backend
    );
    cluster.shutdown().await;
}
