//! Retrying transient failures: a master that refuses connections while
//! it restarts, or answers 503 while it elects a leader or recovers, is
//! asked again with backoff and jitter until a deadline, each retry said in
//! one line. What is retried is decided by the caller (never a 4xx, never
//! a launch whose fate is unknown).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How long transient failures are retried, and where each retry is said.
#[derive(Clone)]
pub struct RetryPolicy {
    pub deadline: Duration,
    pub log: Arc<dyn Fn(String) + Send + Sync>,
}

/// The default deadline (`--retry-deadline`).
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            deadline: DEFAULT_DEADLINE,
            log: Arc::new(|line| eprintln!("{line}")),
        }
    }
}

impl RetryPolicy {
    /// Runs `attempt` until it succeeds, fails for good (`retryable` says
    /// no), or the next wait would pass the deadline; `what` names the
    /// operation in the retry lines.
    pub async fn run<T, E, F, Fut>(
        &self,
        what: &str,
        retryable: impl Fn(&E) -> bool,
        mut attempt: F,
    ) -> Result<T, E>
    where
        E: std::fmt::Display,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let started = tokio::time::Instant::now();
        let mut tries = 0;
        loop {
            let err = match attempt().await {
                Err(e) if retryable(&e) => e,
                done => return done,
            };
            tries += 1;
            let wait = backoff(tries);
            let used = started.elapsed();
            if used + wait > self.deadline {
                return Err(err);
            }
            (self.log)(format!(
                "{what}: {err}; retrying in {:.1}s ({:.0}s of the {:.0}s retry deadline used)",
                wait.as_secs_f64(),
                used.as_secs_f64(),
                self.deadline.as_secs_f64()
            ));
            tokio::time::sleep(wait).await;
        }
    }
}

/// Whether a failed request never reached a working server for a reason
/// that may pass: the connection was refused, reset or aborted (a master
/// restarting, a proxy between leaders). A TLS or DNS failure, or a bad
/// URL, will not pass by waiting.
pub fn is_transient_connect(e: &(dyn std::error::Error + 'static)) -> bool {
    use std::io::ErrorKind::*;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        // Only the operating system's own word counts: a TLS failure can
        // surface as an io::Error too, wrapping its own error.
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if io.raw_os_error().is_some()
                && matches!(
                    io.kind(),
                    ConnectionRefused
                        | ConnectionReset
                        | ConnectionAborted
                        | NotConnected
                        | BrokenPipe
                )
            {
                return true;
            }
        }
        source = s.source();
    }
    false
}

/// Exponential backoff with jitter: 0.5s, 1s, 2s ... up to 30s, +-25%.
pub fn backoff(attempt: u32) -> Duration {
    let base = 0.5 * 2f64.powi(attempt.min(6) as i32);
    let capped = base.min(30.0);
    let jitter = 0.75 + rand::random::<f64>() * 0.5;
    Duration::from_secs_f64(capped * jitter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[tokio::test(start_paused = true)]
    async fn retries_until_success_and_says_each_retry() {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let policy = RetryPolicy {
            deadline: Duration::from_secs(60),
            log: Arc::new(move |l| sink.lock().unwrap().push(l)),
        };
        let mut left = 2;
        let r: Result<u32, String> = policy
            .run(
                "GET x",
                |_| true,
                || {
                    let fail = left > 0;
                    left -= 1;
                    async move {
                        if fail {
                            Err("HTTP 503".to_string())
                        } else {
                            Ok(7)
                        }
                    }
                },
            )
            .await;
        assert_eq!(r, Ok(7));
        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), 2);
        assert!(
            lines[0].starts_with("GET x: HTTP 503; retrying in "),
            "{}",
            lines[0]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_at_the_deadline_and_never_retries_what_is_final() {
        let policy = RetryPolicy {
            deadline: Duration::from_secs(5),
            log: Arc::new(|_| {}),
        };
        let mut tries = 0;
        let r: Result<(), String> = policy
            .run(
                "x",
                |_| true,
                || {
                    tries += 1;
                    async { Err("down".to_string()) }
                },
            )
            .await;
        assert!(r.is_err());
        // 0.5 + 1 + 2 (jitter +-25%) fit in 5s; 4 more would not.
        assert!((3..=4).contains(&tries), "{tries}");
        let mut tries = 0;
        let r: Result<(), String> = policy
            .run(
                "x",
                |e: &String| e != "HTTP 400",
                || {
                    tries += 1;
                    async { Err("HTTP 400".to_string()) }
                },
            )
            .await;
        assert!(r.is_err());
        assert_eq!(tries, 1);
    }
}
