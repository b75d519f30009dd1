//! Fetching the state over HTTP from tiny masters started here on
//! 127.0.0.1: endpoint fallbacks, redirects, non-leading masters, and the
//! one-line errors a user sees when something is wrong.

use crate::support;

use alluxio_mesos::live::{FrameworkSelector, LiveError};
use alluxio_mesos::mesos::fetch_state;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use support::serve;

fn selector() -> FrameworkSelector {
    FrameworkSelector {
        id: None,
        name: "alluxio".into(),
        role: "alluxio".into(),
        predecessor: None,
    }
}

/// A leader's document with one agent, naming itself in `pid`/`leader`.
fn leader_doc(pid: &str, agent: &str) -> String {
    format!(
        r#"{{"version":"1.9.0","pid":"{pid}","leader":"{pid}",
            "slaves":[{{"id":"{agent}","hostname":"h","resources":{{"cpus":4,"mem":1024,"ports":"[31000-32000]"}}}}],
            "frameworks":[{{"id":"F1","name":"alluxio","tasks":[{{"id":"t1","slave_id":"{agent}","state":"TASK_RUNNING"}}]}}]}}"#
    )
}

fn json(body: String) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], body)
}

fn pid_of(base: &str) -> String {
    format!("master@{}", base.trim_start_matches("http://"))
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A port nothing listens on: bound, then released.
async fn refused_url() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}

#[tokio::test]
async fn falls_back_to_master_state_json_when_master_state_is_404() {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let router = Router::new().route(
        "/master/state.json",
        get(move || {
            h.fetch_add(1, Ordering::SeqCst);
            async { json(leader_doc("master@127.0.0.1:1", "S0")) }
        }),
    );
    let base = serve(router).await;
    let c = fetch_state(
        std::slice::from_ref(&base),
        &reqwest::Client::new(),
        &selector(),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.source, format!("{base}/master/state.json"));
    assert_eq!(c.agents[0].id, "S0");
    assert_eq!(c.framework.unwrap().tasks.len(), 1);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn falls_back_to_state_json_of_very_old_masters() {
    let router = Router::new().route(
        "/state.json",
        get(|| async { json(leader_doc("master@127.0.0.1:1", "OLD-S0")) }),
    );
    let base = serve(router).await;
    let c = fetch_state(
        std::slice::from_ref(&base),
        &reqwest::Client::new(),
        &selector(),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.source, format!("{base}/state.json"));
}

#[tokio::test]
async fn a_server_answering_404_everywhere_is_not_a_mesos_master() {
    let base = serve(Router::new()).await;
    let e = fetch_state(
        std::slice::from_ref(&base),
        &reqwest::Client::new(),
        &selector(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, LiveError::NoEndpoint { .. }), "{e}");
    let msg = e.to_string();
    assert!(msg.contains(&base), "{msg}");
    assert!(msg.contains("all answered 404"), "{msg}");
    assert!(msg.contains("--mesos-state FILE"), "{msg}");
}

async fn redirecting_pair() -> (String, String) {
    let leader = serve(Router::new().route(
        "/master/state",
        get(|| async { json(leader_doc("master@127.0.0.1:1", "LEADER-S0")) }),
    ))
    .await;
    // A non-leading master redirects with a scheme-relative Location.
    let location = format!("//{}/master/state", leader.trim_start_matches("http://"));
    let standby = serve(Router::new().route(
        "/master/state",
        get(move || {
            let location = location.clone();
            async move {
                (
                    StatusCode::TEMPORARY_REDIRECT,
                    [(header::LOCATION, location)],
                )
            }
        }),
    ))
    .await;
    (standby, leader)
}

#[tokio::test]
async fn follows_a_307_with_a_scheme_relative_location_itself() {
    let (standby, leader) = redirecting_pair().await;
    let c = fetch_state(&[standby], &no_redirects(), &selector())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.agents[0].id, "LEADER-S0");
    assert_eq!(c.source, format!("{leader}/master/state"));
}

#[tokio::test]
async fn works_with_a_client_that_follows_redirects_on_its_own() {
    let (standby, leader) = redirecting_pair().await;
    let c = fetch_state(&[standby], &reqwest::Client::new(), &selector())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.source, format!("{leader}/master/state"));
}

#[tokio::test]
async fn a_redirect_loop_ends_with_a_clear_error() {
    let router = Router::new().route(
        "/master/state",
        get(|| async {
            (
                StatusCode::TEMPORARY_REDIRECT,
                [(header::LOCATION, "/master/state")],
            )
        }),
    );
    let base = serve(router).await;
    let e = fetch_state(&[base], &no_redirects(), &selector())
        .await
        .unwrap_err();
    assert!(matches!(e, LiveError::TooManyHops { .. }), "{e}");
    assert!(
        e.to_string().contains("gave up after 5 redirections"),
        "{e}"
    );
}

#[tokio::test]
async fn a_non_leader_document_sends_us_to_the_leader() {
    // The leader first, so that the standby can name it.
    let leader_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let leader_addr = leader_listener.local_addr().unwrap();
    let leader_base = format!("http://{leader_addr}");
    let leader_pid = pid_of(&leader_base);
    let lp = leader_pid.clone();
    let leader_router = Router::new().route(
        "/master/state",
        get(move || {
            let lp = lp.clone();
            async move { json(leader_doc(&lp, "LEADER-S0")) }
        }),
    );
    tokio::spawn(async move { axum::serve(leader_listener, leader_router).await.unwrap() });

    let standby_router = Router::new().route(
        "/master/state",
        get(move || {
            let doc = format!(
                r#"{{"version":"0.28.2","pid":"master@127.0.0.1:9","leader":"{leader_pid}","slaves":[],"frameworks":[],"completed_frameworks":[],"orphan_tasks":[]}}"#
            );
            async move { json(doc) }
        }),
    );
    let standby = serve(standby_router).await;
    let c = fetch_state(&[standby], &reqwest::Client::new(), &selector())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.agents[0].id, "LEADER-S0");
    assert_eq!(c.source, format!("{leader_base}/master/state"));
}

#[tokio::test]
async fn a_body_that_is_not_json_is_reported_with_url_and_first_bytes() {
    let router = Router::new().route(
        "/master/state",
        get(|| async {
            "<html><head><title>Login</title></head><body>Please sign in</body></html>"
        }),
    );
    let base = serve(router).await;
    let e = fetch_state(
        std::slice::from_ref(&base),
        &reqwest::Client::new(),
        &selector(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, LiveError::NotJson { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!("{base}/master/state is not JSON")),
        "{msg}"
    );
    assert!(msg.contains("<html><head><title>Login"), "{msg}");
    assert!(!msg.contains('\n'));
}

#[tokio::test]
async fn an_http_500_is_reported_with_status_and_body() {
    let router = Router::new().route(
        "/master/state",
        get(|| async {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Failed to get state: registry down",
            )
        }),
    );
    let base = serve(router).await;
    let e = fetch_state(
        std::slice::from_ref(&base),
        &reqwest::Client::new(),
        &selector(),
    )
    .await
    .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!(
            "GET {base}/master/state answered HTTP 500 (Failed to get state: registry down)"
        )),
        "{msg}"
    );
    assert!(msg.contains("--mesos-state FILE"), "{msg}");
}

#[tokio::test]
async fn connection_refused_names_the_url_the_cause_and_the_offline_option() {
    let url = refused_url().await;
    let e = fetch_state(
        std::slice::from_ref(&url),
        &reqwest::Client::new(),
        &selector(),
    )
    .await
    .unwrap_err();
    // A refused connection is worth asking again (the CLI retries it).
    assert!(matches!(e, LiveError::Unreachable { .. }), "{e}");
    assert!(e.is_retryable());
    let msg = e.to_string();
    assert!(msg.contains(&format!("{url}/master/state")), "{msg}");
    assert!(msg.to_lowercase().contains("refused"), "{msg}");
    assert!(msg.contains("--mesos-state FILE"), "{msg}");
    assert!(!msg.contains('\n'));
}

#[tokio::test]
async fn the_next_master_url_is_tried_when_one_is_down() {
    let down = refused_url().await;
    let up = serve(Router::new().route(
        "/master/state",
        get(|| async { json(leader_doc("master@127.0.0.1:1", "S0")) }),
    ))
    .await;
    let c = fetch_state(&[down, up.clone()], &reqwest::Client::new(), &selector())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.source, format!("{up}/master/state"));
}

#[tokio::test]
async fn when_every_master_fails_each_cause_is_listed_on_one_line() {
    let down = refused_url().await;
    let broken = serve(Router::new().route(
        "/master/state",
        get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "No leader elected") }),
    ))
    .await;
    let e = fetch_state(
        &[down.clone(), broken.clone()],
        &reqwest::Client::new(),
        &selector(),
    )
    .await
    .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, LiveError::NoMaster { .. }), "{msg}");
    assert!(msg.contains(&down) && msg.contains(&broken), "{msg}");
    assert!(msg.contains("HTTP 503 (No leader elected)"), "{msg}");
    assert_eq!(msg.matches("--mesos-state FILE").count(), 1, "{msg}");
    assert!(!msg.contains('\n'));
}

#[tokio::test]
async fn no_urls_at_all_is_an_error_with_the_hint() {
    let e = fetch_state(&[], &reqwest::Client::new(), &selector())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("--mesos-state FILE"), "{e}");
}

#[tokio::test]
async fn a_password_in_the_master_url_never_appears_in_errors() {
    let url = refused_url().await.replace("http://", "http://ops:s3cret@");
    let e = fetch_state(&[url], &reqwest::Client::new(), &selector())
        .await
        .unwrap_err()
        .to_string();
    assert!(!e.contains("s3cret"), "{e}");
    assert!(e.contains("ops:***@127.0.0.1"), "{e}");
}

/// The real binary planning against `url` (bounded by `--http-timeout 1s`).
async fn plan_against(url: &str, extra: &[&str]) -> support::Cli {
    let d = support::Deployment::new(url, "", support::SITE);
    let mut args = vec!["plan", "--http-timeout", "1s"];
    args.extend_from_slice(extra);
    let r = support::cli(&d, &args).await;
    drop(d);
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_that_never_answers_fails_plan_within_the_http_timeout() {
    // Accepts connections and holds them, saying nothing.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((conn, _)) = listener.accept().await {
            open.push(conn);
        }
    });
    let r = plan_against(&format!("http://{addr}"), &[]).await;
    held.abort();
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("waiting for the answer's headers timed out after 1s"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(&addr.to_string()), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_document_that_trickles_fails_in_the_body_phase() {
    // Promises 2 GB, then sends a byte every 100 ms (bounded: 600 bytes).
    let router = Router::new().route(
        "/master/state",
        get(|| async {
            let stream = futures_util::stream::unfold(0u32, |i| async move {
                if i >= 600 {
                    return None;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                let byte = if i == 0 { "{" } else { " " };
                Some((Ok::<_, std::io::Error>(byte), i + 1))
            });
            (
                [
                    (header::CONTENT_TYPE, "application/json"),
                    (header::CONTENT_LENGTH, "2000000000"),
                ],
                axum::body::Body::from_stream(stream),
            )
        }),
    );
    let base = serve(router).await;
    let r = plan_against(&base, &[]).await;
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("reading the body timed out"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("less than the 64 KiB per 1s"),
        "{}",
        r.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_answering_503_is_asked_again_until_it_answers() {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let router = Router::new().route(
        "/master/state",
        get(move || {
            let h = h.clone();
            async move {
                // Electing a leader for the first two requests.
                if h.fetch_add(1, Ordering::SeqCst) < 2 {
                    return (StatusCode::SERVICE_UNAVAILABLE, "no leader").into_response();
                }
                json(leader_doc("master@10.0.0.1:5050", "S1")).into_response()
            }
        }),
    );
    let base = serve(router).await;
    let r = plan_against(&base, &[]).await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(
        r.stderr.matches("reading the Mesos state: GET").count(),
        2,
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("answered HTTP 503"), "{}", r.stderr);
    assert!(r.stderr.contains("retrying in"), "{}", r.stderr);
    // With no time left to retry, the 503 is the answer.
    hits.store(0, Ordering::SeqCst);
    let r = plan_against(&base, &["--retry-deadline", "0s"]).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("HTTP 503"), "{}", r.stderr);
}
