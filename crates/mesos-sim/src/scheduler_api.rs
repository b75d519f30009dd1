//! `POST /api/v1/scheduler`, answering as `Master::Http::scheduler` in
//! `src/master/http.cpp` does: header and body checks with Mesos's status
//! codes and texts, SUBSCRIBE as a chunked RecordIO stream, every other
//! call 202 with an empty body and handed to the master (ACCEPT in
//! `launch`, task changes in `lifecycle`).

use std::collections::BTreeSet;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use mesos_api::scheduler::{CallType, Subscribe};
use mesos_api::{Call, Event};

use crate::app::{accepts_json, authenticate, json_body, text, App, Auth, SharedApp};
use crate::model::{now_secs, Connection, Framework, Master};

const STREAM_ID: &str = "Mesos-Stream-Id";

/// The scheduler endpoint.
pub async fn handle(
    State(app): State<SharedApp>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(r) = crate::app::v1_preamble(&app, &method, &uri).await {
        return r;
    }
    let principal = match authenticate(&app, &headers) {
        Auth::Open => None,
        Auth::Principal(p) => Some(p),
        Auth::Refused(r) => return r,
    };
    let call = match decode_call(&app, &headers, &body) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if let Err(e) = call.validate() {
        return text(
            StatusCode::BAD_REQUEST,
            format!("Failed to validate scheduler::Call: {e}"),
        );
    }
    if let (Some(p), Some(sub)) = (&principal, &call.subscribe) {
        if let Some(fp) = &sub.framework_info.principal {
            if fp != p {
                return text(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "Failed to validate scheduler::Call: Authenticated principal '{p}' does not match principal '{fp}' set in `FrameworkInfo`"
                    ),
                );
            }
        }
    }
    if call.kind == CallType::Subscribe {
        if !accepts_json(&headers) {
            return text(
                StatusCode::NOT_ACCEPTABLE,
                "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'",
            );
        }
        if headers.contains_key(STREAM_ID) {
            return text(
                StatusCode::BAD_REQUEST,
                "Subscribe calls should not include the 'Mesos-Stream-Id' header",
            );
        }
        let sub = call.subscribe.expect("validated");
        return subscribe(&app, sub, principal);
    }
    let fid = call.framework_id.clone().expect("validated").value;
    let response = {
        let mut m = app.lock();
        match check_caller(&m, &fid, &headers, principal.as_deref()) {
            Err(r) => r,
            Ok(()) => {
                dispatch(&mut m, &fid, call);
                StatusCode::ACCEPTED.into_response()
            }
        }
    };
    app.touch();
    response
}

/// Content-Type and JSON checks, with Mesos's messages; in strict mode the
/// JSON is checked against `scheduler.proto` before it becomes a `Call`.
fn decode_call(app: &App, headers: &HeaderMap, body: &[u8]) -> Result<Call, Response> {
    // Mesos would take protobuf here; say plainly that we do not.
    if headers.get(header::CONTENT_TYPE).map(|ct| ct.as_bytes()) == Some(b"application/x-protobuf")
    {
        return Err(text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "mesos-sim speaks only 'application/json'",
        ));
    }
    let value = json_body(headers, body)?;
    app.calls.inspect(&value)?;
    // What Mesos's protobuf conversion makes of the JSON (null as unset,
    // unknown enum values dropped, ...), refused with stout's texts.
    let value = mesos_api::proto_schema::parse_lenient(mesos_api::proto_schema::CALL, &value)
        .map_err(|e| {
            text(
                StatusCode::BAD_REQUEST,
                format!("Failed to convert JSON into Call protobuf: {e}"),
            )
        })?;
    // `type` is optional in the proto; an absent or unknown one fails
    // validation, not parsing.
    if value.get("type").is_none() {
        return Err(text(
            StatusCode::BAD_REQUEST,
            "Failed to validate scheduler::Call: Expecting 'type' to be present",
        ));
    }
    serde_json::from_value(value).map_err(|e| {
        text(
            StatusCode::BAD_REQUEST,
            format!("Failed to convert JSON into Call protobuf: {e}"),
        )
    })
}

/// Framework lookup and stream-id checks for non-SUBSCRIBE calls.
fn check_caller(
    m: &Master,
    fid: &str,
    headers: &HeaderMap,
    principal: Option<&str>,
) -> Result<(), Response> {
    let Some(fw) = m.frameworks.get(fid) else {
        return Err(text(StatusCode::BAD_REQUEST, "Framework cannot be found"));
    };
    if let Some(p) = principal {
        let fp = fw.info.principal.as_deref().unwrap_or("");
        if fp != p {
            return Err(text(
                StatusCode::BAD_REQUEST,
                format!(
                    "Authenticated principal '{p}' does not match principal '{fp}' set in `FrameworkInfo`"
                ),
            ));
        }
    }
    let Some(conn) = &fw.connection else {
        return Err(text(StatusCode::FORBIDDEN, "Framework is not subscribed"));
    };
    let Some(sid) = headers.get(STREAM_ID) else {
        return Err(text(
            StatusCode::BAD_REQUEST,
            "All non-subscribe calls should include the 'Mesos-Stream-Id' header",
        ));
    };
    let sid = sid.to_str().unwrap_or("");
    if sid != conn.stream_id.to_string() {
        return Err(text(
            StatusCode::BAD_REQUEST,
            format!(
                "The stream ID '{sid}' included in this request didn't match the stream ID currently associated with framework ID {fid}"
            ),
        ));
    }
    Ok(())
}

/// Role names as `roles::validate` accepts them.
fn validate_roles(info: &mesos_api::FrameworkInfo) -> Result<(), String> {
    let multi = info.has_capability(mesos_api::CapabilityType::MultiRole);
    if multi && info.role.is_some() {
        return Err(
            "'FrameworkInfo.role' must not be set when the MULTI_ROLE capability is set".into(),
        );
    }
    if !multi && !info.roles.is_empty() {
        return Err(
            "'FrameworkInfo.roles' must not be set when the MULTI_ROLE capability is not set"
                .into(),
        );
    }
    for role in info.effective_roles() {
        if role == "*" {
            continue;
        }
        let bad = role.is_empty()
            || role == "."
            || role == ".."
            || role.starts_with('-')
            || role.starts_with('/')
            || role.ends_with('/')
            || role.contains("//")
            || role
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '\\');
        if bad {
            return Err(format!("Role '{role}' is invalid"));
        }
    }
    Ok(())
}

/// SUBSCRIBE: always 200 with a stream; refusals arrive as an ERROR event.
fn subscribe(app: &SharedApp, sub: Subscribe, _principal: Option<String>) -> Response {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Bytes>();
    let stream_id = uuid::Uuid::new_v4();
    let conn = Connection {
        stream_id,
        tx,
        last_heartbeat: Instant::now(),
    };
    {
        let mut m = app.lock();
        register(&mut m, sub, conn);
    }
    app.touch();
    let mut r = crate::app::event_stream(rx);
    if let Ok(v) = HeaderValue::from_str(&stream_id.to_string()) {
        r.headers_mut().insert(STREAM_ID, v);
    }
    r
}

/// The master side of SUBSCRIBE (`Master::subscribe` and failover).
fn register(m: &mut Master, sub: Subscribe, conn: Connection) {
    let mut info = sub.framework_info;
    if let Err(e) = validate_roles(&info) {
        conn.send(&Event::error(e));
        return;
    }
    let heartbeat = m.spec.timing.heartbeat_interval.as_secs_f64();
    let suppressed: BTreeSet<String> = sub.suppressed_roles.into_iter().collect();
    let fid = match &info.id {
        Some(id) if m.removed_frameworks.contains_key(&id.value) => {
            conn.send(&Event::error("Framework has been removed"));
            return;
        }
        Some(id) => id.value.clone(),
        None => m.new_framework_id(),
    };
    // Whether the master knew it: a new framework, or one it learns of
    // again under the ID it gives (as after a master failover).
    let known = m.frameworks.contains_key(&fid);
    let given_id = info.id.is_some();
    info.id = Some(mesos_api::FrameworkId::new(fid.clone()));
    m.drop_offers_of(&fid);
    let now = now_secs();
    let fw = m
        .frameworks
        .entry(fid.clone())
        .or_insert_with(|| Framework {
            id: fid.clone(),
            info: info.clone(),
            registered_time: now,
            reregistered_time: None,
            unregistered_time: None,
            tasks: Default::default(),
            completed_tasks: Default::default(),
            unreachable_tasks: Default::default(),
            suppressed_roles: Default::default(),
            connection: None,
            disconnected_at: None,
            filters: Default::default(),
        });
    if let Some(old) = fw.connection.take() {
        old.send(&Event::error("Framework failed over"));
        fw.reregistered_time = Some(now);
    } else if fw.disconnected_at.is_some() || !fw.tasks.is_empty() {
        fw.reregistered_time = Some(now);
    }
    fw.info = info;
    fw.suppressed_roles = suppressed;
    fw.disconnected_at = None;
    fw.unregistered_time = None;
    conn.send(&Event::subscribed(
        mesos_api::FrameworkId::new(fid.clone()),
        heartbeat,
        m.master_info(),
    ));
    conn.send(&Event::heartbeat());
    let fw = m.frameworks.get_mut(&fid).expect("inserted above");
    fw.connection = Some(conn);
    // Operator events, as `Master::subscribe` sends them: FRAMEWORK_ADDED
    // for a new one; a recovered one is added (`recoverFramework`) before
    // it is updated; every re-subscription is FRAMEWORK_UPDATED.
    if !known {
        m.publish_framework_added(&fid, given_id);
    }
    if known || given_id {
        m.publish_framework_updated(&fid);
    }
    if m.faults.end_streams_after_subscribed {
        m.disconnect(&fid);
    } else {
        m.resend_all_pending(&fid);
        m.allocate_soon = true;
    }
    m.dirty = true;
}

/// Runs one accepted call.
fn dispatch(m: &mut Master, fid: &str, call: Call) {
    match call.kind {
        CallType::Teardown => m.remove_framework(fid),
        CallType::Accept => crate::launch::accept(m, fid, call.accept.expect("validated")),
        CallType::Decline => {
            let d = call.decline.expect("validated");
            let refuse = d.filters.unwrap_or_default().refuse_seconds_or_default();
            for oid in d.offer_ids {
                let owned = m
                    .offers
                    .get(&oid.value)
                    .is_some_and(|o| o.framework_id == fid);
                if owned {
                    let o = m.offers.remove(&oid.value).expect("checked");
                    m.filter_agent(fid, &o.agent_id, refuse, o.pools);
                }
            }
        }
        CallType::Revive => {
            let roles = call.revive.unwrap_or_default().roles;
            if let Some(fw) = m.frameworks.get_mut(fid) {
                fw.filters.clear();
                if roles.is_empty() {
                    fw.suppressed_roles.clear();
                } else {
                    for r in roles {
                        fw.suppressed_roles.remove(&r);
                    }
                }
            }
            m.allocate_soon = true;
            m.dirty = true;
        }
        CallType::Suppress => {
            let roles = call.suppress.unwrap_or_default().roles;
            if let Some(fw) = m.frameworks.get_mut(fid) {
                let roles = if roles.is_empty() { fw.roles() } else { roles };
                fw.suppressed_roles.extend(roles);
            }
            m.dirty = true;
        }
        CallType::Kill => {
            let k = call.kill.expect("validated");
            m.kill_task(fid, &k.task_id.value, k.agent_id.as_ref());
        }
        CallType::Shutdown => {
            let s = call.shutdown.expect("validated");
            let ids: Vec<String> = m
                .frameworks
                .get(fid)
                .map(|fw| {
                    fw.tasks
                        .values()
                        .filter(|t| {
                            t.agent_id == s.agent_id.value && t.executor_id() == s.executor_id.value
                        })
                        .map(|t| t.id().to_string())
                        .collect()
                })
                .unwrap_or_default();
            // The agent tells the executor to shut down: a custom one gets
            // SHUTDOWN and reports its tasks itself; the command executor
            // kills its command, as for a KILL (real 1.11.0: TASK_KILLED from
            // SOURCE_EXECUTOR, no reason, "Command terminated with signal
            // Terminated").
            let mut told = false;
            for tid in ids {
                let stream = m.frameworks[fid].tasks[&tid].executor_stream.clone();
                match stream {
                    Some(stream) => {
                        if !told {
                            crate::executor_api::send(
                                &stream,
                                &serde_json::json!({"type": "SHUTDOWN"}),
                            );
                            told = true;
                        }
                    }
                    None => m.kill_task(fid, &tid, Some(&s.agent_id)),
                }
            }
        }
        CallType::Acknowledge => {
            let a = call.acknowledge.expect("validated");
            m.acknowledge(fid, &a.task_id.value, &a.uuid);
        }
        CallType::Reconcile => {
            let r = call.reconcile.expect("validated");
            m.reconcile(fid, &r.tasks);
        }
        // MESSAGE needs an executor to deliver to and REQUEST is ignored by
        // Mesos's allocator; inverse offers and operations do not occur here.
        _ => {}
    }
}
