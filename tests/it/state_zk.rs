//! The ZooKeeper state backend against a real ZooKeeper server (started by
//! the harness of crates/mesos-zk; a missing ZooKeeper fails the tests with
//! the command that installs it) and the emulated Mesos master.

use crate::support;
use crate::zookeeper;

use alluxio_mesos::state::{
    self, open_backend, LockHolder, State, StateBackend, StateError, StateLocation, StateStore,
    ZkBackend,
};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::*;
use zookeeper::ZkServer;

/// Started on the test's own thread, which lives as long as the test: the
/// server dies with the thread that spawned it (`PR_SET_PDEATHSIG`), and a
/// blocking-pool thread exits after 10 s idle.
fn start_zookeeper() -> ZkServer {
    ZkServer::start()
}

fn zk_location(zk: &ZkServer, path: &str) -> (String, StateLocation) {
    let url = zk.url(path).to_string();
    let location = StateLocation::parse(&url).unwrap();
    (url, location)
}

/// A deployment whose state is `[state] url = url`.
fn shared(sim_url: &str, url: &str) -> Deployment {
    Deployment::new(sim_url, &format!("[state]\nurl = \"{url}\"\n"), SITE)
}

/// Waits (bounded) until `cond` holds, polling.
fn wait_for(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn lock_holder(location: &StateLocation) -> Option<LockHolder> {
    open_backend(location).unwrap().read_lock().unwrap()
}

/// Waits (bounded) until the lock of `location` is held, or not, looking
/// through one session while it lasts (on a loaded machine the looking
/// session may itself expire: then another is opened).
fn wait_for_lock(location: &StateLocation, held: bool, timeout: Duration) {
    let mut backend = None;
    let what = if held {
        "the lock to be taken"
    } else {
        "the lock to go"
    };
    wait_for(what, timeout, || {
        if backend.is_none() {
            backend = open_backend(location).ok();
        }
        match backend.as_ref().map(|b| b.read_lock()) {
            Some(Ok(holder)) => holder.is_some() == held,
            Some(Err(e)) => {
                eprintln!("looking at the lock: {e}; opening another session");
                backend = None;
                false
            }
            None => false,
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_deployment_directories_share_one_zookeeper_state() {
    let zk = start_zookeeper();
    let sim = start_sim("fixtures/clusters/alluxio-ports.toml").await;
    let (url, location) = zk_location(&zk, "/alluxio-mesos/alluxio");
    let laptop = shared(&sim.url(), &url);
    let ci = shared(&sim.url(), &url);

    let first = cli(&ci, &["plan", "--detailed-exitcode"]).await;
    assert_eq!(first.code, 2, "{}{}", first.stdout, first.stderr);
    cli(&laptop, &["apply", "--auto-approve", "--settle-time", "0s"])
        .await
        .ok();
    assert!(
        !laptop.state_file().exists(),
        "no local state file is written"
    );

    // The other directory plans from what the first applied.
    let plan = cli(&ci, &["plan", "--detailed-exitcode"]).await;
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    let listed = cli(&ci, &["state", "list"]).await;
    listed.ok();
    assert!(listed.stdout.contains("master[0]"), "{}", listed.stdout);
    assert!(listed.stdout.contains("TASK_RUNNING"), "{}", listed.stdout);

    let pulled = cli(&ci, &["state", "pull"]).await;
    pulled.ok();
    let st: State = serde_json::from_str(&pulled.stdout).unwrap();
    assert_eq!(Some(st), state::load_at(&location).unwrap());
    let out = cli(&ci, &["output", "--json"]).await;
    out.ok();
    assert!(out.stdout.contains("alluxio://"), "{}", out.stdout);
    sim.shutdown().await;
}

/// `apply` against a master that never answers: it holds the state lock
/// while it retries.
fn stuck_apply(d: &Deployment) -> Child {
    let closed = format!("http://127.0.0.1:{}", zookeeper::free_port());
    Command::new(env!("CARGO_BIN_EXE_alluxio-mesos"))
        .arg("-c")
        .arg(d.toml())
        .args([
            "apply",
            "--auto-approve",
            "--mesos",
            &closed,
            "--retry-deadline",
            "10m",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start alluxio-mesos")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_apply_is_refused_naming_the_holder_whose_lock_dies_with_it() {
    let zk = start_zookeeper();
    let sim = start_sim("fixtures/clusters/alluxio-ports.toml").await;
    let (url, location) = zk_location(&zk, "/alluxio-mesos/alluxio");
    let one = shared(&sim.url(), &url);
    let two = shared(&sim.url(), &url);

    let mut holder = stuck_apply(&one);
    let pid = holder.id();
    let loc = location.clone();
    tokio::task::spawn_blocking(move || wait_for_lock(&loc, true, Duration::from_secs(60)))
        .await
        .unwrap();

    let refused = cli(&two, &["apply", "--auto-approve"]).await;
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert!(
        refused
            .stderr
            .contains(&format!("locked by pid {pid} on host"))
            && refused.stderr.contains("(apply)")
            && refused.stderr.contains("session expires"),
        "{}",
        refused.stderr
    );

    // SIGKILL: no chance to release; the lock goes with the session.
    holder.kill().unwrap();
    holder.wait().unwrap();
    let loc = location.clone();
    // Its session expires within the session timeout (10 s).
    tokio::task::spawn_blocking(move || wait_for_lock(&loc, false, Duration::from_secs(90)))
        .await
        .unwrap();
    cli(&two, &["apply", "--auto-approve", "--settle-time", "0s"])
        .await
        .ok();
    assert!(lock_holder(&location).is_none(), "released after apply");
    sim.shutdown().await;
}

#[test]
fn a_compare_and_set_conflict_is_refused_and_loses_nothing() {
    let zk = ZkServer::start();
    let (_, location) = zk_location(&zk, "/alluxio-mesos/cas");
    let mut first = StateStore::open_at(&location, "cas", "apply", Duration::ZERO).unwrap();
    first
        .update(|s| s.framework_id = Some("f-1".into()))
        .unwrap();

    // The operator force-unlocks a run that is in fact still going.
    let mut backend = open_backend(&location).unwrap();
    let holder = backend.read_lock().unwrap().expect("locked");
    backend.force_unlock_if(&holder).unwrap();
    let mut second = StateStore::open_at(&location, "cas", "apply", Duration::ZERO).unwrap();
    second
        .update(|s| s.framework_id = Some("f-2".into()))
        .unwrap();
    let written = second.state().clone();
    second.close().unwrap();

    let err = first
        .update(|s| s.framework_id = Some("f-3".into()))
        .unwrap_err();
    assert!(matches!(err, StateError::Conflict { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("changed since this run read it") && msg.contains("Nothing was written"),
        "{msg}"
    );
    assert_eq!(state::load_at(&location).unwrap(), Some(written));
    // The first run's lock is not the current one: closing it leaves others' alone.
    first.close().unwrap();
}

#[test]
fn a_held_lock_names_its_holder_and_force_unlock_removes_it() {
    let zk = ZkServer::start();
    let (_, location) = zk_location(&zk, "/alluxio-mesos/locks");
    let first = StateStore::open_at(&location, "locks", "apply", Duration::ZERO).unwrap();
    let err =
        StateStore::open_at(&location, "locks", "destroy", Duration::from_millis(300)).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("pid {}", std::process::id()))
            && msg.contains("(user ")
            && msg.contains("(apply)"),
        "{msg}"
    );
    assert!(msg.contains("/alluxio-mesos/locks/state.lock"), "{msg}");
    assert_eq!(
        lock_holder(&location),
        Some(LockHolder::Known(first.lock_info().clone()))
    );
    drop(first);
    assert_eq!(lock_holder(&location), None, "dropping the store unlocks");
}

/// A state as an apply of `workers` workers leaves it: the records of a
/// real apply on the emulator, the worker's repeated with other hosts.
fn big_state(template: &State, workers: usize) -> State {
    let mut st = template.clone();
    let worker = template
        .tasks
        .iter()
        .find(|t| t.address.to_string().starts_with("worker"))
        .expect("a worker record")
        .clone();
    st.tasks
        .retain(|t| !t.address.to_string().starts_with("worker"));
    for i in 0..workers {
        let host = format!("agent-{i:05}.mesos.example.com");
        let mut t = worker.clone();
        t.address = format!("worker[\"{host}\"]").parse().unwrap();
        t.hostname = host;
        t.task_id = format!("alluxio-worker-{}", uuid::Uuid::new_v4());
        t.agent_id = format!("{}-S{i}", uuid::Uuid::new_v4());
        st.tasks.push(t);
    }
    st
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ten_thousand_worker_state_is_stored_in_chunks_and_reads_back() {
    let zk = start_zookeeper();
    let sim = start_sim("fixtures/clusters/alluxio-ports.toml").await;
    let d = Deployment::new(&sim.url(), "", SITE);
    cli(&d, &["apply", "--auto-approve", "--settle-time", "0s"])
        .await
        .ok();
    sim.shutdown().await;
    let applied = state::load(&d.state_file()).unwrap().unwrap();
    let (_, location) = zk_location(&zk, "/alluxio-mesos/big");

    tokio::task::spawn_blocking(move || {
        let big = big_state(&applied, 10_000);
        let mut store =
            StateStore::open_at(&location, &big.deployment, "state push", Duration::ZERO).unwrap();
        store.replace(big.clone(), false).unwrap();
        for n in 0..3 {
            store
                .update(|s| s.framework_id = Some(format!("f-{n}")))
                .unwrap();
        }
        let last = store.state().clone();
        let bytes = state::render_state(&last).len();
        store.close().unwrap();
        assert_eq!(state::load_at(&location).unwrap(), Some(last.clone()));

        let StateLocation::ZooKeeper(url) = &location else {
            unreachable!()
        };
        let backend = ZkBackend::open(url).unwrap();
        let storage = backend.storage().unwrap().unwrap();
        println!(
            "a 10,000-worker state: {bytes} bytes of JSON ({:.1} MiB), stored as {storage:?} (chunks of {} KiB)",
            bytes as f64 / 1048576.0,
            mesos_zk::CHUNK_SIZE / 1024
        );
        match storage {
            mesos_zk::Storage::Chunked { bytes: b, chunks } => {
                assert_eq!(b, bytes);
                assert_eq!(chunks, bytes.div_ceil(mesos_zk::CHUNK_SIZE));
            }
            other => panic!("{other:?}"),
        }
        // The backup is the version before the last write.
        let backup = backend.read_backup().unwrap().unwrap();
        let previous: State = serde_json::from_slice(&backup).unwrap();
        assert_eq!(previous.serial + 1, last.serial);
        assert_eq!(previous.framework_id.as_deref(), Some("f-1"));
        // Generations no longer named by the state or its backup are gone.
        let generations = chunk_generations(url);
        assert_eq!(generations.len(), 2, "{generations:?}");
    })
    .await
    .unwrap();
}

/// The generations under `<path>/state.chunks`, read with a plain client.
fn chunk_generations(url: &mesos_zk::ZkUrl) -> Vec<String> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = zookeeper_client::Client::connect(&url.servers().join(","))
            .await
            .unwrap();
        client
            .list_children(&format!("{}/state.chunks", url.path()))
            .await
            .unwrap()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_push_and_migrate_move_a_deployment_between_file_and_zookeeper() {
    let zk = start_zookeeper();
    let sim = start_sim("fixtures/clusters/alluxio-ports.toml").await;
    let d = Deployment::new(&sim.url(), "", SITE);
    cli(&d, &["apply", "--auto-approve", "--settle-time", "0s"])
        .await
        .ok();
    let (url, location) = zk_location(&zk, "/alluxio-mesos/alluxio");
    let file_state = state::load(&d.state_file()).unwrap().unwrap();

    let moved = cli(&d, &["state", "migrate", "--to", &url]).await;
    moved.ok();
    assert!(moved.stdout.contains("[state] url"), "{}", moved.stdout);
    let in_zk = state::load_at(&location).unwrap().unwrap();
    assert_eq!(in_zk.lineage, file_state.lineage);
    assert_eq!(in_zk.tasks, file_state.tasks);
    let again = cli(&d, &["state", "migrate", "--to", &url]).await;
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("--force"), "{}", again.stderr);

    // Plans against ZooKeeper see the same deployment.
    let plan = cli(&d, &["plan", "--detailed-exitcode", "--state", &url]).await;
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);

    // push: an older serial or another lineage is refused unless forced.
    let old = d.dir.path().join("old.json");
    std::fs::write(&old, state::render_state(&file_state)).unwrap();
    let mut newer = file_state.clone();
    newer.serial = in_zk.serial + 5;
    let newer_file = d.dir.path().join("newer.json");
    std::fs::write(&newer_file, state::render_state(&newer)).unwrap();
    let newer_file = newer_file.to_str().unwrap();
    cli(&d, &["state", "--state", &url, "push", newer_file])
        .await
        .ok();
    let refused = cli(
        &d,
        &["state", "--state", &url, "push", old.to_str().unwrap()],
    )
    .await;
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("lower than the stored"),
        "{}",
        refused.stderr
    );
    let mut other = State::empty("alluxio");
    other.serial = 100;
    let other_file = d.dir.path().join("other.json");
    std::fs::write(&other_file, state::render_state(&other)).unwrap();
    let other_file = other_file.to_str().unwrap();
    let refused = cli(&d, &["state", "--state", &url, "push", other_file]).await;
    assert!(refused.stderr.contains("lineage"), "{}", refused.stderr);
    assert_eq!(
        state::load_at(&location).unwrap().unwrap().serial,
        newer.serial,
        "refused pushes changed nothing"
    );
    cli(
        &d,
        &["state", "--state", &url, "push", other_file, "--force"],
    )
    .await
    .ok();
    assert_eq!(
        state::load_at(&location).unwrap().unwrap().lineage,
        other.lineage
    );
    sim.shutdown().await;
}

#[test]
fn a_state_url_without_a_path_or_malformed_is_refused_with_the_password_hidden() {
    let e = StateLocation::parse("zk://127.0.0.1:2181").unwrap_err();
    assert!(e.to_string().contains("has no path"), "{e}");
    let e = StateLocation::parse("zk://bob:hunter2@/x").unwrap_err();
    assert!(!e.to_string().contains("hunter2"), "{e}");
    let ok = StateLocation::parse("zk://bob:hunter2@h:2181/alluxio-mesos/a").unwrap();
    assert!(!ok.to_string().contains("hunter2"), "{ok}");
}
