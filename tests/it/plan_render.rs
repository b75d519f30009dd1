//! What reviewers read, at any cluster size: text, Markdown and the HTML
//! report of a small plan (whole snapshots) and of a plan for a generated
//! 10,000-agent, 100,000-task cluster (by size and the sections present),
//! and the HTML report opened in a real headless Chromium.
//!
//! The large document is `mesos-gen state --agents 10000 --tasks 100000`
//! (seed printed) with every third agent offering only Mesos's default
//! ports, as agents started without `--resources` for the Alluxio ports
//! do: those 3,334 agents cannot take a worker, all for one cause, which
//! the plan must group and give both remedies for.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const QUICKSTART: &str = "plans/quickstart/alluxio-mesos.toml";
const SEED: u64 = 1;
const AGENTS: usize = 10_000;
const TASKS: usize = 100_000;
/// What every third generated agent offers instead of Alluxio's ports.
const DEFAULT_PORTS: &str = "\"ports\":\"[31000-32000]\"";

/// Runs the CLI in the repository, which must succeed.
fn run(args: &[&str]) -> support::Cli {
    let r = support::run_in_repo(args);
    assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    r
}

fn small(format: &str) -> String {
    run(&[
        "plan",
        "-c",
        QUICKSTART,
        "--mesos-state",
        "fixtures/state/alluxio-ports.json",
        "--format",
        format,
    ])
    .stdout
}

/// The large plan file, made once per run of this test binary. It lives in
/// Cargo's directory for test files (a static is never dropped, so a
/// temporary directory would outlive the run); the 150 MB document is
/// removed once planned.
fn large() -> &'static PathBuf {
    static LARGE: OnceLock<PathBuf> = OnceLock::new();
    LARGE.get_or_init(|| {
        eprintln!("generating {AGENTS} agents, {TASKS} tasks, seed {SEED}");
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let mut doc = Vec::new();
        let ports = support::ALLUXIO_AGENT_PORTS;
        mesos_sim::gen::write_state(&mut doc, AGENTS, ports, TASKS, 40, None, SEED).unwrap();
        let doc = without_alluxio_ports_on_every_third_agent(&String::from_utf8(doc).unwrap());
        let state = dir.path().join("state.json");
        std::fs::write(&state, doc).unwrap();
        let planfile = dir.path().join("large.plan");
        run(&[
            "plan",
            "-c",
            QUICKSTART,
            "--mesos-state",
            state.to_str().unwrap(),
            "-o",
            planfile.to_str().unwrap(),
            "--format",
            "json",
        ]);
        std::fs::remove_file(&state).unwrap();
        let kept = Path::new(env!("CARGO_TARGET_TMPDIR")).join("plan-render-large.plan");
        std::fs::rename(&planfile, &kept).unwrap();
        kept
    })
}

/// Each agent lists its ports twice (resources, unreserved resources).
fn without_alluxio_ports_on_every_third_agent(doc: &str) -> String {
    let alluxio_ports = format!("\"ports\":\"{}\"", support::ALLUXIO_AGENT_PORTS);
    let mut out = String::with_capacity(doc.len());
    for (i, piece) in doc.split(&alluxio_ports).enumerate() {
        if i > 0 {
            let agent = (i - 1) / 2;
            out.push_str(if agent % 3 == 0 {
                DEFAULT_PORTS
            } else {
                &alluxio_ports
            });
        }
        out.push_str(piece);
    }
    assert_eq!(
        out.matches(DEFAULT_PORTS).count(),
        2 * AGENTS.div_ceil(3),
        "every third agent rewritten"
    );
    out
}

fn show(format: &str, extra: &[&str]) -> String {
    let planfile = large().to_str().unwrap();
    let mut args = vec!["show", planfile, "--format", format];
    args.extend_from_slice(extra);
    run(&args).stdout
}

fn large_json() -> serde_json::Value {
    serde_json::from_str(&show("json", &[])).unwrap()
}

/// The lines a reviewer scans: headings, group and failure lines.
fn outline(text: &str, keep: impl Fn(&str) -> bool) -> String {
    text.lines()
        .filter(|l| keep(l))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn small_plan_html_report() {
    insta::assert_snapshot!(small("html"));
}

#[test]
fn small_plans_are_shown_task_by_task_as_with_detail() {
    let text = small("text");
    assert!(
        text.contains("  + worker[\"mesos-agent-1.example.com\"]"),
        "{text}"
    );
    let detail = run(&[
        "plan",
        "-c",
        QUICKSTART,
        "--mesos-state",
        "fixtures/state/alluxio-ports.json",
        "--detail",
    ]);
    assert_eq!(detail.stdout, text);
}

#[test]
fn large_text_plan_is_short_and_grouped() {
    let text = show("text", &[]);
    let lines = text.lines().count();
    println!("text plan: {lines} lines, {} bytes", text.len());
    assert!(lines < 300, "{lines} lines");
    for must in [
        "workers will be launched (1 cpu, 2048MB (1024MB JVM + 1024MB ramdisk), ports 29998-30000, LOCAL /opt/alluxio)",
        "because:  the agent has no worker",
        "3,334 agent(s): ports 29998-30000 not offered",
        "start the Mesos agents with --resources='ports:[19998-19999,29998-30000]'",
        "or move the ports into the range the agents offer",
        "+alluxio.worker.memory.size=1GB",
        "Plan: ",
    ] {
        assert!(text.contains(must), "missing {must:?} in\n{text}");
    }
    insta::assert_snapshot!(outline(&text, |l| !l.starts_with("  ")
        || l.starts_with("  x ")
        || l.starts_with("  + ")
        || l.starts_with("  # ")));
}

#[test]
fn large_text_plan_with_detail_shows_every_task() {
    let json = large_json();
    let launches = json["summary"]["launch"].as_u64().unwrap() as usize;
    let text = show("text", &["--detail"]);
    assert_eq!(text.matches("will be launched\n").count(), launches);
}

#[test]
fn large_markdown_plan_fits_a_comment_and_keeps_failures_and_diff() {
    let md = show("markdown", &[]);
    println!("Markdown plan: {} characters", md.chars().count());
    assert!(md.chars().count() < 65_536, "{}", md.len());
    let order: Vec<usize> = [
        "**Plan: ",
        "#### Cannot be placed",
        "**3,334 agent(s)**: ports 29998-30000 not offered",
        "To fix:",
        "- start the Mesos agents with --resources=",
        "- or move the ports into the range the agents offer",
        "#### Site properties diff",
        "+alluxio.worker.memory.size=1GB",
        "Rollout: ",
        "#### Changes (",
        "<details><summary>Changes (",
        "> **Cut to stay within 65536 characters:**",
    ]
    .iter()
    .map(|s| md.find(s).unwrap_or_else(|| panic!("missing {s:?}")))
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    insta::assert_snapshot!(outline(&md, |l| l.starts_with('#')
        || l.starts_with("**")
        || l.starts_with("- **")
        || l.starts_with("> ")));
}

#[test]
fn markdown_limit_and_split_keep_every_task() {
    let json = large_json();
    let changes = json["summary"]["launch"].as_u64().unwrap() as usize;
    let small_limit = show("markdown", &["--markdown-limit", "20000"]);
    assert!(small_limit.chars().count() <= 20_000);
    assert!(small_limit.contains("not offered") && small_limit.contains("+alluxio.home="));
    // With --detail every rejected agent is listed, and cut before the diff.
    let detail = show("markdown", &["--detail"]);
    assert!(detail.chars().count() < 65_536);
    assert!(detail.contains("+alluxio.home=") && detail.contains("- or move the ports"));
    assert!(detail.contains("rejected-agent rows"), "the cut is named");

    let dir = tempfile::tempdir().unwrap();
    let listed = show(
        "markdown",
        &["--markdown-split", dir.path().to_str().unwrap()],
    );
    let comments: Vec<String> = listed
        .lines()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(comments.len() > 1, "{listed}");
    let n = comments.len();
    for (i, c) in comments.iter().enumerate() {
        assert!(
            c.chars().count() <= 65_536,
            "comment {} is {}",
            i + 1,
            c.len()
        );
        assert!(
            c.starts_with(&format!(
                "### alluxio-mesos plan for `alluxio-quickstart` (comment {} of {n})",
                i + 1
            )),
            "{}",
            &c[..100]
        );
        assert!(!c.contains("Cut to stay within"));
    }
    let rows: usize = comments
        .iter()
        .map(|c| c.matches("\n| `+` | `").count())
        .sum();
    assert_eq!(rows, changes, "every task is in some comment");
}

fn chromium() -> PathBuf {
    let found = std::env::var_os("CHROMIUM").map(PathBuf::from).or_else(|| {
        ["chromium", "chromium-browser"].iter().find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|d| d.join(name))
                    .find(|p| p.is_file())
            })
        })
    });
    found.unwrap_or_else(|| {
        panic!(
            "Chromium is missing: this test opens the HTML report in it. Install Debian's package \
             (`apt-get install -y --no-install-recommends chromium`; scripts/test does) or set CHROMIUM"
        )
    })
}

/// Runs headless Chromium on `page` with `args`; kills it by PID if it has
/// not finished within a generous bound. Returns stdout and the wall time.
fn run_chromium(profile: &Path, page: &Path, args: &[&str]) -> (String, Duration) {
    const BOUND: Duration = Duration::from_secs(180);
    let out_file = profile.join(format!("stdout-{}.txt", args.len()));
    let start = Instant::now();
    let mut child = std::process::Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
        ])
        .arg(format!(
            "--user-data-dir={}",
            profile.join("profile").display()
        ))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdout(std::fs::File::create(&out_file).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium {args:?} exited with {status}");
            break;
        }
        if start.elapsed() > BOUND {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "chromium {args:?} did not finish within {BOUND:?}; killed (pid {})",
                child.id()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (std::fs::read_to_string(&out_file).unwrap(), start.elapsed())
}

/// `id="NAME" data-count="N"` (or the attribute on the element `id` names).
fn attr(dom: &str, id: &str, name: &str) -> u64 {
    let at = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in the DOM"));
    let tag_end = at + dom[at..].find('>').unwrap();
    let tag_start = dom[..at].rfind('<').unwrap();
    let tag = &dom[tag_start..tag_end];
    let key = format!("{name}=\"");
    let v = tag
        .find(&key)
        .map(|i| &tag[i + key.len()..])
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no {name} on #{id}: {tag}"));
    v.parse()
        .unwrap_or_else(|_| panic!("#{id} {name}={v:?}: the page's script did not write it"))
}

#[test]
fn large_html_report_shows_the_json_counts_in_chromium() {
    let json = large_json();
    let html = show("html", &[]);
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("plan.html");
    std::fs::write(&page, &html).unwrap();
    println!("HTML report: {} bytes", html.len());
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "self-contained"
    );

    let (dom, took) = run_chromium(dir.path(), &page, &["--dump-dom"]);
    assert!(
        dom.contains("data-rendered=\"done\""),
        "the script ran to its end"
    );
    let s = &json["summary"];
    let no_ops = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == "no-op")
        .count() as u64;
    for (id, want) in [
        ("count-launch", s["launch"].as_u64().unwrap()),
        ("count-replace", s["replace"].as_u64().unwrap()),
        ("count-kill", s["kill"].as_u64().unwrap()),
        ("count-unplaceable", s["unplaceable"].as_u64().unwrap()),
        ("count-no-op", no_ops),
    ] {
        assert_eq!(attr(&dom, id, "data-count"), want, "{id}");
    }
    // Every agent the plan speaks of is a cell.
    let mut agents: Vec<&str> = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["agent"]["hostname"].as_str().unwrap())
        .chain(
            json["placement_failures"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|f| {
                    f["agents"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|a| a["hostname"].as_str().unwrap())
                }),
        )
        .collect();
    agents.sort_unstable();
    agents.dedup();
    assert_eq!(attr(&dom, "grid", "data-cells"), agents.len() as u64);
    assert_eq!(agents.len(), AGENTS);
    let render_ms = dom
        .split("id=\"render-ms\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap_or("?");
    println!("Chromium --dump-dom: {took:?} in all; the page's script took {render_ms} ms");

    let shot = dir.path().join("plan.png");
    let shot_arg = format!("--screenshot={}", shot.display());
    let (_, took) = run_chromium(
        dir.path(),
        &page,
        &[&shot_arg, "--window-size=1280,2000", "--hide-scrollbars"],
    );
    let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    assert!(size > 10_000, "a screenshot was saved ({size} bytes)");
    println!("screenshot {} ({size} bytes) in {took:?}", shot.display());
}

#[test]
fn large_html_report_snapshot_of_its_sections() {
    let html = show("html", &[]);
    assert!(html.len() < 2_000_000, "{} bytes", html.len());
    insta::assert_snapshot!(outline(&html, |l| l.starts_with("<h")
        || l.starts_with("<li>")
        || l.starts_with("<tr>")));
}
