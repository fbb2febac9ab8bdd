//! DynamoDB: one conditional `UpdateItem` per decision, one per notification.
//! The only module that speaks DynamoDB's API (its client is built in `aws`).

use std::collections::HashMap;
use std::future::Future;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemInput};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::{Intercept, dyn_dispatch_hint};
use aws_smithy_runtime_api::client::ser_de::{SharedRequestSerializer, SharedResponseDeserializer};
use aws_smithy_types::config_bag::ConfigBag;

use crate::domain::{DecisionWrite, Intervention};

pub(crate) mod answer;
mod error;
mod item;
pub(crate) mod request;

use answer::{RawAnswer, applied};

pub(crate) use error::StoreError;
use error::classify;

/// Every DynamoDB action this module calls, as IAM names them. The template's
/// policy must grant exactly these (checked by `tests/api/template.rs`), and the
/// engine must see no other (checked by `tests/api/request_count.rs`).
#[cfg(test)]
pub(crate) const IAM_ACTIONS: &[&str] = &["dynamodb:UpdateItem", "dynamodb:DescribeTable"];

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

/// Puts the function's own request writer and answer reader ([`request`],
/// [`answer`]) in front of the SDK's for a decision's `UpdateItem` (an input
/// carrying its written body): the SDK's serializer and reading cost more
/// than the rest of its orchestration (docs/PERFORMANCE.md). Every other
/// call, and every error answer, stays the SDK's.
#[derive(Debug)]
pub(crate) struct OwnCodec {
    writer: SharedRequestSerializer,
    reader: RawAnswer,
}

impl OwnCodec {
    pub(crate) fn new() -> Self {
        Self {
            writer: SharedRequestSerializer::new(request::RawRequest),
            reader: RawAnswer::new(),
        }
    }
}

#[dyn_dispatch_hint]
impl Intercept for OwnCodec {
    fn name(&self) -> &'static str {
        "OwnCodec"
    }

    fn read_before_execution(
        &self,
        ctx: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let input = ctx.input().downcast_ref::<UpdateItemInput>();
        if input.is_some_and(request::carries_body) {
            let state = cfg.interceptor_state();
            state.store_put(self.writer.clone());
            state.store_put(SharedResponseDeserializer::new(self.reader.clone()));
        }
        Ok(())
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

    /// The decision's conditional `UpdateItem`, ready to send: its body
    /// written by [`request::decision_body`] (the key among it), the input
    /// naming the table, which the SDK's endpoint rules read.
    pub(crate) fn decision_request(
        &self,
        write: &DecisionWrite,
    ) -> Result<
        aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
        StoreError,
    > {
        let body = request::decision_body(&self.interventions_table, write)?;
        Ok(self
            .client
            .update_item()
            .table_name(&self.interventions_table)
            .expression_attribute_values(request::RAW_REQUEST, AttributeValue::B(Blob::new(body))))
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
}
