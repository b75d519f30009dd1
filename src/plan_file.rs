//! Plan files (`plan -o FILE`): the plan plus what apply needs to trust it.
//!
//! A plan file holds the plan, fingerprints of the inputs it was made from
//! (desired deployment, live cluster, state file) and a checksum of all of
//! it. `apply PLANFILE` reloads the inputs and refuses the file when a
//! fingerprint differs (the plan is stale) or the checksum does not match
//! (the file was altered). Secrets are held only as keyed fingerprints; apply
//! reads them again from their sources and the desired fingerprint checks them.
//!
//! The live fingerprint covers what the plan's decisions rest on: the agents
//! (ID, hostname, active) and our framework's tasks (ID, state, agent). Free
//! resources are left out on purpose: other frameworks change them every
//! second, and apply places tasks on real offers anyway.
//!
//! This module reads and writes files, so it sits beside [`crate::plan`]
//! rather than in it: the planner stays pure.

use crate::desired::secrets::SecretHasher;
use crate::desired::{Desired, MasterLocator};
use crate::limits;
use crate::live::LiveCluster;
use crate::plan::config;
use crate::plan::model::Plan;
use crate::state::State;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

pub const KIND: &str = "alluxio-mesos plan";
/// 2: the plan carries its rollout policy, `may_move` per change and the
/// configuration recorded as applied.
pub const FORMAT_VERSION: &str = "2";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    /// Fingerprint of the desired deployment (secrets included, as keyed hashes).
    pub desired: String,
    /// Fingerprint of the live cluster's agents and our tasks.
    pub live: String,
    /// Where the live state came from (URL or file), for messages.
    pub live_source: String,
    /// `lineage` and `serial` of the state file, None before the first apply.
    pub state: Option<StateRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateRef {
    pub lineage: String,
    pub serial: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    pub kind: String,
    pub format_version: String,
    pub created_by: String,
    /// The deployment file the plan was made from.
    pub deployment_file: PathBuf,
    pub inputs: Inputs,
    pub plan: Plan,
}

/// The file on disk: the body and its checksum.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    checksum: String,
    body: serde_json::Value,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanFileError {
    #[error("cannot read plan file {path}: {cause}")]
    Read { path: String, cause: String },
    #[error("plan file {path} is larger than {limit}: a plan file grows like the state file, a few MB for 10,000 workers; check that the path names a plan written by `alluxio-mesos plan -o`")]
    TooLarge { path: String, limit: String },
    #[error("{path} is not an alluxio-mesos plan file: {cause}")]
    NotAPlan { path: String, cause: String },
    #[error("plan file {path} was altered after it was written (checksum mismatch); run `alluxio-mesos plan -o {path}` again")]
    Altered { path: String },
    #[error("plan file {path} has format version {found}; this build reads version {FORMAT_VERSION}; run plan again with this build")]
    Version { path: String, found: String },
    #[error("cannot write plan file {path}: {cause}")]
    Write { path: String, cause: String },
    #[error("plan file {path} is stale: {what} changed since it was made; run `alluxio-mesos plan -o {path}` again")]
    Stale { path: String, what: String },
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn canonical(value: &serde_json::Value) -> String {
    // serde_json's map is ordered by key (no `preserve_order`), so this is canonical.
    serde_json::to_string(value).expect("JSON values serialize")
}

/// Fingerprint of everything in the deployment that apply acts on.
pub fn desired_fingerprint(desired: &Desired, hasher: &SecretHasher) -> String {
    let m = &desired.mesos;
    let master = match &m.master {
        None => String::new(),
        Some(MasterLocator::Http(urls)) => urls.join(","),
        Some(MasterLocator::ZooKeeper(url)) => url.clone(),
        Some(MasterLocator::Local) => "local".into(),
    };
    let mut text = format!(
        "name={}\nmaster={master}\nframework={}\nprincipal={:?}\nrole={}\nuser={}\nfailover={}\n",
        desired.name,
        m.framework_name,
        m.principal,
        m.role,
        m.user,
        m.failover_timeout.as_secs_f64()
    );
    if let Some(secret) = &m.secret {
        text.push_str(&format!(
            "secret={}\n",
            hasher.fingerprint("[mesos] secret", secret)
        ));
    }
    text.push_str(&format!(
        "master.count={}\nworker.count={:?}\nmax_unavailable={}\n",
        desired.master.count, desired.worker.count, desired.worker.max_unavailable
    ));
    for (k, v) in config::master_config(desired, hasher).fields {
        text.push_str(&format!("master {k}={v}\n"));
    }
    for (k, v) in config::worker_config(desired, hasher, &[]).fields {
        text.push_str(&format!("worker {k}={v}\n"));
    }
    sha256_hex(text.as_bytes())
}

/// Fingerprint of the live facts the plan rests on (see the module docs).
pub fn live_fingerprint(live: &LiveCluster) -> String {
    let mut text = String::new();
    for a in &live.agents {
        text.push_str(&format!("agent {} {} {}\n", a.id, a.hostname, a.active));
    }
    if let Some(f) = &live.framework {
        text.push_str(&format!("framework {}\n", f.id));
        for t in &f.tasks {
            text.push_str(&format!("task {} {} {}\n", t.id, t.state, t.agent_id));
        }
    }
    sha256_hex(text.as_bytes())
}

pub fn state_ref(state: Option<&State>) -> Option<StateRef> {
    state.map(|s| StateRef {
        lineage: s.lineage.clone(),
        serial: s.serial,
    })
}

impl PlanFile {
    pub fn new(
        plan: Plan,
        deployment_file: &Path,
        desired: &Desired,
        hasher: &SecretHasher,
        live: &LiveCluster,
        state: Option<&State>,
    ) -> Self {
        PlanFile {
            kind: KIND.into(),
            format_version: FORMAT_VERSION.into(),
            created_by: format!("alluxio-mesos {}", env!("CARGO_PKG_VERSION")),
            deployment_file: deployment_file.to_path_buf(),
            inputs: Inputs {
                desired: desired_fingerprint(desired, hasher),
                live: live_fingerprint(live),
                live_source: live.source.clone(),
                state: state_ref(state),
            },
            plan,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let body = serde_json::to_value(self).expect("plan files serialize");
        let envelope = Envelope {
            checksum: format!("sha256:{}", sha256_hex(canonical(&body).as_bytes())),
            body,
        };
        let mut out = serde_json::to_vec_pretty(&envelope).expect("plan files serialize");
        out.push(b'\n');
        out
    }

    pub fn write(&self, path: &Path) -> Result<(), PlanFileError> {
        std::fs::write(path, self.to_bytes()).map_err(|e| PlanFileError::Write {
            path: path.display().to_string(),
            cause: e.to_string(),
        })
    }

    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<PlanFile, PlanFileError> {
        let shown = path.display().to_string();
        let not_a_plan = |cause: String| PlanFileError::NotAPlan {
            path: shown.clone(),
            cause,
        };
        let envelope: Envelope =
            serde_json::from_slice(bytes).map_err(|e| not_a_plan(e.to_string()))?;
        let expected = format!(
            "sha256:{}",
            sha256_hex(canonical(&envelope.body).as_bytes())
        );
        if expected != envelope.checksum {
            return Err(PlanFileError::Altered { path: shown });
        }
        let kind = envelope
            .body
            .get("kind")
            .and_then(|k| k.as_str())
            .unwrap_or_default();
        if kind != KIND {
            return Err(not_a_plan(format!(
                "its kind is {}",
                crate::excerpt::quoted(kind)
            )));
        }
        let version = envelope
            .body
            .get("format_version")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        if version != FORMAT_VERSION {
            return Err(PlanFileError::Version {
                path: shown,
                found: version.to_string(),
            });
        }
        serde_json::from_value(envelope.body).map_err(|e| not_a_plan(e.to_string()))
    }

    pub fn read(path: &Path) -> Result<PlanFile, PlanFileError> {
        Self::read_limited(path, limits::PLAN_FILE)
    }

    fn read_limited(path: &Path, limit: u64) -> Result<PlanFile, PlanFileError> {
        let bytes = limits::read(path, limit).map_err(|e| match e {
            limits::ReadError::Io(e) => PlanFileError::Read {
                path: path.display().to_string(),
                cause: e.to_string(),
            },
            limits::ReadError::TooLarge { limit } => PlanFileError::TooLarge {
                path: path.display().to_string(),
                limit: limits::size_text(limit),
            },
        })?;
        Self::from_bytes(path, &bytes)
    }

    /// Refuses the plan when any input changed since it was made.
    pub fn check_fresh(
        &self,
        path: &Path,
        desired: &Desired,
        hasher: &SecretHasher,
        live: &LiveCluster,
        state: Option<&State>,
    ) -> Result<(), PlanFileError> {
        let stale = |what: &str| PlanFileError::Stale {
            path: path.display().to_string(),
            what: what.to_string(),
        };
        if self.inputs.state != state_ref(state) {
            return Err(stale("the state file"));
        }
        if self.inputs.desired != desired_fingerprint(desired, hasher) {
            return Err(stale(
                "the deployment (its TOML file, site properties or secrets)",
            ));
        }
        if self.inputs.live != live_fingerprint(live) {
            return Err(stale("the live cluster (agents or our tasks)"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests::{agent, desired};
    use crate::plan::{make_plan, secret_hasher, PlanOptions};

    #[test]
    fn an_endless_plan_file_fails_at_the_limit() {
        assert_eq!(limits::PLAN_FILE, 256 * 1024 * 1024);
        let err = PlanFile::read_limited(Path::new("/dev/zero"), 4096).unwrap_err();
        assert!(matches!(err, PlanFileError::TooLarge { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains("plan file /dev/zero is larger than 4 KiB"),
            "{msg}"
        );
        assert!(msg.contains("plan -o"), "{msg}");
    }

    fn sample() -> (PlanFile, Desired, LiveCluster) {
        let d = desired();
        let live = LiveCluster {
            source: "fixture".into(),
            version: None,
            agents: vec![agent(1, "[19998-19999, 29998-30000]", 4.0, 16384.0)],
            framework: None,
            predecessor: None,
        };
        let plan = make_plan(&d, &live, None, &PlanOptions::default());
        let h = secret_hasher(&d, None);
        (
            PlanFile::new(plan, Path::new("alluxio-mesos.toml"), &d, &h, &live, None),
            d,
            live,
        )
    }

    #[test]
    fn round_trips_and_accepts_unchanged_inputs() {
        let (pf, d, live) = sample();
        let back = PlanFile::from_bytes(Path::new("p"), &pf.to_bytes()).unwrap();
        assert_eq!(back, pf);
        let h = secret_hasher(&d, None);
        back.check_fresh(Path::new("p"), &d, &h, &live, None)
            .unwrap();
    }

    #[test]
    fn an_altered_file_is_refused() {
        let (pf, _, _) = sample();
        let text = String::from_utf8(pf.to_bytes())
            .unwrap()
            .replace("\"cpus\": 1.0", "\"cpus\": 8.0");
        assert_eq!(
            PlanFile::from_bytes(Path::new("p"), text.as_bytes()),
            Err(PlanFileError::Altered { path: "p".into() })
        );
    }

    #[test]
    fn changed_inputs_make_the_plan_stale() {
        let (pf, d, mut live) = sample();
        let h = secret_hasher(&d, None);
        let mut changed = d.clone();
        changed.site.insert("fs.s3a.secretKey", "new-secret");
        let err = pf
            .check_fresh(Path::new("p"), &changed, &h, &live, None)
            .unwrap_err();
        assert!(err.to_string().contains("the deployment"), "{err}");
        assert!(!err.to_string().contains("new-secret"));
        live.agents[0].active = false;
        let err = pf
            .check_fresh(Path::new("p"), &d, &h, &live, None)
            .unwrap_err();
        assert!(err.to_string().contains("the live cluster"), "{err}");
        let state = State::empty("alluxio");
        let err = pf
            .check_fresh(
                Path::new("p"),
                &d,
                &h,
                &LiveCluster {
                    agents: vec![],
                    ..live
                },
                Some(&state),
            )
            .unwrap_err();
        assert!(err.to_string().contains("the state file"), "{err}");
    }
}
