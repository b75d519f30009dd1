//! The conventions of the command line: completions and the man page from
//! the parser's definitions, each command offering only its own options,
//! `-v` timings, `state list`/`state show`, the USER fallback, the
//! did-you-mean for misspelt property keys, the refusal of a piped answer,
//! and the refusal of masters older than Mesos 1.0 by apply.

use crate::support;

use std::io::Write;
use std::process::{Command, Stdio};
use support::*;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_alluxio-mesos"));
    c.env("NO_COLOR", "1");
    c
}

fn output(args: &[&str]) -> (i32, String, String) {
    let out = bin().args(args).output().expect("run alluxio-mesos");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bash_completion_parses_and_completes_the_subcommands() {
    let (code, script, err) = output(&["completions", "bash"]);
    assert_eq!(code, 0, "{err}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alluxio-mesos.bash");
    std::fs::write(&path, &script).unwrap();
    let syntax = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(
        syntax.status.success(),
        "{}",
        String::from_utf8_lossy(&syntax.stderr)
    );

    let complete = |word: &str| {
        let program = format!(
            "source '{}'; COMP_WORDS=(alluxio-mesos '{word}'); COMP_CWORD=1; COMP_LINE=\"alluxio-mesos {word}\"; COMP_POINT=${{#COMP_LINE}}; _alluxio__mesos alluxio-mesos '{word}' alluxio-mesos; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            path.display()
        );
        let out = Command::new("bash")
            .arg("-c")
            .arg(program)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(complete("st").trim(), "state");
    let pl = complete("pl");
    assert_eq!(pl.trim(), "plan", "{pl}");
    let all = complete("");
    for sub in [
        "validate",
        "plan",
        "apply",
        "destroy",
        "completions",
        "man",
        "force-unlock",
    ] {
        assert!(all.lines().any(|l| l == sub), "{sub} missing from {all}");
    }
}

#[test]
fn bash_completes_addresses_from_the_state() {
    use alluxio_mesos::state::State;
    let dir = tempfile::tempdir().unwrap();
    let record = |address: &str, id: &str| running_record(address, id, "S1", "agent-1");
    let state = State {
        tasks: vec![
            record("master[0]", "m0"),
            record("worker[\"agent-1\"]", "w1"),
        ],
        ..State::empty("alluxio")
    };
    std::fs::write(
        dir.path().join("alluxio-mesos.state.json"),
        alluxio_mesos::state::render_state(&state),
    )
    .unwrap();
    let (_, script, _) = output(&["completions", "bash"]);
    let path = dir.path().join("alluxio-mesos.bash");
    std::fs::write(&path, &script).unwrap();
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_alluxio-mesos"))
        .parent()
        .unwrap()
        .display()
        .to_string();
    let complete = |line: &str| {
        let program = format!(
            "source '{}'; COMP_LINE='{line}'; read -ra COMP_WORDS <<< \"$COMP_LINE\"; [[ $COMP_LINE == *' ' ]] && COMP_WORDS+=(''); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 )); COMP_POINT=${{#COMP_LINE}}; _alluxio_mesos_with_addresses alluxio-mesos \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            path.display()
        );
        let out = Command::new("bash")
            .arg("-c")
            .arg(program)
            .current_dir(dir.path())
            .env(
                "PATH",
                format!("{bin_dir}:{}", std::env::var("PATH").unwrap()),
            )
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let all = complete("alluxio-mesos apply --target ");
    assert_eq!(
        all.lines().collect::<Vec<_>>(),
        ["master\\[0\\]", "worker\\[\\\"agent-1\\\"\\]"],
        "{all}"
    );
    assert_eq!(
        complete("alluxio-mesos logs wor").trim(),
        "worker\\[\\\"agent-1\\\"\\]"
    );
    assert_eq!(
        complete("alluxio-mesos state show m").trim(),
        "master\\[0\\]"
    );
    // Elsewhere the generated completion answers.
    assert_eq!(complete("alluxio-mesos pl").trim(), "plan");
}

#[test]
fn other_shells_get_a_script_too() {
    for shell in ["zsh", "fish", "powershell"] {
        let (code, script, err) = output(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {err}");
        assert!(script.contains("alluxio-mesos"), "{shell}");
    }
}

#[test]
fn the_man_page_renders_with_man() {
    let (code, page, err) = output(&["man"]);
    assert_eq!(code, 0, "{err}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alluxio-mesos.1");
    std::fs::write(&path, page).unwrap();
    let out = Command::new("man")
        .arg("-l")
        .arg(&path)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .expect("man is installed (package man-db)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Plan and apply Alluxio deployments on Apache Mesos"),
        "{text}"
    );
    assert!(text.contains("Exit codes"), "{text}");

    let (code, said, err) = output(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(said.contains("Wrote the man pages"));
    assert!(dir.path().join("alluxio-mesos-plan.1").exists());
}

#[test]
fn each_command_offers_only_the_options_that_affect_it() {
    let help = |cmd: &[&str]| {
        let mut args = cmd.to_vec();
        args.push("--help");
        output(&args).1
    };
    let validate = help(&["validate"]);
    for absent in [
        "--mesos",
        "--ca-cert",
        "--insecure-skip-tls-verify",
        "--http-timeout",
        "--retry-deadline",
        "--state",
    ] {
        assert!(
            !validate.contains(absent),
            "validate offers {absent}:\n{validate}"
        );
    }
    let destroy = help(&["destroy"]);
    for absent in ["--settle-time", "--offer-timeout", "--parallelism"] {
        assert!(
            !destroy.contains(absent),
            "destroy offers {absent}:\n{destroy}"
        );
    }
    for present in ["--mesos", "--auto-approve", "--state", "--teardown"] {
        assert!(destroy.contains(present), "destroy lacks {present}");
    }
    let apply = help(&["apply"]);
    for present in ["--settle-time", "--offer-timeout", "--mesos", "--state"] {
        assert!(apply.contains(present), "apply lacks {present}");
    }
    let (code, _, err) = output(&["validate", "--mesos", "http://x:5050"]);
    assert_eq!(
        code, 1,
        "an option the command does not take is an error, never 2 (changes)"
    );
    assert!(err.contains("--mesos"), "{err}");
}

/// A deployment on the embedded local cluster without any `user`.
fn local_without_user(props: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("alluxio-mesos.toml"),
        "name = \"alluxio\"\n[mesos]\nmaster = \"local\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("alluxio-site.properties"), props).unwrap();
    dir
}

#[test]
fn plan_works_without_user_in_the_environment() {
    let dir = local_without_user(SITE);
    let out = bin()
        .current_dir(dir.path())
        .env_remove("USER")
        .env_remove("LOGNAME")
        .arg("plan")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_misspelt_ramdisk_key_is_warned_about_with_its_line() {
    let dir = local_without_user(&format!("{SITE}alluxio.worker.memroy.size=4GB\n"));
    let out = bin()
        .current_dir(dir.path())
        .arg("validate")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("alluxio.worker.memroy.size"), "{err}");
    assert!(
        err.contains("did you mean `alluxio.worker.memory.size`?"),
        "{err}"
    );
    assert!(err.contains("alluxio-site.properties:4:1"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_list_is_sorted_and_state_show_is_text_unless_json() {
    let sim = start_sim("fixtures/clusters/alluxio-ports.toml").await;
    let d = Deployment::new(&sim.url(), "", SITE);
    let applied = cli(
        &d,
        &["apply", "--auto-approve", "--settle-time", "0s", "-v"],
    )
    .await;
    applied.ok();
    // -v: the endpoints and the time of each phase.
    for line in [
        "State: ",
        "Read the live state from",
        "Fetch: ",
        "Plan: ",
        "Scheduler API: ",
        "Subscribed as framework",
        "Wave masters:",
        "Wave workers:",
    ] {
        assert!(
            applied.stderr.contains(line),
            "{line} missing from:\n{}",
            applied.stderr
        );
    }

    let list = cli(&d, &["state", "list"]).await;
    list.ok();
    let lines: Vec<&str> = list.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", list.stdout);
    let addresses: Vec<&str> = lines
        .iter()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    let mut sorted = addresses.clone();
    sorted.sort();
    assert_eq!(addresses, sorted);
    assert!(
        lines
            .iter()
            .all(|l| l.contains("TASK_RUNNING") && l.contains(".example.com")),
        "{}",
        list.stdout
    );

    let show = cli(&d, &["state", "show", "master[0]"]).await;
    show.ok();
    assert!(
        show.stdout.starts_with("address      master[0]\n"),
        "{}",
        show.stdout
    );
    assert!(
        show.stdout.contains("state        TASK_RUNNING"),
        "{}",
        show.stdout
    );
    let json = cli(&d, &["state", "show", "master[0]", "--json"]).await;
    json.ok();
    let records: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(records[0]["address"], "master[0]");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_piped_yes_is_refused_with_the_way_to_approve() {
    let sim = start_sim("fixtures/clusters/alluxio-ports.toml").await;
    let d = Deployment::new(&sim.url(), "", SITE);
    let toml = d.toml();
    let out = tokio::task::spawn_blocking(move || {
        let mut child = bin()
            .arg("-c")
            .arg(&toml)
            .arg("apply")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The pipe may be closed early by the refusal: ignore write errors.
        let _ = child.stdin.take().unwrap().write_all(b"yes\nyes\n");
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("use --auto-approve") && err.contains("not a terminal"),
        "{err}"
    );
    assert!(!d.state_file().exists(), "nothing was applied");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_against_a_master_older_than_mesos_1_refuses_naming_its_version() {
    let text = format!(
        "{}[master]\nversion = \"0.28.2\"\n",
        cluster_text(3, "100ms", false)
    );
    let sim = start_sim_from(&text).await;
    let d = Deployment::new(&sim.url(), "", SITE);
    let plan = cli(&d, &["plan"]).await;
    plan.ok();
    let r = cli(&d, &["apply", "--auto-approve"]).await;
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("runs Mesos 0.28.2")
            && r.stderr.contains("Mesos 1.0 or later")
            && r.stderr.contains("`plan`"),
        "{}",
        r.stderr
    );
    assert!(!d.state_file().exists(), "the state is unchanged");
    assert!(sim.transitions().is_empty(), "nothing was launched");
    sim.shutdown().await;
}
