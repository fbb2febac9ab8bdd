//! How a store call fails: the two kinds the contract answers differently
//! (503 to retry, 500), each keeping its cause.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use crate::error::{Cause, chain};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Throttled, timed out or unreachable: worth retrying later (503).
    #[error("store unavailable: {}", chain(.0.as_ref()))]
    Unavailable(#[source] Cause),
    /// Anything else: a bug or a malformed item (500).
    #[error("store failure: {}", chain(.0.as_ref()))]
    Internal(#[source] Cause),
}

/// A value the store could not read or write, with the codec's reason kept
/// as its source.
#[derive(Debug, thiserror::Error)]
#[error("{what}")]
pub(crate) struct Malformed {
    pub what: &'static str,
    #[source]
    pub source: Cause,
}

impl StoreError {
    /// A 500 for a value that did not convert: `what` it was, and why.
    pub(crate) fn malformed(what: &'static str, source: impl Into<Cause>) -> Self {
        StoreError::Internal(Box::new(Malformed {
            what,
            source: source.into(),
        }))
    }
}

/// Throttling, timeouts and transport failures are the engine's trouble, not
/// ours: 503 so the client retries. Everything else is a 500.
pub(super) fn classify<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    err: SdkError<E, HttpResponse>,
) -> StoreError {
    const RETRYABLE: [&str; 8] = [
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "TransactionConflictException",
        "InternalServerError",
        "ServiceUnavailable",
        "LimitExceededException",
    ];
    let retryable = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(e) => {
            e.err().code().is_some_and(|c| RETRYABLE.contains(&c))
                || e.raw().status().as_u16() >= 500
        }
        _ => false,
    };
    if retryable {
        StoreError::Unavailable(Box::new(err))
    } else {
        StoreError::Internal(Box::new(err))
    }
}
