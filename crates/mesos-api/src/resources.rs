//! Resource arithmetic over `Vec<Resource>`: building the usual resources
//! (cpus, mem, disk, ports), summing scalars, collecting port ranges and
//! converting between [`PortRanges`] and the wire `Ranges`.

use crate::v1::{Range, Ranges, ReservationInfo, ReservationType, Resource, Scalar, ValueType};
use crate::PortRanges;

impl From<&PortRanges> for Ranges {
    fn from(p: &PortRanges) -> Self {
        Ranges {
            range: p
                .ranges()
                .iter()
                .map(|&(begin, end)| Range { begin, end })
                .collect(),
        }
    }
}

impl From<&Ranges> for PortRanges {
    fn from(r: &Ranges) -> Self {
        PortRanges::from_ranges(r.range.iter().map(|x| (x.begin, x.end)))
    }
}

impl Resource {
    /// An unreserved scalar resource such as `cpus`.
    pub fn scalar(name: impl Into<String>, value: f64) -> Self {
        Resource {
            name: name.into(),
            kind: ValueType::Scalar,
            scalar: Some(Scalar { value }),
            ranges: None,
            set: None,
            role: None,
            allocation_info: None,
            reservation: None,
            reservations: Vec::new(),
            provider_id: None,
            disk: None,
            revocable: None,
            shared: None,
        }
    }

    /// An unreserved ranges resource such as `ports`.
    pub fn ranges(name: impl Into<String>, ranges: &PortRanges) -> Self {
        Resource {
            kind: ValueType::Ranges,
            scalar: None,
            ranges: Some(ranges.into()),
            ..Resource::scalar(name, 0.0)
        }
    }

    pub fn cpus(value: f64) -> Self {
        Resource::scalar("cpus", value)
    }

    /// Memory in MB, as Mesos counts it.
    pub fn mem(megabytes: f64) -> Self {
        Resource::scalar("mem", megabytes)
    }

    /// Disk in MB.
    pub fn disk(megabytes: f64) -> Self {
        Resource::scalar("disk", megabytes)
    }

    pub fn ports(ports: &PortRanges) -> Self {
        Resource::ranges("ports", ports)
    }

    /// The same resource statically reserved to `role` (refined form plus
    /// the deprecated `role` field, as a 1.x master writes it).
    pub fn reserved_to(mut self, role: impl Into<String>) -> Self {
        let role = role.into();
        self.role = Some(role.clone());
        self.reservations = vec![ReservationInfo {
            kind: Some(ReservationType::Static),
            role: Some(role),
            principal: None,
            labels: None,
        }];
        self
    }

    /// The role this resource is reserved to, or `None` when unreserved.
    pub fn reserved_role(&self) -> Option<&str> {
        if let Some(r) = self.reservations.last() {
            return r.role.as_deref();
        }
        match self.role.as_deref() {
            Some("*") | None => None,
            Some(r) => Some(r),
        }
    }

    /// The scalar value, 0 for non-scalars.
    pub fn scalar_value(&self) -> f64 {
        self.scalar.map(|s| s.value).unwrap_or(0.0)
    }

    /// The ranges as a normalised set, empty for non-ranges.
    pub fn port_ranges(&self) -> PortRanges {
        self.ranges
            .as_ref()
            .map(PortRanges::from)
            .unwrap_or_default()
    }
}

/// The sum of the scalar resources called `name`.
pub fn scalar_sum(resources: &[Resource], name: &str) -> f64 {
    resources
        .iter()
        .filter(|r| r.name == name && r.kind == ValueType::Scalar)
        .map(Resource::scalar_value)
        .sum()
}

/// The union of the ranges resources called `name`.
pub fn ranges_union(resources: &[Resource], name: &str) -> PortRanges {
    resources
        .iter()
        .filter(|r| r.name == name && r.kind == ValueType::Ranges)
        .fold(PortRanges::new(), |acc, r| acc.union(&r.port_ranges()))
}

/// Port ranges serialise as the old endpoints' string, `"[31000-32000]"`.
impl serde::Serialize for PortRanges {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for PortRanges {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// cpus, mem, disk and ports: the resources Alluxio tasks use, summed.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ResourceSummary {
    pub cpus: f64,
    /// MB.
    pub mem: f64,
    /// MB.
    pub disk: f64,
    pub ports: PortRanges,
}

impl ResourceSummary {
    /// Sums the resources (any role).
    pub fn of(resources: &[Resource]) -> Self {
        ResourceSummary {
            cpus: scalar_sum(resources, "cpus"),
            mem: scalar_sum(resources, "mem"),
            disk: scalar_sum(resources, "disk"),
            ports: ranges_union(resources, "ports"),
        }
    }

    /// Unreserved resources for the non-zero parts, in Mesos's order.
    pub fn to_resources(&self) -> Vec<Resource> {
        let mut out = Vec::new();
        for (name, v) in [("cpus", self.cpus), ("mem", self.mem), ("disk", self.disk)] {
            if v > 0.0 {
                out.push(Resource::scalar(name, v));
            }
        }
        if !self.ports.is_empty() {
            out.push(Resource::ports(&self.ports));
        }
        out
    }

    /// Whether `need` fits in `self` (scalars compared with Mesos's
    /// three-decimal fixed point so that 0.1 + 0.2 fits in 0.3).
    pub fn contains(&self, need: &ResourceSummary) -> bool {
        fixed(need.cpus) <= fixed(self.cpus)
            && fixed(need.mem) <= fixed(self.mem)
            && fixed(need.disk) <= fixed(self.disk)
            && self.ports.contains_all(&need.ports)
    }

    /// `self - other`, scalars clamped at zero.
    pub fn minus(&self, other: &ResourceSummary) -> ResourceSummary {
        let sub = |a: f64, b: f64| unfixed((fixed(a) - fixed(b)).max(0));
        ResourceSummary {
            cpus: sub(self.cpus, other.cpus),
            mem: sub(self.mem, other.mem),
            disk: sub(self.disk, other.disk),
            ports: self.ports.subtract(&other.ports),
        }
    }

    pub fn plus(&self, other: &ResourceSummary) -> ResourceSummary {
        let add = |a: f64, b: f64| unfixed(fixed(a) + fixed(b));
        ResourceSummary {
            cpus: add(self.cpus, other.cpus),
            mem: add(self.mem, other.mem),
            disk: add(self.disk, other.disk),
            ports: self.ports.union(&other.ports),
        }
    }

    pub fn is_empty(&self) -> bool {
        fixed(self.cpus) == 0
            && fixed(self.mem) == 0
            && fixed(self.disk) == 0
            && self.ports.is_empty()
    }
}

/// Mesos keeps scalars as fixed point with three decimals (`Value::Scalar`
/// arithmetic in `values.cpp`).
fn fixed(v: f64) -> i64 {
    (v * 1000.0).round() as i64
}

fn unfixed(v: i64) -> f64 {
    v as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_ranges_convert_both_ways() {
        let p: PortRanges = "[31000-32000, 19998-19999]".parse().unwrap();
        let r = Ranges::from(&p);
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"range":[{"begin":19998,"end":19999},{"begin":31000,"end":32000}]}"#
        );
        assert_eq!(PortRanges::from(&r), p);
    }

    #[test]
    fn summary_sums_scalars_and_unions_ports() {
        let rs = vec![
            Resource::cpus(1.5),
            Resource::cpus(0.5).reserved_to("alluxio"),
            Resource::mem(1024.0),
            Resource::ports(&"[31000-31001]".parse().unwrap()),
            Resource::ports(&"[19998-19999]".parse().unwrap()),
        ];
        let s = ResourceSummary::of(&rs);
        assert_eq!(s.cpus, 2.0);
        assert_eq!(s.mem, 1024.0);
        assert_eq!(s.disk, 0.0);
        assert_eq!(s.ports.to_string(), "[19998-19999, 31000-31001]");
        assert_eq!(rs[1].reserved_role(), Some("alluxio"));
        assert_eq!(rs[0].reserved_role(), None);
    }

    #[test]
    fn fixed_point_comparison_accepts_float_noise() {
        let have = ResourceSummary {
            cpus: 0.3,
            ..Default::default()
        };
        let need = ResourceSummary {
            cpus: 0.1 + 0.2,
            ..Default::default()
        };
        assert!(have.contains(&need));
        assert!(have.minus(&need).is_empty());
        let too_much = ResourceSummary {
            cpus: 0.301,
            ..Default::default()
        };
        assert!(!have.contains(&too_much));
    }

    #[test]
    fn summary_round_trips_through_resources() {
        let s = ResourceSummary {
            cpus: 4.0,
            mem: 8192.0,
            disk: 0.0,
            ports: "[31000-32000]".parse().unwrap(),
        };
        let rs = s.to_resources();
        assert_eq!(rs.len(), 3);
        assert_eq!(ResourceSummary::of(&rs), s);
    }
}
