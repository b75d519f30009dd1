//! Finding the masters: a list of HTTP masters, the leader found in
//! ZooKeeper, or the embedded local cluster (`master = "local"`), which is
//! started in-process on a loopback port and persists its state in
//! `.alluxio-mesos/local/` beside the deployment file so that successive
//! runs see the same cluster and tasks.

use super::{http, MesosError, Settings};
use crate::desired::{self, Desired, MasterLocator};
use mesos_sim::{ClusterSpec, Sim, SimConfig, SimHandle};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long finding the leader in ZooKeeper may take.
const ZK_TIMEOUT: Duration = Duration::from_secs(15);

const DEFAULT_LOCAL_CLUSTER: &str = include_str!("local-cluster.toml");

/// Finding the leader again in ZooKeeper before every SUBSCRIBE, so that a
/// re-subscription after a broken stream (the leader died, or lost its
/// leadership) goes to whichever master leads now, with the same framework ID.
#[derive(Debug, Clone)]
pub struct ZkLeader {
    pub url: mesos_zk::ZkUrl,
    /// Reach the leader over HTTPS (MasterInfo carries no scheme).
    pub https: bool,
    pub timeout: Duration,
}

impl ZkLeader {
    /// The base URL of the master ZooKeeper names as leader now.
    pub async fn leader_base_url(&self) -> Result<String, mesos_zk::ZkError> {
        let leader = mesos_zk::find_leader(&self.url, self.timeout).await?;
        // MasterInfo carries no scheme: masters with TLS enabled
        // (LIBPROCESS_SSL_ENABLED) are recognised by our TLS settings.
        Ok(if self.https {
            leader.base_url.replacen("http://", "https://", 1)
        } else {
            leader.base_url
        })
    }
}

/// The masters found.
pub(super) struct Masters {
    /// Base URLs to try, leader first when known.
    pub urls: Vec<String>,
    /// With a `zk://` master: where to look the leader up again.
    pub zookeeper: Option<ZkLeader>,
    /// The local cluster, when one was started.
    pub sim: Option<SimHandle>,
}

/// Where to find Mesos: `--mesos` wins over `[mesos] master`.
fn master_locator(settings: &Settings, desired: &Desired) -> Result<MasterLocator, MesosError> {
    if let Some(url) = &settings.master {
        return desired::parse_master_locator(url).map_err(MesosError::msg);
    }
    desired.mesos.master.clone().ok_or_else(|| {
        MesosError::msg(format!(
            "no Mesos master: set [mesos] master in {}, or pass --mesos URL, or plan against a saved document with --mesos-state FILE",
            settings.deployment_file.display()
        ))
    })
}

/// Finds the masters the deployment and the settings name (starting the
/// local cluster for `local`).
pub(super) fn find_masters(
    rt: &tokio::runtime::Runtime,
    settings: &Settings,
    desired: &Desired,
) -> Result<Masters, MesosError> {
    match master_locator(settings, desired)? {
        MasterLocator::Http(urls) => Ok(Masters {
            urls,
            zookeeper: None,
            sim: None,
        }),
        MasterLocator::ZooKeeper(url) => {
            let zk = ZkLeader {
                url: url.parse().map_err(MesosError::msg)?,
                https: http::tls_configured(settings, desired),
                timeout: ZK_TIMEOUT,
            };
            let base = rt.block_on(zk.leader_base_url()).map_err(MesosError::msg)?;
            if settings.verbose {
                eprintln!("ZooKeeper {} names {} as the leading master", zk.url, base);
            }
            Ok(Masters {
                urls: vec![base],
                zookeeper: Some(zk),
                sim: None,
            })
        }
        MasterLocator::Local => {
            let handle = start_local(rt, settings, desired)?;
            Ok(Masters {
                urls: vec![handle.url()],
                zookeeper: None,
                sim: Some(handle),
            })
        }
    }
}

/// Starts the local cluster on a loopback port, with its saved state.
fn start_local(
    rt: &tokio::runtime::Runtime,
    settings: &Settings,
    desired: &Desired,
) -> Result<SimHandle, MesosError> {
    let cluster = match &desired.mesos.local_cluster {
        Some(path) => ClusterSpec::load(path).map_err(MesosError::msg)?,
        None => ClusterSpec::parse(DEFAULT_LOCAL_CLUSTER).map_err(MesosError::msg)?,
    };
    let dir = local_dir(&settings.deployment_file);
    std::fs::create_dir_all(&dir).map_err(|e| {
        MesosError::msg(format!(
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
        MesosError::msg(format!(
            "cannot start the local cluster (state in {}): {e}",
            dir.display()
        ))
    })?;
    if settings.verbose {
        eprintln!(
            "Started the local Mesos cluster at {} (state in {})",
            handle.url(),
            dir.display()
        );
    }
    Ok(handle)
}

/// Where the local cluster keeps its state.
fn local_dir(deployment: &Path) -> PathBuf {
    let dir = deployment
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    dir.join(".alluxio-mesos").join("local")
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
