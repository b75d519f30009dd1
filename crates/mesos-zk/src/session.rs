//! Opening a ZooKeeper session for a [`ZkUrl`], with its digest credentials,
//! and bounding each call by a deadline.

use std::future::Future;
use std::time::Duration;

use zookeeper_client::{Client, Error as ZkClientError};

use crate::{ZkError, ZkUrl};

/// Session timeout asked of the server; Mesos' detector and contender use
/// 10 seconds (`MASTER_DETECTOR_ZK_SESSION_TIMEOUT`,
/// `MASTER_CONTENDER_ZK_SESSION_TIMEOUT`). The server may clamp it to its
/// own min/max (2 and 20 ticks).
pub(crate) const SESSION_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to any server of the URL within `timeout`.
pub(crate) async fn connect(url: &ZkUrl, timeout: Duration) -> Result<Client, ZkError> {
    let mut connector = Client::connector().with_session_timeout(SESSION_TIMEOUT);
    if let Some(credentials) = url.credentials() {
        connector = connector.with_auth("digest", &credentials.digest_auth());
    }
    let unreachable = |detail: String| ZkError::Unreachable {
        url: url.to_string(),
        servers: url.servers().to_vec(),
        timeout,
        detail,
    };
    match tokio::time::timeout(timeout, connector.connect(&url.connect_string())).await {
        Err(_) => Err(unreachable("no server accepted a session".to_string())),
        Ok(Ok(client)) => Ok(client),
        Ok(Err(ZkClientError::Timeout | ZkClientError::NoHosts)) => {
            Err(unreachable("no server accepted a session".to_string()))
        }
        Ok(Err(ZkClientError::ConnectionLoss)) => Err(unreachable(
            "connections were lost while starting the session".to_string(),
        )),
        Ok(Err(e)) => Err(ZkError::from_zk(
            url,
            url.path(),
            "opening a session for",
            e,
        )),
    }
}

/// Awaits one call within the deadline (`budget` is the whole allowance,
/// for the message); ZooKeeper errors stay raw so the caller can react to
/// `NoNode`.
pub(crate) async fn within<T>(
    url: &ZkUrl,
    path: &str,
    operation: &'static str,
    deadline: tokio::time::Instant,
    budget: Duration,
    fut: impl Future<Output = Result<T, ZkClientError>>,
) -> Result<Result<T, ZkClientError>, ZkError> {
    tokio::time::timeout_at(deadline, fut)
        .await
        .map_err(|_| ZkError::Timeout {
            url: url.to_string(),
            path: path.to_string(),
            operation,
            timeout: budget,
        })
}

/// Awaits one ZooKeeper call, mapping its error and bounding it by `timeout`.
pub(crate) async fn call<T>(
    url: &ZkUrl,
    path: &str,
    operation: &'static str,
    timeout: Duration,
    fut: impl Future<Output = Result<T, ZkClientError>>,
) -> Result<T, ZkError> {
    match tokio::time::timeout(timeout, fut).await {
        Err(_) => Err(ZkError::Timeout {
            url: url.to_string(),
            path: path.to_string(),
            operation,
            timeout,
        }),
        Ok(result) => result.map_err(|e| ZkError::from_zk(url, path, operation, e)),
    }
}
