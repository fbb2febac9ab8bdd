//! A TCP forwarder to the local engine that a test can cut: while down it
//! accepts and closes every connection at once, as an unreachable service
//! looks to a client (the engine itself stays up for other tests). It can
//! also close every open connection, as an endpoint closes idle ones.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tokio::net::TcpStream;
use tokio::sync::Notify;

pub(crate) struct Proxy {
    pub port: u16,
    up: Arc<AtomicBool>,
    close_all: Arc<Notify>,
    accepted: Arc<AtomicUsize>,
}

impl Proxy {
    pub(crate) async fn start(upstream: u16, up: bool) -> Self {
        let (listener, port) = super::listen().await;
        let flag = Arc::new(AtomicBool::new(up));
        let close_all = Arc::new(Notify::new());
        let accepted = Arc::new(AtomicUsize::new(0));
        let (f, closing, count) = (flag.clone(), close_all.clone(), accepted.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !f.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                count.fetch_add(1, Ordering::SeqCst);
                let closing = closing.clone();
                tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream)).await {
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                            () = closing.notified() => {}
                        }
                    }
                });
            }
        });
        Self {
            port,
            up: flag,
            close_all,
            accepted,
        }
    }

    /// Closes every connection open now (both sides, as a server would).
    pub(crate) fn close_connections(&self) {
        self.close_all.notify_waiters();
    }

    /// Connections accepted and forwarded so far.
    pub(crate) fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    pub(crate) fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub(crate) fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
    }
}
