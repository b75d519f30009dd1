//! What most commands load first: the deployment, the state file and the
//! live cluster, with errors that say which file or URL and what to do.

use super::{CliError, Global, MesosArgs};
use crate::desired::{self, Desired, MasterLocator};
use crate::live::{self, FrameworkSelector, LiveCluster};
use crate::state::{self, State, StateLocation};
use std::path::{Path, PathBuf};

pub fn load_desired(g: &Global) -> Result<Desired, CliError> {
    let loaded = desired::load_with_warnings(&g.config).map_err(CliError::diagnostic)?;
    for w in loaded.warnings {
        eprintln!("{:?}", miette::Report::new(w));
    }
    Ok(loaded.desired)
}

/// `alluxio-mesos.state.json` beside the deployment file.
fn default_state_file(g: &Global) -> PathBuf {
    let dir = g
        .config
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    dir.join("alluxio-mesos.state.json")
}

/// Where the state is: `--state`, else `[state] url` of the loaded
/// deployment, else the file beside the deployment file.
pub fn state_location_for(g: &Global, desired: &Desired) -> Result<StateLocation, CliError> {
    if let Some(s) = &g.state {
        return Ok(StateLocation::parse(s)?);
    }
    Ok(desired
        .state
        .clone()
        .unwrap_or_else(|| StateLocation::File(default_state_file(g))))
}

/// [`state_location_for`] for the commands that do not load the
/// deployment: only its `[state] url` is read (a deployment file that does
/// not read is then loaded in full, for the located errors).
pub fn state_location(g: &Global) -> Result<StateLocation, CliError> {
    if let Some(s) = &g.state {
        return Ok(StateLocation::parse(s)?);
    }
    if !g.config.exists() {
        return Ok(StateLocation::File(default_state_file(g)));
    }
    match desired::state_location_of(&g.config) {
        Some(found) => Ok(found.unwrap_or_else(|| StateLocation::File(default_state_file(g)))),
        None => state_location_for(g, &load_desired(g)?),
    }
}

pub fn load_state(g: &Global, desired: &Desired) -> Result<Option<State>, CliError> {
    let location = state_location_for(g, desired)?;
    let reading = std::time::Instant::now();
    let state = state::load_for_at(&location, &desired.name)?;
    if g.verbose > 0 {
        eprintln!(
            "State: {location} (read in {})",
            crate::apply::engine::elapsed(reading)
        );
    }
    Ok(state)
}

pub fn selector(desired: &Desired, state: Option<&State>) -> FrameworkSelector {
    FrameworkSelector {
        id: state.and_then(|s| s.framework_id.clone()),
        name: desired.mesos.framework_name.clone(),
        role: desired.mesos.role.clone(),
    }
}

/// Where to find Mesos: `--mesos` wins over `[mesos] master`.
pub fn master_locator(
    g: &Global,
    m: &MesosArgs,
    desired: &Desired,
) -> Result<MasterLocator, CliError> {
    if let Some(url) = &m.mesos {
        return desired::parse_master_locator(url).map_err(CliError::msg);
    }
    desired.mesos.master.clone().ok_or_else(|| {
        CliError::msg(format!(
            "no Mesos master: set [mesos] master in {}, or pass --mesos URL, or plan against a saved document with --mesos-state FILE",
            g.config.display()
        ))
    })
}

pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::msg(format!("cannot start the async runtime: {e}")))
}

/// The HTTP client for every Mesos request: the CAs of `[mesos] ca_cert`
/// and `--ca-cert` trusted besides the built-in roots, certificate checks
/// off only with `--insecure-skip-tls-verify` (with a warning), and the
/// framework credentials on every request.
pub fn http_client(g: &MesosArgs, desired: &Desired) -> Result<reqwest::Client, CliError> {
    let mut b = reqwest::Client::builder()
        .user_agent(concat!("alluxio-mesos/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(std::time::Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none());
    let cas = [
        desired
            .mesos
            .ca_cert
            .as_deref()
            .map(|p| ("[mesos] ca_cert", p)),
        g.ca_cert.as_deref().map(|p| ("--ca-cert", p)),
    ];
    for (origin, ca) in cas.into_iter().flatten() {
        for cert in read_ca(origin, ca)? {
            b = b.add_root_certificate(cert);
        }
    }
    if g.insecure_skip_tls_verify {
        eprintln!(
            "Warning: --insecure-skip-tls-verify: the Mesos master's TLS certificate is not checked; \
             anyone on the network path can impersonate it and read the framework secret. \
             Trust its CA with [mesos] ca_cert or --ca-cert instead."
        );
        b = b.danger_accept_invalid_certs(true);
    }
    if let Some(value) = basic_auth_header(desired) {
        // Every request to Mesos carries the credentials: the scheduler API
        // needs them, and so do the state endpoints on a master started
        // with --authenticate_http_readonly. Masters that do not ask for
        // them ignore the header.
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::AUTHORIZATION, value);
        b = b.default_headers(headers);
    }
    b.build()
        .map_err(|e| CliError::msg(format!("cannot build the HTTP client: {e}")))
}

/// The certificates of a CA file (one or more PEM certificates).
fn read_ca(origin: &str, path: &Path) -> Result<Vec<reqwest::Certificate>, CliError> {
    let pem = crate::limits::read(path, crate::limits::CA_FILE).map_err(|e| match e {
        crate::limits::ReadError::Io(e) => {
            CliError::msg(format!("cannot read {origin} {}: {e}", path.display()))
        }
        crate::limits::ReadError::TooLarge { limit } => CliError::msg(format!(
            "{origin} {} is larger than {}: a CA file holds a few PEM certificates; point {origin} at the PEM file of the CA that signed the Mesos master's certificate",
            path.display(),
            crate::limits::size_text(limit)
        )),
    })?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
        CliError::msg(format!(
            "{origin} {} is not a PEM certificate: {e}",
            path.display()
        ))
    })?;
    if certs.is_empty() {
        return Err(CliError::msg(format!(
            "{origin} {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        )));
    }
    Ok(certs)
}

/// Whether the user configured TLS for Mesos (a CA or skipping checks):
/// then a leader found in ZooKeeper, whose MasterInfo has no scheme, is
/// reached over HTTPS.
pub fn tls_configured(g: &MesosArgs, desired: &Desired) -> bool {
    desired.mesos.ca_cert.is_some() || g.ca_cert.is_some() || g.insecure_skip_tls_verify
}

/// `Authorization: Basic ...` for the framework principal, when a secret is
/// configured; marked sensitive so that it is never logged.
fn basic_auth_header(desired: &Desired) -> Option<reqwest::header::HeaderValue> {
    use base64::Engine;
    let (principal, secret) = match (&desired.mesos.principal, &desired.mesos.secret) {
        (Some(p), Some(s)) => (p, s),
        _ => return None,
    };
    let token = base64::engine::general_purpose::STANDARD
        .encode(format!("{principal}:{}", secret.expose()));
    let mut value = reqwest::header::HeaderValue::from_str(&format!("Basic {token}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// Reads the live cluster from a saved document or the master.
pub fn acquire_live(
    g: &Global,
    m: &MesosArgs,
    desired: &Desired,
    state: Option<&State>,
    mesos_state: Option<&Path>,
) -> Result<LiveCluster, CliError> {
    if let Some(file) = mesos_state {
        return Ok(live::read_state_file(file, &selector(desired, state))?);
    }
    let conn = super::connection::Connection::open(g, m, desired)?;
    let live = conn.fetch_live(desired, state, g.verbose > 0);
    conn.close();
    live
}

/// The plan for the deployment: with two or more running masters to
/// replace, ZooKeeper is asked which one leads Alluxio, and the plan
/// replaces it last (the order is part of what a reviewer approves).
pub fn plan_for(
    desired: &Desired,
    live: &LiveCluster,
    state: Option<&State>,
    opts: &crate::plan::PlanOptions,
    verbose: bool,
) -> Result<crate::plan::Plan, CliError> {
    use crate::apply::alluxio_leader::{find_leader, LEADER_TIMEOUT};
    let planning = std::time::Instant::now();
    let mut plan = crate::plan::make_plan(desired, live, state, opts);
    if plan.running_masters_replaced() >= 2 {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(CliError::msg)?;
        let leader = rt.block_on(find_leader(desired, LEADER_TIMEOUT));
        plan.replace_leader_last(&leader);
    }
    if verbose {
        eprintln!(
            "Plan: {} slot(s) planned in {}",
            plan.changes.len(),
            crate::apply::engine::elapsed(planning)
        );
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_ca_file_fails_at_the_limit() {
        let msg = match read_ca("--ca-cert", Path::new("/dev/zero")) {
            Err(e) => e.report().to_string(),
            Ok(certs) => panic!("{} certificates", certs.len()),
        };
        assert!(
            msg.contains("--ca-cert /dev/zero is larger than 1 MiB"),
            "{msg}"
        );
    }
}
