//! Alluxio as the emulator's generator (`mesos_sim::gen`) writes it: shared
//! by the integration tests, `tests/scale_smoke.rs` and `benches/scale.rs`,
//! so that the documents they generate, and the benchmark's figures, agree.

#![allow(dead_code)]

use alluxio_mesos::desired::settings;
use mesos_sim::gen::{TaskKind, Workload};

/// What agents started with `--resources` for Alluxio offer: Mesos's
/// default range plus the masters' and the workers' ports.
pub const ALLUXIO_AGENT_PORTS: &str = "[31000-32000, 19998-19999, 29998-30000]";

/// The `alluxio` framework running `workers` workers, one on each of the
/// first `workers` agents, named and on the port the deployment's defaults
/// give them.
pub fn alluxio_workload(workers: usize) -> Workload {
    Workload {
        framework: "alluxio".into(),
        role: "alluxio".into(),
        user: "alluxio".into(),
        tasks: vec![TaskKind {
            name: settings::WORKER_NAME.default_text().into(),
            id_prefix: "alluxio-worker-".into(),
            cpus: 4.0,
            mem: 6144.0,
            port: settings::WORKER_RPC_PORT
                .default_text()
                .parse()
                .expect("a port"),
            count: workers,
        }],
    }
}
