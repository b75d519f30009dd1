//! Desired x live x state -> plan. Pure and deterministic: the same inputs
//! give a byte-identical plan, so that plans can be reviewed and compared.

pub mod config;
pub mod existing;
pub mod model;
pub mod placement;
mod planner;

pub use model::{
    Action, AgentRef, Change, ExistingTask, PlacementFailure, Plan, Summary, TaskSpec,
};
#[cfg(test)]
pub(crate) use planner::task_spec;
pub use planner::{make_plan, secret_hasher, targeting, PlanOptions, REPLACEMENT_REQUESTED};

/// Task labels written at launch and read back from Mesos.
pub const LABEL_DEPLOYMENT: &str = "alluxio-mesos.deployment";
pub const LABEL_ROLE: &str = "alluxio-mesos.role";
pub const LABEL_ADDRESS: &str = "alluxio-mesos.address";
pub const LABEL_CONFIG_HASH: &str = "alluxio-mesos.config-hash";
/// Also the shared test deployment of other modules' tests.
#[cfg(test)]
pub(crate) mod tests;
