//! The test kit: tokens, the auth fixture, API Gateway events and a stand-in
//! store, shared by the unit tests, the integration tests, the fuzzer, the
//! bench and `dev-tokens`. Compiled for `cfg(test)` and with the `testing`
//! feature only; the deployed function never contains it. What only the
//! tests use is `cfg(test)`, so the feature's build (the bench,
//! `dev-tokens`) holds just what they use.

pub mod bench;
pub(crate) mod events;
pub(crate) mod stores;
pub mod tokens;

use crate::auth::{
    AccessKeySources, AuthSettings, Authenticator, ClaimNames, Hs256Secret, KeyClients,
    SecretSource,
};
use crate::config::AllowedOrigins;
#[cfg(test)]
use crate::domain::Intervention;
use crate::error::ConfigError;
use crate::handler::App;

/// The reference's 28 response fields, in its order: what [`Intervention`]
/// serialises to. Tests hold the wire format to it.
#[cfg(test)]
pub(crate) const REFERENCE_FIELDS: [&str; 28] = [
    "id",
    "status",
    "type",
    "description",
    "imgSignature",
    "codePin",
    "autoCreated",
    "creationStatus",
    "scheduledStart",
    "scheduledEnd",
    "actualStart",
    "actualEnd",
    "providerName",
    "providerEmail",
    "providerActionComment",
    "providerGeneralComment",
    "assignedCompanyContactId",
    "assignedUserId",
    "verifiedByUserId",
    "verifiedAt",
    "decisionComment",
    "attendeeCount",
    "routineId",
    "organizationId",
    "createdByUserId",
    "archivedAt",
    "updatedAt",
    "createdAt",
];

/// The SDK configuration of a function in eu-west-3 with no endpoint
/// overrides: enough to build clients; nothing here reaches a network.
#[cfg(test)]
pub(crate) fn sdk_config() -> aws_config::SdkConfig {
    let settings = crate::config::AwsSettings {
        region: "eu-west-3".into(),
        dynamodb_endpoint: None,
        secrets_endpoint: None,
        ssl_cert_file: None,
    };
    crate::aws::sdk_config(&settings).unwrap_or_else(|e| panic!("the SDK configuration: {e}"))
}

/// Keys of every kind the function accepts: the fixture JWKS (RS256, ES256,
/// EdDSA), the HS256 access secret and the session secret, all in memory.
pub(crate) fn auth_settings() -> AuthSettings {
    key_settings(
        access_sources(Some(tokens::JWKS), Some(tokens::ACCESS_SECRET)),
        SecretSource::Value(secret(tokens::SESSION_SECRET)),
    )
}

/// The key sources alone: no issuer, audience or client checks, the
/// default claim names.
pub(crate) fn key_settings(access: AccessKeySources, session_secret: SecretSource) -> AuthSettings {
    AuthSettings {
        access,
        session_secret,
        issuer: None,
        audiences: Vec::new(),
        client_ids: Vec::new(),
        claims: ClaimNames::default(),
    }
}

/// Access key sources in memory: the pinned JWKS `jwks`, the HS256 secret
/// `secret`, at least one of them (or the test is wrong).
pub(crate) fn access_sources(jwks: Option<&str>, secret_value: Option<&str>) -> AccessKeySources {
    AccessKeySources::new(
        jwks.map(str::to_owned),
        None,
        secret_value.map(|s| SecretSource::Value(secret(s))),
    )
    .expect("at least one access key source")
}

/// A test's HS256 secret (at least 32 bytes, or the test is wrong).
pub(crate) fn secret(value: &str) -> Hs256Secret {
    Hs256Secret::new(value).expect("a test secret of at least 32 bytes")
}

pub(crate) fn authenticator(settings: &AuthSettings) -> Authenticator {
    try_authenticator(settings).unwrap_or_else(|e| panic!("test keys: {e}"))
}

/// An authenticator over keys given as values only: no remote source, so
/// nothing waits and one poll completes the start.
pub(crate) fn try_authenticator(settings: &AuthSettings) -> Result<Authenticator, ConfigError> {
    let clients = KeyClients::default();
    let start = std::pin::pin!(Authenticator::start(settings, &clients));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::future::Future::poll(start, &mut cx) {
        std::task::Poll::Ready(result) => result,
        std::task::Poll::Pending => Err(ConfigError::Unusable {
            name: "ACCESS_TOKEN_JWKS_URL/*_SECRET_ID",
            problem: "remote key sources need Authenticator::start".into(),
        }),
    }
}

/// The function with the test keys over `store`, logging nowhere.
pub(crate) fn app<S>(store: S, origins: AllowedOrigins) -> App<S> {
    App {
        authenticator: authenticator(&auth_settings()),
        store,
        origins,
        log_sink: |_| {},
    }
}

/// An intervention with every field of the API reference set except the
/// verification and archive fields, in `status`, owned by `org`.
pub(crate) fn stored(id: i64, status: i64, org: i64) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "status": status,
        "type": 1,
        "description": "Boiler maintenance",
        "imgSignature": "signature.png",
        "codePin": 123456,
        "autoCreated": true,
        "creationStatus": 1,
        "scheduledStart": "2024-12-01T12:34:56.000Z",
        "scheduledEnd": "2024-12-05T14:56:23.000Z",
        "actualStart": "2024-12-01T12:34:56.000Z",
        "actualEnd": "2024-12-01T15:00:00.000Z",
        "providerName": "Provider name",
        "providerEmail": "provider@example.fr",
        "providerActionComment": "Replaced the pump",
        "providerGeneralComment": "All good",
        "assignedCompanyContactId": 3,
        "assignedUserId": 4,
        "attendeeCount": 2,
        "routineId": 5,
        "organizationId": org,
        "createdByUserId": 6,
        "updatedAt": "2024-12-01T15:00:00.000Z",
        "createdAt": "2024-01-15T08:45:00.000Z"
    })
}

/// The same record as the function reads it: [`stored`], typed.
#[cfg(test)]
pub(crate) fn record(id: i64, status: i64, organization_id: i64) -> Intervention {
    serde_json::from_value(stored(id, status, organization_id)).expect("the fixture is a record")
}

/// Polls a future that cannot wait (keys in memory, a stand-in store) to its
/// end, without a runtime.
pub(crate) fn ready<T>(f: impl Future<Output = T>) -> T {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::pin::pin!(f).poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("the future waited on something"),
    }
}

/// The bench's decision on intervention `id` at `at`: accepted by user 42
/// (session `s`) of organisation 1. `None` for an id out of range.
fn bench_write(id: i64, at: &str) -> Option<crate::domain::DecisionWrite> {
    use crate::domain::{DecisionWrite, HistoryEntry, InterventionId, Status};
    Some(DecisionWrite {
        intervention_id: InterventionId::new(id)?,
        organization_ids: vec![1],
        new_status: Status::Validated,
        entry: HistoryEntry {
            decision: 1,
            decision_comment: "Bench decision".into(),
            user_id: 42,
            session_id: "s".into(),
            at: at.to_owned(),
        },
    })
}

/// The body of the bench's decision on intervention `id` at `at` in
/// `table`, written by the function's own writer (`store::request`): the
/// floor's request (`src/bin/floor_ddb.rs`).
pub fn decision_body(table: &str, id: i64, at: &str) -> Result<Vec<u8>, crate::store::StoreError> {
    let write = bench_write(id, at).ok_or_else(|| {
        crate::store::StoreError::Internal(format!("intervention id {id} out of range").into())
    })?;
    crate::store::request::decision_body(table, &write)
}

/// The function's own decision `UpdateItem` (`DynamoStore::decision_request`)
/// sent `count + 1` times to `table` with the function's SDK client (its
/// HTTPS client, timeouts and retries), configured from the environment as
/// the function is; the round trip of each call after the first (which
/// opens the connection). For `make bench`, which subtracts it from the warm
/// latency (`examples/engine_rtt.rs`).
pub async fn decision_round_trips(
    table: &str,
    first_id: i64,
    count: usize,
) -> Result<Vec<std::time::Duration>, Box<dyn std::error::Error>> {
    let config = crate::config::Config::from_env()?;
    let sdk = crate::aws::sdk_config(&config.aws)?;
    let store = crate::store::DynamoStore::new(
        crate::aws::dynamodb_client(
            &sdk,
            config.aws.dynamodb_endpoint.as_deref(),
            crate::config::CallLimits::default(),
        ),
        table.to_owned(),
        config.notifications_table,
    );
    let mut times = Vec::with_capacity(count);
    for (n, id) in (first_id..).take(count + 1).enumerate() {
        let write = bench_write(id, "2024-12-09T14:23:00.000Z").ok_or("an id out of range")?;
        let request = store.decision_request(&write)?;
        let started = std::time::Instant::now();
        request.send().await?;
        if n > 0 {
            times.push(started.elapsed());
        }
    }
    Ok(times)
}
