//! Which endpoint a request path names, as libprocess decides it
//! (`ProcessManager::handle` and `ProcessBase::consume` in
//! `3rdparty/libprocess/src/process.cpp`), so that the router only needs
//! each endpoint's canonical path:
//!
//! - the first path segment names a process; a segment naming no process
//!   is handed to the host's delegate: the master on the emulator's own
//!   address (`/state` is `/master/state`, `/api/v1` is `/master/api/v1`,
//!   which is also what the master's redirects show), the agent's
//!   `slave(1)` on an agent's listener (`/state` is `/slave(1)/state`);
//! - empty segments and a trailing `/` are ignored;
//! - within a process the longest endpoint that prefixes the rest of the
//!   path answers (`/master/tasks/x` is `/master/tasks`).

use axum::extract::Request;
use axum::http::Uri;

use crate::model::AGENT_PROCESS;

/// The master's endpoints the emulator serves.
pub const MASTER_ENDPOINTS: &[&str] = &[
    "api/v1",
    "api/v1/scheduler",
    "flags",
    "frameworks",
    "health",
    "redirect",
    "roles",
    "roles.json",
    "slaves",
    "state",
    "state-summary",
    "state.json",
    "tasks",
    "tasks.json",
];

/// An emulated agent's endpoints (`/slave(1)/...`).
pub const AGENT_ENDPOINTS: &[&str] = &[
    "api/v1",
    "api/v1/executor",
    "containers",
    "flags",
    "health",
    "monitor/statistics",
    "monitor/statistics.json",
    "state",
    "state.json",
];

const FILES_ENDPOINTS: &[&str] = &[
    "browse",
    "browse.json",
    "download",
    "download.json",
    "read",
    "read.json",
];

const METRICS_ENDPOINTS: &[&str] = &["snapshot"];

/// Which libprocess instance a listener stands for: the master's (the
/// emulator's own address) or one agent's (`agent_http`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    Master,
    /// An agent, whose process is `slave(1)` ([`AGENT_PROCESS`]).
    Agent,
}

impl Host {
    /// The process every unclaimed path goes to (libprocess's delegate).
    fn delegate(self) -> String {
        match self {
            Host::Master => "master".to_string(),
            Host::Agent => AGENT_PROCESS.to_string(),
        }
    }

    /// The endpoints of a process this host runs; `None` for a name no
    /// process of this host has (`slave(2)` included).
    fn endpoints_of(self, process: &str) -> Option<&'static [&'static str]> {
        match (self, process) {
            (Host::Master, "master") => Some(MASTER_ENDPOINTS),
            (Host::Agent, AGENT_PROCESS) => Some(AGENT_ENDPOINTS),
            (_, "files") => Some(FILES_ENDPOINTS),
            (_, "metrics") => Some(METRICS_ENDPOINTS),
            // `/version` is the version process's root endpoint.
            (_, "version") => Some(&[""]),
            _ => None,
        }
    }
}

/// The canonical path for a request path at the master's address.
pub fn canonical_path(path: &str) -> String {
    canonical_path_on(Host::Master, path)
}

/// The canonical path for a request path on `host`:
/// `/<process>/<endpoint>`, or the path unchanged (bar empty segments)
/// when no endpoint matches, which the router then answers 404.
pub fn canonical_path_on(host: Host, path: &str) -> String {
    let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let Some(&first) = segments.first() else {
        return "/".to_string();
    };
    if first == "__sim" && host == Host::Master {
        return format!("/{}", segments.join("/"));
    }
    let delegate = host.delegate();
    let endpoints = match host.endpoints_of(first) {
        Some(e) => e,
        None => {
            segments.insert(0, &delegate);
            host.endpoints_of(&delegate).unwrap_or_default()
        }
    };
    let process = segments[0];
    let mut name = segments[1..].join("/");
    // Shorten `a/b/c` to `a/b`, then `a`, until an endpoint matches.
    loop {
        if endpoints.contains(&name.as_str()) {
            return if name.is_empty() {
                format!("/{process}")
            } else {
                format!("/{process}/{name}")
            };
        }
        match name.rfind('/') {
            Some(i) => name.truncate(i),
            None => return format!("/{}", segments.join("/")),
        }
    }
}

/// Rewrites a request's path to its canonical form before routing; the
/// query is kept.
pub async fn canonicalize(host: Host, mut req: Request) -> Request {
    let path = req.uri().path();
    let canonical = canonical_path_on(host, path);
    if canonical != path {
        let target = match req.uri().query() {
            Some(q) => format!("{canonical}?{q}"),
            None => canonical,
        };
        let mut parts = req.uri().clone().into_parts();
        if let Ok(pq) = target.parse() {
            parts.path_and_query = Some(pq);
            if let Ok(uri) = Uri::from_parts(parts) {
                *req.uri_mut() = uri;
            }
        }
    }
    req
}

#[cfg(test)]
mod tests {
    use super::canonical_path;

    #[test]
    fn unknown_first_segments_go_to_the_master() {
        for (given, want) in [
            ("/slaves", "/master/slaves"),
            ("/tasks", "/master/tasks"),
            ("/state", "/master/state"),
            ("/state.json", "/master/state.json"),
            ("/api/v1/scheduler", "/master/api/v1/scheduler"),
            ("/api/v1", "/master/api/v1"),
            ("/redirect", "/master/redirect"),
            ("/health", "/master/health"),
        ] {
            assert_eq!(canonical_path(given), want, "{given}");
        }
    }

    #[test]
    fn trailing_and_doubled_slashes_are_ignored() {
        assert_eq!(canonical_path("/master/state/"), "/master/state");
        assert_eq!(canonical_path("//master//tasks//"), "/master/tasks");
        assert_eq!(canonical_path("/version/"), "/version");
        assert_eq!(canonical_path("/files/browse/"), "/files/browse");
    }

    #[test]
    fn an_agent_host_delegates_to_its_own_process() {
        use super::{canonical_path_on, Host};
        let agent = Host::Agent;
        for (given, want) in [
            ("/state", "/slave(1)/state"),
            ("/slave(1)/state/", "/slave(1)/state"),
            ("/monitor/statistics", "/slave(1)/monitor/statistics"),
            ("/files/read", "/files/read"),
            ("/version", "/version"),
            // Every agent is `slave(1)`: `slave(2)` is no process of it.
            ("/slave(2)/state", "/slave(1)/slave(2)/state"),
            ("/__sim/agents", "/slave(1)/__sim/agents"),
        ] {
            assert_eq!(canonical_path_on(agent, given), want, "{given}");
        }
        // Nor are agents' processes on the master's host.
        assert_eq!(canonical_path("/slave(1)/state"), "/master/slave(1)/state");
    }

    #[test]
    fn the_longest_endpoint_prefix_answers() {
        assert_eq!(canonical_path("/master/tasks/x/y"), "/master/tasks");
        assert_eq!(
            super::canonical_path_on(super::Host::Agent, "/slave(1)/monitor/statistics/x"),
            "/slave(1)/monitor/statistics"
        );
        assert_eq!(canonical_path("/master/nothing"), "/master/nothing");
        assert_eq!(canonical_path("/version/x"), "/version/x");
        assert_eq!(canonical_path("/"), "/");
    }
}
