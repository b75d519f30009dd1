//! `/master/state` lists each framework's custom executors under
//! `executors` (`FullFrameworkWriter` in `src/master/readonly_handler.cpp`,
//! `json(ObjectWriter*, const ExecutorInfo&)` in `src/common/http.cpp`),
//! command included, environment values and all: anyone who can read the
//! state sees them, which is why secrets must not travel there.

mod common;

use common::*;
use mesos_api::*;
use serde_json::json;

#[tokio::test]
async fn custom_executors_are_listed_with_their_command_and_environment() {
    let sim = start_default().await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let offer = sub.offers().await.remove(0);
    let task: TaskInfo = serde_json::from_value(json!({
        "name": "worker",
        "task_id": {"value": "w1"},
        "agent_id": {"value": offer.agent_id.value},
        "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5}}],
        "executor": {
            "executor_id": {"value": "alluxio-executor"},
            "name": "Alluxio executor",
            "type": "CUSTOM",
            "command": {
                "value": "./alluxio-executor",
                "environment": {"variables": [
                    {"name": "ALLUXIO_SECRET", "type": "VALUE", "value": "hunter2"}
                ]},
                "uris": [{"value": "http://example.com/alluxio.tar.gz"}]
            },
            "resources": [{"name": "mem", "type": "SCALAR", "scalar": {"value": 32}}],
            "labels": {"labels": [{"key": "k", "value": "v"}]}
        }
    }))
    .unwrap();
    sub.launch(&offer, vec![task]).await;
    sub.until_state("w1", TaskState::Running).await;
    let state = get_json(&format!("{}/master/state", sim.url())).await;
    let executors = state["frameworks"][0]["executors"].as_array().unwrap();
    assert_eq!(executors.len(), 1);
    let e = &executors[0];
    assert_eq!(e["executor_id"], "alluxio-executor");
    assert_eq!(e["name"], "Alluxio executor");
    assert_eq!(e["framework_id"], sub.framework_id.value.as_str());
    assert_eq!(e["slave_id"], offer.agent_id.value.as_str());
    assert_eq!(e["type"], "CUSTOM");
    assert_eq!(e["role"], "*");
    assert_eq!(e["resources"]["mem"], json!(32.0));
    assert_eq!(e["labels"], json!([{"key": "k", "value": "v"}]));
    assert_eq!(
        e["command"],
        json!({
            "value": "./alluxio-executor",
            "argv": [],
            "environment": {"variables": [
                {"name": "ALLUXIO_SECRET", "type": "VALUE", "value": "hunter2"}
            ]},
            "uris": [{"value": "http://example.com/alluxio.tar.gz", "executable": false}],
        })
    );

    // Command tasks have no executor the master lists; an executor whose
    // tasks have all ended is gone.
    sub.call(&Call::kill(
        sub.framework_id.clone(),
        TaskId::new("w1"),
        None,
    ))
    .await;
    sub.until_terminal("w1").await;
    let state = get_json(&format!("{}/master/state", sim.url())).await;
    assert_eq!(state["frameworks"][0]["executors"], json!([]));
}
