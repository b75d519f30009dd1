//! The default backend: the state file, its `.backup` and its `.lock`
//! beside it (see `file` and `lock` for the crash-safe write and the lock).

use super::backend::{LockTaken, Revision, StateBackend};
use super::error::{backup_path, StateError};
use super::file::{self, load, load_head, write_atomic};
use super::lock::{self, Lock, LockHolder};
use super::State;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug)]
pub struct FileBackend {
    path: PathBuf,
    lock: Option<Lock>,
}

impl FileBackend {
    pub fn new(path: &Path) -> FileBackend {
        FileBackend {
            path: path.to_path_buf(),
            lock: None,
        }
    }
}

impl StateBackend for FileBackend {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn read(&self) -> Result<Option<(State, Revision)>, StateError> {
        Ok(load(&self.path)?.map(|s| {
            let serial = s.serial as i64;
            (s, Revision(serial))
        }))
    }

    /// Re-reads the file first and refuses to write unless it is the
    /// version last seen (same lineage, same serial): with the lock held
    /// that only happens after a force-unlock, and then writing would lose
    /// the other run's records.
    fn write(
        &mut self,
        state: &State,
        bytes: &[u8],
        expected: Option<Revision>,
    ) -> Result<Revision, StateError> {
        let current = load_head(&self.path)?;
        let (found, expected) = match (&current, expected) {
            (Some(s), _) if s.lineage != state.lineage => {
                return Err(StateError::LineageMismatch {
                    path: self.path.clone(),
                    file_lineage: s.lineage.clone(),
                    new_lineage: state.lineage.clone(),
                })
            }
            (None, None) => (None, None),
            (Some(s), Some(Revision(serial))) if s.serial as i64 == serial => (None, None),
            (Some(s), Some(Revision(serial))) => (
                Some(format!("serial {}", s.serial)),
                Some(format!("serial {serial}")),
            ),
            (Some(s), None) => (Some(format!("serial {}", s.serial)), Some("no file".into())),
            (None, Some(Revision(serial))) => {
                (Some("no file".into()), Some(format!("serial {serial}")))
            }
        };
        if let (Some(found), Some(expected)) = (found, expected) {
            return Err(StateError::ChangedOnDisk {
                path: self.path.clone(),
                found,
                expected,
            });
        }
        write_atomic(&self.path, bytes)?;
        Ok(Revision(state.serial as i64))
    }

    fn lock(&mut self, operation: &str, timeout: Duration) -> Result<LockTaken, StateError> {
        let lock = Lock::acquire(&self.path, operation, timeout)?;
        let taken = LockTaken {
            info: lock.info().clone(),
            took_over: lock.took_over().cloned(),
        };
        self.lock = Some(lock);
        file::remove_leftover_temps(&self.path);
        Ok(taken)
    }

    fn unlock(&mut self) -> Result<(), StateError> {
        match self.lock.take() {
            Some(lock) => lock.release(),
            None => Ok(()),
        }
    }

    fn read_lock(&self) -> Result<Option<LockHolder>, StateError> {
        lock::holder(&self.path)
    }

    fn force_unlock_if(&mut self, expected: &LockHolder) -> Result<(), StateError> {
        lock::force_unlock_if(&self.path, expected)
    }

    fn read_backup(&self) -> Result<Option<Vec<u8>>, StateError> {
        let path = backup_path(&self.path);
        match crate::limits::read(&path, crate::limits::STATE_FILE) {
            Ok(b) => Ok(Some(b)),
            Err(crate::limits::ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(None)
            }
            Err(crate::limits::ReadError::Io(source)) => Err(StateError::Read { path, source }),
            Err(crate::limits::ReadError::TooLarge { limit }) => {
                Err(StateError::TooLarge { path, limit })
            }
        }
    }
}
