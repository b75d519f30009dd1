//! Getting a state document over HTTP from a master, following the
//! leader.
//!
//! For each master URL: `GET {base}/master/state`, then, on 404, the older
//! `/master/state.json` and `/state.json`. Redirects (a non-leading master
//! answers 307 with a `Location` that may be scheme-relative,
//! `//host:port/master/state`) and documents of non-leading masters (old
//! versions answer with `leader` naming another master) are followed, at
//! most [`MAX_HOPS`] times in all. A client that follows redirects itself
//! is fine too.

use super::HttpLimits;
use crate::live::{
    body_start, leader_url, read_state_parts, version_numbers, FrameworkSelector, LiveCluster,
    LiveError, OFFLINE_HINT,
};
use futures_util::StreamExt;
use reqwest::header::LOCATION;
use reqwest::{StatusCode, Url};

/// Redirections plus leader changes followed for one master URL.
pub const MAX_HOPS: usize = 5;

const PATHS: [&str; 3] = ["/master/state", "/master/state.json", "/state.json"];

/// Reads the live cluster from the first of `base_urls` that answers with
/// a leader's state document. URLs may omit `http://`; a password in one
/// is never shown. Timeouts are those of `client`: give it one, state
/// documents of big clusters take seconds to produce.
pub async fn fetch_state(
    base_urls: &[String],
    client: &reqwest::Client,
    selector: &FrameworkSelector,
) -> Result<LiveCluster, LiveError> {
    fetch_state_within(base_urls, client, selector, &HttpLimits::default()).await
}

/// [`fetch_state`] within `limits`.
pub async fn fetch_state_within(
    base_urls: &[String],
    client: &reqwest::Client,
    selector: &FrameworkSelector,
    limits: &HttpLimits,
) -> Result<LiveCluster, LiveError> {
    let mut errors = Vec::new();
    for base in base_urls {
        match fetch_from(base, client, selector, limits).await {
            Ok(cluster) => return Ok(cluster),
            Err(e) => errors.push(e),
        }
    }
    match errors.len() {
        0 => Err(LiveError::NoUrl),
        1 => Err(errors.remove(0)),
        _ => Err(LiveError::NoMaster {
            retryable: errors.iter().all(LiveError::is_retryable),
            attempts: errors
                .iter()
                .map(|e| without_hint(&e.to_string()))
                .collect::<Vec<_>>()
                .join(" | "),
        }),
    }
}

/// [`fetch_state`], asked again while no master can be reached or they
/// answer 503 (see [`crate::retry`]). With `zookeeper`, every attempt
/// after the first asks ZooKeeper for the leader again: a leader that was
/// just killed stays named there until its session expires, and the next
/// one is named once elected (seen on real Mesos 1.7.3 and 1.11.0).
pub async fn fetch_state_retrying(
    base_urls: &[String],
    zookeeper: Option<&super::discovery::ZkLeader>,
    client: &reqwest::Client,
    selector: &FrameworkSelector,
    limits: &HttpLimits,
    retry: &crate::retry::RetryPolicy,
) -> Result<LiveCluster, LiveError> {
    let attempts = std::cell::Cell::new(0u32);
    retry
        .run("reading the Mesos state", LiveError::is_retryable, || {
            let attempt = attempts.get();
            attempts.set(attempt + 1);
            async move {
                let mut urls = base_urls.to_vec();
                if let (Some(zk), true) = (zookeeper, attempt > 0) {
                    // No leader named (an election is on): the known
                    // masters are tried, and the retry asks again.
                    if let Ok(leader) = zk.leader_base_url().await {
                        urls.retain(|u| *u != leader);
                        urls.insert(0, leader);
                    }
                }
                fetch_state_within(&urls, client, selector, limits).await
            }
        })
        .await
}

/// A message without the offline hint, which the combined message says once.
fn without_hint(msg: &str) -> String {
    let mut m = msg.to_string();
    for sep in [", or ", "; ", " Otherwise "] {
        m = m.replace(&format!("{sep}{OFFLINE_HINT}"), "");
    }
    m
}

/// `10.0.0.5:5050` and `http://10.0.0.5:5050/` both become
/// `http://10.0.0.5:5050`.
fn normalise(base: &str) -> Result<String, LiveError> {
    let trimmed = base.trim().trim_end_matches('/');
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_string()
    } else {
        format!("http://{trimmed}")
    };
    let url = Url::parse(&with_scheme).map_err(|e| LiveError::BadUrl {
        url: redact(base),
        cause: e.to_string(),
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(LiveError::BadUrl {
            url: redact(base),
            cause: format!("scheme {}:// is not http:// or https://", url.scheme()),
        });
    }
    Ok(with_scheme)
}

async fn fetch_from(
    base: &str,
    client: &reqwest::Client,
    selector: &FrameworkSelector,
    limits: &HttpLimits,
) -> Result<LiveCluster, LiveError> {
    let mut base = normalise(base)?;
    let cluster = fetch_leaders_document(&mut base, client, selector, limits).await?;
    if cluster.agents.is_empty() && cluster.framework.is_none() {
        check_recovered(&base, client, limits, &cluster.source).await?;
    }
    Ok(cluster)
}

/// A master that was just elected recovers its registry before it knows
/// any agent or framework, and meanwhile serves `/master/state` (and the
/// narrow endpoints) as an empty cluster, 200 OK; only its v1 APIs say
/// `503 Master has not finished recovery` (seen on real Mesos 1.7.3 and
/// 1.11.0, for as long as a leader lacks a quorum of its replicated log).
/// So a document without agents or our framework is believed only once
/// the v1 operator API answers: an empty cluster is never planned from
/// while the master is still recovering. Masters without the v1 API
/// (before 1.0), or that refuse the call, are taken at their word.
async fn check_recovered(
    base: &str,
    client: &reqwest::Client,
    limits: &HttpLimits,
    source: &str,
) -> Result<(), LiveError> {
    let (_, request) =
        super::http::operator_call(client, base, r#"{"type":"GET_HEALTH"}"#.to_string(), limits);
    let probe = request.send().await;
    let Ok(resp) = probe else {
        return Ok(());
    };
    if resp.status() != reqwest::StatusCode::SERVICE_UNAVAILABLE {
        return Ok(());
    }
    let text = resp.text().await.unwrap_or_default();
    if text.contains("has not finished recovery") {
        return Err(LiveError::NotRecovered {
            origin: source.to_string(),
        });
    }
    Ok(())
}

/// The leading master's state document, through the narrow endpoints when
/// they serve, following redirections and leader hints from `base` (left
/// at the master that answered).
async fn fetch_leaders_document(
    base: &mut String,
    client: &reqwest::Client,
    selector: &FrameworkSelector,
    limits: &HttpLimits,
) -> Result<LiveCluster, LiveError> {
    if let Some(cluster) = fetch_narrow(base, client, selector, limits).await {
        return Ok(cluster);
    }
    let mut hops = 0;
    loop {
        let (url, resp) = fetch_document(base, client, &mut hops, limits).await?;
        match stream_state(vec![resp], selector, redact(url.as_str()), limits).await {
            Err(LiveError::NotLeader { leader }) => {
                let scheme = url.scheme().to_string();
                let Some(next) = leader_url(&leader, &scheme) else {
                    return Err(LiveError::NotLeader { leader });
                };
                hops += 1;
                if hops > MAX_HOPS {
                    return Err(LiveError::TooManyHops {
                        url: redact(base),
                        hops: MAX_HOPS,
                        last: redact(&next),
                    });
                }
                *base = next;
            }
            other => return other,
        }
    }
}

/// Reads the answers' bodies as they arrive, one after the other, into
/// one cluster: the chunks go through small bounded channels to the
/// scanner on a blocking thread, so documents of any size need only a few
/// chunks of memory.
async fn stream_state(
    resps: Vec<reqwest::Response>,
    selector: &FrameworkSelector,
    source: String,
    limits: &HttpLimits,
) -> Result<LiveCluster, LiveError> {
    let mut senders = Vec::new();
    let mut readers = Vec::new();
    for _ in &resps {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, String>>(8);
        senders.push(tx);
        readers.push(ChannelReader {
            rx,
            chunk: bytes::Bytes::new(),
        });
    }
    let selector = selector.clone();
    let shown = source.clone();
    let parser = tokio::task::spawn_blocking(move || {
        let io_error = |e: std::io::Error| LiveError::Connect {
            url: shown.clone(),
            cause: format!("reading the answer failed: {e}"),
        };
        read_state_parts(readers, &selector, &shown, &io_error)
    });
    let started = tokio::time::Instant::now();
    'bodies: for (resp, tx) in resps.into_iter().zip(senders) {
        let url = redact(resp.url().as_str());
        let mut body = resp.bytes_stream();
        let mut progress = Progress::new(*limits, started);
        loop {
            let chunk = match progress.next(&mut body).await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(why) => {
                    // Dropping the senders ends the parser's thread.
                    return Err(LiveError::Timeout {
                        url,
                        phase: "reading the body",
                        elapsed: started.elapsed().as_secs_f64(),
                        why,
                    });
                }
            };
            let item = chunk.map_err(|e| root_cause(&e));
            let failed = item.is_err();
            // A closed channel means the parser stopped early (bad
            // document): its error is the one to report.
            if tx.send(item).await.is_err() || failed {
                break 'bodies;
            }
        }
    }
    match parser.await {
        Ok(result) => result,
        Err(e) => Err(LiveError::Connect {
            url: source,
            cause: format!("reading the answer failed: {e}"),
        }),
    }
}

/// The progress watch of one body (see [`HttpLimits`]).
struct Progress {
    limits: HttpLimits,
    window_start: tokio::time::Instant,
    in_window: usize,
    total: usize,
}

impl Progress {
    fn new(limits: HttpLimits, now: tokio::time::Instant) -> Self {
        Progress {
            limits,
            window_start: now,
            in_window: 0,
            total: 0,
        }
    }

    /// The next chunk, or why the body stalled.
    async fn next<S, T, E>(&mut self, body: &mut S) -> Result<Option<Result<T, E>>, String>
    where
        S: futures_util::Stream<Item = Result<T, E>> + Unpin,
        T: AsRef<[u8]>,
    {
        loop {
            let deadline = self.window_start + self.limits.window;
            match tokio::time::timeout_at(deadline, body.next()).await {
                Ok(item) => {
                    if let Some(Ok(chunk)) = &item {
                        self.in_window += chunk.as_ref().len();
                        self.total += chunk.as_ref().len();
                    }
                    return Ok(item);
                }
                Err(_) if self.in_window >= self.limits.min_progress => {
                    // Enough came in this window: start the next one.
                    self.window_start = deadline;
                    self.in_window = 0;
                }
                Err(_) => {
                    return Err(format!(
                        "{} bytes in the last {}s, {} in all: less than the {} KiB per {}s a working master sends (--http-timeout)",
                        self.in_window,
                        self.limits.window.as_secs_f64(),
                        self.total,
                        self.limits.min_progress / 1024,
                        self.limits.window.as_secs_f64()
                    ))
                }
            }
        }
    }
}

/// The body chunks as a `Read` for the scanner.
struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<Result<bytes::Bytes, String>>,
    chunk: bytes::Bytes,
}

impl std::io::Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.chunk.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(c)) => self.chunk = c,
                Some(Err(e)) => return Err(std::io::Error::other(e)),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        bytes::Buf::advance(&mut self.chunk, n);
        Ok(n)
    }
}

/// The first state path under `base` that exists, with its final URL.
async fn fetch_document(
    base: &str,
    client: &reqwest::Client,
    hops: &mut usize,
    limits: &HttpLimits,
) -> Result<(Url, reqwest::Response), LiveError> {
    for path in PATHS {
        let start = format!("{base}{path}");
        let url = Url::parse(&start).map_err(|e| LiveError::BadUrl {
            url: redact(&start),
            cause: e.to_string(),
        })?;
        if let Some(found) = get_url(url, client, hops, limits).await? {
            return Ok(found);
        }
    }
    Err(LiveError::NoEndpoint { base: redact(base) })
}

/// GET `url`, following redirects (counted in `hops`); None on 404, an
/// error for any other failure.
async fn get_url(
    mut url: Url,
    client: &reqwest::Client,
    hops: &mut usize,
    limits: &HttpLimits,
) -> Result<Option<(Url, reqwest::Response)>, LiveError> {
    let start = url.to_string();
    loop {
        let sent = client
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send();
        let resp = tokio::time::timeout(limits.headers, sent)
            .await
            .map_err(|_| LiveError::Timeout {
                url: redact(url.as_str()),
                phase: "waiting for the answer's headers",
                elapsed: limits.headers.as_secs_f64(),
                why: "the connection was accepted but nothing came back".into(),
            })?
            .map_err(|e| {
                let (url, cause) = (redact(url.as_str()), root_cause(&e));
                if crate::retry::is_transient_connect(&e) {
                    LiveError::Unreachable { url, cause }
                } else {
                    LiveError::Connect { url, cause }
                }
            })?;
        // The client may have followed redirects itself.
        let final_url = resp.url().clone();
        let status = resp.status();
        if status.is_redirection() {
            let location = resp
                .headers()
                .get(LOCATION)
                .and_then(|l| l.to_str().ok())
                .map(str::to_string);
            let Some(location) = location else {
                return Err(LiveError::Status {
                    url: redact(final_url.as_str()),
                    status: status.as_u16(),
                    detail: " without a Location header".to_string(),
                });
            };
            // `Url::join` resolves `//host:port/path` against our scheme.
            let next = final_url.join(&location).map_err(|e| LiveError::BadUrl {
                url: redact(&location),
                cause: e.to_string(),
            })?;
            *hops += 1;
            if *hops > MAX_HOPS {
                return Err(LiveError::TooManyHops {
                    url: redact(&start),
                    hops: MAX_HOPS,
                    last: redact(next.as_str()),
                });
            }
            url = next;
            continue;
        }
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            let body = resp.bytes().await.map_err(|e| LiveError::Connect {
                url: redact(final_url.as_str()),
                cause: format!("reading the answer failed: {}", root_cause(&e)),
            })?;
            let start = body_start(&body);
            return Err(LiveError::Status {
                url: redact(final_url.as_str()),
                status: status.as_u16(),
                detail: if start.is_empty() {
                    String::new()
                } else {
                    format!(" ({start})")
                },
            });
        }
        return Ok(Some((final_url, resp)));
    }
}

/// The narrower endpoints, when the master has them and our framework ID
/// is known: `/master/slaves` (agents only) and
/// `/master/frameworks?framework_id=ID` (our framework only) instead of
/// the whole state, which on a big cluster is mostly other frameworks'
/// tasks. Only masters from 1.4 on are asked: they filter by framework ID
/// and redirect to the leader from these endpoints too (an older
/// non-leading master could answer them with empty lists, which must never
/// be planned from). None, for the whole state instead, on any failure.
async fn fetch_narrow(
    base: &str,
    client: &reqwest::Client,
    selector: &FrameworkSelector,
    limits: &HttpLimits,
) -> Option<LiveCluster> {
    let id = selector.id.as_ref()?;
    // A framework named for takeover is looked for in the whole document.
    if selector.predecessor.as_ref().is_some_and(|p| p.explicit) {
        return None;
    }
    let mut hops = 0;
    let version_url = Url::parse(&format!("{base}/version")).ok()?;
    let (_, resp) = get_url(version_url, client, &mut hops, limits)
        .await
        .ok()??;
    let version: serde_json::Value = resp.json().await.ok()?;
    let numbers = version_numbers(version.get("version")?.as_str()?);
    let (major, minor) = (*numbers.first()?, *numbers.get(1)?);
    if (major, minor) < (1, 4) {
        return None;
    }
    let agents_url = Url::parse(&format!("{base}/master/slaves")).ok()?;
    let (agents_at, agents) = get_url(agents_url, client, &mut hops, limits)
        .await
        .ok()??;
    let mut frameworks_url = Url::parse(&format!("{base}/master/frameworks")).ok()?;
    frameworks_url
        .query_pairs_mut()
        .append_pair("framework_id", id);
    let (frameworks_at, frameworks) = get_url(frameworks_url, client, &mut hops, limits)
        .await
        .ok()??;
    let source = format!(
        "{} and {}",
        redact(agents_at.as_str()),
        redact(frameworks_at.as_str())
    );
    stream_state(vec![agents, frameworks], selector, source, limits)
        .await
        .ok()
}

/// A URL fit for messages: a password in it (`http://user:secret@host`)
/// is replaced by `***`.
pub(super) fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(_) => url.to_string(),
        // Unparsable: hide whatever sits between the scheme and an `@`.
        Err(_) => match (url.find("://"), url.rfind('@')) {
            (Some(s), Some(at)) if s + 3 < at => format!("{}***{}", &url[..s + 3], &url[at..]),
            _ => url.to_string(),
        },
    }
}

/// The innermost cause of a request error, such as "Connection refused
/// (os error 111)", which is what the reader needs.
fn root_cause(e: &reqwest::Error) -> String {
    // The reqwest error itself prints the URL, password included: only its
    // causes are shown.
    let mut text = match std::error::Error::source(e) {
        None => String::new(),
        Some(mut cause) => {
            while let Some(inner) = cause.source() {
                cause = inner;
            }
            cause.to_string()
        }
    };
    if text.is_empty() {
        text = if e.is_connect() {
            "connection failed"
        } else if e.is_body() || e.is_decode() {
            "the answer broke off"
        } else {
            "the request failed"
        }
        .to_string();
    }
    if e.is_timeout() && !text.to_lowercase().contains("timed out") {
        format!("timed out ({text})")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_urls_without_a_scheme_get_http_and_lose_trailing_slashes() {
        assert_eq!(normalise("10.0.0.5:5050").unwrap(), "http://10.0.0.5:5050");
        assert_eq!(
            normalise("localhost:5050/").unwrap(),
            "http://localhost:5050"
        );
        assert_eq!(
            normalise("https://m.example.com/mesos/").unwrap(),
            "https://m.example.com/mesos"
        );
        let e = normalise("zk://10.0.0.1:2181/mesos")
            .unwrap_err()
            .to_string();
        assert!(e.contains("zk:// is not http:// or https://"), "{e}");
    }

    #[test]
    fn passwords_in_master_urls_never_reach_messages() {
        assert_eq!(
            redact("http://ops:s3cret@10.0.0.5:5050/master/state"),
            "http://ops:***@10.0.0.5:5050/master/state"
        );
        assert_eq!(redact("http://10.0.0.5:5050"), "http://10.0.0.5:5050");
        assert_eq!(redact("http://ops:s3cret@[bad"), "http://***@[bad");
        let e = normalise("ftp://ops:s3cret@host").unwrap_err().to_string();
        assert!(!e.contains("s3cret"), "{e}");
    }

    #[test]
    fn combined_messages_say_the_offline_hint_once() {
        let a = LiveError::Connect {
            url: "http://a/master/state".into(),
            cause: "Connection refused".into(),
        }
        .to_string();
        let stripped = without_hint(&a);
        assert!(!stripped.contains("--mesos-state"), "{stripped}");
        assert!(stripped.contains("Connection refused"), "{stripped}");
    }
}
