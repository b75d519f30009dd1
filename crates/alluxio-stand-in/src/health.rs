//! A task's health check, run as Mesos's checker runs it for the command
//! executor (`src/checks/health_checker.cpp`, 1.x): the first check after
//! `delay_seconds`, then one every `interval_seconds`, each bounded by
//! `timeout_seconds`. Failures before the first success and inside
//! `grace_period_seconds` do not count. A healthy report goes out on the
//! first success and on the first success after failures; every counted
//! failure is reported, and the one that reaches `consecutive_failures`
//! asks for the task to be killed. Defaults are `HealthCheck`'s in
//! `mesos.proto`.
//!
//! Mesos checks a command task on 127.0.0.1, where a real Alluxio answers
//! since it binds every address. The harness's stand-ins share one machine
//! and bind their host's address only, so the check goes there.

use serde_json::Value;
use std::time::{Duration, Instant};

/// One result worth telling the scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthReport {
    pub healthy: bool,
    /// The failures reached `consecutive_failures`.
    pub kill: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Probe {
    Tcp {
        port: u16,
    },
    Http {
        port: u16,
        path: String,
        scheme: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
struct Check {
    probe: Probe,
    delay: Duration,
    interval: Duration,
    timeout: Duration,
    consecutive_failures: u32,
    grace_period: Duration,
}

fn seconds(v: &Value, default: f64) -> Duration {
    Duration::from_secs_f64(v.as_f64().unwrap_or(default).max(0.0))
}

fn parse(check: &Value) -> Result<Check, String> {
    let port = |v: &Value| {
        v["port"]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .ok_or_else(|| format!("health check without a valid port: {v}"))
    };
    let probe = match check["type"].as_str() {
        Some("TCP") => Probe::Tcp {
            port: port(&check["tcp"])?,
        },
        Some("HTTP") => Probe::Http {
            port: port(&check["http"])?,
            path: check["http"]["path"].as_str().unwrap_or("/").to_string(),
            scheme: check["http"]["scheme"]
                .as_str()
                .unwrap_or("http")
                .to_string(),
        },
        other => {
            return Err(format!(
                "health check type {other:?} is not supported by the stand-in"
            ))
        }
    };
    Ok(Check {
        probe,
        delay: seconds(&check["delay_seconds"], 15.0),
        interval: seconds(&check["interval_seconds"], 10.0),
        timeout: seconds(&check["timeout_seconds"], 20.0),
        consecutive_failures: check["consecutive_failures"].as_u64().unwrap_or(3) as u32,
        grace_period: seconds(&check["grace_period_seconds"], 10.0),
    })
}

async fn probe_once(probe: &Probe, host: &str, timeout: Duration) -> bool {
    let attempt = async {
        match probe {
            Probe::Tcp { port } => tokio::net::TcpStream::connect((host, *port)).await.is_ok(),
            Probe::Http { port, path, scheme } => {
                let url = format!("{scheme}://{host}:{port}{path}");
                // Mesos counts 200-399 as healthy.
                matches!(reqwest::get(&url).await, Ok(r) if (200..400).contains(&r.status().as_u16()))
            }
        }
    };
    tokio::time::timeout(timeout, attempt)
        .await
        .unwrap_or(false)
}

/// Runs `check` against `host` until it asks for a kill (or is aborted).
pub async fn run(check: &Value, host: &str, mut report: impl FnMut(HealthReport)) {
    let check = match parse(check) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("stand-in executor: {e}; no health checks run");
            return;
        }
    };
    let started = Instant::now();
    tokio::time::sleep(check.delay).await;
    let mut judge = Judge::new(check.consecutive_failures, check.grace_period, started);
    loop {
        let ok = probe_once(&check.probe, host, check.timeout).await;
        if let Some(r) = judge.result(ok, Instant::now()) {
            report(r);
            if r.kill {
                return;
            }
        }
        tokio::time::sleep(check.interval).await;
    }
}

/// The checker's bookkeeping, apart from the clock and the network.
#[derive(Debug)]
struct Judge {
    max_failures: u32,
    grace_period: Duration,
    started: Instant,
    initializing: bool,
    failures: u32,
}

impl Judge {
    fn new(max_failures: u32, grace_period: Duration, started: Instant) -> Judge {
        Judge {
            max_failures,
            grace_period,
            started,
            initializing: true,
            failures: 0,
        }
    }

    fn result(&mut self, ok: bool, now: Instant) -> Option<HealthReport> {
        if ok {
            let tell = self.initializing || self.failures > 0;
            self.initializing = false;
            self.failures = 0;
            return tell.then_some(HealthReport {
                healthy: true,
                kill: false,
            });
        }
        if self.initializing && now.duration_since(self.started) < self.grace_period {
            return None;
        }
        self.failures += 1;
        Some(HealthReport {
            healthy: false,
            kill: self.failures >= self.max_failures,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_launch_template_check_is_read_with_mesos_defaults() {
        let c = parse(
            &json!({"type": "HTTP", "http": {"port": 19999, "path": "/api/v1/master/info"},
                              "interval_seconds": 2.0}),
        )
        .unwrap();
        assert_eq!(
            c.probe,
            Probe::Http {
                port: 19999,
                path: "/api/v1/master/info".into(),
                scheme: "http".into()
            }
        );
        assert_eq!(
            (c.delay, c.interval, c.timeout),
            (
                Duration::from_secs(15),
                Duration::from_secs(2),
                Duration::from_secs(20)
            )
        );
        assert_eq!(
            (c.consecutive_failures, c.grace_period),
            (3, Duration::from_secs(10))
        );
        assert!(parse(&json!({"type": "COMMAND"})).is_err());
    }

    #[test]
    fn failures_in_the_grace_period_before_a_success_do_not_count() {
        let t0 = Instant::now();
        let mut j = Judge::new(2, Duration::from_secs(10), t0);
        assert_eq!(j.result(false, t0 + Duration::from_secs(1)), None);
        let healthy = Some(HealthReport {
            healthy: true,
            kill: false,
        });
        assert_eq!(j.result(true, t0 + Duration::from_secs(2)), healthy);
        assert_eq!(
            j.result(true, t0 + Duration::from_secs(3)),
            None,
            "only the first success is told"
        );
        // After a success the grace period no longer shields failures.
        assert_eq!(
            j.result(false, t0 + Duration::from_secs(4)),
            Some(HealthReport {
                healthy: false,
                kill: false
            })
        );
        assert_eq!(
            j.result(true, t0 + Duration::from_secs(5)),
            healthy,
            "recovery is told"
        );
        assert!(!j.result(false, t0 + Duration::from_secs(6)).unwrap().kill);
        assert!(j.result(false, t0 + Duration::from_secs(7)).unwrap().kill);
    }

    #[test]
    fn failures_after_the_grace_period_count_even_without_a_success() {
        let t0 = Instant::now();
        let mut j = Judge::new(1, Duration::from_secs(10), t0);
        assert_eq!(
            j.result(false, t0 + Duration::from_secs(11)),
            Some(HealthReport {
                healthy: false,
                kill: true
            })
        );
    }
}
