//! Markdown plans for pull-request comments, in the order a reviewer needs
//! them: the summary, what cannot be placed (grouped, with the remedies),
//! the site-properties diff, the rollout, then the changes. A comment has
//! at most [`Options::markdown_limit`] characters (GitHub refuses longer
//! ones): the per-task rows are cut first, then the grouped changes, never
//! the summary, failures or diff, and a note says what was cut and how to
//! see it. [`render_comments`] splits instead, into numbered comments.

use super::group::{self, agent_list, group_changes, group_rejections, thousands, SMALL};
use super::{summary_line, symbol, visible_changes, Options};
use crate::fit::{fmt_num, fmt_ports};
use crate::plan::Plan;
use std::fmt::Write;

/// GitHub's limit on a comment's length, in characters.
pub const GITHUB_LIMIT: usize = 65_536;

/// Room kept for the note that says what was cut, and closing tags.
const RESERVE: usize = 600;

/// Table cells must not break the table.
pub(crate) fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Text outside tables: one line, nothing escaped.
fn inline(s: &str) -> String {
    s.replace('\n', " ")
}

/// A part of the comment: text that opens it, rows, text that closes it.
/// Rows of a cuttable part may be left out; a part split over comments
/// opens and closes again in each.
struct Part {
    open: String,
    rows: Vec<String>,
    close: String,
    /// What its rows are, for the note on what was cut.
    cut_as: Option<&'static str>,
}

impl Part {
    fn fixed(text: String) -> Part {
        Part {
            open: text,
            rows: Vec::new(),
            close: String::new(),
            cut_as: None,
        }
    }

    fn len(&self) -> usize {
        self.open.len() + self.close.len() + self.rows.iter().map(String::len).sum::<usize>()
    }

    /// Drops rows from the end until `excess` bytes are gone (or no row
    /// is left); returns how many went.
    fn cut_rows(&mut self, excess: &mut usize) -> usize {
        let had = self.rows.len();
        while *excess > 0 {
            let Some(row) = self.rows.pop() else { break };
            *excess = excess.saturating_sub(row.len());
        }
        had - self.rows.len()
    }
}

fn heading(plan: &Plan) -> String {
    format!("### alluxio-mesos plan for `{}`\n\n", plan.deployment)
}

fn parts(plan: &Plan, opts: &Options) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut head = heading(plan);
    let _ = writeln!(head, "**{}**\n", summary_line(plan));
    if let Some(t) = &plan.takeover {
        let _ = writeln!(head, "#### {}\n", inline(&t.headline()));
        for line in t.details() {
            let _ = writeln!(head, "- {}", inline(&line));
        }
        head.push('\n');
    }
    let (warnings, more) = group::warnings_shown(plan, opts.detail);
    for w in warnings {
        let _ = writeln!(head, "> **Warning:** {}\n", inline(w));
    }
    parts.push(Part::fixed(head));
    parts.extend(failures(plan, opts));
    if let Some(p) = diff(plan) {
        parts.push(p);
    }
    if plan.has_changes() {
        parts.push(Part::fixed(format!(
            "Rollout: {}.\n\n",
            inline(&plan.rollout.describe())
        )));
    }
    // Cut last to first: per-task rows, then further warnings, then groups.
    let changes = visible_changes(plan).count();
    let grouped = !opts.detail && changes > SMALL;
    if grouped {
        parts.push(group_table(plan));
    }
    if more > 0 {
        parts.push(Part {
            open: format!(
                "<details><summary>{} more warning(s)</summary>\n\n",
                thousands(more)
            ),
            rows: plan.warnings[warnings.len()..]
                .iter()
                .map(|w| format!("- {}\n", inline(w)))
                .collect(),
            close: "\n</details>\n\n".into(),
            cut_as: Some("further warning"),
        });
    }
    if changes > 0 {
        parts.push(task_table(plan, !grouped));
    }
    parts
}

fn failures(plan: &Plan, opts: &Options) -> Vec<Part> {
    if plan.placement_failures.is_empty() {
        return Vec::new();
    }
    let n: u32 = plan.placement_failures.iter().map(|f| f.unplaced).sum();
    let mut out = vec![Part::fixed(format!(
        "#### Cannot be placed ({} unplaced)\n\n",
        thousands(n as usize)
    ))];
    for f in &plan.placement_failures {
        let mut rows = Vec::new();
        if opts.detail || f.agents.len() <= SMALL {
            for r in &f.agents {
                rows.push(format!(
                    "- `{}` ({}): {}\n",
                    r.agent.hostname,
                    r.agent.id,
                    inline(&r.reasons.join("; "))
                ));
            }
        } else {
            for g in group_rejections(f) {
                rows.push(format!(
                    "- **{} agent(s)**: {} ({})\n",
                    thousands(g.agents.len()),
                    inline(&g.cause_line()),
                    agent_list(&g.hostnames())
                ));
            }
            if group::has_agents_with_several_causes(f) {
                rows.push(format!("- _{}_\n", group::SEVERAL_CAUSES_NOTE));
            }
        }
        let mut close = String::new();
        if !f.remedies.is_empty() {
            close.push_str("\nTo fix:\n");
            for r in &f.remedies {
                let _ = writeln!(close, "- {}", inline(r));
            }
        }
        close.push('\n');
        // Asked for with --detail, a long list of agents may be cut; the
        // summary and remedies stay.
        let cut_as = (f.agents.len() > SMALL && opts.detail).then_some("rejected-agent row");
        out.push(Part {
            open: format!("**{}**\n\n", inline(&f.summary)),
            rows,
            close,
            cut_as,
        });
    }
    out
}

fn diff(plan: &Plan) -> Option<Part> {
    if plan.config_diff.is_empty() && plan.config_notes.is_empty() {
        return None;
    }
    let mut open = String::from("#### Site properties diff\n\n");
    for n in &plan.config_notes {
        let _ = writeln!(open, "_Note: {}_\n", inline(n));
    }
    if plan.config_diff.is_empty() {
        return Some(Part::fixed(open));
    }
    // A fence longer than any backtick run inside keeps the diff intact.
    let fence = "`".repeat(longest_backtick_run(&plan.config_diff).max(2) + 1);
    let _ = writeln!(open, "{fence}diff");
    Some(Part {
        open,
        rows: plan.config_diff.lines().map(|l| format!("{l}\n")).collect(),
        close: format!("{fence}\n\n"),
        cut_as: None,
    })
}

/// Changes that differ only in their agent, one row each.
fn group_table(plan: &Plan) -> Part {
    let groups = group_changes(plan);
    let rows = groups
        .iter()
        .map(|g| {
            let c = g.first();
            let agents = match g.changes.as_slice() {
                [one] => format!("`{}`", cell(&one.address.to_string())),
                _ => cell(&agent_list(&g.hostnames())),
            };
            format!(
                "| `{}` | {} | {} | {} |\n",
                symbol(&c.action),
                cell(&g.headline()),
                cell(&g.reasons.join("; ")),
                agents
            )
        })
        .collect();
    Part {
        open: format!(
            "#### Changes ({} groups)\n\n| | what | why | where |\n|---|---|---|---|\n",
            thousands(groups.len())
        ),
        rows,
        close: "\n".into(),
        cut_as: Some("grouped change"),
    }
}

/// Every change, one row each: open when it is the only list of changes.
fn task_table(plan: &Plan, open: bool) -> Part {
    let changes: Vec<_> = visible_changes(plan).collect();
    let rows = changes
        .iter()
        .map(|c| {
            let (agent, cpus, mem, ports) = match c.action.after() {
                Some((a, spec)) => {
                    let (cpus, mem, ports) = group::spec_values(c.action.before(), spec);
                    (a.hostname.clone(), cpus, mem, ports)
                }
                None => {
                    let b = c.action.before().expect("a change without after kills");
                    (
                        b.agent.hostname.clone(),
                        fmt_num(b.cpus),
                        format!("{}MB", fmt_num(b.mem_mb)),
                        fmt_ports(&b.ports),
                    )
                }
            };
            format!(
                "| `{}` | `{}` | {} | {} | {} | {} | {} |\n",
                symbol(&c.action),
                cell(&c.address.to_string()),
                cell(&agent),
                cell(&cpus),
                cell(&mem),
                cell(&ports),
                cell(&c.reasons.join("; "))
            )
        })
        .collect();
    let state = if open { " open" } else { "" };
    Part {
        open: format!(
            "<details{state}><summary>Changes ({})</summary>\n\n| | address | agent | cpus | mem | ports | why |\n|---|---|---|---|---|---|---|\n",
            thousands(changes.len())
        ),
        rows,
        close: "\n</details>\n".into(),
        cut_as: Some("per-task row"),
    }
}

fn longest_backtick_run(s: &str) -> usize {
    s.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// One comment of at most `opts.markdown_limit` characters.
pub fn render(plan: &Plan, opts: &Options) -> String {
    fit(parts(plan, opts), opts.markdown_limit)
}

/// Keeps every part whole when the whole fits; else leaves out rows of
/// cuttable parts, the last part's first, and says so. Should the parts
/// that are never cut not fit alone, their last rows go too, with a note.
fn fit(mut parts: Vec<Part>, limit: usize) -> String {
    let total: usize = parts.iter().map(Part::len).sum();
    let mut notes = Vec::new();
    if total > limit {
        let budget = limit.saturating_sub(RESERVE);
        let mut excess = total.saturating_sub(budget);
        // Cuttable parts, the last first (per-task rows before groups).
        for p in parts.iter_mut().rev().filter(|p| p.cut_as.is_some()) {
            if excess == 0 {
                break;
            }
            let had = p.rows.len();
            let cut = p.cut_rows(&mut excess);
            if cut > 0 {
                notes.push(format!(
                    "{} of {} {}s",
                    thousands(cut),
                    thousands(had),
                    p.cut_as.expect("filtered")
                ));
            }
        }
        // Never cut unless nothing else is left: the diff or failures alone
        // exceed the limit.
        for p in parts.iter_mut().rev() {
            if excess == 0 {
                break;
            }
            let had = p.rows.len();
            let cut = p.cut_rows(&mut excess);
            if cut > 0 {
                notes.push(format!(
                    "{} of {} lines of a section that is otherwise never cut",
                    thousands(cut),
                    thousands(had)
                ));
            }
        }
    }
    let mut out = String::new();
    for p in &parts {
        out.push_str(&p.open);
        for r in &p.rows {
            out.push_str(r);
        }
        out.push_str(&p.close);
    }
    if !notes.is_empty() {
        let _ = writeln!(
            out,
            "\n> **Cut to stay within {limit} characters:** {}. See everything with `alluxio-mesos show PLANFILE --detail`, `--format json` or `--format html`, or post the plan as several comments with `--markdown-split DIR`.",
            notes.join(", ")
        );
    }
    out
}

/// The plan as numbered comments of at most `opts.markdown_limit`
/// characters each, nothing cut (as Atlantis splits long plans): a part
/// that goes on in the next comment opens again there.
pub fn render_comments(plan: &Plan, opts: &Options) -> Vec<String> {
    let limit = opts.markdown_limit;
    // "(part 99999 of 99999)" is the widest the header gets.
    let header_room = heading(plan).len() + " (comment 99999 of 99999)".len() + 4;
    let budget = limit.saturating_sub(header_room).max(1);
    let mut comments: Vec<String> = Vec::new();
    // A row longer than a comment (none the plan makes) would overflow it.
    let mut current = String::new();
    let flush = |current: &mut String, comments: &mut Vec<String>| {
        if !current.is_empty() {
            comments.push(std::mem::take(current));
        }
    };
    for p in parts(plan, opts) {
        if current.len() + p.open.len() + p.close.len() > budget {
            flush(&mut current, &mut comments);
        }
        current.push_str(&p.open);
        for r in &p.rows {
            if current.len() + r.len() + p.close.len() > budget && current.len() > p.open.len() {
                current.push_str(&p.close);
                flush(&mut current, &mut comments);
                current.push_str(&p.open);
            }
            current.push_str(r);
        }
        current.push_str(&p.close);
    }
    flush(&mut current, &mut comments);
    let n = comments.len();
    if n <= 1 {
        return comments;
    }
    comments
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            let head = format!(
                "### alluxio-mesos plan for `{}` (comment {} of {n})\n\n",
                plan.deployment,
                i + 1
            );
            // The first comment's body starts with the plain heading.
            let body = body
                .strip_prefix(&heading(plan))
                .unwrap_or(&body)
                .to_string();
            format!("{head}{body}")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diff_part(lines: usize) -> Part {
        Part {
            open: "```diff\n".into(),
            rows: (0..lines).map(|i| format!("+key{i}=value\n")).collect(),
            close: "```\n".into(),
            cut_as: None,
        }
    }

    fn rows_part(n: usize) -> Part {
        Part {
            open: "<details>\n\n|a|\n|---|\n".into(),
            rows: (0..n).map(|i| format!("| row {i} |\n")).collect(),
            close: "\n</details>\n".into(),
            cut_as: Some("per-task row"),
        }
    }

    #[test]
    fn per_task_rows_are_cut_before_the_diff_and_the_cut_is_named() {
        let out = fit(
            vec![
                Part::fixed("head\n".into()),
                diff_part(100),
                rows_part(20_000),
            ],
            GITHUB_LIMIT,
        );
        assert!(out.len() <= GITHUB_LIMIT, "{}", out.len());
        assert_eq!(out.matches("+key").count(), 100, "the diff is whole");
        let kept = out.matches("| row ").count();
        assert!(kept > 1000 && kept < 20_000, "{kept}");
        assert!(
            out.contains(&format!(
                "{} of 20,000 per-task rows",
                thousands(20_000 - kept)
            )),
            "{}",
            out.lines().last().unwrap()
        );
        assert!(out.contains("</details>"), "the details close");
    }

    /// 300 agents: a master and 300 workers to launch.
    fn plan_of_300_agents() -> Plan {
        use crate::plan::tests::{agent, desired, live, ALLUXIO_PORTS};
        let agents = (1..=300)
            .map(|n| agent(n, ALLUXIO_PORTS, 4.0, 16384.0))
            .collect();
        crate::plan::make_plan(&desired(), &live(agents, vec![]), None, &Default::default())
    }

    #[test]
    fn split_comments_hold_every_row_within_the_limit_and_reopen_tables() {
        let plan = plan_of_300_agents();
        let opts = Options {
            markdown_limit: 4_000,
            ..Default::default()
        };
        let comments = render_comments(&plan, &opts);
        let n = comments.len();
        assert!(n > 3, "{n}");
        let mut rows = 0;
        for (i, c) in comments.iter().enumerate() {
            assert!(c.len() <= 4_000, "comment {} has {}", i + 1, c.len());
            assert!(c.starts_with(&format!(
                "### alluxio-mesos plan for `alluxio` (comment {} of {n})\n\n",
                i + 1
            )));
            assert_eq!(
                c.matches("<details").count(),
                c.matches("</details>").count()
            );
            assert_eq!(c.matches("```").count() % 2, 0, "fences balanced");
            rows += c.matches("\n| `+` | `").count();
        }
        assert_eq!(rows, 301, "every task, once: a master and 300 workers");
        assert!(comments[0].contains("**Plan: 301 to launch"));
        // Cut into one comment, the summary and diff stay; rows go, counted.
        let one = render(&plan, &opts);
        assert!(one.len() <= 4_000);
        assert!(one.contains("+alluxio.home=/opt/alluxio"));
        assert!(one.contains("of 301 per-task rows"), "{one}");
    }

    #[test]
    fn a_diff_longer_than_the_limit_is_cut_with_its_fence_closed() {
        let out = fit(
            vec![Part::fixed("head\n".into()), diff_part(20_000)],
            GITHUB_LIMIT,
        );
        assert!(out.len() <= GITHUB_LIMIT, "{}", out.len());
        assert_eq!(out.matches("```").count(), 2, "fences balanced");
        assert!(out.contains("otherwise never cut"));
    }
}
