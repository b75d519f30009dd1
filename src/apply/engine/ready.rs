//! The steps whose task Mesos runs and that wait for Alluxio to say it
//! serves (`ready = "alluxio"`, see [`crate::apply::alluxio_ready`]).

use super::*;
use crate::address::Role;
use alluxio_ready::{master_info_url, master_verdict, worker_verdict, Probe, Verdict, WorkerIndex};
use std::collections::BTreeSet;

impl<M: SchedulerApi, S: StateSink> Engine<'_, M, S> {
    /// Asks the masters (a round at most every second, without blocking the
    /// event loop) and ends the steps whose task Alluxio says serves.
    pub(super) fn check_alluxio(&mut self, steps: &mut [Step], probe: &mut Probe) {
        let waiting: Vec<usize> = (0..steps.len())
            .filter(|&i| matches!(steps[i].phase, Phase::Serving { .. }))
            .collect();
        if waiting.is_empty() {
            return;
        }
        let web = self.desired.master.task.web_port;
        let mut urls: BTreeSet<String> = self
            .master_hostnames()
            .iter()
            .map(|h| master_info_url(h, web))
            .collect();
        for &i in &waiting {
            if let Some(url) = own_master_url(&steps[i]) {
                urls.insert(url);
            }
        }
        if urls.is_empty() {
            // Only workers wait, and no master runs or starts to list them.
            let masters_starting = steps
                .iter()
                .any(|s| s.address.role() == Role::Master && s.launch.is_some() && !s.finished());
            if !masters_starting {
                for i in waiting {
                    let why = "Mesos runs it, but no Alluxio master runs to say whether it serves (see the masters' steps)";
                    self.progress
                        .line(&format!("{}: failed: {why}", steps[i].address));
                    steps[i].phase = Phase::Failed(why.into());
                }
            }
            return;
        }
        if !probe.poll(urls.into_iter().collect()) {
            return;
        }
        let Some(asked_at) = probe.asked_at else {
            return;
        };
        let workers = WorkerIndex::of(&probe.answers);
        for i in waiting {
            let s = &mut steps[i];
            let own = own_master_url(s);
            let Phase::Serving {
                task_id,
                agent,
                since,
                last_seen,
            } = &mut s.phase
            else {
                continue;
            };
            if asked_at < *since {
                continue;
            }
            let verdict = match &own {
                Some(url) => master_verdict(&probe.answers, url),
                None => {
                    let rpc = s
                        .launch
                        .as_ref()
                        .and_then(|(_, l)| l.template.ports.first().copied())
                        .unwrap_or_default();
                    let first = s.new_task.as_ref().and_then(|n| n.first_status_ms);
                    worker_verdict(&workers, &agent.hostname, rpc, first)
                }
            };
            match verdict {
                Verdict::Serves(how) => {
                    self.progress.line(&format!("{}: {how}", s.address));
                    s.phase = Phase::Done(format!(
                        "task {task_id} running on {}; {how}",
                        agent.hostname
                    ));
                }
                Verdict::NotYet(seen) => *last_seen = seen,
            }
        }
    }
}

/// A waiting master's own information URL: its agent's host, and the web
/// port it was launched with.
fn own_master_url(s: &Step) -> Option<String> {
    if s.address.role() != Role::Master {
        return None;
    }
    let Phase::Serving { agent, .. } = &s.phase else {
        return None;
    };
    let web = s
        .launch
        .as_ref()
        .and_then(|(_, l)| l.template.ports.get(1).copied())?;
    Some(master_info_url(&agent.hostname, web))
}
