//! docs/ci.md's pipeline, for real: every `alluxio-mesos` command of its
//! workflow, in the order given, run by bash as the CI runner would, against
//! the Mesos emulator with the state in a real ZooKeeper.

use crate::support;
use crate::zookeeper;

use std::process::Command;
use support::*;

/// The `alluxio-mesos` command lines of the recipe's workflow, in order.
fn recipe_commands() -> Vec<String> {
    workflow_commands(0)
}

/// The `alluxio-mesos` command lines of docs/ci.md's `n`th workflow.
fn workflow_commands(n: usize) -> Vec<String> {
    let doc = std::fs::read_to_string(repo_path("docs/ci.md")).unwrap();
    let block = doc
        .split("```yaml\n")
        .nth(n + 1)
        .unwrap_or_else(|| panic!("docs/ci.md has workflow {n}"));
    let end = block.find("\n```\n").expect("the workflow block ends");
    block[..end]
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("alluxio-mesos "))
        .map(String::from)
        .collect()
}

/// Runs one command line of a workflow as a runner's bash would.
async fn run_step(cwd: &std::path::Path, line: &str, state: &str) -> std::process::Output {
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_alluxio-mesos"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    let (cwd, line, state) = (cwd.to_path_buf(), line.to_string(), state.to_string());
    tokio::task::spawn_blocking(move || {
        Command::new("bash")
            .args(["-e", "-c", &line])
            .current_dir(cwd)
            .env("PATH", path)
            .env("DEPLOYMENT", "deploy/alluxio-mesos.toml")
            .env("ALLUXIO_MESOS_STATE", state)
            .env("NO_COLOR", "1")
            .env_remove("ALLUXIO_MESOS_SECRET")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// The checkout of the recipes: the deployment of `d` in deploy/.
fn checkout_of(d: &Deployment) -> tempfile::TempDir {
    let checkout = tempfile::tempdir().unwrap();
    let deploy = checkout.path().join("deploy");
    std::fs::create_dir(&deploy).unwrap();
    for f in ["alluxio-mesos.toml", "alluxio-site.properties"] {
        std::fs::copy(d.dir.path().join(f), deploy.join(f)).unwrap();
    }
    checkout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nightly_drift_check_runs_as_written() {
    let commands = workflow_commands(1);
    assert_eq!(commands.len(), 3, "{commands:#?}");
    assert!(commands.iter().all(|c| c.contains("plan --refresh-only")));
    let sim = start_sim("fixtures/clusters/alluxio-ports.toml").await;
    let d = Deployment::new(&sim.url(), "", SITE);
    let checkout = checkout_of(&d);
    let state = checkout.path().join("state.json");
    let state = state.to_str().unwrap();
    let applied = run_step(
        checkout.path(),
        "alluxio-mesos -c deploy/alluxio-mesos.toml apply --auto-approve --settle-time 1s",
        state,
    )
    .await;
    assert!(applied.status.success(), "{applied:?}");
    for (i, command) in commands.iter().enumerate() {
        let out = run_step(checkout.path(), command, state).await;
        assert_eq!(
            out.status.code(),
            Some(0),
            "`{command}` (step {i}): {out:?}"
        );
    }
    // An agent leaves: the job fails, the summary and the JSON say why.
    let gone = "agent1.example.com";
    assert!(sim.remove_agent(gone));
    let mut codes = Vec::new();
    for command in &commands {
        codes.push(
            run_step(checkout.path(), command, state)
                .await
                .status
                .code(),
        );
    }
    assert_eq!(codes, [Some(0), Some(0), Some(2)]);
    let md = std::fs::read_to_string(checkout.path().join("drift.md")).unwrap();
    assert!(md.contains(&format!("agent {gone}")), "{md}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(checkout.path().join("drift.json")).unwrap())
            .unwrap();
    assert_eq!(json["drifted"], true, "{json}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docs_ci_recipe_runs_in_order() {
    let commands = recipe_commands();
    let verbs: Vec<&str> = commands
        .iter()
        .map(|c| c.split_whitespace().nth(3).unwrap_or(""))
        .collect();
    assert_eq!(
        verbs,
        ["validate", "plan", "apply", "plan"],
        "{commands:#?}"
    );

    // On the test's own thread: the server dies with the thread that
    // spawned it (`PR_SET_PDEATHSIG`), and a blocking-pool thread exits
    // after 10 s idle.
    let zk = zookeeper::ZkServer::start();
    let sim = start_sim("fixtures/clusters/alluxio-ports.toml").await;
    // The repository checkout: the deployment in deploy/.
    let d = Deployment::new(&sim.url(), "", SITE);
    let checkout = checkout_of(&d);
    let deploy = checkout.path().join("deploy");
    let state_url = zk.url("/alluxio-mesos/prod").to_string();

    for command in &commands {
        let out = run_step(checkout.path(), command, &state_url).await;
        assert!(
            out.status.success(),
            "`{command}` failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if command.contains("--format markdown") {
            let md = std::fs::read_to_string(checkout.path().join("plan.md")).unwrap();
            assert!(md.contains("launch"), "{md}");
            assert!(
                md.contains("`alluxio-mesos apply plan.json` applies exactly this plan"),
                "{md}"
            );
            assert!(checkout.path().join("plan.json").exists());
        }
    }
    // The apply went to the shared state, not to a file in the checkout.
    assert!(!deploy.join("alluxio-mesos.state.json").exists());
    let location = alluxio_mesos::state::StateLocation::parse(&state_url).unwrap();
    let state = alluxio_mesos::state::load_at(&location).unwrap().unwrap();
    assert_eq!(state.tasks.len(), 4);
    sim.shutdown().await;
}
