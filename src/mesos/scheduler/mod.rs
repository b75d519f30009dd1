//! The Mesos v1 scheduler API: what the apply engine asks of a master
//! ([`SchedulerApi`]), a subscription's events with their heartbeat
//! watchdog, and the HTTP implementation ([`SchedulerClient`], in `client`).
//!
//! This module knows the wire, not the plan: the apply engine decides what
//! to call and when.

mod client;

pub use client::{SchedulerClient, CALLS_IN_FLIGHT, SCHEDULER_PATH};

use mesos_api::scheduler::{Call, Event};
use mesos_api::v1::{FrameworkId, FrameworkInfo};
use std::time::Duration;
use tokio::sync::mpsc;

/// Redirects followed for one request before giving up.
const MAX_REDIRECTS: usize = 5;
/// Missed heartbeats before the stream is considered dead.
const MISSED_HEARTBEATS: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    #[error("cannot reach the Mesos master at {url}: {cause}")]
    Connect { url: String, cause: String },
    /// Like `Connect`, for a refused or reset connection: worth asking again.
    #[error("cannot reach the Mesos master at {url}: {cause}")]
    Unreachable { url: String, cause: String },
    #[error("authentication failed for principal {principal} at {url} (HTTP 401): check the principal and its secret")]
    Auth { principal: String, url: String },
    #[error("the Mesos master at {url} requires authentication (HTTP 401): set [mesos] principal and secret_file")]
    AuthRequired { url: String },
    #[error("the Mesos master at {url} refused the {call} call: HTTP {status}: {body}")]
    Refused {
        url: String,
        call: String,
        status: u16,
        body: String,
    },
    /// 403 "Framework is not subscribed" to a call: on a stream we hold
    /// open, it means the stream was closed.
    #[error("the Mesos master at {url} answered the {call} call with HTTP 403 ({body}): the framework's event stream had just been closed, by the master or by a proxy between us")]
    NotSubscribed {
        url: String,
        call: String,
        body: String,
    },
    #[error("too many redirects from {url} (more than {MAX_REDIRECTS}); the masters disagree about the leader")]
    Redirects { url: String },
    #[error("Mesos refused the subscription: {0}")]
    Subscription(String),
    #[error("the event stream from {url} broke: {cause}")]
    Stream { url: String, cause: String },
    #[error("no event from {url} for {secs:.0}s ({MISSED_HEARTBEATS} heartbeat intervals): the connection is presumed dead")]
    Silent { url: String, secs: f64 },
}

impl SchedulerError {
    /// Whether sending the same call again may help: the master refused or
    /// reset the connection, or answered 503 (what Mesos answers while it elects a
    /// leader or recovers). Every other refusal stays a refusal.
    pub fn is_retryable(&self) -> bool {
        matches!(self, SchedulerError::Unreachable { .. })
            || matches!(self, SchedulerError::Refused { status, .. } if *status == 503)
    }

    /// Whether re-subscribing may help (connection problems), as opposed to
    /// refusals that will not change by retrying.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            SchedulerError::Connect { .. }
                | SchedulerError::Unreachable { .. }
                | SchedulerError::Stream { .. }
                | SchedulerError::Silent { .. }
                | SchedulerError::NotSubscribed { .. }
        ) || matches!(self, SchedulerError::Refused { status, .. } if *status == 503)
    }
}

/// What the engine asks of a Mesos master: subscribing and sending calls.
/// [`SchedulerClient`] speaks HTTP; the engine's unit tests use a fake
/// master that records the calls beside the state writes.
pub trait SchedulerApi {
    /// SUBSCRIBE; resolves once SUBSCRIBED came (an ERROR is a refusal).
    fn subscribe(
        &self,
        info: FrameworkInfo,
    ) -> impl std::future::Future<Output = Result<Subscription, SchedulerError>>;

    /// One call on the subscription.
    fn call(
        &self,
        sub: &Subscription,
        call: &Call,
    ) -> impl std::future::Future<Output = Result<(), SchedulerError>>;

    /// Independent calls, sent concurrently; the first failure is returned.
    fn call_all(
        &self,
        sub: &Subscription,
        calls: &[Call],
    ) -> impl std::future::Future<Output = Result<(), SchedulerError>>;
}

/// What the reader task passes on: events, then one end-of-stream.
#[derive(Debug)]
pub enum StreamItem {
    Event(Box<Event>),
    End(String),
}

/// A live subscription.
pub struct Subscription {
    pub framework_id: FrameworkId,
    pub stream_id: String,
    pub heartbeat: Duration,
    pub master: Option<mesos_api::v1::MasterInfo>,
    events: mpsc::UnboundedReceiver<StreamItem>,
    reader: tokio::task::JoinHandle<()>,
    url: String,
    /// When the last event (heartbeats included) arrived: the watchdog
    /// counts silence from here, across however many short waits.
    last_event: tokio::time::Instant,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        // Closing the response is how a scheduler disconnects.
        self.reader.abort();
    }
}

impl Subscription {
    /// A subscription whose events come from `events` rather than an HTTP
    /// stream: what a fake master hands the engine in unit tests.
    #[cfg(test)]
    pub fn from_events(
        framework_id: FrameworkId,
        heartbeat: Duration,
        events: mpsc::UnboundedReceiver<StreamItem>,
    ) -> Self {
        Subscription {
            framework_id,
            stream_id: "fake-stream".into(),
            heartbeat,
            master: None,
            events,
            reader: tokio::spawn(async {}),
            url: "fake://master".into(),
            last_event: tokio::time::Instant::now(),
        }
    }

    /// The next event, heartbeats included. Fails when the stream ends or
    /// stays silent for `MISSED_HEARTBEATS` heartbeat intervals.
    pub async fn next_event(&mut self) -> Result<Event, SchedulerError> {
        loop {
            let wait = self.heartbeat * MISSED_HEARTBEATS;
            if let Some(event) = self.next_event_within(wait).await? {
                return Ok(event);
            }
        }
    }

    /// An event if one arrives within `wait`; `Ok(None)` when none did.
    /// Fails when the stream ends, or when it has been silent for
    /// `MISSED_HEARTBEATS` heartbeat intervals since the last event, also
    /// when that silence is spread over many short waits (the engine polls
    /// every 250 ms).
    pub async fn next_event_within(
        &mut self,
        wait: Duration,
    ) -> Result<Option<Event>, SchedulerError> {
        let limit = self.heartbeat * MISSED_HEARTBEATS;
        let silent_at = self.last_event + limit;
        let until = (tokio::time::Instant::now() + wait).min(silent_at);
        match tokio::time::timeout_at(until, self.events.recv()).await {
            Err(_) if tokio::time::Instant::now() >= silent_at => Err(SchedulerError::Silent {
                url: self.url.clone(),
                secs: limit.as_secs_f64(),
            }),
            Err(_) => Ok(None),
            Ok(None) => Err(SchedulerError::Stream {
                url: self.url.clone(),
                cause: "closed".into(),
            }),
            Ok(Some(StreamItem::End(cause))) => Err(SchedulerError::Stream {
                url: self.url.clone(),
                cause,
            }),
            Ok(Some(StreamItem::Event(e))) => {
                self.last_event = tokio::time::Instant::now();
                Ok(Some(*e))
            }
        }
    }
}

/// The first Mesos release with the v1 scheduler HTTP API (`/api/v1/scheduler`).
pub const MIN_MESOS_MAJOR: u32 = 1;

/// Whether a master of `version` (as `/master/state` reports it) serves the
/// v1 scheduler API. A version that does not parse is given the benefit of
/// the doubt: the API call itself then says what is wrong.
pub fn speaks_v1_scheduler_api(version: &str) -> bool {
    crate::live::version_numbers(version)
        .first()
        .is_none_or(|&major| major >= MIN_MESOS_MAJOR)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A subscription fed by `events`, with a 20 ms heartbeat.
    fn subscription(events: mpsc::UnboundedReceiver<StreamItem>) -> Subscription {
        Subscription {
            framework_id: FrameworkId::new("F"),
            stream_id: "S".into(),
            heartbeat: Duration::from_millis(20),
            master: None,
            events,
            reader: tokio::spawn(async {}),
            url: "http://m1:5050/api/v1/scheduler".into(),
            last_event: tokio::time::Instant::now(),
        }
    }

    #[tokio::test]
    async fn silence_spread_over_short_waits_still_trips_the_watchdog() {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut sub = subscription(rx);
        // Heartbeats keep it alive however long it runs.
        for _ in 0..10 {
            tx.send(StreamItem::Event(Box::new(Event::heartbeat())))
                .unwrap();
            assert!(sub
                .next_event_within(Duration::from_millis(10))
                .await
                .unwrap()
                .is_some());
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
        // Then nothing: polls of 10 ms see no event until the three missed
        // heartbeats (60 ms) are up, and then an error.
        let mut polls = 0;
        let err = loop {
            match sub.next_event_within(Duration::from_millis(10)).await {
                Ok(None) => polls += 1,
                Ok(Some(e)) => panic!("no event was sent: {e:?}"),
                Err(e) => break e,
            }
            assert!(polls < 100, "the watchdog never fired");
        };
        assert!(matches!(err, SchedulerError::Silent { .. }), "{err}");
        assert!(
            polls >= 3,
            "fired after {polls} polls, before 60 ms of silence"
        );
    }

    #[test]
    fn mesos_one_and_later_speak_the_v1_scheduler_api() {
        for (v, yes) in [
            ("0.28.2", false),
            ("0.23.0", false),
            ("1.0.0", true),
            ("1.11.0", true),
            ("2.0", true),
            ("dev", true),
        ] {
            assert_eq!(speaks_v1_scheduler_api(v), yes, "{v}");
        }
    }
}
