//! `MasterInfo` and its address, as masters publish them (also in ZooKeeper).

use serde::{Deserialize, Serialize};

/// `Address`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    pub port: i32,
}

/// `MasterInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasterInfo {
    pub id: String,
    /// IPv4 address as a uint32 in network byte order (as Mesos stores it).
    pub ip: u32,
    pub port: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<serde_json::Value>,
}

impl MasterInfo {
    /// The MasterInfo a master at `ip:port` publishes (as Mesos's
    /// `createMasterInfo` does): packed `ip`, `pid` `master@ip:port`, and
    /// `address`; `hostname` is set in both places when given.
    pub fn new(
        id: impl Into<String>,
        ip: std::net::Ipv4Addr,
        port: u16,
        hostname: Option<String>,
        version: Option<String>,
    ) -> Self {
        MasterInfo {
            id: id.into(),
            ip: master_info_ip(ip),
            port: u32::from(port),
            pid: Some(format!("master@{ip}:{port}")),
            hostname: hostname.clone(),
            version,
            address: Some(Address {
                hostname,
                ip: Some(ip.to_string()),
                port: i32::from(port),
            }),
            domain: None,
            capabilities: Vec::new(),
        }
    }
}

/// Mesos's `MasterInfo.ip` for an IPv4 address: the address bytes in
/// network order read as a little-endian uint32 (what `inet_addr` returns
/// on the x86 machines Mesos runs on).
pub fn master_info_ip(addr: std::net::Ipv4Addr) -> u32 {
    u32::from_le_bytes(addr.octets())
}

/// The inverse of [`master_info_ip`].
pub fn master_info_ipv4(ip: u32) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::from(ip.to_le_bytes())
}
