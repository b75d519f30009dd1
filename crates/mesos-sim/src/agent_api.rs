//! An emulated agent's file API, on the agent's own listener
//! (`agent_http`): its sandboxes through `/files/browse`, `/files/read`
//! and `/files/download`. The agents' state is in `agent_state`.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use axum::extract::{Extension, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::app::{json, text, SharedApp};

#[derive(serde::Deserialize)]
pub struct FileQuery {
    path: Option<String>,
    offset: Option<i64>,
    length: Option<i64>,
}

/// The largest slice `/files/read` returns at once (Mesos pages too).
const MAX_READ: i64 = 4 * 1024 * 1024;

/// Which agent's listener a request came to.
#[derive(Debug, Clone)]
pub struct AgentScope {
    pub id: String,
}

/// Resolves a requested path, refusing anything outside this agent's
/// sandboxes (a real agent serves only the paths it attached).
fn resolve(app: &SharedApp, agent: &AgentScope, path: Option<&str>) -> Result<PathBuf, Response> {
    let Some(p) = path.filter(|p| !p.is_empty()) else {
        return Err(text(
            StatusCode::BAD_REQUEST,
            "Expecting 'path=value' in query.",
        ));
    };
    let root = app.lock().sandbox_root.join("slaves").join(&agent.id);
    // A real agent's files process answers a path it lacks with a bare 404.
    let not_found = || text(StatusCode::NOT_FOUND, "");
    // Agents also attach every sandbox at the virtual path
    // `/slaves/<agent>/frameworks/<fw>/executors/<ex>/runs/latest`.
    let virtual_root = format!("/slaves/{}/", agent.id);
    let real = match p.strip_prefix(&virtual_root) {
        Some(rest) if !Path::new(p).exists() => root.join(rest),
        _ => PathBuf::from(p),
    };
    let canon = std::fs::canonicalize(&real).map_err(|_| not_found())?;
    let root = std::fs::canonicalize(&root).map_err(|_| not_found())?;
    if !canon.starts_with(&root) {
        return Err(not_found());
    }
    Ok(canon)
}

fn mode_string(meta: &std::fs::Metadata) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode();
        let mut s = String::from(if meta.is_dir() { "d" } else { "-" });
        for shift in [6, 3, 0] {
            let bits = (mode >> shift) & 7;
            s.push(if bits & 4 != 0 { 'r' } else { '-' });
            s.push(if bits & 2 != 0 { 'w' } else { '-' });
            s.push(if bits & 1 != 0 { 'x' } else { '-' });
        }
        s
    }
    #[cfg(not(unix))]
    {
        if meta.is_dir() {
            "drwxr-xr-x"
        } else {
            "-rw-r--r--"
        }
        .to_string()
    }
}

fn entry(path: &Path, meta: &std::fs::Metadata) -> Value {
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    json!({
        "path": path.display().to_string(),
        "nlink": 1,
        "size": meta.len(),
        "mtime": mtime,
        "mode": mode_string(meta),
        "uid": "",
        "gid": "",
    })
}

/// `/files/browse?path=DIR`: the entries of a sandbox directory.
pub async fn browse(
    State(app): State<SharedApp>,
    Extension(agent): Extension<AgentScope>,
    Query(q): Query<FileQuery>,
) -> Response {
    let dir = match resolve(&app, &agent, q.path.as_deref()) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return text(StatusCode::NOT_FOUND, "Path is not a directory");
    };
    let mut out: Vec<Value> = rd
        .filter_map(Result::ok)
        .filter_map(|e| e.metadata().ok().map(|m| entry(&e.path(), &m)))
        .collect();
    out.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
    json(&Value::Array(out))
}

/// `/files/read?path=FILE&offset=N&length=M`: `{"data", "offset"}`;
/// offset -1 (or absent) with no length asks for the size only.
pub async fn read(
    State(app): State<SharedApp>,
    Extension(agent): Extension<AgentScope>,
    Query(q): Query<FileQuery>,
) -> Response {
    let file = match resolve(&app, &agent, q.path.as_deref()) {
        Ok(f) => f,
        Err(r) => return r,
    };
    if file.is_dir() {
        return text(StatusCode::BAD_REQUEST, "Cannot read a directory");
    }
    let Ok(mut f) = std::fs::File::open(&file) else {
        return text(StatusCode::NOT_FOUND, "Failed to open file");
    };
    let size = f.metadata().map(|m| m.len() as i64).unwrap_or(0);
    let offset = q.offset.unwrap_or(-1);
    if offset == -1 {
        return json(&json!({"data": "", "offset": size}));
    }
    if offset < -1 {
        return text(
            StatusCode::BAD_REQUEST,
            "Negative offset provided: must be -1 or >= 0",
        );
    }
    if q.length.is_some_and(|l| l < -1) {
        return text(StatusCode::BAD_REQUEST, "Negative length provided");
    }
    let length = match q.length {
        None | Some(-1) => MAX_READ,
        Some(l) => l.min(MAX_READ),
    };
    let offset = offset.min(size);
    let mut buf = vec![0u8; (length.min(size - offset)).max(0) as usize];
    if f.seek(SeekFrom::Start(offset as u64)).is_err() || f.read_exact(&mut buf).is_err() {
        return text(StatusCode::INTERNAL_SERVER_ERROR, "Failed to read file");
    }
    json(&json!({"data": String::from_utf8_lossy(&buf), "offset": offset}))
}

/// `/files/download?path=FILE`: the raw bytes.
pub async fn download(
    State(app): State<SharedApp>,
    Extension(agent): Extension<AgentScope>,
    Query(q): Query<FileQuery>,
) -> Response {
    let file = match resolve(&app, &agent, q.path.as_deref()) {
        Ok(f) => f,
        Err(r) => return r,
    };
    match std::fs::read(&file) {
        Ok(bytes) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            )],
            bytes,
        )
            .into_response(),
        Err(_) => text(StatusCode::NOT_FOUND, "Failed to read file"),
    }
}
