//! The TLS side of `ftps://`: the certificates a server's own may chain
//! to.

use std::sync::Arc;

use super::{Cause, RemoteError, RemoteResult};

/// The certificates a server's own may chain to: `target.ca_file`, or the
/// system trust store.
pub(super) fn root_store(ca_file: Option<&std::path::Path>) -> RemoteResult<rustls::RootCertStore> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| {
                RemoteError::new(
                    Cause::Refused,
                    format!("error reading CA file {}: {e}", path.display()),
                )
            })?;
            for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
                let cert = cert.map_err(|e| {
                    RemoteError::new(
                        Cause::Refused,
                        format!("bad certificate in {}: {e}", path.display()),
                    )
                })?;
                roots.add(cert).map_err(|e| {
                    RemoteError::new(
                        Cause::Refused,
                        format!("bad certificate in {}: {e}", path.display()),
                    )
                })?;
            }
            if roots.is_empty() {
                return Err(RemoteError::new(
                    Cause::Refused,
                    format!("no certificates in CA file {}", path.display()),
                ));
            }
        }
        None => {
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
        }
    }
    Ok(roots)
}

pub(super) fn tls_config(ca_file: Option<&std::path::Path>) -> RemoteResult<rustls::ClientConfig> {
    let roots = root_store(ca_file)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| RemoteError::new(Cause::Refused, format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
