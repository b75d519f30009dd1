//! `alluxio-mesos plan`: desired x live x state -> rendered plan (and a plan file).

use super::{color_enabled, context, CliResult, FormatArg, Global};
use crate::plan::secret_hasher;
use crate::plan_file::PlanFile;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub state: super::StateArg,
    /// Plan against a saved /master/state document instead of a live master.
    #[arg(long, value_name = "FILE")]
    pub mesos_state: Option<PathBuf>,
    #[command(flatten)]
    pub format: FormatArg,
    #[command(flatten)]
    pub mesos: super::MesosArgs,
    /// Save the plan for `apply PLANFILE` and `show PLANFILE`.
    #[arg(short = 'o', long = "out", value_name = "PLANFILE")]
    pub out: Option<PathBuf>,
    /// Exit 0 when live matches desired, 2 when it differs (changes pending or tasks that cannot be placed), 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Plan killing every task of the deployment.
    #[arg(long)]
    pub destroy: bool,
    #[command(flatten)]
    pub addresses: super::AddressArgs,
    /// Show only what changed in Mesos since the last apply (tasks ended or lost, agents gone, the framework removed, tasks the state lacks, a new leader), and what a plan would do about each; with --detailed-exitcode, 2 means drift.
    #[arg(long, conflicts_with_all = ["destroy", "out", "targets", "replace"])]
    pub refresh_only: bool,
}

pub fn run(g: &Global, args: &PlanArgs) -> CliResult {
    if args.refresh_only {
        return super::refresh::plan(
            g,
            &args.mesos,
            args.format.format(),
            args.mesos_state.as_deref(),
            args.detailed_exitcode,
        );
    }
    let desired = context::load_desired_for(g, &args.mesos)?;
    let state = context::load_state(g, &desired)?;
    let live = context::acquire_live(
        g,
        &args.mesos,
        &desired,
        state.as_ref(),
        args.mesos_state.as_deref(),
    )?;
    args.addresses.check(&desired, &live, state.as_ref())?;
    let opts = args.addresses.options(args.destroy)?;
    let plan = context::plan_for(&desired, &live, state.as_ref(), &opts, g.verbose > 0)?;
    if let Some(out) = &args.out {
        let hasher = secret_hasher(&desired, state.as_ref());
        PlanFile::new(
            plan.clone(),
            &g.config,
            &desired,
            &hasher,
            &live,
            state.as_ref(),
        )
        .write(out)?;
    }
    args.format.print_plan(&plan, color_enabled(g))?;
    if let Some(note) = args
        .out
        .as_deref()
        .and_then(|out| crate::render::saved_plan_note(args.format.format(), out))
    {
        print!("{note}");
    }
    Ok(if args.detailed_exitcode && plan.differs() {
        super::exit::CHANGES
    } else {
        super::exit::OK
    })
}
