//! What a stand-in process reads of its task: the site properties the launch
//! wrote into the sandbox, with Alluxio's defaults for what is not set, and
//! the host it runs on.

use anyhow::{anyhow, Context, Result};
use std::collections::HashMap;
use std::net::{IpAddr, ToSocketAddrs};
use std::path::PathBuf;

/// Set by the stand-in executor to its agent's hostname (from the SUBSCRIBED
/// event): the name a real Alluxio gets from its machine. The harness's
/// agents share one machine, so their hostnames are distinct loopback
/// addresses and the machine's own name cannot tell them apart.
pub const HOSTNAME_ENV: &str = "ALLUXIO_STAND_IN_HOSTNAME";

/// Which Alluxio process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Master,
    Worker,
}

impl Role {
    pub fn parse(s: &str) -> Result<Role> {
        match s {
            "master" => Ok(Role::Master),
            "worker" => Ok(Role::Worker),
            other => Err(anyhow!("unknown role {other:?}: expected master or worker")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Master => "master",
            Role::Worker => "worker",
        }
    }
}

/// The ports a process listens on. Alluxio's defaults apply to keys the
/// site properties leave out, as in Alluxio 1.8 and 2.x.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    pub rpc: u16,
    pub web: u16,
    /// Workers only.
    pub data: Option<u16>,
}

/// `alluxio-site.properties` as the task sees it.
#[derive(Debug, Clone, Default)]
pub struct Site {
    pub path: PathBuf,
    pub properties: HashMap<String, String>,
}

impl Site {
    /// Reads `$ALLUXIO_CONF_DIR/alluxio-site.properties`, the file the
    /// launch writes into the sandbox before the executor starts.
    pub fn load() -> Result<Site> {
        let dir = std::env::var("ALLUXIO_CONF_DIR").unwrap_or_else(|_| "conf".into());
        let path = PathBuf::from(dir).join("alluxio-site.properties");
        let file = std::fs::File::open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        let properties = java_properties::read(std::io::BufReader::new(file))
            .with_context(|| format!("cannot parse {}", path.display()))?;
        Ok(Site { path, properties })
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.properties.get(key).map(|s| s.trim())
    }

    fn port(&self, key: &str, default: u16) -> Result<u16> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| anyhow!("{key}={v:?} in {} is not a port", self.path.display())),
        }
    }

    pub fn ports(&self, role: Role) -> Result<Ports> {
        Ok(match role {
            Role::Master => Ports {
                rpc: self.port("alluxio.master.port", 19998)?,
                web: self.port("alluxio.master.web.port", 19999)?,
                data: None,
            },
            Role::Worker => Ports {
                rpc: self.port("alluxio.worker.port", 29998)?,
                web: self.port("alluxio.worker.web.port", 30000)?,
                data: Some(self.port("alluxio.worker.data.port", 29999)?),
            },
        })
    }

    /// The host this process serves on: `alluxio.<role>.hostname` when set,
    /// else its host's name, `machine` (see [`HOSTNAME_ENV`]).
    pub fn own_hostname(&self, role: Role, machine: &str) -> String {
        self.get(&format!("alluxio.{}.hostname", role.as_str()))
            .unwrap_or(machine)
            .to_string()
    }

    /// The master a worker registers with. The Mesos scripts pass
    /// `ALLUXIO_MASTER_HOSTNAME` as a JVM system property, which wins over
    /// the site file in Alluxio.
    pub fn master_hostname(&self) -> Result<String> {
        if let Ok(h) = std::env::var("ALLUXIO_MASTER_HOSTNAME") {
            if !h.is_empty() {
                return Ok(h);
            }
        }
        self.get("alluxio.master.hostname")
            .map(str::to_string)
            .ok_or_else(|| {
                anyhow!(
                    "no master to register with: neither ALLUXIO_MASTER_HOSTNAME nor \
                     alluxio.master.hostname in {} is set",
                    self.path.display()
                )
            })
    }
}

/// The address a hostname resolves to: what Alluxio binds when it serves
/// on its host's name.
pub fn resolve(host: &str) -> Result<IpAddr> {
    (host, 0)
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve host {host:?}"))?
        .map(|a| a.ip())
        .next()
        .ok_or_else(|| anyhow!("host {host:?} resolves to no address"))
}

/// Bytes in an Alluxio size (`1GB`, `512MB`, `1024`), as Alluxio's
/// `FormatUtils.parseSpaceSize` reads them (binary units).
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim().to_ascii_uppercase();
    let digits_end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(digits_end);
    let num: f64 = num.parse().ok()?;
    let shift = match unit.trim().trim_end_matches('B') {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        "P" => 50,
        _ => return None,
    };
    Some((num * (1u64 << shift) as f64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(pairs: &[(&str, &str)]) -> Site {
        Site {
            path: "conf/alluxio-site.properties".into(),
            properties: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn ports_default_as_alluxio_and_follow_the_site() {
        let s = site(&[("alluxio.worker.web.port", "31000")]);
        assert_eq!(
            s.ports(Role::Master).unwrap(),
            Ports {
                rpc: 19998,
                web: 19999,
                data: None
            }
        );
        assert_eq!(
            s.ports(Role::Worker).unwrap(),
            Ports {
                rpc: 29998,
                web: 31000,
                data: Some(29999)
            }
        );
        let bad = site(&[("alluxio.master.port", "x")]);
        let e = bad.ports(Role::Master).unwrap_err().to_string();
        assert!(
            e.contains("alluxio.master.port") && e.contains("not a port"),
            "{e}"
        );
    }

    #[test]
    fn sizes_are_binary() {
        assert_eq!(parse_size("1GB"), Some(1 << 30));
        assert_eq!(parse_size("512mb"), Some(512 << 20));
        assert_eq!(parse_size("1024"), Some(1024));
        assert_eq!(parse_size("1.5KB"), Some(1536));
        assert_eq!(parse_size("lots"), None);
    }
}
