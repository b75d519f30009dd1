//! `mesos-sim --cluster FILE [--listen 127.0.0.1:5050] [--leader URL]`:
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
    /// ZooKeeper URL to register with (not supported by this build).
    #[arg(long)]
    zk: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(zk) = &args.zk {
        eprintln!(
            "mesos-sim: --zk {zk}: ZooKeeper registration is not supported; use --leader to emulate a non-leading master"
        );
        return ExitCode::from(2);
    }
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
    let _ = tokio::signal::ctrl_c().await;
    handle.shutdown().await;
    ExitCode::SUCCESS
}
