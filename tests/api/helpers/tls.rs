//! HTTPS in front of the engine, as AWS's endpoints serve it: TLS 1.3 with
//! session resumption, and a connection idle for `idle` closed by the
//! server (as AWS's endpoints and NATs close idle ones after a minute or
//! so). It records how each handshake went: full, or resumed from a ticket.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::HandshakeKind;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

/// The test CA, for the client's `SSL_CERT_FILE`.
pub(crate) const CA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls/ca.pem");
const CERT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/tls/localhost.pem"
);
const KEY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/tls/localhost.key"
);

pub(crate) struct TlsFront {
    pub port: u16,
    handshakes: Arc<Mutex<Vec<HandshakeKind>>>,
}

impl TlsFront {
    /// Serves TLS on a free port, forwarding to `upstream` on 127.0.0.1.
    pub(crate) async fn start(upstream: u16, idle: Duration) -> Self {
        let certs = CertificateDer::pem_file_iter(CERT)
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .unwrap_or_else(|e| panic!("{CERT}: {e}"));
        let key = PrivateKeyDer::from_pem_file(KEY).unwrap_or_else(|e| panic!("{KEY}: {e}"));
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        // rustls' defaults: a session cache, two TLS 1.3 tickets per handshake.
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
            .unwrap_or_else(|e| panic!("server config: {e}"));
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let (listener, port) = super::listen().await;
        let handshakes = Arc::new(Mutex::new(Vec::new()));
        let seen = handshakes.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, seen) = (acceptor.clone(), seen.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    if let Some(kind) = tls.get_ref().1.handshake_kind() {
                        seen.lock().unwrap_or_else(|e| e.into_inner()).push(kind);
                    }
                    if let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await {
                        forward_until_idle(tls, server, idle).await;
                    }
                });
            }
        });
        Self { port, handshakes }
    }

    /// How each handshake so far went, in order.
    pub(crate) fn handshakes(&self) -> Vec<HandshakeKind> {
        self.handshakes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn endpoint(&self) -> String {
        format!("https://localhost:{}", self.port)
    }
}

/// Copies both ways until either side closes or nothing moved for `idle`;
/// then closes the client's side (close_notify, then FIN).
async fn forward_until_idle(
    tls: tokio_rustls::server::TlsStream<TcpStream>,
    mut server: TcpStream,
    idle: Duration,
) {
    let (mut client_read, mut client_write) = tokio::io::split(tls);
    let (mut server_read, mut server_write) = server.split();
    let (mut up, mut down) = (vec![0u8; 16 * 1024], vec![0u8; 16 * 1024]);
    loop {
        tokio::select! {
            n = client_read.read(&mut up) => match n {
                Ok(n) if n > 0 && server_write.write_all(&up[..n]).await.is_ok() => {}
                _ => break,
            },
            n = server_read.read(&mut down) => match n {
                Ok(n) if n > 0 && client_write.write_all(&down[..n]).await.is_ok() => {}
                _ => break,
            },
            () = tokio::time::sleep(idle) => break,
        }
    }
    let _ = client_write.shutdown().await;
}
