//! The HTML report: one self-contained page (inline CSS and JS, nothing
//! fetched) for a reviewer who would rather look than read. Every agent the
//! plan speaks of is a cell in a grid, coloured by what happens there
//! (launch, replace, kill, unchanged, or cannot place, by cause); hovering
//! or clicking a cell shows its tasks and reasons. Below: the rollout as
//! numbered waves, what cannot be placed with the remedies, and the
//! site-properties diff.
//!
//! The page's script builds the grid from a JSON island and writes the
//! counts it finds into the page (`data-count` attributes), so a headless
//! browser's DOM shows what a reviewer sees; the reasons are the plan's,
//! made agent-neutral by [`super::group`] so that a 10,000-agent page holds
//! each distinct line once.

use super::group::{self, group_rejections, group_rejections_by_cause_set, thousands};
use super::summary_line;
use crate::address::Role;
use crate::plan::model::{Action, Change};
use crate::plan::Plan;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

/// Causes of rejection with a colour of their own; the rest share one.
const CAUSE_COLOURS: [&str; 6] = [
    "#d62728", "#ff7f0e", "#8c564b", "#e377c2", "#bcbd22", "#9467bd",
];
const OTHER_CAUSES: &str = "#7f7f7f";

/// Per agent: its hostname, the index of its category, its lines.
#[derive(Serialize)]
struct Data<'a> {
    categories: Vec<Category>,
    lines: Vec<String>,
    agents: Vec<(&'a str, usize, Vec<usize>)>,
    /// Tasks by action (`launch`, `replace`, `kill`, `no-op`).
    tasks: Vec<(&'static str, usize)>,
    unplaceable: u32,
}

#[derive(Serialize)]
struct Category {
    label: String,
    colour: &'static str,
}

/// The actions in the order they win a cell: what needs a reviewer's eye
/// most first (an agent may hold a master and a worker).
const ACTIONS: [(&str, &str, &str); 4] = [
    ("kill", "kill", "#e45756"),
    ("replace", "replace", "#f2b701"),
    ("launch", "launch", "#54a24b"),
    ("no-op", "unchanged", "#c7d3e0"),
];

struct Agent<'a> {
    category: usize,
    lines: Vec<usize>,
    host: &'a str,
}

struct Builder<'a> {
    lines: Vec<String>,
    line_index: HashMap<String, usize>,
    agents: BTreeMap<&'a str, Agent<'a>>,
}

impl<'a> Builder<'a> {
    fn line(&mut self, text: String) -> usize {
        if let Some(&i) = self.line_index.get(&text) {
            return i;
        }
        self.lines.push(text.clone());
        self.line_index.insert(text, self.lines.len() - 1);
        self.lines.len() - 1
    }

    /// Adds lines to an agent's cell; the category with the lower index wins.
    fn add(&mut self, id: &'a str, host: &'a str, category: usize, lines: Vec<String>) {
        let idx: Vec<usize> = lines.into_iter().map(|l| self.line(l)).collect();
        let a = self.agents.entry(id).or_insert(Agent {
            category,
            lines: Vec::new(),
            host,
        });
        a.category = a.category.min(category);
        a.lines.extend(idx);
    }
}

fn change_lines(c: &Change) -> Vec<String> {
    // Masters by address; workers are their agent's, so the agent says it.
    let who = match c.role() {
        Role::Master => c.address.to_string(),
        Role::Worker => "worker".to_string(),
    };
    let verb = super::verb(&c.action);
    let mut out = vec![format!(
        "{} {who} will be {verb} ({})",
        super::symbol(&c.action).trim(),
        group::describe_change(&c.action)
    )];
    if matches!(c.action, Action::NoOp { .. }) {
        out[0] = format!("{who} unchanged");
    }
    out.extend(
        c.reasons
            .iter()
            .map(|r| format!("  because {}", group::generalize(r, c))),
    );
    out
}

fn data(plan: &Plan) -> Data<'_> {
    // Causes of rejection, most agents first over all failures; cannot
    // place wins a cell over every action, so its categories come first.
    let mut causes: Vec<(String, usize)> = Vec::new();
    for f in &plan.placement_failures {
        for g in group_rejections_by_cause_set(f) {
            let line = g.cause_line();
            match causes.iter_mut().find(|(l, _)| *l == line) {
                Some(c) => c.1 += g.agents.len(),
                None => causes.push((line, g.agents.len())),
            }
        }
    }
    causes.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    let mut categories = Vec::new();
    let mut cause_category = HashMap::new();
    for (i, (line, _)) in causes.iter().enumerate() {
        cause_category.insert(line.clone(), i.min(CAUSE_COLOURS.len()));
        if i < CAUSE_COLOURS.len() {
            categories.push(Category {
                label: format!("cannot place: {line}"),
                colour: CAUSE_COLOURS[i],
            });
        }
    }
    if causes.len() > CAUSE_COLOURS.len() {
        categories.push(Category {
            label: "cannot place: other causes".into(),
            colour: OTHER_CAUSES,
        });
    }
    let first_action = categories.len();
    categories.extend(ACTIONS.iter().map(|(_, label, colour)| Category {
        label: label.to_string(),
        colour,
    }));

    let mut b = Builder {
        lines: Vec::new(),
        line_index: HashMap::new(),
        agents: BTreeMap::new(),
    };
    let mut tasks: Vec<(&'static str, usize)> = ACTIONS.iter().map(|(a, _, _)| (*a, 0)).collect();
    for c in &plan.changes {
        let name = c.action.name();
        let i = ACTIONS
            .iter()
            .position(|(a, _, _)| *a == name)
            .expect("every action has a category");
        tasks[i].1 += 1;
        let agent = c.action.agent();
        b.add(
            &agent.id,
            &agent.hostname,
            first_action + i,
            change_lines(c),
        );
    }
    for f in &plan.placement_failures {
        for r in &f.agents {
            let cause = r.causes().join("; ");
            let cat = cause_category[&cause];
            let line = format!(
                "x cannot take a {}: {}",
                f.role.as_str(),
                r.reasons.join("; ")
            );
            b.add(&r.agent.id, &r.agent.hostname, cat, vec![line]);
        }
    }
    let mut agents: Vec<(&str, usize, Vec<usize>)> = b
        .agents
        .into_values()
        .map(|a| (a.host, a.category, a.lines))
        .collect();
    agents.sort_by(|a, b| a.0.cmp(b.0));
    Data {
        categories,
        lines: b.lines,
        agents,
        tasks,
        unplaceable: plan.summary().unplaceable,
    }
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The rollout as numbered waves, in the order apply goes.
fn waves(plan: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    let count = |f: &dyn Fn(&Change) -> bool| plan.changes.iter().filter(|c| f(c)).count();
    let kills = count(&|c| matches!(c.action, Action::Kill { .. }));
    if kills > 0 {
        out.push(format!("kill {} task(s)", thousands(kills)));
    }
    let fresh = count(&|c| c.role() == Role::Worker && matches!(c.action, Action::Launch { .. }));
    let wait = plan.rollout.workers_wait_for.as_ref();
    if fresh > 0 && wait.is_none() {
        out.push(format!(
            "launch {} new worker(s) at once, beside the masters",
            thousands(fresh)
        ));
    }
    for address in &plan.rollout.master_order {
        if let Some(c) = plan.changes.iter().find(|c| &c.address == address) {
            out.push(format!("{} {address}", c.action.name()));
        }
    }
    if let (true, Some(master)) = (fresh > 0, wait) {
        out.push(format!(
            "launch {} new worker(s) at once, when {master} runs",
            thousands(fresh)
        ));
    }
    let replaced =
        count(&|c| c.role() == Role::Worker && matches!(c.action, Action::Replace { .. }));
    let per = plan.rollout.max_unavailable.max(1) as usize;
    let n = replaced.div_ceil(per);
    for i in 0..n.min(3) {
        let k = per.min(replaced - i * per);
        out.push(format!("replace {} running worker(s)", thousands(k)));
    }
    if n > 3 {
        out.push(format!(
            "... {} more waves of up to {} worker(s), {} workers replaced in all",
            thousands(n - 3),
            thousands(per),
            thousands(replaced)
        ));
    }
    out
}

pub fn render(plan: &Plan) -> String {
    let data = data(plan);
    let json = serde_json::to_string(&data)
        .expect("the report data serializes")
        .replace('<', "\\u003c");
    let mut out = String::new();
    let title = format!("alluxio-mesos plan for {}", plan.deployment);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style></head>\n<body>\n<h1>{}</h1>\n<p class=\"summary\" id=\"summary\">{}</p>\n",
        esc(&title),
        esc(&title),
        esc(&summary_line(plan))
    );
    out.push_str("<table class=\"counts\" id=\"counts\"><tr><th>tasks</th><th></th></tr>\n");
    for (key, label) in [
        ("launch", "to launch"),
        ("replace", "to replace"),
        ("kill", "to kill"),
        ("no-op", "unchanged"),
        ("unplaceable", "cannot be placed"),
    ] {
        let _ = writeln!(
            out,
            "<tr><td>{label}</td><td class=\"n\" id=\"count-{key}\" data-count=\"\"></td></tr>"
        );
    }
    out.push_str("</table>\n");
    if let Some(t) = &plan.takeover {
        let _ = writeln!(out, "<h2 id=\"takeover\">{}</h2>\n<ul>", esc(&t.headline()));
        for line in t.details() {
            let _ = writeln!(out, "<li>{}</li>", esc(&line));
        }
        out.push_str("</ul>\n");
    }
    let (warnings, more) = group::warnings_shown(plan, false);
    for w in warnings {
        let _ = writeln!(out, "<p class=\"warning\">Warning: {}</p>", esc(w));
    }
    if more > 0 {
        let _ = writeln!(
            out,
            "<details><summary>{} more warning(s)</summary><ul>",
            thousands(more)
        );
        for w in &plan.warnings[warnings.len()..] {
            let _ = writeln!(out, "<li>{}</li>", esc(w));
        }
        out.push_str("</ul></details>\n");
    }
    out.push_str("<h2>Agents</h2>\n<div id=\"legend\"></div>\n<div id=\"info\" class=\"info\">Hover over or click an agent to see what happens there.</div>\n<div id=\"grid\"></div>\n");
    if !plan.placement_failures.is_empty() {
        out.push_str("<h2>Cannot be placed</h2>\n");
        for f in &plan.placement_failures {
            let _ = writeln!(out, "<h3>{}</h3>\n<ul>", esc(&f.summary));
            if f.agents.len() <= group::SMALL {
                for r in &f.agents {
                    let _ = writeln!(
                        out,
                        "<li><b>{}</b>: {}</li>",
                        esc(&r.agent.hostname),
                        esc(&r.reasons.join("; "))
                    );
                }
                out.push_str("</ul>\n");
            } else {
                for g in group_rejections(f) {
                    let _ = writeln!(
                        out,
                        "<li><b>{} agent(s)</b>: {}</li>",
                        thousands(g.agents.len()),
                        esc(&g.cause_line())
                    );
                }
                out.push_str("</ul>\n");
            }
            if f.agents.len() > group::SMALL && group::has_agents_with_several_causes(f) {
                let _ = writeln!(
                    out,
                    "<p class=\"note\">({})</p>",
                    group::SEVERAL_CAUSES_NOTE
                );
            }
            if !f.remedies.is_empty() {
                out.push_str("<p>To fix:</p><ul>\n");
                for r in &f.remedies {
                    let _ = writeln!(out, "<li>{}</li>", esc(r));
                }
                out.push_str("</ul>\n");
            }
        }
    }
    if !plan.config_diff.is_empty() || !plan.config_notes.is_empty() {
        out.push_str("<h2>Site properties diff</h2>\n");
        for n in &plan.config_notes {
            let _ = writeln!(out, "<p class=\"note\">Note: {}</p>", esc(n));
        }
        if !plan.config_diff.is_empty() {
            out.push_str("<pre class=\"diff\" id=\"diff\">");
            for line in plan.config_diff.lines() {
                let class = if line.starts_with("+++") || line.starts_with("---") {
                    "h"
                } else if line.starts_with('+') {
                    "add"
                } else if line.starts_with('-') {
                    "del"
                } else {
                    "ctx"
                };
                let _ = writeln!(out, "<span class=\"{class}\">{}</span>", esc(line));
            }
            out.push_str("</pre>\n");
        }
    }
    if plan.has_changes() {
        out.push_str("<h2>Rollout</h2>\n<ol id=\"waves\">\n");
        for w in waves(plan) {
            let _ = writeln!(out, "<li>{}</li>", esc(&w));
        }
        let _ = writeln!(
            out,
            "</ol>\n<p class=\"note\">{}.</p>",
            esc(&plan.rollout.describe())
        );
    }
    let _ = write!(
        out,
        "<p class=\"note\">Rendered in <span id=\"render-ms\">?</span> ms by this page's script.</p>\n<script type=\"application/json\" id=\"plan-data\">{json}</script>\n<script>{SCRIPT}</script>\n</body></html>\n"
    );
    out
}

const STYLE: &str = r#"
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.5em}h3{font-size:1em}
.summary{font-weight:bold}
.counts td,.counts th{padding:.1em .8em;text-align:left}.counts .n{text-align:right;font-variant-numeric:tabular-nums}
.warning{background:#fff4d6;padding:.4em}
#legend span.key{display:inline-block;margin:0 1em .3em 0;white-space:nowrap}
#legend i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:-.1em;border:1px solid #0003}
#grid{display:flex;flex-wrap:wrap;gap:1px;max-width:100%}
#grid div{width:9px;height:9px;cursor:pointer}
#grid div.sel{outline:2px solid #000}
.info{min-height:3.2em;white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:12px;background:#f5f5f5;padding:.4em;margin:.4em 0}
.diff{background:#f8f8f8;padding:.5em;overflow-x:auto}
.diff .add{color:#1a7f37}.diff .del{color:#cf222e}.diff .h{color:#666}
.note{color:#555}
"#;

/// Builds the legend and grid, counts what it drew into `data-count`, and
/// shows a cell's lines on hover or click.
const SCRIPT: &str = r#"
(function(){
var t0=performance.now();
var d=JSON.parse(document.getElementById('plan-data').textContent);
var cats=d.categories, lines=d.lines, agents=d.agents;
var perCat=cats.map(function(){return 0;});
var grid=document.getElementById('grid');
var frag=document.createDocumentFragment();
for(var i=0;i<agents.length;i++){
  var a=agents[i], el=document.createElement('div');
  el.style.background=cats[a[1]].colour;
  el.dataset.i=i;
  perCat[a[1]]++;
  frag.appendChild(el);
}
grid.appendChild(frag);
grid.dataset.cells=agents.length;
var legend=document.getElementById('legend');
cats.forEach(function(c,i){
  if(!perCat[i])return;
  var s=document.createElement('span');
  s.className='key';
  s.dataset.count=perCat[i];
  var sw=document.createElement('i');
  sw.style.background=c.colour;
  s.appendChild(sw);
  s.appendChild(document.createTextNode(c.label+': '+perCat[i].toLocaleString('en-US')+' agent(s)'));
  legend.appendChild(s);
});
function count(key,n){
  var el=document.getElementById('count-'+key);
  el.dataset.count=n;
  el.textContent=n.toLocaleString('en-US');
}
d.tasks.forEach(function(t){count(t[0],t[1]);});
count('unplaceable',d.unplaceable);
var info=document.getElementById('info'), pinned=null;
function show(el){
  var a=agents[+el.dataset.i];
  info.textContent=a[0]+'\n'+a[2].map(function(k){return lines[k];}).join('\n');
}
grid.addEventListener('mouseover',function(e){if(!pinned&&e.target.dataset.i!==undefined)show(e.target);});
grid.addEventListener('click',function(e){
  if(e.target.dataset.i===undefined)return;
  if(pinned)pinned.classList.remove('sel');
  pinned=(pinned===e.target)?null:e.target;
  if(pinned){pinned.classList.add('sel');show(pinned);}
});
var ms=performance.now()-t0;
var r=document.getElementById('render-ms');
r.textContent=ms.toFixed(1);
document.body.dataset.rendered='done';
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
