//! `alluxio-mesos validate`: the deployment file and site properties, offline.

use super::{context, CliResult, Global};
use crate::desired::WorkerCount;

pub fn run(g: &Global) -> CliResult {
    let d = context::load_desired(g)?;
    let workers = match d.worker.count {
        WorkerCount::All => "a worker on every eligible agent".to_string(),
        WorkerCount::Exactly(n) => format!("{n} worker(s)"),
    };
    println!(
        "{} is valid: deployment {:?}, {} master(s), {workers}, site properties from {}.",
        g.config.display(),
        d.name,
        d.master.count,
        d.files.properties.display()
    );
    Ok(super::exit::OK)
}
