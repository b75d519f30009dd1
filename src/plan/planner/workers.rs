//! Workers: one per eligible agent (or a count), kept, replaced,
//! launched, or killed when the count drops.

use super::*;

impl Planner<'_> {
    pub(super) fn plan_workers(&mut self, wanted: &RoleConfig) {
        let spec = &self.desired.worker;
        let need = task_spec(self.desired, Role::Worker, String::new()).demand();
        let rules = Eligibility {
            hostname: None,
            constraints: spec.task.constraints.as_ref(),
        };
        // Agents passed over for another of the same hostname: a hostname
        // that re-registered under a new ID prefers its active agent.
        let passed_over: HashSet<String> = {
            let mut preferred: HashMap<&str, (bool, &str)> = HashMap::new();
            for c in self.caps.values() {
                let e = preferred
                    .entry(c.agent.hostname.as_str())
                    .or_insert((c.active, c.agent.id.as_str()));
                if c.active && !e.0 {
                    *e = (true, c.agent.id.as_str());
                }
            }
            self.caps
                .values()
                .filter(|c| preferred[c.agent.hostname.as_str()].1 != c.agent.id)
                .map(|c| c.agent.id.clone())
                .collect()
        };

        // Existing workers: keep, replace or kill.
        let mut keep: Vec<(Address, ExistingTask, Vec<String>)> = Vec::new();
        let worker_slots: Vec<(Address, Slot)> = self
            .existing
            .slots
            .iter()
            .filter(|(a, _)| a.role() == Role::Worker)
            .map(|(a, s)| (a.clone(), s.clone()))
            .collect();
        for (address, slot) in &worker_slots {
            let Some(task) = slot.active.clone() else {
                continue;
            };
            let Some(cap) = self.caps.get(&task.agent.id) else {
                self.kill(
                    address.clone(),
                    task,
                    "its agent is no longer registered with Mesos".into(),
                );
                continue;
            };
            let broken: Vec<String> = cap
                .ineligibility(&rules)
                .into_iter()
                .map(|w| w.reason)
                .filter(|r| r != INACTIVE)
                .collect();
            if !broken.is_empty() {
                self.kill(
                    address.clone(),
                    task,
                    format!("its agent is no longer eligible: {}", broken.join("; ")),
                );
                continue;
            }
            let reasons = self.replace_reasons(address, &task, wanted);
            keep.push((address.clone(), task, reasons));
        }
        if let WorkerCount::Exactly(n) = spec.count {
            // Keep up-to-date workers first, then by hostname; kill the rest.
            keep.sort_by(|a, b| {
                a.2.is_empty()
                    .cmp(&b.2.is_empty())
                    .reverse()
                    .then(a.0.cmp(&b.0))
            });
            while keep.len() > n as usize {
                let (address, task, _) = keep.pop().expect("len > n >= 0");
                self.kill(address, task, format!("the deployment has {n} worker(s)"));
            }
        }
        let after = task_spec(self.desired, Role::Worker, wanted.hash());
        for (address, task, reasons) in keep {
            if reasons.is_empty() {
                self.push(address, Action::NoOp { before: task }, Vec::new());
                continue;
            }
            // A worker is replaced on its own agent: its address is that agent.
            self.free(&task, Role::Worker);
            let cap = self.caps.get_mut(&task.agent.id).expect("checked above");
            let short = cap.shortfalls(&need);
            if short.is_empty() {
                cap.take(&need);
                cap.workers += 1;
                let agent = cap.agent.clone();
                self.push(
                    address,
                    Action::Replace {
                        before: task,
                        agent,
                        after: after.clone(),
                    },
                    reasons,
                );
            } else {
                let rejection = AgentRejection::new(cap.agent.clone(), short);
                self.unfree(&task, Role::Worker);
                self.fail_replacement(
                    Pending {
                        address,
                        before: task,
                        reasons,
                    },
                    vec![rejection],
                    &need,
                );
            }
        }

        // New workers.
        let placed_now = self.caps.values().filter(|c| c.workers > 0).count() as u32;
        // A set, not a scan of the slots per comparison: the sort stays
        // O(agents log agents) with thousands of existing workers.
        let worker_hosts: HashSet<&str> = worker_slots
            .iter()
            .filter_map(|(a, _)| match a {
                Address::Worker(host) => Some(host.as_str()),
                _ => None,
            })
            .collect();
        // The candidates' sort keys and IDs, not copies of their
        // capacities (10,000 agents' attributes and ports).
        let mut candidates: Vec<(bool, f64, &str, &str)> = self
            .caps
            .values()
            .filter(|c| c.workers == 0)
            .map(|c| {
                (
                    worker_hosts.contains(c.agent.hostname.as_str()),
                    c.available.mem_mb(),
                    c.agent.hostname.as_str(),
                    c.agent.id.as_str(),
                )
            })
            .collect();
        candidates.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.total_cmp(&a.1)).then(a.2.cmp(b.2)));
        let candidates: Vec<String> = candidates
            .into_iter()
            .map(|(.., id)| id.to_string())
            .collect();
        let wanted_new = match spec.count {
            WorkerCount::All => u32::MAX,
            WorkerCount::Exactly(n) => n.saturating_sub(placed_now),
        };
        let mut launched = 0u32;
        let mut rejections = Vec::new();
        let mut counted = 0u32;
        for id in candidates {
            if launched >= wanted_new {
                break; // never for `count = "all"`: wanted_new is unbounded
            }
            let cand = &self.caps[&id];
            let ineligible = cand.ineligibility(&rules);
            if !ineligible.is_empty() {
                rejections.push(AgentRejection::new(cand.agent.clone(), ineligible));
                continue;
            }
            let short = cand.shortfalls(&need);
            if passed_over.contains(&id) {
                let cause = "another agent with the same hostname is preferred";
                let why = Why {
                    reason: format!(
                        "another agent with hostname {} is preferred",
                        cand.agent.hostname
                    ),
                    cause: cause.into(),
                };
                rejections.push(AgentRejection::new(cand.agent.clone(), vec![why]));
                continue;
            }
            if !short.is_empty() {
                if matches!(spec.count, WorkerCount::All) {
                    counted += 1;
                }
                rejections.push(AgentRejection::new(cand.agent.clone(), short));
                continue;
            }
            let address = Address::Worker(cand.agent.hostname.clone());
            let slot = self.slot(&address);
            let cap = self.caps.get_mut(&id).expect("candidate from caps");
            cap.take(&need);
            cap.workers += 1;
            let agent = cap.agent.clone();
            let reason = match &slot.ended {
                Some(_) => Self::launch_reason(&slot, &address),
                None => format!("agent {} has no worker", agent.hostname),
            };
            self.push(
                address,
                Action::Launch {
                    agent,
                    after: after.clone(),
                },
                vec![reason],
            );
            launched += 1;
        }
        let missing = match spec.count {
            WorkerCount::All => counted,
            WorkerCount::Exactly(_) => wanted_new.saturating_sub(launched),
        };
        if missing > 0 || (matches!(spec.count, WorkerCount::All) && !rejections.is_empty()) {
            rejections.sort_by(|a, b| {
                a.agent
                    .hostname
                    .cmp(&b.agent.hostname)
                    .then(a.agent.id.cmp(&b.agent.id))
            });
            let summary = match spec.count {
                WorkerCount::All if missing > 0 => {
                    format!("{missing} eligible agent(s) cannot run a worker")
                }
                WorkerCount::All => format!(
                    "{} agent(s) are not eligible for a worker",
                    rejections.len()
                ),
                WorkerCount::Exactly(n) => format!("{missing} of {n} worker(s) cannot be placed"),
            };
            let remedies = self.remedies(&rejections, &need);
            self.failures.push(PlacementFailure {
                address: None,
                role: Role::Worker,
                summary,
                unplaced: missing,
                agents: rejections,
                remedies,
            });
        }
    }
}
