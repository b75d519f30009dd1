//! Which Alluxio master leads, asked of ZooKeeper the way Alluxio's own
//! clients ask (`ZkMasterInquireClient.getPrimaryRpcAddress`), so that apply
//! can replace the standby masters before the leader and fail over once.
//!
//! With `alluxio.zookeeper.enabled`, every master taking the lead creates a
//! child of the leader path (`alluxio.zookeeper.leader.path`) named after its
//! RPC address `host:port`; the leader is the child created last (largest
//! `Stat.ctime`), since an old leader's node may linger until its session
//! expires. Without ZooKeeper, Alluxio runs a single master (or an embedded
//! journal, whose leader cannot be asked cheaply): the leader is unknown.
//!
//! Asking never fails apply: every problem becomes
//! [`LeaderKnowledge::Unknown`] with the reason, and masters are then
//! replaced in index order.

use crate::desired::secrets::PropertyValue;
use crate::desired::Desired;
use mesos_zk::{list_children_with_ctime, ZkUrl, ZnodeChild};
use std::time::Duration;

/// The site property naming the ZooKeeper path of the leader's znode.
pub const LEADER_PATH_KEY: &str = "alluxio.zookeeper.leader.path";

/// Default of [`LEADER_PATH_KEY`] in Alluxio 1.x (`PropertyKey.java`), the
/// line that ships the Mesos integration (AlluxioFramework) this tool
/// replaces. Alluxio 2.x moved the default to `/alluxio/leader`: a 2.x
/// cluster that keeps its default must set the property.
pub const DEFAULT_LEADER_PATH: &str = "/leader";

pub use crate::plan::model::LeaderKnowledge;

/// How long planning asks ZooKeeper for the Alluxio leader before going on
/// without knowing it.
pub const LEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// Asks ZooKeeper for the leading Alluxio master of `desired`, within
/// `timeout` (connecting included).
pub async fn find_leader(desired: &Desired, timeout: Duration) -> LeaderKnowledge {
    let unknown = |why: String| LeaderKnowledge::Unknown { why };
    let url = match leader_url(desired) {
        Ok(url) => url,
        Err(why) => return unknown(why),
    };
    match list_children_with_ctime(&url, timeout).await {
        Err(e) => unknown(e.to_string()),
        Ok(children) => match newest(&children) {
            None => unknown(format!(
                "no master holds the leader path '{}' in ZooKeeper at {url}: none leads now, or the masters use another {LEADER_PATH_KEY}",
                url.path()
            )),
            Some(child) => match parse_host_port(&child.name) {
                Some((host, port)) => LeaderKnowledge::Known {
                    host,
                    port,
                    zookeeper: url.to_string(),
                },
                None => unknown(format!(
                    "the leader znode '{}' under '{}' in ZooKeeper at {url} is not named host:port",
                    child.name,
                    url.path()
                )),
            },
        },
    }
}

/// The `zk://` URL of the leader path: `alluxio.zookeeper.address` (a
/// connect string, which may end in a chroot path) followed by the path.
fn leader_url(desired: &Desired) -> Result<ZkUrl, String> {
    let Some(address) = &desired.zookeeper else {
        return Err(
            "alluxio.zookeeper.enabled is not true, so no ZooKeeper elects the leader".to_string(),
        );
    };
    let path = match desired.site.get(LEADER_PATH_KEY) {
        Some(PropertyValue::Plain(p)) => p.trim().to_string(),
        // No secret word is in the key; kept out of any message regardless.
        Some(PropertyValue::Secret(_)) => {
            return Err(format!("{LEADER_PATH_KEY} is held as a secret"))
        }
        None => DEFAULT_LEADER_PATH.to_string(),
    };
    if !path.starts_with('/') {
        return Err(format!(
            "{LEADER_PATH_KEY} '{path}' is not an absolute ZooKeeper path (one that starts with '/')"
        ));
    }
    // Spaces after the commas are tolerated; a chroot at the end of the
    // connect string (`host:2181/chroot`) comes before the leader path.
    // The URL parser drops a trailing '/' and checks the components.
    let servers: Vec<&str> = address.split(',').map(str::trim).collect();
    format!("zk://{}{path}", servers.join(","))
        .parse()
        .map_err(|e: mesos_zk::ZkError| {
            format!("alluxio.zookeeper.address and {LEADER_PATH_KEY} do not make a ZooKeeper address: {e}")
        })
}

/// The child created last, as Alluxio's clients elect; equal times go to
/// the greatest name, so the choice does not depend on listing order.
fn newest(children: &[ZnodeChild]) -> Option<&ZnodeChild> {
    children
        .iter()
        .max_by(|a, b| a.ctime_ms.cmp(&b.ctime_ms).then(a.name.cmp(&b.name)))
}

/// `host:port` (an IPv6 host may be bracketed).
fn parse_host_port(name: &str) -> Option<(String, u16)> {
    let (host, port) = name.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port: u16 = port.parse().ok()?;
    (!host.is_empty() && port != 0).then(|| (host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_zookeeper(address: &str) -> Desired {
        let mut d = crate::plan::tests::desired();
        d.site.insert("alluxio.zookeeper.enabled", "true");
        d.site.insert("alluxio.zookeeper.address", address);
        d.zookeeper = Some(address.to_string());
        d
    }

    fn child(name: &str, ctime_ms: i64) -> ZnodeChild {
        ZnodeChild {
            name: name.to_string(),
            ctime_ms,
            ephemeral_owner: 1,
        }
    }

    #[tokio::test]
    async fn without_zookeeper_the_leader_is_unknown_and_nothing_is_asked() {
        let d = crate::plan::tests::desired();
        let LeaderKnowledge::Unknown { why } = find_leader(&d, Duration::from_secs(5)).await else {
            panic!("known without ZooKeeper")
        };
        assert!(why.contains("alluxio.zookeeper.enabled"), "{why}");
    }

    #[tokio::test]
    async fn an_unreachable_zookeeper_is_unknown_within_the_timeout() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let d = with_zookeeper(&format!("127.0.0.1:{port}"));
        // Bounded generously: what is checked is that it gives up at all.
        let found = tokio::time::timeout(
            Duration::from_secs(60),
            find_leader(&d, Duration::from_secs(1)),
        )
        .await
        .expect("an unreachable ZooKeeper is given up on");
        let LeaderKnowledge::Unknown { why } = found else {
            panic!("known without a server")
        };
        assert!(why.contains(&format!("127.0.0.1:{port}")), "{why}");
    }

    #[test]
    fn the_leader_path_defaults_to_alluxio_1_and_follows_the_property() {
        let mut d = with_zookeeper("zk1:2181, zk2:2181");
        assert_eq!(
            leader_url(&d).unwrap().to_string(),
            "zk://zk1:2181,zk2:2181/leader"
        );
        d.site.insert(LEADER_PATH_KEY, "/alluxio/leader");
        assert_eq!(
            leader_url(&d).unwrap().to_string(),
            "zk://zk1:2181,zk2:2181/alluxio/leader"
        );
        // A chroot in the connect string comes first; a port defaults to 2181.
        let mut d = with_zookeeper("zk1,zk2:2182/ha");
        d.site.insert(LEADER_PATH_KEY, "/leader/");
        assert_eq!(
            leader_url(&d).unwrap().to_string(),
            "zk://zk1:2181,zk2:2182/ha/leader"
        );
        d.site.insert(LEADER_PATH_KEY, "leader");
        let why = leader_url(&d).unwrap_err();
        assert!(why.contains("not an absolute ZooKeeper path"), "{why}");
        let d = with_zookeeper("zk1:notaport");
        let why = leader_url(&d).unwrap_err();
        assert!(why.contains("alluxio.zookeeper.address"), "{why}");
    }

    #[test]
    fn the_newest_child_leads_whatever_the_listing_order() {
        let children = [
            child("m1:19998", 2_000),
            child("m0:19998", 3_000),
            child("m2:19998", 1_000),
        ];
        assert_eq!(newest(&children).unwrap().name, "m0:19998");
        let tie = [child("b:1", 5), child("a:1", 5)];
        assert_eq!(newest(&tie).unwrap().name, "b:1");
        assert!(newest(&[]).is_none());
    }

    #[test]
    fn leader_names_are_host_and_port() {
        assert_eq!(
            parse_host_port("agent1.example.com:19998"),
            Some(("agent1.example.com".into(), 19998))
        );
        assert_eq!(parse_host_port("[::1]:19998"), Some(("::1".into(), 19998)));
        assert_eq!(parse_host_port("agent1"), None);
        assert_eq!(parse_host_port(":19998"), None);
        assert_eq!(parse_host_port("agent1:x"), None);
        assert_eq!(parse_host_port("agent1:0"), None);
    }
}
