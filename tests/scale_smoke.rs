//! Fast checks of what the scale benchmark relies on (benches/scale.rs runs
//! the real sizes): the generator is deterministic and its documents read
//! back, and reading a state document holds only what the plan needs,
//! whatever the document's size.

#[path = "it/support/alluxio_workload.rs"]
mod alluxio_workload;

use alluxio_mesos::live::{parse_state, read_state, FrameworkSelector, LiveError};
use alluxio_workload::{alluxio_workload, ALLUXIO_AGENT_PORTS};
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts live heap bytes and their peak, to prove the reader streams.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Tests here run one at a time, so that the heap figures are this test's.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn ours() -> FrameworkSelector {
    let alluxio = alluxio_workload(0);
    FrameworkSelector {
        id: None,
        name: alluxio.framework,
        role: alluxio.role,
        predecessor: None,
    }
}

fn generate(agents: usize, tasks: usize, workers: usize, seed: u64) -> Vec<u8> {
    let alluxio = alluxio_workload(workers);
    let mut out = Vec::new();
    mesos_sim::gen::write_state(
        &mut out,
        agents,
        ALLUXIO_AGENT_PORTS,
        tasks,
        7,
        Some(&alluxio),
        seed,
    )
    .unwrap();
    out
}

#[test]
fn generated_documents_are_deterministic_and_read_back() {
    let _one = serial();
    let a = generate(50, 500, 3, 42);
    assert_eq!(a, generate(50, 500, 3, 42), "same seed, same bytes");
    assert_ne!(
        a,
        generate(50, 500, 3, 43),
        "another seed, another document"
    );
    let live = parse_state(&a, &ours(), "generated").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(live.agents.len(), 50);
    let f = live.framework.expect("our framework is in the document");
    assert_eq!(f.tasks.len(), 3);
    assert!(f.tasks.iter().all(|t| t.name == "AlluxioWorker"));
    // Other frameworks' tasks take resources: some agent has less free cpu.
    assert!(live.agents.iter().any(|a| a.free.cpus < a.total.cpus));
}

#[test]
fn generated_cluster_files_load_in_the_emulator() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cluster.toml");
    let mut text = Vec::new();
    mesos_sim::gen::write_cluster(&mut text, 20, ALLUXIO_AGENT_PORTS, 1, "1s", "250ms").unwrap();
    std::fs::write(&path, &text).unwrap();
    let spec = mesos_sim::ClusterSpec::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(spec.agents.len(), 20);
    assert_eq!(spec.timing.allocation_interval.as_millis(), 1000);
    assert_eq!(spec.timing.task_start_delay.as_millis(), 250);
}

/// A state document made on the fly: a few agents, `n` tasks of another
/// framework, then ours. It never exists in memory as a whole.
struct Endless {
    part: usize,
    n: usize,
    pending: Vec<u8>,
    at: usize,
}

impl Endless {
    fn next_part(&mut self) -> Option<Vec<u8>> {
        let p = self.part;
        self.part += 1;
        Some(match p {
            0 => br#"{"pid":"master@10.0.0.5:5050","leader":"master@10.0.0.5:5050","slaves":[{"id":"S0","hostname":"h0","resources":{"cpus":8,"mem":4096,"ports":"[31000-32000]"}}],"frameworks":[{"id":"F2","name":"other","tasks":["#.to_vec(),
            i if i <= self.n => {
                let sep = if i > 1 { "," } else { "" };
                format!(
                    r#"{sep}{{"id":"other-{i}","name":"x","slave_id":"S0","state":"TASK_RUNNING","resources":{{"cpus":0.1,"mem":32}},"statuses":[{{"state":"TASK_RUNNING","timestamp":1.5}}],"labels":[{{"key":"k","value":"a long enough label value to make the task about four hundred bytes of text, as real ones are, {i}"}}]}}"#
                )
                .into_bytes()
            }
            i if i == self.n + 1 => br#"]},{"id":"F1","name":"alluxio","tasks":[{"id":"t1","slave_id":"S0","state":"TASK_RUNNING"}]}]}"#.to_vec(),
            _ => return None,
        })
    }
}

impl Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.pending.len() {
            match self.next_part() {
                Some(p) => {
                    self.pending = p;
                    self.at = 0;
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.pending.len() - self.at);
        buf[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[test]
fn reading_a_big_document_holds_only_agents_and_our_tasks() {
    let _one = serial();
    let n = 40_000; // about 13 MB of other frameworks' tasks
    let src = Endless {
        part: 0,
        n,
        pending: Vec::new(),
        at: 0,
    };
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let io_error = |e: std::io::Error| LiveError::ReadFile {
        path: "endless".into(),
        cause: e.to_string(),
    };
    let live = read_state(src, &ours(), "endless", &io_error).unwrap_or_else(|e| panic!("{e}"));
    let peak = PEAK.load(Ordering::Relaxed) - before;
    assert_eq!(live.framework.unwrap().tasks.len(), 1);
    assert_eq!(live.agents.len(), 1);
    // The scanner's buffer and a few small values: far below the document.
    assert!(
        peak < 2 * 1024 * 1024,
        "peak heap {peak} bytes while reading a {} MB document",
        n * 330 / 1_000_000
    );
}

#[test]
fn production_shaped_documents_read_back() {
    let _one = serial();
    let alluxio = alluxio_workload(3);
    let mut doc = Vec::new();
    mesos_sim::gen::write_state_shaped(
        &mut doc,
        mesos_sim::gen::Shape::Production,
        50,
        ALLUXIO_AGENT_PORTS,
        500,
        7,
        Some(&alluxio),
        42,
    )
    .unwrap();
    let live = parse_state(&doc, &ours(), "generated").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(live.agents.len(), 50);
    assert_eq!(live.framework.expect("ours").tasks.len(), 3);
    // Reservations for other roles are not free for ours: agent 0 holds one.
    let first = &live.agents[0];
    assert!(first.free.cpus < first.total.cpus, "{first:?}");
}
