//! Carving a task's resources out of an offer, the way the Mesos master
//! validates a LAUNCH: every resource launched must be contained in the
//! offer, with the same role, reservations and allocation info as the
//! offered resource it comes from. So each piece taken is a clone of an
//! offered `Resource` with only its value changed, never a fresh
//! unreserved resource.
//!
//! Whether the task fits at all is decided by [`super::Available`] alone
//! (the rule the planner uses too); carving then only splits.

use super::{from_milli, to_milli, Available, Demand, Shortfall};
use mesos_api::{PortRanges, Resource, ValueType};

/// Whether a resource may be used for a long-running Alluxio process
/// (see [`super::Available::of_offer`]).
fn usable(r: &Resource) -> bool {
    r.revocable.is_none() && r.shared.is_none()
}

fn with_scalar(r: &Resource, milli: i64) -> Resource {
    let mut piece = r.clone();
    piece.scalar = Some(mesos_api::Scalar {
        value: from_milli(milli),
    });
    piece
}

fn with_ranges(r: &Resource, ports: &PortRanges) -> Resource {
    let mut piece = r.clone();
    piece.ranges = Some(ports.into());
    piece
}

fn is_scalar(r: &Resource, name: &str) -> bool {
    r.name == name && r.kind == ValueType::Scalar && usable(r)
}

fn is_ranges(r: &Resource, name: &str) -> bool {
    r.name == name && r.kind == ValueType::Ranges && usable(r)
}

/// The task's resources, and its executor's when it has one, carved from
/// the offer; a shortfall (decided by the fit rule on the whole demand)
/// names everything the offer lacks.
pub fn carve_task(
    offer: &[Resource],
    demand: &Demand,
) -> Result<(Vec<Resource>, Vec<Resource>), Shortfall> {
    if let Some(short) = Available::of_offer(offer).shortfall(demand) {
        return Err(short);
    }
    let task_mem = demand.jvm_mem_mb + demand.ramdisk_mb;
    let fitted = "the fit rule found room for the whole demand";
    let (executor, rest) = match demand.executor {
        Some(e) => carve(offer, e.cpus, e.mem_mb, &[]).expect(fitted),
        None => (Vec::new(), offer.to_vec()),
    };
    let (task, _) = carve(&rest, demand.cpus, task_mem, &demand.ports).expect(fitted);
    Ok((task, executor))
}

/// Takes `demand` out of `offer`: the resources to launch with, and what is
/// left of the offer (to carve a second demand from, e.g. the task after its
/// executor). Reserved resources are used before unreserved ones: they are
/// set aside for our role and are otherwise wasted.
pub fn carve(
    offer: &[Resource],
    cpus: f64,
    mem_mb: f64,
    ports: &[u16],
) -> Result<(Vec<Resource>, Vec<Resource>), Shortfall> {
    let demand = Demand {
        cpus,
        jvm_mem_mb: mem_mb,
        ramdisk_mb: 0.0,
        ports: ports.to_vec(),
        executor: None,
    };
    if let Some(short) = Available::of_offer(offer).shortfall(&demand) {
        return Err(short);
    }
    // Remaining quantity per offered entry, indexed like `offer`.
    let mut left_milli: Vec<i64> = offer.iter().map(|r| to_milli(r.scalar_value())).collect();
    let mut left_ports: Vec<PortRanges> = offer.iter().map(Resource::port_ranges).collect();
    let mut taken = Vec::new();

    // Reserved entries first, then the rest, each group in offer order.
    let order: Vec<usize> = (0..offer.len())
        .filter(|&i| offer[i].reserved_role().is_some())
        .chain((0..offer.len()).filter(|&i| offer[i].reserved_role().is_none()))
        .collect();

    for (name, amount) in [("cpus", cpus), ("mem", mem_mb)] {
        let mut still = to_milli(amount).max(0);
        for &i in &order {
            if still == 0 {
                break;
            }
            if !is_scalar(&offer[i], name) || left_milli[i] <= 0 {
                continue;
            }
            let piece = still.min(left_milli[i]);
            left_milli[i] -= piece;
            still -= piece;
            taken.push(with_scalar(&offer[i], piece));
        }
    }

    let mut still = demand.port_set();
    for &i in &order {
        if still.is_empty() {
            break;
        }
        if !is_ranges(&offer[i], "ports") {
            continue;
        }
        let here = still.intersect(&left_ports[i]);
        if here.is_empty() {
            continue;
        }
        left_ports[i] = left_ports[i].subtract(&here);
        still = still.subtract(&here);
        taken.push(with_ranges(&offer[i], &here));
    }

    let remaining = offer
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            if is_scalar(r, "cpus") || is_scalar(r, "mem") {
                (left_milli[i] > 0).then(|| with_scalar(r, left_milli[i]))
            } else if is_ranges(r, "ports") {
                (!left_ports[i].is_empty()).then(|| with_ranges(r, &left_ports[i]))
            } else {
                Some(r.clone())
            }
        })
        .collect();
    // What is taken goes into a TaskInfo that waits, with thousands of
    // others, for its ACCEPT: no spare capacity.
    taken.shrink_to_fit();
    Ok((taken, remaining))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_api::{scalar_sum, AllocationInfo};

    fn ports(s: &str) -> PortRanges {
        s.parse().unwrap()
    }

    /// Whether `part` is contained in `whole` as Mesos checks it: per
    /// resource identity (everything but the value), quantities summed.
    fn contained(part: &[Resource], whole: &[Resource]) -> bool {
        fn identity(r: &Resource) -> Resource {
            let mut k = r.clone();
            k.scalar = None;
            k.ranges = None;
            k
        }
        part.iter().all(|p| {
            let id = identity(p);
            let same: Vec<&Resource> = whole.iter().filter(|w| identity(w) == id).collect();
            let used: Vec<&Resource> = part.iter().filter(|q| identity(q) == id).collect();
            match p.kind {
                ValueType::Scalar => {
                    let have: i64 = same.iter().map(|r| to_milli(r.scalar_value())).sum();
                    let need: i64 = used.iter().map(|r| to_milli(r.scalar_value())).sum();
                    need <= have
                }
                _ => {
                    let have = same
                        .iter()
                        .fold(PortRanges::new(), |a, r| a.union(&r.port_ranges()));
                    have.contains_all(&p.port_ranges())
                }
            }
        })
    }

    fn default_agent() -> Vec<Resource> {
        vec![
            Resource::cpus(4.0),
            Resource::mem(8192.0),
            Resource::disk(10000.0),
            Resource::ports(&ports("[31000-32000]")),
        ]
    }

    #[test]
    fn takes_cpus_mem_and_exact_ports_and_returns_the_rest() {
        let offer = default_agent();
        let (taken, rest) = carve(&offer, 1.5, 1024.0, &[31000, 31005]).unwrap();
        assert_eq!(scalar_sum(&taken, "cpus"), 1.5);
        assert_eq!(scalar_sum(&taken, "mem"), 1024.0);
        assert_eq!(
            mesos_api::ranges_union(&taken, "ports"),
            ports("[31000-31000, 31005-31005]")
        );
        assert_eq!(scalar_sum(&rest, "cpus"), 2.5);
        assert_eq!(scalar_sum(&rest, "mem"), 7168.0);
        assert_eq!(scalar_sum(&rest, "disk"), 10000.0);
        assert_eq!(
            mesos_api::ranges_union(&rest, "ports"),
            ports("[31001-31004, 31006-32000]")
        );
        assert!(contained(&taken, &offer));
        assert!(contained(&rest, &offer));
    }

    #[test]
    fn ports_come_from_whichever_offered_range_holds_them() {
        let offer = vec![
            Resource::cpus(2.0),
            Resource::mem(4096.0),
            Resource::ports(&ports("[19998-19999, 31000-32000]")),
            Resource::ports(&ports("[29998-30000]")).reserved_to("alluxio"),
        ];
        let (taken, rest) = carve(&offer, 1.0, 1024.0, &[29998, 29999, 30000]).unwrap();
        let port_pieces: Vec<&Resource> = taken.iter().filter(|r| r.name == "ports").collect();
        assert_eq!(port_pieces.len(), 1);
        assert_eq!(port_pieces[0].reserved_role(), Some("alluxio"));
        assert_eq!(port_pieces[0].port_ranges(), ports("[29998-30000]"));
        // The reserved port entry is used up and gone from the remainder.
        assert!(rest
            .iter()
            .all(|r| r.name != "ports" || r.reserved_role().is_none()));
        assert!(contained(&taken, &offer));

        let (taken, _) = carve(&offer, 1.0, 1.0, &[19999, 30000, 31999]).unwrap();
        assert_eq!(
            mesos_api::ranges_union(&taken, "ports"),
            ports("[19999-19999, 30000-30000, 31999-31999]")
        );
        assert!(contained(&taken, &offer));
    }

    #[test]
    fn scalars_split_across_roles_keep_each_pieces_role_and_allocation() {
        let alloc = Some(AllocationInfo {
            role: Some("alluxio".into()),
        });
        let mut reserved = Resource::cpus(0.5).reserved_to("alluxio");
        reserved.allocation_info = alloc.clone();
        let mut unreserved = Resource::cpus(3.0);
        unreserved.role = Some("*".into());
        unreserved.allocation_info = alloc.clone();
        let mut mem = Resource::mem(2048.0);
        mem.allocation_info = alloc.clone();
        let offer = vec![unreserved, reserved, mem];

        let (taken, rest) = carve(&offer, 1.1, 100.0, &[]).unwrap();
        let cpus: Vec<&Resource> = taken.iter().filter(|r| r.name == "cpus").collect();
        assert_eq!(cpus.len(), 2, "{taken:?}");
        // Reserved first, whole; the rest from the unreserved pool.
        assert_eq!(cpus[0].reserved_role(), Some("alluxio"));
        assert_eq!(cpus[0].scalar_value(), 0.5);
        assert_eq!(cpus[1].reserved_role(), None);
        assert_eq!(cpus[1].role.as_deref(), Some("*"));
        assert_eq!(cpus[1].scalar_value(), 0.6);
        assert!(taken.iter().all(|r| r.allocation_info == alloc));
        assert!(contained(&taken, &offer));
        assert_eq!(scalar_sum(&rest, "cpus"), 2.4);
        assert!(rest.iter().all(|r| r.reserved_role().is_none()));
    }

    #[test]
    fn results_are_rounded_to_thousandths_like_mesos() {
        let offer = vec![Resource::cpus(1.0), Resource::mem(100.0)];
        // 0.1 + 0.2 is 0.30000000000000004 in floats; Mesos sees 0.3.
        let (taken, rest) = carve(&offer, 0.1 + 0.2, 33.3333333, &[]).unwrap();
        assert_eq!(scalar_sum(&taken, "cpus"), 0.3);
        assert_eq!(scalar_sum(&taken, "mem"), 33.333);
        assert_eq!(scalar_sum(&rest, "cpus"), 0.7);
        assert_eq!(scalar_sum(&rest, "mem"), 66.667);
        // Exactly everything fits, and nothing of that kind is left.
        let (_, rest) = carve(&offer, 0.7 + 0.3, 100.0, &[]).unwrap();
        assert!(rest.is_empty(), "{rest:?}");
    }

    #[test]
    fn executor_then_task_from_the_same_offer() {
        let offer = default_agent();
        let (exec, rest) = carve(&offer, 0.1, 32.0, &[]).unwrap();
        let (task, _) = carve(&rest, 3.9, 8160.0, &[31000]).unwrap();
        let mut all = exec.clone();
        all.extend(task);
        assert!(contained(&all, &offer));
        assert_eq!(scalar_sum(&all, "cpus"), 4.0);
        assert!(carve(&rest, 3.95, 1.0, &[]).is_err());
    }

    #[test]
    fn shortfalls_say_what_is_missing_in_one_line() {
        let offer = vec![
            Resource::cpus(0.5),
            Resource::mem(512.0),
            Resource::ports(&ports("[31000-32000]")),
        ];
        let err = carve(&offer, 1.1, 256.0, &[]).unwrap_err();
        assert_eq!(err.to_string(), "cpus: needs 1.1, 0.5 in the offer");

        let err = carve(&offer, 0.1, 32.0, &[19998, 19999]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ports 19998-19999 not offered (offer has [31000-32000])"
        );

        let err = carve(&offer, 1.0, 1024.0, &[31000, 5050]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cpus: needs 1, 0.5 in the offer; mem: needs 1024MB, 512MB in the offer; \
             port 5050 not offered (offer has [31000-32000])"
        );
        assert!(!err.to_string().contains('\n'));
    }

    #[test]
    fn revocable_resources_are_not_used() {
        let mut revocable = Resource::cpus(8.0);
        revocable.revocable = Some(serde_json::json!({}));
        let offer = vec![revocable, Resource::cpus(0.5), Resource::mem(64.0)];
        let err = carve(&offer, 1.0, 32.0, &[]).unwrap_err();
        assert_eq!(err.to_string(), "cpus: needs 1, 0.5 in the offer");
        let (_, rest) = carve(&offer, 0.5, 32.0, &[]).unwrap();
        assert!(rest.iter().any(|r| r.revocable.is_some()));
    }

    #[test]
    fn an_empty_demand_takes_nothing() {
        let offer = default_agent();
        let (taken, rest) = carve(&offer, 0.0, 0.0, &[]).unwrap();
        assert!(taken.is_empty());
        assert_eq!(rest, offer);
    }
}
