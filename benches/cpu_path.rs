//! Everything the function does per request except the DynamoDB round trip:
//! the invocation payload parsed into an event and a request, both tokens
//! verified, the path and body validated, the conditional update built, the
//! returned item mapped to the response, the log line formatted, and the
//! response serialised for the runtime. One figure per access-token kind.
//!
//! `cargo bench --bench cpu_path` (or `make bench`).

#[path = "../tests/common/tokens.rs"]
mod tokens;

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use divan::{Bencher, black_box};
use intervention_verify::auth::{AuthSettings, SecretSource, Verifier};
use intervention_verify::config::AllowedOrigins;
use intervention_verify::domain::DecisionWrite;
use intervention_verify::edge::lambda::{ApiEvent, into_request};
use intervention_verify::handler::{App, handle};
use intervention_verify::store::{
    InterventionStore, NotificationOutcome, StoreError, WriteOutcome, decision_expression,
    read_item,
};
use jsonwebtoken::Algorithm;
use serde_json::json;

fn main() {
    divan::main();
}

/// Builds the update exactly as the DynamoDB store does and answers with the
/// item DynamoDB would return (ALL_NEW), mapped the same way. The item is
/// handed in per iteration, outside the timing, as the SDK hands it over.
struct NoRoundTrip {
    item: std::cell::RefCell<Option<HashMap<String, AttributeValue>>>,
}

impl InterventionStore for NoRoundTrip {
    async fn apply_decision(&self, write: &DecisionWrite) -> Result<WriteOutcome, StoreError> {
        black_box(decision_expression(write)?);
        let item = self.item.borrow_mut().take().unwrap_or_default();
        read_item(item).map(WriteOutcome::Applied)
    }
    async fn mark_notification_read(
        &self,
        _: &str,
        _: i64,
        _: &str,
    ) -> Result<NotificationOutcome, StoreError> {
        Ok(NotificationOutcome::Marked)
    }
}

fn stored_item() -> HashMap<String, AttributeValue> {
    let item = json!({
        "id": 3, "status": 4, "type": 1, "description": "Replace the ventilation filters",
        "imgSignature": "signatures/3.png", "codePin": 123456, "autoCreated": true, "creationStatus": 1,
        "scheduledStart": "2024-12-01T12:34:56.000Z", "scheduledEnd": "2024-12-05T14:56:23.000Z",
        "actualStart": "2024-12-01T12:34:56.000Z", "actualEnd": "2024-12-01T16:00:00.000Z",
        "providerName": "AirPro", "providerEmail": "team@airpro.example",
        "providerActionComment": "Filters replaced on floors 1-4", "providerGeneralComment": "Floor 5 inaccessible",
        "assignedCompanyContactId": 1, "assignedUserId": 1, "verifiedByUserId": 42,
        "verifiedAt": "2024-12-09T14:23:00.000Z", "decisionComment": "Filters replaced, thank you.",
        "attendeeCount": 25, "routineId": 1, "organizationId": 1, "createdByUserId": 1,
        "updatedAt": "2024-12-09T14:23:00.000Z", "createdAt": "2024-01-15T08:45:00.000Z",
        "verificationHistory": [{"decision": 1, "decisionComment": "Filters replaced, thank you.",
            "userId": 42, "sessionId": "session-42", "at": "2024-12-09T14:23:00.000Z"}]
    });
    serde_dynamo::to_item(item).unwrap_or_else(|e| panic!("{e}"))
}

fn event(alg: Algorithm) -> String {
    let access = tokens::sign(alg, &tokens::access_claims(42, &[1, 2, 3]));
    json!({
        "resource": "/interventions/v2/rs/{interventionId}/verify",
        "path": "/interventions/v2/rs/3/verify",
        "httpMethod": "PATCH",
        "headers": {
            "Authorization": format!("Bearer {access}"),
            "x-session-token": tokens::session(42),
            "content-type": "application/json",
            "Host": "z52mnqg347.execute-api.eu-west-3.amazonaws.com",
            "User-Agent": "Mozilla/5.0",
            "X-Forwarded-For": "203.0.113.10",
        },
        "multiValueHeaders": {},
        "pathParameters": {"interventionId": "3"},
        "requestContext": {
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "httpMethod": "PATCH",
            "resourcePath": "/interventions/v2/rs/{interventionId}/verify",
            "path": "/main/interventions/v2/rs/3/verify",
            "stage": "main",
            "accountId": "123456789012",
            "apiId": "z52mnqg347",
            "identity": {"sourceIp": "203.0.113.10"}
        },
        "body": json!({"decisionComment": "Filters replaced, thank you.", "decision": 1}).to_string(),
        "isBase64Encoded": false
    })
    .to_string()
}

#[divan::bench(args = ["HS256", "RS256", "ES256", "EdDSA"])]
fn request(bencher: Bencher, alg: &str) {
    let alg: Algorithm = alg.parse().unwrap_or_else(|e| panic!("{e}"));
    let settings = AuthSettings {
        access_jwks: Some(tokens::JWKS.to_owned()),
        access_secret: Some(SecretSource::Value(tokens::ACCESS_SECRET.to_owned())),
        session_secret: SecretSource::Value(tokens::SESSION_SECRET.to_owned()),
        access_jwks_url: None,
        issuer: None,
        audience: None,
    };
    let app = App {
        verifier: Verifier::new(&settings).unwrap_or_else(|e| panic!("{e}")),
        store: NoRoundTrip {
            item: std::cell::RefCell::new(None),
        },
        origins: AllowedOrigins::None,
        log_sink: |line| {
            black_box(line);
        },
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let payload = event(alg);
    // Once outside the timing: the request must succeed, or the figure lies.
    let stored = stored_item();
    *app.store.item.borrow_mut() = Some(stored.clone());
    let probe = rt.block_on(handle(
        &app,
        into_request(
            serde_json::from_str::<ApiEvent>(&payload).unwrap_or_else(|e| panic!("{e}")),
            Default::default(),
        ),
    ));
    assert_eq!(probe.status(), 200);
    bencher
        .with_inputs(|| stored.clone())
        .bench_local_values(|item| {
            *app.store.item.borrow_mut() = Some(item);
            let event: ApiEvent =
                serde_json::from_str(black_box(&payload)).unwrap_or_else(|e| panic!("{e}"));
            let is_rest = event.is_rest();
            let resp = rt.block_on(handle(&app, into_request(event, Default::default())));
            serde_json::to_string(&ApiEvent::respond_with(is_rest, resp)).unwrap_or_default()
        });
}

/// The same path, piece by piece, to see where the time goes.
mod pieces {
    use super::*;
    use intervention_verify::domain::{Decision, VerifyCommand, plan_decision};
    use intervention_verify::edge::{request as edge_request, response};
    use intervention_verify::telemetry::{RequestRecord, request_line};

    /// Polls a future that cannot wait (keys in memory) to its end.
    fn ready<T>(f: impl std::future::Future<Output = T>) -> T {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match std::pin::pin!(f).poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("the verifier waited on something"),
        }
    }

    fn verifier() -> Verifier {
        Verifier::new(&AuthSettings {
            access_jwks: Some(tokens::JWKS.to_owned()),
            access_secret: Some(SecretSource::Value(tokens::ACCESS_SECRET.to_owned())),
            session_secret: SecretSource::Value(tokens::SESSION_SECRET.to_owned()),
            access_jwks_url: None,
            issuer: None,
            audience: None,
        })
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[divan::bench]
    fn parse_event(bencher: Bencher) {
        let payload = event(Algorithm::HS256);
        bencher.bench_local(|| {
            let e: ApiEvent =
                serde_json::from_str(black_box(&payload)).unwrap_or_else(|e| panic!("{e}"));
            into_request(e, Default::default())
        });
    }

    #[divan::bench(args = ["HS256", "RS256", "ES256", "EdDSA"])]
    fn authenticate(bencher: Bencher, alg: &str) {
        let alg: Algorithm = alg.parse().unwrap_or_else(|e| panic!("{e}"));
        let v = verifier();
        let access = format!(
            "Bearer {}",
            tokens::sign(alg, &tokens::access_claims(42, &[1, 2, 3]))
        );
        let session = tokens::session(42);
        bencher.bench_local(|| {
            ready(v.authenticate(Some(black_box(access.as_bytes())), Some(session.as_bytes())))
        });
    }

    #[divan::bench]
    fn validate_request(bencher: Bencher) {
        let payload = event(Algorithm::HS256);
        let e: ApiEvent = serde_json::from_str(&payload).unwrap_or_else(|e| panic!("{e}"));
        let req = into_request(e, Default::default());
        bencher.bench_local(|| {
            edge_request::check_content_type(black_box(&req)).ok();
            edge_request::check_size(&req).ok();
            edge_request::parse_command(&req).ok()
        });
    }

    #[divan::bench]
    fn build_update(bencher: Bencher) {
        let caller = ready(verifier().authenticate(
            Some(format!("Bearer {}", tokens::access(42, &[1, 2, 3])).as_bytes()),
            Some(tokens::session(42).as_bytes()),
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        let cmd = VerifyCommand {
            intervention_id: 3,
            decision: Decision::Accept,
            comment: "Filters replaced, thank you.".into(),
            notification_id: None,
        };
        bencher.bench_local(|| {
            decision_expression(&plan_decision(
                &caller,
                black_box(&cmd),
                "2024-12-09T14:23:00.000Z",
            ))
        });
    }

    #[divan::bench]
    fn map_item(bencher: Bencher) {
        let item = stored_item();
        bencher
            .with_inputs(|| item.clone())
            .bench_local_values(read_item);
    }

    #[divan::bench]
    fn respond(bencher: Bencher) {
        let intervention = read_item(stored_item()).unwrap_or_else(|e| panic!("{e}"));
        bencher.bench_local(|| {
            let resp = response::verified(black_box(&intervention));
            serde_json::to_string(&ApiEvent::respond_with(true, resp)).unwrap_or_default()
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
            }))
        });
    }
}
