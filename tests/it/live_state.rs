//! Reading the state documents of fixtures/state/ through the public API.

use alluxio_mesos::live::{read_state_file, FrameworkSelector, LiveCluster, LiveError};
use mesos_api::{PortRanges, TaskState};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/state")
        .join(name)
}

fn by_name(role: &str) -> FrameworkSelector {
    FrameworkSelector {
        id: None,
        name: "alluxio".into(),
        role: role.into(),
        predecessor: None,
    }
}

fn read(name: &str, selector: &FrameworkSelector) -> LiveCluster {
    read_state_file(&fixture(name), selector).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn ports(s: &str) -> PortRanges {
    s.parse().unwrap()
}

const S: &str = "3f9c2a71-8d4e-4b6a-9e2f-5c1d7a8b0e42-S";

#[test]
fn alluxio_ports_fixture_offers_the_alluxio_ports_minus_what_others_use_or_hold() {
    let c = read("alluxio-ports.json", &by_name("*"));
    assert_eq!(c.version.as_deref(), Some("1.9.0"));
    assert_eq!(c.agents.len(), 3);
    assert!(c.framework.is_none(), "no alluxio framework yet");
    let a0 = &c.agents[0];
    assert_eq!(a0.id, format!("{S}0"));
    assert_eq!(a0.hostname, "mesos-agent-1.example.com");
    assert!(a0.active);
    assert_eq!(a0.attributes["gen"], "3");
    assert_eq!(a0.attributes["rack"], "r1");
    assert_eq!(
        a0.total.ports,
        ports("[19998-19999, 29998-30000, 31000-32000]")
    );
    assert_eq!(a0.free.cpus, 7.0);
    assert_eq!(a0.free.mem_mb, 31744.0 - 1024.0);
    assert_eq!(
        a0.free.ports,
        ports("[19998-19999, 29998-30000, 31001-32000]")
    );
    // Everything of S1 is offered to marathon: nothing free for us now.
    let a1 = &c.agents[1];
    assert_eq!(a1.free.cpus, 0.0);
    assert!(a1.free.ports.is_empty());
    // gen written as 2.0 renders as 2.
    assert_eq!(c.agents[2].attributes["gen"], "2");
}

#[test]
fn default_ports_fixture_has_only_the_default_port_range() {
    let c = read("default-ports.json", &by_name("*"));
    assert_eq!(c.agents.len(), 3);
    for a in &c.agents {
        assert!(!a.free.ports.contains(19998), "{}", a.id);
        assert_eq!(a.total.ports, ports("[31000-32000]"));
    }
    assert_eq!(c.agents[1].free.ports, ports("[31001-32000]"));
}

#[test]
fn partial_lost_worker_fixture_gives_our_running_and_lost_tasks_with_labels() {
    let c = read("partial-lost-worker.json", &by_name("alluxio"));
    let f = c.framework.expect("our framework");
    // The registered (though disconnected) framework wins over the torn-down one of the same name.
    assert_eq!(f.id, "3f9c2a71-8d4e-4b6a-9e2f-5c1d7a8b0e42-0003");
    assert!(!f.active);
    assert_eq!(f.tasks.len(), 5);
    let ids: Vec<&str> = f.tasks.iter().map(|t| t.id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "tasks are sorted by ID");
    let master = f
        .tasks
        .iter()
        .find(|t| t.labels["alluxio-mesos.role"] == "master")
        .unwrap();
    assert_eq!(master.state, TaskState::Running);
    assert_eq!(master.labels["alluxio-mesos.address"], "master[0]");
    assert_eq!(master.labels["alluxio-mesos.deployment"], "alluxio");
    assert_eq!(master.agent_id, format!("{S}0"));
    assert_eq!(master.resources.ports, ports("[19998-19999]"));
    assert_eq!(master.resources.mem_mb, 8192.0);
    let lost: Vec<_> = f
        .tasks
        .iter()
        .filter(|t| t.state == TaskState::Lost)
        .collect();
    assert_eq!(lost.len(), 1);
    assert_eq!(lost[0].agent_id, format!("{S}3"));
    assert_eq!(
        lost[0].labels["alluxio-mesos.address"],
        r#"worker["mesos-agent-4.example.com"]"#
    );
    assert_eq!(lost[0].updated_at, Some(1732492199.75));
    // The agent of the lost worker has its Alluxio ports free again.
    let a3 = c.agents.iter().find(|a| a.id == format!("{S}3")).unwrap();
    assert!(a3.free.ports.contains_all(&ports("[29998-30000]")));
    // Our own running tasks count as used.
    let a0 = &c.agents[0];
    assert_eq!(a0.free.cpus, 2.0);
    assert!(!a0.free.ports.contains(19998));
}

#[test]
fn selecting_by_id_finds_a_torn_down_framework_of_the_same_name() {
    let sel = FrameworkSelector {
        id: Some("3f9c2a71-8d4e-4b6a-9e2f-5c1d7a8b0e42-0002".into()),
        name: "alluxio".into(),
        role: "alluxio".into(),
        predecessor: None,
    };
    let c = read("partial-lost-worker.json", &sel);
    let f = c.framework.unwrap();
    assert!(!f.active);
    assert_eq!(f.tasks.len(), 1);
    assert_eq!(f.tasks[0].state, TaskState::Killed);
}

#[test]
fn an_id_mesos_does_not_know_selects_no_framework_even_if_the_name_matches() {
    let sel = FrameworkSelector {
        id: Some("3f9c2a71-8d4e-4b6a-9e2f-5c1d7a8b0e42-0099".into()),
        name: "alluxio".into(),
        role: "alluxio".into(),
        predecessor: None,
    };
    assert!(read("partial-lost-worker.json", &sel).framework.is_none());
}

#[test]
fn drift_fixture_shows_the_old_config_hash_and_memory() {
    let c = read("drift.json", &by_name("alluxio"));
    let f = c.framework.unwrap();
    assert_eq!(f.tasks.len(), 4);
    for t in &f.tasks {
        assert_eq!(t.labels["alluxio-mesos.config-hash"], "c41a9f03be7d5526");
        assert_eq!(t.resources.mem_mb, 4096.0);
        assert_eq!(t.state, TaskState::Running);
    }
}

#[test]
fn inactive_agent_fixture_marks_the_disconnected_agent_inactive() {
    let c = read("inactive-agent.json", &by_name("alluxio"));
    let active: Vec<bool> = c.agents.iter().map(|a| a.active).collect();
    assert_eq!(active, [true, false, true]);
    let f = c.framework.unwrap();
    assert!(f
        .tasks
        .iter()
        .any(|t| t.agent_id == format!("{S}1") && t.state == TaskState::Running));
}

#[test]
fn reserved_other_role_fixture_keeps_other_roles_reservations_out_of_free() {
    let c = read("reserved-other-role.json", &by_name("alluxio"));
    // S0: 4 of 8 cpus reserved for spark; spark's executor uses 2 of them, and
    // the summary cannot say from which pool, so it is subtracted as well.
    assert_eq!(c.agents[0].free.cpus, 2.0);
    assert!(c.agents[0].free.ports.contains(19998));
    assert!(!c.agents[0].free.ports.contains(31100));
    // S1: all reserved for spark.
    assert_eq!(c.agents[1].free.cpus, 0.0);
    assert!(c.agents[1].free.ports.is_empty());
    // S2: the reservation is for our role: all free.
    assert_eq!(c.agents[2].free.cpus, 8.0);
    assert!(c.agents[2].free.ports.contains(19998));
    // A framework of role spark sees S1 free except what it uses.
    let spark = FrameworkSelector {
        id: None,
        name: "spark-shuffle".into(),
        role: "spark".into(),
        predecessor: None,
    };
    let c = read("reserved-other-role.json", &spark);
    assert_eq!(c.agents[1].free.cpus, 7.0);
    assert_eq!(c.agents[2].free.cpus, 4.0);
}

#[test]
fn old_version_fixture_reads_slaves_without_active_and_integer_resources() {
    let c = read("old-version.json", &by_name("*"));
    assert_eq!(c.version.as_deref(), Some("0.22.1"));
    assert_eq!(c.agents.len(), 3);
    assert!(c.agents.iter().all(|a| a.active));
    assert_eq!(c.agents[0].total.mem_mb, 31744.0);
    // No used_resources in this version: everything counts as free.
    assert_eq!(c.agents[0].free.cpus, 8.0);
    let f = c.framework.unwrap();
    assert_eq!(f.id, "20150320-094725-184549386-5050-1127-0007");
    assert_eq!(f.tasks.len(), 3);
    assert_eq!(f.tasks[0].id, "0");
    assert_eq!(
        f.tasks[0].agent_id,
        "20150320-094725-184549386-5050-1127-S0"
    );
    assert_eq!(f.tasks[1].state, TaskState::Failed);
    assert_eq!(f.tasks[2].updated_at, Some(1426843712.0));
}

#[test]
fn v1_shapes_fixture_reads_get_state_with_value_ids_and_resource_arrays() {
    let c = read("v1-shapes.json", &by_name("alluxio"));
    assert_eq!(c.agents.len(), 3);
    let a0 = &c.agents[0];
    assert_eq!(a0.id, format!("{S}0"));
    assert_eq!(a0.hostname, "mesos-agent-1.example.com");
    assert_eq!(a0.attributes["gen"], "3");
    assert_eq!(a0.free.cpus, 6.0);
    assert!(!a0.free.ports.contains(19999));
    // S2 has half its resources and the Alluxio ports reserved for spark.
    let a2 = &c.agents[2];
    assert_eq!(a2.total.cpus, 8.0);
    assert_eq!(a2.free.cpus, 4.0);
    assert_eq!(a2.free.ports, ports("[31000-32000]"));
    let f = c.framework.unwrap();
    assert_eq!(f.id, "3f9c2a71-8d4e-4b6a-9e2f-5c1d7a8b0e42-0003");
    assert!(!f.active);
    assert_eq!(f.tasks.len(), 2, "marathon's task is not ours");
    let failed = f
        .tasks
        .iter()
        .find(|t| t.state == TaskState::Failed)
        .unwrap();
    assert_eq!(
        failed.message.as_deref(),
        Some("Command exited with status 1")
    );
    assert_eq!(failed.agent_id, format!("{S}1"));
    assert_eq!(failed.labels["alluxio-mesos.role"], "worker");
    assert_eq!(failed.resources.mem_mb, 6144.0);
}

#[test]
fn not_leader_fixture_names_the_leader() {
    let e = read_state_file(&fixture("not-leader.json"), &by_name("alluxio")).unwrap_err();
    match &e {
        LiveError::NotLeader { leader } => assert_eq!(leader, "master@10.0.0.5:5050"),
        other => panic!("expected NotLeader, got {other}"),
    }
    assert!(e.to_string().contains("http://10.0.0.5:5050"), "{e}");
}

#[test]
fn every_fixture_is_described_in_the_readme() {
    let readme = std::fs::read_to_string(fixture("README.md")).unwrap();
    for entry in std::fs::read_dir(fixture("")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".json") {
            assert!(
                readme.contains(&format!("`{name}`")),
                "{name} missing from README.md"
            );
        }
    }
}
