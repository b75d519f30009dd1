//! `alluxio-mesos apply [PLANFILE]` and `alluxio-mesos destroy`.
//!
//! Both take the state lock first, then read the live cluster and plan (or
//! check a saved plan against what they read), ask for confirmation, and
//! drive the plan through the scheduler API.

use super::{color_enabled, context, exit, CliResult, Global};
use crate::apply::engine::{ApplyOptions, Engine};
use crate::apply::summary::RunSummary;
use crate::desired::Desired;
use crate::mesos::{base_url, Connection};
use crate::plan::{secret_hasher, Plan};
use crate::plan_file::PlanFile;
use crate::render::{render, Format};
use crate::state::StateStore;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// What apply and destroy share.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Do not ask for confirmation (required without a terminal: a piped `yes` is not a review).
    #[arg(long)]
    pub auto_approve: bool,
    /// How long to wait for another run's state lock.
    #[arg(long, default_value = "0s", value_parser = humantime::parse_duration)]
    pub lock_timeout: Duration,
    #[command(flatten)]
    pub mesos: super::MesosArgs,
    #[command(flatten)]
    pub state: super::StateArg,
}

/// How launches are waited for: apply only (destroy launches nothing).
#[derive(Debug, Clone, clap::Args)]
pub struct LaunchArgs {
    /// How long to wait for an offer from a task's planned agent before moving it (when allowed) or failing.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    pub offer_timeout: Duration,
    /// How long a task must stay TASK_RUNNING to count as started (a crash within it is retried).
    #[arg(long, default_value = "3s", value_parser = humantime::parse_duration)]
    pub settle_time: Duration,
}

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// A plan file from `plan -o`: apply exactly that plan.
    pub planfile: Option<PathBuf>,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub addresses: super::AddressArgs,
    #[command(flatten)]
    pub launch: LaunchArgs,
    /// When a replacement fails, put the last applied configuration back on
    /// every slot this run replaced, batch by batch (false: stop and leave
    /// the not yet replaced tasks as they are).
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    pub rollback_on_failure: bool,
    /// Record in the state what changed in Mesos since the last apply (see `plan --refresh-only`), with a new serial; nothing is launched or killed.
    #[arg(long, conflicts_with_all = ["planfile", "targets", "replace"])]
    pub refresh_only: bool,
}

#[derive(Debug, clap::Args)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Also end the Mesos framework (TEARDOWN) and forget its ID.
    #[arg(long, conflicts_with = "targets")]
    pub teardown: bool,
    /// Kill only the tasks at this address (repeatable): master[0], worker["host"]. For exceptional cases.
    #[arg(long = "target", value_name = "ADDRESS")]
    pub targets: Vec<crate::address::Address>,
}

pub fn apply(g: &Global, args: &ApplyArgs) -> CliResult {
    if args.refresh_only {
        return super::refresh::apply(g, &args.run.mesos, &args.run);
    }
    let mut g = g.clone();
    let saved = match &args.planfile {
        Some(path) if !args.addresses.targets.is_empty() || !args.addresses.replace.is_empty() => {
            return Err(super::CliError::msg(format!(
                "--target and --replace cannot change a saved plan: {} is applied exactly as it was reviewed. Make the plan with them instead: `alluxio-mesos plan --target ... -o {}`",
                path.display(),
                path.display()
            )));
        }
        Some(path) => {
            let pf = PlanFile::read(path)?;
            // The plan names its deployment; use it unless -c says otherwise.
            if g.config.as_os_str() == "alluxio-mesos.toml" {
                g.config = pf.deployment_file.clone();
            }
            Some(Box::new((path.clone(), pf)))
        }
        None => None,
    };
    let desired = context::load_desired_for(&g, &args.run.mesos)?;
    execute(
        &g,
        &desired,
        &args.run,
        Mode::Apply {
            saved,
            rollback: args.rollback_on_failure,
            launch: args.launch.clone(),
            addresses: args.addresses.clone(),
        },
    )
}

pub fn destroy(g: &Global, args: &DestroyArgs) -> CliResult {
    let desired = context::load_desired_for(g, &args.run.mesos)?;
    execute(
        g,
        &desired,
        &args.run,
        Mode::Destroy {
            teardown: args.teardown,
            targets: args.targets.clone(),
        },
    )
}

enum Mode {
    Apply {
        saved: Option<Box<(PathBuf, PlanFile)>>,
        rollback: bool,
        launch: LaunchArgs,
        addresses: super::AddressArgs,
    },
    Destroy {
        teardown: bool,
        targets: Vec<crate::address::Address>,
    },
}

fn execute(g: &Global, desired: &Desired, run: &RunArgs, mode: Mode) -> CliResult {
    let location = context::state_location_for(g, desired)?;
    let operation = match mode {
        Mode::Apply { .. } => "apply",
        Mode::Destroy { .. } => "destroy",
    };
    let opening = std::time::Instant::now();
    let mut store = StateStore::open_at(&location, &desired.name, operation, run.lock_timeout)?;
    if let Some(dead) = store.took_over() {
        eprintln!("{}", crate::render::state::took_over_lock(&location, dead));
    }
    if g.verbose > 0 {
        eprintln!(
            "State: {location} (locked and read in {})",
            crate::timing::elapsed(opening)
        );
    }
    let conn = context::connect(g, &run.mesos, desired)?;
    let result = execute_with(g, desired, run, mode, &mut store, &conn);
    conn.close();
    store.close()?;
    result
}

fn execute_with(
    g: &Global,
    desired: &Desired,
    run: &RunArgs,
    mode: Mode,
    store: &mut StateStore,
    conn: &Connection,
) -> CliResult {
    let state = (!store.is_new()).then(|| store.state().clone());
    let live = conn.fetch_live(desired, state.as_ref(), g.verbose > 0)?;
    refuse_pre_v1_master(&live, &mode)?;
    let rollback = matches!(mode, Mode::Apply { rollback: true, .. });
    let launch = match &mode {
        Mode::Apply { launch, .. } => Some(launch.clone()),
        Mode::Destroy { .. } => None,
    };
    let (plan, approved, teardown): (Plan, bool, bool) = match mode {
        Mode::Apply {
            saved: Some(saved), ..
        } => {
            let (path, pf) = *saved;
            let hasher = secret_hasher(desired, state.as_ref());
            pf.check_fresh(&path, desired, &hasher, &live, state.as_ref())?;
            // A reviewed plan file is the approval.
            (pf.plan, true, false)
        }
        Mode::Apply {
            saved: None,
            addresses,
            ..
        } => {
            addresses.check(desired, &live, state.as_ref())?;
            (
                context::plan_for(
                    desired,
                    &live,
                    state.as_ref(),
                    &addresses.options(false)?,
                    g.verbose > 0,
                )?,
                run.auto_approve,
                false,
            )
        }
        Mode::Destroy { teardown, targets } => {
            let addresses = super::AddressArgs {
                targets,
                replace: Vec::new(),
            };
            addresses.check(desired, &live, state.as_ref())?;
            let opts = addresses.options(true)?;
            (
                context::plan_for(desired, &live, state.as_ref(), &opts, g.verbose > 0)?,
                run.auto_approve,
                teardown,
            )
        }
    };
    let opts = crate::render::Options {
        color: color_enabled(g),
        ..Default::default()
    };
    print!("{}", render(&plan, Format::Text, &opts));
    // Even with nothing to change, apply subscribes (when the framework
    // exists): that resets Mesos's failover timer, so running apply more
    // often than `failover_timeout` keeps the tasks alive, and the
    // reconciliation that follows brings the state file up to date.
    // Tearing another framework down is confirmed even for a saved plan.
    let takeover_unconfirmed = plan.takeover.is_some() && !run.auto_approve;
    if ((plan.has_changes() || teardown) && !approved) || takeover_unconfirmed {
        let takeover = plan
            .takeover
            .as_ref()
            .map(|t| format!("tear down AlluxioFramework {:?} and ", t.framework_name))
            .unwrap_or_default();
        let what = if plan.destroy {
            "destroy every task of this deployment".to_string()
        } else {
            format!("{takeover}apply this plan")
        };
        let refusal = format!(
            "refusing to {what} without confirmation: standard input is not a terminal, and an answer piped in (such as `yes |`) would approve a plan nobody read. Review the plan, then use --auto-approve, or `plan -o FILE` and `apply FILE` to apply exactly the reviewed plan"
        );
        if !super::confirm(
            &format!("\nDo you want to {what}? Only 'yes' will be accepted: "),
            &refusal,
        )? {
            println!("Cancelled; nothing was changed.");
            return Ok(exit::of_run(exit::RunEnd::Cancelled));
        }
    }

    let leader = base_url(&live.source);
    if let Some(t) = &plan.takeover {
        super::takeover::perform(g, conn, desired, &leader, t, state.as_ref())?;
    }
    if g.verbose > 0 {
        eprintln!("Scheduler API: {leader}/api/v1/scheduler");
    }
    let client = conn.scheduler_client(&leader, desired);
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    let defaults = ApplyOptions::default();
    let opts = ApplyOptions {
        offer_timeout: launch
            .as_ref()
            .map_or(defaults.offer_timeout, |l| l.offer_timeout),
        settle: launch.as_ref().map_or(defaults.settle, |l| l.settle_time),
        rollback,
        verbose: g.verbose > 0,
        ..defaults
    };
    let mut progress = crate::render::apply::for_stderr();
    let report = conn.rt.block_on(async {
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                flag.store(true, Ordering::SeqCst);
            }
        });
        let mut engine = Engine {
            desired,
            client: &client,
            store,
            opts,
            interrupted,
            progress: progress.as_mut(),
            teardown,
            reconciling: Default::default(),
            lost_agents: Default::default(),
            by_task: Default::default(),
            declined_for_long: false,
        };
        engine.run(&plan).await
    })?;
    // Where the leader was, for `plan --refresh-only` to tell a change.
    let leader = context::leader_to_record(desired, &run.mesos, &live);
    if !store.is_new() && leader.is_some() && store.state().mesos_leader != leader {
        store.update(|s| s.mesos_leader = leader)?;
    }
    let summary = RunSummary::of(&report, &plan);
    print!("{}", crate::render::apply::summary(&report, &summary));
    if let Some(t) = &plan.targeting {
        print!("{}", crate::render::apply::targeted_note(t));
    }
    if let (Some(t), false) = (&plan.takeover, summary.complete()) {
        print!("{}", crate::render::apply::takeover_incomplete(t));
    }
    Ok(exit::of_run(exit::RunEnd::Ran(&summary)))
}

/// apply and destroy speak the v1 scheduler HTTP API (Mesos 1.0 and
/// later); a master that reports an older version is refused before
/// anything is asked of it. A master that reports no version is tried.
fn refuse_pre_v1_master(
    live: &crate::live::LiveCluster,
    mode: &Mode,
) -> Result<(), super::CliError> {
    let Some(version) = live.version.as_deref() else {
        return Ok(());
    };
    if crate::mesos::scheduler::speaks_v1_scheduler_api(version) {
        return Ok(());
    }
    let command = match mode {
        Mode::Apply { .. } => "apply",
        Mode::Destroy { .. } => "destroy",
    };
    Err(super::CliError::msg(format!(
        "the Mesos master at {} runs Mesos {version}: {command} speaks the v1 scheduler HTTP API, which needs Mesos {}.0 or later. Nothing was changed. `plan` (and show, output, state) still work against this master (state documents of Mesos 0.19 on); upgrade the masters to apply",
        base_url(&live.source),
        crate::mesos::scheduler::MIN_MESOS_MAJOR
    )))
}
