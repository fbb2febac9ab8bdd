//! Everything the function does per request except the DynamoDB round trip:
//! the invocation payload parsed into an event and a request, both tokens
//! verified, the path and body validated, the conditional update built, the
//! returned item mapped to the response, the log line formatted, and the
//! response serialised for the runtime. One figure per access-token kind.
//!
//! `cargo bench --bench cpu_path` (or `make bench`).

use divan::{Bencher, black_box};
use intervention_verify::config::AllowedOrigins;
use intervention_verify::edge::lambda::{ApiEvent, ResponseFormat, into_request};
use intervention_verify::handler::{App, handle};
use intervention_verify::store::{decision_expression, read_answer};
use intervention_verify::testing::events::Event;
use intervention_verify::testing::stores::{self, StubStore};
use intervention_verify::testing::{self, ready, tokens};
use jsonwebtoken::Algorithm;
use serde_json::json;

fn main() {
    divan::main();
}

/// DynamoDB's answer to the decision's `UpdateItem`: the test kit's record
/// as the decision leaves it (verified, its history kept).
fn stored_item() -> Vec<u8> {
    let mut item = testing::stored(3, 4, 1);
    let comment = "Filters replaced, thank you.";
    let at = "2024-12-09T14:23:00.000Z";
    for (field, value) in [
        ("verifiedByUserId", json!(42)),
        ("verifiedAt", json!(at)),
        ("decisionComment", json!(comment)),
        (
            "verificationHistory",
            json!([{"decision": 1, "decisionComment": comment,
            "userId": 42, "sessionId": "session-42", "at": at}]),
        ),
    ] {
        item[field] = value;
    }
    stores::answer(&item)
}

/// The invocation payload API Gateway sends, with the headers a browser adds.
fn event(alg: Algorithm) -> String {
    event_with(
        &tokens::sign(alg, &tokens::access_claims(42, &[1, 2, 3])),
        &tokens::session(42),
    )
}

/// A session token no instance has seen: its pair is verified in full.
fn fresh_session(n: u64) -> String {
    tokens::session_with(&tokens::session_claims_for(
        42,
        &format!("session-{n}"),
        3600,
    ))
}

fn event_with(access: &str, session: &str) -> String {
    Event::patch(3)
        .tokens(access, session)
        .header("content-type", "application/json")
        .header("Host", "z52mnqg347.execute-api.eu-west-3.amazonaws.com")
        .header("User-Agent", "Mozilla/5.0")
        .header("X-Forwarded-For", "203.0.113.10")
        .json(&json!({"decisionComment": "Filters replaced, thank you.", "decision": 1}))
        .request_id("c6af9ac6-7b61-11e6-9a41-93e8deadbeef")
        .to_json()
        .to_string()
}

/// The whole request path with tokens seen for the first time (each
/// iteration's session token is new, so both are verified in full).
#[divan::bench(args = ["HS256", "RS256", "ES256", "EdDSA"])]
fn request(bencher: Bencher, alg: &str) {
    let alg: Algorithm = alg.parse().unwrap_or_else(|e| panic!("{e}"));
    let access = tokens::sign(alg, &tokens::access_claims(42, &[1, 2, 3]));
    let n = std::cell::Cell::new(0);
    bench_path(bencher, || {
        n.set(n.get() + 1);
        event_with(&access, &fresh_session(n.get()))
    });
}

/// The same path with a token pair the instance verified before (a user
/// deciding several interventions): the verified-token cache answers.
#[divan::bench(args = ["HS256", "RS256"])]
fn request_same_tokens(bencher: Bencher, alg: &str) {
    let payload = event(alg.parse().unwrap_or_else(|e| panic!("{e}")));
    bench_path(bencher, || payload.clone());
}

/// Times payload → runtime response; `payload` makes each iteration's input.
fn bench_path(bencher: Bencher, payload: impl Fn() -> String) {
    // The update built as the DynamoDB store builds it, and the item DynamoDB
    // returns (ALL_NEW) mapped the same way, handed in per iteration outside
    // the timing, as the SDK hands it over.
    let app = App {
        log_sink: |line| {
            black_box(line);
        },
        ..testing::app(StubStore::returning(stored_item()), AllowedOrigins::None)
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let run = |payload: &str| {
        let event: ApiEvent = serde_json::from_str(payload).unwrap_or_else(|e| panic!("{e}"));
        let (req, format) = into_request(event, Default::default());
        let resp = rt.block_on(handle(&app, req));
        serde_json::to_string(&format.respond(resp)).unwrap_or_default()
    };
    // Once outside the timing: the request must succeed, or the figure lies.
    let stored = stored_item();
    assert!(run(&payload()).contains("\"statusCode\":200"));
    bencher
        .with_inputs(|| (stored.clone(), payload()))
        .bench_local_values(|(item, payload)| {
            app.store.set_answer(item);
            run(black_box(&payload))
        });
}

/// The same path, piece by piece, to see where the time goes.
mod pieces {
    use super::*;
    use intervention_verify::domain::{Decision, InterventionId, VerifyCommand, plan_decision};
    use intervention_verify::edge::{request as edge_request, response};
    use intervention_verify::telemetry::{RequestRecord, request_line};

    fn authenticator() -> intervention_verify::auth::Authenticator {
        testing::authenticator(&testing::auth_settings())
    }

    #[divan::bench]
    fn parse_event(bencher: Bencher) {
        let payload = event(Algorithm::HS256);
        bencher.bench_local(|| {
            let e: ApiEvent =
                serde_json::from_str(black_box(&payload)).unwrap_or_else(|e| panic!("{e}"));
            into_request(e, Default::default()).0
        });
    }

    /// Both tokens verified in full (a session token never seen before).
    #[divan::bench(args = ["HS256", "RS256", "ES256", "EdDSA"])]
    fn authenticate(bencher: Bencher, alg: &str) {
        let alg: Algorithm = alg.parse().unwrap_or_else(|e| panic!("{e}"));
        let v = authenticator();
        let access = format!(
            "Bearer {}",
            tokens::sign(alg, &tokens::access_claims(42, &[1, 2, 3]))
        );
        let n = std::cell::Cell::new(0);
        bencher
            .with_inputs(|| {
                n.set(n.get() + 1);
                fresh_session(n.get())
            })
            .bench_local_values(|session| {
                ready(v.authenticate(Some(black_box(access.as_bytes())), Some(session.as_bytes())))
            });
    }

    /// A pair verified before: the cache lookup.
    #[divan::bench]
    fn authenticate_again(bencher: Bencher) {
        let v = authenticator();
        let access = format!("Bearer {}", tokens::access(42, &[1, 2, 3]));
        let session = tokens::session(42);
        bencher.bench_local(|| {
            ready(v.authenticate(Some(black_box(access.as_bytes())), Some(session.as_bytes())))
        });
    }

    #[divan::bench]
    fn validate_request(bencher: Bencher) {
        let payload = event(Algorithm::HS256);
        let e: ApiEvent = serde_json::from_str(&payload).unwrap_or_else(|e| panic!("{e}"));
        let (req, _) = into_request(e, Default::default());
        bencher.bench_local(|| {
            edge_request::check_content_type(black_box(&req)).ok();
            edge_request::check_size(&req).ok();
            let id = edge_request::parse_intervention_id(edge_request::raw_intervention_id(&req));
            edge_request::parse_command(&req, id).ok()
        });
    }

    #[divan::bench]
    fn build_update(bencher: Bencher) {
        let caller = ready(authenticator().authenticate(
            Some(format!("Bearer {}", tokens::access(42, &[1, 2, 3])).as_bytes()),
            Some(tokens::session(42).as_bytes()),
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        let cmd = VerifyCommand {
            intervention_id: InterventionId::new(3).expect("an id in range"),
            decision: Decision::Accept,
            comment: "Filters replaced, thank you.".into(),
            notification_id: None,
        };
        bencher.bench_local(|| {
            decision_expression(
                &plan_decision(&caller, black_box(&cmd), "2024-12-09T14:23:00.000Z")
                    .expect("the bench's caller has organisations"),
            )
        });
    }

    #[divan::bench]
    fn map_item(bencher: Bencher) {
        let item = stored_item();
        bencher.bench_local(|| read_answer(black_box(&item)));
    }

    #[divan::bench]
    fn respond(bencher: Bencher) {
        let intervention = read_answer(&stored_item()).unwrap_or_else(|e| panic!("{e}"));
        bencher.bench_local(|| {
            let resp = response::verified(black_box(&intervention));
            serde_json::to_string(&ResponseFormat::Rest.respond(resp)).unwrap_or_default()
        });
    }

    #[divan::bench]
    fn log_line(bencher: Bencher) {
        bencher.bench_local(|| {
            request_line(black_box(&RequestRecord {
                request_id: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
                intervention_id: Some(3),
                decision: Some(1),
                outcome: "applied",
                status: 200,
                latency: std::time::Duration::from_micros(1500),
                counted: true,
            }))
        });
    }
}
