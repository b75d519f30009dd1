//! Fields that name the agent behind an offer or an update: the offer's
//! `url` (built in `Master::offer`, `src/master/master.cpp`) and the
//! `container_status` the agent merges into the updates it forwards
//! (`Slave::_statusUpdate`, `src/slave/slave.cpp`).

mod common;

use common::*;
use mesos_api::scheduler::EventType;
use mesos_api::*;
use serde_json::{json, Value};

#[tokio::test]
async fn every_offer_carries_the_agents_url() {
    let sim = start_default().await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let offers = sub.offers().await;
    assert!(!offers.is_empty());
    let raw = sub
        .raw_events
        .iter()
        .find(|e| e["type"] == "OFFERS")
        .expect("the OFFERS record")
        .clone();
    let state = sim.state_json();
    for offer in raw["offers"]["offers"].as_array().unwrap() {
        let agent = state["slaves"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == offer["agent_id"]["value"])
            .expect("offered agent in the state");
        // pid is `slave(1)@ip:port`; the URL names the same process.
        let pid = agent["pid"].as_str().unwrap();
        let (id, addr) = pid.split_once('@').unwrap();
        let (ip, port) = addr.split_once(':').unwrap();
        assert_eq!(
            offer["url"],
            json!({
                "scheme": "http",
                "address": {
                    "hostname": agent["hostname"],
                    "ip": ip,
                    "port": port.parse::<u16>().unwrap(),
                },
                "path": format!("/{id}"),
            })
        );
    }
}

#[tokio::test]
async fn agent_updates_carry_the_container_id() {
    let sim = start_default().await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let offer = sub.offers().await.remove(0);
    let resources = vec![Resource::cpus(0.5), Resource::mem(64.0)];
    sub.launch_command(&offer, "t", "t1", resources, "sleep 100")
        .await;
    let mut container_ids = Vec::new();
    for st in sub.until_state("t1", TaskState::Running).await {
        let cs = st.container_status.clone().expect("container_status");
        let id = cs["container_id"]["value"]
            .as_str()
            .expect("container_id.value");
        assert_eq!(uuid::Uuid::parse_str(id).unwrap().to_string(), id);
        // The agent's IP stands in for the container's network.
        assert_eq!(
            cs["network_infos"][0]["ip_addresses"][0]["ip_address"],
            sim.addr().ip().to_string()
        );
        container_ids.push(id.to_string());
    }
    assert!(
        container_ids.windows(2).all(|w| w[0] == w[1]),
        "{container_ids:?}"
    );
    // The master's state shows the statuses with it too.
    let state = sim.state_json();
    let statuses = state["frameworks"][0]["tasks"][0]["statuses"]
        .as_array()
        .unwrap()
        .clone();
    assert!(!statuses.is_empty());
    for s in &statuses {
        assert_eq!(
            s["container_status"]["container_id"]["value"],
            Value::from(container_ids[0].clone())
        );
    }
    // Reconciliation repeats the latest one (`getTaskContainerStatus`).
    sub.call(&Call::reconcile(sub.framework_id.clone(), vec![]))
        .await;
    let ev = sub
        .wait_for(std::time::Duration::from_secs(5), |e| {
            e.kind == EventType::Update
                && e.update.as_ref().unwrap().status.reason == Some(Reason::ReasonReconciliation)
        })
        .await
        .expect("reconciliation update");
    assert_eq!(
        ev.update.unwrap().status.container_status.unwrap()["container_id"]["value"],
        Value::from(container_ids[0].clone())
    );
}
