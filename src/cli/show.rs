//! `alluxio-mesos show [PLANFILE]`: a saved plan in any format, or the state.

use super::{color_enabled, context, exit, CliError, CliResult, FormatArg, Global};
use crate::plan_file::PlanFile;
use crate::render::{state as view, Format};
use crate::state;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub state: super::StateArg,
    /// A plan file written by `plan -o`.
    pub planfile: Option<PathBuf>,
    #[command(flatten)]
    pub format: FormatArg,
}

pub fn run(g: &Global, args: &ShowArgs) -> CliResult {
    if let Some(path) = &args.planfile {
        let pf = PlanFile::read(path)?;
        args.format.print_plan(&pf.plan, color_enabled(g))?;
        return Ok(exit::OK);
    }
    let location = context::state_location(g)?;
    let Some(st) = state::load_at(&location)? else {
        print!("{}", view::nothing_applied(&location));
        return Ok(exit::OK);
    };
    let shown = match args.format.format() {
        Format::Json => view::json(&st),
        Format::Text => view::text(&st),
        Format::Markdown => view::markdown(&st),
        Format::Html => {
            return Err(CliError::msg(
                "the HTML report is of plans: use `show PLANFILE --format html`, or `show --format text` for the state",
            ))
        }
    };
    print!("{shown}");
    Ok(exit::OK)
}
