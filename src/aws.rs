//! What every AWS client of the function shares: the HTTPS client, the SDK
//! configuration from the environment, and each service's client with its
//! time limits and retry policy (DynamoDB's classifier is `store`'s). The
//! store and the secret source get their clients here, so both speak
//! through one connection stack.

use std::path::Path;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::SharedHttpClient;

use crate::config::{AwsSettings, DynamoTimeouts};
use crate::store::attempts_bound;

/// Root certificates AWS's regional endpoints chain to (Amazon Trust
/// Services): four roots instead of the system store's ~150 files.
const AMAZON_ROOTS: &[u8] = include_bytes!("../certs/amazon-trust-services.pem");

/// The HTTPS client for the SDK: rustls on aws-lc, trusting the Amazon roots
/// plus `SSL_CERT_FILE` when set (a local TLS engine, a corporate proxy).
/// Loading the platform store instead costs milliseconds of every cold start
/// (docs/PERFORMANCE.md).
pub(crate) fn https_client(
    ssl_cert_file: Option<&Path>,
) -> Result<SharedHttpClient, std::io::Error> {
    use aws_smithy_http_client::tls::{
        Provider, TlsContext, TrustStore, rustls_provider::CryptoMode,
    };
    let mut trust = TrustStore::empty().with_pem_certificate(AMAZON_ROOTS);
    if let Some(path) = ssl_cert_file {
        trust = trust.with_pem_certificate(std::fs::read(path)?);
    }
    let tls = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .map_err(std::io::Error::other)?;
    Ok(aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(tls)
        .build_https())
}

/// The SDK configuration from the function's settings, built directly rather
/// than through `aws_config::load`: on Lambda the region and credentials are
/// always in the environment, and the full default chain (profile files, SSO,
/// STS web identity, IMDS, ECS) costs start-up time and binary size for
/// sources Lambda never uses (docs/PERFORMANCE.md).
pub fn sdk_config(aws: &AwsSettings) -> Result<SdkConfig, std::io::Error> {
    use aws_config::environment::credentials::EnvironmentVariableCredentialsProvider;
    use aws_sdk_dynamodb::config::{
        BehaviorVersion, Region, SharedCredentialsProvider, StalledStreamProtectionConfig,
    };
    Ok(SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        // Guards long downloads against stalls; our bodies are a few KB
        // under an operation timeout, and the guard costs a timer and an
        // interceptor per request (docs/PERFORMANCE.md).
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .region(Region::new(aws.region.clone()))
        .credentials_provider(SharedCredentialsProvider::new(
            EnvironmentVariableCredentialsProvider::new(),
        ))
        .http_client(https_client(aws.ssl_cert_file.as_deref())?)
        .build())
}

/// The SDK's limits. The operation timeout is set only when it is shorter
/// than what the attempts already bound (each cut off by the attempt
/// timeout, the longest backoffs between): each timeout is a timer every
/// call arms, and each timer costs the runtime a wake-up.
fn timeouts(t: &DynamoTimeouts) -> TimeoutConfig {
    let by_attempts = attempts_bound(t.attempt, &retries(t));
    let mut b = TimeoutConfig::builder()
        .connect_timeout(t.connect)
        .operation_attempt_timeout(t.attempt);
    if t.operation < by_attempts {
        b = b.operation_timeout(t.operation);
    }
    b.build()
}

fn retries(t: &DynamoTimeouts) -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(t.max_attempts)
        .with_initial_backoff(t.initial_backoff)
        .with_max_backoff(t.initial_backoff * 8)
}

/// The DynamoDB client with the function's time limits and retry policy: SDK
/// standard retries (throttling included), bounded so the operation timeout,
/// shorter than the function's, always fires first.
pub fn dynamodb_client(
    sdk: &SdkConfig,
    endpoint_url: Option<&str>,
    t: DynamoTimeouts,
) -> aws_sdk_dynamodb::Client {
    let mut config = aws_sdk_dynamodb::config::Builder::from(sdk)
        .timeout_config(timeouts(&t))
        .retry_config(retries(&t))
        .retry_classifier(crate::store::RetryTransactionConflicts);
    if let Some(url) = endpoint_url {
        config = config.endpoint_url(url);
    }
    aws_sdk_dynamodb::Client::from_conf(config.build())
}

/// Limits for a Secrets Manager read: a request may wait on one (a token
/// signed with a version we do not know yet), so it stays short.
pub(crate) const SECRETS_TIMEOUTS: DynamoTimeouts = DynamoTimeouts {
    connect: Duration::from_millis(1000),
    attempt: Duration::from_millis(1000),
    operation: Duration::from_millis(2000),
    max_attempts: 2,
    initial_backoff: Duration::from_millis(50),
};

/// The Secrets Manager client, on the same HTTPS client and configuration.
pub fn secrets_client(
    sdk: &SdkConfig,
    endpoint_url: Option<&str>,
) -> aws_sdk_secretsmanager::Client {
    let mut config = aws_sdk_secretsmanager::config::Builder::from(sdk)
        .timeout_config(timeouts(&SECRETS_TIMEOUTS))
        .retry_config(retries(&SECRETS_TIMEOUTS));
    if let Some(url) = endpoint_url {
        config = config.endpoint_url(url);
    }
    aws_sdk_secretsmanager::Client::from_conf(config.build())
}
