//! Events: status updates (with the step each one moves on), agents
//! lost, refusals; and the timeouts that fail a step.

use super::*;

pub(super) fn describe(status: &TaskStatus) -> String {
    let mut s = status.state.to_string();
    if let Some(r) = status.reason {
        if let Ok(serde_json::Value::String(name)) = serde_json::to_value(r) {
            s.push_str(&format!(" ({name})"));
        }
    }
    if let Some(m) = status.message.as_deref().filter(|m| !m.is_empty()) {
        s.push_str(&format!(": {m}"));
        if let Some(hint) = hint_for(m) {
            s.push_str(&format!(" ({hint})"));
        }
    }
    s
}

/// What to do about a failure whose cause is in the deployment, in the
/// agent's words. A real agent chowns each sandbox to the task's user, even
/// with `--switch_user=false`, and fails the launch when its host has no
/// such account.
fn hint_for(message: &str) -> Option<String> {
    let user = message.split("No such user '").nth(1)?.split('\'').next()?;
    Some(format!(
        "the agent's host has no account {user}: set [mesos] user to an account every agent has"
    ))
}

/// How long a movable step whose agent was removed waits for room on
/// another agent before it ends as not started: a REVIVE and a few
/// allocation rounds (Mesos allocates every second by default).
pub const LOST_AGENT_MOVE_WINDOW: Duration = Duration::from_secs(10);

/// A task that ended because Mesos removed its agent (the master's words
/// when it marks an agent unreachable or gone).
fn ends_with_its_agent(status: &TaskStatus) -> bool {
    matches!(
        status.reason,
        Some(Reason::ReasonAgentRemoved | Reason::ReasonAgentRemovedByOperator)
    )
}

impl<M: SchedulerApi, S: StateSink> Engine<'_, M, S> {
    /// Mesos reported an agent removed (a FAILURE event, or a task ended
    /// with `REASON_AGENT_REMOVED`): losing an agent is not a failed
    /// configuration. A step planned there that may move takes the next
    /// fitting offer elsewhere, within [`LOST_AGENT_MOVE_WINDOW`] (see
    /// [`Self::movable_step`] and [`Self::check_timeouts`]); one that may
    /// not ends now as not started, whatever it was doing, and nothing is
    /// rolled back for it.
    pub(super) fn on_agent_lost(&mut self, steps: &mut [Step], agent_id: &str) {
        if self.lost_agents.contains_key(agent_id) {
            return;
        }
        self.lost_agents
            .insert(agent_id.to_string(), Instant::now());
        let mut host = agent_id.to_string();
        for s in steps.iter_mut() {
            let Some((planned, _)) = &s.launch else {
                continue;
            };
            if planned.id != agent_id {
                continue;
            }
            host = planned.hostname.clone();
            if !s.may_move && !s.finished() {
                s.phase = Phase::Halted(format!(
                    "not started: its agent {host} was removed from Mesos; run plan again to place it elsewhere"
                ));
            }
        }
        self.progress.line(&format!(
            "Mesos reports agent {host} removed; what was planned there is not started unless it may move to another agent"
        ));
    }

    pub(super) fn check_timeouts(&mut self, steps: &mut [Step], rollout: &Rollout) {
        let now = Instant::now();
        let lost = &self.lost_agents;
        let lost_for = |s: &Step| {
            s.launch
                .as_ref()
                .and_then(|(a, _)| lost.get(&a.id).copied())
        };
        for s in steps.iter_mut() {
            let failed = match &s.phase {
                Phase::Killing { task_id, since }
                    if now.duration_since(*since) > self.opts.kill_timeout =>
                {
                    Some(format!(
                        "task {task_id} did not end within {}s of the kill",
                        self.opts.kill_timeout.as_secs()
                    ))
                }
                Phase::NeedOffer { .. }
                    if s.may_move
                        && lost_for(s)
                            .is_some_and(|t| now.duration_since(t) > LOST_AGENT_MOVE_WINDOW) =>
                {
                    let host = s
                        .launch
                        .as_ref()
                        .map(|(a, _)| a.hostname.clone())
                        .unwrap_or_default();
                    let why = format!(
                        "not started: its agent {host} was removed from Mesos and no other eligible agent had room within {}s; run plan again to place it",
                        LOST_AGENT_MOVE_WINDOW.as_secs()
                    );
                    self.progress.line(&format!("{}: {why}", s.address));
                    s.phase = Phase::Halted(why);
                    None
                }
                Phase::NeedOffer { since, .. }
                    if now.duration_since(*since) > self.opts.offer_timeout && !s.may_move =>
                {
                    let host = s
                        .launch
                        .as_ref()
                        .map(|(a, _)| a.hostname.clone())
                        .unwrap_or_default();
                    let secs = self.opts.offer_timeout.as_secs();
                    Some(match &s.last_shortfall {
                        Some(short) => format!("the offers from agent {host} did not fit within {secs}s; the last one lacked: {short}"),
                        None => format!("no offer from agent {host} within {secs}s (its resources may have been taken by another framework)"),
                    })
                }
                Phase::NeedOffer { since, .. }
                    if now.duration_since(*since) > self.opts.offer_timeout * 2 =>
                {
                    let secs = (self.opts.offer_timeout * 2).as_secs();
                    Some(match &s.last_shortfall {
                        Some(short) => format!("no offer that fits within {secs}s; the last one from the planned agent lacked: {short}"),
                        None => format!("no offer from any eligible agent within {secs}s"),
                    })
                }
                Phase::Launching { task_id, since, .. }
                    if now.duration_since(*since) > self.opts.running_timeout =>
                {
                    Some(format!(
                        "task {task_id} was not TASK_RUNNING within {}s",
                        self.opts.running_timeout.as_secs()
                    ))
                }
                Phase::Settling {
                    task_id,
                    agent,
                    since,
                } if now.duration_since(*since) >= self.opts.settle => {
                    let ready = rollout.ready(s.address.role());
                    s.phase = match ready.when {
                        ReadyWhen::Mesos => {
                            Phase::Done(format!("task {task_id} running on {}", agent.hostname))
                        }
                        ReadyWhen::Alluxio => {
                            self.progress.line(&format!(
                                "{}: running on {}, waiting for Alluxio to say it serves",
                                s.address, agent.hostname
                            ));
                            Phase::Serving {
                                task_id: task_id.clone(),
                                agent: agent.clone(),
                                since: now,
                                last_seen: "nothing asked yet".into(),
                            }
                        }
                    };
                    None
                }
                Phase::Serving {
                    since, last_seen, ..
                } if now.duration_since(*since) > rollout.ready(s.address.role()).timeout => {
                    let what = match s.address.role() {
                        crate::address::Role::Master => {
                            "its web port to answer Alluxio's GET /api/v1/master/info"
                        }
                        crate::address::Role::Worker => {
                            "an Alluxio master to list it among its workers"
                        }
                    };
                    Some(format!(
                        "Mesos runs it, but Alluxio did not serve within {}: waited for {what}; last seen: {last_seen}",
                        humantime::format_duration(rollout.ready(s.address.role()).timeout)
                    ))
                }
                _ => None,
            };
            if let Some(why) = failed {
                self.progress.line(&format!("{}: failed: {why}", s.address));
                s.phase = Phase::Failed(why);
            }
        }
    }

    pub(super) async fn handle(
        &mut self,
        sub: &Subscription,
        steps: &mut [Step],
        event: Event,
        batch: &mut Batch,
        held: &mut Vec<Offer>,
        interrupted: bool,
    ) -> Result<(), ApplyError> {
        match event.kind {
            EventType::Update => {
                let Some(update) = event.update else {
                    return Ok(());
                };
                let status = update.status;
                if status.state.is_terminal() && ends_with_its_agent(&status) {
                    if let Some(agent) = &status.agent_id {
                        self.on_agent_lost(steps, &agent.value);
                    }
                }
                // Acknowledged once saved (see the module doc): unacknowledged
                // updates are resent.
                batch.push(
                    (status.task_id.value.clone(), status.state),
                    Call::acknowledge(sub.framework_id.clone(), &status),
                );
                self.on_status(steps, &status);
            }
            EventType::Offers => {
                let offers = event.offers.map(|o| o.offers).unwrap_or_default();
                // Statuses first: launches read the recorded masters.
                self.flush(sub, batch).await?;
                self.on_offers(sub, steps, offers, held, interrupted)
                    .await?;
            }
            EventType::Failure => {
                // An agent removed or unreachable (Mesos sends this with
                // only `agent_id`; with an executor ID it is an executor's
                // exit, which the task's own update reports).
                if let Some(f) = event.failure.filter(|f| f.executor_id.is_none()) {
                    if let Some(agent) = f.agent_id {
                        self.on_agent_lost(steps, &agent.value);
                    }
                }
            }
            EventType::Rescind => {
                if let Some(r) = event.rescind {
                    held.retain(|o| o.id != r.offer_id);
                }
            }
            EventType::Error => {
                let message = event.error.map(|e| e.message).unwrap_or_default();
                if message.contains("failed over") {
                    return Err(ApplyError::TakenOver(sub.framework_id.value.clone()));
                }
                return Err(ApplyError::Refused(message));
            }
            _ => {}
        }
        Ok(())
    }

    pub(super) fn on_status(&mut self, steps: &mut [Step], status: &TaskStatus) {
        let id = status.task_id.value.as_str();
        // A task that a run which died was killing: wait for its end, so
        // that the state does not keep it as if it still ran.
        if status.state != TaskState::Killing {
            self.reconciling.waiting.remove(id);
        }
        let Some(&i) = self.by_task.get(id) else {
            return;
        };
        {
            let s = &mut steps[i];
            if let Some(new) = s.new_task.as_mut().filter(|n| n.task_id == id) {
                new.ended |= status.state.is_terminal();
                if new.first_status_ms.is_none() {
                    new.first_status_ms = status.timestamp.map(|t| (t * 1000.0) as i64);
                }
            }
            match &s.phase {
                Phase::Killing { task_id, .. } if task_id == id && status.state.is_terminal() => {
                    self.progress
                        .line(&format!("{}: task {id} is {}", s.address, status.state));
                    s.old_ended = true;
                    s.phase = if s.launch.is_some() {
                        let now = Instant::now();
                        Phase::NeedOffer {
                            since: now,
                            not_before: now,
                        }
                    } else {
                        Phase::Done(format!("killed task {id}"))
                    };
                }
                Phase::Launching { task_id, agent, .. }
                | Phase::Settling { task_id, agent, .. }
                | Phase::Serving { task_id, agent, .. }
                    if task_id == id =>
                {
                    let launching = matches!(s.phase, Phase::Launching { .. });
                    // With a health check, RUNNING is not enough: Mesos
                    // reports the verdict as a later RUNNING with `healthy`.
                    let checked = s.launch.as_ref().is_some_and(|(_, what)| {
                        what.template.task_info.get("health_check").is_some()
                    });
                    let ready = !checked || status.healthy == Some(true);
                    if status.state == TaskState::Running && launching && !ready {
                        self.progress.line(&format!(
                            "{}: {} on {}, waiting for its health check",
                            s.address, status.state, agent.hostname
                        ));
                    } else if status.state == TaskState::Running && launching {
                        let healthy = if checked { " (healthy)" } else { "" };
                        self.progress.line(&format!(
                            "{}: {} on {}{healthy}",
                            s.address, status.state, agent.hostname
                        ));
                        let (task_id, agent) = (task_id.clone(), agent.clone());
                        s.phase = if self.opts.settle.is_zero() {
                            Phase::Done(format!("task {id} running on {}", agent.hostname))
                        } else {
                            Phase::Settling {
                                task_id,
                                agent,
                                since: Instant::now(),
                            }
                        };
                    } else if status.state.is_terminal() {
                        let why = describe(status);
                        if s.attempts < self.opts.max_attempts {
                            let wait = backoff(s.attempts);
                            self.progress.line(&format!(
                                "{}: task {id} {why}; retrying in {:.1}s (attempt {} of {})",
                                s.address,
                                wait.as_secs_f64(),
                                s.attempts + 1,
                                self.opts.max_attempts
                            ));
                            let now = Instant::now();
                            s.phase = Phase::NeedOffer {
                                since: now,
                                not_before: now + wait,
                            };
                        } else {
                            self.progress.line(&format!(
                                "{}: failed after {} attempts: {why}",
                                s.address, s.attempts
                            ));
                            s.phase = Phase::Failed(format!(
                                "task {id} {why} (after {} attempts)",
                                s.attempts
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod hint_tests {
    use super::hint_for;

    #[test]
    fn a_missing_user_is_named_with_the_setting_that_fixes_it() {
        let m = "Failed to launch container: Failed to chown '/w/stdout' to user 'alluxio' : No such user 'alluxio'";
        assert_eq!(
            hint_for(m).unwrap(),
            "the agent's host has no account alluxio: set [mesos] user to an account every agent has"
        );
        assert_eq!(hint_for("Command exited with status 3"), None);
    }
}
