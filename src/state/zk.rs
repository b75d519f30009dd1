//! The ZooKeeper backend: the state document in the znode `<path>/state`
//! (chunked past 256 KiB, see `mesos_zk::DocumentStore`), its previous
//! version in `<path>/state.backup`, and the lock as the ephemeral znode
//! `<path>/state.lock` holding who/where/when. Writes compare-and-set on
//! the znode version, so a concurrent writer is never overwritten; a
//! holder that dies loses its lock when its session expires.
//!
//! The rest of the tool is synchronous (and the apply engine calls the
//! store from inside its own runtime), so the session lives on a runtime of
//! its own and each call waits for its answer on a channel.

use super::backend::{LockTaken, Revision, StateBackend};
use super::error::StateError;
use super::file::parse;
use super::lock::{LockHolder, LockInfo};
use super::State;
use mesos_zk::{DocumentStore, LockAttempt, WriteOutcome, ZkError, ZkUrl};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The state znode's name under the URL's path.
pub const STATE_ZNODE: &str = "state";
/// How long one ZooKeeper call (or opening the session) may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(15);
/// How often a waiting run looks at the lock again.
const LOCK_POLL: Duration = Duration::from_millis(200);
/// How long a run waits for the lock znode of a holder that died on this
/// host: its session's expiry (10 s asked, at most what the server grants)
/// with room to spare.
const DEAD_HOLDER_SESSION_WAIT: Duration = Duration::from_secs(30);

pub struct ZkBackend {
    rt: Option<tokio::runtime::Runtime>,
    /// `None` only once dropped.
    store: Option<Arc<DocumentStore>>,
    url: ZkUrl,
    /// The data of our lock znode while we hold it.
    held: Option<Vec<u8>>,
}

impl std::fmt::Debug for ZkBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ZkBackend({})", self.location())
    }
}

impl ZkBackend {
    pub fn open(url: &ZkUrl) -> Result<ZkBackend, StateError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("zk-state")
            .enable_all()
            .build()
            .map_err(|e| StateError::Remote {
                location: url.to_string(),
                detail: format!("cannot start the ZooKeeper client's runtime: {e}"),
            })?;
        let u = url.clone();
        let store = on(&rt, async move {
            DocumentStore::open(&u, STATE_ZNODE, CALL_TIMEOUT).await
        })
        .map_err(|e| remote(url, e))?;
        Ok(ZkBackend {
            rt: Some(rt),
            store: Some(Arc::new(store)),
            url: url.clone(),
            held: None,
        })
    }

    /// Runs one call of the document store on the session's runtime.
    fn run<T: Send + 'static, F>(
        &self,
        call: impl FnOnce(Arc<DocumentStore>) -> F,
    ) -> Result<T, StateError>
    where
        F: Future<Output = Result<T, ZkError>> + Send + 'static,
    {
        let rt = self
            .rt
            .as_ref()
            .expect("runtime lives as long as the backend");
        let store = self
            .store
            .clone()
            .expect("the store lives as long as the backend");
        on(rt, call(store)).map_err(|e| remote(&self.url, e))
    }

    /// The document's URL, as state errors name it (`.backup` and `.lock`
    /// appended name the other two znodes).
    fn document_path(&self) -> PathBuf {
        PathBuf::from(format!("{}/{STATE_ZNODE}", self.url))
    }

    /// How the state is stored now (inline or in chunks), for reports.
    pub fn storage(&self) -> Result<Option<mesos_zk::Storage>, StateError> {
        self.run(|s| async move { s.storage().await })
    }

    fn holder(&self, data: &[u8]) -> LockHolder {
        match serde_json::from_slice::<LockInfo>(data) {
            Ok(info) => LockHolder::Known(info),
            Err(e) => LockHolder::Unreadable {
                reason: e.to_string(),
            },
        }
    }
}

/// Spawns `fut` on `rt` and waits for it here: works from inside another
/// runtime too, where `block_on` would panic.
fn on<T: Send + 'static>(
    rt: &tokio::runtime::Runtime,
    fut: impl Future<Output = T> + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    rt.spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv().expect("the ZooKeeper call's task answers")
}

fn remote(url: &ZkUrl, e: ZkError) -> StateError {
    StateError::Remote {
        location: format!("{url}/{STATE_ZNODE}"),
        detail: e.to_string(),
    }
}

impl StateBackend for ZkBackend {
    fn location(&self) -> String {
        format!("{}/{STATE_ZNODE}", self.url)
    }

    fn read(&self) -> Result<Option<(State, Revision)>, StateError> {
        let Some(doc) = self.run(|s| async move { s.read().await })? else {
            return Ok(None);
        };
        if doc.bytes.len() as u64 > crate::limits::STATE_FILE {
            return Err(StateError::TooLarge {
                path: self.document_path(),
                limit: crate::limits::STATE_FILE,
            });
        }
        let state = parse(&self.document_path(), &doc.bytes)?;
        Ok(Some((state, Revision(i64::from(doc.version)))))
    }

    fn write(
        &mut self,
        _state: &State,
        bytes: &[u8],
        expected: Option<Revision>,
    ) -> Result<Revision, StateError> {
        let bytes = bytes.to_vec();
        let expected_version = expected.map(|r| r.0 as i32);
        match self.run(move |s| async move { s.write(&bytes, expected_version).await })? {
            WriteOutcome::Written { version, .. } => Ok(Revision(i64::from(version))),
            WriteOutcome::Conflict { found } => Err(StateError::Conflict {
                location: self.location(),
                found: found.map_or("no state".into(), |v| format!("znode version {v}")),
                expected: expected_version
                    .map_or("no state".into(), |v| format!("znode version {v}")),
            }),
        }
    }

    fn lock(&mut self, operation: &str, timeout: Duration) -> Result<LockTaken, StateError> {
        let info = LockInfo::for_this_process(operation);
        let body = serde_json::to_vec_pretty(&info).expect("LockInfo serializes");
        let start = Instant::now();
        let mut dead_holder = None;
        loop {
            let data = body.clone();
            match self.run(move |s| async move { s.try_lock(&data).await })? {
                LockAttempt::Acquired => {
                    self.held = Some(body);
                    return Ok(LockTaken {
                        info,
                        took_over: dead_holder,
                    });
                }
                LockAttempt::HeldBy(data) => {
                    let holder = self.holder(&data);
                    // A holder of this host that no longer runs: its znode
                    // goes when its session expires, so wait for that
                    // rather than send the operator to force-unlock.
                    let patience = if holder.is_stale() {
                        timeout.max(DEAD_HOLDER_SESSION_WAIT)
                    } else {
                        timeout
                    };
                    let waited = start.elapsed();
                    if waited >= patience {
                        return Err(StateError::RemoteLocked {
                            location: self.location(),
                            holder: Box::new(holder),
                            waited: Duration::from_secs(waited.as_secs()),
                        });
                    }
                    dead_holder = holder.is_stale().then_some(holder);
                    std::thread::sleep(LOCK_POLL.min(patience - waited));
                }
            }
        }
    }

    fn unlock(&mut self) -> Result<(), StateError> {
        let Some(data) = self.held.take() else {
            return Ok(());
        };
        // Force-unlocked (and perhaps taken by another run): not ours.
        self.run(move |s| async move { s.unlock_if(&data).await })
            .map(|_| ())
    }

    fn read_lock(&self) -> Result<Option<LockHolder>, StateError> {
        let found = self.run(|s| async move { s.read_lock().await })?;
        Ok(found.map(|(data, _)| self.holder(&data)))
    }

    fn force_unlock_if(&mut self, expected: &LockHolder) -> Result<(), StateError> {
        let Some((data, _)) = self.run(|s| async move { s.read_lock().await })? else {
            return Ok(());
        };
        let now = self.holder(&data);
        if &now != expected {
            return Err(StateError::LockChanged {
                path: self.document_path(),
                now: now.to_string(),
            });
        }
        match self.run(move |s| async move { s.unlock_if(&data).await })? {
            None => Ok(()),
            Some(other) => Err(StateError::LockChanged {
                path: self.document_path(),
                now: self.holder(&other).to_string(),
            }),
        }
    }

    fn read_backup(&self) -> Result<Option<Vec<u8>>, StateError> {
        self.run(|s| async move { s.read_backup().await })
    }
}

impl Drop for ZkBackend {
    fn drop(&mut self) {
        let _ = self.unlock();
        if let (Some(rt), Some(store)) = (&self.rt, self.store.take()) {
            if let Ok(store) = Arc::try_unwrap(store) {
                on(rt, store.close());
            }
        }
        if let Some(rt) = self.rt.take() {
            // Allowed inside another runtime, unlike dropping it.
            rt.shutdown_background();
        }
    }
}
