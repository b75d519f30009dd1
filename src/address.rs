//! Task addresses: `master[0]`, `worker["agent-host"]`.
//!
//! An address names a slot of the deployment, not a Mesos task: a replaced
//! task keeps its address and gets a new task ID. Workers are addressed by
//! agent hostname because there is at most one worker per agent.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Which Alluxio process a task runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Master,
    Worker,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Master => "master",
            Role::Worker => "worker",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A slot of the deployment. Masters sort before workers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Address {
    Master(u32),
    Worker(String),
}

impl Address {
    pub fn role(&self) -> Role {
        match self {
            Address::Master(_) => Role::Master,
            Address::Worker(_) => Role::Worker,
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Master(i) => write!(f, "master[{i}]"),
            Address::Worker(host) => write!(f, "worker[{host:?}]"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} is not a task address; write master[0] or worker[\"agent-hostname\"]", crate::excerpt::quoted(.0))]
pub struct AddressError(pub String);

impl FromStr for Address {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || AddressError(s.to_string());
        let t = s.trim();
        if let Some(rest) = t.strip_prefix("master[") {
            let idx = rest.strip_suffix(']').ok_or_else(err)?;
            return idx.parse().map(Address::Master).map_err(|_| err());
        }
        if let Some(rest) = t.strip_prefix("worker[") {
            let inner = rest.strip_suffix(']').ok_or_else(err)?;
            let host = inner
                .strip_prefix('"')
                .and_then(|x| x.strip_suffix('"'))
                .unwrap_or(inner);
            if host.is_empty() || host.contains('"') {
                return Err(err());
            }
            return Ok(Address::Worker(host.to_string()));
        }
        Err(err())
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip_through_text() {
        for a in [
            Address::Master(0),
            Address::Master(12),
            Address::Worker("a1.example".into()),
        ] {
            assert_eq!(a.to_string().parse::<Address>().unwrap(), a);
        }
        assert_eq!(Address::Worker("h".into()).to_string(), "worker[\"h\"]");
        assert_eq!(
            "worker[h]".parse::<Address>().unwrap(),
            Address::Worker("h".into())
        );
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "master",
            "master[x]",
            "worker[]",
            "slave[\"h\"]",
            "master[0",
        ] {
            assert!(bad.parse::<Address>().is_err(), "{bad}");
        }
    }
}
