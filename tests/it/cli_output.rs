//! What users see, through the real binary: errors and warnings as miette
//! draws them, apply's and destroy's last lines, and the views of the state
//! (`show`, `state ...`, `output`). Each snapshot is a transcript of one
//! command; what differs between runs (IDs, times, ports) is filtered out.

use crate::support;

use std::path::Path;
use support::{run_here, Cli, SITE};

/// The deployment's files in a fresh directory; commands run in it.
fn deployment(toml_extra: &str, site: &str) -> tempfile::TempDir {
    deployment_on("local", toml_extra, site)
}

/// [`deployment`] on the Mesos master at `master`.
fn deployment_on(master: &str, toml_extra: &str, site: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let toml = format!(
        "name = \"alluxio\"\n[mesos]\nmaster = \"{master}\"\nuser = \"alluxio\"\n{toml_extra}"
    );
    std::fs::write(dir.path().join("alluxio-mesos.toml"), toml).unwrap();
    std::fs::write(dir.path().join("alluxio-site.properties"), site).unwrap();
    dir
}

/// A local cluster of one agent: one master and one worker, started one
/// after the other, so the order of every line is fixed.
const ONE_AGENT: &str = r#"[timing]
allocation_interval = "100ms"
task_start_delay = "100ms"
heartbeat_interval = "5s"

[[agents]]
hostname = "local-agent-1"
cpus = 4
mem = 16384
disk = 102400
ports = "[19998-19999, 29998-30000]"
"#;

/// A deployment on the embedded cluster `cluster` (cluster-file text).
fn on_local_cluster(cluster: &str, toml_extra: &str) -> tempfile::TempDir {
    let dir = deployment(
        &format!("local_cluster = \"cluster.toml\"\n{toml_extra}"),
        SITE,
    );
    std::fs::write(dir.path().join("cluster.toml"), cluster).unwrap();
    dir
}

/// One command, its exit code and both streams.
fn transcript(args: &[&str], r: &Cli) -> String {
    format!(
        "$ alluxio-mesos {}\nexit code: {}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        r.code,
        r.stdout,
        r.stderr
    )
}

/// Runs `args` in `dir` and returns the transcript.
fn run(dir: &Path, args: &[&str]) -> String {
    transcript(args, &run_here(dir, args))
}

/// Runs `args` in `dir` and returns the transcript without standard error,
/// for commands whose progress lines on it come in no fixed order.
fn run_stdout(dir: &Path, args: &[&str]) -> (Cli, String) {
    let r = run_here(dir, args);
    let shown = format!(
        "$ alluxio-mesos {}\nexit code: {}\n--- stdout\n{}",
        args.join(" "),
        r.code,
        r.stdout
    );
    (r, shown)
}

/// Filters for what differs between runs.
fn stable() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "[uuid]",
    );
    // The unique part of a task ID: alluxio-master-0.<32 hex digits>.
    s.add_filter(r"\.[0-9a-f]{32}\b", ".[id]");
    s.add_filter(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "[time]");
    s.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[port]");
    s
}

#[test]
fn an_unknown_key_is_drawn_with_its_line_and_a_did_you_mean() {
    let dir = deployment("[master]\ncout = 2\n", SITE);
    insta::assert_snapshot!(run(dir.path(), &["validate"]));
}

#[test]
fn every_problem_of_the_deployment_is_drawn_at_once() {
    let dir = deployment("[master]\ncout = 2\nmemory = \"1GB\"\n", SITE);
    insta::assert_snapshot!(run(dir.path(), &["validate"]));
}

#[test]
fn properties_warnings_come_before_the_result() {
    let site = format!(
        "{SITE}alluxio.worker.memroy.size=4GB\nalluxio.integration.worker.resoure.mem=1GB\nalluxio.home=/opt/alluxio-2\n"
    );
    let dir = deployment("", &site);
    insta::assert_snapshot!(run(dir.path(), &["validate"]));
}

#[test]
fn a_setting_given_in_both_files_is_drawn_in_both() {
    let site = format!("{SITE}alluxio.integration.master.resource.cpu=1.5\n");
    let dir = deployment("[master]\ncpus = 2\n", &site);
    insta::assert_snapshot!(run(dir.path(), &["validate"]));
}

#[test]
fn a_corrupt_state_file_is_named_with_its_position() {
    let dir = deployment("", SITE);
    std::fs::write(
        dir.path().join("alluxio-mesos.state.json"),
        "{\"format_version\": 1, \"lineage\": \"x\", \"serial\": 3,\n  \"tasks\": [oops]\n}\n",
    )
    .unwrap();
    insta::assert_snapshot!(run(dir.path(), &["plan"]));
}

#[test]
fn a_state_locked_by_another_run_names_the_holder() {
    let dir = deployment("", SITE);
    std::fs::write(
        dir.path().join("alluxio-mesos.state.json.lock"),
        r#"{"id":"x","pid":1,"host":"elsewhere","created_at":"2026-11-25T00:00:00Z","operation":"apply"}"#,
    )
    .unwrap();
    insta::assert_snapshot!(run(dir.path(), &["apply", "--auto-approve"]));
}

#[test]
fn an_unreachable_master_says_how_to_plan_offline() {
    let dir = deployment("", SITE);
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let shown = run(
        dir.path(),
        &["plan", "--mesos", &url, "--retry-deadline", "0s"],
    );
    stable().bind(|| insta::assert_snapshot!(shown));
}

#[test]
fn commands_that_read_the_state_before_any_apply() {
    let dir = deployment("", SITE);
    let shown = [
        run(dir.path(), &["show"]),
        run(dir.path(), &["output"]),
        run(dir.path(), &["state", "list"]),
    ]
    .join("\n");
    insta::assert_snapshot!(shown);
}

#[test]
fn apply_then_every_view_of_the_state_then_destroy() {
    let dir = on_local_cluster(ONE_AGENT, "");
    let d = dir.path();
    stable().bind(|| {
        insta::assert_snapshot!(
            "refused_without_a_terminal",
            run(d, &["apply", "--settle-time", "0s"])
        );
        insta::assert_snapshot!("apply", run(d, &["apply", "--auto-approve"]));
        insta::assert_snapshot!("show", run(d, &["show"]));
        insta::assert_snapshot!("show_json", run(d, &["show", "--format", "json"]));
        insta::assert_snapshot!("show_markdown", run(d, &["show", "--format", "markdown"]));
        insta::assert_snapshot!("state_list", run(d, &["state", "list"]));
        let worker = "worker[\"local-agent-1\"]";
        insta::assert_snapshot!("state_show", run(d, &["state", "show", worker]));
        insta::assert_snapshot!(
            "state_show_json",
            run(d, &["state", "show", worker, "--json"])
        );
        insta::assert_snapshot!(
            "state_show_unknown",
            run(d, &["state", "show", "worker[\"nowhere\"]"])
        );
        insta::assert_snapshot!("output", run(d, &["output"]));
        insta::assert_snapshot!("output_json", run(d, &["output", "--json"]));
        insta::assert_snapshot!("state_rm", run(d, &["state", "rm", worker]));
        insta::assert_snapshot!("state_pull", run(d, &["state", "pull"]));
        let state = std::fs::read_to_string(d.join("alluxio-mesos.state.json")).unwrap();
        let task: serde_json::Value = serde_json::from_str(&state).unwrap();
        let task = task["unmanaged_task_ids"][0].as_str().unwrap().to_string();
        insta::assert_snapshot!("state_import", run(d, &["state", "import", worker, &task]));
        insta::assert_snapshot!(
            "state_migrate",
            run(d, &["state", "migrate", "--to", "moved.json"])
        );
        insta::assert_snapshot!("state_push", run(d, &["state", "push", "moved.json"]));
        // The kills run at once: their progress lines come in any order.
        let (destroy, shown) = run_stdout(d, &["destroy", "--auto-approve"]);
        assert_eq!(destroy.code, 0, "{}", destroy.stderr);
        insta::assert_snapshot!("destroy", shown);
        insta::assert_snapshot!("output_after_destroy", run(d, &["output"]));
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_launch_ends_apply_incomplete() {
    // The commands run for real: the worker's exits at once, three times.
    // In this process, so that the master's `sleep` ends with the test.
    let sim = support::start_sim_from(&support::cluster_text(1, "50ms", true)).await;
    let dir = deployment_on(
        &sim.url(),
        "[master]\ncommand = \"sleep 120\"\n[worker]\ncommand = \"echo no ramdisk here >&2; exit 3\"\n",
        SITE,
    );
    let path = dir.path().to_path_buf();
    // Retries wait a random backoff, so standard error is left to
    // apply_faults.
    let (apply, shown) = tokio::task::spawn_blocking(move || {
        run_stdout(&path, &["apply", "--auto-approve", "--settle-time", "1s"])
    })
    .await
    .unwrap();
    assert_eq!(apply.code, 1, "{}", apply.stderr);
    sim.shutdown().await;
    stable().bind(|| insta::assert_snapshot!(shown));
}

#[test]
fn tasks_that_cannot_be_placed_end_apply_incomplete() {
    let cluster = ONE_AGENT.replace("[19998-19999, 29998-30000]", "[31000-32000]");
    let dir = on_local_cluster(&cluster, "");
    stable().bind(|| insta::assert_snapshot!(run(dir.path(), &["apply", "--auto-approve"])));
}
