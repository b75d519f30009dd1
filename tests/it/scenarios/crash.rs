//! A run killed with SIGKILL at a seeded random instant, then rerun as it
//! is: no force-unlock (the killed run's lock ends with it), no duplicate
//! task, and a state that matches the cluster.

use super::*;
use crate::support::run_cli;
use std::process::{Command, Stdio};

/// What a killed run was doing.
#[derive(Debug, Clone, Copy)]
pub enum CrashPhase {
    FreshDeploy,
    RollingReplacement,
    Destroy,
}

/// `kills` runs killed at seeded instants, spread over a fresh deploy, a
/// rolling replacement and a destroy, each on a cluster of its own;
/// panics with every broken invariant. The seed and each kill are printed.
pub async fn crash_loop(backend: Backend, seed: u64, kills: usize) {
    use rand::{Rng, SeedableRng};
    println!(
        "crash loop on {backend}: seed {seed}, {kills} kills (CRASH_LOOP_SEED / CRASH_LOOP_KILLS)"
    );
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let phases = [
        CrashPhase::FreshDeploy,
        CrashPhase::RollingReplacement,
        CrashPhase::Destroy,
    ];
    let mut failures = Vec::new();
    for i in 0..kills {
        let phase = phases[i % phases.len()];
        let kill_after = Duration::from_millis(rng.gen_range(50..4000));
        let broken = crash_once(backend, phase, kill_after).await;
        let verdict = if broken.is_empty() {
            "ok".to_string()
        } else {
            broken.join("; ")
        };
        println!(
            "kill {i}: {phase:?} after {}ms: {verdict}",
            kill_after.as_millis()
        );
        if !broken.is_empty() {
            failures.push(format!(
                "{phase:?} killed after {}ms: {verdict}",
                kill_after.as_millis()
            ));
        }
    }
    println!(
        "crash loop on {backend}: {} of {kills} kills broke an invariant",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{backend}, seed {seed}:\n{}",
        failures.join("\n")
    );
}

/// One kill and its rerun; every broken invariant, as text.
async fn crash_once(backend: Backend, phase: CrashPhase, kill_after: Duration) -> Vec<String> {
    let cluster = TestCluster::start(backend, &ClusterDesc::agents(3)).await;
    let d = sleepers(&cluster, "", "");
    if !matches!(phase, CrashPhase::FreshDeploy) {
        let r = apply(&d).await;
        if r.code != 0 {
            return vec![format!("the first apply exited {}:\n{}", r.code, r.stdout)];
        }
    }
    if matches!(phase, CrashPhase::RollingReplacement) {
        // A server-side property: every task is replaced.
        d.set_site(&SITE.replace("/tmp/underfs", "/tmp/underfs-2"));
    }
    let command: &[&str] = match phase {
        CrashPhase::Destroy => &["destroy", "--auto-approve"],
        _ => &["apply", "--auto-approve", "--settle-time", SETTLE],
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_alluxio-mesos"))
        .arg("-c")
        .arg(d.toml())
        .args(command)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run alluxio-mesos");
    tokio::time::sleep(kill_after).await;
    let _ = child.kill(); // SIGKILL
    let _ = tokio::task::spawn_blocking(move || child.wait()).await;

    let before = d.state_file().exists().then(|| d.state());
    let toml = d.toml();
    let rerun = tokio::task::spawn_blocking(move || run_cli(&toml, command))
        .await
        .unwrap();
    let mut broken = Vec::new();
    if rerun.code != 0 {
        broken.push(format!(
            "the rerun exited {}:\n{}\n{}",
            rerun.code, rerun.stdout, rerun.stderr
        ));
    }
    if let Some(before) = &before {
        let state = d.state();
        if state["lineage"] != before["lineage"] {
            broken.push("the lineage changed".into());
        }
        if state["serial"].as_u64() <= before["serial"].as_u64() {
            broken.push(format!(
                "the serial did not increase ({} -> {})",
                before["serial"], state["serial"]
            ));
        }
    }
    match phase {
        CrashPhase::Destroy => {
            let live = live_by_address(&cluster).await;
            if !live.is_empty() {
                broken.push(format!("tasks left after destroy: {live:?}"));
            }
            if d.state()["tasks"].as_array().is_some_and(|t| !t.is_empty()) {
                broken.push(format!(
                    "records left after destroy: {}",
                    d.state()["tasks"]
                ));
            }
            let plan = cli(&d, &["plan", "--destroy", "--detailed-exitcode"]).await;
            if plan.code != 0 {
                broken.push(format!(
                    "plan --destroy exited {}:\n{}",
                    plan.code, plan.stdout
                ));
            }
        }
        _ => broken.extend(broken_invariants(&cluster, &d, 4).await),
    }
    cluster.shutdown().await;
    broken
}

/// `CRASH_LOOP_SEED` and `CRASH_LOOP_KILLS`, or the defaults.
pub fn crash_loop_settings(kills: usize) -> (u64, usize) {
    let number = |name: &str| std::env::var(name).ok().and_then(|v| v.parse().ok());
    (
        number("CRASH_LOOP_SEED").unwrap_or(20_261_207),
        number("CRASH_LOOP_KILLS").map_or(kills, |k: u64| k as usize),
    )
}
