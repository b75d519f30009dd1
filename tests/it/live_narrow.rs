//! The narrower state endpoints: with our framework ID known and a master
//! from 1.4 on, agents come from `/master/slaves` and our framework from
//! `/master/frameworks?framework_id=`; otherwise the whole `/master/state`
//! is read. Tiny masters are started here on 127.0.0.1.

use crate::support;

use alluxio_mesos::live::FrameworkSelector;
use alluxio_mesos::mesos::fetch_state;
use axum::extract::Query;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use support::serve;

fn by_id(id: Option<&str>) -> FrameworkSelector {
    FrameworkSelector {
        id: id.map(str::to_string),
        name: "alluxio".into(),
        role: "alluxio".into(),
        predecessor: None,
    }
}

fn json(body: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], body)
}

const SLAVES: &str = r#"{"slaves":[{"id":"S0","hostname":"h0","resources":{"cpus":4,"mem":1024,"ports":"[31000-32000]"},
    "offered_resources":{"cpus":4}}],"recovered_slaves":[]}"#;
const FRAMEWORKS: &str = r#"{"frameworks":[{"id":"F1","name":"alluxio","active":true,
    "offers":[{"id":"O1","slave_id":"S0","resources":{"cpus":4}}],
    "tasks":[{"id":"t1","slave_id":"S0","state":"TASK_RUNNING"}]}],"completed_frameworks":[],"unregistered_frameworks":[]}"#;
const STATE: &str = r#"{"version":"1.3.0","slaves":[{"id":"S9","hostname":"whole"}],
    "frameworks":[{"id":"F1","name":"alluxio","tasks":[]}]}"#;

/// A master of `version` with every endpoint; counts whole-state reads
/// and checks the framework filter.
fn master(version: &'static str, state_reads: Arc<AtomicUsize>) -> Router {
    Router::new()
        .route(
            "/version",
            get(move || async move {
                json(match version {
                    "1.3.0" => r#"{"version":"1.3.0"}"#,
                    _ => r#"{"version":"1.11.0"}"#,
                })
            }),
        )
        .route("/master/slaves", get(|| async { json(SLAVES) }))
        .route(
            "/master/frameworks",
            get(|q: Query<HashMap<String, String>>| async move {
                match q.get("framework_id").map(String::as_str) {
                    Some("F1") => json(FRAMEWORKS).into_response(),
                    _ => (StatusCode::BAD_REQUEST, "expected framework_id=F1").into_response(),
                }
            }),
        )
        .route(
            "/master/state",
            get(move || {
                state_reads.fetch_add(1, Ordering::SeqCst);
                async { json(STATE) }
            }),
        )
}

#[tokio::test]
async fn a_known_framework_on_a_recent_master_is_read_from_the_narrow_endpoints() {
    let reads = Arc::new(AtomicUsize::new(0));
    let base = serve(master("1.11.0", reads.clone())).await;
    let c = fetch_state(&[base], &reqwest::Client::new(), &by_id(Some("F1")))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(reads.load(Ordering::SeqCst), 0, "the whole state was read");
    assert!(c.source.contains("/master/slaves and "), "{}", c.source);
    assert!(
        c.source.contains("/master/frameworks?framework_id=F1"),
        "{}",
        c.source
    );
    assert_eq!(c.agents.len(), 1);
    // Our own offer on S0 counts as free, as with the whole state.
    assert_eq!(c.agents[0].free.cpus, 4.0);
    let f = c.framework.expect("our framework");
    assert_eq!(f.id, "F1");
    assert_eq!(f.tasks[0].id, "t1");
}

#[tokio::test]
async fn without_a_framework_id_or_on_an_old_master_the_whole_state_is_read() {
    for (version, id) in [("1.11.0", None), ("1.3.0", Some("F1"))] {
        let reads = Arc::new(AtomicUsize::new(0));
        let base = serve(master(version, reads.clone())).await;
        let c = fetch_state(&[base], &reqwest::Client::new(), &by_id(id))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(reads.load(Ordering::SeqCst), 1, "{version} {id:?}");
        assert!(c.source.ends_with("/master/state"), "{}", c.source);
        assert_eq!(c.agents[0].id, "S9");
    }
}

#[tokio::test]
async fn a_master_without_the_narrow_endpoints_falls_back_to_the_whole_state() {
    let reads = Arc::new(AtomicUsize::new(0));
    let r = reads.clone();
    let router = Router::new()
        .route("/version", get(|| async { json(r#"{"version":"1.9.0"}"#) }))
        .route(
            "/master/state",
            get(move || {
                r.fetch_add(1, Ordering::SeqCst);
                async { json(STATE) }
            }),
        );
    let base = serve(router).await;
    let c = fetch_state(&[base], &reqwest::Client::new(), &by_id(Some("F1")))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(reads.load(Ordering::SeqCst), 1);
    assert!(c.source.ends_with("/master/state"), "{}", c.source);
}
