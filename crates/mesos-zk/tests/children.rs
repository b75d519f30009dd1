//! Listing children with their creation times against a real ZooKeeper
//! server (see `common/mod.rs`); no mocks.

mod common;

use std::time::Duration;

use common::ZkServer;
use mesos_zk::{list_children_with_ctime, ZkError};
use zookeeper_client::{Acls, Client, CreateMode};

const TIMEOUT: Duration = Duration::from_secs(20);

async fn raw_client(server: &ZkServer) -> Client {
    Client::connect(&server.address())
        .await
        .expect("raw client connects")
}

#[tokio::test]
async fn children_come_oldest_first_with_their_creation_times_and_owners() {
    let server = ZkServer::start();
    let client = raw_client(&server).await;
    let persistent = CreateMode::Persistent.with_acls(Acls::anyone_all());
    let ephemeral = CreateMode::Ephemeral.with_acls(Acls::anyone_all());
    client.create("/leader", b"", &persistent).await.unwrap();
    // Created in the reverse of name order; ctime has millisecond
    // resolution, so the pauses keep the times apart.
    for name in ["m2:19998", "m1:19998", "m0:19998"] {
        client
            .create(&format!("/leader/{name}"), b"", &ephemeral)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    client
        .create("/leader/persistent", b"", &persistent)
        .await
        .unwrap();

    let children = list_children_with_ctime(&server.url("/leader"), TIMEOUT)
        .await
        .unwrap();
    let names: Vec<&str> = children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["m2:19998", "m1:19998", "m0:19998", "persistent"]);
    assert!(
        children.windows(2).all(|w| w[0].ctime_ms < w[1].ctime_ms),
        "{children:?}"
    );
    // Times are milliseconds since the epoch (after 2020-01-01).
    assert!(children[0].ctime_ms > 1_577_836_800_000, "{children:?}");
    let session = client.session_id().0;
    assert!(children[..3].iter().all(|c| c.ephemeral_owner == session));
    assert_eq!(children[3].ephemeral_owner, 0);

    // Deleting a child is seen at once.
    client.delete("/leader/m0:19998", None).await.unwrap();
    let children = list_children_with_ctime(&server.url("/leader"), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(children.len(), 3);
    assert!(children.iter().all(|c| c.name != "m0:19998"));
}

#[tokio::test]
async fn a_path_without_children_is_an_empty_list() {
    let server = ZkServer::start();
    let client = raw_client(&server).await;
    let persistent = CreateMode::Persistent.with_acls(Acls::anyone_all());
    client.create("/empty", b"", &persistent).await.unwrap();
    let children = list_children_with_ctime(&server.url("/empty"), TIMEOUT)
        .await
        .unwrap();
    assert!(children.is_empty(), "{children:?}");
}

#[tokio::test]
async fn a_missing_path_is_a_no_node_error_naming_the_path_and_url() {
    let server = ZkServer::start();
    let url = server.url("/alluxio/leader");
    let err = list_children_with_ctime(&url, TIMEOUT).await.unwrap_err();
    assert!(matches!(err, ZkError::NoNode { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("'/alluxio/leader'") && text.contains(&url.to_string()),
        "{text}"
    );
}

#[tokio::test]
async fn an_unreachable_server_fails_within_the_timeout() {
    let port = common::free_port();
    let url = format!("zk://127.0.0.1:{port}/leader").parse().unwrap();
    // Bounded generously: what is checked is that it gives up at all.
    let err = tokio::time::timeout(
        Duration::from_secs(60),
        list_children_with_ctime(&url, Duration::from_secs(2)),
    )
    .await
    .expect("an unreachable server is given up on")
    .unwrap_err();
    assert!(matches!(err, ZkError::Unreachable { .. }), "{err:?}");
}
