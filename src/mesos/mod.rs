//! The only code that speaks HTTP to Mesos.
//!
//! - `scheduler`: the v1 scheduler API, as the apply engine drives it
//!   ([`scheduler::SchedulerApi`]) and over HTTP ([`SchedulerClient`]);
//! - `discovery`: finding the leading master, in ZooKeeper ([`ZkLeader`]).

mod discovery;
pub mod scheduler;

pub use discovery::ZkLeader;
pub use scheduler::SchedulerClient;
