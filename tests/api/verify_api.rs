//! The function against the real local engine: every status of docs/CONTRACT.md,
//! replay, races, notification ownership, the exact response shape, and that
//! a refused request leaves the table as it was.

use super::helpers::engine::{get, put};
use super::helpers::{Harness, call, decision, harness, send, send_raw, stored};
use crate::testing::REFERENCE_FIELDS;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};

const ORG: i64 = 7;
const USER: i64 = 501;

async fn seeded(items: &[Value]) -> Harness {
    let h = harness().await;
    for item in items {
        put(&h.client, &h.interventions, item.clone()).await;
    }
    h
}

fn is_iso_millis(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 24 && s.ends_with('Z') && s.as_bytes()[10] == b'T' && s.as_bytes()[19] == b'.'
    })
}

#[tokio::test]
async fn accept_moves_3_to_4_and_answers_the_exact_shape() {
    let seed = stored(1, 3, ORG);
    let h = seeded(std::slice::from_ref(&seed)).await;
    let (status, text) = send_raw(&h.app, &call(1, USER, &[ORG], decision(1, "Looks right"))).await;
    assert_eq!(status, 200, "{text}");
    let body: Value = serde_json::from_str(&text).expect("a JSON body");
    let data = body["data"].as_object().cloned().expect("data, an object");
    assert_eq!(data.len(), 28);
    let position = |k: &str| text.find(&format!("\"{k}\":")).unwrap_or(usize::MAX);
    let mut keys: Vec<&str> = data.keys().map(String::as_str).collect();
    keys.sort_by_key(|k| position(k));
    assert_eq!(
        keys, REFERENCE_FIELDS,
        "the reference's 28 fields in its order"
    );
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "only `data`");
    // What the decision sets.
    assert_eq!(data["status"], 4);
    assert_eq!(data["verifiedByUserId"], USER);
    assert_eq!(data["decisionComment"], "Looks right");
    assert!(is_iso_millis(&data["verifiedAt"]), "{}", data["verifiedAt"]);
    assert_eq!(data["updatedAt"], data["verifiedAt"]);
    assert_eq!(data["archivedAt"], Value::Null);
    // Everything else exactly as stored.
    for (k, v) in seed.as_object().into_iter().flatten() {
        if !["status", "updatedAt"].contains(&k.as_str()) {
            assert_eq!(&data[k], v, "{k}");
        }
    }
    // The stored record agrees and carries one history entry.
    let stored = h.intervention(1).await;
    assert_eq!(stored["status"], 4);
    assert_eq!(stored["verifiedAt"], data["verifiedAt"]);
    assert_eq!(
        stored["verificationHistory"],
        json!([{
            "decision": 1,
            "decisionComment": "Looks right",
            "userId": USER,
            "sessionId": format!("session-{USER}"),
            "at": data["verifiedAt"],
        }])
    );
}

#[tokio::test]
async fn reject_moves_3_to_5_and_appends_to_existing_history() {
    let mut seed = stored(2, 3, ORG);
    seed["verificationHistory"] = json!([{"decision": 1, "decisionComment": "old", "userId": 1, "sessionId": "s", "at": "2024-01-01T00:00:00.000Z"}]);
    let h = seeded(&[seed]).await;
    let (status, body) = send(&h.app, &call(2, USER, &[ORG], decision(2, "Not done"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["status"], 5);
    let stored = h.intervention(2).await;
    let history = stored["verificationHistory"]
        .as_array()
        .expect("the stored record's verificationHistory");
    assert_eq!(history.len(), 2);
    assert_eq!(history[1]["decision"], 2);
    assert_eq!(history[1]["decisionComment"], "Not done");
}

#[tokio::test]
async fn refusals_answer_409_with_a_reason_and_write_nothing() {
    let mut archived = stored(16, 3, ORG);
    archived["archivedAt"] = json!("2024-12-09T14:23:00.000Z");
    let mut archived_verified = stored(17, 4, ORG);
    archived_verified["archivedAt"] = json!("2024-12-09T14:23:00.000Z");
    archived_verified["verifiedByUserId"] = json!(USER);
    archived_verified["decisionComment"] = json!("same");
    let mut verified = stored(14, 4, ORG);
    verified["verifiedByUserId"] = json!(USER + 1);
    verified["decisionComment"] = json!("same");
    let items = vec![
        stored(11, 1, ORG),
        stored(12, 2, ORG),
        stored(13, 6, ORG),
        verified,
        stored(15, 5, ORG),
        archived,
        archived_verified,
    ];
    let h = seeded(&items).await;
    let cases = [
        (11, "not_awaiting_verification", "status 1"),
        (12, "not_awaiting_verification", "status 2"),
        (13, "not_awaiting_verification", "status 6"),
        (14, "already_verified", "status 4"),
        (15, "already_verified", "status 5"),
        (16, "archived", "status 3"),
        // Archived is checked first and never replayed.
        (17, "archived", "status 4"),
    ];
    for (id, code, detail) in cases {
        let before = h.intervention(id).await;
        let (status, body) = send(&h.app, &call(id, USER, &[ORG], decision(1, "same"))).await;
        assert_eq!(status, 409, "{id}: {body}");
        assert_eq!(body["code"], code, "{id}");
        assert!(
            body["detail"].as_str().is_some_and(|d| d.contains(detail)),
            "{id}: {body}"
        );
        assert_eq!(h.intervention(id).await, before, "{id} changed");
    }
}

#[tokio::test]
async fn other_organisation_is_indistinguishable_from_a_missing_id() {
    let h = seeded(&[stored(21, 3, ORG)]).await;
    let before = h.intervention(21).await;
    let mut foreign = call(21, USER, &[ORG + 1], decision(1, "x"));
    let mut missing = call(22, USER, &[ORG + 1], decision(1, "x"));
    let mut orgless = call(21, USER, &[], decision(1, "x"));
    for c in [&mut foreign, &mut missing, &mut orgless] {
        c.request_id = "same".into();
    }
    let (s1, b1) = send(&h.app, &foreign).await;
    let (s2, mut b2) = send(&h.app, &missing).await;
    let (s3, b3) = send(&h.app, &orgless).await;
    assert_eq!((s1, s2, s3), (404, 404, 404));
    assert_eq!(b1["code"], "intervention_not_found");
    // The path id is the only difference between the two requests.
    b2["detail"] = b1["detail"].clone();
    assert_eq!(b1, b2);
    assert_eq!(b1, b3);
    assert_eq!(h.intervention(21).await, before);
}

#[tokio::test]
async fn exact_replay_is_200_and_writes_nothing_else_is_409() {
    let h = seeded(&[stored(31, 3, ORG)]).await;
    let event = call(31, USER, &[ORG], decision(2, "Pump still leaks"));
    let (status, first) = send(&h.app, &event).await;
    assert_eq!(status, 200);
    let after_first = h.intervention(31).await;

    let (status, replay) = send(&h.app, &event).await;
    assert_eq!(status, 200, "{replay}");
    assert_eq!(replay, first, "the stored record, unchanged");
    assert_eq!(
        h.intervention(31).await,
        after_first,
        "a replay writes nothing"
    );

    for other in [
        call(31, USER, &[ORG], decision(1, "Pump still leaks")),
        call(31, USER, &[ORG], decision(2, "Pump still leaks!")),
        call(31, USER + 1, &[ORG], decision(2, "Pump still leaks")),
    ] {
        let (status, body) = send(&h.app, &other).await;
        assert_eq!(status, 409);
        assert_eq!(body["code"], "already_verified");
    }
    assert_eq!(h.intervention(31).await, after_first);
}

#[tokio::test]
async fn invalid_requests_leave_the_table_untouched() {
    let h = seeded(&[stored(41, 3, ORG)]).await;
    let before = h.intervention(41).await;
    let bad_body = call(41, USER, &[ORG], json!({"decision": 3}));
    let (status, body) = send(&h.app, &bad_body).await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["pointer"], "#/decisionComment");
    let no_session = call(41, USER, &[ORG], decision(1, "x")).without("x-session-token");
    let (status, _) = send(&h.app, &no_session).await;
    assert_eq!(status, 401);
    assert_eq!(h.intervention(41).await, before);
}

#[tokio::test]
async fn sixteen_concurrent_decisions_apply_exactly_once() {
    let h = std::sync::Arc::new(seeded(&[stored(51, 3, ORG)]).await);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..16_i64 {
        let h = h.clone();
        tasks.spawn(async move {
            let event = call(
                51,
                1000 + i,
                &[ORG],
                decision(1 + i % 2, &format!("from {i}")),
            );
            send(&h.app, &event).await
        });
    }
    let mut statuses = Vec::new();
    while let Some(r) = tasks.join_next().await {
        statuses.push(r.unwrap_or_else(|e| panic!("{e}")).0);
    }
    statuses.sort_unstable();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        15,
        "{statuses:?}"
    );
    let stored = h.intervention(51).await;
    assert_eq!(
        stored["verificationHistory"].as_array().map(Vec::len),
        Some(1)
    );
    let winner = &stored["verificationHistory"][0];
    assert_eq!(stored["verifiedByUserId"], winner["userId"]);
    assert_eq!(stored["decisionComment"], winner["decisionComment"]);
    assert_eq!(
        stored["status"].as_i64(),
        winner["decision"].as_i64().map(|d| d + 3)
    );
}

#[tokio::test]
async fn notification_is_marked_read_only_for_its_recipient() {
    let h = seeded(&[stored(61, 3, ORG), stored(62, 3, ORG), stored(63, 3, ORG)]).await;
    put(
        &h.client,
        &h.notifications,
        json!({"id": "n-mine", "userId": USER}),
    )
    .await;
    put(
        &h.client,
        &h.notifications,
        json!({"id": "n-other", "userId": USER + 1}),
    )
    .await;
    put(
        &h.client,
        &h.notifications,
        json!({"id": "n-read", "userId": USER, "readAt": "2024-01-01T00:00:00.000Z"}),
    )
    .await;
    let note = |id: &str| {
        get(
            &h.client,
            &h.notifications,
            AttributeValue::S(id.to_owned()),
        )
    };
    let with_note = |n: &str| json!({"decisionComment": "ok", "decision": 1, "notificationId": n});

    let (status, body) = send(&h.app, &call(61, USER, &[ORG], with_note("n-mine"))).await;
    assert_eq!(status, 200);
    let mine = note("n-mine").await;
    assert_eq!(mine["readAt"], body["data"]["verifiedAt"]);

    let (status, _) = send(&h.app, &call(62, USER, &[ORG], with_note("n-other"))).await;
    assert_eq!(
        status, 200,
        "a foreign notification never fails the decision"
    );
    assert_eq!(
        note("n-other").await,
        json!({"id": "n-other", "userId": USER + 1})
    );

    let (status, _) = send(&h.app, &call(63, USER, &[ORG], with_note("n-missing"))).await;
    assert_eq!(status, 200);
    assert_eq!(note("n-missing").await, Value::Null, "not created");

    // Already read: kept. A replay is a 200, so it marks too.
    let replay = json!({"decisionComment": "ok", "decision": 1, "notificationId": "n-read"});
    let (status, _) = send(&h.app, &call(61, USER, &[ORG], replay)).await;
    assert_eq!(status, 200);
    assert_eq!(note("n-read").await["readAt"], "2024-01-01T00:00:00.000Z");
}

#[tokio::test]
async fn sparse_items_answer_null_for_unset_fields() {
    let h = seeded(&[json!({"id": 71, "status": 3, "organizationId": ORG})]).await;
    let (status, body) = send(&h.app, &call(71, USER, &[ORG], decision(1, ""))).await;
    assert_eq!(status, 200);
    let data = &body["data"];
    assert_eq!(data.as_object().map(|o| o.len()), Some(28));
    assert_eq!(data["description"], Value::Null);
    assert_eq!(data["codePin"], Value::Null);
    assert_eq!(data["decisionComment"], "");
}

#[tokio::test]
async fn extreme_ids_are_accepted_and_not_found() {
    let h = harness().await;
    for id in [9_007_199_254_740_991_i64, -9_007_199_254_740_991, 0] {
        let (status, body) = send(&h.app, &call(id, USER, &[ORG], decision(1, "x"))).await;
        assert_eq!(status, 404, "{id}: {body}");
    }
}
