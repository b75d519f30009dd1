//! Markdown plans for pull-request comments: the summary first, details in
//! collapsible sections, at most [`MAX_CHARS`] characters (GitHub refuses
//! longer comments), truncated with a note saying what was left out.

use super::{summary_line, symbol, visible_changes};
use crate::fit::{fmt_mem, fmt_num, fmt_ports};
use crate::plan::Plan;
use std::fmt::Write;

pub const MAX_CHARS: usize = 65_000;

/// Table cells must not break the table.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn render(plan: &Plan) -> String {
    let mut head = String::new();
    let _ = writeln!(head, "### alluxio-mesos plan for `{}`\n", plan.deployment);
    let _ = writeln!(head, "**{}**\n", summary_line(plan));
    if plan.has_changes() {
        let _ = writeln!(head, "Rollout: {}.\n", plan.rollout.describe());
    }
    for w in &plan.warnings {
        let _ = writeln!(head, "> **Warning:** {}\n", cell(w));
    }

    let mut sections: Vec<String> = Vec::new();
    let changes: Vec<_> = visible_changes(plan).collect();
    if !changes.is_empty() {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "<details open><summary>Changes ({})</summary>\n",
            changes.len()
        );
        let _ = writeln!(s, "| | address | agent | cpus | mem | ports | why |");
        let _ = writeln!(s, "|---|---|---|---|---|---|---|");
        for c in changes {
            let (agent, cpus, mem, ports) = match c.action.after() {
                Some((a, spec)) => (
                    a.hostname.clone(),
                    fmt_num(spec.cpus),
                    fmt_mem(spec.jvm_mem_mb, spec.ramdisk_mb),
                    fmt_ports(&spec.ports),
                ),
                None => (
                    c.action.agent().hostname.clone(),
                    String::new(),
                    String::new(),
                    String::new(),
                ),
            };
            let _ = writeln!(
                s,
                "| `{}` | `{}` | {} | {} | {} | {} | {} |",
                symbol(&c.action),
                cell(&c.address.to_string()),
                cell(&agent),
                cpus,
                cell(&mem),
                ports,
                cell(&c.reasons.join("; "))
            );
        }
        s.push_str("\n</details>\n\n");
        sections.push(s);
    }
    if !plan.placement_failures.is_empty() {
        let mut s = String::new();
        let n: u32 = plan.placement_failures.iter().map(|f| f.unplaced).sum();
        let _ = writeln!(
            s,
            "<details><summary>Placement failures ({n} unplaced)</summary>\n"
        );
        for f in &plan.placement_failures {
            let _ = writeln!(s, "**{}**\n", cell(&f.summary));
            for r in &f.agents {
                let _ = writeln!(
                    s,
                    "- `{}` ({}): {}",
                    cell(&r.agent.hostname),
                    cell(&r.agent.id),
                    cell(&r.reasons.join("; "))
                );
            }
            if !f.remedies.is_empty() {
                s.push_str("\nTo fix:\n");
                for r in &f.remedies {
                    let _ = writeln!(s, "- {}", cell(r));
                }
            }
            s.push('\n');
        }
        s.push_str("</details>\n\n");
        sections.push(s);
    }
    if !plan.config_diff.is_empty() || !plan.config_notes.is_empty() {
        let mut s = String::new();
        s.push_str("<details><summary>Site properties diff</summary>\n\n");
        for n in &plan.config_notes {
            let _ = writeln!(s, "_Note: {}_\n", cell(n));
        }
        if !plan.config_diff.is_empty() {
            // A fence longer than any backtick run inside keeps the diff intact.
            let fence = "`".repeat(longest_backtick_run(&plan.config_diff).max(2) + 1);
            let _ = writeln!(s, "{fence}diff\n{}{fence}", plan.config_diff);
        }
        s.push_str("\n</details>\n");
        sections.push(s);
    }
    fit(head, sections)
}

fn longest_backtick_run(s: &str) -> usize {
    s.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// Joins head and sections within [`MAX_CHARS`]; a section that does not fit
/// is cut at a line boundary, its open fence and `<details>` closed, and a
/// note says how many lines were left out.
fn fit(head: String, sections: Vec<String>) -> String {
    let mut out = head;
    let total: usize = out.len() + sections.iter().map(String::len).sum::<usize>();
    if total <= MAX_CHARS {
        for s in sections {
            out.push_str(&s);
        }
        return out;
    }
    const RESERVE: usize = 400; // room for closing tags and the note
    let mut left_out = 0usize;
    for s in sections {
        if left_out > 0 {
            left_out += s.lines().count();
            continue;
        }
        if out.len() + s.len() + RESERVE <= MAX_CHARS {
            out.push_str(&s);
            continue;
        }
        let mut in_fence: Option<String> = None;
        let mut lines = s.lines();
        for line in lines.by_ref() {
            if out.len() + line.len() + 1 + RESERVE > MAX_CHARS {
                left_out += 1;
                break;
            }
            let t = line.trim_start();
            if t.starts_with("```") {
                let ticks: String = t.chars().take_while(|&c| c == '`').collect();
                in_fence = match in_fence {
                    Some(open) if ticks.len() >= open.len() && t.trim_end() == ticks => None,
                    Some(open) => Some(open),
                    None => Some(ticks),
                };
            }
            out.push_str(line);
            out.push('\n');
        }
        left_out += lines.count();
        if let Some(fence) = in_fence {
            let _ = writeln!(out, "{fence}");
        }
        out.push_str("\n</details>\n\n");
    }
    let _ = writeln!(
        out,
        "> **Truncated:** {left_out} line(s) were left out to stay within {MAX_CHARS} characters. Run `alluxio-mesos show PLANFILE` or use `--format json` for the whole plan."
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_sections_are_cut_with_fences_closed_and_a_count() {
        let diff: String = (0..20_000).map(|i| format!("+key{i}=value\n")).collect();
        let section =
            format!("<details><summary>x</summary>\n\n```diff\n{diff}```\n\n</details>\n");
        let out = fit("head\n".into(), vec![section]);
        assert!(out.len() <= MAX_CHARS, "{}", out.len());
        assert!(out.contains("**Truncated:**"));
        let fences = out.matches("```").count();
        assert_eq!(fences % 2, 0, "fences balanced");
        let kept = out.lines().filter(|l| l.starts_with("+key")).count();
        let note = out.lines().last().unwrap();
        let left: usize = note
            .split("** ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        // Every diff line is either shown or counted.
        assert!(kept + left >= 20_000, "{kept} + {left}");
    }
}
