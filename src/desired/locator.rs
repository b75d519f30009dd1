//! The `[mesos] master` setting (and `--mesos`): where Mesos is.

use crate::desired::MasterLocator;
use crate::excerpt::{quoted, short};

/// What a master setting may look like, for help lines.
pub const MASTER_FORMS: &str =
    "write http://host:5050, a comma-separated list of such URLs, zk://host:2181/mesos, or \"local\"";

/// Parses `http(s)://host:port[,...]`, `zk://[user:pass@]host:port,.../path` or `local`.
/// The error names what is wrong, without repeating credentials.
pub fn parse_master_locator(s: &str) -> Result<MasterLocator, String> {
    let s = s.trim();
    if s == "local" {
        return Ok(MasterLocator::Local);
    }
    if s.is_empty() {
        return Err("the Mesos master is empty".into());
    }
    if let Some(rest) = s.strip_prefix("zk://") {
        let (hosts, path) = rest.split_once('/').unwrap_or((rest, ""));
        let hosts = hosts.rsplit('@').next().unwrap_or_default();
        if hosts.is_empty() || hosts.split(',').any(|h| h.trim().is_empty()) {
            return Err(
                "a zk:// master needs ZooKeeper hosts: zk://zk1:2181,zk2:2181/mesos".into(),
            );
        }
        if path.trim_matches('/').is_empty() {
            return Err("a zk:// master needs the znode path: zk://zk1:2181/mesos".into());
        }
        if s.contains(char::is_whitespace) {
            return Err("a zk:// master may not contain spaces".into());
        }
        return Ok(MasterLocator::ZooKeeper(s.to_string()));
    }
    let mut urls = Vec::new();
    for part in s.split(',') {
        let url = part.trim();
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"))
            .ok_or_else(|| {
                if url.contains("://") {
                    format!("{} is not an http(s) or zk URL", quoted(url))
                } else {
                    format!("{} has no scheme: write http://{}", quoted(url), short(url))
                }
            })?;
        let authority = rest.split('/').next().unwrap_or_default();
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => (h, Some(p)),
            _ => (authority, None),
        };
        if host.is_empty() || url.contains(char::is_whitespace) {
            return Err(format!("{} has no host", quoted(url)));
        }
        if let Some(p) = port {
            if !matches!(p.parse::<u32>(), Ok(1..=65535)) {
                return Err(format!("{} has an invalid port {}", quoted(url), quoted(p)));
            }
        }
        urls.push(url.trim_end_matches('/').to_string());
    }
    Ok(MasterLocator::Http(urls))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_forms() {
        assert_eq!(parse_master_locator("local"), Ok(MasterLocator::Local));
        assert_eq!(
            parse_master_locator("http://m1:5050, https://m2:5050/"),
            Ok(MasterLocator::Http(vec![
                "http://m1:5050".into(),
                "https://m2:5050".into()
            ]))
        );
        assert_eq!(
            parse_master_locator("zk://u:p@zk1:2181,zk2:2181/mesos"),
            Ok(MasterLocator::ZooKeeper(
                "zk://u:p@zk1:2181,zk2:2181/mesos".into()
            ))
        );
    }

    #[test]
    fn rejects_malformed_masters_with_a_reason() {
        for bad in [
            "",
            "mesos:5050",
            "ftp://x",
            "http://",
            "http://m:99999",
            "zk://zk1:2181",
            "zk:///mesos",
            "http://a:5050,,http://b:5050",
        ] {
            assert!(parse_master_locator(bad).is_err(), "{bad:?}");
        }
        assert!(parse_master_locator("mesos:5050")
            .unwrap_err()
            .contains("http://mesos:5050"));
    }
}
