//! Exactly one DynamoDB request per decision, two with a notification, and
//! only the actions the template grants: counted at an engine of its own, so
//! no other test's requests are counted.

use super::helpers::engine::{Engine, put};
use super::helpers::{Harness, call, decision, send, stored};
use crate::store::IAM_ACTIONS;
use serde_json::json;

#[tokio::test]
async fn one_request_per_decision_two_with_a_notification() {
    let e = Engine::start();
    let h = Harness::builder().on(&e).build().await;
    for id in 1..=3 {
        put(&h.client, &h.interventions, stored(id, 3, 1)).await;
    }
    put(
        &h.client,
        &h.notifications,
        json!({"id": "n-1", "userId": 9}),
    )
    .await;

    let cases = [
        (call(1, 9, &[1], decision(1, "ok")), 200, 1),
        (call(1, 9, &[1], decision(1, "ok")), 200, 1), // replay
        (call(1, 9, &[1], decision(2, "no")), 409, 1),
        (call(404, 9, &[1], decision(1, "ok")), 404, 1),
        (
            call(
                2,
                9,
                &[1],
                json!({"decisionComment": "ok", "decision": 1, "notificationId": "n-1"}),
            ),
            200,
            2,
        ),
        (call(3, 9, &[1], json!({"decision": 7})), 400, 0),
        (call(3, 9, &[], decision(1, "ok")), 404, 0), // no organisation: nothing can match
    ];
    let mut seen = serde_json::Map::new();
    for (event, status, requests) in cases {
        e.reset_stats();
        let (got, body) = send(&h.app, &event).await;
        assert_eq!(got, status, "{body}");
        let stats = e.stats();
        let total: u64 = stats
            .values()
            .map(|n| n.as_u64().unwrap_or_else(|| panic!("a count: {n}")))
            .sum();
        assert_eq!(total, requests, "{:?} -> {stats:?}", event.body);
        if requests > 0 {
            assert_eq!(stats.get("UpdateItem"), Some(&requests.into()), "{stats:?}");
        }
        seen.extend(stats);
    }
    for operation in seen.keys() {
        let action = format!("dynamodb:{operation}");
        assert!(
            IAM_ACTIONS.contains(&action.as_str()),
            "{action} is called but not granted"
        );
    }
    assert_eq!(seen.len(), 1, "{seen:?}");
}

/// The engine serves many requests on one connection, as DynamoDB does: the
/// function's warm connection is only measurable if the engine keeps it.
#[test]
fn the_engine_keeps_a_connection_open() {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut conn =
        std::net::TcpStream::connect(("127.0.0.1", super::helpers::engine::engine().port))
            .unwrap_or_else(|e| panic!("{e}"));
    conn.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .ok();
    let mut reader = BufReader::new(conn.try_clone().unwrap_or_else(|e| panic!("{e}")));
    for n in 0..5 {
        conn.write_all(
            b"GET /_local/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n",
        )
        .unwrap_or_else(|e| panic!("request {n}: {e}"));
        let mut status = String::new();
        reader
            .read_line(&mut status)
            .unwrap_or_else(|e| panic!("response {n}: {e}"));
        assert!(
            status.starts_with("HTTP/1.1 200"),
            "response {n}: {status:?}"
        );
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader
                .read_line(&mut line)
                .unwrap_or_else(|e| panic!("{e}"));
            let lower = line.to_ascii_lowercase();
            assert!(
                !lower.starts_with("connection: close"),
                "response {n} closes the connection"
            );
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; length];
        reader
            .read_exact(&mut body)
            .unwrap_or_else(|e| panic!("body {n}: {e}"));
    }
}
