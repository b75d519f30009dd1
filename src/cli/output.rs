//! `alluxio-mesos output [--json]`: where the deployment can be reached.

use super::{context, exit, CliError, CliResult, Global};
use crate::render::outputs as view;
use crate::state;

#[derive(Debug, clap::Args)]
pub struct OutputArgs {
    #[command(flatten)]
    pub state: super::StateArg,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(g: &Global, args: &OutputArgs) -> CliResult {
    let location = context::state_location(g)?;
    let st = state::load_at(&location)?.ok_or_else(|| {
        CliError::msg(format!(
            "no state at {location}: run `alluxio-mesos apply` first"
        ))
    })?;
    if args.json {
        print!("{}", view::json(&st.outputs));
    } else {
        print!("{}", view::text(&st.outputs));
    }
    Ok(exit::OK)
}
