//! Property-based fuzzing of the request edge: arbitrary methods, path ids,
//! headers, body bytes and base64 flags, as API Gateway events, through the
//! whole handler. Never a panic, never a 5xx, every error a valid
//! problem+json. `FUZZ_CASES` sets the number of cases (default 3000); the
//! README documents a longer run.

use super::helpers::{Event, tokens};
use crate::config::AllowedOrigins;
use crate::handler::{App, handle};
use crate::testing::{self, stores::StubStore};
use lambda_http::Body;
use proptest::prelude::*;
use serde_json::{Value, json};

/// Storage that accepts every decision: what is fuzzed here is the edge.
/// (Decisions against the real engine are in verify_api.rs.)
fn app() -> App<StubStore> {
    testing::app(StubStore::accepting(), AllowedOrigins::Any)
}

fn header_text() -> impl Strategy<Value = String> {
    // What API Gateway can deliver in a header value: visible ASCII and spaces.
    proptest::string::string_regex("[ -~]{0,80}").unwrap_or_else(|e| panic!("{e}"))
}

fn token(kind: u8) -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        3 => Just(Some(if kind == 0 { format!("Bearer {}", tokens::access(5, &[1])) } else { tokens::session(5) })),
        1 => Just(None),
        2 => header_text().prop_map(Some),
        1 => header_text().prop_map(move |t| Some(if kind == 0 { format!("Bearer {t}") } else { t })),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        Just(json!(1)),
        Just(json!(2.0)),
        ".{0,40}".prop_map(Value::String),
        Just(Value::String("x".repeat(2501))),
        Just(Value::String("😀".repeat(1251))),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::hash_map(".{0,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    // Mostly well-formed fields, so the fuzzer also reaches the 200 path.
    let comment = prop_oneof![
        4 => ".{0,60}".prop_map(|s| Some(Value::String(s))),
        1 => prop::option::of(json_value()),
    ];
    let decision = prop_oneof![
        4 => prop_oneof![Just(json!(1)), Just(json!(2)), Just(json!(1.0))].prop_map(Some),
        1 => prop::option::of(json_value()),
    ];
    let notification = prop_oneof![
        2 => Just(None),
        2 => "[a-z0-9-]{0,30}".prop_map(|s| Some(Value::String(s))),
        1 => prop::option::of(json_value()),
    ];
    let object = (comment, decision, notification).prop_map(|(c, d, n)| {
        let mut m = serde_json::Map::new();
        c.map(|v| m.insert("decisionComment".into(), v));
        d.map(|v| m.insert("decision".into(), v));
        n.map(|v| m.insert("notificationId".into(), v));
        Value::Object(m).to_string().into_bytes()
    });
    prop_oneof![
        4 => object,
        1 => json_value().prop_map(|v| v.to_string().into_bytes()),
        2 => prop::collection::vec(any::<u8>(), 0..200),
        1 => Just(vec![b'{'; 70_000]),
    ]
}

fn path_id() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        3 => (-20i64..20).prop_map(|n| Some(n.to_string())),
        1 => any::<i64>().prop_map(|n| Some(n.to_string())),
        2 => ".{0,24}".prop_map(Some),
        1 => Just(None),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    method: &'static str,
    id: Option<String>,
    authorization: Option<String>,
    session: Option<String>,
    content_type: Option<String>,
    body: Vec<u8>,
    base64: bool,
    corrupt_base64: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![12 => Just("PATCH"), 1 => Just("GET"), 1 => Just("POST"), 1 => Just("OPTIONS"), 1 => Just("DELETE")],
        path_id(),
        token(0),
        token(1),
        prop_oneof![
            4 => Just(Some("application/json".to_owned())),
            1 => Just(Some("application/json; charset=utf-8".to_owned())),
            1 => Just(None),
            1 => header_text().prop_map(Some),
        ],
        body(),
        any::<bool>(),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(method, id, authorization, session, content_type, body, base64, corrupt_base64)| Case {
            method,
            id,
            authorization,
            session,
            content_type,
            body,
            base64,
            corrupt_base64,
        })
}

fn event(c: &Case) -> Event {
    let mut e = Event::patch(0)
        .method(c.method)
        .id(c.id.as_deref())
        .request_id("fuzz");
    let headers = [
        ("Authorization", &c.authorization),
        ("x-session-token", &c.session),
        ("Content-Type", &c.content_type),
    ];
    for (name, value) in headers {
        if let Some(v) = value {
            e = e.header(name, v.as_str());
        }
    }
    match (c.base64, c.corrupt_base64) {
        (true, true) => e.corrupt_base64_body(),
        (true, false) => e.base64_body(&c.body),
        (false, _) => e.body(String::from_utf8_lossy(&c.body)),
    }
}

fn check_response(
    app: &App<StubStore>,
    rt: &tokio::runtime::Runtime,
    c: &Case,
) -> Result<u16, TestCaseError> {
    let resp = rt.block_on(handle(app, event(c).request()));
    let status = resp.status().as_u16();
    prop_assert!(status < 500, "server error {status} for {c:?}");
    if status >= 400 {
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok());
        prop_assert_eq!(ct, Some("application/problem+json"));
        let Body::Text(text) = resp.body() else {
            return Err(TestCaseError::fail("problem without a text body"));
        };
        let p: Value =
            serde_json::from_str(text).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
        prop_assert_eq!(&p["type"], "about:blank");
        prop_assert_eq!(p["status"].as_u64(), Some(u64::from(status)));
        prop_assert!(p["title"].as_str().is_some_and(|t| !t.is_empty()));
        prop_assert!(p["detail"].as_str().is_some_and(|t| !t.is_empty()));
        prop_assert!(p["code"].as_str().is_some_and(|t| !t.is_empty()));
        prop_assert_eq!(&p["requestId"], "fuzz");
        if status == 400 {
            let errors = p["errors"].as_array().filter(|e| !e.is_empty());
            prop_assert!(errors.is_some(), "400 without errors: {}", text);
            for e in errors.into_iter().flatten() {
                prop_assert!(e["pointer"].as_str().is_some_and(|s| s.starts_with('#')));
                prop_assert!(e["detail"].as_str().is_some_and(|s| !s.is_empty()));
            }
        }
    } else if c.method == "OPTIONS" {
        // Preflight or plain OPTIONS: answered first, whatever else is wrong.
        prop_assert_eq!(status, 204);
    } else {
        prop_assert_eq!(status, 200);
    }
    Ok(status)
}

#[test]
fn the_edge_never_fails_and_always_explains() {
    let cases = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let app = app();
    let seen = std::cell::RefCell::new(std::collections::BTreeMap::<u16, u32>::new());
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let result = runner.run(&case(), |c| {
        let status = check_response(&app, &rt, &c)?;
        *seen.borrow_mut().entry(status).or_default() += 1;
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let seen = seen.into_inner();
    eprintln!("{cases} fuzz cases by status: {seen:?}");
    // The generator reaches every answer the edge can give.
    for status in [200, 204, 400, 401, 405, 413, 415] {
        assert!(
            seen.contains_key(&status),
            "no case reached {status}: {seen:?}"
        );
    }
}
