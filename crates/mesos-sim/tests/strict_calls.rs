//! Strict-calls mode, the record of call types, and the fidelity of the
//! emulator's own events to Mesos's v1 scheduler.proto.

mod common;

use std::time::Duration;

use common::*;
use mesos_api::proto_schema;
use mesos_api::scheduler::{EventType, ReconcileTask};
use mesos_api::*;
use reqwest::StatusCode;

const S5: Duration = Duration::from_secs(5);

/// POSTs raw JSON to the scheduler endpoint.
async fn post_json(
    url: &str,
    stream_id: Option<&str>,
    body: &serde_json::Value,
) -> (StatusCode, String) {
    let mut req = client()
        .post(format!("{url}/api/v1/scheduler"))
        .header("Content-Type", "application/json")
        .body(body.to_string());
    if let Some(s) = stream_id {
        req = req.header("Mesos-Stream-Id", s);
    }
    let resp = req.send().await.expect("call request");
    let status = resp.status();
    (status, resp.text().await.unwrap_or_default())
}

/// A DECLINE whose filters carry a misspelt field.
fn misspelt_decline(fid: &FrameworkId, offer: &OfferId) -> serde_json::Value {
    serde_json::json!({
        "type": "DECLINE",
        "framework_id": {"value": fid.value},
        "decline": {"offer_ids": [{"value": offer.value}], "filters": {"refuse_second": 1.0}},
    })
}

#[tokio::test]
async fn strict_mode_refuses_a_misspelt_call_with_400_and_records_it() {
    let sim = start_strict(&format!("{FAST}\n{}", agents(1, "[31000-32000]"))).await;
    let (mut sub, first) = Subscription::open(&sim.url(), framework("f")).await;
    assert_eq!(first.kind, EventType::Subscribed);
    let offer = sub.offers().await.remove(0);
    let body = misspelt_decline(&sub.framework_id, &offer.id);
    let (status, text) = post_json(&sim.url(), Some(&sub.stream_id), &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        text,
        "Failed to validate scheduler::Call against v1 scheduler.proto (strict mode): \
         decline.filters.refuse_second: unknown field of mesos.v1.Filters \
         (did you mean 'refuse_seconds'?); real Mesos would ignore it silently"
    );
    let violations = sim.strict_violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(violations[0].starts_with("decline.filters.refuse_second: unknown field"));
    // The refused call did nothing: the offer is still outstanding and can be declined.
    let (status, _) = sub
        .call(&Call::decline(
            sub.framework_id.clone(),
            vec![offer.id],
            Some(1.0),
        ))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(sim.strict_violations().len(), 1);
}

#[tokio::test]
async fn lenient_mode_ignores_unknown_fields_as_mesos_does() {
    let sim = start(&format!("{FAST}\n{}", agents(1, "[31000-32000]"))).await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let offer = sub.offers().await.remove(0);
    let body = misspelt_decline(&sub.framework_id, &offer.id);
    let (status, text) = post_json(&sim.url(), Some(&sub.stream_id), &body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");
    assert!(sim.strict_violations().is_empty());
}

#[tokio::test]
async fn call_types_are_counted_as_received() {
    let sim = start(&format!("{FAST}\n{}", agents(1, "[31000-32000]"))).await;
    let (sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    sub.call(&Call::reconcile(sub.framework_id.clone(), vec![]))
        .await;
    sub.call(&Call::reconcile(sub.framework_id.clone(), vec![]))
        .await;
    sub.call(&Call::suppress(sub.framework_id.clone(), vec![]))
        .await;
    let seen = sim.call_types_seen();
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        [
            ("RECONCILE".to_string(), 2),
            ("SUBSCRIBE".to_string(), 1),
            ("SUPPRESS".to_string(), 1)
        ]
    );
}

fn assert_events_match_proto(label: &str, events: &[serde_json::Value]) {
    assert!(!events.is_empty(), "{label}: no events recorded");
    let mut bad = Vec::new();
    for e in events {
        if let Err(vs) = proto_schema::check(proto_schema::EVENT, e) {
            bad.push(format!("{} in {e}", proto_schema::describe(&vs)));
        }
    }
    assert!(
        bad.is_empty(),
        "{label}: events not valid for scheduler.proto:\n{}",
        bad.join("\n")
    );
}

/// A framework's whole life over HTTP in strict mode: every call it sends
/// is accepted and every event the emulator writes (SUBSCRIBED, HEARTBEAT,
/// OFFERS, UPDATE with and without uuid, RESCIND, ERROR on failover) is
/// valid for `mesos.v1.scheduler.Event`. `DUMP_EVENTS=1` prints them.
#[tokio::test]
async fn every_event_of_a_framework_life_is_valid_for_the_v1_proto() {
    let sim = start_strict(&format!("{FAST}\n{}", agents(2, "[31000-32000]"))).await;
    let info = framework("life")
        .with_capability(CapabilityType::TaskKillingState)
        .with_capability(CapabilityType::PartitionAware);
    let (mut sub, first) = Subscription::open(&sim.url(), info.clone()).await;
    assert_eq!(first.kind, EventType::Subscribed);
    let fid = sub.framework_id.clone();

    let mut offers = Vec::new();
    while offers.len() < 2 {
        offers.extend(sub.offers().await);
    }
    let offer = offers.remove(0);
    let mut task = TaskInfo::command(
        "AlluxioWorker",
        "t1",
        offer.agent_id.clone(),
        vec![
            Resource::cpus(1.0),
            Resource::mem(512.0),
            Resource::ports(&"[31000-31002]".parse().unwrap()),
        ],
        CommandInfo::shell("sleep 1000"),
    );
    task.labels = Some(Labels::from_pairs([("role", "worker")]));
    let (s, t) = sub
        .call(&Call::launch(
            fid.clone(),
            vec![offer.id.clone()],
            vec![task],
            Some(Filters::refuse(1.0)),
        ))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{t}");
    let other = offers.remove(0);
    let (s, _) = sub
        .call(&Call::decline(fid.clone(), vec![other.id], Some(0.0)))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    sub.until_state("t1", TaskState::Running).await;

    // Master-made updates without uuid: explicit and implicit reconciliation.
    let explicit = ReconcileTask {
        task_id: "t1".into(),
        agent_id: Some(offer.agent_id.clone()),
    };
    let (s, _) = sub
        .call(&Call::reconcile(fid.clone(), vec![explicit]))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let st = sub.update().await;
    assert_eq!((st.state, st.uuid.as_deref()), (TaskState::Running, None));
    let (s, _) = sub.call(&Call::reconcile(fid.clone(), vec![])).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    sub.update().await;
    let (s, _) = sub
        .call(&Call::kill(fid.clone(), "ghost".into(), None))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let st = sub.update().await;
    assert_eq!(st.state, TaskState::Unknown);

    // KILLING then KILLED, acknowledged.
    let (s, _) = sub
        .call(&Call::kill(
            fid.clone(),
            "t1".into(),
            Some(offer.agent_id.clone()),
        ))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    sub.until_state("t1", TaskState::Killed).await;

    // A second task, lost with its agent (RESCIND of outstanding offers too).
    let (s, _) = sub.call(&Call::revive(fid.clone(), vec![])).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let offer = sub.offers().await.remove(0);
    let resources = vec![Resource::cpus(1.0), Resource::mem(512.0)];
    let (s, _) = sub
        .launch_command(&offer, "AlluxioMaster", "t2", resources, "sleep 1000")
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    sub.until_state("t2", TaskState::Running).await;
    sub.wait_for(S5, |e| e.kind == EventType::Offers).await;
    assert!(sim.remove_agent(&offer.hostname));
    sub.wait_for(S5, |e| {
        e.update.as_ref().is_some_and(|u| {
            u.status.task_id.value == "t2" && u.status.state == TaskState::Unreachable
        })
    })
    .await
    .expect("t2 unreachable");
    let (s, _) = sub.call(&Call::suppress(fid.clone(), vec![])).await;
    assert_eq!(s, StatusCode::ACCEPTED);

    // Failover: the old stream gets ERROR and closes.
    let mut again = info.clone();
    again.id = Some(fid.clone());
    let (mut second, first) = Subscription::open(&sim.url(), again).await;
    assert_eq!(first.kind, EventType::Subscribed);
    sub.wait_for(S5, |e| e.kind == EventType::Error)
        .await
        .expect("failover ERROR");
    let (s, _) = second.call(&Call::teardown(fid.clone())).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    second.ends_within(S5).await;

    assert!(
        sim.strict_violations().is_empty(),
        "{:?}",
        sim.strict_violations()
    );
    let kinds: std::collections::BTreeSet<&str> = sub
        .raw_events
        .iter()
        .chain(&second.raw_events)
        .filter_map(|e| e["type"].as_str())
        .collect();
    for k in [
        "SUBSCRIBED",
        "HEARTBEAT",
        "OFFERS",
        "UPDATE",
        "RESCIND",
        "ERROR",
    ] {
        assert!(kinds.contains(k), "no {k} event among {kinds:?}");
    }
    if std::env::var_os("DUMP_EVENTS").is_some() {
        for e in sub.raw_events.iter().chain(&second.raw_events) {
            eprintln!("{e}");
        }
    }
    assert_events_match_proto("first stream", &sub.raw_events);
    assert_events_match_proto("second stream", &second.raw_events);
}

/// The rarer event shapes: reserved (refined) resources and scalar
/// attributes in offers, TASK_ERROR and TASK_LOST made by the master, the
/// healthy TASK_RUNNING of a health-checked task, TASK_FAILED, and ERROR
/// for invalid roles and for a removed framework.
#[tokio::test]
async fn events_of_reservations_errors_and_failures_are_valid_for_the_v1_proto() {
    let toml = format!(
        "{FAST}\n[[agents]]\nid = \"agent-1\"\nhostname = \"h1\"\ncpus = 4\nmem = 4096\n\
         ports = \"[31000-32000]\"\nattributes = {{ rack = \"r1\", level = 3 }}\n\
         [agents.reserved.alluxio]\ncpus = 2\nports = \"[19998-19999]\"\n"
    );
    let sim = start_strict(&toml).await;
    let mut info = framework("alluxio").with_capability(CapabilityType::ReservationRefinement);
    info.role = Some("alluxio".into());
    let (mut sub, _) = Subscription::open(&sim.url(), info.clone()).await;
    let fid = sub.framework_id.clone();
    let offer = sub.offers().await.remove(0);
    assert!(offer.resources.iter().any(|r| !r.reservations.is_empty()));

    let task = |id: &str| {
        TaskInfo::command(
            "AlluxioMaster",
            id,
            offer.agent_id.clone(),
            vec![Resource::cpus(0.5), Resource::mem(256.0)],
            CommandInfo::shell("sleep 1000"),
        )
    };
    let mut checked = task("checked");
    checked.health_check = Some(HealthCheck {
        kind: Some(HealthCheckType::Tcp),
        tcp: Some(serde_json::json!({"port": 19998})),
        ..Default::default()
    });
    let mut invalid = task("invalid");
    invalid.command = None;
    let (s, t) = sub.launch(&offer, vec![checked, invalid]).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{t}");
    let mut healthy = false;
    let mut error = false;
    while !(healthy && error) {
        let st = sub.update().await;
        sub.ack(&st).await;
        healthy |= st.healthy == Some(true);
        error |= st.state == TaskState::Error;
    }
    assert!(sim.fail_task("checked", "boom"));
    sub.until_state("checked", TaskState::Failed).await;
    let (s, _) = sub
        .call(&Call::launch(
            fid.clone(),
            vec![OfferId::new("gone")],
            vec![task("lost")],
            None,
        ))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let st = sub.update().await;
    assert_eq!(st.state, TaskState::Lost);

    // Invalid roles: MULTI_ROLE with `role` set is refused on the stream.
    let mut bad = framework("bad").with_capability(CapabilityType::MultiRole);
    bad.role = Some("alluxio".into());
    let (mut refused, first) = Subscription::open(&sim.url(), bad).await;
    assert_eq!(first.kind, EventType::Error);
    refused.ends_within(S5).await;

    // A torn-down framework cannot come back.
    let (s, _) = sub.call(&Call::teardown(fid.clone())).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    sub.ends_within(S5).await;
    let mut again = info;
    again.id = Some(fid);
    let (mut removed, first) = Subscription::open(&sim.url(), again).await;
    assert_eq!(first.kind, EventType::Error);
    removed.ends_within(S5).await;

    assert!(
        sim.strict_violations().is_empty(),
        "{:?}",
        sim.strict_violations()
    );
    assert_events_match_proto("framework", &sub.raw_events);
    assert_events_match_proto("invalid roles", &refused.raw_events);
    assert_events_match_proto("removed framework", &removed.raw_events);
}

/// The binary's `--strict-calls` turns strict mode on (and without it the
/// same call is accepted, as by Mesos).
#[test]
fn the_binary_refuses_a_misspelt_call_only_with_strict_calls() {
    use std::io::{BufRead, BufReader};
    let cluster = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/clusters/alluxio-ports.toml"
    );
    // A SUBSCRIBE whose framework_info has a misspelt field: the answer
    // comes before any stream is opened when strict mode refuses it.
    let body = serde_json::json!({
        "type": "SUBSCRIBE",
        "subscribe": {"framework_info": {"user": "u", "name": "n", "chekpoint": true}},
    });
    let rt = tokio::runtime::Runtime::new().unwrap();
    for (flags, expect) in [
        (&["--strict-calls"][..], StatusCode::BAD_REQUEST),
        (&[][..], StatusCode::OK),
    ] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mesos-sim"))
            .args(["--cluster", cluster, "--listen", "127.0.0.1:0"])
            .args(flags)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("the mesos-sim binary starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line.trim().rsplit(' ').next().unwrap().to_string();
        let status = rt.block_on(async {
            let resp = client()
                .post(format!("{url}/api/v1/scheduler"))
                .header("Content-Type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .expect("SUBSCRIBE request");
            resp.status()
        });
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(status, expect, "mesos-sim {flags:?}");
    }
}
