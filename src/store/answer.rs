//! A decision's answer read without the SDK's reading: a deserializer that
//! hands a successful `UpdateItem`'s body on whole, and the record read
//! from it (`item`). Errors stay the SDK's.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::update_item::{UpdateItem, UpdateItemOutput};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_runtime_api::client::interceptors::context::{Error as OperationError, Output};
use aws_smithy_runtime_api::client::orchestrator::{HttpResponse, OrchestratorError};
use aws_smithy_runtime_api::client::runtime_plugin::RuntimePlugin;
use aws_smithy_runtime_api::client::ser_de::{DeserializeResponse, SharedResponseDeserializer};
use aws_smithy_types::config_bag::{ConfigBag, FrozenLayer, Layer};

use super::{StoreError, item};
use crate::domain::Intervention;

/// The record a decision's `UpdateItem` answer holds (`Attributes`, `ALL_NEW`).
pub fn read_answer(body: &[u8]) -> Result<Intervention, StoreError> {
    item::from_body(body, "Attributes")
        .map_err(|e| StoreError::malformed("malformed intervention item", e))?
        .ok_or_else(|| StoreError::malformed("an answer without the item", "no Attributes"))
}

/// The name under which [`RawAnswer`] hands a successful answer's body on.
const RAW_ANSWER: &str = "";

/// Reads a successful `UpdateItem` answer without the SDK's deserializer:
/// its body is handed on whole, as one binary attribute named
/// [`RAW_ANSWER`], for [`read_answer`]. Errors still go to the SDK's own
/// deserializer, so their codes, retries and the failed condition's item
/// stay the SDK's.
#[derive(Debug, Clone)]
pub(super) struct RawAnswer {
    /// The SDK's own `UpdateItem` settings, its deserializer among them.
    sdk: FrozenLayer,
}

impl RawAnswer {
    pub(super) fn new() -> Self {
        let sdk = UpdateItem::new()
            .config()
            .unwrap_or_else(|| Layer::new("none").freeze());
        Self { sdk }
    }
}

impl DeserializeResponse for RawAnswer {
    fn deserialize_nonstreaming_with_config(
        &self,
        response: &HttpResponse,
        cfg: &ConfigBag,
    ) -> Result<Output, OrchestratorError<OperationError>> {
        if let Some(body) = response.body().bytes()
            && response.status().is_success()
        {
            let raw = AttributeValue::B(Blob::new(body));
            let attributes = HashMap::from([(RAW_ANSWER.to_owned(), raw)]);
            let output = UpdateItemOutput::builder().set_attributes(Some(attributes));
            return Ok(Output::erase(output.build()));
        }
        // Errors only: the layer is looked up where the SDK's reading is needed.
        match self.sdk.load::<SharedResponseDeserializer>() {
            Some(sdk) => sdk.deserialize_nonstreaming_with_config(response, cfg),
            None => Err(OrchestratorError::other(
                "no deserializer for UpdateItem's errors",
            )),
        }
    }
}

/// The record [`RawAnswer`] handed on.
pub(super) fn applied(
    attributes: Option<HashMap<String, AttributeValue>>,
) -> Result<Intervention, StoreError> {
    match attributes.as_ref().and_then(|a| a.get(RAW_ANSWER)) {
        Some(AttributeValue::B(body)) => read_answer(body.as_ref()),
        _ => Err(StoreError::malformed(
            "an answer without its body",
            "no raw answer",
        )),
    }
}
