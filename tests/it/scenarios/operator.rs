//! The operator's verbs: `--replace` one task, `--target` a subset (in
//! apply, destroy and a saved plan), with the rest of the deployment left
//! exactly as it was.

use super::*;

const W1: &str = "worker[\"agent1.example\"]";
const W2: &str = "worker[\"agent2.example\"]";
const W3: &str = "worker[\"agent3.example\"]";

/// 1 master and 3 workers. `--replace` restarts one unchanged worker and
/// nothing else; a site change is then applied to one worker through a
/// saved `--target` plan (bringing master[0], which workers are started
/// with), one worker is destroyed with `destroy --target`, and a plain
/// apply brings the rest, its reasons still explained.
pub async fn replace_and_target(backend: Backend) {
    let cluster = TestCluster::start(backend, &ClusterDesc::agents(3)).await;
    let d = sleepers(&cluster, "", "");
    expect_code(&cluster, &apply(&d).await, 0, "apply");
    let first = live_by_address(&cluster).await;

    // --replace: an unchanged worker, by name.
    let plan = cli(&d, &["plan", "--detailed-exitcode", "--replace", W2]).await;
    expect_said(
        &cluster,
        &plan,
        2,
        "plan --replace",
        "replacement requested",
    );
    let r = cli(
        &d,
        &[
            "apply",
            "--auto-approve",
            "--settle-time",
            SETTLE,
            "--replace",
            W2,
        ],
    )
    .await;
    expect_said(
        &cluster,
        &r,
        0,
        "apply --replace",
        "Apply complete: 0 launched, 1 replaced, 0 killed.",
    );
    let replaced = live_by_address(&cluster).await;
    for (address, tasks) in &first {
        if address == W2 {
            assert_ne!(replaced[address], *tasks, "{W2} was not replaced");
        } else {
            assert_eq!(replaced[address], *tasks, "{address} was touched");
        }
    }
    let typo = cli(
        &d,
        &["apply", "--auto-approve", "--replace", "worker[\"nope\"]"],
    )
    .await;
    expect_said(&cluster, &typo, 1, "apply --replace of no address", "");
    assert!(
        typo.stderr.contains("the deployment has no such address"),
        "{}",
        typo.stderr
    );

    // --target in a saved plan: the targeted worker and master[0].
    d.set_site(&SITE.replace("/tmp/underfs", "/tmp/underfs-2"));
    let plan_file = d.toml().with_file_name("targeted.plan");
    let plan_file = plan_file.to_str().unwrap();
    let plan = cli(
        &d,
        &[
            "plan",
            "--detailed-exitcode",
            "--target",
            W1,
            "-o",
            plan_file,
        ],
    )
    .await;
    expect_said(
        &cluster,
        &plan,
        2,
        "plan --target",
        "targeting is in effect (--target): this plan covers worker[\"agent1.example\"] and master[0] (needed by the targeted workers) only; 2 other change(s)",
    );
    let refused = cli(&d, &["apply", plan_file, "--target", W2]).await;
    expect_code(&cluster, &refused, 1, "apply PLANFILE --target");
    assert!(
        refused.stderr.contains("cannot change a saved plan"),
        "{}",
        refused.stderr
    );
    let r = cli(&d, &["apply", plan_file, "--settle-time", SETTLE]).await;
    expect_said(
        &cluster,
        &r,
        0,
        "apply of the targeted plan",
        "Apply complete: 0 launched, 2 replaced, 0 killed.",
    );
    assert!(
        r.stdout.contains("the applied changes may be incomplete"),
        "{}",
        r.stdout
    );
    let targeted = live_by_address(&cluster).await;
    for address in [W2, W3] {
        assert_eq!(
            targeted[address], replaced[address],
            "{address} was touched"
        );
    }
    for address in ["master[0]", W1] {
        assert_ne!(
            targeted[address], replaced[address],
            "{address} was not replaced"
        );
    }
    // What was left out is still explained by what it was launched with.
    let plan = cli(&d, &["plan", "--detailed-exitcode"]).await;
    expect_said(
        &cluster,
        &plan,
        2,
        "plan after the targeted apply",
        "alluxio.underfs.address",
    );
    assert!(
        !plan.stdout.contains("does not hold the configuration"),
        "{}",
        plan.stdout
    );

    // destroy --target: one worker, nothing else.
    let r = cli(&d, &["destroy", "--auto-approve", "--target", W3]).await;
    expect_said(
        &cluster,
        &r,
        0,
        "destroy --target",
        "Destroy complete: 0 launched, 0 replaced, 1 killed.",
    );
    let destroyed = live_by_address(&cluster).await;
    assert!(!destroyed.contains_key(W3), "{destroyed:?}");
    assert_eq!(
        destroyed[W2], replaced[W2],
        "{W2} was touched by the destroy"
    );

    let r = apply(&d).await;
    expect_said(
        &cluster,
        &r,
        0,
        "the whole apply",
        "Apply complete: 1 launched, 1 replaced, 0 killed.",
    );
    assert_converged(&cluster, &d, 4).await;
    cluster.shutdown().await;
}

/// Two agents, a stand-in AlluxioFramework running its master on the
/// first and a worker on each, and a deployment of command tasks.
async fn beside_an_alluxio_framework(
    backend: Backend,
) -> (
    TestCluster,
    Vec<String>,
    crate::support::alluxio_framework::StandInFramework,
    Deployment,
) {
    let cluster = TestCluster::start(backend, &ClusterDesc::agents(2)).await;
    let hosts: Vec<String> = cluster
        .desc
        .agents
        .iter()
        .map(|a| a.hostname.clone())
        .collect();
    let old = crate::support::alluxio_framework::StandInFramework::start(
        &cluster.url(),
        &hosts[0],
        &hosts,
    )
    .await;
    let d = sleepers(&cluster, "", "");
    (cluster, hosts, old, d)
}

/// A running AlluxioFramework holds every port the deployment needs. The
/// plan shows its takeover; apply refuses it without confirmation, then,
/// approved, tears it down through the operator API and launches ours on
/// the resources it freed.
pub async fn takeover(backend: Backend) {
    let (cluster, hosts, old, d) = beside_an_alluxio_framework(backend).await;

    let plan = cli(&d, &["plan", "--detailed-exitcode"]).await;
    // Shown with --nocapture: the takeover as a reviewer reads it.
    println!("{}", plan.stdout);
    expect_said(
        &cluster,
        &plan,
        2,
        "plan with a running AlluxioFramework",
        "Plan: take over AlluxioFramework \"alluxio\" (3 task(s) stop), 3 to launch, 0 to replace, 0 to kill.",
    );
    for words in [
        format!(
            "# AlluxioFramework \"alluxio\" ({}) will be torn down and taken over",
            old.id
        ),
        format!("AlluxioMaster 0 on {} (ports 19998-19999)", hosts[0]),
        "all 3 stop at once".to_string(),
    ] {
        assert!(
            plan.stdout.contains(&words),
            "{words:?} not in:\n{}",
            plan.stdout
        );
    }
    assert!(!plan.stdout.contains("cannot be placed"), "{}", plan.stdout);

    // Not confirmed: nothing happens to the old framework.
    let refused = cli(&d, &["apply"]).await;
    expect_code(&cluster, &refused, 1, "apply without confirmation");
    assert!(
        registered_framework(&cluster.state().await, &old.id).is_some(),
        "the old framework was touched"
    );

    let r = apply(&d).await;
    expect_said(
        &cluster,
        &r,
        0,
        "apply of the takeover",
        "Apply complete: 3 launched, 0 replaced, 0 killed.",
    );
    assert!(
        r.stdout.contains(&format!(
            "Tore down AlluxioFramework \"alluxio\" ({})",
            old.id
        )),
        "{}",
        r.stdout
    );
    let state = cluster.state().await;
    assert!(registered_framework(&state, &old.id).is_none());
    assert!(completed_framework(&state, &old.id));
    assert_ne!(d.state()["framework_id"].as_str(), Some(old.id.as_str()));
    assert_converged(&cluster, &d, 3).await;
    drop(old);
    cluster.shutdown().await;
}

/// A takeover whose launches fail: the old framework is gone, and apply
/// says so; the next apply, once the command is fixed, converges.
pub async fn takeover_that_fails_midway(backend: Backend) {
    let (cluster, _, old, d) = beside_an_alluxio_framework(backend).await;
    let good = std::fs::read_to_string(d.toml()).unwrap();
    let bad = good.replace(
        "[worker]\ncommand = \"exec sleep 600\"",
        "[worker]\ncommand = \"exit 3\"",
    );
    std::fs::write(d.toml(), &bad).unwrap();
    let r = apply(&d).await;
    expect_code(&cluster, &r, 1, "a takeover whose workers fail");
    assert!(
        r.stdout.contains(&format!(
            "AlluxioFramework \"alluxio\" ({}) was torn down, and this deployment is not fully running",
            old.id
        )),
        "{}",
        r.stdout
    );
    assert!(completed_framework(&cluster.state().await, &old.id));

    std::fs::write(d.toml(), &good).unwrap();
    let r = apply(&d).await;
    expect_code(&cluster, &r, 0, "the apply after the failed takeover");
    assert!(!r.stdout.contains("take over"), "{}", r.stdout);
    assert_converged(&cluster, &d, 3).await;
    drop(old);
    cluster.shutdown().await;
}
