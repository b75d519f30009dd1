//! `alluxio-mesos`: plan and apply Alluxio deployments on Apache Mesos.
//!
//! Data flows one way: the desired deployment ([`desired`]), the live cluster
//! ([`live`]) and the state file ([`state`]) make a plan ([`plan`]), which is
//! rendered ([`render`]), saved for review ([`plan_file`]) or applied
//! ([`apply`]), producing a new state. The planner is pure; I/O lives at
//! the edges.

pub mod address;
pub mod apply;
pub mod cli;
pub mod desired;
pub mod drift;
pub mod excerpt;
pub mod fit;
pub mod launch;
pub mod limits;
pub mod live;
pub mod mesos;
pub mod plan;
pub mod plan_file;
pub mod render;
pub mod retry;
pub mod state;
pub mod timing;
