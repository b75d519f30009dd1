//! [`StateStore`]: the state file of one deployment, held under its lock for
//! the length of an apply or destroy.
//!
//! Every save re-reads the file first and refuses to write if it is not the
//! version this store last saw (same lineage, same serial): with the lock
//! held that only happens after a force-unlock, and then writing would lose
//! the other run's records.

use super::error::StateError;
use super::file::{self, check_deployment, load, parse, render, write_atomic};
use super::lock::{Lock, LockInfo};
use super::{State, FORMAT_VERSION};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug)]
pub struct StateStore {
    path: PathBuf,
    state: State,
    /// Serial of the file on disk as this store last saw it; `None` while
    /// there is no file.
    on_disk: Option<u64>,
    lock: Lock,
}

/// Where apply records what it does: the state store (its file or its
/// backend), or a test's memory.
pub trait StateSink {
    /// The current state: as read, or as last saved.
    fn state(&self) -> &State;
    /// Applies `change` to a copy and saves it (serial + 1); on error the
    /// state is unchanged.
    fn update(&mut self, change: impl FnOnce(&mut State)) -> Result<(), StateError>;
}

impl StateSink for StateStore {
    fn state(&self) -> &State {
        StateStore::state(self)
    }

    fn update(&mut self, change: impl FnOnce(&mut State)) -> Result<(), StateError> {
        StateStore::update(self, change)
    }
}

impl StateStore {
    /// Takes the lock of the state file at `path` for `operation` (e.g.
    /// `apply`), waiting up to `lock_timeout`, and reads the state. With no
    /// state file yet, the state is [`State::empty`] with serial 0 and
    /// nothing is written until the first [`save`](Self::save).
    pub fn open(
        path: &Path,
        deployment: &str,
        operation: &str,
        lock_timeout: Duration,
    ) -> Result<StateStore, StateError> {
        let lock = Lock::acquire(path, operation, lock_timeout)?;
        // On error the lock is dropped, and so released, on the way out.
        let loaded = load(path)?;
        if let Some(s) = &loaded {
            check_deployment(path, s, deployment)?;
        }
        file::remove_leftover_temps(path);
        let on_disk = loaded.as_ref().map(|s| s.serial);
        Ok(StateStore {
            path: path.to_path_buf(),
            state: loaded.unwrap_or_else(|| State::empty(deployment)),
            on_disk,
            lock,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The current state: as read, or as last saved.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// True while no state file exists (nothing has been applied yet).
    pub fn is_new(&self) -> bool {
        self.on_disk.is_none()
    }

    pub fn lock_info(&self) -> &LockInfo {
        self.lock.info()
    }

    /// Writes `new` as the next version of the state, with serial one above
    /// the current one. `new` must derive from the current state: same
    /// format version, lineage and deployment, and the current serial.
    pub fn save(&mut self, mut new: State) -> Result<(), StateError> {
        let invalid = |detail: String| StateError::InvalidUpdate {
            path: self.path.clone(),
            detail,
        };
        if new.format_version != FORMAT_VERSION {
            return Err(invalid(format!(
                "the new state has format_version {}, this build writes {FORMAT_VERSION}",
                new.format_version
            )));
        }
        if new.lineage != self.state.lineage {
            return Err(StateError::LineageMismatch {
                path: self.path.clone(),
                file_lineage: self.state.lineage.clone(),
                new_lineage: new.lineage,
            });
        }
        if new.deployment != self.state.deployment {
            return Err(invalid(format!(
                "the new state is of deployment {:?}, the file of {:?}",
                new.deployment, self.state.deployment
            )));
        }
        if new.serial != self.state.serial {
            return Err(invalid(format!(
                "the new state derives from serial {}, but the current serial is {}; start from StateStore::state()",
                new.serial, self.state.serial
            )));
        }
        self.check_unchanged_on_disk()?;
        new.serial = self.state.serial + 1;
        let bytes = render(&new);
        // Never write a file the next run could not read (e.g. a NaN, which
        // JSON renders as null).
        if let Err(e) = parse(&self.path, &bytes) {
            let why = match e {
                StateError::Corrupt { detail, .. } => detail,
                other => other.to_string(),
            };
            return Err(invalid(format!("it would not read back ({why})")));
        }
        write_atomic(&self.path, &bytes)?;
        self.on_disk = Some(new.serial);
        self.state = new;
        Ok(())
    }

    /// Saves the current state changed by `change`.
    pub fn update(&mut self, change: impl FnOnce(&mut State)) -> Result<(), StateError> {
        let mut next = self.state.clone();
        change(&mut next);
        self.save(next)
    }

    /// Releases the lock now, reporting a failure to remove the lock file
    /// (dropping the store releases it too, silently).
    pub fn close(self) -> Result<(), StateError> {
        self.lock.release()
    }

    fn check_unchanged_on_disk(&self) -> Result<(), StateError> {
        let current = load(&self.path)?;
        let (found, expected) = match (&current, self.on_disk) {
            (None, None) => return Ok(()),
            (Some(s), _) if s.lineage != self.state.lineage => {
                return Err(StateError::LineageMismatch {
                    path: self.path.clone(),
                    file_lineage: s.lineage.clone(),
                    new_lineage: self.state.lineage.clone(),
                })
            }
            (Some(s), Some(serial)) if s.serial == serial => return Ok(()),
            (Some(s), Some(serial)) => (format!("serial {}", s.serial), format!("serial {serial}")),
            (Some(s), None) => (format!("serial {}", s.serial), "no file".to_string()),
            (None, Some(serial)) => ("no file".to_string(), format!("serial {serial}")),
        };
        Err(StateError::ChangedOnDisk {
            path: self.path.clone(),
            found,
            expected,
        })
    }
}
