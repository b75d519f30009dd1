//! docs/ci.md's pipeline, for real: every `alluxio-mesos` command of its
//! workflow, in the order given, run by bash as the CI runner would, against
//! the Mesos emulator with the state in a real ZooKeeper.

use crate::support;
use crate::zookeeper;

use std::process::Command;
use support::*;

/// The `alluxio-mesos` command lines of the recipe's workflow, in order.
fn recipe_commands() -> Vec<String> {
    let doc = std::fs::read_to_string(repo_path("docs/ci.md")).unwrap();
    let start = doc.find("```yaml\n").expect("docs/ci.md has the workflow");
    let end = start
        + doc[start..]
            .find("\n```\n")
            .expect("the workflow block ends");
    doc[start..end]
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("alluxio-mesos "))
        .map(String::from)
        .collect()
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
    let checkout = tempfile::tempdir().unwrap();
    let d = Deployment::new(&sim.url(), "", SITE);
    let deploy = checkout.path().join("deploy");
    std::fs::create_dir(&deploy).unwrap();
    for f in ["alluxio-mesos.toml", "alluxio-site.properties"] {
        std::fs::copy(d.dir.path().join(f), deploy.join(f)).unwrap();
    }
    let state_url = zk.url("/alluxio-mesos/prod").to_string();
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_alluxio-mesos"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());

    for command in &commands {
        let (cwd, line, path, state_url) = (
            checkout.path().to_path_buf(),
            command.clone(),
            path.clone(),
            state_url.clone(),
        );
        let out = tokio::task::spawn_blocking(move || {
            Command::new("bash")
                .args(["-e", "-c", &line])
                .current_dir(cwd)
                .env("PATH", path)
                .env("DEPLOYMENT", "deploy/alluxio-mesos.toml")
                .env("ALLUXIO_MESOS_STATE", state_url)
                .env("NO_COLOR", "1")
                .env_remove("ALLUXIO_MESOS_SECRET")
                .output()
                .unwrap()
        })
        .await
        .unwrap();
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
