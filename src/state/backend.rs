//! Where a deployment's state lives: the [`StateBackend`] trait with its
//! two implementations, the local file (the default) and a znode in
//! ZooKeeper (for teams and CI, see `zk`).
//!
//! A backend stores rendered state documents and compares-and-sets on a
//! [`Revision`]; [`super::StateStore`] does everything else (the serial,
//! lineage and deployment checks), so both backends keep one set of rules.

use super::error::StateError;
use super::lock::{LockHolder, LockInfo};
use super::State;
use mesos_zk::ZkUrl;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A lock just taken.
#[derive(Debug, Clone)]
pub struct LockTaken {
    pub info: LockInfo,
    /// The holder of a lock that this run took over because that holder
    /// had died without releasing it.
    pub took_over: Option<LockHolder>,
}

/// What a write compares against: the file's serial (file backend) or the
/// znode version (ZooKeeper). Opaque outside the backend that gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revision(pub i64);

/// Where the state of a deployment is kept: `--state` or `[state] url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateLocation {
    File(PathBuf),
    /// `zk://[user:password@]host:port[,...]/path`: the state is the znode
    /// `<path>/state`.
    ZooKeeper(ZkUrl),
}

impl StateLocation {
    /// `zk://...` is ZooKeeper; anything else is a file path.
    pub fn parse(text: &str) -> Result<StateLocation, StateError> {
        if text.trim_start().starts_with("zk://") {
            let url: ZkUrl =
                text.parse()
                    .map_err(|e: mesos_zk::ZkError| StateError::BadLocation {
                        detail: e.to_string(),
                    })?;
            if url.path() == "/" {
                return Err(StateError::BadLocation {
                    detail: format!(
                        "{url} has no path: give each deployment its own, e.g. zk://host:2181/alluxio-mesos/<deployment>"
                    ),
                });
            }
            return Ok(StateLocation::ZooKeeper(url));
        }
        Ok(StateLocation::File(PathBuf::from(text)))
    }

    pub fn as_file(&self) -> Option<&Path> {
        match self {
            StateLocation::File(p) => Some(p),
            StateLocation::ZooKeeper(_) => None,
        }
    }
}

/// Paths print as given; ZooKeeper URLs with the password as `***`.
impl fmt::Display for StateLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateLocation::File(p) => write!(f, "{}", p.display()),
            StateLocation::ZooKeeper(u) => write!(f, "{u}"),
        }
    }
}

/// A place the state is stored in, with its lock.
pub trait StateBackend: Send + fmt::Debug {
    /// For messages: the file path or the (redacted) znode URL.
    fn location(&self) -> String;

    /// The stored state and its revision; `None` when nothing was written.
    fn read(&self) -> Result<Option<(State, Revision)>, StateError>;

    /// Writes `bytes` (the rendering of `state`) if the stored state is
    /// still at `expected` (`None`: nothing stored yet), keeping the
    /// previous version as the backup. Never leaves a partial state.
    fn write(
        &mut self,
        state: &State,
        bytes: &[u8],
        expected: Option<Revision>,
    ) -> Result<Revision, StateError>;

    /// Takes the lock for `operation`, waiting up to `timeout`. A lock
    /// whose holder is known to have died is taken over without waiting
    /// for the operator (the file's kernel lock ended with its holder) or
    /// after its session expires (ZooKeeper).
    fn lock(&mut self, operation: &str, timeout: Duration) -> Result<LockTaken, StateError>;

    /// Releases the lock if this backend still holds it.
    fn unlock(&mut self) -> Result<(), StateError>;

    /// Who holds the lock, if anyone (a leftover that no run holds is none).
    fn read_lock(&self) -> Result<Option<LockHolder>, StateError>;

    /// Removes the lock only if `expected` still holds it.
    fn force_unlock_if(&mut self, expected: &LockHolder) -> Result<(), StateError>;

    /// The previous version of the state, as stored (for `state pull --backup`
    /// and repairs).
    fn read_backup(&self) -> Result<Option<Vec<u8>>, StateError>;
}

/// Opens the backend of `location` (for ZooKeeper: a session).
pub fn open_backend(location: &StateLocation) -> Result<Box<dyn StateBackend>, StateError> {
    Ok(match location {
        StateLocation::File(p) => Box::new(super::file_backend::FileBackend::new(p)),
        StateLocation::ZooKeeper(u) => Box::new(super::zk::ZkBackend::open(u)?),
    })
}
