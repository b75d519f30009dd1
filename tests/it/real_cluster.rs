//! The CLI against clusters set up like real ones: masters found through a
//! real ZooKeeper server, HTTP authentication, and HTTPS. The emulators run
//! in this process; the CLI is the real binary.

// The ZooKeeper harness of crates/mesos-zk, compiled in here too rather
// than copied: one place knows how to run a throwaway ZooKeeper server.
use crate::support;
use crate::zookeeper;

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

// ---------------------------------------------------------------- TLS

/// A throwaway CA and a server certificate it signed for `localhost` and
/// 127.0.0.1, written as PEM files into `dir` (made at test time: no
/// private key is committed). Returns (CA file, TLS files of the server).
fn make_pki(dir: &std::path::Path, ca_name: &str) -> (std::path::PathBuf, mesos_sim::TlsFiles) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, ca_name);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();

    let mut params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "mesos-master");
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();

    let ca_file = dir.join(format!("{ca_name}.pem"));
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let files = mesos_sim::TlsFiles {
        cert: dir.join(format!("{ca_name}-server.pem")),
        key: dir.join(format!("{ca_name}-server.key")),
    };
    std::fs::write(&files.cert, cert.pem()).unwrap();
    std::fs::write(&files.key, key.serialize_pem()).unwrap();
    (ca_file, files)
}

async fn start_tls(files: mesos_sim::TlsFiles) -> SimHandle {
    let mut cfg = SimConfig::new(
        cluster("fixtures/clusters/alluxio-ports.toml"),
        "127.0.0.1:0".parse().unwrap(),
    );
    cfg.tls = Some(files);
    Sim::start_with(cfg)
        .await
        .expect("the emulator serves HTTPS on 127.0.0.1")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_master_is_planned_and_applied_with_the_ca_from_ca_cert() {
    let pki = tempfile::tempdir().unwrap();
    let (ca, files) = make_pki(pki.path(), "test-ca");
    let sim = start_tls(files).await;
    assert!(sim.url().starts_with("https://127.0.0.1:"), "{}", sim.url());

    let d = Deployment::new(&sim.url(), &format!("ca_cert = \"{}\"", ca.display()), SITE);
    let plan = cli(&d, &["plan", "-v"]).await;
    plan.ok();
    assert!(
        plan.stderr
            .contains(&format!("Read the live state from {}", sim.url())),
        "{}",
        plan.stderr
    );
    // The scheduler API (event stream included) works over TLS too.
    cli(&d, &["apply", "--auto-approve"]).await.ok();
    assert_eq!(running_tasks(&sim), 4);
    // So do the agents' own listeners, where `logs` reads sandboxes.
    cli(&d, &["logs", "master[0]"]).await.ok();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ca_cert_flag_trusts_a_ca_and_an_untrusted_certificate_is_a_clear_error() {
    let pki = tempfile::tempdir().unwrap();
    let (ca, files) = make_pki(pki.path(), "test-ca");
    let (other_ca, _) = make_pki(pki.path(), "other-ca");
    let sim = start_tls(files).await;
    let localhost = sim.url().replace("127.0.0.1", "localhost");
    let d = Deployment::new(&localhost, "", SITE);

    let untrusted = cli(&d, &["plan"]).await;
    assert_one_line_error(
        &untrusted,
        &["is not trusted", &localhost, "ca_cert", "--ca-cert"],
    );
    let wrong_ca = cli(&d, &["plan", "--ca-cert", other_ca.to_str().unwrap()]).await;
    assert_one_line_error(&wrong_ca, &["is not trusted", "--ca-cert"]);

    cli(&d, &["plan", "--ca-cert", ca.to_str().unwrap()])
        .await
        .ok();

    // Skipping verification works only when asked for, and says so.
    let skipped = cli(&d, &["plan", "--insecure-skip-tls-verify"]).await;
    skipped.ok();
    assert!(
        skipped
            .stderr
            .contains("Warning: --insecure-skip-tls-verify"),
        "{}",
        skipped.stderr
    );

    let not_pem = pki.path().join("not-a-cert.pem");
    std::fs::write(&not_pem, "hello\n").unwrap();
    let bad = cli(&d, &["plan", "--ca-cert", not_pem.to_str().unwrap()]).await;
    assert_one_line_error(&bad, &["--ca-cert", "not-a-cert.pem"]);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zk_leader_is_reached_over_https_when_a_ca_is_configured() {
    let pki = tempfile::tempdir().unwrap();
    let (ca, files) = make_pki(pki.path(), "test-ca");
    let zk = zookeeper().await;
    let mut cfg = SimConfig::new(
        cluster("fixtures/clusters/alluxio-ports.toml"),
        "127.0.0.1:0".parse().unwrap(),
    );
    cfg.tls = Some(files);
    cfg.zk = Some(zk.url("/mesos"));
    let sim = Sim::start_with(cfg).await.unwrap();
    let d = Deployment::new(
        &format!("zk://{}/mesos", zk.address()),
        &format!("ca_cert = \"{}\"", ca.display()),
        SITE,
    );
    let plan = cli(&d, &["plan", "-v"]).await;
    plan.ok();
    assert!(
        plan.stderr
            .contains(&format!("names {} as the leading master", sim.url())),
        "{}",
        plan.stderr
    );
    sim.shutdown().await;
}

// ------------------------------------------------------ leader failover

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_follows_a_leader_change_and_resubscribes_with_the_same_framework_id() {
    let zk = zookeeper().await;
    let url = zk.url("/mesos");
    // The masters share their registry, as Mesos masters do through the
    // replicated log: the next leader knows the frameworks and tasks.
    let registry = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo_path("fixtures/clusters/alluxio-ports.toml"))
        .unwrap()
        .replace(
            "task_start_delay = \"100ms\"",
            "task_start_delay = \"700ms\"",
        );
    let spec = ClusterSpec::parse(&text).unwrap();
    let start = |spec: ClusterSpec| {
        let mut cfg = SimConfig::new(spec, "127.0.0.1:0".parse().unwrap());
        cfg.zk = Some(url.clone());
        cfg.persist_dir = Some(registry.path().to_path_buf());
        Sim::start_with(cfg)
    };
    let first = start(spec.clone()).await.unwrap();

    let d = Deployment::new(&format!("zk://{}/mesos", zk.address()), "", SITE);
    let toml = d.toml();
    let apply = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_alluxio-mesos"))
            .arg("-c")
            .arg(toml)
            .args(["apply", "--auto-approve"])
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    });

    // Let the apply subscribe and launch, then kill the leader mid-way.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let framework_id = loop {
        let state = first.state_json();
        let fw = &state["frameworks"][0];
        if fw["tasks"].as_array().is_some_and(|t| !t.is_empty()) {
            break fw["id"].as_str().unwrap().to_string();
        }
        assert!(std::time::Instant::now() < deadline, "apply never launched");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    first.shutdown().await;
    let second = start(spec).await.unwrap();

    let out = apply.await.unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stderr.contains("subscribing again") || stdout.contains("subscribing again"),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert_eq!(d.state()["framework_id"], framework_id.as_str());
    let state = second.state_json();
    let fw = &state["frameworks"][0];
    assert_eq!(
        fw["id"],
        framework_id.as_str(),
        "same framework on the new leader"
    );
    assert_eq!(running_tasks(&second), 4, "{stdout}");
    assert_eq!(running_addresses(&d.state()).len(), 4);
    second.shutdown().await;
}
