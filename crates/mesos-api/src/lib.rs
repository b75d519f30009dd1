//! Mesos v1 wire types, RecordIO framing and resource arithmetic.
//!
//! This crate is what `alluxio-mesos` and the `mesos-sim` emulator share:
//! the JSON shapes Mesos reads and writes (following the protobuf JSON
//! mapping of `include/mesos/v1/*.proto`), the RecordIO codec of the
//! scheduler event stream, and value types such as port ranges.
//! It does no I/O and knows nothing about Alluxio.

pub mod ranges;
pub mod task_state;

pub use ranges::{PortRanges, RangesError};
pub use task_state::TaskState;
