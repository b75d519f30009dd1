//! The `[master]` and `[worker]` sections, and the five ports checked
//! against each other.

use super::*;
use crate::desired::Ready;

/// One of the five ports, and where it was set.
pub(super) struct PortUse {
    pub(super) key: &'static str,
    pub(super) port: u16,
    pub(super) at: Option<Label>,
    pub(super) place: Option<String>,
}

impl PortUse {
    pub(super) fn new(setting: &Setting, f: &Found<u16>) -> Self {
        PortUse {
            key: setting.property.expect("ports have property keys"),
            port: f.value,
            at: f.at.clone(),
            place: f.place.clone(),
        }
    }
}

impl Context<'_> {
    /// What both roles read: a task's resources, ports, name, command,
    /// health check and constraints. None: an error was reported.
    fn role_spec(&mut self, s: &RoleSettings) -> (Option<RoleSpec>, [PortUse; 2]) {
        let cpus = self.setting_or_default(&s.cpus, &CPUS);
        let mem = self.setting_or_default(&s.mem, &SIZE);
        let rpc = self.setting_or_default(&s.rpc_port, &PORT);
        let web = self.setting_or_default(&s.web_port, &PORT);
        let name = self.setting_or_default(&s.name, &TEXT);
        let command = self.read_toml(&s.command, &TEXT).map(|f| f.value);
        let health_check = self
            .read_toml(&s.health_check, &HEALTH_CHECK)
            .map(|f| f.value);
        let ready_when = self.read_toml(&s.ready, &READY_WHEN).map(|f| f.value);
        let ready_timeout = self.setting_or_default(&s.ready_timeout, &DURATION);
        let constraints = self.constraints(&s.constraints);
        let mem_ok = self.nonzero_mem(&s.mem, &mem);
        let ports = [
            PortUse::new(&s.rpc_port, &rpc),
            PortUse::new(&s.web_port, &web),
        ];
        let spec = constraints.filter(|_| mem_ok).map(|constraints| RoleSpec {
            cpus: cpus.value,
            mem: mem.value,
            rpc_port: rpc.value,
            web_port: web.value,
            constraints,
            task_name: name.value,
            ready: match ready_when {
                Some(when) => Ready {
                    when,
                    timeout: ready_timeout.value,
                },
                None => Ready::default_for(command.as_deref(), ready_timeout.value),
            },
            ready_set: ready_when.is_some(),
            command,
            health_check,
        });
        (spec, ports)
    }

    pub(super) fn master(&mut self, zookeeper: bool) -> Option<(MasterSpec, Vec<PortUse>)> {
        let count = self.setting_or_default(&settings::MASTER_COUNT, &COUNT);
        let (task, ports) = self.role_spec(&settings::MASTER);
        let hostname = self.read_toml(&settings::MASTER_HOSTNAME, &TEXT);
        let mut ok = true;
        if count.value == 0 {
            ok = false;
            self.error(
                Problem::error(
                    "desired::no_masters",
                    "the master count is 0: Alluxio needs at least one master",
                )
                .with_help("set count = 1 in [master] (or more, with ZooKeeper)")
                .with_located(count.at.as_ref()),
            );
        } else if count.value > 1 && !zookeeper && !self.failed(&settings::ZOOKEEPER_ADDRESS) {
            ok = false;
            self.error(
                Problem::error("desired::masters_without_zookeeper", format!("{} masters need ZooKeeper, which is not enabled", count.value))
                    .with_help("set alluxio.zookeeper.enabled=true and alluxio.zookeeper.address=zk1:2181,zk2:2181,zk3:2181 in the properties file, or use count = 1")
                    .with_located(count.at.as_ref()),
            );
        }
        if let (Some(h), true) = (&hostname, count.value > 1) {
            ok = false;
            self.error(
                Problem::error("desired::masters_on_one_host", format!("{} masters cannot all be pinned to one agent: they would need the same ports", count.value))
                    .with_help("remove `master.hostname`, or use constraints to choose a set of agents")
                    .with_located(h.at.as_ref()),
            );
        }
        let spec = MasterSpec {
            count: count.value,
            hostname: hostname.map(|h| h.value),
            task: task?,
        };
        ok.then_some((spec, ports.into()))
    }

    pub(super) fn worker(&mut self) -> Option<(WorkerSpec, Vec<PortUse>)> {
        let count = self
            .setting_unless_failed(&settings::WORKER_COUNT, &WORKER_COUNT)?
            .value;
        let (task, [rpc, web]) = self.role_spec(&settings::WORKER);
        let ramdisk = self.setting_or_default(&settings::WORKER_RAMDISK, &SIZE);
        let data = self.setting_or_default(&settings::WORKER_DATA_PORT, &PORT);
        let max_unavailable = self.setting_unless_failed(&settings::MAX_UNAVAILABLE, &COUNT);
        let max_unavailable = match max_unavailable {
            Some(m) if m.value == 0 => {
                self.error(
                    Problem::error(
                        "desired::invalid_value",
                        "`worker.max_unavailable` is 0: no worker could ever be replaced",
                    )
                    .with_help("set max_unavailable = 1 or more (workers replaced at a time)")
                    .with_located(m.at.as_ref()),
                );
                None
            }
            Some(m) => Some(m.value),
            None => None,
        };
        let ports = vec![rpc, PortUse::new(&settings::WORKER_DATA_PORT, &data), web];
        let spec = WorkerSpec {
            count,
            ramdisk: ramdisk.value,
            data_port: data.value,
            max_unavailable: max_unavailable?,
            task: task?,
        };
        Some((spec, ports))
    }

    /// A task needs some memory: Mesos refuses a task without it.
    pub(super) fn nonzero_mem(&mut self, setting: &Setting, mem: &Found<ByteSize>) -> bool {
        if mem.value.0 > 0 {
            return true;
        }
        self.error(
            Problem::error(
                "desired::invalid_value",
                format!("`{}` is 0", setting.name()),
            )
            .with_help("give the task memory, e.g. \"1024MB\"")
            .with_located(mem.at.as_ref()),
        );
        false
    }

    /// All five ports must differ: a master and a worker may share an agent.
    pub(super) fn check_ports(
        &mut self,
        master: &(MasterSpec, Vec<PortUse>),
        worker: &(WorkerSpec, Vec<PortUse>),
    ) {
        let all: Vec<&PortUse> = master.1.iter().chain(worker.1.iter()).collect();
        let mut seen: BTreeMap<u16, Vec<&PortUse>> = BTreeMap::new();
        for p in all {
            seen.entry(p.port).or_default().push(p);
        }
        for (port, users) in seen.into_iter().filter(|(_, u)| u.len() > 1) {
            let names: Vec<String> = users
                .iter()
                .map(|u| match &u.place {
                    Some(p) => format!("{} (set in {p})", u.key),
                    None => format!("{} (by default)", u.key),
                })
                .collect();
            let mut problem = Problem::error(
                "desired::port_collision",
                format!("port {port} is used by {}", names.join(" and ")),
            )
            .with_help("give every port its own number: the two master ports and the three worker ports must all differ, since a master and a worker can run on the same agent");
            for u in &users {
                if let Some(l) = &u.at {
                    problem = problem.with_located(Some(&Label {
                        text: format!("{} = {port}", u.key),
                        ..l.clone()
                    }));
                }
            }
            self.error(problem);
        }
    }
}
