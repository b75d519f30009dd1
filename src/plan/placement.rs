//! Agent capacity during planning, and why a task does or does not fit.
//!
//! Capacity starts as each agent's free resources and changes as the plan
//! is made: kills and replacements give their task's resources back, so a
//! replaced worker may come back on its own agent; launches take theirs.

use super::model::{AgentRef, ExistingTask};
use crate::desired::constraint::Constraint;
use crate::live::Agent;
use mesos_api::PortRanges;
use std::collections::BTreeMap;

/// What one task needs from an agent.
#[derive(Debug, Clone, PartialEq)]
pub struct Need {
    pub cpus: f64,
    pub jvm_mem_mb: f64,
    pub ramdisk_mb: f64,
    pub ports: Vec<u16>,
}

impl Need {
    fn mem_mb(&self) -> f64 {
        self.jvm_mem_mb + self.ramdisk_mb
    }

    fn port_set(&self) -> PortRanges {
        PortRanges::from_ports(self.ports.iter().map(|&p| u64::from(p)))
    }
}

/// Rules an agent must meet besides resources.
#[derive(Debug, Clone, Default)]
pub struct Eligibility<'a> {
    pub hostname: Option<&'a str>,
    pub constraints: Option<&'a Constraint>,
}

#[derive(Debug, Clone)]
pub struct Capacity {
    pub agent: AgentRef,
    pub active: bool,
    pub attributes: BTreeMap<String, String>,
    /// Every port the agent offers at all (its total port resources).
    pub offered_ports: PortRanges,
    pub cpus: f64,
    pub mem_mb: f64,
    pub ports: PortRanges,
    /// Masters and workers of ours that will be on this agent after the plan.
    pub masters: u32,
    pub workers: u32,
}

/// Tolerance for float resource arithmetic (Mesos itself rounds to 3 decimals).
const EPSILON: f64 = 1e-6;

/// A resource amount as text: `1`, `0.5` (three decimals at most, as Mesos keeps).
pub fn fmt_num(x: f64) -> String {
    let r = (x * 1000.0).round() / 1000.0;
    let s = format!("{r}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// `1024MB`, or `5120MB (1024MB JVM + 4096MB ramdisk)`.
pub fn fmt_mem(jvm_mb: f64, ramdisk_mb: f64) -> String {
    if ramdisk_mb > 0.0 {
        format!(
            "{}MB ({}MB JVM + {}MB ramdisk)",
            fmt_num(jvm_mb + ramdisk_mb),
            fmt_num(jvm_mb),
            fmt_num(ramdisk_mb)
        )
    } else {
        format!("{}MB", fmt_num(jvm_mb))
    }
}

pub fn fmt_ports(ports: &[u16]) -> String {
    fmt_ranges(&PortRanges::from_ports(ports.iter().map(|&p| u64::from(p))))
}

/// `19998-19999,29998`: ranges joined by commas (Mesos's `--resources`
/// syntax), a single port alone.
pub fn fmt_ranges(ranges: &PortRanges) -> String {
    ranges
        .ranges()
        .iter()
        .map(|&(b, e)| {
            if b == e {
                b.to_string()
            } else {
                format!("{b}-{e}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

impl Capacity {
    pub fn from_agent(agent: &Agent) -> Self {
        Capacity {
            agent: AgentRef {
                id: agent.id.clone(),
                hostname: agent.hostname.clone(),
            },
            active: agent.active,
            attributes: agent.attributes.clone(),
            offered_ports: agent.total.ports.clone(),
            cpus: agent.free.cpus,
            mem_mb: agent.free.mem_mb,
            ports: agent.free.ports.clone(),
            masters: 0,
            workers: 0,
        }
    }

    /// Why the agent is not eligible at all (independent of resources).
    pub fn ineligibility(&self, rules: &Eligibility<'_>) -> Vec<String> {
        let mut reasons = Vec::new();
        if !self.active {
            reasons.push("agent is inactive".to_string());
        }
        if let Some(host) = rules.hostname {
            if self.agent.hostname != host {
                reasons.push(format!(
                    "hostname is not {host} (pinned by [master] hostname)"
                ));
            }
        }
        if let Some(c) = rules.constraints {
            if !c.matches(&self.attributes) {
                let attrs = if self.attributes.is_empty() {
                    "no attributes".to_string()
                } else {
                    self.attributes
                        .iter()
                        .map(|(k, v)| format!("{k}:{v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                reasons.push(format!("constraint `{c}` not met (agent has {attrs})"));
            }
        }
        reasons
    }

    /// Why `need` does not fit in what is left on the agent.
    pub fn shortfalls(&self, need: &Need) -> Vec<String> {
        let mut reasons = Vec::new();
        if need.cpus > self.cpus + EPSILON {
            reasons.push(format!(
                "cpus: needs {}, {} free",
                fmt_num(need.cpus),
                fmt_num(self.cpus.max(0.0))
            ));
        }
        if need.mem_mb() > self.mem_mb + EPSILON {
            reasons.push(format!(
                "mem: needs {}, {}MB free",
                fmt_mem(need.jvm_mem_mb, need.ramdisk_mb),
                fmt_num(self.mem_mb.max(0.0))
            ));
        }
        let wanted = need.port_set();
        let not_offered = wanted.subtract(&self.offered_ports);
        if !not_offered.is_empty() {
            reasons.push(format!(
                "ports {} not offered (agent offers {})",
                fmt_ports(&to_u16(&not_offered)),
                self.offered_ports
            ));
        }
        let in_use = wanted.intersect(&self.offered_ports).subtract(&self.ports);
        if !in_use.is_empty() {
            reasons.push(format!(
                "ports {} in use (free: {})",
                fmt_ports(&to_u16(&in_use)),
                self.ports
            ));
        }
        reasons
    }

    /// Whether ports are the (or a) cause of a rejection: the remedies mention them.
    pub fn lacks_offered_ports(&self, need: &Need) -> bool {
        !self.offered_ports.contains_all(&need.port_set())
    }

    pub fn take(&mut self, need: &Need) {
        self.cpus -= need.cpus;
        self.mem_mb -= need.mem_mb();
        self.ports = self.ports.subtract(&need.port_set());
    }

    /// Gives back what an existing task of ours holds on this agent.
    pub fn give_back(&mut self, task: &ExistingTask) {
        self.cpus += task.cpus;
        self.mem_mb += task.mem_mb;
        let ports = PortRanges::from_ports(task.ports.iter().map(|&p| u64::from(p)));
        self.ports = self.ports.union(&ports.intersect(&self.offered_ports));
    }
}

fn to_u16(r: &PortRanges) -> Vec<u16> {
    r.ports().filter_map(|p| u16::try_from(p).ok()).collect()
}

/// Capacity of every agent, by agent ID.
pub fn capacities(agents: &[Agent]) -> BTreeMap<String, Capacity> {
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

    fn worker_need() -> Need {
        Need {
            cpus: 1.0,
            jvm_mem_mb: 1024.0,
            ramdisk_mb: 4096.0,
            ports: vec![29998, 29999, 30000],
        }
    }

    #[test]
    fn default_agent_lacks_the_alluxio_ports() {
        let cap = Capacity::from_agent(&agent("[31000-32000]", 4.0, 16384.0));
        assert_eq!(
            cap.shortfalls(&worker_need()),
            ["ports 29998-30000 not offered (agent offers [31000-32000])"]
        );
        assert!(cap.lacks_offered_ports(&worker_need()));
    }

    #[test]
    fn memory_shortfall_shows_jvm_and_ramdisk() {
        let cap = Capacity::from_agent(&agent("[29998-30000]", 0.5, 2048.0));
        assert_eq!(
            cap.shortfalls(&worker_need()),
            [
                "cpus: needs 1, 0.5 free",
                "mem: needs 5120MB (1024MB JVM + 4096MB ramdisk), 2048MB free"
            ]
        );
    }

    #[test]
    fn taking_and_giving_back_restores_capacity() {
        let mut cap = Capacity::from_agent(&agent("[29998-30000]", 2.0, 8192.0));
        cap.take(&worker_need());
        assert_eq!(
            cap.shortfalls(&worker_need()),
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
        };
        cap.give_back(&task);
        assert!(cap.shortfalls(&worker_need()).is_empty());
    }
}
