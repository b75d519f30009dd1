//! `alluxio-mesos force-unlock`: remove a lock left by a crashed run.

use super::{context, CliResult, Global};
use crate::state;

#[derive(Debug, clap::Args)]
pub struct ForceUnlockArgs {
    #[command(flatten)]
    pub state: super::StateArg,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
}

pub fn run(g: &Global, args: &ForceUnlockArgs) -> CliResult {
    let location = context::state_location(g)?;
    let mut backend = state::open_backend(&location)?;
    let Some(holder) = backend.read_lock()? else {
        println!("{location} is not locked.");
        return Ok(super::exit::OK);
    };
    println!("The state {location} is locked by {holder}.");
    let question = "Remove it? Only do so if that run is no longer running. Type 'yes': ";
    let refusal =
        "refusing to remove the lock without confirmation: run on a terminal, or pass --yes";
    if !args.yes && !super::confirm(question, refusal)? {
        println!("Left the lock in place.");
        return Ok(super::exit::ERROR);
    }
    backend.force_unlock_if(&holder)?;
    println!("Removed the lock.");
    Ok(super::exit::OK)
}
