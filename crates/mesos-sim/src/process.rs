//! The process of an exec-mode task, followed across emulator restarts as
//! a Mesos agent recovers its executors: the process's identity (pid and
//! start time, so that a reused pid is never taken for it) is saved with
//! the task, and a restarted emulator with a persist directory watches it
//! again and can kill it. Without a persist directory nothing outlives the
//! emulator: stopping it ends every task's process group.
//!
//! Identity needs `/proc` (Linux); elsewhere processes are not recovered.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::app::SharedApp;
use crate::sandbox::{ended, Exit};

/// A process, told apart from a later one that reuses its pid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessId {
    pub pid: u32,
    /// When it started, in clock ticks after boot (`/proc/<pid>/stat`).
    pub start: u64,
}

impl ProcessId {
    pub fn of(pid: u32) -> Option<ProcessId> {
        let (_, start) = stat(pid)?;
        Some(ProcessId { pid, start })
    }

    /// Still running (not ended, not a zombie) and the same process.
    pub fn is_running(&self) -> bool {
        matches!(stat(self.pid), Some((state, start)) if start == self.start && state != 'Z' && state != 'X')
    }

    /// Its user and system CPU seconds and resident bytes (what an agent's
    /// resource monitor reports), from `/proc/<pid>/stat` and `statm`.
    pub fn usage(&self) -> Option<(f64, f64, u64)> {
        let fields = stat_fields(self.pid)?;
        // SAFETY: sysconf has no preconditions.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        // utime and stime are fields 14 and 15 of stat(5).
        let user = fields.get(11)?.parse::<f64>().ok()? / ticks;
        let system = fields.get(12)?.parse::<f64>().ok()? / ticks;
        let statm = std::fs::read_to_string(format!("/proc/{}/statm", self.pid)).ok()?;
        let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
        // SAFETY: as above.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(1) as u64;
        Some((user, system, pages * page))
    }
}

/// The fields of `/proc/<pid>/stat` from the 3rd (the state) on.
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields follow the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_string).collect())
}

/// The state letter and start time of `pid`.
fn stat(pid: u32) -> Option<(char, u64)> {
    let fields = stat_fields(pid)?;
    let state = fields.first()?.chars().next()?;
    // The state is field 3 of stat(5), the start time field 22.
    let start = fields.get(19)?.parse().ok()?;
    Some((state, start))
}

/// A signal to send to a task's process group.
#[derive(Debug, Clone, Copy)]
pub enum Signal {
    Term,
    Kill,
}

/// Sends `signal` to the process group led by `pgid`: a task's command
/// runs as the leader of its own group. A system call, not a `kill`
/// process, as it is sent from the async runtime's threads.
pub fn signal_group(pgid: u32, signal: Signal) {
    #[cfg(unix)]
    {
        let signal = match signal {
            Signal::Term => libc::SIGTERM,
            Signal::Kill => libc::SIGKILL,
        };
        if let Ok(pgid) = libc::pid_t::try_from(pgid) {
            // SAFETY: killpg(3) only sends a signal; a group that is gone
            // answers ESRCH, which leaves nothing to do.
            unsafe {
                libc::killpg(pgid, signal);
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (pgid, signal);
}

/// How long a command has between SIGTERM and SIGKILL.
pub const GRACE: Duration = Duration::from_secs(3);

/// SIGTERM to the group, then SIGKILL once `ended` has not come true
/// within the grace period.
pub async fn terminate(pgid: u32, mut ended: impl FnMut() -> bool) {
    signal_group(pgid, Signal::Term);
    let step = Duration::from_millis(50);
    let mut waited = Duration::ZERO;
    while waited < GRACE {
        if ended() {
            return;
        }
        tokio::time::sleep(step).await;
        waited += step;
    }
    signal_group(pgid, Signal::Kill);
}

/// Takes over the processes of the tasks a saved state says were running:
/// one still running is watched (and killed when asked, also when a kill
/// was asked for before the restart); one that ended meanwhile ends its
/// task, its exit status unknown.
pub fn recover(app: &SharedApp) {
    let mut adopted = Vec::new();
    let mut gone = Vec::new();
    {
        let mut m = app.lock();
        for (fid, fw) in m.frameworks.iter_mut() {
            for (tid, t) in fw.tasks.iter_mut() {
                let Some(id) = t.process_id.filter(|_| !t.state.is_terminal()) else {
                    continue;
                };
                if !id.is_running() {
                    gone.push((fid.clone(), tid.clone()));
                    continue;
                }
                let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<()>();
                if t.kill_requested {
                    // The kill is carried out on the process, not timed.
                    t.timer = None;
                    let _ = tx.send(());
                }
                t.process = Some(tx);
                adopted.push((fid.clone(), tid.clone(), id, rx));
            }
        }
    }
    for (fid, tid) in gone {
        ended(app, &fid, &tid, Exit::WhileStopped);
    }
    for (fid, tid, id, mut kill_rx) in adopted {
        let app = app.clone();
        tokio::spawn(async move {
            // Not our child: its end is seen by polling, its status unknown.
            let poll = Duration::from_millis(200);
            while id.is_running() {
                tokio::select! {
                    Some(()) = kill_rx.recv() => terminate(id.pid, || !id.is_running()).await,
                    _ = tokio::time::sleep(poll) => {}
                }
            }
            ended(&app, &fid, &tid, Exit::Unknown);
        });
    }
}
