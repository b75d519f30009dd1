//! The v1 operator API calls beyond the state queries
//! (`Master::Http::api` in `src/master/http.cpp`), and the payload check of
//! `validation::master::call::validate`.

mod common;

use common::*;
use mesos_api::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn call(url: &str, body: Value) -> (StatusCode, String) {
    let r = client()
        .post(format!("{url}/api/v1"))
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("POST /api/v1");
    let s = r.status();
    (s, r.text().await.unwrap())
}

async fn ok(url: &str, kind: &str) -> Value {
    let (s, body) = call(url, json!({"type": kind, kind.to_ascii_lowercase(): {}})).await;
    assert_eq!(s, StatusCode::OK, "{kind}: {body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["type"], kind);
    v[kind.to_ascii_lowercase()].clone()
}

#[tokio::test]
async fn a_missing_payload_is_400_naming_it() {
    let sim = start_default().await;
    for kind in ["GET_METRICS", "TEARDOWN", "SET_QUOTA", "MARK_AGENT_GONE"] {
        let key = kind.to_ascii_lowercase();
        let (s, body) = call(&sim.url(), json!({ "type": kind })).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{kind}");
        assert_eq!(
            body,
            format!("Failed to validate master::Call: Expecting '{key}' to be present")
        );
    }
}

#[tokio::test]
async fn an_unknown_call_type_is_a_missing_one() {
    // `Call.type` is an optional enum: stout's `protobuf::parse` drops a
    // value it does not know (only required enums fail with "Failed to find
    // enum"), and `validation::master::call::validate` then finds no type.
    let sim = start_default().await;
    for body in [json!({"type": "NO_SUCH_CALL"}), json!({})] {
        let (s, text) = call(&sim.url(), body.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            text, "Failed to validate master::Call: Expecting 'type' to be present",
            "{body}"
        );
    }
    // UNKNOWN is a known value: `Master::Http::api` answers it 501.
    let (s, _) = call(&sim.url(), json!({"type": "UNKNOWN"})).await;
    assert_eq!(s, StatusCode::NOT_IMPLEMENTED);
}

#[tokio::test]
async fn flags_metrics_roles_and_executors_are_answered() {
    let sim = start_default().await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let offer = sub.offers().await.remove(0);
    let task: TaskInfo = serde_json::from_value(json!({
        "name": "w", "task_id": {"value": "w1"}, "agent_id": {"value": offer.agent_id.value},
        "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1}}],
        "executor": {"executor_id": {"value": "ex"}, "command": {"value": "./ex"}}
    }))
    .unwrap();
    sub.launch(&offer, vec![task]).await;
    sub.until_state("w1", TaskState::Running).await;
    let url = sim.url();
    let flags = ok(&url, "GET_FLAGS").await;
    let flags = flags["flags"].as_array().unwrap();
    assert!(flags.contains(&json!({"name": "allocation_interval", "value": "30ms"})));

    let metrics = ok(&url, "GET_METRICS").await;
    let metrics = metrics["metrics"].as_array().unwrap();
    assert!(metrics.contains(&json!({"name": "master/tasks_running", "value": 1.0})));
    assert!(metrics.contains(&json!({"name": "master/elected", "value": 1.0})));

    let roles = ok(&url, "GET_ROLES").await;
    let star = &roles["roles"][0];
    assert_eq!(roles["roles"].as_array().unwrap().len(), 1);
    assert_eq!(star["name"], "*");
    assert_eq!(star["weight"], json!(1.0));
    assert_eq!(
        star["frameworks"],
        json!([{"value": sub.framework_id.value}])
    );
    // Allocated plus offered: the task's cpu and whatever offers are out.
    let cpus = star["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "cpus")
        .expect("cpus");
    assert_eq!(cpus["type"], "SCALAR");
    assert!(cpus["scalar"]["value"].as_f64().unwrap() >= 1.0, "{cpus}");

    let executors = ok(&url, "GET_EXECUTORS").await;
    let e = &executors["executors"][0];
    assert_eq!(e["agent_id"], json!({"value": offer.agent_id.value}));
    assert_eq!(e["executor_info"]["executor_id"], json!({"value": "ex"}));
    assert_eq!(
        e["executor_info"]["framework_id"],
        json!({"value": sub.framework_id.value})
    );
    let state = ok(&url, "GET_STATE").await;
    assert_eq!(state["get_executors"], executors);

    // Nothing of these exists in the emulated cluster.
    assert_eq!(ok(&url, "GET_OPERATIONS").await, json!({}));
    // Real masters leave out the payload of GET_WEIGHTS when there are none.
    assert_eq!(ok(&url, "GET_WEIGHTS").await, Value::Null);
    assert_eq!(ok(&url, "GET_QUOTA").await, json!({"status": {}}));
    assert_eq!(
        ok(&url, "GET_MAINTENANCE_STATUS").await,
        json!({"status": {}})
    );
}
