//! `alluxio-mesos state list | show ADDRESS | rm ADDRESS | import ADDRESS TASK_ID`.

use super::{context, CliError, CliResult, Global};
use crate::address::Address;
use crate::state::{self, StateStore};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct StateArgs {
    #[command(flatten)]
    pub state: super::StateArg,
    #[command(subcommand)]
    pub command: StateCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum StateCommand {
    /// List the addresses recorded in the state, sorted, with their task's state and agent.
    List,
    /// Show the records of one address (text; --json for JSON).
    Show {
        address: Address,
        /// Print the records as a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Stop managing a task (Mesos is not touched): plans no longer adopt it
    /// (they show it as an unmanaged task of ours and plan a new task for the
    /// address) until `state import` takes it back.
    Rm {
        address: Address,
        /// How long to wait for another run's lock.
        #[arg(long, default_value = "0s", value_parser = humantime::parse_duration)]
        lock_timeout: Duration,
    },
    /// Manage a running task of this deployment's framework under ADDRESS
    /// (reads the live cluster; Mesos is not touched).
    Import {
        address: Address,
        task_id: String,
        /// How long to wait for another run's lock.
        #[arg(long, default_value = "0s", value_parser = humantime::parse_duration)]
        lock_timeout: Duration,
        #[command(flatten)]
        mesos: super::MesosArgs,
    },
    /// Print the state JSON (from the file or ZooKeeper) on stdout.
    Pull,
    /// Upload a state JSON file as the current state (refuses another
    /// lineage or a lower serial unless --force).
    Push {
        file: PathBuf,
        /// Replace the stored state even if it is of another lineage or newer.
        #[arg(long)]
        force: bool,
        /// How long to wait for another run's lock.
        #[arg(long, default_value = "0s", value_parser = humantime::parse_duration)]
        lock_timeout: Duration,
    },
    /// Copy the state to another location (a file or zk://...), then use
    /// that location with --state or [state] url.
    Migrate {
        /// Where to: a file path or zk://host:2181/alluxio-mesos/<deployment>.
        #[arg(long, value_name = "FILE|URL")]
        to: String,
        /// Overwrite a state already at the destination.
        #[arg(long)]
        force: bool,
        /// How long to wait for either lock.
        #[arg(long, default_value = "0s", value_parser = humantime::parse_duration)]
        lock_timeout: Duration,
    },
}

pub fn run(g: &Global, cmd: &StateCommand) -> CliResult {
    let location = context::state_location(g)?;
    let missing = || {
        CliError::msg(format!(
            "no state at {location}: nothing has been applied yet"
        ))
    };
    match cmd {
        StateCommand::List => {
            let st = state::load_at(&location)?.ok_or_else(missing)?;
            print!("{}", list_text(&st));
        }
        StateCommand::Show { address, json } => {
            let st = state::load_at(&location)?.ok_or_else(missing)?;
            let records: Vec<_> = st.tasks.iter().filter(|t| &t.address == address).collect();
            if records.is_empty() {
                return Err(CliError::msg(format!(
                    "{address} is not in the state; `alluxio-mesos state list` shows what is"
                )));
            }
            if *json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&records).map_err(CliError::msg)?
                );
            } else {
                print!("{}", show_text(&records));
            }
        }
        StateCommand::Pull => {
            let st = state::load_at(&location)?.ok_or_else(missing)?;
            use std::io::Write;
            std::io::stdout()
                .write_all(&state::render_state(&st))
                .map_err(CliError::msg)?;
        }
        StateCommand::Push {
            file,
            force,
            lock_timeout,
        } => {
            let uploaded = state::load(file)?
                .ok_or_else(|| CliError::msg(format!("{} does not exist", file.display())))?;
            let mut store =
                StateStore::open_at(&location, &uploaded.deployment, "state push", *lock_timeout)?;
            store.replace(uploaded, *force)?;
            let serial = store.state().serial;
            store.close()?;
            println!("Pushed {} to {location} (serial {serial}).", file.display());
        }
        StateCommand::Migrate {
            to,
            force,
            lock_timeout,
        } => {
            let target = state::StateLocation::parse(to)?;
            if target == location {
                return Err(CliError::msg(format!("the state is already at {location}")));
            }
            let st = state::load_at(&location)?.ok_or_else(missing)?;
            // The source stays locked while it is copied, so no run writes it meanwhile.
            let source =
                StateStore::open_at(&location, &st.deployment, "state migrate", *lock_timeout)?;
            let mut dest =
                StateStore::open_at(&target, &st.deployment, "state migrate", *lock_timeout)?;
            if !dest.is_new() && !force {
                return Err(CliError::msg(format!(
                    "{target} already holds a state of deployment {:?} (serial {}); pass --force to replace it",
                    dest.state().deployment,
                    dest.state().serial
                )));
            }
            dest.replace(source.state().clone(), true)?;
            let serial = dest.state().serial;
            dest.close()?;
            source.close()?;
            println!(
                "Copied the state of {:?} from {location} to {target} (serial {serial}). The old copy was left in place: \
                 point every run at the new one (--state, or [state] url = \"{target}\" in the deployment file), then delete the old one.",
                st.deployment
            );
        }
        StateCommand::Rm {
            address,
            lock_timeout,
        } => {
            let st = state::load_at(&location)?.ok_or_else(missing)?;
            let mut store =
                StateStore::open_at(&location, &st.deployment, "state rm", *lock_timeout)?;
            let ids: Vec<String> = store
                .state()
                .tasks
                .iter()
                .filter(|t| &t.address == address)
                .map(|t| t.task_id.clone())
                .collect();
            if ids.is_empty() {
                return Err(CliError::msg(format!(
                    "{address} is not in the state; `alluxio-mesos state list` shows what is"
                )));
            }
            store.update(|s| {
                s.tasks.retain(|t| &t.address != address);
                s.unmanaged_task_ids.extend(ids.iter().cloned());
            })?;
            println!(
                "Removed {} record(s) of {address} from {location}; Mesos was not touched. Plans now show task(s) {} as unmanaged; `alluxio-mesos state import '{address}' TASK_ID` takes one back.",
                ids.len(),
                ids.join(", ")
            );
        }
        StateCommand::Import {
            address,
            task_id,
            lock_timeout,
            mesos,
        } => import(g, mesos, address, task_id, *lock_timeout)?,
    }
    Ok(0)
}

/// Records a running task of our framework under `address`, so that plans
/// manage it (the inverse of `state rm`).
fn import(
    g: &Global,
    m: &super::MesosArgs,
    address: &Address,
    task_id: &str,
    lock_timeout: Duration,
) -> Result<(), CliError> {
    let desired = context::load_desired(g)?;
    let location = context::state_location_for(g, &desired)?;
    let mut store = StateStore::open_at(&location, &desired.name, "state import", lock_timeout)?;
    let current = (!store.is_new()).then(|| store.state().clone());
    let live = context::acquire_live(g, m, &desired, current.as_ref(), None)?;
    let framework = live.framework.as_ref().ok_or_else(|| {
        CliError::msg(format!(
            "the framework of deployment {} is not registered with Mesos ({}): there is no task to import",
            desired.name, live.source
        ))
    })?;
    let task = framework
        .tasks
        .iter()
        .find(|t| t.id == task_id && t.state.is_active())
        .ok_or_else(|| {
            CliError::msg(format!(
                "{task_id} is not a running task of framework {} ({}); `alluxio-mesos plan` lists the unmanaged tasks of this deployment",
                framework.id, live.source
            ))
        })?;
    if store
        .state()
        .tasks
        .iter()
        .any(|t| &t.address == address && t.task_id != task_id)
    {
        return Err(CliError::msg(format!(
            "{address} already has a task in the state; `alluxio-mesos state rm '{address}'` it first"
        )));
    }
    let hostname = live
        .agents
        .iter()
        .find(|a| a.id == task.agent_id)
        .map_or_else(|| task.agent_id.clone(), |a| a.hostname.clone());
    let record = state::TaskRecord {
        address: address.clone(),
        task_id: task.id.clone(),
        role: address.role(),
        agent_id: task.agent_id.clone(),
        hostname,
        ports: task
            .resources
            .ports
            .ports()
            .filter_map(|p| u16::try_from(p).ok())
            .collect(),
        resources: state::TaskResources {
            cpus: task.resources.cpus,
            mem_mb: task.resources.mem_mb,
            ramdisk_mb: 0.0,
        },
        // Its label, or none: the next plan then says why it is replaced.
        config_hash: task
            .labels
            .get(crate::plan::LABEL_CONFIG_HASH)
            .cloned()
            .unwrap_or_default(),
        state: state::RecordedState::Mesos(task.state),
        updated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    store.update(|s| {
        s.unmanaged_task_ids.retain(|id| id != task_id);
        s.tasks.retain(|t| t.task_id != task_id);
        s.tasks.push(record);
        if s.framework_id.is_none() {
            s.framework_id = Some(framework.id.clone());
        }
    })?;
    store.close()?;
    println!(
        "Imported task {task_id} as {address} into {location}; run `alluxio-mesos plan` to see what it means."
    );
    Ok(())
}

/// One line per address, sorted: the address, the state of its current
/// record (the running one, else the newest) and its agent. An address with
/// other records too (an interrupted replacement) says how many.
fn list_text(st: &state::State) -> String {
    use std::collections::BTreeMap;
    let mut by_address: BTreeMap<String, Vec<&state::TaskRecord>> = BTreeMap::new();
    for t in &st.tasks {
        by_address.entry(t.address.to_string()).or_default().push(t);
    }
    let width = by_address.keys().map(|a| a.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (address, records) in &by_address {
        let current = current_record(records);
        let others = match records.len() - 1 {
            0 => String::new(),
            n => format!("  (+{n} other record(s): `state show '{address}'`)"),
        };
        out.push_str(&format!(
            "{address:<width$}  {:<13}  {} ({}){others}\n",
            recorded_state(current),
            current.hostname,
            current.agent_id
        ));
    }
    out
}

/// The running record of an address, else its most recent one.
fn current_record<'a>(records: &[&'a state::TaskRecord]) -> &'a state::TaskRecord {
    records
        .iter()
        .max_by_key(|t| {
            (
                matches!(t.state, state::RecordedState::Mesos(s) if s.is_active()),
                t.updated_at.clone(),
            )
        })
        .copied()
        .expect("an address listed has a record")
}

fn recorded_state(t: &state::TaskRecord) -> String {
    match t.state {
        state::RecordedState::Pending => "pending".to_string(),
        state::RecordedState::Mesos(s) => s.as_str().to_string(),
    }
}

/// The records of one address as `key: value` lines, a blank line between.
fn show_text(records: &[&state::TaskRecord]) -> String {
    let mut out = String::new();
    for (i, t) in records.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let ports: Vec<String> = t.ports.iter().map(u16::to_string).collect();
        let lines = [
            ("address", t.address.to_string()),
            ("task", t.task_id.clone()),
            ("state", recorded_state(t)),
            ("agent", format!("{} ({})", t.hostname, t.agent_id)),
            ("ports", ports.join(", ")),
            (
                "resources",
                format!(
                    "{} cpus, {} MB memory ({} MB ramdisk)",
                    t.resources.cpus, t.resources.mem_mb, t.resources.ramdisk_mb
                ),
            ),
            ("config hash", t.config_hash.clone()),
            ("updated", t.updated_at.clone()),
        ];
        for (k, v) in lines {
            out.push_str(&format!("{k:<12} {v}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{RecordedState, State, TaskRecord, TaskResources};
    use mesos_api::TaskState;

    fn record(address: &str, task: &str, state: RecordedState, at: &str) -> TaskRecord {
        let address: Address = address.parse().unwrap();
        TaskRecord {
            role: address.role(),
            address,
            task_id: task.into(),
            agent_id: format!("S-{task}"),
            hostname: format!("host-{task}"),
            ports: vec![],
            resources: TaskResources {
                cpus: 1.0,
                mem_mb: 1024.0,
                ramdisk_mb: 0.0,
            },
            config_hash: "h".into(),
            state,
            updated_at: at.into(),
        }
    }

    #[test]
    fn an_interrupted_replacement_lists_its_address_once_with_the_running_task() {
        let mut st = State::empty("d");
        st.tasks = vec![
            record(
                "worker[\"b\"]",
                "w-new",
                RecordedState::Pending,
                "2026-01-02T00:00:00Z",
            ),
            record(
                "master[0]",
                "m",
                RecordedState::Mesos(TaskState::Running),
                "2026-01-01T00:00:00Z",
            ),
            record(
                "worker[\"b\"]",
                "w-old",
                RecordedState::Mesos(TaskState::Running),
                "2026-01-01T00:00:00Z",
            ),
            record(
                "worker[\"a\"]",
                "w-a",
                RecordedState::Mesos(TaskState::Staging),
                "2026-01-01T00:00:00Z",
            ),
        ];
        let text = list_text(&st);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(
            lines[0].starts_with("master[0]  ") && lines[0].contains("TASK_RUNNING"),
            "{text}"
        );
        assert!(
            lines[1].starts_with("worker[\"a\"]") && lines[1].contains("TASK_STAGING"),
            "{text}"
        );
        assert!(
            lines[2].starts_with("worker[\"b\"]")
                && lines[2].contains("TASK_RUNNING")
                && lines[2].contains("host-w-old (S-w-old)")
                && lines[2].contains("+1 other record"),
            "{text}"
        );
    }
}
