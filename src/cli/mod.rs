//! The command line: argument parsing, dispatch and exit codes. Each command
//! lives in its own module as a small function from parsed arguments to
//! output; the work itself is done by the library modules.

mod apply;
mod context;
mod docs_cmd;
pub mod exit;
mod force_unlock;
mod logs;
mod output;
mod plan;
mod refresh;
mod show;
mod state_cmd;
mod takeover;
mod validate;

use crate::render::Format;
use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "alluxio-mesos",
    version,
    about = "Plan and apply Alluxio deployments on Apache Mesos"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options accepted before or after the command name.
#[derive(Debug, Clone, clap::Args)]
pub struct Global {
    /// The deployment file.
    #[arg(
        short = 'c',
        long = "config",
        global = true,
        default_value = "alluxio-mesos.toml",
        value_name = "FILE"
    )]
    pub config: PathBuf,
    /// `--state` of the command, when it has one (see [`StateArg`]).
    #[arg(skip)]
    pub state: Option<String>,
    /// More output (which endpoints were used, timings).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// No colours (NO_COLOR is respected too).
    #[arg(long, global = true)]
    pub no_color: bool,
}

/// Where the state is: only on the commands that read or write it.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct StateArg {
    /// Where the state is: a file, or zk://host:2181[,host:2181]/path for ZooKeeper (default: [state] url, else alluxio-mesos.state.json beside the deployment file).
    #[arg(
        long,
        global = true,
        env = "ALLUXIO_MESOS_STATE",
        value_name = "FILE|URL"
    )]
    pub state: Option<String>,
}

/// How to reach Mesos: only on the commands that talk to it.
#[derive(Debug, Clone, clap::Args)]
pub struct MesosArgs {
    /// Mesos master URL (overrides [mesos] master): http(s)://host:port, a comma-separated list, zk://... or local.
    #[arg(long, value_name = "URL")]
    pub mesos: Option<String>,
    /// Also trust this CA (PEM; bundles allowed) for HTTPS Mesos masters, besides [mesos] ca_cert.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Do not check the TLS certificate of the Mesos master (insecure: prints a warning).
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
    /// How long to keep retrying a Mesos master that cannot be reached or answers 503 (electing a leader, recovering).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = humantime::parse_duration)]
    pub retry_deadline: std::time::Duration,
    /// How long a Mesos request may wait for an answer, and the window in which a state document must bring at least 64 KiB.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = humantime::parse_duration)]
    pub http_timeout: std::time::Duration,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the deployment file and site properties, offline.
    Validate,
    /// Show what apply would change, and why.
    Plan(plan::PlanArgs),
    /// Launch, kill and replace tasks so that Mesos matches the deployment.
    Apply(apply::ApplyArgs),
    /// Kill every task of the deployment.
    Destroy(apply::DestroyArgs),
    /// Render a saved plan file, or the state when no file is given.
    Show(show::ShowArgs),
    /// Inspect, edit or move the state.
    State(state_cmd::StateArgs),
    /// Print the master addresses and web UIs of the deployment.
    Output(output::OutputArgs),
    /// Print a task's sandbox stdout (or stderr), read through its Mesos agent.
    Logs(logs::LogsArgs),
    /// Remove a stale state lock left by a crashed run.
    ForceUnlock(force_unlock::ForceUnlockArgs),
    /// Print a shell completion script (bash, zsh, fish or powershell).
    Completions(docs_cmd::CompletionsArgs),
    /// Print the man page (roff; `man -l -` reads it), or write every page with --dir.
    Man(docs_cmd::ManArgs),
}

/// A failure, printed once through miette (see `render::error`): an error
/// keeps its `source()` chain, a diagnostic its snippets and help.
#[derive(Debug)]
pub struct CliError(miette::Report);

impl CliError {
    /// A failure said in words, with no cause behind it.
    pub fn msg(m: impl std::fmt::Display) -> Self {
        CliError(miette::Report::msg(m.to_string()))
    }

    /// A diagnostic, drawn with its snippets, help and related diagnostics.
    pub fn diagnostic(d: impl miette::Diagnostic + Send + Sync + 'static) -> Self {
        CliError(miette::Report::new(d))
    }

    pub fn report(&self) -> &miette::Report {
        &self.0
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError(miette::Report::from_err(e))
    }
}

pub type CliResult = Result<i32, CliError>;

pub fn color_enabled(global: &Global) -> bool {
    !global.no_color
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stdout().is_terminal()
}

/// Asks on the terminal; only `yes` is a yes. Without a terminal the answer
/// cannot be given, so that is an error saying how to proceed instead.
pub fn confirm(question: &str, refusal_without_terminal: &str) -> Result<bool, CliError> {
    use std::io::{BufRead, Write};
    if !std::io::stdin().is_terminal() {
        return Err(CliError::msg(refusal_without_terminal));
    }
    print!("{question}");
    std::io::stdout().flush().ok();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}

/// The whole command line definition: what is parsed, completed and
/// documented in the man page.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    Cli::command().after_help(exit::help_text())
}

pub fn run() -> i32 {
    use clap::FromArgMatches;
    let parsed = command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => return not_parsed(&e),
    };
    crate::render::error::install(!cli.global.no_color);
    match dispatch(&cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{:?}", e.report());
            exit::ERROR
        }
    }
}

/// When clap hands over no command: its message, or the help or version
/// asked for, and the exit code. A command line that does not parse is an
/// error (1), not clap's 2: `plan --detailed-exitcode` gives 2 for changes
/// only, so a mistyped CI command cannot pass for a plan with changes.
fn not_parsed(e: &clap::Error) -> i32 {
    // Printing fails only on a closed stream, which nobody would read.
    let _ = e.print();
    if e.use_stderr() {
        exit::ERROR
    } else {
        exit::OK
    }
}

fn dispatch(cli: &Cli) -> CliResult {
    let state = match &cli.command {
        Command::Plan(a) => Some(&a.state),
        Command::Apply(a) => Some(&a.run.state),
        Command::Destroy(a) => Some(&a.run.state),
        Command::Show(a) => Some(&a.state),
        Command::State(a) => Some(&a.state),
        Command::Output(a) => Some(&a.state),
        Command::Logs(a) => Some(&a.state),
        Command::ForceUnlock(a) => Some(&a.state),
        Command::Validate | Command::Completions(_) | Command::Man(_) => None,
    };
    let mut global = cli.global.clone();
    global.state = state.and_then(|s| s.state.clone());
    let g = &global;
    match &cli.command {
        Command::Validate => validate::run(g),
        Command::Plan(args) => plan::run(g, args),
        Command::Apply(args) => apply::apply(g, args),
        Command::Destroy(args) => apply::destroy(g, args),
        Command::Show(args) => show::run(g, args),
        Command::State(a) => state_cmd::run(g, &a.command),
        Command::Output(args) => output::run(g, args),
        Command::Logs(args) => logs::run(g, args),
        Command::ForceUnlock(args) => force_unlock::run(g, args),
        Command::Completions(args) => docs_cmd::completions(args),
        Command::Man(args) => docs_cmd::man(args),
    }
}

/// `--target` and `--replace`: the addresses a plan is limited to, and
/// those replaced even when unchanged (Terraform's `-target`, `-replace`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AddressArgs {
    /// Limit the run to this address and what it needs (repeatable): master[0], worker["host"]. For exceptional cases; the plan says what it leaves out.
    #[arg(long = "target", value_name = "ADDRESS")]
    pub targets: Vec<crate::address::Address>,
    /// Replace the task at this address even if nothing changed (repeatable), following the rollout policy.
    #[arg(long = "replace", value_name = "ADDRESS")]
    pub replace: Vec<crate::address::Address>,
}

impl AddressArgs {
    /// The plan's options; `--replace` has no meaning in a destroy.
    pub fn options(&self, destroy: bool) -> Result<crate::plan::PlanOptions, CliError> {
        if destroy && !self.replace.is_empty() {
            return Err(CliError::msg(
                "--replace cannot be used with --destroy: a destroy kills every task and launches none",
            ));
        }
        Ok(crate::plan::PlanOptions {
            destroy,
            targets: self.targets.clone(),
            replace: self.replace.clone(),
        })
    }

    /// An address that names nothing of the deployment is a typo, not a
    /// wish: refused before anything is planned, with the addresses there are.
    pub fn check(
        &self,
        desired: &crate::desired::Desired,
        live: &crate::live::LiveCluster,
        state: Option<&crate::state::State>,
    ) -> Result<(), CliError> {
        let asked: Vec<(&str, &crate::address::Address)> = self
            .targets
            .iter()
            .map(|a| ("--target", a))
            .chain(self.replace.iter().map(|a| ("--replace", a)))
            .collect();
        if asked.is_empty() {
            return Ok(());
        }
        let known = crate::plan::targeting::known_addresses(desired, live, state);
        for (flag, address) in asked {
            if !known.contains(address) {
                return Err(CliError::msg(format!(
                    "{flag} {address}: the deployment has no such address; it has {}. Nothing was changed",
                    crate::plan::targeting::list_some(&known)
                )));
            }
        }
        Ok(())
    }
}

/// `--format` and how plans are rendered, shared by plan and show.
#[derive(Debug, Clone, clap::Args)]
pub struct FormatArg {
    /// Output format (`html`: one self-contained page, for plans only).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Show every task and every agent that cannot take one, one by one,
    /// instead of grouping those that differ only in their agent.
    #[arg(long)]
    pub detail: bool,
    /// The most characters of a Markdown plan (GitHub's comment limit by
    /// default): per-task rows are cut first, never the summary, what
    /// cannot be placed or the site-properties diff.
    #[arg(long, value_name = "CHARS", default_value_t = crate::render::markdown::GITHUB_LIMIT,
          value_parser = clap::value_parser!(usize))]
    pub markdown_limit: usize,
    /// Write the Markdown plan whole as numbered comments DIR/comment-1.md,
    /// comment-2.md, ... of at most --markdown-limit characters each,
    /// instead of printing one cut comment (implies --format markdown).
    #[arg(long, value_name = "DIR")]
    pub markdown_split: Option<std::path::PathBuf>,
}

impl FormatArg {
    pub fn format(&self) -> Format {
        if self.markdown_split.is_some() {
            Format::Markdown
        } else {
            self.format
        }
    }

    /// Prints the plan, or writes it as numbered comments.
    pub fn print_plan(&self, plan: &crate::plan::Plan, color: bool) -> Result<(), CliError> {
        let opts = crate::render::Options {
            color,
            detail: self.detail,
            markdown_limit: self.markdown_limit,
        };
        let Some(dir) = &self.markdown_split else {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            return crate::render::write(plan, self.format(), &opts, &mut out)
                .and_then(|()| std::io::Write::flush(&mut out))
                .map_err(|e| CliError::msg(format!("cannot write the plan: {e}")));
        };
        if self.markdown_limit < 2_000 {
            return Err(CliError::msg(format!(
                "--markdown-limit {} is too small to split a plan into comments; use 2000 or more",
                self.markdown_limit
            )));
        }
        std::fs::create_dir_all(dir).map_err(|e| {
            CliError::msg(format!(
                "cannot create {} for --markdown-split: {e}",
                dir.display()
            ))
        })?;
        for (i, comment) in crate::render::markdown::render_comments(plan, &opts)
            .iter()
            .enumerate()
        {
            let path = dir.join(format!("comment-{}.md", i + 1));
            std::fs::write(&path, comment)
                .map_err(|e| CliError::msg(format!("cannot write {}: {e}", path.display())))?;
            println!("{}", path.display());
        }
        Ok(())
    }
}
