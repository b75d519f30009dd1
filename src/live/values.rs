//! Small JSON values that Mesos spells differently across versions:
//! IDs (`"abc"` or `{"value":"abc"}`), numbers (integer, float, or a
//! numeric string as the protobuf JSON mapping writes 64-bit integers),
//! timestamps (seconds as a float, or v1 `{"nanoseconds": N}`), labels
//! (an array, or v1 `{"labels": [...]}`) and attributes (a map of name to
//! string or number, or v1 an array of `Attribute` objects).
//!
//! Each has a hand-written visitor so that every accepted shape is parsed
//! directly, without buffering the value first.

use mesos_api::PortRanges;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;

/// An ID: a string, or a v1 `{"value": "..."}` object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Id(pub String);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an ID: a string or {\"value\": string}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
                Ok(Id(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Id, E> {
                Ok(Id(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Id, A::Error> {
                let mut value = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == "value" {
                        value = Some(map.next_value::<String>()?);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                value
                    .map(Id)
                    .ok_or_else(|| de::Error::missing_field("value"))
            }
        }
        d.deserialize_any(V)
    }
}

/// A JSON number as Mesos wrote it. Integers keep their exact value (v1
/// nanosecond timestamps exceed 2^53, so they must not go through `f64`
/// before we decide what to do with them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    U(u64),
    I(i64),
    F(f64),
}

impl Num {
    pub fn as_f64(self) -> f64 {
        match self {
            Num::U(u) => u as f64,
            Num::I(i) => i as f64,
            Num::F(f) => f,
        }
    }

    /// The value as an exact unsigned integer, when it is one.
    pub fn as_u64(self) -> Option<u64> {
        match self {
            Num::U(u) => Some(u),
            Num::I(i) => u64::try_from(i).ok(),
            Num::F(f) if f >= 0.0 && f.fract() == 0.0 && f < 18_446_744_073_709_551_616.0 => {
                Some(f as u64)
            }
            Num::F(_) => None,
        }
    }

    /// Text for attribute values (the one rule, [`crate::fit::attribute_text`]).
    pub fn render(self) -> String {
        match self {
            Num::U(u) => u.to_string(),
            Num::I(i) => i.to_string(),
            Num::F(f) => crate::fit::attribute_text(f),
        }
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
                Ok(Num::U(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num, E> {
                Ok(Num::I(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Num, E> {
                Ok(Num::F(v))
            }
            /// The protobuf JSON mapping writes 64-bit integers as strings.
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Num, E> {
                let t = v.trim();
                if let Ok(u) = t.parse::<u64>() {
                    Ok(Num::U(u))
                } else if let Ok(i) = t.parse::<i64>() {
                    Ok(Num::I(i))
                } else if let Ok(f) = t.parse::<f64>() {
                    Ok(Num::F(f))
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A point in time, in seconds since the epoch: `1455643643.42422`, or v1
/// `{"nanoseconds": 1455643643424220000}`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Time(pub f64);

fn nanos_to_secs(n: Num) -> f64 {
    match n.as_u64() {
        // Split before converting so that the seconds stay exact.
        Some(ns) => (ns / 1_000_000_000) as f64 + (ns % 1_000_000_000) as f64 / 1e9,
        None => n.as_f64() / 1e9,
    }
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Time;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a time: seconds, or {\"nanoseconds\": N}")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Time, E> {
                Ok(Time(v as f64))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Time, E> {
                Ok(Time(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Time, E> {
                Ok(Time(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Time, E> {
                v.trim()
                    .parse::<f64>()
                    .map(Time)
                    .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Time, A::Error> {
                let mut secs = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "nanoseconds" => secs = Some(nanos_to_secs(map.next_value::<Num>()?)),
                        "seconds" => secs = Some(map.next_value::<Num>()?.as_f64()),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                secs.map(Time)
                    .ok_or_else(|| de::Error::missing_field("nanoseconds"))
            }
        }
        d.deserialize_any(V)
    }
}

/// Task labels: `[{"key":..,"value":..}]`, or v1 `{"labels": [...]}`.
/// A label without a value maps to the empty string.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Labels(pub BTreeMap<String, String>);

#[derive(serde::Deserialize)]
struct Label {
    key: String,
    #[serde(default)]
    value: Option<String>,
}

impl<'de> Deserialize<'de> for Labels {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Labels;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("labels: an array of {key, value}")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Labels, E> {
                Ok(Labels::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Labels, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(l) = seq.next_element::<Label>()? {
                    out.insert(l.key, l.value.unwrap_or_default());
                }
                Ok(Labels(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Labels, A::Error> {
                let mut out = Labels::default();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "labels" {
                        out = map.next_value::<Labels>()?;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_any(V)
    }
}

/// A `Value.Ranges` in either spelling: `"[31000-32000, 19998-19999]"` or
/// `{"range": [{"begin": b, "end": e}]}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Ranges(pub PortRanges);

#[derive(serde::Deserialize)]
struct RangeObj {
    begin: Num,
    end: Num,
}

impl<'de> Deserialize<'de> for Ranges {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ranges;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "port ranges: \"[b-e, ...]\" or {\"range\": [{\"begin\": b, \"end\": e}]}",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Ranges, E> {
                v.parse::<PortRanges>().map(Ranges).map_err(E::custom)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ranges, A::Error> {
                let mut out = Vec::new();
                while let Some(r) = seq.next_element::<RangeObj>()? {
                    out.push(range_bounds::<A::Error>(&r)?);
                }
                Ok(Ranges(PortRanges::from_ranges(out)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ranges, A::Error> {
                let mut out = Ranges::default();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "range" {
                        out = map.next_value::<Ranges>()?;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_any(V)
    }
}

fn range_bounds<E: de::Error>(r: &RangeObj) -> Result<(u64, u64), E> {
    match (r.begin.as_u64(), r.end.as_u64()) {
        (Some(b), Some(e)) if b <= e => Ok((b, e)),
        _ => Err(E::custom(format!(
            "range {{begin: {}, end: {}}} is not a range of non-negative integers",
            r.begin.render(),
            r.end.render()
        ))),
    }
}

/// Agent attributes rendered as text, from either a map
/// (`{"rack": "r1", "gen": 3}`) or v1 `Attribute` objects
/// (`[{"name":"rack","type":"TEXT","text":{"value":"r1"}}]`).
/// Ranges render as `[b-e, ...]` (sorted) and sets as `{a, b}`, as Mesos
/// prints them.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Attributes(pub BTreeMap<String, String>);

/// One attribute value in the map form.
struct AttrValue(String);

impl<'de> Deserialize<'de> for AttrValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AttrValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an attribute value: a string or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<AttrValue, E> {
                Ok(AttrValue(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<AttrValue, E> {
                Ok(AttrValue(Num::U(v).render()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<AttrValue, E> {
                Ok(AttrValue(Num::I(v).render()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<AttrValue, E> {
                Ok(AttrValue(Num::F(v).render()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<AttrValue, E> {
                Ok(AttrValue(v.to_string()))
            }
            /// A value wrapped as in the protobuf mapping: `{"value": ..}`.
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AttrValue, A::Error> {
                let mut out = String::new();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "value" {
                        out = map.next_value::<AttrValue>()?.0;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(AttrValue(out))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(serde::Deserialize)]
struct ScalarObj {
    value: Num,
}

#[derive(serde::Deserialize)]
struct TextObj {
    value: String,
}

#[derive(serde::Deserialize)]
struct SetObj {
    #[serde(default)]
    item: Vec<String>,
}

#[derive(serde::Deserialize)]
struct AttributeObj {
    name: String,
    #[serde(default)]
    scalar: Option<ScalarObj>,
    #[serde(default)]
    text: Option<TextObj>,
    #[serde(default)]
    ranges: Option<Ranges>,
    #[serde(default)]
    set: Option<SetObj>,
}

impl AttributeObj {
    fn render(self) -> String {
        if let Some(t) = self.text {
            t.value
        } else if let Some(s) = self.scalar {
            s.value.render()
        } else if let Some(r) = self.ranges {
            r.0.to_string()
        } else if let Some(s) = self.set {
            format!("{{{}}}", s.item.join(", "))
        } else {
            String::new()
        }
    }
}

impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Attributes;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("attributes: a map of name to value, or an array of Attribute objects")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Attributes, E> {
                Ok(Attributes::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Attributes, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((k, v)) = map.next_entry::<String, AttrValue>()? {
                    out.insert(k, v.0);
                }
                Ok(Attributes(out))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Attributes, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(a) = seq.next_element::<AttributeObj>()? {
                    let name = a.name.clone();
                    out.insert(name, a.render());
                }
                Ok(Attributes(out))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_accepts_string_and_value_object() {
        let a: Id = serde_json::from_str(r#""b4e8-S0""#).unwrap();
        let b: Id = serde_json::from_str(r#"{"value":"b4e8-S0"}"#).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.0, "b4e8-S0");
    }

    #[test]
    fn integral_numbers_render_without_fraction_whatever_their_json_type() {
        let one_int: Num = serde_json::from_str("1").unwrap();
        let one_float: Num = serde_json::from_str("1.0").unwrap();
        assert_eq!(one_int.render(), "1");
        assert_eq!(one_float.render(), "1");
        let half: Num = serde_json::from_str("2.5").unwrap();
        assert_eq!(half.render(), "2.5");
        let neg: Num = serde_json::from_str("-3.0").unwrap();
        assert_eq!(neg.render(), "-3");
    }

    #[test]
    fn nanosecond_timestamps_beyond_two_to_the_53_keep_their_seconds() {
        // 2^53 is about 9.007e15: nanosecond timestamps of today are ~1.7e18.
        let t: Time = serde_json::from_str(r#"{"nanoseconds":1732492800123456789}"#).unwrap();
        assert_eq!(t.0.floor(), 1_732_492_800.0);
        assert!((t.0 - 1_732_492_800.123_456_8).abs() < 1e-6);
        let u: Time = serde_json::from_str(r#"{"nanoseconds":"1732492800000000000"}"#).unwrap();
        assert_eq!(u.0, 1_732_492_800.0);
        let s: Time = serde_json::from_str("1455643643.42422").unwrap();
        assert_eq!(s.0, 1455643643.42422);
        let big: Num = serde_json::from_str("18446744073709551615").unwrap();
        assert_eq!(big, Num::U(u64::MAX));
    }

    #[test]
    fn labels_accept_array_and_v1_wrapper_and_missing_values() {
        let a: Labels =
            serde_json::from_str(r#"[{"key":"a","value":"1"},{"key":"flag"}]"#).unwrap();
        assert_eq!(a.0.get("a").map(String::as_str), Some("1"));
        assert_eq!(a.0.get("flag").map(String::as_str), Some(""));
        let b: Labels = serde_json::from_str(r#"{"labels":[{"value":"1","key":"a"}]}"#).unwrap();
        assert_eq!(b.0.get("a").map(String::as_str), Some("1"));
    }

    #[test]
    fn ranges_accept_string_and_v1_objects() {
        let a: Ranges = serde_json::from_str(r#""[31000-32000, 19998-19999]""#).unwrap();
        let b: Ranges = serde_json::from_str(
            r#"{"range":[{"begin":31000,"end":32000},{"end":19999,"begin":19998.0}]}"#,
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.0.to_string(), "[19998-19999, 31000-32000]");
        let bad = serde_json::from_str::<Ranges>(r#""[31000-x]""#).unwrap_err();
        assert!(bad.to_string().contains("31000-x"), "{bad}");
    }

    #[test]
    fn attributes_render_strings_numbers_and_v1_objects_as_text() {
        let a: Attributes =
            serde_json::from_str(r#"{"rack":"r1","gen":3,"ssd":1.0,"load":0.5}"#).unwrap();
        assert_eq!(a.0["rack"], "r1");
        assert_eq!(a.0["gen"], "3");
        assert_eq!(a.0["ssd"], "1");
        assert_eq!(a.0["load"], "0.5");
        let b: Attributes = serde_json::from_str(
            r#"[{"name":"rack","type":"TEXT","text":{"value":"r1"}},
                {"type":"SCALAR","scalar":{"value":3.0},"name":"gen"},
                {"name":"zones","type":"SET","set":{"item":["a","b"]}},
                {"name":"slots","type":"RANGES","ranges":{"range":[{"begin":5,"end":9}]}}]"#,
        )
        .unwrap();
        assert_eq!(b.0["rack"], "r1");
        assert_eq!(b.0["gen"], "3");
        assert_eq!(b.0["zones"], "{a, b}");
        assert_eq!(b.0["slots"], "[5-9]");
    }
}
