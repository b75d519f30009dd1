//! Whether Alluxio itself says a launched task serves (`ready = "alluxio"`):
//! Mesos's TASK_RUNNING only says a process started.
//!
//! Asked over Alluxio's REST API on the masters' web ports
//! (`GET /api/v1/master/info`, `alluxio.wire.AlluxioMasterInfo` in Alluxio
//! 1.8 and 2.x, served by `AlluxioMasterRestServiceHandler`):
//! - a master serves when its own web port answers with its `rpcAddress`.
//!   Standby masters of Alluxio 1.x serve no web port until they lead, so a
//!   master that does not answer while another master does counts as a
//!   standby that is up;
//! - a worker serves when a master that answers lists it among its
//!   `workers`: its host (`address.host`) and RPC port (`address.rpcPort`),
//!   with a `startTimeMs` no earlier than its task's first status (the
//!   worker replaced on the same host stays listed until the master's worker
//!   timeout, and must not count).
//!
//! One round asks every master host at once, at most once a second, on a
//! task of its own, so that status updates keep flowing while it waits.

use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// The REST path of the master's information.
pub const MASTER_INFO_PATH: &str = "/api/v1/master/info";

/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);

/// The most of one answer read: a master's information with thousands of
/// workers and its configuration is well under this.
const MAX_ANSWER: usize = 16 << 20;

/// Rounds are at least this far apart.
const ROUND_INTERVAL: Duration = Duration::from_secs(1);

/// A worker's `startTimeMs` may precede its task's first status by this
/// much (the stand-in's executor reports TASK_STARTING just after it starts
/// the process; Alluxio's own says TASK_RUNNING before the JVM starts).
const START_SLACK_MS: i64 = 2_000;

/// What one master host answered: its information, or why not.
pub type Answer = Result<Value, String>;

/// The URL of a master's information.
pub fn master_info_url(host: &str, web_port: u16) -> String {
    format!("http://{host}:{web_port}{MASTER_INFO_PATH}")
}

/// A step's verdict: served (and how that was seen), or not yet (and what
/// was last seen, for the timeout's message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Serves(String),
    NotYet(String),
}

/// Whether the master on `host` serves, from this round's answers by URL.
pub fn master_verdict(answers: &BTreeMap<String, Answer>, own_url: &str) -> Verdict {
    match answers.get(own_url) {
        Some(Ok(info)) => match info["rpcAddress"].as_str() {
            Some(rpc) => Verdict::Serves(format!("Alluxio master serving at {rpc}")),
            None => Verdict::NotYet(format!(
                "{own_url} answered without an rpcAddress: {}",
                crate::excerpt::short(&info.to_string())
            )),
        },
        Some(Err(why)) => {
            let leader = answers.iter().find(|(url, a)| {
                *url != own_url && a.as_ref().is_ok_and(|i| i["rpcAddress"].is_string())
            });
            match leader {
                Some((url, _)) => Verdict::Serves(format!(
                    "a standby: {own_url} does not answer ({why}) while the master at {url} serves"
                )),
                None => Verdict::NotYet(format!("{own_url}: {why}")),
            }
        }
        None => Verdict::NotYet(format!("{own_url} not asked yet")),
    }
}

/// The workers the masters of one round list, by host and RPC port, and
/// each master's answer: built once a round, so that judging N waiting
/// workers costs N lookups rather than N scans of N-long lists.
pub struct WorkerIndex<'a> {
    /// Each master asked (by URL, in order): how many workers it lists, or
    /// why it did not answer.
    masters: Vec<(&'a str, Result<usize, &'a str>)>,
    /// `(host, rpcPort)` -> the masters' entries for it, in their order.
    by_address: HashMap<(&'a str, u64), Vec<(&'a str, &'a Value)>>,
}

impl<'a> WorkerIndex<'a> {
    pub fn of(answers: &'a BTreeMap<String, Answer>) -> WorkerIndex<'a> {
        let mut index = WorkerIndex {
            masters: Vec::new(),
            by_address: HashMap::new(),
        };
        for (url, answer) in answers {
            let info = match answer {
                Ok(info) => info,
                Err(why) => {
                    index.masters.push((url, Err(why)));
                    continue;
                }
            };
            let workers = info["workers"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            index.masters.push((url, Ok(workers.len())));
            for w in workers {
                let (Some(host), Some(port)) = (
                    w["address"]["host"].as_str(),
                    w["address"]["rpcPort"].as_u64(),
                ) else {
                    continue;
                };
                index
                    .by_address
                    .entry((host, port))
                    .or_default()
                    .push((url, w));
            }
        }
        index
    }
}

/// Whether the worker on `host` with `rpc_port`, whose task's first status
/// came at `first_status_ms` (Unix ms), is listed by a master that answers.
pub fn worker_verdict(
    index: &WorkerIndex<'_>,
    host: &str,
    rpc_port: u16,
    first_status_ms: Option<i64>,
) -> Verdict {
    let listed = index
        .by_address
        .get(&(host, u64::from(rpc_port)))
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut seen = Vec::new();
    for (url, answer) in &index.masters {
        let count = match answer {
            Ok(count) => count,
            Err(why) => {
                seen.push(format!("{url}: {why}"));
                continue;
            }
        };
        match listed.iter().find(|(by, _)| by == url) {
            None => seen.push(format!(
                "{url} lists {count} worker(s), not {host}:{rpc_port}"
            )),
            Some((_, w)) => {
                let started = w["startTimeMs"].as_i64().unwrap_or(0);
                match first_status_ms {
                    Some(first) if started < first - START_SLACK_MS => seen.push(format!(
                        "{url} lists {host}:{rpc_port} started at {started} ms, before this task (the worker it replaced)"
                    )),
                    _ => {
                        return Verdict::Serves(format!(
                            "listed by the Alluxio master at {url} as worker {}",
                            w["id"]
                        ))
                    }
                }
            }
        }
    }
    if seen.is_empty() {
        seen.push("no master asked yet".into());
    }
    Verdict::NotYet(seen.join("; "))
}

/// Rounds of questions to the master hosts.
pub struct Probe {
    client: reqwest::Client,
    round: Option<JoinHandle<BTreeMap<String, Answer>>>,
    last_round: Option<Instant>,
    /// The answers of the last round that ended, and when it was asked (a
    /// step is judged on answers asked after it began to wait).
    pub answers: BTreeMap<String, Answer>,
    pub asked_at: Option<Instant>,
}

impl Default for Probe {
    fn default() -> Self {
        Probe {
            client: reqwest::Client::builder()
                .timeout(REQUEST_TIMEOUT)
                .build()
                .expect("an HTTP client"),
            round: None,
            last_round: None,
            answers: BTreeMap::new(),
            asked_at: None,
        }
    }
}

impl Probe {
    /// Takes the answers of a round that ended (true), and starts the next
    /// one over `urls` when none runs and the last began a second ago.
    pub fn poll(&mut self, urls: Vec<String>) -> bool {
        let mut ended = false;
        if self.round.as_ref().is_some_and(JoinHandle::is_finished) {
            if let Some(round) = self.round.take() {
                if let Some(answers) =
                    futures_util::FutureExt::now_or_never(round).and_then(Result::ok)
                {
                    self.answers = answers;
                    self.asked_at = self.last_round;
                    ended = true;
                }
            }
        }
        let due = self
            .last_round
            .is_none_or(|t| t.elapsed() >= ROUND_INTERVAL);
        if self.round.is_none() && due && !urls.is_empty() {
            self.last_round = Some(Instant::now());
            let client = self.client.clone();
            self.round = Some(tokio::spawn(async move { ask_all(&client, urls).await }));
        }
        ended
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        if let Some(round) = self.round.take() {
            round.abort();
        }
    }
}

async fn ask_all(client: &reqwest::Client, urls: Vec<String>) -> BTreeMap<String, Answer> {
    let asks = urls.into_iter().map(|url| async move {
        let answer = ask(client, &url).await;
        (url, answer)
    });
    futures_util::future::join_all(asks)
        .await
        .into_iter()
        .collect()
}

async fn ask(client: &reqwest::Client, url: &str) -> Answer {
    let response = client.get(url).send().await.map_err(|e| {
        if e.is_timeout() {
            format!("no answer within {}s", REQUEST_TIMEOUT.as_secs())
        } else if e.is_connect() {
            "connection refused or host unreachable".to_string()
        } else {
            e.to_string()
        }
    })?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("HTTP {status}"));
    }
    // Bounded: a master's information is small, and a hostile server must
    // not make apply read without end.
    let mut body = Vec::new();
    let mut chunks = response.bytes_stream();
    while let Some(chunk) = futures_util::StreamExt::next(&mut chunks).await {
        body.extend_from_slice(&chunk.map_err(|e| e.to_string())?);
        if body.len() > MAX_ANSWER {
            return Err(format!("the answer exceeds {} MiB", MAX_ANSWER >> 20));
        }
    }
    serde_json::from_slice(&body).map_err(|e| format!("not JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answers(pairs: &[(&str, Answer)]) -> BTreeMap<String, Answer> {
        pairs
            .iter()
            .map(|(u, a)| (u.to_string(), a.clone()))
            .collect()
    }

    const M0: &str = "http://m0:19999/api/v1/master/info";
    const M1: &str = "http://m1:19999/api/v1/master/info";

    #[test]
    fn a_master_serves_when_its_web_port_names_its_rpc_address() {
        let a = answers(&[(
            M0,
            Ok(json!({"rpcAddress": "m0/10.0.0.1:19998", "workers": []})),
        )]);
        assert_eq!(
            master_verdict(&a, M0),
            Verdict::Serves("Alluxio master serving at m0/10.0.0.1:19998".into())
        );
        let silent = answers(&[(M0, Err("connection refused or host unreachable".into()))]);
        assert_eq!(
            master_verdict(&silent, M0),
            Verdict::NotYet(format!("{M0}: connection refused or host unreachable"))
        );
    }

    #[test]
    fn a_silent_master_beside_one_that_serves_is_a_standby() {
        let a = answers(&[
            (M0, Ok(json!({"rpcAddress": "m0/10.0.0.1:19998"}))),
            (M1, Err("connection refused or host unreachable".into())),
        ]);
        assert!(matches!(master_verdict(&a, M1), Verdict::Serves(s) if s.starts_with("a standby")));
    }

    fn worker(host: &str, port: u16, started: i64) -> Value {
        json!({"address": {"host": host, "rpcPort": port}, "id": 7, "startTimeMs": started})
    }

    #[test]
    fn a_worker_serves_once_a_master_lists_it_started_after_its_task() {
        let a = answers(&[(M0, Ok(json!({"workers": [worker("w1", 29998, 10_000)]})))]);
        assert!(matches!(
            worker_verdict(&WorkerIndex::of(&a), "w1", 29998, Some(9_000)),
            Verdict::Serves(_)
        ));
        assert!(matches!(
            worker_verdict(&WorkerIndex::of(&a), "w1", 29998, None),
            Verdict::Serves(_)
        ));
        // Another port, another host: not this worker.
        assert!(matches!(
            worker_verdict(&WorkerIndex::of(&a), "w1", 30998, Some(9_000)),
            Verdict::NotYet(_)
        ));
        assert!(matches!(
            worker_verdict(&WorkerIndex::of(&a), "w2", 29998, Some(9_000)),
            Verdict::NotYet(_)
        ));
    }

    #[test]
    fn the_worker_it_replaced_does_not_count() {
        let a = answers(&[(M0, Ok(json!({"workers": [worker("w1", 29998, 1_000)]})))]);
        let Verdict::NotYet(why) = worker_verdict(&WorkerIndex::of(&a), "w1", 29998, Some(60_000))
        else {
            panic!("the old worker counted");
        };
        assert!(why.contains("the worker it replaced"), "{why}");
    }
}
