//! The lock file `<state>.lock` that guards apply and destroy.
//!
//! It is created with `O_EXCL` (`create_new`), so of two runs exactly one
//! gets it, and holds JSON naming the holder (pid, host, time, operation) so
//! that a waiting run can say who holds it. A lock whose process is gone is
//! only reported as stale, never removed implicitly: the operator removes it
//! with `force-unlock` after checking.

use super::error::{lock_path, StateError};
use crate::limits::ReadError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How often a waiting run looks at the lock again.
const POLL: Duration = Duration::from_millis(100);

/// What a lock file says about its holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// Unique per acquisition: a run releases the lock only if it still
    /// carries its own id.
    pub id: String,
    pub pid: u32,
    pub host: String,
    /// RFC 3339.
    pub created_at: String,
    /// The command holding it, e.g. `apply`.
    pub operation: String,
    /// The account that ran it (locks written before this field have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

impl LockInfo {
    /// A new holder: this process, host and account, now.
    pub fn for_this_process(operation: &str) -> LockInfo {
        LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            pid: std::process::id(),
            host: this_host(),
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            operation: operation.to_string(),
            user: std::env::var("USER")
                .ok()
                .filter(|u| !u.is_empty())
                .or_else(crate::desired::effective_user_name),
        }
    }
}

/// The holder as read from the lock file. A run that died between creating
/// the file and writing it leaves a file that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockHolder {
    Known(LockInfo),
    Unreadable { reason: String },
}

impl fmt::Display for LockHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockHolder::Known(i) => {
                write!(f, "pid {} on host {}", i.pid, i.host)?;
                if let Some(user) = &i.user {
                    write!(f, " (user {user})")?;
                }
                write!(f, " since {} ({})", i.created_at, i.operation)
            }
            LockHolder::Unreadable { reason } => {
                write!(f, "an unknown run (the lock file is unreadable: {reason})")
            }
        }
    }
}

impl LockHolder {
    /// The holder is a process of this host that no longer runs. An
    /// unreadable lock is not called stale: its writer may still be writing.
    pub fn is_stale(&self) -> bool {
        match self {
            LockHolder::Known(i) => i.host == this_host() && !pid_alive(i.pid),
            LockHolder::Unreadable { .. } => false,
        }
    }
}

/// A held lock; dropping it releases the lock if the file is still ours.
#[derive(Debug)]
pub struct Lock {
    state_path: PathBuf,
    info: LockInfo,
    released: bool,
}

impl Lock {
    /// Takes the lock of the state file `state_path`, waiting up to
    /// `timeout` for another holder to release it.
    pub fn acquire(
        state_path: &Path,
        operation: &str,
        timeout: Duration,
    ) -> Result<Lock, StateError> {
        let lock_file = lock_path(state_path);
        let info = LockInfo::for_this_process(operation);
        let mut body = serde_json::to_vec_pretty(&info).expect("LockInfo serializes");
        body.push(b'\n');
        let lock_err = |step, source| StateError::Lock {
            path: state_path.to_path_buf(),
            step,
            source,
        };
        let start = Instant::now();
        loop {
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&lock_file)
            {
                Ok(mut file) => {
                    if let Err(e) = file.write_all(&body).and_then(|()| file.sync_all()) {
                        // A half-written lock names no one; it is ours to remove.
                        let _ = fs::remove_file(&lock_file);
                        return Err(lock_err("writing the holder", e));
                    }
                    return Ok(Lock {
                        state_path: state_path.to_path_buf(),
                        info,
                        released: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(lock_err("creating it", e)),
            }
            let waited = start.elapsed();
            if waited >= timeout {
                // The holder may have released it just now.
                let Some(holder) = read_lock(state_path)? else {
                    continue;
                };
                return Err(StateError::Locked {
                    path: state_path.to_path_buf(),
                    stale: holder.is_stale(),
                    holder: Box::new(holder),
                    waited: round(waited),
                });
            }
            std::thread::sleep(POLL.min(timeout - waited));
        }
    }

    pub fn info(&self) -> &LockInfo {
        &self.info
    }

    /// Releases the lock, reporting a failure to remove the lock file.
    pub fn release(mut self) -> Result<(), StateError> {
        self.released = true;
        self.remove_if_ours()
    }

    fn remove_if_ours(&self) -> Result<(), StateError> {
        match read_lock(&self.state_path)? {
            Some(LockHolder::Known(i)) if i.id == self.info.id => {
                fs::remove_file(lock_path(&self.state_path)).or_else(|e| {
                    if e.kind() == io::ErrorKind::NotFound {
                        Ok(())
                    } else {
                        Err(StateError::Lock {
                            path: self.state_path.clone(),
                            step: "removing it",
                            source: e,
                        })
                    }
                })
            }
            // Force-unlocked (and perhaps taken by another run): not ours.
            _ => Ok(()),
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        if !self.released {
            let _ = self.remove_if_ours();
        }
    }
}

/// Who holds the lock of the state file `state_path`, if anyone.
pub fn read_lock(state_path: &Path) -> Result<Option<LockHolder>, StateError> {
    let bytes = match crate::limits::read(&lock_path(state_path), crate::limits::LOCK_FILE) {
        Ok(b) => b,
        Err(ReadError::TooLarge { limit }) => {
            // Not a lock this tool wrote; the operator can inspect it and
            // force-unlock.
            return Ok(Some(LockHolder::Unreadable {
                reason: format!(
                    "it is larger than {}, and a lock file is one small JSON object",
                    crate::limits::size_text(limit)
                ),
            }));
        }
        Err(ReadError::Io(e)) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(ReadError::Io(e)) => {
            return Err(StateError::Lock {
                path: state_path.to_path_buf(),
                step: "reading it",
                source: e,
            })
        }
    };
    Ok(Some(match serde_json::from_slice::<LockInfo>(&bytes) {
        Ok(info) => LockHolder::Known(info),
        Err(e) if bytes.is_empty() => LockHolder::Unreadable {
            reason: format!("it is empty ({e})"),
        },
        Err(e) => LockHolder::Unreadable {
            reason: e.to_string(),
        },
    }))
}

/// Removes the lock of `state_path` whoever holds it, returning the holder
/// it named (`None`: there was no lock). The caller confirms first.
pub fn force_unlock(state_path: &Path) -> Result<Option<LockHolder>, StateError> {
    let holder = read_lock(state_path)?;
    if holder.is_some() {
        remove_lock_file(state_path)?;
    }
    Ok(holder)
}

/// Removes the lock of `state_path` only if it is still held by `expected`
/// (the holder shown to the operator when asking for confirmation), so a
/// lock taken meanwhile by another run is not broken.
pub fn force_unlock_if(state_path: &Path, expected: &LockHolder) -> Result<(), StateError> {
    match read_lock(state_path)? {
        None => Ok(()),
        Some(now) if &now == expected => remove_lock_file(state_path),
        Some(now) => Err(StateError::LockChanged {
            path: state_path.to_path_buf(),
            now: now.to_string(),
        }),
    }
}

fn remove_lock_file(state_path: &Path) -> Result<(), StateError> {
    match fs::remove_file(lock_path(state_path)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StateError::Lock {
            path: state_path.to_path_buf(),
            step: "removing it",
            source: e,
        }),
    }
}

/// Whole seconds from one second on, milliseconds below: for messages.
fn round(d: Duration) -> Duration {
    if d >= Duration::from_secs(1) {
        Duration::from_secs(d.as_secs())
    } else {
        Duration::from_millis(d.as_millis() as u64)
    }
}

/// The name of this host, as `hostname` prints it.
pub fn this_host() -> String {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer is valid for its length; gethostname writes at
        // most that many bytes.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if rc == 0 {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            if end > 0 {
                return String::from_utf8_lossy(&buf[..end]).into_owned();
            }
        }
    }
    std::env::var("HOSTNAME").unwrap_or_else(|_| "unknown-host".to_string())
}

/// Whether a process with this pid exists on this host.
pub fn pid_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        if pid <= 0 {
            return false;
        }
        // SAFETY: signal 0 performs only the existence and permission check.
        let rc = unsafe { libc::kill(pid, 0) };
        // EPERM: it exists but belongs to another user.
        rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_reaped_child_is_not() {
        assert!(pid_alive(std::process::id()));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(!pid_alive(pid));
    }

    #[test]
    fn an_oversized_lock_file_is_unreadable_and_not_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("s.json");
        // A valid lock padded past the limit: the size alone decides.
        let info = LockInfo {
            id: "x".into(),
            pid: std::process::id(),
            host: this_host(),
            created_at: "2026-01-01T00:00:00Z".into(),
            operation: "apply".into(),
            user: None,
        };
        let mut bytes = serde_json::to_vec(&info).unwrap();
        bytes.resize(crate::limits::LOCK_FILE as usize + 1, b' ');
        fs::write(lock_path(&state), &bytes).unwrap();
        match read_lock(&state).unwrap().unwrap() {
            LockHolder::Unreadable { reason } => {
                assert!(reason.contains("larger than 64 KiB"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_empty_lock_file_is_reported_unreadable_not_stale() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("s.json");
        fs::write(lock_path(&state), b"").unwrap();
        let holder = read_lock(&state).unwrap().unwrap();
        assert!(matches!(holder, LockHolder::Unreadable { .. }));
        assert!(!holder.is_stale());
    }

    #[test]
    fn a_lock_of_a_dead_process_on_this_host_is_stale() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let info = LockInfo {
            id: "x".into(),
            pid,
            host: this_host(),
            created_at: "2026-01-01T00:00:00Z".into(),
            operation: "apply".into(),
            user: None,
        };
        assert!(LockHolder::Known(info.clone()).is_stale());
        let elsewhere = LockInfo {
            host: format!("{}-other", this_host()),
            ..info
        };
        assert!(!LockHolder::Known(elsewhere).is_stale());
    }
}
