//! The issuer's JWKS over HTTPS, and how long one may be cached.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::{FetchError, JWKS_DEFAULT_TTL, JWKS_MAX_TTL, JWKS_MIN_TTL};

/// The HTTPS connector of every client outside the SDK: rustls on aws-lc,
/// HTTP/1.1, trusting the public web PKI roots compiled into the binary plus
/// `SSL_CERT_FILE`; the system store is never read.
pub fn https_connector(
    ssl_cert_file: Option<&Path>,
) -> Result<hyper_rustls::HttpsConnector<HttpConnector>, std::io::Error> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = ssl_cert_file {
        add_pem_roots(&mut roots, &std::fs::read(path)?)?;
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(std::io::Error::other)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build())
}

/// Adds every certificate of `pem` (a PEM file's contents) to `roots`: an
/// error, worded for the setting's message, for a block that does not
/// decode or a certificate rustls cannot take as a root.
pub(crate) fn add_pem_roots(
    roots: &mut rustls::RootCertStore,
    pem: &[u8],
) -> Result<(), std::io::Error> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    let bad =
        |what: &str, e: &dyn std::fmt::Display| std::io::Error::other(format!("{what} ({e})"));
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| bad("a PEM block that does not decode", &e))?;
        roots
            .add(cert)
            .map_err(|e| bad("a certificate that cannot be a root", &e))?;
    }
    Ok(())
}

/// The issuer's JWKS endpoint, parsed once: `https`, or `http` to a
/// loopback host only (a local issuer); anything else would let the network
/// choose our keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JwksUrl(hyper::Uri);

impl JwksUrl {
    /// The URL, or what is wrong with it.
    pub(crate) fn parse(url: &str) -> Result<Self, &'static str> {
        let uri: hyper::Uri = url.parse().map_err(|_| "not a URL")?;
        let host = uri.host().ok_or("no host")?;
        match uri.scheme_str() {
            Some("https") => Ok(Self(uri)),
            Some("http") if is_loopback(host) => Ok(Self(uri)),
            Some("http") => Err("must be https:// (http:// only to a loopback host)"),
            _ => Err("must be an https:// URL"),
        }
    }

    pub(crate) fn uri(&self) -> &hyper::Uri {
        &self.0
    }
}

impl std::fmt::Display for JwksUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// HTTPS GETs (the issuer's JWKS) on [`https_connector`]: hyper and rustls,
/// the crates the SDK's client is made of.
#[derive(Clone)]
pub(crate) struct WebClient {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

impl WebClient {
    pub(crate) fn new(ssl_cert_file: Option<&Path>) -> Result<Self, std::io::Error> {
        let connector = https_connector(ssl_cert_file)?;
        Ok(Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
        })
    }

    /// GET `uri`: the body (at most `max_bytes`) and how long it may be
    /// cached, all within `timeout`.
    pub(crate) async fn get(
        &self,
        uri: &hyper::Uri,
        timeout: Duration,
        max_bytes: usize,
    ) -> Result<(Bytes, Duration), FetchError> {
        let unavailable = |what: String, cause| FetchError::unavailable(what, cause);
        let work = async {
            let resp = self
                .client
                .get(uri.clone())
                .await
                .map_err(|e| unavailable("unreachable".into(), Some(e.into())))?;
            if resp.status() != hyper::StatusCode::OK {
                return Err(unavailable(format!("answered {}", resp.status()), None));
            }
            let ttl = resp
                .headers()
                .get(hyper::header::CACHE_CONTROL)
                .and_then(|v| v.to_str().ok())
                .map_or(JWKS_DEFAULT_TTL, jwks_ttl);
            let body = Limited::new(resp.into_body(), max_bytes)
                .collect()
                .await
                .map_err(|e| {
                    unavailable(
                        format!("body unreadable or over {max_bytes} bytes"),
                        Some(e),
                    )
                })?
                .to_bytes();
            Ok((body, ttl))
        };
        crate::timer::before(std::time::Instant::now() + timeout, work)
            .await
            .ok_or_else(|| unavailable(format!("timed out after {timeout:?}"), None))?
    }
}

/// How long a JWKS may be cached, from its `Cache-Control` header:
/// `max-age` clamped to [`JWKS_MIN_TTL`]..[`JWKS_MAX_TTL`], else the default.
pub(crate) fn jwks_ttl(cache_control: &str) -> Duration {
    let max_age = cache_control.split(',').find_map(|d| {
        let (name, value) = d.trim().split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("max-age")
            .then(|| value.trim().trim_matches('"').parse::<u64>().ok())?
    });
    max_age.map_or(JWKS_DEFAULT_TTL, |s| {
        Duration::from_secs(s).clamp(JWKS_MIN_TTL, JWKS_MAX_TTL)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_read_and_clamped() {
        assert_eq!(jwks_ttl("public, max-age=300"), Duration::from_secs(300));
        assert_eq!(jwks_ttl("MAX-AGE=5"), JWKS_MIN_TTL);
        assert_eq!(jwks_ttl("max-age=86400, must-revalidate"), JWKS_MAX_TTL);
        assert_eq!(jwks_ttl("no-cache"), JWKS_DEFAULT_TTL);
        assert_eq!(jwks_ttl("max-age=soon"), JWKS_DEFAULT_TTL);
        assert_eq!(jwks_ttl("s-maxage=100"), JWKS_DEFAULT_TTL);
    }
}
