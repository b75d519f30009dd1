//! The SUBSCRIBE response on the wire (HTTP/1.1 chunked, RecordIO inside),
//! and the `mesos-sim` binary.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::time::Duration;

use common::*;
use mesos_api::recordio::Decoder;
use mesos_api::Event;

/// Reads one HTTP/1.1 chunked response from a raw socket until `want`
/// bytes of body have arrived; returns headers and the de-chunked body.
fn read_chunked(stream: std::net::TcpStream, want: usize) -> (String, Vec<u8>, usize) {
    let mut r = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let mut body = Vec::new();
    let mut chunks = 0;
    while body.len() < want {
        let mut size = String::new();
        r.read_line(&mut size).unwrap();
        let n = usize::from_str_radix(size.trim(), 16).unwrap();
        let mut buf = vec![0; n + 2];
        r.read_exact(&mut buf).unwrap();
        assert_eq!(&buf[n..], b"\r\n");
        body.extend_from_slice(&buf[..n]);
        chunks += 1;
    }
    (head, body, chunks)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_is_chunked_recordio_decodable_at_any_split() {
    let sim = start_default().await;
    let addr = sim.addr();
    let body = r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"raw","failover_timeout":60.0}}}"#;
    let (head, bytes, chunks) = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        write!(
            s,
            "POST /api/v1/scheduler HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        // SUBSCRIBED + HEARTBEAT + at least one OFFERS event.
        read_chunked(s, 2000)
    })
    .await
    .unwrap();
    let lower = head.to_ascii_lowercase();
    assert!(lower.starts_with("http/1.1 200"), "{head}");
    assert!(lower.contains("transfer-encoding: chunked"), "{head}");
    assert!(lower.contains("mesos-stream-id: "), "{head}");
    assert!(!lower.contains("content-length"), "{head}");
    assert!(chunks >= 3);
    // Every split of the body decodes to the same events.
    let mut whole = Decoder::new();
    let events = whole.feed(&bytes).unwrap();
    assert!(events.len() >= 3);
    for step in [1, 2, 3, 7, 64, 1000] {
        let mut d = Decoder::new();
        let mut got = Vec::new();
        for piece in bytes.chunks(step) {
            got.extend(d.feed(piece).unwrap());
        }
        assert_eq!(got[..events.len()], events[..], "split every {step} bytes");
    }
    let kinds: Vec<String> = events
        .iter()
        .map(|e| serde_json::from_slice::<serde_json::Value>(e).unwrap()["type"].to_string())
        .collect();
    assert_eq!(kinds[0], "\"SUBSCRIBED\"");
    assert_eq!(kinds[1], "\"HEARTBEAT\"");
    let _: Event = serde_json::from_slice(&events[2]).unwrap();
}

#[test]
fn the_binary_reports_a_bad_cluster_file_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "[[agents]]\nhostname = \"a\"\ncpu = 4\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mesos-sim"))
        .arg("--cluster")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml") && err.contains("line 3"), "{err}");
}

#[test]
fn the_binary_serves_the_example_cluster() {
    let cluster = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/clusters/alluxio-ports.toml"
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mesos-sim"))
        .args(["--cluster", cluster, "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .rsplit(' ')
        .next()
        .expect("the binary prints its URL")
        .to_string();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let state = rt.block_on(get_json(&format!("{url}/master/state")));
    let _ = child.kill();
    let _ = child.wait();
    let slaves = state["slaves"].as_array().unwrap();
    assert_eq!(slaves.len(), 3);
    for s in slaves {
        assert_eq!(
            s["resources"]["ports"],
            "[19998-19999, 29998-30000, 31000-32000]"
        );
    }
}

#[test]
fn the_default_ports_example_offers_only_the_mesos_default_range() {
    let cluster = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/clusters/default-ports.toml"
    );
    let spec = mesos_sim::ClusterSpec::load(std::path::Path::new(cluster)).unwrap();
    assert_eq!(spec.agents.len(), 3);
    assert!(spec
        .agents
        .iter()
        .all(|a| a.ports.to_string() == "[31000-32000]"));
}
