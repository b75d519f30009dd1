//! The cluster file: which agents the emulated master has, how fast time
//! passes for it, whether schedulers must authenticate and whether task
//! commands really run. TOML, unknown keys rejected so typos surface.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use mesos_api::PortRanges;
use serde::{Deserialize, Deserializer};

/// A parsed cluster file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClusterSpec {
    #[serde(default)]
    pub master: MasterSpec,
    #[serde(default)]
    pub timing: Timing,
    #[serde(default)]
    pub authentication: Authentication,
    /// Really run task commands in their sandboxes.
    #[serde(default)]
    pub exec: bool,
    #[serde(default)]
    pub agents: Vec<AgentSpec>,
}

/// How the master describes itself.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MasterSpec {
    /// Advertised hostname; the listen address's IP when absent.
    #[serde(default)]
    pub hostname: Option<String>,
    /// Reported by `/version` and MasterInfo: plain dotted integers, as pymesos needs.
    #[serde(default = "default_version")]
    pub version: String,
}

impl Default for MasterSpec {
    fn default() -> Self {
        MasterSpec {
            hostname: None,
            version: default_version(),
        }
    }
}

fn default_version() -> String {
    "1.11.0".to_string()
}

/// The master's clocks.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// How often unallocated resources are offered (Mesos: 1s).
    #[serde(default = "d_alloc", deserialize_with = "de_duration")]
    pub allocation_interval: Duration,
    /// Time from launch to TASK_STARTING, and again to TASK_RUNNING.
    #[serde(default = "d_start", deserialize_with = "de_duration")]
    pub task_start_delay: Duration,
    /// HEARTBEAT period on subscription streams (Mesos: 15s).
    #[serde(default = "d_heartbeat", deserialize_with = "de_duration")]
    pub heartbeat_interval: Duration,
    /// Rescind offers not answered within this time; "0s" means never (Mesos default).
    #[serde(default, deserialize_with = "de_duration")]
    pub offer_timeout: Duration,
    /// First resend of an unacknowledged status update; doubles up to 10 minutes (Mesos: 10s).
    #[serde(default = "d_retry", deserialize_with = "de_duration")]
    pub status_update_retry: Duration,
    /// Exec mode: how long a custom executor has to subscribe before its
    /// tasks fail with REASON_EXECUTOR_REGISTRATION_TIMEOUT (the agent's
    /// `--executor_registration_timeout`, 1mins).
    #[serde(default = "d_registration", deserialize_with = "de_duration")]
    pub executor_registration_timeout: Duration,
}

// The defaults are Mesos's, as real 1.7.3 to 1.11.0 measured here (the
// conformance suite times them): a 1 s allocation batch, ~100 ms from
// LAUNCH to TASK_STARTING for a command task.
fn d_alloc() -> Duration {
    Duration::from_secs(1)
}
fn d_start() -> Duration {
    Duration::from_millis(100)
}
fn d_heartbeat() -> Duration {
    Duration::from_secs(15)
}
fn d_retry() -> Duration {
    Duration::from_secs(10)
}
fn d_registration() -> Duration {
    Duration::from_secs(60)
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            allocation_interval: d_alloc(),
            task_start_delay: d_start(),
            heartbeat_interval: d_heartbeat(),
            offer_timeout: Duration::ZERO,
            status_update_retry: d_retry(),
            executor_registration_timeout: d_registration(),
        }
    }
}

/// HTTP authentication. Principals given: schedulers must authenticate
/// (Mesos' `--authenticate_http_frameworks` with `--credentials`). The
/// other realms are off by default, as in Mesos, and need principals too.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Authentication {
    #[serde(default)]
    pub principals: Vec<Credential>,
    /// `--authenticate_http_readonly`: `/master/state`, `/master/frameworks`,
    /// `/master/slaves`, `/master/tasks` (and their aliases) need credentials.
    #[serde(default)]
    pub http_readonly: bool,
    /// `--authenticate_http_readwrite`: the v1 operator API (`/api/v1`)
    /// needs credentials.
    #[serde(default)]
    pub http_readwrite: bool,
}

/// A principal and its secret (HTTP Basic).
#[derive(Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    pub principal: String,
    pub secret: String,
}

impl std::fmt::Debug for Credential {
    // The secret never reaches a log or an error message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("principal", &self.principal)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Resources of one role on an agent (MB for mem and disk).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RoleResources {
    #[serde(default)]
    pub cpus: f64,
    #[serde(default)]
    pub mem: f64,
    #[serde(default)]
    pub disk: f64,
    #[serde(default, deserialize_with = "de_ports")]
    pub ports: PortRanges,
}

/// One agent.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AgentSpec {
    /// Agent ID; `<master id>-S<n>` when absent.
    #[serde(default)]
    pub id: Option<String>,
    pub hostname: String,
    /// Unreserved resources.
    #[serde(default)]
    pub cpus: f64,
    #[serde(default)]
    pub mem: f64,
    #[serde(default)]
    pub disk: f64,
    #[serde(default = "default_ports", deserialize_with = "de_ports")]
    pub ports: PortRanges,
    /// Text or number attributes, e.g. `{ rack = "r1", level = 3 }`.
    #[serde(default)]
    pub attributes: BTreeMap<String, toml::Value>,
    /// Statically reserved resources by role.
    #[serde(default)]
    pub reserved: BTreeMap<String, RoleResources>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

fn default_ports() -> PortRanges {
    PortRanges::from_ranges([(31000, 32000)])
}

fn de_ports<'de, D: Deserializer<'de>>(d: D) -> Result<PortRanges, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(serde::de::Error::custom)
}

fn de_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let s = String::deserialize(d)?;
    parse_duration(&s).map_err(serde::de::Error::custom)
}

/// Parses `100ms`, `1s`, `2.5s`, `5m`, `1h`, `0`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| {
        format!("invalid duration {s:?}: write it like \"100ms\", \"1s\" or \"5m\"")
    })?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "s" | "" if unit.trim().is_empty() && n != 0.0 => {
            return Err(format!("invalid duration {s:?}: add a unit (ms, s, m, h)"))
        }
        "s" | "" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        other => {
            return Err(format!(
                "invalid duration {s:?}: unknown unit {other:?} (use ms, s, m or h)"
            ))
        }
    };
    Ok(Duration::from_secs_f64(secs))
}

/// A cluster file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot read cluster file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cluster file {path}: {message}")]
    Invalid { path: String, message: String },
}

impl AgentSpec {
    /// Checks one agent; the message starts with the field path (`.cpus: ...`).
    pub fn validate(&self) -> Result<(), String> {
        if self.hostname.trim().is_empty() {
            return Err(": hostname must not be empty".into());
        }
        if self
            .id
            .as_deref()
            .is_some_and(|id| id.is_empty() || id.contains('/'))
        {
            return Err(".id: must be non-empty and contain no '/'".into());
        }
        for (what, v) in [("cpus", self.cpus), ("mem", self.mem), ("disk", self.disk)] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(format!(".{what} must be a number >= 0"));
            }
        }
        for (role, r) in &self.reserved {
            if role == "*" || role.is_empty() {
                return Err(format!(
                    ".reserved: {role:?} is not a role one can reserve for"
                ));
            }
            if r.cpus < 0.0 || r.mem < 0.0 || r.disk < 0.0 {
                return Err(format!(".reserved.{role}: amounts must be >= 0"));
            }
        }
        for (k, v) in &self.attributes {
            if !(v.is_str() || v.is_integer() || v.is_float()) {
                return Err(format!(".attributes.{k}: use a string or a number"));
            }
        }
        Ok(())
    }
}

/// The largest cluster file read: thousands of agents are a few MB of TOML.
pub const MAX_CLUSTER_FILE_BYTES: u64 = 16 * 1024 * 1024;

impl ClusterSpec {
    /// Reads and validates a cluster file.
    pub fn load(path: &Path) -> Result<ClusterSpec, ClusterError> {
        let read_error = |source| ClusterError::Read {
            path: path.display().to_string(),
            source,
        };
        let bytes = crate::persist::read_bounded(
            path,
            MAX_CLUSTER_FILE_BYTES,
            "a cluster file of agents holds",
        )
        .map_err(read_error)?;
        let text = String::from_utf8(bytes).map_err(|_| {
            read_error(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            ))
        })?;
        ClusterSpec::parse(&text).map_err(|message| ClusterError::Invalid {
            path: path.display().to_string(),
            message,
        })
    }

    /// Parses cluster TOML; the error names the line and column.
    pub fn parse(text: &str) -> Result<ClusterSpec, String> {
        let spec: ClusterSpec = toml::from_str(text).map_err(|e| {
            let pos = e
                .span()
                .map(|sp| {
                    let before = &text[..sp.start.min(text.len())];
                    let line = before.matches('\n').count() + 1;
                    let col = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
                    format!("line {line}, column {col}: ")
                })
                .unwrap_or_default();
            format!("{pos}{}", e.message())
        })?;
        spec.validate()?;
        Ok(spec)
    }

    fn validate(&self) -> Result<(), String> {
        let mut hosts = std::collections::BTreeSet::new();
        let mut ids = std::collections::BTreeSet::new();
        for (i, a) in self.agents.iter().enumerate() {
            a.validate().map_err(|e| format!("agents[{i}]{e}"))?;
            if !hosts.insert(a.hostname.clone()) {
                return Err(format!(
                    "agents[{i}]: hostname {:?} is used by two agents; give each agent its own",
                    a.hostname
                ));
            }
            if let Some(id) = &a.id {
                if !ids.insert(id.clone()) {
                    return Err(format!("agents[{i}]: id {id:?} is used by two agents"));
                }
            }
        }
        if self.timing.allocation_interval.is_zero() {
            return Err("timing.allocation_interval must be more than 0".to_string());
        }
        if self.timing.heartbeat_interval.is_zero() {
            return Err("timing.heartbeat_interval must be more than 0".to_string());
        }
        if self.timing.status_update_retry.is_zero() {
            return Err("timing.status_update_retry must be more than 0".to_string());
        }
        let a = &self.authentication;
        if (a.http_readonly || a.http_readwrite) && a.principals.is_empty() {
            return Err(
                "authentication.http_readonly/http_readwrite need authentication.principals (who may authenticate)"
                    .to_string(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_cluster_file_fails_at_the_limit() {
        let err = ClusterSpec::load(Path::new("/dev/zero")).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("cannot read cluster file /dev/zero: it is larger than 16 MiB"),
            "{msg}"
        );
    }

    #[test]
    fn parses_agents_timing_and_auth() {
        let spec = ClusterSpec::parse(
            r#"
exec = true
[timing]
allocation_interval = "50ms"
task_start_delay = "1s"
[authentication]
principals = [{ principal = "analytics", secret = "s3cret" }]
[[agents]]
hostname = "a1"
cpus = 4
mem = 8192
ports = "[19998-19999, 31000-32000]"
attributes = { rack = "r1", level = 3 }
[agents.reserved.analytics]
cpus = 1
"#,
        )
        .unwrap();
        assert!(spec.exec);
        assert_eq!(spec.timing.allocation_interval, Duration::from_millis(50));
        assert_eq!(spec.timing.task_start_delay, Duration::from_secs(1));
        assert_eq!(spec.timing.heartbeat_interval, Duration::from_secs(15));
        assert_eq!(
            spec.agents[0].ports.to_string(),
            "[19998-19999, 31000-32000]"
        );
        assert_eq!(spec.agents[0].reserved["analytics"].cpus, 1.0);
        assert!(!format!("{:?}", spec.authentication).contains("s3cret"));
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_place() {
        let e = ClusterSpec::parse("[[agents]]\nhostname = \"a\"\ncpu = 4\n").unwrap_err();
        assert!(e.contains("line 3") && e.contains("cpu"), "{e}");
        let e = ClusterSpec::parse("[timing]\nallocation_interval = \"fast\"\n").unwrap_err();
        assert!(e.contains("invalid duration"), "{e}");
        let e =
            ClusterSpec::parse("[[agents]]\nhostname = \"a\"\nports = \"[9-1]\"\n").unwrap_err();
        assert!(e.contains("ends before"), "{e}");
        let e = ClusterSpec::parse("[[agents]]\nhostname = \"a\"\n[[agents]]\nhostname = \"a\"\n")
            .unwrap_err();
        assert!(e.contains("two agents"), "{e}");
    }

    #[test]
    fn durations_need_units() {
        assert_eq!(parse_duration("100ms").unwrap(), Duration::from_millis(100));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("1d").is_err());
    }
}
