//! What a run of apply or destroy did, counted: its last line and its exit
//! code are both read from here.

use super::engine::{ApplyReport, StepOutcome, ROLL_BACK};
use crate::plan::Plan;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    /// A destroy rather than an apply.
    pub destroy: bool,
    /// Stopped by Ctrl-C.
    pub interrupted: bool,
    pub launched: usize,
    pub replaced: usize,
    pub killed: usize,
    pub failed: usize,
    pub not_started: usize,
    /// Tasks of the plan that no agent could take.
    pub unplaceable: usize,
    /// Replaced tasks put back on the last applied configuration, of
    /// `rollbacks` tried (none without a failed replacement).
    pub rolled_back: usize,
    pub rollbacks: usize,
}

impl RunSummary {
    pub fn of(report: &ApplyReport, plan: &Plan) -> RunSummary {
        let count = |f: &dyn Fn(&str, &StepOutcome) -> bool| {
            report
                .steps
                .iter()
                .filter(|s| f(s.action, &s.outcome))
                .count()
        };
        let done = |action: &str| count(&|a, o| a == action && matches!(o, StepOutcome::Done(_)));
        RunSummary {
            destroy: plan.destroy,
            interrupted: report.interrupted,
            launched: done("launch"),
            replaced: done("replace"),
            killed: done("kill"),
            failed: count(&|_, o| matches!(o, StepOutcome::Failed(_))),
            not_started: count(&|_, o| matches!(o, StepOutcome::NotStarted(_))),
            unplaceable: plan.summary().unplaceable as usize,
            rolled_back: done(ROLL_BACK),
            rollbacks: count(&|a, _| a == ROLL_BACK),
        }
    }

    /// Everything the plan wanted is done: nothing failed, was left
    /// unstarted or could not be placed.
    pub fn complete(&self) -> bool {
        self.failed == 0 && self.not_started == 0 && self.unplaceable == 0
    }
}
