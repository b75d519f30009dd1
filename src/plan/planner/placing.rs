//! Placing a task: the fit rule on each agent's free resources, the
//! rejections grouped into failures, and the remedies for them.

use super::*;

pub(super) fn rejection_reasons(
    cap: &Capacity,
    role: Role,
    need: &Demand,
    rules: &Eligibility<'_>,
) -> Vec<Why> {
    let mut reasons = cap.ineligibility(rules);
    if role == Role::Master && cap.masters > 0 {
        reasons.push(Why::general(
            "already runs a master (masters go to distinct agents)",
        ));
    }
    if role == Role::Worker && cap.workers > 0 {
        reasons.push(Why::general("already runs a worker"));
    }
    reasons.extend(cap.shortfalls(need));
    reasons
}

/// Explains what a changed field means for the role.
pub(super) fn annotate_reason(reason: String, role: Role) -> String {
    if role == Role::Worker && reason.starts_with("master hostname:") {
        format!("{reason} (ZooKeeper is off: workers are started with the master's hostname)")
    } else {
        reason
    }
}

impl Planner<'_> {
    pub(super) fn free(&mut self, task: &ExistingTask, role: Role) {
        if let Some(cap) = self.caps.get_mut(&task.agent.id) {
            cap.give_back(task);
        }
        self.count_on_agent(task, role, -1);
    }

    /// Undoes [`Self::free`] when a replacement cannot be placed: the old task stays.
    pub(super) fn unfree(&mut self, task: &ExistingTask, role: Role) {
        if let Some(cap) = self.caps.get_mut(&task.agent.id) {
            cap.take(&task.demand());
        }
        self.count_on_agent(task, role, 1);
    }

    pub(super) fn fail_replacement(
        &mut self,
        p: Pending,
        rejections: Vec<AgentRejection>,
        need: &Demand,
    ) {
        let remedies = self.remedies(&rejections, need);
        self.failures.push(PlacementFailure {
            summary: format!(
                "{} should be replaced ({}), but no agent has room for the new configuration; the running task is left as is",
                p.address,
                p.reasons.join("; ")
            ),
            address: Some(p.address.clone()),
            role: p.address.role(),
            unplaced: 1,
            agents: rejections,
            remedies,
        });
        self.push(p.address, Action::NoOp { before: p.before }, Vec::new());
    }

    /// Tries agents in order: the preferred one, then most free memory, then hostname.
    pub(super) fn place(
        &mut self,
        role: Role,
        need: &Demand,
        rules: &Eligibility<'_>,
        prefer: Option<&str>,
    ) -> Result<AgentRef, Vec<AgentRejection>> {
        let mut order: Vec<&Capacity<'_>> = self.caps.values().collect();
        order.sort_by(|a, b| {
            let pa = Some(a.agent.id.as_str()) != prefer;
            let pb = Some(b.agent.id.as_str()) != prefer;
            pa.cmp(&pb)
                .then(b.available.mem_mb().total_cmp(&a.available.mem_mb()))
                .then(a.agent.hostname.cmp(&b.agent.hostname))
        });
        let mut rejections = Vec::new();
        let mut chosen = None;
        for cap in order {
            let reasons = rejection_reasons(cap, role, need, rules);
            if reasons.is_empty() {
                chosen = Some(cap.agent.id.clone());
                break;
            }
            rejections.push(AgentRejection::new(cap.agent.clone(), reasons));
        }
        match chosen {
            Some(id) => {
                let cap = self.caps.get_mut(&id).expect("chosen from caps");
                cap.take(need);
                match role {
                    Role::Master => cap.masters += 1,
                    Role::Worker => cap.workers += 1,
                }
                Ok(cap.agent.clone())
            }
            None => {
                rejections.sort_by(|a, b| {
                    a.agent
                        .hostname
                        .cmp(&b.agent.hostname)
                        .then(a.agent.id.cmp(&b.agent.id))
                });
                Err(rejections)
            }
        }
    }

    pub(super) fn remedies(&self, rejections: &[AgentRejection], need: &Demand) -> Vec<String> {
        let port_problem = rejections.iter().any(|r| {
            self.caps
                .get(&r.agent.id)
                .is_some_and(|c| c.lacks_offered_ports(need))
        });
        if !port_problem {
            return Vec::new();
        }
        let d = self.desired;
        let mut all: Vec<u16> = d.master.ports().to_vec();
        all.extend(d.worker.ports());
        vec![
            format!(
                "start the Mesos agents with --resources='ports:[{}]' (keeping any other port ranges they offer), so that they offer the Alluxio ports",
                fmt_ports(&all)
            ),
            format!(
                "or move the ports into the range the agents offer (by default [31000-32000]) with alluxio.master.port ({}), alluxio.master.web.port ({}), alluxio.worker.port ({}), alluxio.worker.data.port ({}) and alluxio.worker.web.port ({}) in {}",
                d.master.task.rpc_port,
                d.master.task.web_port,
                d.worker.task.rpc_port,
                d.worker.data_port,
                d.worker.task.web_port,
                d.files.properties.display()
            ),
        ]
    }
}
