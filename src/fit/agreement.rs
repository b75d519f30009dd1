//! The planner and apply agree on fit: every launch the plan places is
//! accepted by apply's launch for an offer equal to the agent's free
//! resources, and every agent the plan refuses for lack of resources is
//! refused by apply too. Both sides call [`crate::fit`]; this proves that
//! nothing on the way (executor shares, rounding, ports) bends the rule.

use crate::address::Role;
use crate::desired::size::ByteSize;
use crate::desired::Desired;
use crate::launch::{self, tests::ctx};
use crate::live::Agent;
use crate::plan::tests::{agent, desired, live};
use crate::plan::{make_plan, task_spec, Action, PlanOptions};
use mesos_api::{AgentId, PortRanges, Resource, TaskInfo};
use proptest::prelude::*;

/// An offer of everything `agent` has free.
fn offer_of(agent: &Agent) -> Vec<Resource> {
    vec![
        Resource::cpus(agent.free.cpus),
        Resource::mem(agent.free.mem_mb),
        Resource::ports(&agent.free.ports),
    ]
}

/// The offer left after `info` (task and executor) took its resources.
fn minus(offer: &[Resource], info: &TaskInfo) -> Vec<Resource> {
    let mut taken = info.resources.clone();
    if let Some(e) = &info.executor {
        taken.extend(e.resources.iter().cloned());
    }
    let sum = |rs: &[Resource], name: &str| -> i64 {
        rs.iter()
            .filter(|r| r.name == name)
            .map(|r| super::to_milli(r.scalar_value()))
            .sum()
    };
    let ports = |rs: &[Resource]| {
        rs.iter()
            .filter(|r| r.name == "ports")
            .fold(PortRanges::new(), |a, r| a.union(&r.port_ranges()))
    };
    vec![
        Resource::cpus(super::from_milli(sum(offer, "cpus") - sum(&taken, "cpus"))),
        Resource::mem(super::from_milli(sum(offer, "mem") - sum(&taken, "mem"))),
        Resource::ports(&ports(offer).subtract(&ports(&taken))),
    ]
}

fn resource_reasons_only(reasons: &[String]) -> bool {
    reasons.iter().all(|r| {
        r.starts_with("cpus:")
            || r.starts_with("mem:")
            || r.starts_with("port ")
            || r.starts_with("ports ")
    })
}

fn arb_agents() -> impl Strategy<Value = Vec<Agent>> {
    let ports = prop_oneof![
        Just("[19998-19999, 29998-30000, 31000-32000]"),
        Just("[29998-30000]"),
        Just("[19998-19999, 29999-30000]"),
        Just("[31000-32000]"),
    ];
    // Thousandths, as Mesos keeps scalars, around the tight spots.
    proptest::collection::vec((0u32..4500, 0u32..12_000, ports), 1..8).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (cpus, mem, ports))| {
                agent(i as u32, ports, f64::from(cpus) / 1000.0, f64::from(mem))
            })
            .collect()
    })
}

fn arb_desired() -> impl Strategy<Value = Desired> {
    (
        (1u32..2500, 64u64..4096, any::<bool>()),
        (1u32..2500, 64u64..4096, 0u64..4096, any::<bool>()),
    )
        .prop_map(|((mc, mm, m_cmd), (wc, wm, wr, w_cmd))| {
            let mut d = desired();
            d.master.task.cpus = f64::from(mc) / 1000.0;
            d.master.task.mem = ByteSize::from_mb(mm);
            d.master.task.command = m_cmd.then(|| "sleep 1000".to_string());
            d.worker.task.cpus = f64::from(wc) / 1000.0;
            d.worker.task.mem = ByteSize::from_mb(wm);
            d.worker.ramdisk = ByteSize::from_mb(wr);
            d.worker.task.command = w_cmd.then(|| "sleep 1000".to_string());
            d
        })
}

proptest! {
    #[test]
    fn apply_accepts_every_placement_and_refuses_every_refusal(
        agents in arb_agents(),
        d in arb_desired(),
    ) {
        let plan = make_plan(&d, &live(agents.clone(), vec![]), None, &PlanOptions::default());
        let ctx = ctx(&d);
        // What is left of each agent's offer after the plan's launches there
        // (masters first, as the plan places them).
        let mut offers: std::collections::BTreeMap<String, Vec<Resource>> =
            agents.iter().map(|a| (a.id.clone(), offer_of(a))).collect();
        let mut launched_master_on = std::collections::BTreeSet::new();
        for role in [Role::Master, Role::Worker] {
            for c in plan.changes.iter().filter(|c| c.role() == role) {
                let Action::Launch { agent, after } = &c.action else { continue };
                let mut o = launch::tests::offer(offers[&agent.id].clone());
                o.agent_id = AgentId::new(agent.id.clone());
                let info = launch::task_info(&ctx, &c.address, after, "t-1", &o);
                prop_assert!(info.is_ok(), "{} planned on {} but apply refuses: {:?}", c.address, agent.hostname, info.err());
                let rest = minus(&offers[&agent.id], &info.unwrap());
                offers.insert(agent.id.clone(), rest);
                if role == Role::Master {
                    launched_master_on.insert(agent.id.clone());
                }
            }
        }
        for f in &plan.placement_failures {
            let spec = task_spec(&d, f.role, String::new());
            let address = f.address.clone().unwrap_or(crate::address::Address::Worker("x".into()));
            for r in f.agents.iter().filter(|r| resource_reasons_only(&r.reasons)) {
                // The offer apply would get: the agent's free resources,
                // less a master the plan put there before the workers.
                let base = agents.iter().find(|a| a.id == r.agent.id).map(offer_of).unwrap();
                let left = if f.role == Role::Worker && launched_master_on.contains(&r.agent.id) {
                    offers[&r.agent.id].clone()
                } else {
                    base
                };
                let o = launch::tests::offer(left);
                let info = launch::task_info(&ctx, &address, &spec, "t-2", &o);
                prop_assert!(
                    matches!(info, Err(launch::LaunchError::Shortfall(_))),
                    "{} refused on {} ({:?}) but apply accepts", f.summary, r.agent.hostname, r.reasons
                );
            }
        }
    }
}
