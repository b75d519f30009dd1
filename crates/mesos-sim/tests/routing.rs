//! Request routing as libprocess does it (`3rdparty/libprocess/src/process.cpp`):
//! a first path segment naming no process goes to the master, a trailing
//! `/` is ignored, and the longest endpoint prefixing the path answers.

mod common;

use common::*;
use reqwest::StatusCode;

async fn get(url: &str) -> (StatusCode, String) {
    let r = client().get(url).send().await.expect("GET");
    let s = r.status();
    (s, r.text().await.unwrap())
}

#[tokio::test]
async fn unknown_first_segments_are_the_masters_endpoints() {
    let sim = start_default().await;
    let url = sim.url();
    for (alias, master) in [
        ("/slaves", "/master/slaves"),
        ("/frameworks", "/master/frameworks"),
        ("/tasks", "/master/tasks"),
        ("/state", "/master/state"),
    ] {
        let (s, body) = get(&format!("{url}{alias}")).await;
        assert_eq!(s, StatusCode::OK, "{alias}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        let want = get_json(&format!("{url}{master}")).await;
        // The same document, give or take what changes between two reads.
        let keys =
            |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&v), keys(&want), "{alias}");
    }
    let (s, _) = get(&format!("{url}/health")).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn a_trailing_slash_is_ignored() {
    let sim = start_default().await;
    let url = sim.url();
    for path in [
        "/master/state/",
        "/master/slaves/",
        "/master/tasks/?limit=1",
        "/slaves/",
        "/version/",
        "//master//frameworks//",
    ] {
        let (s, body) = get(&format!("{url}{path}")).await;
        assert_eq!(s, StatusCode::OK, "{path}: {body}");
        serde_json::from_str::<serde_json::Value>(&body).expect("JSON");
    }
    let (s, _) = get(&format!("{url}/master/health/")).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn the_longest_endpoint_prefix_answers_and_others_are_404() {
    let sim = start_default().await;
    let url = sim.url();
    let (s, body) = get(&format!("{url}/master/slaves/extra/segments")).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(body.contains("\"slaves\""), "{body}");
    let (s, _) = get(&format!("{url}/master/no-such-endpoint")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = get(&format!("{url}/no-such-endpoint")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_non_leader_redirects_delegated_paths_under_master() {
    let sim = start_default().await;
    sim.set_leading(false, Some("http://leader.example.com:5050".into()));
    let r = client()
        .get(format!("{}/slaves/?x=1", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(
        r.headers()["location"],
        "//leader.example.com:5050/master/slaves?x=1"
    );
}
