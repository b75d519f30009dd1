//! How each kind of setting is read from a TOML value and from property
//! text, so that the two can be compared as values (`1GB` equals `1024MB`).

use crate::desired::size::ByteSize;
use crate::desired::WorkerCount;
use crate::excerpt::{quoted, short};
use std::time::Duration;

/// Why a TOML value does not fit.
pub enum Unfit {
    /// A different TOML type (the message says what was expected).
    Type,
    /// The right type but not a valid value.
    Bad(String),
}

/// How to read one kind of setting from TOML and from property text.
pub struct Kind<T> {
    pub expected: &'static str,
    pub from_toml: fn(&toml::Value) -> Result<T, Unfit>,
    pub from_text: fn(&str) -> Result<T, String>,
    pub show: fn(&T) -> String,
    pub help: &'static str,
}

pub fn type_name(v: &toml::Value) -> &'static str {
    match v {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) => "an integer",
        toml::Value::Float(_) => "a decimal number",
        toml::Value::Boolean(_) => "a boolean",
        toml::Value::Datetime(_) => "a date",
        toml::Value::Array(_) => "an array",
        toml::Value::Table(_) => "a table",
    }
}

pub const TEXT: Kind<String> = Kind {
    expected: "a string",
    from_toml: |v| match v {
        toml::Value::String(s) if s.trim().is_empty() => Err(Unfit::Bad("may not be empty".into())),
        toml::Value::String(s) => Ok(s.trim().to_string()),
        _ => Err(Unfit::Type),
    },
    from_text: |s| {
        if s.trim().is_empty() {
            Err("may not be empty".into())
        } else {
            Ok(s.trim().to_string())
        }
    },
    show: |s| s.clone(),
    help: "write a non-empty quoted string",
};

/// `{ tcp = true }` or `{ http = "/path" }`, with optional timing keys
/// (TOML only: no property key).
pub const HEALTH_CHECK: Kind<super::HealthCheck> = Kind {
    expected: "a table: { tcp = true } or { http = \"/path\" }",
    from_toml: |v| {
        let toml::Value::Table(t) = v else {
            return Err(Unfit::Type);
        };
        let probe = match (t.get("tcp"), t.get("http")) {
            (Some(toml::Value::Boolean(true)), None) => super::HealthProbe::Tcp,
            (None, Some(toml::Value::String(p))) if p.starts_with('/') => {
                super::HealthProbe::Http { path: p.clone() }
            }
            (None, Some(_)) => {
                return Err(Unfit::Bad(
                    "the http path must be a string starting with /".into(),
                ))
            }
            _ => {
                let keys: Vec<&str> = t.keys().map(String::as_str).collect();
                return Err(Unfit::Bad(format!(
                    "expected exactly one of `tcp = true` or `http = \"/path\"`, found keys {}",
                    short(&format!("{keys:?}"))
                )));
            }
        };
        let mut timing = super::HealthTiming::default();
        for (key, value) in t.iter().filter(|(k, _)| !matches!(k.as_str(), "tcp" | "http")) {
            let duration = || match value {
                toml::Value::String(s) => humantime::parse_duration(s.trim())
                    .map_err(|e| Unfit::Bad(format!("`{key}`: {}", not_a_duration(s, e)))),
                _ => Err(Unfit::Bad(format!("`{key}` must be a quoted duration such as \"10s\""))),
            };
            match key.as_str() {
                "delay" => timing.delay = duration()?,
                "interval" => timing.interval = duration()?,
                "timeout" => timing.timeout = duration()?,
                "grace_period" => timing.grace_period = duration()?,
                "consecutive_failures" => match value {
                    toml::Value::Integer(n) if *n >= 1 && *n <= i64::from(u32::MAX) => {
                        timing.consecutive_failures = *n as u32
                    }
                    _ => {
                        return Err(Unfit::Bad(
                            "`consecutive_failures` must be a whole number, at least 1".into(),
                        ))
                    }
                },
                other => {
                    return Err(Unfit::Bad(format!(
                        "unknown key {}: a health check has `tcp` or `http`, and `delay`, `interval`, `timeout`, `grace_period`, `consecutive_failures`",
                        quoted(other)
                    )))
                }
            }
        }
        if timing.interval.is_zero() || timing.timeout.is_zero() {
            return Err(Unfit::Bad("`interval` and `timeout` must be more than 0s".into()));
        }
        Ok(super::HealthCheck { probe, timing })
    },
    from_text: |s| {
        let probe = match s.trim() {
            "tcp" => super::HealthProbe::Tcp,
            other => match other.strip_prefix("http ") {
                Some(p) if p.starts_with('/') => super::HealthProbe::Http {
                    path: p.to_string(),
                },
                _ => return Err(format!("{} is not `tcp` or `http /path`", quoted(other))),
            },
        };
        Ok(super::HealthCheck {
            probe,
            timing: super::HealthTiming::default(),
        })
    },
    show: |h| h.to_string(),
    help: "write `health_check = { tcp = true }` or `health_check = { http = \"/\" }`, with optional `delay`, `interval`, `timeout`, `grace_period` (durations) and `consecutive_failures`",
};

/// `"alluxio"` or `"mesos"`: when apply counts a task as started.
pub const READY_WHEN: Kind<super::ReadyWhen> = Kind {
    expected: "\"alluxio\" or \"mesos\"",
    from_toml: |v| match v {
        toml::Value::String(s) => (READY_WHEN.from_text)(s).map_err(Unfit::Bad),
        _ => Err(Unfit::Type),
    },
    from_text: |s| match s.trim() {
        "alluxio" => Ok(super::ReadyWhen::Alluxio),
        "mesos" => Ok(super::ReadyWhen::Mesos),
        other => Err(format!("{} is neither \"alluxio\" nor \"mesos\"", quoted(other))),
    },
    show: |w| w.to_string(),
    help: "write ready = \"alluxio\" (Alluxio's REST API says it serves) or ready = \"mesos\" (TASK_RUNNING)",
};

/// Property-key patterns (`*` for any run of characters), TOML only.
pub const KEY_PATTERNS: Kind<Vec<String>> = Kind {
    expected: "an array of property keys",
    from_toml: |v| match v {
        toml::Value::Array(items) => items
            .iter()
            .map(|i| match i {
                toml::Value::String(s) if s.is_empty() || s.contains(char::is_whitespace) => {
                    Err(Unfit::Bad(format!(
                        "{} is not a property key pattern",
                        quoted(s)
                    )))
                }
                toml::Value::String(s) if s.chars().all(|c| c == '*') => Err(Unfit::Bad(
                    "a pattern of `*` alone would hide every property".into(),
                )),
                toml::Value::String(s) => Ok(s.clone()),
                _ => Err(Unfit::Type),
            })
            .collect(),
        _ => Err(Unfit::Type),
    },
    from_text: |_| Err("set secret_properties in [alluxio] of the deployment file".into()),
    show: |v| v.join(","),
    help: "write secret_properties = [\"acme.vault.token\", \"fs.acme.*.key\"] (`*` matches any run of characters)",
};

pub const COUNT: Kind<u32> = Kind {
    expected: "a whole number",
    from_toml: |v| match v {
        toml::Value::Integer(n) => {
            u32::try_from(*n).map_err(|_| Unfit::Bad(format!("{n} is out of range")))
        }
        _ => Err(Unfit::Type),
    },
    from_text: |s| {
        s.trim()
            .parse::<u32>()
            .map_err(|_| format!("{} is not a whole number", quoted(s.trim())))
    },
    show: |n| n.to_string(),
    help: "write a whole number such as 1 or 3, without quotes",
};

fn positive_cpus(x: f64) -> Result<f64, String> {
    if x.is_finite() && x > 0.0 {
        Ok(x)
    } else {
        Err(format!("{x} CPUs is not more than 0"))
    }
}

pub const CPUS: Kind<f64> = Kind {
    expected: "a number of CPUs",
    from_toml: |v| match v {
        toml::Value::Integer(n) => positive_cpus(*n as f64).map_err(Unfit::Bad),
        toml::Value::Float(x) => positive_cpus(*x).map_err(Unfit::Bad),
        _ => Err(Unfit::Type),
    },
    from_text: |s| {
        let x: f64 = s
            .trim()
            .parse()
            .map_err(|_| format!("{} is not a number of CPUs", quoted(s.trim())))?;
        positive_cpus(x)
    },
    show: |x| x.to_string(),
    help: "write a number of CPUs greater than 0, such as 1 or 0.5",
};

pub const SIZE: Kind<ByteSize> = Kind {
    expected: "a size such as \"1024MB\"",
    from_toml: |v| match v {
        toml::Value::String(s) => s.parse::<ByteSize>().map_err(|e| Unfit::Bad(e.0)),
        _ => Err(Unfit::Type),
    },
    from_text: |s| s.parse::<ByteSize>().map_err(|e| e.0),
    show: |b| b.to_string(),
    help: "write a quoted size as Alluxio does: \"1024MB\", \"4GB\", \"0.5GB\", \"512KB\", or plain bytes",
};

fn port_in_range(n: i64) -> Result<u16, String> {
    match u16::try_from(n) {
        Ok(p) if p >= 1 => Ok(p),
        _ => Err(format!("port {n} is outside 1..65535")),
    }
}

pub const PORT: Kind<u16> = Kind {
    expected: "a port number",
    from_toml: |v| match v {
        toml::Value::Integer(n) => port_in_range(*n).map_err(Unfit::Bad),
        _ => Err(Unfit::Type),
    },
    from_text: |s| {
        let n: i64 = s
            .trim()
            .parse()
            .map_err(|_| format!("{} is not a port number", quoted(s.trim())))?;
        port_in_range(n)
    },
    show: |p| p.to_string(),
    help: "use a port between 1 and 65535 (a default Mesos agent offers 31000-32000)",
};

pub const BOOL: Kind<bool> = Kind {
    expected: "true or false",
    from_toml: |v| match v {
        toml::Value::Boolean(b) => Ok(*b),
        _ => Err(Unfit::Type),
    },
    from_text: |s| match s.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(format!("{} is neither true nor false", quoted(other))),
    },
    show: |b| b.to_string(),
    help: "write true or false",
};

fn not_a_duration(s: &str, e: humantime::DurationError) -> String {
    format!("{} is not a duration: {}", quoted(s), short(&e.to_string()))
}

pub const DURATION: Kind<Duration> = Kind {
    expected: "a duration such as \"4w\"",
    from_toml: |v| match v {
        toml::Value::String(s) => {
            humantime::parse_duration(s.trim()).map_err(|e| Unfit::Bad(not_a_duration(s, e)))
        }
        _ => Err(Unfit::Type),
    },
    from_text: |s| humantime::parse_duration(s.trim()).map_err(|e| not_a_duration(s, e)),
    show: |d| humantime::format_duration(*d).to_string(),
    help: "write a quoted duration such as \"4w\", \"7days\" or \"12h\"",
};

pub const WORKER_COUNT: Kind<WorkerCount> = Kind {
    expected: "\"all\" or a whole number",
    from_toml: |v| match v {
        toml::Value::String(s) if s.trim() == "all" => Ok(WorkerCount::All),
        toml::Value::String(s) => Err(Unfit::Bad(format!(
            "{} is neither \"all\" nor a number",
            quoted(s)
        ))),
        toml::Value::Integer(n) => u32::try_from(*n)
            .map(WorkerCount::Exactly)
            .map_err(|_| Unfit::Bad(format!("{n} is out of range"))),
        _ => Err(Unfit::Type),
    },
    from_text: |s| match s.trim() {
        "all" => Ok(WorkerCount::All),
        n => n
            .parse()
            .map(WorkerCount::Exactly)
            .map_err(|_| format!("{} is neither \"all\" nor a number", quoted(n))),
    },
    show: |c| match c {
        WorkerCount::All => "all".into(),
        WorkerCount::Exactly(n) => n.to_string(),
    },
    help: "write count = \"all\" (one worker per eligible agent) or a number such as count = 3",
};

#[cfg(test)]
mod tests {
    use super::*;

    /// What the site gets for a TOML setting must read back as the same value.
    fn round_trips<T: PartialEq + std::fmt::Debug>(kind: &Kind<T>, toml: toml::Value) {
        let v = (kind.from_toml)(&toml).unwrap_or_else(|_| panic!("{toml:?}"));
        assert_eq!((kind.from_text)(&(kind.show)(&v)).unwrap(), v, "{toml:?}");
    }

    #[test]
    fn shown_values_read_back_as_the_same_value() {
        round_trips(&CPUS, toml::Value::Float(0.5));
        round_trips(&CPUS, toml::Value::Integer(2));
        round_trips(&SIZE, toml::Value::String("1536MB".into()));
        round_trips(&SIZE, toml::Value::String("0.5GB".into()));
        round_trips(&PORT, toml::Value::Integer(31000));
        round_trips(&COUNT, toml::Value::Integer(3));
        round_trips(&WORKER_COUNT, toml::Value::String("all".into()));
        round_trips(&WORKER_COUNT, toml::Value::Integer(4));
        round_trips(&TEXT, toml::Value::String(" x ".into()));
        round_trips(&DURATION, toml::Value::String("4w".into()));
        round_trips(&BOOL, toml::Value::Boolean(true));
    }

    #[test]
    fn rejects_out_of_range_and_mistyped_values() {
        assert!(matches!(
            (PORT.from_toml)(&toml::Value::Integer(65536)),
            Err(Unfit::Bad(_))
        ));
        assert!(matches!(
            (PORT.from_toml)(&toml::Value::Integer(0)),
            Err(Unfit::Bad(_))
        ));
        assert!((PORT.from_text)("-1").is_err());
        assert!(matches!(
            (COUNT.from_toml)(&toml::Value::Integer(-1)),
            Err(Unfit::Bad(_))
        ));
        assert!(matches!(
            (CPUS.from_toml)(&toml::Value::Float(f64::NAN)),
            Err(Unfit::Bad(_))
        ));
        assert!(matches!(
            (CPUS.from_toml)(&toml::Value::String("1".into())),
            Err(Unfit::Type)
        ));
        assert!(matches!(
            (SIZE.from_toml)(&toml::Value::Integer(1024)),
            Err(Unfit::Type)
        ));
        assert!((BOOL.from_text)("yes").is_err());
        assert_eq!((BOOL.from_text)(" TRUE "), Ok(true));
        assert!((TEXT.from_text)("   ").is_err());
    }
}
