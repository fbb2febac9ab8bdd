//! DynamoDB: one conditional `UpdateItem` per decision, one per notification.
//! The only module that speaks DynamoDB's API (its client is built in `aws`).

use std::collections::HashMap;
use std::future::Future;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};

use crate::domain::{DecisionWrite, Intervention, Status};

pub(crate) mod answer;
mod error;
mod item;

pub(crate) use answer::ReadAnswersOurselves;
use answer::applied;

pub(crate) use error::StoreError;
use error::classify;

/// Every DynamoDB action this module calls, as IAM names them. The template's
/// policy must grant exactly these (checked by `tests/api/template.rs`), and the
/// engine must see no other (checked by `tests/api/request_count.rs`).
#[cfg(test)]
pub(crate) const IAM_ACTIONS: &[&str] = &["dynamodb:UpdateItem", "dynamodb:DescribeTable"];

/// DynamoDB caps the operands of one `IN` at 100.
const IN_OPERANDS: usize = 100;

/// The result of the conditional decision write.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum WriteOutcome {
    /// Applied; the record as it now stands.
    Applied(Intervention),
    /// The condition failed; the record as it was, if it exists.
    ConditionFailed(Option<Intervention>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotificationOutcome {
    /// `readAt` is set (now, or kept from before).
    Marked,
    Missing,
    /// Addressed to another user: left untouched.
    Foreign,
}

impl NotificationOutcome {
    pub(crate) fn code(self) -> &'static str {
        match self {
            NotificationOutcome::Marked => "notification_marked_read",
            NotificationOutcome::Missing => "notification_not_found",
            NotificationOutcome::Foreign => "notification_of_another_user",
        }
    }
}

/// What the handler needs from storage. Generic (not `dyn`) so the calls are
/// static; tests put a recording double behind it for requests that must
/// never reach storage.
pub(crate) trait InterventionStore {
    fn apply_decision(
        &self,
        write: &DecisionWrite,
    ) -> impl Future<Output = Result<WriteOutcome, StoreError>>;

    fn mark_notification_read(
        &self,
        notification_id: &str,
        user_id: i64,
        at: &str,
    ) -> impl Future<Output = Result<NotificationOutcome, StoreError>>;
}

pub(crate) struct DynamoStore {
    client: Client,
    interventions_table: String,
    notifications_table: String,
}

/// The standard policy retries throttling and transient errors but not
/// `TransactionConflictException` (a transaction holds the item): it clears as
/// fast as throttling does, so it gets the same treatment.
#[derive(Debug)]
pub(crate) struct RetryTransactionConflicts;

impl aws_sdk_dynamodb::config::retry::ClassifyRetry for RetryTransactionConflicts {
    fn classify_retry(
        &self,
        ctx: &aws_sdk_dynamodb::config::interceptors::InterceptorContext,
    ) -> aws_sdk_dynamodb::config::retry::RetryAction {
        use aws_sdk_dynamodb::config::retry::RetryAction;
        let code = match ctx.output_or_error() {
            Some(Err(err)) => err
                .as_operation_error()
                .and_then(|e| e.downcast_ref::<UpdateItemError>())
                .and_then(ProvideErrorMetadata::code),
            _ => None,
        };
        match code {
            Some("TransactionConflictException") => RetryAction::throttling_error(),
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "TransactionConflictException"
    }
}

impl DynamoStore {
    pub(crate) fn new(
        client: Client,
        interventions_table: String,
        notifications_table: String,
    ) -> Self {
        Self {
            client,
            interventions_table,
            notifications_table,
        }
    }

    /// The decision's conditional `UpdateItem`, ready to send: `ALL_NEW` on
    /// success, `ALL_OLD` when the condition fails.
    pub(crate) fn decision_request(
        &self,
        write: &DecisionWrite,
    ) -> Result<
        aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
        StoreError,
    > {
        let expr = decision_expression(write)?;
        Ok(self
            .client
            .update_item()
            .table_name(&self.interventions_table)
            .key("id", num(write.intervention_id.get()))
            .update_expression(expr.update)
            .condition_expression(expr.condition)
            .set_expression_attribute_names(Some(expr.names))
            .set_expression_attribute_values(Some(expr.values))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld))
    }

    /// Opens the connection to DynamoDB (TCP, TLS) during init, where Lambda
    /// gives full CPU and no user waits, so the first request does not pay
    /// for the handshake. `DescribeTable` is free, reads no item, and proves
    /// the table exists.
    pub(crate) async fn warm_up(&self) -> Result<(), WarmUpError> {
        match self
            .client
            .describe_table()
            .table_name(&self.interventions_table)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if e.err().is_resource_not_found_exception() => {
                Err(WarmUpError::NoSuchTable)
            }
            Err(e) => Err(WarmUpError::Store(classify(e))),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum WarmUpError {
    #[error("INTERVENTIONS_TABLE names a table that does not exist")]
    NoSuchTable,
    #[error(transparent)]
    Store(StoreError),
}

/// The update and condition of a decision, with their placeholders.
/// Built apart from the SDK call so its text can be checked without an engine.
#[derive(Debug, PartialEq)]
pub(crate) struct DecisionExpression {
    pub update: String,
    pub condition: String,
    pub names: HashMap<String, String>,
    pub values: HashMap<String, AttributeValue>,
}

pub(crate) fn decision_expression(write: &DecisionWrite) -> Result<DecisionExpression, StoreError> {
    let names = [
        ("#id", "id"),
        ("#status", "status"),
        ("#archivedAt", "archivedAt"),
        ("#org", "organizationId"),
        ("#verifiedBy", "verifiedByUserId"),
        ("#verifiedAt", "verifiedAt"),
        ("#updatedAt", "updatedAt"),
        ("#comment", "decisionComment"),
        ("#history", "verificationHistory"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let entry = serde_dynamo::to_attribute_value(&write.entry)
        .map_err(|e| StoreError::malformed("history entry", e))?;
    let fixed = [
        (":toVerify", num(Status::ToVerify.code())),
        (":newStatus", num(write.new_status.code())),
        (":user", num(write.entry.user_id)),
        (":now", AttributeValue::S(write.entry.at.clone())),
        (
            ":comment",
            AttributeValue::S(write.entry.decision_comment.clone()),
        ),
        (":entry", AttributeValue::L(vec![entry])),
        (":empty", AttributeValue::L(Vec::new())),
    ];
    // Sized for every operand: growing would rehash each key (SipHash).
    let mut values = HashMap::with_capacity(fixed.len() + write.organization_ids.len());
    values.extend(fixed.map(|(k, v)| (k.to_owned(), v)));
    let mut groups = Vec::new();
    for (c, chunk) in write.organization_ids.chunks(IN_OPERANDS).enumerate() {
        let mut operands = Vec::with_capacity(chunk.len());
        for (i, org) in chunk.iter().enumerate() {
            let name = format!(":o{}", c * IN_OPERANDS + i);
            values.insert(name.clone(), num(*org));
            operands.push(name);
        }
        groups.push(format!("#org IN ({})", operands.join(", ")));
    }
    Ok(DecisionExpression {
        update: "SET #status = :newStatus, #verifiedBy = :user, #verifiedAt = :now, \
                 #updatedAt = :now, #comment = :comment, \
                 #history = list_append(if_not_exists(#history, :empty), :entry)"
            .to_owned(),
        condition: format!(
            "attribute_exists(#id) AND attribute_not_exists(#archivedAt) \
             AND #status = :toVerify AND ({})",
            groups.join(" OR ")
        ),
        names,
        values,
    })
}

fn num(n: i64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

/// The record as it was when the condition failed, read by the SDK: a rare
/// path, where its reading costs nothing that matters.
fn read_item(item: HashMap<String, AttributeValue>) -> Result<Intervention, StoreError> {
    serde_dynamo::from_item(item)
        .map_err(|e| StoreError::malformed("malformed intervention item", e))
}

impl InterventionStore for DynamoStore {
    async fn apply_decision(&self, write: &DecisionWrite) -> Result<WriteOutcome, StoreError> {
        // Boxed: the SDK's call future is kilobytes, and every future that
        // holds it (the deadline, the handler) would copy it at each move.
        let result = Box::pin(self.decision_request(write)?.send()).await;
        match result {
            Ok(out) => applied(out.attributes).map(WriteOutcome::Applied),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                let old = match e.into_err() {
                    UpdateItemError::ConditionalCheckFailedException(c) => c.item,
                    _ => None,
                };
                old.map(read_item)
                    .transpose()
                    .map(WriteOutcome::ConditionFailed)
            }
            Err(e) => Err(classify(e)),
        }
    }

    async fn mark_notification_read(
        &self,
        notification_id: &str,
        user_id: i64,
        at: &str,
    ) -> Result<NotificationOutcome, StoreError> {
        if notification_id.is_empty() {
            // DynamoDB rejects empty key strings; no notification has this id.
            return Ok(NotificationOutcome::Missing);
        }
        let request = self
            .client
            .update_item()
            .table_name(&self.notifications_table)
            .key("id", AttributeValue::S(notification_id.to_owned()))
            .update_expression("SET #readAt = if_not_exists(#readAt, :now)")
            .condition_expression("attribute_exists(#id) AND #userId = :user")
            .expression_attribute_names("#id", "id")
            .expression_attribute_names("#readAt", "readAt")
            .expression_attribute_names("#userId", "userId")
            .expression_attribute_values(":now", AttributeValue::S(at.to_owned()))
            .expression_attribute_values(":user", num(user_id))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        // Boxed, as the decision's call is.
        let result = Box::pin(request.send()).await;
        match result {
            Ok(_) => Ok(NotificationOutcome::Marked),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                let existed = match e.err() {
                    UpdateItemError::ConditionalCheckFailedException(c) => {
                        c.item.as_ref().is_some_and(|i| !i.is_empty())
                    }
                    _ => false,
                };
                Ok(if existed {
                    NotificationOutcome::Foreign
                } else {
                    NotificationOutcome::Missing
                })
            }
            Err(e) => Err(classify(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::domain::{HistoryEntry, InterventionId};

    #[test]
    fn a_store_error_keeps_its_cause_and_logs_the_whole_chain() {
        #[derive(Debug, thiserror::Error)]
        #[error("dispatch failure")]
        struct Outer(#[source] std::io::Error);
        let e =
            StoreError::Unavailable(Box::new(Outer(std::io::Error::other("connection refused"))));
        assert_eq!(
            e.to_string(),
            "store unavailable: dispatch failure: connection refused"
        );
        let cause = std::error::Error::source(&e).map(ToString::to_string);
        assert_eq!(cause.as_deref(), Some("dispatch failure"));
    }

    #[test]
    fn a_malformed_item_keeps_the_codec_error_as_its_source() {
        let e = crate::read_answer(br#"{"Attributes": {"id": {"S": "seven"}}}"#)
            .expect_err("a string id is not an intervention");
        assert!(matches!(e, StoreError::Internal(_)), "{e:?}");
        let outer = std::error::Error::source(&e).expect("the malformed value");
        assert_eq!(outer.to_string(), "malformed intervention item");
        let codec = outer.source().expect("the codec's reason");
        assert!(
            codec.is::<serde_json::Error>(),
            "the codec's own error, not its text: {codec:?}"
        );
        assert!(
            e.to_string().starts_with(&format!(
                "store failure: malformed intervention item: {codec}"
            )),
            "{e}"
        );
    }

    fn write(orgs: Vec<i64>) -> DecisionWrite {
        DecisionWrite {
            intervention_id: InterventionId::new(9).expect("an id in range"),
            organization_ids: orgs,
            new_status: Status::Validated,
            entry: HistoryEntry {
                decision: 1,
                decision_comment: "ok".into(),
                user_id: 5,
                session_id: "s".into(),
                at: "2024-01-01T00:00:00.000Z".into(),
            },
        }
    }

    #[test]
    fn every_placeholder_is_defined_and_used() -> Result<(), StoreError> {
        let e = decision_expression(&write(vec![1, 2]))?;
        let text = format!("{} {}", e.update, e.condition);
        for k in e.names.keys().chain(e.values.keys()) {
            assert!(text.contains(k.as_str()), "{k} defined but unused");
        }
        for token in text.split(|c: char| !(c.is_alphanumeric() || c == '#' || c == ':')) {
            if token.starts_with('#') {
                assert!(e.names.contains_key(token), "{token} used but undefined");
            }
            if token.starts_with(':') {
                assert!(e.values.contains_key(token), "{token} used but undefined");
            }
        }
        assert!(e.condition.ends_with("(#org IN (:o0, :o1))"));
        Ok(())
    }

    #[test]
    fn many_organisations_are_split_into_in_groups_of_100() -> Result<(), StoreError> {
        let e = decision_expression(&write((0..250).collect()))?;
        assert_eq!(e.condition.matches("#org IN (").count(), 3);
        assert_eq!(e.condition.matches(" OR ").count(), 2);
        assert_eq!(
            e.values.get(":o249"),
            Some(&AttributeValue::N("249".into()))
        );
        assert!(e.condition.len() + e.update.len() < 4096);
        Ok(())
    }

    #[test]
    fn history_entry_is_a_one_element_list_of_a_map() -> Result<(), StoreError> {
        let e = decision_expression(&write(vec![1]))?;
        let Some(AttributeValue::L(list)) = e.values.get(":entry") else {
            panic!("no :entry list");
        };
        let [AttributeValue::M(m)] = list.as_slice() else {
            panic!("not one map");
        };
        assert_eq!(m.get("decision"), Some(&AttributeValue::N("1".into())));
        assert_eq!(m.get("userId"), Some(&AttributeValue::N("5".into())));
        assert_eq!(m.get("sessionId"), Some(&AttributeValue::S("s".into())));
        assert_eq!(
            m.get("decisionComment"),
            Some(&AttributeValue::S("ok".into()))
        );
        assert_eq!(
            m.get("at"),
            Some(&AttributeValue::S("2024-01-01T00:00:00.000Z".into()))
        );
        Ok(())
    }
}
