//! The root crate's integration tests, one module per file, in one test
//! binary: the crate is linked once instead of once per file, which is
//! most of a build on a 2-core machine. `tests/scale_smoke.rs` stays a
//! binary of its own: its counting allocator must see no other test.

mod support;
// The ZooKeeper harness of crates/mesos-zk, compiled in here too rather
// than copied.
#[path = "../../crates/mesos-zk/tests/common/mod.rs"]
mod zookeeper;

mod apply_batching;
mod apply_faults;
mod apply_leader;
mod apply_sim;
mod ci_recipe;
mod cli_conventions;
mod cli_output;
mod desired_errors;
mod desired_examples;
mod fuzz;
mod live_fetch;
mod live_narrow;
mod live_state;
mod plan_cli;
mod plan_render;
mod proto_strict;
mod real_cluster;
mod scenarios;
mod state_store;
mod state_zk;

/// The scenarios of `scenarios` on the emulator (`tests/real_mesos` runs
/// them on real Mesos).
mod on_sim {
    crate::scenarios::scenario_tests!(crate::support::cluster::Backend::Sim);
    crate::scenarios::default_launch_tests!(crate::support::cluster::Backend::Sim);
}

/// A file in this directory that is not declared above would never run.
#[test]
fn every_test_file_is_a_module_of_this_binary() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it");
    let main = std::fs::read_to_string(dir.join("main.rs")).unwrap();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.extension().is_some_and(|e| e == "rs") && stem != "main" {
            assert!(
                main.contains(&format!("\nmod {stem};\n")),
                "tests/it/{stem}.rs is not declared in tests/it/main.rs"
            );
        }
    }
}
