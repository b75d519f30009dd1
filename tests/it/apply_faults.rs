//! apply under failure on the emulator: tasks that fail, a dropped event
//! stream, Ctrl-C and a lost agent. Always through the real binary; the
//! state file must stay readable and the next run must converge without
//! duplicate tasks. The CLI killed at any instant is a scenario of both
//! backends (`scenarios/crash.rs`).

use crate::support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::*;

fn spawn_cli(d: &Deployment, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_alluxio-mesos"))
        .arg("-c")
        .arg(d.toml())
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run alluxio-mesos")
}

async fn finish(child: Child) -> Cli {
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    Cli {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_that_fails_at_start_is_retried_then_reported() {
    // The command runs for real and exits at once: TASK_RUNNING, then
    // TASK_FAILED within the settle time.
    let sim = start_sim_from(&cluster_text(2, "50ms", true)).await;
    let d = Deployment::new(
        &sim.url(),
        "[master]\ncommand = \"sleep 60\"\n[worker]\ncount = 1\ncommand = \"echo no ramdisk here >&2; exit 3\"\n",
        SITE,
    );
    let r = cli(&d, &["apply", "--auto-approve"]).await;
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("retrying"), "{}", r.stderr);
    assert!(r.stdout.contains("FAILED"), "{}", r.stdout);
    assert!(r.stdout.contains("TASK_FAILED"), "{}", r.stdout);
    assert!(r.stdout.contains("after 3 attempts"), "{}", r.stdout);
    assert!(r.stdout.contains("done     master[0]"), "{}", r.stdout);
    // The state is intact and records the master; the failed worker is not kept.
    let state = d.state();
    assert_eq!(running_addresses(&state), ["master[0]"]);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_event_stream_is_survived() {
    let sim = start_sim_from(&cluster_text(3, "600ms", false)).await;
    let d = Deployment::new(&sim.url(), "", SITE);
    let child = spawn_cli(&d, &["apply", "--auto-approve"]);
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert!(sim.drop_streams() >= 1, "the apply was subscribed");
    let r = finish(child).await;
    r.ok();
    assert!(r.stderr.contains("subscribing again"), "{}", r.stderr);
    assert_one_task_per_address(&sim, 4);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_starting_steps_saves_and_exits_130() {
    let sim = start_sim_from(&cluster_text(3, "500ms", false)).await;
    let d = Deployment::new(&sim.url(), "", SITE);
    let child = spawn_cli(&d, &["apply", "--auto-approve"]);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    // SAFETY: plain signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let r = finish(child).await;
    assert_eq!(r.code, 130, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("Interrupted"), "{}", r.stdout);
    // Not everything was launched, the lock is released and a new run finishes the job.
    let second = cli(&d, &["apply", "--auto-approve"]).await;
    second.ok();
    assert_one_task_per_address(&sim, 4);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_agent_leads_to_the_master_being_relaunched_elsewhere() {
    let sim = start_sim_from(&cluster_text(3, "50ms", false)).await;
    let d = Deployment::new(&sim.url(), "", SITE);
    cli(&d, &["apply", "--auto-approve"]).await.ok();
    let master_host = d.state()["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["address"] == "master[0]")
        .unwrap()["hostname"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(sim.remove_agent(&master_host));
    let plan = cli(&d, &["plan"]).await;
    assert!(
        plan.stdout.contains("master[0] was TASK_LOST"),
        "{}",
        plan.stdout
    );
    cli(&d, &["apply", "--auto-approve"]).await.ok();
    let state = d.state();
    let new_host = state["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["address"] == "master[0]")
        .unwrap()["hostname"]
        .clone();
    assert_ne!(new_host, master_host.as_str());
    // Two agents left, a worker on each, one master.
    assert_one_task_per_address(&sim, 3);
    let again = cli(&d, &["plan", "--detailed-exitcode"]).await;
    assert_eq!(again.code, 0, "{}", again.stdout);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_rolling_replacement_halts_after_the_first_batch() {
    let (sim, d) = deployed_sleepers(3, "", SITE).await;
    // A new worker configuration that cannot start.
    let bad = std::fs::read_to_string(d.toml()).unwrap().replace(
        "[worker]\ncommand = \"sleep 120\"",
        "[worker]\ncommand = \"echo bad configuration >&2; exit 1\"",
    );
    std::fs::write(d.toml(), bad).unwrap();
    let r = cli(
        &d,
        &[
            "apply",
            "--auto-approve",
            "--settle-time",
            "300ms",
            "--rollback-on-failure=false",
        ],
    )
    .await;
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(!r.stdout.contains("Rolled back"), "{}", r.stdout);
    assert_eq!(
        r.stdout
            .lines()
            .filter(|l| l.starts_with("  FAILED"))
            .count(),
        1,
        "{}",
        r.stdout
    );
    assert_eq!(
        r.stdout.matches("the rolling replacement stopped").count(),
        2,
        "{}",
        r.stdout
    );
    // Two old workers and the master still serve.
    let by_address = live_tasks_by_address(&sim.state_json());
    assert_eq!(by_address.len(), 3, "{by_address:#?}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_rolling_replacement_is_rolled_back_batch_by_batch() {
    const CANARY: &str = "Rollback-Canary-7d41";
    let site = format!("{SITE}fs.s3a.secretkey={CANARY}\n");
    let (sim, d) = deployed_sleepers(3, "max_unavailable = 2\n", &site).await;
    let old_hashes = config_hashes(&sim.state_json());
    assert_eq!(old_hashes.len(), 4, "{old_hashes:?}");
    // A new worker configuration that starts on two agents and not on the third.
    let bad = std::fs::read_to_string(d.toml()).unwrap().replace(
        "max_unavailable = 2\ncommand = \"sleep 120\"",
        "max_unavailable = 2\ncommand = 'case \"$MESOS_TASK_ID\" in *agent3_example_com*) exit 1;; esac; exec sleep 121'",
    );
    std::fs::write(d.toml(), bad).unwrap();
    let since = sim.transitions().len();
    let r = cli(&d, &["apply", "--auto-approve", "--settle-time", "300ms"]).await;
    assert_rolled_back(&r, 3);
    assert!(
        r.stderr.contains("with the last applied configuration"),
        "{}",
        r.stderr
    );
    // Every slot runs its old configuration again, one task each.
    assert_eq!(config_hashes(&sim.state_json()), old_hashes);
    assert_one_task_per_address(&sim, 4);
    // Batches of max_unavailable = 2 out of 3 workers, rollback included.
    assert_eq!(fewest_running_since(&sim, "AlluxioWorker", since), Some(1));
    // The state keeps the old configuration's templates, and no secret.
    let text = std::fs::read_to_string(d.state_file()).unwrap();
    assert!(!text.contains(CANARY));
    let state = d.state();
    let templates = state["launch_templates"].as_object().unwrap();
    assert_eq!(templates.len(), 2, "{templates:#?}");
    assert_eq!(running_addresses(&state).len(), 4);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_master_replacement_puts_the_old_master_back_and_leaves_the_workers() {
    let (sim, d) = deployed_sleepers(2, "", SITE).await;
    let old_hashes = config_hashes(&sim.state_json());
    // A master that cannot start, and a change for both roles: the workers
    // wait for the master, so they are never touched.
    let bad = std::fs::read_to_string(d.toml()).unwrap().replacen(
        "command = \"sleep 120\"",
        "command = \"exit 1\"",
        1,
    );
    std::fs::write(d.toml(), bad).unwrap();
    d.set_site(&SITE.replace("/tmp/underfs", "/tmp/underfs-2"));
    let since = sim.transitions().len();
    let r = cli(&d, &["apply", "--auto-approve", "--settle-time", "300ms"]).await;
    assert_rolled_back(&r, 1);
    assert_eq!(
        r.stdout.matches("the rolling replacement stopped").count(),
        2,
        "{}",
        r.stdout
    );
    assert_eq!(config_hashes(&sim.state_json()), old_hashes);
    assert!(
        sim.transitions()[since..]
            .iter()
            .all(|t| t.task_name != "AlluxioWorker"),
        "a worker was touched"
    );
    sim.shutdown().await;
}

/// A deployment applied on `agents` agents whose tasks really run (`sleep
/// 120`), `worker_settings` added to its `[worker]` table.
async fn deployed_sleepers(
    agents: usize,
    worker_settings: &str,
    site: &str,
) -> (mesos_sim::SimHandle, Deployment) {
    let sim = start_sim_from(&cluster_text(agents, "50ms", true)).await;
    let d = Deployment::new(
        &sim.url(),
        &format!("[master]\ncommand = \"sleep 120\"\n[worker]\n{worker_settings}command = \"sleep 120\"\n"),
        site,
    );
    cli(&d, &["apply", "--auto-approve", "--settle-time", "300ms"])
        .await
        .ok();
    (sim, d)
}

/// Apply failed, and its summary reports `n` of `n` slots rolled back.
fn assert_rolled_back(r: &Cli, n: usize) {
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let line =
        format!("Rolled back {n} of {n} replaced task(s) to the last applied configuration.");
    assert!(r.stdout.contains(&line), "{}", r.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_failover_during_apply_is_survived() {
    // What a scheduler sees of a leader change: its stream drops, calls get
    // 503 while no master leads, then the new leader takes re-subscription.
    let sim = start_sim_from(&cluster_text(3, "600ms", false)).await;
    let d = Deployment::new(&sim.url(), "", SITE);
    let child = spawn_cli(&d, &["apply", "--auto-approve"]);
    tokio::time::sleep(Duration::from_millis(900)).await;
    // Losing leadership closes every subscription stream, as in Mesos.
    sim.set_leading(false, None);
    sim.drop_streams();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    sim.set_leading(true, None);
    let r = finish(child).await;
    r.ok();
    assert!(r.stderr.contains("subscribing again"), "{}", r.stderr);
    assert_one_task_per_address(&sim, 4);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_prints_a_tasks_sandbox_output_through_its_agent() {
    let sim = start_sim_from(&cluster_text(1, "50ms", true)).await;
    let d = Deployment::new(
        &sim.url(),
        "[master]\ncommand = \"echo master says hello; echo master complains >&2; sleep 60\"\n[worker]\ncommand = \"sleep 60\"\n",
        SITE,
    );
    cli(&d, &["apply", "--auto-approve", "--settle-time", "300ms"])
        .await
        .ok();
    // The agent is a server of its own, as in a real cluster: its pid
    // names another port than the master's, which serves no sandboxes.
    let pid = sim.state_json()["slaves"][0]["pid"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!pid.ends_with(&format!(":{}", sim.addr().port())), "{pid}");
    let out = cli(&d, &["logs", "master[0]"]).await;
    out.ok();
    assert!(out.stdout.contains("master says hello"), "{}", out.stdout);
    assert!(!out.stdout.contains("complains"), "{}", out.stdout);
    let err = cli(&d, &["logs", "master[0]", "--stderr"]).await;
    assert!(
        err.ok().stdout.contains("master complains"),
        "{}",
        err.stdout
    );
    let missing = cli(&d, &["logs", "master[7]"]).await;
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.contains("master[7] is not in the state"),
        "{}",
        missing.stderr
    );
    sim.shutdown().await;
}
