//! What most commands load first: the deployment, the state file and the
//! live cluster (through [`crate::mesos`]), with errors that say which file
//! or URL and what to do.

use super::{CliError, Global, MesosArgs};
use crate::desired::{self, Desired};
use crate::live::{self, FrameworkSelector, LiveCluster};
use crate::mesos;
use crate::state::{self, State, StateLocation};
use std::path::{Path, PathBuf};

pub fn load_desired(g: &Global) -> Result<Desired, CliError> {
    let loaded = desired::load_with_warnings(&g.config).map_err(CliError::diagnostic)?;
    for w in loaded.warnings {
        eprintln!("{:?}", miette::Report::new(w));
    }
    Ok(loaded.desired)
}

/// The deployment as the commands that plan see it: on the embedded
/// emulator (`--mesos local` or `master = "local"`), which runs no Alluxio,
/// a task is started when Mesos runs it unless the file says `ready`.
pub fn load_desired_for(g: &Global, m: &MesosArgs) -> Result<Desired, CliError> {
    let mut desired = load_desired(g)?;
    if embedded(&desired, m) {
        desired.ask_mesos_unless_set();
    }
    Ok(desired)
}

/// Whether the command runs on the embedded emulator (`local`).
pub fn embedded(desired: &Desired, m: &MesosArgs) -> bool {
    match &m.mesos {
        Some(url) => url.trim() == "local",
        None => matches!(desired.mesos.master, Some(desired::MasterLocator::Local)),
    }
}

/// The leading master's URL as the state records it: none for the
/// embedded emulator, whose URL is new on every run.
pub fn leader_to_record(desired: &Desired, m: &MesosArgs, live: &LiveCluster) -> Option<String> {
    (!embedded(desired, m)).then(|| mesos::base_url(&live.source))
}

/// `alluxio-mesos.state.json` beside the deployment file.
fn default_state_file(g: &Global) -> PathBuf {
    let dir = g
        .config
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    dir.join("alluxio-mesos.state.json")
}

/// Where the state is: `--state`, else `[state] url` of the loaded
/// deployment, else the file beside the deployment file.
pub fn state_location_for(g: &Global, desired: &Desired) -> Result<StateLocation, CliError> {
    if let Some(s) = &g.state {
        return Ok(StateLocation::parse(s)?);
    }
    Ok(desired
        .state
        .clone()
        .unwrap_or_else(|| StateLocation::File(default_state_file(g))))
}

/// [`state_location_for`] for the commands that do not load the
/// deployment: only its `[state] url` is read (a deployment file that does
/// not read is then loaded in full, for the located errors).
pub fn state_location(g: &Global) -> Result<StateLocation, CliError> {
    if let Some(s) = &g.state {
        return Ok(StateLocation::parse(s)?);
    }
    if !g.config.exists() {
        return Ok(StateLocation::File(default_state_file(g)));
    }
    match desired::state_location_of(&g.config) {
        Some(found) => Ok(found.unwrap_or_else(|| StateLocation::File(default_state_file(g)))),
        None => state_location_for(g, &load_desired(g)?),
    }
}

pub fn load_state(g: &Global, desired: &Desired) -> Result<Option<State>, CliError> {
    let location = state_location_for(g, desired)?;
    let reading = std::time::Instant::now();
    let state = state::load_for_at(&location, &desired.name)?;
    if g.verbose > 0 {
        eprintln!(
            "State: {location} (read in {})",
            crate::timing::elapsed(reading)
        );
    }
    Ok(state)
}

/// Opens a connection to Mesos as the deployment and the command line say.
pub fn connect(
    g: &Global,
    m: &MesosArgs,
    desired: &Desired,
) -> Result<mesos::Connection, CliError> {
    let settings = mesos::Settings {
        master: m.mesos.clone(),
        ca_cert: m.ca_cert.clone(),
        insecure_skip_tls_verify: m.insecure_skip_tls_verify,
        retry_deadline: m.retry_deadline,
        http_timeout: m.http_timeout,
        deployment_file: g.config.clone(),
        verbose: g.verbose > 0,
    };
    Ok(mesos::Connection::open(&settings, desired)?)
}

/// Reads the live cluster from a saved document or the master.
pub fn acquire_live(
    g: &Global,
    m: &MesosArgs,
    desired: &Desired,
    state: Option<&State>,
    mesos_state: Option<&Path>,
) -> Result<LiveCluster, CliError> {
    if let Some(file) = mesos_state {
        let selector = FrameworkSelector::for_deployment(desired, state);
        return Ok(live::read_state_file(file, &selector)?);
    }
    let conn = connect(g, m, desired)?;
    let live = conn.fetch_live(desired, state, g.verbose > 0);
    conn.close();
    Ok(live?)
}

/// The plan for the deployment: with two or more running masters to
/// replace, ZooKeeper is asked which one leads Alluxio, and the plan
/// replaces it last (the order is part of what a reviewer approves).
pub fn plan_for(
    desired: &Desired,
    live: &LiveCluster,
    state: Option<&State>,
    opts: &crate::plan::PlanOptions,
    verbose: bool,
) -> Result<crate::plan::Plan, CliError> {
    use crate::apply::alluxio_leader::{find_leader, LEADER_TIMEOUT};
    let planning = std::time::Instant::now();
    let mut plan = crate::plan::make_plan(desired, live, state, opts);
    if plan.running_masters_replaced() >= 2 {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(CliError::msg)?;
        let leader = rt.block_on(find_leader(desired, LEADER_TIMEOUT));
        plan.replace_leader_last(&leader);
    }
    if verbose {
        eprintln!(
            "Plan: {} slot(s) planned in {}",
            plan.changes.len(),
            crate::timing::elapsed(planning)
        );
    }
    Ok(plan)
}
