//! [`StateStore`]: the state of one deployment, held under its lock for
//! the length of an apply or destroy, in whichever backend it lives.
//!
//! Every save compares-and-sets on the revision this store last saw: with
//! the lock held a mismatch only happens after a force-unlock, and then
//! writing would lose the other run's records.

use super::backend::{open_backend, LockTaken, Revision, StateBackend, StateLocation};
use super::error::StateError;
use super::file::render;
use super::lock::{LockHolder, LockInfo};
use super::{State, FORMAT_VERSION};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug)]
pub struct StateStore {
    backend: Box<dyn StateBackend>,
    /// For errors: the file path, or the znode URL.
    path: PathBuf,
    state: State,
    /// The revision of the stored state as this store last saw it; `None`
    /// while nothing is stored.
    stored: Option<Revision>,
    lock: LockInfo,
    took_over: Option<LockHolder>,
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
        Self::open_at(
            &StateLocation::File(path.to_path_buf()),
            deployment,
            operation,
            lock_timeout,
        )
    }

    /// [`open`](Self::open) for any backend.
    pub fn open_at(
        location: &StateLocation,
        deployment: &str,
        operation: &str,
        lock_timeout: Duration,
    ) -> Result<StateStore, StateError> {
        let mut backend = open_backend(location)?;
        // On error the backend is dropped, and the lock released, on the way out.
        let LockTaken {
            info: lock,
            took_over,
        } = backend.lock(operation, lock_timeout)?;
        let path = PathBuf::from(backend.location());
        let loaded = backend.read()?;
        if let Some((s, _)) = &loaded {
            super::file::check_deployment(&path, s, deployment)?;
        }
        let (state, stored) = match loaded {
            Some((s, r)) => (s, Some(r)),
            None => (State::empty(deployment), None),
        };
        Ok(StateStore {
            backend,
            path,
            state,
            stored,
            lock,
            took_over,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The current state: as read, or as last saved.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// True while no state is stored (nothing has been applied yet).
    pub fn is_new(&self) -> bool {
        self.stored.is_none()
    }

    pub fn lock_info(&self) -> &LockInfo {
        &self.lock
    }

    /// The holder of a lock this run took over because it had died without
    /// releasing it (killed or crashed): what it left in flight is
    /// recovered by this run.
    pub fn took_over(&self) -> Option<&LockHolder> {
        self.took_over.as_ref()
    }

    /// Writes `new` as the next version of the state, with serial one above
    /// the current one. `new` must derive from the current state: same
    /// format version, lineage and deployment, and the current serial.
    pub fn save(&mut self, mut new: State) -> Result<(), StateError> {
        if new.format_version != FORMAT_VERSION {
            return Err(self.invalid(format!(
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
            return Err(self.invalid(format!(
                "the new state is of deployment {:?}, the file of {:?}",
                new.deployment, self.state.deployment
            )));
        }
        if new.serial != self.state.serial {
            return Err(self.invalid(format!(
                "the new state derives from serial {}, but the current serial is {}; start from StateStore::state()",
                new.serial, self.state.serial
            )));
        }
        new.serial = self.state.serial + 1;
        self.write(new)
    }

    /// Stores `new` as it is (its serial included), after the checks that
    /// every stored state passes: it must read back.
    fn write(&mut self, new: State) -> Result<(), StateError> {
        let bytes = render(&new);
        // Never write a state the next run could not read (e.g. a NaN,
        // which JSON renders as null). The bytes are this build's own
        // rendering, so the typed read is the whole check (`parse` adds
        // the version and shape messages a foreign file needs).
        if let Err(e) = serde_json::from_slice::<State>(&bytes) {
            return Err(self.invalid(format!("it would not read back ({e})")));
        }
        let revision = self.backend.write(&new, &bytes, self.stored)?;
        self.stored = Some(revision);
        self.state = new;
        Ok(())
    }

    /// Saves the current state changed by `change`.
    pub fn update(&mut self, change: impl FnOnce(&mut State)) -> Result<(), StateError> {
        let mut next = self.state.clone();
        change(&mut next);
        self.save(next)
    }

    /// Replaces the stored state by `uploaded` (`state push`, `state
    /// migrate`). Refuses another lineage or deployment, or a serial below
    /// the stored one, unless `force`. The state written keeps the uploaded
    /// serial when it is higher, else gets the stored serial plus one, so
    /// that every write moves the serial forward.
    pub fn replace(&mut self, mut uploaded: State, force: bool) -> Result<(), StateError> {
        if !self.is_new() && !force {
            let current = &self.state;
            if uploaded.lineage != current.lineage {
                return Err(self.invalid(format!(
                    "the uploaded state has lineage {}, the stored one {}: it is another deployment's (or another history of this one); pass --force to replace it anyway",
                    uploaded.lineage, current.lineage
                )));
            }
            if uploaded.serial < current.serial {
                return Err(self.invalid(format!(
                    "the uploaded state has serial {}, lower than the stored {}: it is older; pull the state again, or pass --force to replace it anyway",
                    uploaded.serial, current.serial
                )));
            }
        }
        if uploaded.deployment != self.state.deployment && !force {
            return Err(self.invalid(format!(
                "the uploaded state is of deployment {}, not {:?}; pass --force to store it anyway",
                crate::excerpt::quoted(&uploaded.deployment),
                self.state.deployment
            )));
        }
        if !self.is_new() {
            uploaded.serial = uploaded.serial.max(self.state.serial + 1);
        }
        self.write(uploaded)
    }

    /// A refused update of this store's state.
    fn invalid(&self, detail: String) -> StateError {
        StateError::InvalidUpdate {
            path: self.path.clone(),
            detail,
        }
    }

    /// Releases the lock now, reporting a failure to remove it (dropping
    /// the store releases it too, silently).
    pub fn close(mut self) -> Result<(), StateError> {
        self.backend.unlock()
    }
}

impl Drop for StateStore {
    fn drop(&mut self) {
        let _ = self.backend.unlock();
    }
}
