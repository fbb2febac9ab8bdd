//! The release or debug `bootstrap` binary under the stand-in Runtime API
//! (`scripts/runtime_api.py`), as Lambda would run it.

use std::path::Path;

use serde_json::Value;

use super::engine::engine;
use super::{Event, tokens};

/// A decision event as API Gateway would send it to the binary: both
/// tokens given, `body` as is.
pub(crate) fn rest_event(
    id: &str,
    access: &str,
    session: &str,
    body: &str,
    request_id: &str,
) -> Value {
    Event::patch(id)
        .tokens(access, session)
        .header("content-type", "application/json")
        .body(body)
        .request_id(request_id)
        .to_json()
}

/// The status code of each invocation in a [`run`] report.
pub(crate) fn statuses(report: &Value) -> Vec<i64> {
    report["invocations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["statusCode"].as_i64())
        .collect()
}

/// The function's environment against the test engine and tables.
pub(crate) fn function_env(interventions: &str, notifications: &str) -> Vec<String> {
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

/// Runs `binary` over `events` (one invocation each), pausing the given
/// seconds before the given invocations (1-based: idle gaps), and returns
/// the harness's report and everything the function wrote to stdout/stderr.
pub(crate) fn run(
    binary: &std::path::Path,
    events: &[Value],
    env: &[String],
    pauses: &[(usize, f64)],
    dir: &Path,
) -> (Value, String) {
    let events_file = dir.join("events.jsonl");
    let out_file = dir.join("stdout.log");
    let lines: Vec<String> = events.iter().map(Value::to_string).collect();
    std::fs::write(&events_file, lines.join("\n")).unwrap_or_else(|e| panic!("{e}"));
    let mut args: Vec<std::ffi::OsString> = vec![
        "--binary".into(),
        binary.into(),
        "--events".into(),
        events_file.into(),
        "--stdout".into(),
        out_file.clone().into(),
    ];
    for kv in env {
        args.extend(["--env".into(), kv.into()]);
    }
    for (n, seconds) in pauses {
        args.extend(["--pause-before".into(), format!("{n}={seconds}").into()]);
    }
    let stdout = super::run_script("runtime_api.py", args);
    let report = serde_json::from_slice(&stdout).unwrap_or_else(|e| panic!("report: {e}"));
    // The harness creates the file even when the function writes nothing:
    // missing, it would make every "nothing secret in the logs" pass.
    let logs = std::fs::read_to_string(&out_file)
        .unwrap_or_else(|e| panic!("{}: {e}", out_file.display()));
    (report, logs)
}
