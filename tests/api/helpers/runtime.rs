//! The release or debug `bootstrap` binary under the stand-in Runtime API
//! (`scripts/runtime_api.py`), as Lambda would run it.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use super::engine::engine;
use super::tokens;

/// A REST API proxy event, as API Gateway sends it.
pub fn rest_event(id: &str, headers: Value, body: &str, request_id: &str) -> Value {
    json!({
        "resource": "/interventions/v2/rs/{interventionId}/verify",
        "path": format!("/interventions/v2/rs/{id}/verify"),
        "httpMethod": "PATCH",
        "headers": headers,
        "multiValueHeaders": {},
        "pathParameters": {"interventionId": id},
        "requestContext": {
            "requestId": request_id,
            "httpMethod": "PATCH",
            "resourcePath": "/interventions/v2/rs/{interventionId}/verify",
            "path": format!("/main/interventions/v2/rs/{id}/verify"),
            "stage": "main",
            "accountId": "123456789012",
            "apiId": "local"
        },
        "body": body,
        "isBase64Encoded": false
    })
}

pub fn auth_headers(access: &str, session: &str) -> Value {
    json!({
        "Authorization": format!("Bearer {access}"),
        "x-session-token": session,
        "content-type": "application/json"
    })
}

/// The function's environment against the test engine and tables.
pub fn function_env(interventions: &str, notifications: &str) -> Vec<String> {
    vec![
        format!("INTERVENTIONS_TABLE={interventions}"),
        format!("NOTIFICATIONS_TABLE={notifications}"),
        format!("SESSION_TOKEN_SECRET={}", tokens::SESSION_SECRET),
        format!("ACCESS_TOKEN_SECRET={}", tokens::ACCESS_SECRET),
        format!("ACCESS_TOKEN_JWKS={}", tokens::JWKS),
        format!("AWS_ENDPOINT_URL_DYNAMODB={}", engine().endpoint()),
        "AWS_REGION=eu-west-3".into(),
        "AWS_ACCESS_KEY_ID=test".into(),
        "AWS_SECRET_ACCESS_KEY=test".into(),
        "RUST_LOG=info".into(),
    ]
}

/// Runs `binary` over `events` (one invocation each) and returns the
/// harness's report and everything the function wrote to stdout/stderr.
pub fn run(binary: &str, events: &[Value], env: &[String], dir: &Path) -> (Value, String) {
    let events_file = dir.join("events.jsonl");
    let out_file = dir.join("stdout.log");
    let lines: Vec<String> = events.iter().map(Value::to_string).collect();
    std::fs::write(&events_file, lines.join("\n")).unwrap_or_else(|e| panic!("{e}"));
    let python = std::env::var("LOCAL_DYNAMODB_PYTHON")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/.venv/bin/python").to_owned());
    let mut cmd = Command::new(python);
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scripts/runtime_api.py"
    ))
    .args(["--binary", binary])
    .arg("--events")
    .arg(&events_file)
    .arg("--stdout")
    .arg(&out_file);
    for kv in env {
        cmd.args(["--env", kv]);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("runtime_api.py: {e}"));
    assert!(
        out.status.success(),
        "harness failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("report: {e}"));
    let logs = std::fs::read_to_string(&out_file).unwrap_or_default();
    (report, logs)
}
