//! Mesos master discovery and registration through ZooKeeper.
//!
//! Mesos masters started with `--zk=zk://host1:2181,host2:2181/mesos` each
//! hold an ephemeral sequential znode `json.info_<sequence>` under the path,
//! whose data is their `MasterInfo` as JSON; the lowest sequence is the
//! leader. This crate reads that ([`find_leader`], [`watch_leader`]) so a
//! scheduler given a `zk://` master URL can reach the leader's HTTP API, and
//! writes it ([`register_master`]) so an emulated master can be found by
//! real Mesos clients.
//!
//! [`list_children_with_ctime`] serves elections decided by creation order
//! instead (Alluxio's masters, whose leader is the newest child of a path).
//!
//! [`DocumentStore`] keeps one versioned document (alluxio-mesos's state)
//! under a path: compare-and-set writes, a backup, chunks past ZooKeeper's
//! 1 MB node limit, and an ephemeral lock.
//!
//! Not covered: legacy (< 0.24) protobuf `info_` znodes, which are reported
//! rather than read; and the replicated log or registry that Mesos also keeps
//! in ZooKeeper.

mod children;
mod contender;
mod detector;
mod document;
mod error;
mod master_info;
mod session;
mod url;
mod znode;

pub use children::{list_children_with_ctime, ZnodeChild};
pub use contender::{register_master, Registration, REGISTER_TIMEOUT};
pub use detector::{find_leader, watch_leader, LeaderWatch};
pub use document::{
    DocumentStore, LockAttempt, Storage, Versioned, WriteOutcome, CHUNK_SIZE, INLINE_LIMIT,
};
pub use error::ZkError;
pub use master_info::MasterInfo;
pub use mesos_api::Secret;
pub use url::{Credentials, ZkUrl, DEFAULT_ZK_PORT};
pub use znode::MASTER_INFO_JSON_LABEL;
