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
