//! `alluxio-mesos output [--json]`: where the deployment can be reached.

use super::{context, CliError, CliResult, Global};
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
        println!(
            "{}",
            serde_json::to_string_pretty(&st.outputs).map_err(CliError::msg)?
        );
        return Ok(0);
    }
    for line in st.outputs.lines() {
        println!("{line}");
    }
    if st.outputs.master_rpc.is_empty() {
        println!("No master is running.");
    }
    Ok(0)
}
