//! The process: configuration, the SDK clients, the store and the keys are
//! built once (the slow parts at the same time), then every invocation goes
//! through `handler::handle`.

use std::time::{Duration, Instant};

use crate::auth::{AuthSettings, Authenticator, KeyClients, SecretSource};
use crate::aws;
use crate::config::{AwsSettings, Config};
use crate::edge::lambda::{ApiEvent, ApiResponse, into_request};
use crate::handler::{App, handle};
use crate::keys::{Clock, WebClient};
use crate::store::{DynamoStore, WarmUpError};
use crate::telemetry;
use lambda_runtime::{Error, LambdaEvent, service_fn};

/// Builds everything once, then serves invocations until the runtime stops.
pub async fn run() -> Result<(), Error> {
    let t0 = Instant::now();
    let started_at = std::time::SystemTime::now();
    telemetry::init();
    let config = Config::from_env().map_err(|e| fatal(&e))?;
    let t_config = t0.elapsed();

    let sdk = aws::sdk_config(&config.aws).map_err(|e| fatal(&format!("SSL_CERT_FILE: {e}")))?;
    let client = aws::dynamodb_client(&sdk, config.aws.dynamodb_endpoint.as_deref(), config.dynamo);
    let store = DynamoStore::new(
        client,
        config.interventions_table,
        config.notifications_table,
    );
    let clients = key_clients(&config.auth, &config.aws, &sdk)?;
    let t_clients = t0.elapsed();
    // The table warm-up, the secret reads and the JWKS fetch run at once:
    // init grows by the slowest of them, not their sum.
    let ((authenticator, keys_took), (warm, warmup_took)) = tokio::join!(
        timed(Authenticator::start(&config.auth, &clients)),
        timed(store.warm_up())
    );
    let authenticator = authenticator.map_err(|e| fatal(&e))?;
    let dynamodb_warm = match warm {
        Ok(()) => true,
        Err(e @ WarmUpError::NoSuchTable) => return Err(fatal(&e)),
        // Not fatal: the first request connects, and retries, by itself.
        Err(e) => {
            tracing::warn!(error = %e, "DynamoDB warm-up failed");
            false
        }
    };
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    // Where init time goes, for operators and `make bench`.
    let epoch_us = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64)
    };
    tracing::info!(
        main_started_epoch_us = epoch_us(started_at),
        ready_epoch_us = epoch_us(std::time::SystemTime::now()),
        config_ms = ms(t_config),
        clients_ms = ms(t_clients - t_config),
        keys_and_warmup_ms = ms(t0.elapsed() - t_clients),
        keys_ms = ms(keys_took),
        warmup_ms = ms(warmup_took),
        dynamodb_warm,
        "init complete"
    );
    telemetry::stdout_sink(&telemetry::init_metrics_line(t0.elapsed()));
    let app = App {
        authenticator,
        store,
        origins: config.allowed_origins,
        log_sink: telemetry::stdout_sink,
    };

    // `Runtime::run` rather than `lambda_runtime::run`: the latter adds a
    // tracing span per invocation that no log line of ours reads (each line
    // carries its request id itself); figure in docs/PERFORMANCE.md.
    lambda_runtime::Runtime::new(service_fn(|event: LambdaEvent<ApiEvent>| {
        let app = &app;
        async move {
            let (req, format) = into_request(event.payload, event.context);
            Ok::<ApiResponse, Error>(format.respond(handle(app, req).await))
        }
    }))
    .run()
    .await
}

/// `f`'s output and how long it took.
async fn timed<T>(f: impl Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    (f.await, started.elapsed())
}

/// The clients for the key sources the settings name, and only those: no
/// Secrets Manager client without a secret id, no web client without a URL.
fn key_clients(
    auth: &AuthSettings,
    settings: &AwsSettings,
    sdk: &aws_config::SdkConfig,
) -> Result<KeyClients, Error> {
    let managed = |s: Option<&SecretSource>| matches!(s, Some(SecretSource::SecretsManager(_)));
    let secrets = (managed(Some(&auth.session_secret)) || managed(auth.access.secret()))
        .then(|| aws::secrets_client(sdk, settings.secrets_endpoint.as_deref()));
    let web = match auth.access.jwks_url() {
        Some(_) => Some(
            WebClient::new(settings.ssl_cert_file.as_deref())
                .map_err(|e| fatal(&format!("SSL_CERT_FILE: {e}")))?,
        ),
        None => None,
    };
    Ok(KeyClients {
        secrets,
        web,
        clock: Clock::system(),
    })
}

/// Logs why start-up stopped, naming the setting, and turns it into the
/// error that ends the process.
fn fatal(e: &dyn std::fmt::Display) -> Error {
    tracing::error!(error = %e, "configuration error; not starting");
    format!("configuration error: {e}").into()
}
