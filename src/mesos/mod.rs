//! The only code that speaks HTTP to Mesos.
//!
//! - `state_fetch`: the leading master's state document, streamed into
//!   [`crate::live`]'s reader (the narrower endpoints when they do);
//! - `scheduler`: the v1 scheduler API, as the apply engine drives it
//!   ([`scheduler::SchedulerApi`]) and over HTTP ([`SchedulerClient`]);
//! - `discovery`: finding the leading master, in ZooKeeper ([`ZkLeader`]);
//! - `http`: the limits of every request ([`HttpLimits`]);
//! - [`sandbox`]: a task's sandbox files, read through its agent.

mod discovery;
mod http;
pub mod sandbox;
pub mod scheduler;
mod state_fetch;

pub use discovery::ZkLeader;
pub use http::{HttpLimits, DEFAULT_HTTP_TIMEOUT};
pub use scheduler::SchedulerClient;
pub use state_fetch::{fetch_state, fetch_state_retrying, fetch_state_within, MAX_HOPS};
