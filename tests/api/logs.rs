//! The real `bootstrap` binary under a stand-in Runtime API, with real tokens
//! and a distinctive comment: its whole output holds no token, no secret and
//! no comment text, and each request left exactly one JSON line with the contract's
//! fields.

use super::helpers::engine::put;
use super::helpers::runtime::{function_env, rest_event, run, statuses};
use super::helpers::{harness, stored, tokens};
use serde_json::{Value, json};

const COMMENT: &str = "ZEBRA-7f3a confidential remark about the provider";

#[tokio::test]
async fn logs_hold_one_line_per_request_and_nothing_secret() {
    let h = harness().await;
    put(&h.client, &h.interventions, stored(1, 3, 4)).await;
    put(&h.client, &h.interventions, stored(2, 2, 4)).await;
    put(
        &h.client,
        &h.notifications,
        json!({"id": "n-1", "userId": 8}),
    )
    .await;

    let access = tokens::access(8, &[4]);
    let session = tokens::session(8);
    let forged = format!("{}x", tokens::access(8, &[4]));
    let body =
        json!({"decisionComment": COMMENT, "decision": 1, "notificationId": "n-1"}).to_string();
    let bad_body = json!({"decisionComment": COMMENT, "decision": 9}).to_string();
    let events = vec![
        rest_event("1", &access, &session, &body, "log-applied"),
        rest_event("1", &access, &session, &body, "log-replayed"),
        rest_event("2", &access, &session, &body, "log-conflict"),
        rest_event("1", &access, &session, &bad_body, "log-invalid"),
        rest_event("1", &forged, &session, &body, "log-forged"),
        rest_event("999", &access, &session, &body, "log-missing"),
    ];
    let dir = std::env::temp_dir().join(format!("verify-logs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let (report, logs) = run(
        &super::helpers::bootstrap(),
        &events,
        &function_env(&h.interventions, &h.notifications),
        &[],
        &dir,
    );
    let statuses = statuses(&report);
    assert_eq!(statuses, [200, 200, 409, 400, 401, 404], "{report}");

    // Nothing secret, anywhere in the output.
    let signature = |t: &str| t.rsplit('.').next().unwrap_or_default().to_owned();
    for (what, needle) in [
        ("access token", access.clone()),
        ("access token signature", signature(&access)),
        ("session token", session.clone()),
        ("session token signature", signature(&session)),
        ("forged token", forged.clone()),
        ("access secret", tokens::ACCESS_SECRET.to_owned()),
        ("session secret", tokens::SESSION_SECRET.to_owned()),
        ("comment", COMMENT.to_owned()),
        ("comment marker", "ZEBRA-7f3a".to_owned()),
    ] {
        assert!(
            !logs.contains(&needle),
            "the {what} reached the log:\n{logs}"
        );
    }

    // Every line is JSON; exactly one request line per request, with the contract's fields.
    let lines: Vec<Value> = logs
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let requests: Vec<&Value> = lines.iter().filter(|l| l["message"] == "request").collect();
    assert_eq!(requests.len(), events.len(), "{logs}");
    let expected = [
        ("log-applied", 1, "applied", 200),
        ("log-replayed", 1, "replayed", 200),
        ("log-conflict", 2, "not_awaiting_verification", 409),
        ("log-invalid", 1, "invalid_request", 400),
        ("log-forged", 1, "invalid_access_token", 401),
        ("log-missing", 999, "intervention_not_found", 404),
    ];
    for (request_id, intervention_id, outcome, status) in expected {
        let matching: Vec<&&Value> = requests
            .iter()
            .filter(|l| l["requestId"] == request_id)
            .collect();
        assert_eq!(matching.len(), 1, "{request_id}");
        let line = matching[0];
        assert_eq!(line["interventionId"], intervention_id, "{line}");
        assert_eq!(line["outcome"], outcome, "{line}");
        assert_eq!(line["status"], status, "{line}");
        assert!(
            line["latencyMs"].as_f64().is_some_and(|ms| ms >= 0.0),
            "{line}"
        );
        assert!(line.get("decision").is_some(), "{line}");
        assert!(line["_aws"]["CloudWatchMetrics"].is_array(), "{line}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The production key paths: the session secret read from the engine's
/// Secrets Manager and the access keys fetched from an issuer, then a forged
/// session token (a re-read) and an unknown kid (a re-fetch). The output
/// holds neither secret value nor token, and the request lines still come.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_of_the_key_refresh_paths_hold_no_secret() {
    use super::helpers::issuer::{Answer, Issuer, jwks};
    use jsonwebtoken::{Algorithm, EncodingKey, Header};

    let h = harness().await;
    put(&h.client, &h.interventions, stored(1, 3, 4)).await;
    let secret = "logs-test-session-secret-value-0123456789";
    let secret_id = format!("logs/session-{}", std::process::id());
    super::helpers::engine::put_secret(&secret_id, secret).await;
    let issuer = Issuer::start(Answer::Keys {
        doc: jwks(&[("rsa-1", "logs-k1")]),
        max_age: 600,
    })
    .await;

    let access_with = |kid: &str| {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        tokens::sign_with(
            &header,
            &tokens::access_claims(8, &[4]),
            &tokens::signing_key(Algorithm::RS256),
        )
    };
    let session_with = |s: &str| {
        tokens::sign_with(
            &Header::new(Algorithm::HS256),
            &tokens::session_claims(8),
            &EncodingKey::from_secret(s.as_bytes()),
        )
    };
    let access = access_with("logs-k1");
    let session = session_with(secret);
    let forged_session = session_with("another-secret-of-enough-length-0123456789");
    let unknown_kid = access_with("logs-unknown");
    let body = json!({"decisionComment": COMMENT, "decision": 1}).to_string();
    let events = vec![
        rest_event("1", &access, &session, &body, "keys-applied"),
        rest_event("1", &access, &forged_session, &body, "keys-forged"),
        rest_event("1", &unknown_kid, &session, &body, "keys-unknown-kid"),
    ];
    let mut env: Vec<String> = function_env(&h.interventions, &h.notifications)
        .into_iter()
        .filter(|kv| {
            ![
                "SESSION_TOKEN_SECRET=",
                "ACCESS_TOKEN_SECRET=",
                "ACCESS_TOKEN_JWKS=",
            ]
            .iter()
            .any(|p| kv.starts_with(p))
        })
        .collect();
    env.push(format!("SESSION_TOKEN_SECRET_ID={secret_id}"));
    env.push(format!(
        "AWS_ENDPOINT_URL_SECRETS_MANAGER={}",
        super::helpers::engine::engine().endpoint()
    ));
    env.push(format!("ACCESS_TOKEN_JWKS_URL={}", issuer.url()));
    let dir = std::env::temp_dir().join(format!("verify-key-logs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let (report, logs) =
        tokio::task::block_in_place(|| run(&super::helpers::bootstrap(), &events, &env, &[], &dir));
    let statuses = statuses(&report);
    assert_eq!(statuses, [200, 401, 401], "{report}\n{logs}");
    assert_eq!(
        issuer.hits(),
        2,
        "start-up fetch and one re-fetch for the unknown kid"
    );
    let signature = |t: &str| t.rsplit('.').next().unwrap_or_default().to_owned();
    for (what, needle) in [
        ("session secret", secret.to_owned()),
        (
            "forged session secret",
            "another-secret-of-enough-length".to_owned(),
        ),
        ("access token signature", signature(&access)),
        ("session token signature", signature(&session)),
        ("comment", COMMENT.to_owned()),
    ] {
        assert!(
            !logs.contains(&needle),
            "the {what} reached the log:\n{logs}"
        );
    }
    let requests = logs
        .lines()
        .filter(|l| l.contains("\"message\":\"request\""))
        .count();
    assert_eq!(requests, 3, "{logs}");
    // Lines logged while a request is served carry its id in the request's
    // span, whoever logs them.
    let in_request: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["message"] == "unauthenticated")
        .collect();
    assert_eq!(in_request.len(), 2, "{logs}");
    // Each carries its reason's stable code, for `stats count(*) by reason_code`.
    let expected = [
        ("keys-forged", "bad_signature"),
        ("keys-unknown-kid", "unknown_kid"),
    ];
    for (line, (request_id, code)) in in_request.iter().zip(expected) {
        assert_eq!(line["span"]["name"], "request", "{line}");
        assert_eq!(line["span"]["requestId"], request_id, "{line}");
        assert_eq!(line["reason_code"], code, "{line}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
