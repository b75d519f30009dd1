//! An emulated agent's `/slave(1)/state` (the `FrameworkWriter` and
//! `ExecutorWriter` of `src/slave/http.cpp`) and
//! `/slave(1)/monitor/statistics` (`Http::_statistics`).

mod common;

use std::time::Duration;

use common::*;
use mesos_api::*;
use serde_json::{json, Value};

/// Launches one command task on the first offer; returns the agent's
/// `http://ip:port/slave(1)`: its own listener and process.
async fn launch_one(sim: &mesos_sim::SimHandle, sub: &mut Subscription) -> String {
    let offer = sub.offers().await.remove(0);
    let resources = vec![Resource::cpus(0.5), Resource::mem(64.0)];
    sub.launch_command(&offer, "t", "t1", resources, "sleep 100")
        .await;
    agent_base(&sim.url(), &offer.agent_id.value).await
}

#[tokio::test]
async fn executors_and_frameworks_carry_the_agents_fields() {
    let sim = start_default().await;
    let mut info = framework("f");
    info.checkpoint = Some(true);
    info.hostname = Some("scheduler.example.com".into());
    let (mut sub, _) = Subscription::open(&sim.url(), info).await;
    let agent = launch_one(&sim, &mut sub).await;
    let running = sub
        .until_state("t1", TaskState::Running)
        .await
        .pop()
        .unwrap();
    let container = running.container_status.unwrap()["container_id"]["value"].clone();
    let s = get_json(&format!("{agent}/state")).await;
    let fw = &s["frameworks"][0];
    assert_eq!(fw["failover_timeout"], json!(3600.0));
    assert_eq!(fw["checkpoint"], json!(true));
    assert_eq!(fw["hostname"], "scheduler.example.com");
    assert_eq!(fw["role"], "*");
    assert!(fw.get("roles").is_none());
    assert_eq!(fw["completed_executors"], json!([]));
    let ex = &fw["executors"][0];
    assert_eq!(ex["id"], "t1");
    assert_eq!(ex["source"], "t1");
    assert_eq!(ex["container"], container);
    assert_eq!(ex["resources"]["cpus"], json!(0.5));
    assert_eq!(ex["resources"]["mem"], json!(64.0));
    assert_eq!(ex["queued_tasks"], json!([]));
    assert_eq!(ex["tasks"][0]["id"], "t1");
    assert_eq!(ex["completed_tasks"], json!([]));

    // Statistics: one entry for the running executor, with its limits.
    let stats = get_json(&format!("{agent}/monitor/statistics")).await;
    let entry = &stats[0];
    assert_eq!(entry["executor_id"], "t1");
    assert_eq!(entry["framework_id"], sub.framework_id.value.as_str());
    assert_eq!(entry["source"], "t1");
    // A soft CPU limit only, as real agents without CPU limits report.
    assert_eq!(entry["statistics"]["cpus_soft_limit"], json!(0.5));
    assert_eq!(entry["statistics"]["cpus_limit"], Value::Null);
    assert_eq!(
        entry["statistics"]["mem_limit_bytes"],
        json!(64 * 1024 * 1024)
    );
    assert!(entry["statistics"]["timestamp"].as_f64().unwrap() > 0.0);

    // Once its task has ended the executor is a completed one.
    sub.call(&Call::kill(
        sub.framework_id.clone(),
        TaskId::new("t1"),
        None,
    ))
    .await;
    sub.until_terminal("t1").await;
    let s = get_json(&format!("{agent}/state")).await;
    let fw = &s["frameworks"][0];
    assert_eq!(fw["executors"], json!([]));
    let done = &fw["completed_executors"][0];
    assert_eq!(done["id"], "t1");
    assert_eq!(done["completed_tasks"][0]["state"], "TASK_KILLED");
    let stats = get_json(&format!("{agent}/monitor/statistics")).await;
    assert_eq!(stats, json!([]));
}

#[tokio::test]
async fn a_task_not_yet_started_is_queued() {
    // A start delay far beyond the test keeps the task in STAGING.
    let sim = start(&format!(
        "[timing]\nallocation_interval = \"30ms\"\ntask_start_delay = \"1h\"\n{}",
        agents(1, "[31000-32000]")
    ))
    .await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let agent = launch_one(&sim, &mut sub).await;
    // The launch is processed when the ACCEPT call is answered.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let ex = loop {
        let s: Value = get_json(&format!("{agent}/state")).await;
        let ex = s["frameworks"][0]["executors"][0].clone();
        if !ex.is_null() || tokio::time::Instant::now() > deadline {
            break ex;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(ex["tasks"], json!([]));
    let queued = &ex["queued_tasks"][0];
    assert_eq!(queued["task_id"], json!({"value": "t1"}));
    assert!(queued["slave_id"]["value"].is_string(), "{queued}");
    assert!(queued.get("agent_id").is_none());
}
