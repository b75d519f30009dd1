//! What a real master makes of a JSON call: stout's `protobuf::parse`
//! (`3rdparty/stout/include/stout/protobuf.hpp`) replayed on JSON.
//!
//! [`parse`] returns the JSON of the message stout would build, so that
//! typed decoding afterwards sees what Mesos sees: `null` is unset (also for
//! repeated fields), unknown fields are gone, an unknown value of a
//! non-required enum is dropped, a repeated field given one value holds it
//! as a one-element list, numbers and booleans given as strings are
//! converted, integers are cast to their width, bytes are re-encoded from
//! what stout's lenient base64 decoder read. What stout refuses is an error
//! with stout's own text ("Not expecting a JSON array for field 'task_id'",
//! "Failed to find enum for 'X'", "Missing required fields: kill.task_id").
//!
//! Two approximations, both because the schema keeps no field numbers: the
//! fields of an object are read in key order (as stout's `std::map` does),
//! and several missing required fields are listed in field-name order
//! rather than protobuf's declaration and field-number order.

use base64::Engine;
use serde_json::{Map, Value};

use super::{Field, Label, Scalar, Schema, Type};

/// A double given as `"Infinity"` / `"-Infinity"` (stout accepts these, JSON
/// numbers cannot hold them): the largest finite double stands in.
const INFINITY_STAND_IN: f64 = f64::MAX;

impl Schema {
    /// [`parse`] against this schema.
    pub fn parse_lenient(&self, message: &str, json: &Value) -> Result<Value, String> {
        if !self.messages.contains_key(message) {
            return Err(format!("no message {message} in the v1 scheduler schema"));
        }
        let Value::Object(object) = json else {
            return Err("Expecting a JSON object".into());
        };
        let parsed = self.parse_object(message, object)?;
        let mut missing = Vec::new();
        self.missing_required(message, &parsed, "", &mut missing);
        if !missing.is_empty() {
            return Err(format!("Missing required fields: {}", missing.join(", ")));
        }
        Ok(Value::Object(parsed))
    }

    fn parse_object(
        &self,
        message: &str,
        object: &Map<String, Value>,
    ) -> Result<Map<String, Value>, String> {
        let fields = &self.messages[message].fields;
        let mut out = Map::new();
        for (name, value) in object {
            // Unknown fields are skipped without a word, as stout does.
            if let Some(field) = fields.get(name) {
                self.parse_field(name, field, value, &mut out)?;
            }
        }
        Ok(out)
    }

    /// stout's `Parser` visitor for one JSON value of a field.
    fn parse_field(
        &self,
        name: &str,
        field: &Field,
        value: &Value,
        out: &mut Map<String, Value>,
    ) -> Result<(), String> {
        let repeated = matches!(field.label, Label::Repeated | Label::Map);
        match value {
            // "We treat 'null' as an unset field."
            Value::Null => Ok(()),
            Value::Array(items) => {
                if !repeated {
                    return Err(format!("Not expecting a JSON array for field '{name}'"));
                }
                // Nested arrays add to the same field, as in stout.
                for item in items {
                    self.parse_field(name, field, item, out)?;
                }
                Ok(())
            }
            single => {
                let required = field.label == Label::Required;
                let Some(parsed) = self.parse_single(name, &field.ty, required, single)? else {
                    return Ok(());
                };
                match field.label {
                    Label::Repeated => match out
                        .entry(name.to_string())
                        .or_insert_with(|| Value::Array(Vec::new()))
                    {
                        Value::Array(list) => list.push(parsed),
                        _ => unreachable!("repeated fields are stored as arrays"),
                    },
                    Label::Map => {
                        let entries = out
                            .entry(name.to_string())
                            .or_insert_with(|| Value::Object(Map::new()));
                        if let (Value::Object(entries), Value::Object(new)) = (entries, parsed) {
                            entries.extend(new);
                        }
                    }
                    Label::Optional | Label::Required => {
                        out.insert(name.to_string(), parsed);
                    }
                }
                Ok(())
            }
        }
    }

    /// One non-null, non-array value; `None` when stout drops it (an
    /// unknown value of a non-required enum).
    fn parse_single(
        &self,
        name: &str,
        ty: &Type,
        required: bool,
        value: &Value,
    ) -> Result<Option<Value>, String> {
        let not_expecting =
            |what: &str| Err(format!("Not expecting a JSON {what} for field '{name}'"));
        match (value, ty) {
            (Value::Object(o), Type::Message(m)) => Ok(Some(Value::Object(self.parse_object(m, o)?))),
            (Value::Object(o), Type::Map(key, val)) => {
                let mut entries = Map::new();
                for (k, v) in o {
                    let key = match self.parse_single("key", key, false, &Value::String(k.clone()))? {
                        Some(Value::String(s)) => s,
                        Some(other) => other.to_string(),
                        None => continue,
                    };
                    let entry = match v {
                        Value::Null => match &**val {
                            Type::Message(_) => Some(Value::Object(Map::new())),
                            _ => None,
                        },
                        Value::Array(_) => return Err("Not expecting a JSON array for field 'value'".into()),
                        v => self.parse_single("value", val, false, v)?,
                    };
                    if let Some(e) = entry {
                        entries.insert(key, e);
                    }
                }
                Ok(Some(Value::Object(entries)))
            }
            (Value::Object(_), _) => not_expecting("object"),
            (Value::String(s), Type::Scalar(Scalar::String)) => Ok(Some(Value::String(s.clone()))),
            (Value::String(s), Type::Scalar(Scalar::Bytes)) => {
                let bytes = stout_base64_decode(s).map_err(|e| format!("Failed to base64 decode bytes field '{name}': {e}"))?;
                Ok(Some(Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))))
            }
            (Value::String(s), Type::Enum(e)) => {
                if self.enums[e].contains(s) {
                    Ok(Some(Value::String(s.clone())))
                } else if required {
                    Err(format!("Failed to find enum for '{s}'"))
                } else {
                    // proto2: an unknown value leaves the field unset.
                    Ok(None)
                }
            }
            (Value::String(s), Type::Scalar(Scalar::Double | Scalar::Float)) if s == "Infinity" || s == "-Infinity" => {
                let v = if s == "Infinity" { INFINITY_STAND_IN } else { -INFINITY_STAND_IN };
                Ok(Some(Value::from(v)))
            }
            (Value::String(s), Type::Scalar(Scalar::Double | Scalar::Float | Scalar::Int { .. })) => match serde_json::from_str::<Value>(s) {
                Ok(n @ Value::Number(_)) => self.parse_single(name, ty, required, &n),
                Ok(_) => Err(format!("Failed to parse '{s}' as a JSON number for field '{name}': Unexpected JSON type parsed")),
                Err(e) => Err(format!("Failed to parse '{s}' as a JSON number for field '{name}': {e}")),
            },
            (Value::String(s), Type::Scalar(Scalar::Bool)) => match serde_json::from_str::<Value>(s) {
                Ok(b @ Value::Bool(_)) => Ok(Some(b)),
                Ok(_) => Err(format!("Failed to parse '{s}' as a JSON boolean for field '{name}': Unexpected JSON type parsed")),
                Err(e) => Err(format!("Failed to parse '{s}' as a JSON boolean for field '{name}': {e}")),
            },
            (Value::String(_), _) => not_expecting("string"),
            (Value::Number(n), Type::Scalar(Scalar::Double)) => Ok(Some(Value::from(n.as_f64().unwrap_or(0.0)))),
            (Value::Number(n), Type::Scalar(Scalar::Float)) => Ok(Some(Value::from(f64::from(n.as_f64().unwrap_or(0.0) as f32)))),
            (Value::Number(n), Type::Scalar(Scalar::Int { name: kind, .. })) => Ok(Some(cast_integer(n, kind))),
            (Value::Number(_), _) => not_expecting("number"),
            (Value::Bool(b), Type::Scalar(Scalar::Bool)) => Ok(Some(Value::Bool(*b))),
            (Value::Bool(_), _) => not_expecting("boolean"),
            (Value::Null | Value::Array(_), _) => unreachable!("handled by parse_field"),
        }
    }

    /// protobuf's `FindInitializationErrors`: this message's unset required
    /// fields, then those of every message it holds, as dotted paths.
    fn missing_required(
        &self,
        message: &str,
        object: &Map<String, Value>,
        prefix: &str,
        out: &mut Vec<String>,
    ) {
        let fields = &self.messages[message].fields;
        for (name, field) in fields {
            if field.label == Label::Required && !object.contains_key(name) {
                out.push(format!("{prefix}{name}"));
            }
        }
        for (name, field) in fields {
            let Some(value) = object.get(name) else {
                continue;
            };
            match (&field.ty, value) {
                (Type::Message(m), Value::Object(o)) => {
                    self.missing_required(m, o, &format!("{prefix}{name}."), out)
                }
                (Type::Message(m), Value::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        if let Value::Object(o) = item {
                            self.missing_required(m, o, &format!("{prefix}{name}[{i}]."), out);
                        }
                    }
                }
                (Type::Map(_, v), Value::Object(entries)) => {
                    if let Type::Message(m) = &**v {
                        for (i, entry) in entries.values().enumerate() {
                            if let Value::Object(o) = entry {
                                self.missing_required(
                                    m,
                                    o,
                                    &format!("{prefix}{name}[{i}].value."),
                                    out,
                                );
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// A JSON number stored into an integer field: C++'s `static_cast` to the
/// field's width (wrapping; fractions truncated).
fn cast_integer(n: &serde_json::Number, kind: &str) -> Value {
    let wide: i128 = if let Some(i) = n.as_i64() {
        i.into()
    } else if let Some(u) = n.as_u64() {
        u.into()
    } else {
        n.as_f64().unwrap_or(0.0) as i128
    };
    match kind {
        "int32" | "sint32" | "sfixed32" => Value::from(wide as i32),
        "uint32" | "fixed32" => Value::from(wide as u32),
        "uint64" | "fixed64" => Value::from(wide as u64),
        _ => Value::from(wide as i64),
    }
}

/// stout's `base64::decode`: the standard alphabet, white space skipped,
/// everything from the first `=` ignored, a trailing partial group kept.
fn stout_base64_decode(s: &str) -> Result<Vec<u8>, String> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut group: Vec<u8> = Vec::with_capacity(4);
    for c in s.bytes() {
        if c == b'=' {
            break;
        }
        if c.is_ascii_whitespace() {
            continue;
        }
        let Some(sextet) = ALPHABET.iter().position(|&a| a == c) else {
            return Err(format!("Invalid character '{}'", c as char));
        };
        group.push(sextet as u8);
        if group.len() == 4 {
            out.extend(sextets_to_bytes(&group, 3));
            group.clear();
        }
    }
    if !group.is_empty() {
        let keep = group.len() - 1;
        group.resize(4, 0);
        out.extend(sextets_to_bytes(&group, keep));
    }
    Ok(out)
}

fn sextets_to_bytes(g: &[u8], keep: usize) -> impl Iterator<Item = u8> {
    let bytes = [
        (g[0] << 2) | (g[1] >> 4),
        (g[1] << 4) | (g[2] >> 2),
        (g[2] << 6) | g[3],
    ];
    bytes.into_iter().take(keep)
}

#[cfg(test)]
mod tests {
    use super::super::{Schema, CALL};
    use serde_json::json;

    fn parse(v: serde_json::Value) -> Result<serde_json::Value, String> {
        Schema::embedded().parse_lenient(CALL, &v)
    }

    #[test]
    fn null_is_unset_even_for_repeated_and_required_fields() {
        let got = parse(
            json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": {
            "user": "u", "name": "n", "capabilities": null, "roles": null, "hostname": null}}}),
        )
        .unwrap();
        assert_eq!(
            got,
            json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "u", "name": "n"}}})
        );
        assert_eq!(
            parse(json!({"type": "KILL", "kill": {"task_id": null}})).unwrap_err(),
            "Missing required fields: kill.task_id"
        );
    }

    #[test]
    fn unknown_fields_and_unknown_optional_enum_values_are_dropped() {
        let got = parse(json!({"type": "SUBSCRIBE", "bogus": 1, "subscribe": {"framework_info": {
            "user": "u", "name": "n", "capabilities": [{"type": "NOPE"}, {"type": "MULTI_ROLE"}]}}}))
        .unwrap();
        assert_eq!(
            got["subscribe"]["framework_info"]["capabilities"],
            json!([{}, {"type": "MULTI_ROLE"}])
        );
        assert!(got.get("bogus").is_none());
        assert_eq!(parse(json!({"type": "NOPE"})).unwrap(), json!({}));
    }

    #[test]
    fn stout_texts_for_what_it_refuses() {
        assert_eq!(parse(json!([])).unwrap_err(), "Expecting a JSON object");
        assert_eq!(
            parse(json!({"type": 1})).unwrap_err(),
            "Not expecting a JSON number for field 'type'"
        );
        assert_eq!(
            parse(json!({"kill": {"task_id": [{"value": "t"}]}})).unwrap_err(),
            "Not expecting a JSON array for field 'task_id'"
        );
        assert_eq!(
            parse(json!({"accept": {"operations": [{"launch": {"task_infos": [{"resources": [{"type": "SCALARR"}]}]}}]}}))
                .unwrap_err(),
            "Failed to find enum for 'SCALARR'"
        );
        assert_eq!(
            parse(json!({"framework_id": "f"})).unwrap_err(),
            "Not expecting a JSON string for field 'framework_id'"
        );
        assert_eq!(
            parse(json!({"acknowledge": {"uuid": "not-base64"}})).unwrap_err(),
            "Failed to base64 decode bytes field 'uuid': Invalid character '-'"
        );
        assert!(
            parse(json!({"decline": {"filters": {"refuse_seconds": "soon"}}}))
                .unwrap_err()
                .starts_with(
                    "Failed to parse 'soon' as a JSON number for field 'refuse_seconds': "
                )
        );
    }

    #[test]
    fn conversions_stout_makes() {
        let got = parse(json!({"type": "DECLINE", "framework_id": {"value": "f"},
            "decline": {"offer_ids": {"value": "o"}, "filters": {"refuse_seconds": "1.5"}}}))
        .unwrap();
        assert_eq!(got["decline"]["offer_ids"], json!([{"value": "o"}]));
        assert_eq!(got["decline"]["filters"]["refuse_seconds"], json!(1.5));
        let info = |extra: serde_json::Value| {
            let mut fi = json!({"user": "u", "name": "n"});
            fi.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            parse(json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": fi}})).unwrap()
                ["subscribe"]["framework_info"]
                .clone()
        };
        assert_eq!(
            info(json!({"checkpoint": "true"}))["checkpoint"],
            json!(true)
        );
        assert_eq!(
            info(json!({"failover_timeout": "Infinity"}))["failover_timeout"],
            json!(f64::MAX)
        );
        // Padding-free and white-space-broken base64 are read as stout reads them.
        let ack = parse(json!({"acknowledge": {
            "agent_id": {"value": "a"}, "task_id": {"value": "t"}, "uuid": "AAECAwQFBgcI\nCQoLDA0ODw"}}))
        .unwrap();
        assert_eq!(
            ack["acknowledge"]["uuid"],
            json!("AAECAwQFBgcICQoLDA0ODw==")
        );
    }

    #[test]
    fn several_missing_required_fields_are_all_listed_with_indexes() {
        let got =
            parse(json!({"accept": {"operations": [{"launch": {"task_infos": [{"name": "t"}]}}]}}))
                .unwrap_err();
        assert_eq!(
            got,
            "Missing required fields: accept.operations[0].launch.task_infos[0].agent_id, \
             accept.operations[0].launch.task_infos[0].task_id"
        );
    }
}
