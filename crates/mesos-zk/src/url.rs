//! `zk://` URLs as Mesos accepts them for `--zk` and `--master`.
//!
//! Grammar (from Mesos' `zookeeper::URL::parse`):
//! `zk://[user:password@]host1:port1[,host2:port2...][/path]`.
//! Everything from the first `/` after the server list is the znode path;
//! a missing path means `/`, as in Mesos. Everything before the last `@` is
//! the `digest` credentials. Unlike Mesos, which hands the server list to the
//! ZooKeeper C client unchecked, each server is validated here so that a typo
//! is reported when the URL is read rather than as a connection failure; a
//! server without a port gets ZooKeeper's default port 2181.
//!
//! The password is kept in a [`Secret`], which never prints; URLs show `***`,
//! and [`ZkUrl`]'s `Display`/`Debug` never show it either.

use std::fmt;
use std::str::FromStr;

use crate::error::ZkError;
use mesos_api::Secret;

/// ZooKeeper's conventional client port, used when a server names none.
pub const DEFAULT_ZK_PORT: u16 = 2181;

const SCHEME: &str = "zk://";
const REDACTED: &str = "***";

/// `digest` scheme credentials (`user:password`) from a `zk://` URL.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Credentials {
    /// The user name (not secret).
    pub user: String,
    /// The password (redacted when printed).
    pub password: Secret,
}

impl Credentials {
    /// The `user:password` bytes that ZooKeeper's `digest` scheme expects.
    pub(crate) fn digest_auth(&self) -> Vec<u8> {
        format!("{}:{}", self.user, self.password.expose()).into_bytes()
    }
}

/// A parsed `zk://` URL.
#[derive(Clone, PartialEq, Eq)]
pub struct ZkUrl {
    servers: Vec<String>,
    path: String,
    credentials: Option<Credentials>,
}

impl ZkUrl {
    /// The servers as `host:port` (IPv6 hosts in brackets), in URL order.
    pub fn servers(&self) -> &[String] {
        &self.servers
    }

    /// The absolute znode path the masters register under, without a
    /// trailing `/` (except for the root itself, `/`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The `digest` credentials, if the URL has any.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }

    /// The connect string for the ZooKeeper client (`h1:p1,h2:p2`).
    pub(crate) fn connect_string(&self) -> String {
        self.servers.join(",")
    }

    /// The full path of a child of [`ZkUrl::path`].
    pub(crate) fn child_path(&self, name: &str) -> String {
        if self.path == "/" {
            format!("/{name}")
        } else {
            format!("{}/{name}", self.path)
        }
    }
}

impl fmt::Display for ZkUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(SCHEME)?;
        if let Some(credentials) = &self.credentials {
            write!(f, "{}:{REDACTED}@", credentials.user)?;
        }
        write!(f, "{}{}", self.servers.join(","), self.path)
    }
}

impl fmt::Debug for ZkUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ZkUrl({self})")
    }
}

impl FromStr for ZkUrl {
    type Err = ZkError;

    fn from_str(input: &str) -> Result<Self, ZkError> {
        let invalid = |reason: String| ZkError::InvalidUrl {
            url: redact_raw(input),
            reason,
        };
        let trimmed = input.trim();
        let rest = trimmed.strip_prefix(SCHEME).ok_or_else(|| {
            invalid(
                "a ZooKeeper URL starts with 'zk://', e.g. zk://host1:2181,host2:2181/mesos"
                    .to_string(),
            )
        })?;

        // As in Mesos: the path is everything from the first '/', the
        // credentials everything before the last '@' of what precedes it.
        let (authority, raw_path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (credentials, server_list) = match authority.rfind('@') {
            Some(i) => (
                Some(parse_credentials(&authority[..i]).map_err(invalid)?),
                &authority[i + 1..],
            ),
            None => (None, authority),
        };
        if server_list.is_empty() {
            return Err(invalid(
                "no ZooKeeper server is named: write zk://host:2181/path".to_string(),
            ));
        }
        let servers = server_list
            .split(',')
            .map(parse_server)
            .collect::<Result<Vec<_>, _>>()
            .map_err(invalid)?;
        let path = normalize_path(raw_path).map_err(invalid)?;
        Ok(ZkUrl {
            servers,
            path,
            credentials,
        })
    }
}

fn parse_credentials(raw: &str) -> Result<Credentials, String> {
    let Some((user, password)) = raw.split_once(':') else {
        return Err("credentials must be 'user:password' (ZooKeeper digest scheme)".to_string());
    };
    if user.is_empty() {
        return Err("the user name before ':' in the credentials is empty".to_string());
    }
    Ok(Credentials {
        user: user.to_string(),
        password: Secret::new(password),
    })
}

/// Validates one `host[:port]` entry and returns it as `host:port`.
fn parse_server(entry: &str) -> Result<String, String> {
    let entry = entry.trim();
    if entry.is_empty() {
        return Err("the server list has an empty entry (check for a stray ',')".to_string());
    }
    let (host, port) = if let Some(bracketed) = entry.strip_prefix('[') {
        let Some(end) = bracketed.find(']') else {
            return Err(format!("server '{entry}' opens '[' without a closing ']'"));
        };
        let host = &bracketed[..end];
        let after = &bracketed[end + 1..];
        let port = match after.strip_prefix(':') {
            Some(port) => Some(port),
            None if after.is_empty() => None,
            None => {
                return Err(format!(
                    "server '{entry}' has text after ']' that is not ':port'"
                ))
            }
        };
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!(
                "server '{entry}' has '[{host}]', which is not an IPv6 address"
            ));
        }
        (format!("[{host}]"), port)
    } else if entry.matches(':').count() > 1 {
        return Err(format!(
            "server '{entry}' has several ':'; IPv6 addresses go in brackets: [::1]:2181"
        ));
    } else {
        let (host, port) = match entry.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (entry, None),
        };
        if host.is_empty() {
            return Err(format!("server '{entry}' has no host name"));
        }
        if let Some(bad) = host
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
        {
            return Err(format!("server '{entry}' has '{bad}' in its host name"));
        }
        (host.to_string(), port)
    };
    let port = match port {
        None => DEFAULT_ZK_PORT,
        Some(port) => match port.parse::<u16>() {
            Ok(port) if port != 0 => port,
            _ => {
                return Err(format!(
                    "server '{entry}' has port '{port}'; a port is a number from 1 to 65535"
                ))
            }
        },
    };
    Ok(format!("{host}:{port}"))
}

/// Drops a trailing `/` (as Mesos' group does) and rejects paths ZooKeeper
/// would refuse, so the error names the URL instead of a server message.
fn normalize_path(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok("/".to_string());
    }
    for component in trimmed[1..].split('/') {
        if component.is_empty() {
            return Err(format!("path '{raw}' has an empty component ('//')"));
        }
        if component == "." || component == ".." {
            return Err(format!(
                "path '{raw}' has a '{component}' component, which ZooKeeper does not allow"
            ));
        }
        if component.chars().any(char::is_control) {
            return Err(format!("path '{raw}' has a control character"));
        }
    }
    Ok(trimmed.to_string())
}

/// Masks the password in a URL that may not parse, for error messages: the
/// text between the first ':' of the credentials and the last '@' before
/// the path becomes `***`.
pub(crate) fn redact_raw(input: &str) -> String {
    let trimmed = input.trim();
    let (prefix, rest) = match trimmed.strip_prefix(SCHEME) {
        Some(rest) => (SCHEME, rest),
        None => match trimmed.find("://") {
            Some(i) => trimmed.split_at(i + 3),
            None => ("", trimmed),
        },
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return trimmed.to_string();
    };
    let userinfo = &rest[..at];
    let user = match userinfo.split_once(':') {
        Some((user, _)) => format!("{user}:{REDACTED}"),
        // Without ':' the whole thing may be a password: hide it all.
        None => REDACTED.to_string(),
    };
    format!("{prefix}{user}{}", &rest[at..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> ZkUrl {
        s.parse()
            .unwrap_or_else(|e| panic!("{s} should parse: {e}"))
    }

    fn reject(s: &str) -> String {
        match s.parse::<ZkUrl>() {
            Ok(url) => panic!("{s} should not parse, got {url}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn several_hosts_keep_their_order_and_the_path() {
        let url = parse("zk://zk1:2181,zk2:2182,10.0.0.3:2183/mesos");
        assert_eq!(url.servers(), ["zk1:2181", "zk2:2182", "10.0.0.3:2183"]);
        assert_eq!(url.path(), "/mesos");
        assert!(url.credentials().is_none());
        assert_eq!(
            url.to_string(),
            "zk://zk1:2181,zk2:2182,10.0.0.3:2183/mesos"
        );
        assert_eq!(url.connect_string(), "zk1:2181,zk2:2182,10.0.0.3:2183");
    }

    #[test]
    fn missing_path_means_root_as_in_mesos() {
        assert_eq!(parse("zk://host1:2181").path(), "/");
        assert_eq!(parse("zk://host1:2181/").path(), "/");
        assert_eq!(
            parse("zk://host1:2181").child_path("json.info_"),
            "/json.info_"
        );
    }

    #[test]
    fn nested_path_keeps_components_and_drops_trailing_slash() {
        let url = parse("zk://h:1/path/to/znode/");
        assert_eq!(url.path(), "/path/to/znode");
        assert_eq!(url.child_path("json.info_"), "/path/to/znode/json.info_");
    }

    #[test]
    fn credentials_are_split_at_the_last_at_sign_and_first_colon() {
        let url = parse("zk://jake:p@ss:w0rd@host1:2181,host2:2181/mesos");
        let creds = url.credentials().unwrap();
        assert_eq!(creds.user, "jake");
        assert_eq!(creds.password.expose(), "p@ss:w0rd");
        assert_eq!(creds.digest_auth(), b"jake:p@ss:w0rd");
        assert_eq!(url.servers(), ["host1:2181", "host2:2181"]);
    }

    #[test]
    fn password_never_shows_in_display_or_debug() {
        let url = parse("zk://jake:hunter2@host1:2181/mesos");
        let shown = format!("{url} {url:?} {:?}", url.credentials());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(url.to_string(), "zk://jake:***@host1:2181/mesos");
    }

    #[test]
    fn password_never_shows_in_parse_errors() {
        let err = reject("zk://jake:hunter2@host1:99999/mesos");
        assert!(!err.contains("hunter2"), "{err}");
        assert!(err.contains("zk://jake:***@host1:99999/mesos"), "{err}");
        let err = reject("zk://hunter2@host1:2181/mesos");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn server_without_port_gets_the_zookeeper_default() {
        assert_eq!(parse("zk://zk1/mesos").servers(), ["zk1:2181"]);
    }

    #[test]
    fn ipv6_servers_are_bracketed() {
        let url = parse("zk://[::1]:2181,[fe80::1]/mesos");
        assert_eq!(url.servers(), ["[::1]:2181", "[fe80::1]:2181"]);
    }

    #[test]
    fn bad_ports_are_rejected_with_the_server_named() {
        for (url, server) in [
            ("zk://h:99999/m", "h:99999"),
            ("zk://h:abc/m", "h:abc"),
            ("zk://h:0/m", "h:0"),
            ("zk://h:/m", "h:"),
            ("zk://a:1,b:x/m", "b:x"),
        ] {
            let err = reject(url);
            assert!(err.contains(&format!("'{server}'")), "{url}: {err}");
            assert!(err.contains("1 to 65535"), "{url}: {err}");
        }
    }

    #[test]
    fn malformed_urls_are_rejected_with_a_hint() {
        assert!(reject("http://h:2181/mesos").contains("starts with 'zk://'"));
        assert!(reject("h:2181/mesos").contains("starts with 'zk://'"));
        assert!(reject("zk:///mesos").contains("no ZooKeeper server"));
        assert!(reject("zk://a:1,,b:2/m").contains("empty entry"));
        assert!(reject("zk://:2181/m").contains("no host name"));
        assert!(reject("zk://h:1//m").contains("empty component"));
        assert!(reject("zk://h:1/a/../b").contains("'..'"));
        assert!(reject("zk://user@h:1/m").contains("user:password"));
        assert!(reject("zk://::1:2181/m").contains("brackets"));
    }

    #[test]
    fn redaction_of_unparsable_urls() {
        assert_eq!(redact_raw("zk://u:p@h/x@y"), "zk://u:***@h/x@y");
        assert_eq!(redact_raw("zk://h/x@y"), "zk://h/x@y");
        assert_eq!(redact_raw("http://u:p@h"), "http://u:***@h");
        assert_eq!(redact_raw("secret@h"), "***@h");
    }
}
