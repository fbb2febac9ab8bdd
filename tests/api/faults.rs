//! Faults at the engine: stopped, slow, throttling and conflict errors.
//! Every scenario ends by checking that the table holds the whole decision or
//! nothing. The scenarios share an engine of their own, which they stop and
//! slow down, so they run one at a time.

use std::time::{Duration, Instant};

use std::sync::OnceLock;

use super::helpers::engine::{Engine, create_tables_named, put};
use super::helpers::proxy::Proxy;
use super::helpers::{Event, Harness, call, decision, send, stored};
use crate::config::CallLimits;
use serde_json::Value;

/// This module's own engine: stopping it must not fail other tests.
fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(Engine::start)
}

async fn harness_with(timeouts: CallLimits) -> Harness {
    Harness::builder()
        .on(engine())
        .timeouts(timeouts)
        .build()
        .await
}

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const USER: i64 = 77;
const ORG: i64 = 5;

/// Short limits so the suite is quick; the same code paths as production.
fn timeouts() -> CallLimits {
    CallLimits {
        connect: Duration::from_millis(300),
        attempt: Duration::from_millis(600),
        operation: Duration::from_millis(1500),
        max_attempts: 3,
        initial_backoff: Duration::from_millis(50),
    }
}

/// The record holds the whole decision by `USER` or none of it.
fn whole_or_nothing(v: &Value) -> &'static str {
    let history = v["verificationHistory"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    match (v["status"].as_i64(), history) {
        (Some(3), 0) => {
            assert_eq!(v["verifiedByUserId"], Value::Null, "{v}");
            assert_eq!(v["verifiedAt"], Value::Null, "{v}");
            "nothing"
        }
        (Some(4), 1) => {
            assert_eq!(v["verifiedByUserId"], USER, "{v}");
            assert_eq!(v["verifiedAt"], v["updatedAt"], "{v}");
            assert_eq!(v["verificationHistory"][0]["at"], v["verifiedAt"], "{v}");
            assert_eq!(
                v["decisionComment"], v["verificationHistory"][0]["decisionComment"],
                "{v}"
            );
            "whole"
        }
        other => panic!("half-written: {other:?}: {v}"),
    }
}

fn assert_503(status: u16, body: &Value) {
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "service_unavailable");
    assert_eq!(body["status"], 503);
}

/// A harness on this module's engine with intervention `id` awaiting a
/// decision, and the caller's decision on it.
async fn awaiting(id: i64, comment: &str) -> (Harness, Event) {
    let h = harness_with(timeouts()).await;
    put(&h.client, &h.interventions, stored(id, 3, ORG)).await;
    (h, call(id, USER, &[ORG], decision(1, comment)))
}

/// Sends `event` and asserts a 503 within the SDK's operation timeout (and a
/// margin); `after` runs once the answer is in (e.g. to heal the engine).
async fn answers_503_in_time(h: &Harness, event: &Event, after: impl FnOnce()) {
    let started = Instant::now();
    let (status, body) = send(&h.app, event).await;
    let took = started.elapsed();
    after();
    assert_503(status, &body);
    assert!(
        took <= timeouts().operation + Duration::from_millis(500),
        "took {took:?}"
    );
}

#[tokio::test]
async fn stopped_engine_is_503_within_the_sdk_timeout_and_recovers_without_restart() {
    let _serial = SERIAL.lock().await;
    let (h, event) = awaiting(1, "engine down").await;
    engine().stop();
    answers_503_in_time(&h, &event, || ()).await;

    // Back up (moto keeps tables in memory: recreate them), same App, same client.
    engine().restart();
    create_tables_named(&h.client, &h.interventions, &h.notifications).await;
    put(&h.client, &h.interventions, stored(1, 3, ORG)).await;
    let (status, body) = send(&h.app, &event).await;
    assert_eq!(status, 200, "recovered: {body}");
    assert_eq!(whole_or_nothing(&h.intervention(1).await), "whole");
}

#[tokio::test]
async fn slow_engine_times_out_at_the_sdk_and_never_half_writes() {
    let _serial = SERIAL.lock().await;
    let (h, event) = awaiting(2, "slow").await;
    engine().delay(2000);
    answers_503_in_time(&h, &event, || engine().delay(0)).await;
    // The engine finishes what it was sent: the decision landed whole, or not at all.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let outcome = whole_or_nothing(&h.intervention(2).await);
    // The client's retry settles it either way: applied now, or replayed.
    let (status, body) = send(&h.app, &event).await;
    assert_eq!(status, 200, "after {outcome}: {body}");
    assert_eq!(whole_or_nothing(&h.intervention(2).await), "whole");
}

async fn retried_then_exhausted(code: &str, http_status: u16, id: i64) {
    let h = harness_with(timeouts()).await;
    put(&h.client, &h.interventions, stored(id, 3, ORG)).await;
    let event = call(id, USER, &[ORG], decision(1, code));

    // Fewer failures than attempts: the SDK retries and the decision lands.
    engine().reset_stats();
    engine().inject(code, 2, http_status);
    let (status, body) = send(&h.app, &event).await;
    assert_eq!(status, 200, "{code}: {body}");
    assert_eq!(
        engine().stats()["UpdateItem"],
        3,
        "{code}: two refused, one applied"
    );
    assert_eq!(whole_or_nothing(&h.intervention(id).await), "whole");

    // As many failures as attempts: 503 with Retry-After, nothing written.
    put(&h.client, &h.interventions, stored(id + 1, 3, ORG)).await;
    engine().reset_stats();
    engine().inject(code, 3, http_status);
    let event = call(id + 1, USER, &[ORG], decision(1, code));
    let (status, body) = send(&h.app, &event).await;
    engine().inject(code, 0, 400);
    assert_503(status, &body);
    assert_eq!(engine().stats()["UpdateItem"], 3, "{code}: three attempts");
    assert_eq!(whole_or_nothing(&h.intervention(id + 1).await), "nothing");
}

#[tokio::test]
async fn throttling_is_retried_then_503() {
    let _serial = SERIAL.lock().await;
    retried_then_exhausted("ProvisionedThroughputExceededException", 400, 10).await;
    retried_then_exhausted("ThrottlingException", 400, 20).await;
    retried_then_exhausted("RequestLimitExceeded", 400, 30).await;
}

#[tokio::test]
async fn transaction_conflicts_are_retried_then_503() {
    let _serial = SERIAL.lock().await;
    retried_then_exhausted("TransactionConflictException", 400, 40).await;
}

#[tokio::test]
async fn server_errors_are_retried_then_503() {
    let _serial = SERIAL.lock().await;
    retried_then_exhausted("InternalServerError", 500, 50).await;
}

fn epoch_ms_in(d: Duration) -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |t| t.as_millis() as u64);
    now + d.as_millis() as u64
}

/// Status and JSON body of one call handed over with a deadline `budget`
/// away, and how long it took.
async fn send_due(
    h: &Harness,
    event: &super::helpers::Event,
    budget: Duration,
) -> (u16, Value, Duration) {
    let started = Instant::now();
    let resp = crate::handler::handle(&h.app, event.request_due_by(epoch_ms_in(budget))).await;
    let took = started.elapsed();
    let retry_after = resp.headers().contains_key("retry-after");
    let body = match resp.body() {
        lambda_http::Body::Text(t) => serde_json::from_str(t).expect("a JSON body"),
        _ => Value::Null,
    };
    let status = resp.status().as_u16();
    assert!(status != 503 || retry_after, "a 503 carries Retry-After");
    (status, body, took)
}

#[tokio::test]
async fn a_slow_engine_answers_503_before_the_invocations_deadline() {
    let _serial = SERIAL.lock().await;
    // The SDK's own limits (4 s, retries) are longer than the invocation
    // has left: only the deadline can answer in time.
    let h = harness_with(CallLimits::default()).await;
    put(&h.client, &h.interventions, stored(20, 3, ORG)).await;
    let event = call(20, USER, &[ORG], decision(1, "deadline"));
    let budget = Duration::from_millis(1500);
    engine().delay(3000);
    let (status, body, took) = send_due(&h, &event, budget).await;
    engine().delay(0);
    assert_503(status, &body);
    assert!(
        took <= budget - crate::handler::ANSWER_MARGIN + Duration::from_millis(150),
        "answered after {took:?} of a {budget:?} budget"
    );
    // The write sent before the deadline may still land; the retry settles it.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let outcome = whole_or_nothing(&h.intervention(20).await);
    let (status, body, _) = send_due(&h, &event, Duration::from_secs(8)).await;
    assert_eq!(status, 200, "after {outcome}: {body}");
    assert_eq!(whole_or_nothing(&h.intervention(20).await), "whole");
}

#[tokio::test]
async fn a_slow_notification_write_is_dropped_at_the_deadline_and_the_decision_stands() {
    let _serial = SERIAL.lock().await;
    let h = harness_with(CallLimits::default()).await;
    put(&h.client, &h.interventions, stored(21, 3, ORG)).await;
    put(
        &h.client,
        &h.notifications,
        serde_json::json!({"id": "n-deadline", "userId": USER}),
    )
    .await;
    let mut body = decision(1, "notified late");
    body["notificationId"] = "n-deadline".into();
    let event = call(21, USER, &[ORG], body);
    let budget = Duration::from_millis(1500);
    engine().delay_table(&h.notifications, 3000);
    let (status, answer, took) = send_due(&h, &event, budget).await;
    engine().delay(0);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["status"], 4);
    assert!(
        took <= budget - crate::handler::ANSWER_MARGIN + Duration::from_millis(150),
        "answered after {took:?} of a {budget:?} budget"
    );
    assert_eq!(whole_or_nothing(&h.intervention(21).await), "whole");
    tokio::time::sleep(Duration::from_millis(3500)).await;
}

/// Traffic here is people clicking: an invocation often comes after the
/// endpoint (or a NAT) closed the kept connection. The next request opens a
/// new one and answers right; the conditional write makes a retried attempt
/// safe, and the table holds each decision once.
#[tokio::test]
async fn a_connection_the_server_closed_is_replaced_and_the_decision_applies_once() {
    let _serial = SERIAL.lock().await;
    let proxy = Proxy::start(engine().port, true).await;
    let h = Harness::builder()
        .at(&proxy.endpoint())
        .timeouts(timeouts())
        .build()
        .await;
    for id in 1..=3 {
        put(&h.client, &h.interventions, stored(id, 3, ORG)).await;
    }
    let (status, body) = send(&h.app, &call(1, USER, &[ORG], decision(1, "kept"))).await;
    assert_eq!(status, 200, "{body}");
    let before = proxy.connections();

    // Closed while idle, noticed before the next request.
    proxy.close_connections();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (status, body) = send(&h.app, &call(2, USER, &[ORG], decision(1, "after close"))).await;
    assert_eq!(status, 200, "{body}");
    assert!(proxy.connections() > before, "no new connection was opened");

    // Closed just before the request is written: retried on a new one.
    proxy.close_connections();
    let (status, body) = send(&h.app, &call(3, USER, &[ORG], decision(1, "racing close"))).await;
    assert_eq!(status, 200, "{body}");
    for id in 1..=3 {
        assert_eq!(whole_or_nothing(&h.intervention(id).await), "whole", "{id}");
    }
}
