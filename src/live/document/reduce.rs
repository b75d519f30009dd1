//! From what the walk collected to a [`LiveCluster`]: our framework
//! chosen, agents' free resources, our tasks merged.

use super::*;

impl Collected {
    pub(super) fn finish(
        self,
        source: &str,
        selector: &FrameworkSelector,
    ) -> Result<LiveCluster, LiveError> {
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
            recovering_agents,
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
        if recovering_agents > 0 {
            return Err(LiveError::Recovering {
                origin: source.to_string(),
                agents: recovering_agents,
            });
        }
        let agent_count = agents.len() + v1_agents.len();
        if pid.is_some() && leader.is_none() && agent_count == 0 && registered == 0 {
            return Err(LiveError::NoLeader {
                origin: source.to_string(),
            });
        }

        let predecessor = take_predecessor(&mut candidates, selector);
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
                    removed: !c.registered,
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
            predecessor,
        })
    }
}

/// Takes the framework to take over out of `candidates` (see
/// [`crate::live::Predecessor`]), and leaves only those that may be ours.
/// A framework of our name that is not an AlluxioFramework stays ours;
/// ours by ID is never taken over.
fn take_predecessor(
    candidates: &mut Vec<FrameworkCandidate>,
    selector: &FrameworkSelector,
) -> Option<LiveFramework> {
    let mut found = None;
    if let Some(p) = &selector.predecessor {
        let mut kept = Vec::new();
        for c in std::mem::take(candidates) {
            let by_id = selector.id.is_some() && ours(selector, &c.head);
            if found.is_some() || by_id || !c.registered || !p.names(c.head.id(), c.head.name()) {
                kept.push(c);
                continue;
            }
            let tasks = tasks_of(c.tasks.iter().map(|(_, t)| t.clone()).collect());
            if p.explicit || p.looks_like(&tasks) {
                found = Some(LiveFramework {
                    id: c.head.id().unwrap_or_default().to_string(),
                    name: c.head.name().unwrap_or_default().to_string(),
                    active: c.head.active.unwrap_or(true),
                    removed: false,
                    tasks,
                });
            } else {
                kept.push(c);
            }
        }
        *candidates = kept;
    }
    candidates.retain(|c| ours(selector, &c.head));
    found
}

/// The best of the frameworks the selector matched (see the module doc).
pub(super) fn choose(candidates: Vec<FrameworkCandidate>) -> Option<FrameworkCandidate> {
    candidates.into_iter().max_by(|a, b| {
        let key = |c: &FrameworkCandidate| {
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
pub(super) fn pid_host(pid: &str) -> Option<&str> {
    let addr = pid.rsplit_once('@').map_or(pid, |(_, a)| a);
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    Some(host.trim_start_matches('[').trim_end_matches(']')).filter(|h| !h.is_empty())
}

pub(super) fn agent_of(a: AgentDoc, role: &str) -> Option<PartialAgent> {
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
pub(super) fn state_of(name: &str) -> TaskState {
    TaskState::parse(name).unwrap_or(TaskState::Unknown)
}

pub(super) fn task_of(t: TaskDoc) -> Option<LiveTask> {
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
pub(super) fn tasks_of(docs: Vec<TaskDoc>) -> Vec<LiveTask> {
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
