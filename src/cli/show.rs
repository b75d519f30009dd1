//! `alluxio-mesos show [PLANFILE]`: a saved plan in any format, or the state.

use super::{color_enabled, context, CliError, CliResult, FormatArg, Global};
use crate::plan_file::PlanFile;
use crate::render::Format;
use crate::state::{self, RecordedState, State};
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
        return Ok(0);
    }
    let location = context::state_location(g)?;
    let Some(st) = state::load_at(&location)? else {
        println!("No state at {location}: nothing has been applied yet.");
        return Ok(0);
    };
    match args.format.format() {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&st).map_err(CliError::msg)?
        ),
        Format::Text => print!("{}", state_text(&st)),
        Format::Markdown => print!("{}", state_markdown(&st)),
        Format::Html => {
            return Err(CliError::msg(
                "the HTML report is of plans: use `show PLANFILE --format html`, or `show --format text` for the state",
            ))
        }
    }
    Ok(0)
}

fn recorded(s: RecordedState) -> String {
    match s {
        RecordedState::Pending => "pending".into(),
        RecordedState::Mesos(t) => t.to_string(),
    }
}

pub fn state_text(st: &State) -> String {
    let mut out = format!(
        "Deployment {:?} (serial {}, framework {})\n",
        st.deployment,
        st.serial,
        st.framework_id.as_deref().unwrap_or("not registered yet")
    );
    for t in &st.tasks {
        out.push_str(&format!(
            "  {:<28} {:<16} {} on {}\n",
            t.address.to_string(),
            recorded(t.state),
            t.task_id,
            t.hostname
        ));
    }
    if st.tasks.is_empty() {
        out.push_str("  no tasks\n");
    }
    out
}

fn state_markdown(st: &State) -> String {
    let mut out = format!("### alluxio-mesos state of `{}` (serial {})\n\n| address | state | task | agent |\n|---|---|---|---|\n", st.deployment, st.serial);
    for t in &st.tasks {
        out.push_str(&format!(
            "| `{}` | {} | `{}` | {} |\n",
            t.address,
            recorded(t.state),
            t.task_id,
            t.hostname
        ));
    }
    out
}
