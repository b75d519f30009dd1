//! The lock file `<state>.lock` that guards apply and destroy.
//!
//! The lock is the kernel's: the holder keeps an exclusive `flock` on the
//! lock file for as long as it runs, so the kernel releases it the instant
//! the holder dies, however it dies (SIGKILL, a crash, a reboot). A run
//! killed in the middle leaves nothing that blocks the next run; the next
//! run takes the lock over and says whose it was. The file's JSON only
//! names the holder (pid, host, time, operation), for the messages of a run
//! that has to wait.
//!
//! `force-unlock` stays for the cases the kernel cannot settle: a holder
//! that still runs but is known to be stuck, and a lock file that names
//! another host. On a shared filesystem this host's kernel cannot tell
//! whether that host's run still goes on (some filesystems keep locks per
//! host), so such a lock is respected until it is released or removed.
//! `force-unlock` removes the file, so the next run locks a new one.
//!
//! Releases before this one took the lock by creating the file with
//! `O_EXCL` and held no kernel lock. A lock file that does not say it is
//! kernel-held (no `kernel_lock`) and names a process of this host that
//! still runs is therefore respected as held: an older release is at work.

use super::error::{lock_path, StateError};
use crate::limits::ReadError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io;
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
    /// The holder keeps a kernel lock on the file, which ends with it: an
    /// unheld file with this set is a leftover, not a lock.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub kernel_lock: bool,
}

impl LockInfo {
    /// A new holder: this process, host and account, now.
    pub fn for_this_process(operation: &str) -> LockInfo {
        LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            pid: std::process::id(),
            host: this_host(),
            created_at: crate::state::timestamp_now(),
            operation: operation.to_string(),
            user: std::env::var("USER")
                .ok()
                .filter(|u| !u.is_empty())
                .or_else(crate::desired::effective_user_name),
            kernel_lock: false,
        }
    }

    /// Held whatever the kernel says here: by a run on another host (its
    /// kernel lock need not reach this one: a shared filesystem may keep
    /// locks per host), or by a release that held no kernel lock and whose
    /// process still runs on this host.
    fn held_without_kernel_lock(&self) -> bool {
        if self.host != this_host() {
            return true;
        }
        !self.kernel_lock && pid_alive(self.pid)
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
    /// The open lock file: its kernel lock lasts as long as it is open.
    file: File,
    /// What the file named when this run took it over: a run that ended
    /// without releasing the lock (killed, crashed).
    took_over: Option<LockHolder>,
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
        let info = LockInfo {
            kernel_lock: true,
            ..LockInfo::for_this_process(operation)
        };
        let mut body = serde_json::to_vec_pretty(&info).expect("LockInfo serializes");
        body.push(b'\n');
        let lock_err = |step, source| StateError::Lock {
            path: state_path.to_path_buf(),
            step,
            source,
        };
        let start = Instant::now();
        loop {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&lock_file)
                .map_err(|e| lock_err("opening it", e))?;
            if try_lock_exclusive(&file).map_err(|e| lock_err("locking it", e))? {
                // Its previous holder removed it between our open and lock:
                // this file is no longer the lock, the one at the path is.
                if !names_file(&lock_file, &file).map_err(|e| lock_err("checking it", e))? {
                    continue;
                }
                // Empty: created just now (by this run, or by one that
                // died before writing its name), so there is no one to name.
                let empty = file
                    .metadata()
                    .map_err(|e| lock_err("checking it", e))?
                    .len()
                    == 0;
                let previous = if empty { None } else { read_lock(state_path)? };
                let held_elsewhere = matches!(
                    &previous,
                    Some(LockHolder::Known(p)) if p.held_without_kernel_lock()
                );
                if !held_elsewhere {
                    write_holder(&file, &body).map_err(|e| lock_err("writing the holder", e))?;
                    return Ok(Lock {
                        state_path: state_path.to_path_buf(),
                        info,
                        file,
                        took_over: previous,
                        released: false,
                    });
                }
            }
            drop(file);
            let waited = start.elapsed();
            if waited >= timeout {
                // The holder may have released it just now.
                let Some(holder) = holder(state_path)? else {
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

    /// The holder named by a lock file that this run found unheld and took
    /// over: a run that ended without releasing it.
    pub fn took_over(&self) -> Option<&LockHolder> {
        self.took_over.as_ref()
    }

    /// Releases the lock, reporting a failure to remove the lock file.
    pub fn release(mut self) -> Result<(), StateError> {
        self.released = true;
        self.remove_if_ours()
    }

    /// Removes the lock file while still holding its kernel lock, so a run
    /// that opened it meanwhile sees, once it gets the lock, that the path
    /// no longer names it. Closing the file then ends the kernel lock.
    fn remove_if_ours(&self) -> Result<(), StateError> {
        let lock_file = lock_path(&self.state_path);
        let ours = names_file(&lock_file, &self.file).map_err(|e| StateError::Lock {
            path: self.state_path.clone(),
            step: "checking it",
            source: e,
        })?;
        // Force-unlocked (and perhaps taken by another run): not ours.
        if !ours {
            return Ok(());
        }
        remove_lock_file(&self.state_path)
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        if !self.released {
            let _ = self.remove_if_ours();
        }
    }
}

/// Tries to take the exclusive kernel lock of `file` without waiting:
/// false when another open file holds it.
fn try_lock_exclusive(file: &File) -> io::Result<bool> {
    flock(file, libc::LOCK_EX | libc::LOCK_NB)
}

/// Whether any process holds the kernel lock of the lock file at `path`:
/// probed with a shared lock that is given back at once.
fn kernel_lock_held(path: &Path) -> io::Result<bool> {
    match File::open(path) {
        Ok(file) => Ok(!flock(&file, libc::LOCK_SH | libc::LOCK_NB)?),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// `flock(2)`: Ok(false) when it would block.
fn flock(file: &File, operation: libc::c_int) -> io::Result<bool> {
    use std::os::unix::io::AsRawFd;
    loop {
        // SAFETY: the descriptor is open for the duration of the call.
        if unsafe { libc::flock(file.as_raw_fd(), operation) } == 0 {
            return Ok(true);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EWOULDBLOCK) => return Ok(false),
            Some(libc::EINTR) => continue,
            _ => return Err(e),
        }
    }
}

/// Whether `path` still names the open `file` (same device and inode).
fn names_file(path: &Path, file: &File) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let open = file.metadata()?;
    match fs::metadata(path) {
        Ok(named) => Ok(named.dev() == open.dev() && named.ino() == open.ino()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Replaces the file's content with `body`: written first, then cut to its
/// length, so a reader never sees an empty lock.
fn write_holder(file: &File, body: &[u8]) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.write_all_at(body, 0)?;
    file.set_len(body.len() as u64)?;
    file.sync_all()
}

/// Who holds the lock of the state file `state_path`, if anyone: the
/// holder its file names, while a run holds its kernel lock, or when it
/// names another host or an older release at work (see the module doc). A
/// file no one holds is a leftover that the next run takes over, so it is
/// not a lock.
pub fn holder(state_path: &Path) -> Result<Option<LockHolder>, StateError> {
    let Some(named) = read_lock(state_path)? else {
        return Ok(None);
    };
    let held = kernel_lock_held(&lock_path(state_path)).map_err(|e| StateError::Lock {
        path: state_path.to_path_buf(),
        step: "probing it",
        source: e,
    })?;
    let held_elsewhere = matches!(&named, LockHolder::Known(i) if i.held_without_kernel_lock());
    Ok((held || held_elsewhere).then_some(named))
}

/// What the lock file of `state_path` names, held or not.
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

/// Removes the lock file of `state_path` whoever holds it, returning the
/// holder it named (`None`: there was no lock file). The caller confirms
/// first.
pub fn force_unlock(state_path: &Path) -> Result<Option<LockHolder>, StateError> {
    let named = read_lock(state_path)?;
    if named.is_some() {
        remove_lock_file(state_path)?;
    }
    Ok(named)
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
            kernel_lock: false,
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
            kernel_lock: false,
        };
        assert!(LockHolder::Known(info.clone()).is_stale());
        let elsewhere = LockInfo {
            host: format!("{}-other", this_host()),
            ..info
        };
        assert!(!LockHolder::Known(elsewhere).is_stale());
    }
}
