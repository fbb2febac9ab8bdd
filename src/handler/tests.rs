//! Handler tests: a `lambda_http::Request` built directly, the real authenticator,
//! and a recording store standing in only where the request must never reach
//! storage or where a store failure is simulated. Decisions against a real
//! engine are in `tests/`.

use crate::testing::events::Event;
use crate::testing::stores::StubStore;
use crate::testing::{self, tokens};

use std::collections::HashMap;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use lambda_http::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::*;
use crate::domain::{Intervention, Status};
use crate::store::{NotificationOutcome, StoreError, WriteOutcome};

const USER: i64 = 42;
const ISSUER: &str = "https://id.example";
const AUDIENCE: &str = "interventions-api";

fn app_with(store: StubStore, issuer_audience: bool) -> App<StubStore> {
    let mut settings = testing::auth_settings();
    settings.issuer = issuer_audience.then(|| ISSUER.to_owned());
    settings.audiences = if issuer_audience {
        vec![AUDIENCE.to_owned()]
    } else {
        vec![]
    };
    App {
        authenticator: testing::authenticator(&settings),
        ..testing::app(
            store,
            AllowedOrigins::List(vec!["https://app.example".into()]),
        )
    }
}

fn app(store: StubStore) -> App<StubStore> {
    app_with(store, false)
}

/// A valid decision on intervention 17 by the test user.
fn valid() -> Event {
    Event::decision(17, USER, &[1, 2], 1, "All good")
}

async fn call(app: &App<StubStore>, event: Event) -> (StatusCode, HashMap<String, String>, Value) {
    let resp = handle(app, event.request()).await;
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                v.to_str().expect("a header value as text").to_owned(),
            )
        })
        .collect();
    let body = match resp.body() {
        Body::Text(t) => serde_json::from_str(t).expect("a JSON body"),
        Body::Empty => Value::Null,
        other => panic!("a body that is not text: {other:?}"),
    };
    (resp.status(), headers, body)
}

fn assert_headers(headers: &HashMap<String, String>, expected: &[(&str, &str)]) {
    for (name, value) in expected {
        assert_eq!(
            headers.get(*name).map(String::as_str),
            Some(*value),
            "{name}"
        );
    }
}

fn record(status: i64) -> Intervention {
    testing::record(17, status, 2)
}

/// A problem+json body with `status` and `code`, and the request id.
fn assert_problem(status: StatusCode, headers: &HashMap<String, String>, body: &Value, code: &str) {
    assert_eq!(
        headers.get("content-type").map(String::as_str),
        Some("application/problem+json")
    );
    assert_eq!(body["type"], "about:blank");
    assert_eq!(body["status"], status.as_u16());
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["requestId"], "req-123");
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(body["detail"].as_str().is_some_and(|t| !t.is_empty()));
}

#[tokio::test]
async fn accept_applies_and_answers_the_record() {
    let mut applied = record(4);
    applied.verified_by_user_id = Some(USER);
    let app = app(StubStore::answering(Ok(WriteOutcome::Applied(applied))));
    let (status, headers, body) = call(&app, valid()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers.get("content-type").map(String::as_str),
        Some("application/json")
    );
    assert_eq!(body["data"]["status"], 4);
    assert_eq!(body["data"]["verifiedByUserId"], USER);
    assert_eq!(body["data"].as_object().map(|o| o.len()), Some(28));
    let writes = app.store.writes.borrow();
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].intervention_id.get(), 17);
    assert_eq!(writes[0].new_status, Status::Validated);
    assert_eq!(writes[0].organization_ids, vec![1, 2]);
    assert_eq!(writes[0].entry.user_id, USER);
    assert_eq!(writes[0].entry.session_id, format!("session-{USER}"));
    assert_eq!(writes[0].entry.decision_comment, "All good");
    assert!(app.store.notifications.borrow().is_empty());
}

#[tokio::test]
async fn every_token_algorithm_reaches_the_store() {
    for alg in [
        Algorithm::RS256,
        Algorithm::ES256,
        Algorithm::EdDSA,
        Algorithm::HS256,
    ] {
        let app = app(StubStore::answering(Ok(WriteOutcome::Applied(record(4)))));
        let token = tokens::sign(alg, &tokens::access_claims(USER, &[2]));
        let (status, _, _) = call(&app, valid().access(&token)).await;
        assert_eq!(status, StatusCode::OK, "{alg:?}");
        assert_eq!(app.store.writes.borrow().len(), 1);
    }
}

#[tokio::test]
async fn replay_and_refusals_are_judged_from_the_old_image() {
    let mut replay = record(4);
    replay.verified_by_user_id = Some(USER);
    replay.decision_comment = Some("All good".into());
    let mut archived = record(3);
    archived.archived_at = Some("2024-01-01T00:00:00.000Z".into());
    let mut foreign = record(3);
    foreign.organization_id = Some(99);
    let cases = [
        (Some(replay), StatusCode::OK, None),
        (Some(archived), StatusCode::CONFLICT, Some("archived")),
        (
            Some(record(5)),
            StatusCode::CONFLICT,
            Some("already_verified"),
        ),
        (
            Some(record(2)),
            StatusCode::CONFLICT,
            Some("not_awaiting_verification"),
        ),
        (
            Some(foreign),
            StatusCode::NOT_FOUND,
            Some("intervention_not_found"),
        ),
        (None, StatusCode::NOT_FOUND, Some("intervention_not_found")),
    ];
    for (old, expected, code) in cases {
        let app = app(StubStore::answering(Ok(WriteOutcome::ConditionFailed(old))));
        let (status, headers, body) = call(&app, valid()).await;
        assert_eq!(status, expected);
        match code {
            Some(code) => assert_problem(status, &headers, &body, code),
            None => assert_eq!(body["data"]["status"], 4),
        }
    }
}

#[tokio::test]
async fn conflict_detail_gives_the_current_status() {
    let app = app(StubStore::answering(Ok(WriteOutcome::ConditionFailed(
        Some(record(6)),
    ))));
    let (_, _, body) = call(&app, valid()).await;
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("status 6")),
        "{body}"
    );
}

#[tokio::test]
async fn notification_is_marked_for_the_caller_and_never_fails_the_decision() {
    let answers = [
        Ok(NotificationOutcome::Marked),
        Ok(NotificationOutcome::Foreign),
        Ok(NotificationOutcome::Missing),
        Err(StoreError::Unavailable("down".into())),
    ];
    for answer in answers {
        let store = StubStore::answering(Ok(WriteOutcome::Applied(record(4))));
        store.notification_answer(answer);
        let app = app(store);
        let req = valid().body(r#"{"decisionComment":"x","decision":1,"notificationId":"n-9"}"#);
        let (status, _, _) = call(&app, req).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            *app.store.notifications.borrow(),
            vec![("n-9".to_owned(), USER)]
        );
    }
    // Not after a refusal.
    let app = app(StubStore::answering(Ok(WriteOutcome::ConditionFailed(
        Some(record(2)),
    ))));
    let req = valid().body(r#"{"decisionComment":"x","decision":1,"notificationId":"n-9"}"#);
    assert_eq!(call(&app, req).await.0, StatusCode::CONFLICT);
    assert!(app.store.notifications.borrow().is_empty());
}

#[tokio::test]
async fn store_failures_are_503_with_retry_after_or_opaque_500() {
    let app1 = app(StubStore::answering(Err(StoreError::Unavailable(
        "throttled".into(),
    ))));
    let (status, headers, body) = call(&app1, valid()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_problem(status, &headers, &body, "service_unavailable");
    assert_eq!(headers.get("retry-after").map(String::as_str), Some("1"));

    let secret = "table interventions-prod: ValidationException at line 3";
    let app2 = app(StubStore::answering(Err(StoreError::Internal(
        secret.into(),
    ))));
    let (status, headers, body) = call(&app2, valid()).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_problem(status, &headers, &body, "internal_error");
    assert!(!body.to_string().contains("interventions-prod"));
}

#[tokio::test]
async fn other_methods_get_405_with_allow() {
    for method in [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::HEAD,
    ] {
        let app = app(StubStore::untouchable());
        let mut req = valid();
        req.method = method.as_str().into();
        let (status, headers, body) = call(&app, req).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(
            headers.get("allow").map(String::as_str),
            Some("OPTIONS, PATCH")
        );
        assert_problem(status, &headers, &body, "method_not_allowed");
        assert!(app.store.untouched());
    }
}

#[tokio::test]
async fn checks_run_in_spec_order() {
    // Everything wrong at once: the method answers first, then tokens, and so on.
    let all_wrong = || {
        let mut r = valid()
            .without("authorization")
            .header("content-type", "text/plain")
            .body("x".repeat(70_000));
        r.id = Some("abc".into());
        r
    };
    let scopeless = tokens::sign(Algorithm::HS256, &{
        let mut c = tokens::access_claims(USER, &[1]);
        c["scope"] = json!("interventions:read");
        c
    });
    let mut steps: Vec<(Event, StatusCode)> = Vec::new();
    let mut r = all_wrong();
    r.method = "GET".into();
    steps.push((r, StatusCode::METHOD_NOT_ALLOWED));
    steps.push((all_wrong(), StatusCode::UNAUTHORIZED));
    steps.push((all_wrong().access(&scopeless), StatusCode::FORBIDDEN));
    let full = format!("Bearer {}", tokens::access(USER, &[1]));
    steps.push((
        all_wrong().header("authorization", full.clone()),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    ));
    steps.push((
        all_wrong()
            .header("authorization", full.clone())
            .header("content-type", "application/json"),
        StatusCode::PAYLOAD_TOO_LARGE,
    ));
    steps.push((
        all_wrong()
            .header("authorization", full)
            .header("content-type", "application/json")
            .body("{}"),
        StatusCode::BAD_REQUEST,
    ));
    for (req, expected) in steps {
        let app = app(StubStore::untouchable());
        assert_eq!(call(&app, req).await.0, expected);
        assert!(app.store.untouched());
    }
}

#[tokio::test]
async fn validation_errors_name_every_field() {
    let app = app(StubStore::untouchable());
    let mut req = valid().body(r#"{"decisionComment": 3, "decision": 7, "notificationId": []}"#);
    req.id = Some("9007199254740992".into());
    let (status, headers, body) = call(&app, req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_problem(status, &headers, &body, "invalid_request");
    let pointers: Vec<&str> = body["errors"]
        .as_array()
        .expect("the problem's errors")
        .iter()
        .map(|e| e["pointer"].as_str().expect("each error's pointer"))
        .collect();
    assert_eq!(
        pointers,
        [
            "#/interventionId",
            "#/decisionComment",
            "#/decision",
            "#/notificationId"
        ]
    );
    assert!(
        body["errors"][0]["detail"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    assert!(app.store.untouched());
}

#[tokio::test]
async fn content_type_parameters_are_allowed_other_types_are_415() {
    for (ct, ok) in [
        ("application/json", true),
        ("application/json; charset=utf-8", true),
        ("Application/JSON;charset=UTF-8", true),
        ("text/plain", false),
        ("application/jsonx", false),
        ("application/x-www-form-urlencoded", false),
    ] {
        let app = app(StubStore::answering(Ok(WriteOutcome::Applied(record(4)))));
        let (status, _, _) = call(&app, valid().header("content-type", ct)).await;
        let expected = if ok {
            StatusCode::OK
        } else {
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        };
        assert_eq!(status, expected, "{ct}");
    }
    let app = app(StubStore::untouchable());
    assert_eq!(
        call(&app, valid().without("content-type")).await.0,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
}

#[tokio::test]
async fn body_limit_is_64_kib() {
    let padded = |n: usize| {
        let base = r#"{"decisionComment":"x","decision":1,"pad":""}"#;
        let pad = "p".repeat(n - base.len());
        format!(r#"{{"decisionComment":"x","decision":1,"pad":"{pad}"}}"#)
    };
    let app1 = app(StubStore::answering(Ok(WriteOutcome::Applied(record(4)))));
    assert_eq!(
        call(&app1, valid().body(padded(65_536))).await.0,
        StatusCode::OK
    );
    let app2 = app(StubStore::untouchable());
    let (status, headers, body) = call(&app2, valid().body(padded(65_537))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_problem(status, &headers, &body, "payload_too_large");
}

#[tokio::test]
async fn base64_bodies_are_decoded_and_bad_base64_is_a_400() {
    let plain = r#"{"decisionComment":"x","decision":2}"#;
    let app1 = app(StubStore::answering(Ok(WriteOutcome::Applied(record(5)))));
    let (status, _, _) = call(&app1, valid().base64_body(plain.as_bytes())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app1.store.writes.borrow()[0].new_status, Status::Refused);

    let app2 = app(StubStore::untouchable());
    let (status, _, body) = call(&app2, valid().corrupt_base64_body()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["pointer"], "#");
    assert!(app2.store.untouched());
}

#[tokio::test]
async fn path_id_falls_back_to_the_raw_path() {
    let app = app(StubStore::answering(Ok(WriteOutcome::Applied(record(4)))));
    let built = valid()
        .id(None)
        .request()
        .with_raw_http_path("/interventions/v2/rs/31/verify");
    let resp = handle(&app, built).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(app.store.writes.borrow()[0].intervention_id.get(), 31);
}

/// A preflight is answered before every other check: with no token, a bad
/// body and a bad id it still answers 204, and storage is never touched.
#[tokio::test]
async fn preflight_comes_first_and_touches_nothing() {
    let app = app(StubStore::untouchable());
    let mut r = valid()
        .without("authorization")
        .without("x-session-token")
        .header("content-type", "text/plain")
        .header("origin", "https://app.example")
        .header("access-control-request-method", "PATCH")
        .header(
            "access-control-request-headers",
            "Authorization, Content-Type, X-Session-Token",
        )
        .body("x".repeat(70_000));
    r.id = Some("abc".into());
    r.method = "OPTIONS".into();
    let (status, headers, body) = call(&app, r).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(body, Value::Null);
    assert_headers(
        &headers,
        &[
            ("access-control-allow-origin", "https://app.example"),
            ("access-control-allow-methods", "PATCH"),
            ("access-control-max-age", "7200"),
        ],
    );
    assert!(app.store.untouched());

    // A disallowed origin: still 204, but nothing a browser would accept.
    let mut r = valid()
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "PATCH");
    r.method = "OPTIONS".into();
    let (status, headers, _) = call(&app, r).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(
        !headers
            .keys()
            .any(|k| k.starts_with("access-control-allow-"))
    );

    // No Access-Control-Request-Method: a plain OPTIONS.
    let mut r = valid().without("authorization");
    r.method = "OPTIONS".into();
    let (status, headers, _) = call(&app, r).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        headers.get("allow").map(String::as_str),
        Some("OPTIONS, PATCH")
    );
    assert!(app.store.untouched());
}

/// Answers are readable from an allowed origin, errors included: the
/// origin is echoed and the headers a client acts on are exposed. Other
/// origins get nothing.
#[tokio::test]
async fn cors_headers_go_to_allowed_origins_only() {
    let applied = app(StubStore::answering(Ok(WriteOutcome::Applied(record(4)))));
    let refused = app(StubStore::untouchable());
    for (app, event, status) in [
        (&applied, valid(), StatusCode::OK),
        (
            &refused,
            valid().without("authorization"),
            StatusCode::UNAUTHORIZED,
        ),
    ] {
        let (got, headers, _) = call(app, event.header("origin", "https://app.example")).await;
        assert_eq!(got, status);
        assert_headers(
            &headers,
            &[
                ("access-control-allow-origin", "https://app.example"),
                (
                    "access-control-expose-headers",
                    "Retry-After, WWW-Authenticate",
                ),
                ("vary", "Origin"),
            ],
        );
    }
    let (_, headers, _) = call(
        &refused,
        valid()
            .without("authorization")
            .header("origin", "https://evil.example"),
    )
    .await;
    assert!(headers.contains_key("www-authenticate"));
    assert!(!headers.contains_key("access-control-allow-origin"));
    assert!(!headers.contains_key("access-control-expose-headers"));
}

// --- The attack catalogue: every forged or misused token gets 401 and writes nothing.

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn attacks() -> Vec<(&'static str, String, String)> {
    let claims = tokens::access_claims(USER, &[2]);
    let claims_with = |k: &str, v: Value| {
        let mut c = claims.clone();
        c[k] = v;
        let mut c2 = c.clone();
        c2["iss"] = json!(ISSUER);
        c2["aud"] = json!(AUDIENCE);
        if k == "iss" || k == "aud" {
            c2[k] = c[k].clone();
        }
        c2
    };
    let good = |c: &Value| tokens::sign(Algorithm::RS256, c);
    let full = claims_with("scope", json!(tokens::SCOPE));
    let session = tokens::session(USER);

    let none = format!(
        "{}.{}.",
        b64url(br#"{"alg":"none","typ":"JWT"}"#),
        b64url(full.to_string().as_bytes())
    );
    let confusion = |kid: Option<&str>| {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = kid.map(str::to_owned);
        tokens::sign_with(
            &h,
            &full,
            &EncodingKey::from_secret(tokens::RSA_PUBLIC_PEM.as_bytes()),
        )
    };
    let unknown_kid = {
        let mut h = Header::new(Algorithm::RS256);
        h.kid = Some("rsa-9".into());
        tokens::sign_with(&h, &full, &tokens::signing_key(Algorithm::RS256))
    };
    let alg_mismatch = {
        // Header says ES256 and is signed with the EC key, but names the RSA key.
        let mut h = Header::new(Algorithm::ES256);
        h.kid = Some("rsa-1".into());
        tokens::sign_with(&h, &full, &tokens::signing_key(Algorithm::ES256))
    };
    let tampered = {
        let t = good(&full);
        let parts: Vec<&str> = t.split('.').collect();
        let forged = b64url(
            claims_with("organizationIds", json!([1, 2, 3, 99]))
                .to_string()
                .as_bytes(),
        );
        format!("{}.{}.{}", parts[0], forged, parts[2])
    };
    let mut huge_claims = full.clone();
    huge_claims["pad"] = json!("x".repeat(1 << 20));
    let five_part = format!(
        "{}.{}.{}.{}.{}",
        b64url(br#"{"alg":"RSA-OAEP","enc":"A256GCM","kid":"rsa-1"}"#),
        b64url(b"key"),
        b64url(b"iv"),
        b64url(b"ciphertext"),
        b64url(b"tag")
    );

    vec![
        ("alg none", none, session.clone()),
        (
            "HS256 with the RSA public key as secret, kid set",
            confusion(Some("rsa-1")),
            session.clone(),
        ),
        (
            "HS256 with the RSA public key as secret, no kid",
            confusion(None),
            session.clone(),
        ),
        ("unknown kid", unknown_kid, session.clone()),
        (
            "JWK alg disagrees with header",
            alg_mismatch,
            session.clone(),
        ),
        ("tampered payload", tampered, session.clone()),
        (
            "expired",
            good(&claims_with("exp", json!(tokens::now() - 3600))),
            session.clone(),
        ),
        (
            "nbf beyond leeway",
            good(&claims_with("nbf", json!(tokens::now() + 600))),
            session.clone(),
        ),
        (
            "wrong iss",
            good(&claims_with("iss", json!("https://evil.example"))),
            session.clone(),
        ),
        (
            "wrong aud",
            good(&claims_with("aud", json!("other-api"))),
            session.clone(),
        ),
        (
            "missing aud",
            good(&{
                let mut c = full.clone();
                c.as_object_mut().map(|m| m.remove("aud"));
                c
            }),
            session.clone(),
        ),
        (
            "session token as access token",
            session.clone(),
            session.clone(),
        ),
        ("access token as session token", good(&full), good(&full)),
        (
            "session token of another user",
            good(&full),
            tokens::session(USER + 1),
        ),
        ("1 MB token", good(&huge_claims), session.clone()),
        ("non-base64 segments", "@@@.!!!.###".into(), session.clone()),
        ("JWE-style five parts", five_part, session.clone()),
    ]
}

#[tokio::test]
async fn token_attacks_get_401_and_write_nothing() {
    // Sanity: the untampered token with the same settings is accepted.
    let app0 = app_with(
        StubStore::answering(Ok(WriteOutcome::Applied(record(4)))),
        true,
    );
    let mut ok = tokens::access_claims(USER, &[2]);
    ok["iss"] = json!(ISSUER);
    ok["aud"] = json!(AUDIENCE);
    assert_eq!(
        call(&app0, valid().access(&tokens::sign(Algorithm::RS256, &ok)))
            .await
            .0,
        StatusCode::OK
    );

    let list = attacks();
    assert_eq!(list.len(), 17);
    for (name, access, session) in list {
        let app = app_with(StubStore::untouchable(), true);
        let req = valid().access(&access).header("x-session-token", session);
        let (status, headers, body) = call(&app, req).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}");
        assert_eq!(
            headers.get("www-authenticate").map(String::as_str),
            Some("Bearer error=\"invalid_token\""),
            "{name}"
        );
        assert!(
            body["code"]
                .as_str()
                .is_some_and(|c| c.starts_with("invalid_") || c == "session_user_mismatch"),
            "{name}: {body}"
        );
        assert!(app.store.untouched(), "{name} reached the store");
    }
}

#[tokio::test]
async fn missing_tokens_get_a_bare_bearer_challenge() {
    for (drop, code) in [
        ("authorization", "missing_access_token"),
        ("x-session-token", "missing_session_token"),
    ] {
        let app = app(StubStore::untouchable());
        let (status, headers, body) = call(&app, valid().without(drop)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            headers.get("www-authenticate").map(String::as_str),
            Some("Bearer")
        );
        assert_problem(status, &headers, &body, code);
    }
}

#[tokio::test]
async fn missing_scope_is_403() {
    let app = app(StubStore::untouchable());
    let mut c = tokens::access_claims(USER, &[1]);
    if let Some(m) = c.as_object_mut() {
        m.remove("scope");
    }
    let (status, headers, body) =
        call(&app, valid().access(&tokens::sign(Algorithm::HS256, &c))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_problem(status, &headers, &body, "insufficient_scope");
    assert!(app.store.untouched());
}

/// The SDK's call futures (kilobytes) are boxed where they are made, so the
/// request's future stays small: every layer above moves it by value, and a
/// large one costs a `memcpy` of its size at each move (docs/PERFORMANCE.md).
#[test]
fn a_request_future_does_not_carry_the_sdk_calls() {
    let sdk = testing::sdk_config();
    let client = crate::aws::dynamodb_client(&sdk, None, Default::default());
    let store = crate::store::DynamoStore::new(client.clone(), "i".into(), "n".into());
    let app = testing::app(store, AllowedOrigins::List(vec![]));
    let request = std::mem::size_of_val(&handle(&app, valid().request()));
    let call = std::mem::size_of_val(&client.update_item().send());
    // Unboxed, the request's future held the call and the key fetches: 23.7
    // KB in a test build, the call alone 6.4 KB; boxed, 4.4 KB.
    assert!(
        request < call,
        "the request's future is {request} bytes, the SDK call's {call}"
    );
    // Token checks: a key source's fetch (Secrets Manager, the issuer) runs
    // rarely, yet an unboxed one sits in every request's future.
    let check = std::mem::size_of_val(&app.authenticator.authenticate(None, None));
    let fetch = std::mem::size_of_val(
        &crate::aws::secrets_client(&sdk, None)
            .get_secret_value()
            .send(),
    );
    assert!(
        check < fetch / 2,
        "the token check's future is {check} bytes, a secret fetch's {fetch}"
    );
}
