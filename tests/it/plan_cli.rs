//! `alluxio-mesos plan` and `show` through the real binary, against saved
//! Mesos state documents. Snapshots make every change in what users see
//! visible in review.

use crate::support;

use std::path::Path;
use support::{run_cli, Deployment, SITE};

const QUICKSTART: &str = "plans/quickstart/alluxio-mesos.toml";
const FIXTURE_DEPLOYMENT: &str = "fixtures/deployments/alluxio/alluxio-mesos.toml";

type Run = support::Cli;

fn run(args: &[&str]) -> Run {
    support::run_in_repo(args)
}

fn plan(deployment: &str, state: &str, extra: &[&str]) -> Run {
    let doc = format!("fixtures/state/{state}");
    let mut args = vec!["plan", "-c", deployment, "--mesos-state", doc.as_str()];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn first_deployment_text() {
    let r = plan(QUICKSTART, "alluxio-ports.json", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn first_deployment_markdown() {
    let r = plan(QUICKSTART, "alluxio-ports.json", &["--format", "markdown"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn first_deployment_json() {
    let r = plan(QUICKSTART, "alluxio-ports.json", &["--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["format_version"], "1");
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn default_agents_explain_the_ports_and_both_remedies() {
    let r = plan(QUICKSTART, "default-ports.json", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r
        .stdout
        .contains("--resources='ports:[19998-19999,29998-30000]'"));
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn lost_worker_is_relaunched_and_running_tasks_are_kept() {
    let r = plan(FIXTURE_DEPLOYMENT, "partial-lost-worker.json", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("Plan: 1 to launch, 0 to replace, 0 to kill."),
        "{}",
        r.stdout
    );
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn drift_replaces_with_reasons() {
    let r = plan(FIXTURE_DEPLOYMENT, "drift.json", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn inactive_agents_and_other_roles_reservations() {
    for doc in [
        "inactive-agent.json",
        "reserved-other-role.json",
        "old-version.json",
        "v1-shapes.json",
    ] {
        let r = plan(FIXTURE_DEPLOYMENT, doc, &["--format", "json"]);
        assert_eq!(r.code, 0, "{doc}: {}", r.stderr);
        insta::assert_snapshot!(doc, r.stdout);
    }
}

#[test]
fn a_non_leading_master_document_is_refused() {
    let r = plan(QUICKSTART, "not-leader.json", &[]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("not the leader"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
}

#[test]
fn detailed_exitcode_says_whether_there_are_changes() {
    assert_eq!(
        plan(
            FIXTURE_DEPLOYMENT,
            "partial-lost-worker.json",
            &["--detailed-exitcode"]
        )
        .code,
        2
    );
    let none = plan(
        FIXTURE_DEPLOYMENT,
        "partial-lost-worker.json",
        &["--detailed-exitcode", "--target", "master[0]"],
    );
    // The targeted slot is unchanged, but the whole deployment is judged.
    assert_eq!(none.code, 2, "{}", none.stdout);
    assert!(
        none.stdout
            .contains("No changes at the targeted addresses; 1 other change(s)"),
        "{}",
        none.stdout
    );
    assert_eq!(
        plan(FIXTURE_DEPLOYMENT, "partial-lost-worker.json", &[]).code,
        0
    );
}

#[test]
fn destroy_plans_killing_everything() {
    let r = plan(
        FIXTURE_DEPLOYMENT,
        "partial-lost-worker.json",
        &["--destroy"],
    );
    assert!(
        r.stdout
            .contains("Plan: 0 to launch, 0 to replace, 4 to kill."),
        "{}",
        r.stdout
    );
    // Nothing is applied by a destroy: no configuration to review.
    assert!(!r.stdout.contains("Site properties"), "{}", r.stdout);
}

#[test]
fn saved_plans_show_in_every_format_and_refuse_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    let file_s = file.to_str().unwrap();
    let json = plan(
        QUICKSTART,
        "alluxio-ports.json",
        &["--format", "json", "-o", file_s],
    );
    assert_eq!(json.code, 0, "{}", json.stderr);
    let shown = run(&["show", file_s, "--format", "json"]);
    assert_eq!(shown.stdout, json.stdout);
    let text = plan(QUICKSTART, "alluxio-ports.json", &[]);
    assert_eq!(run(&["show", file_s]).stdout, text.stdout);

    let tampered =
        std::fs::read_to_string(&file)
            .unwrap()
            .replacen("\"cpus\": 1.0", "\"cpus\": 7.0", 1);
    std::fs::write(&file, tampered).unwrap();
    let r = run(&["show", file_s]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("was altered after it was written"),
        "{}",
        r.stderr
    );
}

#[test]
fn global_options_work_after_the_command_name_too() {
    let before = run(&["-c", QUICKSTART, "validate"]);
    let after = run(&["validate", "-c", QUICKSTART]);
    assert_eq!(before.code, 0, "{}", before.stderr);
    assert_eq!(before.stdout, after.stdout);
}

#[test]
fn missing_master_setting_is_a_clear_error() {
    let r = run(&["plan", "-c", FIXTURE_DEPLOYMENT]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no Mesos master"), "{}", r.stderr);
    assert!(r.stderr.contains("--mesos-state"), "{}", r.stderr);
}

#[test]
fn a_bad_deployment_is_a_located_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("alluxio-mesos.toml");
    std::fs::write(&toml, "name = \"x\"\n[master]\ncuont = 1\n").unwrap();
    std::fs::write(
        dir.path().join("alluxio-site.properties"),
        "alluxio.integration.mesos.alluxio.jar.url=LOCAL\nalluxio.home=/opt\n",
    )
    .unwrap();
    let r = run(&["validate", "-c", toml.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("count"), "did-you-mean: {}", r.stderr);
    assert!(
        r.stderr.contains("alluxio-mesos.toml:3"),
        "location: {}",
        r.stderr
    );
    assert!(Path::new(&toml).exists());
}

#[test]
fn a_document_that_is_no_master_state_is_an_error_not_an_empty_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, r#"{"foo":1}"#).unwrap();
    let r = run(&[
        "plan",
        "-c",
        QUICKSTART,
        "--mesos-state",
        junk.to_str().unwrap(),
        "--detailed-exitcode",
    ]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("junk.json is not a Mesos master state document"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("/master/state"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

#[test]
fn help_lists_the_exit_codes_of_the_one_table() {
    let r = run(&["--help"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for (code, meaning) in alluxio_mesos::cli::exit::TABLE {
        let line = format!("{code:>3}  {}", meaning.replace('`', ""));
        assert!(
            r.stdout.contains(&line),
            "missing {line:?} in\n{}",
            r.stdout
        );
    }
}

/// The user names the files; an endless one (a device, a runaway log) must
/// fail at its size limit instead of exhausting memory.
fn assert_too_large(stderr: &str, what: &str, limit: &str) {
    let expected = format!("{what} /dev/zero is larger than {limit}");
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(!stderr.contains('\0'), "the content is quoted: {stderr:?}");
}

#[test]
fn an_endless_secret_file_fails_at_its_limit() {
    let d = Deployment::new("local", "secret_file = \"/dev/zero\"", SITE);
    let r = d.cli(&["validate"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_too_large(&r.stderr, "secret file", "64 KiB");
    assert!(r.stderr.contains("a secret file holds one"), "{}", r.stderr);
}

#[test]
fn an_endless_site_properties_file_fails_at_its_limit() {
    let d = Deployment::new("local", "[alluxio]\nsite_properties = \"/dev/zero\"", SITE);
    let r = d.cli(&["validate"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_too_large(&r.stderr, "site properties file", "4 MiB");
}

#[test]
fn an_endless_deployment_file_fails_at_its_limit() {
    let r = run_cli(Path::new("/dev/zero"), &["validate"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_too_large(&r.stderr, "deployment file", "4 MiB");
}

#[test]
fn a_deeply_nested_constraint_is_a_located_error_not_a_crash() {
    let deep = "(".repeat(5000) + "a:b" + &")".repeat(5000);
    let d = Deployment::new(
        "local",
        &format!("[master]\nconstraints = \"{deep}\""),
        SITE,
    );
    let r = d.cli(&["validate"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("levels deep"), "{}", r.stderr);
    assert!(r.stderr.contains("alluxio-mesos.toml:6"), "{}", r.stderr);
}

#[test]
fn an_endless_local_cluster_file_fails_at_its_limit() {
    // A regular file (the deployment checks that): sparse, so it costs no disk.
    let d = Deployment::new("local", "local_cluster = \"huge.toml\"", SITE);
    let huge = d.dir.path().join("huge.toml");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let r = d.cli(&["plan"]);
    assert_ne!(r.code, 0, "{}", r.stderr);
    let expected = format!("cluster file {}: it is larger than 16 MiB", huge.display());
    assert!(r.stderr.contains(&expected), "{}", r.stderr);
}

/// A bad 2 MB value is quoted as a short excerpt, in the message and in the
/// drawn snippet, and still located by file and line.
#[test]
fn errors_quote_a_short_excerpt_of_a_huge_value() {
    let huge = "x".repeat(2_000_000);
    let site = format!("{SITE}alluxio.worker.memory.size={huge}\n");
    let d = Deployment::new(
        "local",
        &format!("[worker]\nramdisk = \"{huge}\"\n[master]\nconstraints = \"rack:{huge} &\""),
        &site,
    );
    let r = d.cli(&["validate"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.len() < 20_000,
        "{} bytes of stderr",
        r.stderr.len()
    );
    // The size of the value, wherever the message wraps.
    assert!(r.stderr.contains("(2000000"), "{}", r.stderr);
    assert!(
        r.stderr.contains("alluxio-site.properties:4") && r.stderr.contains("alluxio-mesos.toml:6"),
        "{}",
        r.stderr
    );
}

/// Drift against a saved document: the worker the state recorded running
/// is lost there, and the running tasks the state lacks are named.
#[test]
fn drift_from_a_saved_document() {
    use alluxio_mesos::state::State;
    let lost = "alluxio-worker.4e2d3c4b-5a69-4f8e-9c7b-1d2e3f4a5b63";
    let state = State {
        framework_id: Some("3f9c2a71-8d4e-4b6a-9e2f-5c1d7a8b0e42-0003".into()),
        serial: 7,
        tasks: vec![support::running_record(
            "worker[\"mesos-agent-4.example.com\"]",
            lost,
            "3f9c2a71-8d4e-4b6a-9e2f-5c1d7a8b0e42-S3",
            "mesos-agent-4.example.com",
        )],
        ..State::empty("alluxio")
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("state.json");
    std::fs::write(&file, alluxio_mesos::state::render_state(&state)).unwrap();
    let r = plan(
        FIXTURE_DEPLOYMENT,
        "partial-lost-worker.json",
        &[
            "--refresh-only",
            "--detailed-exitcode",
            "--state",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    for words in [
        "since the last apply (state serial 7)",
        &format!("worker[\"mesos-agent-4.example.com\"]: task {lost} on mesos-agent-4.example.com"),
        "observed:      TASK_LOST",
        "recorded as TASK_RUNNING at the last apply",
        "the state does not record it",
        "Drift: 5 finding(s).",
    ] {
        assert!(r.stdout.contains(words), "{words:?} not in:\n{}", r.stdout);
    }
    assert!(!r.stdout.contains("leading Mesos master"), "{}", r.stdout);
}
