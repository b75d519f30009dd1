//! The JSON `MasterInfo` a Mesos master stores in its `json.info_` znode,
//! and the HTTP endpoint derived from it.
//!
//! The fields follow `message MasterInfo` of `include/mesos/mesos.proto`:
//! `id`, `ip` and `port` are `required`, so a node without them is malformed
//! (Mesos' own detector rejects it too); `domain`, `capabilities` and any
//! other field are accepted and ignored.
//!
//! Which host to use: `address.hostname`, else `address.ip`, else
//! `hostname`, else the deprecated packed `ip`. Mesos fills `address` since
//! 0.24 and prefers it; the hostname comes first because that is what the
//! master advertises (`--advertise_ip`/`--hostname`) and what its own
//! redirects (`/master/redirect`) use. The port is `address.port`, else `port`.
//!
//! The packed `ip` is `in_addr.s_addr` (network byte order) stored as a
//! `uint32` by a little-endian machine (see `mesos_api::v1::master_info_ip`).
//! The JSON type itself is `mesos_api::v1::MasterInfo`.

use std::net::IpAddr;

use mesos_api::v1::{master_info_ipv4, MasterInfo as MasterInfoJson};
use serde::Deserialize;

/// The leading master: where to reach it, which znode named it, and the
/// MasterInfo it published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterInfo {
    /// Host for the HTTP API (chosen as the module documentation says).
    pub host: String,
    /// Port for the HTTP API.
    pub port: u16,
    /// `http://host:port` (IPv6 literals in brackets), no trailing slash.
    pub base_url: String,
    /// Full path of the znode, e.g. `/mesos/json.info_0000000003`.
    pub znode: String,
    /// The znode's sequence number (lower leads).
    pub sequence: i64,
    /// The MasterInfo as the master wrote it.
    pub info: MasterInfoJson,
}

/// Why node data is not a usable MasterInfo (the caller adds node and URL).
#[derive(Debug)]
pub(crate) struct Malformed(pub String);

/// Parses a znode's data into a [`MasterInfo`].
pub(crate) fn parse_master_info(
    znode: &str,
    sequence: i64,
    data: &[u8],
) -> Result<MasterInfo, Malformed> {
    let info = decode(data)?;
    let (host, port) = endpoint(&info)?;
    let base_url = match host.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => format!("http://[{v6}]:{port}"),
        _ => format!("http://{host}:{port}"),
    };
    Ok(MasterInfo {
        host,
        port,
        base_url,
        znode: znode.to_string(),
        sequence,
        info,
    })
}

/// Checks that a MasterInfo JSON value would be accepted by a detector.
pub(crate) fn validate(value: &serde_json::Value) -> Result<(), Malformed> {
    if !value.is_object() {
        return Err(Malformed(
            "the MasterInfo must be a JSON object".to_string(),
        ));
    }
    let info = MasterInfoJson::deserialize(value)
        .map_err(|e| Malformed(format!("not a Mesos MasterInfo: {e}")))?;
    endpoint(&info).map(|_| ())
}

fn decode(data: &[u8]) -> Result<MasterInfoJson, Malformed> {
    if data.is_empty() {
        return Err(Malformed("the znode has no data".to_string()));
    }
    let value: serde_json::Value =
        serde_json::from_slice(data).map_err(|e| Malformed(format!("not valid JSON ({e})")))?;
    if !value.is_object() {
        return Err(Malformed("the JSON is not an object".to_string()));
    }
    MasterInfoJson::deserialize(&value)
        .map_err(|e| Malformed(format!("not a Mesos MasterInfo ({e})")))
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn endpoint(info: &MasterInfoJson) -> Result<(String, u16), Malformed> {
    let address = info.address.as_ref();
    let host = address
        .and_then(|a| non_empty(&a.hostname).or(non_empty(&a.ip)))
        .or(non_empty(&info.hostname))
        .map(str::to_string)
        .unwrap_or_else(|| master_info_ipv4(info.ip).to_string());
    if host == "0.0.0.0" {
        return Err(Malformed(
            "it names no host: no address, no hostname and ip 0".to_string(),
        ));
    }
    let port: i64 = match address {
        Some(a) => i64::from(a.port),
        None => i64::from(info.port),
    };
    let port = u16::try_from(port)
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| Malformed(format!("port {port} is not a TCP port")))?;
    Ok((host, port))
}

/// The first bytes of node data, quoted and escaped, for error messages.
pub(crate) fn preview(data: &[u8]) -> String {
    const MAX: usize = 48;
    if data.is_empty() {
        return "nothing (empty)".to_string();
    }
    let shown = &data[..data.len().min(MAX)];
    let text: String = shown
        .iter()
        .flat_map(|b| std::ascii::escape_default(*b))
        .map(char::from)
        .collect();
    if data.len() > MAX {
        format!("\"{text}\"... ({} bytes)", data.len())
    } else {
        format!("\"{text}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_ip_is_network_order_read_little_endian() {
        let ip: std::net::Ipv4Addr = "10.0.0.5".parse().unwrap();
        assert_eq!(mesos_api::v1::master_info_ip(ip), 83_886_090);
        assert_eq!(master_info_ipv4(83_886_090), ip);
    }

    #[test]
    fn mesos_written_json_is_understood() {
        // Shaped like JSON::protobuf(MasterInfo) of a Mesos 1.x master.
        let data = br#"{"address":{"hostname":"m1.example.com","ip":"10.0.0.5","port":5050},
            "capabilities":[{"type":"AGENT_UPDATE"}],"hostname":"m1.example.com",
            "id":"3c9f-1","ip":83886090,"pid":"master@10.0.0.5:5050","port":5050,"version":"1.11.0"}"#;
        let m = parse_master_info("/mesos/json.info_0000000001", 1, data).unwrap();
        assert_eq!(m.host, "m1.example.com");
        assert_eq!(m.port, 5050);
        assert_eq!(m.base_url, "http://m1.example.com:5050");
        assert_eq!(m.info.version.as_deref(), Some("1.11.0"));
    }

    #[test]
    fn host_falls_back_from_address_to_hostname_to_packed_ip() {
        let mut info = MasterInfoJson::new("a", "10.0.0.5".parse().unwrap(), 5051, None, None);
        assert_eq!(endpoint(&info).unwrap(), ("10.0.0.5".to_string(), 5051));
        info.address = None;
        info.hostname = Some("h".into());
        assert_eq!(endpoint(&info).unwrap(), ("h".to_string(), 5051));
        info.hostname = Some(String::new());
        assert_eq!(endpoint(&info).unwrap(), ("10.0.0.5".to_string(), 5051));
    }

    #[test]
    fn ipv6_address_is_bracketed_in_base_url() {
        let data = br#"{"id":"x","ip":0,"port":5050,"address":{"ip":"::1","port":5050}}"#;
        let m = parse_master_info("/m/json.info_0000000001", 1, data).unwrap();
        assert_eq!(m.base_url, "http://[::1]:5050");
    }

    #[test]
    fn missing_required_fields_and_bad_ports_are_malformed() {
        for (data, needle) in [
            (&br#"{"ip":1,"port":5050}"#[..], "missing field `id`"),
            (br#"{"id":"x","ip":0,"port":5050}"#, "names no host"),
            (br#"{"id":"x","ip":1,"port":70000}"#, "port 70000"),
            (br#"[1]"#, "not an object"),
            (b"\x08\x01garbage", "not valid JSON"),
            (b"", "no data"),
        ] {
            let err = parse_master_info("/n", 1, data).unwrap_err();
            assert!(
                err.0.contains(needle),
                "{}: {}",
                String::from_utf8_lossy(data),
                err.0
            );
        }
    }

    #[test]
    fn preview_escapes_binary_and_truncates() {
        assert_eq!(preview(b"\x08ab\""), "\"\\x08ab\\\"\"");
        let long = vec![b'a'; 100];
        assert!(preview(&long).ends_with("... (100 bytes)"));
    }
}
