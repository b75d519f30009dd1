//! A strict check of JSON against Mesos's v1 scheduler protos.
//!
//! Real Mesos turns a JSON call into protobuf with stout's `protobuf::parse`
//! (`3rdparty/stout/include/stout/protobuf.hpp`), which is lenient: it
//! ignores unknown fields and silently drops an unknown value of a
//! non-required enum, so a typo in a call is never reported. [`check`]
//! accepts exactly the JSON stout accepts (numbers, booleans and doubles may
//! be strings, `"Infinity"` for doubles, `null` means unset, bytes are
//! base64 with stout's own leniency, maps are JSON objects, a repeated field
//! may be given a single value) and additionally reports, as violations:
//! unknown fields, unknown enum values (also where Mesos would drop them),
//! more than one member of a `oneof` set, missing required fields in every
//! message present (what `IsInitialized()` checks), and integers that do not
//! fit their type (or are not whole numbers, which Mesos would truncate).
//!
//! The schema is `schema/v1-scheduler.schema`, generated from Mesos's
//! `scheduler.proto` and `mesos.proto` by `scripts/proto-schema` and embedded
//! here. Its text format, one item per line (`#` lines and blank lines are
//! ignored):
//!
//! ```text
//! mesos-commit <sha>
//! message <full.name>
//!   field <name> <optional|required|repeated|map> <type> [oneof:<group>]
//! enum <full.name>
//!   value <NAME>
//! ```
//!
//! where `<type>` is a scalar kind (`double`, `int32`, `bytes`, ...),
//! `message:<full.name>`, `enum:<full.name>` or, for label `map`,
//! `map<KEY,VALUE>`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::OnceLock;

use serde_json::Value;

pub mod lenient;

/// The embedded schema text.
pub const SCHEMA_TEXT: &str = include_str!("../schema/v1-scheduler.schema");

/// Full name of the scheduler call message.
pub const CALL: &str = "mesos.v1.scheduler.Call";
/// Full name of the scheduler event message.
pub const EVENT: &str = "mesos.v1.scheduler.Event";

/// One way a JSON document departs from the proto.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Where, e.g. `accept.operations[0].launch.task_infos[0].name`;
    /// empty for the document itself.
    pub path: String,
    /// What is wrong, and what real Mesos would do about it.
    pub reason: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "(document)"
        } else {
            &self.path
        };
        write!(f, "{path}: {}", self.reason)
    }
}

/// Checks `json` as the JSON form of the message `message` (a full proto
/// name such as [`CALL`]); every violation found is returned.
pub fn check(message: &str, json: &Value) -> Result<(), Vec<Violation>> {
    Schema::embedded().check(message, json)
}

/// What a real master builds from `json` as the message `message`: the
/// JSON of the parsed protobuf, or stout's error text (see [`lenient`]).
pub fn parse_lenient(message: &str, json: &Value) -> Result<Value, String> {
    Schema::embedded().parse_lenient(message, json)
}

/// Joins violations into one line, as an error text.
pub fn describe(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A proto scalar kind, grouped by how stout parses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scalar {
    Double,
    Float,
    /// Any integer kind, with its inclusive range.
    Int {
        name: &'static str,
        min: i128,
        max: i128,
    },
    Bool,
    String,
    Bytes,
}

impl Scalar {
    fn parse(s: &str) -> Option<Scalar> {
        let int = |name, min: i128, max: i128| Scalar::Int { name, min, max };
        Some(match s {
            "double" => Scalar::Double,
            "float" => Scalar::Float,
            "int32" => int("int32", i32::MIN.into(), i32::MAX.into()),
            "sint32" => int("sint32", i32::MIN.into(), i32::MAX.into()),
            "sfixed32" => int("sfixed32", i32::MIN.into(), i32::MAX.into()),
            "uint32" => int("uint32", 0, u32::MAX.into()),
            "fixed32" => int("fixed32", 0, u32::MAX.into()),
            "int64" => int("int64", i64::MIN.into(), i64::MAX.into()),
            "sint64" => int("sint64", i64::MIN.into(), i64::MAX.into()),
            "sfixed64" => int("sfixed64", i64::MIN.into(), i64::MAX.into()),
            "uint64" => int("uint64", 0, u64::MAX.into()),
            "fixed64" => int("fixed64", 0, u64::MAX.into()),
            "bool" => Scalar::Bool,
            "string" => Scalar::String,
            "bytes" => Scalar::Bytes,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Type {
    Scalar(Scalar),
    Message(String),
    Enum(String),
    Map(Box<Type>, Box<Type>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    Optional,
    Required,
    Repeated,
    Map,
}

#[derive(Debug, Clone)]
struct Field {
    label: Label,
    ty: Type,
    oneof: Option<String>,
}

#[derive(Debug, Clone, Default)]
struct Message {
    fields: BTreeMap<String, Field>,
}

/// A parsed schema file.
#[derive(Debug, Clone)]
pub struct Schema {
    mesos_commit: String,
    messages: HashMap<String, Message>,
    enums: HashMap<String, HashSet<String>>,
}

/// A schema file that cannot be read, with its line number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("schema line {line}: {reason}")]
pub struct SchemaError {
    pub line: usize,
    pub reason: String,
}

impl Schema {
    /// The embedded schema, parsed once.
    pub fn embedded() -> &'static Schema {
        static SCHEMA: OnceLock<Schema> = OnceLock::new();
        SCHEMA.get_or_init(|| {
            // The text is part of the build and covered by a unit test, so a
            // failure here is a broken checkout, not bad input.
            Schema::parse(SCHEMA_TEXT).expect("embedded schema/v1-scheduler.schema is valid")
        })
    }

    /// The Mesos commit the schema was generated from.
    pub fn mesos_commit(&self) -> &str {
        &self.mesos_commit
    }

    /// Whether the schema knows this message (full proto name).
    pub fn has_message(&self, name: &str) -> bool {
        self.messages.contains_key(name)
    }

    /// Parses the text format described in the module documentation and
    /// checks that every referenced message and enum is defined.
    pub fn parse(text: &str) -> Result<Schema, SchemaError> {
        let mut commit = None;
        let mut messages: HashMap<String, Message> = HashMap::new();
        let mut enums: HashMap<String, HashSet<String>> = HashMap::new();
        enum Current {
            None,
            Message(String),
            Enum(String),
        }
        let mut current = Current::None;
        let mut references: Vec<(usize, Type)> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let err = |reason: String| SchemaError {
                line: line_no,
                reason,
            };
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["mesos-commit", sha] => commit = Some(sha.to_string()),
                ["message", name] => {
                    if messages
                        .insert(name.to_string(), Message::default())
                        .is_some()
                    {
                        return Err(err(format!("message {name} defined twice")));
                    }
                    current = Current::Message(name.to_string());
                }
                ["enum", name] => {
                    if enums.insert(name.to_string(), HashSet::new()).is_some() {
                        return Err(err(format!("enum {name} defined twice")));
                    }
                    current = Current::Enum(name.to_string());
                }
                ["value", name] => {
                    let Current::Enum(e) = &current else {
                        return Err(err("'value' outside an enum".into()));
                    };
                    enums.get_mut(e).expect("current").insert(name.to_string());
                }
                ["field", name, label, ty, rest @ ..] => {
                    let Current::Message(m) = &current else {
                        return Err(err("'field' outside a message".into()));
                    };
                    let label = match *label {
                        "optional" => Label::Optional,
                        "required" => Label::Required,
                        "repeated" => Label::Repeated,
                        "map" => Label::Map,
                        other => return Err(err(format!("unknown label '{other}'"))),
                    };
                    let ty = parse_type(ty).map_err(err)?;
                    if matches!(ty, Type::Map(..)) != (label == Label::Map) {
                        return Err(err("map types go with label 'map' only".into()));
                    }
                    let oneof = match rest {
                        [] => None,
                        [group] => match group.strip_prefix("oneof:") {
                            Some(g) if !g.is_empty() => Some(g.to_string()),
                            _ => return Err(err(format!("expected oneof:<group>, got '{group}'"))),
                        },
                        _ => return Err(err("too many words in a field line".into())),
                    };
                    references.push((line_no, ty.clone()));
                    let fields = &mut messages.get_mut(m).expect("current").fields;
                    if fields
                        .insert(name.to_string(), Field { label, ty, oneof })
                        .is_some()
                    {
                        return Err(err(format!("field {name} defined twice in {m}")));
                    }
                }
                _ => return Err(err(format!("cannot read '{line}'"))),
            }
        }
        for (line, ty) in references {
            let mut stack = vec![&ty];
            while let Some(t) = stack.pop() {
                let missing = match t {
                    Type::Message(n) if !messages.contains_key(n) => Some(("message", n)),
                    Type::Enum(n) if !enums.contains_key(n) => Some(("enum", n)),
                    Type::Map(k, v) => {
                        stack.push(k);
                        stack.push(v);
                        None
                    }
                    _ => None,
                };
                if let Some((kind, name)) = missing {
                    return Err(SchemaError {
                        line,
                        reason: format!("{kind} {name} is referenced but not defined"),
                    });
                }
            }
        }
        let mesos_commit = commit.ok_or(SchemaError {
            line: 0,
            reason: "no 'mesos-commit' line".into(),
        })?;
        Ok(Schema {
            mesos_commit,
            messages,
            enums,
        })
    }

    /// [`check`] against this schema.
    pub fn check(&self, message: &str, json: &Value) -> Result<(), Vec<Violation>> {
        let mut out = Vec::new();
        if self.messages.contains_key(message) {
            self.check_message(message, json, "", &mut out);
        } else {
            out.push(Violation {
                path: String::new(),
                reason: format!("no message {message} in the v1 scheduler schema"),
            });
        }
        if out.is_empty() {
            Ok(())
        } else {
            Err(out)
        }
    }

    /// stout's `parse(message, object)` plus the oneof and required checks.
    fn check_message(&self, name: &str, json: &Value, path: &str, out: &mut Vec<Violation>) {
        let Value::Object(object) = json else {
            out.push(violation(
                path,
                format!("expected a JSON object for {name}, got {}", kind(json)),
            ));
            return;
        };
        let message = &self.messages[name];
        let mut oneofs: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (key, value) in object {
            let here = child(path, key);
            let Some(field) = message.fields.get(key) else {
                let hint = closest(key, message.fields.keys())
                    .map(|c| format!(" (did you mean '{c}'?)"))
                    .unwrap_or_default();
                out.push(violation(
                    &here,
                    format!("unknown field of {name}{hint}; real Mesos would ignore it silently"),
                ));
                continue;
            };
            if let (Some(group), false) = (&field.oneof, value.is_null()) {
                oneofs.entry(group).or_default().push(key);
            }
            self.check_field(field, value, &here, out);
        }
        for (group, members) in oneofs {
            if members.len() > 1 {
                out.push(violation(
                    path,
                    format!(
                        "more than one member of oneof '{group}' of {name} is set ({}); \
                         real Mesos would keep only the last one it reads",
                        members.join(", ")
                    ),
                ));
            }
        }
        for (field_name, field) in &message.fields {
            if field.label == Label::Required && object.get(field_name).is_none_or(Value::is_null) {
                out.push(violation(
                    &child(path, field_name),
                    format!("missing required field of {name}; real Mesos answers 400 (Missing required fields)"),
                ));
            }
        }
    }

    /// One field's value: `null` is unset, an array is allowed only for
    /// repeated fields (and, as in stout, its elements may be arrays too),
    /// and a repeated field given a single value takes it as one element.
    fn check_field(&self, field: &Field, json: &Value, path: &str, out: &mut Vec<Violation>) {
        match json {
            Value::Null => {}
            Value::Array(items) => {
                if matches!(field.label, Label::Repeated | Label::Map) {
                    for (i, item) in items.iter().enumerate() {
                        self.check_field(field, item, &format!("{path}[{i}]"), out);
                    }
                } else {
                    out.push(violation(
                        path,
                        "got a JSON array for a field that is not repeated; real Mesos answers 400",
                    ));
                }
            }
            _ => self.check_single(&field.ty, field.label == Label::Required, json, path, out),
        }
    }

    /// A single, non-array, non-null value of type `ty` (stout's `Parser`).
    fn check_single(
        &self,
        ty: &Type,
        required: bool,
        json: &Value,
        path: &str,
        out: &mut Vec<Violation>,
    ) {
        match ty {
            Type::Message(name) => self.check_message(name, json, path, out),
            Type::Map(key, value) => {
                let Value::Object(entries) = json else {
                    out.push(violation(
                        path,
                        format!(
                            "expected a JSON object for a map, got {}; real Mesos answers 400",
                            kind(json)
                        ),
                    ));
                    return;
                };
                for (k, v) in entries {
                    let here = format!("{path}[{}]", Value::String(k.clone()));
                    self.check_single(key, false, &Value::String(k.clone()), &here, out);
                    match v {
                        Value::Null => {}
                        Value::Array(_) => out.push(violation(
                            &here,
                            "got a JSON array for a map value; real Mesos answers 400",
                        )),
                        _ => self.check_single(value, false, v, &here, out),
                    }
                }
            }
            Type::Enum(name) => match json {
                Value::String(s) if self.enums[name].contains(s) => {}
                Value::String(s) => {
                    let consequence = if required {
                        "real Mesos answers 400 (Failed to find enum)"
                    } else {
                        "real Mesos would silently drop it and treat the field as unset"
                    };
                    out.push(violation(
                        path,
                        format!("unknown value '{s}' of enum {name}; {consequence}"),
                    ));
                }
                other => out.push(violation(
                    path,
                    format!(
                        "expected the name of a value of enum {name} as a string, got {}; \
                         real Mesos answers 400",
                        kind(other)
                    ),
                )),
            },
            Type::Scalar(s) => {
                if let Err(reason) = check_scalar(*s, json) {
                    out.push(violation(path, reason));
                }
            }
        }
    }
}

fn parse_type(s: &str) -> Result<Type, String> {
    if let Some(inner) = s.strip_prefix("map<").and_then(|r| r.strip_suffix('>')) {
        let (k, v) = inner
            .split_once(',')
            .ok_or_else(|| format!("map type '{s}' needs <KEY,VALUE>"))?;
        let key = parse_type(k)?;
        if !matches!(key, Type::Scalar(_)) {
            return Err(format!("map key of '{s}' must be a scalar"));
        }
        let value = parse_type(v)?;
        if matches!(value, Type::Map(..)) {
            return Err(format!("map value of '{s}' cannot be a map"));
        }
        return Ok(Type::Map(Box::new(key), Box::new(value)));
    }
    if let Some(n) = s.strip_prefix("message:") {
        return Ok(Type::Message(n.to_string()));
    }
    if let Some(n) = s.strip_prefix("enum:") {
        return Ok(Type::Enum(n.to_string()));
    }
    Scalar::parse(s)
        .map(Type::Scalar)
        .ok_or_else(|| format!("unknown type '{s}'"))
}

/// A scalar as stout reads it, with the range checks stout leaves out.
fn check_scalar(s: Scalar, json: &Value) -> Result<(), String> {
    let wrong = |what: &str| {
        Err(format!(
            "expected {what}, got {}; real Mesos answers 400",
            kind(json)
        ))
    };
    match s {
        Scalar::String => match json {
            Value::String(_) => Ok(()),
            _ => wrong("a JSON string"),
        },
        Scalar::Bytes => match json {
            Value::String(b) => stout_base64(b),
            _ => wrong("a base64 JSON string (bytes)"),
        },
        Scalar::Bool => match json {
            Value::Bool(_) => Ok(()),
            Value::String(t) => match serde_json::from_str::<Value>(t) {
                Ok(Value::Bool(_)) => Ok(()),
                _ => Err(format!(
                    "'{t}' is not a JSON boolean; real Mesos answers 400"
                )),
            },
            _ => wrong("a JSON boolean"),
        },
        Scalar::Double | Scalar::Float => {
            let number = match json {
                Value::Number(n) => n.clone(),
                Value::String(t) if t == "Infinity" || t == "-Infinity" => return Ok(()),
                Value::String(t) => number_in_string(t)?,
                _ => return wrong("a JSON number"),
            };
            let v = number.as_f64().unwrap_or(f64::NAN);
            if s == Scalar::Float && v.is_finite() && v.abs() > f64::from(f32::MAX) {
                return Err(format!("{v} is out of range for float"));
            }
            Ok(())
        }
        Scalar::Int { name, min, max } => {
            let number = match json {
                Value::Number(n) => n.clone(),
                Value::String(t) => number_in_string(t)?,
                _ => return wrong("a JSON number"),
            };
            let value: i128 = if let Some(i) = number.as_i64() {
                i.into()
            } else if let Some(u) = number.as_u64() {
                u.into()
            } else {
                let f = number.as_f64().unwrap_or(f64::NAN);
                if !f.is_finite() || f.fract() != 0.0 {
                    return Err(format!(
                        "{number} is not a whole number for {name}; real Mesos would truncate it"
                    ));
                }
                if f.abs() >= 1e38 {
                    return Err(format!("{number} is out of range for {name}"));
                }
                f as i128
            };
            if value < min || value > max {
                return Err(format!(
                    "{number} is out of range for {name} ({min}..={max}); \
                     real Mesos would wrap it silently"
                ));
            }
            Ok(())
        }
    }
}

/// stout parses a number given as a string with its JSON parser.
fn number_in_string(t: &str) -> Result<serde_json::Number, String> {
    match serde_json::from_str::<Value>(t) {
        Ok(Value::Number(n)) => Ok(n),
        _ => Err(format!(
            "'{t}' is not a JSON number; real Mesos answers 400"
        )),
    }
}

/// What stout's `base64::decode` accepts: the standard alphabet, with
/// white space skipped and everything from the first `=` on ignored.
fn stout_base64(s: &str) -> Result<(), String> {
    for c in s.chars() {
        if c == '=' {
            break;
        }
        if c.is_ascii_whitespace() || c.is_ascii_alphanumeric() || c == '+' || c == '/' {
            continue;
        }
        return Err(format!(
            "invalid base64 character '{c}' in a bytes field; real Mesos answers 400"
        ));
    }
    Ok(())
}

fn violation(path: &str, reason: impl Into<String>) -> Violation {
    Violation {
        path: path.to_string(),
        reason: reason.into(),
    }
}

fn child(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a JSON boolean",
        Value::Number(_) => "a JSON number",
        Value::String(_) => "a JSON string",
        Value::Array(_) => "a JSON array",
        Value::Object(_) => "a JSON object",
    }
}

/// The known name nearest to `name` (edit distance at most 2), for hints.
fn closest<'a>(name: &str, known: impl Iterator<Item = &'a String>) -> Option<&'a str> {
    known
        .map(|k| (edit_distance(name, k), k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| k.as_str())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        Call, CapabilityType, CommandInfo, FrameworkId, FrameworkInfo, Labels, OfferId, PortRanges,
        Resource, TaskInfo, TaskState, TaskStatus,
    };
    use serde_json::json;

    fn call_violations(v: Value) -> Vec<String> {
        match check(CALL, &v) {
            Ok(()) => Vec::new(),
            Err(vs) => vs.iter().map(ToString::to_string).collect(),
        }
    }

    fn assert_one(v: Value, path: &str, reason_part: &str) {
        let got = call_violations(v);
        assert_eq!(got.len(), 1, "expected one violation, got {got:?}");
        assert!(
            got[0].starts_with(&format!("{path}: ")) && got[0].contains(reason_part),
            "expected '{path}: ...{reason_part}...', got {got:?}"
        );
    }

    fn fid() -> FrameworkId {
        FrameworkId::new("fw-1")
    }

    fn launch_call() -> Value {
        let mut task = TaskInfo::command(
            "alluxio-worker",
            "worker-1",
            crate::AgentId::new("agent-1"),
            vec![
                Resource::cpus(1.0),
                Resource::mem(1024.0),
                Resource::ports(&"[29998-30000]".parse::<PortRanges>().unwrap()),
            ],
            CommandInfo::shell("bin/alluxio-start.sh worker"),
        );
        task.labels = Some(Labels::from_pairs([("alluxio-mesos/role", "worker")]));
        serde_json::to_value(Call::launch(
            fid(),
            vec![OfferId::new("offer-1")],
            vec![task],
            Some(crate::Filters::refuse(5.0)),
        ))
        .unwrap()
    }

    #[test]
    fn embedded_schema_parses_and_names_its_mesos_commit() {
        let s = Schema::parse(SCHEMA_TEXT).expect("schema parses");
        assert_eq!(s.mesos_commit().len(), 40);
        assert!(s.has_message(CALL) && s.has_message(EVENT));
        assert!(s.has_message("mesos.v1.TaskInfo"));
    }

    #[test]
    fn schema_with_undefined_reference_is_rejected_with_its_line() {
        let text = "mesos-commit abc\nmessage a.B\n  field x optional message:a.Missing\n";
        let e = Schema::parse(text).unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.reason.contains("a.Missing"), "{e}");
    }

    #[test]
    fn realistic_subscribe_is_accepted() {
        let mut info = FrameworkInfo::new("alluxio", "alluxio")
            .with_capability(CapabilityType::MultiRole)
            .with_capability(CapabilityType::PartitionAware);
        info.roles = vec!["alluxio".into()];
        info.failover_timeout = Some(2_419_200.0);
        info.checkpoint = Some(true);
        info.id = Some(fid());
        let v = serde_json::to_value(Call::subscribe(info)).unwrap();
        assert_eq!(check(CALL, &v), Ok(()));
    }

    #[test]
    fn realistic_accept_with_launch_is_accepted() {
        assert_eq!(check(CALL, &launch_call()), Ok(()));
    }

    #[test]
    fn realistic_acknowledge_with_bytes_uuid_is_accepted() {
        let mut status = TaskStatus::new("worker-1".into(), TaskState::Running);
        status.agent_id = Some(crate::AgentId::new("agent-1"));
        status.uuid = Some(crate::uuid_to_base64(&uuid::Uuid::new_v4()));
        let call = Call::acknowledge(fid(), &status).expect("has uuid");
        let v = serde_json::to_value(call).unwrap();
        assert_eq!(v["acknowledge"]["uuid"].as_str().unwrap().len(), 24);
        assert_eq!(check(CALL, &v), Ok(()));
    }

    #[test]
    fn misspelt_field_deep_in_a_launch_is_reported_with_its_path() {
        let mut v = launch_call();
        let label =
            &mut v["accept"]["operations"][0]["launch"]["task_infos"][0]["labels"]["labels"][0];
        let value = label.as_object_mut().unwrap().remove("value").unwrap();
        label["valeu"] = value;
        assert_one(
            v,
            "accept.operations[0].launch.task_infos[0].labels.labels[0].valeu",
            "unknown field of mesos.v1.Label (did you mean 'value'?)",
        );
    }

    #[test]
    fn unknown_value_of_optional_enum_says_mesos_would_drop_it() {
        let mut v = launch_call();
        v["accept"]["operations"][0]["type"] = json!("LAUNCHH");
        assert_one(
            v,
            "accept.operations[0].type",
            "unknown value 'LAUNCHH' of enum mesos.v1.Offer.Operation.Type; real Mesos would silently drop it",
        );
    }

    #[test]
    fn unknown_value_of_required_enum_is_one_mesos_rejects() {
        let mut v = launch_call();
        v["accept"]["operations"][0]["launch"]["task_infos"][0]["resources"][0]["type"] =
            json!("SCALARR");
        assert_one(
            v,
            "accept.operations[0].launch.task_infos[0].resources[0].type",
            "Failed to find enum",
        );
    }

    #[test]
    fn enum_given_as_number_is_rejected() {
        assert_one(json!({"type": 1}), "type", "got a JSON number");
    }

    #[test]
    fn two_members_of_a_oneof_are_reported() {
        let v = json!({
            "type": "SUBSCRIBE",
            "subscribe": {
                "framework_info": {"user": "u", "name": "n"},
                "offer_constraints": {"role_constraints": {"*": {"groups": [{
                    "attribute_constraints": [{
                        "selector": {"attribute_name": "rack", "pseudoattribute_type": "HOSTNAME"},
                        "predicate": {"exists": {}}
                    }]
                }]}}}
            }
        });
        assert_one(
            v,
            "subscribe.offer_constraints.role_constraints[\"*\"].groups[0].attribute_constraints[0].selector",
            "more than one member of oneof 'selector'",
        );
    }

    #[test]
    fn missing_required_field_in_a_nested_message_is_reported() {
        let mut v = launch_call();
        v["accept"]["operations"][0]["launch"]["task_infos"][0]
            .as_object_mut()
            .unwrap()
            .remove("agent_id");
        assert_one(
            v,
            "accept.operations[0].launch.task_infos[0].agent_id",
            "missing required field of mesos.v1.TaskInfo",
        );
    }

    #[test]
    fn required_field_set_to_null_counts_as_missing() {
        assert_one(
            json!({"type": "KILL", "framework_id": {"value": "f"}, "kill": {"task_id": null}}),
            "kill.task_id",
            "missing required field",
        );
    }

    #[test]
    fn int32_and_uint32_values_beyond_their_range_are_reported() {
        let over = check("mesos.v1.Address", &json!({"port": 2_147_483_648i64})).unwrap_err();
        assert_eq!(over.len(), 1);
        assert_eq!(over[0].path, "port");
        assert!(
            over[0].reason.contains("out of range for int32"),
            "{over:?}"
        );
        let negative = check("mesos.v1.CheckInfo.Tcp", &json!({"port": "-1"})).unwrap_err();
        assert!(
            negative[0].reason.contains("out of range for uint32"),
            "{negative:?}"
        );
        assert_eq!(
            check("mesos.v1.Address", &json!({"port": 2_147_483_647})),
            Ok(())
        );
    }

    #[test]
    fn fractional_integer_is_reported_because_mesos_would_truncate_it() {
        let v = check("mesos.v1.Address", &json!({"port": 80.5})).unwrap_err();
        assert!(v[0].reason.contains("not a whole number"), "{v:?}");
        assert_eq!(check("mesos.v1.Address", &json!({"port": 80.0})), Ok(()));
    }

    #[test]
    fn strings_stout_converts_are_accepted() {
        let v = json!({
            "type": "DECLINE",
            "framework_id": {"value": "f"},
            "decline": {"offer_ids": {"value": "o"}, "filters": {"refuse_seconds": "1.5"}},
        });
        assert_eq!(check(CALL, &v), Ok(()));
        let info = json!({"user": "u", "name": "n", "checkpoint": "true",
                          "failover_timeout": "Infinity", "hostname": null});
        assert_eq!(check("mesos.v1.FrameworkInfo", &info), Ok(()));
        let bad =
            json!({"user": "u", "name": "n", "checkpoint": "yes", "failover_timeout": "1.5s"});
        let got = check("mesos.v1.FrameworkInfo", &bad).unwrap_err();
        assert_eq!(got.len(), 2, "{got:?}");
    }

    #[test]
    fn bytes_must_be_base64_as_stout_reads_it() {
        let ack = |uuid: &str| {
            json!({"type": "ACKNOWLEDGE", "framework_id": {"value": "f"}, "acknowledge": {
                "agent_id": {"value": "a"}, "task_id": {"value": "t"}, "uuid": uuid}})
        };
        assert_eq!(check(CALL, &ack("AAECAwQFBgcICQoLDA0ODw")), Ok(()));
        assert_one(
            ack("not-base64!"),
            "acknowledge.uuid",
            "invalid base64 character '-'",
        );
    }

    #[test]
    fn array_for_a_field_that_is_not_repeated_is_rejected() {
        assert_one(
            json!({"type": "KILL", "kill": {"task_id": [{"value": "t"}]}}),
            "kill.task_id",
            "not repeated",
        );
    }

    #[test]
    fn wrong_json_kind_for_a_message_is_rejected() {
        assert_one(
            json!({"framework_id": "f"}),
            "framework_id",
            "expected a JSON object",
        );
        let top = check(CALL, &json!([1])).unwrap_err();
        assert_eq!(
            top[0].to_string(),
            "(document): expected a JSON object for mesos.v1.scheduler.Call, got a JSON array"
        );
    }

    #[test]
    fn map_fields_are_json_objects_checked_per_entry() {
        let info = |filters: Value| json!({"user": "u", "name": "n", "offer_filters": filters});
        let ok = info(json!({"*": {"min_allocatable_resources": {"quantities": [
            {"quantities": {"cpus": {"value": 1}}}]}}}));
        assert_eq!(check("mesos.v1.FrameworkInfo", &ok), Ok(()));
        let typo = info(json!({"*": {"min_allocatable_resources": {"quantities": [
            {"quantities": {"cpus": {"valu": 1}}}]}}}));
        let got = check("mesos.v1.FrameworkInfo", &typo).unwrap_err();
        assert_eq!(
            got.iter().map(|v| v.path.as_str()).collect::<Vec<_>>(),
            [
                "offer_filters[\"*\"].min_allocatable_resources.quantities[0].quantities[\"cpus\"].valu",
                "offer_filters[\"*\"].min_allocatable_resources.quantities[0].quantities[\"cpus\"].value",
            ]
        );
        let not_object = check("mesos.v1.FrameworkInfo", &info(json!("x"))).unwrap_err();
        assert!(not_object[0].reason.contains("map"), "{not_object:?}");
    }

    #[test]
    fn unknown_message_name_is_a_violation_not_a_panic() {
        let got = check("mesos.v1.NoSuch", &json!({})).unwrap_err();
        assert!(got[0].reason.contains("no message mesos.v1.NoSuch"));
    }
}
