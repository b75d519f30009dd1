//! Scenarios that run unchanged on the emulator and on real Apache Mesos:
//! the binary against a [`TestCluster`] of either backend. `tests/it`
//! instantiates them on mesos-sim, `tests/real_mesos` on each real Mesos
//! version (see `docs/testing.md`). Real Mesos decides what is right: a
//! scenario that passes there and fails on the emulator is an emulator bug.
//!
//! Each scenario starts its own cluster and stops it, with every task it
//! ran, at its end (or when it panics: the cluster is dropped).

use crate::support::cluster::{live_tasks, Backend, ClusterDesc, TestCluster};
use crate::support::{cli, Cli, Deployment, SITE};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

mod crash;
mod default_launch;
mod drift;
mod faults;
mod lifecycle;
mod operator;
mod rollout;

pub use crash::*;
pub use default_launch::*;
pub use drift::*;
pub use faults::*;
pub use lifecycle::*;
pub use operator::*;
pub use rollout::*;

/// Instantiates every scenario as a test on `$backend`.
macro_rules! scenario_tests {
    ($backend:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn deploys_one_master_and_three_workers_on_three_agents() {
            $crate::scenarios::deploys_and_converges($backend).await
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn unplaceable_tasks_exit_2_in_plan_and_1_in_apply() {
            $crate::scenarios::unplaceable($backend).await
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn command_tasks_fill_an_agent_exactly_as_the_plan_says() {
            $crate::scenarios::tight_fit($backend).await
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn no_change_applies_keep_every_task_past_the_failover_timeout() {
            $crate::scenarios::keep_alive($backend).await
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_removed_framework_is_explained_and_registered_anew() {
            $crate::scenarios::removed_framework($backend).await
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn destroy_then_teardown_leaves_nothing_of_ours() {
            $crate::scenarios::destroy_and_teardown($backend).await
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn logs_reads_a_tasks_sandbox_from_its_agent() {
            $crate::scenarios::logs($backend).await
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_task_that_never_serves_alluxio_fails_after_its_ready_timeout() {
            $crate::scenarios::alluxio_readiness_times_out($backend).await
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn framework_authentication_takes_the_right_secret_only() {
            $crate::scenarios::authentication($backend).await
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_rolling_replacement_keeps_max_unavailable_1() {
            $crate::scenarios::rolling_replacement($backend, 1).await
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_rolling_replacement_keeps_max_unavailable_2() {
            $crate::scenarios::rolling_replacement($backend, 2).await
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn an_agent_lost_mid_apply_ends_its_step_as_not_started() {
            $crate::scenarios::agent_lost_mid_apply($backend).await
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_master_whose_agent_is_lost_mid_apply_moves_to_another() {
            $crate::scenarios::master_moves_off_a_lost_agent($backend).await
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_run_killed_at_any_instant_is_followed_by_a_converging_run() {
            let (seed, kills) = $crate::scenarios::crash_loop_settings(6);
            $crate::scenarios::crash_loop($backend, seed, kills).await
        }

        /// The long loop, on demand: `-- --ignored a_long_crash_loop`.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        #[ignore]
        async fn a_long_crash_loop_converges_after_every_kill() {
            let (seed, kills) = $crate::scenarios::crash_loop_settings(30);
            $crate::scenarios::crash_loop($backend, seed, kills).await
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn replace_and_target_touch_only_the_addresses_named() {
            $crate::scenarios::replace_and_target($backend).await
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_running_alluxio_framework_is_taken_over() {
            $crate::scenarios::takeover($backend).await
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_takeover_whose_launches_fail_says_so_and_the_next_apply_converges() {
            $crate::scenarios::takeover_that_fails_midway($backend).await
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn drift_is_shown_read_only_and_recorded_on_request() {
            $crate::scenarios::drift_is_shown_and_recorded($backend).await
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_replacement_that_exits_3_is_rolled_back() {
            $crate::scenarios::failed_replacement_rolls_back($backend).await
        }
    };
}
pub(crate) use scenario_tests;

/// The settle time the scenarios apply with: long enough that a command
/// that dies at once is caught, short enough for CI.
pub const SETTLE: &str = "1s";

/// A deployment of command tasks (`sleep`), so that it runs on any agent
/// of either backend; `extra` is added to it (`[mesos]` keys first).
pub fn sleepers(cluster: &TestCluster, mesos_keys: &str, extra: &str) -> Deployment {
    Deployment::of_this_account(
        &cluster.url(),
        &format!(
            "{mesos_keys}\n[master]\ncommand = \"exec sleep 600\"\n[worker]\ncommand = \"exec sleep 600\"\n{extra}"
        ),
        SITE,
    )
}

/// `apply --auto-approve` with the scenarios' settle time.
pub async fn apply(d: &Deployment) -> Cli {
    cli(d, &["apply", "--auto-approve", "--settle-time", SETTLE]).await
}

/// Panics with the run's output and, on real Mesos, the cluster's log.
pub fn expect_code(cluster: &TestCluster, r: &Cli, code: i32, what: &str) {
    assert_eq!(
        r.code,
        code,
        "{}: {what} exited {} (expected {code})\nstdout:\n{}\nstderr:\n{}\ncluster log:\n{}",
        cluster.backend,
        r.code,
        r.stdout,
        r.stderr,
        cluster.log_tail(40)
    );
}

/// [`expect_code`], and the run's output has `line` (its last line).
pub fn expect_said(cluster: &TestCluster, r: &Cli, code: i32, what: &str, line: &str) {
    expect_code(cluster, r, code, what);
    assert!(
        r.stdout.contains(line),
        "{}: {what} did not say {line:?}:\n{}",
        cluster.backend,
        r.stdout
    );
}

/// Non-terminal tasks of ours by address, from the master.
pub async fn live_by_address(cluster: &TestCluster) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (id, address, state, _) in live_tasks(&cluster.state().await) {
        if !is_terminal(&state) {
            out.entry(address).or_default().push(id);
        }
    }
    out
}

pub fn is_terminal(state: &str) -> bool {
    matches!(
        state,
        "TASK_FINISHED"
            | "TASK_FAILED"
            | "TASK_KILLED"
            | "TASK_ERROR"
            | "TASK_LOST"
            | "TASK_DROPPED"
            | "TASK_GONE"
            | "TASK_GONE_BY_OPERATOR"
    )
}

/// Every invariant of a converged deployment, as broken promises: one
/// live task per desired address and no other task of ours; the state's
/// records exactly the live tasks; `plan --detailed-exitcode` exits 0.
pub async fn broken_invariants(
    cluster: &TestCluster,
    d: &Deployment,
    addresses: usize,
) -> Vec<String> {
    let mut broken = Vec::new();
    let live = live_by_address(cluster).await;
    if live.len() != addresses || live.values().any(|t| t.len() != 1) {
        broken.push(format!(
            "expected one live task at each of {addresses} addresses: {live:?}"
        ));
    }
    let state = d.state();
    let recorded: Vec<String> = state["tasks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["task_id"].as_str().map(str::to_string))
        .collect();
    let live_ids: Vec<&String> = live.values().flatten().collect();
    for id in &live_ids {
        if !recorded.contains(id) {
            broken.push(format!("live task {id} is not in the state"));
        }
    }
    for id in &recorded {
        if !live_ids.contains(&id) {
            broken.push(format!("the state records task {id}, which is not live"));
        }
    }
    let plan = cli(d, &["plan", "--detailed-exitcode"]).await;
    if plan.code != 0 {
        broken.push(format!(
            "plan --detailed-exitcode exited {}:\n{}{}",
            plan.code, plan.stdout, plan.stderr
        ));
    }
    broken
}

/// Panics unless the deployment has converged on `addresses` tasks.
pub async fn assert_converged(cluster: &TestCluster, d: &Deployment, addresses: usize) {
    let broken = broken_invariants(cluster, d, addresses).await;
    assert!(
        broken.is_empty(),
        "{}:\n{}\ncluster log:\n{}",
        cluster.backend,
        broken.join("\n"),
        cluster.log_tail(40)
    );
}

/// Our framework's entry in `frameworks` (registered), if any.
pub fn registered_framework<'a>(state: &'a Value, id: &str) -> Option<&'a Value> {
    state["frameworks"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["id"] == id)
}

/// Whether the master lists framework `id` among its completed frameworks.
pub fn completed_framework(state: &Value, id: &str) -> bool {
    state["completed_frameworks"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|f| f["id"] == id)
}

/// Samples the master while `run` goes on: the fewest workers running at
/// once (of the addresses in `workers`), and the run's result.
pub async fn fewest_running_during(
    cluster: &TestCluster,
    workers: usize,
    run: impl std::future::Future<Output = Cli>,
) -> (usize, Cli) {
    tokio::pin!(run);
    let mut fewest = workers;
    let started = Instant::now();
    loop {
        tokio::select! {
            r = &mut run => return (fewest, r),
            _ = tokio::time::sleep(Duration::from_millis(100)) => {
                let running = live_tasks(&cluster.state().await)
                    .into_iter()
                    .filter(|(_, a, s, _)| a.starts_with("worker[") && s == "TASK_RUNNING")
                    .count();
                fewest = fewest.min(running);
                assert!(started.elapsed() < Duration::from_secs(600), "the run never ended");
            }
        }
    }
}
