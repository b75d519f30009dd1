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

use super::error::{body_start, LiveError};
use super::resources::{add, role_may_use, subtract, sum, ResourcesDoc};
use super::scan::{Pos, ScanError, Scanner};
use super::values::{Attributes, Id, Labels, Time};
use super::{Agent, FrameworkSelector, LiveCluster, LiveFramework, LiveTask, Resources};
use mesos_api::TaskState;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize as DeriveDeserialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::io::{self, Read};

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
    collected.finish(source)
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

#[derive(DeriveDeserialize)]
struct AgentInfoDoc {
    #[serde(default)]
    id: Option<Id>,
    #[serde(default)]
    hostname: Option<String>,
    #[serde(default)]
    attributes: Option<Attributes>,
    #[serde(default)]
    resources: Option<ResourcesDoc>,
}

#[derive(DeriveDeserialize)]
struct AgentDoc {
    #[serde(default)]
    id: Option<Id>,
    #[serde(default)]
    hostname: Option<String>,
    #[serde(default)]
    pid: Option<String>,
    #[serde(default)]
    attributes: Option<Attributes>,
    #[serde(default)]
    active: Option<bool>,
    #[serde(default)]
    deactivated: Option<bool>,
    #[serde(default, alias = "total_resources")]
    resources: Option<ResourcesDoc>,
    #[serde(default, alias = "allocated_resources")]
    used_resources: Option<ResourcesDoc>,
    #[serde(default)]
    offered_resources: Option<ResourcesDoc>,
    #[serde(default)]
    reserved_resources: Option<BTreeMap<String, ResourcesDoc>>,
    #[serde(default)]
    used_resources_full: Option<ResourcesDoc>,
    #[serde(default)]
    offered_resources_full: Option<ResourcesDoc>,
    #[serde(default)]
    agent_info: Option<AgentInfoDoc>,
}

#[derive(DeriveDeserialize)]
struct FrameworkInfoHead {
    #[serde(default)]
    id: Option<Id>,
    #[serde(default)]
    name: Option<String>,
}

/// What is read of every framework to choose ours; its task lists are
/// skipped without being built.
#[derive(DeriveDeserialize, Default)]
struct FrameworkHead {
    #[serde(default)]
    id: Option<Id>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    active: Option<bool>,
    #[serde(default)]
    registered_time: Option<Time>,
    #[serde(default)]
    framework_info: Option<FrameworkInfoHead>,
}

impl FrameworkHead {
    fn id(&self) -> Option<&str> {
        self.id
            .as_ref()
            .or(self.framework_info.as_ref().and_then(|i| i.id.as_ref()))
            .map(|i| i.0.as_str())
    }
    fn name(&self) -> Option<&str> {
        self.name
            .as_deref()
            .or(self.framework_info.as_ref().and_then(|i| i.name.as_deref()))
    }
}

#[derive(DeriveDeserialize)]
struct OfferDoc {
    #[serde(default, alias = "agent_id")]
    slave_id: Option<Id>,
    #[serde(default)]
    resources: Option<ResourcesDoc>,
}

#[derive(DeriveDeserialize)]
struct StatusDoc {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    timestamp: Option<Time>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(DeriveDeserialize)]
struct TaskDoc {
    #[serde(default, alias = "task_id")]
    id: Option<Id>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, alias = "agent_id")]
    slave_id: Option<Id>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    resources: Option<ResourcesDoc>,
    #[serde(default)]
    statuses: Option<Vec<StatusDoc>>,
    #[serde(default)]
    labels: Option<Labels>,
    /// Empty (or absent) for a command task.
    #[serde(default)]
    executor_id: Option<Id>,
}

/// A task outside any framework (`orphan_tasks`, v1 `get_tasks`): only
/// its framework ID is read, borrowed, to decide whether it is ours.
#[derive(DeriveDeserialize)]
struct LooseTaskHead<'a> {
    #[serde(default, borrow)]
    framework_id: Option<IdRef<'a>>,
}

/// An ID borrowed from the document when it has no escapes.
struct IdRef<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for IdRef<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = IdRef<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an ID: a string or {\"value\": string}")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(IdRef(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(IdRef(Cow::Owned(v.to_string())))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut value = None;
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    if key == "value" {
                        value = Some(map.next_value::<IdRef<'a>>()?);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                value.ok_or_else(|| de::Error::missing_field("value"))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
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
struct Candidate {
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
    candidates: Vec<Candidate>,
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

/// The walk through the document's keys.
struct Walk<'s, R> {
    sc: Scanner<R>,
    source: &'s str,
    selector: &'s FrameworkSelector,
    /// Reused buffer for copied values.
    copy: Vec<u8>,
    collected: Collected,
}

impl<R: Read> Walk<'_, R> {
    /// Reads the next value with serde (copied out of the stream first).
    fn value<T: for<'a> Deserialize<'a>>(&mut self) -> Result<T, Failure> {
        let start = self.sc.capture_into(&mut self.copy)?;
        serde_json::from_slice(&self.copy).map_err(|e| Failure::Live(bad(self.source, &e, start)))
    }

    /// Calls `each` for every element of the list that comes next
    /// (`null` is an empty list).
    fn list(
        &mut self,
        mut each: impl FnMut(&mut Self) -> Result<(), Failure>,
    ) -> Result<(), Failure> {
        if !self.sc.begin_array()? {
            return Ok(());
        }
        let mut first = true;
        while self.sc.next_element(&mut first)? {
            each(self)?;
        }
        Ok(())
    }

    /// Calls `each` for every key of the object that comes next; `null`
    /// is an empty object.
    fn object(
        &mut self,
        mut each: impl FnMut(&mut Self, &str) -> Result<(), Failure>,
    ) -> Result<(), Failure> {
        if self.sc.ws()? == Some(b'n') {
            return Ok(self.sc.skip_value()?);
        }
        self.sc.begin_object()?;
        let mut first = true;
        while let Some(key) = self.sc.next_key(&mut first)? {
            each(self, &key)?;
        }
        Ok(())
    }

    fn document(&mut self) -> Result<(), Failure> {
        self.object(|w, key| {
            w.collected.recognised |= STATE_KEYS.contains(&key);
            w.top_level(key)
        })?;
        Ok(self.sc.finish()?)
    }

    /// One key of the document's top-level object.
    fn top_level(&mut self, key: &str) -> Result<(), Failure> {
        let w = self;
        match key {
            "pid" => {
                w.collected.pid = w.value()?;
                Ok(())
            }
            "leader" => {
                w.collected.leader = w.value()?;
                Ok(())
            }
            "version" => {
                w.collected.version = w.value()?;
                Ok(())
            }
            "slaves" | "agents" => w.list(|w| w.agent(false)),
            "frameworks" => w.list(|w| w.framework(true, false)),
            "completed_frameworks" => w.list(|w| w.framework(false, false)),
            "orphan_tasks" => w.list(|w| w.loose_task(LooseList::Orphan)),
            "get_state" => w.object(|w, key| match key {
                "get_agents" => w.object(|w, key| match key {
                    "agents" => w.list(|w| w.agent(true)),
                    _ => Ok(w.sc.skip_value()?),
                }),
                "get_frameworks" => w.object(|w, key| match key {
                    "frameworks" => w.list(|w| w.framework(true, true)),
                    "completed_frameworks" => w.list(|w| w.framework(false, true)),
                    _ => Ok(w.sc.skip_value()?),
                }),
                "get_tasks" => w.object(|w, key| {
                    let list = match key {
                        "tasks" => LooseList::V1Tasks,
                        "unreachable_tasks" => LooseList::V1Unreachable,
                        "completed_tasks" => LooseList::V1Completed,
                        "orphan_tasks" => LooseList::V1Orphan,
                        _ => return Ok(w.sc.skip_value()?),
                    };
                    w.list(|w| w.loose_task(list))
                }),
                _ => Ok(w.sc.skip_value()?),
            }),
            _ => Ok(w.sc.skip_value()?),
        }
    }

    fn agent(&mut self, v1: bool) -> Result<(), Failure> {
        let doc: AgentDoc = self.value()?;
        if let Some(a) = agent_of(doc, &self.selector.role) {
            if v1 {
                self.collected.v1_agents.push(a);
            } else {
                self.collected.agents.push(a);
            }
        }
        Ok(())
    }

    /// Whether a framework is ours by the selector, once its head says.
    fn selects(&self, head: &FrameworkHead) -> bool {
        match &self.selector.id {
            Some(id) => head.id() == Some(id.as_str()),
            None => head.name() == Some(self.selector.name.as_str()),
        }
    }

    /// One framework: its head is read; its tasks are read only when the
    /// head already says it may be ours, skipped when it says it is not,
    /// and kept as text (then read or dropped at its end) when the head
    /// comes after the tasks.
    fn framework(&mut self, registered: bool, v1: bool) -> Result<(), Failure> {
        let mut head = FrameworkHead::default();
        let mut tasks = Vec::new();
        let mut offers = Vec::new();
        let mut held: Vec<(TaskList, Vec<u8>, Pos)> = Vec::new();
        let mut held_offers: Option<(Vec<u8>, Pos)> = None;
        self.object(|w, key| {
            // Decided only by the fields that rank first in `id()`/`name()`.
            let decided = match &w.selector.id {
                Some(_) => head.id.as_ref().map(|_| w.selects(&head)),
                None => head.name.as_ref().map(|_| w.selects(&head)),
            };
            let list = match key {
                "id" => {
                    head.id = w.value()?;
                    return Ok(());
                }
                "name" => {
                    head.name = w.value()?;
                    return Ok(());
                }
                "active" => {
                    head.active = w.value()?;
                    return Ok(());
                }
                "registered_time" => {
                    head.registered_time = w.value()?;
                    return Ok(());
                }
                "framework_info" => {
                    head.framework_info = w.value()?;
                    return Ok(());
                }
                "offers" => {
                    return match decided {
                        Some(true) => {
                            offers = w.value::<Option<Vec<OfferDoc>>>()?.unwrap_or_default();
                            Ok(())
                        }
                        Some(false) => Ok(w.sc.skip_value()?),
                        None => {
                            let mut text = Vec::new();
                            let pos = w.sc.capture_into(&mut text)?;
                            held_offers = Some((text, pos));
                            Ok(())
                        }
                    }
                }
                "tasks" => TaskList::Tasks,
                "unreachable_tasks" => TaskList::Unreachable,
                "completed_tasks" => TaskList::Completed,
                _ => return Ok(w.sc.skip_value()?),
            };
            match decided {
                Some(true) => w.list(|w| {
                    let t: TaskDoc = w.value()?;
                    tasks.push((list, t));
                    Ok(())
                }),
                Some(false) => Ok(w.sc.skip_value()?),
                None => {
                    let mut text = Vec::new();
                    let pos = w.sc.capture_into(&mut text)?;
                    held.push((list, text, pos));
                    Ok(())
                }
            }
        })?;
        if registered {
            self.collected.registered += 1;
        }
        if !self.selects(&head) {
            if let Some(id) = head.id() {
                self.collected.others.insert(id.to_string());
            }
            return Ok(());
        }
        for (list, text, pos) in held {
            let docs: Option<Vec<TaskDoc>> =
                serde_json::from_slice(&text).map_err(|e| bad(self.source, &e, pos))?;
            tasks.extend(docs.unwrap_or_default().into_iter().map(|t| (list, t)));
        }
        if let Some((text, pos)) = held_offers {
            let docs: Option<Vec<OfferDoc>> =
                serde_json::from_slice(&text).map_err(|e| bad(self.source, &e, pos))?;
            offers = docs.unwrap_or_default();
        }
        self.collected.candidates.push(Candidate {
            registered,
            v1,
            head,
            tasks,
            offers,
        });
        Ok(())
    }

    /// A task listed outside its framework: read when its framework may be
    /// ours, dropped when it is not, kept as text when its framework has
    /// not been met yet.
    fn loose_task(&mut self, list: LooseList) -> Result<(), Failure> {
        let start = self.sc.capture_into(&mut self.copy)?;
        let head: LooseTaskHead =
            serde_json::from_slice(&self.copy).map_err(|e| bad(self.source, &e, start))?;
        let Some(fid) = head.framework_id.map(|f| f.0.into_owned()) else {
            return Ok(());
        };
        let c = &mut self.collected;
        let wanted = match &self.selector.id {
            Some(id) => *id == fid,
            None => !c.others.contains(&fid),
        };
        if !wanted {
            return Ok(());
        }
        if c.candidates
            .iter()
            .any(|k| k.head.id() == Some(fid.as_str()))
        {
            let doc: TaskDoc =
                serde_json::from_slice(&self.copy).map_err(|e| bad(self.source, &e, start))?;
            c.loose.push((list, fid, doc));
        } else {
            c.pending_loose.push((list, fid, self.copy.clone(), start));
        }
        Ok(())
    }
}

impl Collected {
    fn finish(self, source: &str) -> Result<LiveCluster, LiveError> {
        if !self.recognised {
            return Err(LiveError::NotAState {
                origin: source.to_string(),
            });
        }
        let Collected {
            recognised: _,
            pid,
            leader,
            version,
            agents,
            v1_agents,
            registered,
            mut candidates,
            others: _,
            mut loose,
            pending_loose,
        } = self;
        if let (Some(pid), Some(leader)) = (&pid, &leader) {
            if pid != leader {
                return Err(LiveError::NotLeader {
                    leader: leader.clone(),
                });
            }
        }
        let agent_count = agents.len() + v1_agents.len();
        if pid.is_some() && leader.is_none() && agent_count == 0 && registered == 0 {
            return Err(LiveError::NoLeader {
                origin: source.to_string(),
            });
        }

        // Registered before torn down, the old endpoints' lists before v1's
        // (the order only matters between exact equals).
        candidates.sort_by_key(|c| (!c.registered, c.v1));
        let ours = choose(candidates);

        let mut our_offers: BTreeMap<String, Resources> = BTreeMap::new();
        let framework = match ours {
            None => None,
            Some(c) => {
                let id = c.head.id().unwrap_or_default().to_string();
                let name = c.head.name().unwrap_or_default().to_string();
                let active = c.registered && c.head.active.unwrap_or(true);
                for offer in c.offers {
                    if let (Some(agent), Some(res)) = (offer.slave_id, offer.resources) {
                        let entry = our_offers.entry(agent.0).or_default();
                        *entry = add(entry, &res.total());
                    }
                }
                let mut own = c.tasks;
                own.sort_by_key(|(list, _)| *list);
                let mut docs: Vec<TaskDoc> = own.into_iter().map(|(_, t)| t).collect();
                for (list, fid, text, pos) in pending_loose {
                    if fid == id {
                        let doc: TaskDoc =
                            serde_json::from_slice(&text).map_err(|e| bad(source, &e, pos))?;
                        loose.push((list, fid, doc));
                    }
                }
                loose.sort_by_key(|(list, _, _)| *list);
                docs.extend(
                    loose
                        .into_iter()
                        .filter(|(_, fid, _)| *fid == id)
                        .map(|(_, _, t)| t),
                );
                Some(LiveFramework {
                    id,
                    name,
                    active,
                    tasks: tasks_of(docs),
                })
            }
        };

        let mut agents: Vec<Agent> = agents
            .into_iter()
            .chain(v1_agents)
            .map(|p| {
                let offered = match our_offers.get(&p.agent.id) {
                    Some(ours) => subtract(&p.offered, ours),
                    None => p.offered,
                };
                Agent {
                    free: subtract(&p.unused, &offered),
                    ..p.agent
                }
            })
            .collect();
        agents.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(LiveCluster {
            source: source.to_string(),
            version,
            agents,
            framework,
        })
    }
}

/// The best of the frameworks the selector matched (see the module doc).
fn choose(candidates: Vec<Candidate>) -> Option<Candidate> {
    candidates.into_iter().max_by(|a, b| {
        let key = |c: &Candidate| {
            (
                c.registered,
                c.registered && c.head.active.unwrap_or(true),
                c.head.registered_time.map_or(f64::NEG_INFINITY, |t| t.0),
            )
        };
        let (ka, kb) = (key(a), key(b));
        ka.0.cmp(&kb.0)
            .then(ka.1.cmp(&kb.1))
            .then(ka.2.total_cmp(&kb.2))
            .then_with(|| a.head.id().cmp(&b.head.id()))
    })
}

/// The host of a libprocess PID such as `slave(1)@10.0.0.11:5051`.
fn pid_host(pid: &str) -> Option<&str> {
    let addr = pid.rsplit_once('@').map_or(pid, |(_, a)| a);
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    Some(host.trim_start_matches('[').trim_end_matches(']')).filter(|h| !h.is_empty())
}

fn agent_of(a: AgentDoc, role: &str) -> Option<PartialAgent> {
    let info = a.agent_info;
    let (info_id, info_host, info_attrs, info_res) = match info {
        Some(i) => (i.id, i.hostname, i.attributes, i.resources),
        None => (None, None, None, None),
    };
    // An agent without an ID cannot be launched on: leave it out.
    let id = a.id.or(info_id)?.0;
    let hostname = a
        .hostname
        .or(info_host)
        .or_else(|| a.pid.as_deref().and_then(pid_host).map(str::to_string))
        .unwrap_or_default();
    let resources = a.resources.or(info_res);
    let total = resources
        .as_ref()
        .map(ResourcesDoc::total)
        .unwrap_or_default();

    let usable = match resources.as_ref().and_then(|r| r.usable_by(role)) {
        Some(u) => u,
        None => {
            let others = a
                .reserved_resources
                .iter()
                .flatten()
                .filter(|(r, _)| !role_may_use(role, r))
                .map(|(_, res)| res.total())
                .collect::<Vec<_>>();
            subtract(&total, &sum(others.iter()))
        }
    };
    let attributed = |full: Option<ResourcesDoc>, summary: Option<ResourcesDoc>| {
        full.as_ref()
            .and_then(|f| f.usable_by(role))
            .or_else(|| summary.as_ref().and_then(|s| s.usable_by(role)))
            .or_else(|| summary.as_ref().map(ResourcesDoc::total))
            .unwrap_or_default()
    };
    let used = attributed(a.used_resources_full, a.used_resources);
    let offered = attributed(a.offered_resources_full, a.offered_resources);
    Some(PartialAgent {
        agent: Agent {
            id,
            hostname,
            active: a.active.unwrap_or(true) && !a.deactivated.unwrap_or(false),
            attributes: a.attributes.or(info_attrs).map(|x| x.0).unwrap_or_default(),
            total,
            // Set once our own offers are known.
            free: Resources::default(),
        },
        unused: subtract(&usable, &used),
        offered,
    })
}

/// A state name as Mesos spells it; anything unknown (a newer Mesos) is
/// `TASK_UNKNOWN`, which is not terminal: the planner then neither
/// forgets the task nor counts on it.
fn state_of(name: &str) -> TaskState {
    TaskState::parse(name).unwrap_or(TaskState::Unknown)
}

fn task_of(t: TaskDoc) -> Option<LiveTask> {
    let id = t.id?.0;
    let statuses = t.statuses.unwrap_or_default();
    // The latest status: statuses are in order, but trust timestamps over
    // order when both exist (the last of equal timestamps wins).
    let latest = statuses.iter().enumerate().max_by(|(ia, a), (ib, b)| {
        let ta = a.timestamp.map_or(f64::NEG_INFINITY, |t| t.0);
        let tb = b.timestamp.map_or(f64::NEG_INFINITY, |t| t.0);
        ta.total_cmp(&tb).then(ia.cmp(ib))
    });
    let latest = latest.map(|(_, s)| s);
    let state = t
        .state
        .as_deref()
        .or(latest.and_then(|s| s.state.as_deref()))
        .map_or(TaskState::Unknown, state_of);
    Some(LiveTask {
        id,
        name: t.name.unwrap_or_default(),
        agent_id: t.slave_id.map(|i| i.0).unwrap_or_default(),
        state,
        labels: t.labels.map(|l| l.0).unwrap_or_default(),
        resources: t.resources.map(|r| r.total()).unwrap_or_default(),
        has_executor: t.executor_id.is_some_and(|e| !e.0.is_empty()),
        updated_at: latest.and_then(|s| s.timestamp).map(|t| t.0),
        message: latest
            .and_then(|s| s.message.clone())
            .filter(|m| !m.is_empty()),
    })
}

/// Our tasks sorted by ID. A task ID Mesos lists twice (a framework may
/// reuse the ID of a finished task) keeps the entry that is not terminal,
/// else the most recently updated one.
fn tasks_of(docs: Vec<TaskDoc>) -> Vec<LiveTask> {
    let mut by_id: BTreeMap<String, LiveTask> = BTreeMap::new();
    for task in docs.into_iter().filter_map(task_of) {
        let better = |new: &LiveTask, old: &LiveTask| {
            let rank = |t: &LiveTask| {
                (
                    !t.state.is_terminal(),
                    t.updated_at.unwrap_or(f64::NEG_INFINITY),
                )
            };
            let (rn, ro) = (rank(new), rank(old));
            rn.0.cmp(&ro.0).then(rn.1.total_cmp(&ro.1)).is_gt()
        };
        match by_id.get(&task.id) {
            Some(old) if !better(&task, old) => {}
            _ => {
                by_id.insert(task.id.clone(), task);
            }
        }
    }
    by_id.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(name: &str, role: &str) -> FrameworkSelector {
        FrameworkSelector {
            id: None,
            name: name.into(),
            role: role.into(),
        }
    }

    fn parse(doc: &str) -> LiveCluster {
        parse_state(doc.as_bytes(), &sel("alluxio", "alluxio"), "test.json")
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn err(doc: &str) -> LiveError {
        parse_state(doc.as_bytes(), &sel("alluxio", "alluxio"), "test.json").unwrap_err()
    }

    #[test]
    fn agents_and_agent_id_are_read_like_slaves_and_slave_id() {
        let c = parse(
            r#"{"agents":[{"id":"S0","hostname":"h0","resources":{"cpus":2}}],
                "frameworks":[{"id":"F1","name":"alluxio","tasks":[
                  {"id":"t1","agent_id":"S0","state":"TASK_RUNNING"}]}]}"#,
        );
        assert_eq!(c.agents[0].id, "S0");
        assert_eq!(c.framework.unwrap().tasks[0].agent_id, "S0");
    }

    #[test]
    fn missing_active_means_active_and_deactivated_agents_are_inactive() {
        let c = parse(
            r#"{"slaves":[{"id":"S0","hostname":"h0"},
                          {"id":"S1","hostname":"h1","active":true,"deactivated":true},
                          {"id":"S2","hostname":"h2","active":false}]}"#,
        );
        let active: Vec<bool> = c.agents.iter().map(|a| a.active).collect();
        assert_eq!(active, [true, false, false]);
    }

    #[test]
    fn agents_are_sorted_by_id_and_those_without_id_are_left_out() {
        let c = parse(r#"{"slaves":[{"id":"S2"},{"hostname":"no-id"},{"id":"S10"},{"id":"S1"}]}"#);
        let ids: Vec<&str> = c.agents.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["S1", "S10", "S2"]);
    }

    #[test]
    fn a_missing_hostname_is_taken_from_the_agent_pid() {
        let c = parse(r#"{"slaves":[{"id":"S0","pid":"slave(1)@10.0.0.11:5051"}]}"#);
        assert_eq!(c.agents[0].hostname, "10.0.0.11");
    }

    #[test]
    fn free_is_usable_minus_used_minus_offered_to_others() {
        let c = parse(
            r#"{"slaves":[{"id":"S0",
                 "resources":{"cpus":8,"mem":1000.0,"ports":"[31000-32000, 19998-19999]"},
                 "used_resources":{"cpus":1.5,"mem":100,"ports":"[31000-31000]"},
                 "offered_resources":{"cpus":2,"mem":200,"ports":"[31001-31009]"},
                 "reserved_resources":{"spark":{"cpus":1,"mem":50,"ports":"[31990-32000]"},
                                       "alluxio":{"cpus":1}}}]}"#,
        );
        let free = &c.agents[0].free;
        assert_eq!(free.cpus, 8.0 - 1.0 - 1.5 - 2.0);
        assert_eq!(free.mem_mb, 1000.0 - 50.0 - 100.0 - 200.0);
        assert_eq!(free.ports, "[19998-19999, 31010-31989]".parse().unwrap());
        assert_eq!(c.agents[0].total.cpus, 8.0);
    }

    #[test]
    fn resources_offered_to_our_own_framework_count_as_free() {
        let c = parse(
            r#"{"slaves":[{"id":"S0","resources":{"cpus":8,"ports":"[31000-32000]"},
                 "offered_resources":{"cpus":8,"ports":"[31000-32000]"}},
                {"id":"S1","resources":{"cpus":8},"offered_resources":{"cpus":8}}],
                "frameworks":[{"name":"alluxio","id":"F1","offers":[
                  {"id":"O1","framework_id":"F1","slave_id":"S0","resources":{"cpus":8,"ports":"[31000-32000]"}}]},
                  {"name":"other","id":"F2","offers":[{"slave_id":"S1","resources":{"cpus":8}}]}]}"#,
        );
        assert_eq!(c.agents[0].free.cpus, 8.0);
        assert_eq!(c.agents[0].free.ports, "[31000-32000]".parse().unwrap());
        assert_eq!(c.agents[1].free.cpus, 0.0);
    }

    #[test]
    fn reservations_of_an_ancestor_role_are_usable_by_a_child_role() {
        let doc = r#"{"slaves":[{"id":"S0","resources":{"cpus":8},
                      "reserved_resources":{"eng":{"cpus":2},"eng/alluxio":{"cpus":1},"ops":{"cpus":4}}}]}"#;
        let child = parse_state(doc.as_bytes(), &sel("x", "eng/alluxio"), "t").unwrap();
        assert_eq!(child.agents[0].free.cpus, 4.0);
        let parent = parse_state(doc.as_bytes(), &sel("x", "eng"), "t").unwrap();
        assert_eq!(parent.agents[0].free.cpus, 3.0);
    }

    #[test]
    fn used_resources_full_attributes_usage_to_its_reservation() {
        // Spark's task runs on spark's reservation: not subtracted twice.
        let c = parse(
            r#"{"slaves":[{"id":"S0","resources":{"cpus":8},
                 "reserved_resources":{"spark":{"cpus":4}},
                 "used_resources":{"cpus":3},
                 "used_resources_full":[
                   {"name":"cpus","type":"SCALAR","scalar":{"value":2},"role":"spark","reservation":{}},
                   {"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"*"}]}]}"#,
        );
        assert_eq!(c.agents[0].free.cpus, 3.0);
    }

    #[test]
    fn multi_role_frameworks_without_pid_or_role_are_found() {
        let c = parse(
            r#"{"frameworks":[{"id":"F1","name":"alluxio","roles":["alluxio","eng"],"active":true,"tasks":[]}]}"#,
        );
        let f = c.framework.unwrap();
        assert_eq!(f.id, "F1");
        assert!(f.active);
    }

    #[test]
    fn slash_escapes_crlf_tabs_key_order_and_repeated_unregistered_ids_are_fine() {
        let doc = "{\"unregistered_frameworks\":[\"F9\",\"F9\"],\r\n\t\"frameworks\":[{\"tasks\":[{\"state\":\"TASK_RUNNING\",\r\n\"labels\":[{\"value\":\"http:\\/\\/x\\/y\",\"key\":\"url\"}],\"id\":\"t\\/1\"}],\"name\":\"alluxio\",\"id\":\"F1\"}],\r\n\"slaves\":[]}\r\n";
        let c = parse(doc);
        let f = c.framework.unwrap();
        assert_eq!(f.tasks[0].id, "t/1");
        assert_eq!(f.tasks[0].labels["url"], "http://x/y");
    }

    #[test]
    fn timestamps_may_be_integers_floats_or_huge_nanoseconds() {
        let c = parse(
            r#"{"frameworks":[
                {"id":"F1","name":"alluxio","registered_time":{"nanoseconds":1732492800123456789},"tasks":[
                  {"id":"a","state":"TASK_RUNNING","statuses":[{"state":"TASK_RUNNING","timestamp":1732492801}]},
                  {"id":"b","state":"TASK_RUNNING","statuses":[{"state":"TASK_RUNNING","timestamp":1732492801.5}]}]}]}"#,
        );
        let t = c.framework.unwrap().tasks;
        assert_eq!(t[0].updated_at, Some(1732492801.0));
        assert_eq!(t[1].updated_at, Some(1732492801.5));
    }

    #[test]
    fn of_several_frameworks_named_alike_the_active_then_the_latest_registered_wins() {
        let c = parse(
            r#"{"frameworks":[
                {"id":"F1","name":"alluxio","active":false,"registered_time":300.0},
                {"id":"F2","name":"alluxio","active":true,"registered_time":100},
                {"id":"F3","name":"alluxio","active":true,"registered_time":200.5},
                {"id":"F4","name":"other","active":true,"registered_time":900}],
                "completed_frameworks":[{"id":"F5","name":"alluxio","active":true,"registered_time":999}]}"#,
        );
        assert_eq!(c.framework.unwrap().id, "F3");
        let tie = parse(
            r#"{"frameworks":[{"id":"F7","name":"alluxio"},{"id":"F8","name":"alluxio"},{"id":"F6","name":"alluxio"}]}"#,
        );
        assert_eq!(tie.framework.unwrap().id, "F8");
    }

    #[test]
    fn other_frameworks_tasks_are_never_built_so_their_odd_shapes_do_not_matter() {
        // `resources: 42` would fail our task reader: it is never run on them.
        let c = parse(
            r#"{"frameworks":[
                {"id":"F2","name":"marathon","tasks":[{"id":"x","resources":42,"statuses":"odd"}]},
                {"id":"F1","name":"alluxio","tasks":[{"id":"t1","state":"TASK_RUNNING"}]}],
                "orphan_tasks":[{"id":"o1","framework_id":"F2","resources":42}]}"#,
        );
        assert_eq!(c.framework.unwrap().tasks.len(), 1);
    }

    #[test]
    fn orphan_tasks_of_our_framework_are_ours() {
        let c = parse(
            r#"{"frameworks":[{"id":"F1","name":"alluxio","tasks":[{"id":"t1","state":"TASK_RUNNING"}]}],
                "orphan_tasks":[{"id":"t0","framework_id":"F1","slave_id":"S0","state":"TASK_RUNNING"},
                                {"id":"z","framework_id":"F2","state":"TASK_RUNNING"}]}"#,
        );
        let ids: Vec<String> = c
            .framework
            .unwrap()
            .tasks
            .into_iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(ids, ["t0", "t1"]);
    }

    #[test]
    fn a_task_id_listed_twice_keeps_the_live_entry() {
        let c = parse(
            r#"{"frameworks":[{"id":"F1","name":"alluxio",
                "tasks":[{"id":"t1","state":"TASK_RUNNING","statuses":[{"state":"TASK_RUNNING","timestamp":10}]}],
                "completed_tasks":[{"id":"t1","state":"TASK_FINISHED","statuses":[{"state":"TASK_FINISHED","timestamp":20}]}]}]}"#,
        );
        let t = c.framework.unwrap().tasks;
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].state, TaskState::Running);
    }

    #[test]
    fn task_state_falls_back_to_the_latest_status_and_unknown_names_are_unknown() {
        let c = parse(
            r#"{"frameworks":[{"id":"F1","name":"alluxio","tasks":[
                {"id":"a","statuses":[{"state":"TASK_RUNNING","timestamp":2},{"state":"TASK_STARTING","timestamp":1}]},
                {"id":"b","state":"TASK_FROM_THE_FUTURE"},
                {"id":"c"}]}]}"#,
        );
        let t = c.framework.unwrap().tasks;
        assert_eq!(t[0].state, TaskState::Running);
        assert_eq!(t[0].updated_at, Some(2.0));
        assert_eq!(t[1].state, TaskState::Unknown);
        assert_eq!(t[2].state, TaskState::Unknown);
        assert_eq!(t[2].updated_at, None);
    }

    #[test]
    fn a_document_from_a_non_leading_master_is_refused_with_the_leader() {
        match err(
            r#"{"pid":"master@10.0.0.6:5050","leader":"master@10.0.0.5:5050","slaves":[],"frameworks":[]}"#,
        ) {
            LiveError::NotLeader { leader } => assert_eq!(leader, "master@10.0.0.5:5050"),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn a_document_without_any_leader_is_refused() {
        let e = err(r#"{"pid":"master@10.0.0.6:5050","slaves":[],"frameworks":[]}"#);
        assert!(e.to_string().contains("no elected leader"), "{e}");
    }

    #[test]
    fn the_leaders_own_document_is_accepted() {
        let c = parse(
            r#"{"pid":"master@10.0.0.5:5050","leader":"master@10.0.0.5:5050","version":"1.9.0"}"#,
        );
        assert_eq!(c.version.as_deref(), Some("1.9.0"));
        assert_eq!(c.source, "test.json");
    }

    #[test]
    fn html_or_empty_bodies_are_not_json_and_show_their_start() {
        let e = err("<html><body>502 Bad Gateway</body></html>").to_string();
        assert!(e.starts_with("test.json is not JSON"), "{e}");
        assert!(e.contains("<html><body>502 Bad Gateway"), "{e}");
        let e = err("  \n").to_string();
        assert!(e.contains("it is empty"), "{e}");
    }

    #[test]
    fn broken_json_names_line_and_column() {
        let e = err("{\n  \"slaves\": [\n    {\"id\": \"S0\",}\n  ]\n}").to_string();
        assert!(e.starts_with("test.json:3:"), "{e}");
        assert!(e.contains("invalid JSON"), "{e}");
    }

    #[test]
    fn errors_inside_our_framework_count_lines_from_the_document_start() {
        let doc = "{\"frameworks\":[\n  {\"id\":\"F1\",\"name\":\"alluxio\",\n   \"tasks\":[{\"id\":\"t\",\"resources\":{\"ports\":7}}]}]}";
        let e = err(doc).to_string();
        assert!(e.starts_with("test.json:3:"), "{e}");
        assert!(e.contains("\"ports\" has a value of the wrong type"), "{e}");
        let doc = "{\"frameworks\":[{\"id\":\"F1\",\"name\":\"alluxio\",\"tasks\":[{\"id\":\"t\",\"resources\":{\"ports\":7}}]}]}";
        let e = err(doc).to_string();
        let col: usize = e.split(':').nth(2).unwrap().parse().unwrap();
        assert!(col > 60, "column counts from the document start: {e}");
    }
}
