//! Registering as a Mesos master, as Mesos' ZooKeeper master contender
//! does: create the path (with parents) if needed, then an
//! EPHEMERAL_SEQUENTIAL `json.info_` znode holding the MasterInfo JSON.
//!
//! The znode lives as long as the session: [`Registration::close`] (or
//! dropping the [`Registration`]) ends the session, which removes it, so the
//! next master in sequence becomes the leader.
//!
//! ACLs follow `src/zookeeper/group.cpp`: without credentials everything is
//! open (`OPEN_ACL_UNSAFE`); with credentials anyone may read and only the
//! creator's identity may change anything (`EVERYONE_READ_CREATOR_ALL`).

use std::time::Duration;

use zookeeper_client::{Acl, Acls, AuthId, Client, CreateMode, Permission, SessionState};

use crate::master_info::validate;
use crate::session::{call, connect};
use crate::znode::MASTER_INFO_JSON_LABEL;
use crate::{ZkError, ZkUrl};

/// How long [`register_master`] may take, connecting included.
pub const REGISTER_TIMEOUT: Duration = Duration::from_secs(15);

/// A master's membership: the ephemeral znode and the session keeping it.
pub struct Registration {
    client: Client,
    url: ZkUrl,
    znode: String,
    sequence: i64,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("url", &self.url)
            .field("znode", &self.znode)
            .field("session_id", &self.client.session_id())
            .finish()
    }
}

impl Registration {
    /// Full path of the znode, e.g. `/mesos/json.info_0000000004`.
    pub fn znode(&self) -> &str {
        &self.znode
    }

    /// The znode's sequence number (the lowest one leads).
    pub fn sequence(&self) -> i64 {
        self.sequence
    }

    /// Resolves when the membership is lost: the session expired or was
    /// closed, or its credentials were refused. A master should then stop
    /// acting as leader, as a Mesos master aborts when its candidacy ends.
    pub async fn lost(&self) -> ZkError {
        let mut states = self.client.state_watcher();
        let mut state = states.peek_state();
        loop {
            match state {
                SessionState::Expired | SessionState::Closed => {
                    return ZkError::SessionExpired {
                        url: self.url.to_string(),
                    }
                }
                SessionState::AuthFailed => {
                    return ZkError::AuthFailed {
                        url: self.url.to_string(),
                    }
                }
                _ => state = states.changed().await,
            }
        }
    }

    /// Withdraws: deletes the znode now, then ends the session. Other
    /// watchers see the change at once rather than after a session timeout.
    pub async fn close(self) -> Result<(), ZkError> {
        call(
            &self.url,
            &self.znode,
            "deleting",
            REGISTER_TIMEOUT,
            self.client.delete(&self.znode, None),
        )
        .await
        // Dropping the client ends the session either way.
    }
}

/// Registers a master: creates `<path>/json.info_<sequence>` (ephemeral,
/// sequential) holding `info_json`, creating the path and its parents as
/// needed. `info_json` must be a MasterInfo a detector can read (see
/// `mesos_api::v1::MasterInfo`); it is stored compact, as Mesos stores it.
pub async fn register_master(
    url: &ZkUrl,
    info_json: &serde_json::Value,
) -> Result<Registration, ZkError> {
    validate(info_json).map_err(|m| ZkError::InvalidMasterInfo {
        url: url.to_string(),
        path: url.path().to_string(),
        reason: m.0,
    })?;
    let data = serde_json::to_vec(info_json).expect("a JSON value always serializes");

    let everyone_read_creator_all = [
        Acl::new(Permission::READ, AuthId::anyone()),
        Acl::new(Permission::ALL, AuthId::authed()),
    ];
    let acls = if url.credentials().is_some() {
        Acls::new(&everyone_read_creator_all)
    } else {
        Acls::anyone_all()
    };

    let client = connect(url, REGISTER_TIMEOUT).await?;
    if url.path() != "/" {
        let options = CreateMode::Persistent.with_acls(acls);
        call(
            url,
            url.path(),
            "creating",
            REGISTER_TIMEOUT,
            client.mkdir(url.path(), &options),
        )
        .await?;
    }
    let prefix = url.child_path(&format!("{MASTER_INFO_JSON_LABEL}_"));
    let options = CreateMode::EphemeralSequential.with_acls(acls);
    let (_stat, sequence) = call(
        url,
        &prefix,
        "creating",
        REGISTER_TIMEOUT,
        client.create(&prefix, &data, &options),
    )
    .await?;
    let znode = format!("{prefix}{sequence}");
    Ok(Registration {
        client,
        url: url.clone(),
        znode,
        sequence: sequence.into_i64(),
    })
}
