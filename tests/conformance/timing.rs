//! Timing fidelity: what the sessions timed on real Mesos and on the
//! emulator (with its default clocks), side by side. The emulator may be
//! off by the stated tolerance: wide enough for a loaded 2-core machine
//! (both run at once, under the same load), narrow enough to catch a clock
//! that stands for another figure (a 100 ms allocation interval against
//! Mesos's 1 s, a missing 5 s default refusal, a resend that never comes).

use crate::compare::Difference;
use std::time::Duration;

/// Each timed step, the tolerance and what Mesos's default stands behind it.
const TOLERANCES: &[(&str, u64, &str)] = &[
    (
        "launch to first update (TASK_STARTING)",
        1_000,
        "the agent's launch: fetch, fork, executor start",
    ),
    (
        "launch to TASK_RUNNING, updates acknowledged",
        1_500,
        "as above, and the command's start",
    ),
    (
        "unacknowledged update sent again after",
        3_000,
        "the agent's first status update retry, 10 s",
    ),
    (
        "acknowledgement to the next update (TASK_RUNNING)",
        1_000,
        "the agent forwards the next update on acknowledgement",
    ),
    (
        "KILL to the terminal update",
        1_500,
        "SIGTERM to the command, its exit reported",
    ),
    (
        "SUBSCRIBE to the first offers",
        500,
        "the master allocates at once for a new framework",
    ),
    (
        "REVIVE to offers",
        500,
        "the master allocates at once on REVIVE",
    ),
    (
        "DECLINE without filters to offers (refuse_seconds)",
        2_000,
        "Filters' default refuse_seconds, 5 s, then the next allocation (1 s)",
    ),
    (
        "DECLINE for 0 seconds to offers (allocation interval)",
        500,
        "the master's --allocation_interval, 1 s",
    ),
    (
        "SUBSCRIBED to the first HEARTBEAT",
        1_000,
        "the master sends one at once",
    ),
    (
        "HEARTBEAT interval",
        2_000,
        "the master's heartbeat interval, 15 s",
    ),
    (
        "disconnect to removal, failover_timeout 1 s",
        3_000,
        "the framework's failover_timeout",
    ),
];

pub fn tolerance(what: &str) -> Duration {
    let row = TOLERANCES
        .iter()
        .find(|(name, ..)| *name == what)
        .unwrap_or_else(|| panic!("timed step {what:?} has no tolerance in timing.rs"));
    Duration::from_millis(row.1)
}

/// Prints the timings side by side; a difference per step the emulator is
/// off by more than its tolerance, or that only one side timed.
pub fn compare(
    version: &str,
    real: &[(&'static str, Duration)],
    sim: &[(&'static str, Duration)],
) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut diff = |what: &str, text: String| {
        out.push(Difference {
            exchange: "timing".to_string(),
            path: what.to_string(),
            what: text,
        })
    };
    for (what, _, why) in TOLERANCES {
        let r = real.iter().find(|(n, _)| n == what).map(|(_, d)| *d);
        let s = sim.iter().find(|(n, _)| n == what).map(|(_, d)| *d);
        let ms =
            |d: Option<Duration>| d.map_or("-".to_string(), |d| format!("{} ms", d.as_millis()));
        println!(
            "timing {version}: {what}: real {}, mesos-sim {} (tolerance {} ms; {why})",
            ms(r),
            ms(s),
            tolerance(what).as_millis()
        );
        match (r, s) {
            (Some(r), Some(s)) if r.abs_diff(s) > tolerance(what) => diff(
                what,
                format!(
                    "real {} ms, mesos-sim {} ms: off by more than {} ms",
                    r.as_millis(),
                    s.as_millis(),
                    tolerance(what).as_millis()
                ),
            ),
            (Some(_), None) => diff(what, "timed on real Mesos only".into()),
            (None, Some(_)) => diff(what, "timed on mesos-sim only".into()),
            _ => {}
        }
    }
    for (what, _) in real.iter().chain(sim) {
        tolerance(what);
    }
    out
}
