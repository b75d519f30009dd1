//! Agent capacity during planning, and why a task does or does not fit.
//!
//! Capacity starts as each agent's free resources and changes as the plan
//! is made: kills and replacements give their task's resources back, so a
//! replaced worker may come back on its own agent; launches take theirs.

use super::model::{AgentRef, ExistingTask, Why};
use crate::desired::constraint::Constraint;
use crate::fit::{Available, Demand};
use crate::live::Agent;
use std::collections::BTreeMap;

/// Why an inactive agent is not eligible; running tasks stay on it.
pub const INACTIVE: &str = "agent is inactive";

/// Rules an agent must meet besides resources.
#[derive(Debug, Clone, Default)]
pub struct Eligibility<'a> {
    pub hostname: Option<&'a str>,
    pub constraints: Option<&'a Constraint>,
}

#[derive(Debug, Clone)]
pub struct Capacity<'a> {
    pub agent: AgentRef,
    pub active: bool,
    /// The live agent's, borrowed: a plan of 10,000 agents copied them all.
    pub attributes: &'a BTreeMap<String, String>,
    /// What is left for our tasks, decided by the fit rule of [`crate::fit`].
    pub available: Available,
    /// Masters and workers of ours that will be on this agent after the plan.
    pub masters: u32,
    pub workers: u32,
}

impl<'a> Capacity<'a> {
    pub fn from_agent(agent: &'a Agent) -> Self {
        Capacity {
            agent: AgentRef {
                id: agent.id.clone(),
                hostname: agent.hostname.clone(),
            },
            active: agent.active,
            attributes: &agent.attributes,
            available: Available::free(
                agent.free.cpus,
                agent.free.mem_mb,
                agent.free.ports.clone(),
                agent.total.ports.clone(),
            ),
            masters: 0,
            workers: 0,
        }
    }

    /// Why the agent is not eligible at all (independent of resources).
    pub fn ineligibility(&self, rules: &Eligibility<'_>) -> Vec<Why> {
        let mut reasons = Vec::new();
        if !self.active {
            reasons.push(Why::general(INACTIVE));
        }
        if let Some(host) = rules.hostname {
            if self.agent.hostname != host {
                reasons.push(Why::general(format!(
                    "hostname is not {host} (pinned by [master] hostname)"
                )));
            }
        }
        if let Some(c) = rules.constraints {
            if !c.matches(self.attributes) {
                let attrs = if self.attributes.is_empty() {
                    "no attributes".to_string()
                } else {
                    self.attributes
                        .iter()
                        .map(|(k, v)| format!("{k}:{v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let cause = format!("constraint `{c}` not met");
                reasons.push(Why {
                    reason: format!("{cause} (agent has {attrs})"),
                    cause,
                });
            }
        }
        reasons
    }

    /// Why `need` does not fit in what is left on the agent.
    pub fn shortfalls(&self, need: &Demand) -> Vec<Why> {
        self.available
            .shortfall(need)
            .map(|s| s.causes_and_reasons())
            .unwrap_or_default()
            .into_iter()
            .map(|(cause, reason)| Why { cause, reason })
            .collect()
    }

    /// Whether ports are the (or a) cause of a rejection: the remedies mention them.
    pub fn lacks_offered_ports(&self, need: &Demand) -> bool {
        self.available.lacks_ports(need)
    }

    pub fn take(&mut self, need: &Demand) {
        self.available.take(need);
    }

    /// Gives back what an existing task of ours holds on this agent.
    pub fn give_back(&mut self, task: &ExistingTask) {
        self.available.take_back(&task.demand());
    }
}

/// Capacity of every agent, by agent ID.
pub fn capacities(agents: &[Agent]) -> BTreeMap<String, Capacity<'_>> {
    agents
        .iter()
        .map(|a| (a.id.clone(), Capacity::from_agent(a)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::Resources;

    fn agent(ports: &str, cpus: f64, mem: f64) -> Agent {
        let r = Resources {
            cpus,
            mem_mb: mem,
            disk_mb: 0.0,
            ports: ports.parse().unwrap(),
        };
        Agent {
            id: "S1".into(),
            hostname: "a1".into(),
            active: true,
            attributes: BTreeMap::new(),
            total: r.clone(),
            free: r,
        }
    }

    fn reasons(whys: Vec<Why>) -> Vec<String> {
        whys.into_iter().map(|w| w.reason).collect()
    }

    fn worker_need() -> Demand {
        Demand {
            cpus: 1.0,
            jvm_mem_mb: 1024.0,
            ramdisk_mb: 4096.0,
            ports: vec![29998, 29999, 30000],
            executor: None,
        }
    }

    #[test]
    fn default_agent_lacks_the_alluxio_ports() {
        let live_1 = agent("[31000-32000]", 4.0, 16384.0);
        let cap = Capacity::from_agent(&live_1);
        assert_eq!(
            reasons(cap.shortfalls(&worker_need())),
            ["ports 29998-30000 not offered (agent offers [31000-32000])"]
        );
        assert!(cap.lacks_offered_ports(&worker_need()));
        // Agents offering other ranges share the cause, by which plans group them.
        let live_2 = agent("[31000-31500]", 4.0, 16384.0);
        let other = Capacity::from_agent(&live_2);
        assert_eq!(
            cap.shortfalls(&worker_need())[0].cause,
            other.shortfalls(&worker_need())[0].cause
        );
    }

    #[test]
    fn memory_shortfall_shows_jvm_and_ramdisk() {
        let live_3 = agent("[29998-30000]", 0.5, 2048.0);
        let cap = Capacity::from_agent(&live_3);
        assert_eq!(
            reasons(cap.shortfalls(&worker_need())),
            [
                "cpus: needs 1, 0.5 free",
                "mem: needs 5120MB (1024MB JVM + 4096MB ramdisk), 2048MB free"
            ]
        );
    }

    #[test]
    fn taking_and_giving_back_restores_capacity() {
        let live_4 = agent("[29998-30000]", 2.0, 8192.0);
        let mut cap = Capacity::from_agent(&live_4);
        cap.take(&worker_need());
        assert_eq!(
            reasons(cap.shortfalls(&worker_need())),
            [
                "mem: needs 5120MB (1024MB JVM + 4096MB ramdisk), 3072MB free",
                "ports 29998-30000 in use (free: [])"
            ]
        );
        let task = ExistingTask {
            task_id: "t".into(),
            agent: cap.agent.clone(),
            state: None,
            cpus: 1.0,
            mem_mb: 5120.0,
            ports: vec![29998, 29999, 30000],
            config_hash: None,
            executor: None,
        };
        cap.give_back(&task);
        assert!(cap.shortfalls(&worker_need()).is_empty());
    }
}
