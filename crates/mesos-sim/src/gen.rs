//! Large, deterministic test inputs for benchmarks (used by `mesos-gen`
//! and by the benchmarks): `/master/state` documents in the shape a Mesos
//! 1.9 master writes (compact, `slaves`/`slave_id`, resources as maps,
//! ports as a string) and emulator cluster files.
//!
//! Documents come in two shapes ([`Shape`]): the bench's own, lean one,
//! and one with what production masters carry besides (see
//! [`Shape::Production`]).
//!
//! The same arguments always give the same bytes: every choice comes from
//! a small seeded generator (splitmix64), and documents are written as a
//! stream, so their size is not limited by memory.

use std::fmt::Write as _;
use std::io::{self, Write};

/// splitmix64: tiny, fast and fully determined by its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn hex(&mut self, len: usize) -> String {
        let mut s = String::with_capacity(len);
        while s.len() < len {
            let _ = write!(s, "{:016x}", self.next());
        }
        s.truncate(len);
        s
    }
    fn uuid(&mut self) -> String {
        let h = self.hex(32);
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    }
}

const BASE_TIME: f64 = 1_732_060_800.0;

/// `--max_completed_tasks_per_framework`'s default: what a master keeps.
const MAX_COMPLETED_PER_FRAMEWORK: usize = 1000;

/// Unreachable tasks of each framework in a production-shaped document.
const UNREACHABLE_PER_FRAMEWORK: usize = 5;

/// The framework under test in a state document: who it is and the tasks
/// it runs, as the tool that plans against the document expects them.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    pub framework: String,
    pub role: String,
    pub user: String,
    pub tasks: Vec<TaskKind>,
}

/// One kind of task of the framework under test.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskKind {
    pub name: String,
    /// Each task's ID is this prefix followed by a UUID.
    pub id_prefix: String,
    pub cpus: f64,
    pub mem: f64,
    /// The one port each task takes, also its health check's.
    pub port: u16,
    /// How many run: one on each of the first `count` agents.
    pub count: usize,
}

/// How much of what a production master writes a document carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Every task with two statuses, three labels, a health check,
    /// discovery and a container; no executors, reservations, unreachable
    /// tasks or roles beyond one per framework.
    Bench,
    /// As production clusters look (the fields are those Mesos 1.x
    /// writes, seen on 1.7.3 and 1.11.0 masters):
    /// - status histories of three to six entries (health flaps included),
    ///   each with `container_status` (network infos, executor PID);
    /// - six labels, discovery with two ports, health checks;
    /// - a third of the frameworks run custom executors, listed under
    ///   `executors` with their command, environment and URIs;
    /// - `completed_tasks` kept up to the 1,000 a master keeps per
    ///   framework, with terminal reasons and messages;
    /// - a few `unreachable_tasks` per framework;
    /// - frameworks with two or three roles; a quarter of the agents with
    ///   reservations for one of them; a dozen attributes and a fault
    ///   domain on every agent.
    Production,
}

/// `s` as it goes between the quotes of a JSON string; JSON's escapes are
/// valid in a TOML basic string too.
fn quoted_text(s: &str) -> String {
    let quoted = serde_json::Value::from(s).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

struct Agent {
    id: String,
    hostname: String,
    ip: String,
    cpus: f64,
    mem: f64,
    disk: f64,
}

fn agents(rng: &mut Rng, master_id: &str, n: usize) -> Vec<Agent> {
    (0..n)
        .map(|i| Agent {
            id: format!("{master_id}-S{i}"),
            hostname: format!("agent{i:05}.example.com"),
            ip: format!("10.{}.{}.{}", 1 + i / 65536, (i / 256) % 256, i % 256),
            cpus: [8.0, 16.0, 32.0][rng.below(3) as usize],
            mem: [32768.0, 65536.0, 131072.0][rng.below(3) as usize],
            disk: 409600.0,
        })
        .collect()
}

fn write_resources(
    w: &mut dyn Write,
    cpus: f64,
    mem: f64,
    disk: f64,
    ports: Option<&str>,
) -> io::Result<()> {
    write!(
        w,
        "{{\"disk\":{disk:.1},\"mem\":{mem:.1},\"gpus\":0.0,\"cpus\":{cpus:.1}"
    )?;
    if let Some(p) = ports {
        write!(w, ",\"ports\":\"{p}\"")?;
    }
    w.write_all(b"}")
}

/// What a task line of a state document says of its task.
struct TaskLine<'a> {
    id: &'a str,
    name: &'a str,
    fid: &'a str,
    /// Empty for a command task (the master writes `""`).
    executor: &'a str,
    agent: &'a Agent,
    state: &'a str,
    cpus: f64,
    mem: f64,
    port: u64,
    role: &'a str,
}

/// When a generated task started: some time in the 30 days after
/// [`BASE_TIME`].
fn start_time(rng: &mut Rng) -> f64 {
    BASE_TIME + rng.below(86_400 * 30) as f64 + rng.below(1000) as f64 / 1000.0
}

/// A task's fields up to and including its `resources` (with `disk` MB and
/// the port range `ports`), as every master writes them first.
fn write_task_head(w: &mut dyn Write, task: &TaskLine, disk: f64, ports: &str) -> io::Result<()> {
    write!(
        w,
        "{{\"id\":\"{}\",\"name\":\"{}\",\"framework_id\":\"{}\",\"executor_id\":\"{}\",\"slave_id\":\"{}\",\"state\":\"{}\",\"resources\":",
        task.id, task.name, task.fid, task.executor, task.agent.id, task.state
    )?;
    write_resources(w, task.cpus, task.mem, disk, Some(ports))
}

/// One task as a 1.9 master lists it: about 1.4 KB of JSON.
fn write_task(w: &mut dyn Write, rng: &mut Rng, task: &TaskLine) -> io::Result<()> {
    let TaskLine {
        name,
        agent,
        state,
        port,
        role,
        ..
    } = *task;
    let t0 = start_time(rng);
    let container = rng.uuid();
    write_task_head(w, task, 0.0, &format!("[{port}-{port}]"))?;
    write!(
        w,
        ",\"role\":\"{role}\",\"statuses\":[{{\"state\":\"TASK_STARTING\",\"timestamp\":{t0:.6},\"container_status\":{{\"container_id\":{{\"value\":\"{container}\"}},\"network_infos\":[{{\"ip_addresses\":[{{\"protocol\":\"IPv4\",\"ip_address\":\"{ip}\"}}]}}]}}}},{{\"state\":\"{state}\",\"timestamp\":{t1:.6},\"container_status\":{{\"container_id\":{{\"value\":\"{container}\"}},\"network_infos\":[{{\"ip_addresses\":[{{\"protocol\":\"IPv4\",\"ip_address\":\"{ip}\"}}]}}]}}}}],",
        ip = agent.ip,
        t1 = t0 + 2.5,
    )?;
    write!(
        w,
        "\"labels\":[{{\"key\":\"owner\",\"value\":\"team-{}\"}},{{\"key\":\"build\",\"value\":\"{}\"}},{{\"key\":\"commit\",\"value\":\"{}\"}}],\"health_check\":{{\"type\":\"HTTP\",\"http\":{{\"port\":{port},\"path\":\"/health\"}},\"interval_seconds\":10.0,\"timeout_seconds\":20.0}},\"discovery\":{{\"visibility\":\"FRAMEWORK\",\"name\":\"{name}\",\"ports\":{{\"ports\":[{{\"number\":{port},\"name\":\"http\",\"protocol\":\"tcp\"}}]}}}},\"container\":{{\"type\":\"MESOS\",\"mesos\":{{\"image\":{{\"type\":\"DOCKER\",\"docker\":{{\"name\":\"registry.example.com/{name}:{}\"}},\"cached\":true}}}},\"volumes\":[{{\"container_path\":\"/data\",\"host_path\":\"/srv/data/{name}\",\"mode\":\"RW\"}}]}}}}",
        rng.below(50),
        rng.hex(12),
        rng.hex(40),
        rng.hex(8),
    )
}

/// The roles of the `f`-th framework of a production-shaped document: its
/// own, and one or two shared ones (reservations are made for those).
fn production_roles(name: &str, f: usize) -> Vec<String> {
    let mut roles = vec![name.to_string(), format!("shared-{}", f % 3)];
    if f.is_multiple_of(2) {
        roles.push(format!("batch-{}", f % 5));
    }
    roles
}

/// A production task's `container_status`: one container, its network,
/// the executor's PID.
fn container_status(container: &str, ip: &str, pid: u64) -> String {
    format!(
        "{{\"container_id\":{{\"value\":\"{container}\"}},\"network_infos\":[{{\"ip_addresses\":[{{\"protocol\":\"IPv4\",\"ip_address\":\"{ip}\"}}],\"name\":\"dcos\",\"labels\":{{\"labels\":[{{\"key\":\"network\",\"value\":\"overlay\"}}]}}}}],\"executor_pid\":{pid}}}"
    )
}

/// One task as a production master lists it (see [`Shape::Production`]):
/// about 3 KB of JSON.
fn write_production_task(w: &mut dyn Write, rng: &mut Rng, task: &TaskLine) -> io::Result<()> {
    let TaskLine {
        name,
        agent,
        state,
        port,
        role,
        ..
    } = *task;
    let t0 = start_time(rng);
    let cs = container_status(&rng.uuid(), &agent.ip, 1000 + rng.below(60_000));
    write_task_head(w, task, 1024.0, &format!("[{port}-{}]", port + 1))?;
    write!(w, ",\"role\":\"{role}\",\"statuses\":[")?;
    // STARTING, RUNNING, the first healthy check, some flaps, and the end.
    let mut history: Vec<(&str, Option<bool>)> = vec![
        ("TASK_STARTING", None),
        ("TASK_RUNNING", None),
        ("TASK_RUNNING", Some(true)),
    ];
    for _ in 0..rng.below(3) {
        history.push(("TASK_RUNNING", Some(false)));
        history.push(("TASK_RUNNING", Some(true)));
    }
    if state != "TASK_RUNNING" {
        history.push((state, None));
    }
    for (k, (st, healthy)) in history.iter().enumerate() {
        if k > 0 {
            w.write_all(b",")?;
        }
        write!(
            w,
            "{{\"state\":\"{st}\",\"timestamp\":{:.6},\"container_status\":{cs}",
            t0 + k as f64 * 7.25
        )?;
        if let Some(h) = healthy {
            write!(w, ",\"healthy\":{h}")?;
        }
        w.write_all(b"}")?;
    }
    write!(
        w,
        "],\"user\":\"svc-{name}\",\"labels\":[{{\"key\":\"owner\",\"value\":\"team-{}\"}},{{\"key\":\"build\",\"value\":\"{}\"}},{{\"key\":\"commit\",\"value\":\"{}\"}},{{\"key\":\"DCOS_SERVICE_NAME\",\"value\":\"{name}\"}},{{\"key\":\"DCOS_SERVICE_PORT_INDEX\",\"value\":\"0\"}},{{\"key\":\"config\",\"value\":\"{{\\\"replicas\\\":{},\\\"tier\\\":\\\"backend\\\"}}\"}}],",
        rng.below(50),
        rng.hex(12),
        rng.hex(40),
        1 + rng.below(9),
    )?;
    write!(
        w,
        "\"discovery\":{{\"visibility\":\"FRAMEWORK\",\"name\":\"{name}\",\"ports\":{{\"ports\":[{{\"number\":{port},\"name\":\"http\",\"protocol\":\"tcp\",\"labels\":{{\"labels\":[{{\"key\":\"VIP_0\",\"value\":\"/{name}:80\"}}]}}}},{{\"number\":{},\"name\":\"admin\",\"protocol\":\"tcp\"}}]}}}},",
        port + 1
    )?;
    write!(
        w,
        "\"container\":{{\"type\":\"MESOS\",\"mesos\":{{\"image\":{{\"type\":\"DOCKER\",\"docker\":{{\"name\":\"registry.example.com/{name}:{}\"}},\"cached\":true}}}},\"volumes\":[{{\"container_path\":\"/data\",\"host_path\":\"/srv/data/{name}\",\"mode\":\"RW\"}},{{\"container_path\":\"/etc/ssl\",\"host_path\":\"/etc/ssl\",\"mode\":\"RO\"}}]}},",
        rng.hex(8),
    )?;
    write!(
        w,
        "\"health_check\":{{\"type\":\"HTTP\",\"http\":{{\"port\":{port},\"path\":\"/health\",\"scheme\":\"http\"}},\"delay_seconds\":15.0,\"interval_seconds\":10.0,\"timeout_seconds\":20.0,\"consecutive_failures\":3,\"grace_period_seconds\":300.0}}}}"
    )
}

/// A custom executor of a production framework, as `executors` lists it.
fn write_executor(
    w: &mut dyn Write,
    rng: &mut Rng,
    executor: &str,
    name: &str,
    fid: &str,
    agent: &Agent,
    role: &str,
) -> io::Result<()> {
    write!(
        w,
        "{{\"executor_id\":\"{executor}\",\"name\":\"{name} executor\",\"framework_id\":\"{fid}\",\"command\":{{\"uris\":[{{\"value\":\"https://artifacts.example.com/{name}/executor-{}.tar.gz\",\"executable\":false,\"extract\":true,\"cache\":true}},{{\"value\":\"https://artifacts.example.com/jre-11.tar.gz\",\"executable\":false,\"extract\":true,\"cache\":true}}],\"environment\":{{\"variables\":[{{\"name\":\"JAVA_HOME\",\"type\":\"VALUE\",\"value\":\"./jre\"}},{{\"name\":\"SERVICE\",\"type\":\"VALUE\",\"value\":\"{name}\"}},{{\"name\":\"EXECUTOR_BUILD\",\"type\":\"VALUE\",\"value\":\"{}\"}}]}},\"shell\":true,\"value\":\"./jre/bin/java -Xmx64m -jar executor.jar\"}},\"resources\":",
        rng.hex(8),
        rng.hex(12),
    )?;
    write_resources(w, 0.1, 64.0, 0.0, None)?;
    write!(
        w,
        ",\"role\":\"{role}\",\"labels\":[{{\"key\":\"executor\",\"value\":\"{name}\"}}],\"type\":\"CUSTOM\",\"slave_id\":\"{}\"}}",
        agent.id
    )
}

/// The running (`running`) or completed tasks of framework `f` of
/// `n_frameworks`, named `name` (ID `fid`, its roles, whether it runs
/// custom executors); the executors of running tasks go to `executors`.
#[allow(clippy::too_many_arguments)]
fn write_tasks(
    w: &mut dyn Write,
    rng: &mut Rng,
    shape: Shape,
    placements: &[(usize, f64, f64, bool)],
    (f, n_frameworks): (usize, usize),
    running: bool,
    (name, fid, roles, custom_executors): (&str, &str, &[String], bool),
    agents: &[Agent],
    executors: &mut Vec<(String, usize)>,
) -> io::Result<()> {
    let mut kept = 0usize;
    for (t, &(a, c, m, is_running)) in placements.iter().enumerate() {
        if t % n_frameworks != f || is_running != running {
            continue;
        }
        // A master keeps the last 1,000 completed tasks of each framework.
        if shape == Shape::Production && !running && kept == MAX_COMPLETED_PER_FRAMEWORK {
            break;
        }
        if kept > 0 {
            w.write_all(b",")?;
        }
        kept += 1;
        let id = format!("{name}.{}", rng.uuid());
        match shape {
            Shape::Bench => {
                let state = if running {
                    "TASK_RUNNING"
                } else {
                    "TASK_FINISHED"
                };
                let port = 31000 + (t as u64 % 1000);
                let task = TaskLine {
                    id: &id,
                    name,
                    fid,
                    executor: "",
                    agent: &agents[a],
                    state,
                    cpus: c,
                    mem: m,
                    port,
                    role: name,
                };
                write_task(w, rng, &task)?;
            }
            Shape::Production => {
                let state = if running {
                    "TASK_RUNNING"
                } else {
                    ["TASK_FINISHED", "TASK_FAILED", "TASK_KILLED"][t % 3]
                };
                let executor = if custom_executors {
                    format!("{id}.executor")
                } else {
                    String::new()
                };
                if running && custom_executors {
                    executors.push((executor.clone(), a));
                }
                // Two ports each, in [31000-32000].
                let port = 31000 + 2 * (t as u64 % 500);
                let role = &roles[t % roles.len()];
                let task = TaskLine {
                    id: &id,
                    name,
                    fid,
                    executor: &executor,
                    agent: &agents[a],
                    state,
                    cpus: c,
                    mem: m,
                    port,
                    role,
                };
                write_production_task(w, rng, &task)?;
            }
        }
    }
    Ok(())
}

/// A few tasks of a production framework on agents that went away and
/// may come back.
fn write_unreachable(
    w: &mut dyn Write,
    rng: &mut Rng,
    name: &str,
    fid: &str,
    agents: &[Agent],
    role: &str,
) -> io::Result<()> {
    for k in 0..UNREACHABLE_PER_FRAMEWORK {
        if k > 0 {
            w.write_all(b",")?;
        }
        let a = rng.below(agents.len() as u64) as usize;
        let id = format!("{name}.{}", rng.uuid());
        let port = 32000 + k as u64;
        let task = TaskLine {
            id: &id,
            name,
            fid,
            executor: "",
            agent: &agents[a],
            state: "TASK_UNREACHABLE",
            cpus: 0.5,
            mem: 256.0,
            port,
            role,
        };
        write_production_task(w, rng, &task)?;
    }
    Ok(())
}

/// Writes a `/master/state` document of `n_agents` agents, each offering
/// `agent_ports` (Mesos's string form, written as given), and `n_tasks`
/// tasks (80% running) of `n_frameworks` other frameworks, plus, when
/// given, the framework under test running its tasks. Deterministic from
/// `seed`.
pub fn write_state(
    w: &mut dyn Write,
    n_agents: usize,
    agent_ports: &str,
    n_tasks: usize,
    n_frameworks: usize,
    ours: Option<&Workload>,
    seed: u64,
) -> io::Result<()> {
    write_state_shaped(
        w,
        Shape::Bench,
        n_agents,
        agent_ports,
        n_tasks,
        n_frameworks,
        ours,
        seed,
    )
}

/// [`write_state`] in either [`Shape`].
#[allow(clippy::too_many_arguments)]
pub fn write_state_shaped(
    w: &mut dyn Write,
    shape: Shape,
    n_agents: usize,
    agent_ports: &str,
    n_tasks: usize,
    n_frameworks: usize,
    ours: Option<&Workload>,
    seed: u64,
) -> io::Result<()> {
    let production = shape == Shape::Production;
    let agent_ports = quoted_text(agent_ports);
    let mut rng = Rng(seed);
    let master_id = rng.uuid();
    let agents = agents(&mut rng, &master_id, n_agents.max(1));
    let n_frameworks = n_frameworks.max(1);
    // Resources each other framework's running tasks take on each agent,
    // to write used_resources consistently.
    let mut used = vec![(0.0f64, 0.0f64); agents.len()];
    // Decide placement first (one pass, O(tasks)).
    let placements: Vec<(usize, f64, f64, bool)> = (0..n_tasks)
        .map(|_| {
            let a = rng.below(agents.len() as u64) as usize;
            let cpus = [0.1, 0.5, 1.0][rng.below(3) as usize];
            let mem = [128.0, 256.0, 512.0][rng.below(3) as usize];
            let running = rng.below(10) < 8;
            (a, cpus, mem, running)
        })
        .collect();
    for &(a, c, m, running) in &placements {
        if running {
            used[a].0 += c;
            used[a].1 += m;
        }
    }
    write!(
        w,
        "{{\"version\":\"1.9.0\",\"git_sha\":\"de306b5786de3c221bae1457c6f2ccaeb38eef9f\",\"git_tag\":\"1.9.0\",\"build_date\":\"2019-08-26 22:31:32\",\"build_time\":1566858692.0,\"build_user\":\"jenkins\",\"start_time\":{BASE_TIME:.3},\"elected_time\":{:.3},\"id\":\"{master_id}\",\"pid\":\"master@10.0.0.5:5050\",\"hostname\":\"mesos-master-1.example.com\",\"activated_slaves\":{},\"deactivated_slaves\":0,\"unreachable_slaves\":0,\"leader\":\"master@10.0.0.5:5050\",\"leader_info\":{{\"id\":\"{master_id}\",\"pid\":\"master@10.0.0.5:5050\",\"port\":5050,\"hostname\":\"mesos-master-1.example.com\",\"address\":{{\"hostname\":\"mesos-master-1.example.com\",\"ip\":\"10.0.0.5\",\"port\":5050}}}},\"log_dir\":\"/var/log/mesos\",\"flags\":{{\"allocation_interval\":\"1secs\",\"max_completed_tasks_per_framework\":\"1000\",\"port\":\"5050\"}},\"slaves\":[",
        BASE_TIME + 2.0,
        agents.len()
    )?;
    for (i, a) in agents.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        let (mut uc, mut um) = used[i];
        for kind in ours.iter().flat_map(|o| &o.tasks) {
            if i < kind.count {
                uc += kind.cpus;
                um += kind.mem;
            }
        }
        write!(
            w,
            "{{\"id\":\"{}\",\"hostname\":\"{}\",\"port\":5051,\"attributes\":{{\"rack\":\"r{}\",\"gen\":{},\"ssd\":\"{}\"",
            a.id,
            a.hostname,
            i % 40,
            2 + i % 3,
            i % 2 == 0,
        )?;
        if production {
            write!(
                w,
                ",\"os\":\"debian-12\",\"kernel\":\"6.1.0-{}\",\"instance_type\":\"m5.{}xlarge\",\"cores\":{},\"gpu\":\"false\",\"network\":\"25g\",\"team\":\"t{}\",\"pool\":\"general\",\"dc\":\"dc{}\"}},\"domain\":{{\"fault_domain\":{{\"region\":{{\"name\":\"eu-west-{}\"}},\"zone\":{{\"name\":\"eu-west-{}{}\"}}}}}}",
                10 + i % 7,
                [2, 4, 8][i % 3],
                a.cpus,
                i % 12,
                1 + i % 2,
                1 + i % 2,
                1 + i % 2,
                ["a", "b", "c"][i % 3]
            )?;
        } else {
            w.write_all(b"}")?;
        }
        write!(
            w,
            ",\"pid\":\"slave(1)@{}:5051\",\"registered_time\":{:.3},\"resources\":",
            a.ip,
            BASE_TIME + i as f64 * 0.01
        )?;
        write_resources(w, a.cpus, a.mem, a.disk, Some(&agent_ports))?;
        w.write_all(b",\"used_resources\":")?;
        write_resources(w, uc.min(a.cpus), um.min(a.mem), 0.0, None)?;
        w.write_all(b",\"offered_resources\":")?;
        write_resources(w, 0.0, 0.0, 0.0, None)?;
        // A quarter of a production cluster's agents hold a reservation
        // (a quarter of their cpus and memory) for a shared role.
        let reserved = (production && i.is_multiple_of(4)).then(|| (a.cpus / 4.0, a.mem / 4.0));
        w.write_all(b",\"reserved_resources\":{")?;
        if let Some((rc, rm)) = reserved {
            write!(w, "\"shared-{}\":", i % 3)?;
            write_resources(w, rc, rm, 0.0, None)?;
        }
        w.write_all(b"},\"unreserved_resources\":")?;
        let (rc, rm) = reserved.unwrap_or((0.0, 0.0));
        write_resources(w, a.cpus - rc, a.mem - rm, a.disk, Some(&agent_ports))?;
        w.write_all(b",\"active\":true,\"deactivated\":false,\"version\":\"1.9.0\",\"capabilities\":[\"MULTI_ROLE\",\"HIERARCHICAL_ROLE\",\"RESERVATION_REFINEMENT\"]}")?;
    }
    w.write_all(b"],\"frameworks\":[")?;
    let fids: Vec<String> = (0..n_frameworks)
        .map(|i| format!("{master_id}-{i:04}"))
        .collect();
    let mut first = true;
    for (f, fid) in fids.iter().enumerate() {
        if !first {
            w.write_all(b",")?;
        }
        first = false;
        let name = format!("service-{f:03}");
        let roles = if production {
            production_roles(&name, f)
        } else {
            vec![name.clone()]
        };
        let roles_json = serde_json::to_string(&roles).expect("strings");
        // A third of a production cluster's frameworks run custom
        // executors, one per task.
        let custom_executors = production && f.is_multiple_of(3);
        let capabilities = if production {
            "[\"PARTITION_AWARE\",\"MULTI_ROLE\",\"TASK_KILLING_STATE\",\"GPU_RESOURCES\",\"RESERVATION_REFINEMENT\"]"
        } else {
            "[\"PARTITION_AWARE\"]"
        };
        write!(
            w,
            "{{\"id\":\"{fid}\",\"name\":\"{name}\",\"pid\":\"scheduler-{}@10.0.1.{}:4000\",\"used_resources\":{{}},\"offered_resources\":{{}},\"capabilities\":{capabilities},\"hostname\":\"sched{f}.example.com\",\"webui_url\":\"\",\"active\":true,\"connected\":true,\"recovered\":false,\"role\":\"{name}\",\"roles\":{roles_json},\"user\":\"root\",\"failover_timeout\":604800.0,\"checkpoint\":true,\"registered_time\":{:.6},\"unregistered_time\":0,\"principal\":\"{name}\",\"resources\":{{}},{}",
            rng.uuid(),
            f % 250,
            BASE_TIME + f as f64,
            if production {
                ""
            } else {
                "\"offers\":[],\"executors\":[],"
            }
        )?;
        // Production: which running tasks' executors to list.
        let mut executors: Vec<(String, usize)> = Vec::new();
        // The lists in the order the master writes them: the bench's kept
        // as it always was; production as a 1.x master (tasks, unreachable
        // tasks, completed tasks, offers, executors).
        let lists: &[&str] = if production {
            &["tasks", "unreachable_tasks", "completed_tasks"]
        } else {
            &["tasks", "completed_tasks"]
        };
        for (l, list) in lists.iter().enumerate() {
            if l > 0 {
                w.write_all(b",")?;
            }
            write!(w, "\"{list}\":[")?;
            match *list {
                "unreachable_tasks" => {
                    write_unreachable(w, &mut rng, &name, fid, &agents, &roles[0])?
                }
                _ => write_tasks(
                    w,
                    &mut rng,
                    shape,
                    &placements,
                    (f, n_frameworks),
                    *list == "tasks",
                    (&name, fid, &roles, custom_executors),
                    &agents,
                    &mut executors,
                )?,
            }
            w.write_all(b"]")?;
        }
        if production {
            w.write_all(b",\"offers\":[],\"executors\":[")?;
            for (k, (executor, a)) in executors.iter().enumerate() {
                if k > 0 {
                    w.write_all(b",")?;
                }
                write_executor(w, &mut rng, executor, &name, fid, &agents[*a], &roles[0])?;
            }
            w.write_all(b"]}")?;
        } else {
            w.write_all(b",\"unreachable_tasks\":[]}")?;
        }
    }
    if let Some(ours) = ours {
        write_our_framework(w, &mut rng, &master_id, &agents, ours)?;
    }
    w.write_all(
        b"],\"completed_frameworks\":[],\"orphan_tasks\":[],\"unregistered_frameworks\":[]}\n",
    )?;
    w.flush()
}

/// The framework under test, after the others: inactive (its scheduler
/// is not running), with its tasks running.
fn write_our_framework(
    w: &mut dyn Write,
    rng: &mut Rng,
    master_id: &str,
    agents: &[Agent],
    ours: &Workload,
) -> io::Result<()> {
    let name = quoted_text(&ours.framework);
    let role = quoted_text(&ours.role);
    let fid = format!("{master_id}-{name}");
    write!(
        w,
        ",{{\"id\":\"{fid}\",\"name\":\"{name}\",\"pid\":\"scheduler-{}@10.0.1.1:4000\",\"active\":false,\"connected\":false,\"role\":\"{role}\",\"user\":\"{}\",\"failover_timeout\":2419200.0,\"checkpoint\":true,\"registered_time\":{BASE_TIME:.6},\"offers\":[],\"tasks\":[",
        rng.uuid(),
        quoted_text(&ours.user),
    )?;
    let mut first = true;
    for kind in &ours.tasks {
        let task_name = quoted_text(&kind.name);
        let id_prefix = quoted_text(&kind.id_prefix);
        for a in agents.iter().take(kind.count) {
            if !first {
                w.write_all(b",")?;
            }
            first = false;
            let id = format!("{id_prefix}{}", rng.uuid());
            let task = TaskLine {
                id: &id,
                name: &task_name,
                fid: &fid,
                executor: "",
                agent: a,
                state: "TASK_RUNNING",
                cpus: kind.cpus,
                mem: kind.mem,
                port: u64::from(kind.port),
                role: &role,
            };
            write_task(w, rng, &task)?;
        }
    }
    w.write_all(b"],\"completed_tasks\":[],\"unreachable_tasks\":[]}")
}

/// Writes an emulator cluster file of `n_agents` agents, each offering
/// `ports` (Mesos's string form), with the given timing. Deterministic
/// from `seed`.
pub fn write_cluster(
    w: &mut dyn Write,
    n_agents: usize,
    ports: &str,
    seed: u64,
    allocation_interval: &str,
    task_start_delay: &str,
) -> io::Result<()> {
    let mut rng = Rng(seed);
    let ports = quoted_text(ports);
    writeln!(
        w,
        "# Generated by mesos-gen (seed {seed}): {n_agents} agents offering ports {ports}."
    )?;
    writeln!(
        w,
        "[timing]\nallocation_interval = \"{allocation_interval}\"\ntask_start_delay = \"{task_start_delay}\"\nheartbeat_interval = \"15s\"\n"
    )?;
    for i in 0..n_agents {
        let cpus = [8, 16, 32][rng.below(3) as usize];
        let mem = [32768, 65536, 131072][rng.below(3) as usize];
        writeln!(
            w,
            "[[agents]]\nhostname = \"agent{i:05}.example.com\"\ncpus = {cpus}\nmem = {mem}\ndisk = 409600\nports = \"{ports}\"\nattributes = {{ rack = \"r{}\" }}\n",
            i % 40
        )?;
    }
    w.flush()
}
