//! Launch templates: how the tasks of one configuration were launched,
//! kept in the state file so that a failed rolling replacement can put the
//! last applied configuration back (`apply --rollback-on-failure`).
//!
//! Mesos does not give a scheduler its tasks' `TaskInfo`s back, and the
//! deployment file only says what is wanted now, so the template is taken
//! from the `TaskInfo` when it is launched. It keeps no secret: the
//! environment variables made from the site properties are dropped and the
//! properties stored with secrets as fingerprints. Restoring takes each
//! secret from the deployment file and refuses when its fingerprint no
//! longer matches (the secret was changed, and its old value is kept
//! nowhere).

use super::{self as launch, site_variables, SITE_VARIABLES};
use crate::address::{Address, Role};
use crate::desired::secrets::{PropertyValue, SecretHasher, SiteProperties, FINGERPRINT_PREFIX};
use crate::fit::{carve_task, Demand, ExecutorShare, Shortfall};
use crate::plan::TaskSpec;
use crate::state::{LaunchTemplate, TaskResources};
use mesos_api::{Environment, FrameworkId, Offer, TaskInfo};
use serde_json::Value;

/// Why a template cannot be launched again.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RestoreError {
    #[error("the secret {0} changed since that configuration was launched, and its old value is kept nowhere")]
    SecretChanged(String),
    #[error("the state file's launch template is not a valid TaskInfo ({0}); it was edited or written by another version")]
    Corrupt(String),
    #[error(transparent)]
    Shortfall(#[from] Shortfall),
}

/// The fields every launch sets anew, left out of the stored `TaskInfo`.
const PER_LAUNCH: [&str; 4] = ["task_id", "agent_id", "resources", "labels"];
const PER_LAUNCH_EXECUTOR: [&str; 3] = ["executor_id", "framework_id", "resources"];

/// The template of a task about to be launched with `info`.
pub fn record(
    info: &TaskInfo,
    spec: &TaskSpec,
    role: Role,
    site: &SiteProperties,
    hasher: &SecretHasher,
) -> LaunchTemplate {
    let mut json = serde_json::to_value(info).expect("a TaskInfo is JSON");
    let task = json.as_object_mut().expect("a TaskInfo is an object");
    for field in PER_LAUNCH {
        task.remove(field);
    }
    if let Some(executor) = task.get_mut("executor").and_then(Value::as_object_mut) {
        for field in PER_LAUNCH_EXECUTOR {
            executor.remove(field);
        }
    }
    if let Some(mut env) = environment_of(&mut json) {
        env.variables
            .retain(|v| !SITE_VARIABLES.contains(&v.name.as_str()));
        set_environment(&mut json, env);
    }
    LaunchTemplate {
        role,
        task_info: json,
        resources: TaskResources {
            cpus: spec.cpus,
            mem_mb: spec.mem_mb(),
            ramdisk_mb: spec.ramdisk_mb,
        },
        ports: spec.ports.clone(),
        site_properties: site.fingerprinted(hasher),
    }
}

/// The site properties of `template` with their secrets taken from the
/// deployment file; an error names a secret whose fingerprint changed.
pub fn restore_properties(
    template: &LaunchTemplate,
    site: &SiteProperties,
    hasher: &SecretHasher,
) -> Result<Vec<(String, String)>, RestoreError> {
    template
        .site_properties
        .iter()
        .map(|(key, stored)| {
            // A secret is stored as its fingerprint (and only a secret is):
            // this also restores a template recorded before the deployment
            // named a key secret, whose value is stored in clear.
            if !stored.starts_with(FINGERPRINT_PREFIX) {
                return Ok((key.clone(), stored.clone()));
            }
            match site.get(key) {
                Some(PropertyValue::Secret(s)) if hasher.fingerprint(key, s) == *stored => {
                    Ok((key.clone(), s.expose().to_string()))
                }
                _ => Err(RestoreError::SecretChanged(key.clone())),
            }
        })
        .collect()
}

/// What restoring needs besides the template and the offer: the
/// deployment and framework the task belongs to, and where its secrets
/// come from (checked against the template's fingerprints).
pub struct RestoreContext<'a> {
    pub deployment: &'a str,
    pub framework_id: &'a FrameworkId,
    pub site: &'a SiteProperties,
    pub hasher: &'a SecretHasher,
}

/// The `TaskInfo` that launches `template` (of configuration `config_hash`)
/// for `address`, as task `task_id`, on `offer`'s agent: its secrets taken
/// from the deployment first (a changed one is refused whatever the
/// offer), then its resources carved from the offer.
pub fn restore(
    ctx: &RestoreContext<'_>,
    template: &LaunchTemplate,
    config_hash: &str,
    address: &Address,
    task_id: &str,
    offer: &Offer,
) -> Result<TaskInfo, RestoreError> {
    let properties = restore_properties(template, ctx.site, ctx.hasher)?;
    let mut json = template.task_info.clone();
    let with_executor = json.get("executor").is_some();
    let demand = Demand {
        cpus: template.resources.cpus,
        jvm_mem_mb: template.resources.mem_mb - template.resources.ramdisk_mb,
        ramdisk_mb: template.resources.ramdisk_mb,
        ports: template.ports.clone(),
        executor: with_executor.then_some(ExecutorShare::DEFAULT),
    };
    let (resources, executor_resources) = carve_task(&offer.resources, &demand)?;
    let exposed: Vec<(&str, &str)> = properties
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut env = environment_of(&mut json).unwrap_or_default();
    env.variables
        .extend(Environment::from_pairs(site_variables(&exposed)).variables);
    set_environment(&mut json, env);
    let mut info: TaskInfo = {
        let task = json
            .as_object_mut()
            .ok_or_else(|| RestoreError::Corrupt("not an object".into()))?;
        task.insert("task_id".into(), serde_json::json!({ "value": task_id }));
        task.insert(
            "agent_id".into(),
            serde_json::json!({ "value": offer.agent_id.value }),
        );
        if let Some(executor) = task.get_mut("executor").and_then(Value::as_object_mut) {
            executor.insert(
                "executor_id".into(),
                serde_json::json!({ "value": launch::executor_id(task_id) }),
            );
        }
        serde_json::from_value(json).map_err(|e| RestoreError::Corrupt(e.to_string()))?
    };
    info.resources = resources;
    info.labels = Some(launch::task_labels(ctx.deployment, address, config_hash));
    if let Some(executor) = info.executor.as_mut() {
        executor.framework_id = Some(ctx.framework_id.clone());
        executor.resources = executor_resources;
    }
    Ok(info)
}

/// The command's environment (of the executor under the default launcher).
fn environment_of(json: &mut Value) -> Option<Environment> {
    let env = command_of(json)?.get("environment")?.clone();
    serde_json::from_value(env).ok()
}

fn set_environment(json: &mut Value, env: Environment) {
    if let Some(command) = command_of(json).and_then(Value::as_object_mut) {
        command.insert(
            "environment".into(),
            serde_json::to_value(env).expect("an Environment is JSON"),
        );
    }
}

fn command_of(json: &mut Value) -> Option<&mut Value> {
    if json.get("command").is_some() {
        json.get_mut("command")
    } else {
        json.get_mut("executor")?.get_mut("command")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::Desired;
    use crate::launch::tests::{big_offer, ctx, desired, env, master_spec, worker_spec, SECRET};
    use crate::plan::secret_hasher;

    fn fresh(d: &Desired, address: &Address, spec: &TaskSpec, task_id: &str) -> TaskInfo {
        launch::task_info(&ctx(d), address, spec, task_id, &big_offer()).unwrap()
    }

    fn restored(
        d: &Desired,
        t: &LaunchTemplate,
        address: &Address,
        task_id: &str,
    ) -> Result<TaskInfo, RestoreError> {
        let ctx = RestoreContext {
            deployment: &d.name,
            framework_id: &FrameworkId::new("F1"),
            site: &d.site,
            hasher: &secret_hasher(d, None),
        };
        restore(&ctx, t, "fedcba9876543210", address, task_id, &big_offer())
    }

    /// Environment variables in name order (a restore appends the site ones).
    fn sorted_env(mut t: TaskInfo) -> TaskInfo {
        let command = match t.command.as_mut() {
            Some(c) => c,
            None => t.executor.as_mut().unwrap().command.as_mut().unwrap(),
        };
        command
            .environment
            .as_mut()
            .unwrap()
            .variables
            .sort_by(|a, b| a.name.cmp(&b.name));
        t
    }

    #[test]
    fn a_restored_template_is_the_launch_it_was_taken_from() {
        for (d, address, spec) in [
            (
                desired(),
                Address::Worker("a7.example".into()),
                worker_spec(),
            ),
            (
                {
                    let mut d = desired();
                    d.master.task.command = Some("sleep 60".into());
                    d
                },
                Address::Master(0),
                TaskSpec {
                    config_hash: "fedcba9876543210".into(),
                    ..master_spec()
                },
            ),
        ] {
            let h = secret_hasher(&d, None);
            let first = fresh(&d, &address, &spec, "t-1");
            let template = record(&first, &spec, address.role(), &d.site, &h);
            let again = restored(&d, &template, &address, "t-2").unwrap();
            assert_eq!(
                sorted_env(again),
                sorted_env(fresh(&d, &address, &spec, "t-2")),
                "{address}"
            );
        }
    }

    #[test]
    fn a_template_holds_no_secret() {
        let d = desired();
        let h = secret_hasher(&d, None);
        let info = fresh(
            &d,
            &Address::Worker("a7.example".into()),
            &worker_spec(),
            "t-1",
        );
        assert!(env(&info).iter().any(|(_, v)| v.contains(SECRET)));
        let template = record(&info, &worker_spec(), Role::Worker, &d.site, &h);
        let stored = serde_json::to_string(&template).unwrap();
        assert!(!stored.contains(SECRET), "{stored}");
        assert!(stored.contains("hmac-sha256:"), "{stored}");
    }

    /// The template of a worker launched from `d`.
    fn worker_template(d: &Desired) -> (LaunchTemplate, Address) {
        let address = Address::Worker("a7.example".into());
        let info = fresh(d, &address, &worker_spec(), "t-1");
        let template = record(
            &info,
            &worker_spec(),
            address.role(),
            &d.site,
            &secret_hasher(d, None),
        );
        (template, address)
    }

    #[test]
    fn a_changed_secret_cannot_be_restored() {
        let d = desired();
        let (template, address) = worker_template(&d);
        let mut rotated = d.clone();
        rotated.site.insert("fs.s3a.secretkey", "another-value");
        let err = restored(&rotated, &template, &address, "t-2").unwrap_err();
        assert_eq!(err, RestoreError::SecretChanged("fs.s3a.secretkey".into()));
        assert!(!err.to_string().contains(SECRET));
    }

    #[test]
    fn an_offer_too_small_for_the_template_is_a_shortfall() {
        let d = desired();
        let (mut template, address) = worker_template(&d);
        template.resources.mem_mb = 1e9;
        let err = restored(&d, &template, &address, "t-2").unwrap_err();
        assert!(matches!(err, RestoreError::Shortfall(_)), "{err:?}");
    }

    #[test]
    fn an_edited_template_is_reported_not_launched() {
        let d = desired();
        let (mut template, address) = worker_template(&d);
        template.task_info["name"] = serde_json::json!(42);
        let err = restored(&d, &template, &address, "t-2").unwrap_err();
        assert!(matches!(err, RestoreError::Corrupt(_)), "{err:?}");
    }
}
