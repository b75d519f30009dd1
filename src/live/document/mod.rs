//! Reading a Mesos state document into a [`LiveCluster`].
//!
//! Accepted shapes:
//! - `/master/state` (and the older `/master/state.json`, `/state.json`) of
//!   Mesos 0.19 to 1.x: `slaves` (or `agents`), `frameworks`,
//!   `completed_frameworks`, `orphan_tasks`; frameworks carry `tasks`,
//!   `completed_tasks`, `unreachable_tasks`;
//! - a saved v1 operator `GET_STATE` response (`{"type":"GET_STATE",
//!   "get_state":{...}}`): agents under `get_agents.agents` with
//!   `agent_info`, frameworks under `get_frameworks` with `framework_info`,
//!   tasks under `get_tasks` with their `framework_id`.
//!
//! Any field may be missing. Big clusters (10,000 agents, 100,000 tasks
//! of other frameworks, 150 MB) are read as a stream (`scan`) in one pass
//! and never held: agents are read as they come; of each framework only a
//! few header fields are read to decide whether it may be ours, and the
//! task lists of the others are skipped without being built. Candidates'
//! task lists that come before their header (unusual key order) are kept
//! as text until the header decides; loose tasks (`orphan_tasks`, v1
//! `get_tasks`, which comes before `get_frameworks`) of frameworks not met
//! yet likewise. Several documents can be read as one
//! ([`read_state_parts`]: `/master/slaves` plus `/master/frameworks`).
//!
//! # Which framework is ours
//! With `selector.id`, the framework with that ID (none if Mesos no longer
//! knows it: a framework of the same name is a different one). Otherwise
//! by name; when several share it, the best by, in order: registered
//! (`frameworks`) before torn down (`completed_frameworks`), active, most
//! recent `registered_time`, greatest ID (only so that the choice never
//! depends on document order).
//! The tasks of every framework that matches are read as they stream by,
//! so a malformed task of a same-named framework that is not chosen is
//! reported too.
//!
//! # Free resources of an agent
//! `free = usable - used - offered`, each part counted as below, scalars
//! never below zero:
//! - `usable`: what a framework of `selector.role` may be offered. With
//!   `Resource` arrays (v1), the resources unreserved or reserved for our role
//!   or one of its ancestors; with the summary maps, `resources` minus
//!   `reserved_resources` of every other role.
//! - `used`: `used_resources` (`allocated_resources` in v1), including our own
//!   tasks. When the reservations of used resources are known (v1 arrays or
//!   `used_resources_full`), only the part taken from `usable` counts; the
//!   summary map cannot say, so it is all subtracted: a task of another role
//!   running on that role's reservation is then subtracted twice. That errs
//!   on the side of "does not fit", never of launching into an agent that
//!   cannot take the task.
//! - `offered`: `offered_resources` (same rule for `offered_resources_full`)
//!   minus the offers held by our own framework on that agent. An offer to
//!   another framework is theirs until they accept or decline it, so counting
//!   it as free would promise what Mesos will not offer us now; our own
//!   outstanding offers are given back when our scheduler reconnects.

mod reduce;
mod shapes;
#[cfg(test)]
mod tests;
mod walk;

use self::reduce::*;
use self::shapes::*;
use self::walk::*;
use crate::live::error::{body_start, LiveError};
use crate::live::resources::{add, role_may_use, subtract, sum, ResourcesDoc};
use crate::live::scan::{Pos, ScanError, Scanner};
use crate::live::values::{Attributes, Id, Labels, Time};
use crate::live::{Agent, FrameworkSelector, LiveCluster, LiveFramework, LiveTask, Resources};
use mesos_api::TaskState;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize as DeriveDeserialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::io::{self, Read};
use std::path::Path;

/// Reads a state document held in memory. `source` (URL or path) names it
/// in messages and in [`LiveCluster::source`].
pub fn parse_state(
    bytes: &[u8],
    selector: &FrameworkSelector,
    source: &str,
) -> Result<LiveCluster, LiveError> {
    read_state(bytes, selector, source, &|e| LiveError::ReadFile {
        path: source.to_string(),
        cause: e.to_string(),
    })
}

/// Reads a saved state document as a stream (a document of a big cluster
/// is never held in memory); errors name the path (and line and column
/// for bad JSON).
pub fn read_state_file(
    path: &Path,
    selector: &FrameworkSelector,
) -> Result<LiveCluster, LiveError> {
    let shown = path.display().to_string();
    let io_error = |e: std::io::Error| LiveError::ReadFile {
        path: shown.clone(),
        cause: e.to_string(),
    };
    let file = std::fs::File::open(path).map_err(io_error)?;
    read_state(file, selector, &shown, &io_error)
}

/// Reads a state document from a byte stream without holding it: memory
/// stays at a fixed buffer plus the agents and our framework's tasks,
/// whatever the document's size. `io_error` turns a failed read into the
/// error the caller's source calls for.
pub fn read_state<R: Read>(
    src: R,
    selector: &FrameworkSelector,
    source: &str,
    io_error: &dyn Fn(io::Error) -> LiveError,
) -> Result<LiveCluster, LiveError> {
    read_state_parts(vec![src], selector, source, io_error)
}

/// Reads several documents into one cluster, as if they were one: the
/// answers of `/master/slaves` and `/master/frameworks` together make what
/// `/master/state` would have said about agents and our framework.
pub fn read_state_parts<R: Read>(
    srcs: Vec<R>,
    selector: &FrameworkSelector,
    source: &str,
    io_error: &dyn Fn(io::Error) -> LiveError,
) -> Result<LiveCluster, LiveError> {
    let mut collected = Collected::default();
    for src in srcs {
        collected = read_part(src, selector, source, io_error, collected)?;
    }
    collected.finish(source, selector)
}

fn read_part<R: Read>(
    src: R,
    selector: &FrameworkSelector,
    source: &str,
    io_error: &dyn Fn(io::Error) -> LiveError,
    collected: Collected,
) -> Result<Collected, LiveError> {
    let mut sc = Scanner::new(src);
    let lift = |e: ScanError| match e {
        ScanError::Io(e) => io_error(e),
        ScanError::Syntax { pos, msg } => LiveError::BadDocument {
            origin: source.to_string(),
            line: pos.line,
            column: pos.column,
            cause: format!("invalid JSON: {msg}"),
        },
    };
    // A byte order mark is tolerated; anything but an object is refused
    // with a look at what came instead (an HTML error page, say).
    let start = sc.buffered().map_err(lift)?;
    if start.starts_with(b"\xEF\xBB\xBF") {
        for _ in 0..3 {
            sc.bump();
        }
    }
    let first = sc.ws().map_err(lift)?;
    if first != Some(b'{') {
        let start = body_start(sc.buffered().map_err(lift)?);
        return Err(LiveError::NotJson {
            origin: source.to_string(),
            cause: match first {
                None => "it is empty".to_string(),
                Some(_) => "a state document is a JSON object".to_string(),
            },
            start,
        });
    }
    let mut walk = Walk {
        sc,
        source,
        selector,
        copy: Vec::new(),
        collected,
    };
    match walk.document() {
        Ok(()) => Ok(walk.collected),
        Err(Failure::Scan(e)) => Err(lift(e)),
        Err(Failure::Live(e)) => Err(e),
    }
}

/// Turns a serde error inside a copied value into a position in the whole
/// document: serde counts from the copy's start.
fn bad(source: &str, e: &serde_json::Error, start: Pos) -> LiveError {
    let (mut line, mut column) = (e.line(), e.column());
    if line == 1 {
        column += start.column - 1;
    }
    line += start.line - 1;
    let cause = match e.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            format!("invalid JSON: {}", strip_position(e))
        }
        _ => strip_position(e),
    };
    LiveError::BadDocument {
        origin: source.to_string(),
        line,
        column,
        cause,
    }
}

/// serde_json ends messages with " at line L column C"; we print the
/// position in front instead.
fn strip_position(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

enum Failure {
    Scan(ScanError),
    Live(LiveError),
}

impl From<ScanError> for Failure {
    fn from(e: ScanError) -> Self {
        Failure::Scan(e)
    }
}

impl From<LiveError> for Failure {
    fn from(e: LiveError) -> Self {
        Failure::Live(e)
    }
}

/// Which list a task came from: our tasks are merged in this order (it
/// decides between entries of equal rank for a task ID listed twice).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum TaskList {
    Tasks = 0,
    Unreachable = 1,
    Completed = 2,
}

/// Where a loose task was listed, in the order they are merged.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum LooseList {
    Orphan = 0,
    V1Tasks = 1,
    V1Unreachable = 2,
    V1Completed = 3,
    V1Orphan = 4,
}

/// A framework that may be ours: what ranks it, and its tasks and offers.
struct FrameworkCandidate {
    registered: bool,
    /// Listed by a v1 `GET_STATE` answer rather than the old endpoints.
    v1: bool,
    head: FrameworkHead,
    tasks: Vec<(TaskList, TaskDoc)>,
    offers: Vec<OfferDoc>,
}

/// An agent read before our framework's offers are known: `free` waits
/// for them.
struct PartialAgent {
    agent: Agent,
    /// `usable - used`.
    unused: Resources,
    offered: Resources,
}

/// Everything kept from the document: only what the plan needs.
#[derive(Default)]
struct Collected {
    pid: Option<String>,
    leader: Option<String>,
    version: Option<String>,
    agents: Vec<PartialAgent>,
    v1_agents: Vec<PartialAgent>,
    /// Registered frameworks seen, ours or not.
    registered: usize,
    /// Agents a newly elected master recovered from its registry that have
    /// not registered with it again (`recovered_slaves`, v1
    /// `recovered_agents`): their tasks are missing from the document.
    recovering_agents: usize,
    candidates: Vec<FrameworkCandidate>,
    /// Whether any key of a master state document was met (`{"foo":1}`
    /// is not an empty cluster).
    recognised: bool,
    /// IDs of frameworks that are not ours: their loose tasks are dropped.
    others: HashSet<String>,
    /// Loose tasks of candidates, read when met.
    loose: Vec<(LooseList, String, TaskDoc)>,
    /// Loose tasks of frameworks not met yet (v1 lists tasks before
    /// frameworks): kept as text until the frameworks are known.
    pending_loose: Vec<(LooseList, String, Vec<u8>, Pos)>,
}

/// Top-level keys of which any one makes a document a master state (a
/// v1 document leaves out empty lists, so none of them is required).
const STATE_KEYS: [&str; 8] = [
    "pid",
    "leader",
    "version",
    "slaves",
    "agents",
    "frameworks",
    "completed_frameworks",
    "get_state",
];
