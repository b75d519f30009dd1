//! Which endpoint a request path names, as libprocess decides it
//! (`ProcessManager::handle` and `ProcessBase::consume` in
//! `3rdparty/libprocess/src/process.cpp`), so that the router only needs
//! each endpoint's canonical path:
//!
//! - the first path segment names a process; a segment naming no process
//!   is handed to the master (`/state` is `/master/state`, `/api/v1` is
//!   `/master/api/v1`), which is also what the master's redirects show;
//! - empty segments and a trailing `/` are ignored;
//! - within a process the longest endpoint that prefixes the rest of the
//!   path answers (`/master/tasks/x` is `/master/tasks`).

use axum::extract::Request;
use axum::http::Uri;

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

/// An emulated agent's endpoints (`/slave(N)/...`).
pub const AGENT_ENDPOINTS: &[&str] = &[
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

/// The process every unclaimed path goes to (libprocess's delegate).
const DELEGATE: &str = "master";

/// The endpoints of a process this emulator runs; `None` for a name no
/// process has. `/__sim` (fault injection) is kept apart, with no lookup.
fn endpoints_of(process: &str) -> Option<&'static [&'static str]> {
    match process {
        "master" => Some(MASTER_ENDPOINTS),
        "files" => Some(FILES_ENDPOINTS),
        "metrics" => Some(METRICS_ENDPOINTS),
        // `/version` is the version process's root endpoint.
        "version" => Some(&[""]),
        p if is_agent_process(p) => Some(AGENT_ENDPOINTS),
        _ => None,
    }
}

/// `slave(N)`, the id of an agent's process.
fn is_agent_process(segment: &str) -> bool {
    segment
        .strip_prefix("slave(")
        .and_then(|s| s.strip_suffix(')'))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The canonical path for a request path: `/<process>/<endpoint>`, or the
/// path unchanged (bar empty segments) when no endpoint matches, which
/// the router then answers 404.
pub fn canonical_path(path: &str) -> String {
    let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let Some(&first) = segments.first() else {
        return "/".to_string();
    };
    if first == "__sim" {
        return format!("/{}", segments.join("/"));
    }
    let endpoints = match endpoints_of(first) {
        Some(e) => e,
        None => {
            segments.insert(0, DELEGATE);
            MASTER_ENDPOINTS
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
pub async fn canonicalize(mut req: Request) -> Request {
    let path = req.uri().path();
    let canonical = canonical_path(path);
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
        assert_eq!(canonical_path("/slave(1)/state/"), "/slave(1)/state");
        assert_eq!(canonical_path("/files/browse/"), "/files/browse");
    }

    #[test]
    fn the_longest_endpoint_prefix_answers() {
        assert_eq!(canonical_path("/master/tasks/x/y"), "/master/tasks");
        assert_eq!(
            canonical_path("/slave(2)/monitor/statistics"),
            "/slave(2)/monitor/statistics"
        );
        assert_eq!(canonical_path("/master/nothing"), "/master/nothing");
        assert_eq!(canonical_path("/version/x"), "/version/x");
        assert_eq!(canonical_path("/"), "/");
    }
}
