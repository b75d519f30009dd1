//! Offers, launches and task lifecycles as a Mesos master drives them.

mod common;

use std::time::Duration;

use common::*;
use mesos_api::scheduler::{EventType, ReconcileTask};
use mesos_api::*;
use reqwest::StatusCode;

const S5: Duration = Duration::from_secs(5);

fn task_on(offer: &Offer, id: &str, ports: &str) -> TaskInfo {
    let mut res = vec![Resource::cpus(1.0), Resource::mem(1024.0)];
    if !ports.is_empty() {
        res.push(Resource::ports(&ports.parse().unwrap()));
    }
    TaskInfo::command(
        "AlluxioWorker",
        id,
        offer.agent_id.clone(),
        res,
        CommandInfo::shell("sleep 1000"),
    )
}

/// Launches `tasks` on `offer` and checks the ACCEPT call is accepted.
async fn launch(sub: &Subscription, offer: &Offer, tasks: Vec<TaskInfo>) {
    let (s, _) = sub.launch(offer, tasks).await;
    assert_eq!(s, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn every_agent_is_offered_with_its_resources_and_attributes() {
    let sim = start_default().await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let mut offers = Vec::new();
    while offers.len() < 3 {
        offers.extend(sub.offers().await);
    }
    let mut hosts: Vec<_> = offers.iter().map(|o| o.hostname.clone()).collect();
    hosts.sort();
    assert_eq!(hosts, ["host1", "host2", "host3"]);
    let o = &offers[0];
    let s = ResourceSummary::of(&o.resources);
    assert_eq!((s.cpus, s.mem, s.disk), (4.0, 8192.0, 1000.0));
    assert_eq!(s.ports.to_string(), "[31000-32000]");
    assert_eq!(o.attributes[0].name, "rack");
    assert_eq!(o.framework_id, sub.framework_id);
}

#[tokio::test]
async fn declined_agents_are_filtered_for_refuse_seconds_and_revive_clears_it() {
    let sim = start(&format!("{FAST}\n{}", agents(1, "[31000-32000]"))).await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let offers = sub.offers().await;
    let ids = offers.iter().map(|o| o.id.clone()).collect();
    let (s, _) = sub
        .call(&Call::decline(sub.framework_id.clone(), ids, Some(0.5)))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let t0 = std::time::Instant::now();
    let again = sub.offers().await;
    assert!(t0.elapsed() >= Duration::from_millis(400), "filter ignored");
    // Decline for a long time, then REVIVE brings the offer back at once.
    let ids = again.iter().map(|o| o.id.clone()).collect();
    sub.call(&Call::decline(sub.framework_id.clone(), ids, Some(3600.0)))
        .await;
    assert!(sub
        .wait_for(Duration::from_millis(300), |e| e.kind == EventType::Offers)
        .await
        .is_none());
    sub.call(&Call::revive(sub.framework_id.clone(), vec![]))
        .await;
    assert!(!sub.offers().await.is_empty());
}

#[tokio::test]
async fn suppress_stops_offers_until_revive() {
    let sim = start(&format!("{FAST}\n{}", agents(1, "[31000-32000]"))).await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let offers = sub.offers().await;
    sub.call(&Call::suppress(sub.framework_id.clone(), vec![]))
        .await;
    let ids = offers.iter().map(|o| o.id.clone()).collect();
    sub.call(&Call::decline(sub.framework_id.clone(), ids, Some(0.0)))
        .await;
    assert!(sub
        .wait_for(Duration::from_millis(300), |e| e.kind == EventType::Offers)
        .await
        .is_none());
    sub.call(&Call::revive(sub.framework_id.clone(), vec![]))
        .await;
    assert!(!sub.offers().await.is_empty());
}

#[tokio::test]
async fn a_launched_task_goes_starting_then_running_with_acknowledged_updates() {
    let sim = start_default().await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let offer = sub.offers().await.remove(0);
    launch(&sub, &offer, vec![task_on(&offer, "w1", "[31000-31002]")]).await;
    let s1 = sub.update().await;
    assert_eq!(s1.state, TaskState::Starting);
    assert_eq!(s1.source, Some(Source::SourceExecutor));
    assert_eq!(s1.agent_id.as_ref(), Some(&offer.agent_id));
    assert_eq!(s1.uuid.as_ref().unwrap().len(), 24);
    assert!(s1.timestamp.unwrap() > 1.6e9);
    sub.ack(&s1).await;
    let s2 = sub.update().await;
    assert_eq!(s2.state, TaskState::Running);
    sub.ack(&s2).await;

    let state = get_json(&format!("{}/master/state", sim.url())).await;
    let fw = &state["frameworks"][0];
    let t = &fw["tasks"][0];
    assert_eq!(t["id"], "w1");
    assert_eq!(t["state"], "TASK_RUNNING");
    assert_eq!(t["slave_id"], offer.agent_id.value);
    assert_eq!(t["resources"]["ports"], "[31000-31002]");
    assert_eq!(t["statuses"].as_array().unwrap().len(), 2);
    let agent = state["slaves"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == offer.agent_id.value)
        .unwrap();
    assert_eq!(agent["used_resources"]["cpus"], 1.0);
    assert_eq!(agent["used_resources"]["ports"], "[31000-31002]");

    let states: Vec<_> = sim
        .transitions()
        .iter()
        .filter(|t| t.task_id == "w1")
        .map(|t| t.state)
        .collect();
    assert_eq!(
        states,
        [TaskState::Staging, TaskState::Starting, TaskState::Running]
    );
}

#[tokio::test]
async fn unused_offer_resources_return_and_ports_are_not_offered_twice() {
    let sim = start(&format!("{FAST}\n{}", agents(1, "[31000-31010]"))).await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let offer = sub.offers().await.remove(0);
    let (s, _) = sub
        .call(&Call::launch(
            sub.framework_id.clone(),
            vec![offer.id.clone()],
            vec![task_on(&offer, "w1", "[31000-31004]")],
            Some(Filters::refuse(0.0)),
        ))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let next = sub.offers().await.remove(0);
    let left = ResourceSummary::of(&next.resources);
    assert_eq!(left.cpus, 3.0);
    assert_eq!(left.mem, 7168.0);
    assert_eq!(left.ports.to_string(), "[31005-31010]");
}

#[tokio::test]
async fn invalid_offers_give_task_lost_or_dropped_without_uuid() {
    let sim = start_default().await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let offer = sub.offers().await.remove(0);
    let mut bogus = offer.clone();
    bogus.id = OfferId::new("no-such-offer");
    launch(&sub, &bogus, vec![task_on(&offer, "t1", "")]).await;
    let st = sub.update().await;
    assert_eq!(st.state, TaskState::Lost);
    assert_eq!(st.reason, Some(Reason::ReasonInvalidOffers));
    assert_eq!(st.source, Some(Source::SourceMaster));
    assert!(st.uuid.is_none());
    assert!(st.message.unwrap().contains("no longer valid"));

    let info = framework("pa").with_capability(CapabilityType::PartitionAware);
    let (mut pa, _) = Subscription::open(&sim.url(), info).await;
    launch(&pa, &bogus, vec![task_on(&offer, "t2", "")]).await;
    assert_eq!(pa.update().await.state, TaskState::Dropped);
}

#[tokio::test]
async fn offers_from_another_framework_or_used_twice_are_invalid() {
    let sim = start_default().await;
    let (mut a, _) = Subscription::open(&sim.url(), framework("a")).await;
    let offer = a.offers().await.remove(0);
    launch(&a, &offer, vec![task_on(&offer, "t1", "")]).await;
    assert_eq!(a.update().await.state, TaskState::Starting);
    // Same offer again: gone.
    launch(&a, &offer, vec![task_on(&offer, "t2", "")]).await;
    let st = a
        .wait_for(S5, |e| {
            e.update
                .as_ref()
                .is_some_and(|u| u.status.task_id.value == "t2")
        })
        .await
        .unwrap()
        .update
        .unwrap()
        .status;
    assert_eq!(st.state, TaskState::Lost);
}

#[tokio::test]
async fn bad_tasks_get_task_error_with_reason_task_invalid() {
    let sim = start(&format!("{FAST}\n{}", agents(1, "[31000-32000]"))).await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let offer = sub.offers().await.remove(0);
    let mut no_cmd = task_on(&offer, "nocmd", "");
    no_cmd.command = None;
    let too_big = TaskInfo {
        resources: vec![Resource::cpus(100.0)],
        ..task_on(&offer, "big", "")
    };
    let wrong_ports = task_on(&offer, "ports", "[19998-19999]");
    let ok = task_on(&offer, "ok", "");
    let dup = task_on(&offer, "ok", "");
    let mut wrong_agent = task_on(&offer, "agent", "");
    wrong_agent.agent_id = AgentId::new("elsewhere");
    launch(
        &sub,
        &offer,
        vec![no_cmd, too_big, wrong_ports, ok, dup, wrong_agent],
    )
    .await;
    let mut errors = std::collections::BTreeMap::new();
    while errors.len() < 5 {
        let st = sub.update().await;
        if st.state == TaskState::Error {
            assert_eq!(st.reason, Some(Reason::ReasonTaskInvalid));
            assert!(st.uuid.is_none());
            errors.insert(st.task_id.value.clone(), st.message.unwrap());
        }
    }
    assert!(errors["nocmd"].contains("CommandInfo or ExecutorInfo"));
    // Mesos's text, resources as it prints them (seen on 1.7.3 and 1.11.0).
    assert!(
        errors["big"].starts_with("Total resources cpus(allocated: *):")
            && errors["big"].contains(" required by task and its executor is more than available "),
        "{}",
        errors["big"]
    );
    assert!(errors["ports"].contains("is more than available"));
    assert!(errors["ok"].contains("duplicate ID"));
    assert!(errors["agent"].contains("does not match"));
}

#[tokio::test]
async fn kill_sends_killing_only_to_frameworks_that_asked_for_it() {
    let sim = start_default().await;
    for (cap, expect_killing) in [(false, false), (true, true)] {
        let mut info = framework(if cap { "k" } else { "n" });
        if cap {
            info = info.with_capability(CapabilityType::TaskKillingState);
        }
        let (mut sub, _) = Subscription::open(&sim.url(), info).await;
        let offer = sub.offers().await.remove(0);
        let tid = format!("t-{cap}");
        launch(&sub, &offer, vec![task_on(&offer, &tid, "")]).await;
        sub.until_state(&tid, TaskState::Running).await;
        let (s, _) = sub
            .call(&Call::kill(
                sub.framework_id.clone(),
                TaskId::new(tid.clone()),
                None,
            ))
            .await;
        assert_eq!(s, StatusCode::ACCEPTED);
        let seen = sub.until_state(&tid, TaskState::Killed).await;
        let killing = seen.iter().any(|s| s.state == TaskState::Killing);
        assert_eq!(killing, expect_killing);
        // Once the terminal update is acknowledged the task is completed.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let state = get_json(&format!("{}/master/state", sim.url())).await;
        let fw = state["frameworks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == sub.framework_id.value)
            .unwrap()
            .clone();
        assert_eq!(fw["tasks"].as_array().unwrap().len(), 0);
        assert_eq!(fw["completed_tasks"][0]["state"], "TASK_KILLED");
        sub.call(&Call::teardown(sub.framework_id.clone())).await;
    }
}

#[tokio::test]
async fn killing_an_unknown_task_reports_lost_or_unknown_without_uuid() {
    let sim = start_default().await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    sub.call(&Call::kill(sub.framework_id.clone(), "ghost".into(), None))
        .await;
    let st = sub.update().await;
    assert_eq!(st.state, TaskState::Lost);
    assert_eq!(st.reason, Some(Reason::ReasonReconciliation));
    assert!(st.uuid.is_none());

    let info = framework("pa").with_capability(CapabilityType::PartitionAware);
    let (mut pa, _) = Subscription::open(&sim.url(), info).await;
    pa.call(&Call::kill(pa.framework_id.clone(), "ghost".into(), None))
        .await;
    assert_eq!(pa.update().await.state, TaskState::Unknown);
}

#[tokio::test]
async fn reconciliation_reports_latest_states_without_uuid() {
    let sim = start_default().await;
    let info = framework("pa").with_capability(CapabilityType::PartitionAware);
    let (mut sub, _) = Subscription::open(&sim.url(), info).await;
    let offer = sub.offers().await.remove(0);
    launch(&sub, &offer, vec![task_on(&offer, "t1", "")]).await;
    sub.until_state("t1", TaskState::Running).await;
    sub.call(&Call::reconcile(sub.framework_id.clone(), vec![]))
        .await;
    let st = sub.update().await;
    assert_eq!(
        (st.task_id.value.as_str(), st.state),
        ("t1", TaskState::Running)
    );
    assert_eq!(st.reason, Some(Reason::ReasonReconciliation));
    assert!(st.uuid.is_none());
    sub.call(&Call::reconcile(
        sub.framework_id.clone(),
        vec![
            ReconcileTask {
                task_id: "t1".into(),
                agent_id: Some(offer.agent_id.clone()),
            },
            ReconcileTask {
                task_id: "gone".into(),
                agent_id: Some(offer.agent_id.clone()),
            },
            ReconcileTask {
                task_id: "nowhere".into(),
                agent_id: None,
            },
        ],
    ))
    .await;
    let mut got = std::collections::BTreeMap::new();
    while got.len() < 3 {
        let st = sub.update().await;
        got.insert(st.task_id.value.clone(), st.state);
    }
    assert_eq!(got["t1"], TaskState::Running);
    assert_eq!(got["gone"], TaskState::Gone);
    assert_eq!(got["nowhere"], TaskState::Unknown);
}

#[tokio::test]
async fn unacknowledged_updates_are_resent_and_redelivered_after_resubscribe() {
    let sim = start(&format!(
        "[timing]\nallocation_interval = \"30ms\"\ntask_start_delay = \"30ms\"\nstatus_update_retry = \"200ms\"\n{}",
        agents(1, "[31000-32000]")
    ))
    .await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let offer = sub.offers().await.remove(0);
    launch(&sub, &offer, vec![task_on(&offer, "t1", "")]).await;
    let first = sub.update().await;
    assert_eq!(first.state, TaskState::Starting);
    // Not acknowledged: the same update (same uuid) comes again, and
    // RUNNING waits behind it.
    let again = sub.update().await;
    assert_eq!(again.uuid, first.uuid);
    assert_eq!(again.state, TaskState::Starting);
    // Reconciliation reports the state of the update being delivered.
    tokio::time::sleep(Duration::from_millis(100)).await;
    sub.call(&Call::reconcile(sub.framework_id.clone(), vec![]))
        .await;
    let rec = sub
        .wait_for(S5, |e| {
            e.update
                .as_ref()
                .is_some_and(|u| u.status.reason == Some(Reason::ReasonReconciliation))
        })
        .await
        .unwrap()
        .update
        .unwrap()
        .status;
    assert_eq!(rec.state, TaskState::Starting);
    // Reconnect: the pending update is delivered on the new stream.
    let fid = sub.framework_id.clone();
    drop(sub);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut info = framework("f");
    info.id = Some(fid);
    let (mut sub, _) = Subscription::open(&sim.url(), info).await;
    let st = sub.update().await;
    assert_eq!(st.uuid, first.uuid);
    sub.ack(&st).await;
    let st = sub.update().await;
    assert_eq!(st.state, TaskState::Running);
    sub.ack(&st).await;
    let state = get_json(&format!("{}/master/state", sim.url())).await;
    assert_eq!(state["frameworks"][0]["tasks"][0]["state"], "TASK_RUNNING");
}

#[tokio::test]
async fn removing_an_agent_rescinds_offers_and_loses_its_tasks() {
    let sim = start_default().await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let info = framework("pa").with_capability(CapabilityType::PartitionAware);
    let (mut pa, _) = Subscription::open(&sim.url(), info).await;
    let mut offers = sub.offers().await;
    let offer = offers.remove(0);
    launch(&sub, &offer, vec![task_on(&offer, "t1", "")]).await;
    sub.until_state("t1", TaskState::Running).await;
    // The partition-aware framework gets its own offers on that agent later.
    let pa_offer = loop {
        let os = pa.offers().await;
        if let Some(o) = os.into_iter().find(|o| o.agent_id == offer.agent_id) {
            break o;
        }
    };
    launch(&pa, &pa_offer, vec![task_on(&pa_offer, "p1", "")]).await;
    pa.until_state("p1", TaskState::Running).await;
    // Keep an outstanding offer for another agent to check rescinds by agent.
    let r = client()
        .post(format!(
            "{}/__sim/agents/{}/remove",
            sim.url(),
            offer.hostname
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let st = sub
        .wait_for(S5, |e| e.kind == EventType::Update)
        .await
        .unwrap()
        .update
        .unwrap()
        .status;
    assert_eq!(st.state, TaskState::Lost);
    assert_eq!(st.reason, Some(Reason::ReasonAgentRemoved));
    let st = pa
        .wait_for(S5, |e| e.kind == EventType::Update)
        .await
        .unwrap()
        .update
        .unwrap()
        .status;
    assert_eq!(st.state, TaskState::Unreachable);
    let state = get_json(&format!("{}/master/state", sim.url())).await;
    assert_eq!(state["slaves"].as_array().unwrap().len(), 2);
    let pa_fw = state["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == pa.framework_id.value)
        .unwrap()
        .clone();
    assert_eq!(pa_fw["unreachable_tasks"][0]["state"], "TASK_UNREACHABLE");
    assert!(sim.restore_agent(&offer.hostname));
}

#[tokio::test]
async fn an_agent_going_away_rescinds_its_outstanding_offers() {
    let sim = start(&format!("{FAST}\n{}", agents(1, "[31000-32000]"))).await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let offer = sub.offers().await.remove(0);
    assert!(sim.remove_agent("host1"));
    let e = sub
        .wait_for(S5, |e| e.kind == EventType::Rescind)
        .await
        .expect("RESCIND");
    assert_eq!(e.rescind.unwrap().offer_id, offer.id);
}

#[tokio::test]
async fn offers_time_out_when_an_offer_timeout_is_set() {
    let sim = start(&format!(
        "[timing]\nallocation_interval = \"30ms\"\noffer_timeout = \"200ms\"\n{}",
        agents(1, "[31000-32000]")
    ))
    .await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let offer = sub.offers().await.remove(0);
    let e = sub
        .wait_for(S5, |e| e.kind == EventType::Rescind)
        .await
        .expect("RESCIND after offer_timeout");
    assert_eq!(e.rescind.unwrap().offer_id, offer.id);
}

#[tokio::test]
async fn reserved_resources_go_only_to_their_role() {
    let toml = format!(
        "{FAST}\n[[agents]]\nhostname = \"h\"\ncpus = 1\nmem = 100\nports = \"[31000-31001]\"\n[agents.reserved.alluxio]\ncpus = 2\nmem = 2048\nports = \"[19998-19999]\"\n"
    );
    let sim = start(&toml).await;
    let (mut other, _) = Subscription::open(&sim.url(), framework("other")).await;
    let o = other.offers().await.remove(0);
    assert_eq!(ResourceSummary::of(&o.resources).cpus, 1.0);
    assert!(o.resources.iter().all(|r| r.reserved_role().is_none()));
    other
        .call(&Call::teardown(other.framework_id.clone()))
        .await;

    let mut info = framework("alluxio");
    info.role = Some("alluxio".into());
    let (mut sub, _) = Subscription::open(&sim.url(), info).await;
    let offer = sub.offers().await.remove(0);
    let s = ResourceSummary::of(&offer.resources);
    assert_eq!(s.cpus, 3.0);
    assert_eq!(s.ports.to_string(), "[19998-19999, 31000-31001]");
    let reserved: Vec<_> = offer
        .resources
        .iter()
        .filter(|r| r.reserved_role() == Some("alluxio"))
        .collect();
    assert_eq!(reserved.len(), 3);
    // Without RESERVATION_REFINEMENT, offers use the old `role` field only.
    assert!(reserved.iter().all(|r| r.reservations.is_empty()));
    assert!(offer
        .resources
        .iter()
        .filter(|r| r.reserved_role().is_none())
        .all(|r| r.role.as_deref() == Some("*")));
    // Launch on the reserved resources, copied from the offer.
    let task = TaskInfo::command(
        "AlluxioMaster",
        "m0",
        offer.agent_id.clone(),
        reserved.into_iter().cloned().collect(),
        CommandInfo::shell("true"),
    );
    launch(&sub, &offer, vec![task]).await;
    assert_eq!(sub.update().await.state, TaskState::Starting);
    let state = get_json(&format!("{}/master/state", sim.url())).await;
    assert_eq!(
        state["slaves"][0]["reserved_resources"]["alluxio"]["ports"],
        "[19998-19999]"
    );
    assert_eq!(state["slaves"][0]["unreserved_resources"]["cpus"], 1.0);
}

#[tokio::test]
async fn teardown_kills_tasks_without_updates() {
    let sim = start_default().await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let offer = sub.offers().await.remove(0);
    launch(&sub, &offer, vec![task_on(&offer, "t1", "")]).await;
    sub.until_state("t1", TaskState::Running).await;
    sub.call(&Call::teardown(sub.framework_id.clone())).await;
    assert!(sub
        .wait_for(Duration::from_millis(300), |e| e.kind == EventType::Update)
        .await
        .is_none());
    let state = get_json(&format!("{}/master/state", sim.url())).await;
    let t = &state["completed_frameworks"][0]["completed_tasks"][0];
    assert_eq!(t["state"], "TASK_KILLED");
    assert_eq!(state["slaves"][0]["used_resources"]["cpus"], 0.0);
    let last = sim.transitions().last().unwrap().clone();
    assert_eq!(
        (last.task_id.as_str(), last.state),
        ("t1", TaskState::Killed)
    );
}

#[tokio::test]
async fn an_injected_task_failure_is_reported_as_task_failed() {
    let sim = start_default().await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let offer = sub.offers().await.remove(0);
    launch(&sub, &offer, vec![task_on(&offer, "t1", "")]).await;
    sub.until_state("t1", TaskState::Running).await;
    let r = client()
        .post(format!("{}/__sim/tasks/t1/fail", sim.url()))
        .json(&serde_json::json!({"message": "boom"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let st = sub.update().await;
    assert_eq!(st.state, TaskState::Failed);
    assert_eq!(st.message.as_deref(), Some("boom"));
    let tr = get_json(&format!("{}/__sim/transitions", sim.url())).await;
    let states: Vec<_> = tr
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["state"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        states,
        [
            "TASK_STAGING",
            "TASK_STARTING",
            "TASK_RUNNING",
            "TASK_FAILED"
        ]
    );
}

#[tokio::test]
async fn resubscribing_within_failover_timeout_keeps_the_tasks() {
    let sim = start_default().await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let offer = sub.offers().await.remove(0);
    launch(&sub, &offer, vec![task_on(&offer, "t1", "")]).await;
    sub.until_state("t1", TaskState::Running).await;
    let fid = sub.framework_id.clone();
    drop(sub);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut info = framework("f");
    info.id = Some(fid.clone());
    let (mut sub, ev) = Subscription::open(&sim.url(), info).await;
    assert_eq!(ev.subscribed.unwrap().framework_id, fid);
    sub.call(&Call::reconcile(fid.clone(), vec![])).await;
    let st = sub.update().await;
    assert_eq!(
        (st.task_id.value.as_str(), st.state),
        ("t1", TaskState::Running)
    );
}

#[tokio::test]
async fn refinement_capable_frameworks_get_reservations_instead_of_role() {
    let toml = format!(
        "{FAST}\n[[agents]]\nhostname = \"h\"\ncpus = 1\nmem = 100\n[agents.reserved.alluxio]\ncpus = 2\n"
    );
    let sim = start(&toml).await;
    let mut info = framework("alluxio").with_capability(CapabilityType::ReservationRefinement);
    info.role = Some("alluxio".into());
    let (mut sub, _) = Subscription::open(&sim.url(), info).await;
    let offer = sub.offers().await.remove(0);
    let reserved: Vec<_> = offer
        .resources
        .iter()
        .filter(|r| !r.reservations.is_empty())
        .collect();
    assert_eq!(reserved.len(), 1);
    assert_eq!(reserved[0].reservations[0].role.as_deref(), Some("alluxio"));
    assert_eq!(
        reserved[0].reservations[0].kind,
        Some(ReservationType::Static)
    );
    assert!(offer.resources.iter().all(|r| r.role.is_none()));
}

#[tokio::test]
async fn shutdown_kills_the_executors_tasks() {
    let sim = start_default().await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let offer = sub.offers().await.remove(0);
    launch(&sub, &offer, vec![task_on(&offer, "t1", "")]).await;
    sub.until_state("t1", TaskState::Running).await;
    let (s, _) = sub
        .call(&Call::shutdown(
            sub.framework_id.clone(),
            ExecutorId::new("t1"),
            offer.agent_id.clone(),
        ))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    // As the command executor answers a SHUTDOWN on real 1.11.0.
    let st = sub.update().await;
    assert_eq!(st.state, TaskState::Killed);
    assert_eq!(st.source, Some(mesos_api::Source::SourceExecutor));
    assert_eq!(st.reason, None);
    assert_eq!(
        st.message.as_deref(),
        Some("Command terminated with signal Terminated")
    );
}

#[tokio::test]
async fn a_task_killed_while_staging_is_killed_during_launch() {
    let sim = start(&format!(
        "[timing]\nallocation_interval = \"30ms\"\ntask_start_delay = \"2s\"\n{}",
        agents(1, "[31000-32000]")
    ))
    .await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let offer = sub.offers().await.remove(0);
    launch(&sub, &offer, vec![task_on(&offer, "t1", "")]).await;
    sub.call(&Call::kill(sub.framework_id.clone(), "t1".into(), None))
        .await;
    let st = sub.update().await;
    assert_eq!(st.state, TaskState::Killed);
    assert_eq!(st.reason, Some(Reason::ReasonTaskKilledDuringLaunch));
}

#[tokio::test]
async fn agents_added_through_the_control_prefix_are_offered() {
    let sim = start(&format!("{FAST}\n{}", agents(0, ""))).await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    let r = client()
        .post(format!("{}/__sim/agents", sim.url()))
        .body(r#"{"hostname":"late","cpus":2,"mem":512,"ports":"[31000-31005]"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let offer = sub.offers().await.remove(0);
    assert_eq!(offer.agent_id.value, id);
    assert_eq!(offer.hostname, "late");
    let r = client()
        .post(format!("{}/__sim/agents", sim.url()))
        .body(r#"{"hostname":"x","cpu":2}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = client()
        .post(format!("{}/__sim/agents", sim.url()))
        .body(format!(r#"{{"hostname":"other","id":"{id}"}}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let spec: mesos_sim::AgentSpec =
        serde_json::from_str(r#"{"hostname":"neg","cpus":-1}"#).unwrap();
    assert!(sim.add_agent(&spec).unwrap_err().contains("cpus"));
}

#[tokio::test]
async fn leadership_can_be_toggled_over_http() {
    let sim = start_default().await;
    let r = client()
        .post(format!(
            "{}/__sim/leading?leading=false&leader=http://other:5050",
            sim.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = client()
        .get(format!("{}/master/state", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(r.headers()["location"], "//other:5050/master/state");
    client()
        .post(format!("{}/__sim/leading?leading=true", sim.url()))
        .send()
        .await
        .unwrap();
    let (_sub, ev) = Subscription::open(&sim.url(), framework("f")).await;
    assert_eq!(ev.kind, EventType::Subscribed);
}

#[tokio::test]
async fn inactive_agents_are_listed_but_not_offered() {
    let toml = format!(
        "{FAST}\n[[agents]]\nhostname = \"on\"\ncpus = 1\n[[agents]]\nhostname = \"off\"\ncpus = 1\nactive = false\n"
    );
    let sim = start(&toml).await;
    let (mut sub, _) = Subscription::open(&sim.url(), framework("f")).await;
    for _ in 0..3 {
        for o in sub.offers().await {
            assert_eq!(o.hostname, "on");
            sub.call(&Call::decline(
                sub.framework_id.clone(),
                vec![o.id],
                Some(0.0),
            ))
            .await;
        }
    }
    let state = get_json(&format!("{}/master/state", sim.url())).await;
    assert_eq!(state["deactivated_slaves"], 1.0);
    let off = state["slaves"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["hostname"] == "off")
        .unwrap()
        .clone();
    assert_eq!(off["active"], false);
}
