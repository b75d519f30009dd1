//! HTTPS serving, as a Mesos master started with `LIBPROCESS_SSL_ENABLED`,
//! `LIBPROCESS_SSL_CERT_FILE` and `LIBPROCESS_SSL_KEY_FILE` does: every
//! endpoint over TLS only (no downgrade to plain HTTP), no client
//! certificates asked for.
//!
//! axum's own `serve` only takes plain TCP listeners, so connections are
//! accepted here, wrapped by rustls, and handed to hyper with the router as
//! the service.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// The PEM files of the server: its certificate (chain, leaf first) and
/// its private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Builds the rustls server configuration; errors name the file at fault.
pub fn server_config(files: &TlsFiles) -> Result<Arc<rustls::ServerConfig>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| pem_error(&files.cert, "certificate", &e))?
        .collect::<Result<_, _>>()
        .map_err(|e| pem_error(&files.cert, "certificate", &e))?;
    if certs.is_empty() {
        return Err(format!(
            "{}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it",
            files.cert.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| pem_error(&files.key, "private key", &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map(Arc::new)
        .map_err(|e| {
            format!(
                "{} and {} do not make a usable TLS identity: {e}",
                files.cert.display(),
                files.key.display()
            )
        })
}

fn pem_error(path: &Path, what: &str, e: &rustls_pki_types::pem::Error) -> String {
    format!("{}: cannot read a PEM {what}: {e}", path.display())
}

/// Serves `router` over TLS until `stop` turns true; open connections
/// (event streams included) are then cut.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    config: Arc<rustls::ServerConfig>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let acceptor = TlsAcceptor::from(config);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            accepted = listener.accept() => {
                let Ok((tcp, _peer)) = accepted else { continue };
                let acceptor = acceptor.clone();
                let service = TowerToHyperService::new(router.clone());
                connections.spawn(async move {
                    // A failed handshake (e.g. the client does not trust the
                    // certificate) only ends this connection.
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    let _ = auto::Builder::new(TokioExecutor::new())
                        .serve_connection_with_upgrades(TokioIo::new(tls), service)
                        .await;
                });
            }
            // Reap finished connections so the set does not grow forever.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.abort_all();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_or_non_pem_files_are_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = TlsFiles {
            cert: dir.path().join("missing.pem"),
            key: dir.path().join("missing.key"),
        };
        let e = server_config(&missing).unwrap_err();
        assert!(
            e.contains("missing.pem") && e.contains("certificate"),
            "{e}"
        );

        let text = dir.path().join("text.pem");
        std::fs::write(&text, "not a certificate\n").unwrap();
        let no_pem = TlsFiles {
            cert: text.clone(),
            key: text,
        };
        let e = server_config(&no_pem).unwrap_err();
        assert!(
            e.contains("text.pem") && e.contains("no PEM certificate"),
            "{e}"
        );
    }
}
