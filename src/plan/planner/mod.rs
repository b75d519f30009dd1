//! The planning algorithm. See the module docs of [`crate::plan`].
//!
//! Order matters and is fixed: strays and duplicates are killed first
//! (freeing their resources), then masters are kept, replaced or launched,
//! then workers (which, with ZooKeeper off, depend on the masters' hosts).

mod masters;
mod placing;
pub mod targeting;
mod workers;

use self::placing::annotate_reason;
use crate::address::{Address, Role};
use crate::desired::secrets::SecretHasher;
use crate::desired::{Desired, WorkerCount};
use crate::fit::{fmt_mem, fmt_num, fmt_ports, Demand, ExecutorShare};
use crate::live::LiveCluster;
use crate::plan::config::{self, RoleConfig};
use crate::plan::existing::{self, Existing, Slot};
use crate::plan::model::*;
use crate::plan::placement::{self, Capacity, Eligibility, INACTIVE};
use crate::state::State;
use std::collections::{BTreeMap, HashMap, HashSet};

#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Plan killing every task of the deployment.
    pub destroy: bool,
    /// Restrict the plan to these addresses and what they need (empty:
    /// everything); see [`targeting`].
    pub targets: Vec<Address>,
    /// Replace the tasks at these addresses even when nothing changed
    /// (`--replace`, as Terraform's `-replace`).
    pub replace: Vec<Address>,
}

/// The hasher for secret fingerprints: the state file's key, or, before the
/// first apply, one derived from the deployment name so that plans of a new
/// deployment are deterministic too (apply then stores that key).
pub fn secret_hasher(desired: &Desired, state: Option<&State>) -> SecretHasher {
    state
        .and_then(|s| SecretHasher::from_hex(&s.secret_hash_key))
        .unwrap_or_else(|| SecretHasher::for_new_deployment(&desired.name))
}

/// The reason of a replacement asked for with `--replace`.
pub const REPLACEMENT_REQUESTED: &str = "replacement requested (--replace)";

pub fn make_plan(
    desired: &Desired,
    live: &LiveCluster,
    state: Option<&State>,
    opts: &PlanOptions,
) -> Plan {
    let hasher = secret_hasher(desired, state);
    let existing = existing::collect(live, state);
    let mut warnings = warnings(desired, live, state, &existing, opts);
    let mut master_hosts = Vec::new();
    let mut p = Planner {
        desired,
        existing,
        caps: placement::capacities(&live.agents),
        applied: state.and_then(|s| s.applied.as_ref()),
        changes: Vec::new(),
        failures: Vec::new(),
        kept_labels: BTreeMap::new(),
        requested: &opts.replace,
    };
    // A takeover frees the old framework's resources for this plan; a
    // partial (targeted) or destroy plan takes nothing over.
    let takeover = live
        .predecessor
        .as_ref()
        .filter(|_| !opts.destroy && opts.targets.is_empty())
        .map(|f| takeover_of(f, live, desired));
    for (_, task) in takeover.iter().flat_map(|t| &t.tasks) {
        if let Some(cap) = p.caps.get_mut(&task.agent.id) {
            cap.give_back(task);
        }
    }
    if opts.destroy {
        p.destroy_all();
    } else {
        p.kill_strays_and_duplicates();
        master_hosts = p.plan_masters(&config::master_config(desired, &hasher));
        p.plan_workers(&config::worker_config(desired, &hasher, &master_hosts));
    }

    let applied_props = p
        .applied
        .map(|a| a.site_properties.clone())
        .unwrap_or_default();
    let desired_props = config::stored_properties(desired, &hasher);
    let mut config_notes = Vec::new();
    let client_keys = config::client_only_changes(&applied_props, &desired_props);
    if !client_keys.is_empty() && p.applied.is_some() && !opts.destroy {
        config_notes.push(format!(
            "{} changed: client-side settings, read by Alluxio clients from their own configuration; no task is replaced for them",
            client_keys.join(", ")
        ));
    }

    let workers_wait_for = desired.zookeeper.is_none().then_some(Address::Master(0));
    let targeting = (!opts.targets.is_empty()).then(|| {
        let limited = targeting::limit(
            &mut p.changes,
            &mut p.failures,
            &opts.targets,
            workers_wait_for.as_ref(),
        );
        // Tasks left out keep running with the labels they have: the state
        // must go on explaining those labels after this partial apply.
        for c in &limited.left_out_changes {
            if let Some(h) = c.action.before().and_then(|t| t.config_hash.clone()) {
                if let Some(config) = p.launched_config(&h, c.role()) {
                    p.kept_labels.insert(h, config.fields);
                }
            }
        }
        limited.targeting
    });
    if let Some(t) = &targeting {
        warnings.insert(0, t.warning());
    }
    let mut applied =
        (!opts.destroy).then(|| config::applied_config(desired, &hasher, &master_hosts));
    if let Some(a) = &mut applied {
        a.launched.append(&mut p.kept_labels);
    }
    let mut changes = p.changes;
    let mut failures = p.failures;
    changes.sort_by(|a, b| a.address.cmp(&b.address));
    let launch_templates =
        launch_templates(desired, &hasher, &master_hosts, &mut changes, &mut failures);
    let master_order = changes
        .iter()
        .filter(|c| c.role() == Role::Master && c.action.after().is_some())
        .map(|c| c.address.clone())
        .collect();

    Plan {
        deployment: desired.name.clone(),
        changes,
        placement_failures: failures,
        // A destroy plan kills every task: no configuration is applied.
        config_diff: if opts.destroy {
            String::new()
        } else {
            config::properties_diff(&applied_props, &desired_props, desired.site.secret_keys())
        },
        config_notes,
        warnings,
        destroy: opts.destroy,
        targeting,
        takeover,
        rollout: Rollout {
            max_unavailable: desired.worker.max_unavailable,
            master_order,
            leader: None,
            workers_wait_for,
            master_constraints: desired.master.task.constraints.clone(),
            worker_constraints: desired.worker.task.constraints.clone(),
            master_ready: desired.master.task.ready,
            worker_ready: desired.worker.task.ready,
        },
        applied,
        launch_templates,
        master_ports: MasterPorts {
            rpc: desired.master.task.rpc_port,
            web: desired.master.task.web_port,
        },
    }
}

/// The takeover of AlluxioFramework `f`: its running tasks, as the
/// resources they hold, and who tears it down.
fn takeover_of(f: &crate::live::LiveFramework, live: &LiveCluster, desired: &Desired) -> Takeover {
    let hostnames: HashMap<&str, &str> = live
        .agents
        .iter()
        .map(|a| (a.id.as_str(), a.hostname.as_str()))
        .collect();
    let tasks = f
        .tasks
        .iter()
        .filter(|t| t.state.is_active())
        .map(|t| {
            let hostname = hostnames
                .get(t.agent_id.as_str())
                .map_or_else(|| t.agent_id.clone(), |h| h.to_string());
            let task = ExistingTask {
                // What its executor holds is not known: not counted as freed.
                executor: None,
                ..existing::existing_task(t, hostname, None)
            };
            (t.name.clone(), task)
        })
        .collect();
    Takeover {
        framework_id: f.id.clone(),
        framework_name: f.name.clone(),
        tasks,
        // The framework's principal goes with the TEARDOWN only with its secret.
        operator: match (&desired.mesos.operator, &desired.mesos.secret) {
            (Some((p, _)), _) => Some(p.clone()),
            (None, Some(_)) => desired.mesos.principal.clone(),
            (None, None) => None,
        },
    }
}

/// The launch template of every configuration the changes launch. Workers
/// without ZooKeeper are started with the first master's planned host;
/// when no master is placed they cannot be launched, and their changes
/// become a placement failure instead (a worker to replace keeps running).
fn launch_templates(
    desired: &Desired,
    hasher: &SecretHasher,
    master_hosts: &[String],
    changes: &mut Vec<Change>,
    failures: &mut Vec<PlacementFailure>,
) -> BTreeMap<String, crate::state::LaunchTemplate> {
    let mut templates = BTreeMap::new();
    let mut unlaunchable: BTreeMap<String, String> = BTreeMap::new();
    for c in changes.iter() {
        let Some((_, spec)) = c.action.after() else {
            continue;
        };
        let hash = &spec.config_hash;
        if templates.contains_key(hash) || unlaunchable.contains_key(hash) {
            continue;
        }
        match crate::launch::template(desired, c.role(), spec, master_hosts, hasher) {
            Ok(t) => {
                templates.insert(hash.clone(), t);
            }
            Err(e) => {
                unlaunchable.insert(hash.clone(), e.to_string());
            }
        }
    }
    if unlaunchable.is_empty() {
        return templates;
    }
    let mut unplaced = 0u32;
    let mut why = String::new();
    for mut c in std::mem::take(changes) {
        let cause = c
            .action
            .after()
            .and_then(|(_, spec)| unlaunchable.get(&spec.config_hash));
        let Some(cause) = cause else {
            changes.push(c);
            continue;
        };
        unplaced += 1;
        why = cause.clone();
        if let Action::Replace { before, .. } = c.action {
            c.action = Action::NoOp { before };
            c.reasons.clear();
            c.may_move = false;
            changes.push(c);
        }
    }
    failures.push(PlacementFailure {
        address: None,
        role: Role::Worker,
        summary: format!("{unplaced} worker(s) cannot be launched: {why}"),
        unplaced,
        agents: Vec::new(),
        remedies: Vec::new(),
    });
    templates
}

fn warnings(
    desired: &Desired,
    live: &LiveCluster,
    state: Option<&State>,
    existing: &Existing,
    opts: &PlanOptions,
) -> Vec<String> {
    let mut w = Vec::new();
    // Tasks of our framework that no address claims were not launched by
    // this tool (or their state record was lost): never kill them blindly.
    for t in &existing.strays {
        w.push(format!(
            "task {} on {} runs in this deployment's framework but belongs to no address; it is left alone",
            t.task_id, t.agent.hostname
        ));
    }
    for (address, t) in &existing.unmanaged {
        let address = address
            .as_ref()
            .map_or_else(|| "ADDRESS".to_string(), ToString::to_string);
        w.push(format!(
            "task {} on {} runs in this deployment's framework but is unmanaged (`state rm`); take it back with `alluxio-mesos state import '{address}' {}`, or to kill it, import it and apply `alluxio-mesos plan --destroy --target '{address}' -o kill.plan`",
            t.task_id, t.agent.hostname, t.task_id
        ));
    }
    if let Some(id) = state.and_then(|s| s.framework_id.as_ref()) {
        match &live.framework {
            Some(f) if f.removed => w.push(format!(
                "framework {id} from the state was removed by Mesos (the master lists it among its completed frameworks) and its tasks were killed: Mesos removes a framework when no scheduler subscribes within its failover_timeout ({}; apply is its only scheduler, so no apply or destroy came in that time) or when someone tears it down. apply will register a new framework and launch what this plan shows",
                humantime::format_duration(desired.mesos.failover_timeout)
            )),
            Some(_) => {}
            None => w.push(format!(
                "framework {id} from the state is not known to the master: it was removed long ago (a master keeps a bounded list of completed frameworks, and a new leader starts without it) or this is another cluster; its tasks ended with it. apply registers again with this ID, or as a new framework if Mesos refuses it"
            )),
        }
    }
    let sensitive: Vec<&str> = desired
        .site
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| desired.site.secret_keys().is_secret(k))
        .collect();
    if !sensitive.is_empty() && !opts.destroy {
        w.push(format!(
            "the site properties reach the tasks in the environment variable ALLUXIO_MESOS_SITE_PROPERTIES_CONTENT, which anyone who can read the Mesos state can see; sensitive keys concerned: {}",
            sensitive.join(", ")
        ));
    }
    // Mesos leaves a custom executor's health checks to the executor, and
    // Alluxio 1.x's Mesos executors (driver API) run none.
    for role in [Role::Master, Role::Worker] {
        let spec = desired.role(role);
        if spec.health_check.is_some() && spec.command.is_none() && !opts.destroy {
            w.push(format!(
                "[{role}] health_check with the default launch: Mesos leaves the checks of a custom executor to the executor, and Alluxio 1.x's own Mesos executors run none, so apply would wait for a verdict that never comes; with such an Alluxio, drop the health check (`ready = \"alluxio\"`, the default, waits until Alluxio serves)"
            ));
        }
    }
    if let Some(f) = &live.predecessor {
        if !opts.targets.is_empty() && !opts.destroy {
            w.push(format!(
                "AlluxioFramework {:?} ({}) runs and holds resources; a plan limited with --target takes nothing over: plan without --target to take it over",
                f.name, f.id
            ));
        }
    }
    for address in &opts.replace {
        if existing
            .slots
            .get(address)
            .is_none_or(|s| s.active.is_none())
        {
            w.push(format!(
                "--replace {address}: no task runs at this address, so there is nothing to replace; the plan launches it if the deployment wants it"
            ));
        }
    }
    w
}

struct Planner<'a> {
    desired: &'a Desired,
    existing: Existing,
    caps: BTreeMap<String, Capacity<'a>>,
    applied: Option<&'a crate::state::AppliedConfig>,
    changes: Vec<Change>,
    failures: Vec<PlacementFailure>,
    /// The configurations of tasks kept under an older hash label, for the
    /// state to keep explaining them.
    kept_labels: BTreeMap<String, BTreeMap<String, String>>,
    /// Addresses whose running task is replaced even when unchanged.
    requested: &'a [Address],
}

/// A running task that should be replaced, and why.
struct Pending {
    address: Address,
    before: ExistingTask,
    reasons: Vec<String>,
}

impl<'a> Planner<'a> {
    fn push(&mut self, address: Address, action: Action, reasons: Vec<String>) {
        // Pinned masters and an exact worker count stay where planned; so
        // do masters when ZooKeeper is off, because the plan's workers are
        // started with their planned hostname.
        let may_move = matches!(action, Action::Launch { .. } | Action::Replace { .. })
            && match address.role() {
                Role::Master => {
                    self.desired.master.hostname.is_none() && self.desired.zookeeper.is_some()
                }
                Role::Worker => self.desired.worker.count == WorkerCount::All,
            };
        self.changes.push(Change {
            address,
            action,
            reasons,
            may_move,
        });
    }

    fn count_on_agent(&mut self, task: &ExistingTask, role: Role, delta: i32) {
        if let Some(cap) = self.caps.get_mut(&task.agent.id) {
            let n = match role {
                Role::Master => &mut cap.masters,
                Role::Worker => &mut cap.workers,
            };
            *n = n.saturating_add_signed(delta);
        }
    }

    fn kill(&mut self, address: Address, task: ExistingTask, reason: String) {
        if let Some(cap) = self.caps.get_mut(&task.agent.id) {
            cap.give_back(&task);
        }
        self.count_on_agent(&task, address.role(), -1);
        self.push(address, Action::Kill { before: task }, vec![reason]);
    }

    fn destroy_all(&mut self) {
        let slots = std::mem::take(&mut self.existing.slots);
        for (address, slot) in slots {
            for task in slot
                .active
                .into_iter()
                .chain(slot.duplicates)
                .chain(slot.killing)
            {
                self.push(
                    address.clone(),
                    Action::Kill { before: task },
                    vec!["destroy: every task of the deployment is killed".into()],
                );
            }
        }
    }

    fn kill_strays_and_duplicates(&mut self) {
        let addresses: Vec<Address> = self.existing.slots.keys().cloned().collect();
        for address in addresses {
            if let Some(t) = self.existing.slots[&address].active.clone() {
                self.count_on_agent(&t, address.role(), 1);
            }
            let dups =
                std::mem::take(&mut self.existing.slots.get_mut(&address).unwrap().duplicates);
            let keeper = self.existing.slots[&address]
                .active
                .as_ref()
                .map(|t| t.task_id.clone())
                .unwrap_or_default();
            for d in dups {
                self.count_on_agent(&d, address.role(), 1);
                self.kill(
                    address.clone(),
                    d,
                    format!("duplicate: task {keeper} already serves this address"),
                );
            }
            // Their resources come back to us once they end; apply kills
            // them again and waits for that before it launches anything.
            let killing =
                std::mem::take(&mut self.existing.slots.get_mut(&address).unwrap().killing);
            for k in killing {
                let id = k.task_id.clone();
                self.kill(
                    address.clone(),
                    k,
                    format!("task {id} is being killed (TASK_KILLING) but has not ended; apply waits until it has"),
                );
            }
        }
    }

    fn slot(&self, address: &Address) -> Slot {
        self.existing
            .slots
            .get(address)
            .cloned()
            .unwrap_or_default()
    }

    /// The configuration behind hash label `hash`, as the state recorded it.
    fn launched_config(&self, hash: &str, role: Role) -> Option<RoleConfig> {
        let applied = self.applied?;
        if let Some(fields) = applied.launched.get(hash) {
            return Some(RoleConfig {
                fields: fields.clone(),
            });
        }
        let fields = match role {
            Role::Master => &applied.master,
            Role::Worker => &applied.worker,
        };
        let config = RoleConfig {
            fields: fields.clone(),
        };
        (config.hash() == hash).then_some(config)
    }

    /// Why the running task at `address` must be replaced (empty: keep
    /// it): its configuration changed, or the operator asked with
    /// `--replace`. A task whose label differs only in fields that no
    /// longer concern its role is kept, and its configuration remembered
    /// under its label.
    fn replace_reasons(
        &mut self,
        address: &Address,
        task: &ExistingTask,
        wanted: &RoleConfig,
    ) -> Vec<String> {
        let mut reasons = self.configuration_changes(task, wanted, address.role());
        if self.requested.contains(address) {
            reasons.push(REPLACEMENT_REQUESTED.into());
        }
        reasons
    }

    fn configuration_changes(
        &mut self,
        task: &ExistingTask,
        wanted: &RoleConfig,
        role: Role,
    ) -> Vec<String> {
        let wanted_hash = wanted.hash();
        match &task.config_hash {
            Some(h) if *h == wanted_hash => Vec::new(),
            Some(h) => {
                match self.launched_config(h, role) {
                    Some(before) => {
                        let reasons: Vec<String> = wanted
                            .explain_changes(
                                &before,
                                role,
                                &self.desired.setting_names,
                                self.desired.site.secret_keys(),
                            )
                            .into_iter()
                            .map(|r| annotate_reason(r, role))
                            .collect();
                        if reasons.is_empty() {
                            self.kept_labels.insert(h.clone(), before.fields);
                        }
                        reasons
                    }
                    _ => {
                        let mut reasons = vec![format!(
                            "configuration changed (hash {h} -> {wanted_hash}); the state file does not hold the configuration it was launched with"
                        )];
                        reasons.extend(self.resource_differences(task, role));
                        reasons
                    }
                }
            }
            None => vec!["the task carries no configuration hash label: it was not launched by alluxio-mesos".into()],
        }
    }

    /// What Mesos itself shows to differ: the task's cpus and memory.
    fn resource_differences(&self, task: &ExistingTask, role: Role) -> Vec<String> {
        let spec = task_spec(self.desired, role, String::new());
        let mut out = Vec::new();
        if (task.cpus - spec.cpus).abs() > 1e-6 {
            out.push(format!(
                "cpus: {} -> {}",
                fmt_num(task.cpus),
                fmt_num(spec.cpus)
            ));
        }
        if (task.mem_mb - spec.mem_mb()).abs() > 1e-6 {
            out.push(format!(
                "mem: {}MB -> {}",
                fmt_num(task.mem_mb),
                fmt_mem(spec.jvm_mem_mb, spec.ramdisk_mb)
            ));
        }
        out
    }

    fn launch_reason(slot: &Slot, address: &Address) -> String {
        match &slot.ended {
            Some(e) => format!("{address} {}", e.what),
            None => format!("{address} is not running"),
        }
    }
}

/// What a task of `role` is launched with, as the deployment says.
pub(crate) fn task_spec(d: &Desired, role: Role, config_hash: String) -> TaskSpec {
    // The default launcher starts the task under an executor of its own.
    let spec = d.role(role);
    TaskSpec {
        name: spec.task_name.clone(),
        cpus: spec.cpus,
        jvm_mem_mb: spec.mem.as_mb(),
        ramdisk_mb: d.ramdisk(role).as_mb(),
        ports: d.ports(role),
        install: config::install_label(d),
        config_hash,
        executor: spec.command.is_none().then_some(ExecutorShare::DEFAULT),
    }
}
