use super::*;

fn sel(name: &str, role: &str) -> FrameworkSelector {
    FrameworkSelector {
        id: None,
        name: name.into(),
        role: role.into(),
        predecessor: None,
    }
}

fn parse(doc: &str) -> LiveCluster {
    parse_state(doc.as_bytes(), &sel("alluxio", "alluxio"), "test.json")
        .unwrap_or_else(|e| panic!("{e}"))
}

fn err(doc: &str) -> LiveError {
    parse_state(doc.as_bytes(), &sel("alluxio", "alluxio"), "test.json").unwrap_err()
}

#[test]
fn agents_and_agent_id_are_read_like_slaves_and_slave_id() {
    let c = parse(
        r#"{"agents":[{"id":"S0","hostname":"h0","resources":{"cpus":2}}],
            "frameworks":[{"id":"F1","name":"alluxio","tasks":[
              {"id":"t1","agent_id":"S0","state":"TASK_RUNNING"}]}]}"#,
    );
    assert_eq!(c.agents[0].id, "S0");
    assert_eq!(c.framework.unwrap().tasks[0].agent_id, "S0");
}

#[test]
fn missing_active_means_active_and_deactivated_agents_are_inactive() {
    let c = parse(
        r#"{"slaves":[{"id":"S0","hostname":"h0"},
                      {"id":"S1","hostname":"h1","active":true,"deactivated":true},
                      {"id":"S2","hostname":"h2","active":false}]}"#,
    );
    let active: Vec<bool> = c.agents.iter().map(|a| a.active).collect();
    assert_eq!(active, [true, false, false]);
}

#[test]
fn agents_are_sorted_by_id_and_those_without_id_are_left_out() {
    let c = parse(r#"{"slaves":[{"id":"S2"},{"hostname":"no-id"},{"id":"S10"},{"id":"S1"}]}"#);
    let ids: Vec<&str> = c.agents.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["S1", "S10", "S2"]);
}

#[test]
fn a_missing_hostname_is_taken_from_the_agent_pid() {
    let c = parse(r#"{"slaves":[{"id":"S0","pid":"slave(1)@10.0.0.11:5051"}]}"#);
    assert_eq!(c.agents[0].hostname, "10.0.0.11");
}

#[test]
fn free_is_usable_minus_used_minus_offered_to_others() {
    let c = parse(
        r#"{"slaves":[{"id":"S0",
             "resources":{"cpus":8,"mem":1000.0,"ports":"[31000-32000, 19998-19999]"},
             "used_resources":{"cpus":1.5,"mem":100,"ports":"[31000-31000]"},
             "offered_resources":{"cpus":2,"mem":200,"ports":"[31001-31009]"},
             "reserved_resources":{"spark":{"cpus":1,"mem":50,"ports":"[31990-32000]"},
                                   "alluxio":{"cpus":1}}}]}"#,
    );
    let free = &c.agents[0].free;
    assert_eq!(free.cpus, 8.0 - 1.0 - 1.5 - 2.0);
    assert_eq!(free.mem_mb, 1000.0 - 50.0 - 100.0 - 200.0);
    assert_eq!(free.ports, "[19998-19999, 31010-31989]".parse().unwrap());
    assert_eq!(c.agents[0].total.cpus, 8.0);
}

#[test]
fn resources_offered_to_our_own_framework_count_as_free() {
    let c = parse(
        r#"{"slaves":[{"id":"S0","resources":{"cpus":8,"ports":"[31000-32000]"},
             "offered_resources":{"cpus":8,"ports":"[31000-32000]"}},
            {"id":"S1","resources":{"cpus":8},"offered_resources":{"cpus":8}}],
            "frameworks":[{"name":"alluxio","id":"F1","offers":[
              {"id":"O1","framework_id":"F1","slave_id":"S0","resources":{"cpus":8,"ports":"[31000-32000]"}}]},
              {"name":"other","id":"F2","offers":[{"slave_id":"S1","resources":{"cpus":8}}]}]}"#,
    );
    assert_eq!(c.agents[0].free.cpus, 8.0);
    assert_eq!(c.agents[0].free.ports, "[31000-32000]".parse().unwrap());
    assert_eq!(c.agents[1].free.cpus, 0.0);
}

#[test]
fn reservations_of_an_ancestor_role_are_usable_by_a_child_role() {
    let doc = r#"{"slaves":[{"id":"S0","resources":{"cpus":8},
                  "reserved_resources":{"eng":{"cpus":2},"eng/alluxio":{"cpus":1},"ops":{"cpus":4}}}]}"#;
    let child = parse_state(doc.as_bytes(), &sel("x", "eng/alluxio"), "t").unwrap();
    assert_eq!(child.agents[0].free.cpus, 4.0);
    let parent = parse_state(doc.as_bytes(), &sel("x", "eng"), "t").unwrap();
    assert_eq!(parent.agents[0].free.cpus, 3.0);
}

#[test]
fn used_resources_full_attributes_usage_to_its_reservation() {
    // Spark's task runs on spark's reservation: not subtracted twice.
    let c = parse(
        r#"{"slaves":[{"id":"S0","resources":{"cpus":8},
             "reserved_resources":{"spark":{"cpus":4}},
             "used_resources":{"cpus":3},
             "used_resources_full":[
               {"name":"cpus","type":"SCALAR","scalar":{"value":2},"role":"spark","reservation":{}},
               {"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"*"}]}]}"#,
    );
    assert_eq!(c.agents[0].free.cpus, 3.0);
}

#[test]
fn multi_role_frameworks_without_pid_or_role_are_found() {
    let c = parse(
        r#"{"frameworks":[{"id":"F1","name":"alluxio","roles":["alluxio","eng"],"active":true,"tasks":[]}]}"#,
    );
    let f = c.framework.unwrap();
    assert_eq!(f.id, "F1");
    assert!(f.active);
}

#[test]
fn slash_escapes_crlf_tabs_key_order_and_repeated_unregistered_ids_are_fine() {
    let doc = "{\"unregistered_frameworks\":[\"F9\",\"F9\"],\r\n\t\"frameworks\":[{\"tasks\":[{\"state\":\"TASK_RUNNING\",\r\n\"labels\":[{\"value\":\"http:\\/\\/x\\/y\",\"key\":\"url\"}],\"id\":\"t\\/1\"}],\"name\":\"alluxio\",\"id\":\"F1\"}],\r\n\"slaves\":[]}\r\n";
    let c = parse(doc);
    let f = c.framework.unwrap();
    assert_eq!(f.tasks[0].id, "t/1");
    assert_eq!(f.tasks[0].labels["url"], "http://x/y");
}

#[test]
fn timestamps_may_be_integers_floats_or_huge_nanoseconds() {
    let c = parse(
        r#"{"frameworks":[
            {"id":"F1","name":"alluxio","registered_time":{"nanoseconds":1732492800123456789},"tasks":[
              {"id":"a","state":"TASK_RUNNING","statuses":[{"state":"TASK_RUNNING","timestamp":1732492801}]},
              {"id":"b","state":"TASK_RUNNING","statuses":[{"state":"TASK_RUNNING","timestamp":1732492801.5}]}]}]}"#,
    );
    let t = c.framework.unwrap().tasks;
    assert_eq!(t[0].updated_at, Some(1732492801.0));
    assert_eq!(t[1].updated_at, Some(1732492801.5));
}

#[test]
fn of_several_frameworks_named_alike_the_active_then_the_latest_registered_wins() {
    let c = parse(
        r#"{"frameworks":[
            {"id":"F1","name":"alluxio","active":false,"registered_time":300.0},
            {"id":"F2","name":"alluxio","active":true,"registered_time":100},
            {"id":"F3","name":"alluxio","active":true,"registered_time":200.5},
            {"id":"F4","name":"other","active":true,"registered_time":900}],
            "completed_frameworks":[{"id":"F5","name":"alluxio","active":true,"registered_time":999}]}"#,
    );
    assert_eq!(c.framework.unwrap().id, "F3");
    let tie = parse(
        r#"{"frameworks":[{"id":"F7","name":"alluxio"},{"id":"F8","name":"alluxio"},{"id":"F6","name":"alluxio"}]}"#,
    );
    assert_eq!(tie.framework.unwrap().id, "F8");
}

#[test]
fn other_frameworks_tasks_are_never_built_so_their_odd_shapes_do_not_matter() {
    // `resources: 42` would fail our task reader: it is never run on them.
    let c = parse(
        r#"{"frameworks":[
            {"id":"F2","name":"marathon","tasks":[{"id":"x","resources":42,"statuses":"odd"}]},
            {"id":"F1","name":"alluxio","tasks":[{"id":"t1","state":"TASK_RUNNING"}]}],
            "orphan_tasks":[{"id":"o1","framework_id":"F2","resources":42}]}"#,
    );
    assert_eq!(c.framework.unwrap().tasks.len(), 1);
}

#[test]
fn orphan_tasks_of_our_framework_are_ours() {
    let c = parse(
        r#"{"frameworks":[{"id":"F1","name":"alluxio","tasks":[{"id":"t1","state":"TASK_RUNNING"}]}],
            "orphan_tasks":[{"id":"t0","framework_id":"F1","slave_id":"S0","state":"TASK_RUNNING"},
                            {"id":"z","framework_id":"F2","state":"TASK_RUNNING"}]}"#,
    );
    let ids: Vec<String> = c
        .framework
        .unwrap()
        .tasks
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids, ["t0", "t1"]);
}

#[test]
fn a_task_id_listed_twice_keeps_the_live_entry() {
    let c = parse(
        r#"{"frameworks":[{"id":"F1","name":"alluxio",
            "tasks":[{"id":"t1","state":"TASK_RUNNING","statuses":[{"state":"TASK_RUNNING","timestamp":10}]}],
            "completed_tasks":[{"id":"t1","state":"TASK_FINISHED","statuses":[{"state":"TASK_FINISHED","timestamp":20}]}]}]}"#,
    );
    let t = c.framework.unwrap().tasks;
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].state, TaskState::Running);
}

#[test]
fn task_state_falls_back_to_the_latest_status_and_unknown_names_are_unknown() {
    let c = parse(
        r#"{"frameworks":[{"id":"F1","name":"alluxio","tasks":[
            {"id":"a","statuses":[{"state":"TASK_RUNNING","timestamp":2},{"state":"TASK_STARTING","timestamp":1}]},
            {"id":"b","state":"TASK_FROM_THE_FUTURE"},
            {"id":"c"}]}]}"#,
    );
    let t = c.framework.unwrap().tasks;
    assert_eq!(t[0].state, TaskState::Running);
    assert_eq!(t[0].updated_at, Some(2.0));
    assert_eq!(t[1].state, TaskState::Unknown);
    assert_eq!(t[2].state, TaskState::Unknown);
    assert_eq!(t[2].updated_at, None);
}

#[test]
fn a_document_from_a_non_leading_master_is_refused_with_the_leader() {
    match err(
        r#"{"pid":"master@10.0.0.6:5050","leader":"master@10.0.0.5:5050","slaves":[],"frameworks":[]}"#,
    ) {
        LiveError::NotLeader { leader } => assert_eq!(leader, "master@10.0.0.5:5050"),
        other => panic!("{other}"),
    }
}

#[test]
fn a_document_without_any_leader_is_refused() {
    let e = err(r#"{"pid":"master@10.0.0.6:5050","slaves":[],"frameworks":[]}"#);
    assert!(e.to_string().contains("no elected leader"), "{e}");
}

#[test]
fn a_just_elected_leader_still_waiting_for_agents_is_retried_not_planned_from() {
    // A new leader lists the agents of its registry that have not
    // registered with it again; their tasks are not in the document.
    let old = err(
        r#"{"pid":"master@10.0.0.5:5050","leader":"master@10.0.0.5:5050","slaves":[],
            "recovered_slaves":[{"id":"S1","hostname":"a1"},{"id":"S2","hostname":"a2"}],"frameworks":[]}"#,
    );
    let v1 = err(
        r#"{"type":"GET_STATE","get_state":{"get_agents":{"recovered_agents":[{"id":{"value":"S1"},"hostname":"a1"}]}}}"#,
    );
    for (e, n) in [(old, 2), (v1, 1)] {
        assert!(
            matches!(e, LiveError::Recovering { agents, .. } if agents == n),
            "{e}"
        );
        assert!(e.is_retryable());
        assert!(e.to_string().contains("register again"), "{e}");
    }
    // Once they are back the list is empty, and the document is used.
    parse(r#"{"pid":"m@h:5050","leader":"m@h:5050","slaves":[],"recovered_slaves":[]}"#);
}

#[test]
fn the_leaders_own_document_is_accepted() {
    let c = parse(
        r#"{"pid":"master@10.0.0.5:5050","leader":"master@10.0.0.5:5050","version":"1.9.0"}"#,
    );
    assert_eq!(c.version.as_deref(), Some("1.9.0"));
    assert_eq!(c.source, "test.json");
}

#[test]
fn html_or_empty_bodies_are_not_json_and_show_their_start() {
    let e = err("<html><body>502 Bad Gateway</body></html>").to_string();
    assert!(e.starts_with("test.json is not JSON"), "{e}");
    assert!(e.contains("<html><body>502 Bad Gateway"), "{e}");
    let e = err("  \n").to_string();
    assert!(e.contains("it is empty"), "{e}");
}

#[test]
fn broken_json_names_line_and_column() {
    let e = err("{\n  \"slaves\": [\n    {\"id\": \"S0\",}\n  ]\n}").to_string();
    assert!(e.starts_with("test.json:3:"), "{e}");
    assert!(e.contains("invalid JSON"), "{e}");
}

#[test]
fn errors_inside_our_framework_count_lines_from_the_document_start() {
    let doc = "{\"frameworks\":[\n  {\"id\":\"F1\",\"name\":\"alluxio\",\n   \"tasks\":[{\"id\":\"t\",\"resources\":{\"ports\":7}}]}]}";
    let e = err(doc).to_string();
    assert!(e.starts_with("test.json:3:"), "{e}");
    assert!(e.contains("\"ports\" has a value of the wrong type"), "{e}");
    let doc = "{\"frameworks\":[{\"id\":\"F1\",\"name\":\"alluxio\",\"tasks\":[{\"id\":\"t\",\"resources\":{\"ports\":7}}]}]}";
    let e = err(doc).to_string();
    let col: usize = e.split(':').nth(2).unwrap().parse().unwrap();
    assert!(col > 60, "column counts from the document start: {e}");
}

#[test]
fn a_missing_file_is_named_in_the_error() {
    let sel = FrameworkSelector {
        id: None,
        name: "alluxio".into(),
        role: "*".into(),
        predecessor: None,
    };
    let e = read_state_file(std::path::Path::new("no/such/state.json"), &sel)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("cannot read the Mesos state file no/such/state.json:"),
        "{e}"
    );
}

fn with_predecessor(id: Option<&str>, from: Option<&str>) -> FrameworkSelector {
    FrameworkSelector {
        id: id.map(str::to_string),
        predecessor: Some(crate::live::Predecessor {
            name_or_id: from.unwrap_or(crate::live::ALLUXIO_FRAMEWORK_NAME).into(),
            explicit: from.is_some(),
            task_names: vec!["AlluxioMaster".into(), "AlluxioWorker".into()],
        }),
        ..sel("alluxio", "alluxio")
    }
}

/// AlluxioFramework (tasks "0", "1", no labels) and this deployment, both
/// named `alluxio`, and a framework of another name.
const TWO_ALLUXIOS: &str = r#"{"slaves":[{"id":"S0","hostname":"h0"}],
  "frameworks":[
    {"id":"OLD","name":"alluxio","active":true,"tasks":[
      {"id":"0","name":"AlluxioMaster","slave_id":"S0","state":"TASK_RUNNING"},
      {"id":"1","name":"AlluxioWorker","slave_id":"S0","state":"TASK_RUNNING"}]},
    {"id":"NEW","name":"alluxio","active":false,"tasks":[
      {"id":"alluxio-master-0.x","name":"AlluxioMaster","slave_id":"S0","state":"TASK_RUNNING",
       "labels":[{"key":"alluxio-mesos.address","value":"master[0]"}]}]},
    {"id":"SPARK","name":"spark","tasks":[
      {"id":"s","name":"AlluxioWorker","slave_id":"S0","state":"TASK_RUNNING"}]}]}"#;

#[test]
fn an_alluxio_framework_is_told_from_ours_by_its_tasks() {
    let c = parse_state(TWO_ALLUXIOS.as_bytes(), &with_predecessor(None, None), "t").unwrap();
    assert_eq!(c.predecessor.as_ref().map(|f| f.id.as_str()), Some("OLD"));
    assert_eq!(c.predecessor.unwrap().tasks.len(), 2);
    assert_eq!(c.framework.map(|f| f.id), Some("NEW".to_string()));
}

#[test]
fn ours_by_id_is_never_taken_over_and_a_named_one_is_taken_as_named() {
    let c = parse_state(
        TWO_ALLUXIOS.as_bytes(),
        &with_predecessor(Some("OLD"), None),
        "t",
    )
    .unwrap();
    assert_eq!(c.framework.map(|f| f.id), Some("OLD".to_string()));
    assert_ne!(c.predecessor.map(|f| f.id), Some("OLD".to_string()));
    // Named by ID, a framework of any name and tasks is the one.
    let c = parse_state(
        TWO_ALLUXIOS.as_bytes(),
        &with_predecessor(None, Some("SPARK")),
        "t",
    )
    .unwrap();
    assert_eq!(c.predecessor.map(|f| f.id), Some("SPARK".to_string()));
}

#[test]
fn a_framework_named_alluxio_whose_tasks_are_not_alluxios_is_not_taken_over() {
    let doc = r#"{"frameworks":[{"id":"F","name":"alluxio","tasks":[
        {"id":"0","name":"etl","slave_id":"S0","state":"TASK_RUNNING"}]}]}"#;
    let c = parse_state(doc.as_bytes(), &with_predecessor(None, None), "t").unwrap();
    assert!(c.predecessor.is_none());
    assert_eq!(c.framework.map(|f| f.id), Some("F".to_string()));
}
