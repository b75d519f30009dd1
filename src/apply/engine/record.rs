//! What the state records: statuses saved before they are acknowledged,
//! and the run's end (applied configuration, outputs, history trimmed).

use super::*;

impl<M: SchedulerApi, S: StateSink> Engine<'_, M, S> {
    /// Saves the statuses of `batch` in one write, then acknowledges them.
    pub(super) async fn flush(
        &mut self,
        sub: &Subscription,
        batch: &mut Batch,
    ) -> Result<(), ApplyError> {
        self.save_statuses(batch)?;
        let acks = std::mem::take(&mut batch.acks);
        self.client.call_all(sub, &acks).await?;
        Ok(())
    }

    /// Writes the batch's statuses (the last one of each task wins); no
    /// write when none changes a recorded state.
    pub(super) fn save_statuses(&mut self, batch: &mut Batch) -> Result<(), ApplyError> {
        let mut latest: HashMap<String, TaskState> = HashMap::new();
        for (id, state) in batch.statuses.drain(..) {
            latest.insert(id, state);
        }
        let changed: HashSet<&str> = self
            .store
            .state()
            .tasks
            .iter()
            .filter(|t| {
                latest
                    .get(&t.task_id)
                    .is_some_and(|s| t.state != RecordedState::Mesos(*s))
            })
            .map(|t| t.task_id.as_str())
            .collect();
        if changed.is_empty() {
            return Ok(());
        }
        let changed: HashSet<String> = changed.into_iter().map(str::to_string).collect();
        let now = crate::state::timestamp_now();
        self.store.update(|s| {
            for t in s.tasks.iter_mut().filter(|t| changed.contains(&t.task_id)) {
                t.state = RecordedState::Mesos(latest[&t.task_id]);
                t.updated_at = now.clone();
            }
        })?;
        Ok(())
    }

    /// Hosts of the masters as recorded (running or being launched).
    pub(super) fn master_hostnames(&self) -> Vec<String> {
        let mut masters: Vec<(&Address, &str)> = self
            .store
            .state()
            .tasks
            .iter()
            .filter(|t| {
                t.role == Role::Master
                    && !matches!(t.state, RecordedState::Mesos(s) if s.is_terminal())
            })
            .map(|t| (&t.address, t.hostname.as_str()))
            .collect();
        masters.sort();
        masters.dedup_by(|a, b| a.0 == b.0);
        masters.into_iter().map(|(_, h)| h.to_string()).collect()
    }

    pub(super) fn finish(
        &mut self,
        plan: &Plan,
        steps: &[Step],
        interrupted: bool,
    ) -> Result<ApplyReport, ApplyError> {
        let reports: Vec<StepReport> = steps
            .iter()
            .map(|s| StepReport {
                address: s.address.clone(),
                action: s.action,
                outcome: match &s.phase {
                    Phase::Done(m) => StepOutcome::Done(m.clone()),
                    Phase::Failed(m) => StepOutcome::Failed(m.clone()),
                    Phase::Halted(m) => StepOutcome::NotStarted(m.clone()),
                    _ => StepOutcome::NotStarted("not started".into()),
                },
            })
            .collect();
        let all_done = !interrupted
            && reports
                .iter()
                .all(|r| matches!(r.outcome, StepOutcome::Done(_)));
        let ports = plan.master_ports;
        let masters = self.master_hostnames();
        let outputs = Outputs {
            master_rpc: masters
                .iter()
                .map(|h| format!("alluxio://{h}:{}", ports.rpc))
                .collect(),
            master_web: masters
                .iter()
                .map(|h| format!("http://{h}:{}", ports.web))
                .collect(),
        };
        let applied = plan.applied.clone();
        let out = outputs.clone();
        self.store.update(|s: &mut State| {
            // Terminal records are history Mesos keeps; the state keeps what runs.
            s.tasks
                .retain(|t| !matches!(t.state, RecordedState::Mesos(st) if st.is_terminal()));
            // Templates are kept for the configurations still running.
            let running: HashSet<&str> = s.tasks.iter().map(|t| t.config_hash.as_str()).collect();
            s.launch_templates
                .retain(|hash, _| running.contains(hash.as_str()));
            s.outputs = out;
            if all_done {
                s.applied = applied;
            }
        })?;
        Ok(ApplyReport {
            steps: reports,
            interrupted,
            outputs,
        })
    }
}
