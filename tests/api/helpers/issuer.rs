//! A real HTTP JWKS endpoint on loopback that a test changes while the
//! function runs: the keys it publishes, its `Cache-Control`, and the ways an
//! issuer fails (an error status, garbage, a huge body, silence).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
pub(crate) enum Answer {
    /// 200 with this JWKS and `Cache-Control: max-age=…`.
    Keys {
        doc: String,
        max_age: u64,
    },
    Status(u16),
    /// 200 with a body that is not a JWKS.
    Garbage,
    /// 200 with a 1 MB body.
    Huge,
    /// Reads the request and never answers.
    Silent,
}

pub(crate) struct Issuer {
    pub port: u16,
    answer: Arc<Mutex<Answer>>,
    hits: Arc<AtomicUsize>,
}

impl Issuer {
    /// Listens on a free loopback port, answering `first`.
    pub(crate) async fn start(first: Answer) -> Self {
        let (listener, _) = super::listen().await;
        Self::serve(listener, first)
    }

    /// Listens on `port` (a port an earlier test run left closed).
    pub(crate) async fn start_on(port: u16, first: Answer) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        Self::serve(listener, first)
    }

    fn serve(listener: TcpListener, first: Answer) -> Self {
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("{e}"))
            .port();
        let answer = Arc::new(Mutex::new(first));
        let hits = Arc::new(AtomicUsize::new(0));
        let (a, h) = (answer.clone(), hits.clone());
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let (a, h) = (a.clone(), h.clone());
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let mut seen = Vec::new();
                    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                        match conn.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => seen.extend_from_slice(&buf[..n]),
                        }
                    }
                    h.fetch_add(1, Ordering::SeqCst);
                    let answer = a.lock().unwrap_or_else(|e| e.into_inner()).clone();
                    let (status, headers, body) = match answer {
                        Answer::Keys { doc, max_age } => (
                            200,
                            format!("Cache-Control: public, max-age={max_age}\r\n"),
                            doc.into_bytes(),
                        ),
                        Answer::Status(s) => (s, String::new(), b"{}".to_vec()),
                        Answer::Garbage => (200, String::new(), b"<html>oops</html>".to_vec()),
                        Answer::Huge => (200, String::new(), vec![b' '; 1024 * 1024]),
                        Answer::Silent => {
                            tokio::time::sleep(Duration::from_secs(30)).await;
                            return;
                        }
                    };
                    let head = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = conn.write_all(head.as_bytes()).await;
                    let _ = conn.write_all(&body).await;
                    let _ = conn.shutdown().await;
                });
            }
        });
        Self { port, answer, hits }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}/.well-known/jwks.json", self.port)
    }

    pub(crate) fn answer(&self, a: Answer) {
        *self.answer.lock().unwrap_or_else(|e| e.into_inner()) = a;
    }

    /// Requests served since the start.
    pub(crate) fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// A JWKS of fixture keys under new kids: `(fixture kid, published kid)`.
pub(crate) fn jwks(keys: &[(&str, &str)]) -> String {
    let fixture: Value =
        serde_json::from_str(super::tokens::JWKS).unwrap_or_else(|e| panic!("{e}"));
    let all = fixture["keys"]
        .as_array()
        .cloned()
        .expect("the fixture JWKS's keys");
    let published: Vec<Value> = keys
        .iter()
        .map(|(from, to)| {
            let mut k = all
                .iter()
                .find(|k| k["kid"] == *from)
                .cloned()
                .unwrap_or_else(|| panic!("no fixture key {from}"));
            k["kid"] = Value::from(*to);
            k
        })
        .collect();
    serde_json::json!({ "keys": published }).to_string()
}
