//! The sample events in `events/` (what `cargo lambda invoke --data-file`
//! replays against `make dev`) through the whole edge, against the engine
//! seeded from `dev/seed.json` with the secrets of `dev/local.env`.

use super::helpers::engine::{get, put};
use super::helpers::{Harness, tokens};
use crate::auth::SecretSource;
use crate::edge::lambda::{ApiEvent, ResponseFormat, into_request};
use crate::handler::handle;
use crate::testing::auth_settings as test_auth;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;

fn local_env(name: &str) -> String {
    let text = include_str!("../../dev/local.env");
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix('=').map(str::to_owned))
        .unwrap_or_else(|| panic!("{name} not in dev/local.env"))
}

fn read(path: &str) -> Value {
    let text = std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[tokio::test]
async fn each_sample_event_gets_its_documented_answer() {
    let mut auth = test_auth();
    auth.access =
        crate::testing::access_sources(Some(tokens::JWKS), Some(&local_env("ACCESS_TOKEN_SECRET")));
    auth.session_secret =
        SecretSource::Value(crate::testing::secret(&local_env("SESSION_TOKEN_SECRET")));
    let h = Harness::builder().settings(&auth).build().await;
    let seed = read("dev/seed.json");
    for item in seed["interventions"].as_array().into_iter().flatten() {
        put(&h.client, &h.interventions, item.clone()).await;
    }
    for item in seed["notifications"].as_array().into_iter().flatten() {
        put(&h.client, &h.notifications, item.clone()).await;
    }

    let cases = [
        ("events/accept.json", 200, Some(4)),
        ("events/reject.json", 200, Some(5)),
        ("events/bad-body.json", 400, None),
        ("events/missing-token.json", 401, None),
    ];
    for (path, status, new_status) in cases {
        let event: ApiEvent =
            serde_json::from_value(read(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(event.is_rest(), "{path} must be a REST API event");
        let (req, format) = into_request(event, Default::default());
        assert_eq!(format, ResponseFormat::Rest, "{path}");
        let wire = serde_json::to_value(format.respond(handle(&h.app, req).await))
            .expect("the response as JSON");
        assert_eq!(wire["statusCode"], status, "{path}: {wire}");
        let body: Value = wire["body"]
            .as_str()
            .and_then(|b| serde_json::from_str(b).ok())
            .expect("a JSON body");
        match new_status {
            Some(s) => assert_eq!(body["data"]["status"], s, "{path}"),
            None => assert!(
                body["requestId"]
                    .as_str()
                    .is_some_and(|r| r.starts_with("sample-")),
                "{body}"
            ),
        }
        if path.ends_with("bad-body.json") {
            let pointers: Vec<&str> = body["errors"]
                .as_array()
                .map(|a| a.iter().filter_map(|e| e["pointer"].as_str()).collect())
                .expect("a bad body's errors");
            assert_eq!(pointers, ["#/decisionComment", "#/decision"]);
        }
    }
    let note = get(
        &h.client,
        &h.notifications,
        AttributeValue::S("notification-12345".into()),
    )
    .await;
    assert!(
        note["readAt"].is_string(),
        "accept.json marks its notification read: {note}"
    );
}
