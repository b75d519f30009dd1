//! `alluxio-mesos logs ADDRESS [--stderr] [--follow]`: a task's sandbox
//! `stdout` (or `stderr`), read through its Mesos agent.

use super::{context, exit, CliError, CliResult, Global};
use crate::address::Address;
use crate::mesos::sandbox;
use crate::state;
use crate::state::manage::ManageError;
use std::io::Write;
use std::time::Duration;

/// Bytes asked for per `/files/read` request.
const PAGE: u64 = 1 << 20;

#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    #[command(flatten)]
    pub state: super::StateArg,
    /// The task's address: master[0], worker["agent-hostname"].
    pub address: Address,
    /// Show stderr instead of stdout.
    #[arg(long)]
    pub stderr: bool,
    /// Keep printing as the file grows (Ctrl-C to stop).
    #[arg(long)]
    pub follow: bool,
    #[command(flatten)]
    pub mesos: super::MesosArgs,
}

pub fn run(g: &Global, args: &LogsArgs) -> CliResult {
    let desired = context::load_desired(g)?;
    let location = context::state_location_for(g, &desired)?;
    let st = state::load_for_at(&location, &desired.name)?
        .ok_or_else(|| ManageError::NoState(location.to_string()))?;
    let record = state::current_record(st.tasks.iter().filter(|t| t.address == args.address))
        .ok_or_else(|| ManageError::NotInState(args.address.clone()))?;
    let conn = context::connect(g, &args.mesos, &desired)?;
    let master = conn
        .masters
        .first()
        .cloned()
        .ok_or_else(|| CliError::msg("no Mesos master to ask"))?;
    let file = if args.stderr { "stderr" } else { "stdout" };
    let result = conn.rt.block_on(async {
        let sb = sandbox::find(&conn.http, &master, &record.agent_id, &record.task_id).await?;
        let mut offset = 0;
        let mut out = std::io::stdout();
        loop {
            let (data, next) = sandbox::read(&conn.http, &sb, file, offset, PAGE).await?;
            let _ = out.write_all(data.as_bytes());
            let _ = out.flush();
            offset = next;
            if data.is_empty() {
                if !args.follow {
                    return Ok::<(), sandbox::SandboxError>(());
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    });
    conn.close();
    result?;
    Ok(exit::OK)
}
