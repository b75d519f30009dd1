//! Read-only endpoints, the v1 operator API and the agents' file API.

mod common;

use std::time::Duration;

use common::*;
use mesos_api::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn running_task(sim: &mesos_sim::SimHandle) -> (Subscription, Offer) {
    let mut info = framework("alluxio");
    info.labels = Some(Labels::from_pairs([("k", "v")]));
    let (mut sub, _) = Subscription::open(&sim.url(), info).await;
    let offer = sub.offers().await.remove(0);
    let mut task = TaskInfo::command(
        "AlluxioMaster",
        "m0",
        offer.agent_id.clone(),
        vec![
            Resource::cpus(1.0),
            Resource::mem(1024.0),
            Resource::ports(&"[31000-31001]".parse().unwrap()),
        ],
        CommandInfo::shell("sleep 100"),
    );
    task.labels = Some(Labels::from_pairs([("alluxio-mesos/address", "master[0]")]));
    sub.launch(&offer, vec![task]).await;
    sub.until_state("m0", TaskState::Running).await;
    (sub, offer)
}

#[tokio::test]
async fn state_has_the_old_endpoint_shapes_under_every_alias() {
    let sim = start_default().await;
    let (sub, offer) = running_task(&sim).await;
    for path in ["/master/state", "/state"] {
        let s = get_json(&format!("{}{path}", sim.url())).await;
        assert_eq!(s["version"], "1.11.0");
        assert_eq!(s["leader"], s["pid"]);
        assert_eq!(s["id"], sim.master_id());
        assert!(s["hostname"].is_string());
        let slaves = s["slaves"].as_array().unwrap();
        assert_eq!(slaves.len(), 3);
        let a = slaves
            .iter()
            .find(|a| a["id"] == offer.agent_id.value)
            .unwrap();
        assert_eq!(a["resources"]["ports"], "[31000-32000]");
        assert_eq!(a["resources"]["cpus"], 4.0);
        assert_eq!(a["used_resources"]["ports"], "[31000-31001]");
        assert_eq!(a["unreserved_resources"]["mem"], 8192.0);
        assert_eq!(a["reserved_resources"], json!({}));
        assert!(a["offered_resources"].is_object());
        assert!(a["attributes"]["rack"].is_string());
        assert_eq!(a["active"], true);
        assert!(a["pid"].as_str().unwrap().starts_with("slave("));
        let f = &s["frameworks"][0];
        assert_eq!(f["id"], sub.framework_id.value);
        assert_eq!(f["name"], "alluxio");
        assert_eq!(f["failover_timeout"], 3600.0);
        assert_eq!(f["checkpoint"], false);
        assert_eq!(f["role"], "*");
        assert_eq!(f["active"], true);
        assert_eq!(f["labels"], json!([{"key": "k", "value": "v"}]));
        let t = &f["tasks"][0];
        assert_eq!(t["slave_id"], offer.agent_id.value);
        assert_eq!(t["framework_id"], sub.framework_id.value);
        assert_eq!(
            t["labels"],
            json!([{"key": "alluxio-mesos/address", "value": "master[0]"}])
        );
        assert!(f["completed_tasks"].as_array().unwrap().is_empty());
        assert!(f["unreachable_tasks"].as_array().unwrap().is_empty());
    }
}

#[tokio::test]
async fn frameworks_slaves_and_tasks_endpoints_list_their_part() {
    let sim = start_default().await;
    let (sub, _) = running_task(&sim).await;
    let f = get_json(&format!("{}/master/frameworks", sim.url())).await;
    assert_eq!(f["frameworks"][0]["id"], sub.framework_id.value);
    let s = get_json(&format!("{}/master/slaves", sim.url())).await;
    assert_eq!(s["slaves"].as_array().unwrap().len(), 3);
    let t = get_json(&format!("{}/master/tasks", sim.url())).await;
    assert_eq!(t["tasks"][0]["id"], "m0");
    assert_eq!(t["tasks"][0]["state"], "TASK_RUNNING");
}

#[tokio::test]
async fn version_is_plain_dotted_integers_and_health_is_200() {
    let sim = start_default().await;
    let v = get_json(&format!("{}/version", sim.url())).await;
    let version = v["version"].as_str().unwrap();
    assert!(
        version.split('.').all(|p| p.parse::<u32>().is_ok()),
        "{version}"
    );
    let r = client()
        .get(format!("{}/master/health", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

async fn operator(url: &str, kind: &str) -> Value {
    let r = client()
        .post(format!("{url}/api/v1"))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .body(json!({ "type": kind }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{kind}");
    r.json().await.unwrap()
}

#[tokio::test]
async fn operator_api_answers_with_v1_shapes() {
    let sim = start_default().await;
    let (sub, offer) = running_task(&sim).await;
    let url = sim.url();
    let h = operator(&url, "GET_HEALTH").await;
    assert_eq!(
        h,
        json!({"type": "GET_HEALTH", "get_health": {"healthy": true}})
    );
    let v = operator(&url, "GET_VERSION").await;
    assert_eq!(v["get_version"]["version_info"]["version"], "1.11.0");
    let a = operator(&url, "GET_AGENTS").await;
    let agents = a["get_agents"]["agents"].as_array().unwrap();
    assert_eq!(agents.len(), 3);
    let ag = agents
        .iter()
        .find(|x| x["agent_info"]["id"]["value"] == offer.agent_id.value)
        .unwrap();
    let total: Vec<Resource> = serde_json::from_value(ag["total_resources"].clone()).unwrap();
    assert_eq!(
        ResourceSummary::of(&total).ports.to_string(),
        "[31000-32000]"
    );
    let used: Vec<Resource> = serde_json::from_value(ag["allocated_resources"].clone()).unwrap();
    assert_eq!(ResourceSummary::of(&used).cpus, 1.0);
    let f = operator(&url, "GET_FRAMEWORKS").await;
    let fw = &f["get_frameworks"]["frameworks"][0];
    assert_eq!(fw["framework_info"]["id"]["value"], sub.framework_id.value);
    assert_eq!(fw["framework_info"]["checkpoint"], false);
    assert!(fw["registered_time"]["nanoseconds"].as_i64().unwrap() > 0);
    let t = operator(&url, "GET_TASKS").await;
    let task = &t["get_tasks"]["tasks"][0];
    assert_eq!(task["task_id"]["value"], "m0");
    assert_eq!(task["agent_id"]["value"], offer.agent_id.value);
    assert_eq!(task["state"], "TASK_RUNNING");
    assert_eq!(
        t["get_tasks"]["completed_tasks"],
        serde_json::json!([]),
        "real masters write empty lists as [] (1.7.3, 1.11.0)"
    );
    let s = operator(&url, "GET_STATE").await;
    assert_eq!(s["type"], "GET_STATE");
    assert_eq!(
        s["get_state"]["get_tasks"]["tasks"][0]["task_id"]["value"],
        "m0"
    );
    assert!(s["get_state"]["get_agents"]["agents"].is_array());
}

#[tokio::test]
async fn operator_api_checks_method_and_content_type() {
    let sim = start_default().await;
    let r = client()
        .get(format!("{}/api/v1", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let r = client()
        .post(format!("{}/api/v1", sim.url()))
        .body("{\"type\":\"GET_HEALTH\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = client()
        .post(format!("{}/api/v1", sim.url()))
        .header("Content-Type", "text/plain")
        .body("{\"type\":\"GET_HEALTH\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    for (kind, status) in [
        ("NO_SUCH_CALL", StatusCode::BAD_REQUEST),
        ("GET_LOGGING_LEVEL", StatusCode::NOT_IMPLEMENTED),
    ] {
        let r = client()
            .post(format!("{}/api/v1", sim.url()))
            .header("Content-Type", "application/json")
            .body(json!({ "type": kind }).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{kind}");
    }
}

#[tokio::test]
async fn sandbox_files_are_browsable_and_readable_through_the_agent() {
    let sim = start_default().await;
    let (sub, offer) = running_task(&sim).await;
    // Find the sandbox through the agent's state, as a client would.
    let master = get_json(&format!("{}/master/state", sim.url())).await;
    let agent = master["slaves"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == offer.agent_id.value)
        .unwrap()
        .clone();
    let pid = agent["pid"].as_str().unwrap();
    let (agent_url, name) = agent_address(pid);
    let st = get_json(&format!("{agent_url}/{name}/state")).await;
    let fw = &st["frameworks"][0];
    assert_eq!(fw["id"], sub.framework_id.value);
    let dir = fw["executors"][0]["directory"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::write(format!("{dir}/stdout"), "hello sandbox\n").unwrap();
    let list = get_json(&format!("{agent_url}/files/browse?path={dir}")).await;
    let names: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e["path"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(names, ["stderr", "stdout"]);
    let size = get_json(&format!(
        "{agent_url}/files/read?path={dir}/stdout&offset=-1"
    ))
    .await;
    assert_eq!(size, json!({"data": "", "offset": 14}));
    let part = get_json(&format!(
        "{agent_url}/files/read?path={dir}/stdout&offset=6&length=7"
    ))
    .await;
    assert_eq!(part, json!({"data": "sandbox", "offset": 6}));
    // The virtual path agents attach for every sandbox works too.
    let virt = format!(
        "/slaves/{}/frameworks/{}/executors/m0/runs/latest/stdout",
        offer.agent_id.value, sub.framework_id.value
    );
    let part = get_json(&format!("{agent_url}/files/read?path={virt}&offset=0")).await;
    assert_eq!(part["data"], "hello sandbox\n");
    let r = client()
        .get(format!(
            "{agent_url}/files/read?path=/slaves/../../etc/passwd&offset=0"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = client()
        .get(format!("{agent_url}/files/read?path=/etc/passwd&offset=0"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn transitions_record_each_change_with_time() {
    let sim = start_default().await;
    let _ = running_task(&sim).await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    let t = sim.transitions();
    assert_eq!(t.len(), 3);
    assert!(t.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    assert!(t[0].hostname.starts_with("host"));
    assert_eq!(t[2].task_name, "AlluxioMaster");
}

#[tokio::test]
async fn readonly_and_readwrite_realms_need_credentials_only_when_turned_on() {
    let creds = "[authentication]\nprincipals = [{ principal = \"ops\", secret = \"pw\" }]\n";
    let get_state = |url: String, auth: Option<(&'static str, &'static str)>| async move {
        let mut req = client().get(format!("{url}/master/state"));
        if let Some((u, p)) = auth {
            req = req.basic_auth(u, Some(p));
        }
        req.send().await.unwrap().status()
    };
    let get_version = |url: String| async move {
        client()
            .post(format!("{url}/api/v1"))
            .header("Content-Type", "application/json")
            .body(r#"{"type":"GET_VERSION"}"#)
            .send()
            .await
            .unwrap()
            .status()
    };

    // Mesos' defaults: only schedulers authenticate.
    let open = start(&format!("{creds}{}", agents(1, "[31000-32000]"))).await;
    assert_eq!(get_state(open.url(), None).await, StatusCode::OK);
    assert_eq!(get_version(open.url()).await, StatusCode::OK);
    open.shutdown().await;

    let guarded = start(&format!(
        "{creds}http_readonly = true\nhttp_readwrite = true\n{}",
        agents(1, "[31000-32000]")
    ))
    .await;
    let refused = client()
        .get(format!("{}/master/state", guarded.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused.headers()["www-authenticate"],
        "Basic realm=\"mesos\""
    );
    assert_eq!(
        get_state(guarded.url(), Some(("ops", "wrong"))).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get_state(guarded.url(), Some(("ops", "pw"))).await,
        StatusCode::OK
    );
    assert_eq!(get_version(guarded.url()).await, StatusCode::UNAUTHORIZED);
    // Outside the realms: no credentials needed.
    let version = client()
        .get(format!("{}/version", guarded.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(version.status(), StatusCode::OK);
    guarded.shutdown().await;
}
