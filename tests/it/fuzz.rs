//! Fuzzing of every parser of outside input, in stable Rust, seeded, with
//! a bounded number of cases so that it runs in CI.
//!
//! Each harness mutates real inputs (the fixtures, and files the CLI
//! writes) with [`Mutator`] and feeds the parser: whatever the bytes, the
//! parser returns (a value or an error that names the problem) and never
//! panics, hangs or allocates without bound. Structured generators cover
//! the deployment loader, where random bytes would rarely get past TOML.
//!
//! `FUZZ_SEED=N` and `FUZZ_CASES=N` run other or more cases (the seed is
//! printed); a finding becomes a regression test beside its parser.
//! proptest's seed is fixed in `.cargo/config.toml` (PROPTEST_RNG_SEED).

use crate::support;

use alluxio_mesos::desired::settings::known_properties;
use alluxio_mesos::desired::{load_with_env, DesiredError};
use proptest::prelude::*;

/// The keys alluxio-mesos reads, and one it does not (a did-you-mean case).
fn property_key() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        4 => proptest::sample::select(known_properties()),
        1 => Just("alluxio.integration.mesos.typo"),
    ]
}

const VALUES: &[&str] = &[
    "LOCAL",
    "/opt/alluxio",
    "1",
    "0",
    "3",
    "-1",
    "1.5",
    "70000",
    "31000",
    "29999",
    "4GB",
    "0.5GB",
    "lots",
    "true",
    "false",
    "",
    "zk:2181",
    "https://x/a.tgz",
    "\\u00zz",
    "é",
];

const TOML_LINES: &[&str] = &[
    "[mesos]\nmaster = \"local\"",
    "[mesos]\nmaster = \"mesos:5050\"\nuser = \"u\"",
    "[mesos]\nfailover_timeout = \"0s\"",
    "[mesos]\nsecret_file = \"missing\"",
    "[master]\ncount = 2",
    "[master]\ncount = 0\ncpus = 2",
    "[master]\nmem = 1024\nhostname = \"h\"",
    "[master]\nconstraints = \"rack:r1 & (\"",
    "[worker]\ncount = \"some\"",
    "[worker]\ncount = 3\nramdisk = \"2GB\"\nmax_unavailable = 0",
    "[worker]\nrpc_port = 19998",
    "[alluxio]\njar_url = \"LOCAL\"\nhome = \"/a\"",
    "[alluxio]\nsite_properties = \"nope.properties\"",
    "[alluxio]\nmystery = 1",
    "name = 7",
    "= broken",
];

fn render(e: &DesiredError) -> String {
    let mut out = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .render_report(&mut out, e)
        .expect("renders");
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn loading_never_panics_and_every_problem_says_how_to_fix_it(
        props in proptest::collection::vec(
            (property_key(), proptest::sample::select(VALUES)),
            0..8,
        ),
        toml in proptest::collection::vec(proptest::sample::select(TOML_LINES), 0..4),
        has_name in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut text = if has_name { "name = \"f\"\n".to_string() } else { String::new() };
        // Each table at most once: TOML forbids redefining one.
        let mut seen = std::collections::HashSet::new();
        for t in toml {
            if seen.insert(t.split('\n').next().unwrap()) || !t.starts_with('[') {
                text.push_str(t);
                text.push('\n');
            }
        }
        let props: String = props.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        let path = dir.path().join("alluxio-mesos.toml");
        std::fs::write(&path, &text).unwrap();
        std::fs::write(dir.path().join("alluxio-site.properties"), &props).unwrap();
        match load_with_env(&path, &|_| None) {
            Ok(loaded) => {
                prop_assert!(loaded.desired.master.count >= 1);
                prop_assert!(loaded.desired.worker.max_unavailable >= 1);
            }
            Err(e) => {
                prop_assert!(!e.problems().is_empty());
                for p in e.problems() {
                    prop_assert!(p.is_error());
                    prop_assert!(!p.message().is_empty());
                    prop_assert!(p.help_text().is_some_and(|h| !h.is_empty()), "no help: {}", p.message());
                    for l in p.locations() {
                        prop_assert!(l.line >= 1 && l.column >= 1);
                    }
                }
                render(&e);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Mutation fuzzing of the parsers of files and of what Mesos sends.

use alluxio_mesos::desired::constraint::parse_constraint;
use alluxio_mesos::desired::properties;
use alluxio_mesos::desired::size::ByteSize;
use alluxio_mesos::live::{parse_state, FrameworkSelector};
use alluxio_mesos::plan_file::PlanFile;
use alluxio_mesos::render::{render as render_plan, Format};
use mesos_api::recordio::{self, Decoder};
use mesos_api::scheduler::Event;
use mesos_api::PortRanges;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::{cli, cluster_text, repo_path, start_sim_from, Deployment, SITE};

/// The seed of every mutation harness: `FUZZ_SEED`, or a fixed one.
fn fuzz_seed() -> u64 {
    std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_129)
}

/// Cases per harness: `FUZZ_CASES`, or what CI affords.
fn fuzz_cases(ci: usize) -> usize {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(ci)
}

/// Pieces that make parsers take their rarer paths.
const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b",",
    b":",
    b"\\",
    b"\n",
    b"\r\n",
    b"=",
    b"#",
    b" ",
    b"0",
    b"-1",
    b"1e999",
    b"18446744073709551616",
    b"-0.0",
    b"null",
    b"true",
    b"\"\"",
    b"{}",
    b"[]",
    "\u{e9}".as_bytes(),
    b"\xff\xfe",
    b"\\u0000",
    b"\\ud800",
    b"(",
    b")",
    b"&",
    b"|",
    b"!",
    b"[[[[[[[[[[[[[[[[",
    b"GB",
    b"TASK_RUNNING",
    b"pending",
    b"31000-32000",
    b"\t",
    b"\0",
];

/// A seeded mutator of byte strings: a few random edits per case.
struct Mutator {
    rng: StdRng,
}

impl Mutator {
    fn new(seed: u64) -> Self {
        Mutator {
            rng: StdRng::seed_from_u64(seed),
        }
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.gen_range(0..items.len())]
    }

    fn mutate(&mut self, input: &[u8]) -> Vec<u8> {
        let mut out = input.to_vec();
        for _ in 0..self.rng.gen_range(1..=4) {
            let len = out.len();
            let at = self.rng.gen_range(0..=len);
            match self.rng.gen_range(0..7) {
                0 if len > 0 => {
                    let i = at.min(len - 1);
                    out[i] ^= 1 << self.rng.gen_range(0..8);
                }
                1 => {
                    let t = *self.pick(TOKENS);
                    out.splice(at..at, t.iter().copied());
                }
                2 if len > 0 => {
                    let end = (at + self.rng.gen_range(1..64)).min(len);
                    out.drain(at.min(end)..end);
                }
                3 if len > 0 => {
                    let start = self.rng.gen_range(0..len);
                    let end = (start + self.rng.gen_range(1..256)).min(len);
                    let piece = out[start..end].to_vec();
                    out.splice(at..at, piece);
                }
                4 => out.truncate(at),
                5 if len > 0 => {
                    let end = (at + self.rng.gen_range(1..16)).min(len);
                    let t = *self.pick(TOKENS);
                    out.splice(at.min(end)..end, t.iter().copied());
                }
                _ => {
                    let b = self.rng.gen::<u8>();
                    out.insert(at, b);
                }
            }
        }
        out
    }
}

/// Runs `case` for `cases` mutations of the seeds on a thread, and fails
/// (naming the case) when one panics or the whole run takes more than ten
/// minutes: a parser that hangs is a finding too.
fn fuzz(name: &str, seeds: Vec<Vec<u8>>, cases: usize, case: impl Fn(&[u8]) + Send + 'static) {
    let seed = fuzz_seed();
    println!("fuzz {name}: seed {seed}, {cases} cases (FUZZ_SEED, FUZZ_CASES)");
    assert!(!seeds.is_empty(), "{name}: no seed inputs");
    let done = Arc::new(AtomicUsize::new(0));
    let progress = done.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut m = Mutator::new(seed);
        for s in &seeds {
            case(s);
        }
        for _ in 0..cases {
            let input = {
                let s = m.pick(&seeds).clone();
                m.mutate(&s)
            };
            case(&input);
            progress.fetch_add(1, Ordering::Relaxed);
        }
        let _ = tx.send(());
    });
    match rx.recv_timeout(Duration::from_secs(600)) {
        Ok(()) => {}
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => panic!(
            "fuzz {name}: case {} panicked (seed {seed}); rerun with FUZZ_SEED={seed} FUZZ_CASES={}",
            done.load(Ordering::Relaxed),
            done.load(Ordering::Relaxed) + 1
        ),
        Err(_) => panic!(
            "fuzz {name}: no end after 600s at case {} (seed {seed}): a parser hangs",
            done.load(Ordering::Relaxed)
        ),
    }
}

fn fixture_files(dir: &str, ext: &str) -> Vec<Vec<u8>> {
    let mut files: Vec<_> = std::fs::read_dir(repo_path(dir))
        .expect("fixtures")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn fuzz_the_properties_parser() {
    let seeds = vec![
        std::fs::read(repo_path(
            "fixtures/deployments/alluxio/alluxio-site.properties",
        ))
        .unwrap(),
        SITE.as_bytes().to_vec(),
        b"a=b\\\n  c\nkey\\ with\\:colon = v\\u00e9\n! comment\n".to_vec(),
    ];
    fuzz("properties", seeds, fuzz_cases(3000), |input| {
        let t = text(input);
        if let Err(e) = properties::parse(&t) {
            assert!(!e.message.is_empty());
            assert!(e.offset <= t.len(), "{} past the end", e.offset);
        }
        properties::mask_secret_lines(&t, &Default::default());
    });
}

#[test]
fn fuzz_the_size_port_and_constraint_parsers() {
    let seeds: Vec<Vec<u8>> = [
        "4GB",
        "0.5GB",
        "1024MB",
        "512",
        "[31000-32000, 29998-30000]",
        "[19998-19999]",
        "rack:r1 & !(zone:z2 | host:h-1)",
        "!(a:b)",
        "gpu:1.5 | (x:y & !z:w)",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    fuzz("size/ports/constraint", seeds, fuzz_cases(5000), |input| {
        let t = text(input);
        if let Err(e) = t.parse::<ByteSize>() {
            assert!(e.to_string().len() < 400, "{e}");
        }
        let _ = t.parse::<PortRanges>();
        if let Err(e) = parse_constraint(&t) {
            assert!(!e.to_string().is_empty());
        }
    });
}

#[test]
fn fuzz_the_deployment_file_loader() {
    let dir = repo_path("fixtures/deployments/alluxio");
    let toml = std::fs::read(dir.join("alluxio-mesos.toml")).unwrap();
    let site = std::fs::read(dir.join("alluxio-site.properties")).unwrap();
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("alluxio-site.properties"), &site).unwrap();
    let path = work.path().join("alluxio-mesos.toml");
    fuzz(
        "deployment file",
        vec![toml],
        fuzz_cases(600),
        move |input| {
            std::fs::write(&path, input).unwrap();
            if let Err(e) = load_with_env(&path, &|_| None) {
                for p in e.problems() {
                    assert!(!p.message().is_empty());
                    assert!(
                        p.help_text().is_some_and(|h| !h.is_empty()),
                        "{}",
                        p.message()
                    );
                }
                render(&e);
            }
        },
    );
}

#[test]
fn fuzz_the_mesos_state_reader() {
    fuzz(
        "Mesos state",
        fixture_files("fixtures/state", "json"),
        fuzz_cases(1500),
        |input| {
            let selector = FrameworkSelector {
                id: None,
                name: "alluxio".into(),
                role: "*".into(),
                predecessor: None,
            };
            if let Err(e) = parse_state(input, &selector, "state.json") {
                let m = e.to_string();
                assert!(!m.is_empty() && m.len() < 2000, "{m}");
            }
        },
    );
}

/// Event records as Mesos frames them, from every event kind we read.
fn event_stream() -> Vec<u8> {
    let events = [
        r#"{"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"f-1"},"heartbeat_interval_seconds":15.0}}"#,
        r#"{"type":"HEARTBEAT"}"#,
        r#"{"type":"OFFERS","offers":{"offers":[{"id":{"value":"o1"},"framework_id":{"value":"f-1"},"agent_id":{"value":"a1"},"hostname":"h1","resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":4.0}},{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":32000}]}}]}]}}"#,
        r#"{"type":"UPDATE","update":{"status":{"task_id":{"value":"t1"},"state":"TASK_RUNNING","agent_id":{"value":"a1"},"uuid":"AAECAwQFBgcICQoLDA0ODw==","source":"SOURCE_EXECUTOR"}}}"#,
        r#"{"type":"RESCIND","rescind":{"offer_id":{"value":"o1"}}}"#,
        r#"{"type":"FAILURE","failure":{"agent_id":{"value":"a1"}}}"#,
        r#"{"type":"ERROR","error":{"message":"Framework has been removed"}}"#,
    ];
    events
        .iter()
        .flat_map(|e| recordio::encode(e.as_bytes()))
        .collect()
}

#[test]
fn fuzz_the_recordio_decoder_and_event_parser() {
    fuzz(
        "RecordIO events",
        vec![event_stream()],
        fuzz_cases(3000),
        |input| {
            // Chunk boundaries fall anywhere, as the network cuts them.
            let mut d = Decoder::with_limit(1 << 20);
            let step = 1 + input.len() % 7;
            for chunk in input.chunks(step) {
                match d.feed(chunk) {
                    Ok(records) => {
                        for r in records {
                            let _ = serde_json::from_slice::<Event>(&r);
                        }
                    }
                    Err(e) => {
                        assert!(!e.to_string().is_empty());
                        return;
                    }
                }
            }
            let _ = d.finish();
        },
    );
}

/// A plan file's body mutated as JSON, sealed with a valid checksum so that
/// the typed reading (not just the checksum) is what gets fuzzed; what
/// reads is rendered in every format.
#[test]
fn fuzz_the_plan_and_state_file_readers() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (plan_bytes, state_bytes, d, sim) = rt.block_on(async {
        let sim = start_sim_from(&cluster_text(3, "50ms", false)).await;
        let d = Deployment::new(&sim.url(), "", SITE);
        let plan = d.dir.path().join("plan.json");
        cli(&d, &["plan", "-o", plan.to_str().unwrap()]).await.ok();
        cli(&d, &["apply", "--auto-approve", "--settle-time", "0s"])
            .await
            .ok();
        (
            std::fs::read(&plan).unwrap(),
            std::fs::read(d.state_file()).unwrap(),
            d,
            sim,
        )
    });

    fuzz("plan file", vec![plan_bytes], fuzz_cases(400), |input| {
        let path = Path::new("plan.json");
        let sealed = reseal(input).unwrap_or_else(|| input.to_vec());
        if let Ok(pf) = PlanFile::from_bytes(path, &sealed) {
            let opts = alluxio_mesos::render::Options::default();
            for f in [Format::Text, Format::Markdown, Format::Json, Format::Html] {
                render_plan(&pf.plan, f, &opts);
            }
        }
    });

    fuzz(
        "state file",
        vec![state_bytes.clone()],
        fuzz_cases(1500),
        |input| {
            if let Err(e) = alluxio_mesos::state::parse(Path::new("state.json"), input) {
                assert!(e.to_string().contains("state.json"), "{e}");
                assert!(e.to_string().len() < 2000, "{e}");
            }
        },
    );

    // Through the binary: a command that fails on a broken state file
    // leaves it byte for byte as it was.
    let mut m = Mutator::new(fuzz_seed());
    let mut refused = 0;
    for _ in 0..12 {
        let broken = m.mutate(&state_bytes);
        std::fs::write(d.state_file(), &broken).unwrap();
        let r = rt.block_on(cli(&d, &["plan"]));
        if r.code == 1 {
            refused += 1;
            assert!(r.stderr.contains("state"), "{}", r.stderr);
        }
        assert_eq!(
            std::fs::read(d.state_file()).unwrap(),
            broken,
            "{}",
            r.stderr
        );
    }
    println!("{refused} broken state files refused by plan");
    rt.block_on(sim.shutdown());
}

/// Mutations of a plan file's JSON keep the envelope, re-checksummed.
fn reseal(input: &[u8]) -> Option<Vec<u8>> {
    let v: serde_json::Value = serde_json::from_slice(input).ok()?;
    let body = v.get("body")?.clone();
    let canonical = serde_json::to_string(&body).ok()?;
    let sum = format!(
        "sha256:{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    serde_json::to_vec(&serde_json::json!({ "checksum": sum, "body": body })).ok()
}
