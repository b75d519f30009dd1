//! Shared application state and the checks every Mesos endpoint makes
//! first: injected faults (delay, 503), leadership (307 to the leader or
//! 503 when none is known), scheduler authentication (HTTP Basic).

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;

use crate::agent_http::AgentServers;
use crate::model::Master;
use crate::strict::CallAudit;

/// What every handler shares.
pub struct App {
    master: Mutex<Master>,
    pub persist_file: Option<PathBuf>,
    /// Wakes the persister when something durable changed.
    pub changed: tokio::sync::Notify,
    /// Strict-calls mode and the record of call types received.
    pub calls: CallAudit,
    /// The agents' own HTTP servers.
    pub agent_servers: AgentServers,
}

pub type SharedApp = Arc<App>;

impl App {
    pub fn new(
        master: Master,
        persist_file: Option<PathBuf>,
        calls: CallAudit,
        agent_servers: AgentServers,
    ) -> SharedApp {
        Arc::new(App {
            master: Mutex::new(master),
            persist_file,
            changed: tokio::sync::Notify::new(),
            calls,
            agent_servers,
        })
    }

    /// The master, locked. Never held across an await.
    pub fn lock(&self) -> MutexGuard<'_, Master> {
        // A panic while holding the lock would be a bug in the emulator;
        // keep serving with the state as it was rather than cascading.
        self.master.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Call after a change so that the persister saves it.
    pub fn touch(&self) {
        if self.persist_file.is_some() {
            self.changed.notify_one();
        }
    }
}

/// Plain-text response with a status, as libprocess writes errors.
/// A 200 whose body is the RecordIO records sent on `rx` (JSON events),
/// open until the sender is dropped: the scheduler and operator streams.
pub fn event_stream(rx: tokio::sync::mpsc::UnboundedReceiver<axum::body::Bytes>) -> Response {
    use futures_util::StreamExt;
    let body = axum::body::Body::from_stream(
        tokio_stream::wrappers::UnboundedReceiverStream::new(rx)
            .map(Ok::<axum::body::Bytes, std::convert::Infallible>),
    );
    let mut r = Response::new(body);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

pub fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        body.into(),
    )
        .into_response()
}

/// JSON response with status 200.
pub fn json(value: &serde_json::Value) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        value.to_string(),
    )
        .into_response()
}

/// Applies injected delay and failures. `counts` says whether this request
/// uses up one of the "fail next N calls".
pub async fn faults(app: &App, counts: bool) -> Option<Response> {
    let delay = app.lock().faults.response_delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mut m = app.lock();
    if counts && m.faults.fail_next_calls > 0 {
        m.faults.fail_next_calls -= 1;
        return Some(text(
            StatusCode::SERVICE_UNAVAILABLE,
            "Injected failure (mesos-sim fault)",
        ));
    }
    None
}

/// The body of a v1 API call as JSON, after the checks Mesos makes (with
/// its messages): a Content-Type is present, it is JSON, and the body
/// parses.
pub fn json_body(headers: &HeaderMap, body: &[u8]) -> Result<serde_json::Value, Response> {
    let Some(ct) = headers.get(header::CONTENT_TYPE) else {
        return Err(text(
            StatusCode::BAD_REQUEST,
            "Expecting 'Content-Type' to be present",
        ));
    };
    if ct.as_bytes() != b"application/json" {
        return Err(text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Expecting 'Content-Type' of application/json or application/x-protobuf",
        ));
    }
    parse_json(body).map_err(|e| text(StatusCode::BAD_REQUEST, e))
}

/// A request body as JSON, or Mesos's error when it is not: stout parses
/// with picojson, whose error names the line and quotes the rest of it
/// from the character it stumbled on (nothing at the end of the body).
pub fn parse_json(body: &[u8]) -> Result<serde_json::Value, String> {
    serde_json::from_slice(body).map_err(|e| {
        let line = body
            .split(|b| *b == b'\n')
            .nth(e.line().saturating_sub(1))
            .unwrap_or_default();
        let near = if e.is_eof() {
            ""
        } else {
            let from = e.column().saturating_sub(1).min(line.len());
            std::str::from_utf8(&line[from..]).unwrap_or_default()
        };
        format!(
            "Failed to parse body into JSON: syntax error at line {} near: {near}",
            e.line()
        )
    })
}

/// Whether the `Accept` header (absent: anything) allows a JSON answer.
pub fn accepts_json(headers: &HeaderMap) -> bool {
    accepts(headers, "application/json")
}

/// Whether the `Accept` header (absent: anything) allows `media`, an
/// `application/...` type.
pub fn accepts(headers: &HeaderMap, media: &str) -> bool {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    accept.split(',').any(|part| {
        let given = part.split(';').next().unwrap_or("").trim();
        given == media || matches!(given, "application/*" | "*/*")
    })
}

/// The checks every v1 API endpoint makes first, in Mesos's order: injected
/// faults, leadership (307/503), then the method (405 with `Allow: POST`).
pub async fn v1_preamble(app: &App, method: &Method, uri: &Uri) -> Option<Response> {
    if let Some(r) = faults(app, true).await {
        return Some(r);
    }
    if let Some(r) = not_leading(app, uri) {
        return Some(r);
    }
    if *method != Method::POST {
        let mut r = text(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("Expecting one of {{ 'POST' }}, but received '{method}'"),
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return Some(r);
    }
    None
}

/// When this master does not lead: 307 to the leader (scheme-relative
/// `//host:port/path`, as `Master::Http::redirect` does) or 503.
pub fn not_leading(app: &App, uri: &Uri) -> Option<Response> {
    let m = app.lock();
    if m.leading {
        return None;
    }
    let Some(leader) = &m.leader_url else {
        return Some(text(StatusCode::SERVICE_UNAVAILABLE, "No leader elected"));
    };
    Some(redirect_to(leader, uri.path(), uri.query()))
}

/// 307 to `leader` + path; `/master/redirect` and `/redirect` go to the base.
pub fn redirect_to(leader: &str, path: &str, query: Option<&str>) -> Response {
    let base = leader
        .trim_end_matches('/')
        .trim_start_matches("http://")
        .trim_start_matches("https://");
    let base = format!("//{base}");
    let loc = if path == "/redirect" || path == "/master/redirect" {
        base
    } else {
        match query {
            Some(q) => format!("{base}{path}?{q}"),
            None => format!("{base}{path}"),
        }
    };
    let mut r = StatusCode::TEMPORARY_REDIRECT.into_response();
    if let Ok(v) = HeaderValue::from_str(&loc) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// Result of checking HTTP Basic credentials.
pub enum Auth {
    /// No authentication configured.
    Open,
    Principal(String),
    Refused(Response),
}

/// HTTP Basic authentication against the cluster file's principals.
pub fn authenticate(app: &App, headers: &HeaderMap) -> Auth {
    let m = app.lock();
    let creds = &m.spec.authentication.principals;
    if creds.is_empty() {
        return Auth::Open;
    }
    let refused = || {
        let mut r = text(StatusCode::UNAUTHORIZED, "");
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"mesos\""),
        );
        Auth::Refused(r)
    };
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return refused();
    };
    let Some(b64) = value.strip_prefix("Basic ") else {
        return refused();
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else {
        return refused();
    };
    let Ok(pair) = String::from_utf8(decoded) else {
        return refused();
    };
    let Some((user, pass)) = pair.split_once(':') else {
        return refused();
    };
    if creds
        .iter()
        .any(|c| c.principal == user && c.secret == pass)
    {
        Auth::Principal(user.to_string())
    } else {
        refused()
    }
}
