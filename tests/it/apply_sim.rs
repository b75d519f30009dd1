//! apply and destroy end to end: the real CLI binary against the emulator.

use crate::support;

use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_deploy_then_no_changes_then_destroy() {
    let sim = start_sim("fixtures/clusters/alluxio-ports.toml").await;
    let d = Deployment::new(&sim.url(), "", SITE);

    let applied = cli(&d, &["apply", "--auto-approve"]).await;
    applied.ok();
    assert!(
        applied
            .stdout
            .contains("Apply complete: 4 launched, 0 replaced, 0 killed."),
        "{}",
        applied.stdout
    );
    assert!(applied.stdout.contains("alluxio://"), "{}", applied.stdout);
    let state = d.state();
    assert_eq!(
        running_addresses(&state),
        [
            "master[0]",
            "worker[\"agent1.example.com\"]",
            "worker[\"agent2.example.com\"]",
            "worker[\"agent3.example.com\"]"
        ]
    );
    assert!(state["framework_id"]
        .as_str()
        .is_some_and(|f| f.starts_with(&sim.master_id())));

    let again = cli(&d, &["plan", "--detailed-exitcode"]).await;
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);

    let out = cli(&d, &["output", "--json"]).await;
    out.ok();
    assert!(out.stdout.contains("alluxio://"), "{}", out.stdout);
    // apply's last lines and `output` say the same, in the same words.
    let text = cli(&d, &["output"]).await;
    text.ok();
    assert!(
        text.stdout.starts_with("Alluxio master: alluxio://"),
        "{}",
        text.stdout
    );
    assert!(
        applied.stdout.contains(text.stdout.trim_end()),
        "{}",
        applied.stdout
    );

    cli(&d, &["destroy", "--auto-approve"]).await.ok();
    let live: Vec<_> = sim.state_json()["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["tasks"].as_array().cloned().unwrap_or_default())
        .filter(|t| t["state"] == "TASK_RUNNING")
        .collect();
    assert!(live.is_empty(), "still running: {live:?}");
    assert!(running_addresses(&d.state()).is_empty());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_added_agent_gets_one_new_worker() {
    let sim = start_sim("fixtures/clusters/alluxio-ports.toml").await;
    let d = Deployment::new(&sim.url(), "", SITE);
    cli(&d, &["apply", "--auto-approve"]).await.ok();
    let spec: mesos_sim::AgentSpec = toml::from_str(
        "hostname = \"agent4.example.com\"\ncpus = 8\nmem = 16384\nports = \"[19998-19999, 29998-30000]\"",
    )
    .unwrap();
    sim.add_agent(&spec).expect("agent added");
    let plan = cli(&d, &["plan"]).await;
    assert!(
        plan.stdout
            .contains("Plan: 1 to launch, 0 to replace, 0 to kill."),
        "{}",
        plan.stdout
    );
    cli(&d, &["apply", "--auto-approve"]).await.ok();
    assert!(running_addresses(&d.state()).contains(&"worker[\"agent4.example.com\"]".to_string()));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_property_change_replaces_workers_one_at_a_time() {
    let sim = start_sim("fixtures/clusters/alluxio-ports.toml").await;
    let d = Deployment::new(&sim.url(), "[worker]\nmax_unavailable = 1\n", SITE);
    cli(&d, &["apply", "--auto-approve"]).await.ok();
    let before = sim.transitions().len();
    d.set_site(&format!("{SITE}alluxio.worker.tieredstore.levels=1\n"));
    let plan = cli(&d, &["plan"]).await;
    assert!(
        plan.stdout
            .contains("Plan: 0 to launch, 3 to replace, 0 to kill."),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("alluxio.worker.tieredstore.levels: (unset) -> 1"),
        "{}",
        plan.stdout
    );
    cli(&d, &["apply", "--auto-approve"]).await.ok();

    // From the emulator's record: never more than one worker down at a time.
    let min_running = fewest_running_since(&sim, "AlluxioWorker", before)
        .expect("the apply made worker transitions");
    assert!(
        min_running >= 2,
        "at some point only {min_running} workers were running"
    );
    let state = d.state();
    assert_eq!(running_addresses(&state).len(), 4);
    let again = cli(&d, &["plan", "--detailed-exitcode"]).await;
    assert_eq!(again.code, 0, "{}", again.stdout);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_for_both_roles_replaces_the_master_then_the_workers() {
    let sim = start_sim("fixtures/clusters/alluxio-ports.toml").await;
    let d = Deployment::new(&sim.url(), "", SITE);
    cli(&d, &["apply", "--auto-approve", "--settle-time", "200ms"])
        .await
        .ok();
    let before = sim.transitions().len();
    d.set_site(&SITE.replace("/tmp/underfs", "/tmp/underfs-2"));
    let plan = cli(&d, &["plan"]).await;
    assert!(
        plan.stdout
            .contains("Plan: 0 to launch, 4 to replace, 0 to kill."),
        "{}",
        plan.stdout
    );
    cli(&d, &["apply", "--auto-approve", "--settle-time", "200ms"])
        .await
        .ok();

    let since = &sim.transitions()[before..];
    let master_running = since
        .iter()
        .position(|t| t.task_name == "AlluxioMaster" && t.state == mesos_api::TaskState::Running)
        .expect("the new master ran");
    let first_worker_change = since
        .iter()
        .position(|t| t.task_name == "AlluxioWorker")
        .expect("the workers were replaced");
    assert!(
        master_running < first_worker_change,
        "a worker changed before the new master ran: {since:#?}"
    );
    let again = cli(&d, &["plan", "--detailed-exitcode"]).await;
    assert_eq!(again.code, 0, "{}", again.stdout);
    sim.shutdown().await;
}

/// The master count feeds no task's configuration: scaling out launches
/// the new masters beside the running one, which keeps running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaling_masters_out_launches_new_ones_and_keeps_the_running_master() {
    let sim = start_sim("fixtures/clusters/alluxio-ports.toml").await;
    let zookeeper = "alluxio.zookeeper.enabled=true\nalluxio.zookeeper.address=zk1:2181\n";
    let site = format!("{SITE}{zookeeper}");
    let d = Deployment::new(&sim.url(), "[master]\ncount = 1\n", &site);
    cli(&d, &["apply", "--auto-approve", "--settle-time", "200ms"])
        .await
        .ok();
    let first_master = |state: &serde_json::Value| {
        state["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["address"] == "master[0]")
            .map(|t| t["task_id"].clone())
    };
    let before = first_master(&d.state()).expect("master[0] was launched");

    let toml = std::fs::read_to_string(d.toml()).unwrap();
    std::fs::write(d.toml(), toml.replace("count = 1", "count = 3")).unwrap();
    let plan = cli(&d, &["plan"]).await;
    assert!(
        plan.stdout
            .contains("Plan: 2 to launch, 0 to replace, 0 to kill."),
        "{}",
        plan.stdout
    );
    let apply = cli(&d, &["apply", "--auto-approve", "--settle-time", "200ms"]).await;
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    assert_eq!(
        first_master(&d.state()),
        Some(before),
        "master[0] was replaced"
    );
    let again = cli(&d, &["plan", "--detailed-exitcode"]).await;
    assert_eq!(again.code, 0, "{}", again.stdout);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_plan_file_is_refused() {
    let sim = start_sim("fixtures/clusters/alluxio-ports.toml").await;
    let d = Deployment::new(&sim.url(), "", SITE);
    let planfile = d.dir.path().join("plan.bin");
    let p = planfile.to_str().unwrap();
    cli(&d, &["plan", "-o", p]).await.ok();
    d.set_site(&format!("{SITE}alluxio.master.journal.type=UFS\n"));
    let r = cli(&d, &["apply", p]).await;
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("is stale") && r.stderr.contains("run `alluxio-mesos plan"),
        "{}",
        r.stderr
    );
    assert!(!d.state_file().exists(), "a refused apply writes no state");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_without_a_terminal_or_approval_refuses() {
    let sim = start_sim("fixtures/clusters/alluxio-ports.toml").await;
    let d = Deployment::new(&sim.url(), "", SITE);
    let r = cli(&d, &["apply"]).await;
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("--auto-approve"), "{}", r.stderr);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_apply_is_blocked_by_the_lock() {
    let sim = start_sim("fixtures/clusters/alluxio-ports.toml").await;
    let d = Deployment::new(&sim.url(), "", SITE);
    std::fs::write(
        d.dir.path().join("alluxio-mesos.state.json.lock"),
        r#"{"id":"x","pid":1,"host":"elsewhere","created_at":"2026-11-25T00:00:00Z","operation":"apply"}"#,
    )
    .unwrap();
    let r = cli(&d, &["apply", "--auto-approve", "--lock-timeout", "200ms"]).await;
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("elsewhere"), "{}", r.stderr);
    sim.shutdown().await;
}

#[test]
fn the_local_cluster_persists_between_runs() {
    let d = Deployment::new("local", "", SITE);
    let first = d.cli(&["apply", "--auto-approve", "--settle-time", "0s"]);
    first.ok();
    assert!(
        first.stdout.contains("Plan: 4 to launch"),
        "{}",
        first.stdout
    );
    assert!(d
        .dir
        .path()
        .join(".alluxio-mesos/local/mesos-sim-state.json")
        .exists());
    // A new process starts the emulator again from its saved state.
    let again = d.cli(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);
    // `logs` in yet another process reads a sandbox through the restarted
    // emulator's agents, each listening again at the port it saved.
    d.cli(&["logs", "master[0]"]).ok();
    d.cli(&["destroy", "--auto-approve"]).ok();
    let after = d.cli(&["plan"]);
    assert!(
        after.stdout.contains("Plan: 4 to launch"),
        "{}",
        after.stdout
    );
}

#[test]
fn a_corrupt_state_file_is_a_clear_error_and_left_untouched() {
    let d = Deployment::new("local", "", SITE);
    let garbage =
        b"{\"format_version\": 1, \"lineage\": \"x\", \"serial\": 3,\n  \"tasks\": [oops]\n}\n";
    std::fs::write(d.state_file(), garbage).unwrap();
    for args in [&["plan"][..], &["apply", "--auto-approve"][..]] {
        let r = d.cli(args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stdout);
        assert!(
            r.stderr.contains("alluxio-mesos.state.json"),
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains("line 2"), "{}", r.stderr);
        assert_eq!(
            std::fs::read(d.state_file()).unwrap(),
            garbage,
            "{args:?} changed the file"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_masters_are_replaced_one_at_a_time() {
    let sim = start_sim("fixtures/clusters/alluxio-ports.toml").await;
    let ha_site = format!(
        "{SITE}alluxio.zookeeper.enabled=true\nalluxio.zookeeper.address=zk1:2181,zk2:2181,zk3:2181\n"
    );
    let d = Deployment::new(&sim.url(), "[master]\ncount = 3\n", &ha_site);
    cli(&d, &["apply", "--auto-approve", "--settle-time", "200ms"])
        .await
        .ok();
    assert_eq!(
        running_addresses(&d.state())
            .iter()
            .filter(|a| a.starts_with("master"))
            .count(),
        3
    );
    let before = sim.transitions().len();
    d.set_site(&format!(
        "{ha_site}alluxio.master.journal.folder=/journal\n"
    ));
    let plan = cli(&d, &["plan"]).await;
    // ZooKeeper is on: workers do not depend on the masters' hosts.
    assert!(
        plan.stdout
            .contains("Plan: 0 to launch, 3 to replace, 0 to kill."),
        "{}",
        plan.stdout
    );
    cli(&d, &["apply", "--auto-approve", "--settle-time", "200ms"])
        .await
        .ok();

    let min_running = fewest_running_since(&sim, "AlluxioMaster", before)
        .expect("the apply made master transitions");
    assert_eq!(
        min_running, 2,
        "never fewer than count-1 masters, and one was down at a time"
    );
    let again = cli(&d, &["plan", "--detailed-exitcode"]).await;
    assert_eq!(again.code, 0, "{}", again.stdout);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_waits_for_configured_health_checks() {
    let sim = start_sim("fixtures/clusters/alluxio-ports.toml").await;
    let d = Deployment::new(
        &sim.url(),
        "[master]\nhealth_check = { http = \"/\" }\n[worker]\ncount = 1\nhealth_check = { tcp = true }\n",
        SITE,
    );
    let r = cli(&d, &["apply", "--auto-approve", "--settle-time", "0s"]).await;
    r.ok();
    assert!(
        r.stderr.contains("waiting for its health check"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.matches("(healthy)").count(), 2, "{}", r.stderr);
    // Mesos got the checks as TaskInfo health checks: TCP on the RPC port, HTTP on the web port.
    let state = sim.state_json();
    let tasks: Vec<serde_json::Value> = state["frameworks"][0]["tasks"].as_array().unwrap().clone();
    let healthy = tasks.iter().filter(|t| {
        t["statuses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["healthy"] == true)
    });
    assert_eq!(healthy.count(), 2, "{tasks:#?}");
    // Changing a check replaces the role's tasks.
    let toml = std::fs::read_to_string(d.toml())
        .unwrap()
        .replace("{ tcp = true }", "{ http = \"/health\" }");
    std::fs::write(d.toml(), toml).unwrap();
    let plan = cli(&d, &["plan"]).await;
    assert!(
        plan.stdout.contains("health check: tcp -> http /health"),
        "{}",
        plan.stdout
    );
    sim.shutdown().await;
}

/// One agent with room for the master and, counting the default
/// launcher's executors, not for the worker: plan and apply agree.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tight_agent_is_refused_alike_by_plan_and_apply_with_truthful_exit_codes() {
    let sim = start_sim_from(
        "[timing]\nallocation_interval = \"100ms\"\ntask_start_delay = \"50ms\"\n\
         [[agents]]\nhostname = \"tight.example.com\"\ncpus = 2\nmem = 3072\n\
         ports = \"[19998-19999, 29998-30000]\"\n",
    )
    .await;
    let d = Deployment::new(
        &sim.url(),
        "[master]\ncpus = 1\nmem = \"1024MB\"\n[worker]\ncpus = 1\nmem = \"1024MB\"\nramdisk = \"1GB\"\n",
        SITE,
    );
    let plan = cli(&d, &["plan", "--detailed-exitcode"]).await;
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout
            .contains("cpus: needs 1.1 (1 + 0.1 executor), 0.9 free"),
        "{}",
        plan.stdout
    );

    let apply = cli(&d, &["apply", "--auto-approve", "--settle-time", "0s"]).await;
    assert_eq!(apply.code, 1, "{}\n{}", apply.stdout, apply.stderr);
    assert!(
        apply
            .stdout
            .contains("Apply incomplete: 1 launched, 0 replaced, 0 killed; 1 could not be placed."),
        "{}",
        apply.stdout
    );
    assert_eq!(running_addresses(&d.state()), ["master[0]"]);
    // Still pending, and a rerun says so again without doing anything else.
    let again = cli(&d, &["plan", "--detailed-exitcode"]).await;
    assert_eq!(again.code, 2, "{}", again.stdout);
    let rerun = cli(&d, &["apply", "--auto-approve"]).await;
    assert_eq!(rerun.code, 1, "{}\n{}", rerun.stdout, rerun.stderr);
    assert!(
        rerun
            .stdout
            .contains("Apply incomplete: 0 launched, 0 replaced, 0 killed; 1 could not be placed."),
        "{}",
        rerun.stdout
    );
    sim.shutdown().await;
}

/// `state rm` lets a task go for good (plans show it as unmanaged instead
/// of adopting it again from its labels); `state import` takes it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_rm_sticks_until_state_import_takes_the_task_back() {
    let sim = start_sim_from(&cluster_text(2, "50ms", false)).await;
    let d = Deployment::new(&sim.url(), "", SITE);
    cli(&d, &["apply", "--auto-approve", "--settle-time", "0s"])
        .await
        .ok();
    let address = "worker[\"agent1.example.com\"]";
    let task_id = d.state()["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["address"] == address)
        .unwrap()["task_id"]
        .as_str()
        .unwrap()
        .to_string();
    cli(&d, &["state", "rm", address]).await.ok();

    let plan = cli(&d, &["plan", "--detailed-exitcode"]).await;
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        !plan.stdout.contains("3 task(s) unchanged"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(&format!(
            "task {task_id} on agent1.example.com runs in this deployment's framework but is unmanaged"
        )),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains(&format!("alluxio-mesos state import '{address}' {task_id}")),
        "{}",
        plan.stdout
    );

    cli(&d, &["state", "import", address, &task_id]).await.ok();
    let plan = cli(&d, &["plan", "--detailed-exitcode"]).await;
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    let wrong = cli(&d, &["state", "import", address, "no-such-task"]).await;
    assert_eq!(wrong.code, 1, "{}", wrong.stdout);
    assert!(
        wrong.stderr.contains("no-such-task is not a running task"),
        "{}",
        wrong.stderr
    );
    sim.shutdown().await;
}

/// A saved plan carries what apply acts on (the rollout policy, may_move,
/// the launch templates); editing the deployment's policy after `plan -o`
/// refuses the file, and an unchanged one is applied exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_file_carries_the_policy_and_apply_acts_on_it_alone() {
    let sim = start_sim("fixtures/clusters/alluxio-ports.toml").await;
    let d = Deployment::new(&sim.url(), "[worker]\nmax_unavailable = 2\n", SITE);
    let planfile = d.dir.path().join("plan.bin");
    let p = planfile.to_str().unwrap();
    let plan = cli(&d, &["plan", "-o", p]).await;
    plan.ok();
    assert!(
        plan.stdout.contains("running workers replaced 2 at a time"),
        "{}",
        plan.stdout
    );
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&planfile).unwrap()).unwrap();
    let body = &saved["body"]["plan"];
    assert_eq!(body["rollout"]["max_unavailable"], 2);
    assert_eq!(body["launch_templates"].as_object().unwrap().len(), 2);
    assert!(body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["may_move"].is_boolean()));

    // The policy is part of the approved plan: changing it makes the file stale.
    let toml = std::fs::read_to_string(d.toml()).unwrap();
    std::fs::write(
        d.toml(),
        toml.replace("max_unavailable = 2", "max_unavailable = 3"),
    )
    .unwrap();
    let refused = cli(&d, &["apply", p]).await;
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert!(refused.stderr.contains("is stale"), "{}", refused.stderr);

    std::fs::write(d.toml(), toml).unwrap();
    let applied = cli(&d, &["apply", p, "--settle-time", "0s"]).await;
    applied.ok();
    assert!(
        applied
            .stdout
            .contains("Apply complete: 4 launched, 0 replaced, 0 killed."),
        "{}",
        applied.stdout
    );
    sim.shutdown().await;
}

/// A rolling replacement never has more than `max_unavailable` workers
/// down at any instant (from the emulator's transitions, not timing), and
/// workers launched into empty slots do not count against it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_replacement_keeps_all_but_max_unavailable_workers_running() {
    let sim = start_sim_from(&cluster_text(12, "50ms", false)).await;
    let d = Deployment::new(&sim.url(), "[worker]\nmax_unavailable = 3\n", SITE);
    let fresh = cli(&d, &["apply", "--auto-approve", "--settle-time", "0s"]).await;
    fresh.ok();
    assert!(
        fresh
            .stdout
            .contains("Apply complete: 13 launched, 0 replaced, 0 killed."),
        "{}",
        fresh.stdout
    );
    let since = sim.transitions().len();
    d.set_site(&format!("{SITE}alluxio.worker.tieredstore.levels=1\n"));
    let r = cli(&d, &["apply", "--auto-approve", "--settle-time", "200ms"]).await;
    r.ok();
    assert!(
        r.stdout
            .contains("Apply complete: 0 launched, 12 replaced, 0 killed."),
        "{}",
        r.stdout
    );
    assert_eq!(fewest_running_since(&sim, "AlluxioWorker", since), Some(9));
    assert_one_task_per_address(&sim, 13);
    sim.shutdown().await;
}

/// Calls answered 503 (a master electing a leader or recovering) are sent
/// again with backoff: apply gets through without a rerun.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduler_calls_answered_503_are_retried() {
    let sim = start_sim_from(&cluster_text(2, "50ms", false)).await;
    let d = Deployment::new(&sim.url(), "", SITE);
    // The SUBSCRIBE and the first call after it.
    sim.fail_next_calls(2);
    let r = cli(&d, &["apply", "--auto-approve", "--settle-time", "0s"]).await;
    r.ok();
    assert_eq!(r.stderr.matches("retrying in").count(), 2, "{}", r.stderr);
    assert!(r.stderr.contains("HTTP 503"), "{}", r.stderr);
    assert_one_task_per_address(&sim, 3);
    sim.shutdown().await;
}

/// A master (or a proxy before it) that ends every event stream right
/// after SUBSCRIBED: apply subscribes again a bounded number of times, then
/// says what happened instead of reporting the calls' 403 alone, and the
/// state keeps what it knew.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_closed_after_every_subscribed_is_named_as_such() {
    let sim = start_sim_from(&cluster_text(1, "50ms", false)).await;
    let d = Deployment::new(&sim.url(), "", SITE);
    sim.end_streams_after_subscribed(true);
    let r = cli(&d, &["apply", "--auto-approve", "--settle-time", "0s"]).await;
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("closed right after SUBSCRIBED"),
        "{}",
        r.stderr
    );
    sim.end_streams_after_subscribed(false);
    let r = cli(&d, &["apply", "--auto-approve", "--settle-time", "0s"]).await;
    r.ok();
    assert_one_task_per_address(&sim, 2);
    sim.shutdown().await;
}

/// Unique values in every place a secret can live must come out nowhere:
/// not in any command's output (successful or failing, with `-v`), not in
/// any file the tool writes; in Mesos's state only inside the site
/// properties the tasks need, which the plan warns about.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_secrets_appear_in_no_output_and_no_file() {
    const FRAMEWORK: &str = "CANARY-framework-secret-7f3a";
    const ENV_SECRET: &str = "CANARY-env-secret-21c9";
    const WRONG: &str = "CANARY-wrong-secret-90de";
    const ZK_PASSWORD: &str = "CANARY-zk-password-5b11";
    const BASIC_PASSWORD: &str = "CANARY-basic-password-c4e2";
    // Property canaries: they reach the tasks (the plan warns about it).
    let properties = [
        ("fs.s3a.secret.key", "CANARY-s3a-8d20"),
        (
            "fs.azure.account.key.acct.blob.core.windows.net",
            "CANARY-azure-3e77",
        ),
        ("alluxio.security.login.PASSWORD", "CANARY-password-1a4b"),
        ("fs.oss.accessKeySecret", "CANARY-oss-66f0"),
        ("acme.api.Token", "CANARY-token-0c5d"),
        ("fs.gcs.credential.json", "CANARY-credential-9b3e"),
        ("acme.vault.blob", "CANARY-pattern-44aa"),
    ];
    let cluster = cluster_text(2, "50ms", false)
        + &format!(
            "[authentication]\nhttp_readonly = true\nprincipals = [{{ principal = \"alluxio\", secret = \"{FRAMEWORK}\" }}]\n"
        );
    let sim = start_sim_from(&cluster).await;
    let mut site = SITE.to_string();
    for (k, v) in properties {
        site.push_str(&format!("{k}={v}\n"));
    }
    let d = Deployment::new(
        &sim.url(),
        "principal = \"alluxio\"\nsecret_file = \"secret.txt\"\n[alluxio]\nsecret_properties = [\"acme.vault.*\"]",
        &site,
    );
    std::fs::write(d.dir.path().join("secret.txt"), format!("{FRAMEWORK}\n")).unwrap();
    let dir = d.dir.path().to_path_buf();
    let plan_file = dir.join("plan.json");
    let plan_path = plan_file.to_str().unwrap().to_string();

    let mut outputs = Vec::new();
    let mut run = |args: &[&str], env: &[(&str, &str)]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_alluxio-mesos"))
            .arg("-c")
            .arg(d.toml())
            .args(args)
            .envs(env.iter().copied())
            .env("NO_COLOR", "1")
            .output()
            .expect("the CLI runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // The arguments may hold a canary (a URL with a password): kept apart.
        outputs.push((args.join(" "), text.clone()));
        (out.status.code().unwrap_or(-1), text)
    };
    let ok = |(code, text): (i32, String)| assert_eq!(code, 0, "{text}");

    ok(run(&["-v", "validate"], &[]));
    for format in ["text", "markdown", "json", "html"] {
        let (_, text) = run(&["-v", "plan", "--format", format], &[]);
        // The HTML report keeps warnings in the page's markup.
        assert!(
            text.contains("sensitive keys concerned"),
            "{format}: {text}"
        );
    }
    ok(run(&["-v", "plan", "-o", &plan_path], &[]));
    ok(run(&["-v", "show", &plan_path], &[]));
    ok(run(
        &[
            "-v",
            "apply",
            "--auto-approve",
            "--settle-time",
            "0s",
            &plan_path,
        ],
        &[],
    ));
    let mesos_state = sim.state_json();
    ok(run(&["-v", "state", "list"], &[]));
    ok(run(&["-v", "state", "show", "master[0]"], &[]));
    ok(run(&["-v", "output"], &[]));
    ok(run(&["-v", "output", "--json"], &[]));
    ok(run(&["-v", "show"], &[]));
    run(&["-v", "logs", "master[0]"], &[]);
    // The secret from the environment instead of the file.
    std::fs::write(
        d.toml(),
        std::fs::read_to_string(d.toml())
            .unwrap()
            .replace("secret_file = \"secret.txt\"\n", ""),
    )
    .unwrap();
    run(&["-v", "plan"], &[("ALLUXIO_MESOS_SECRET", ENV_SECRET)]);
    // Failing variants: a wrong secret, credentials in master URLs.
    let (code, text) = run(&["-v", "plan"], &[("ALLUXIO_MESOS_SECRET", WRONG)]);
    assert_eq!(code, 1, "{text}");
    let zk = format!("zk://alice:{ZK_PASSWORD}@127.0.0.1:1/mesos");
    let (code, text) = run(
        &["-v", "plan", "--retry-deadline", "0s", "--mesos", &zk],
        &[],
    );
    assert_eq!(code, 1, "{text}");
    let basic = sim
        .url()
        .replace("http://", &format!("http://bob:{BASIC_PASSWORD}@"));
    run(
        &["-v", "plan", "--mesos", &basic],
        &[("ALLUXIO_MESOS_SECRET", FRAMEWORK)],
    );
    ok(run(
        &["-v", "destroy", "--auto-approve"],
        &[("ALLUXIO_MESOS_SECRET", FRAMEWORK)],
    ));

    let mut canaries: Vec<&str> = vec![FRAMEWORK, ENV_SECRET, WRONG, ZK_PASSWORD, BASIC_PASSWORD];
    canaries.extend(properties.iter().map(|(_, v)| *v));
    for (args, out) in &outputs {
        for c in &canaries {
            assert!(!out.contains(c), "{c} in the output of `{args}`:\n{out}");
        }
    }
    // Every file the tool wrote (state, its backup, the plan file, a lock).
    let mut written = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if [
            "alluxio-mesos.toml",
            "alluxio-site.properties",
            "secret.txt",
        ]
        .contains(&name.as_str())
        {
            continue;
        }
        written += 1;
        let bytes = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        for c in &canaries {
            assert!(!bytes.contains(c), "{c} in {name}");
        }
    }
    assert!(
        written >= 3,
        "state, backup and plan file expected in {dir:?}"
    );
    // Mesos's state: the framework secret never; the property canaries only
    // inside the site properties handed to the tasks.
    let state = serde_json::to_string(&mesos_state).unwrap();
    assert!(!state.contains(FRAMEWORK));
    // Wherever Mesos shows a command (tasks, executors), its variables.
    fn site_variables(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::Object(m) => {
                if m.get("name").and_then(|n| n.as_str())
                    == Some("ALLUXIO_MESOS_SITE_PROPERTIES_CONTENT")
                {
                    out.push_str(m["value"].as_str().unwrap_or_default());
                }
                m.values().for_each(|v| site_variables(v, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| site_variables(v, out)),
            _ => {}
        }
    }
    let mut envs = String::new();
    site_variables(&mesos_state, &mut envs);
    for (_, v) in properties {
        assert!(envs.contains(v), "{v} must reach the tasks: {state}");
        assert_eq!(
            state.matches(v).count(),
            envs.matches(v).count(),
            "{v} outside the tasks' site properties"
        );
    }
    sim.shutdown().await;
}
