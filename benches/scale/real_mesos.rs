//! Target 8: apply timed on real Apache Mesos (the harness beside the
//! repository, `../shared/real-mesos`): one master and 20 workers on 20
//! agents in processes of their own, each with a hostname of its own, the
//! default launch of the stand-in Alluxio installed LOCAL, default flags;
//! then every worker replaced, `max_unavailable = 5` at a time.
//!
//! Each ideal is built from what the same run measured on that cluster:
//! the master's allocation interval (its flags), how long a task took from
//! its ACCEPT to TASK_RUNNING and from the settle time's end to Alluxio
//! saying it serves (median over the tasks, from the apply's own progress
//! lines), how long a kill took (`killing task` to its end), and the
//! default settle time. A phase is allocation + start + settle + serving;
//! a fresh apply has two (the master, then the workers), a replacement
//! one per wave plus the wave's kill.

use super::cluster::{real_mesos_dir, ClusterDesc, RealMesos};
use super::stand_in::StandIn;
use super::{Report, BIN};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const VERSION: &str = "1.11.0";
const AGENTS: usize = 20;
const MAX_UNAVAILABLE: usize = 5;
/// `apply --settle-time`'s default.
const SETTLE: Duration = Duration::from_secs(3);

/// What the emulator's targets 4 and 6 measured, for the side-by-side line.
pub struct Emulated {
    pub fresh_ratio: f64,
    pub replace_ratio: f64,
}

/// One apply: its wall time, exit status, and each progress line with
/// when it came.
struct TimedApply {
    wall: Duration,
    ok: bool,
    stdout: String,
    lines: Vec<(Duration, String)>,
}

fn timed_apply(toml: &Path) -> TimedApply {
    let start = Instant::now();
    let mut child = Command::new(BIN)
        .args(["--no-color", "apply", "--auto-approve", "-c"])
        .arg(toml)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start alluxio-mesos apply");
    let stderr = child.stderr.take().expect("piped");
    let reader = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .map(|l| (start.elapsed(), l))
            .collect::<Vec<_>>()
    });
    let mut stdout = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().expect("piped"), &mut stdout).ok();
    let status = child.wait().expect("wait for apply");
    let wall = start.elapsed();
    TimedApply {
        wall,
        ok: status.success(),
        stdout,
        lines: reader.join().expect("stderr reader"),
    }
}

/// Per address, when each kind of progress line first came.
#[derive(Default)]
struct Marks {
    killing: Option<Duration>,
    killed: Option<Duration>,
    launching: Option<Duration>,
    running: Option<Duration>,
    waiting: Option<Duration>,
    serving: Option<Duration>,
}

fn marks(lines: &[(Duration, String)]) -> BTreeMap<String, Marks> {
    let mut out: BTreeMap<String, Marks> = BTreeMap::new();
    for (at, line) in lines {
        let Some((address, what)) = line.split_once(": ") else {
            continue;
        };
        if !(address.starts_with("master[") || address.starts_with("worker[")) {
            continue;
        }
        let m = out.entry(address.to_string()).or_default();
        let slot = if what.starts_with("killing task ") {
            &mut m.killing
        } else if what.starts_with("task ") && what.contains(" is TASK_") {
            // The old task's end: `task ID is TASK_KILLED`.
            &mut m.killed
        } else if what.starts_with("launching task ") {
            &mut m.launching
        } else if what.starts_with("TASK_RUNNING") {
            &mut m.running
        } else if what.contains("waiting for Alluxio to say it serves") {
            &mut m.waiting
        } else if m.waiting.is_some() {
            // The line after the wait is Alluxio's answer.
            &mut m.serving
        } else {
            continue;
        };
        slot.get_or_insert(*at);
    }
    out
}

/// The median of `to - from` over the addresses of `role` that have both.
fn median(
    marks: &BTreeMap<String, Marks>,
    role: &str,
    from: fn(&Marks) -> Option<Duration>,
    to: fn(&Marks) -> Option<Duration>,
) -> Duration {
    let mut d: Vec<Duration> = marks
        .iter()
        .filter(|(a, _)| a.starts_with(role))
        .filter_map(|(_, m)| Some(to(m)?.saturating_sub(from(m)?)))
        .collect();
    d.sort();
    d.get(d.len() / 2).copied().unwrap_or_default()
}

fn secs(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64())
}

/// The master's allocation interval, from its flags (`1secs`, `500ms`).
fn allocation_interval(url: &str) -> Duration {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let flags: serde_json::Value = rt
        .block_on(async {
            reqwest::get(format!("{url}/master/flags"))
                .await?
                .json()
                .await
        })
        .expect("the master's flags");
    let text = flags["flags"]["allocation_interval"]
        .as_str()
        .expect("allocation_interval among the flags")
        .to_string();
    let (number, unit) = text.split_at(text.find(|c: char| c.is_alphabetic()).unwrap_or(0));
    let n: f64 = number.parse().expect("a number of the interval");
    match unit {
        "ms" => Duration::from_secs_f64(n / 1000.0),
        "secs" => Duration::from_secs_f64(n),
        "mins" => Duration::from_secs_f64(n * 60.0),
        other => panic!("allocation_interval {text}: unit {other} not understood"),
    }
}

/// Builds the stand-in Alluxio the default launch runs (it lives in the
/// workspace, not among this bench's dependencies).
fn build_stand_in() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "--release", "--quiet", "-p", "alluxio-stand-in"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo build -p alluxio-stand-in");
    assert!(
        out.status.success(),
        "cannot build the stand-in Alluxio: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn run(report: &mut Report, emulated: &Emulated) {
    let harness = real_mesos_dir();
    if !harness.join("start").exists() {
        report.line(format!(
            "target 8  not measured: no real-Mesos harness at {} (set REAL_MESOS_DIR)",
            harness.display()
        ));
        return;
    }
    build_stand_in();
    let stand_in = StandIn::install();
    let mut cluster = RealMesos::start(VERSION, &ClusterDesc::on_loopback(AGENTS));
    let alloc = allocation_interval(&cluster.url);
    let dir = tempfile::tempdir().expect("temp dir");
    let toml = dir.path().join("alluxio-mesos.toml");
    std::fs::write(
        &toml,
        format!(
            "name = \"alluxio\"\n[mesos]\nmaster = \"{}\"\n[alluxio]\njar_url = \"LOCAL\"\nhome = \"{}\"\n[worker]\nmax_unavailable = {MAX_UNAVAILABLE}\n",
            cluster.url,
            stand_in.home().display()
        ),
    )
    .unwrap();
    let site = dir.path().join("alluxio-site.properties");
    std::fs::write(&site, "alluxio.underfs.address=/tmp/underfs\n").unwrap();

    let fresh = timed_apply(&toml);
    let launched = format!("Apply complete: {} launched", AGENTS + 1);
    let fresh_ok = fresh.ok && fresh.stdout.contains(&launched);
    let m = marks(&fresh.lines);
    let start = |role| median(&m, role, |m| m.launching, |m| m.running);
    let serve = |role| median(&m, role, |m| m.waiting, |m| m.serving);
    let (start_m, serve_m, start_w, serve_w) = (
        start("master"),
        serve("master"),
        start("worker"),
        serve("worker"),
    );
    let ideal = (alloc + start_m + SETTLE + serve_m) + (alloc + start_w + SETTLE + serve_w);
    let ratio = fresh.wall.as_secs_f64() / ideal.as_secs_f64();

    // Every worker replaced: a worker-only site property.
    std::fs::write(
        &site,
        "alluxio.underfs.address=/tmp/underfs\nalluxio.worker.tieredstore.levels=1\n",
    )
    .unwrap();
    let replace = timed_apply(&toml);
    let replaced = format!("0 launched, {AGENTS} replaced");
    let replace_ok = replace.ok && replace.stdout.contains(&replaced);
    let r = marks(&replace.lines);
    let kill = median(&r, "worker", |m| m.killing, |m| m.killed);
    let start_r = median(&r, "worker", |m| m.launching, |m| m.running);
    let serve_r = median(&r, "worker", |m| m.waiting, |m| m.serving);
    let waves = AGENTS.div_ceil(MAX_UNAVAILABLE) as u32;
    let replace_ideal = (kill + alloc + start_r + SETTLE + serve_r) * waves;
    let replace_ratio = replace.wall.as_secs_f64() / replace_ideal.as_secs_f64();
    cluster.stop();

    let verdict = report.check(
        "8",
        fresh_ok && replace_ok && ratio <= 1.5 && replace_ratio <= 1.3,
    );
    report.line(format!(
        "target 8  real Mesos {VERSION}, {AGENTS} agents: apply 1 master + {AGENTS} workers, default flags {:>6.2} s   ideal {:.2} s (allocation {} + start {} + settle {} + serving {} for the master, then allocation + start {} + settle + serving {} for the workers)   ratio {ratio:.2} (limit 1.50; emulator {:.2}){}",
        fresh.wall.as_secs_f64(),
        ideal.as_secs_f64(),
        secs(alloc),
        secs(start_m),
        secs(SETTLE),
        secs(serve_m),
        secs(start_w),
        secs(serve_w),
        emulated.fresh_ratio,
        if fresh_ok { "" } else { "  (apply FAILED)" }
    ));
    report.line(format!(
        "          replace {AGENTS} workers, max_unavailable {MAX_UNAVAILABLE}, default flags {:>6.2} s   ideal {:.2} s ({waves} waves x (kill {} + allocation {} + start {} + settle {} + serving {}))   ratio {replace_ratio:.2} (limit 1.30; emulator {:.2}){}  {verdict}",
        replace.wall.as_secs_f64(),
        replace_ideal.as_secs_f64(),
        secs(kill),
        secs(alloc),
        secs(start_r),
        secs(SETTLE),
        secs(serve_r),
        emulated.replace_ratio,
        if replace_ok { "" } else { "  (apply FAILED)" }
    ));
    if !(fresh_ok && replace_ok) {
        for (label, run) in [("fresh", &fresh), ("replacement", &replace)] {
            let tail: Vec<&str> = run
                .lines
                .iter()
                .rev()
                .take(15)
                .map(|(_, l)| l.as_str())
                .collect();
            eprintln!(
                "{label} apply's last lines:\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
    }
}
