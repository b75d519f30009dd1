//! The CLI against clusters set up like real ones: masters found through a
//! real ZooKeeper server, HTTP authentication, and HTTPS. The emulators run
//! in this process; the CLI is the real binary.

// The ZooKeeper harness of crates/mesos-zk, compiled in here too rather
// than copied: one place knows how to run a throwaway ZooKeeper server.
mod support;
#[path = "../crates/mesos-zk/tests/common/mod.rs"]
mod zookeeper;

use mesos_sim::{ClusterSpec, Sim, SimConfig, SimHandle};
use mesos_zk::ZkUrl;
use std::time::Duration;
use support::*;
use zookeeper::ZkServer;

/// Runs the blocking CLI off the runtime threads that serve the emulators.
async fn cli(d: &Deployment, args: &[&str]) -> Cli {
    cli_env(d, args, &[]).await
}

async fn cli_env(d: &Deployment, args: &[&str], env: &[(&str, &str)]) -> Cli {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let toml = d.toml();
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_alluxio-mesos"))
            .arg("-c")
            .arg(toml)
            .args(&args)
            .env("NO_COLOR", "1")
            .env_remove("ALLUXIO_MESOS_SECRET")
            .envs(env)
            .output()
            .unwrap();
        Cli {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .unwrap()
}

/// Starts a ZooKeeper server without blocking the runtime.
async fn zookeeper() -> ZkServer {
    tokio::task::spawn_blocking(ZkServer::start).await.unwrap()
}

fn cluster(file: &str) -> ClusterSpec {
    ClusterSpec::load(&repo_path(file)).expect("cluster file")
}

/// An emulator registered under `zk`; `leader` makes it a non-leading one.
async fn start_registered(zk: &ZkUrl, leader: Option<String>) -> SimHandle {
    let mut cfg = SimConfig::new(
        cluster("fixtures/clusters/alluxio-ports.toml"),
        "127.0.0.1:0".parse().unwrap(),
    );
    cfg.zk = Some(zk.clone());
    cfg.leader = leader;
    Sim::start_with(cfg)
        .await
        .expect("the emulator starts and registers in ZooKeeper")
}

fn running_tasks(sim: &SimHandle) -> usize {
    sim.state_json()["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["tasks"].as_array().cloned().unwrap_or_default())
        .filter(|t| t["state"] == "TASK_RUNNING")
        .count()
}

/// Asserts a failed run printed exactly one `Error:` line containing every needle.
fn assert_one_line_error(out: &Cli, needles: &[&str]) {
    assert_eq!(
        out.code, 1,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    let lines: Vec<&str> = out.stderr.trim().lines().collect();
    assert_eq!(lines.len(), 1, "one line expected:\n{}", out.stderr);
    assert!(lines[0].starts_with("Error: "), "{}", out.stderr);
    for n in needles {
        assert!(lines[0].contains(n), "{n:?} missing in: {}", lines[0]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zk_master_url_plans_and_applies_on_the_leader_and_follows_a_new_leader() {
    let zk = zookeeper().await;
    let url = zk.url("/mesos");
    let first = start_registered(&url, None).await;
    let second = start_registered(&url, Some(first.url())).await;
    let (z1, z2) = (first.zk_znode().unwrap(), second.zk_znode().unwrap());
    assert!(z1.starts_with("/mesos/json.info_") && z1 < z2, "{z1} {z2}");

    let d = Deployment::new(&format!("zk://{}/mesos", zk.address()), "", SITE);
    let plan = cli(&d, &["plan", "-v"]).await;
    plan.ok();
    assert!(
        plan.stderr
            .contains(&format!("names {} as the leading master", first.url())),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stdout
            .contains("Plan: 4 to launch, 0 to replace, 0 to kill."),
        "{}",
        plan.stdout
    );

    cli(&d, &["apply", "--auto-approve"]).await.ok();
    assert_eq!(running_tasks(&first), 4, "the leader runs the deployment");
    assert_eq!(running_tasks(&second), 0);
    assert_eq!(running_addresses(&d.state()).len(), 4);

    // The leader dies: its znode goes with its session, and the second
    // master is elected.
    first.shutdown().await;
    let leader = mesos_zk::find_leader(&url, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(leader.znode, z2);
    second.set_leading(true, None);

    let plan = cli(&d, &["plan", "-v"]).await;
    plan.ok();
    assert!(
        plan.stderr
            .contains(&format!("names {} as the leading master", second.url())),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stderr
            .contains(&format!("Read the live state from {}", second.url())),
        "{}",
        plan.stderr
    );
    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zk_problems_are_one_line_errors_naming_the_path() {
    let zk = zookeeper().await;

    // Nothing registered under the path.
    let d = Deployment::new(&format!("zk://{}/empty", zk.address()), "", SITE);
    let out = cli(&d, &["plan"]).await;
    assert_one_line_error(
        &out,
        &[
            "no Mesos master is registered under '/empty'",
            &zk.address(),
        ],
    );

    // A leader znode that does not hold a JSON MasterInfo.
    let raw = zookeeper_client::Client::connect(&zk.address())
        .await
        .expect("raw ZooKeeper client");
    let persistent =
        zookeeper_client::CreateMode::Persistent.with_acls(zookeeper_client::Acls::anyone_all());
    raw.create("/bad", b"", &persistent).await.unwrap();
    raw.create("/bad/json.info_0000000001", b"\x08garbage", &persistent)
        .await
        .unwrap();
    let d = Deployment::new(&format!("zk://{}/bad", zk.address()), "", SITE);
    let out = cli(&d, &["apply", "--auto-approve"]).await;
    assert_one_line_error(
        &out,
        &[
            "malformed MasterInfo in znode '/bad/json.info_0000000001'",
            "not valid JSON",
        ],
    );
    assert!(!d.state_file().exists(), "nothing applied");

    // No ZooKeeper at all.
    let port = zookeeper::free_port();
    let d = Deployment::new(&format!("zk://127.0.0.1:{port}/mesos"), "", SITE);
    let out = cli(&d, &["plan"]).await;
    assert_one_line_error(
        &out,
        &[
            "no ZooKeeper reachable",
            &format!("zk://127.0.0.1:{port}/mesos"),
        ],
    );
}

// ---------------------------------------------------------------- auth

/// The secret the emulator accepts; must never be printed or stored.
const SECRET: &str = "canary-secret-7f3a9c";
/// A wrong secret; must never be printed or stored either.
const WRONG_SECRET: &str = "canary-wrong-b81e42";

/// An emulator that wants `alluxio`/[`SECRET`] from schedulers, and from
/// state readers too when `readonly` (`--authenticate_http_readonly`).
async fn start_authenticating(readonly: bool) -> SimHandle {
    let text = std::fs::read_to_string(repo_path("fixtures/clusters/alluxio-ports.toml")).unwrap();
    let text = format!(
        "{text}\n[authentication]\nhttp_readonly = {readonly}\nprincipals = [{{ principal = \"alluxio\", secret = \"{SECRET}\" }}]\n"
    );
    let spec = ClusterSpec::parse(&text).expect("cluster file with authentication");
    Sim::start(spec, "127.0.0.1:0".parse().unwrap(), None)
        .await
        .expect("the emulator must start on 127.0.0.1")
}

/// A deployment authenticating as `alluxio` with `secret` from a secret file.
fn with_secret_file(master: &str, secret: &str) -> Deployment {
    let d = Deployment::new(
        master,
        "principal = \"alluxio\"\nsecret_file = \"framework.secret\"",
        SITE,
    );
    std::fs::write(d.dir.path().join("framework.secret"), format!("{secret}\n")).unwrap();
    d
}

fn assert_no_canary(d: &Deployment, outs: &[&Cli]) {
    for out in outs {
        for canary in [SECRET, WRONG_SECRET] {
            assert!(!out.stdout.contains(canary), "secret in stdout");
            assert!(!out.stderr.contains(canary), "secret in stderr");
        }
    }
    if let Ok(state) = std::fs::read_to_string(d.state_file()) {
        assert!(!state.contains(SECRET) && !state.contains(WRONG_SECRET));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn principal_and_secret_file_plan_and_apply_against_an_authenticating_master() {
    let sim = start_authenticating(true).await;
    let d = with_secret_file(&sim.url(), SECRET);
    let plan = cli(&d, &["plan"]).await;
    plan.ok();
    let apply = cli(&d, &["apply", "--auto-approve"]).await;
    apply.ok();
    assert_eq!(running_tasks(&sim), 4);
    let fw = &sim.state_json()["frameworks"][0];
    assert_eq!(fw["principal"], "alluxio");
    assert_no_canary(&d, &[&plan, &apply]);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_fails_with_the_principal_named_and_the_secret_nowhere() {
    // Refused by the scheduler API (state endpoints open, Mesos' default).
    let sim = start_authenticating(false).await;
    let d = with_secret_file(&sim.url(), WRONG_SECRET);
    let apply = cli(&d, &["apply", "--auto-approve"]).await;
    assert_eq!(apply.code, 1, "{}\n{}", apply.stdout, apply.stderr);
    assert!(
        apply
            .stderr
            .contains("authentication failed for principal alluxio"),
        "{}",
        apply.stderr
    );
    assert_eq!(running_tasks(&sim), 0);
    assert_no_canary(&d, &[&apply]);
    sim.shutdown().await;

    // Refused already when reading the state (--authenticate_http_readonly).
    let sim = start_authenticating(true).await;
    let d = with_secret_file(&sim.url(), WRONG_SECRET);
    let plan = cli(&d, &["plan"]).await;
    assert_one_line_error(&plan, &["authentication failed for principal alluxio"]);
    let apply = cli(&d, &["apply", "--auto-approve"]).await;
    assert_one_line_error(&apply, &["authentication failed for principal alluxio"]);
    assert_no_canary(&d, &[&plan, &apply]);

    // No secret at all: says which settings are missing.
    let d = Deployment::new(&sim.url(), "", SITE);
    let plan = cli(&d, &["plan"]).await;
    assert_one_line_error(&plan, &["requires authentication", "secret_file"]);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secret_may_come_from_the_environment() {
    let sim = start_authenticating(true).await;
    let d = Deployment::new(&sim.url(), "principal = \"alluxio\"", SITE);
    let apply = cli_env(
        &d,
        &["apply", "--auto-approve"],
        &[("ALLUXIO_MESOS_SECRET", SECRET)],
    )
    .await;
    apply.ok();
    assert_eq!(running_tasks(&sim), 4);
    assert_no_canary(&d, &[&apply]);
    sim.shutdown().await;
}
