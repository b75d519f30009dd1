//! `plan --refresh-only` and `apply --refresh-only`: what changed in Mesos
//! since the last apply, shown, or recorded in the state; Mesos itself is
//! never asked to change anything (no subscription, no call).

use super::{context, exit, CliError, CliResult, Global, MesosArgs};
use crate::desired::Desired;
use crate::drift::{self, Drift};
use crate::live::LiveCluster;
use crate::mesos::Connection;
use crate::plan::PlanOptions;
use crate::render::Format;
use crate::state::{State, StateStore};
use std::path::Path;

/// Where the live cluster is read from.
enum Source<'a> {
    Master(&'a Connection),
    /// A saved `/master/state` document (`--mesos-state`).
    Saved(&'a Path),
}

/// The drift of `desired` against what `source` shows; with the live
/// cluster read and the leading master's URL to record.
fn observe(
    g: &Global,
    m: &MesosArgs,
    desired: &Desired,
    state: Option<&State>,
    source: Source,
) -> Result<(LiveCluster, Drift, Option<String>), CliError> {
    let (live, leader, statuses) = match source {
        // A saved document names no leader that means anything now, and
        // has no statuses to ask for.
        Source::Saved(file) => (
            context::acquire_live(g, m, desired, state, Some(file))?,
            None,
            Default::default(),
        ),
        Source::Master(conn) => {
            let live = conn.fetch_live(desired, state, g.verbose > 0)?;
            let leader = context::leader_to_record(desired, m, &live);
            let ended = drift::ended_task_ids(&live, state);
            let base = crate::mesos::base_url(&live.source);
            // Reasons and messages enrich the report; without them it
            // still stands (a master that refuses GET_TASKS, say).
            let statuses = conn.latest_statuses(&base, &ended).unwrap_or_else(|e| {
                eprintln!(
                    "Warning: {e}; the ended tasks are shown without Mesos's reasons and messages"
                );
                Default::default()
            });
            (live, leader, statuses)
        }
    };
    let plan = context::plan_for(desired, &live, state, &PlanOptions::default(), false)?;
    let drift = drift::detect(&live, state, &plan, &statuses, leader.as_deref());
    Ok((live, drift, leader))
}

/// `plan --refresh-only`: the drift, in the format asked for; with
/// `--detailed-exitcode`, 2 when there is any.
pub fn plan(
    g: &Global,
    m: &MesosArgs,
    format: Format,
    saved: Option<&Path>,
    detailed_exitcode: bool,
) -> CliResult {
    if format == Format::Html {
        return Err(CliError::msg(
            "--refresh-only has no HTML form: use --format text, markdown or json",
        ));
    }
    let desired = context::load_desired_for(g, m)?;
    let state = context::load_state(g, &desired)?;
    let (_, drift, _) = match saved {
        Some(file) => observe(g, m, &desired, state.as_ref(), Source::Saved(file))?,
        None => {
            let conn = context::connect(g, m, &desired)?;
            let observed = observe(g, m, &desired, state.as_ref(), Source::Master(&conn));
            conn.close();
            observed?
        }
    };
    print!(
        "{}",
        match format {
            Format::Markdown => crate::render::drift::markdown(&drift),
            Format::Json => crate::render::drift::json(&drift),
            _ => crate::render::drift::text(&drift),
        }
    );
    Ok(if detailed_exitcode && !drift.is_empty() {
        exit::CHANGES
    } else {
        exit::OK
    })
}

/// `apply --refresh-only`: the drift recorded in the state, under its
/// lock, after confirmation; nothing launched or killed.
pub fn apply(g: &Global, m: &MesosArgs, run: &super::apply::RunArgs) -> CliResult {
    let desired = context::load_desired_for(g, m)?;
    let location = context::state_location_for(g, &desired)?;
    let mut store = StateStore::open_at(&location, &desired.name, "apply", run.lock_timeout)?;
    if let Some(dead) = store.took_over() {
        eprintln!("{}", crate::render::state::took_over_lock(&location, dead));
    }
    if store.is_new() {
        store.close()?;
        println!("No state yet at {location}: nothing was applied, so there is nothing to record.");
        return Ok(exit::OK);
    }
    let conn = context::connect(g, m, &desired)?;
    let state = store.state().clone();
    let observed = observe(g, m, &desired, Some(&state), Source::Master(&conn));
    conn.close();
    let (live, drift, leader) = match observed {
        Ok(o) => o,
        Err(e) => {
            store.close()?;
            return Err(e);
        }
    };
    print!("{}", crate::render::drift::text(&drift));
    if drift.is_empty() {
        store.close()?;
        println!("Nothing to record; the state was not written.");
        return Ok(exit::OK);
    }
    if !run.auto_approve {
        let refusal = "refusing to record the drift without confirmation: standard input is not a terminal. Review it with `alluxio-mesos plan --refresh-only`, then use --auto-approve";
        let approved = super::confirm(
            "\nDo you want to record these findings in the state? Mesos is not changed. Only 'yes' will be accepted: ",
            refusal,
        );
        match approved {
            Ok(true) => {}
            Ok(false) => {
                store.close()?;
                println!("Cancelled; nothing was recorded.");
                return Ok(exit::of_run(exit::RunEnd::Cancelled));
            }
            Err(e) => {
                store.close()?;
                return Err(e);
            }
        }
    }
    let before = store.state().serial;
    let mut changed = 0;
    store.update(|s| changed = drift::record(s, &live, leader.as_deref()))?;
    let after = store.state().serial;
    store.close()?;
    println!(
        "Recorded {} finding(s) in the state ({changed} record(s) changed, serial {before} -> {after}). Nothing was launched or killed.",
        drift.findings.len()
    );
    Ok(exit::OK)
}
