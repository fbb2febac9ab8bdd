use std::collections::HashMap;

use aws_sdk_dynamodb::operation::update_item::{UpdateItem, UpdateItemInput};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use aws_smithy_runtime_api::client::interceptors::context::Input;
use aws_smithy_runtime_api::client::runtime_plugin::RuntimePlugin;
use aws_smithy_runtime_api::client::ser_de::{SerializeRequest, SharedRequestSerializer};
use aws_smithy_types::Blob;
use aws_smithy_types::config_bag::ConfigBag;
use serde_json::{Value, json};

use super::*;
use crate::domain::{HistoryEntry, InterventionId};

const AT: &str = "2024-01-01T00:00:00.000Z";

fn write(orgs: Vec<i64>, comment: &str) -> DecisionWrite {
    DecisionWrite {
        intervention_id: InterventionId::new(9).expect("an id in range"),
        organization_ids: orgs,
        new_status: Status::Validated,
        entry: HistoryEntry {
            decision: 1,
            decision_comment: comment.into(),
            user_id: 5,
            session_id: "s\"1".into(),
            at: AT.into(),
        },
    }
}

fn body(table: &str, write: &DecisionWrite) -> Value {
    let bytes = decision_body(table, write).expect("a body");
    serde_json::from_slice(&bytes).expect("JSON")
}

fn num(n: i64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

/// The input the SDK's own serializer would be given for `write`: every
/// expression and value as attribute maps.
fn sdk_input(table: &str, write: &DecisionWrite) -> UpdateItemInput {
    let e = &write.entry;
    let entry = HashMap::from([
        ("decision".to_owned(), num(e.decision)),
        (
            "decisionComment".to_owned(),
            AttributeValue::S(e.decision_comment.clone()),
        ),
        ("userId".to_owned(), num(e.user_id)),
        (
            "sessionId".to_owned(),
            AttributeValue::S(e.session_id.clone()),
        ),
        ("at".to_owned(), AttributeValue::S(e.at.clone())),
    ]);
    let mut values = HashMap::from([
        (":toVerify".to_owned(), num(3)),
        (":newStatus".to_owned(), num(write.new_status.code())),
        (":user".to_owned(), num(e.user_id)),
        (":now".to_owned(), AttributeValue::S(e.at.clone())),
        (
            ":comment".to_owned(),
            AttributeValue::S(e.decision_comment.clone()),
        ),
        (
            ":entry".to_owned(),
            AttributeValue::L(vec![AttributeValue::M(entry)]),
        ),
        (":empty".to_owned(), AttributeValue::L(vec![])),
    ]);
    for (i, org) in write.organization_ids.iter().enumerate() {
        values.insert(format!(":o{i}"), num(*org));
    }
    let names: HashMap<String, String> = serde_json::from_str(NAMES).expect("names as JSON");
    UpdateItemInput::builder()
        .table_name(table)
        .key("id", num(write.intervention_id.get()))
        .update_expression(UPDATE)
        .condition_expression(condition(write.organization_ids.len()))
        .set_expression_attribute_names(Some(names))
        .set_expression_attribute_values(Some(values))
        .return_values(ReturnValue::AllNew)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .build()
        .expect("an input")
}

fn sdk_serializer() -> SharedRequestSerializer {
    UpdateItem::new()
        .config()
        .and_then(|layer| layer.load::<SharedRequestSerializer>().cloned())
        .expect("UpdateItem's serializer")
}

/// The request goes out as the SDK would send it: the same method, path,
/// headers and JSON, escapes included.
#[test]
fn the_request_is_the_one_the_sdk_would_write() {
    let table = "Interventions \"x\"";
    let comment = "l'été \"ok\"\n\u{1}\u{1F600}\\";
    for orgs in [vec![7, 8], (0..250).collect()] {
        let write = write(orgs, comment);
        let sdk = sdk_serializer()
            .serialize_input(
                Input::erase(sdk_input(table, &write)),
                &mut ConfigBag::base(),
            )
            .expect("the SDK's request");
        let body = decision_body(table, &write).expect("a body");
        let ours = UpdateItemInput::builder()
            .table_name(table)
            .expression_attribute_values(RAW_REQUEST, AttributeValue::B(Blob::new(body)))
            .build()
            .expect("an input");
        assert!(carries_body(&ours));
        let ours = RawRequest
            .serialize_input(Input::erase(ours), &mut ConfigBag::base())
            .expect("our request");
        assert_eq!(ours.method(), sdk.method());
        assert_eq!(ours.uri(), sdk.uri());
        assert_eq!(headers(&ours), headers(&sdk));
        assert_eq!(json(&ours), json(&sdk));
    }
}

fn headers(r: &HttpRequest) -> Vec<(String, String)> {
    let mut h: Vec<_> = r
        .headers()
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    h.sort();
    h
}

fn json(r: &HttpRequest) -> Value {
    serde_json::from_slice(r.body().bytes().expect("a body in memory")).expect("JSON")
}

#[test]
fn an_input_without_its_body_is_refused_not_sent() {
    let input = UpdateItemInput::builder()
        .table_name("t")
        .build()
        .expect("an input");
    assert!(!carries_body(&input));
    let refused = RawRequest.serialize_input(Input::erase(input), &mut ConfigBag::base());
    assert!(refused.is_err());
}

#[test]
fn the_body_spells_the_decision_write() {
    let written = body("Interventions", &write(vec![1], "Bench decision"));
    let expected = json!({
        "TableName": "Interventions",
        "Key": {"id": {"N": "9"}},
        "UpdateExpression": "SET #status = :newStatus, #verifiedBy = :user, #verifiedAt = :now, #updatedAt = :now, #comment = :comment, #history = list_append(if_not_exists(#history, :empty), :entry)",
        "ConditionExpression": "attribute_exists(#id) AND attribute_not_exists(#archivedAt) AND #status = :toVerify AND (#org IN (:o0))",
        "ExpressionAttributeNames": {"#id": "id", "#status": "status", "#archivedAt": "archivedAt", "#org": "organizationId",
            "#verifiedBy": "verifiedByUserId", "#verifiedAt": "verifiedAt", "#updatedAt": "updatedAt",
            "#comment": "decisionComment", "#history": "verificationHistory"},
        "ExpressionAttributeValues": {":toVerify": {"N": "3"}, ":newStatus": {"N": "4"}, ":user": {"N": "5"},
            ":now": {"S": AT}, ":comment": {"S": "Bench decision"},
            ":entry": {"L": [{"M": {"decision": {"N": "1"}, "decisionComment": {"S": "Bench decision"},
                "userId": {"N": "5"}, "sessionId": {"S": "s\"1"}, "at": {"S": AT}}}]},
            ":empty": {"L": []}, ":o0": {"N": "1"}},
        "ReturnValues": "ALL_NEW",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    });
    assert_eq!(written, expected);
}

#[test]
fn every_placeholder_is_defined_and_used() {
    let b = body("t", &write(vec![1, 2], "ok"));
    let (names, values) = (
        &b["ExpressionAttributeNames"],
        &b["ExpressionAttributeValues"],
    );
    let (update, condition) = (
        b["UpdateExpression"].as_str().expect("an update"),
        b["ConditionExpression"].as_str().expect("a condition"),
    );
    let text = format!("{update} {condition}");
    let defined = |v: &Value| {
        v.as_object()
            .expect("a map")
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    for k in defined(names).iter().chain(&defined(values)) {
        assert!(text.contains(k.as_str()), "{k} defined but unused");
    }
    for token in text.split(|c: char| !(c.is_alphanumeric() || c == '#' || c == ':')) {
        if token.starts_with('#') {
            assert!(names.get(token).is_some(), "{token} used but undefined");
        }
        if token.starts_with(':') {
            assert!(values.get(token).is_some(), "{token} used but undefined");
        }
    }
    assert!(condition.ends_with("(#org IN (:o0, :o1))"), "{condition}");
}

#[test]
fn many_organisations_are_split_into_in_groups_of_100() {
    let b = body("t", &write((0..250).collect(), "ok"));
    let condition = b["ConditionExpression"].as_str().expect("a condition");
    let update = b["UpdateExpression"].as_str().expect("an update");
    assert_eq!(condition.matches("#org IN (").count(), 3);
    assert_eq!(condition.matches(" OR ").count(), 2);
    assert!(condition.contains("#org IN (:o100, "), "{condition}");
    assert_eq!(b["ExpressionAttributeValues"][":o249"], json!({"N": "249"}));
    assert!(condition.len() + update.len() < 4096);
}

#[test]
fn history_entry_is_a_one_element_list_of_a_map() {
    let b = body("t", &write(vec![1], "ok"));
    assert_eq!(
        b["ExpressionAttributeValues"][":entry"],
        json!({"L": [{"M": {
            "decision": {"N": "1"},
            "decisionComment": {"S": "ok"},
            "userId": {"N": "5"},
            "sessionId": {"S": "s\"1"},
            "at": {"S": AT},
        }}]})
    );
}
