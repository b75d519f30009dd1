//! Whether a task fits: the one rule that both the planner (against an
//! agent's free resources) and apply (against an offer) use, so that a
//! task the plan places is a task apply can launch, and a task the plan
//! refuses is one apply would refuse too.
//!
//! The rule, as the Mesos master validates a LAUNCH:
//! - scalars are counted in thousandths (Mesos's fixed-point `Value::Scalar`
//!   arithmetic), so no float drift decides a tight fit;
//! - a task started by the default launcher also holds its executor's share
//!   ([`EXECUTOR_CPUS`], [`EXECUTOR_MEM_MB`]); a command task does not;
//! - every wanted port must be in the agent's (or offer's) ranges.
//!
//! [`carve`] splits an offer's resources along the same rule. Attribute
//! values are compared as text, rendered by [`attribute_text`] wherever
//! they come from. The formatting helpers say amounts the way Mesos keeps
//! them.

#[cfg(test)]
mod agreement;
mod carve;

pub use carve::{carve, carve_task};

use mesos_api::{PortRanges, Resource, ValueType};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What the executor of the default launcher reserves for itself (the
/// figures AlluxioFramework used; Mesos asks for at least 0.01 cpus and 32 MB).
pub const EXECUTOR_CPUS: f64 = 0.1;
pub const EXECUTOR_MEM_MB: f64 = 32.0;

/// The executor's share of a task started by the default launcher.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ExecutorShare {
    pub cpus: f64,
    pub mem_mb: f64,
}

impl ExecutorShare {
    /// The share of the default launcher's executor.
    pub const DEFAULT: ExecutorShare = ExecutorShare {
        cpus: EXECUTOR_CPUS,
        mem_mb: EXECUTOR_MEM_MB,
    };
}

/// What one task needs from one agent, its executor included.
#[derive(Debug, Clone, PartialEq)]
pub struct Demand {
    pub cpus: f64,
    pub jvm_mem_mb: f64,
    pub ramdisk_mb: f64,
    /// Exactly these ports.
    pub ports: Vec<u16>,
    pub executor: Option<ExecutorShare>,
}

impl Demand {
    fn cpus_milli(&self) -> i64 {
        to_milli(self.cpus) + self.executor.map_or(0, |e| to_milli(e.cpus))
    }

    fn mem_milli(&self) -> i64 {
        to_milli(self.jvm_mem_mb)
            + to_milli(self.ramdisk_mb)
            + self.executor.map_or(0, |e| to_milli(e.mem_mb))
    }

    pub fn port_set(&self) -> PortRanges {
        PortRanges::from_ports(self.ports.iter().map(|&p| u64::from(p)))
    }

    /// `1.1 (1 + 0.1 executor)`, or `1` without an executor.
    fn cpus_text(&self) -> String {
        match self.executor {
            Some(e) => format!(
                "{} ({} + {} executor)",
                fmt_milli(self.cpus_milli()),
                fmt_num(self.cpus),
                fmt_num(e.cpus)
            ),
            None => fmt_num(self.cpus),
        }
    }

    /// `2080MB (1024MB JVM + 1024MB ramdisk + 32MB executor)`.
    fn mem_text(&self) -> String {
        let mut parts = vec![format!("{}MB JVM", fmt_num(self.jvm_mem_mb))];
        if self.ramdisk_mb > 0.0 {
            parts.push(format!("{}MB ramdisk", fmt_num(self.ramdisk_mb)));
        }
        if let Some(e) = self.executor {
            parts.push(format!("{}MB executor", fmt_num(e.mem_mb)));
        }
        if parts.len() == 1 {
            format!("{}MB", fmt_num(self.jvm_mem_mb))
        } else {
            format!("{}MB ({})", fmt_milli(self.mem_milli()), parts.join(" + "))
        }
    }
}

/// Where the resources a task is fitted into come from; it only changes
/// how a shortfall is worded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// An agent's free resources, as the plan counts them.
    Agent,
    /// A Mesos offer.
    Offer,
}

/// What is available to us on one agent, counted as Mesos counts it.
#[derive(Debug, Clone, PartialEq)]
pub struct Available {
    holder: Holder,
    cpus_milli: i64,
    mem_milli: i64,
    /// Ports free to take.
    ports: PortRanges,
    /// Every port the agent has at all: a wanted port outside it is "not
    /// offered" (a remedy is to start the agent with it), inside it "in use".
    all_ports: PortRanges,
}

impl Available {
    /// An agent's free resources.
    pub fn free(cpus: f64, mem_mb: f64, ports: PortRanges, all_ports: PortRanges) -> Self {
        Available {
            holder: Holder::Agent,
            cpus_milli: to_milli(cpus),
            mem_milli: to_milli(mem_mb),
            ports,
            all_ports,
        }
    }

    /// What an offer holds that a long-running task may use.
    pub fn of_offer(resources: &[Resource]) -> Self {
        let scalar = |name: &str| -> i64 {
            resources
                .iter()
                .filter(|r| is_usable(r, name, ValueType::Scalar))
                .map(|r| to_milli(r.scalar_value()).max(0))
                .sum()
        };
        let ports = resources
            .iter()
            .filter(|r| is_usable(r, "ports", ValueType::Ranges))
            .fold(PortRanges::new(), |acc, r| acc.union(&r.port_ranges()));
        Available {
            holder: Holder::Offer,
            cpus_milli: scalar("cpus"),
            mem_milli: scalar("mem"),
            all_ports: ports.clone(),
            ports,
        }
    }

    /// Everything `demand` lacks here; None when it fits.
    pub fn shortfall(&self, demand: &Demand) -> Option<Shortfall> {
        let mut missing = Vec::new();
        if demand.cpus_milli() > self.cpus_milli {
            missing.push(Missing::Cpus {
                needed: demand.cpus_text(),
                available: fmt_milli(self.cpus_milli.max(0)),
            });
        }
        if demand.mem_milli() > self.mem_milli {
            missing.push(Missing::Mem {
                needed: demand.mem_text(),
                available: format!("{}MB", fmt_milli(self.mem_milli.max(0))),
            });
        }
        let wanted = demand.port_set();
        let absent = wanted.subtract(&self.all_ports);
        if !absent.is_empty() {
            missing.push(Missing::PortsAbsent {
                ports: absent,
                present: self.all_ports.clone(),
            });
        }
        let in_use = wanted.intersect(&self.all_ports).subtract(&self.ports);
        if !in_use.is_empty() {
            missing.push(Missing::PortsInUse {
                ports: in_use,
                free: self.ports.clone(),
            });
        }
        (!missing.is_empty()).then_some(Shortfall {
            holder: self.holder,
            missing,
        })
    }

    /// Whether some wanted port is not on the agent at all (so the port
    /// remedies apply).
    pub fn lacks_ports(&self, demand: &Demand) -> bool {
        !self.all_ports.contains_all(&demand.port_set())
    }

    /// Takes `demand` (after it was found to fit).
    pub fn take(&mut self, demand: &Demand) {
        self.cpus_milli -= demand.cpus_milli();
        self.mem_milli -= demand.mem_milli();
        self.ports = self.ports.subtract(&demand.port_set());
    }

    /// Gives back what a task of ours holds (the inverse of [`Self::take`]).
    pub fn take_back(&mut self, demand: &Demand) {
        self.cpus_milli += demand.cpus_milli();
        self.mem_milli += demand.mem_milli();
        self.ports = self
            .ports
            .union(&demand.port_set().intersect(&self.all_ports));
    }

    /// Free memory in MB (orders agents by room).
    pub fn mem_mb(&self) -> f64 {
        from_milli(self.mem_milli)
    }
}

/// Whether a resource may be used for a long-running Alluxio process.
/// Revocable resources can be taken back by Mesos at any time, and shared
/// ones are persistent volumes: neither is for cpus, mem or ports here.
fn is_usable(r: &Resource, name: &str, kind: ValueType) -> bool {
    r.name == name && r.kind == kind && r.revocable.is_none() && r.shared.is_none()
}

/// One thing a task lacks.
#[derive(Debug, Clone, PartialEq)]
pub enum Missing {
    Cpus {
        needed: String,
        available: String,
    },
    Mem {
        needed: String,
        available: String,
    },
    /// Ports the agent (or offer) does not have at all.
    PortsAbsent {
        ports: PortRanges,
        present: PortRanges,
    },
    /// Ports the agent has, held by other tasks.
    PortsInUse {
        ports: PortRanges,
        free: PortRanges,
    },
}

/// Why a task does not fit: everything it lacks, in one line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct Shortfall {
    pub holder: Holder,
    pub missing: Vec<Missing>,
}

impl Shortfall {
    /// One line per missing thing.
    pub fn reasons(&self) -> Vec<String> {
        self.causes_and_reasons()
            .into_iter()
            .map(|(_, r)| r)
            .collect()
    }

    /// Per missing thing: its cause (the line without what this agent or
    /// offer has, shared by every agent short of the same thing, by which
    /// plans group agents) and the whole line.
    pub fn causes_and_reasons(&self) -> Vec<(String, String)> {
        self.missing.iter().map(|m| self.describe(m)).collect()
    }

    fn describe(&self, m: &Missing) -> (String, String) {
        let (has, offers) = match self.holder {
            Holder::Agent => ("free", "agent offers"),
            Holder::Offer => ("in the offer", "offer has"),
        };
        let noun = |p: &PortRanges| if p.len() == 1 { "port" } else { "ports" };
        let (cause, particular) = match m {
            Missing::Cpus { needed, available } => (
                format!("cpus: needs {needed}"),
                format!(", {available} {has}"),
            ),
            Missing::Mem { needed, available } => (
                format!("mem: needs {needed}"),
                format!(", {available} {has}"),
            ),
            Missing::PortsAbsent { ports, present } => (
                format!("{} {} not offered", noun(ports), fmt_ranges(ports)),
                format!(" ({offers} {present})"),
            ),
            Missing::PortsInUse { ports, free } => (
                format!("{} {} in use", noun(ports), fmt_ranges(ports)),
                format!(" (free: {free})"),
            ),
        };
        let reason = format!("{cause}{particular}");
        (cause, reason)
    }
}

impl fmt::Display for Shortfall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reasons().join("; "))
    }
}

/// Mesos's fixed-point scalar: thousandths, rounded half away from zero.
pub(crate) fn to_milli(x: f64) -> i64 {
    (x * 1000.0).round() as i64
}

pub(crate) fn from_milli(m: i64) -> f64 {
    m as f64 / 1000.0
}

fn fmt_milli(m: i64) -> String {
    let s = format!("{}", from_milli(m));
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// A resource amount as Mesos keeps it: `1`, `0.5`, three decimals at most.
pub fn fmt_num(x: f64) -> String {
    fmt_milli(to_milli(x))
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

/// A scalar attribute's value as text, for constraints. Mesos keeps scalar
/// attributes as doubles and its versions print `3` or `3.0` for the same
/// value, so an integral value is written without a fraction (`gen:3`
/// matches either); any other value is written exactly, never rounded.
pub fn attribute_text(value: f64) -> String {
    // Below 2^53 every integral double is an exact integer.
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
        (value as i64).to_string()
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worker(executor: bool) -> Demand {
        Demand {
            cpus: 1.0,
            jvm_mem_mb: 1024.0,
            ramdisk_mb: 1024.0,
            ports: vec![29998, 29999, 30000],
            executor: executor.then_some(ExecutorShare::DEFAULT),
        }
    }

    fn free(cpus: f64, mem: f64, ports: &str) -> Available {
        Available::free(cpus, mem, ports.parse().unwrap(), ports.parse().unwrap())
    }

    #[test]
    fn the_executor_share_is_part_of_the_fit() {
        let agent = free(1.0, 2048.0, "[29998-30000]");
        assert_eq!(agent.shortfall(&worker(false)), None);
        let short = agent.shortfall(&worker(true)).unwrap();
        assert_eq!(
            short.reasons(),
            [
                "cpus: needs 1.1 (1 + 0.1 executor), 1 free",
                "mem: needs 2080MB (1024MB JVM + 1024MB ramdisk + 32MB executor), 2048MB free"
            ]
        );
    }

    #[test]
    fn tight_fits_are_decided_in_thousandths_not_floats() {
        // 0.1 + 0.2 is 0.30000000000000004 as doubles: Mesos says it fits.
        let mut d = worker(false);
        d.cpus = 0.1 + 0.2;
        d.ports.clear();
        assert_eq!(free(0.3, 2048.0, "[]").shortfall(&d), None);
        d.cpus = 0.3006;
        assert!(free(0.3, 2048.0, "[]").shortfall(&d).is_some());
    }

    #[test]
    fn ports_not_on_the_agent_differ_from_ports_in_use() {
        let mut agent = Available::free(
            4.0,
            8192.0,
            "[29999-30000]".parse().unwrap(),
            "[29998-30000]".parse().unwrap(),
        );
        assert_eq!(
            agent.shortfall(&worker(true)).unwrap().reasons(),
            ["port 29998 in use (free: [29999-30000])"]
        );
        agent.all_ports = "[29999-30000]".parse().unwrap();
        assert!(agent.lacks_ports(&worker(true)));
        assert_eq!(
            agent.shortfall(&worker(true)).unwrap().reasons(),
            ["port 29998 not offered (agent offers [29999-30000])"]
        );
    }

    #[test]
    fn take_and_give_back_are_inverse() {
        let mut agent = free(2.2, 4160.0, "[29998-30000]");
        let before = agent.clone();
        agent.take(&worker(true));
        assert!(agent.shortfall(&worker(true)).is_some());
        agent.take_back(&worker(true));
        assert_eq!(agent, before);
    }

    #[test]
    fn attribute_values_are_never_rounded() {
        assert_eq!(attribute_text(3.0), "3");
        assert_eq!(attribute_text(1.2345), "1.2345");
        assert_eq!(attribute_text(-2.0), "-2");
    }
}
