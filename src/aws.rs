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

use aws_runtime::invocation_id::InvocationIdInterceptor;
use aws_runtime::request_info::RequestInfoInterceptor;
use aws_runtime::service_clock_skew::ServiceClockSkewInterceptor;
use aws_runtime::user_agent::UserAgentInterceptor;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::{
    Intercept, SharedInterceptor, disable_interceptor, dyn_dispatch_hint,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use crate::config::{AwsSettings, CallLimits};

/// Root certificates AWS's regional endpoints chain to (Amazon Trust
/// Services): four roots instead of the system store's ~150 files.
const AMAZON_ROOTS: &[u8] = include_bytes!("../certs/amazon-trust-services.pem");

/// How long a connection to an AWS endpoint may sit idle and still be
/// reused: as long as DynamoDB has been seen to keep one open (60 to 90 s).
/// Shorter would drop connections the endpoint still serves, each costing a
/// reconnect (docs/PERFORMANCE.md, "An invocation after an idle gap");
/// longer would only keep ones it has closed. A connection closed early is
/// replaced, and the decision still applies once.
const POOL_IDLE: Duration = Duration::from_secs(90);

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
        let pem = std::fs::read(path)?;
        // The SDK keeps PEM unchecked and panics on it when it first
        // connects: checked here, a bad file stops start-up naming the
        // setting, as the JWKS client's connector does with the same check.
        crate::keys::web::add_pem_roots(&mut rustls::RootCertStore::empty(), &pem)?;
        trust = trust.with_pem_certificate(pem);
    }
    let tls = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .map_err(std::io::Error::other)?;
    let client = aws_smithy_http_client::Builder::new()
        .pool_idle_timeout(POOL_IDLE)
        .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(tls)
        .build_https();
    Ok(SharedHttpClient::new(ConnectorsWhenUsed(client)))
}

/// The SDK's HTTPS client, minus the connector it builds and drops when a
/// service client is built (`validate_base_client_config`, there to load
/// the platform's roots early): with roots given as PEM, each such build
/// parses them again and sets up rustls, ~0.27 M instructions per service
/// client of init for nothing (docs/PERFORMANCE.md). Connectors are built,
/// and kept, on first use, which the start-up reads make during init.
#[derive(Debug)]
struct ConnectorsWhenUsed(SharedHttpClient);

impl HttpClient for ConnectorsWhenUsed {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// The SDK configuration from the function's settings, built directly rather
/// than through `aws_config::load`: on Lambda the region and credentials are
/// always in the environment, and the full default chain (profile files, SSO,
/// STS web identity, IMDS, ECS) costs start-up time and binary size for
/// sources Lambda never uses (docs/PERFORMANCE.md).
pub(crate) fn sdk_config(aws: &AwsSettings) -> Result<SdkConfig, std::io::Error> {
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
        // Attempt timeouts and backoffs on the function's timer, which
        // spares each request tokio's wake-up for its first timer.
        .sleep_impl(aws_smithy_async::rt::sleep::SharedAsyncSleep::new(
            crate::timer::SdkSleep,
        ))
        .build())
}

/// The SDK's limits. The operation timeout is set only when it is shorter
/// than what the attempts already bound (each cut off by the attempt
/// timeout, the longest backoffs between): each timeout is a sleep every
/// call registers, and the operation's, set first and ending later, would
/// make a call after an idle gap set the `timerfd` twice (src/timer.rs).
fn timeouts(t: &CallLimits) -> TimeoutConfig {
    let by_attempts = attempts_bound(t.attempt, &retries(t));
    let mut b = TimeoutConfig::builder()
        .connect_timeout(t.connect)
        .operation_attempt_timeout(t.attempt);
    if t.operation < by_attempts {
        b = b.operation_timeout(t.operation);
    }
    b.build()
}

/// The longest a call can take through its attempts alone: every attempt
/// cut off at `attempt`, with the SDK's exponential backoff between them at
/// its longest (its jitter only shortens a wait).
fn attempts_bound(attempt: Duration, retry: &RetryConfig) -> Duration {
    let attempts = retry.max_attempts().max(1);
    let backoffs = (0..attempts - 1)
        .map(|i| (retry.initial_backoff() * 2u32.saturating_pow(i)).min(retry.max_backoff()))
        .sum::<Duration>();
    attempt * attempts + backoffs
}

fn retries(t: &CallLimits) -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(t.max_attempts)
        .with_initial_backoff(t.initial_backoff)
        .with_max_backoff(t.initial_backoff * 8)
}

pub(crate) mod sigv4;

/// Turns off, for each DynamoDB call, the SDK's interceptors whose only work
/// is a header DynamoDB does not need: the user agent (two headers formatted
/// per call), the invocation id (a UUID) and the attempt counter; and the
/// clock-skew interceptor (a `Date` parse per response), whose estimate only
/// the SDK's signer reads: [`sigv4`] signs at the clock's time, which on
/// Lambda is AWS's synchronised clock.
#[derive(Debug)]
struct SkipInformationalHeaders;

#[dyn_dispatch_hint]
impl Intercept for SkipInformationalHeaders {
    fn name(&self) -> &'static str {
        "SkipInformationalHeaders"
    }

    fn read_before_execution(
        &self,
        _: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let why = "an informational header DynamoDB does not need";
        let state = cfg.interceptor_state();
        state.store_put(disable_interceptor::<UserAgentInterceptor>(why));
        state.store_put(disable_interceptor::<InvocationIdInterceptor>(why));
        state.store_put(disable_interceptor::<RequestInfoInterceptor>(why));
        let why = "its skew estimate is read by the SDK's signer only";
        state.store_put(disable_interceptor::<ServiceClockSkewInterceptor>(why));
        Ok(())
    }
}

/// The DynamoDB client with the function's time limits and retry policy: SDK
/// standard retries (throttling included), bounded so the operation timeout,
/// shorter than the function's, always fires first.
pub(crate) fn dynamodb_client(
    sdk: &SdkConfig,
    endpoint_url: Option<&str>,
    t: CallLimits,
) -> aws_sdk_dynamodb::Client {
    let mut config = aws_sdk_dynamodb::config::Builder::from(sdk)
        .timeout_config(timeouts(&t))
        .retry_config(retries(&t))
        .retry_classifier(crate::store::RetryTransactionConflicts)
        .push_auth_scheme(sigv4::KeptKeySigV4::default());
    // Ours are never disabled, and each reads one hook: `permanent` and the
    // hint spare the SDK a config lookup per interceptor at every hook of
    // every call (docs/PERFORMANCE.md).
    config.push_interceptor(SharedInterceptor::permanent(SkipInformationalHeaders));
    config.push_interceptor(SharedInterceptor::permanent(crate::store::OwnCodec::new()));
    if let Some(url) = endpoint_url {
        config = config.endpoint_url(url);
    }
    aws_sdk_dynamodb::Client::from_conf(config.build())
}

/// Limits for a Secrets Manager read: a request may wait on one (a token
/// signed with a version we do not know yet), so it stays short.
pub(crate) const SECRETS_LIMITS: CallLimits = CallLimits {
    connect: Duration::from_millis(1000),
    attempt: Duration::from_millis(1000),
    operation: Duration::from_millis(2000),
    max_attempts: 2,
    initial_backoff: Duration::from_millis(50),
};

/// The Secrets Manager client, on the same HTTPS client and configuration.
pub(crate) fn secrets_client(
    sdk: &SdkConfig,
    endpoint_url: Option<&str>,
) -> aws_sdk_secretsmanager::Client {
    let mut config = aws_sdk_secretsmanager::config::Builder::from(sdk)
        .timeout_config(timeouts(&SECRETS_LIMITS))
        .retry_config(retries(&SECRETS_LIMITS));
    if let Some(url) = endpoint_url {
        config = config.endpoint_url(url);
    }
    aws_sdk_secretsmanager::Client::from_conf(config.build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn a_call_is_bounded_by_its_attempts_and_the_operation_limit() {
        let retry = RetryConfig::standard()
            .with_max_attempts(3)
            .with_initial_backoff(Duration::from_millis(100))
            .with_max_backoff(Duration::from_millis(150));
        // 3 × 1.2 s, then 0.1 s and min(0.2, 0.15) s between.
        assert_eq!(
            attempts_bound(Duration::from_millis(1200), &retry),
            Duration::from_millis(3850)
        );
        let sdk = crate::testing::sdk_config();
        let operation = |t: CallLimits| {
            let client = dynamodb_client(&sdk, None, t);
            client
                .config()
                .timeout_config()
                .and_then(|c| c.operation_timeout())
        };
        // The defaults: the attempts end first, no operation timer is armed.
        let defaults = CallLimits::default();
        assert_eq!(operation(defaults), None);
        // A shorter operation limit is the SDK's to enforce.
        let short = CallLimits {
            operation: Duration::from_millis(1500),
            ..defaults
        };
        assert_eq!(operation(short), Some(Duration::from_millis(1500)));
    }

    /// An HTTP client that counts the SDK's checks of it.
    #[derive(Debug, Default, Clone)]
    struct Counting(std::sync::Arc<std::sync::atomic::AtomicUsize>);

    impl HttpClient for Counting {
        fn http_connector(
            &self,
            _: &HttpConnectorSettings,
            _: &RuntimeComponents,
        ) -> SharedHttpConnector {
            unreachable!("no call is made")
        }

        fn validate_base_client_config(
            &self,
            _: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder,
            _: &ConfigBag,
        ) -> Result<(), BoxError> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(())
        }
    }

    #[test]
    fn building_a_service_client_builds_no_connector() {
        let validated = |wrap: bool| {
            let inner = Counting::default();
            let client = SharedHttpClient::new(inner.clone());
            let client = if wrap {
                SharedHttpClient::new(ConnectorsWhenUsed(client))
            } else {
                client
            };
            let sdk = crate::testing::sdk_config()
                .into_builder()
                .http_client(client)
                .build();
            dynamodb_client(&sdk, None, CallLimits::default());
            secrets_client(&sdk, None);
            inner.0.load(std::sync::atomic::Ordering::Relaxed)
        };
        // The SDK's own client builds (and drops) a connector there, per
        // service client.
        assert_eq!(validated(false), 2);
        assert_eq!(validated(true), 0);
    }

    #[test]
    fn extra_roots_that_would_fail_the_first_connection_fail_start_up() {
        let file = |name: &str, pem: &[u8]| {
            let path = std::env::temp_dir().join(format!(
                "intervention-verify-roots-{}-{name}.pem",
                std::process::id()
            ));
            std::fs::write(&path, pem).expect("a temporary file");
            path
        };
        let good = file("good", AMAZON_ROOTS);
        assert!(https_client(Some(&good)).is_ok());
        let block = |body: &str| {
            format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n")
        };
        for (name, pem) in [
            ("not-base64", block("@@not base64@@")),
            // Decodes, but is not a certificate.
            ("not-a-certificate", block("aGVsbG8gd29ybGQ=")),
        ] {
            let path = file(name, pem.as_bytes());
            assert!(https_client(Some(&path)).is_err(), "{name}");
            std::fs::remove_file(path).ok();
        }
        std::fs::remove_file(good).ok();
    }

    #[test]
    fn both_clients_sleep_on_the_functions_timer() {
        let sdk = crate::testing::sdk_config();
        let dynamodb = dynamodb_client(&sdk, None, CallLimits::default());
        let secrets = secrets_client(&sdk, None);
        for (client, sleep) in [
            ("DynamoDB", dynamodb.config().sleep_impl()),
            ("Secrets Manager", secrets.config().sleep_impl()),
        ] {
            // Not the SDK's default TokioSleep, whose first timer per request
            // wakes tokio's driver (src/timer.rs).
            let sleep = format!("{sleep:?}");
            assert!(sleep.contains("SdkSleep"), "{client}: {sleep}");
        }
    }

    #[test]
    fn our_interceptors_cost_the_sdk_no_lookup_at_hooks_they_do_not_read() {
        use aws_smithy_runtime_api::client::interceptors::OverriddenHooks;
        let client = dynamodb_client(&crate::testing::sdk_config(), None, CallLimits::default());
        let ours: Vec<_> = client
            .config()
            .interceptors()
            .filter(|i| ["SkipInformationalHeaders", "OwnCodec"].contains(&i.name()))
            .collect();
        assert_eq!(ours.len(), 2);
        for interceptor in ours {
            let name = interceptor.name();
            assert_eq!(
                interceptor.overridden_hooks(),
                OverriddenHooks::READ_BEFORE_EXECUTION,
                "{name}"
            );
            // `permanent`: the SDK never asks the configuration whether it
            // was disabled (its Debug says so; nothing else shows it).
            let shown = format!("{interceptor:?}");
            assert!(shown.contains("permanent: true"), "{name}: {shown}");
        }
    }

    /// One request read at the socket: its header lines and its body.
    async fn read_request(socket: &mut tokio::net::TcpStream) -> (Vec<(String, String)>, Vec<u8>) {
        let mut data = Vec::new();
        let mut buf = [0u8; 4096];
        let end = loop {
            if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                break at;
            }
            let n = socket.read(&mut buf).await.expect("the request");
            assert!(n > 0, "the client closed before its headers ended");
            data.extend_from_slice(&buf[..n]);
        };
        let head = String::from_utf8(data[..end].to_vec()).expect("an ASCII head");
        let headers: Vec<(String, String)> = head
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let length: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .map(|(_, v)| v.parse().expect("a length"))
            .expect("a content-length");
        let mut body = data[end + 4..].to_vec();
        while body.len() < length {
            let n = socket.read(&mut buf).await.expect("the body");
            assert!(n > 0, "the client closed before its body ended");
            body.extend_from_slice(&buf[..n]);
        }
        (headers, body)
    }

    /// DynamoDB calls through the client as built here, read at the socket:
    /// signed as the SDK's own signer signs them (checked by that signer),
    /// with one signing key for both, and without the headers the skipped
    /// interceptors would add.
    #[tokio::test]
    async fn calls_are_signed_as_the_sdk_signs_them_without_informational_headers() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let port = listener.local_addr().expect("its address").port();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("the client connects");
            let mut requests = Vec::new();
            for _ in 0..2 {
                requests.push(read_request(&mut socket).await);
                let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: 2\r\n\r\n{}";
                socket
                    .write_all(answer.as_bytes())
                    .await
                    .expect("the answer");
            }
            requests
        });
        let credentials = aws_credential_types::Credentials::new(
            "AKID",
            "SECRET",
            Some("TOKEN".into()),
            None,
            "test",
        );
        let sdk = crate::testing::sdk_config()
            .to_builder()
            .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
                credentials.clone(),
            ))
            .build();
        let endpoint = format!("http://127.0.0.1:{port}");
        let client = dynamodb_client(&sdk, Some(&endpoint), CallLimits::default());
        let derived = sigv4::DERIVED.with(|d| d.get());
        for table in ["t", "another"] {
            let _ = client.describe_table().table_name(table).send().await;
        }
        assert_eq!(
            sigv4::DERIVED.with(|d| d.get()) - derived,
            1,
            "one key, kept"
        );
        for (headers, body) in server.await.expect("the server task") {
            let get = |name: &str| {
                headers
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
            };
            let ours = get("authorization").expect("an authorization");
            let amz = get("x-amz-date").expect("an x-amz-date");
            let unsigned: Vec<(&str, &str)> = headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .filter(|(n, _)| {
                    !["authorization", "x-amz-date", "x-amz-security-token"].contains(n)
                })
                .collect();
            let uri = format!("{endpoint}/");
            let at = (sigv4::tests::at(&amz), "eu-west-3", "dynamodb");
            let sdk =
                sigv4::tests::sdk_authorization(("POST", &uri), &unsigned, &body, at, &credentials);
            assert_eq!(ours, sdk);
            assert!(ours.contains("x-amz-security-token"), "{ours}");
            assert_eq!(get("x-amz-security-token").as_deref(), Some("TOKEN"));
            for skipped in ["user-agent", "amz-sdk-invocation-id", "amz-sdk-request"] {
                assert!(get(skipped).is_none(), "{skipped} in {headers:?}");
            }
        }
    }
}
