//! Leader detection and master registration against a real ZooKeeper
//! server (see `common/mod.rs`); no mocks.

mod common;

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{free_port, locate_classpath, ZkServer};
use mesos_zk::{
    find_leader, register_master, watch_leader, LeaderWatch, MasterInfo, ZkError, ZkUrl,
};
use zookeeper_client::{Acls, Client, CreateMode};

const TIMEOUT: Duration = Duration::from_secs(20);

/// The MasterInfo a Mesos master at 10.0.0.<n>:<port> would publish.
fn master(n: u8, port: u16) -> serde_json::Value {
    let info = mesos_api::MasterInfo::new(
        format!("master-{n}"),
        Ipv4Addr::new(10, 0, 0, n),
        port,
        Some(format!("m{n}.example.com")),
        Some("1.11.0".to_string()),
    );
    serde_json::to_value(info).unwrap()
}

async fn next(watch: &mut LeaderWatch) -> Result<MasterInfo, ZkError> {
    tokio::time::timeout(TIMEOUT, watch.next_leader())
        .await
        .expect("the watch yields within the timeout")
        .expect("the watch has not ended")
}

/// A raw client for writing what Mesos' own code (or an old master) would.
async fn raw_client(server: &ZkServer) -> Client {
    Client::connect(&server.address())
        .await
        .expect("raw client connects")
}

#[tokio::test]
async fn find_leader_picks_the_lowest_sequence_of_two_registered_masters() {
    let server = ZkServer::start();
    let url = server.url("/mesos");
    let first = register_master(&url, &master(5, 5050)).await.unwrap();
    let second = register_master(&url, &master(6, 5051)).await.unwrap();
    assert!(first.sequence() < second.sequence());
    let name = first
        .znode()
        .strip_prefix("/mesos/json.info_")
        .expect("json.info_ under the path");
    assert!(
        name.len() == 10 && name.bytes().all(|b| b.is_ascii_digit()),
        "{name}"
    );

    let leader = find_leader(&url, TIMEOUT).await.unwrap();
    assert_eq!(leader.znode, first.znode());
    assert_eq!(leader.sequence, first.sequence());
    assert_eq!(leader.host, "m5.example.com");
    assert_eq!(leader.port, 5050);
    assert_eq!(leader.base_url, "http://m5.example.com:5050");
    assert_eq!(leader.info.pid.as_deref(), Some("master@10.0.0.5:5050"));
    assert_eq!(
        leader.info.ip, 83_886_090,
        "10.0.0.5 packed in network byte order"
    );

    // The lowest sequence leads, not the first listed or the newest: after
    // the first leaves, the second leads even though a newer one joined.
    first.close().await.unwrap();
    let _third = register_master(&url, &master(7, 5052)).await.unwrap();
    let leader = find_leader(&url, TIMEOUT).await.unwrap();
    assert_eq!(leader.znode, second.znode());
    assert_eq!(leader.base_url, "http://m6.example.com:5051");
}

#[tokio::test]
async fn registered_node_holds_the_compact_master_info_json_in_an_ephemeral_znode() {
    let server = ZkServer::start();
    let url = server.url("/mesos");
    let info = master(5, 5050);
    let registration = register_master(&url, &info).await.unwrap();

    let client = raw_client(&server).await;
    let (data, stat) = client.get_data(registration.znode()).await.unwrap();
    assert_eq!(data, serde_json::to_vec(&info).unwrap());
    assert_ne!(stat.ephemeral_owner, 0, "the znode is ephemeral");
}

#[tokio::test]
async fn watch_yields_the_next_leader_when_the_leader_registration_is_dropped() {
    let server = ZkServer::start();
    let url = server.url("/mesos");
    let first = register_master(&url, &master(5, 5050)).await.unwrap();
    let second = register_master(&url, &master(6, 5051)).await.unwrap();

    let mut watch = watch_leader(&url, TIMEOUT).await.unwrap();
    assert_eq!(next(&mut watch).await.unwrap().znode, first.znode());

    // Dropping ends the session; ZooKeeper removes the ephemeral znode.
    drop(first);
    let leader = next(&mut watch).await.unwrap();
    assert_eq!(leader.znode, second.znode());
    assert_eq!(leader.base_url, "http://m6.example.com:5051");

    second.close().await.unwrap();
    let err = next(&mut watch).await.unwrap_err();
    assert!(matches!(err, ZkError::NoMaster { .. }), "{err}");

    let third = register_master(&url, &master(7, 5052)).await.unwrap();
    assert_eq!(next(&mut watch).await.unwrap().znode, third.znode());
}

#[tokio::test]
async fn watch_starts_before_the_path_exists_and_sees_the_first_master() {
    let server = ZkServer::start();
    let url = server.url("/not/yet");
    let mut watch = watch_leader(&url, TIMEOUT).await.unwrap();
    let err = next(&mut watch).await.unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");

    let registration = register_master(&url, &master(5, 5050)).await.unwrap();
    // Creating the path may show first as a path without children.
    let leader = loop {
        match next(&mut watch).await {
            Ok(leader) => break leader,
            Err(ZkError::NoMaster { .. }) => continue,
            Err(other) => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(leader.znode, registration.znode());
}

#[tokio::test]
async fn no_master_registered_is_a_clear_error_naming_url_and_path() {
    let server = ZkServer::start();

    let missing = server.url("/mesos");
    let err = find_leader(&missing, TIMEOUT).await.unwrap_err();
    assert!(matches!(err, ZkError::NoMaster { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("'/mesos'") && text.contains(&missing.to_string()),
        "{text}"
    );
    assert!(text.contains("does not exist"), "{text}");

    // The path exists (a master came and went) but nobody is registered.
    register_master(&missing, &master(5, 5050))
        .await
        .unwrap()
        .close()
        .await
        .unwrap();
    let text = find_leader(&missing, TIMEOUT)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("no Mesos master is registered under '/mesos'"),
        "{text}"
    );
    assert!(text.contains("no children"), "{text}");
}

#[tokio::test]
async fn malformed_node_data_is_a_clear_error_naming_the_node_and_its_first_bytes() {
    let server = ZkServer::start();
    let url = server.url("/mesos");
    let client = raw_client(&server).await;
    client
        .mkdir(
            "/mesos",
            &CreateMode::Persistent.with_acls(Acls::anyone_all()),
        )
        .await
        .unwrap();
    let (_, sequence) = client
        .create(
            "/mesos/json.info_",
            b"\x0a\x05hello not json",
            &CreateMode::EphemeralSequential.with_acls(Acls::anyone_all()),
        )
        .await
        .unwrap();

    let err = find_leader(&url, TIMEOUT).await.unwrap_err();
    let node = format!("/mesos/json.info_{sequence}");
    match &err {
        ZkError::MalformedNode { node: n, .. } => assert_eq!(n, &node),
        other => panic!("expected MalformedNode, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains(&node), "{text}");
    assert!(text.contains("not valid JSON"), "{text}");
    assert!(text.contains(r#""\n\x05hello not json""#), "{text}");
}

#[tokio::test]
async fn legacy_info_nodes_are_ignored_or_reported_when_alone() {
    let server = ZkServer::start();
    let url = server.url("/mesos");
    let client = raw_client(&server).await;
    client
        .mkdir(
            "/mesos",
            &CreateMode::Persistent.with_acls(Acls::anyone_all()),
        )
        .await
        .unwrap();
    let open = CreateMode::EphemeralSequential.with_acls(Acls::anyone_all());
    // A Mesos < 0.24 master: protobuf MasterInfo under `info_`.
    client
        .create("/mesos/info_", b"\x0a\x03abc\x10\x01", &open)
        .await
        .unwrap();
    // The replicated log shares the path in Mesos; it is no member.
    client
        .create(
            "/mesos/log_replicas",
            b"",
            &CreateMode::Persistent.with_acls(Acls::anyone_all()),
        )
        .await
        .unwrap();

    let err = find_leader(&url, TIMEOUT).await.unwrap_err();
    assert!(matches!(err, ZkError::OnlyLegacyMasters { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("info_0000000000") && text.contains("upgrade"),
        "{text}"
    );

    // A JSON master leads even though the legacy znode has a lower sequence.
    let registration = register_master(&url, &master(5, 5050)).await.unwrap();
    assert!(registration.sequence() > 0);
    let leader = find_leader(&url, TIMEOUT).await.unwrap();
    assert_eq!(leader.znode, registration.znode());
}

#[tokio::test]
async fn unreachable_servers_are_a_clear_error_naming_every_server() {
    let (p1, p2) = (free_port(), free_port());
    let url: ZkUrl = format!("zk://bob:hunter2@127.0.0.1:{p1},127.0.0.1:{p2}/mesos")
        .parse()
        .unwrap();
    let started = Instant::now();
    let err = find_leader(&url, Duration::from_secs(2)).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert!(matches!(err, ZkError::Unreachable { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains(&format!("tried 127.0.0.1:{p1}, 127.0.0.1:{p2}")),
        "{text}"
    );
    assert!(text.contains("zk://bob:***@"), "{text}");
    assert!(
        !text.contains("hunter2") && !format!("{err:?}").contains("hunter2"),
        "{err:?}"
    );

    let err = watch_leader(&url, Duration::from_secs(1))
        .await
        .unwrap_err();
    assert!(matches!(err, ZkError::Unreachable { .. }), "{err:?}");
}

#[tokio::test]
async fn credentials_authenticate_and_never_appear_in_output() {
    let server = ZkServer::start();
    let with_credentials: ZkUrl = format!("zk://alice:s3cret-pw@{}/secure/mesos", server.address())
        .parse()
        .unwrap();
    let registration = register_master(&with_credentials, &master(5, 5050))
        .await
        .unwrap();

    // As in Mesos: anyone may read, only the creator's identity may write.
    let client = raw_client(&server).await;
    let (acls, _) = client.get_acl(registration.znode()).await.unwrap();
    let mut shown: Vec<String> = acls
        .iter()
        .map(|a| format!("{}:{}", a.scheme(), a.id().split(':').next().unwrap()))
        .collect();
    shown.sort();
    assert_eq!(shown, ["digest:alice", "world:anyone"]);
    let err = client.delete(registration.znode(), None).await.unwrap_err();
    assert_eq!(err, zookeeper_client::Error::NoAuth);

    // Readers need no credentials.
    let leader = find_leader(&server.url("/secure/mesos"), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(leader.znode, registration.znode());
    let leader = find_leader(&with_credentials, TIMEOUT).await.unwrap();
    assert_eq!(leader.znode, registration.znode());

    let missing: ZkUrl = format!("zk://alice:s3cret-pw@{}/elsewhere", server.address())
        .parse()
        .unwrap();
    let err = find_leader(&missing, TIMEOUT).await.unwrap_err();
    let outputs = [
        with_credentials.to_string(),
        format!("{with_credentials:?}"),
        format!("{registration:?}"),
        format!("{leader:?}"),
        err.to_string(),
        format!("{err:?}"),
    ];
    for output in outputs {
        assert!(!output.contains("s3cret"), "password leaked: {output}");
    }
    assert!(err.to_string().contains("zk://alice:***@"), "{err}");

    // The creator's identity may remove its znode.
    let znode = registration.znode().to_string();
    registration.close().await.unwrap();
    assert_eq!(client.check_stat(&znode).await.unwrap(), None);
}

#[tokio::test]
async fn register_creates_missing_parent_path_nodes() {
    let server = ZkServer::start();
    let url = server.url("/a/b/c/mesos");
    let registration = register_master(&url, &master(5, 5050)).await.unwrap();
    assert!(registration.znode().starts_with("/a/b/c/mesos/json.info_"));
    let client = raw_client(&server).await;
    let (_, stat) = client.get_data("/a/b/c/mesos").await.unwrap();
    assert_eq!(stat.ephemeral_owner, 0, "the path itself is persistent");
}

#[tokio::test]
async fn register_refuses_info_a_detector_could_not_read() {
    // Checked before connecting, so no server is needed.
    let url: ZkUrl = format!("zk://127.0.0.1:{}/mesos", free_port())
        .parse()
        .unwrap();
    let err = register_master(&url, &serde_json::json!({"id": "x", "port": 5050}))
        .await
        .unwrap_err();
    assert!(matches!(err, ZkError::InvalidMasterInfo { .. }), "{err:?}");
    assert!(err.to_string().contains("missing field `ip`"), "{err}");
    let err = register_master(&url, &serde_json::json!([1]))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("must be a JSON object"), "{err}");
}

#[test]
fn missing_zookeeper_fails_with_install_instructions() {
    let err = locate_classpath(None, Path::new("/nonexistent/zookeeper.jar")).unwrap_err();
    assert!(err.contains("ZooKeeper is not installed"), "{err}");
    assert!(
        err.contains("apt-get install -y --no-install-recommends zookeeper"),
        "{err}"
    );
    let err = locate_classpath(
        Some("/nonexistent/zk.jar".into()),
        Path::new(common::DEBIAN_JAR),
    )
    .unwrap_err();
    assert!(err.contains("/nonexistent/zk.jar"), "{err}");
}

#[test]
fn harness_server_answers_four_letter_words_and_stops_on_drop() {
    let server = ZkServer::start();
    assert_eq!(server.ask("ruok").as_deref(), Some("imok"));
    let srvr = server.ask("srvr").expect("srvr answers");
    assert!(srvr.contains("Mode: standalone"), "{srvr}");
    let address = server.address();
    drop(server);
    assert!(
        std::net::TcpStream::connect(&address).is_err(),
        "server still listening on {address}"
    );
}

#[tokio::test]
async fn losing_the_session_ends_the_registration_and_the_watch() {
    // The client declares its session lost after the session timeout
    // without a server that accepts it; keep that short.
    let mut server = ZkServer::start_with_max_session_timeout(Duration::from_secs(2));
    let url = server.url("/mesos");
    let registration = register_master(&url, &master(5, 5050)).await.unwrap();
    let mut watch = watch_leader(&url, TIMEOUT).await.unwrap();
    assert_eq!(next(&mut watch).await.unwrap().znode, registration.znode());

    // A new, empty server on the same port knows neither session.
    server.restart_empty();

    let lost = tokio::time::timeout(TIMEOUT, registration.lost())
        .await
        .expect("the registration notices within the timeout");
    assert!(matches!(lost, ZkError::SessionExpired { .. }), "{lost:?}");
    assert!(lost.to_string().contains(&url.to_string()), "{lost}");

    let err = next(&mut watch).await.unwrap_err();
    assert!(matches!(err, ZkError::SessionExpired { .. }), "{err:?}");
    let end = tokio::time::timeout(TIMEOUT, watch.next_leader())
        .await
        .unwrap();
    assert!(
        end.is_none(),
        "the watch ends after its session expired: {end:?}"
    );

    let err = find_leader(&url, TIMEOUT).await.unwrap_err();
    assert!(matches!(err, ZkError::NoMaster { .. }), "{err:?}");
}
