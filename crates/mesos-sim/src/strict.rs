//! Strict-calls mode (`SimConfig::strict_calls`, `--strict-calls`) and the
//! record of which call types the emulator received.
//!
//! Real Mesos parses a JSON call leniently (unknown fields ignored, an
//! unknown optional enum value dropped), so a misspelt field would pass
//! unnoticed. In strict mode every JSON scheduler call is first checked
//! against `mesos.v1.scheduler.Call` with `mesos_api::proto_schema` and
//! refused with 400 on any violation; the violations are kept so that a
//! test can assert there were none. This is an opt-in deviation from Mesos.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use axum::http::StatusCode;
use axum::response::Response;
use mesos_api::proto_schema;

use crate::app::text;

/// What strict mode checks and what the scheduler endpoint has seen.
#[derive(Debug, Default)]
pub struct CallAudit {
    strict: bool,
    log: Mutex<AuditLog>,
}

#[derive(Debug, Default)]
struct AuditLog {
    violations: Vec<String>,
    call_types: BTreeMap<String, usize>,
}

impl CallAudit {
    pub fn new(strict: bool) -> Self {
        CallAudit {
            strict,
            log: Mutex::default(),
        }
    }

    fn log(&self) -> MutexGuard<'_, AuditLog> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts the call's `type` (as sent, even when the call is then
    /// refused) and, in strict mode, checks the body against the proto:
    /// `Err` is the 400 response to send.
    pub fn inspect(&self, call: &serde_json::Value) -> Result<(), Response> {
        let kind = match call.get("type") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => "(no type)".to_string(),
        };
        *self.log().call_types.entry(kind).or_default() += 1;
        if !self.strict {
            return Ok(());
        }
        proto_schema::check(proto_schema::CALL, call).map_err(|violations| {
            let described = proto_schema::describe(&violations);
            self.log()
                .violations
                .extend(violations.iter().map(ToString::to_string));
            text(
                StatusCode::BAD_REQUEST,
                format!(
                    "Failed to validate scheduler::Call against v1 scheduler.proto (strict mode): {described}"
                ),
            )
        })
    }

    /// Every violation strict mode refused so far, oldest first.
    pub fn violations(&self) -> Vec<String> {
        self.log().violations.clone()
    }

    /// How many JSON calls of each type arrived.
    pub fn call_types(&self) -> BTreeMap<String, usize> {
        self.log().call_types.clone()
    }
}
