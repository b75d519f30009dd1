//! Listing the children of a znode together with their creation times.
//!
//! Mesos elects by sequence number (see [`crate::find_leader`]), but other
//! systems elect by creation order: Alluxio's masters, for one, each hold a
//! child of a leader path named after their RPC address, and clients take
//! the most recently created child as the leader. This module gives such
//! callers the children with their `Stat.ctime`.

use std::time::Duration;

use tokio::time::Instant;
use zookeeper_client::Error as ZkClientError;

use crate::session::{connect, within};
use crate::{ZkError, ZkUrl};

/// A child znode and when it was created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZnodeChild {
    /// The child's name (not its full path).
    pub name: String,
    /// Creation time in milliseconds since the epoch (`Stat.ctime`), as set
    /// by the server that handled the creation.
    pub ctime_ms: i64,
    /// The session owning the child when it is ephemeral, else 0.
    pub ephemeral_owner: i64,
}

/// Lists the children of the URL's path with their creation times, oldest
/// first (equal times by name).
///
/// A child deleted between the listing and the reading of its stat is left
/// out. A missing path is [`ZkError::NoNode`]. `timeout` bounds the whole
/// call, connecting included; the session is closed before returning.
pub async fn list_children_with_ctime(
    url: &ZkUrl,
    timeout: Duration,
) -> Result<Vec<ZnodeChild>, ZkError> {
    let deadline = Instant::now() + timeout;
    let client = connect(url, timeout).await?;
    let path = url.path();
    const LISTING: &str = "listing the children";
    let names = match within(
        url,
        path,
        LISTING,
        deadline,
        timeout,
        client.list_children(path),
    )
    .await?
    {
        Ok(names) => names,
        Err(ZkClientError::NoNode) => {
            return Err(ZkError::NoNode {
                url: url.to_string(),
                path: path.to_string(),
            })
        }
        Err(e) => return Err(ZkError::from_zk(url, path, LISTING, e)),
    };
    let mut children = Vec::with_capacity(names.len());
    for name in names {
        let node = url.child_path(&name);
        const READING: &str = "reading the stat";
        let stat = within(
            url,
            &node,
            READING,
            deadline,
            timeout,
            client.check_stat(&node),
        )
        .await?
        .map_err(|e| ZkError::from_zk(url, &node, READING, e))?;
        // None: deleted since the listing.
        if let Some(stat) = stat {
            children.push(ZnodeChild {
                name,
                ctime_ms: stat.ctime,
                ephemeral_owner: stat.ephemeral_owner,
            });
        }
    }
    children.sort_by(|a, b| a.ctime_ms.cmp(&b.ctime_ms).then(a.name.cmp(&b.name)));
    Ok(children)
}
