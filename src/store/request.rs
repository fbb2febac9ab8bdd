//! A decision's request written without the SDK's serializer: the body of
//! its conditional `UpdateItem` written in one pass from the write
//! ([`decision_body`], serde over borrowed values: no attribute maps, no
//! SipHash), carried to the SDK inside the call's input, and sent as it is
//! ([`RawRequest`]). The input still names the table and the key, so the
//! endpoint, signature, retries and timeouts stay the SDK's.

use std::fmt;

use aws_sdk_dynamodb::operation::update_item::UpdateItemInput;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::Input;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::ser_de::SerializeRequest;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use serde::ser::{SerializeMap, Serializer};

use super::StoreError;
use crate::domain::{DecisionWrite, Status};

/// The name under which the input carries the written body to [`RawRequest`]
/// (an expression attribute value: no expression can name it).
pub(super) const RAW_REQUEST: &str = "";

/// DynamoDB caps the operands of one `IN` at 100.
const IN_OPERANDS: usize = 100;

/// The new status, who decided and when, the comment, and one entry more
/// in the audit trail.
const UPDATE: &str = "SET #status = :newStatus, #verifiedBy = :user, #verifiedAt = :now, \
    #updatedAt = :now, #comment = :comment, \
    #history = list_append(if_not_exists(#history, :empty), :entry)";

/// The attribute each `#name` of the expressions stands for.
const NAMES: &[(&str, &str)] = &[
    ("#id", "id"),
    ("#status", "status"),
    ("#archivedAt", "archivedAt"),
    ("#org", "organizationId"),
    ("#verifiedBy", "verifiedByUserId"),
    ("#verifiedAt", "verifiedAt"),
    ("#updatedAt", "updatedAt"),
    ("#comment", "decisionComment"),
    ("#history", "verificationHistory"),
];

/// The decision's conditional `UpdateItem` on `table`, as DynamoDB's JSON
/// protocol spells it: applied only to an existing, unarchived intervention
/// awaiting verification in one of the caller's organisations; `ALL_NEW` on
/// success, `ALL_OLD` when the condition fails.
pub fn decision_body(table: &str, write: &DecisionWrite) -> Result<Vec<u8>, StoreError> {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct UpdateItem<'a> {
        table_name: &'a str,
        #[serde(serialize_with = "map")]
        key: &'a [(&'a str, Attr<'a>)],
        update_expression: &'static str,
        condition_expression: String,
        #[serde(serialize_with = "map")]
        expression_attribute_names: &'static [(&'static str, &'static str)],
        expression_attribute_values: Values<'a>,
        return_values: &'static str,
        return_values_on_condition_check_failure: &'static str,
    }
    serde_json::to_vec(&UpdateItem {
        table_name: table,
        key: &[("id", Attr::N(write.intervention_id.get()))],
        update_expression: UPDATE,
        condition_expression: condition(write.organization_ids.len()),
        expression_attribute_names: NAMES,
        expression_attribute_values: Values(write),
        return_values: "ALL_NEW",
        return_values_on_condition_check_failure: "ALL_OLD",
    })
    .map_err(|e| StoreError::malformed("the decision's request", e))
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
            fmt::Write::write_fmt(&mut c, format_args!("{}", Operand(i))).ok();
        }
        c.push(')');
    }
    c.push(')');
    c
}

/// The placeholder of the `i`th organisation: `:o{i}`.
struct Operand(usize);

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, ":o{}", self.0)
    }
}

impl serde::Serialize for Operand {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A DynamoDB attribute value as its JSON spells it: `{"S": "…"}`,
/// `{"N": "12"}`, `{"L": […]}`, `{"M": {…}}`.
#[derive(serde::Serialize)]
enum Attr<'a> {
    S(&'a str),
    #[serde(serialize_with = "decimal")]
    N(i64),
    L(&'a [Attr<'a>]),
    #[serde(serialize_with = "map")]
    M(&'a [(&'a str, Attr<'a>)]),
}

fn decimal<S: Serializer>(n: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(n)
}

fn map<K: serde::Serialize, V: serde::Serialize, S: Serializer>(
    entries: &[(K, V)],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(entries.iter().map(|(k, v)| (k, v)))
}

/// Every `:value` of the expressions.
struct Values<'a>(&'a DecisionWrite);

impl serde::Serialize for Values<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (write, e) = (self.0, &self.0.entry);
        // One element of `verificationHistory`, the audit trail.
        let entry = [
            ("decision", Attr::N(e.decision)),
            ("decisionComment", Attr::S(&e.decision_comment)),
            ("userId", Attr::N(e.user_id)),
            ("sessionId", Attr::S(&e.session_id)),
            ("at", Attr::S(&e.at)),
        ];
        let mut m = s.serialize_map(Some(7 + write.organization_ids.len()))?;
        m.serialize_entry(":toVerify", &Attr::N(Status::ToVerify.code()))?;
        m.serialize_entry(":newStatus", &Attr::N(write.new_status.code()))?;
        m.serialize_entry(":user", &Attr::N(e.user_id))?;
        m.serialize_entry(":now", &Attr::S(&e.at))?;
        m.serialize_entry(":comment", &Attr::S(&e.decision_comment))?;
        m.serialize_entry(":entry", &Attr::L(&[Attr::M(&entry)]))?;
        m.serialize_entry(":empty", &Attr::L(&[]))?;
        for (i, org) in write.organization_ids.iter().enumerate() {
            m.serialize_entry(&Operand(i), &Attr::N(*org))?;
        }
        m.end()
    }
}

/// The input of a decision's call: the table and key (which the endpoint
/// and the logs read), the body under [`RAW_REQUEST`].
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
