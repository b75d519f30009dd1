//! The plan JSON contract, `format_version` "1" (see docs/plan-json.md).
//!
//! Built from view structs rather than the plan model's derive, so that the
//! model can change without breaking the contract. Field order is fixed.

use crate::plan::model::{self, ExistingTask, TaskSpec, FORMAT_VERSION};
use crate::plan::{AgentRef, Plan, Summary};
use serde::Serialize;

#[derive(Serialize)]
struct PlanJson<'a> {
    format_version: &'static str,
    deployment: &'a str,
    destroy: bool,
    targeting: Option<TargetingJson>,
    takeover: Option<TakeoverJson<'a>>,
    changes: Vec<ChangeJson<'a>>,
    placement_failures: Vec<FailureJson<'a>>,
    config_diff: &'a str,
    config_notes: &'a [String],
    warnings: &'a [String],
    rollout: &'a model::Rollout,
    launch_templates: &'a std::collections::BTreeMap<String, crate::state::LaunchTemplate>,
    master_ports: model::MasterPorts,
    summary: Summary,
}

#[derive(Serialize)]
struct TargetingJson {
    targets: Vec<String>,
    needed: Vec<String>,
    left_out: u32,
}

#[derive(Serialize)]
struct TakeoverJson<'a> {
    framework_id: &'a str,
    framework_name: &'a str,
    tasks: Vec<TakenOverJson<'a>>,
    operator: Option<&'a str>,
}

#[derive(Serialize)]
struct TakenOverJson<'a> {
    name: &'a str,
    #[serde(flatten)]
    task: BeforeJson<'a>,
}

#[derive(Serialize)]
struct ChangeJson<'a> {
    address: String,
    role: &'static str,
    action: &'static str,
    reasons: &'a [String],
    /// The existing task (kill, replace, no-op); null for a launch.
    task_id: Option<&'a str>,
    /// Where the change happens: the new agent for launches and replacements.
    agent: &'a AgentRef,
    before: Option<BeforeJson<'a>>,
    after: Option<AfterJson<'a>>,
    may_move: bool,
}

#[derive(Serialize)]
struct BeforeJson<'a> {
    task_id: &'a str,
    agent: &'a AgentRef,
    state: Option<&'static str>,
    cpus: f64,
    mem_mb: f64,
    ports: &'a [u16],
    config_hash: Option<&'a str>,
}

#[derive(Serialize)]
struct AfterJson<'a> {
    name: &'a str,
    cpus: f64,
    mem_mb: f64,
    jvm_mem_mb: f64,
    ramdisk_mb: f64,
    ports: &'a [u16],
    install: &'a str,
    config_hash: &'a str,
    executor: Option<crate::fit::ExecutorShare>,
}

#[derive(Serialize)]
struct FailureJson<'a> {
    address: Option<String>,
    role: &'static str,
    summary: &'a str,
    unplaced: u32,
    agents: Vec<RejectionJson<'a>>,
    remedies: &'a [String],
}

#[derive(Serialize)]
struct RejectionJson<'a> {
    id: &'a str,
    hostname: &'a str,
    reasons: &'a [String],
    causes: &'a [String],
}

fn before(t: &ExistingTask) -> BeforeJson<'_> {
    BeforeJson {
        task_id: &t.task_id,
        agent: &t.agent,
        state: t.state.map(|s| s.as_str()),
        cpus: t.cpus,
        mem_mb: t.mem_mb,
        ports: &t.ports,
        config_hash: t.config_hash.as_deref(),
    }
}

fn after(t: &TaskSpec) -> AfterJson<'_> {
    AfterJson {
        name: &t.name,
        cpus: t.cpus,
        mem_mb: t.mem_mb(),
        jvm_mem_mb: t.jvm_mem_mb,
        ramdisk_mb: t.ramdisk_mb,
        ports: &t.ports,
        install: &t.install,
        config_hash: &t.config_hash,
        executor: t.executor,
    }
}

fn change(c: &model::Change) -> ChangeJson<'_> {
    ChangeJson {
        address: c.address.to_string(),
        role: c.role().as_str(),
        action: c.action.name(),
        reasons: &c.reasons,
        task_id: c.action.before().map(|b| b.task_id.as_str()),
        agent: c.action.agent(),
        before: c.action.before().map(before),
        after: c.action.after().map(|(_, spec)| after(spec)),
        may_move: c.may_move,
    }
}

/// The plan's JSON document, written to `w` as it is made.
pub fn write(plan: &Plan, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    let view = PlanJson {
        format_version: FORMAT_VERSION,
        deployment: &plan.deployment,
        destroy: plan.destroy,
        targeting: plan.targeting.as_ref().map(|t| TargetingJson {
            targets: t.targets.iter().map(ToString::to_string).collect(),
            needed: t.needed.iter().map(ToString::to_string).collect(),
            left_out: t.left_out,
        }),
        takeover: plan.takeover.as_ref().map(|t| TakeoverJson {
            framework_id: &t.framework_id,
            framework_name: &t.framework_name,
            tasks: t
                .tasks
                .iter()
                .map(|(name, task)| TakenOverJson {
                    name,
                    task: before(task),
                })
                .collect(),
            operator: t.operator.as_deref(),
        }),
        changes: plan.changes.iter().map(change).collect(),
        placement_failures: plan
            .placement_failures
            .iter()
            .map(|f| FailureJson {
                address: f.address.as_ref().map(|a| a.to_string()),
                role: f.role.as_str(),
                summary: &f.summary,
                unplaced: f.unplaced,
                agents: f
                    .agents
                    .iter()
                    .map(|r| RejectionJson {
                        id: &r.agent.id,
                        hostname: &r.agent.hostname,
                        reasons: &r.reasons,
                        causes: r.causes(),
                    })
                    .collect(),
                remedies: &f.remedies,
            })
            .collect(),
        config_diff: &plan.config_diff,
        config_notes: &plan.config_notes,
        warnings: &plan.warnings,
        rollout: &plan.rollout,
        launch_templates: &plan.launch_templates,
        master_ports: plan.master_ports,
        summary: plan.summary(),
    };
    serde_json::to_writer_pretty(&mut *w, &view)?;
    w.write_all(b"\n")
}
