//! Text plans in Terraform's manner, for terminals and logs.

use super::group::{self, agent_list, group_changes, group_rejections, thousands, SMALL};
use super::{summary_line, symbol, verb, visible_changes, Options};
use crate::fit::fmt_num as num;
use crate::plan::model::{Action, Change, ExistingTask, PlacementFailure, TaskSpec};
use crate::plan::Plan;
use std::fmt::Write;

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn green(&self, s: &str) -> String {
        self.wrap("32", s)
    }
    fn red(&self, s: &str) -> String {
        self.wrap("31", s)
    }
    fn yellow(&self, s: &str) -> String {
        self.wrap("33", s)
    }
    fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
    fn for_action(&self, a: &Action, s: &str) -> String {
        match a {
            Action::Launch { .. } => self.green(s),
            Action::Kill { .. } => self.red(s),
            Action::Replace { .. } => self.yellow(s),
            Action::NoOp { .. } => s.to_string(),
        }
    }
}

fn spec_lines(out: &mut String, before: Option<&ExistingTask>, spec: &TaskSpec) {
    let (cpus, mem, ports) = group::spec_values(before, spec);
    let _ = writeln!(out, "      cpus:     {cpus}");
    let _ = writeln!(out, "      mem:      {mem}");
    let _ = writeln!(out, "      ports:    {ports}");
    let _ = writeln!(out, "      install:  {}", spec.install);
    if let Some(e) = spec.executor {
        let _ = writeln!(
            out,
            "      executor: {} cpus, {}MB (held beside the task; counted in the fit)",
            num(e.cpus),
            num(e.mem_mb)
        );
    }
}

fn task_line(t: &ExistingTask) -> String {
    let state = t.state.map(|s| s.as_str()).unwrap_or("unknown to Mesos");
    format!("{} ({state}) on {}", t.task_id, t.agent.hostname)
}

fn change_block(out: &mut String, c: &Change, p: &Paint) {
    let head = format!("# {} will be {}", c.address, verb(&c.action));
    let _ = writeln!(out, "  {}", p.bold(&head));
    let _ = writeln!(
        out,
        "  {} {}",
        p.for_action(&c.action, symbol(&c.action)),
        c.address
    );
    if let Some(before) = c.action.before() {
        let _ = writeln!(out, "      task:     {}", task_line(before));
    }
    if let Some((agent, spec)) = c.action.after() {
        let _ = writeln!(out, "      agent:    {} ({})", agent.hostname, agent.id);
        spec_lines(out, c.action.before(), spec);
    }
    because(out, &c.reasons);
    out.push('\n');
}

fn because(out: &mut String, reasons: &[String]) {
    match reasons {
        [] => {}
        [one] => {
            let _ = writeln!(out, "      because:  {one}");
        }
        many => {
            let _ = writeln!(out, "      because:");
            for r in many {
                let _ = writeln!(out, "        - {r}");
            }
        }
    }
}

/// Changes that differ only in their agent, in a few lines.
fn group_block(out: &mut String, g: &group::ChangeGroup<'_>, p: &Paint) {
    let c = g.first();
    let _ = writeln!(
        out,
        "  {} {}",
        p.for_action(&c.action, symbol(&c.action)),
        p.bold(&g.headline())
    );
    because(out, &g.reasons);
    let _ = writeln!(out, "      agents:   {}", agent_list(&g.hostnames()));
    out.push('\n');
}

fn failure_block(out: &mut String, f: &PlacementFailure, p: &Paint, detail: bool) {
    let _ = writeln!(out, "  {} {}", p.red("x"), f.summary);
    if detail || f.agents.len() <= SMALL {
        for r in &f.agents {
            let _ = writeln!(
                out,
                "      {} ({}): {}",
                r.agent.hostname,
                r.agent.id,
                r.reasons.join("; ")
            );
        }
    } else {
        for g in group_rejections(f) {
            let _ = writeln!(
                out,
                "      {} agent(s): {}",
                thousands(g.agents.len()),
                g.cause_line()
            );
            let _ = writeln!(out, "        {}", agent_list(&g.hostnames()));
        }
        if group::has_agents_with_several_causes(f) {
            let _ = writeln!(out, "      ({})", group::SEVERAL_CAUSES_NOTE);
        }
    }
    if !f.remedies.is_empty() {
        let _ = writeln!(out, "    To fix:");
        for r in &f.remedies {
            let _ = writeln!(out, "      - {r}");
        }
    }
}

/// Every change one by one with `--detail` or when there are few; else
/// changes that differ only in their agent as one group.
pub fn render(plan: &Plan, opts: &Options) -> String {
    let p = Paint { on: opts.color };
    let mut out = String::new();
    let changes: Vec<&Change> = visible_changes(plan).collect();
    if !changes.is_empty() || plan.takeover.is_some() {
        let _ = writeln!(
            out,
            "alluxio-mesos will perform the following actions on deployment {:?}:\n",
            plan.deployment
        );
        if let Some(t) = &plan.takeover {
            let _ = writeln!(out, "  {}", p.bold(&format!("# {}", t.headline())));
            let _ = writeln!(out, "  {} framework {}", p.red("-"), t.framework_id);
            for line in t.details() {
                let _ = writeln!(out, "      {line}");
            }
            out.push('\n');
        }
        if opts.detail || changes.len() <= SMALL {
            for c in changes {
                change_block(&mut out, c, &p);
            }
        } else {
            for g in group_changes(plan) {
                match g.changes.as_slice() {
                    [one] => change_block(&mut out, one, &p),
                    _ => group_block(&mut out, &g, &p),
                }
            }
        }
        let _ = writeln!(out, "Rollout: {}.\n", plan.rollout.describe());
    }
    let unchanged = plan.changes.len() - visible_changes(plan).count();
    if unchanged > 0 {
        let _ = writeln!(out, "{unchanged} task(s) unchanged.\n");
    }
    if !plan.placement_failures.is_empty() {
        let _ = writeln!(out, "{}", p.bold("Placement failures:"));
        for f in &plan.placement_failures {
            failure_block(&mut out, f, &p, opts.detail);
        }
        out.push('\n');
    }
    if !plan.config_diff.is_empty() {
        let _ = writeln!(out, "{}", p.bold("Site properties:"));
        for line in plan.config_diff.lines() {
            let painted = if line.starts_with('+') && !line.starts_with("+++") {
                p.green(line)
            } else if line.starts_with('-') && !line.starts_with("---") {
                p.red(line)
            } else {
                line.to_string()
            };
            let _ = writeln!(out, "  {painted}");
        }
        out.push('\n');
    }
    for n in &plan.config_notes {
        let _ = writeln!(out, "Note: {n}");
    }
    let (warnings, more) = group::warnings_shown(plan, opts.detail);
    for w in warnings {
        let _ = writeln!(out, "{} {w}", p.yellow("Warning:"));
    }
    if more > 0 {
        let _ = writeln!(
            out,
            "{} {} more warning(s) not shown: every one with --detail or --format json",
            p.yellow("Warning:"),
            thousands(more)
        );
    }
    if !plan.config_notes.is_empty() || !plan.warnings.is_empty() {
        out.push('\n');
    }
    let _ = writeln!(out, "{}", p.bold(&summary_line(plan)));
    out
}
