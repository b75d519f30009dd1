//! Finding the leading Mesos master, once or continuously, the way Mesos'
//! ZooKeeper master detector does: list the children of the path, elect the
//! lowest `json.info_` sequence, read its JSON MasterInfo.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use zookeeper_client::{Client, Error as ZkClientError, EventType, OneshotWatcher, SessionState};

use crate::master_info::{parse_master_info, preview, MasterInfo};
use crate::session::{connect, within, SESSION_TIMEOUT};
use crate::znode::{elect, Election};
use crate::{ZkError, ZkUrl};

/// Bound on one ZooKeeper call made by a [`LeaderWatch`].
const WATCH_CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Pause before a [`LeaderWatch`] retries after a transient failure.
const WATCH_RETRY_DELAY: Duration = Duration::from_secs(1);

/// Finds the leading master registered under the URL's path.
///
/// `timeout` bounds the whole look-up, connecting included. The session is
/// closed before returning.
pub async fn find_leader(url: &ZkUrl, timeout: Duration) -> Result<MasterInfo, ZkError> {
    let deadline = Instant::now() + timeout;
    let client = connect(url, timeout).await?;
    let (state, _) = snapshot(&client, url, false, deadline, timeout).await?;
    state
}

/// A stream of leadership changes, from [`watch_leader`].
///
/// Each item is the new state: `Ok(leader)` or the reason there is none
/// usable (`NoMaster`, `OnlyLegacyMasters`, `MalformedNode`, or a transient
/// ZooKeeper failure). An item is yielded only when the state differs from
/// the previous one (a different leading znode, or a different error). The
/// stream ends after yielding `SessionExpired` (or another error that no
/// retry can cure); call [`watch_leader`] again to start over. Dropping it
/// closes the session.
#[derive(Debug)]
pub struct LeaderWatch {
    rx: mpsc::Receiver<Result<MasterInfo, ZkError>>,
    task: JoinHandle<()>,
}

impl LeaderWatch {
    /// The next leadership state; `None` once the watch has ended.
    pub async fn next_leader(&mut self) -> Option<Result<MasterInfo, ZkError>> {
        self.rx.recv().await
    }
}

impl futures_core::Stream for LeaderWatch {
    type Item = Result<MasterInfo, ZkError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().rx.poll_recv(cx)
    }
}

impl Drop for LeaderWatch {
    fn drop(&mut self) {
        // Dropping the task drops its client, which closes the session.
        self.task.abort();
    }
}

/// Watches the leading master under the URL's path.
///
/// Connects within `timeout` (returning `Unreachable` otherwise), then
/// yields the current state at once and again on every change. Needs a
/// tokio runtime; the watching runs on a spawned task.
pub async fn watch_leader(url: &ZkUrl, timeout: Duration) -> Result<LeaderWatch, ZkError> {
    let client = connect(url, timeout).await?;
    let (tx, rx) = mpsc::channel(16);
    let task = tokio::spawn(watch_loop(client, url.clone(), tx));
    Ok(LeaderWatch { rx, task })
}

/// Errors after which the session cannot be used any more.
fn is_terminal(error: &ZkError) -> bool {
    matches!(
        error,
        ZkError::SessionExpired { .. }
            | ZkError::AuthFailed { .. }
            | ZkError::Zk {
                source: ZkClientError::ClientClosed,
                ..
            }
    )
}

/// A comparable identity of a state, so unchanged states are not repeated.
fn state_key(state: &Result<MasterInfo, ZkError>) -> String {
    match state {
        Ok(leader) => format!("leader {}", leader.znode),
        Err(e) => format!("error {e}"),
    }
}

/// Sends states to the [`LeaderWatch`], skipping repeats of the last one.
struct Emitter {
    tx: mpsc::Sender<Result<MasterInfo, ZkError>>,
    last: Option<String>,
}

impl Emitter {
    /// Sends `state` if it differs from the last one; false once the
    /// reader is gone. Waiting for a slow reader loses nothing: the ZooKeeper
    /// watch is already set and keeps the next change.
    async fn emit(&mut self, state: Result<MasterInfo, ZkError>) -> bool {
        let key = state_key(&state);
        if self.last.as_deref() == Some(key.as_str()) {
            return true;
        }
        self.last = Some(key);
        self.tx.send(state).await.is_ok()
    }
}

async fn watch_loop(client: Client, url: ZkUrl, tx: mpsc::Sender<Result<MasterInfo, ZkError>>) {
    let mut out = Emitter { tx, last: None };
    loop {
        let deadline = Instant::now() + WATCH_CALL_TIMEOUT;
        match snapshot(&client, &url, true, deadline, WATCH_CALL_TIMEOUT).await {
            Err(error) => {
                let terminal = is_terminal(&error);
                if !out.emit(Err(error)).await || terminal {
                    return;
                }
                tokio::time::sleep(WATCH_RETRY_DELAY).await;
            }
            Ok((state, watcher)) => {
                if !out.emit(state).await {
                    return;
                }
                let Some(watcher) = watcher else { continue };
                let event = watcher.changed().await;
                if event.event_type != EventType::Session {
                    continue;
                }
                let url = url.to_string();
                let end = match event.session_state {
                    SessionState::Expired | SessionState::Closed => ZkError::SessionExpired { url },
                    SessionState::AuthFailed => ZkError::AuthFailed { url },
                    _ => continue,
                };
                out.emit(Err(end)).await;
                return;
            }
        }
    }
}

/// Reads the current leadership state. The outer error is a failure to
/// talk to ZooKeeper; the inner result is what the masters' path says.
/// With `watch`, also returns a watcher that fires on the next change.
async fn snapshot(
    client: &Client,
    url: &ZkUrl,
    watch: bool,
    deadline: Instant,
    budget: Duration,
) -> Result<(Result<MasterInfo, ZkError>, Option<OneshotWatcher>), ZkError> {
    let path = url.path();
    let fail = |operation, e| Err(ZkError::from_zk(url, path, operation, e));
    // Loops only when the elected znode vanished between listing and reading.
    loop {
        let listed = if watch {
            within(
                url,
                path,
                "listing the children",
                deadline,
                budget,
                client.list_and_watch_children(path),
            )
            .await?
            .map(|(children, watcher)| (children, Some(watcher)))
        } else {
            within(
                url,
                path,
                "listing the children",
                deadline,
                budget,
                client.list_children(path),
            )
            .await?
            .map(|children| (children, None))
        };
        let (children, watcher) = match listed {
            Ok(listed) => listed,
            Err(ZkClientError::NoNode) => {
                let no_path = ZkError::NoMaster {
                    url: url.to_string(),
                    path: path.to_string(),
                    detail: "the path does not exist (no master ever registered there: check the path in the URL)"
                        .to_string(),
                };
                if !watch {
                    return Ok((Err(no_path), None));
                }
                let checked = within(
                    url,
                    path,
                    "watching",
                    deadline,
                    budget,
                    client.check_and_watch_stat(path),
                )
                .await?;
                match checked {
                    // Created meanwhile: list again.
                    Ok((Some(_), _)) => continue,
                    Ok((None, watcher)) => return Ok((Err(no_path), Some(watcher))),
                    Err(e) => return fail("watching", e),
                }
            }
            Err(e) => return fail("listing the children", e),
        };
        let member = match elect(&children) {
            Election::Leader(member) => member,
            Election::OnlyLegacy(nodes) => {
                let error = ZkError::OnlyLegacyMasters {
                    url: url.to_string(),
                    path: path.to_string(),
                    nodes,
                };
                return Ok((Err(error), watcher));
            }
            Election::Empty => {
                let detail = if children.is_empty() {
                    "the path has no children (are the masters started with this --zk URL?)"
                        .to_string()
                } else {
                    format!(
                        "none of its {} children is a json.info_ znode (are the masters started with this --zk URL?)",
                        children.len()
                    )
                };
                let error = ZkError::NoMaster {
                    url: url.to_string(),
                    path: path.to_string(),
                    detail,
                };
                return Ok((Err(error), watcher));
            }
        };
        let node = url.child_path(&member.name);
        let data = match within(
            url,
            &node,
            "reading",
            deadline,
            budget,
            client.get_data(&node),
        )
        .await?
        {
            Ok((data, _stat)) => data,
            Err(ZkClientError::NoNode) => continue,
            Err(e) => return Err(ZkError::from_zk(url, &node, "reading", e)),
        };
        let state =
            parse_master_info(&node, member.sequence, &data).map_err(|m| ZkError::MalformedNode {
                url: url.to_string(),
                node: node.clone(),
                reason: m.0,
                preview: preview(&data),
            });
        return Ok((state, watcher));
    }
}

// The session timeout is referenced here so the watch's call bound stays
// above it: a call may legitimately wait for a reconnection that long.
const _: () = assert!(WATCH_CALL_TIMEOUT.as_secs() > SESSION_TIMEOUT.as_secs());
