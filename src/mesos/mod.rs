//! The only code that speaks HTTP to Mesos.
//!
//! - `scheduler`: the v1 scheduler API, as the apply engine drives it
//!   ([`scheduler::SchedulerApi`]) and over HTTP ([`SchedulerClient`]);
//! - `discovery`: finding the leading master, in ZooKeeper ([`ZkLeader`]);
//! - [`sandbox`]: a task's sandbox files, read through its agent.

mod discovery;
pub mod sandbox;
pub mod scheduler;

pub use discovery::ZkLeader;
pub use scheduler::SchedulerClient;
