//! `/master/tasks` as `Master::ReadOnlyHandler::tasks`
//! (`src/master/readonly_handler.cpp`) answers: `framework_id` and
//! `task_id` select, `limit`/`offset` are read with `numify<int>` into a
//! `size_t` (so `-1` is no limit and unreadable values give the default).

mod common;

use std::collections::BTreeSet;

use common::*;
use mesos_api::*;
use reqwest::StatusCode;
use serde_json::Value;

/// Subscribes a framework and runs `ids` as small command tasks on one offer.
async fn framework_with_tasks(
    sim: &mesos_sim::SimHandle,
    name: &str,
    ids: &[&str],
) -> Subscription {
    let (mut sub, _) = Subscription::open(&sim.url(), framework(name)).await;
    let offer = sub.offers().await.remove(0);
    let tasks = ids
        .iter()
        .map(|id| {
            TaskInfo::command(
                *id,
                *id,
                offer.agent_id.clone(),
                vec![Resource::cpus(0.1), Resource::mem(32.0)],
                CommandInfo::shell("sleep 100"),
            )
        })
        .collect();
    let (s, body) = sub.launch(&offer, tasks).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{body}");
    let mut running = BTreeSet::new();
    while running.len() < ids.len() {
        let st = sub.update().await;
        sub.ack(&st).await;
        if st.state == TaskState::Running {
            running.insert(st.task_id.value.clone());
        }
    }
    sub
}

async fn task_ids(url: &str) -> Vec<String> {
    let r = client().get(url).send().await.expect("GET");
    assert_eq!(r.status(), StatusCode::OK, "GET {url}");
    let v: Value = r.json().await.expect("JSON");
    v["tasks"]
        .as_array()
        .expect("tasks array")
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn framework_id_and_task_id_select_tasks() {
    let sim = start_default().await;
    let a = framework_with_tasks(&sim, "a", &["a1", "a2"]).await;
    let b = framework_with_tasks(&sim, "b", &["b1"]).await;
    let url = format!("{}/master/tasks", sim.url());
    assert_eq!(sorted(task_ids(&url).await), ["a1", "a2", "b1"]);
    let fa = &a.framework_id.value;
    let fb = &b.framework_id.value;
    assert_eq!(
        sorted(task_ids(&format!("{url}?framework_id={fa}")).await),
        ["a1", "a2"]
    );
    assert_eq!(task_ids(&format!("{url}?framework_id={fb}")).await, ["b1"]);
    assert_eq!(task_ids(&format!("{url}?task_id=a2")).await, ["a2"]);
    assert_eq!(
        task_ids(&format!("{url}?framework_id={fb}&task_id=b1")).await,
        ["b1"]
    );
    assert!(task_ids(&format!("{url}?framework_id={fb}&task_id=a1"))
        .await
        .is_empty());
    assert!(task_ids(&format!("{url}?framework_id=no-such-framework"))
        .await
        .is_empty());
}

#[tokio::test]
async fn limit_and_offset_are_read_as_mesos_reads_them() {
    let sim = start_default().await;
    let _a = framework_with_tasks(&sim, "a", &["t1", "t2", "t3"]).await;
    let url = format!("{}/master/tasks", sim.url());
    // -1 becomes SIZE_MAX: no limit.
    assert_eq!(task_ids(&format!("{url}?limit=-1")).await.len(), 3);
    assert_eq!(task_ids(&format!("{url}?limit=1")).await.len(), 1);
    // Unreadable numbers fall back to the defaults (100, 0) instead of 400.
    assert_eq!(
        task_ids(&format!("{url}?limit=lots&offset=x")).await.len(),
        3
    );
    assert_eq!(task_ids(&format!("{url}?offset=2")).await.len(), 1);
    // A negative offset is a huge one: nothing left.
    assert!(task_ids(&format!("{url}?offset=-1")).await.is_empty());
    let asc = task_ids(&format!("{url}?order=asc")).await;
    let desc = task_ids(&format!("{url}?order=whatever")).await;
    assert_eq!(sorted(asc), sorted(desc));
}
