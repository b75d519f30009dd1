//! The state file store: atomic writes, backups, serials, lineage, and the
//! lock that guards apply and destroy.

use alluxio_mesos::address::{Address, Role};
use alluxio_mesos::state::{
    backup_path, force_unlock, force_unlock_if, holder as holder_of, load, load_for, lock_path,
    read_lock, LockHolder, RecordedState, State, StateError, StateStore, TaskRecord, TaskResources,
};
use mesos_api::TaskState;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const DEPLOYMENT: &str = "alluxio";
const SHORT: Duration = Duration::from_millis(300);

fn state_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("alluxio-mesos.state.json")
}

fn open(path: &Path) -> StateStore {
    StateStore::open(path, DEPLOYMENT, "apply", SHORT).expect("open the state store")
}

fn record(host: &str, state: RecordedState) -> TaskRecord {
    TaskRecord {
        address: Address::Worker(host.to_string()),
        task_id: format!("alluxio-worker-{host}-1"),
        role: Role::Worker,
        agent_id: format!("agent-{host}"),
        hostname: host.to_string(),
        ports: vec![29999, 30000],
        resources: TaskResources {
            cpus: 1.5,
            mem_mb: 4096.0,
            ramdisk_mb: 1024.0,
        },
        config_hash: "sha256:abc".to_string(),
        state,
        updated_at: "2026-11-25T01:00:00Z".to_string(),
    }
}

/// A store with one saved version (serial 1), then dropped.
fn saved_once(path: &Path) -> State {
    let mut store = open(path);
    store
        .update(|s| s.tasks.push(record("a1", RecordedState::Pending)))
        .unwrap();
    store.state().clone()
}

#[test]
fn missing_state_file_means_nothing_applied_yet() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    assert_eq!(load(&path).unwrap(), None);
    let store = open(&path);
    assert!(store.is_new());
    assert_eq!(store.state().serial, 0);
    assert_eq!(store.state().deployment, DEPLOYMENT);
    drop(store);
    assert!(!path.exists(), "opening alone must not write a state file");
}

#[test]
fn saved_state_round_trips_through_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    let mut store = open(&path);
    store
        .update(|s| {
            s.framework_id = Some("fw-1".to_string());
            s.tasks.push(record("a1", RecordedState::Pending));
            s.tasks
                .push(record("a2", RecordedState::Mesos(TaskState::Running)));
        })
        .unwrap();
    let saved = store.state().clone();
    drop(store);
    assert_eq!(load(&path).unwrap(), Some(saved.clone()));
    let reopened = open(&path);
    assert!(!reopened.is_new());
    assert_eq!(reopened.state(), &saved);

    let json: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    assert_eq!(json["format_version"], 1);
    assert_eq!(json["tasks"][0]["state"], "pending");
    assert_eq!(json["tasks"][1]["state"], "TASK_RUNNING");
}

#[test]
fn every_save_increments_the_serial() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    let mut store = open(&path);
    for expected in 1..=3 {
        store
            .update(|s| s.framework_id = Some(format!("fw-{expected}")))
            .unwrap();
        assert_eq!(store.state().serial, expected);
        assert_eq!(load(&path).unwrap().unwrap().serial, expected);
    }
    drop(store);
    assert_eq!(open(&path).state().serial, 3);
}

#[test]
fn the_backup_holds_the_previous_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    let mut store = open(&path);
    store
        .update(|s| s.framework_id = Some("first".into()))
        .unwrap();
    let first = store.state().clone();
    assert!(!backup_path(&path).exists(), "no previous version yet");
    store
        .update(|s| s.framework_id = Some("second".into()))
        .unwrap();
    assert_eq!(load(&backup_path(&path)).unwrap(), Some(first.clone()));
    store
        .update(|s| s.framework_id = Some("third".into()))
        .unwrap();
    let backup = load(&backup_path(&path)).unwrap().unwrap();
    assert_eq!(backup.serial, 2);
    assert_eq!(backup.framework_id.as_deref(), Some("second"));
    assert_eq!(load(&path).unwrap().unwrap().serial, 3);
}

#[test]
fn a_corrupt_state_file_is_an_error_and_left_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    saved_once(&path);
    let good = fs::read(&path).unwrap();
    let corrupt = &good[..good.len() / 2];
    fs::write(&path, corrupt).unwrap();

    let err = load(&path).unwrap_err();
    let StateError::Corrupt { line, column, .. } = &err else {
        panic!("expected Corrupt, got {err:?}");
    };
    assert!(*line > 1 && *column > 0);
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(
        msg.contains(&format!("line {line}, column {column}")),
        "{msg}"
    );
    assert!(msg.contains(".backup"), "the fix names the backup: {msg}");

    let err = StateStore::open(&path, DEPLOYMENT, "apply", SHORT).unwrap_err();
    assert!(matches!(err, StateError::Corrupt { .. }), "{err:?}");
    assert_eq!(fs::read(&path).unwrap(), corrupt);
    assert!(
        !lock_path(&path).exists(),
        "a failed open releases the lock"
    );
}

#[test]
fn a_file_that_is_not_a_state_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    fs::write(&path, b"{\"name\": \"alluxio\"}\n").unwrap();
    let msg = load(&path).unwrap_err().to_string();
    assert!(msg.contains("format_version"), "{msg}");
    fs::write(&path, b"[1, 2]").unwrap();
    let msg = load(&path).unwrap_err().to_string();
    assert!(msg.contains("not a JSON object"), "{msg}");
}

#[test]
fn a_state_of_a_future_format_version_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    let future = b"{\"format_version\": 2, \"something_new\": true}\n";
    fs::write(&path, future).unwrap();
    let err = load(&path).unwrap_err();
    assert!(
        matches!(
            err,
            StateError::UnsupportedVersion {
                found: 2,
                supported: 1,
                ..
            }
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("format_version 2"), "{msg}");
    assert!(msg.contains("reads format_version 1"), "{msg}");
    assert!(msg.contains("newer"), "{msg}");
    assert!(StateStore::open(&path, DEPLOYMENT, "apply", SHORT).is_err());
    assert_eq!(fs::read(&path).unwrap(), future);
}

#[test]
fn the_state_of_another_deployment_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    saved_once(&path);
    let err = StateStore::open(&path, "other", "apply", SHORT).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, StateError::WrongDeployment { .. }), "{msg}");
    assert!(
        msg.contains("\"alluxio\"") && msg.contains("\"other\""),
        "{msg}"
    );
    assert!(load_for(&path, "other").is_err());
    assert!(load_for(&path, DEPLOYMENT).unwrap().is_some());
}

#[test]
fn saving_a_state_of_another_lineage_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    saved_once(&path);
    let before = fs::read(&path).unwrap();
    let mut store = open(&path);
    let stranger = State {
        serial: store.state().serial,
        ..State::empty(DEPLOYMENT)
    };
    let err = store.save(stranger).unwrap_err();
    assert!(matches!(err, StateError::LineageMismatch { .. }), "{err:?}");
    assert_eq!(fs::read(&path).unwrap(), before);
}

#[test]
fn a_file_of_another_lineage_put_in_place_meanwhile_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    let mut store = open(&path);
    // Someone copies another history of the deployment over the path.
    let other_dir = tempfile::tempdir().unwrap();
    let other = state_path(&other_dir);
    saved_once(&other);
    fs::copy(&other, &path).unwrap();
    let before = fs::read(&path).unwrap();
    let err = store
        .update(|s| s.framework_id = Some("fw".into()))
        .unwrap_err();
    assert!(matches!(err, StateError::LineageMismatch { .. }), "{err:?}");
    assert_eq!(fs::read(&path).unwrap(), before);
}

#[test]
fn a_state_not_derived_from_the_current_serial_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    let mut store = open(&path);
    let stale = store.state().clone();
    store.update(|s| s.framework_id = Some("a".into())).unwrap();
    let err = store.save(stale).unwrap_err();
    assert!(err.to_string().contains("derives from serial 0"), "{err}");
}

#[test]
fn a_state_that_would_not_read_back_is_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    let mut store = open(&path);
    let mut task = record("a1", RecordedState::Pending);
    task.resources.cpus = f64::NAN;
    let err = store.update(|s| s.tasks.push(task)).unwrap_err();
    assert!(matches!(err, StateError::InvalidUpdate { .. }), "{err:?}");
    assert!(err.to_string().contains("would not read back"), "{err}");
    assert!(!path.exists());
}

#[test]
fn a_second_open_waits_for_the_timeout_then_names_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    let first = open(&path);
    let start = Instant::now();
    let err = StateStore::open(&path, DEPLOYMENT, "destroy", SHORT).unwrap_err();
    let waited = start.elapsed();
    assert!(waited >= SHORT, "gave up after {waited:?}");
    assert!(waited < SHORT * 10, "waited far too long: {waited:?}");
    let StateError::Locked { holder, stale, .. } = &err else {
        panic!("expected Locked, got {err:?}");
    };
    let LockHolder::Known(info) = holder.as_ref() else {
        panic!("expected a known holder, got {holder:?}");
    };
    assert_eq!(info, first.lock_info());
    assert!(!stale, "this process is alive");
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("pid {}", std::process::id())),
        "{msg}"
    );
    assert!(msg.contains(&info.host), "{msg}");
    assert!(msg.contains(&info.created_at), "{msg}");
    assert!(msg.contains("(apply)"), "{msg}");
    assert!(msg.contains("--lock-timeout"), "{msg}");
}

#[test]
fn a_waiting_open_gets_the_lock_once_the_holder_releases_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    let holder = open(&path);
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        drop(holder);
    });
    let store = StateStore::open(&path, DEPLOYMENT, "apply", Duration::from_secs(10));
    releaser.join().unwrap();
    assert!(store.is_ok(), "{:?}", store.err());
}

#[test]
fn dropping_the_store_releases_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    let store = open(&path);
    assert!(lock_path(&path).exists());
    drop(store);
    assert!(!lock_path(&path).exists());
    let store = open(&path);
    store.close().unwrap();
    assert!(!lock_path(&path).exists());
}

/// A process that holds the kernel lock of `path`'s lock file, as a run
/// does, with the holder JSON naming it; it holds until killed.
fn foreign_holder(path: &std::path::Path) -> std::process::Child {
    use std::io::BufRead;
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        // flock(1) from util-linux: lock fd 9, say so, then wait to be killed.
        .arg("exec 9<>\"$1\" && flock -x 9 && echo locked && exec sleep 600")
        .arg("sh")
        .arg(lock_path(path))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run sh and flock(1)");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "locked", "the holder did not take the lock");
    let lock = serde_json::json!({
        "id": "killed-run",
        "pid": child.id(),
        "host": alluxio_mesos::state::LockInfo::for_this_process("x").host,
        "created_at": "2026-11-25T00:00:00Z",
        "operation": "apply",
        "kernel_lock": true,
    });
    fs::write(lock_path(path), serde_json::to_vec(&lock).unwrap()).unwrap();
    child
}

#[test]
fn a_lock_held_by_a_running_process_names_it_and_a_killed_holder_is_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    let mut holder = foreign_holder(&path);
    let err = StateStore::open(&path, DEPLOYMENT, "apply", SHORT).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, StateError::Locked { stale: false, .. }),
        "{msg}"
    );
    assert!(msg.contains(&format!("pid {}", holder.id())), "{msg}");
    assert!(
        read_lock(&path).unwrap().is_some() && holder_of(&path).unwrap().is_some(),
        "a held lock is reported"
    );

    // SIGKILL: the kernel ends its lock; the file stays behind.
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert!(lock_path(&path).exists());
    assert_eq!(
        holder_of(&path).unwrap(),
        None,
        "a leftover no one holds is no lock"
    );
    let store = StateStore::open(&path, DEPLOYMENT, "apply", SHORT).unwrap();
    let Some(LockHolder::Known(dead)) = store.took_over() else {
        panic!("expected the killed holder, got {:?}", store.took_over());
    };
    assert_eq!(dead.pid, holder.id());
    assert_eq!(
        read_lock(&path).unwrap(),
        Some(LockHolder::Known(store.lock_info().clone()))
    );
    store.close().unwrap();
    assert!(!lock_path(&path).exists());
}

#[test]
fn a_lock_file_of_an_older_release_is_held_while_its_process_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    // Older releases took the lock by creating the file, with no kernel lock.
    let mut alive = std::process::Command::new("sleep")
        .arg("600")
        .spawn()
        .unwrap();
    let older = |pid: u32| {
        serde_json::json!({
            "id": "older-release",
            "pid": pid,
            "host": alluxio_mesos::state::LockInfo::for_this_process("x").host,
            "created_at": "2026-11-25T00:00:00Z",
            "operation": "apply",
        })
    };
    fs::write(
        lock_path(&path),
        serde_json::to_vec(&older(alive.id())).unwrap(),
    )
    .unwrap();
    let err = StateStore::open(&path, DEPLOYMENT, "apply", SHORT).unwrap_err();
    assert!(matches!(err, StateError::Locked { .. }), "{err}");
    alive.kill().unwrap();
    alive.wait().unwrap();
    let store = StateStore::open(&path, DEPLOYMENT, "apply", SHORT).unwrap();
    assert!(store.took_over().is_some());
}

#[test]
fn an_unreadable_lock_file_that_no_one_holds_is_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    fs::write(lock_path(&path), b"{\"pid\": 12").unwrap();
    let store = StateStore::open(&path, DEPLOYMENT, "apply", SHORT).unwrap();
    assert!(
        matches!(store.took_over(), Some(LockHolder::Unreadable { .. })),
        "{:?}",
        store.took_over()
    );
    store.close().unwrap();
    // An empty one names no one: a run that died before writing its name.
    fs::write(lock_path(&path), b"").unwrap();
    let store = StateStore::open(&path, DEPLOYMENT, "apply", SHORT).unwrap();
    assert_eq!(store.took_over(), None);
}

#[test]
fn force_unlock_removes_a_held_lock_and_the_next_run_locks_a_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    let mut holder = foreign_holder(&path);
    let removed = force_unlock(&path).unwrap();
    let Some(LockHolder::Known(info)) = removed else {
        panic!("expected the holder, got {removed:?}");
    };
    assert_eq!(info.pid, holder.id());
    assert_eq!(force_unlock(&path).unwrap(), None, "nothing left to remove");
    let store = open(&path);
    assert_eq!(store.took_over(), None);
    holder.kill().unwrap();
    holder.wait().unwrap();
}

#[test]
fn force_unlock_if_refuses_a_lock_taken_since_it_was_shown() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    let first = open(&path);
    let shown = read_lock(&path).unwrap().unwrap();
    drop(first);
    let second = open(&path);
    let err = force_unlock_if(&path, &shown).unwrap_err();
    assert!(matches!(err, StateError::LockChanged { .. }), "{err:?}");
    assert!(lock_path(&path).exists());
    let now = read_lock(&path).unwrap().unwrap();
    force_unlock_if(&path, &now).unwrap();
    assert!(!lock_path(&path).exists());
    drop(second);
}

#[test]
fn a_force_unlocked_run_neither_releases_the_new_lock_nor_overwrites_the_new_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    saved_once(&path);
    let mut old_run = open(&path);
    force_unlock(&path).unwrap();
    let mut new_run = open(&path);
    new_run
        .update(|s| s.framework_id = Some("new".into()))
        .unwrap();
    let written = fs::read(&path).unwrap();

    let err = old_run
        .update(|s| s.framework_id = Some("old".into()))
        .unwrap_err();
    assert!(matches!(err, StateError::ChangedOnDisk { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("found serial 2, expected serial 1"),
        "{err}"
    );
    assert_eq!(fs::read(&path).unwrap(), written);

    drop(old_run);
    assert_eq!(
        read_lock(&path).unwrap(),
        Some(LockHolder::Known(new_run.lock_info().clone())),
        "the old run must not remove the new run's lock"
    );
}

#[test]
fn a_crash_before_the_rename_leaves_the_old_state_loadable() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    let old = saved_once(&path);
    // What a crashed write leaves: a half-written temporary beside the file.
    let temp = dir
        .path()
        .join(".alluxio-mesos.state.json.tmp-4242-0123456789abcdef");
    let full = fs::read(&path).unwrap();
    fs::write(&temp, &full[..full.len() / 3]).unwrap();

    assert_eq!(load(&path).unwrap(), Some(old.clone()));
    let mut store = open(&path);
    assert_eq!(store.state(), &old);
    assert!(
        !temp.exists(),
        "the next holder of the lock removes leftovers"
    );
    store
        .update(|s| s.framework_id = Some("after".into()))
        .unwrap();
    assert_eq!(load(&path).unwrap().unwrap().serial, 2);
}

#[test]
fn concurrent_writers_take_turns_and_never_leave_a_torn_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    const ROUNDS: usize = 15;
    std::thread::scope(|s| {
        for writer in ["w1", "w2"] {
            let path = &path;
            s.spawn(move || {
                for i in 0..ROUNDS {
                    let mut store =
                        StateStore::open(path, DEPLOYMENT, "apply", Duration::from_secs(60))
                            .unwrap();
                    let host = format!("{writer}-{i}");
                    store
                        .update(|s| s.tasks.push(record(&host, RecordedState::Pending)))
                        .unwrap();
                }
            });
        }
        let path = &path;
        s.spawn(move || {
            let mut last = 0;
            let deadline = Instant::now() + Duration::from_secs(120);
            while last < 2 * ROUNDS as u64 {
                assert!(
                    Instant::now() < deadline,
                    "writers stopped at serial {last}"
                );
                // Every read sees a complete state (or none yet), and
                // serials never go backwards.
                if let Some(state) = load(path).unwrap() {
                    assert!(state.serial >= last);
                    assert_eq!(state.tasks.len() as u64, state.serial);
                    last = state.serial;
                }
            }
        });
    });
    let state = load(&path).unwrap().unwrap();
    assert_eq!(state.serial, 2 * ROUNDS as u64);
    assert_eq!(state.tasks.len(), 2 * ROUNDS, "no update was lost");
}

#[test]
fn saves_leave_only_the_state_its_backup_and_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = state_path(&dir);
    let mut store = open(&path);
    for i in 0..3 {
        store
            .update(|s| s.framework_id = Some(format!("fw-{i}")))
            .unwrap();
    }
    let mut names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "alluxio-mesos.state.json",
            "alluxio-mesos.state.json.backup",
            "alluxio-mesos.state.json.lock"
        ]
    );
}

#[test]
fn a_state_file_in_a_missing_directory_fails_to_lock_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-dir").join("s.json");
    let err = StateStore::open(&path, DEPLOYMENT, "apply", SHORT).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, StateError::Lock { .. }), "{msg}");
    assert!(
        msg.contains("s.json.lock") && msg.contains("exists and is writable"),
        "{msg}"
    );
}
