//! Concurrent decisions on one intervention, against the real engine.
//!
//! moto's server does not isolate concurrent conditional writes to one item
//! (it checks, then writes, one thread per request): `scripts/local_dynamodb.py`
//! runs it behind one lock around each request, as DynamoDB isolates writes
//! to an item, so this test measures the function and not the engine.

use std::sync::Arc;

use super::helpers::engine::{get, put};
use super::helpers::{Event, call, decision, harness, send, stored};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;

const RACERS: i64 = 32;
const ROUNDS: i64 = 20;
const ORG: i64 = 3;

/// Racer `i`: a user of its own, alternating decisions, its own comment;
/// the last two repeat racers 0 and 1 exactly (a client retry in flight).
fn racer(id: i64, i: i64) -> (i64, Value, Event) {
    let who = if i >= RACERS - 2 { i - (RACERS - 2) } else { i };
    let (user, body) = (2000 + who, decision(1 + who % 2, &format!("racer {who}")));
    (user, body.clone(), call(id, user, &[ORG], body))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_concurrent_decisions_apply_exactly_once_twenty_times() {
    let h = Arc::new(harness().await);
    let mut applied_by = Vec::new();
    for round in 0..ROUNDS {
        let id = 100 + round;
        put(&h.client, &h.interventions, stored(id, 3, ORG)).await;
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..RACERS {
            let h = h.clone();
            tasks.spawn(async move {
                let (user, sent, event) = racer(id, i);
                let (status, body) = send(&h.app, &event).await;
                (user, sent, status, body)
            });
        }
        let mut results = Vec::new();
        while let Some(r) = tasks.join_next().await {
            results.push(r.unwrap_or_else(|e| panic!("{e}")));
        }
        let stored = get(
            &h.client,
            &h.interventions,
            AttributeValue::N(id.to_string()),
        )
        .await;
        let history = stored["verificationHistory"]
            .as_array()
            .cloned()
            .expect("a decided record has a history");
        assert_eq!(history.len(), 1, "round {round}: {history:?}");
        let winner = &history[0];
        let winner_user = winner["userId"].as_i64().expect("a number in the answer");
        let mut ok = 0;
        for (user, body, status, answer) in &results {
            let same_as_winner = *user == winner_user
                && body["decision"] == winner["decision"]
                && body["decisionComment"] == winner["decisionComment"];
            match status {
                200 => {
                    assert!(
                        same_as_winner,
                        "round {round}: a 200 for a losing decision: {answer}"
                    );
                    assert_eq!(answer["data"]["verifiedByUserId"], winner_user);
                    ok += 1;
                }
                409 => {
                    assert!(
                        !same_as_winner,
                        "round {round}: the winner's retry must replay, got 409"
                    );
                    assert_eq!(answer["code"], "already_verified", "round {round}");
                }
                other => panic!("round {round}: status {other}: {answer}"),
            }
        }
        let winner_copies = (0..RACERS)
            .map(|i| racer(id, i))
            .filter(|(user, _, _)| *user == winner_user)
            .count();
        assert_eq!(
            ok, winner_copies,
            "round {round}: the winner and its exact retries, nothing else"
        );
        assert_eq!(stored["verifiedByUserId"], winner_user);
        assert_eq!(
            stored["status"].as_i64(),
            winner["decision"].as_i64().map(|d| d + 3)
        );
        applied_by.push(winner_user);
    }
    eprintln!("{ROUNDS} rounds of {RACERS}: winners {applied_by:?}");
}
