//! Resources as state documents write them, and the free-resource
//! arithmetic of an agent.
//!
//! Two spellings exist: the old endpoints summarise resources as a map
//! (`{"cpus":4,"mem":15360.0,"disk":...,"ports":"[31000-32000]"}`) that says
//! nothing about reservations, while v1 documents (and the `*_full` fields
//! of `/master/state` since 1.0) give arrays of `Resource` objects that carry
//! their reservation. [`ResourcesDoc`] keeps that difference so the free
//! computation can use the reservation when it is known.
//!
//! Only `cpus`, `mem`, `disk` and `ports` matter to us; other names, and
//! revocable resources (which only frameworks asking for them may use), are
//! skipped.

use super::values::{Num, Ranges};
use super::Resources;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// One `Resource` of a v1 array, reduced to its quantity and its
/// reservation (`None`: unreserved).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Item {
    pub reserved_for: Option<String>,
    pub amount: Resources,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ResourcesDoc {
    /// The summary map of the old endpoints: no reservation information.
    Summary(Resources),
    /// `Resource` objects, each with its reservation.
    Items(Vec<Item>),
}

impl ResourcesDoc {
    /// Everything, whatever the reservation.
    pub fn total(&self) -> Resources {
        match self {
            ResourcesDoc::Summary(r) => r.clone(),
            ResourcesDoc::Items(items) => sum(items.iter().map(|i| &i.amount)),
        }
    }

    /// The part a framework of `role` may be offered, or `None` when the
    /// document does not say how the resources are reserved.
    pub fn usable_by(&self, role: &str) -> Option<Resources> {
        match self {
            ResourcesDoc::Summary(_) => None,
            ResourcesDoc::Items(items) => Some(sum(items
                .iter()
                .filter(|i| {
                    i.reserved_for
                        .as_deref()
                        .is_none_or(|r| role_may_use(role, r))
                })
                .map(|i| &i.amount))),
        }
    }
}

/// Whether a framework of role `ours` may use resources reserved for
/// `reserved`: the same role, or an ancestor of ours in the role hierarchy
/// (`eng` reservations serve `eng/alluxio`). `*` means unreserved.
pub(crate) fn role_may_use(ours: &str, reserved: &str) -> bool {
    reserved == "*"
        || reserved == ours
        || ours
            .strip_prefix(reserved)
            .is_some_and(|rest| rest.starts_with('/'))
}

pub(crate) fn sum<'a, I: IntoIterator<Item = &'a Resources>>(items: I) -> Resources {
    let mut out = Resources::default();
    for r in items {
        out = add(&out, r);
    }
    out
}

pub(crate) fn add(a: &Resources, b: &Resources) -> Resources {
    Resources {
        cpus: a.cpus + b.cpus,
        mem_mb: a.mem_mb + b.mem_mb,
        disk_mb: a.disk_mb + b.disk_mb,
        ports: a.ports.union(&b.ports),
    }
}

/// `a - b`, never below zero: a document that says more is used than exists
/// (it happens while agents re-register) leaves nothing free, not a debt.
pub(crate) fn subtract(a: &Resources, b: &Resources) -> Resources {
    // Sums of floats such as 0.1 + 0.2 leave dust; round it away.
    let sub = |x: f64, y: f64| {
        let d = ((x - y) * 1e6).round() / 1e6;
        if d > 0.0 {
            d
        } else {
            0.0
        }
    };
    Resources {
        cpus: sub(a.cpus, b.cpus),
        mem_mb: sub(a.mem_mb, b.mem_mb),
        disk_mb: sub(a.disk_mb, b.disk_mb),
        ports: a.ports.subtract(&b.ports),
    }
}

#[derive(serde::Deserialize)]
struct ScalarObj {
    value: Num,
}

#[derive(serde::Deserialize)]
struct ReservationObj {
    #[serde(default)]
    role: Option<String>,
}

/// A v1 `Resource`. The reservation is the last entry of `reservations`
/// (1.4+, "refined" reservations) or the pre-1.4 `role` field.
#[derive(serde::Deserialize)]
struct ResourceObj {
    #[serde(default)]
    name: String,
    #[serde(default)]
    scalar: Option<ScalarObj>,
    #[serde(default)]
    ranges: Option<Ranges>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    reservations: Option<Vec<ReservationObj>>,
    #[serde(default)]
    revocable: Option<IgnoredAny>,
}

impl ResourceObj {
    fn into_item(self) -> Option<Item> {
        if self.revocable.is_some() {
            return None;
        }
        let mut amount = Resources::default();
        let scalar = self.scalar.map(|s| s.value.as_f64()).unwrap_or(0.0);
        match self.name.as_str() {
            "cpus" => amount.cpus = scalar,
            "mem" => amount.mem_mb = scalar,
            "disk" => amount.disk_mb = scalar,
            "ports" => amount.ports = self.ranges.map(|r| r.0).unwrap_or_default(),
            _ => return None,
        }
        let reserved_for = match self.reservations {
            Some(list) if !list.is_empty() => list.into_iter().rev().find_map(|r| r.role),
            _ => self.role.filter(|r| r != "*"),
        };
        Some(Item {
            reserved_for,
            amount,
        })
    }
}

/// A value in the summary map: a number, or the ports string.
enum SummaryValue {
    Scalar(f64),
    Ranges(Ranges),
    Other,
}

impl<'de> Deserialize<'de> for SummaryValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SummaryValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a resource amount: a number or a ranges string")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<SummaryValue, E> {
                Ok(SummaryValue::Scalar(v as f64))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<SummaryValue, E> {
                Ok(SummaryValue::Scalar(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<SummaryValue, E> {
                Ok(SummaryValue::Scalar(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SummaryValue, E> {
                // `ports` and other ranges are strings; a set (`{a,b}`) or
                // anything else under a name we ignore is not an error.
                match v.parse() {
                    Ok(r) => Ok(SummaryValue::Ranges(Ranges(r))),
                    Err(_) => Ok(SummaryValue::Other),
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<SummaryValue, A::Error> {
                Ranges::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(SummaryValue::Ranges)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<SummaryValue, A::Error> {
                IgnoredAny::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                Ok(SummaryValue::Other)
            }
            fn visit_unit<E: de::Error>(self) -> Result<SummaryValue, E> {
                Ok(SummaryValue::Other)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<SummaryValue, E> {
                Ok(SummaryValue::Other)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for ResourcesDoc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ResourcesDoc;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "resources: a map such as {\"cpus\": 4} or an array of Resource objects",
                )
            }
            fn visit_unit<E: de::Error>(self) -> Result<ResourcesDoc, E> {
                Ok(ResourcesDoc::Summary(Resources::default()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ResourcesDoc, A::Error> {
                let mut r = Resources::default();
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    let known = matches!(key.as_ref(), "cpus" | "mem" | "disk" | "ports");
                    if !known {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                    match (key.as_ref(), map.next_value::<SummaryValue>()?) {
                        ("cpus", SummaryValue::Scalar(v)) => r.cpus = v,
                        ("mem", SummaryValue::Scalar(v)) => r.mem_mb = v,
                        ("disk", SummaryValue::Scalar(v)) => r.disk_mb = v,
                        ("ports", SummaryValue::Ranges(p)) => r.ports = p.0,
                        (name, _) => {
                            return Err(de::Error::custom(format!(
                                "resource {} has a value of the wrong type \
                                 (cpus, mem and disk are numbers, ports a string such as \"[31000-32000]\")",
                                crate::excerpt::quoted(name)
                            )))
                        }
                    }
                }
                Ok(ResourcesDoc::Summary(r))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ResourcesDoc, A::Error> {
                let mut items = Vec::new();
                while let Some(obj) = seq.next_element::<ResourceObj>()? {
                    items.extend(obj.into_item());
                }
                Ok(ResourcesDoc::Items(items))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_api::PortRanges;

    fn ports(s: &str) -> PortRanges {
        s.parse().unwrap()
    }

    #[test]
    fn summary_map_reads_numbers_of_either_type_and_unsorted_port_strings() {
        let d: ResourcesDoc = serde_json::from_str(
            r#"{"ports":"[31000-32000, 19998-19999]","cpus":4,"mem":15360.0,"gpus":0,"disk":100.5,"cpus_revocable":2}"#,
        )
        .unwrap();
        let t = d.total();
        assert_eq!(t.cpus, 4.0);
        assert_eq!(t.mem_mb, 15360.0);
        assert_eq!(t.disk_mb, 100.5);
        assert_eq!(t.ports, ports("[19998-19999, 31000-32000]"));
        assert_eq!(d.usable_by("alluxio"), None);
    }

    #[test]
    fn summary_map_with_missing_keys_is_zero() {
        let d: ResourcesDoc = serde_json::from_str(r#"{"mem":1024}"#).unwrap();
        assert_eq!(d.total().cpus, 0.0);
        assert!(d.total().ports.is_empty());
    }

    #[test]
    fn summary_map_rejects_a_number_for_ports_with_a_clear_message() {
        let e = serde_json::from_str::<ResourcesDoc>(r#"{"ports":31000}"#).unwrap_err();
        assert!(
            e.to_string()
                .contains("\"ports\" has a value of the wrong type"),
            "{e}"
        );
    }

    #[test]
    fn v1_resource_arrays_keep_reservations_and_skip_revocable() {
        let d: ResourcesDoc = serde_json::from_str(
            r#"[{"name":"cpus","type":"SCALAR","scalar":{"value":4.0},"role":"*"},
                {"name":"cpus","type":"SCALAR","scalar":{"value":2},"reservations":[{"type":"STATIC","role":"spark"}]},
                {"name":"mem","type":"SCALAR","scalar":{"value":1024},"role":"alluxio","reservation":{"principal":"p"}},
                {"name":"cpus","type":"SCALAR","scalar":{"value":8},"revocable":{}},
                {"type":"RANGES","ranges":{"range":[{"begin":31000,"end":32000}]},"name":"ports"},
                {"name":"gpus","type":"SCALAR","scalar":{"value":1}}]"#,
        )
        .unwrap();
        let t = d.total();
        assert_eq!(t.cpus, 6.0);
        assert_eq!(t.mem_mb, 1024.0);
        assert_eq!(t.ports, ports("[31000-32000]"));
        let ours = d.usable_by("alluxio").unwrap();
        assert_eq!(ours.cpus, 4.0);
        assert_eq!(ours.mem_mb, 1024.0);
        let spark = d.usable_by("spark").unwrap();
        assert_eq!(spark.cpus, 6.0);
        assert_eq!(spark.mem_mb, 0.0);
    }

    #[test]
    fn child_roles_may_use_reservations_of_their_ancestors_only() {
        assert!(role_may_use("eng/alluxio", "eng"));
        assert!(role_may_use("eng", "eng"));
        assert!(role_may_use("eng", "*"));
        assert!(!role_may_use("eng", "eng/alluxio"));
        assert!(!role_may_use("engineering", "eng"));
    }

    #[test]
    fn subtract_never_goes_below_zero_and_removes_float_dust() {
        let a = Resources {
            cpus: 0.3,
            mem_mb: 100.0,
            disk_mb: 0.0,
            ports: ports("[31000-31010]"),
        };
        let b = Resources {
            cpus: 0.1 + 0.2,
            mem_mb: 200.0,
            disk_mb: 1.0,
            ports: ports("[31005-31005]"),
        };
        let d = subtract(&a, &b);
        assert_eq!(d.cpus, 0.0);
        assert_eq!(d.mem_mb, 0.0);
        assert_eq!(d.ports, ports("[31000-31004, 31006-31010]"));
    }
}
