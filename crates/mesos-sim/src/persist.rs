//! Saving the emulator's state (IDs, agents, frameworks, tasks, the
//! transition record) to a JSON file and loading it at start, so that
//! successive in-process CLI runs see the same cluster and tasks.
//! Runtime-only parts (connections, timers, processes) are not saved;
//! after a load every framework counts as disconnected from that moment.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::model::{Agent, Framework, Master, Timer, Transition};

const FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
struct SnapshotRef<'a> {
    format_version: u32,
    master_id: &'a str,
    next_framework: u64,
    next_offer: u64,
    agents: &'a BTreeMap<String, Agent>,
    frameworks: &'a BTreeMap<String, Framework>,
    removed_frameworks: &'a BTreeMap<String, Framework>,
    transitions: &'a [Transition],
}

/// A saved emulator state.
#[derive(Deserialize)]
pub struct Snapshot {
    format_version: u32,
    pub master_id: String,
    next_framework: u64,
    next_offer: u64,
    agents: BTreeMap<String, Agent>,
    frameworks: BTreeMap<String, Framework>,
    removed_frameworks: BTreeMap<String, Framework>,
    transitions: Vec<Transition>,
}

/// Writes the state atomically (temporary file, then rename).
pub fn save(m: &Master, file: &Path) -> std::io::Result<()> {
    let snap = SnapshotRef {
        format_version: FORMAT_VERSION,
        master_id: &m.id,
        next_framework: m.next_framework,
        next_offer: m.next_offer,
        agents: &m.agents,
        frameworks: &m.frameworks,
        removed_frameworks: &m.removed_frameworks,
        transitions: &m.transitions,
    };
    let bytes = serde_json::to_vec(&snap).map_err(std::io::Error::other)?;
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = file.with_extension("json.tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, file)
}

/// The largest saved state read back: it grows with the cluster like the
/// scheduler's state file (a few MB for 10,000 agents).
pub const MAX_SNAPSHOT_BYTES: u64 = 256 * 1024 * 1024;

/// Reads the whole file if it holds at most `limit` bytes, never holding
/// more than `limit + 1`: a path naming a device or a runaway file fails
/// with [`std::io::ErrorKind::FileTooLarge`] instead of exhausting memory.
pub fn read_bounded(file: &Path, limit: u64, what: &str) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(file)?
        .take(limit + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("it is larger than {} MiB, more than {what}", limit >> 20),
        ));
    }
    Ok(bytes)
}

/// Reads a saved state; `Ok(None)` when there is none yet.
pub fn load(file: &Path) -> Result<Option<Snapshot>, String> {
    load_bounded(file, MAX_SNAPSHOT_BYTES)
}

fn load_bounded(file: &Path, limit: u64) -> Result<Option<Snapshot>, String> {
    let read = read_bounded(file, limit, "any saved emulator state holds");
    let bytes = match read {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", file.display())),
    };
    let snap: Snapshot = serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "{} is not a mesos-sim state file ({e}); delete it to start afresh",
            file.display()
        )
    })?;
    if snap.format_version != FORMAT_VERSION {
        return Err(format!(
            "{} has format_version {}, this mesos-sim reads {FORMAT_VERSION}; delete it to start afresh",
            file.display(),
            snap.format_version
        ));
    }
    Ok(Some(snap))
}

impl Master {
    /// Takes over a saved state. Agents keep their saved resources;
    /// frameworks are disconnected as of now; tasks that were on their way
    /// to RUNNING continue.
    pub fn restore(&mut self, snap: Snapshot) {
        let now = Instant::now();
        self.id = snap.master_id;
        self.next_framework = snap.next_framework;
        self.next_offer = snap.next_offer;
        // Saved agents keep their IDs; the cluster file still decides their
        // resources and attributes, and agents new to it are added.
        self.agents = snap.agents;
        for spec in self.spec.agents.clone() {
            match self.find_agent(&spec.hostname) {
                Some(id) => {
                    let old = &self.agents[&id];
                    let mut a = Agent::from_spec(&spec, id.clone());
                    // The saved port is asked for again when listening starts.
                    a.port = old.port;
                    a.removed = old.removed;
                    a.registered_time = old.registered_time;
                    self.agents.insert(id, a);
                }
                None => {
                    self.add_agent(&spec);
                }
            }
        }
        self.frameworks = snap.frameworks;
        self.removed_frameworks = snap.removed_frameworks;
        self.transitions = snap.transitions;
        let retry = self.spec.timing.status_update_retry;
        let mut timers = Vec::new();
        for fw in self.frameworks.values_mut() {
            fw.disconnected_at = Some(now);
            for (tid, t) in fw.tasks.iter_mut() {
                let timer = match t.state {
                    mesos_api::TaskState::Staging => Some(Timer::Starting),
                    mesos_api::TaskState::Starting => Some(Timer::Running),
                    mesos_api::TaskState::Killing => Some(Timer::Killed),
                    _ => None,
                };
                timers.push((fw.id.clone(), tid.clone(), timer.map(|k| (k, now))));
                for p in t.pending.iter_mut() {
                    p.backoff = retry;
                }
            }
        }
        for (fid, tid, timer) in timers {
            self.set_timer(&fid, &tid, timer);
        }
    }
}

#[cfg(test)]
mod bounded_tests {
    use super::*;

    #[test]
    fn an_endless_saved_state_fails_at_the_limit() {
        let Err(err) = load_bounded(Path::new("/dev/zero"), 2 << 20) else {
            panic!("read /dev/zero");
        };
        assert!(err.contains("/dev/zero"), "{err}");
        assert!(err.contains("larger than 2 MiB"), "{err}");
    }
}
