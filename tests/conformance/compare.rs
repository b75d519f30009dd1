//! The structural comparison of two answers to one request: status codes,
//! the headers clients read, and the JSON bodies' keys, value types, enum
//! values and array lengths. Values that legitimately differ between two
//! clusters (IDs, timestamps, hostnames, pids, ports, UUIDs, durations,
//! counters) are not compared: only their presence and type.

use serde_json::Value;

/// One request's answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    /// `Content-Type`, `Mesos-Stream-Id` (present or not), `Location`
    /// (present or not): the headers clients read.
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
    /// A body that is not JSON (error texts), compared verbatim.
    pub text: Option<String>,
}

/// One difference, named so that the deviation table can list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub exchange: String,
    /// `$.get_state.get_agents.agents[*].agent_info.checkpoint`, `status`, or
    /// `header Content-Type`.
    pub path: String,
    pub what: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.exchange, self.path, self.what)
    }
}

/// Compares `real` and `sim`; returns how many fields were compared.
pub fn compare(exchange: &str, real: &Answer, sim: &Answer, out: &mut Vec<Difference>) -> usize {
    let mut diff = |path: &str, what: String| {
        out.push(Difference {
            exchange: exchange.to_string(),
            path: path.to_string(),
            what,
        })
    };
    let mut compared = 1;
    if real.status != sim.status {
        diff(
            "status",
            format!("real {}, mesos-sim {}", real.status, sim.status),
        );
    }
    for (name, value) in &real.headers {
        compared += 1;
        match sim.headers.iter().find(|(n, _)| n == name) {
            None => diff(&format!("header {name}"), "missing in mesos-sim".into()),
            Some((_, v)) if v != value => diff(
                &format!("header {name}"),
                format!("real {value:?}, mesos-sim {v:?}"),
            ),
            Some(_) => {}
        }
    }
    for (name, _) in &sim.headers {
        if !real.headers.iter().any(|(n, _)| n == name) {
            diff(&format!("header {name}"), "only in mesos-sim".into());
        }
    }
    if real.text != sim.text {
        compared += 1;
        diff(
            "text",
            format!("real {:?}, mesos-sim {:?}", real.text, sim.text),
        );
    }
    match (&real.body, &sim.body) {
        (Some(r), Some(s)) => compared += walk("$", r, s, &mut diff),
        (Some(_), None) => diff("$", "no JSON body from mesos-sim".into()),
        (None, Some(_)) => diff("$", "a JSON body only from mesos-sim".into()),
        (None, None) => {}
    }
    compared
}

fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// An enum value as Mesos writes them: `TASK_RUNNING`, `SOURCE_MASTER`.
fn is_enum(s: &str) -> bool {
    s.len() >= 2
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && s.chars().next().is_some_and(|c| c.is_ascii_uppercase())
}

fn walk(path: &str, real: &Value, sim: &Value, diff: &mut impl FnMut(&str, String)) -> usize {
    let mut compared = 1;
    if type_of(real) != type_of(sim) {
        diff(
            path,
            format!("type: real {}, mesos-sim {}", type_of(real), type_of(sim)),
        );
        return compared;
    }
    match (real, sim) {
        (Value::Object(r), Value::Object(s)) => {
            for (key, rv) in r {
                let p = format!("{path}.{key}");
                match s.get(key) {
                    Some(sv) => compared += walk(&p, rv, sv, diff),
                    None => {
                        compared += 1;
                        diff(&p, "missing in mesos-sim".into());
                    }
                }
            }
            for key in s.keys().filter(|k| !r.contains_key(*k)) {
                diff(&format!("{path}.{key}"), "only in mesos-sim".into());
            }
        }
        (Value::Array(r), Value::Array(s)) => {
            let p = format!("{path}[*]");
            if r.len() != s.len() {
                diff(
                    path,
                    format!("length: real {}, mesos-sim {}", r.len(), s.len()),
                );
            }
            for (rv, sv) in r.iter().zip(s) {
                compared += walk(&p, rv, sv, diff);
            }
        }
        (Value::String(r), Value::String(s)) if is_enum(r) && is_enum(s) && r != s => {
            diff(path, format!("value: real {r}, mesos-sim {s}"));
        }
        // Mesos's texts (error and status messages, and the errors clients
        // report), with the IDs the session learnt already replaced by names.
        (Value::String(r), Value::String(s))
            if (path.ends_with(".message") || path.ends_with(".error")) && r != s =>
        {
            diff(path, format!("text: real {r:?}, mesos-sim {s:?}"));
        }
        _ => {}
    }
    compared
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(body: Value) -> Answer {
        Answer {
            status: 200,
            headers: vec![],
            body: Some(body),
            text: None,
        }
    }

    #[test]
    fn keys_types_enums_and_lengths_are_compared_values_are_not() {
        let real = answer(json!({"a": 1, "s": "TASK_RUNNING", "l": [1, 2], "o": {"x": "h1"}}));
        let sim =
            answer(json!({"a": 2, "s": "TASK_FAILED", "l": [1], "o": {"x": "h2"}, "extra": true}));
        let mut out = Vec::new();
        compare("t", &real, &sim, &mut out);
        let got: Vec<String> = out.iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            [
                "t $.l: length: real 2, mesos-sim 1",
                "t $.s: value: real TASK_RUNNING, mesos-sim TASK_FAILED",
                "t $.extra: only in mesos-sim",
            ]
        );
    }
}
