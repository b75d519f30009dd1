//! `/master/state-summary`, `/master/roles` (`src/master/readonly_handler.cpp`),
//! `/master/flags` (`src/master/http.cpp`) and `/metrics/snapshot`
//! (`src/master/metrics.cpp`).

mod common;

use common::*;
use mesos_api::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const RESERVED: &str = r#"
[[agents]]
id = "agent-r"
hostname = "hostr"
cpus = 2
mem = 1024
disk = 100
[agents.reserved."team/alluxio"]
cpus = 1
mem = 512
"#;

/// A framework (role `*`) with one RUNNING task on the first offered agent.
async fn one_running_task(sim: &mesos_sim::SimHandle) -> (Subscription, String) {
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let offer = sub.offers().await.remove(0);
    let resources = vec![Resource::cpus(1.0), Resource::mem(128.0)];
    sub.launch_command(&offer, "t", "t1", resources, "sleep 100")
        .await;
    sub.until_state("t1", TaskState::Running).await;
    (sub, offer.agent_id.value)
}

#[tokio::test]
async fn state_summary_counts_tasks_per_agent_and_framework() {
    let sim = start_default().await;
    let (sub, agent) = one_running_task(&sim).await;
    let s = get_json(&format!("{}/master/state-summary", sim.url())).await;
    assert!(s["hostname"].is_string());
    let slaves = s["slaves"].as_array().unwrap();
    assert_eq!(slaves.len(), 3);
    for a in slaves {
        for key in [
            "id",
            "pid",
            "hostname",
            "resources",
            "used_resources",
            "active",
        ] {
            assert!(a.get(key).is_some(), "{key} in {a}");
        }
        let mine = a["id"] == agent.as_str();
        assert_eq!(a["TASK_RUNNING"], json!(u64::from(mine)));
        assert_eq!(a["TASK_ERROR"], json!(0));
        let want_ids = if mine {
            json!([sub.framework_id.value])
        } else {
            json!([])
        };
        assert_eq!(a["framework_ids"], want_ids);
    }
    let fw = &s["frameworks"][0];
    assert_eq!(fw["id"], sub.framework_id.value.as_str());
    assert_eq!(fw["TASK_RUNNING"], json!(1));
    assert_eq!(fw["slave_ids"], json!([agent]));
    assert_eq!(fw["active"], json!(true));
    assert_eq!(fw["used_resources"]["cpus"], json!(1.0));
    // The summary has no task lists.
    assert!(fw.get("tasks").is_none());
}

#[tokio::test]
async fn metrics_snapshot_has_the_master_keys() {
    let sim = start_default().await;
    let (_sub, _) = one_running_task(&sim).await;
    let m = get_json(&format!("{}/metrics/snapshot", sim.url())).await;
    assert_eq!(m["master/elected"], json!(1.0));
    assert_eq!(m["master/slaves_active"], json!(3.0));
    assert_eq!(m["master/frameworks_active"], json!(1.0));
    assert_eq!(m["master/tasks_running"], json!(1.0));
    assert_eq!(m["master/tasks_finished"], json!(0.0));
    assert_eq!(m["master/cpus_total"], json!(12.0));
    assert_eq!(m["master/cpus_used"], json!(1.0));
    assert!(m["master/uptime_secs"].as_f64().unwrap() >= 0.0);
    // Every value is a number.
    assert!(m.as_object().unwrap().values().all(Value::is_number));
    // The metrics process answers on a non-leading master too.
    sim.set_leading(false, None);
    let m = get_json(&format!("{}/metrics/snapshot", sim.url())).await;
    assert_eq!(m["master/elected"], json!(0.0));
}

#[tokio::test]
async fn roles_lists_framework_and_reservation_roles_with_ancestors() {
    let sim = start(&format!("{FAST}\n{}{RESERVED}", agents(1, "[31000-32000]"))).await;
    let (sub, _) = one_running_task(&sim).await;
    for path in ["/master/roles", "/roles"] {
        let r = get_json(&format!("{}{path}", sim.url())).await;
        let roles = r["roles"].as_array().unwrap();
        let names: Vec<&str> = roles.iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["*", "team", "team/alluxio"]);
        let star = &roles[0];
        assert_eq!(star["weight"], json!(1.0));
        assert_eq!(star["frameworks"], json!([sub.framework_id.value]));
        assert_eq!(star["allocated"]["cpus"], json!(1.0));
        assert_eq!(star["quota"]["role"], "*");
        let reserved = &roles[2];
        assert_eq!(reserved["reserved"], json!({"cpus": 1.0, "mem": 512.0}));
        assert_eq!(reserved["frameworks"], json!([]));
    }
}

#[tokio::test]
async fn flags_answer_on_any_master() {
    let sim = start_default().await;
    sim.set_leading(false, None);
    for path in ["/master/flags", "/flags"] {
        let r = client()
            .get(format!("{}{path}", sim.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let f: Value = r.json().await.unwrap();
        let flags = f["flags"].as_object().expect("flags object");
        assert_eq!(flags["allocation_interval"], "30ms");
        assert_eq!(flags["port"], sim.addr().port().to_string());
        assert!(flags.values().all(Value::is_string));
    }
}
