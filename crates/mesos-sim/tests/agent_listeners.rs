//! Every agent is its own HTTP server, as in a real cluster: the master
//! reports the agent's pid `slave(1)@ip:port` (`Slave::pid`), its `port`
//! and offers' `url` (`Master::offer`, `src/master/master.cpp`) naming
//! that server, which answers the agent's endpoints (`src/slave/http.cpp`)
//! and its file server (`src/files/files.cpp`) for its own sandboxes. The
//! master's address answers none of them: libprocess hands a path naming
//! no process of the master (`/slave(1)/state`) to the master, which has
//! no such endpoint.

mod common;

use common::*;
use mesos_api::*;
use reqwest::StatusCode;
use serde_json::Value;

async fn status(url: &str) -> StatusCode {
    client().get(url).send().await.expect("GET").status()
}

fn slaves(state: &Value) -> Vec<Value> {
    state["slaves"].as_array().unwrap().clone()
}

#[tokio::test]
async fn each_agent_answers_at_its_own_address() {
    let sim = start_default().await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let offers = sub.offers().await;
    let agents = slaves(&sim.state_json());
    assert_eq!(agents.len(), 3);
    let mut ports = std::collections::BTreeSet::new();
    for a in &agents {
        let pid = a["pid"].as_str().unwrap();
        let (url, process) = agent_address(pid);
        let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
        // `port` is the pid's port, an address of its own.
        assert_eq!(a["port"], port, "{a}");
        assert_ne!(port, sim.addr().port(), "{pid}");
        ports.insert(port);
        // The agent's state, at its process and at the paths libprocess
        // hands to it (its delegate), names the same agent and pid.
        for path in [format!("/{process}/state"), "/state".to_string()] {
            let s = get_json(&format!("{url}{path}")).await;
            assert_eq!(s["id"], a["id"], "{path}");
            assert_eq!(s["pid"], pid, "{path}");
            assert_eq!(s["hostname"], a["hostname"], "{path}");
        }
        assert_eq!(
            status(&format!("{url}/{process}/health")).await,
            StatusCode::OK
        );
        assert_eq!(
            status(&format!("{url}/monitor/statistics")).await,
            StatusCode::OK
        );
        // Offers of this agent carry the same address.
        for o in offers.iter().filter(|o| o.agent_id.value == a["id"]) {
            let u = o.url.as_ref().expect("offer url");
            assert_eq!(u["address"]["port"], port);
            assert_eq!(u["path"], format!("/{process}"));
        }
    }
    assert_eq!(ports.len(), 3, "one port per agent: {ports:?}");

    // Every agent is a process of its own, so each is `slave(1)` (as a
    // real standalone agent always is); `slave(2)` is on none of them, and
    // no agent's is on the master's server.
    let (first, first_process) = agent_address(agents[0]["pid"].as_str().unwrap());
    for a in &agents {
        assert_eq!(
            agent_address(a["pid"].as_str().unwrap()).1,
            "slave(1)",
            "{a}"
        );
    }
    assert_eq!(
        status(&format!("{first}/slave(2)/state")).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status(&format!("{}/{first_process}/state", sim.url())).await,
        StatusCode::NOT_FOUND
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn sandboxes_are_served_by_their_own_agent_only() {
    let sim = start_default().await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let offer = sub.offers().await.remove(0);
    let resources = vec![Resource::cpus(0.5), Resource::mem(64.0)];
    sub.launch_command(&offer, "t", "t1", resources, "sleep 100")
        .await;
    sub.until_state("t1", TaskState::Running).await;
    let base = agent_base(&sim.url(), &offer.agent_id.value).await;
    let s = get_json(&format!("{base}/state")).await;
    let dir = s["frameworks"][0]["executors"][0]["directory"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::write(format!("{dir}/stdout"), "from t1\n").unwrap();
    let (own, _) = base.rsplit_once('/').unwrap();
    let read = format!("/files/read?path={dir}/stdout&offset=0");
    let page = get_json(&format!("{own}{read}")).await;
    assert_eq!(page["data"], "from t1\n");
    // Neither another agent nor the master serves that sandbox.
    let other = slaves(&sim.state_json())
        .into_iter()
        .find(|a| a["id"] != offer.agent_id.value.as_str())
        .unwrap();
    let (other_url, _) = agent_address(other["pid"].as_str().unwrap());
    assert_eq!(
        status(&format!("{other_url}{read}")).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status(&format!("{}{read}", sim.url())).await,
        StatusCode::NOT_FOUND
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn an_added_agent_gets_a_listener_of_its_own() {
    let sim = start_default().await;
    let spec: mesos_sim::AgentSpec = serde_json::from_value(serde_json::json!({
        "id": "late", "hostname": "late.example.com", "cpus": 1.0, "mem": 512.0
    }))
    .unwrap();
    sim.add_agent(&spec).unwrap();
    let url = sim.agent_url("late").expect("the added agent listens");
    let s = get_json(&format!("{url}/state")).await;
    assert_eq!(s["id"], "late");
    assert_eq!(s["hostname"], "late.example.com");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_restarted_emulator_asks_for_the_same_agent_ports() {
    let dir = tempfile::tempdir().unwrap();
    let spec = || {
        mesos_sim::ClusterSpec::parse(&format!("{FAST}\n{}", agents(2, "[31000-32000]"))).unwrap()
    };
    let listen = "127.0.0.1:0".parse().unwrap();
    let sim = mesos_sim::Sim::start(spec(), listen, Some(dir.path().into()))
        .await
        .unwrap();
    let before: Vec<(Value, Value)> = slaves(&sim.state_json())
        .iter()
        .map(|a| (a["id"].clone(), a["port"].clone()))
        .collect();
    sim.shutdown().await;
    let sim = mesos_sim::Sim::start(spec(), listen, Some(dir.path().into()))
        .await
        .unwrap();
    for a in slaves(&sim.state_json()) {
        let (url, _) = agent_address(a["pid"].as_str().unwrap());
        // Whatever the port, the agent answers where its pid says.
        assert_eq!(get_json(&format!("{url}/state")).await["id"], a["id"]);
        let old = &before.iter().find(|(id, _)| *id == a["id"]).unwrap().1;
        let old_port = old.as_u64().unwrap() as u16;
        // The saved port is taken again unless something else holds it now.
        let taken_by_other =
            std::net::TcpListener::bind(("127.0.0.1", old_port)).is_err() && a["port"] != *old;
        assert!(
            a["port"] == *old || taken_by_other,
            "agent {} moved from port {old} to {} though {old} is free",
            a["id"],
            a["port"]
        );
    }
    sim.shutdown().await;
}

/// POSTs a JSON body to an agent's `/api/v1`.
async fn agent_call(url: &str, body: &str) -> (StatusCode, String) {
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

#[tokio::test]
async fn an_agent_answers_its_v1_api_basics() {
    // `Http::api` in `src/slave/http.cpp`: method, Content-Type, Accept,
    // then the body; GET_HEALTH, GET_VERSION, GET_AGENT in v1 shapes.
    let sim = start_default().await;
    let url = sim.agent_url("agent-1").unwrap();
    let (s, body) = agent_call(&url, r#"{"type": "GET_HEALTH"}"#).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"type": "GET_HEALTH", "get_health": {"healthy": true}})
    );
    let (_, body) = agent_call(&url, r#"{"type": "GET_VERSION"}"#).await;
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["get_version"]["version_info"]["version"], "1.11.0");
    let (_, body) = agent_call(&url, r#"{"type": "GET_AGENT"}"#).await;
    let v: Value = serde_json::from_str(&body).unwrap();
    let info = &v["get_agent"]["agent_info"];
    assert_eq!(info["id"], serde_json::json!({"value": "agent-1"}));
    assert_eq!(info["hostname"], "host1");
    assert_eq!(
        info["port"],
        url.rsplit(':').next().unwrap().parse::<u16>().unwrap()
    );

    // `/slave(1)/api/v1` is the same endpoint.
    let (process_url, process) = agent_address(
        sim.state_json()["slaves"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == "agent-1")
            .unwrap()["pid"]
            .as_str()
            .unwrap(),
    );
    let (s, _) = agent_call(
        &format!("{process_url}/{process}"),
        r#"{"type": "GET_HEALTH"}"#,
    )
    .await;
    assert_eq!(s, StatusCode::OK);

    // An unknown type is dropped by stout's parse, then missing.
    for body in [r#"{"type": "NO_SUCH_CALL"}"#, "{}"] {
        assert_eq!(
            agent_call(&url, body).await,
            (
                StatusCode::BAD_REQUEST,
                "Failed to validate agent::Call: Expecting 'type' to be present".to_string()
            )
        );
    }
    let r = client().get(format!("{url}/api/v1")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers()["allow"], "POST");
    let r = client()
        .post(format!("{url}/api/v1"))
        .body(r#"{"type": "GET_HEALTH"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.text().await.unwrap(),
        "Expecting 'Content-Type' to be present"
    );
    let r = client()
        .post(format!("{url}/api/v1"))
        .header("Content-Type", "application/json")
        .header("Accept", "text/html")
        .body("not even JSON")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_ACCEPTABLE);
    // A streaming call's RecordIO `Accept` is acceptable (a real agent
    // takes it); the call itself needs a containerizer: not emulated.
    let r = client()
        .post(format!("{url}/api/v1"))
        .header("Content-Type", "application/json")
        .header("Accept", "application/recordio")
        .header("Message-Accept", "application/json")
        .body(r#"{"type": "LAUNCH_NESTED_CONTAINER_SESSION"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_IMPLEMENTED);
    // Calls that need a containerizer are not emulated.
    let (s, _) = agent_call(&url, r#"{"type": "GET_CONTAINERS"}"#).await;
    assert_eq!(s, StatusCode::NOT_IMPLEMENTED);
    sim.shutdown().await;
}
