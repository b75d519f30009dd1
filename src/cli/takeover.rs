//! The takeover of a running AlluxioFramework, before apply launches: the
//! operator API's TEARDOWN, then a bounded wait until Mesos no longer
//! lists the framework as registered. Its tasks' resources come back to
//! the allocator as they end, and apply's launches wait for those offers.

use super::{CliError, Global};
use crate::desired::Desired;
use crate::mesos::Connection;
use crate::plan::model::Takeover;
use crate::state::State;
use std::time::{Duration, Instant};

/// How long the old framework may stay listed after its TEARDOWN.
const GONE_WITHIN: Duration = Duration::from_secs(60);

pub fn perform(
    g: &Global,
    conn: &Connection,
    desired: &Desired,
    leader: &str,
    t: &Takeover,
    state: Option<&State>,
) -> Result<(), CliError> {
    conn.teardown(leader, &t.framework_id, desired)
        .map_err(|e| {
            CliError::msg(format!(
                "{e}. Nothing was changed: AlluxioFramework {:?} still runs",
                t.framework_name
            ))
        })?;
    println!(
        "Tore down AlluxioFramework {:?} ({}): Mesos kills its {} task(s).",
        t.framework_name,
        t.framework_id,
        t.tasks.len()
    );
    let start = Instant::now();
    loop {
        let live = conn.fetch_live(desired, state, g.verbose > 0)?;
        let listed = live
            .predecessor
            .as_ref()
            .is_some_and(|f| f.id == t.framework_id);
        if !listed {
            return Ok(());
        }
        if start.elapsed() >= GONE_WITHIN {
            eprintln!(
                "Warning: Mesos still lists framework {} {}s after its TEARDOWN; launching anyway (each launch waits for an offer that fits)",
                t.framework_id,
                GONE_WITHIN.as_secs()
            );
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}
