//! The JSON this crate writes and reads is Mesos's JSON.

use mesos_api::scheduler::{CallType, EventType};
use mesos_api::*;
use serde_json::json;

#[test]
fn offers_event_nests_offers_under_offers() {
    let offer = Offer {
        id: "o1".into(),
        framework_id: "f1".into(),
        agent_id: "a1".into(),
        hostname: "h1".into(),
        url: None,
        domain: None,
        resources: vec![
            Resource::cpus(4.0),
            Resource::ports(&"[31000-32000]".parse().unwrap()),
        ],
        attributes: vec![],
        executor_ids: vec![],
        unavailability: None,
        allocation_info: None,
    };
    let v = serde_json::to_value(Event::offers(vec![offer])).unwrap();
    assert_eq!(
        v,
        json!({"type":"OFFERS","offers":{"offers":[{
        "id":{"value":"o1"},"framework_id":{"value":"f1"},"agent_id":{"value":"a1"},
        "hostname":"h1",
        "resources":[
            {"name":"cpus","type":"SCALAR","scalar":{"value":4.0}},
            {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":32000}]}}
        ]}]}})
    );
    // Doubles keep their decimal point on the wire.
    assert!(serde_json::to_string(&Resource::cpus(4.0))
        .unwrap()
        .contains("\"value\":4.0"));
}

#[test]
fn error_and_heartbeat_events_have_mesos_shapes() {
    assert_eq!(
        serde_json::to_value(Event::error("Framework has been removed")).unwrap(),
        json!({"type":"ERROR","error":{"message":"Framework has been removed"}})
    );
    assert_eq!(
        serde_json::to_value(Event::heartbeat()).unwrap(),
        json!({"type":"HEARTBEAT"})
    );
}

#[test]
fn unknown_event_types_still_decode() {
    let e: Event = serde_json::from_value(
        json!({"type":"UPDATE_OPERATION_STATUS","update_operation_status":{}}),
    )
    .unwrap();
    assert_eq!(e.kind, EventType::UpdateOperationStatus);
    let e: Event = serde_json::from_value(json!({"type":"SOMETHING_NEW"})).unwrap();
    assert_eq!(e.kind, EventType::Unknown);
}

#[test]
fn subscribed_event_reads_a_real_master_payload() {
    let raw = r#"{"subscribed":{"framework_id":{"value":"9c1e-0000"},"heartbeat_interval_seconds":15.0,
      "master_info":{"address":{"hostname":"m1","ip":"10.0.0.1","port":5050},"hostname":"m1",
      "id":"9c1e","ip":16777226,"pid":"master@10.0.0.1:5050","port":5050,"version":"1.11.0"}},
      "type":"SUBSCRIBED"}"#;
    let e: Event = serde_json::from_str(raw).unwrap();
    let s = e.subscribed.unwrap();
    assert_eq!(s.framework_id.value, "9c1e-0000");
    assert_eq!(s.heartbeat_interval_seconds, Some(15.0));
    let mi = s.master_info.unwrap();
    assert_eq!(master_info_ipv4(mi.ip).to_string(), "10.0.0.1");
    assert_eq!(master_info_ip("10.0.0.1".parse().unwrap()), 16777226);
}

#[test]
fn missing_required_fields_are_rejected() {
    // FrameworkInfo needs user and name.
    assert!(serde_json::from_value::<FrameworkInfo>(json!({"name":"x"})).is_err());
    // TaskInfo needs agent_id.
    assert!(
        serde_json::from_value::<TaskInfo>(json!({"name":"t","task_id":{"value":"t"}})).is_err()
    );
    // TaskStatus needs a state, spelled by name.
    assert!(serde_json::from_value::<TaskStatus>(json!({"task_id":{"value":"t"}})).is_err());
    assert!(
        serde_json::from_value::<TaskStatus>(json!({"task_id":{"value":"t"},"state":1})).is_err()
    );
}

#[test]
fn subscribe_call_round_trips_and_validates() {
    let fi = FrameworkInfo::new("root", "alluxio").with_capability(CapabilityType::PartitionAware);
    let call = Call::subscribe(FrameworkInfo {
        failover_timeout: Some(2419200.0),
        checkpoint: Some(true),
        ..fi
    });
    let v = serde_json::to_value(&call).unwrap();
    assert_eq!(
        v,
        json!({"type":"SUBSCRIBE","subscribe":{"framework_info":{
            "user":"root","name":"alluxio","failover_timeout":2419200.0,"checkpoint":true,
            "capabilities":[{"type":"PARTITION_AWARE"}]}}})
    );
    let back: Call = serde_json::from_value(v).unwrap();
    assert_eq!(back, call);
    call.validate().unwrap();

    let mut mismatched = call.clone();
    mismatched.framework_id = Some("other".into());
    assert_eq!(
        mismatched.validate().unwrap_err().to_string(),
        "'framework_id' differs from 'subscribe.framework_info.id'"
    );
}

#[test]
fn non_subscribe_calls_need_a_framework_id_and_their_payload() {
    let mut c = Call::empty(CallType::Kill, None);
    assert_eq!(
        c.validate().unwrap_err().to_string(),
        "Expecting 'framework_id' to be present"
    );
    c.framework_id = Some("f".into());
    assert_eq!(
        c.validate().unwrap_err().to_string(),
        "Expecting 'kill' to be present"
    );
    Call::kill("f".into(), "t".into(), None).validate().unwrap();
    Call::teardown("f".into()).validate().unwrap();
    Call::decline("f".into(), vec!["o".into()], Some(60.0))
        .validate()
        .unwrap();
}

#[test]
fn acknowledge_carries_the_status_uuid_and_checks_it() {
    let u = uuid::Uuid::new_v4();
    let mut st = TaskStatus::new("t1".into(), TaskState::Running);
    assert!(Call::acknowledge("f".into(), &st).is_none());
    st.uuid = Some(uuid_to_base64(&u));
    st.agent_id = Some("a1".into());
    assert_eq!(st.uuid.as_ref().unwrap().len(), 24);
    assert_eq!(st.uuid_value(), Some(u));
    let ack = Call::acknowledge("f".into(), &st).unwrap();
    ack.validate().unwrap();
    let json = serde_json::to_value(&ack).unwrap();
    assert_eq!(json["acknowledge"]["uuid"], json!(uuid_to_base64(&u)));

    let mut bad = ack.clone();
    bad.acknowledge.as_mut().unwrap().uuid = "AAAA".into();
    assert!(bad.validate().is_err());
}

#[test]
fn launch_call_has_the_operations_shape() {
    let task = TaskInfo::command(
        "AlluxioMaster",
        "alluxio-master-0",
        "a1".into(),
        vec![Resource::cpus(1.0), Resource::mem(1024.0)],
        CommandInfo {
            uris: vec![CommandUri::new("file:///opt/dist/alluxio.tar.gz")],
            environment: Some(Environment::from_pairs([("A", "1")])),
            ..CommandInfo::shell("bin/alluxio-start.sh master")
        },
    );
    let call = Call::launch(
        "f".into(),
        vec!["o1".into()],
        vec![task],
        Some(Filters::refuse(1.0)),
    );
    let v = serde_json::to_value(&call).unwrap();
    assert_eq!(v["type"], "ACCEPT");
    assert_eq!(v["accept"]["operations"][0]["type"], "LAUNCH");
    let t = &v["accept"]["operations"][0]["launch"]["task_infos"][0];
    assert_eq!(t["task_id"], json!({"value":"alluxio-master-0"}));
    assert_eq!(t["agent_id"], json!({"value":"a1"}));
    assert_eq!(
        t["command"]["environment"]["variables"][0],
        json!({"name":"A","value":"1"})
    );
    assert_eq!(
        t["command"]["uris"][0],
        json!({"value":"file:///opt/dist/alluxio.tar.gz"})
    );
    assert_eq!(v["accept"]["filters"], json!({"refuse_seconds":1.0}));
}

#[test]
fn status_with_reason_and_source_reads_and_writes_enum_names() {
    let raw = json!({"task_id":{"value":"t"},"state":"TASK_LOST","source":"SOURCE_MASTER",
        "reason":"REASON_INVALID_OFFERS","message":"m","timestamp":1.7e9});
    let s: TaskStatus = serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(s.reason, Some(Reason::ReasonInvalidOffers));
    assert_eq!(s.source, Some(Source::SourceMaster));
    assert_eq!(serde_json::to_value(&s).unwrap(), raw);
}

#[test]
fn framework_effective_roles_follow_multi_role() {
    let mut fi = FrameworkInfo::new("u", "n");
    assert_eq!(fi.effective_roles(), vec!["*"]);
    fi.role = Some("alluxio".into());
    assert_eq!(fi.effective_roles(), vec!["alluxio"]);
    fi.roles = vec!["a".into(), "b".into()];
    let fi = fi.with_capability(CapabilityType::MultiRole);
    assert_eq!(fi.effective_roles(), vec!["a", "b"]);
}

#[test]
fn unknown_reasons_and_sources_from_newer_masters_still_decode() {
    let status: mesos_api::v1::TaskStatus = serde_json::from_str(
        r#"{"task_id":{"value":"t"},"state":"TASK_FAILED","reason":"REASON_FROM_THE_FUTURE","source":"SOURCE_ELSEWHERE"}"#,
    )
    .unwrap();
    assert_eq!(status.reason, Some(mesos_api::v1::Reason::Other));
    assert_eq!(status.source, Some(mesos_api::v1::Source::Other));
}
