//! The scheduler endpoint's HTTP contract: status codes, headers, stream
//! behaviour and framework lifetime, as a Mesos 1.x master has them.

mod common;

use std::time::Duration;

use common::*;
use mesos_api::scheduler::{CallType, EventType};
use mesos_api::{Call, FrameworkId};
use reqwest::StatusCode;

const S5: Duration = Duration::from_secs(5);

#[tokio::test]
async fn subscribe_answers_a_chunked_stream_with_subscribed_then_heartbeat() {
    let sim = start_default().await;
    let (mut sub, first) = Subscription::open(&sim.url(), framework("f")).await;
    assert_eq!(sub.status, StatusCode::OK);
    assert_eq!(sub.headers["content-type"], "application/json");
    assert_eq!(sub.headers["transfer-encoding"], "chunked");
    assert!(sub.headers.get("content-length").is_none());
    assert!(
        uuid::Uuid::parse_str(&sub.stream_id).is_ok(),
        "{}",
        sub.stream_id
    );
    assert_eq!(first.kind, EventType::Subscribed);
    let s = first.subscribed.unwrap();
    assert_eq!(s.framework_id.value, format!("{}-0000", sim.master_id()));
    assert_eq!(s.heartbeat_interval_seconds, Some(15.0));
    assert_eq!(s.master_info.unwrap().version.as_deref(), Some("1.11.0"));
    assert_eq!(sub.next(S5).await.unwrap().kind, EventType::Heartbeat);
    // A second framework gets the next ID.
    let (_s2, e2) = Subscription::open(&sim.url(), framework("g")).await;
    assert_eq!(
        e2.subscribed.unwrap().framework_id.value,
        format!("{}-0001", sim.master_id())
    );
}

#[tokio::test]
async fn heartbeats_repeat_every_interval() {
    let sim = start(&format!(
        "[timing]\nheartbeat_interval = \"100ms\"\n{}",
        agents(0, "[]")
    ))
    .await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let mut beats = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(650);
    while tokio::time::Instant::now() < deadline {
        if let Some(e) = sub.next(Duration::from_millis(50)).await {
            if e.kind == EventType::Heartbeat {
                beats += 1;
            }
        }
    }
    assert!(beats >= 4, "only {beats} heartbeats in 650ms at 100ms");
}

async fn raw(url: &str, ct: Option<&str>, body: &str) -> (StatusCode, String) {
    let mut r = client()
        .post(format!("{url}/api/v1/scheduler"))
        .body(body.to_string());
    if let Some(ct) = ct {
        r = r.header("Content-Type", ct);
    }
    let resp = r.send().await.unwrap();
    let s = resp.status();
    (s, resp.text().await.unwrap())
}

#[tokio::test]
async fn content_type_must_be_exactly_application_json() {
    let sim = start_default().await;
    let body = r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n"}}}"#;
    let (s, t) = raw(&sim.url(), None, body).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(t, "Expecting 'Content-Type' to be present");
    let (s, _) = raw(&sim.url(), Some("application/json; charset=utf-8"), body).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (s, _) = raw(&sim.url(), Some("text/plain"), body).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn bad_bodies_and_invalid_calls_are_400_with_a_reason() {
    let sim = start_default().await;
    let ct = Some("application/json");
    let (s, t) = raw(&sim.url(), ct, "{not json").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(t.starts_with("Failed to parse body into JSON"), "{t}");
    // FrameworkInfo without `user`.
    let (s, t) = raw(
        &sim.url(),
        ct,
        r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"name":"n"}}}"#,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        t.starts_with("Failed to convert JSON into Call protobuf"),
        "{t}"
    );
    // Enum by number is rejected.
    let (s, _) = raw(&sim.url(), ct, r#"{"type":1}"#).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // framework_id differs from framework_info.id.
    let (s, t) = raw(
        &sim.url(),
        ct,
        r#"{"type":"SUBSCRIBE","framework_id":{"value":"x"},"subscribe":{"framework_info":{"user":"u","name":"n"}}}"#,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(t.contains("'framework_id' differs"), "{t}");
    // Non-subscribe without framework_id.
    let (s, t) = raw(&sim.url(), ct, r#"{"type":"REVIVE"}"#).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(t.contains("Expecting 'framework_id' to be present"), "{t}");
}

#[tokio::test]
async fn methods_other_than_post_are_405() {
    let sim = start_default().await;
    let r = client()
        .get(format!("{}/api/v1/scheduler", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers()["allow"], "POST");
}

#[tokio::test]
async fn subscribe_carrying_a_stream_id_is_400() {
    let sim = start_default().await;
    let (s, t) = send(
        &sim.url(),
        Some("0b8a0b1e-1c8a-4a0e-9f6c-0a7e7e0e0e0e"),
        &Call::subscribe(framework("f")),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        t.contains("should not include the 'Mesos-Stream-Id'"),
        "{t}"
    );
}

#[tokio::test]
async fn subscribe_refuses_accept_without_json() {
    let sim = start_default().await;
    let r = client()
        .post(format!("{}/api/v1/scheduler", sim.url()))
        .header("Content-Type", "application/json")
        .header("Accept", "application/x-protobuf")
        .json(&Call::subscribe(framework("f")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_ACCEPTABLE);
}

#[tokio::test]
async fn calls_need_a_known_subscribed_framework_and_its_stream_id() {
    let sim = start_default().await;
    let (sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let fid = sub.framework_id.clone();
    let revive = Call::revive(fid.clone(), vec![]);
    let (s, body) = sub.call(&revive).await;
    assert_eq!((s, body.as_str()), (StatusCode::ACCEPTED, ""));
    let (s, t) = send(&sim.url(), None, &revive).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(t.contains("should include the 'Mesos-Stream-Id'"), "{t}");
    let (s, t) = send(&sim.url(), Some("not-the-stream"), &revive).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(t.contains("didn't match"), "{t}");
    let (s, t) = send(
        &sim.url(),
        Some(&sub.stream_id),
        &Call::revive(FrameworkId::new("nope"), vec![]),
    )
    .await;
    assert_eq!(
        (s, t.as_str()),
        (StatusCode::BAD_REQUEST, "Framework cannot be found")
    );
    // Disconnected (but within failover_timeout): 403.
    drop(sub);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (s, t) = send(&sim.url(), Some("x"), &revive).await;
    assert_eq!(
        (s, t.as_str()),
        (StatusCode::FORBIDDEN, "Framework is not subscribed")
    );
}

#[tokio::test]
async fn a_second_subscribe_fails_over_the_first_stream() {
    let sim = start_default().await;
    let (mut first, _) = Subscription::open(&sim.url(), framework("f")).await;
    let mut info = framework("f");
    info.id = Some(first.framework_id.clone());
    let (second, ev) = Subscription::open(&sim.url(), info).await;
    assert_eq!(ev.subscribed.unwrap().framework_id, first.framework_id);
    let err = first
        .wait_for(S5, |e| e.kind == EventType::Error)
        .await
        .expect("ERROR on the old stream");
    assert_eq!(err.error.unwrap().message, "Framework failed over");
    assert!(first.ends_within(S5).await, "old stream must close");
    // The old stream id no longer works; the new one does.
    let revive = Call::revive(second.framework_id.clone(), vec![]);
    assert_eq!(first.call(&revive).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(second.call(&revive).await.0, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn teardown_removes_the_framework_for_good() {
    let sim = start_default().await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let fid = sub.framework_id.clone();
    let (s, body) = sub.call(&Call::teardown(fid.clone())).await;
    assert_eq!((s, body.as_str()), (StatusCode::ACCEPTED, ""));
    assert!(sub.ends_within(S5).await, "stream closes after TEARDOWN");
    let mut info = framework("f");
    info.id = Some(fid.clone());
    let (mut again, ev) = Subscription::open(&sim.url(), info).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(ev.kind, EventType::Error);
    assert_eq!(ev.error.unwrap().message, "Framework has been removed");
    assert!(again.ends_within(S5).await);
    let (s, _) = send(&sim.url(), Some("x"), &Call::revive(fid.clone(), vec![])).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let state = get_json(&format!("{}/master/state", sim.url())).await;
    assert_eq!(state["completed_frameworks"][0]["id"], fid.value);
    assert_eq!(state["frameworks"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn failover_timeout_expiry_tears_the_framework_down() {
    let sim = start_default().await;
    let mut info = framework("f");
    info.failover_timeout = Some(1.0);
    let (sub, _) = Subscription::open(&sim.url(), info).await;
    let fid = sub.framework_id.value.clone();
    drop(sub);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let state = get_json(&format!("{}/master/state", sim.url())).await;
    assert_eq!(state["frameworks"][0]["id"], fid.as_str());
    assert_eq!(state["frameworks"][0]["active"], false);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let state = get_json(&format!("{}/master/state", sim.url())).await;
    assert_eq!(state["frameworks"].as_array().unwrap().len(), 0);
    assert_eq!(state["completed_frameworks"][0]["id"], fid.as_str());
}

#[tokio::test]
async fn a_framework_without_failover_timeout_dies_on_disconnect() {
    let sim = start_default().await;
    let mut info = framework("f");
    info.failover_timeout = None;
    let (sub, _) = Subscription::open(&sim.url(), info).await;
    drop(sub);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let state = get_json(&format!("{}/master/state", sim.url())).await;
    assert_eq!(state["frameworks"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn a_non_leading_master_redirects_to_the_leader_or_answers_503() {
    let sim = start_default().await;
    sim.set_leading(false, Some("http://leader.example.com:5050".into()));
    let (s, _) = send(&sim.url(), None, &Call::subscribe(framework("f"))).await;
    assert_eq!(s, StatusCode::TEMPORARY_REDIRECT);
    let r = client()
        .post(format!("{}/api/v1/scheduler", sim.url()))
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    // libprocess hands `/api/v1/scheduler` to the master as
    // `/master/api/v1/scheduler`, and the redirect names that path.
    assert_eq!(
        r.headers()["location"],
        "//leader.example.com:5050/master/api/v1/scheduler"
    );
    let r = client()
        .get(format!("{}/master/redirect", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(r.headers()["location"], "//leader.example.com:5050");
    let r = client()
        .get(format!("{}/master/state", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TEMPORARY_REDIRECT);
    sim.set_leading(false, None);
    let (s, t) = send(&sim.url(), None, &Call::subscribe(framework("f"))).await;
    assert_eq!(
        (s, t.as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "No leader elected")
    );
    sim.set_leading(true, None);
    let (s, _) = send(&sim.url(), None, &Call::empty(CallType::Revive, None)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_leader_redirects_to_itself() {
    let sim = start_default().await;
    let r = client()
        .get(format!("{}/master/redirect", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("//{}", sim.addr())
    );
}

#[tokio::test]
async fn injected_failures_answer_503_then_stop() {
    let sim = start_default().await;
    sim.fail_next_calls(2);
    for _ in 0..2 {
        let (s, _) = send(&sim.url(), None, &Call::subscribe(framework("f"))).await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    }
    let (sub, ev) = Subscription::open(&sim.url(), framework("f")).await;
    assert_eq!(sub.status, StatusCode::OK);
    assert_eq!(ev.kind, EventType::Subscribed);
    // Same through the control prefix.
    let r = client()
        .post(format!("{}/__sim/fail-next?n=1", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        sub.call(&Call::revive(sub.framework_id.clone(), vec![]))
            .await
            .0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        sub.call(&Call::revive(sub.framework_id.clone(), vec![]))
            .await
            .0,
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn response_delay_slows_calls_down() {
    let sim = start_default().await;
    sim.set_response_delay(Duration::from_millis(300));
    let t0 = std::time::Instant::now();
    let _ = send(&sim.url(), None, &Call::empty(CallType::Revive, None)).await;
    assert!(t0.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn dropped_streams_end_and_the_framework_can_resubscribe() {
    let sim = start_default().await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let r = client()
        .post(format!("{}/__sim/streams/drop", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(sub.ends_within(S5).await);
    let mut info = framework("f");
    info.id = Some(sub.framework_id.clone());
    let (_again, ev) = Subscription::open(&sim.url(), info).await;
    assert_eq!(ev.kind, EventType::Subscribed);
}

#[tokio::test]
async fn authentication_requires_known_credentials() {
    let sim = start(&format!(
        "{FAST}\n[authentication]\nprincipals = [{{ principal = \"alluxio\", secret = \"s3cret\" }}]\n{}",
        agents(1, "[31000-32000]")
    ))
    .await;
    let url = format!("{}/api/v1/scheduler", sim.url());
    let call = Call::subscribe(framework("f"));
    let r = client()
        .post(&url)
        .header("Content-Type", "application/json")
        .json(&call)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers()["www-authenticate"], "Basic realm=\"mesos\"");
    let body = r.text().await.unwrap();
    assert!(!body.contains("s3cret"));
    let r = client()
        .post(&url)
        .basic_auth("alluxio", Some("wrong"))
        .header("Content-Type", "application/json")
        .json(&call)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = client()
        .post(&url)
        .basic_auth("alluxio", Some("s3cret"))
        .header("Content-Type", "application/json")
        .json(&call)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let mut other = framework("f");
    other.principal = Some("someone-else".into());
    let r = client()
        .post(&url)
        .basic_auth("alluxio", Some("s3cret"))
        .header("Content-Type", "application/json")
        .json(&Call::subscribe(other))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn invalid_roles_are_refused_on_the_stream() {
    let sim = start_default().await;
    let mut info = framework("f");
    info.role = Some("bad role".into());
    let (mut sub, ev) = Subscription::open(&sim.url(), info).await;
    assert_eq!(sub.status, StatusCode::OK);
    assert_eq!(ev.kind, EventType::Error);
    assert!(sub.ends_within(S5).await);
}
