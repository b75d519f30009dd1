//! The one error type of this crate.
//!
//! Every message is one line naming the ZooKeeper URL (always in its
//! redacted form: the fields hold `ZkUrl`'s `Display`, never the raw input)
//! and, where it matters, the znode path, so the user can tell which cluster
//! and which `--zk` path was looked at.

use std::time::Duration;

/// Why finding or registering a Mesos master through ZooKeeper failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ZkError {
    /// The `zk://` URL does not parse.
    #[error("invalid ZooKeeper URL '{url}': {reason}")]
    InvalidUrl { url: String, reason: String },

    /// No server of the URL accepted a session in time.
    #[error(
        "no ZooKeeper reachable for {url}: tried {} within {timeout:?} ({detail}); check the servers are up and the host:port list is right",
        servers.join(", ")
    )]
    Unreachable {
        url: String,
        servers: Vec<String>,
        timeout: Duration,
        detail: String,
    },

    /// The session was established but an operation did not finish in time.
    #[error("ZooKeeper at {url} did not answer {operation} of '{path}' within {timeout:?}")]
    Timeout {
        url: String,
        path: String,
        operation: &'static str,
        timeout: Duration,
    },

    /// No `json.info_` znode exists under the path.
    #[error("no Mesos master is registered under '{path}' in ZooKeeper at {url}: {detail}")]
    NoMaster {
        url: String,
        path: String,
        detail: String,
    },

    /// The znode a listing was asked of does not exist.
    #[error("znode '{path}' does not exist in ZooKeeper at {url}")]
    NoNode { url: String, path: String },

    /// Only masters older than Mesos 0.24 (protobuf `info_` znodes) are
    /// registered; their data is not read.
    #[error(
        "only legacy Mesos (< 0.24) master znodes are registered under '{path}' in ZooKeeper at {url} ({}); they hold protobuf data, which is not supported: upgrade the masters so they write json.info_ znodes",
        nodes.join(", ")
    )]
    OnlyLegacyMasters {
        url: String,
        path: String,
        nodes: Vec<String>,
    },

    /// The leader's znode does not hold a JSON MasterInfo.
    #[error("malformed MasterInfo in znode '{node}' in ZooKeeper at {url}: {reason}; data starts with {preview}")]
    MalformedNode {
        url: String,
        node: String,
        reason: String,
        preview: String,
    },

    /// The MasterInfo given to `register_master` would not be readable by
    /// Mesos' detector.
    #[error("refusing to register under '{path}' in ZooKeeper at {url}: {reason}")]
    InvalidMasterInfo {
        url: String,
        path: String,
        reason: String,
    },

    /// The server ended the session (for example after a long partition).
    #[error("ZooKeeper session to {url} expired; ephemeral znodes of that session are gone, connect again")]
    SessionExpired { url: String },

    /// The credentials of the URL were refused.
    #[error(
        "ZooKeeper at {url} refused the digest credentials of the URL (authentication failed)"
    )]
    AuthFailed { url: String },

    /// The session lacks the permission an operation needs.
    #[error("ZooKeeper at {url} denied {operation} of '{path}': not authorized (check the credentials in the URL and the znode ACLs)")]
    NotAuthorized {
        url: String,
        path: String,
        operation: &'static str,
    },

    /// Any other ZooKeeper failure.
    #[error("ZooKeeper at {url} failed {operation} of '{path}': {source}")]
    Zk {
        url: String,
        path: String,
        operation: &'static str,
        #[source]
        source: zookeeper_client::Error,
    },
}

impl ZkError {
    /// Maps a ZooKeeper client error of an operation on `path` to the most
    /// specific variant.
    pub(crate) fn from_zk(
        url: &crate::ZkUrl,
        path: &str,
        operation: &'static str,
        source: zookeeper_client::Error,
    ) -> ZkError {
        use zookeeper_client::Error as E;
        let url = url.to_string();
        match source {
            E::SessionExpired => ZkError::SessionExpired { url },
            E::AuthFailed => ZkError::AuthFailed { url },
            E::NoAuth => ZkError::NotAuthorized {
                url,
                path: path.to_string(),
                operation,
            },
            source => ZkError::Zk {
                url,
                path: path.to_string(),
                operation,
                source,
            },
        }
    }
}
