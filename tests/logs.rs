//! The real `bootstrap` binary under a stand-in Runtime API, with real tokens
//! and a distinctive comment: its whole output holds no token, no secret and
//! no comment text, and each request left exactly one JSON line with SPEC's
//! fields.

mod common;

use common::engine::put;
use common::lambda::{auth_headers, function_env, rest_event, run};
use common::{harness, intervention, tokens};
use serde_json::{Value, json};

const COMMENT: &str = "ZEBRA-7f3a confidential remark about the provider";

#[tokio::test]
async fn logs_hold_one_line_per_request_and_nothing_secret() {
    let h = harness().await;
    put(&h.client, &h.interventions, intervention(1, 3, 4)).await;
    put(&h.client, &h.interventions, intervention(2, 2, 4)).await;
    put(
        &h.client,
        &h.notifications,
        json!({"id": "n-1", "userId": 8}),
    )
    .await;

    let access = tokens::access(8, &[4]);
    let session = tokens::session(8);
    let forged = format!("{}x", tokens::access(8, &[4]));
    let good = auth_headers(&access, &session);
    let body =
        json!({"decisionComment": COMMENT, "decision": 1, "notificationId": "n-1"}).to_string();
    let bad_body = json!({"decisionComment": COMMENT, "decision": 9}).to_string();
    let events = vec![
        rest_event("1", good.clone(), &body, "log-applied"),
        rest_event("1", good.clone(), &body, "log-replayed"),
        rest_event("2", good.clone(), &body, "log-conflict"),
        rest_event("1", good.clone(), &bad_body, "log-invalid"),
        rest_event("1", auth_headers(&forged, &session), &body, "log-forged"),
        rest_event("999", good.clone(), &body, "log-missing"),
    ];
    let dir = std::env::temp_dir().join(format!("verify-logs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let (report, logs) = run(
        env!("CARGO_BIN_EXE_bootstrap"),
        &events,
        &function_env(&h.interventions, &h.notifications),
        &dir,
    );
    let statuses: Vec<i64> = report["invocations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["statusCode"].as_i64())
        .collect();
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

    // Every line is JSON; exactly one request line per request, with SPEC's fields.
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
