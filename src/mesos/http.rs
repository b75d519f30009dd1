//! The HTTP client of every Mesos request: TLS, credentials and limits.

use super::{MesosError, Settings};
use crate::desired::Desired;
use std::path::Path;
use std::time::Duration;

/// How long reading the state may take, and how slow it may be.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// How long a request may wait for its answer's headers.
    pub headers: Duration,
    /// A body must bring at least `min_progress` bytes in every `window`
    /// (or end): a huge document on a slow link passes, a master that
    /// stalls, trickles a byte every few seconds, or promises 2 GB it never
    /// sends, fails within one window.
    pub window: Duration,
    pub min_progress: usize,
}

/// The default of `--http-timeout`.
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(30);

impl HttpLimits {
    /// Both the headers' wait and the progress window set to `timeout`.
    pub fn new(timeout: Duration) -> Self {
        HttpLimits {
            headers: timeout,
            window: timeout,
            min_progress: 64 * 1024,
        }
    }
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits::new(DEFAULT_HTTP_TIMEOUT)
    }
}

/// The HTTP client for every Mesos request: the CAs of `[mesos] ca_cert`
/// and `--ca-cert` trusted besides the built-in roots, certificate checks
/// off only with `--insecure-skip-tls-verify` (with a warning), and the
/// framework credentials on every request.
pub fn client(settings: &Settings, desired: &Desired) -> Result<reqwest::Client, MesosError> {
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
        settings.ca_cert.as_deref().map(|p| ("--ca-cert", p)),
    ];
    for (origin, ca) in cas.into_iter().flatten() {
        for cert in read_ca(origin, ca)? {
            b = b.add_root_certificate(cert);
        }
    }
    if settings.insecure_skip_tls_verify {
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
        .map_err(|e| MesosError::msg(format!("cannot build the HTTP client: {e}")))
}

/// The certificates of a CA file (one or more PEM certificates).
fn read_ca(origin: &str, path: &Path) -> Result<Vec<reqwest::Certificate>, MesosError> {
    let pem = crate::limits::read(path, crate::limits::CA_FILE).map_err(|e| match e {
        crate::limits::ReadError::Io(e) => {
            MesosError::msg(format!("cannot read {origin} {}: {e}", path.display()))
        }
        crate::limits::ReadError::TooLarge { limit } => MesosError::msg(format!(
            "{origin} {} is larger than {}: a CA file holds a few PEM certificates; point {origin} at the PEM file of the CA that signed the Mesos master's certificate",
            path.display(),
            crate::limits::size_text(limit)
        )),
    })?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
        MesosError::msg(format!(
            "{origin} {} is not a PEM certificate: {e}",
            path.display()
        ))
    })?;
    if certs.is_empty() {
        return Err(MesosError::msg(format!(
            "{origin} {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        )));
    }
    Ok(certs)
}

/// Whether the user configured TLS for Mesos (a CA or skipping checks):
/// then a leader found in ZooKeeper, whose MasterInfo has no scheme, is
/// reached over HTTPS.
pub fn tls_configured(settings: &Settings, desired: &Desired) -> bool {
    desired.mesos.ca_cert.is_some()
        || settings.ca_cert.is_some()
        || settings.insecure_skip_tls_verify
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

/// A call to the v1 operator API of the master at `base`: JSON both ways,
/// the answer's headers awaited for at most `limits.headers`. Returns the
/// URL too, for messages.
pub(super) fn operator_call(
    client: &reqwest::Client,
    base: &str,
    body: String,
    limits: &HttpLimits,
) -> (String, reqwest::RequestBuilder) {
    let url = format!("{}/api/v1", base.trim_end_matches('/'));
    let request = client
        .post(&url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::ACCEPT, "application/json")
        .body(body)
        .timeout(limits.headers);
    (url, request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_ca_file_fails_at_the_limit() {
        let msg = match read_ca("--ca-cert", Path::new("/dev/zero")) {
            Err(MesosError(m)) => m,
            other => panic!("{other:?}"),
        };
        assert!(
            msg.contains("--ca-cert /dev/zero is larger than 1 MiB"),
            "{msg}"
        );
    }
}
