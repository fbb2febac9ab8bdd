//! Wiring only: configuration, the SDK client and the keys are built once,
//! then every invocation goes through `handler::handle`.

use aws_config::BehaviorVersion;
use intervention_verify::auth::Verifier;
use intervention_verify::config::Config;
use intervention_verify::edge::lambda::{ApiEvent, ApiResponse, into_request};
use intervention_verify::handler::{App, handle};
use intervention_verify::store::{self, DynamoStore, WarmUpError};
use intervention_verify::telemetry;
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let config = Config::from_env().map_err(|e| fatal(&e))?;
    let verifier = Verifier::new(&config.auth).map_err(|e| fatal(&e))?;

    let sdk = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let client = store::client(&sdk, config.dynamo);
    let store = DynamoStore::new(
        client,
        config.interventions_table,
        config.notifications_table,
    );
    let started = std::time::Instant::now();
    match store.warm_up().await {
        Ok(()) => tracing::info!(
            warmup_ms = started.elapsed().as_secs_f64() * 1e3,
            "DynamoDB connection ready"
        ),
        Err(e @ WarmUpError::NoSuchTable) => return Err(fatal(&e)),
        // Not fatal: the first request connects, and retries, by itself.
        Err(e) => tracing::warn!(error = %e, "DynamoDB warm-up failed"),
    }
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
