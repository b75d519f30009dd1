//! apply and destroy as they run and as they end: the progress display (a
//! bar on a terminal, plain lines otherwise, for CI logs) and the summary
//! after the last step. The progress lines' words are the engine's.

use crate::apply::engine::{ApplyReport, Progress, StepOutcome};
use crate::apply::summary::RunSummary;
use indicatif::{ProgressBar, ProgressStyle};

/// Plain lines on standard error.
pub struct Lines;

impl Progress for Lines {
    fn line(&mut self, line: &str) {
        eprintln!("{line}");
    }
}

/// A bar of finished steps, with each event printed above it.
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    pub fn new() -> Self {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} steps {elapsed}")
                .expect("static template")
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Bar { bar }
    }
}

impl Default for Bar {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress for Bar {
    fn line(&mut self, line: &str) {
        self.bar.println(line);
    }

    fn advance(&mut self, done: usize, total: usize) {
        self.bar.set_length(total as u64);
        self.bar.set_position(done as u64);
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// The display that fits standard error.
pub fn for_stderr() -> Box<dyn Progress> {
    use std::io::IsTerminal;
    if std::io::stderr().is_terminal() {
        Box::new(Bar::new())
    } else {
        Box::new(Lines)
    }
}

/// The run's last lines: one per step, the rollback count, where the
/// masters are, and how the run ended.
pub fn summary(report: &ApplyReport, s: &RunSummary) -> String {
    let mut out = String::new();
    if !report.steps.is_empty() {
        out.push('\n');
    }
    for step in &report.steps {
        let (word, message) = match &step.outcome {
            StepOutcome::Done(m) => ("done    ", m),
            StepOutcome::Failed(m) => ("FAILED  ", m),
            StepOutcome::NotStarted(m) => ("skipped ", m),
        };
        out.push_str(&format!(
            "  {word} {} ({}): {message}\n",
            step.address, step.action
        ));
    }
    if s.rollbacks > 0 {
        out.push_str(&format!(
            "Rolled back {} of {} replaced task(s) to the last applied configuration.\n",
            s.rolled_back, s.rollbacks
        ));
    }
    out.push_str(&super::outputs::masters(&report.outputs));
    out.push('\n');
    out.push_str(&ending(s));
    out
}

/// After a takeover whose launches did not all run: the old framework is
/// gone, so this must be said.
pub fn takeover_incomplete(t: &crate::plan::model::Takeover) -> String {
    format!(
        "Warning: AlluxioFramework {:?} ({}) was torn down, and this deployment is not fully running: Alluxio is not fully served by either framework now. Run `alluxio-mesos apply` again: the next plan launches what is missing.\n",
        t.framework_name, t.framework_id
    )
}

/// After a run of a plan limited with `--target`: Terraform's reminder
/// that the rest of the deployment was not looked at.
pub fn targeted_note(targeting: &crate::plan::model::Targeting) -> String {
    let rest = match targeting.left_out {
        0 => "nothing else differed when it was planned".to_string(),
        n => format!("{n} other change(s) were left out"),
    };
    format!(
        "Warning: the applied changes may be incomplete: the plan was limited with --target ({rest}). Run `alluxio-mesos plan` to see what else is pending.\n"
    )
}

/// The last line: complete, incomplete with what fell short, or interrupted.
fn ending(s: &RunSummary) -> String {
    let counts = format!(
        "{} launched, {} replaced, {} killed",
        s.launched, s.replaced, s.killed
    );
    let verb = if s.destroy { "Destroy" } else { "Apply" };
    if s.interrupted {
        return format!("Interrupted after {counts}: the state file records what was done; run plan to see what is left.\n");
    }
    if s.complete() {
        return format!("{verb} complete: {counts}.\n");
    }
    let shortfalls: Vec<String> = [
        (s.failed, "failed"),
        (s.not_started, "not started"),
        (s.unplaceable, "could not be placed"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    format!(
        "{verb} incomplete: {counts}; {}. The state file records what was done; run plan to see what is left.\n",
        shortfalls.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary_of(f: impl FnOnce(&mut RunSummary)) -> String {
        let mut s = RunSummary {
            destroy: false,
            interrupted: false,
            launched: 3,
            replaced: 1,
            killed: 0,
            failed: 0,
            not_started: 0,
            unplaceable: 0,
            rolled_back: 0,
            rollbacks: 0,
        };
        f(&mut s);
        ending(&s)
    }

    #[test]
    fn the_last_line_says_how_the_run_ended() {
        assert_eq!(
            summary_of(|_| {}),
            "Apply complete: 3 launched, 1 replaced, 0 killed.\n"
        );
        assert_eq!(
            summary_of(|s| {
                s.failed = 1;
                s.unplaceable = 2;
            }),
            "Apply incomplete: 3 launched, 1 replaced, 0 killed; 1 failed; 2 could not be placed. \
             The state file records what was done; run plan to see what is left.\n"
        );
        assert!(summary_of(|s| {
            s.interrupted = true;
            s.failed = 1;
        })
        .starts_with("Interrupted after 3 launched"));
        assert!(summary_of(|s| s.destroy = true).starts_with("Destroy complete"));
    }
}
