//! Planner behaviour, on hand-built inputs (fixture-driven tests live in tests/).

use super::config;
use super::*;
use crate::address::Address;
use crate::desired::secrets::SiteProperties;
use crate::desired::size::ByteSize;
use crate::desired::*;
use crate::live::{Agent, LiveCluster, LiveFramework, LiveTask, Resources};
use crate::render::{render, Format};
use crate::state::State;
use mesos_api::TaskState;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

fn role_spec(rpc_port: u16, web_port: u16, task_name: &str) -> RoleSpec {
    RoleSpec {
        cpus: 1.0,
        mem: ByteSize::from_mb(1024),
        rpc_port,
        web_port,
        constraints: None,
        task_name: task_name.into(),
        command: None,
        health_check: None,
        // The engine's tests run no Alluxio to ask.
        ready: crate::desired::Ready::default(),
        ready_set: false,
    }
}

pub(crate) fn desired() -> Desired {
    let mut site = SiteProperties::default();
    site.insert("alluxio.integration.mesos.alluxio.jar.url", "LOCAL");
    site.insert("alluxio.home", "/opt/alluxio");
    site.insert("alluxio.worker.memory.size", "4GB");
    Desired {
        name: "alluxio".into(),
        mesos: MesosSettings {
            master: Some(MasterLocator::Local),
            framework_name: "alluxio".into(),
            principal: None,
            secret: None,
            migrate_from: None,
            operator: None,
            role: "*".into(),
            user: "alluxio".into(),
            failover_timeout: Duration::from_secs(28 * 86400),
            ca_cert: None,
            local_cluster: None,
        },
        install: Install {
            alluxio: AlluxioSource::Local {
                home: "/opt/alluxio".into(),
            },
            jdk: JdkSource::Local,
        },
        master: MasterSpec {
            count: 1,
            hostname: None,
            task: role_spec(19998, 19999, "AlluxioMaster"),
        },
        worker: WorkerSpec {
            count: WorkerCount::All,
            ramdisk: ByteSize::from_mb(4096),
            data_port: 29999,
            max_unavailable: 1,
            task: role_spec(29998, 30000, "AlluxioWorker"),
        },
        zookeeper: None,
        site,
        setting_names: Default::default(),
        state: None,
        files: SourceFiles {
            deployment: PathBuf::from("alluxio-mesos.toml"),
            properties: PathBuf::from("alluxio-site.properties"),
        },
    }
}

pub(crate) fn agent(n: u32, ports: &str, cpus: f64, mem: f64) -> Agent {
    let r = Resources {
        cpus,
        mem_mb: mem,
        disk_mb: 10000.0,
        ports: ports.parse().unwrap(),
    };
    Agent {
        id: format!("S{n}"),
        hostname: format!("a{n}"),
        active: true,
        attributes: BTreeMap::new(),
        total: r.clone(),
        free: r,
    }
}

pub(crate) const ALLUXIO_PORTS: &str = "[19998-19999, 29998-30000, 31000-32000]";

pub(crate) fn live(agents: Vec<Agent>, tasks: Vec<LiveTask>) -> LiveCluster {
    LiveCluster {
        source: "test".into(),
        version: Some("1.11.0".into()),
        agents,
        framework: Some(LiveFramework {
            id: "F1".into(),
            name: "alluxio".into(),
            active: false,
            removed: false,
            tasks,
        }),
        predecessor: None,
    }
}

fn running(
    id: &str,
    address: &str,
    agent: &Agent,
    hash: &str,
    cpus: f64,
    mem: f64,
    ports: &str,
) -> LiveTask {
    let labels = [(LABEL_ADDRESS, address), (LABEL_CONFIG_HASH, hash)]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    LiveTask {
        id: id.into(),
        name: "t".into(),
        agent_id: agent.id.clone(),
        state: TaskState::Running,
        labels,
        resources: Resources {
            cpus,
            mem_mb: mem,
            disk_mb: 0.0,
            ports: ports.parse().unwrap(),
        },
        has_executor: false,
        updated_at: Some(1_790_000_000.0),
        message: None,
    }
}

fn hashes(d: &Desired, master_host: &str) -> (String, String) {
    let h = secret_hasher(d, None);
    (
        config::master_config(d, &h).hash(),
        config::worker_config(d, &h, &[master_host.to_string()]).hash(),
    )
}

/// A cluster where the deployment is fully running on agents a1..a3, master on a1.
fn converged(d: &Desired) -> LiveCluster {
    converged_on(d, 3)
}

/// The deployment fully running on agents a1..aN, master on a1.
fn converged_on(d: &Desired, n: u32) -> LiveCluster {
    let mut agents: Vec<Agent> = (1..=n)
        .map(|n| agent(n, ALLUXIO_PORTS, 4.0, 16384.0))
        .collect();
    let (mh, wh) = hashes(d, "a1");
    let worker_mem = d.worker.total_mem().as_mb();
    let mut tasks = vec![running(
        "m0",
        "master[0]",
        &agents[0],
        &mh,
        1.0,
        1024.0,
        "[19998-19999]",
    )];
    for a in &agents {
        let addr = format!("worker[\"{}\"]", a.hostname);
        tasks.push(running(
            &format!("w-{}", a.hostname),
            &addr,
            a,
            &wh,
            1.0,
            worker_mem,
            "[29998-30000]",
        ));
    }
    // Free resources exclude what our tasks use.
    agents[0].free.cpus -= 1.0;
    agents[0].free.mem_mb -= 1024.0;
    agents[0].free.ports = agents[0]
        .free
        .ports
        .subtract(&"[19998-19999]".parse().unwrap());
    for a in agents.iter_mut() {
        a.free.cpus -= 1.0;
        a.free.mem_mb -= worker_mem;
        a.free.ports = a.free.ports.subtract(&"[29998-30000]".parse().unwrap());
    }
    live(agents, tasks)
}

fn plan_of(d: &Desired, l: &LiveCluster, s: Option<&State>) -> Plan {
    make_plan(d, l, s, &PlanOptions::default())
}

#[test]
fn fresh_cluster_gets_one_master_and_a_worker_per_agent() {
    let d = desired();
    let mut agents: Vec<Agent> = (1..=3)
        .map(|n| agent(n, ALLUXIO_PORTS, 4.0, 16384.0))
        .collect();
    agents[1].free.mem_mb = 32768.0; // the master goes where most memory is free
    let plan = plan_of(&d, &live(agents, vec![]), None);
    let s = plan.summary();
    assert_eq!((s.launch, s.replace, s.kill, s.unplaceable), (4, 0, 0, 0));
    let master = &plan.changes[0];
    assert_eq!(master.address, Address::Master(0));
    assert_eq!(master.action.agent().hostname, "a2");
    assert_eq!(master.reasons, ["master[0] is not running"]);
    let worker_hosts: Vec<_> = plan.changes[1..]
        .iter()
        .map(|c| c.action.agent().hostname.clone())
        .collect();
    assert_eq!(worker_hosts, ["a1", "a2", "a3"]);
}

#[test]
fn converged_cluster_has_no_changes() {
    let d = desired();
    let plan = plan_of(&d, &converged(&d), None);
    assert!(!plan.has_changes(), "{plan:#?}");
    assert!(render(&plan, Format::Text, &Default::default())
        .contains("No changes. The deployment matches the live cluster."));
}

#[test]
fn default_agents_without_alluxio_ports_give_reasons_and_both_remedies() {
    let d = desired();
    let agents: Vec<Agent> = (1..=3)
        .map(|n| agent(n, "[31000-32000]", 4.0, 16384.0))
        .collect();
    let plan = plan_of(&d, &live(agents, vec![]), None);
    let s = plan.summary();
    assert_eq!((s.launch, s.unplaceable), (0, 4));
    let master = &plan.placement_failures[0];
    assert_eq!(master.address, Some(Address::Master(0)));
    assert_eq!(master.agents.len(), 3);
    assert_eq!(
        master.agents[0].reasons,
        ["ports 19998-19999 not offered (agent offers [31000-32000])"]
    );
    assert!(
        master.remedies[0].contains("--resources='ports:[19998-19999,29998-30000]'"),
        "{:?}",
        master.remedies
    );
    assert!(master.remedies[1].contains("alluxio.master.port (19998)"));
    let workers = &plan.placement_failures[1];
    assert_eq!(workers.unplaced, 3);
    assert_eq!(workers.summary, "3 eligible agent(s) cannot run a worker");
}

#[test]
fn a_lost_worker_is_launched_again_with_the_reason() {
    let d = desired();
    let mut l = converged(&d);
    let fw = l.framework.as_mut().unwrap();
    let lost = fw.tasks.iter_mut().find(|t| t.id == "w-a3").unwrap();
    lost.state = TaskState::Lost;
    lost.message = Some("Agent removed".into());
    // A lost task no longer holds resources.
    let a3 = l.agents.iter_mut().find(|a| a.hostname == "a3").unwrap();
    a3.free = a3.total.clone();
    let plan = plan_of(&d, &l, None);
    let launches: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.action.name() == "launch")
        .collect();
    assert_eq!(launches.len(), 1);
    assert_eq!(launches[0].address, Address::Worker("a3".into()));
    assert_eq!(
        launches[0].reasons,
        ["worker[\"a3\"] was TASK_LOST at 2026-09-21T14:13:20Z: Agent removed"]
    );
}

/// The state after `before` was applied with its master on a1.
fn applied_state(before: &Desired) -> State {
    let h = secret_hasher(before, None);
    State {
        applied: Some(config::applied_config(before, &h, &["a1".into()])),
        secret_hash_key: h.key_hex(),
        ..State::empty("alluxio")
    }
}

#[test]
fn a_worker_property_change_replaces_workers_only_with_reasons() {
    let before = desired();
    let state = applied_state(&before);
    let mut after = before.clone();
    after.site.insert("alluxio.worker.tieredstore.levels", "2");
    let plan = plan_of(&after, &converged(&before), Some(&state));
    let s = plan.summary();
    assert_eq!((s.launch, s.replace, s.kill), (0, 3, 0), "{plan:#?}");
    assert!(plan
        .changes
        .iter()
        .filter(|c| c.action.name() == "replace")
        .all(|c| c.role() == crate::address::Role::Worker));
    let reasons = &plan.changes[1].reasons;
    assert_eq!(
        reasons,
        &["alluxio.worker.tieredstore.levels: (unset) -> 2"]
    );
    assert!(
        plan.config_diff
            .contains("+alluxio.worker.tieredstore.levels=2"),
        "{}",
        plan.config_diff
    );
}

#[test]
fn a_worker_memory_change_is_one_reason_per_cause_with_old_and_new_values() {
    let mut before = desired();
    before.worker.ramdisk = ByteSize::from_mb(2048);
    before.site.insert("alluxio.worker.memory.size", "2GB");
    let state = applied_state(&before);
    let mut after = before.clone();
    after.worker.ramdisk = ByteSize::from_mb(4096);
    after.site.insert("alluxio.worker.memory.size", "4GB");
    after
        .setting_names
        .insert("alluxio.worker.memory.size".into(), "worker.ramdisk".into());
    let plan = plan_of(&after, &converged(&before), Some(&state));
    let worker = plan
        .changes
        .iter()
        .find(|c| c.action.name() == "replace")
        .expect("a worker is replaced");
    assert_eq!(worker.reasons, ["worker.ramdisk: 2GB -> 4GB"]);
    let text = render(&plan, Format::Text, &Default::default());
    assert!(
        text.contains("mem:      3072MB -> 5120MB (1024MB JVM + 4096MB ramdisk)"),
        "{text}"
    );
    // Written in the properties file, it is named by its property key.
    after.setting_names.clear();
    let plan = plan_of(&after, &converged(&before), Some(&state));
    let worker = plan.changes.iter().find(|c| c.action.name() == "replace");
    assert_eq!(
        worker.unwrap().reasons,
        ["alluxio.worker.memory.size: 2GB -> 4GB"]
    );
}

#[test]
fn a_memory_change_on_many_workers_is_one_group_with_one_reason() {
    let mut before = desired();
    before.worker.ramdisk = ByteSize::from_mb(2048);
    before.site.insert("alluxio.worker.memory.size", "2GB");
    let state = applied_state(&before);
    let mut after = before.clone();
    after.worker.ramdisk = ByteSize::from_mb(4096);
    after.site.insert("alluxio.worker.memory.size", "4GB");
    let plan = plan_of(&after, &converged_on(&before, 40), Some(&state));
    assert_eq!(plan.summary().replace, 40);
    let text = render(&plan, Format::Text, &Default::default());
    assert!(
        text.contains("  -/+ 40 workers will be replaced (1 cpu, 3072MB -> 5120MB (1024MB JVM + 4096MB ramdisk), ports 29998-30000, LOCAL /opt/alluxio)\n      because:  alluxio.worker.memory.size: 2GB -> 4GB\n      agents:   a1 .. a40, 40 agents\n"),
        "{text}"
    );
    let md = render(&plan, Format::Markdown, &Default::default());
    assert!(
        md.contains("| `-/+` | 40 workers will be replaced (1 cpu, 3072MB -> 5120MB (1024MB JVM + 4096MB ramdisk), ports 29998-30000, LOCAL /opt/alluxio) | alluxio.worker.memory.size: 2GB -> 4GB |"),
        "{md}"
    );
}

#[test]
fn a_client_property_change_replaces_nothing_and_says_so() {
    let before = desired();
    let state = applied_state(&before);
    let mut after = before.clone();
    after.site.insert("alluxio.user.file.buffer.bytes", "16MB");
    let plan = plan_of(&after, &converged(&before), Some(&state));
    assert!(!plan.has_changes());
    assert!(
        plan.config_notes[0].starts_with("alluxio.user.file.buffer.bytes changed: client-side"),
        "{:?}",
        plan.config_notes
    );
    assert!(!plan.config_diff.is_empty());
}

/// Masters of `d` running on a1.., labelled with `label`, and the state
/// that recorded `fields` as the masters' configuration.
fn masters_labelled(d: &Desired, n: u32, label: &str) -> LiveCluster {
    let mut l = converged_on(d, n);
    for t in &mut l.framework.as_mut().unwrap().tasks {
        if t.labels[LABEL_ADDRESS].starts_with("master") {
            t.labels.insert(LABEL_CONFIG_HASH.into(), label.into());
        }
    }
    l
}

#[test]
fn more_masters_launch_beside_the_running_one_without_replacing_it() {
    let mut before = desired();
    before.zookeeper = Some("zk1:2181".into());
    before.site.insert("alluxio.zookeeper.enabled", "true");
    before.site.insert("alluxio.zookeeper.address", "zk1:2181");
    before
        .site
        .insert("alluxio.integration.mesos.master.node.count", "1");
    let state = applied_state(&before);
    let mut after = before.clone();
    after.master.count = 3;
    after
        .site
        .insert("alluxio.integration.mesos.master.node.count", "3");
    let plan = plan_of(&after, &converged(&before), Some(&state));
    let actions: Vec<(String, &str)> = plan
        .changes
        .iter()
        .filter(|c| c.role() == crate::address::Role::Master)
        .map(|c| (c.address.to_string(), c.action.name()))
        .collect();
    assert_eq!(
        actions,
        [
            ("master[0]".to_string(), "no-op"),
            ("master[1]".to_string(), "launch"),
            ("master[2]".to_string(), "launch")
        ],
        "{plan:#?}"
    );
    assert_eq!(plan.summary().replace, 0, "{plan:#?}");
}

/// Masters launched when the master count was part of their configuration
/// (and so of their hash label) are kept when the count changes, and
/// stay explained by the state through the next apply.
#[test]
fn masters_labelled_with_the_count_in_their_configuration_are_kept() {
    let mut d = desired();
    d.site
        .insert("alluxio.integration.mesos.master.node.count", "1");
    let h = secret_hasher(&d, None);
    let mut old = config::master_config(&d, &h);
    old.fields.insert(
        "property alluxio.integration.mesos.master.node.count".into(),
        "1".into(),
    );
    let mut state = applied_state(&d);
    let applied = state.applied.as_mut().unwrap();
    applied.master = old.fields.clone();
    applied.launched.clear();
    let live = masters_labelled(&d, 3, &old.hash());

    let plan = plan_of(&d, &live, Some(&state));
    assert_eq!(plan.summary().replace, 0, "{plan:#?}");
    let recorded = plan.applied.clone().unwrap();
    assert_eq!(recorded.launched.get(&old.hash()), Some(&old.fields));

    // After an apply records the plan's configuration, a real change is
    // explained against the configuration the master was launched with.
    state.applied = Some(recorded);
    let mut bigger = d.clone();
    bigger.master.task.mem = ByteSize::from_mb(2048);
    let plan = plan_of(&bigger, &live, Some(&state));
    assert_eq!(plan.changes[0].reasons, ["mem: 1GB -> 2GB"], "{plan:#?}");
}

#[test]
fn master_moving_host_replaces_workers_when_zookeeper_is_off() {
    let d = desired();
    let mut l = converged(&d);
    // The master's agent went inactive and the master is pinned elsewhere.
    let mut pinned = d.clone();
    pinned.master.hostname = Some("a2".into());
    let fw = l.framework.as_mut().unwrap();
    fw.tasks.retain(|t| t.id != "m0");
    let a1 = l.agents.iter_mut().find(|a| a.hostname == "a1").unwrap();
    a1.free.cpus += 1.0;
    a1.free.mem_mb += 1024.0;
    a1.free.ports = a1.free.ports.union(&"[19998-19999]".parse().unwrap());
    let plan = plan_of(&pinned, &l, None);
    assert_eq!(plan.changes[0].action.agent().hostname, "a2");
    let replaced: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.action.name() == "replace")
        .collect();
    assert_eq!(replaced.len(), 3, "{plan:#?}");
}

#[test]
fn numbered_workers_prefer_agents_with_most_free_memory() {
    let mut d = desired();
    d.worker.count = WorkerCount::Exactly(2);
    let mut agents: Vec<Agent> = (1..=4)
        .map(|n| agent(n, ALLUXIO_PORTS, 4.0, 16384.0))
        .collect();
    agents[3].free.mem_mb = 30000.0;
    agents[2].free.mem_mb = 20000.0;
    let plan = plan_of(&d, &live(agents, vec![]), None);
    let workers: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.role() == crate::address::Role::Worker)
        .map(|c| c.address.to_string())
        .collect();
    assert_eq!(workers, ["worker[\"a3\"]", "worker[\"a4\"]"]);
}

#[test]
fn excess_workers_are_killed_when_the_count_drops() {
    let mut d = desired();
    let l = converged(&d);
    d.worker.count = WorkerCount::Exactly(1);
    // Hashes are unchanged by the count.
    let plan = plan_of(&d, &l, None);
    let s = plan.summary();
    assert_eq!((s.launch, s.replace, s.kill), (0, 0, 2), "{plan:#?}");
}

#[test]
fn inactive_agents_are_listed_but_not_counted_as_unplaceable() {
    let d = desired();
    let mut agents: Vec<Agent> = (1..=3)
        .map(|n| agent(n, ALLUXIO_PORTS, 4.0, 16384.0))
        .collect();
    agents[2].active = false;
    let plan = plan_of(&d, &live(agents, vec![]), None);
    assert_eq!(plan.summary().unplaceable, 0);
    assert_eq!(
        plan.placement_failures[0].agents[0].reasons,
        ["agent is inactive"]
    );
}

#[test]
fn destroy_kills_every_task() {
    let d = desired();
    let plan = make_plan(
        &d,
        &converged(&d),
        None,
        &PlanOptions {
            destroy: true,
            ..Default::default()
        },
    );
    assert_eq!(plan.summary().kill, 4);
    assert!(plan.changes.iter().all(|c| c.action.name() == "kill"));
    assert_eq!(plan.config_diff, "", "nothing is applied: no config diff");
}

#[test]
fn targets_restrict_the_plan_to_them_and_the_master_their_workers_need() {
    let d = desired();
    let agents: Vec<Agent> = (1..=3)
        .map(|n| agent(n, ALLUXIO_PORTS, 4.0, 16384.0))
        .collect();
    let opts = PlanOptions {
        targets: vec![Address::Worker("a2".into())],
        ..Default::default()
    };
    let plan = make_plan(&d, &live(agents, vec![]), None, &opts);
    let addresses: Vec<String> = plan.changes.iter().map(|c| c.address.to_string()).collect();
    // ZooKeeper off: the worker is started with master[0]'s hostname.
    assert_eq!(addresses, ["master[0]", "worker[\"a2\"]"]);
    let t = plan.targeting.as_ref().expect("a targeted plan says so");
    assert_eq!(t.needed, [Address::Master(0)]);
    assert_eq!(t.left_out, 2, "the two other workers");
    assert!(plan.warnings[0].starts_with("targeting is in effect"));
    assert!(plan.differs());
}

#[test]
fn a_targeted_plan_still_judges_the_whole_deployment() {
    let d = desired();
    let mut l = converged(&d);
    let tasks = &mut l.framework.as_mut().unwrap().tasks;
    tasks.retain(|t| t.id != "w-a3");
    let opts = PlanOptions {
        targets: vec![Address::Worker("a1".into())],
        ..Default::default()
    };
    let plan = make_plan(&d, &l, None, &opts);
    assert!(!plan.has_changes(), "the target is unchanged: {plan:#?}");
    assert!(
        plan.differs(),
        "worker[\"a3\"] outside the target is missing"
    );
}

#[test]
fn tasks_left_out_by_targets_keep_their_configuration_in_the_state() {
    let d = desired();
    let before = applied_state(&d);
    let mut changed = desired();
    changed
        .site
        .insert("alluxio.underfs.address", "/tmp/elsewhere");
    let opts = PlanOptions {
        targets: vec![Address::Worker("a1".into())],
        ..Default::default()
    };
    let plan = make_plan(&changed, &converged(&d), Some(&before), &opts);
    let applied = plan.applied.as_ref().unwrap();
    let (_, wh) = hashes(&d, "a1");
    assert_eq!(
        applied.launched.get(&wh),
        Some(&before.applied.as_ref().unwrap().worker),
        "the left-out workers' label is still explained"
    );
}

#[test]
fn replace_requested_replaces_an_unchanged_task_only() {
    let d = desired();
    let opts = PlanOptions {
        replace: vec![Address::Worker("a2".into())],
        ..Default::default()
    };
    let plan = make_plan(&d, &converged(&d), None, &opts);
    assert_eq!(plan.summary().replace, 1, "{plan:#?}");
    let c = plan
        .changes
        .iter()
        .find(|c| c.action.name() == "replace")
        .unwrap();
    assert_eq!(c.address, Address::Worker("a2".into()));
    assert_eq!(c.reasons, [crate::plan::REPLACEMENT_REQUESTED]);
}

#[test]
fn a_canary_secret_never_appears_in_any_rendering() {
    const CANARY: &str = "CANARY-s3cr3t-7f1d";
    let mut d = desired();
    d.site.insert("fs.s3a.secretKey", CANARY);
    d.site.insert("alluxio.integration.mesos.secret", CANARY);
    let agents: Vec<Agent> = (1..=3)
        .map(|n| agent(n, ALLUXIO_PORTS, 4.0, 16384.0))
        .collect();
    let plan = plan_of(&d, &live(agents, vec![]), None);
    for f in [Format::Text, Format::Markdown, Format::Json] {
        let out = render(&plan, f, &Default::default());
        assert!(!out.contains(CANARY), "{f:?} leaks the secret");
        assert!(out.contains("<redacted>"), "{f:?} shows the redaction");
    }
    let html = render(&plan, Format::Html, &Default::default());
    assert!(!html.contains(CANARY), "the HTML report leaks the secret");
    assert!(
        html.contains("&lt;redacted&gt;"),
        "the HTML report shows the redaction"
    );
    assert!(!format!("{plan:?}").contains(CANARY));
    assert!(!serde_json::to_string(&plan).unwrap().contains(CANARY));
}

fn arb_agents() -> impl Strategy<Value = Vec<Agent>> {
    proptest::collection::vec(
        (0.0f64..6.0, 0.0f64..20000.0, any::<bool>(), any::<bool>()),
        0..12,
    )
    .prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (cpus, mem, ports, active))| {
                let mut a = agent(
                    i as u32,
                    if ports {
                        ALLUXIO_PORTS
                    } else {
                        "[31000-32000]"
                    },
                    cpus,
                    mem,
                );
                a.active = active;
                a
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn plans_are_deterministic_and_never_overcommit(agents in arb_agents(), reverse in any::<bool>()) {
        let d = desired();
        let mut shuffled = agents.clone();
        if reverse { shuffled.reverse(); }
        let a = plan_of(&d, &live(agents.clone(), vec![]), None);
        let b = plan_of(&d, &live(shuffled, vec![]), None);
        prop_assert_eq!(render(&a, Format::Json, &Default::default()), render(&b, Format::Json, &Default::default()));

        let mut workers_per_agent: BTreeMap<String, u32> = BTreeMap::new();
        let mut used: BTreeMap<String, (f64, f64)> = BTreeMap::new();
        for c in &a.changes {
            if let Some((agent, spec)) = c.action.after() {
                if c.role() == crate::address::Role::Worker {
                    *workers_per_agent.entry(agent.id.clone()).or_default() += 1;
                }
                let u = used.entry(agent.id.clone()).or_default();
                u.0 += spec.cpus;
                u.1 += spec.mem_mb();
            }
        }
        prop_assert!(workers_per_agent.values().all(|&n| n <= 1));
        for ag in &agents {
            if let Some((cpus, mem)) = used.get(&ag.id) {
                prop_assert!(ag.active);
                prop_assert!(*cpus <= ag.free.cpus + 1e-6);
                prop_assert!(*mem <= ag.free.mem_mb + 1e-6);
            }
        }
    }
}

/// Three running masters (on a1..a3) whose configuration changed.
fn three_masters_replaced() -> Plan {
    let mut d = desired();
    d.master.count = 3;
    let agents: Vec<Agent> = (1..=4)
        .map(|n| agent(n, ALLUXIO_PORTS, 8.0, 32768.0))
        .collect();
    let tasks = (0..3)
        .map(|i| {
            running(
                &format!("m{i}"),
                &format!("master[{i}]"),
                &agents[i],
                "old",
                1.0,
                1024.0,
                "[19998-19999]",
            )
        })
        .collect();
    plan_of(&d, &live(agents, tasks), None)
}

fn known_leader(host: &str, port: u16) -> model::LeaderKnowledge {
    model::LeaderKnowledge::Known {
        host: host.into(),
        port,
        zookeeper: "zk://zk:2181/leader".into(),
    }
}

#[test]
fn the_alluxio_leader_is_replaced_after_the_standbys() {
    let mut plan = three_masters_replaced();
    assert_eq!(plan.running_masters_replaced(), 3);
    assert_eq!(
        plan.rollout.master_order,
        [Address::Master(0), Address::Master(1), Address::Master(2)]
    );
    plan.replace_leader_last(&known_leader("A2", 19998));
    assert_eq!(
        plan.rollout.master_order,
        [Address::Master(0), Address::Master(2), Address::Master(1)]
    );
    assert_eq!(
        plan.rollout.leader.as_deref(),
        Some("Alluxio leader: master[1] (A2:19998, from ZooKeeper zk://zk:2181/leader): replaced last")
    );
    assert!(render(&plan, Format::Text, &Default::default())
        .contains("masters one at a time, in this order: master[0], master[2], master[1]"));
}

#[test]
fn a_leader_that_is_not_a_replaced_master_keeps_index_order() {
    for (host, port) in [("elsewhere", 19998), ("a1", 20000)] {
        let mut plan = three_masters_replaced();
        plan.replace_leader_last(&known_leader(host, port));
        assert_eq!(
            plan.rollout.master_order,
            [Address::Master(0), Address::Master(1), Address::Master(2)],
            "{host}:{port}"
        );
        assert!(plan
            .rollout
            .leader
            .as_deref()
            .is_some_and(|l| l.contains("is none of the running masters being replaced")));
    }
    let mut plan = three_masters_replaced();
    plan.replace_leader_last(&model::LeaderKnowledge::Unknown {
        why: "no leader path".into(),
    });
    assert_eq!(
        plan.rollout.leader.as_deref(),
        Some("Alluxio leader unknown (no leader path): masters are replaced in index order")
    );
}

#[test]
fn the_old_tasks_own_port_identifies_the_leader_when_the_rpc_port_changes() {
    let mut plan = three_masters_replaced();
    plan.master_ports.rpc = 20998;
    plan.replace_leader_last(&known_leader("a3", 19998));
    assert_eq!(plan.rollout.master_order.last(), Some(&Address::Master(2)));
}

#[test]
fn one_running_master_asks_for_no_order() {
    let mut plan = three_masters_replaced();
    plan.changes
        .retain(|c| c.address != Address::Master(1) && c.address != Address::Master(2));
    plan.replace_leader_last(&known_leader("a1", 19998));
    assert_eq!(plan.rollout.leader, None);
}

#[test]
fn a_plan_carries_the_launch_template_of_every_configuration_it_launches() {
    let d = desired();
    let agents: Vec<Agent> = (1..=2)
        .map(|n| agent(n, ALLUXIO_PORTS, 8.0, 32768.0))
        .collect();
    let plan = plan_of(&d, &live(agents, vec![]), None);
    for c in &plan.changes {
        let (_, spec) = c.action.after().unwrap();
        let t = &plan.launch_templates[&spec.config_hash];
        assert_eq!(t.role, c.role());
        assert_eq!(t.ports, spec.ports);
    }
    assert_eq!(plan.launch_templates.len(), 2);
}

#[test]
fn workers_without_zookeeper_or_a_placed_master_are_unplaceable() {
    let d = desired();
    // Room for workers only: no agent holds the master ports.
    let agents: Vec<Agent> = (1..=2)
        .map(|n| agent(n, "[29998-30000]", 8.0, 32768.0))
        .collect();
    let plan = plan_of(&d, &live(agents, vec![]), None);
    assert!(plan.changes.is_empty(), "{:?}", plan.changes);
    let f = plan
        .placement_failures
        .iter()
        .find(|f| f.summary.starts_with("2 worker(s) cannot be launched"))
        .unwrap();
    assert!(f.summary.contains("no master is placed"), "{}", f.summary);
    assert_eq!(plan.summary().unplaceable, 3);
}

/// Three agents whose Alluxio ports an AlluxioFramework holds: its master
/// on a1, a worker on each.
fn held_by_alluxio_framework() -> LiveCluster {
    let mut agents: Vec<Agent> = (1..=3)
        .map(|n| agent(n, ALLUXIO_PORTS, 4.0, 16384.0))
        .collect();
    let mut tasks = Vec::new();
    let mut hold = |a: &mut Agent, id: &str, name: &str, ports: &str| {
        let mut t = running(id, "", a, "", 1.0, 1024.0, ports);
        t.name = name.into();
        t.labels.clear();
        a.free.cpus -= 1.0;
        a.free.mem_mb -= 1024.0;
        a.free.ports = a.free.ports.subtract(&ports.parse().unwrap());
        tasks.push(t);
    };
    hold(&mut agents[0], "0", "AlluxioMaster", "[19998-19999]");
    for (i, a) in agents.iter_mut().enumerate() {
        hold(a, &(i + 1).to_string(), "AlluxioWorker", "[29998-30000]");
    }
    LiveCluster {
        framework: None,
        predecessor: Some(LiveFramework {
            id: "OLD".into(),
            name: "alluxio".into(),
            active: true,
            removed: false,
            tasks,
        }),
        ..live(agents, vec![])
    }
}

#[test]
fn a_takeover_places_the_deployment_on_the_ports_it_frees() {
    let d = desired();
    let l = held_by_alluxio_framework();
    let plan = plan_of(&d, &l, None);
    let t = plan.takeover.as_ref().expect("the takeover is planned");
    assert_eq!(t.framework_id, "OLD");
    assert_eq!(t.tasks.len(), 4);
    let s = plan.summary();
    assert_eq!((s.launch, s.unplaceable), (4, 0), "{plan:#?}");
    assert!(render(&plan, Format::Text, &Default::default())
        .contains("Plan: take over AlluxioFramework \"alluxio\" (4 task(s) stop), 4 to launch"));
    // Limited with --target, nothing is taken over: the master goes where
    // the old one holds no ports.
    let opts = PlanOptions {
        targets: vec![Address::Master(0)],
        ..Default::default()
    };
    let targeted = make_plan(&d, &l, None, &opts);
    assert!(targeted.takeover.is_none());
    let master = &targeted.changes[0];
    assert_ne!(master.action.agent().hostname, "a1", "{targeted:#?}");
    assert!(targeted
        .warnings
        .iter()
        .any(|w| w.contains("takes nothing over")));
}
