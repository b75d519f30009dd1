//! `--target`: a plan limited to some addresses and to what they need.
//!
//! As with Terraform's `-target`, the rest of the deployment is planned as
//! usual and then left out, so the plan can say how much it leaves out and
//! `plan --detailed-exitcode` can still judge the whole deployment.

use crate::address::{Address, Role};
use crate::desired::Desired;
use crate::live::LiveCluster;
use crate::plan::model::{Action, Change, PlacementFailure, Targeting};
use crate::state::State;
use std::collections::BTreeSet;

/// Every address `--target` and `--replace` may name: the masters the
/// deployment wants, a worker on each agent, and every address that has
/// a task now (live, or recorded in the state).
pub fn known_addresses(
    desired: &Desired,
    live: &LiveCluster,
    state: Option<&State>,
) -> BTreeSet<Address> {
    let mut known: BTreeSet<Address> = (0..desired.master.count).map(Address::Master).collect();
    known.extend(
        live.agents
            .iter()
            .map(|a| Address::Worker(a.hostname.clone())),
    );
    known.extend(
        crate::plan::existing::collect(live, state)
            .slots
            .into_keys(),
    );
    known
}

/// Up to ten addresses, and how many more there are.
pub fn list_some(addresses: &BTreeSet<Address>) -> String {
    const SHOWN: usize = 10;
    if addresses.is_empty() {
        return "none".into();
    }
    let mut s = addresses
        .iter()
        .take(SHOWN)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if addresses.len() > SHOWN {
        s.push_str(&format!(" and {} more", addresses.len() - SHOWN));
    }
    s
}

/// The outcome of [`limit`]: what the plan says of its targets, and the
/// changes it dropped (whose tasks keep running as they are).
pub struct Limited {
    pub targeting: Targeting,
    pub left_out_changes: Vec<Change>,
}

/// Keeps the changes and placement failures of `targets`, plus what they
/// need: with ZooKeeper off, workers are started with the hostname of
/// `workers_wait_for` (master[0]), so a targeted worker that is launched
/// or replaced brings that master's launch or replacement with it.
pub fn limit(
    changes: &mut Vec<Change>,
    failures: &mut Vec<PlacementFailure>,
    targets: &[Address],
    workers_wait_for: Option<&Address>,
) -> Limited {
    let launches = |c: &Change| c.action.after().is_some();
    let mut wanted: Vec<Address> = targets.to_vec();
    let mut needed = Vec::new();
    if let Some(master) = workers_wait_for {
        let worker_launched = changes
            .iter()
            .any(|c| c.role() == Role::Worker && targets.contains(&c.address) && launches(c));
        let master_launched = changes.iter().any(|c| c.address == *master && launches(c));
        if worker_launched && master_launched && !wanted.contains(master) {
            wanted.push(master.clone());
            needed.push(master.clone());
        }
    }
    let (kept, outside): (Vec<Change>, Vec<Change>) = std::mem::take(changes)
        .into_iter()
        .partition(|c| wanted.contains(&c.address));
    *changes = kept;
    // A failure of no particular address (workers on every agent) concerns
    // the targets when one of them has its role.
    let concerns = |f: &PlacementFailure| match &f.address {
        Some(a) => wanted.contains(a),
        None => wanted.iter().any(|a| a.role() == f.role),
    };
    let (kept, dropped): (Vec<PlacementFailure>, Vec<PlacementFailure>) =
        std::mem::take(failures).into_iter().partition(concerns);
    *failures = kept;
    let left_out_changes: Vec<Change> = outside
        .into_iter()
        .filter(|c| !matches!(c.action, Action::NoOp { .. }))
        .collect();
    let unplaced: u32 = dropped.iter().map(|f| f.unplaced).sum();
    Limited {
        targeting: Targeting {
            targets: targets.to_vec(),
            needed,
            left_out: left_out_changes.len() as u32 + unplaced,
        },
        left_out_changes,
    }
}
