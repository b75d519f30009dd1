//! Rolling replacement, checked from the master's own task states while it
//! runs, and the rollback of a replacement that fails.

use super::*;
use crate::support::config_hashes;

/// Four workers replaced with `max_unavailable`: the master never reports
/// fewer than `4 - max_unavailable` of them running, and every worker ends
/// on a new task.
pub async fn rolling_replacement(backend: Backend, max_unavailable: usize) {
    let cluster = TestCluster::start(backend, &ClusterDesc::agents(4)).await;
    let d = sleepers(
        &cluster,
        "",
        &format!("max_unavailable = {max_unavailable}\n"),
    );
    expect_code(&cluster, &apply(&d).await, 0, "apply");
    let before = live_by_address(&cluster).await;

    // A server-side property: every worker (and the master) is replaced.
    d.set_site(&SITE.replace("/tmp/underfs", "/tmp/underfs-2"));
    let (fewest, r) = fewest_running_during(&cluster, 4, apply(&d)).await;
    expect_said(
        &cluster,
        &r,
        0,
        "the rolling replacement",
        "Apply complete: 0 launched, 5 replaced, 0 killed.",
    );
    assert!(
        fewest >= 4 - max_unavailable,
        "{}: {fewest} workers were running at one point, with max_unavailable = {max_unavailable}",
        cluster.backend
    );
    let after = live_by_address(&cluster).await;
    for (address, tasks) in &after {
        assert_ne!(
            before.get(address),
            Some(tasks),
            "{address} was not replaced"
        );
    }
    assert_converged(&cluster, &d, 5).await;
    cluster.shutdown().await;
}

/// A new worker command that exits 3: the replacement fails, every slot
/// it replaced gets the old configuration back, and apply exits 1 with the
/// summary line.
pub async fn failed_replacement_rolls_back(backend: Backend) {
    let cluster = TestCluster::start(backend, &ClusterDesc::agents(2)).await;
    let d = sleepers(&cluster, "", "");
    expect_code(&cluster, &apply(&d).await, 0, "apply");
    let before: BTreeMap<String, String> = config_hashes(&cluster.state().await);

    let bad = std::fs::read_to_string(d.toml()).unwrap().replace(
        "[worker]\ncommand = \"exec sleep 600\"",
        "[worker]\ncommand = \"exit 3\"",
    );
    std::fs::write(d.toml(), bad).unwrap();
    let r = apply(&d).await;
    expect_code(&cluster, &r, 1, "apply of a failing worker command");
    assert!(
        r.stdout.contains("Command exited with status 3"),
        "{}: Mesos's own words for the failure:\n{}",
        cluster.backend,
        r.stdout
    );
    assert!(
        r.stdout
            .contains("Rolled back 1 of 1 replaced task(s) to the last applied configuration."),
        "{}",
        r.stdout
    );
    assert_eq!(config_hashes(&cluster.state().await), before);
    let live = live_by_address(&cluster).await;
    assert_eq!(live.len(), 3, "{live:?}");
    assert!(live.values().all(|t| t.len() == 1), "{live:?}");
    cluster.shutdown().await;
}
