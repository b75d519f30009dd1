//! Finding the masters: the leader named in ZooKeeper.

use std::time::Duration;

/// Finding the leader again in ZooKeeper before every SUBSCRIBE, so that a
/// re-subscription after a broken stream (the leader died, or lost its
/// leadership) goes to whichever master leads now, with the same framework ID.
#[derive(Debug, Clone)]
pub struct ZkLeader {
    pub url: mesos_zk::ZkUrl,
    /// Reach the leader over HTTPS (MasterInfo carries no scheme).
    pub https: bool,
    pub timeout: Duration,
}

impl ZkLeader {
    /// The base URL of the master ZooKeeper names as leader now.
    pub async fn leader_base_url(&self) -> Result<String, mesos_zk::ZkError> {
        let leader = mesos_zk::find_leader(&self.url, self.timeout).await?;
        // MasterInfo carries no scheme: masters with TLS enabled
        // (LIBPROCESS_SSL_ENABLED) are recognised by our TLS settings.
        Ok(if self.https {
            leader.base_url.replacen("http://", "https://", 1)
        } else {
            leader.base_url
        })
    }
}
