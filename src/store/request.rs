//! A decision's request written without the SDK's serializer: the body of
//! its conditional `UpdateItem` written in one pass from the write
//! ([`decision_body`], a template: no attribute maps, no SipHash), carried
//! to the SDK inside the call's input, and sent as it is ([`RawRequest`]).
//! The input still names the table, which the SDK's endpoint rules read;
//! the endpoint, signature, retries and timeouts stay the SDK's.

use aws_sdk_dynamodb::operation::update_item::UpdateItemInput;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::Input;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::ser_de::SerializeRequest;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;

use super::StoreError;
use crate::domain::{DecisionWrite, Status};

/// The name under which the input carries the written body to [`RawRequest`]
/// (an expression attribute value: no expression can name it).
pub(super) const RAW_REQUEST: &str = "";

/// DynamoDB caps the operands of one `IN` at 100.
const IN_OPERANDS: usize = 100;

/// The placeholder of the `i`th organisation is `:o{i}`.
const OPERAND: &str = ":o";

/// The new status, who decided and when, the comment, and one entry more
/// in the audit trail.
const UPDATE: &str = "SET #status = :newStatus, #verifiedBy = :user, #verifiedAt = :now, \
    #updatedAt = :now, #comment = :comment, \
    #history = list_append(if_not_exists(#history, :empty), :entry)";

/// The attribute each `#name` of the expressions stands for, as JSON.
const NAMES: &str = concat!(
    r##"{"#id":"id","#status":"status","#archivedAt":"archivedAt","##,
    r##""#org":"organizationId","#verifiedBy":"verifiedByUserId","##,
    r##""#verifiedAt":"verifiedAt","#updatedAt":"updatedAt","##,
    r##""#comment":"decisionComment","#history":"verificationHistory"}"##,
);

/// The decision's conditional `UpdateItem` on `table`, as DynamoDB's JSON
/// protocol spells it: applied only to an existing, unarchived intervention
/// awaiting verification in one of the caller's organisations; `ALL_NEW` on
/// success, `ALL_OLD` when the condition fails. Written as a template, its
/// fixed parts copied and only the values escaped: serde over the same
/// shape costs four times as many instructions (docs/PERFORMANCE.md).
pub(crate) fn decision_body(table: &str, write: &DecisionWrite) -> Result<Vec<u8>, StoreError> {
    let e = &write.entry;
    let mut w = Json(Vec::with_capacity(1024 + 2 * e.decision_comment.len()));
    w.raw(r#"{"TableName":"#);
    w.text(table)?;
    w.raw(r#","Key":{"id":"#);
    w.n(write.intervention_id.get());
    w.raw(r#"},"UpdateExpression":"#);
    w.literal(UPDATE);
    w.raw(r#","ConditionExpression":"#);
    w.literal(&condition(write.organization_ids.len()));
    w.raw(r#","ExpressionAttributeNames":"#);
    w.raw(NAMES);
    w.raw(r#","ExpressionAttributeValues":{":toVerify":"#);
    w.n(Status::ToVerify.code());
    w.raw(r#",":newStatus":"#);
    w.n(write.new_status.code());
    w.raw(r#",":user":"#);
    w.n(e.user_id);
    w.raw(r#",":now":"#);
    w.s(&e.at)?;
    w.raw(r#",":comment":"#);
    w.s(&e.decision_comment)?;
    // One element of `verificationHistory`, the audit trail.
    w.raw(r#",":entry":{"L":[{"M":{"decision":"#);
    w.n(e.decision);
    w.raw(r#","decisionComment":"#);
    w.s(&e.decision_comment)?;
    w.raw(r#","userId":"#);
    w.n(e.user_id);
    w.raw(r#","sessionId":"#);
    w.s(&e.session_id)?;
    w.raw(r#","at":"#);
    w.s(&e.at)?;
    w.raw(r#"}}]},":empty":{"L":[]}"#);
    for (i, org) in write.organization_ids.iter().enumerate() {
        w.raw(r#",""#);
        w.raw(OPERAND);
        w.raw(itoa::Buffer::new().format(i));
        w.raw(r#"":"#);
        w.n(*org);
    }
    w.raw(r#"},"ReturnValues":"ALL_NEW","ReturnValuesOnConditionCheckFailure":"ALL_OLD"}"#);
    Ok(w.0)
}

/// JSON written in order: fixed parts as they are, strings escaped.
struct Json(Vec<u8>);

impl Json {
    fn raw(&mut self, json: &str) {
        self.0.extend_from_slice(json.as_bytes());
    }

    /// One of our own expressions as a JSON string: written as it is, as
    /// they hold nothing JSON escapes (names, placeholders, operators).
    fn literal(&mut self, s: &str) {
        self.raw("\"");
        self.raw(s);
        self.raw("\"");
    }

    fn text(&mut self, s: &str) -> Result<(), StoreError> {
        serde_json::to_writer(&mut self.0, s)
            .map_err(|e| StoreError::malformed("the decision's request", e))
    }

    /// A string attribute: `{"S":"…"}`.
    fn s(&mut self, s: &str) -> Result<(), StoreError> {
        self.raw(r#"{"S":"#);
        self.text(s)?;
        self.raw("}");
        Ok(())
    }

    /// A number attribute: `{"N":"12"}`.
    fn n(&mut self, n: i64) {
        self.raw(r#"{"N":""#);
        self.raw(itoa::Buffer::new().format(n));
        self.raw(r#""}"#);
    }
}

/// The condition on the record as it stands, its organisation among
/// `organizations` operands, grouped by DynamoDB's limit per `IN`.
fn condition(organizations: usize) -> String {
    let mut c = String::from(
        "attribute_exists(#id) AND attribute_not_exists(#archivedAt) \
         AND #status = :toVerify AND (",
    );
    for start in (0..organizations).step_by(IN_OPERANDS) {
        if start > 0 {
            c.push_str(" OR ");
        }
        c.push_str("#org IN (");
        for i in start..organizations.min(start + IN_OPERANDS) {
            if i > start {
                c.push_str(", ");
            }
            c.push_str(OPERAND);
            c.push_str(itoa::Buffer::new().format(i));
        }
        c.push(')');
    }
    c.push(')');
    c
}

/// Whether a call's input carries a body [`decision_body`] wrote (under
/// [`RAW_REQUEST`]): a decision's call, for [`RawRequest`] to send.
pub(super) fn carries_body(input: &UpdateItemInput) -> bool {
    input
        .expression_attribute_values
        .as_ref()
        .is_some_and(|v| v.contains_key(RAW_REQUEST))
}

/// Serializes a decision's `UpdateItem` as the SDK's serializer does
/// (`POST /`, its content type and target), with the body written already.
#[derive(Debug)]
pub(super) struct RawRequest;

impl SerializeRequest for RawRequest {
    fn serialize_input(&self, input: Input, _: &mut ConfigBag) -> Result<HttpRequest, BoxError> {
        let input = input
            .downcast::<UpdateItemInput>()
            .map_err(|_| "not an UpdateItem input")?;
        let body = match input
            .expression_attribute_values
            .and_then(|mut v| v.remove(RAW_REQUEST))
        {
            Some(AttributeValue::B(body)) => body.into_inner(),
            _ => return Err("an UpdateItem input without its written body".into()),
        };
        let length = body.len().to_string();
        let mut request = HttpRequest::new(SdkBody::from(body));
        request.set_method("POST")?;
        let headers = request.headers_mut();
        headers.insert("content-type", "application/x-amz-json-1.0");
        headers.insert("x-amz-target", "DynamoDB_20120810.UpdateItem");
        headers.insert("content-length", length);
        Ok(request)
    }
}

#[cfg(test)]
mod tests;
