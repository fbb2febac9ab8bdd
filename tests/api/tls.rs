//! The deployed binary's HTTPS to AWS after an idle gap. Traffic here is
//! people clicking, so many invocations come after the endpoint closed the
//! kept connection; the reconnect then costs a TLS handshake, and resuming
//! the session skips the certificate chain's verification: 47 % of what a
//! gap adds (docs/PERFORMANCE.md, "An invocation after an idle gap"). This
//! fails if the SDK's HTTPS client stops resuming sessions.

use std::time::Duration;

use rustls::HandshakeKind;
use serde_json::{Value, json};

use super::helpers::engine::{engine, put};
use super::helpers::runtime::{function_env, rest_event, run, statuses};
use super::helpers::tls::{self, TlsFront};
use super::helpers::{harness, stored, tokens};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_after_the_endpoint_closed_an_idle_connection_resumes_the_tls_session() {
    let h = harness().await;
    for id in 1..=3 {
        put(&h.client, &h.interventions, stored(id, 3, 4)).await;
    }
    // Idle connections closed after 300 ms; the invocations come 800 ms apart.
    let front = TlsFront::start(engine().port, Duration::from_millis(300)).await;
    let (access, session) = (tokens::access(8, &[4]), tokens::session(8));
    let body = json!({"decisionComment": "after a gap", "decision": 1}).to_string();
    let events: Vec<Value> = (1..=3)
        .map(|id| {
            rest_event(
                &id.to_string(),
                &access,
                &session,
                &body,
                &format!("tls-{id}"),
            )
        })
        .collect();
    let mut env: Vec<String> = function_env(&h.interventions, &h.notifications)
        .into_iter()
        .filter(|kv| !kv.starts_with("AWS_ENDPOINT_URL_DYNAMODB="))
        .collect();
    env.push(format!("AWS_ENDPOINT_URL_DYNAMODB={}", front.endpoint()));
    env.push(format!("SSL_CERT_FILE={}", tls::CA));
    let dir = std::env::temp_dir().join(format!("verify-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let pauses = [(2, 0.8), (3, 0.8)];
    let (report, logs) = tokio::task::block_in_place(|| {
        run(&super::helpers::bootstrap(), &events, &env, &pauses, &dir)
    });
    assert_eq!(statuses(&report), [200, 200, 200], "{report}\n{logs}");

    // The warm-up's handshake at start-up, then one after each gap (a
    // request racing the close may add one more): each later one resumed.
    let handshakes = front.handshakes();
    assert!(handshakes.len() >= 3, "{handshakes:?}");
    assert_ne!(handshakes[0], HandshakeKind::Resumed, "{handshakes:?}");
    assert!(
        handshakes[1..].iter().all(|k| *k == HandshakeKind::Resumed),
        "a reconnect did a full handshake: {handshakes:?}"
    );
    for id in 1..=3 {
        let stored = h.intervention(id).await;
        assert_eq!(stored["status"], 4, "{stored}");
        let history = stored["verificationHistory"]
            .as_array()
            .unwrap_or_else(|| panic!("no history: {stored}"));
        assert_eq!(history.len(), 1, "{stored}");
    }
}
