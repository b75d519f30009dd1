//! Every call the CLI sends is exactly valid for Mesos's v1 scheduler.proto:
//! the real binary applies, replaces, destroys and tears down against an
//! emulator in strict-calls mode, which refuses (400) and records any call
//! with an unknown field or enum value, two members of a oneof, a missing
//! required field or an out-of-range number. A real master would ignore
//! most of these silently, so only this check proves the calls are exact.

use crate::support;

use support::*;

/// Every call type the CLI's apply/destroy paths are expected to use.
const EXPECTED_CALLS: [&str; 9] = [
    "SUBSCRIBE",
    "ACCEPT",
    "DECLINE",
    "KILL",
    "ACKNOWLEDGE",
    "RECONCILE",
    "REVIVE",
    "SUPPRESS",
    "TEARDOWN",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_replace_destroy_and_teardown_send_only_calls_valid_for_scheduler_proto() {
    let sim = start_sim("fixtures/clusters/alluxio-ports.toml").await;
    let d = Deployment::new(&sim.url(), "[worker]\nmax_unavailable = 1\n", SITE);

    cli(&d, &["apply", "--auto-approve"]).await.ok();
    assert_eq!(running_addresses(&d.state()).len(), 4);
    assert_eq!(sim.strict_violations(), Vec::<String>::new(), "after apply");

    d.set_site(&format!("{SITE}alluxio.worker.tieredstore.levels=1\n"));
    let replaced = cli(&d, &["apply", "--auto-approve"]).await;
    replaced.ok();
    assert!(
        replaced
            .stdout
            .contains("Apply complete: 0 launched, 3 replaced, 0 killed."),
        "{}",
        replaced.stdout
    );
    assert_eq!(
        sim.strict_violations(),
        Vec::<String>::new(),
        "after replace"
    );

    cli(&d, &["destroy", "--auto-approve"]).await.ok();
    assert!(running_addresses(&d.state()).is_empty());
    cli(&d, &["destroy", "--auto-approve", "--teardown"])
        .await
        .ok();

    assert_eq!(sim.strict_violations(), Vec::<String>::new());
    let seen = sim.call_types_seen();
    eprintln!("call types the CLI sent: {seen:?}");
    let missing: Vec<&str> = EXPECTED_CALLS
        .into_iter()
        .filter(|k| !seen.contains_key(*k))
        .collect();
    assert!(missing.is_empty(), "never sent {missing:?}; sent {seen:?}");
    let state = sim.state_json();
    assert!(
        state["frameworks"].as_array().is_some_and(|f| f.is_empty()),
        "the framework is torn down: {}",
        state["frameworks"]
    );
    sim.shutdown().await;
}
