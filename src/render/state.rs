//! The state as users see it: `show` without a plan file (text, Markdown,
//! JSON), `state list`, `state show` (text, `--json`), and what the state
//! subcommands that change it say they did.

use crate::address::Address;
use crate::state::{self, RecordedState, State, StateLocation, TaskRecord};
use std::collections::BTreeMap;
use std::path::Path;

/// `show` and the state commands when nothing was stored yet.
pub fn nothing_applied(location: &StateLocation) -> String {
    format!("No state at {location}: nothing has been applied yet.\n")
}

/// `pending`, or the Mesos state last seen.
fn recorded(state: RecordedState) -> &'static str {
    match state {
        RecordedState::Pending => "pending",
        RecordedState::Mesos(t) => t.as_str(),
    }
}

/// `show`: the deployment, then one line per record.
pub fn text(st: &State) -> String {
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

/// `show --format markdown`: a table of the records.
pub fn markdown(st: &State) -> String {
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

/// `show --format json`: the state as stored.
pub fn json(st: &State) -> String {
    let mut out = serde_json::to_string_pretty(st).expect("State always serializes to JSON");
    out.push('\n');
    out
}

/// `state list`: one line per address, sorted: the address, the state of
/// its current record and its agent. An address with other records too
/// (an interrupted replacement) says how many.
pub fn list(st: &State) -> String {
    let mut by_address: BTreeMap<String, Vec<&TaskRecord>> = BTreeMap::new();
    for t in &st.tasks {
        by_address.entry(t.address.to_string()).or_default().push(t);
    }
    let width = by_address.keys().map(|a| a.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (address, records) in &by_address {
        let current =
            state::current_record(records.iter().copied()).expect("an address listed has a record");
        let others = match records.len() - 1 {
            0 => String::new(),
            n => format!("  (+{n} other record(s): `state show '{address}'`)"),
        };
        out.push_str(&format!(
            "{address:<width$}  {:<13}  {} ({}){others}\n",
            recorded(current.state),
            current.hostname,
            current.agent_id
        ));
    }
    out
}

/// `state show ADDRESS`: the records of one address as `key: value`
/// lines, a blank line between.
pub fn records_text(records: &[&TaskRecord]) -> String {
    let mut out = String::new();
    for (i, t) in records.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let ports: Vec<String> = t.ports.iter().map(u16::to_string).collect();
        let lines = [
            ("address", t.address.to_string()),
            ("task", t.task_id.clone()),
            ("state", recorded(t.state).to_string()),
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

/// `state show ADDRESS --json`: the records as a JSON array.
pub fn records_json(records: &[&TaskRecord]) -> String {
    let mut out = serde_json::to_string_pretty(records).expect("records serialize");
    out.push('\n');
    out
}

/// `state rm`.
pub fn removed(address: &Address, location: &StateLocation, task_ids: &[String]) -> String {
    format!(
        "Removed {} record(s) of {address} from {location}; Mesos was not touched. Plans now show task(s) {} as unmanaged; `alluxio-mesos state import '{address}' TASK_ID` takes one back.\n",
        task_ids.len(),
        task_ids.join(", ")
    )
}

/// `state import`.
pub fn imported(task_id: &str, address: &Address, location: &StateLocation) -> String {
    format!(
        "Imported task {task_id} as {address} into {location}; run `alluxio-mesos plan` to see what it means.\n"
    )
}

/// `state push`.
pub fn pushed(file: &Path, location: &StateLocation, serial: u64) -> String {
    format!(
        "Pushed {} to {location} (serial {serial}).\n",
        file.display()
    )
}

/// `state migrate`.
pub fn migrated(deployment: &str, from: &StateLocation, to: &StateLocation, serial: u64) -> String {
    format!(
        "Copied the state of {deployment:?} from {from} to {to} (serial {serial}). The old copy was left in place: \
         point every run at the new one (--state, or [state] url = \"{to}\" in the deployment file), then delete the old one.\n"
    )
}

/// apply and destroy, when the previous run died holding the lock.
pub fn took_over_lock(location: &StateLocation, dead: &state::LockHolder) -> String {
    format!(
        "Note: took over the lock of {location} from {dead}, which ended without releasing it; this run reconciles what it left in flight."
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::TaskResources;
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
        let text = list(&st);
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
