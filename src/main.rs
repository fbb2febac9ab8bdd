//! Wiring only: configuration, the SDK client and the keys are built once,
//! then every invocation goes through `handler::handle`.

use std::time::{Duration, Instant};

use intervention_verify::auth::Verifier;
use intervention_verify::config::Config;
use intervention_verify::edge::lambda::{ApiEvent, ApiResponse, into_request};
use intervention_verify::handler::{App, handle};
use intervention_verify::store::{self, DynamoStore, WarmUpError};
use intervention_verify::telemetry;
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let t0 = Instant::now();
    let started_at = std::time::SystemTime::now();
    telemetry::init();
    let config = Config::from_env().map_err(|e| fatal(&e))?;
    let verifier = Verifier::new(&config.auth).map_err(|e| fatal(&e))?;
    let t_keys = t0.elapsed();

    let sdk = store::sdk_config(&config.aws).map_err(|e| fatal(&format!("SSL_CERT_FILE: {e}")))?;
    let t_sdk = t0.elapsed();
    let client = store::client(&sdk, config.dynamo);
    let t_client = t0.elapsed();
    let store = DynamoStore::new(
        client,
        config.interventions_table,
        config.notifications_table,
    );
    let dynamodb_warm = match store.warm_up().await {
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
        config_and_keys_ms = ms(t_keys),
        sdk_config_ms = ms(t_sdk - t_keys),
        client_ms = ms(t_client - t_sdk),
        warmup_ms = ms(t0.elapsed() - t_client),
        dynamodb_warm,
        "init complete"
    );
    let app = App {
        verifier,
        store,
        origins: config.allowed_origins,
        log_sink: telemetry::stdout_sink,
    };

    lambda_runtime::run(service_fn(|event: LambdaEvent<ApiEvent>| {
        let app = &app;
        async move {
            let is_rest = event.payload.is_rest();
            let req = into_request(event.payload, event.context);
            Ok::<ApiResponse, Error>(ApiEvent::respond_with(is_rest, handle(app, req).await))
        }
    }))
    .await
}

/// Logs why start-up stopped, naming the setting, and turns it into the
/// error that ends the process.
fn fatal(e: &dyn std::fmt::Display) -> Error {
    tracing::error!(error = %e, "configuration error; not starting");
    format!("configuration error: {e}").into()
}
