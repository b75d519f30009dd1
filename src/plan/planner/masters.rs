//! Masters: kept, replaced (standbys before the Alluxio leader) or
//! launched on the agents with the most room.

use super::*;

impl Planner<'_> {
    /// Masters: returns the hostnames the masters will have, by index.
    pub(super) fn plan_masters(&mut self, wanted: &RoleConfig) -> Vec<String> {
        let spec = &self.desired.master;
        let need = task_spec(self.desired, Role::Master, String::new()).demand();
        let rules = Eligibility {
            hostname: spec.hostname.as_deref(),
            constraints: spec.task.constraints.as_ref(),
        };
        let count = spec.count;

        // Excess masters first: their agents become free for the others.
        let excess: Vec<(Address, ExistingTask)> = self
            .existing
            .slots
            .iter()
            .filter_map(|(a, s)| match (a, &s.active) {
                (Address::Master(i), Some(t)) if *i >= count => Some((a.clone(), t.clone())),
                _ => None,
            })
            .collect();
        for (address, task) in excess {
            self.kill(
                address,
                task,
                format!("the deployment has {count} master(s)"),
            );
        }

        let mut hosts = vec![String::new(); count as usize];
        let mut replace = Vec::new();
        let mut launch = Vec::new();
        for i in 0..count {
            let address = Address::Master(i);
            let slot = self.slot(&address);
            match slot.active {
                Some(task) => {
                    let mut reasons = self.replace_reasons(&address, &task, wanted);
                    if let Some(cap) = self.caps.get(&task.agent.id) {
                        // Inactive agents keep their running tasks; only rules the operator set move them.
                        let rules_only = Eligibility {
                            hostname: rules.hostname,
                            constraints: rules.constraints,
                        };
                        reasons.extend(
                            cap.ineligibility(&rules_only)
                                .into_iter()
                                .map(|w| w.reason)
                                .filter(|r| r != INACTIVE),
                        );
                    }
                    hosts[i as usize] = task.agent.hostname.clone();
                    if reasons.is_empty() {
                        self.push(address, Action::NoOp { before: task }, Vec::new());
                    } else {
                        replace.push(Pending {
                            address,
                            before: task,
                            reasons,
                        });
                    }
                }
                None => launch.push((address.clone(), Self::launch_reason(&slot, &address))),
            }
        }

        let spec_for = |d: &Desired| task_spec(d, Role::Master, wanted.hash());
        for p in replace {
            self.free(&p.before, Role::Master);
            match self.place(Role::Master, &need, &rules, Some(&p.before.agent.id)) {
                Ok(agent) => {
                    if let Address::Master(i) = p.address {
                        hosts[i as usize] = agent.hostname.clone();
                    }
                    let after = spec_for(self.desired);
                    self.push(
                        p.address,
                        Action::Replace {
                            before: p.before,
                            agent,
                            after,
                        },
                        p.reasons,
                    );
                }
                Err(rejections) => {
                    self.unfree(&p.before, Role::Master);
                    self.fail_replacement(p, rejections, &need);
                }
            }
        }
        for (address, reason) in launch {
            match self.place(Role::Master, &need, &rules, None) {
                Ok(agent) => {
                    if let Address::Master(i) = address {
                        hosts[i as usize] = agent.hostname.clone();
                    }
                    let after = spec_for(self.desired);
                    self.push(address, Action::Launch { agent, after }, vec![reason]);
                }
                Err(rejections) => {
                    let remedies = self.remedies(&rejections, &need);
                    self.failures.push(PlacementFailure {
                        summary: format!("{address} cannot be placed: no agent has room for it"),
                        address: Some(address),
                        role: Role::Master,
                        unplaced: 1,
                        agents: rejections,
                        remedies,
                    });
                }
            }
        }
        hosts.retain(|h| !h.is_empty());
        hosts
    }
}
