//! The streaming walk through a document's keys: what to read, what to
//! copy out for serde, what to skip unread.

use super::*;

/// The walk through the document's keys.
pub(super) struct Walk<'s, R> {
    pub(super) sc: Scanner<R>,
    pub(super) source: &'s str,
    pub(super) selector: &'s FrameworkSelector,
    /// Reused buffer for copied values.
    pub(super) copy: Vec<u8>,
    pub(super) collected: Collected,
}

impl<R: Read> Walk<'_, R> {
    /// Reads the next value with serde (copied out of the stream first).
    pub(super) fn value<T: for<'a> Deserialize<'a>>(&mut self) -> Result<T, Failure> {
        let start = self.sc.capture_into(&mut self.copy)?;
        serde_json::from_slice(&self.copy).map_err(|e| Failure::Live(bad(self.source, &e, start)))
    }

    /// Calls `each` for every element of the list that comes next
    /// (`null` is an empty list).
    pub(super) fn list(
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
    pub(super) fn object(
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

    pub(super) fn document(&mut self) -> Result<(), Failure> {
        self.object(|w, key| {
            w.collected.recognised |= STATE_KEYS.contains(&key);
            w.top_level(key)
        })?;
        Ok(self.sc.finish()?)
    }

    /// One key of the document's top-level object.
    pub(super) fn top_level(&mut self, key: &str) -> Result<(), Failure> {
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
            "recovered_slaves" => w.list(|w| w.recovering_agent()),
            "frameworks" => w.list(|w| w.framework(true, false)),
            "completed_frameworks" => w.list(|w| w.framework(false, false)),
            "orphan_tasks" => w.list(|w| w.loose_task(LooseList::Orphan)),
            "get_state" => w.object(|w, key| match key {
                "get_agents" => w.object(|w, key| match key {
                    "agents" => w.list(|w| w.agent(true)),
                    "recovered_agents" => w.list(|w| w.recovering_agent()),
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

    pub(super) fn recovering_agent(&mut self) -> Result<(), Failure> {
        self.sc.skip_value()?;
        self.collected.recovering_agents += 1;
        Ok(())
    }

    pub(super) fn agent(&mut self, v1: bool) -> Result<(), Failure> {
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

    /// Whether a framework may be ours, or the one to take over, by the
    /// selector, once its head says.
    pub(super) fn selects(&self, head: &FrameworkHead) -> bool {
        ours(self.selector, head)
            || self
                .selector
                .predecessor
                .as_ref()
                .is_some_and(|p| p.names(head.id(), head.name()))
    }

    /// One framework: its head is read; its tasks are read only when the
    /// head already says it may be ours, skipped when it says it is not,
    /// and kept as text (then read or dropped at its end) when the head
    /// comes after the tasks.
    pub(super) fn framework(&mut self, registered: bool, v1: bool) -> Result<(), Failure> {
        let mut head = FrameworkHead::default();
        let mut tasks = Vec::new();
        let mut offers = Vec::new();
        let mut held: Vec<(TaskList, Vec<u8>, Pos)> = Vec::new();
        let mut held_offers: Option<(Vec<u8>, Pos)> = None;
        self.object(|w, key| {
            // Decided only by the fields that rank first in `id()`/`name()`
            // (both, when a framework to take over may match either).
            let decided = match (&w.selector.id, &w.selector.predecessor) {
                (_, Some(_)) => {
                    (head.id.is_some() && head.name.is_some()).then(|| w.selects(&head))
                }
                (Some(_), None) => head.id.as_ref().map(|_| w.selects(&head)),
                (None, None) => head.name.as_ref().map(|_| w.selects(&head)),
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
        self.collected.candidates.push(FrameworkCandidate {
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
    pub(super) fn loose_task(&mut self, list: LooseList) -> Result<(), Failure> {
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

/// Whether a framework is ours by the selector: its ID, else its name.
pub(super) fn ours(selector: &FrameworkSelector, head: &FrameworkHead) -> bool {
    match &selector.id {
        Some(id) => head.id() == Some(id.as_str()),
        None => head.name() == Some(selector.name.as_str()),
    }
}
