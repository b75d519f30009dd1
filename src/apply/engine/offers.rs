//! Offers: which step each offer serves, the launch decided on it (the
//! step's launch template restored on the offer), and the saved intent
//! before the ACCEPTs.

use super::*;

/// Whether an offer's agent meets the constraints a moving step must meet.
pub(super) fn offer_meets(constraints: Option<&Constraint>, offer: &Offer) -> bool {
    let Some(c) = constraints else { return true };
    // Attribute values as text, by the rule the planner's document reader uses.
    let attrs: BTreeMap<String, String> = offer
        .attributes
        .iter()
        .filter_map(|a| {
            let value = match (&a.text, &a.scalar) {
                (Some(t), _) => t.value.clone(),
                (None, Some(s)) => crate::fit::attribute_text(s.value),
                _ => return None,
            };
            Some((a.name.clone(), value))
        })
        .collect();
    c.matches(&attrs)
}

impl<M: SchedulerApi, S: StateSink> Engine<'_, M, S> {
    pub(super) async fn on_offers(
        &mut self,
        sub: &Subscription,
        steps: &mut [Step],
        offers: Vec<Offer>,
        held: &mut Vec<Offer>,
        interrupted: bool,
    ) -> Result<(), ApplyError> {
        let now = Instant::now();
        let mut decline = Vec::new();
        let mut launches = Vec::new();
        // Steps by planned agent, so that matching offers is linear.
        let mut by_agent: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, s) in steps.iter().enumerate() {
            if let Some((a, _)) = &s.launch {
                by_agent.entry(a.id.clone()).or_default().push(i);
            }
        }
        let masters_pending = steps.iter().any(|s| s.group() == 1 && !s.finished());
        // Configurations whose launch template this batch records already.
        let mut templated: HashSet<String> = HashSet::new();
        for offer in offers {
            // One task per offer: the rest of the agent comes back in the next
            // offer (accepting with refuse_seconds 0 when more is wanted there).
            let planned: &[usize] = by_agent
                .get(&offer.agent_id.value)
                .map_or(&[], Vec::as_slice);
            let pick = planned.iter().copied().find(|&i| {
                matches!(steps[i].phase, Phase::NeedOffer { not_before, .. } if not_before <= now)
            });
            let pick = pick.or_else(|| self.movable_step(steps, &offer, now));
            let Some(i) = pick else {
                // Held only for new workers waiting for the masters (a
                // short wait); never through a rolling replacement, which
                // would keep the agents from other frameworks for long.
                let later = masters_pending
                    && planned.iter().any(|&i| {
                        matches!(steps[i].phase, Phase::Waiting) && steps[i].old.is_none()
                    });
                if later && !interrupted {
                    held.push(offer);
                } else {
                    decline.push(offer.id.clone());
                }
                continue;
            };
            match self.prepare_launch(sub, &mut steps[i], &offer, &mut templated) {
                Some(mut launch) => {
                    launch.step = i;
                    launches.push(launch);
                }
                None => decline.push(offer.id.clone()),
            }
        }
        if !launches.is_empty() {
            // Intents first, all in one write: a crash after this line
            // leaves pending records that the next run reconciles.
            let records: Vec<TaskRecord> = launches.iter().map(|l| l.record.clone()).collect();
            let templates: Vec<(String, LaunchTemplate)> = launches
                .iter_mut()
                .filter_map(|l| Some((l.record.config_hash.clone(), l.template.take()?)))
                .collect();
            self.store.update(|s| {
                s.tasks.extend(records);
                for (hash, template) in templates {
                    s.launch_templates.entry(hash).or_insert(template);
                }
            })?;
            let mut calls = Vec::with_capacity(launches.len());
            let mut launched = Vec::with_capacity(launches.len());
            for l in launches {
                self.by_task.insert(l.record.task_id, l.step);
                self.progress.line(&l.line);
                calls.push(l.call);
                launched.push(l.step);
            }
            // One ACCEPT per offer, each on its own offer: independent.
            self.client.call_all(sub, &calls).await?;
            drop(calls);
            let now = Instant::now();
            for i in launched {
                if let Phase::Launching { since, .. } = &mut steps[i].phase {
                    *since = now;
                }
            }
        }
        if !decline.is_empty() {
            // Nothing we want now: do not send these agents again for a while,
            // unless steps still wait for offers (then re-offer soon).
            let waiting = steps.iter().any(|s| {
                matches!(
                    s.phase,
                    Phase::NeedOffer { .. } | Phase::Killing { .. } | Phase::Waiting
                )
            });
            let refuse = if waiting { 1.0 } else { 30.0 };
            self.declined_for_long |= !waiting;
            let call = Call::decline(sub.framework_id.clone(), decline, Some(refuse));
            self.client.call(sub, &call).await?;
        }
        Ok(())
    }

    /// A step whose planned agent sent nothing in time, that may move to this offer's agent.
    pub(super) fn movable_step(
        &self,
        steps: &[Step],
        offer: &Offer,
        now: Instant,
    ) -> Option<usize> {
        let agent = offer.agent_id.value.as_str();
        let taken = |role: Role| {
            let by_state = self.store.state().tasks.iter().any(|t| {
                t.agent_id == agent
                    && t.role == role
                    && !matches!(t.state, RecordedState::Mesos(s) if s.is_terminal())
            });
            let by_plan = steps.iter().any(|s| {
                s.address.role() == role
                    && matches!(&s.launch, Some((a, _)) if a.id == agent)
                    && !matches!(s.phase, Phase::Failed(_))
            });
            by_state || by_plan
        };
        steps.iter().position(|s| {
            let Phase::NeedOffer { since, not_before } = s.phase else {
                return false;
            };
            let planned_lost =
                matches!(&s.launch, Some((a, _)) if self.lost_agents.contains_key(&a.id));
            s.may_move
                && not_before <= now
                && (planned_lost || now.duration_since(since) > self.opts.offer_timeout)
                && !taken(s.address.role())
                && offer_meets(s.move_constraints.as_ref(), offer)
        })
    }

    /// Decides the launch of the step's task on this offer (the step is
    /// then launching); None when it does not fit. The caller saves the
    /// intent and sends the ACCEPT.
    pub(super) fn prepare_launch(
        &mut self,
        sub: &Subscription,
        step: &mut Step,
        offer: &Offer,
        templated: &mut HashSet<String>,
    ) -> Option<Launch> {
        let (planned, what) = step
            .launch
            .clone()
            .expect("only launch steps wait for offers");
        let agent = AgentRef {
            id: offer.agent_id.value.clone(),
            hostname: offer.hostname.clone(),
        };
        // A worker that moves takes the address of its new agent.
        let address = match (&step.address, agent.id != planned.id) {
            (Address::Worker(_), true) => Address::Worker(agent.hostname.clone()),
            (a, _) => a.clone(),
        };
        let task_id = crate::launch::new_task_id(&address);
        let built = self.task_info(sub, &what, &address, &task_id, offer, templated);
        let (info, template) = match built {
            Ok(built) => built,
            Err(NotLaunched::Shortfall(short)) => {
                if agent.id == planned.id {
                    step.last_shortfall = Some(short.clone());
                    self.progress.line(&format!(
                        "{}: the offer from {} does not fit ({short}); waiting for another",
                        step.address, agent.hostname
                    ));
                }
                return None;
            }
            Err(NotLaunched::Never(why)) => {
                step.phase = Phase::Failed(why);
                return None;
            }
        };
        if agent.id != planned.id {
            let why = if self.lost_agents.contains_key(&planned.id) {
                format!("{} was removed from Mesos", planned.hostname)
            } else {
                format!(
                    "no offer from {} in {}s",
                    planned.hostname,
                    self.opts.offer_timeout.as_secs()
                )
            };
            self.progress.line(&format!(
                "{}: {why}; placing it on {} instead{}",
                step.address,
                agent.hostname,
                if address != step.address {
                    format!(" as {address}")
                } else {
                    String::new()
                }
            ));
            step.address = address.clone();
        }
        let record = TaskRecord {
            address: address.clone(),
            task_id: task_id.clone(),
            role: address.role(),
            agent_id: agent.id.clone(),
            hostname: agent.hostname.clone(),
            ports: what.template.ports.clone(),
            resources: what.template.resources.clone(),
            config_hash: what.config_hash.clone(),
            state: RecordedState::Pending,
            updated_at: crate::state::timestamp_now(),
        };
        step.attempts += 1;
        let line = format!(
            "{}: launching task {task_id} on {}{}",
            step.address,
            agent.hostname,
            if what.restored {
                " with the last applied configuration"
            } else {
                ""
            }
        );
        let call = Call::accept(
            sub.framework_id.clone(),
            vec![offer.id.clone()],
            vec![Operation::launch(vec![info])],
            Some(Filters::refuse(0.0)),
        );
        step.new_task = Some(NewTask {
            task_id: task_id.clone(),
            agent: agent.clone(),
            ended: false,
            first_status_ms: None,
        });
        step.phase = Phase::Launching {
            task_id,
            agent,
            since: Instant::now(),
        };
        Some(Launch {
            step: 0,
            record,
            template,
            call,
            line,
        })
    }

    /// The `TaskInfo` of `what` on `offer` (its template restored with the
    /// secrets of the deployment file, checked against their fingerprints),
    /// and the template to record in the state when neither the state file
    /// nor `templated` holds it yet (what a rollback relaunches).
    pub(super) fn task_info(
        &self,
        sub: &Subscription,
        what: &Launchable,
        address: &Address,
        task_id: &str,
        offer: &Offer,
        templated: &mut HashSet<String>,
    ) -> Result<(TaskInfo, Option<LaunchTemplate>), NotLaunched> {
        let hasher = secret_hasher(self.desired, Some(self.store.state()));
        let never = |e: template::RestoreError| match e {
            template::RestoreError::Shortfall(short) => NotLaunched::Shortfall(short.to_string()),
            e if what.restored => NotLaunched::Never(format!(
                "cannot relaunch the last applied configuration: {e}"
            )),
            e => NotLaunched::Never(format!("cannot launch the planned configuration: {e}")),
        };
        let template = &what.template;
        let ctx = template::RestoreContext {
            deployment: &self.desired.name,
            framework_id: &sub.framework_id,
            site: &self.desired.site,
            hasher: &hasher,
        };
        let info = template::restore(&ctx, template, &what.config_hash, address, task_id, offer)
            .map_err(never)?;
        let known = self
            .store
            .state()
            .launch_templates
            .contains_key(&what.config_hash)
            || !templated.insert(what.config_hash.clone());
        Ok((info, (!known).then(|| (**template).clone())))
    }
}
