//! `mesos-gen`: large, deterministic test inputs for benchmarks.
//!
//! - `mesos-gen state --agents N --tasks M [--frameworks F] [--ports R]
//!   [--shape bench|production] [--ours K [--framework-name NAME] [--role ROLE] [--user USER]
//!   [--task NAME:CPUS:MEM:PORT[:ID_PREFIX]]...] --seed S -o FILE`
//!   writes a `/master/state` document in the shape a Mesos 1.9 master
//!   writes (compact, `slaves`/`slave_id`, resources as maps, ports as a
//!   string), with `M` tasks spread over `F` other frameworks and, when
//!   `K > 0`, the framework under test running `K` tasks of each `--task`
//!   kind, one per agent on the first `K` agents. `--shape production`
//!   adds what production masters carry besides (status histories,
//!   executors, completed and unreachable tasks, roles and reservations).
//! - `mesos-gen cluster --agents N [--ports R] --seed S
//!   [--allocation-interval D] [--task-start-delay D] -o FILE` writes an
//!   emulator cluster file.
//!
//! Agents offer `--ports` (default `[31000-32000]`, a default Mesos
//! agent's). The framework under test has neutral defaults (framework
//! `example`, role its name, user `root`, one task kind
//! `worker:1:1024:8080`), so that a tool under test passes its own.
//!
//! The same arguments always give the same bytes (see `mesos_sim::gen`).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mesos_api::PortRanges;
use mesos_sim::gen::{write_cluster, write_state_shaped, Shape, TaskKind, Workload};

#[derive(Parser, Debug)]
#[command(
    name = "mesos-gen",
    version,
    about = "Generate large Mesos state documents and emulator cluster files"
)]
struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Subcommand, Debug)]
enum What {
    /// A `/master/state` document.
    State {
        #[arg(long, default_value_t = 10_000)]
        agents: usize,
        /// Ports every agent offers, in Mesos's string form.
        #[arg(long, default_value = "[31000-32000]", value_parser = port_ranges)]
        ports: String,
        /// Tasks of other frameworks (running and completed).
        #[arg(long, default_value_t = 100_000)]
        tasks: usize,
        /// Number of other frameworks sharing those tasks.
        #[arg(long, default_value_t = 40)]
        frameworks: usize,
        /// `bench` (lean tasks) or `production` (what production masters
        /// carry besides; see `mesos_sim::gen::Shape`).
        #[arg(long, default_value = "bench", value_parser = shape)]
        shape: Shape,
        /// Tasks of each kind the framework under test runs, one per agent
        /// on the first K agents (0: no such framework).
        #[arg(long, value_name = "K", default_value_t = 0)]
        ours: usize,
        /// Name of the framework under test.
        #[arg(long, default_value = "example")]
        framework_name: String,
        /// Its role (default: its name).
        #[arg(long)]
        role: Option<String>,
        /// The user its tasks run as.
        #[arg(long, default_value = "root")]
        user: String,
        /// A kind of task it runs (repeatable): `NAME:CPUS:MEM:PORT[:ID_PREFIX]`,
        /// MEM in MB; task IDs are the prefix (default `NAME-`) and a UUID.
        #[arg(long = "task", value_name = "KIND", default_value = "worker:1:1024:8080", value_parser = task_kind)]
        tasks_of_ours: Vec<TaskKind>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output file (`-`: standard output).
        #[arg(short, long)]
        out: PathBuf,
    },
    /// An emulator cluster file (TOML).
    Cluster {
        #[arg(long, default_value_t = 1_000)]
        agents: usize,
        /// Ports every agent offers, in Mesos's string form.
        #[arg(long, default_value = "[31000-32000]", value_parser = port_ranges)]
        ports: String,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value = "1s")]
        allocation_interval: String,
        #[arg(long, default_value = "100ms")]
        task_start_delay: String,
        #[arg(short, long)]
        out: PathBuf,
    },
}

/// Checks the ranges but keeps them as written, since their order shows in
/// the output.
fn port_ranges(s: &str) -> Result<String, String> {
    s.parse::<PortRanges>().map_err(|e| e.to_string())?;
    Ok(s.to_string())
}

fn shape(s: &str) -> Result<Shape, String> {
    match s {
        "bench" => Ok(Shape::Bench),
        "production" => Ok(Shape::Production),
        _ => Err("expected bench or production".into()),
    }
}

/// `NAME:CPUS:MEM:PORT[:ID_PREFIX]`; the count comes from `--ours`.
fn task_kind(s: &str) -> Result<TaskKind, String> {
    let fields: Vec<&str> = s.split(':').collect();
    let [name, cpus, mem, port, rest @ ..] = fields.as_slice() else {
        return Err("expected NAME:CPUS:MEM:PORT[:ID_PREFIX]".into());
    };
    let id_prefix = match rest {
        [] => format!("{name}-"),
        [prefix] => prefix.to_string(),
        _ => return Err("expected NAME:CPUS:MEM:PORT[:ID_PREFIX]".into()),
    };
    let number = |what: &str, v: &str| -> Result<f64, String> {
        v.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && *x >= 0.0)
            .ok_or_else(|| format!("{what} must be a number of at least 0, found {v:?}"))
    };
    Ok(TaskKind {
        name: name.to_string(),
        id_prefix,
        cpus: number("CPUS", cpus)?,
        mem: number("MEM", mem)?,
        port: port
            .parse()
            .map_err(|_| format!("PORT must be 0 to 65535, found {port:?}"))?,
        count: 0,
    })
}

fn open(out: &PathBuf) -> io::Result<Box<dyn Write>> {
    if out.as_os_str() == "-" {
        Ok(Box::new(BufWriter::with_capacity(1 << 20, io::stdout())))
    } else {
        Ok(Box::new(BufWriter::with_capacity(
            1 << 20,
            File::create(out)?,
        )))
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let (out, result) = match args.what {
        What::State {
            agents,
            ports,
            tasks,
            frameworks,
            shape,
            ours,
            framework_name,
            role,
            user,
            tasks_of_ours,
            seed,
            out,
        } => {
            let ours = (ours > 0).then(|| Workload {
                role: role.unwrap_or_else(|| framework_name.clone()),
                framework: framework_name,
                user,
                tasks: tasks_of_ours
                    .into_iter()
                    .map(|kind| TaskKind {
                        count: ours,
                        ..kind
                    })
                    .collect(),
            });
            let r = open(&out).and_then(|mut w| {
                write_state_shaped(
                    &mut *w,
                    shape,
                    agents,
                    &ports,
                    tasks,
                    frameworks,
                    ours.as_ref(),
                    seed,
                )
            });
            (out, r)
        }
        What::Cluster {
            agents,
            ports,
            seed,
            allocation_interval,
            task_start_delay,
            out,
        } => {
            for d in [&allocation_interval, &task_start_delay] {
                if let Err(e) = mesos_sim::cluster::parse_duration(d) {
                    eprintln!("mesos-gen: {e}");
                    return ExitCode::from(2);
                }
            }
            let r = open(&out).and_then(|mut w| {
                write_cluster(
                    &mut *w,
                    agents,
                    &ports,
                    seed,
                    &allocation_interval,
                    &task_start_delay,
                )
            });
            (out, r)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mesos-gen: cannot write {}: {e}", out.display());
            ExitCode::FAILURE
        }
    }
}
