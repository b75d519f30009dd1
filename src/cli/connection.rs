//! Reaching Mesos: a list of HTTP masters, the leader found in ZooKeeper, or
//! the embedded local cluster (`master = "local"`), which is started
//! in-process on a loopback port and persists its state in
//! `.alluxio-mesos/local/` beside the deployment file so that successive
//! runs see the same cluster and tasks.

use super::context::{http_client, master_locator, selector, tls_configured};
use super::{CliError, Global, MesosArgs};
use crate::desired::{Desired, MasterLocator};
use crate::live::{self, LiveCluster};
use crate::mesos::ZkLeader;
use crate::state::State;
use mesos_sim::{ClusterSpec, Sim, SimConfig, SimHandle};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long finding the leader in ZooKeeper may take.
const ZK_TIMEOUT: Duration = Duration::from_secs(15);

const DEFAULT_LOCAL_CLUSTER: &str = include_str!("local-cluster.toml");

pub struct Connection {
    pub rt: tokio::runtime::Runtime,
    pub http: reqwest::Client,
    /// Base URLs of the masters to try, leader first when known.
    pub masters: Vec<String>,
    /// With a `zk://` master: where to look the leader up again when the
    /// scheduler re-subscribes.
    pub zookeeper: Option<ZkLeader>,
    /// How transient failures of Mesos requests are retried.
    pub retry: crate::retry::RetryPolicy,
    /// How long Mesos requests may take (`--http-timeout`).
    pub limits: crate::mesos::HttpLimits,
    sim: Option<SimHandle>,
}

/// Where the local cluster keeps its state.
pub fn local_dir(deployment: &Path) -> PathBuf {
    let dir = deployment
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    dir.join(".alluxio-mesos").join("local")
}

impl Connection {
    pub fn open(g: &Global, m: &MesosArgs, desired: &Desired) -> Result<Connection, CliError> {
        let rt = super::context::runtime()?;
        let http = http_client(m, desired)?;
        let mut zookeeper = None;
        let (masters, sim) = match master_locator(g, m, desired)? {
            MasterLocator::Http(urls) => (urls, None),
            MasterLocator::ZooKeeper(url) => {
                let zk = ZkLeader {
                    url: url.parse().map_err(CliError::msg)?,
                    https: tls_configured(m, desired),
                    timeout: ZK_TIMEOUT,
                };
                let base = rt.block_on(zk.leader_base_url()).map_err(CliError::msg)?;
                if g.verbose > 0 {
                    eprintln!("ZooKeeper {} names {} as the leading master", zk.url, base);
                }
                zookeeper = Some(zk);
                (vec![base], None)
            }
            MasterLocator::Local => {
                let cluster = match &desired.mesos.local_cluster {
                    Some(path) => ClusterSpec::load(path).map_err(CliError::msg)?,
                    None => ClusterSpec::parse(DEFAULT_LOCAL_CLUSTER).map_err(CliError::msg)?,
                };
                let dir = local_dir(&g.config);
                std::fs::create_dir_all(&dir).map_err(|e| {
                    CliError::msg(format!(
                        "cannot create the local cluster's directory {}: {e}",
                        dir.display()
                    ))
                })?;
                let listen = "127.0.0.1:0".parse().expect("valid address");
                // Strict calls: the embedded cluster refuses any call that is
                // not exactly valid for Mesos's scheduler.proto, so a call a
                // real master would silently misread fails here first.
                let cfg = SimConfig {
                    persist_dir: Some(dir.clone()),
                    strict_calls: true,
                    ..SimConfig::new(cluster, listen)
                };
                let handle = rt.block_on(Sim::start_with(cfg)).map_err(|e| {
                    CliError::msg(format!(
                        "cannot start the local cluster (state in {}): {e}",
                        dir.display()
                    ))
                })?;
                if g.verbose > 0 {
                    eprintln!(
                        "Started the local Mesos cluster at {} (state in {})",
                        handle.url(),
                        dir.display()
                    );
                }
                (vec![handle.url()], Some(handle))
            }
        };
        Ok(Connection {
            rt,
            http,
            masters,
            zookeeper,
            retry: crate::retry::RetryPolicy {
                deadline: m.retry_deadline,
                ..Default::default()
            },
            limits: crate::mesos::HttpLimits::new(m.http_timeout),
            sim,
        })
    }

    pub fn fetch_live(
        &self,
        desired: &Desired,
        state: Option<&State>,
        verbose: bool,
    ) -> Result<LiveCluster, CliError> {
        let fetching = std::time::Instant::now();
        let cluster = self
            .rt
            .block_on(crate::mesos::fetch_state_retrying(
                &self.masters,
                &self.http,
                &selector(desired, state),
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
fn explain_live_error(e: live::LiveError, desired: &Desired) -> CliError {
    match (&e, &desired.mesos.secret, &desired.mesos.principal) {
        (live::LiveError::Status { url, status: 401, .. }, Some(_), Some(principal)) => {
            CliError::msg(format!(
                "authentication failed for principal {principal} at {url} (HTTP 401): check the principal and its secret"
            ))
        }
        (live::LiveError::Status { url, status: 401, .. }, None, _) => CliError::msg(format!(
            "the Mesos master at {url} requires authentication to read its state (HTTP 401): set [mesos] principal and secret_file (or ALLUXIO_MESOS_SECRET)"
        )),
        (live::LiveError::Connect { url, cause }, _, _) if is_untrusted_certificate(cause) => {
            CliError::msg(format!(
                "the TLS certificate of the Mesos master at {url} is not trusted ({cause}): add the CA that signed it with [mesos] ca_cert or --ca-cert FILE"
            ))
        }
        _ => CliError::from(e),
    }
}

/// Whether a connection failure is rustls refusing the server's certificate.
fn is_untrusted_certificate(cause: &str) -> bool {
    cause.contains("invalid peer certificate")
        || cause.contains("UnknownIssuer")
        || cause.contains("certificate")
}

/// `http://host:port` of a URL such as `http://host:port/master/state`.
pub fn base_url(url: &str) -> String {
    match url.find("://") {
        Some(i) => match url[i + 3..].find('/') {
            Some(j) => url[..i + 3 + j].to_string(),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}
