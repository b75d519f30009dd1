//! What a task is launched with. The planner builds each configuration's
//! launch template ([`template()`]: the `TaskInfo` without what each launch
//! sets, secrets as fingerprints) from the desired deployment, and the plan
//! carries it; apply only restores templates on offers, so what a reviewer
//! approves is what Mesos is sent, and a rollback launches the same way.
//!
//! Two ways to start a task:
//! - the default launcher, compatible with Alluxio distributions built with
//!   the Mesos profile: a custom executor whose command prepares the sandbox
//!   (JAVA_HOME, the Alluxio home, `conf/alluxio-site.properties`) and
//!   `exec`s `integration/mesos/bin/alluxio-{master,worker}-mesos.sh`, which
//!   runs Alluxio's own Mesos executor;
//! - `[master] command` / `[worker] command`: a command task under the Mesos
//!   command executor, with the same preparation before the operator's command.
//!
//! Every task gets fresh task and executor IDs: Mesos rejects a changed
//! `ExecutorInfo` under an executor ID it already knows, and reusing a task
//! ID confuses status updates of the old and new task.
//!
//! The site properties, secrets included, go to the task in one environment
//! variable (the tasks need them; the plan warns that Mesos shows task
//! environments to its readers). Nothing else in the `TaskInfo` holds a
//! secret, and nothing here derives `Debug` over the exposed text.

pub mod properties_text;
pub mod template;

use crate::address::{Address, Role};
use crate::desired::secrets::{PropertyValue, SecretHasher};
use crate::desired::{AlluxioSource, Desired, JdkSource};
use crate::fit::Shortfall;
use crate::plan::{TaskSpec, LABEL_ADDRESS, LABEL_CONFIG_HASH, LABEL_DEPLOYMENT, LABEL_ROLE};
use crate::state::LaunchTemplate;
use mesos_api::{
    CommandInfo, CommandUri, Environment, ExecutorId, ExecutorInfo, FrameworkId, HealthCheck,
    HealthCheckType, Labels, Offer, TaskId, TaskInfo,
};
use properties_text::to_properties_text;

/// The environment variable holding `alluxio-site.properties` for the task.
pub const SITE_PROPERTIES_ENV: &str = "ALLUXIO_MESOS_SITE_PROPERTIES_CONTENT";

/// The longest agent hostname part kept in a task ID (IDs stay short).
const MAX_HOST_IN_ID: usize = 64;

/// Everything a launch needs besides the task itself.
#[derive(Debug, Clone)]
pub struct LaunchContext<'a> {
    pub desired: &'a Desired,
    pub framework_id: FrameworkId,
    /// Where the masters run, in address order; workers are pointed at the
    /// first one when ZooKeeper is off.
    pub master_hostnames: Vec<String>,
}

/// Why a task cannot be launched with an offer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LaunchError {
    /// The offer lacks resources (task and executor together).
    #[error("the offer cannot hold the task: {0}")]
    Shortfall(#[from] Shortfall),
    /// A worker without ZooKeeper must be told its master's hostname.
    #[error(
        "a {0} is started with the master's hostname (ZooKeeper is off), but no master is placed; \
         place a master first (see its placement failure), or enable alluxio.zookeeper.enabled"
    )]
    NoMasterHost(String),
    /// The template could not be put on the offer (see [`template::RestoreError`]).
    #[error("{0}")]
    Template(String),
}

/// A new task ID for a slot, never used before: `alluxio-master-0.<uuid>`,
/// `alluxio-worker-<host>.<uuid>`. Mesos task IDs must not contain `/`,
/// `\` or control characters; these are short ASCII of `[A-Za-z0-9._-]`.
pub fn new_task_id(address: &Address) -> String {
    let slot = match address {
        Address::Master(i) => i.to_string(),
        Address::Worker(host) => sanitise(host),
    };
    format!(
        "alluxio-{}-{slot}.{}",
        address.role(),
        uuid::Uuid::new_v4().as_simple()
    )
}

/// The executor ID of a task: unique because the task ID is.
pub fn executor_id(task_id: &str) -> String {
    format!("{task_id}.executor")
}

fn sanitise(host: &str) -> String {
    let s: String = host
        .chars()
        .take(MAX_HOST_IN_ID)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else if c == '.' {
                '_'
            } else {
                '-'
            }
        })
        .collect();
    if s.is_empty() {
        "host".to_string()
    } else {
        s
    }
}

/// The launch template of `spec`, a task of `role`: how every task of
/// that configuration is launched. `master_hostnames` are the masters'
/// planned hosts (a worker without ZooKeeper is pointed at the first).
pub fn template(
    desired: &Desired,
    role: Role,
    spec: &TaskSpec,
    master_hostnames: &[String],
    hasher: &SecretHasher,
) -> Result<LaunchTemplate, LaunchError> {
    let info = unplaced(desired, role, spec, master_hostnames)?;
    Ok(template::record(&info, spec, role, &desired.site, hasher))
}

/// The `TaskInfo` that launches `spec` for `address` on `offer`'s agent:
/// its template, restored as apply restores it.
pub fn task_info(
    ctx: &LaunchContext<'_>,
    address: &Address,
    spec: &TaskSpec,
    task_id: &str,
    offer: &Offer,
) -> Result<TaskInfo, LaunchError> {
    let desired = ctx.desired;
    let hasher = SecretHasher::for_new_deployment(&desired.name);
    let t = template(
        desired,
        address.role(),
        spec,
        &ctx.master_hostnames,
        &hasher,
    )?;
    let failed = |e: template::RestoreError| match e {
        template::RestoreError::Shortfall(s) => LaunchError::Shortfall(s),
        e => LaunchError::Template(e.to_string()),
    };
    let restore = template::RestoreContext {
        deployment: &desired.name,
        framework_id: &ctx.framework_id,
        site: &desired.site,
        hasher: &hasher,
    };
    template::restore(&restore, &t, &spec.config_hash, address, task_id, offer).map_err(failed)
}

/// The `TaskInfo` of `spec` before it is placed: no task, executor or
/// agent ID, no resources and no labels (each launch sets those).
fn unplaced(
    desired: &Desired,
    role: Role,
    spec: &TaskSpec,
    master_hostnames: &[String],
) -> Result<TaskInfo, LaunchError> {
    let operator_command = desired.role(role).command.as_deref();
    let environment = environment(desired, role, master_hostnames)?;
    let prelude = prepare_script(desired);
    let uris = fetched_uris(desired);
    let user = Some(desired.mesos.user.clone());
    let (executor, command) = match operator_command {
        Some(cmd) => {
            let command = CommandInfo {
                uris,
                environment: Some(environment),
                shell: Some(true),
                // The operator's command runs as written, without `set -e`.
                value: Some(format!("{prelude}set +e\n{cmd}\n")),
                arguments: Vec::new(),
                user,
            };
            (None, Some(command))
        }
        None => {
            let script = format!(
                "{prelude}exec \"$ALLUXIO_HOME/integration/mesos/bin/alluxio-{role}-mesos.sh\"\n"
            );
            let executor = ExecutorInfo {
                kind: None,
                executor_id: ExecutorId::new(""),
                framework_id: None,
                command: Some(CommandInfo {
                    uris,
                    environment: Some(environment),
                    shell: Some(true),
                    value: Some(script),
                    arguments: Vec::new(),
                    user,
                }),
                container: None,
                resources: Vec::new(),
                name: Some(format!("{} executor", spec.name)),
                source: Some(format!("alluxio-mesos:{}", desired.name)),
                data: None,
                labels: None,
            };
            (Some(executor), None)
        }
    };
    Ok(TaskInfo {
        name: spec.name.clone(),
        task_id: TaskId::new(""),
        agent_id: mesos_api::AgentId::new(""),
        resources: Vec::new(),
        executor,
        command,
        container: None,
        health_check: health_check(desired, role),
        check: None,
        kill_policy: None,
        data: None,
        labels: None,
        discovery: None,
        max_completion_time: None,
    })
}

/// The labels that tie a task to its deployment, slot and configuration
/// (what the planner reads back from Mesos).
pub fn task_labels(deployment: &str, address: &Address, config_hash: &str) -> Labels {
    Labels::from_pairs([
        (LABEL_DEPLOYMENT, deployment),
        (LABEL_ROLE, address.role().as_str()),
        (LABEL_ADDRESS, &address.to_string()),
        (LABEL_CONFIG_HASH, config_hash),
    ])
}

/// The environment variables made from the site properties (values as the
/// task gets them, secrets included): the only ones that may hold a secret.
pub const SITE_VARIABLES: [&str; 2] = [UNDERFS_ADDRESS_ENV, SITE_PROPERTIES_ENV];

const UNDERFS_ADDRESS_ENV: &str = "ALLUXIO_UNDERFS_ADDRESS";

/// The [`SITE_VARIABLES`] for these site properties.
pub fn site_variables(exposed: &[(&str, &str)]) -> Vec<(&'static str, String)> {
    let mut vars = Vec::new();
    if let Some((_, ufs)) = exposed
        .iter()
        .find(|(k, _)| Some(*k) == crate::desired::settings::UNDERFS_ADDRESS.property)
    {
        vars.push((UNDERFS_ADDRESS_ENV, ufs.to_string()));
    }
    vars.push((
        SITE_PROPERTIES_ENV,
        to_properties_text(exposed.iter().copied()),
    ));
    vars
}

/// The configured health check as Mesos runs it: TCP on the RPC port, or
/// HTTP on the web port, with the deployment's timing (by default a long
/// grace period: Alluxio's JVMs take a while to start).
fn health_check(desired: &Desired, role: Role) -> Option<HealthCheck> {
    let spec = desired.role(role);
    let (rpc, web) = (spec.rpc_port, spec.web_port);
    let check = spec.health_check.as_ref()?;
    let (kind, tcp, http) = match &check.probe {
        crate::desired::HealthProbe::Tcp => (
            HealthCheckType::Tcp,
            Some(serde_json::json!({ "port": rpc })),
            None,
        ),
        crate::desired::HealthProbe::Http { path } => (
            HealthCheckType::Http,
            None,
            Some(serde_json::json!({ "port": web, "path": path, "scheme": "http" })),
        ),
    };
    let t = &check.timing;
    Some(HealthCheck {
        kind: Some(kind),
        delay_seconds: Some(t.delay.as_secs_f64()),
        interval_seconds: Some(t.interval.as_secs_f64()),
        timeout_seconds: Some(t.timeout.as_secs_f64()),
        consecutive_failures: Some(t.consecutive_failures),
        grace_period_seconds: Some(t.grace_period.as_secs_f64()),
        http,
        tcp,
        command: None,
    })
}

/// The task environment; only the [`SITE_VARIABLES`] may hold a secret.
fn environment(
    desired: &Desired,
    role: Role,
    master_hostnames: &[String],
) -> Result<Environment, LaunchError> {
    let plain = |v: &PropertyValue| match v {
        PropertyValue::Plain(s) => s.clone(),
        PropertyValue::Secret(s) => s.expose().to_string(),
    };
    let mut vars: Vec<(&str, String)> = Vec::new();
    if let AlluxioSource::Local { home } = &desired.install.alluxio {
        vars.push(("ALLUXIO_HOME", home.clone()));
    }
    vars.push(("ALLUXIO_CONF_DIR", "conf".into()));
    vars.push(("ALLUXIO_LOGS_DIR", "logs".into()));
    if role == Role::Worker {
        if desired.zookeeper.is_none() {
            let master = master_hostnames
                .first()
                .ok_or_else(|| LaunchError::NoMasterHost(role.to_string()))?;
            vars.push(("ALLUXIO_MASTER_HOSTNAME", master.clone()));
        }
        vars.push((
            "ALLUXIO_WORKER_MEMORY_SIZE",
            desired.worker.ramdisk.to_string(),
        ));
    }
    let exposed: Vec<(&str, String)> = desired
        .site
        .iter()
        .map(|(k, v)| (k.as_str(), plain(v)))
        .collect();
    let exposed: Vec<(&str, &str)> = exposed.iter().map(|(k, v)| (*k, v.as_str())).collect();
    vars.extend(site_variables(&exposed));
    Ok(Environment::from_pairs(vars))
}

/// What Mesos fetches into the sandbox before the command runs.
fn fetched_uris(desired: &Desired) -> Vec<CommandUri> {
    let mut uris = Vec::new();
    if let JdkSource::Download { url, .. } = &desired.install.jdk {
        uris.push(CommandUri {
            extract: Some(true),
            ..CommandUri::new(url.clone())
        });
    }
    if let AlluxioSource::Tarball { url } = &desired.install.alluxio {
        uris.push(CommandUri {
            extract: Some(true),
            ..CommandUri::new(url.clone())
        });
    }
    uris
}

/// Quotes a value for `sh`.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The shell lines that prepare the sandbox: JAVA_HOME, ALLUXIO_HOME, the
/// conf and logs directories and `conf/alluxio-site.properties`.
fn prepare_script(desired: &Desired) -> String {
    let mut s = String::from("set -e\nSANDBOX=\"${MESOS_SANDBOX:-$(pwd)}\"\n");
    if let JdkSource::Download { path, .. } = &desired.install.jdk {
        if path.starts_with('/') {
            s.push_str(&format!("export JAVA_HOME={}\n", sh_quote(path)));
        } else {
            s.push_str(&format!(
                "export JAVA_HOME=\"$SANDBOX\"/{}\n",
                sh_quote(path)
            ));
        }
        s.push_str("export PATH=\"$JAVA_HOME/bin:$PATH\"\n");
    }
    match &desired.install.alluxio {
        AlluxioSource::Local { home } => {
            s.push_str(&format!("export ALLUXIO_HOME={}\n", sh_quote(home)));
        }
        AlluxioSource::Tarball { url } => {
            // The unpacked directory's name depends on the release: find the
            // one that holds the Mesos integration scripts.
            s.push_str("ALLUXIO_HOME=\n");
            s.push_str("for d in \"$SANDBOX\"/*/; do\n");
            s.push_str("  if [ -d \"${d}integration/mesos/bin\" ]; then ALLUXIO_HOME=\"${d%/}\"; break; fi\n");
            s.push_str("done\n");
            s.push_str(&format!(
                "if [ -z \"$ALLUXIO_HOME\" ]; then echo \"alluxio-mesos: no directory holding integration/mesos/bin/ in $SANDBOX: \"{}\" must be an Alluxio distribution built with the Mesos profile\" >&2; exit 1; fi\n",
                sh_quote(url)
            ));
            s.push_str("export ALLUXIO_HOME\n");
        }
    }
    s.push_str("export ALLUXIO_CONF_DIR=\"$SANDBOX/conf\" ALLUXIO_LOGS_DIR=\"$SANDBOX/logs\"\n");
    s.push_str("mkdir -p \"$ALLUXIO_CONF_DIR\" \"$ALLUXIO_LOGS_DIR\"\n");
    s.push_str(&format!(
        "printf '%s' \"${SITE_PROPERTIES_ENV}\" > \"$ALLUXIO_CONF_DIR/alluxio-site.properties\"\n"
    ));
    s.push_str("if [ -f \"$ALLUXIO_HOME/conf/log4j.properties\" ]; then cp \"$ALLUXIO_HOME/conf/log4j.properties\" \"$ALLUXIO_CONF_DIR/\"; fi\n");
    s
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::desired::*;
    use mesos_api::{AgentId, OfferId, PortRanges, Resource};
    use std::collections::HashSet;

    pub(crate) const SECRET: &str = "s3cr3t-Value-9f1c";

    /// The planner's test deployment, as a production one: its own
    /// role, an under storage and a secret among the site properties.
    pub(crate) fn desired() -> Desired {
        let mut d = crate::plan::tests::desired();
        d.name = "prod-alluxio".into();
        d.mesos.framework_name = "prod-alluxio".into();
        d.mesos.role = "alluxio".into();
        d.site
            .insert("alluxio.underfs.address", "hdfs://nn:8020/alluxio");
        d.site.insert("fs.s3a.secretkey", SECRET);
        d
    }

    /// The master's TaskInfo for `d` on a roomy offer.
    fn master_task(d: &Desired) -> TaskInfo {
        task_info(
            &ctx(d),
            &Address::Master(0),
            &master_spec(),
            "m-1",
            &big_offer(),
        )
        .unwrap()
    }

    fn tarball(d: &mut Desired, jdk: bool) {
        d.install.alluxio = AlluxioSource::Tarball {
            url: "https://downloads.example/alluxio-1.8.2-bin.tar.gz".into(),
        };
        if jdk {
            d.install.jdk = JdkSource::Download {
                url: "https://downloads.example/jdk-8u202-linux-x64.tar.gz".into(),
                path: "jdk1.8.0_202".into(),
            };
        }
    }

    pub(crate) fn master_spec() -> TaskSpec {
        TaskSpec {
            name: "AlluxioMaster".into(),
            cpus: 1.0,
            jvm_mem_mb: 1024.0,
            ramdisk_mb: 0.0,
            ports: vec![19998, 19999],
            install: "LOCAL /opt/alluxio".into(),
            config_hash: "0123456789abcdef".into(),
            executor: Some(crate::fit::ExecutorShare::DEFAULT),
        }
    }

    pub(crate) fn worker_spec() -> TaskSpec {
        TaskSpec {
            name: "AlluxioWorker".into(),
            cpus: 1.0,
            jvm_mem_mb: 1024.0,
            ramdisk_mb: 4096.0,
            ports: vec![29998, 29999, 30000],
            install: "LOCAL /opt/alluxio".into(),
            config_hash: "fedcba9876543210".into(),
            executor: Some(crate::fit::ExecutorShare::DEFAULT),
        }
    }

    pub(crate) fn offer(resources: Vec<Resource>) -> Offer {
        Offer {
            id: OfferId::new("O1"),
            framework_id: FrameworkId::new("F1"),
            agent_id: AgentId::new("S7"),
            hostname: "a7.example".into(),
            url: None,
            domain: None,
            resources,
            attributes: Vec::new(),
            executor_ids: Vec::new(),
            unavailability: None,
            allocation_info: None,
        }
    }

    pub(crate) fn big_offer() -> Offer {
        offer(vec![
            Resource::cpus(4.0),
            Resource::mem(16384.0),
            Resource::disk(10000.0),
            Resource::ports(&"[19998-19999, 29998-30000, 31000-32000]".parse().unwrap()),
        ])
    }

    pub(crate) fn ctx(d: &Desired) -> LaunchContext<'_> {
        LaunchContext {
            desired: d,
            framework_id: FrameworkId::new("F1"),
            master_hostnames: vec!["m1.example".into(), "m2.example".into()],
        }
    }

    pub(crate) fn env(t: &TaskInfo) -> Vec<(String, String)> {
        let cmd = t
            .command
            .as_ref()
            .or(t.executor.as_ref().and_then(|e| e.command.as_ref()))
            .unwrap();
        cmd.environment
            .as_ref()
            .unwrap()
            .variables
            .iter()
            .map(|v| (v.name.clone(), v.value.clone().unwrap_or_default()))
            .collect()
    }

    fn env_get(t: &TaskInfo, name: &str) -> Option<String> {
        env(t).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    fn script(t: &TaskInfo) -> String {
        let cmd = t
            .command
            .as_ref()
            .or(t.executor.as_ref().and_then(|e| e.command.as_ref()))
            .unwrap();
        cmd.value.clone().unwrap()
    }

    /// Every resource launched (task plus executor) summed per identity is
    /// within the offer, as the master's `offered.contains(total)` checks.
    fn assert_within(t: &TaskInfo, o: &Offer) {
        let mut all = t.resources.clone();
        if let Some(e) = &t.executor {
            all.extend(e.resources.clone());
        }
        let identity = |r: &Resource| {
            let mut k = r.clone();
            k.scalar = None;
            k.ranges = None;
            serde_json::to_string(&k).unwrap()
        };
        let keys: HashSet<String> = all.iter().map(identity).collect();
        for key in keys {
            let used: Vec<&Resource> = all.iter().filter(|r| identity(r) == key).collect();
            let have: Vec<&Resource> = o.resources.iter().filter(|r| identity(r) == key).collect();
            assert!(!have.is_empty(), "{key} is not offered");
            let sum = |v: &[&Resource]| v.iter().map(|r| r.scalar_value()).sum::<f64>();
            assert!(sum(&used) <= sum(&have) + 1e-9, "{key}");
            let union = |v: &[&Resource]| {
                v.iter()
                    .fold(PortRanges::new(), |a, r| a.union(&r.port_ranges()))
            };
            let used_ports: u64 = used.iter().map(|r| r.port_ranges().len()).sum();
            assert_eq!(used_ports, union(&used).len(), "a port is used twice");
            assert!(union(&have).contains_all(&union(&used)), "{key}");
        }
    }

    /// What the master requires of a LAUNCHed TaskInfo, checked on its JSON.
    fn assert_valid_json(t: &TaskInfo) -> serde_json::Value {
        let json = serde_json::to_value(t).unwrap();
        for field in ["name", "task_id", "agent_id"] {
            assert!(json.get(field).is_some(), "{field} missing: {json}");
        }
        assert!(json["task_id"]["value"].is_string());
        assert!(json["agent_id"]["value"].is_string());
        assert_ne!(
            json.get("executor").is_some(),
            json.get("command").is_some(),
            "exactly one of executor and command: {json}"
        );
        if let Some(e) = json.get("executor") {
            assert!(e["executor_id"]["value"].is_string());
            assert!(e["command"]["value"].is_string());
        }
        assert!(!json["resources"].as_array().unwrap().is_empty());
        let back: TaskInfo = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(&back, t);
        json
    }

    #[test]
    fn default_launcher_master_is_a_valid_custom_executor_task() {
        let d = desired();
        let o = big_offer();
        let id = new_task_id(&Address::Master(0));
        let t = task_info(&ctx(&d), &Address::Master(0), &master_spec(), &id, &o).unwrap();
        let json = assert_valid_json(&t);
        assert_within(&t, &o);
        assert_eq!(t.name, "AlluxioMaster");
        assert_eq!(t.task_id.value, id);
        assert_eq!(t.agent_id, o.agent_id);
        let e = t.executor.as_ref().unwrap();
        assert_eq!(e.executor_id.value, format!("{id}.executor"));
        assert_eq!(e.framework_id, Some(FrameworkId::new("F1")));
        assert_eq!(mesos_api::scalar_sum(&e.resources, "cpus"), 0.1);
        assert_eq!(mesos_api::scalar_sum(&e.resources, "mem"), 32.0);
        assert_eq!(mesos_api::scalar_sum(&t.resources, "cpus"), 1.0);
        assert_eq!(mesos_api::scalar_sum(&t.resources, "mem"), 1024.0);
        assert_eq!(
            mesos_api::ranges_union(&t.resources, "ports"),
            "[19998-19999]".parse().unwrap()
        );
        let cmd = e.command.as_ref().unwrap();
        assert_eq!(cmd.user.as_deref(), Some("alluxio"));
        assert!(cmd.uris.is_empty(), "LOCAL fetches nothing");
        let s = script(&t);
        assert!(s.contains("export ALLUXIO_HOME='/opt/alluxio'"), "{s}");
        assert!(
            s.ends_with("exec \"$ALLUXIO_HOME/integration/mesos/bin/alluxio-master-mesos.sh\"\n"),
            "{s}"
        );
        assert!(!s.contains("JAVA_HOME"), "{s}");
        assert_eq!(env_get(&t, "ALLUXIO_HOME").as_deref(), Some("/opt/alluxio"));
        assert_eq!(
            env_get(&t, "ALLUXIO_UNDERFS_ADDRESS").as_deref(),
            Some("hdfs://nn:8020/alluxio")
        );
        assert_eq!(env_get(&t, "ALLUXIO_CONF_DIR").as_deref(), Some("conf"));
        assert_eq!(env_get(&t, "ALLUXIO_LOGS_DIR").as_deref(), Some("logs"));
        assert_eq!(env_get(&t, "ALLUXIO_MASTER_HOSTNAME"), None);
        let labels = t.labels.as_ref().unwrap();
        assert_eq!(labels.get(LABEL_DEPLOYMENT), Some("prod-alluxio"));
        assert_eq!(labels.get(LABEL_ROLE), Some("master"));
        assert_eq!(labels.get(LABEL_ADDRESS), Some("master[0]"));
        assert_eq!(labels.get(LABEL_CONFIG_HASH), Some("0123456789abcdef"));
        assert!(json["labels"]["labels"].as_array().unwrap().len() == 4);
    }

    #[test]
    fn command_mode_is_a_command_task_without_executor() {
        let mut d = desired();
        d.worker.task.command = Some("./bin/alluxio-start.sh worker NoMount".into());
        let o = big_offer();
        let a = Address::Worker("a7.example".into());
        let t = task_info(&ctx(&d), &a, &worker_spec(), "w-1", &o).unwrap();
        assert_valid_json(&t);
        assert_within(&t, &o);
        assert!(t.executor.is_none());
        let cmd = t.command.as_ref().unwrap();
        assert_eq!(cmd.shell, Some(true));
        assert_eq!(cmd.user.as_deref(), Some("alluxio"));
        let s = script(&t);
        assert!(
            s.ends_with("set +e\n./bin/alluxio-start.sh worker NoMount\n"),
            "{s}"
        );
        assert!(!s.contains("alluxio-worker-mesos.sh"), "{s}");
        // The whole offer fit is the task's: no executor share was taken.
        assert_eq!(mesos_api::scalar_sum(&t.resources, "mem"), 5120.0);
        assert_eq!(
            env_get(&t, "ALLUXIO_MASTER_HOSTNAME").as_deref(),
            Some("m1.example")
        );
        assert!(env_get(&t, SITE_PROPERTIES_ENV).is_some());
    }

    #[test]
    fn workers_get_master_hostname_and_ramdisk_size_unless_zookeeper_is_on() {
        let mut d = desired();
        let a = Address::Worker("a7.example".into());
        let o = big_offer();
        let t = task_info(&ctx(&d), &a, &worker_spec(), "w-1", &o).unwrap();
        assert_within(&t, &o);
        assert_eq!(
            env_get(&t, "ALLUXIO_MASTER_HOSTNAME").as_deref(),
            Some("m1.example")
        );
        assert_eq!(
            env_get(&t, "ALLUXIO_WORKER_MEMORY_SIZE").as_deref(),
            Some("4GB")
        );
        assert_eq!(mesos_api::scalar_sum(&t.resources, "mem"), 5120.0);
        assert!(script(&t).contains("alluxio-worker-mesos.sh"));
        assert_eq!(
            t.labels.as_ref().unwrap().get(LABEL_ADDRESS),
            Some("worker[\"a7.example\"]")
        );

        let mut no_masters = ctx(&d);
        no_masters.master_hostnames.clear();
        let err = task_info(&no_masters, &a, &worker_spec(), "w-2", &o).unwrap_err();
        assert!(matches!(err, LaunchError::NoMasterHost(_)));
        assert!(err.to_string().contains("place a master first"), "{err}");

        d.zookeeper = Some("zk1:2181,zk2:2181".into());
        let mut no_masters = ctx(&d);
        no_masters.master_hostnames.clear();
        let t = task_info(&no_masters, &a, &worker_spec(), "w-3", &o).unwrap();
        assert_eq!(env_get(&t, "ALLUXIO_MASTER_HOSTNAME"), None);
        assert_eq!(
            env_get(&t, "ALLUXIO_WORKER_MEMORY_SIZE").as_deref(),
            Some("4GB")
        );
    }

    #[test]
    fn ports_are_carved_from_a_multi_range_offer() {
        let d = desired();
        let o = offer(vec![
            Resource::cpus(2.0),
            Resource::mem(8192.0),
            Resource::ports(
                &"[1000-2000, 29998-29999, 30000-30005, 31000-32000]"
                    .parse()
                    .unwrap(),
            ),
        ]);
        let a = Address::Worker("a7.example".into());
        let t = task_info(&ctx(&d), &a, &worker_spec(), "w-1", &o).unwrap();
        assert_within(&t, &o);
        let ports = mesos_api::ranges_union(&t.resources, "ports");
        assert_eq!(ports, "[29998-30000]".parse().unwrap());
        assert!(t
            .executor
            .as_ref()
            .unwrap()
            .resources
            .iter()
            .all(|r| r.name != "ports"));
    }

    #[test]
    fn reserved_resources_keep_their_role() {
        let d = desired();
        let o = offer(vec![
            Resource::cpus(0.6).reserved_to("alluxio"),
            Resource::cpus(2.0),
            Resource::mem(2048.0).reserved_to("alluxio"),
            Resource::ports(&"[19998-19999]".parse().unwrap()).reserved_to("alluxio"),
        ]);
        let t = task_info(&ctx(&d), &Address::Master(0), &master_spec(), "m-1", &o).unwrap();
        assert_within(&t, &o);
        let e = t.executor.as_ref().unwrap();
        assert!(e
            .resources
            .iter()
            .all(|r| r.reserved_role() == Some("alluxio")));
        let cpus: Vec<(Option<&str>, f64)> = t
            .resources
            .iter()
            .filter(|r| r.name == "cpus")
            .map(|r| (r.reserved_role(), r.scalar_value()))
            .collect();
        assert_eq!(cpus, [(Some("alluxio"), 0.5), (None, 0.5)]);
        assert!(t
            .resources
            .iter()
            .filter(|r| r.name != "cpus")
            .all(|r| r.reserved_role() == Some("alluxio")));
    }

    #[test]
    fn shortfalls_count_the_executor_and_name_the_missing_ports() {
        let d = desired();
        let o = offer(vec![
            Resource::cpus(0.5),
            Resource::mem(4096.0),
            Resource::ports(&"[31000-32000]".parse().unwrap()),
        ]);
        let err = task_info(&ctx(&d), &Address::Master(0), &master_spec(), "m-1", &o).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the offer cannot hold the task: cpus: needs 1.1 (1 + 0.1 executor), 0.5 in the offer; \
             ports 19998-19999 not offered (offer has [31000-32000])"
        );
        assert!(matches!(err, LaunchError::Shortfall(_)));
    }

    #[test]
    fn secrets_are_only_in_the_site_properties_variable() {
        let mut d = desired();
        tarball(&mut d, true);
        d.master.task.command = Some("echo started".into());
        for (address, spec) in [
            (Address::Master(0), master_spec()),
            (Address::Worker("a7.example".into()), worker_spec()),
        ] {
            let t = task_info(&ctx(&d), &address, &spec, "t-1", &big_offer()).unwrap();
            let content = env_get(&t, SITE_PROPERTIES_ENV).unwrap();
            assert!(content.contains(&format!("fs.s3a.secretkey={SECRET}\n")));
            let mut json = serde_json::to_value(&t).unwrap();
            assert_eq!(json.to_string().matches(SECRET).count(), 1);
            let vars = if json.get("command").is_some() {
                &mut json["command"]["environment"]["variables"]
            } else {
                &mut json["executor"]["command"]["environment"]["variables"]
            };
            vars.as_array_mut()
                .unwrap()
                .retain(|v| v["name"] != SITE_PROPERTIES_ENV);
            assert!(!json.to_string().contains(SECRET), "{json}");
        }
        assert!(!format!("{:?}", ctx(&d)).contains(SECRET));
    }

    #[test]
    fn the_site_properties_variable_holds_every_effective_property() {
        let mut d = desired();
        d.site
            .insert("weird key", "a=b:c # not a comment\nsecond line é");
        let t = master_task(&d);
        let content = env_get(&t, SITE_PROPERTIES_ENV).unwrap();
        let read: Vec<(String, String)> = crate::desired::properties::parse(&content)
            .unwrap()
            .into_iter()
            .map(|e| (e.key, e.value))
            .collect();
        let expected: Vec<(String, String)> = d
            .site
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    PropertyValue::Plain(s) => s.clone(),
                    PropertyValue::Secret(s) => s.expose().to_string(),
                };
                (k.clone(), v)
            })
            .collect();
        assert_eq!(read, expected);
    }

    #[test]
    fn jdk_export_only_with_a_jdk_url() {
        let mut d = desired();
        tarball(&mut d, false);
        let t = master_task(&d);
        let s = script(&t);
        assert!(!s.contains("JAVA_HOME"), "{s}");
        let uris = &t.executor.as_ref().unwrap().command.as_ref().unwrap().uris;
        assert_eq!(uris.len(), 1);
        assert_eq!(uris[0].extract, Some(true));
        assert_eq!(env_get(&t, "ALLUXIO_HOME"), None, "found at run time");

        tarball(&mut d, true);
        let t = master_task(&d);
        let s = script(&t);
        assert!(
            s.contains("export JAVA_HOME=\"$SANDBOX\"/'jdk1.8.0_202'\n"),
            "{s}"
        );
        let uris = &t.executor.as_ref().unwrap().command.as_ref().unwrap().uris;
        assert_eq!(uris.len(), 2);
        assert!(uris.iter().all(|u| u.extract == Some(true)));

        d.install.jdk = JdkSource::Download {
            url: "https://downloads.example/jdk.tar.gz".into(),
            path: "/usr/lib/jvm/it's-here".into(),
        };
        let t = master_task(&d);
        assert!(script(&t).contains("export JAVA_HOME='/usr/lib/jvm/it'\\''s-here'\n"));
    }

    #[test]
    fn task_ids_are_unique_short_and_valid_for_mesos() {
        let addresses = [
            Address::Master(0),
            Address::Master(3),
            Address::Worker("a1.example.com".into()),
            Address::Worker("weird host/with\\slashes\tand\u{e9}".into()),
            Address::Worker("x".repeat(300)),
        ];
        let mut seen = HashSet::new();
        for i in 0..10_000 {
            let a = &addresses[i % addresses.len()];
            let id = new_task_id(a);
            let exec = executor_id(&id);
            for s in [&id, &exec] {
                assert!(s.len() <= 255, "{s}");
                assert!(
                    s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)),
                    "{s}"
                );
                assert!(s != "." && s != "..");
            }
            assert!(id.starts_with(&format!("alluxio-{}-", a.role())), "{id}");
            assert!(seen.insert(id), "task ID reused");
        }
        let id = new_task_id(&Address::Master(0));
        assert!(id.starts_with("alluxio-master-0."), "{id}");
        let id = new_task_id(&Address::Worker("a1.example.com".into()));
        assert!(id.starts_with("alluxio-worker-a1_example_com."), "{id}");
    }

    /// Runs a task's command the way the agent does (`sh -c`, sandbox as
    /// working directory, the task environment plus `MESOS_SANDBOX`).
    fn run_in_sandbox(t: &TaskInfo, sandbox: &std::path::Path) -> std::process::Output {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(script(t))
            .current_dir(sandbox)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("MESOS_SANDBOX", sandbox)
            .envs(env(t))
            .output()
            .expect("cannot run sh: the launch script test needs a POSIX shell")
    }

    #[test]
    fn the_launch_script_prepares_the_sandbox_and_execs_the_mesos_script() {
        use std::os::unix::fs::PermissionsExt;
        let mut d = desired();
        tarball(&mut d, true);
        let t = task_info(
            &ctx(&d),
            &Address::Worker("a7.example".into()),
            &worker_spec(),
            "w-1",
            &big_offer(),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let sandbox = dir.path();
        // What the fetcher leaves: the archive, the unpacked JDK and Alluxio.
        std::fs::write(sandbox.join("alluxio-1.8.2-bin.tar.gz"), "").unwrap();
        std::fs::create_dir_all(sandbox.join("jdk1.8.0_202/bin")).unwrap();
        std::fs::create_dir_all(sandbox.join("alluxio-1.8.2/conf")).unwrap();
        std::fs::write(sandbox.join("alluxio-1.8.2/conf/log4j.properties"), "x=1\n").unwrap();
        let bin = sandbox.join("alluxio-1.8.2/integration/mesos/bin");
        std::fs::create_dir_all(&bin).unwrap();
        let fake = bin.join("alluxio-worker-mesos.sh");
        std::fs::write(
            &fake,
            "#!/bin/sh\nprintf '%s\\n' \"$ALLUXIO_HOME\" \"$JAVA_HOME\" \"$ALLUXIO_CONF_DIR\" \
             \"$ALLUXIO_MASTER_HOSTNAME\" > \"$MESOS_SANDBOX/started\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();

        let out = run_in_sandbox(&t, sandbox);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let root = sandbox.display().to_string();
        let started = std::fs::read_to_string(sandbox.join("started")).unwrap();
        assert_eq!(
            started,
            format!("{root}/alluxio-1.8.2\n{root}/jdk1.8.0_202\n{root}/conf\nm1.example\n")
        );
        assert!(sandbox.join("logs").is_dir());
        assert!(sandbox.join("conf/log4j.properties").is_file());
        let written =
            std::fs::read_to_string(sandbox.join("conf/alluxio-site.properties")).unwrap();
        assert_eq!(Some(written), env_get(&t, SITE_PROPERTIES_ENV));
    }

    #[test]
    fn the_launch_script_fails_clearly_when_the_tarball_is_not_a_mesos_build() {
        let mut d = desired();
        tarball(&mut d, false);
        let t = master_task(&d);
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("alluxio-1.8.2/bin")).unwrap();
        let out = run_in_sandbox(&t, dir.path());
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("no directory holding integration/mesos/bin/")
                && err.contains("https://downloads.example/alluxio-1.8.2-bin.tar.gz"),
            "{err}"
        );
    }
}
