//! `mesos-sim --cluster FILE [--listen 127.0.0.1:5050] [--leader URL] [--zk URL]
//! [--tls-cert FILE --tls-key FILE] [--strict-calls]`:
//! runs the emulator until interrupted.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mesos_sim::{ClusterSpec, Sim, SimConfig};

/// A Mesos-compatible master emulator.
#[derive(Parser, Debug)]
#[command(name = "mesos-sim", version)]
struct Args {
    /// Cluster file (TOML): agents, timing, authentication, exec.
    #[arg(long)]
    cluster: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:5050")]
    listen: SocketAddr,
    /// Start as a non-leading master that redirects clients to this leader.
    #[arg(long)]
    leader: Option<String>,
    /// Keep state (frameworks, tasks, IDs) and sandboxes here across restarts.
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Register as a master in ZooKeeper, e.g. zk://127.0.0.1:2181/mesos
    /// (an ephemeral sequential json.info_ znode; the lowest one leads).
    #[arg(long, value_name = "URL")]
    zk: Option<String>,
    /// Serve HTTPS with this PEM certificate (chain); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Refuse (400) every scheduler call that is not exactly valid for
    /// Mesos's v1 scheduler.proto (unknown fields or enum values, missing
    /// required fields, ...), which real Mesos would accept or ignore.
    #[arg(long)]
    strict_calls: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let zk = match args.zk.as_deref().map(str::parse::<mesos_zk::ZkUrl>) {
        None => None,
        Some(Ok(url)) => Some(url),
        Some(Err(e)) => {
            eprintln!("mesos-sim: --zk: {e}");
            return ExitCode::from(2);
        }
    };
    let cluster = match ClusterSpec::load(&args.cluster) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mesos-sim: {e}");
            return ExitCode::from(2);
        }
    };
    let mut cfg = SimConfig::new(cluster, args.listen);
    cfg.leader = args.leader;
    cfg.persist_dir = args.state_dir;
    cfg.zk = zk;
    cfg.strict_calls = args.strict_calls;
    if let (Some(cert), Some(key)) = (args.tls_cert, args.tls_key) {
        cfg.tls = Some(mesos_sim::TlsFiles { cert, key });
    }
    let handle = match Sim::start_with(cfg).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("mesos-sim: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "mesos-sim: master {} listening on {}",
        handle.master_id(),
        handle.url()
    );
    if let Some(znode) = handle.zk_znode() {
        println!("mesos-sim: registered in ZooKeeper as {znode}");
    }
    let _ = tokio::signal::ctrl_c().await;
    handle.shutdown().await;
    ExitCode::SUCCESS
}
