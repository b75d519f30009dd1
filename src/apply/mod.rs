//! apply turns a plan into Mesos calls; this part builds what is launched:
//! the resources carved from an offer ([`offer_fit`]), the site properties
//! handed to each task ([`properties_text`]) and the `TaskInfo` of a master
//! or worker ([`launch`]); [`alluxio_leader`] asks ZooKeeper which Alluxio
//! master leads, so the engine replaces it last.

pub mod alluxio_leader;
pub mod engine;
pub mod launch;
pub mod offer_fit;
pub mod progress;
pub mod properties_text;
pub mod scheduler;
mod steps;
pub mod template;
