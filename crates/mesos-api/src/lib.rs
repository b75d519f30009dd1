//! Mesos v1 wire types, RecordIO framing and resource arithmetic.
//!
//! This crate is what `alluxio-mesos` and the `mesos-sim` emulator share:
//! the JSON shapes Mesos reads and writes (following the protobuf JSON
//! mapping of `include/mesos/v1/*.proto`), the RecordIO codec of the
//! scheduler event stream, and value types such as port ranges.
//! It does no I/O and knows nothing about Alluxio.

pub mod command_status;
pub mod proto_schema;
pub mod ranges;
pub mod recordio;
pub mod resources;
pub mod scheduler;
pub mod secret;
pub mod task_state;
pub mod v1;

pub use ranges::{PortRanges, RangesError};
pub use resources::{ranges_union, scalar_sum, ResourceSummary};
pub use scheduler::{Call, CallType, Event, EventType};
pub use secret::Secret;
pub use task_state::TaskState;
pub use v1::*;

use base64::Engine;

/// A malformed `TaskStatus.uuid` / `Acknowledge.uuid`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
/// The message is exactly the one Mesos answers with (after
/// "Failed to validate scheduler::Call: "); the offending value is kept
/// in the field for callers that want it.
#[error("Not a valid UUID")]
pub struct UuidError(pub String);

/// Encodes a UUID as Mesos puts it in JSON: its 16 raw bytes in standard base64.
pub fn uuid_to_base64(u: &uuid::Uuid) -> String {
    base64::engine::general_purpose::STANDARD.encode(u.as_bytes())
}

/// Decodes a base64 `uuid` field; anything but exactly 16 bytes is an error.
pub fn uuid_from_base64(s: &str) -> Result<uuid::Uuid, UuidError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|_| UuidError(s.to_string()))?;
    uuid::Uuid::from_slice(&bytes).map_err(|_| UuidError(s.to_string()))
}
