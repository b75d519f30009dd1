//! Everything users see, one module per view; `cli` picks the view.
//!
//! Plans: text for terminals, Markdown for pull-request comments, JSON for
//! machines (a versioned contract, docs/plan-json.md), HTML for reviewers
//! who would rather look (docs/plan-output.md). All are fed by the same
//! plan; [`group`] holds what the three for people share. Rendering never
//! changes a plan and never sees a secret value: plans hold none.
//!
//! The rest: [`apply`] (progress and the run's last lines), [`drift`]
//! (`plan --refresh-only`), [`state`]
//! (`show` of the state and the `state` subcommands), [`outputs`]
//! (`output`), [`error`] (every error and warning).

pub mod apply;
pub mod drift;
pub mod error;
pub mod group;
pub mod html;
pub mod json;
pub mod markdown;
pub mod outputs;
pub mod state;
pub mod text;

use crate::plan::{Action, Change, Plan};

/// Output formats of `plan` and `show`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For terminals; changes that differ only in their agent grouped.
    Text,
    /// For pull-request comments, within --markdown-limit.
    Markdown,
    /// The versioned contract (docs/plan-json.md).
    Json,
    /// One self-contained page: every agent as a cell, coloured by action.
    Html,
}

/// How to render, besides the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// ANSI colours in text.
    pub color: bool,
    /// Every task and every rejected agent one by one, never grouped.
    pub detail: bool,
    /// The most characters of one Markdown comment.
    pub markdown_limit: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            color: false,
            detail: false,
            markdown_limit: markdown::GITHUB_LIMIT,
        }
    }
}

/// `plan` in `format`, as text.
pub fn render(plan: &Plan, format: Format, opts: &Options) -> String {
    let mut out = Vec::new();
    write(plan, format, opts, &mut out).expect("writing to memory");
    String::from_utf8(out).expect("renderings are UTF-8")
}

/// Writes `plan` in `format` to `w`. JSON is streamed as it is made: the
/// JSON of a plan of 10,000 slots is several MB that need not be held
/// whole.
pub fn write(
    plan: &Plan,
    format: Format,
    opts: &Options,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let text = match format {
        Format::Text => text::render(plan, opts),
        Format::Markdown => markdown::render(plan, opts),
        Format::Json => return json::write(plan, w),
        Format::Html => html::render(plan),
    };
    w.write_all(text.as_bytes())
}

/// What follows a plan saved with `plan -o FILE`: the command that applies
/// exactly it. Text and Markdown only (the PR comment names it too); JSON
/// and HTML are documents of their own.
pub fn saved_plan_note(format: Format, file: &std::path::Path) -> Option<String> {
    let file = file.display();
    match format {
        Format::Text => Some(format!(
            "\nSaved the plan to {file}. Apply exactly this plan with: alluxio-mesos apply {file}\n"
        )),
        Format::Markdown => Some(format!(
            "\nSaved as `{file}`: `alluxio-mesos apply {file}` applies exactly this plan, and refuses it once the deployment, the cluster or the state has changed.\n"
        )),
        Format::Json | Format::Html => None,
    }
}

/// The closing line of text and Markdown renderings.
pub fn summary_line(plan: &Plan) -> String {
    if !plan.has_changes() && plan.placement_failures.iter().all(|f| f.unplaced == 0) {
        return match &plan.targeting {
            Some(t) if t.left_out > 0 => format!(
                "No changes at the targeted addresses; {} other change(s) of the deployment are left out.",
                t.left_out
            ),
            _ => "No changes. The deployment matches the live cluster.".to_string(),
        };
    }
    let s = plan.summary();
    let takeover = plan
        .takeover
        .as_ref()
        .map(|t| {
            format!(
                "take over AlluxioFramework {:?} ({} task(s) stop), ",
                t.framework_name,
                t.tasks.len()
            )
        })
        .unwrap_or_default();
    let mut line = format!(
        "Plan: {takeover}{} to launch, {} to replace, {} to kill.",
        s.launch, s.replace, s.kill
    );
    if s.unplaceable > 0 {
        line.push_str(&format!(" {} cannot be placed.", s.unplaceable));
    }
    line
}

/// The changes worth showing (no-ops are only counted).
pub fn visible_changes(plan: &Plan) -> impl Iterator<Item = &Change> {
    plan.changes
        .iter()
        .filter(|c| !matches!(c.action, Action::NoOp { .. }))
}

/// Terraform's symbols: `+` launch, `-` kill, `-/+` replace.
pub fn symbol(action: &Action) -> &'static str {
    match action {
        Action::Launch { .. } => "+",
        Action::Kill { .. } => "-",
        Action::Replace { .. } => "-/+",
        Action::NoOp { .. } => " ",
    }
}

pub fn verb(action: &Action) -> &'static str {
    match action {
        Action::Launch { .. } => "launched",
        Action::Kill { .. } => "killed",
        Action::Replace { .. } => "replaced",
        Action::NoOp { .. } => "left as is",
    }
}
