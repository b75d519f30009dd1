//! What the text, Markdown and HTML renderings share beyond the plan's own
//! wording: changes that differ only in their agent form one group, agents
//! rejected for the same causes form one group, and long agent lists are
//! compressed. The reasons themselves are the plan's (made by the planner);
//! a group shows them with the agent's name taken out.

use crate::address::{Address, Role};
use crate::fit::{fmt_mem, fmt_num, fmt_ports};
use crate::plan::model::{
    Action, AgentRejection, Change, ExistingTask, PlacementFailure, TaskSpec,
};
use crate::plan::Plan;
use std::collections::HashMap;

/// Plans with at most this many changes show them one by one, as do
/// failures with at most this many agents: grouping pays off beyond.
pub const SMALL: usize = 10;

/// Where a reviewer finds what a grouped rendering leaves out.
pub const FULL_LIST_HINT: &str = "full list: `alluxio-mesos show PLANFILE --format json`";

/// Changes that differ only in their agent (masters are never grouped).
pub struct ChangeGroup<'a> {
    pub changes: Vec<&'a Change>,
    /// The reasons of the first change with its agent and address taken out.
    pub reasons: Vec<String>,
}

impl<'a> ChangeGroup<'a> {
    pub fn first(&self) -> &'a Change {
        self.changes[0]
    }

    /// `+ 8,190 workers will be launched (...)`, without the symbol.
    pub fn headline(&self) -> String {
        let c = self.first();
        let n = self.changes.len();
        let role = match (c.role(), n) {
            (Role::Master, 1) => "master",
            (Role::Master, _) => "masters",
            (Role::Worker, 1) => "worker",
            (Role::Worker, _) => "workers",
        };
        format!(
            "{} {role} will be {} ({})",
            thousands(n),
            super::verb(&c.action),
            describe_change(&c.action)
        )
    }

    pub fn hostnames(&self) -> Vec<&'a str> {
        self.changes
            .iter()
            .map(|c| c.action.agent().hostname.as_str())
            .collect()
    }
}

/// The visible changes in plan order, those that differ only in their
/// agent together (in the order of their first member).
pub fn group_changes(plan: &Plan) -> Vec<ChangeGroup<'_>> {
    let mut groups: Vec<ChangeGroup<'_>> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for c in super::visible_changes(plan) {
        let reasons: Vec<String> = c.reasons.iter().map(|r| generalize(r, c)).collect();
        if c.role() == Role::Master {
            groups.push(ChangeGroup {
                changes: vec![c],
                reasons,
            });
            continue;
        }
        let key = format!(
            "{}\u{0}{}\u{0}{}\u{0}{}",
            c.action.name(),
            describe_change(&c.action),
            c.may_move,
            reasons.join("\u{0}")
        );
        match index.get(&key) {
            Some(&i) => groups[i].changes.push(c),
            None => {
                index.insert(key, groups.len());
                groups.push(ChangeGroup {
                    changes: vec![c],
                    reasons,
                });
            }
        }
    }
    groups
}

/// A reason with the change's agent and address taken out, so that
/// changes that differ only there read the same.
pub fn generalize(reason: &str, c: &Change) -> String {
    let mut hosts = vec![c.action.agent().hostname.as_str()];
    if let Some(before) = c.action.before() {
        hosts.push(before.agent.hostname.as_str());
    }
    let mut out = reason.to_string();
    let address = c.address.to_string();
    if matches!(c.address, Address::Worker(_)) {
        out = out.replace(&address, "the worker");
    }
    for h in hosts {
        out = replace_name(&out, h).replace("agent the agent", "the agent");
    }
    out
}

/// `name` replaced by "the agent" where it stands alone, not inside a
/// longer name (host `a1` in `a10`, or in a word).
fn replace_name(text: &str, name: &str) -> String {
    let part_of_name = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(name) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + name.len()..].chars().next();
        let alone = !before.is_some_and(part_of_name)
            && !after.is_some_and(|c| {
                part_of_name(c)
                    || (c == '.' && rest[i + name.len() + 1..].starts_with(part_of_name))
            });
        out.push_str(&rest[..i]);
        out.push_str(if alone { "the agent" } else { name });
        rest = &rest[i + name.len()..];
    }
    out.push_str(rest);
    out
}

/// What the change launches or kills, one line: cpus, memory, ports and
/// install, `old -> new` where a replacement changes them.
pub fn describe_change(action: &Action) -> String {
    match (action.before(), action.after()) {
        (before, Some((_, spec))) => describe_spec(before, spec),
        (Some(before), None) => format!(
            "{} cpu{}, {}MB, ports {}",
            fmt_num(before.cpus),
            plural_s(before.cpus),
            fmt_num(before.mem_mb),
            fmt_ports(&before.ports)
        ),
        (None, None) => String::new(),
    }
}

fn plural_s(cpus: f64) -> &'static str {
    if (cpus - 1.0).abs() < 1e-9 {
        ""
    } else {
        "s"
    }
}

fn describe_spec(before: Option<&ExistingTask>, spec: &TaskSpec) -> String {
    let (cpus, mem, ports) = spec_values(before, spec);
    format!(
        "{cpus} cpu{}, {mem}, ports {ports}, {}",
        plural_s(spec.cpus),
        spec.install
    )
}

/// cpus, memory and ports of what a change launches, each `old -> new`
/// when the task it replaces had other values.
pub fn spec_values(before: Option<&ExistingTask>, spec: &TaskSpec) -> (String, String, String) {
    let changed = |old: String, new: String| -> String {
        if old == new {
            new
        } else {
            format!("{old} -> {new}")
        }
    };
    let new_cpus = fmt_num(spec.cpus);
    let new_mem = fmt_mem(spec.jvm_mem_mb, spec.ramdisk_mb);
    let new_ports = fmt_ports(&spec.ports);
    match before {
        Some(b) => {
            let mem = if (b.mem_mb - spec.mem_mb()).abs() > 1e-6 {
                format!("{}MB -> {new_mem}", fmt_num(b.mem_mb))
            } else {
                new_mem
            };
            (
                changed(fmt_num(b.cpus), new_cpus),
                mem,
                changed(fmt_ports(&b.ports), new_ports),
            )
        }
        None => (new_cpus, new_mem, new_ports),
    }
}

/// Agents of one placement failure rejected for the same causes.
pub struct CauseGroup<'a> {
    pub causes: Vec<String>,
    pub agents: Vec<&'a AgentRejection>,
}

impl CauseGroup<'_> {
    pub fn cause_line(&self) -> String {
        self.causes.join("; ")
    }

    pub fn hostnames(&self) -> Vec<&str> {
        self.agents
            .iter()
            .map(|r| r.agent.hostname.as_str())
            .collect()
    }
}

/// A failure's agents under each of their causes (an agent that lacks two
/// things is under both), most agents first (ties: first seen).
pub fn group_rejections(f: &PlacementFailure) -> Vec<CauseGroup<'_>> {
    group_by(f, |r| r.causes().iter().map(|c| vec![c.clone()]).collect())
}

/// A failure's agents by their whole set of causes: each agent in one group.
pub fn group_rejections_by_cause_set(f: &PlacementFailure) -> Vec<CauseGroup<'_>> {
    group_by(f, |r| vec![r.causes().to_vec()])
}

/// Whether some agent of the failure has more than one cause.
pub fn has_agents_with_several_causes(f: &PlacementFailure) -> bool {
    f.agents.iter().any(|r| r.causes().len() > 1)
}

fn group_by<'a>(
    f: &'a PlacementFailure,
    keys: impl Fn(&AgentRejection) -> Vec<Vec<String>>,
) -> Vec<CauseGroup<'a>> {
    let mut groups: Vec<CauseGroup<'a>> = Vec::new();
    let mut index: HashMap<Vec<String>, usize> = HashMap::new();
    for r in &f.agents {
        for causes in keys(r) {
            match index.get(&causes) {
                Some(&i) => groups[i].agents.push(r),
                None => {
                    index.insert(causes.clone(), groups.len());
                    groups.push(CauseGroup {
                        causes,
                        agents: vec![r],
                    });
                }
            }
        }
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.agents.len()));
    groups
}

/// Said under per-cause counts when an agent may be counted twice.
pub const SEVERAL_CAUSES_NOTE: &str = "an agent that lacks several things is counted under each";

/// The warnings shown whole (all with `--detail`), and how many more
/// there are: a thousand stray tasks are a thousand warnings, which would
/// bury the plan.
pub fn warnings_shown(plan: &Plan, detail: bool) -> (&[String], usize) {
    let n = if detail {
        plan.warnings.len()
    } else {
        plan.warnings.len().min(SMALL)
    };
    (&plan.warnings[..n], plan.warnings.len() - n)
}

/// `8,190`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A hostname split around its last run of digits, for ranges.
fn numbered(host: &str) -> Option<(&str, u64, usize, &str)> {
    let end = host.rfind(|c: char| c.is_ascii_digit())? + 1;
    let start = host[..end]
        .rfind(|c: char| !c.is_ascii_digit())
        .map_or(0, |i| i + 1);
    let n = host[start..end].parse().ok()?;
    Some((&host[..start], n, end - start, &host[end..]))
}

/// Runs of consecutively numbered hostnames, each `(first, last)`, in
/// numeric order (`a9` before `a10`).
fn runs<'a>(hosts: &[&'a str]) -> Vec<(&'a str, &'a str)> {
    let mut sorted = hosts.to_vec();
    sorted.sort_unstable_by(|a, b| match (numbered(a), numbered(b)) {
        (Some((p, n, _, s)), Some((p2, n2, _, s2))) => (p, s, n).cmp(&(p2, s2, n2)).then(a.cmp(b)),
        _ => a.cmp(b),
    });
    // Zero-padded numbers keep their width: agent009 is not followed by agent0010.
    let padded = |w: usize, n: u64| w > 1 && n < 10u64.pow(w as u32 - 1);
    let mut out: Vec<(&str, &str)> = Vec::new();
    for h in sorted {
        if let Some(last) = out.last_mut() {
            if let (Some((p, n, w, s)), Some((p2, n2, w2, s2))) = (numbered(last.1), numbered(h)) {
                let width_ok = w == w2 || (!padded(w, n) && !padded(w2, n2));
                if p == p2 && s == s2 && n2 == n + 1 && width_ok {
                    last.1 = h;
                    continue;
                }
            }
        }
        out.push((h, h));
    }
    out
}

/// A short list of hostnames: all of them when few, else compressed runs
/// (`a01 .. a09`), else the first and last with the count and where to
/// find the full list.
pub fn agent_list(hosts: &[&str]) -> String {
    if hosts.len() <= SMALL {
        return hosts.join(", ");
    }
    let runs = runs(hosts);
    let count = format!("{} agents", thousands(hosts.len()));
    if runs.len() <= 4 {
        let shown: Vec<String> = runs
            .iter()
            .map(|(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a} .. {b}")
                }
            })
            .collect();
        return format!("{}, {count}", shown.join(", "));
    }
    format!(
        "{} .. {}, {count}; {FULL_LIST_HINT}",
        runs[0].0,
        runs[runs.len() - 1].1
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_names_are_taken_out_only_where_they_stand_alone() {
        assert_eq!(
            replace_name("a1 lost; a10 runs; data1 fine; on a1.", "a1"),
            "the agent lost; a10 runs; data1 fine; on the agent."
        );
        assert_eq!(
            replace_name(
                "host a1.example.com, not a1.example.com.au",
                "a1.example.com"
            ),
            "host the agent, not a1.example.com.au"
        );
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(6667), "6,667");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn agent_lists_compress_runs_and_say_the_count() {
        let hosts: Vec<String> = (0..20)
            .map(|i| format!("agent{i:05}.example.com"))
            .collect();
        let refs: Vec<&str> = hosts.iter().map(String::as_str).collect();
        assert_eq!(
            agent_list(&refs),
            "agent00000.example.com .. agent00019.example.com, 20 agents"
        );
        let unpadded: Vec<String> = (1..=40).map(|i| format!("a{i}")).collect();
        let unpadded: Vec<&str> = unpadded.iter().map(String::as_str).collect();
        assert_eq!(agent_list(&unpadded), "a1 .. a40, 40 agents");
        let few: Vec<&str> = refs.iter().step_by(2).copied().collect();
        assert_eq!(
            agent_list(&few),
            few.join(", "),
            "ten or fewer: all of them"
        );
        let many: Vec<String> = (0..300).map(|i| format!("agent{:05}", i * 3)).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(
            agent_list(&refs),
            format!("agent00000 .. agent00897, 300 agents; {FULL_LIST_HINT}")
        );
    }
}
