//! The HTTP implementation of [`SchedulerApi`] (`POST /api/v1/scheduler`).
//!
//! SUBSCRIBE opens a long-lived response whose body is a RecordIO stream of
//! events; every other call goes on its own request, carrying the
//! `Mesos-Stream-Id` of the subscription, and is answered 202. A master that
//! is not leading answers 307 with the leader in `Location` (possibly
//! scheme-relative, `//host:port/...`); we follow it and remember the leader.

use super::{SchedulerApi, SchedulerError, StreamItem, Subscription, MAX_REDIRECTS};
use crate::desired::secrets::Secret;
use crate::mesos::ZkLeader;
use crate::retry::RetryPolicy;
use futures_util::StreamExt;
use mesos_api::recordio::Decoder;
use mesos_api::scheduler::{Call, CallType, Event, EventType};
use mesos_api::v1::FrameworkInfo;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE, LOCATION};
use reqwest::StatusCode;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::mpsc;

/// The path of the scheduler API.
pub const SCHEDULER_PATH: &str = "/api/v1/scheduler";
const STREAM_ID: &str = "Mesos-Stream-Id";

impl SchedulerApi for SchedulerClient {
    async fn subscribe(&self, info: FrameworkInfo) -> Result<Subscription, SchedulerError> {
        SchedulerClient::subscribe(self, info).await
    }

    async fn call(&self, sub: &Subscription, call: &Call) -> Result<(), SchedulerError> {
        SchedulerClient::call(self, sub, call).await
    }

    async fn call_all(&self, sub: &Subscription, calls: &[Call]) -> Result<(), SchedulerError> {
        SchedulerClient::call_all(self, sub, calls).await
    }
}

/// Independent scheduler calls sent at once (see [`SchedulerClient::call_all`]).
pub const CALLS_IN_FLIGHT: usize = 16;

/// How to reach the master, and as whom.
pub struct SchedulerClient {
    http: reqwest::Client,
    /// The scheduler endpoint of the master believed to lead.
    endpoint: Mutex<String>,
    credentials: Option<(String, Secret)>,
    /// Where masters register, when the master URL was `zk://`.
    zookeeper: Option<ZkLeader>,
    retry: RetryPolicy,
    /// How long a call may wait for its answer's headers: a master that
    /// accepts the connection and never answers must not hang apply.
    headers_timeout: Duration,
}

/// Resolves a `Location` header against the URL it answered.
fn resolve_location(from: &str, location: &str) -> String {
    if location.starts_with("//") {
        let scheme = from.split("://").next().unwrap_or("http");
        return format!("{scheme}:{location}");
    }
    if location.starts_with('/') {
        let origin: String = match from.find("://") {
            Some(i) => {
                let rest = &from[i + 3..];
                let end = rest.find('/').map(|j| i + 3 + j).unwrap_or(from.len());
                from[..end].to_string()
            }
            None => from.to_string(),
        };
        return format!("{origin}{location}");
    }
    location.to_string()
}

/// reqwest's Display hides the cause ("error sending request"); show the chain.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

fn call_name(call: &Call) -> String {
    serde_json::to_value(call.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{:?}", call.kind))
}

impl SchedulerClient {
    /// `master` is a base URL such as `http://10.0.0.5:5050`.
    pub fn new(http: reqwest::Client, master: &str, credentials: Option<(String, Secret)>) -> Self {
        SchedulerClient {
            http,
            endpoint: Mutex::new(format!("{}{SCHEDULER_PATH}", master.trim_end_matches('/'))),
            credentials,
            zookeeper: None,
            retry: RetryPolicy::default(),
            headers_timeout: crate::mesos::DEFAULT_HTTP_TIMEOUT,
        }
    }

    /// Waits at most `timeout` for each call's answer (`--http-timeout`).
    pub fn with_headers_timeout(mut self, timeout: Duration) -> Self {
        self.headers_timeout = timeout;
        self
    }

    /// Retries transient failures as `retry` says.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Looks the leader up in ZooKeeper before every SUBSCRIBE (see [`ZkLeader`]).
    pub fn follow_zookeeper(mut self, zk: ZkLeader) -> Self {
        self.zookeeper = Some(zk);
        self
    }

    /// Points the client at the master ZooKeeper names as leader now. A
    /// failed lookup is a connection problem: the caller may retry, as an
    /// election can leave no leader for a while.
    async fn refresh_leader(&self) -> Result<(), SchedulerError> {
        let Some(zk) = &self.zookeeper else {
            return Ok(());
        };
        let base = zk
            .leader_base_url()
            .await
            .map_err(|e| SchedulerError::Connect {
                url: zk.url.to_string(),
                cause: e.to_string(),
            })?;
        self.set_master(&base);
        Ok(())
    }

    /// The scheduler endpoint currently used (after redirects).
    pub fn endpoint(&self) -> String {
        self.endpoint.lock().expect("endpoint lock").clone()
    }

    /// Points the client at another master (e.g. a new leader found in ZooKeeper).
    pub fn set_master(&self, master: &str) {
        *self.endpoint.lock().expect("endpoint lock") =
            format!("{}{SCHEDULER_PATH}", master.trim_end_matches('/'));
    }

    /// POSTs a call, retrying transient failures (see [`crate::retry`]).
    async fn post(
        &self,
        call: &Call,
        stream_id: Option<&str>,
    ) -> Result<reqwest::Response, SchedulerError> {
        // A launch is never sent twice: whether the master took it is
        // only known after reconciling, which the next run does. With
        // masters in ZooKeeper, a call of a subscription whose master
        // refuses connections is not asked again there: that master died,
        // its subscription with it, and the engine subscribes to the next
        // leader instead of waiting out the retry deadline.
        let follows_leader = stream_id.is_some() && self.zookeeper.is_some();
        let retryable = |e: &SchedulerError| {
            e.is_retryable()
                && call.kind != CallType::Accept
                && !(follows_leader && matches!(e, SchedulerError::Unreachable { .. }))
        };
        self.retry
            .run(&call_name(call), retryable, || {
                self.post_once(call, stream_id)
            })
            .await
    }

    /// POSTs a call once, following redirects to the leader. Returns the
    /// response with a 2xx status; maps everything else to an error.
    async fn post_once(
        &self,
        call: &Call,
        stream_id: Option<&str>,
    ) -> Result<reqwest::Response, SchedulerError> {
        let body = serde_json::to_vec(call).expect("calls serialize");
        let mut url = self.endpoint();
        for _ in 0..=MAX_REDIRECTS {
            let mut headers = HeaderMap::new();
            // Mesos accepts exactly this media type (a charset suffix gets 415).
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
            if let Some(id) = stream_id {
                if let Ok(v) = HeaderValue::from_str(id) {
                    headers.insert(STREAM_ID, v);
                }
            }
            let mut req = self.http.post(&url).headers(headers).body(body.clone());
            if let Some((principal, secret)) = &self.credentials {
                req = req.basic_auth(principal, Some(secret.expose()));
            }
            let resp = match tokio::time::timeout(self.headers_timeout, req.send()).await {
                Ok(sent) => sent.map_err(|e| {
                    let (url, cause) = (url.clone(), error_chain(&e));
                    if crate::retry::is_transient_connect(&e) {
                        SchedulerError::Unreachable { url, cause }
                    } else {
                        SchedulerError::Connect { url, cause }
                    }
                })?,
                Err(_) => {
                    return Err(SchedulerError::Connect {
                        url,
                        cause: format!(
                            "no answer within {:.0}s (waiting for the answer's headers; --http-timeout)",
                            self.headers_timeout.as_secs_f64()
                        ),
                    })
                }
            };
            let status = resp.status();
            if status.is_redirection() {
                let Some(loc) = resp.headers().get(LOCATION).and_then(|v| v.to_str().ok()) else {
                    return Err(SchedulerError::Refused {
                        url,
                        call: call_name(call),
                        status: status.as_u16(),
                        body: "redirect without Location".into(),
                    });
                };
                let mut next = resolve_location(&url, loc);
                // `/master/redirect` style answers point at the master, not the endpoint.
                if !next.contains(SCHEDULER_PATH) {
                    next = format!("{}{SCHEDULER_PATH}", next.trim_end_matches('/'));
                }
                url = next;
                *self.endpoint.lock().expect("endpoint lock") = url.clone();
                continue;
            }
            if status == StatusCode::UNAUTHORIZED {
                return Err(match &self.credentials {
                    Some((principal, _)) => SchedulerError::Auth {
                        principal: principal.clone(),
                        url,
                    },
                    None => SchedulerError::AuthRequired { url },
                });
            }
            if !status.is_success() {
                let text = resp.text().await.unwrap_or_default();
                let body = text.trim().chars().take(500).collect();
                let call = call_name(call);
                // Mesos's words when the framework has no connected stream
                // (master/http.cpp); its other 403s are refusals.
                let stream_gone =
                    status == StatusCode::FORBIDDEN && text.contains("Framework is not subscribed");
                return Err(if stream_gone {
                    SchedulerError::NotSubscribed { url, call, body }
                } else {
                    SchedulerError::Refused {
                        url,
                        call,
                        status: status.as_u16(),
                        body,
                    }
                });
            }
            return Ok(resp);
        }
        Err(SchedulerError::Redirects { url })
    }

    /// Sends a call on a subscription (answered 202 by Mesos).
    pub async fn call(&self, sub: &Subscription, call: &Call) -> Result<(), SchedulerError> {
        self.post(call, Some(&sub.stream_id)).await.map(|_| ())
    }

    /// Sends calls that do not depend on each other (acknowledgements,
    /// launches on distinct offers) with up to [`CALLS_IN_FLIGHT`] on the
    /// wire at once: sent one after another, the 30,000 calls of a
    /// 10,000-worker apply were a minute of round trips. The first error
    /// is returned.
    pub async fn call_all(&self, sub: &Subscription, calls: &[Call]) -> Result<(), SchedulerError> {
        use futures_util::{StreamExt, TryStreamExt};
        futures_util::stream::iter(calls)
            .map(|c| self.call(sub, c))
            .buffer_unordered(CALLS_IN_FLIGHT)
            .try_collect::<()>()
            .await
    }

    /// SUBSCRIBE; waits for SUBSCRIBED (an ERROR event is a refusal).
    pub async fn subscribe(&self, info: FrameworkInfo) -> Result<Subscription, SchedulerError> {
        self.refresh_leader().await?;
        let call = Call::subscribe(info);
        let resp = self.post(&call, None).await?;
        let url = self.endpoint();
        let stream_id = resp
            .headers()
            .get(STREAM_ID)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| SchedulerError::Stream {
                url: url.clone(),
                cause: "SUBSCRIBE answer has no Mesos-Stream-Id header".into(),
            })?;
        let (tx, mut rx) = mpsc::unbounded_channel();
        let reader = tokio::spawn(read_stream(resp, tx));
        // The first event must be SUBSCRIBED (or ERROR).
        let first = tokio::time::timeout(Duration::from_secs(30), rx.recv()).await;
        let event = match first {
            Err(_) => return Err(SchedulerError::Silent { url, secs: 30.0 }),
            Ok(None) => {
                return Err(SchedulerError::Stream {
                    url,
                    cause: "closed before SUBSCRIBED".into(),
                })
            }
            Ok(Some(StreamItem::End(cause))) => return Err(SchedulerError::Stream { url, cause }),
            Ok(Some(StreamItem::Event(e))) => e,
        };
        match event.kind {
            EventType::Subscribed => {
                let s = event.subscribed.ok_or_else(|| SchedulerError::Stream {
                    url: url.clone(),
                    cause: "SUBSCRIBED without its payload".into(),
                })?;
                Ok(Subscription {
                    framework_id: s.framework_id,
                    stream_id,
                    heartbeat: Duration::from_secs_f64(
                        s.heartbeat_interval_seconds.unwrap_or(15.0).max(0.1),
                    ),
                    master: s.master_info,
                    events: rx,
                    reader,
                    url,
                    last_event: tokio::time::Instant::now(),
                })
            }
            EventType::Error => Err(SchedulerError::Subscription(
                event.error.map(|e| e.message).unwrap_or_default(),
            )),
            other => Err(SchedulerError::Stream {
                url,
                cause: format!("expected SUBSCRIBED first, got {other:?}"),
            }),
        }
    }
}

/// Decodes the RecordIO body into events until it ends.
async fn read_stream(resp: reqwest::Response, tx: mpsc::UnboundedSender<StreamItem>) {
    let mut decoder = Decoder::new();
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                let _ = tx.send(StreamItem::End(e.to_string()));
                return;
            }
        };
        let records = match decoder.feed(&chunk) {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.send(StreamItem::End(format!("bad RecordIO framing: {e}")));
                return;
            }
        };
        for record in records {
            match serde_json::from_slice::<Event>(&record) {
                Ok(event) => {
                    let closing = event.kind == EventType::Error;
                    if tx.send(StreamItem::Event(Box::new(event))).is_err() {
                        return;
                    }
                    if closing {
                        // Mesos closes the stream after an ERROR event.
                        continue;
                    }
                }
                Err(e) => {
                    let shown: String =
                        String::from_utf8_lossy(&record).chars().take(200).collect();
                    let _ = tx.send(StreamItem::End(format!("undecodable event ({e}): {shown}")));
                    return;
                }
            }
        }
    }
    let _ = tx.send(StreamItem::End("the master closed the event stream".into()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_resolve_like_a_browser() {
        let from = "https://m1:5050/api/v1/scheduler";
        assert_eq!(
            resolve_location(from, "//m2:5050/api/v1/scheduler"),
            "https://m2:5050/api/v1/scheduler"
        );
        assert_eq!(
            resolve_location(from, "/api/v1/scheduler"),
            "https://m1:5050/api/v1/scheduler"
        );
        assert_eq!(
            resolve_location(from, "http://m3:5050/x"),
            "http://m3:5050/x"
        );
    }
}
