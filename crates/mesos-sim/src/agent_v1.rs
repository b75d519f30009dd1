//! An emulated agent's v1 API, `POST /api/v1` at the agent's own address
//! (`Http::api` in `src/slave/http.cpp`): the request checks in the
//! agent's order and texts, and GET_HEALTH, GET_VERSION and GET_AGENT.
//! The other calls need a containerizer, a logger or a metrics process
//! the emulator does not have: 501.

use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use crate::agent_api::AgentScope;
use crate::app::{accepts_json, json, text, SharedApp};

/// `agent::Call::Type` in `include/mesos/v1/agent/agent.proto`.
const AGENT_CALL_TYPES: &[&str] = &[
    "UNKNOWN",
    "GET_HEALTH",
    "GET_FLAGS",
    "GET_VERSION",
    "GET_METRICS",
    "GET_LOGGING_LEVEL",
    "SET_LOGGING_LEVEL",
    "LIST_FILES",
    "READ_FILE",
    "GET_STATE",
    "GET_CONTAINERS",
    "GET_FRAMEWORKS",
    "GET_EXECUTORS",
    "GET_OPERATIONS",
    "GET_TASKS",
    "GET_AGENT",
    "GET_RESOURCE_PROVIDERS",
    "LAUNCH_NESTED_CONTAINER",
    "WAIT_NESTED_CONTAINER",
    "KILL_NESTED_CONTAINER",
    "REMOVE_NESTED_CONTAINER",
    "LAUNCH_NESTED_CONTAINER_SESSION",
    "ATTACH_CONTAINER_INPUT",
    "ATTACH_CONTAINER_OUTPUT",
    "LAUNCH_CONTAINER",
    "WAIT_CONTAINER",
    "KILL_CONTAINER",
    "REMOVE_CONTAINER",
    "ADD_RESOURCE_PROVIDER_CONFIG",
    "UPDATE_RESOURCE_PROVIDER_CONFIG",
    "REMOVE_RESOURCE_PROVIDER_CONFIG",
    "MARK_RESOURCE_PROVIDER_GONE",
    "PRUNE_IMAGES",
];

const MEDIA_TYPES: &str = "application/json or application/x-protobuf or application/recordio";

/// `POST /slave(1)/api/v1`.
pub async fn handle(
    State(app): State<SharedApp>,
    Extension(agent): Extension<AgentScope>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if method != Method::POST {
        let mut r = text(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("Expecting one of {{ 'POST' }}, but received '{method}'"),
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    let Some(content_type) = headers.get(header::CONTENT_TYPE) else {
        return text(
            StatusCode::BAD_REQUEST,
            "Expecting 'Content-Type' to be present",
        );
    };
    // JSON only, as everywhere in the emulator: protobuf and RecordIO
    // requests are refused like unknown media types.
    if content_type.as_bytes() != b"application/json" {
        return text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Expecting 'Content-Type' of {MEDIA_TYPES}"),
        );
    }
    // The agent checks `Accept` before it reads the body. RecordIO is what
    // streaming calls (LAUNCH_NESTED_CONTAINER_SESSION, ATTACH_CONTAINER_*)
    // ask for, with the records' type in `Message-Accept`: accepted here
    // as by a real agent, and the call then answered as any other.
    if !accepts_json(&headers) && !crate::app::accepts(&headers, "application/recordio") {
        return text(
            StatusCode::NOT_ACCEPTABLE,
            format!("Expecting 'Accept' to allow {MEDIA_TYPES}"),
        );
    }
    let call: Value = match crate::app::parse_json(&body) {
        Ok(v) => v,
        Err(e) => return text(StatusCode::BAD_REQUEST, e),
    };
    // `type` is an optional enum: stout drops a value it does not know.
    let Some(kind) = call
        .get("type")
        .and_then(Value::as_str)
        .filter(|k| AGENT_CALL_TYPES.contains(k))
    else {
        return text(
            StatusCode::BAD_REQUEST,
            "Failed to validate agent::Call: Expecting 'type' to be present",
        );
    };
    let m = app.lock();
    let Some(a) = m.agents.get(&agent.id) else {
        return text(StatusCode::NOT_FOUND, "");
    };
    let payload = match kind {
        "GET_HEALTH" => json!({"healthy": true}),
        "GET_VERSION" => {
            json!({"version_info": {"version": m.spec.master.version, "build_user": "mesos-sim"}})
        }
        "GET_AGENT" => json!({ "agent_info": a.v1_info() }),
        other => {
            return text(
                StatusCode::NOT_IMPLEMENTED,
                format!("mesos-sim does not implement the agent call {other}"),
            )
        }
    };
    json(&json!({ "type": kind, kind.to_ascii_lowercase(): payload }))
}
