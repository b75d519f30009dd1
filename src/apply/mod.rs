//! apply turns a plan into Mesos calls: [`engine`] drives the plan's steps
//! through a scheduler subscription (the
//! [`crate::mesos::scheduler::SchedulerApi`] trait) and records them in the
//! state; [`crate::launch`] builds the `TaskInfo` of a master or worker
//! (resources carved from the offer by [`crate::fit`]) and keeps how each
//! configuration was launched, for rollbacks; [`alluxio_leader`] asks
//! ZooKeeper which Alluxio master leads, so it is replaced last;
//! [`alluxio_ready`] asks Alluxio's REST API whether a launched master or
//! worker serves (`ready = "alluxio"`); [`summary`]
//! counts what a run did (shown by [`crate::render::apply`]).

pub mod alluxio_leader;
pub mod alluxio_ready;
pub mod engine;
mod steps;
pub mod summary;
