//! The `.json` endpoint aliases exist on masters and agents older than
//! Mesos 1.8.0 only (MESOS-4509 removed them in 1.8.0: the routes are in
//! 1.7.0's `src/master/master.cpp`, `src/slave/slave.cpp` and
//! `src/files/files.cpp`, and gone from 1.8.0's).

mod common;

use common::*;
use reqwest::StatusCode;

/// Aliases of the master's endpoints, at the master's address.
const MASTER_ALIASES: [&str; 4] = [
    "/master/state.json",
    "/state.json",
    "/master/tasks.json",
    "/master/roles.json",
];

/// Aliases of an agent's endpoints, at the agent's own address.
const AGENT_ALIASES: [&str; 4] = [
    "/slave(1)/state.json",
    "/state.json",
    "/files/browse.json?path=/nonexistent",
    "/files/read.json?path=/nonexistent",
];

async fn status(url: &str) -> StatusCode {
    client().get(url).send().await.expect("GET").status()
}

/// Every alias with the address it is asked at.
async fn alias_urls(sim: &mesos_sim::SimHandle) -> Vec<String> {
    let agent = sim.agent_url("agent-1").expect("agent-1 listens");
    let master = MASTER_ALIASES.iter().map(|p| format!("{}{p}", sim.url()));
    let agent = AGENT_ALIASES.iter().map(|p| format!("{agent}{p}"));
    master.chain(agent).collect()
}

#[tokio::test]
async fn a_current_master_has_no_json_aliases() {
    let sim = start_default().await;
    for url in alias_urls(&sim).await {
        assert_eq!(status(&url).await, StatusCode::NOT_FOUND, "{url}");
    }
    let agent = sim.agent_url("agent-1").unwrap();
    for url in [
        format!("{}/master/state", sim.url()),
        format!("{}/state", sim.url()),
        format!("{}/master/tasks", sim.url()),
        format!("{agent}/slave(1)/state"),
        format!("{agent}/state"),
    ] {
        assert_eq!(status(&url).await, StatusCode::OK, "{url}");
    }
}

#[tokio::test]
async fn a_master_older_than_1_8_serves_them() {
    let sim = start(&format!(
        "[master]\nversion = \"1.7.2\"\n{FAST}\n{}",
        agents(1, "[31000-32000]")
    ))
    .await;
    for url in alias_urls(&sim).await {
        let got = status(&url).await;
        // The file endpoints answer 404 for a missing path, with no body
        // (as real 1.11.0 does).
        if url.contains("/files/") {
            assert_eq!(got, StatusCode::NOT_FOUND, "{url}");
            let body = client()
                .get(&url)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert_eq!(body, "", "{url}");
        } else {
            assert_eq!(got, StatusCode::OK, "{url}");
        }
    }
    let alias = get_json(&format!("{}/master/state.json", sim.url())).await;
    let state = get_json(&format!("{}/master/state", sim.url())).await;
    assert_eq!(alias["version"], "1.7.2");
    assert_eq!(alias["slaves"], state["slaves"]);
}
