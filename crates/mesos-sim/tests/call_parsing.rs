//! How a JSON scheduler call is read, as Mesos reads it: stout's
//! `protobuf::parse` (`3rdparty/stout/include/stout/protobuf.hpp`) then
//! `validation::scheduler::call::validate`. `null` is unset, unknown
//! optional enum values are dropped, and what is refused is answered 400
//! with stout's and the master's texts.

mod common;

use std::time::Duration;

use common::*;
use futures_util::StreamExt;
use mesos_api::recordio::Decoder;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn post(url: &str, body: &Value) -> reqwest::Response {
    client()
        .post(format!("{url}/api/v1/scheduler"))
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("POST /api/v1/scheduler")
}

/// POSTs a raw SUBSCRIBE and returns the status and the first event.
async fn subscribe_raw(url: &str, body: Value) -> (StatusCode, Option<Value>) {
    let resp = post(url, &body).await;
    let status = resp.status();
    let mut stream = resp.bytes_stream();
    let mut decoder = Decoder::new();
    let first = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(chunk)) = stream.next().await {
            if let Some(rec) = decoder.feed(&chunk).expect("RecordIO").into_iter().next() {
                return Some(serde_json::from_slice::<Value>(&rec).expect("event JSON"));
            }
        }
        None
    })
    .await
    .ok()
    .flatten();
    (status, first)
}

async fn refused(url: &str, body: Value) -> String {
    let resp = post(url, &body).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "for {body}");
    resp.text().await.unwrap()
}

#[tokio::test]
async fn null_for_a_repeated_field_is_unset_not_an_error() {
    let sim = start_default().await;
    let (status, first) = subscribe_raw(
        &sim.url(),
        json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": {
            "user": "u", "name": "n", "capabilities": null, "roles": null,
            "labels": null, "hostname": null}, "suppressed_roles": null}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let first = first.expect("an event");
    assert_eq!(first["type"], "SUBSCRIBED", "{first}");
    let state = sim.state_json();
    assert_eq!(state["frameworks"][0]["capabilities"], json!([]));
    assert_eq!(state["frameworks"][0]["role"], "*");
}

#[tokio::test]
async fn an_unknown_value_of_an_optional_enum_is_dropped() {
    let sim = start_default().await;
    let (status, first) = subscribe_raw(
        &sim.url(),
        json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": {
            "user": "u", "name": "n",
            "capabilities": [{"type": "NO_SUCH_CAPABILITY"}, {"type": "TASK_KILLING_STATE"}]}}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first.expect("an event")["type"], "SUBSCRIBED");
    let state = sim.state_json();
    assert_eq!(
        state["frameworks"][0]["capabilities"],
        json!(["TASK_KILLING_STATE"])
    );
}

#[tokio::test]
async fn missing_required_fields_are_named_by_their_path() {
    let sim = start_default().await;
    let fid = json!({"value": "some-framework"});
    assert_eq!(
        refused(
            &sim.url(),
            json!({"type": "KILL", "framework_id": fid, "kill": {}})
        )
        .await,
        "Failed to convert JSON into Call protobuf: Missing required fields: kill.task_id"
    );
    assert_eq!(
        refused(
            &sim.url(),
            json!({"type": "KILL", "framework_id": fid, "kill": {"task_id": null}})
        )
        .await,
        "Failed to convert JSON into Call protobuf: Missing required fields: kill.task_id"
    );
    assert_eq!(
        refused(
            &sim.url(),
            json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": {"name": "n"}}})
        )
        .await,
        "Failed to convert JSON into Call protobuf: Missing required fields: subscribe.framework_info.user"
    );
}

#[tokio::test]
async fn what_stout_refuses_gets_stouts_text() {
    let sim = start_default().await;
    let url = sim.url();
    let conv = "Failed to convert JSON into Call protobuf: ";
    assert_eq!(
        refused(&url, json!({"type": 1})).await,
        format!("{conv}Not expecting a JSON number for field 'type'")
    );
    assert_eq!(
        refused(&url, json!([])).await,
        format!("{conv}Expecting a JSON object")
    );
    assert_eq!(
        refused(
            &url,
            json!({"type": "KILL", "framework_id": {"value": "f"}, "kill": {"task_id": [{"value": "t"}]}})
        )
        .await,
        format!("{conv}Not expecting a JSON array for field 'task_id'")
    );
    assert_eq!(
        refused(
            &url,
            json!({"type": "ACCEPT", "framework_id": {"value": "f"}, "accept": {"operations": [
                {"type": "LAUNCH", "launch": {"task_infos": [{"name": "t", "task_id": {"value": "t"},
                 "agent_id": {"value": "a"}, "resources": [{"name": "cpus", "type": "SCALARR"}]}]}}]}})
        )
        .await,
        format!("{conv}Failed to find enum for 'SCALARR'")
    );
    assert_eq!(
        refused(
            &url,
            json!({"type": "ACKNOWLEDGE", "framework_id": {"value": "f"}, "acknowledge": {
                "agent_id": {"value": "a"}, "task_id": {"value": "t"}, "uuid": "not-base64"}})
        )
        .await,
        format!("{conv}Failed to base64 decode bytes field 'uuid': Invalid character '-'")
    );
    // An unknown call type is dropped like any optional enum value, so the
    // call then fails validation.
    assert_eq!(
        refused(&url, json!({"type": "NO_SUCH_CALL"})).await,
        "Failed to validate scheduler::Call: Expecting 'type' to be present"
    );
}
