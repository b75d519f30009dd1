//! Errors of the state file layer. Every message names the file it is about
//! and what the operator can do; none quotes the file's contents (the state
//! holds the secret fingerprint key), only positions and field names.

use super::lock::LockHolder;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read state file {}: {source}; check that it is readable by this user", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "state file {} is larger than {}: a state file grows with the cluster, and a 10,000-worker state is a few MB; check that --state names the state file of this deployment",
        path.display(),
        crate::limits::size_text(*limit)
    )]
    TooLarge { path: PathBuf, limit: u64 },

    #[error(
        "state file {} is not valid{}: {detail}. It was left untouched; restore the previous version from {} if it exists, or repair the file by hand",
        path.display(),
        at(*line, *column),
        backup_path(path).display()
    )]
    Corrupt {
        path: PathBuf,
        /// 1-based; 0 when the problem has no position (e.g. a missing field at the top).
        line: usize,
        column: usize,
        detail: String,
    },

    #[error(
        "state file {} has format_version {found}, but this build of alluxio-mesos reads format_version {supported}; {}",
        path.display(),
        version_fix(*found, *supported)
    )]
    UnsupportedVersion {
        path: PathBuf,
        found: u64,
        supported: u32,
    },

    #[error(
        "state file {} belongs to deployment {}, not {expected:?}; pass --state with the state file of {expected:?}, or check `name` in the deployment file",
        path.display(),
        crate::excerpt::quoted(found)
    )]
    WrongDeployment {
        path: PathBuf,
        found: String,
        expected: String,
    },

    #[error(
        "refusing to write state file {}: the file has lineage {file_lineage} but the new state has lineage {new_lineage}, so they are states of different deployments (or different histories of one); check --state and the deployment file",
        path.display()
    )]
    LineageMismatch {
        path: PathBuf,
        file_lineage: String,
        new_lineage: String,
    },

    #[error(
        "refusing to write state file {}: it changed while this run held the lock (found {found}, expected {expected}); another run wrote it, probably after a force-unlock. Nothing was written; run plan again",
        path.display()
    )]
    ChangedOnDisk {
        path: PathBuf,
        /// What is on disk now, e.g. "serial 7" or "no file".
        found: String,
        expected: String,
    },

    #[error("refusing to write state file {}: {detail}", path.display())]
    InvalidUpdate { path: PathBuf, detail: String },

    #[error(
        "cannot write state file {} ({step}): {source}. The file still holds a complete state (the previous one unless the failure came after the rename); check free space and permissions of its directory",
        path.display()
    )]
    Write {
        path: PathBuf,
        step: &'static str,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "state file {} is locked by {holder} (lock file {}); waited {}. {}",
        path.display(),
        lock_path(path).display(),
        humantime::format_duration(*waited),
        locked_fix(*stale)
    )]
    Locked {
        path: PathBuf,
        holder: Box<LockHolder>,
        /// The holder is a process of this host that no longer runs.
        stale: bool,
        waited: Duration,
    },

    #[error(
        "cannot use lock file {} ({step}): {source}; check that the directory of the state file exists and is writable",
        lock_path(path).display()
    )]
    Lock {
        path: PathBuf,
        step: &'static str,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "the lock of state file {} changed since it was shown (now held by {now}); nothing was removed, run force-unlock again",
        path.display()
    )]
    LockChanged { path: PathBuf, now: String },

    #[error("invalid state location: {detail}")]
    BadLocation { detail: String },

    #[error("state {location}: {detail}")]
    Remote { location: String, detail: String },

    #[error(
        "state {location} is locked by {holder} (lock znode {location}.lock); waited {}. Wait for that run to finish or raise --lock-timeout; if the holder died, its lock disappears when its ZooKeeper session expires (about 10 s); `alluxio-mesos force-unlock` removes it at once",
        humantime::format_duration(*waited)
    )]
    RemoteLocked {
        location: String,
        holder: Box<LockHolder>,
        waited: Duration,
    },

    #[error(
        "refusing to write state {location}: it changed since this run read it (found {found}, expected {expected}); another run wrote it, probably after a force-unlock. Nothing was written and its state is intact; run plan again"
    )]
    Conflict {
        location: String,
        found: String,
        expected: String,
    },
}

/// The file the previous version of the state at `path` is kept in.
pub fn backup_path(path: &Path) -> PathBuf {
    with_suffix(path, ".backup")
}

/// The lock file guarding the state at `path`.
pub fn lock_path(path: &Path) -> PathBuf {
    with_suffix(path, ".lock")
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn at(line: usize, column: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(" at line {line}, column {column}")
    }
}

fn version_fix(found: u64, supported: u32) -> &'static str {
    if found > u64::from(supported) {
        "it was written by a newer alluxio-mesos: use that release (or newer) for this deployment"
    } else {
        "no alluxio-mesos release writes that version: restore the file from its .backup or from version control"
    }
}

fn locked_fix(stale: bool) -> &'static str {
    if stale {
        "That process no longer runs on this host, yet its lock is still held (by a process it left behind, or on a filesystem that keeps locks of dead processes): if no run is going on, run `alluxio-mesos force-unlock`"
    } else {
        "Wait for that run to finish or raise --lock-timeout; if it is known to be dead, run `alluxio-mesos force-unlock`"
    }
}
