//! Offers: every allocation interval, each active agent's free resources
//! go to one subscribed framework that wants them, honouring suppression,
//! decline filters and reservations (resources reserved for role R are
//! offered only under role R). Offers older than `offer_timeout` are
//! rescinded.

use std::time::{Duration, Instant};

use mesos_api::Event;

use crate::model::{pools_total, Master, OfferFilter, OfferRec, RolePools};

impl Master {
    /// One allocation round.
    pub fn allocate(&mut self, now: Instant) {
        if !self.leading {
            return;
        }
        for fw in self.frameworks.values_mut() {
            fw.filters.expire(now);
        }
        let agent_ids: Vec<String> = self
            .agents
            .values()
            .filter(|a| a.active && !a.removed)
            .map(|a| a.id.clone())
            .collect();
        // Rotate the framework order between rounds so that two frameworks
        // share a cluster roughly fairly.
        let mut fids: Vec<String> = self
            .frameworks
            .values()
            .filter(|f| f.connected())
            .map(|f| f.id.clone())
            .collect();
        if !fids.is_empty() {
            let k = (self.next_offer as usize) % fids.len();
            fids.rotate_left(k);
        }
        let mut batches: std::collections::BTreeMap<String, Vec<mesos_api::Offer>> =
            Default::default();
        // Computed once per round: offers made below are for agents whose
        // free resources were already taken from these.
        let holdings = self.holdings();
        for aid in agent_ids {
            let mut free = holdings.free_on(&self.agents[&aid]);
            for fid in &fids {
                let fw = &self.frameworks[fid];
                let roles: Vec<String> = fw
                    .roles()
                    .into_iter()
                    .filter(|r| !fw.suppressed_roles.contains(r))
                    .collect();
                for role in roles {
                    // Unreserved resources plus those reserved for this role.
                    let mut pools = RolePools::new();
                    for key in ["*", role.as_str()] {
                        if let Some(s) = free.get(key) {
                            if !s.is_empty() {
                                pools.insert(key.to_string(), s.clone());
                            }
                        }
                    }
                    if pools_total(&pools).is_empty()
                        || self.frameworks[fid].filters.refuses(&aid, &pools)
                    {
                        continue;
                    }
                    for key in pools.keys() {
                        free.remove(key);
                    }
                    let id = self.new_offer_id();
                    let rec = OfferRec {
                        id: id.clone(),
                        framework_id: fid.clone(),
                        agent_id: aid.clone(),
                        role: role.clone(),
                        pools,
                        created: now,
                    };
                    let info = &self.frameworks[fid].info;
                    let offer = rec.to_offer(self, &self.agents[&aid], Some(info));
                    self.offers.insert(id, rec);
                    batches.entry(fid.clone()).or_default().push(offer);
                }
            }
        }
        for (fid, offers) in batches {
            if let Some(fw) = self.frameworks.get(&fid) {
                fw.send(&Event::offers(offers));
            }
        }
    }

    /// Rescinds offers older than the offer timeout.
    pub fn expire_offers(&mut self, now: Instant) {
        let timeout = self.spec.timing.offer_timeout;
        if timeout.is_zero() {
            return;
        }
        let old: Vec<String> = self
            .offers
            .values()
            .filter(|o| now.duration_since(o.created) >= timeout)
            .map(|o| o.id.clone())
            .collect();
        for id in old {
            self.rescind(&id);
        }
    }

    /// Keeps `resources` of an agent (a declined offer, or what an ACCEPT
    /// left unused) from being offered to the framework again for
    /// `refuse_seconds`.
    pub fn filter_agent(
        &mut self,
        fid: &str,
        agent_id: &str,
        refuse_seconds: f64,
        resources: RolePools,
    ) {
        if refuse_seconds <= 0.0 {
            return;
        }
        // Mesos caps the filter at 365 days and treats bad values as the default.
        let secs = if refuse_seconds.is_finite() {
            refuse_seconds.min(365.0 * 24.0 * 3600.0)
        } else {
            mesos_api::Filters::DEFAULT_REFUSE_SECONDS
        };
        // As the allocator: a filter lasts at least one allocation interval.
        let secs = secs.max(self.spec.timing.allocation_interval.as_secs_f64());
        if let Some(fw) = self.frameworks.get_mut(fid) {
            fw.filters.add(
                agent_id,
                OfferFilter {
                    until: Instant::now() + Duration::from_secs_f64(secs),
                    resources,
                },
            );
        }
    }

    /// Rescinds every offer of a framework (silently: it is going away).
    pub fn drop_offers_of(&mut self, fid: &str) {
        self.offers.retain(|_, o| o.framework_id != fid);
    }
}
