//! An open connection to Mesos: the masters found, the HTTP client, the
//! runtime the requests run on and how they are retried.

use super::discovery::{self, ZkLeader};
use super::{http, HttpLimits, MesosError};
use crate::desired::Desired;
use crate::live::{FrameworkSelector, LiveCluster, LiveError};
use crate::retry::RetryPolicy;
use crate::state::State;
use mesos_sim::SimHandle;
use std::path::PathBuf;
use std::time::Duration;

/// How to reach Mesos besides the deployment's `[mesos]` table: what the
/// command line says.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `--mesos`: wins over `[mesos] master`.
    pub master: Option<String>,
    /// `--ca-cert`: trusted besides `[mesos] ca_cert`.
    pub ca_cert: Option<PathBuf>,
    pub insecure_skip_tls_verify: bool,
    /// How long transient failures are retried (`--retry-deadline`).
    pub retry_deadline: Duration,
    /// `--http-timeout`, see [`HttpLimits::new`].
    pub http_timeout: Duration,
    /// The deployment file: named in messages, and the local cluster keeps
    /// its state beside it.
    pub deployment_file: PathBuf,
    /// Say which masters were found.
    pub verbose: bool,
}

/// Mesos as one command uses it; [`Connection::close`] stops what it started.
pub struct Connection {
    pub rt: tokio::runtime::Runtime,
    pub http: reqwest::Client,
    /// Base URLs of the masters to try, leader first when known.
    pub masters: Vec<String>,
    /// With a `zk://` master: where to look the leader up again when the
    /// scheduler re-subscribes.
    pub zookeeper: Option<ZkLeader>,
    /// How transient failures of Mesos requests are retried.
    pub retry: RetryPolicy,
    /// How long Mesos requests may take (`--http-timeout`).
    pub limits: HttpLimits,
    sim: Option<SimHandle>,
}

fn runtime() -> Result<tokio::runtime::Runtime, MesosError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| MesosError::msg(format!("cannot start the async runtime: {e}")))
}

impl Connection {
    /// A scheduler API client for the leading master at `leader`, with the
    /// framework's credentials and this connection's retry, timeout and
    /// ZooKeeper leader lookup.
    pub fn scheduler_client(&self, leader: &str, desired: &Desired) -> super::SchedulerClient {
        let credentials = match (&desired.mesos.principal, &desired.mesos.secret) {
            (Some(p), Some(s)) => Some((p.clone(), s.clone())),
            _ => None,
        };
        let client = super::SchedulerClient::new(self.http.clone(), leader, credentials)
            .with_retry(self.retry.clone())
            .with_headers_timeout(self.limits.headers);
        match &self.zookeeper {
            Some(zk) => client.follow_zookeeper(zk.clone()),
            None => client,
        }
    }

    pub fn open(settings: &Settings, desired: &Desired) -> Result<Connection, MesosError> {
        let rt = runtime()?;
        let http = http::client(settings, desired)?;
        let masters = discovery::find_masters(&rt, settings, desired)?;
        Ok(Connection {
            rt,
            http,
            masters: masters.urls,
            zookeeper: masters.zookeeper,
            retry: RetryPolicy {
                deadline: settings.retry_deadline,
                ..Default::default()
            },
            limits: HttpLimits::new(settings.http_timeout),
            sim: masters.sim,
        })
    }

    pub fn fetch_live(
        &self,
        desired: &Desired,
        state: Option<&State>,
        verbose: bool,
    ) -> Result<LiveCluster, MesosError> {
        let fetching = std::time::Instant::now();
        let cluster = self
            .rt
            .block_on(super::fetch_state_retrying(
                &self.masters,
                self.zookeeper.as_ref(),
                &self.http,
                &FrameworkSelector::for_deployment(desired, state),
                &self.limits,
                &self.retry,
            ))
            .map_err(|e| explain_live_error(e, desired))?;
        if verbose {
            // The source ends its line: scripts read what was used from it.
            eprintln!("Fetch: {}", crate::timing::elapsed(fetching));
            eprintln!("Read the live state from {}", cluster.source);
        }
        Ok(cluster)
    }

    /// The latest status, with reason and message, of each of `ids` that
    /// the leading master at `leader` knows.
    pub fn latest_statuses(
        &self,
        leader: &str,
        ids: &std::collections::HashSet<String>,
    ) -> Result<std::collections::HashMap<String, super::task_statuses::StatusFacts>, MesosError>
    {
        self.rt.block_on(super::task_statuses::latest_statuses(
            &self.http,
            leader,
            ids,
            &self.limits,
        ))
    }

    /// Tears framework `framework_id` down through the leading master, as
    /// the deployment's operator (`[migrate] principal`) or framework.
    pub fn teardown(
        &self,
        leader: &str,
        framework_id: &str,
        desired: &Desired,
    ) -> Result<(), MesosError> {
        let operator = desired
            .mesos
            .operator
            .as_ref()
            .map(|(p, s)| (p.as_str(), s.as_ref()));
        self.rt.block_on(super::operator::teardown(
            &self.http,
            leader,
            framework_id,
            operator,
            &self.limits,
        ))
    }

    /// Stops the local cluster (saving its state), if one was started.
    pub fn close(mut self) {
        if let Some(sim) = self.sim.take() {
            self.rt.block_on(sim.shutdown());
        }
    }
}

/// Says what a 401 from a state endpoint means (the master was started
/// with `--authenticate_http_readonly`), in the words the scheduler client
/// uses for the same refusal.
fn explain_live_error(e: LiveError, desired: &Desired) -> MesosError {
    match (&e, &desired.mesos.secret, &desired.mesos.principal) {
        (LiveError::Status { url, status: 401, .. }, Some(_), Some(principal)) => {
            MesosError::msg(format!(
                "authentication failed for principal {principal} at {url} (HTTP 401): check the principal and its secret"
            ))
        }
        (LiveError::Status { url, status: 401, .. }, None, _) => MesosError::msg(format!(
            "the Mesos master at {url} requires authentication to read its state (HTTP 401): set [mesos] principal and secret_file (or ALLUXIO_MESOS_SECRET)"
        )),
        (LiveError::Connect { url, cause }, _, _) if is_untrusted_certificate(cause) => {
            MesosError::msg(format!(
                "the TLS certificate of the Mesos master at {url} is not trusted ({cause}): add the CA that signed it with [mesos] ca_cert or --ca-cert FILE"
            ))
        }
        _ => MesosError::msg(e),
    }
}

/// Whether a connection failure is rustls refusing the server's certificate.
fn is_untrusted_certificate(cause: &str) -> bool {
    cause.contains("invalid peer certificate")
        || cause.contains("UnknownIssuer")
        || cause.contains("certificate")
}
