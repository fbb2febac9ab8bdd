//! A TCP forwarder to the local engine that a test can cut: while down it
//! accepts and closes every connection at once, as an unreachable service
//! looks to a client (the engine itself stays up for other tests).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::{TcpListener, TcpStream};

pub struct Proxy {
    pub port: u16,
    up: Arc<AtomicBool>,
}

impl Proxy {
    pub async fn start(upstream: u16, up: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("{e}"))
            .port();
        let flag = Arc::new(AtomicBool::new(up));
        let f = flag.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !f.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream)).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Self { port, up: flag }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
    }
}
