//! The scenarios of `tests/it/scenarios` against real Apache Mesos, each
//! version in a module of its own: `cargo test --test real_mesos v1_7_3`
//! runs one version, `... -- keep_alive` one scenario on every version.
//! Needs the harness (`../shared/real-mesos`, set up for each version);
//! `scripts/test` runs it (see `docs/testing.md`).

#[path = "../it/support/mod.rs"]
mod support;

#[path = "../it/scenarios/mod.rs"]
mod scenarios;

/// The versions checked; `setup` prepares each (`scripts/test` does).
pub const VERSIONS: [&str; 2] = ["1.11.0", "1.7.3"];

mod v1_11_0 {
    crate::scenarios::scenario_tests!(crate::support::cluster::Backend::Real(crate::VERSIONS[0]));
}

mod v1_7_3 {
    crate::scenarios::scenario_tests!(crate::support::cluster::Backend::Real(crate::VERSIONS[1]));
}
