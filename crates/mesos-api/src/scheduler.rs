//! The v1 scheduler API (`include/mesos/v1/scheduler/scheduler.proto`):
//! the `Call` a scheduler POSTs and the `Event`s it reads from the
//! SUBSCRIBE stream. Every payload nests under its lower-case type name,
//! e.g. `{"type":"OFFERS","offers":{"offers":[...]}}`.

use serde::{Deserialize, Serialize};

use crate::v1::*;

/// `Call.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CallType {
    Unknown,
    Subscribe,
    Teardown,
    Accept,
    Decline,
    AcceptInverseOffers,
    DeclineInverseOffers,
    Revive,
    Kill,
    Shutdown,
    Acknowledge,
    AcknowledgeOperationStatus,
    Reconcile,
    ReconcileOperations,
    Message,
    Request,
    Suppress,
    UpdateFramework,
}

/// `Call.Subscribe`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscribe {
    pub framework_info: FrameworkInfo,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suppressed_roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_constraints: Option<serde_json::Value>,
}

/// `Call.Accept`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Accept {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub offer_ids: Vec<OfferId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<Operation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Filters>,
}

/// `Call.Decline`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decline {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub offer_ids: Vec<OfferId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Filters>,
}

/// `Call.Revive` / `Call.Suppress`: empty `roles` means all the framework's roles.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roles {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
}

/// `Call.Kill`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kill {
    pub task_id: TaskId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill_policy: Option<serde_json::Value>,
}

/// `Call.Shutdown`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shutdown {
    pub executor_id: ExecutorId,
    pub agent_id: AgentId,
}

/// `Call.Acknowledge`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledge {
    pub agent_id: AgentId,
    pub task_id: TaskId,
    /// The status's `uuid`, unchanged (base64 of 16 bytes).
    pub uuid: String,
}

/// `Call.Reconcile.Task`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileTask {
    pub task_id: TaskId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
}

/// `Call.Reconcile`: no tasks means implicit reconciliation of all of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconcile {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<ReconcileTask>,
}

/// `Call.Message` (framework message to an executor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub agent_id: AgentId,
    pub executor_id: ExecutorId,
    /// base64 bytes.
    pub data: String,
}

/// `Call.Request` (resource requests; ignored by the allocator in Mesos too).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Request {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<serde_json::Value>,
}

/// `scheduler.Call`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework_id: Option<FrameworkId>,
    #[serde(rename = "type")]
    pub kind: CallType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribe: Option<Subscribe>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept: Option<Accept>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline: Option<Decline>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revive: Option<Roles>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppress: Option<Roles>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill: Option<Kill>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shutdown: Option<Shutdown>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledge: Option<Acknowledge>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconcile: Option<Reconcile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Request>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_inverse_offers: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_inverse_offers: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledge_operation_status: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconcile_operations: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_framework: Option<serde_json::Value>,
}

/// Why a decoded call is not acceptable, as `validation.cpp` words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CallError(pub String);

impl Call {
    /// A call of this type with nothing set.
    pub fn empty(kind: CallType, framework_id: Option<FrameworkId>) -> Self {
        Call {
            framework_id,
            kind,
            subscribe: None,
            accept: None,
            decline: None,
            revive: None,
            suppress: None,
            kill: None,
            shutdown: None,
            acknowledge: None,
            reconcile: None,
            message: None,
            request: None,
            accept_inverse_offers: None,
            decline_inverse_offers: None,
            acknowledge_operation_status: None,
            reconcile_operations: None,
            update_framework: None,
        }
    }

    /// SUBSCRIBE; `framework_id` is copied from `framework_info.id` as Mesos requires.
    pub fn subscribe(framework_info: FrameworkInfo) -> Self {
        let mut c = Call::empty(CallType::Subscribe, framework_info.id.clone());
        c.subscribe = Some(Subscribe {
            framework_info,
            suppressed_roles: Vec::new(),
            offer_constraints: None,
        });
        c
    }

    pub fn teardown(framework_id: FrameworkId) -> Self {
        Call::empty(CallType::Teardown, Some(framework_id))
    }

    pub fn accept(
        framework_id: FrameworkId,
        offer_ids: Vec<OfferId>,
        operations: Vec<Operation>,
        filters: Option<Filters>,
    ) -> Self {
        let mut c = Call::empty(CallType::Accept, Some(framework_id));
        c.accept = Some(Accept {
            offer_ids,
            operations,
            filters,
        });
        c
    }

    /// ACCEPT with a single LAUNCH of `tasks`.
    pub fn launch(
        framework_id: FrameworkId,
        offer_ids: Vec<OfferId>,
        tasks: Vec<TaskInfo>,
        filters: Option<Filters>,
    ) -> Self {
        Call::accept(
            framework_id,
            offer_ids,
            vec![Operation::launch(tasks)],
            filters,
        )
    }

    pub fn decline(
        framework_id: FrameworkId,
        offer_ids: Vec<OfferId>,
        refuse_seconds: Option<f64>,
    ) -> Self {
        let mut c = Call::empty(CallType::Decline, Some(framework_id));
        c.decline = Some(Decline {
            offer_ids,
            filters: refuse_seconds.map(Filters::refuse),
        });
        c
    }

    pub fn revive(framework_id: FrameworkId, roles: Vec<String>) -> Self {
        let mut c = Call::empty(CallType::Revive, Some(framework_id));
        c.revive = Some(Roles { roles });
        c
    }

    pub fn suppress(framework_id: FrameworkId, roles: Vec<String>) -> Self {
        let mut c = Call::empty(CallType::Suppress, Some(framework_id));
        c.suppress = Some(Roles { roles });
        c
    }

    pub fn kill(framework_id: FrameworkId, task_id: TaskId, agent_id: Option<AgentId>) -> Self {
        let mut c = Call::empty(CallType::Kill, Some(framework_id));
        c.kill = Some(Kill {
            task_id,
            agent_id,
            kill_policy: None,
        });
        c
    }

    pub fn shutdown(framework_id: FrameworkId, executor_id: ExecutorId, agent_id: AgentId) -> Self {
        let mut c = Call::empty(CallType::Shutdown, Some(framework_id));
        c.shutdown = Some(Shutdown {
            executor_id,
            agent_id,
        });
        c
    }

    /// ACKNOWLEDGE for a status; `None` when the status carries no uuid
    /// (master-generated updates must not be acknowledged) or no agent.
    pub fn acknowledge(framework_id: FrameworkId, status: &TaskStatus) -> Option<Self> {
        let uuid = status.uuid.clone()?;
        let agent_id = status.agent_id.clone()?;
        let mut c = Call::empty(CallType::Acknowledge, Some(framework_id));
        c.acknowledge = Some(Acknowledge {
            agent_id,
            task_id: status.task_id.clone(),
            uuid,
        });
        Some(c)
    }

    /// RECONCILE: explicit for the given tasks, implicit when empty.
    pub fn reconcile(framework_id: FrameworkId, tasks: Vec<ReconcileTask>) -> Self {
        let mut c = Call::empty(CallType::Reconcile, Some(framework_id));
        c.reconcile = Some(Reconcile { tasks });
        c
    }

    /// The checks of `validation::scheduler::call::validate` in Mesos.
    pub fn validate(&self) -> Result<(), CallError> {
        let err = |m: &str| Err(CallError(m.to_string()));
        if self.kind == CallType::Subscribe {
            let Some(sub) = &self.subscribe else {
                return err("Expecting 'subscribe' to be present");
            };
            if sub.framework_info.id != self.framework_id {
                return err("'framework_id' differs from 'subscribe.framework_info.id'");
            }
            return Ok(());
        }
        if self.framework_id.is_none() {
            return err("Expecting 'framework_id' to be present");
        }
        let missing = |name: &str| Err(CallError(format!("Expecting '{name}' to be present")));
        match self.kind {
            CallType::Accept if self.accept.is_none() => missing("accept"),
            CallType::Decline if self.decline.is_none() => missing("decline"),
            CallType::Kill if self.kill.is_none() => missing("kill"),
            CallType::Shutdown if self.shutdown.is_none() => missing("shutdown"),
            CallType::Reconcile if self.reconcile.is_none() => missing("reconcile"),
            CallType::Message if self.message.is_none() => missing("message"),
            CallType::Request if self.request.is_none() => missing("request"),
            CallType::AcceptInverseOffers if self.accept_inverse_offers.is_none() => {
                missing("accept_inverse_offers")
            }
            CallType::DeclineInverseOffers if self.decline_inverse_offers.is_none() => {
                missing("decline_inverse_offers")
            }
            CallType::ReconcileOperations if self.reconcile_operations.is_none() => {
                missing("reconcile_operations")
            }
            CallType::UpdateFramework if self.update_framework.is_none() => {
                missing("update_framework")
            }
            CallType::AcknowledgeOperationStatus if self.acknowledge_operation_status.is_none() => {
                missing("acknowledge_operation_status")
            }
            CallType::Acknowledge => match &self.acknowledge {
                None => missing("acknowledge"),
                Some(a) => crate::uuid_from_base64(&a.uuid)
                    .map(|_| ())
                    .map_err(|e| CallError(e.to_string())),
            },
            _ => Ok(()),
        }
    }
}

/// `Event.Type`; types this crate does not know decode as `Unknown`
/// so that a client keeps reading a stream from a newer master.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventType {
    Subscribed,
    Offers,
    InverseOffers,
    Rescind,
    RescindInverseOffer,
    Update,
    UpdateOperationStatus,
    Message,
    Failure,
    Error,
    Heartbeat,
    #[serde(other)]
    Unknown,
}

/// `Event.Subscribed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscribed {
    pub framework_id: FrameworkId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_interval_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master_info: Option<MasterInfo>,
}

/// `Event.Offers`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Offers {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub offers: Vec<Offer>,
}

/// `Event.Rescind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rescind {
    pub offer_id: OfferId,
}

/// `Event.Update`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Update {
    pub status: TaskStatus,
}

/// `Event.Failure`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_id: Option<ExecutorId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<i32>,
}

/// `Event.Error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorEvent {
    pub message: String,
}

/// `scheduler.Event`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    #[serde(rename = "type")]
    pub kind: EventType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribed: Option<Subscribed>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offers: Option<Offers>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rescind: Option<Rescind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<Update>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorEvent>,
}

impl Event {
    fn bare(kind: EventType) -> Self {
        Event {
            kind,
            subscribed: None,
            offers: None,
            rescind: None,
            update: None,
            message: None,
            failure: None,
            error: None,
        }
    }

    pub fn subscribed(
        framework_id: FrameworkId,
        heartbeat_interval_seconds: f64,
        master_info: MasterInfo,
    ) -> Self {
        let mut e = Event::bare(EventType::Subscribed);
        e.subscribed = Some(Subscribed {
            framework_id,
            heartbeat_interval_seconds: Some(heartbeat_interval_seconds),
            master_info: Some(master_info),
        });
        e
    }

    pub fn heartbeat() -> Self {
        Event::bare(EventType::Heartbeat)
    }

    pub fn offers(offers: Vec<Offer>) -> Self {
        let mut e = Event::bare(EventType::Offers);
        e.offers = Some(Offers { offers });
        e
    }

    pub fn rescind(offer_id: OfferId) -> Self {
        let mut e = Event::bare(EventType::Rescind);
        e.rescind = Some(Rescind { offer_id });
        e
    }

    pub fn update(status: TaskStatus) -> Self {
        let mut e = Event::bare(EventType::Update);
        e.update = Some(Update { status });
        e
    }

    pub fn failure(failure: Failure) -> Self {
        let mut e = Event::bare(EventType::Failure);
        e.failure = Some(failure);
        e
    }

    pub fn error(message: impl Into<String>) -> Self {
        let mut e = Event::bare(EventType::Error);
        e.error = Some(ErrorEvent {
            message: message.into(),
        });
        e
    }
}

/// A SUBSCRIBE stream that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error(transparent)]
    Framing(#[from] crate::recordio::RecordIoError),
    #[error("event is not valid JSON for a scheduler Event: {0}")]
    Json(#[from] serde_json::Error),
}

/// Turns the bytes of a SUBSCRIBE response, chunk by chunk, into events.
#[derive(Debug, Default)]
pub struct EventDecoder {
    records: crate::recordio::Decoder,
}

impl EventDecoder {
    pub fn new() -> Self {
        EventDecoder::default()
    }

    /// The events completed by this chunk, in order.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<Event>, StreamError> {
        self.records
            .feed(chunk)?
            .iter()
            .map(|r| serde_json::from_slice(r).map_err(StreamError::from))
            .collect()
    }

    /// Call at end of stream: an error if an event was cut off.
    pub fn finish(&self) -> Result<(), StreamError> {
        Ok(self.records.finish()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_decoder_reads_events_split_anywhere() {
        let mut bytes = crate::recordio::encode_json(&Event::heartbeat());
        bytes.extend(crate::recordio::encode_json(&Event::error("x")));
        for step in 1..bytes.len() {
            let mut d = EventDecoder::new();
            let mut got = Vec::new();
            for c in bytes.chunks(step) {
                got.extend(d.feed(c).unwrap());
            }
            d.finish().unwrap();
            assert_eq!(got, vec![Event::heartbeat(), Event::error("x")]);
        }
        let mut d = EventDecoder::new();
        assert!(matches!(d.feed(b"2\n{}"), Err(StreamError::Json(_))));
    }
}
