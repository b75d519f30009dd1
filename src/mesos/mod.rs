//! The only code that speaks HTTP to Mesos. Commands open a [`Connection`]
//! and read the live state through it; the apply engine drives the
//! scheduler API through [`scheduler::SchedulerApi`].
//!
//! - `connection`: [`Connection`], opened from [`Settings`] and the
//!   deployment's `[mesos]` table;
//! - `discovery`: finding the masters: a list, the leader in ZooKeeper
//!   ([`ZkLeader`]), or the embedded local cluster;
//! - `http`: the HTTP client, with TLS, credentials and limits
//!   ([`HttpLimits`]);
//! - `state_fetch`: the leading master's state document, streamed into
//!   [`crate::live`]'s reader (the narrower endpoints when they do);
//! - [`scheduler`]: the v1 scheduler API, the subscription and its
//!   watchdog, and its HTTP client ([`SchedulerClient`]);
//! - [`sandbox`]: a task's sandbox files, read through its agent;
//! - [`operator`]: the operator API's TEARDOWN of another framework;
//! - [`task_statuses`]: tasks' latest statuses with Mesos's reasons and
//!   messages (operator API `GET_TASKS`), which state documents lack.

mod connection;
mod discovery;
mod http;
pub mod operator;
pub mod sandbox;
pub mod scheduler;
mod state_fetch;
pub mod task_statuses;

pub use connection::{Connection, Settings};
pub use discovery::{base_url, ZkLeader};
pub use http::{HttpLimits, DEFAULT_HTTP_TIMEOUT};
pub use scheduler::SchedulerClient;
pub use state_fetch::{fetch_state, fetch_state_retrying, fetch_state_within, MAX_HOPS};

/// A failure to reach Mesos or read its state, as the one line a command
/// prints.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct MesosError(pub String);

impl MesosError {
    pub fn msg(m: impl std::fmt::Display) -> Self {
        MesosError(m.to_string())
    }
}
