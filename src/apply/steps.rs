//! The steps of an apply: what each plan change becomes, the rules that
//! decide which may start (kills, then masters one at a time in the plan's
//! order, then workers: fresh ones at once, replacements within
//! `max_unavailable`), the
//! halt after a failed replacement and the steps of a rollback. Pure: the engine drives them through Mesos.

use crate::address::{Address, Role};
use crate::desired::constraint::Constraint;
use crate::desired::secrets::{SecretHasher, SiteProperties};
use crate::launch::template;
use crate::plan::model::{Action, AgentRef, ExistingTask, Plan};
use crate::state::LaunchTemplate;
use mesos_api::TaskState;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

/// Where a step is.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Phase {
    Waiting,
    Killing {
        task_id: String,
        since: Instant,
    },
    NeedOffer {
        since: Instant,
        not_before: Instant,
    },
    Launching {
        task_id: String,
        agent: AgentRef,
        since: Instant,
    },
    /// RUNNING since `since`; done once it has stayed so for the settle time.
    Settling {
        task_id: String,
        agent: AgentRef,
        since: Instant,
    },
    /// Settled, and waiting since `since` for Alluxio to say it serves
    /// (`ready = "alluxio"`); `last_seen` is what Alluxio said last.
    Serving {
        task_id: String,
        agent: AgentRef,
        since: Instant,
        last_seen: String,
    },
    Done(String),
    Failed(String),
    /// Never started, and why (a rolling replacement halted).
    Halted(String),
}

/// What a step launches: a configuration's launch template, from the plan
/// or (put back by a rollback) from the state file.
#[derive(Debug, Clone)]
pub(super) struct Launchable {
    pub(super) config_hash: String,
    /// Shared by every step of the configuration ([`shared_templates`]).
    pub(super) template: Arc<LaunchTemplate>,
    /// The last applied configuration, relaunched by a rollback.
    pub(super) restored: bool,
}

/// The task a step launched last.
#[derive(Debug, Clone)]
pub(super) struct NewTask {
    pub(super) task_id: String,
    pub(super) agent: AgentRef,
    /// Mesos reported it terminal.
    pub(super) ended: bool,
    /// When its first status was sent (Unix ms, the agent's clock).
    pub(super) first_status_ms: Option<i64>,
}

pub(super) struct Step {
    pub(super) address: Address,
    pub(super) action: &'static str,
    pub(super) old: Option<ExistingTask>,
    /// Where and what to launch (None for kills).
    pub(super) launch: Option<(AgentRef, Launchable)>,
    /// Whether another agent may be used when the planned one sends no offer.
    pub(super) may_move: bool,
    /// What that other agent must meet (the role's constraints).
    pub(super) move_constraints: Option<Constraint>,
    pub(super) phase: Phase,
    pub(super) attempts: u32,
    /// The old task was seen terminal after our kill.
    pub(super) old_ended: bool,
    pub(super) new_task: Option<NewTask>,
    /// Why the last offer from the planned agent did not fit, to say so
    /// if no offer ever does.
    pub(super) last_shortfall: Option<String>,
}

impl Step {
    pub(super) fn finished(&self) -> bool {
        matches!(
            self.phase,
            Phase::Done(_) | Phase::Failed(_) | Phase::Halted(_)
        )
    }
    pub(super) fn in_flight(&self) -> bool {
        !self.finished() && self.phase != Phase::Waiting
    }
    /// Takes down a serving slot, or fills one a failure emptied (a
    /// rollback): counted against `max_unavailable`, and its failure
    /// halts the others.
    pub(super) fn disrupts(&self) -> bool {
        self.launch.is_some() && (self.old.is_some() || self.action == ROLL_BACK)
    }
    /// A replacement whose old task this run ended.
    pub(super) fn replaced_old(&self) -> bool {
        self.old.is_some() && self.launch.is_some() && self.old_ended
    }
    pub(super) fn group(&self) -> u8 {
        match (&self.launch, self.address.role()) {
            (None, _) => 0,
            (Some(_), Role::Master) => 1,
            (Some(_), Role::Worker) => 2,
        }
    }
}

/// The action name of a rollback step in the report.
pub const ROLL_BACK: &str = "roll back";

/// Launch templates by configuration hash, one shared copy each for the
/// steps that launch it (10,000 workers, one template).
fn shared_templates(
    templates: &BTreeMap<String, LaunchTemplate>,
) -> HashMap<&str, Arc<LaunchTemplate>> {
    templates
        .iter()
        .map(|(hash, t)| (hash.as_str(), Arc::new(t.clone())))
        .collect()
}

/// The steps of a plan, in the order they may start: kills, masters,
/// workers, each by address.
pub(super) fn steps_from(plan: &Plan) -> Vec<Step> {
    let templates = shared_templates(&plan.launch_templates);
    let mut steps: Vec<Step> = plan
        .changes
        .iter()
        .filter_map(|c| {
            let (old, launch) = match &c.action {
                Action::NoOp { .. } => return None,
                Action::Kill { before } => (Some(before.clone()), None),
                Action::Launch { agent, after } => (None, Some((agent.clone(), after.clone()))),
                Action::Replace {
                    before,
                    agent,
                    after,
                } => (Some(before.clone()), Some((agent.clone(), after.clone()))),
            };
            // Only a still-running old task needs a kill.
            let old = old.filter(|t| t.state.is_some_and(|s| !s.is_terminal()));
            let may_move = c.may_move;
            let move_constraints = match c.role() {
                Role::Master => plan.rollout.master_constraints.clone(),
                Role::Worker => plan.rollout.worker_constraints.clone(),
            };
            Some(Step {
                address: c.address.clone(),
                action: c.action.name(),
                old,
                launch: launch.map(|(agent, spec)| {
                    // A plan always holds the template of every configuration it launches.
                    let template = templates
                        .get(spec.config_hash.as_str())
                        .cloned()
                        .unwrap_or_else(|| {
                            panic!(
                                "the plan holds no launch template for configuration {}",
                                spec.config_hash
                            )
                        });
                    (
                        agent,
                        Launchable {
                            config_hash: spec.config_hash.clone(),
                            template,
                            restored: false,
                        },
                    )
                }),
                may_move,
                move_constraints,
                phase: Phase::Waiting,
                attempts: 0,
                old_ended: false,
                new_task: None,
                last_shortfall: None,
            })
        })
        .collect();
    // Masters in the plan's rollout order (standbys before the leader).
    let master_rank = |s: &Step| {
        plan.rollout
            .master_order
            .iter()
            .position(|a| *a == s.address)
            .unwrap_or(usize::MAX)
    };
    steps.sort_by(|a, b| {
        a.group()
            .cmp(&b.group())
            .then(master_rank(a).cmp(&master_rank(b)))
            .then(a.address.cmp(&b.address))
    });
    steps
}

/// A failed replacement halts the rolling replacement: with a bad new
/// configuration, going on would take every task down one batch at a
/// time. Launches into empty slots go on.
pub(super) fn halt_after_failed_replacement(steps: &mut [Step]) {
    let failed = steps
        .iter()
        .find(|s| s.disrupts() && matches!(s.phase, Phase::Failed(_)))
        .map(|s| (s.address.clone(), s.action));
    let Some((failed, action)) = failed else {
        return;
    };
    let why = if action == ROLL_BACK {
        format!("not started: rolling back {failed} failed, so the rollback stopped; the running task was left as is")
    } else {
        format!("not started: the replacement of {failed} failed, so the rolling replacement stopped; the running task was left as is")
    };
    for s in steps.iter_mut() {
        if s.disrupts() && s.phase == Phase::Waiting {
            s.phase = Phase::Halted(why.clone());
        }
    }
}

/// After a failed replacement, the steps that put the last applied
/// configuration back on every slot this run replaced, the failed ones
/// first among equals. They run as replacements do: masters one at a
/// time, workers in batches of `max_unavailable`, each killing the new
/// task (unless it already ended) and relaunching the old
/// configuration from its launch template on the old agent. A slot
/// whose old configuration cannot be relaunched is reported and left.
pub(super) fn rollback_steps(
    steps: &[Step],
    templates: &BTreeMap<String, LaunchTemplate>,
    site: &SiteProperties,
    hasher: &SecretHasher,
) -> Vec<Step> {
    let failed = steps
        .iter()
        .any(|s| s.disrupts() && matches!(s.phase, Phase::Failed(_)));
    let replaced: Vec<&Step> = steps
        .iter()
        .filter(|s| s.replaced_old() && matches!(s.phase, Phase::Done(_) | Phase::Failed(_)))
        .collect();
    if !failed || replaced.is_empty() {
        return Vec::new();
    }
    let shared = shared_templates(templates);
    let mut back: Vec<Step> = replaced
        .into_iter()
        .map(|s| {
            let old = s.old.as_ref().expect("a replacement has an old task");
            // A worker's slot is named after its agent, also when the
            // new task moved elsewhere.
            let address = match &s.address {
                Address::Worker(_) => Address::Worker(old.agent.hostname.clone()),
                master => master.clone(),
            };
            let template = old
                .config_hash
                .as_ref()
                .and_then(|h| Some((h.clone(), shared.get(h.as_str())?.clone())));
            let unrestorable = match &template {
                None => Some("not rolled back: the state file holds no launch template of its previous configuration (it was launched by an older version)".to_string()),
                Some((_, t)) => template::restore_properties(t, site, hasher)
                    .err()
                    .map(|e| format!("not rolled back: {e}")),
            };
            let kill = s.new_task.as_ref().filter(|n| !n.ended).map(|n| ExistingTask {
                task_id: n.task_id.clone(),
                agent: n.agent.clone(),
                state: Some(TaskState::Running),
                cpus: 0.0,
                mem_mb: 0.0,
                ports: Vec::new(),
                config_hash: None,
                executor: None,
            });
            Step {
                address,
                action: ROLL_BACK,
                old: kill,
                launch: template.map(|(config_hash, t)| {
                    (
                        old.agent.clone(),
                        Launchable {
                            config_hash,
                            template: t,
                            restored: true,
                        },
                    )
                }),
                may_move: false,
                move_constraints: None,
                phase: unrestorable.map_or(Phase::Waiting, Phase::Halted),
                attempts: 0,
                old_ended: false,
                new_task: None,
                last_shortfall: None,
            }
        })
        .collect();
    // Slots left empty by a failure first, then by group and address.
    back.sort_by(|a, b| {
        a.group()
            .cmp(&b.group())
            .then(a.old.is_some().cmp(&b.old.is_some()))
            .then(a.address.cmp(&b.address))
    });
    back
}

/// Steps that may start now:
/// - kills (excess and stopped tasks) first, all at once: launches need
///   the resources they free;
/// - then masters, one at a time in the plan's order;
/// - workers launched into empty slots take nothing away, so they start at
///   once, already while masters start when `workers_may_launch` (ZooKeeper
///   on, or the master they are pointed at runs);
/// - workers that replace (or roll back) a running task go once the
///   masters are done, at most `max_unavailable` in flight: a sliding
///   window, each finished one letting the next start.
pub(super) fn startable(
    steps: &[Step],
    max_unavailable: u32,
    workers_may_launch: bool,
) -> Vec<usize> {
    let unfinished_group = steps
        .iter()
        .filter(|s| !s.finished())
        .map(Step::group)
        .min();
    let Some(group) = unfinished_group else {
        return Vec::new();
    };
    let mut master_busy = steps.iter().any(|s| s.group() == 1 && s.in_flight());
    let mut replacing = steps
        .iter()
        .filter(|s| s.in_flight() && s.disrupts())
        .count();
    let replace_limit = max_unavailable.max(1) as usize;
    let mut out = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        if s.phase != Phase::Waiting {
            continue;
        }
        let may = match s.group() {
            0 => group == 0,
            1 if group == 1 && !master_busy => {
                master_busy = true;
                true
            }
            1 => false,
            _ if s.disrupts() => {
                let may = group == 2 && replacing < replace_limit;
                replacing += usize::from(may);
                may
            }
            _ => group == 2 || (group == 1 && workers_may_launch),
        };
        if may {
            out.push(i);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(host: &str) -> AgentRef {
        AgentRef {
            id: format!("id-{host}"),
            hostname: host.to_string(),
        }
    }

    /// A planned configuration ("new") of a master.
    fn planned() -> Launchable {
        Launchable {
            config_hash: "new".to_string(),
            template: Arc::new(LaunchTemplate {
                role: Role::Master,
                task_info: serde_json::json!({ "name": "AlluxioMaster" }),
                resources: crate::state::TaskResources {
                    cpus: 1.0,
                    mem_mb: 1024.0,
                    ramdisk_mb: 0.0,
                },
                ports: vec![19998, 19999],
                site_properties: BTreeMap::new(),
            }),
            restored: false,
        }
    }

    /// A step for `address`: replacing a running task on `old_host` (when
    /// given) by a new one there, or killing it when `launch` is false.
    fn step(address: Address, old_host: Option<&str>, launch: bool) -> Step {
        let host = old_host.unwrap_or("empty.example.com");
        Step {
            action: "replace",
            old: old_host.map(|h| ExistingTask {
                task_id: format!("old-{address}"),
                agent: agent(h),
                state: Some(TaskState::Running),
                cpus: 1.0,
                mem_mb: 1024.0,
                ports: vec![19998, 19999],
                config_hash: Some("old".to_string()),
                executor: None,
            }),
            launch: launch.then(|| (agent(host), planned())),
            address,
            may_move: false,
            move_constraints: None,
            phase: Phase::Waiting,
            attempts: 0,
            old_ended: false,
            new_task: None,
            last_shortfall: None,
        }
    }

    fn order(steps: &[Step]) -> Vec<String> {
        steps.iter().map(|s| s.address.to_string()).collect()
    }

    /// A kill, three master replacements and a worker, as `steps_from` orders them.
    fn plan_steps() -> Vec<Step> {
        vec![
            step(Address::Worker("gone".into()), Some("gone"), false),
            step(Address::Master(0), Some("m0.example.com"), true),
            step(Address::Master(1), Some("m1.example.com"), true),
            step(Address::Master(2), Some("m2.example.com"), true),
            step(Address::Worker("w1".into()), Some("w1"), true),
        ]
    }

    fn workers(n: usize) -> Vec<Step> {
        (1..=n)
            .map(|i| {
                step(
                    Address::Worker(format!("w{i}")),
                    Some(&format!("w{i}")),
                    true,
                )
            })
            .collect()
    }

    #[test]
    fn replacements_start_within_max_unavailable_as_a_sliding_window() {
        let mut steps = workers(5);
        assert_eq!(startable(&steps, 2, true), [0, 1]);
        steps[0].phase = Phase::Killing {
            task_id: "old-w1".into(),
            since: Instant::now(),
        };
        steps[1].phase = Phase::Done("replaced".into());
        // One still in flight, one done: the next one starts at once.
        assert_eq!(startable(&steps, 2, true), [2]);
        let mut steps = plan_steps();
        // The kill first, alone in its group; then one master at a time.
        assert_eq!(startable(&steps, 10, true), [0]);
        steps[0].phase = Phase::Done("killed".into());
        assert_eq!(startable(&steps, 10, true), [1]);
    }

    /// A master replacement and workers launched into empty slots.
    fn master_and_fresh_workers() -> Vec<Step> {
        let mut steps = vec![step(Address::Master(0), Some("m0"), true)];
        for i in 1..=3 {
            steps.push(step(Address::Worker(format!("w{i}")), None, true));
        }
        steps
    }

    #[test]
    fn fresh_workers_start_at_once_and_with_the_masters_when_they_may() {
        let steps = master_and_fresh_workers();
        // Workers pointed at a master that is not running yet wait for it.
        assert_eq!(startable(&steps, 1, false), [0]);
        // Without that dependency they launch with the master, all at once.
        assert_eq!(startable(&steps, 1, true), [0, 1, 2, 3]);
        let mut steps = master_and_fresh_workers();
        steps[0].phase = Phase::Done("running".into());
        assert_eq!(startable(&steps, 1, false), [1, 2, 3]);
    }

    #[test]
    fn worker_replacements_wait_for_the_masters() {
        let mut steps = vec![step(Address::Master(0), Some("m0"), true)];
        steps.extend(workers(2));
        assert_eq!(startable(&steps, 2, true), [0]);
        steps[0].phase = Phase::Done("running".into());
        assert_eq!(startable(&steps, 2, true), [1, 2]);
    }

    #[test]
    fn a_failed_replacement_halts_the_waiting_ones() {
        let mut steps = workers(3);
        steps[0].phase = Phase::Failed("TASK_FAILED".into());
        halt_after_failed_replacement(&mut steps);
        assert!(steps[1..].iter().all(|s| matches!(
            &s.phase,
            Phase::Halted(why) if why.contains("the replacement of worker[\"w1\"] failed")
        )));
    }

    /// A template of the "old" configuration, as the state file keeps it.
    fn old_template() -> BTreeMap<String, LaunchTemplate> {
        let template = LaunchTemplate {
            role: Role::Worker,
            task_info: serde_json::json!({"name": "AlluxioWorker"}),
            resources: crate::state::TaskResources {
                cpus: 1.0,
                mem_mb: 2048.0,
                ramdisk_mb: 1024.0,
            },
            ports: vec![29998],
            site_properties: BTreeMap::new(),
        };
        BTreeMap::from([("old".to_string(), template)])
    }

    fn rollback(steps: &[Step], templates: &BTreeMap<String, LaunchTemplate>) -> Vec<Step> {
        let d = crate::plan::tests::desired();
        let h = crate::plan::secret_hasher(&d, None);
        rollback_steps(steps, templates, &d.site, &h)
    }

    #[test]
    fn a_rollback_kills_running_new_tasks_and_relaunches_the_old_configuration() {
        let mut steps = workers(3);
        for (i, s) in steps.iter_mut().enumerate() {
            s.old_ended = true;
            s.new_task = Some(NewTask {
                task_id: format!("new-{i}"),
                agent: agent(&format!("w{}", i + 1)),
                ended: i == 2,
                first_status_ms: None,
            });
        }
        steps[0].phase = Phase::Done("running".into());
        steps[1].phase = Phase::Done("running".into());
        steps[2].phase = Phase::Failed("TASK_FAILED".into());
        let back = rollback(&steps, &old_template());
        // The slot the failure emptied first: nothing to kill there.
        assert_eq!(
            order(&back),
            ["worker[\"w3\"]", "worker[\"w1\"]", "worker[\"w2\"]"]
        );
        assert!(back[0].old.is_none());
        assert_eq!(back[1].old.as_ref().unwrap().task_id, "new-0");
        for s in &back {
            assert_eq!(s.action, ROLL_BACK);
            assert_eq!(s.phase, Phase::Waiting);
            let (to, what) = s.launch.as_ref().unwrap();
            assert_eq!(s.address, Address::Worker(to.hostname.clone()));
            assert_eq!(what.config_hash, "old");
            assert!(what.restored);
            assert!(s.disrupts());
        }
    }

    #[test]
    fn no_rollback_without_a_failure_and_none_without_a_template() {
        let mut steps = workers(2);
        for s in steps.iter_mut() {
            s.old_ended = true;
            s.phase = Phase::Done("running".into());
        }
        assert!(rollback(&steps, &old_template()).is_empty());
        steps[1].phase = Phase::Failed("TASK_FAILED".into());
        let back = rollback(&steps, &BTreeMap::new());
        assert_eq!(back.len(), 2);
        assert!(back.iter().all(|s| matches!(
            &s.phase,
            Phase::Halted(why) if why.contains("no launch template")
        )));
    }
}
