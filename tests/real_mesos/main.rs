//! The scenarios of `tests/it/scenarios` against real Apache Mesos, each
//! version in a module of its own: `cargo test --test real_mesos v1_7_3`
//! runs one version, `... -- keep_alive` one scenario on every version.
//! `ha.rs` adds what only real HA masters show (leader failover).
//! Needs the harness (`../shared/real-mesos`, set up for each version);
//! `scripts/test` runs it (see `docs/testing.md`).

#[path = "../it/support/mod.rs"]
mod support;

#[path = "../it/scenarios/mod.rs"]
mod scenarios;

mod ha;

/// The versions checked; `setup` prepares each (`scripts/test` does).
pub const VERSIONS: [&str; 2] = ["1.11.0", "1.7.3"];

/// The scenarios of both backends, and those only real HA masters run.
macro_rules! real_tests {
    ($version:expr) => {
        crate::scenarios::scenario_tests!(crate::support::cluster::Backend::Real($version));
        crate::scenarios::default_launch_tests!(crate::support::cluster::Backend::Real($version));

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_leader_failover_mid_apply_and_mid_plan_is_survived() {
            crate::ha::leader_failover_mid_apply_and_plan($version).await
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_leader_failover_mid_destroy_is_survived() {
            crate::ha::leader_failover_mid_destroy($version).await
        }
    };
}

mod v1_11_0 {
    real_tests!(crate::VERSIONS[0]);
}

mod v1_7_3 {
    real_tests!(crate::VERSIONS[1]);
}
