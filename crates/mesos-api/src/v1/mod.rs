//! Core Mesos v1 messages (`include/mesos/v1/mesos.proto`) in their JSON form.
//!
//! The protobuf JSON mapping Mesos uses: snake_case field names, enums by
//! name, IDs as `{"value": ...}`, `bytes` as standard base64, repeated
//! fields omitted when empty, unset optionals omitted. `required` proto
//! fields are plain Rust fields, so deserialising JSON that lacks them
//! fails, as it does in Mesos. Messages this project never inspects
//! (container, discovery, kill policy, ...) are carried through as raw JSON.

mod master;
mod resources;
mod status;
mod task;

pub use master::*;
pub use resources::*;
pub use status::*;
pub use task::*;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub struct $name {
            pub value: String,
        }

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                Self { value: value.into() }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.value)
            }
        }

        impl From<&str> for $name {
            fn from(v: &str) -> Self {
                Self::new(v)
            }
        }

        impl From<String> for $name {
            fn from(v: String) -> Self {
                Self::new(v)
            }
        }
    };
}

id_type!(
    /// `FrameworkID`.
    FrameworkId
);
id_type!(
    /// `OfferID`.
    OfferId
);
id_type!(
    /// `AgentID` (the old endpoints call it `slave_id`).
    AgentId
);
id_type!(
    /// `TaskID`.
    TaskId
);
id_type!(
    /// `ExecutorID`.
    ExecutorId
);
