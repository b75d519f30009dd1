//! `mesos-gen`: large, deterministic test inputs for benchmarks.
//!
//! - `mesos-gen state --agents N --tasks M [--frameworks F] [--ours K] --seed S -o FILE`
//!   writes a `/master/state` document in the shape a Mesos 1.9 master
//!   writes (compact, `slaves`/`slave_id`, resources as maps, ports as a
//!   string), with `M` tasks spread over `F` other frameworks and `K`
//!   workers of a framework named `alluxio` (role `alluxio`).
//! - `mesos-gen cluster --agents N --seed S [--allocation-interval D]
//!   [--task-start-delay D] -o FILE` writes an emulator cluster file.
//!
//! The same arguments always give the same bytes (see `mesos_sim::gen`).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mesos_sim::gen::{write_cluster, write_state};

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
        /// Tasks of other frameworks (running and completed).
        #[arg(long, default_value_t = 100_000)]
        tasks: usize,
        /// Number of other frameworks sharing those tasks.
        #[arg(long, default_value_t = 40)]
        frameworks: usize,
        /// Running workers of our framework (`alluxio`), plus one master when > 0.
        #[arg(long, default_value_t = 0)]
        ours: usize,
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
            tasks,
            frameworks,
            ours,
            seed,
            out,
        } => {
            let r = open(&out)
                .and_then(|mut w| write_state(&mut *w, agents, tasks, frameworks, ours, seed));
            (out, r)
        }
        What::Cluster {
            agents,
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
