//! A raw scheduler client for the sessions: calls are JSON values sent as
//! written (so that invalid ones can be sent too), events are read from the
//! RecordIO stream and sorted into offers (kept per agent until taken),
//! status updates and the rest. HEARTBEATs are only timed.

use crate::compare::Answer;
use futures_util::StreamExt;
use mesos_api::recordio::Decoder;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::pin::Pin;
use std::time::Duration;
use tokio::time::Instant;

type Body = Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>;

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A client for event streams: no bound on the whole exchange (a stream
/// lasts the session), each read is bounded by its caller's deadline.
pub fn stream_http() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// An answer's status, the headers clients read and its body.
pub async fn answer_of(response: reqwest::Response) -> Answer {
    let head = head_of(&response);
    let bytes = response.bytes().await.unwrap_or_default();
    with_body(head, &bytes)
}

/// Status and headers, before the body is read (a stream's is endless).
pub fn head_of(response: &reqwest::Response) -> Answer {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let mut headers = Vec::new();
    if let Some(ct) = header("Content-Type") {
        headers.push(("Content-Type".to_string(), ct));
    }
    // Present or not: their values are IDs and addresses.
    for name in ["Mesos-Stream-Id", "Location"] {
        if header(name).is_some() {
            headers.push((name.to_string(), "(present)".to_string()));
        }
    }
    Answer {
        status: response.status().as_u16(),
        headers,
        body: None,
        text: None,
    }
}

fn with_body(mut answer: Answer, bytes: &[u8]) -> Answer {
    answer.body = serde_json::from_slice(bytes).ok();
    if answer.body.is_none() && !bytes.is_empty() {
        answer.text = Some(String::from_utf8_lossy(bytes).into_owned());
    }
    answer
}

/// A synthetic answer: an event, or what the session observed.
pub fn observed(body: Value) -> Answer {
    Answer {
        status: 200,
        headers: Vec::new(),
        body: Some(body),
        text: None,
    }
}

/// A RecordIO stream of JSON events (scheduler or operator API).
pub struct Events {
    pub url: String,
    body: Body,
    decoder: Decoder,
    pub ended: bool,
}

impl Events {
    pub fn new(url: &str, response: reqwest::Response) -> Events {
        Events {
            url: url.to_string(),
            body: Box::pin(response.bytes_stream()),
            decoder: Decoder::new(),
            ended: false,
        }
    }

    /// The events of the next chunk (none, or several); None when the
    /// stream ended or `deadline` passed.
    pub async fn next_chunk(&mut self, deadline: Instant) -> Option<Vec<Value>> {
        if self.ended {
            return None;
        }
        let chunk = match tokio::time::timeout_at(deadline, self.body.next()).await {
            Err(_) => return None,
            Ok(None) | Ok(Some(Err(_))) => {
                self.ended = true;
                return None;
            }
            Ok(Some(Ok(chunk))) => chunk,
        };
        let records = self
            .decoder
            .feed(&chunk)
            .unwrap_or_else(|e| panic!("{}: the event stream: {e}", self.url));
        Some(
            records
                .iter()
                .map(|r| {
                    serde_json::from_slice(r)
                        .unwrap_or_else(|e| panic!("{}: an event is not JSON: {e}", self.url))
                })
                .collect(),
        )
    }
}

/// A subscribed scheduler.
pub struct Scheduler {
    url: String,
    http: reqwest::Client,
    pub framework_id: String,
    pub stream_id: String,
    events: Events,
    /// Offers not yet taken, in arrival order, with their agent's hostname.
    offers: Vec<(String, Value)>,
    updates: VecDeque<(Instant, Value)>,
    others: VecDeque<Value>,
    pub subscribed_at: Option<Instant>,
    pub heartbeats: Vec<Instant>,
}

impl Scheduler {
    /// Sends a SUBSCRIBE call; the answer (status and headers) and, when it
    /// opened a stream, the scheduler reading it.
    pub async fn subscribe(master: &str, call: &Value) -> (Answer, Option<Scheduler>) {
        let response = stream_http()
            .post(format!("{master}/api/v1/scheduler"))
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .json(call)
            .send()
            .await
            .unwrap_or_else(|e| panic!("SUBSCRIBE to {master}: {e}"));
        let head = head_of(&response);
        if head.status != 200 {
            return (answer_of(response).await, None);
        }
        let stream_id = response
            .headers()
            .get("Mesos-Stream-Id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let scheduler = Scheduler {
            url: master.to_string(),
            http: http(),
            framework_id: String::new(),
            stream_id,
            events: Events::new(master, response),
            offers: Vec::new(),
            updates: VecDeque::new(),
            others: VecDeque::new(),
            subscribed_at: None,
            heartbeats: Vec::new(),
        };
        (head, Some(scheduler))
    }

    /// Sends a call on this stream (its `framework_id` as written in `call`).
    pub async fn call(&self, call: &Value) -> Answer {
        self.send(Some(&self.stream_id), call.to_string()).await
    }

    /// Sends a body as it is, with or without a `Mesos-Stream-Id`.
    pub async fn send(&self, stream_id: Option<&str>, body: String) -> Answer {
        let mut request = self
            .http
            .post(format!("{}/api/v1/scheduler", self.url))
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .body(body);
        if let Some(id) = stream_id {
            request = request.header("Mesos-Stream-Id", id);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("scheduler call to {}: {e}", self.url));
        answer_of(response).await
    }

    /// Reads events until one more lands in a queue; false when the stream
    /// ended or `deadline` passed.
    async fn pump(&mut self, deadline: Instant) -> bool {
        let Some(events) = self.events.next_chunk(deadline).await else {
            return false;
        };
        for event in events {
            self.sort(event);
        }
        true
    }

    fn sort(&mut self, event: Value) {
        let now = Instant::now();
        match event["type"].as_str().unwrap_or_default() {
            "HEARTBEAT" => self.heartbeats.push(now),
            "OFFERS" => {
                for offer in event["offers"]["offers"].as_array().into_iter().flatten() {
                    let host = offer["hostname"].as_str().unwrap_or_default().to_string();
                    self.offers.push((host, offer.clone()));
                }
            }
            "RESCIND" => {
                let id = &event["rescind"]["offer_id"]["value"];
                self.offers.retain(|(_, o)| &o["id"]["value"] != id);
            }
            "UPDATE" => self.updates.push_back((now, event)),
            _ => {
                if event["type"] == "SUBSCRIBED" {
                    self.subscribed_at = Some(now);
                    self.framework_id = event["subscribed"]["framework_id"]["value"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                }
                self.others.push_back(event)
            }
        }
    }

    /// The next event that is neither an offer, an update nor a heartbeat
    /// (SUBSCRIBED, ERROR, FAILURE, MESSAGE, ...), if one comes in time.
    pub async fn next_other(&mut self, timeout: Duration) -> Option<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(e) = self.others.pop_front() {
                return Some(e);
            }
            if !self.pump(deadline).await {
                return None;
            }
        }
    }

    /// The first update of `task`, and when it came, if one comes in time.
    pub async fn update_of(&mut self, task: &str, timeout: Duration) -> Option<(Instant, Value)> {
        let deadline = Instant::now() + timeout;
        loop {
            let at = self
                .updates
                .iter()
                .position(|(_, u)| u["update"]["status"]["task_id"]["value"] == task);
            if let Some(i) = at {
                return self.updates.remove(i);
            }
            if !self.pump(deadline).await {
                return None;
            }
        }
    }

    /// One offer of each of `hosts`, in their order, taken from the offers
    /// at hand or waited for (panics, naming the missing hosts, after
    /// `timeout`).
    pub async fn take_offers(&mut self, hosts: &[String], timeout: Duration) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            if hosts
                .iter()
                .all(|h| self.offers.iter().any(|(host, _)| host == h))
            {
                return hosts
                    .iter()
                    .map(|h| {
                        let i = self.offers.iter().position(|(host, _)| host == h).unwrap();
                        self.offers.remove(i).1
                    })
                    .collect();
            }
            if !self.pump(deadline).await {
                let missing: Vec<&String> = hosts
                    .iter()
                    .filter(|h| !self.offers.iter().any(|(host, _)| host == *h))
                    .collect();
                panic!(
                    "{}: no offer of {missing:?} within {timeout:?} (stream ended: {})",
                    self.url, self.events.ended
                );
            }
        }
    }

    /// Puts offers taken back at hand (`hosts[i]` is `offers[i]`'s agent).
    pub fn keep(&mut self, hosts: &[String], offers: &[Value]) {
        for (h, o) in hosts.iter().zip(offers) {
            self.offers.push((h.clone(), o.clone()));
        }
    }

    /// Every offer at hand, taken.
    pub fn take_all_offers(&mut self) -> Vec<Value> {
        self.offers.drain(..).map(|(_, o)| o).collect()
    }

    /// Reads for `window`, keeping what comes; how many offers of `hosts`
    /// are then at hand.
    pub async fn offers_within(&mut self, hosts: &[String], window: Duration) -> usize {
        let deadline = Instant::now() + window;
        while self.pump(deadline).await {}
        self.offers
            .iter()
            .filter(|(h, _)| hosts.contains(h))
            .count()
    }

    /// Whether the stream ends within `timeout`; the types of the events
    /// other than offers, updates and heartbeats that came first.
    pub async fn ends_within(&mut self, timeout: Duration) -> (bool, Vec<String>) {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            while let Some(e) = self.others.pop_front() {
                seen.push(e["type"].as_str().unwrap_or("?").to_string());
            }
            if !self.pump(deadline).await {
                return (self.events.ended, seen);
            }
        }
    }

    /// The ACKNOWLEDGE call of an update, if it needs one (it has a uuid).
    pub fn acknowledge(&self, update: &Value) -> Option<Value> {
        let status = &update["update"]["status"];
        let uuid = status["uuid"].as_str()?;
        Some(json!({
            "type": "ACKNOWLEDGE",
            "framework_id": {"value": self.framework_id},
            "acknowledge": {
                "agent_id": status["agent_id"],
                "task_id": status["task_id"],
                "uuid": uuid,
            }
        }))
    }
}
