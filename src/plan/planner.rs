//! The planning algorithm. See the module docs of [`crate::plan`].
//!
//! Order matters and is fixed: strays and duplicates are killed first
//! (freeing their resources), then masters are kept, replaced or launched,
//! then workers (which, with ZooKeeper off, depend on the masters' hosts).

use super::config::{self, RoleConfig};
use super::existing::{self, Existing, Slot};
use super::model::*;
use super::placement::{self, Capacity, Eligibility, INACTIVE};
use crate::address::{Address, Role};
use crate::desired::secrets::SecretHasher;
use crate::desired::{Desired, WorkerCount};
use crate::fit::{fmt_mem, fmt_num, fmt_ports, Demand, ExecutorShare};
use crate::live::LiveCluster;
use crate::state::State;
use std::collections::{BTreeMap, HashMap, HashSet};

#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Plan killing every task of the deployment.
    pub destroy: bool,
    /// Restrict the plan to these addresses (empty: everything).
    pub targets: Vec<Address>,
}

/// The hasher for secret fingerprints: the state file's key, or, before the
/// first apply, one derived from the deployment name so that plans of a new
/// deployment are deterministic too (apply then stores that key).
pub fn secret_hasher(desired: &Desired, state: Option<&State>) -> SecretHasher {
    state
        .and_then(|s| SecretHasher::from_hex(&s.secret_hash_key))
        .unwrap_or_else(|| SecretHasher::for_new_deployment(&desired.name))
}

pub fn make_plan(
    desired: &Desired,
    live: &LiveCluster,
    state: Option<&State>,
    opts: &PlanOptions,
) -> Plan {
    let hasher = secret_hasher(desired, state);
    let existing = existing::collect(live, state);
    let warnings = warnings(desired, live, state, &existing, opts);
    let mut master_hosts = Vec::new();
    let mut p = Planner {
        desired,
        existing,
        caps: placement::capacities(&live.agents),
        applied: state.and_then(|s| s.applied.as_ref()),
        changes: Vec::new(),
        failures: Vec::new(),
    };
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

    let mut changes = p.changes;
    let mut failures = p.failures;
    if !opts.targets.is_empty() {
        changes.retain(|c| opts.targets.contains(&c.address));
        failures.retain(|f| f.address.as_ref().is_none_or(|a| opts.targets.contains(a)));
    }
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
        rollout: Rollout {
            max_unavailable: desired.worker.max_unavailable,
            master_order,
            leader: None,
            workers_wait_for: desired.zookeeper.is_none().then_some(Address::Master(0)),
            master_constraints: desired.master.constraints.clone(),
            worker_constraints: desired.worker.constraints.clone(),
        },
        applied: (!opts.destroy).then(|| config::applied_config(desired, &hasher, &master_hosts)),
        launch_templates,
        master_ports: MasterPorts {
            rpc: desired.master.rpc_port,
            web: desired.master.web_port,
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
    if let (Some(id), None) = (state.and_then(|s| s.framework_id.as_ref()), &live.framework) {
        w.push(format!(
            "framework {id} from the state file is not registered with Mesos: its tasks ended when it was torn down"
        ));
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
    if !opts.targets.is_empty() {
        w.push("planned with --target: changes to other addresses are not shown and will not be applied".into());
    }
    w
}

struct Planner<'a> {
    desired: &'a Desired,
    existing: Existing,
    caps: BTreeMap<String, Capacity>,
    applied: Option<&'a crate::state::AppliedConfig>,
    changes: Vec<Change>,
    failures: Vec<PlacementFailure>,
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

    /// Why a running task must be replaced (empty: keep it).
    fn replace_reasons(&self, task: &ExistingTask, wanted: &RoleConfig, role: Role) -> Vec<String> {
        let wanted_hash = wanted.hash();
        match &task.config_hash {
            Some(h) if *h == wanted_hash => Vec::new(),
            Some(h) => {
                let applied = self.applied.map(|a| match role {
                    Role::Master => &a.master,
                    Role::Worker => &a.worker,
                });
                match applied.map(|fields| RoleConfig { fields: fields.clone() }) {
                    Some(before) if before.hash() == *h => wanted
                        .explain_changes(
                            &before,
                            role,
                            &self.desired.setting_names,
                            self.desired.site.secret_keys(),
                        )
                        .into_iter()
                        .map(|r| annotate_reason(r, role))
                        .collect(),
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

    /// Masters: returns the hostnames the masters will have, by index.
    fn plan_masters(&mut self, wanted: &RoleConfig) -> Vec<String> {
        let spec = &self.desired.master;
        let need = task_spec(self.desired, Role::Master, String::new()).demand();
        let rules = Eligibility {
            hostname: spec.hostname.as_deref(),
            constraints: spec.constraints.as_ref(),
        };
        let count = spec.count;

        // Excess masters first: their agents become free for the others.
        let excess: Vec<(Address, ExistingTask)> = self
            .existing
            .slots
            .iter()
            .filter_map(|(a, s)| match (a, &s.active) {
                (Address::Master(i), Some(t)) if *i >= count => Some((a.clone(), t.clone())),
                _ => None,
            })
            .collect();
        for (address, task) in excess {
            self.kill(
                address,
                task,
                format!("the deployment has {count} master(s)"),
            );
        }

        let mut hosts = vec![String::new(); count as usize];
        let mut replace = Vec::new();
        let mut launch = Vec::new();
        for i in 0..count {
            let address = Address::Master(i);
            let slot = self.slot(&address);
            match slot.active {
                Some(task) => {
                    let mut reasons = self.replace_reasons(&task, wanted, Role::Master);
                    if let Some(cap) = self.caps.get(&task.agent.id) {
                        // Inactive agents keep their running tasks; only rules the operator set move them.
                        let rules_only = Eligibility {
                            hostname: rules.hostname,
                            constraints: rules.constraints,
                        };
                        reasons.extend(
                            cap.ineligibility(&rules_only)
                                .into_iter()
                                .map(|w| w.reason)
                                .filter(|r| r != INACTIVE),
                        );
                    }
                    hosts[i as usize] = task.agent.hostname.clone();
                    if reasons.is_empty() {
                        self.push(address, Action::NoOp { before: task }, Vec::new());
                    } else {
                        replace.push(Pending {
                            address,
                            before: task,
                            reasons,
                        });
                    }
                }
                None => launch.push((address.clone(), Self::launch_reason(&slot, &address))),
            }
        }

        let spec_for = |d: &Desired| task_spec(d, Role::Master, wanted.hash());
        for p in replace {
            self.free(&p.before, Role::Master);
            match self.place(Role::Master, &need, &rules, Some(&p.before.agent.id)) {
                Ok(agent) => {
                    if let Address::Master(i) = p.address {
                        hosts[i as usize] = agent.hostname.clone();
                    }
                    let after = spec_for(self.desired);
                    self.push(
                        p.address,
                        Action::Replace {
                            before: p.before,
                            agent,
                            after,
                        },
                        p.reasons,
                    );
                }
                Err(rejections) => {
                    self.unfree(&p.before, Role::Master);
                    self.fail_replacement(p, rejections, &need);
                }
            }
        }
        for (address, reason) in launch {
            match self.place(Role::Master, &need, &rules, None) {
                Ok(agent) => {
                    if let Address::Master(i) = address {
                        hosts[i as usize] = agent.hostname.clone();
                    }
                    let after = spec_for(self.desired);
                    self.push(address, Action::Launch { agent, after }, vec![reason]);
                }
                Err(rejections) => {
                    let remedies = self.remedies(&rejections, &need);
                    self.failures.push(PlacementFailure {
                        summary: format!("{address} cannot be placed: no agent has room for it"),
                        address: Some(address),
                        role: Role::Master,
                        unplaced: 1,
                        agents: rejections,
                        remedies,
                    });
                }
            }
        }
        hosts.retain(|h| !h.is_empty());
        hosts
    }

    fn free(&mut self, task: &ExistingTask, role: Role) {
        if let Some(cap) = self.caps.get_mut(&task.agent.id) {
            cap.give_back(task);
        }
        self.count_on_agent(task, role, -1);
    }

    /// Undoes [`Self::free`] when a replacement cannot be placed: the old task stays.
    fn unfree(&mut self, task: &ExistingTask, role: Role) {
        if let Some(cap) = self.caps.get_mut(&task.agent.id) {
            cap.take(&task.demand());
        }
        self.count_on_agent(task, role, 1);
    }

    fn fail_replacement(&mut self, p: Pending, rejections: Vec<AgentRejection>, need: &Demand) {
        let remedies = self.remedies(&rejections, need);
        self.failures.push(PlacementFailure {
            summary: format!(
                "{} should be replaced ({}), but no agent has room for the new configuration; the running task is left as is",
                p.address,
                p.reasons.join("; ")
            ),
            address: Some(p.address.clone()),
            role: p.address.role(),
            unplaced: 1,
            agents: rejections,
            remedies,
        });
        self.push(p.address, Action::NoOp { before: p.before }, Vec::new());
    }

    /// Tries agents in order: the preferred one, then most free memory, then hostname.
    fn place(
        &mut self,
        role: Role,
        need: &Demand,
        rules: &Eligibility<'_>,
        prefer: Option<&str>,
    ) -> Result<AgentRef, Vec<AgentRejection>> {
        let mut order: Vec<&Capacity> = self.caps.values().collect();
        order.sort_by(|a, b| {
            let pa = Some(a.agent.id.as_str()) != prefer;
            let pb = Some(b.agent.id.as_str()) != prefer;
            pa.cmp(&pb)
                .then(b.available.mem_mb().total_cmp(&a.available.mem_mb()))
                .then(a.agent.hostname.cmp(&b.agent.hostname))
        });
        let mut rejections = Vec::new();
        let mut chosen = None;
        for cap in order {
            let reasons = rejection_reasons(cap, role, need, rules);
            if reasons.is_empty() {
                chosen = Some(cap.agent.id.clone());
                break;
            }
            rejections.push(AgentRejection::new(cap.agent.clone(), reasons));
        }
        match chosen {
            Some(id) => {
                let cap = self.caps.get_mut(&id).expect("chosen from caps");
                cap.take(need);
                match role {
                    Role::Master => cap.masters += 1,
                    Role::Worker => cap.workers += 1,
                }
                Ok(cap.agent.clone())
            }
            None => {
                rejections.sort_by(|a, b| {
                    a.agent
                        .hostname
                        .cmp(&b.agent.hostname)
                        .then(a.agent.id.cmp(&b.agent.id))
                });
                Err(rejections)
            }
        }
    }

    fn remedies(&self, rejections: &[AgentRejection], need: &Demand) -> Vec<String> {
        let port_problem = rejections.iter().any(|r| {
            self.caps
                .get(&r.agent.id)
                .is_some_and(|c| c.lacks_offered_ports(need))
        });
        if !port_problem {
            return Vec::new();
        }
        let d = self.desired;
        let mut all: Vec<u16> = d.master.ports().to_vec();
        all.extend(d.worker.ports());
        vec![
            format!(
                "start the Mesos agents with --resources='ports:[{}]' (keeping any other port ranges they offer), so that they offer the Alluxio ports",
                fmt_ports(&all)
            ),
            format!(
                "or move the ports into the range the agents offer (by default [31000-32000]) with alluxio.master.port ({}), alluxio.master.web.port ({}), alluxio.worker.port ({}), alluxio.worker.data.port ({}) and alluxio.worker.web.port ({}) in {}",
                d.master.rpc_port,
                d.master.web_port,
                d.worker.rpc_port,
                d.worker.data_port,
                d.worker.web_port,
                d.files.properties.display()
            ),
        ]
    }

    fn plan_workers(&mut self, wanted: &RoleConfig) {
        let spec = &self.desired.worker;
        let need = task_spec(self.desired, Role::Worker, String::new()).demand();
        let rules = Eligibility {
            hostname: None,
            constraints: spec.constraints.as_ref(),
        };
        let agent_by_host: HashMap<String, String> = {
            // Prefer active agents when a hostname re-registered under a new ID.
            let mut m: HashMap<String, (bool, String)> = HashMap::new();
            for c in self.caps.values() {
                let e = m
                    .entry(c.agent.hostname.clone())
                    .or_insert((c.active, c.agent.id.clone()));
                if c.active && !e.0 {
                    *e = (true, c.agent.id.clone());
                }
            }
            m.into_iter().map(|(h, (_, id))| (h, id)).collect()
        };

        // Existing workers: keep, replace or kill.
        let mut keep: Vec<(Address, ExistingTask, Vec<String>)> = Vec::new();
        let worker_slots: Vec<(Address, Slot)> = self
            .existing
            .slots
            .iter()
            .filter(|(a, _)| a.role() == Role::Worker)
            .map(|(a, s)| (a.clone(), s.clone()))
            .collect();
        for (address, slot) in &worker_slots {
            let Some(task) = slot.active.clone() else {
                continue;
            };
            let Some(cap) = self.caps.get(&task.agent.id) else {
                self.kill(
                    address.clone(),
                    task,
                    "its agent is no longer registered with Mesos".into(),
                );
                continue;
            };
            let broken: Vec<String> = cap
                .ineligibility(&rules)
                .into_iter()
                .map(|w| w.reason)
                .filter(|r| r != INACTIVE)
                .collect();
            if !broken.is_empty() {
                self.kill(
                    address.clone(),
                    task,
                    format!("its agent is no longer eligible: {}", broken.join("; ")),
                );
                continue;
            }
            let reasons = self.replace_reasons(&task, wanted, Role::Worker);
            keep.push((address.clone(), task, reasons));
        }
        if let WorkerCount::Exactly(n) = spec.count {
            // Keep up-to-date workers first, then by hostname; kill the rest.
            keep.sort_by(|a, b| {
                a.2.is_empty()
                    .cmp(&b.2.is_empty())
                    .reverse()
                    .then(a.0.cmp(&b.0))
            });
            while keep.len() > n as usize {
                let (address, task, _) = keep.pop().expect("len > n >= 0");
                self.kill(address, task, format!("the deployment has {n} worker(s)"));
            }
        }
        let after = task_spec(self.desired, Role::Worker, wanted.hash());
        for (address, task, reasons) in keep {
            if reasons.is_empty() {
                self.push(address, Action::NoOp { before: task }, Vec::new());
                continue;
            }
            // A worker is replaced on its own agent: its address is that agent.
            self.free(&task, Role::Worker);
            let cap = self.caps.get_mut(&task.agent.id).expect("checked above");
            let short = cap.shortfalls(&need);
            if short.is_empty() {
                cap.take(&need);
                cap.workers += 1;
                let agent = cap.agent.clone();
                self.push(
                    address,
                    Action::Replace {
                        before: task,
                        agent,
                        after: after.clone(),
                    },
                    reasons,
                );
            } else {
                let rejection = AgentRejection::new(cap.agent.clone(), short);
                self.unfree(&task, Role::Worker);
                self.fail_replacement(
                    Pending {
                        address,
                        before: task,
                        reasons,
                    },
                    vec![rejection],
                    &need,
                );
            }
        }

        // New workers.
        let placed_now = self.caps.values().filter(|c| c.workers > 0).count() as u32;
        let mut candidates: Vec<Capacity> = self
            .caps
            .values()
            .filter(|c| c.workers == 0)
            .cloned()
            .collect();
        // A set, not a scan of the slots per comparison: the sort stays
        // O(agents log agents) with thousands of existing workers.
        let worker_hosts: HashSet<&str> = worker_slots
            .iter()
            .filter_map(|(a, _)| match a {
                Address::Worker(host) => Some(host.as_str()),
                _ => None,
            })
            .collect();
        let had_worker = |host: &str| worker_hosts.contains(host);
        candidates.sort_by(|a, b| {
            had_worker(&b.agent.hostname)
                .cmp(&had_worker(&a.agent.hostname))
                .then(b.available.mem_mb().total_cmp(&a.available.mem_mb()))
                .then(a.agent.hostname.cmp(&b.agent.hostname))
        });
        let wanted_new = match spec.count {
            WorkerCount::All => u32::MAX,
            WorkerCount::Exactly(n) => n.saturating_sub(placed_now),
        };
        let mut launched = 0u32;
        let mut rejections = Vec::new();
        let mut counted = 0u32;
        for cand in candidates {
            if launched >= wanted_new {
                break; // never for `count = "all"`: wanted_new is unbounded
            }
            let ineligible = cand.ineligibility(&rules);
            let short = cand.shortfalls(&need);
            if !ineligible.is_empty() {
                rejections.push(AgentRejection::new(cand.agent.clone(), ineligible));
                continue;
            }
            if agent_by_host.get(&cand.agent.hostname) != Some(&cand.agent.id) {
                let cause = "another agent with the same hostname is preferred";
                let why = Why {
                    reason: format!(
                        "another agent with hostname {} is preferred",
                        cand.agent.hostname
                    ),
                    cause: cause.into(),
                };
                rejections.push(AgentRejection::new(cand.agent.clone(), vec![why]));
                continue;
            }
            if !short.is_empty() {
                if matches!(spec.count, WorkerCount::All) {
                    counted += 1;
                }
                rejections.push(AgentRejection::new(cand.agent.clone(), short));
                continue;
            }
            let address = Address::Worker(cand.agent.hostname.clone());
            let slot = self.slot(&address);
            let cap = self
                .caps
                .get_mut(&cand.agent.id)
                .expect("candidate from caps");
            cap.take(&need);
            cap.workers += 1;
            let agent = cap.agent.clone();
            let reason = match &slot.ended {
                Some(_) => Self::launch_reason(&slot, &address),
                None => format!("agent {} has no worker", agent.hostname),
            };
            self.push(
                address,
                Action::Launch {
                    agent,
                    after: after.clone(),
                },
                vec![reason],
            );
            launched += 1;
        }
        let missing = match spec.count {
            WorkerCount::All => counted,
            WorkerCount::Exactly(_) => wanted_new.saturating_sub(launched),
        };
        if missing > 0 || (matches!(spec.count, WorkerCount::All) && !rejections.is_empty()) {
            rejections.sort_by(|a, b| {
                a.agent
                    .hostname
                    .cmp(&b.agent.hostname)
                    .then(a.agent.id.cmp(&b.agent.id))
            });
            let summary = match spec.count {
                WorkerCount::All if missing > 0 => {
                    format!("{missing} eligible agent(s) cannot run a worker")
                }
                WorkerCount::All => format!(
                    "{} agent(s) are not eligible for a worker",
                    rejections.len()
                ),
                WorkerCount::Exactly(n) => format!("{missing} of {n} worker(s) cannot be placed"),
            };
            let remedies = self.remedies(&rejections, &need);
            self.failures.push(PlacementFailure {
                address: None,
                role: Role::Worker,
                summary,
                unplaced: missing,
                agents: rejections,
                remedies,
            });
        }
    }
}

fn rejection_reasons(
    cap: &Capacity,
    role: Role,
    need: &Demand,
    rules: &Eligibility<'_>,
) -> Vec<Why> {
    let mut reasons = cap.ineligibility(rules);
    if role == Role::Master && cap.masters > 0 {
        reasons.push(Why::general(
            "already runs a master (masters go to distinct agents)",
        ));
    }
    if role == Role::Worker && cap.workers > 0 {
        reasons.push(Why::general("already runs a worker"));
    }
    reasons.extend(cap.shortfalls(need));
    reasons
}

/// Explains what a changed field means for the role.
fn annotate_reason(reason: String, role: Role) -> String {
    if role == Role::Worker && reason.starts_with("master hostname:") {
        format!("{reason} (ZooKeeper is off: workers are started with the master's hostname)")
    } else {
        reason
    }
}

/// What a task of `role` is launched with, as the deployment says.
pub(crate) fn task_spec(d: &Desired, role: Role, config_hash: String) -> TaskSpec {
    // The default launcher starts the task under an executor of its own.
    let executor = |command: &Option<String>| command.is_none().then_some(ExecutorShare::DEFAULT);
    match role {
        Role::Master => TaskSpec {
            name: d.master.task_name.clone(),
            cpus: d.master.cpus,
            jvm_mem_mb: d.master.mem.as_mb(),
            ramdisk_mb: 0.0,
            ports: d.master.ports().to_vec(),
            install: config::install_label(d),
            config_hash,
            executor: executor(&d.master.command),
        },
        Role::Worker => TaskSpec {
            name: d.worker.task_name.clone(),
            cpus: d.worker.cpus,
            jvm_mem_mb: d.worker.mem.as_mb(),
            ramdisk_mb: d.worker.ramdisk.as_mb(),
            ports: d.worker.ports().to_vec(),
            install: config::install_label(d),
            config_hash,
            executor: executor(&d.worker.command),
        },
    }
}
