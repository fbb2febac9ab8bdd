//! Times the function's own decision `UpdateItem` (`DynamoStore::decision_request`),
//! sent with the function's SDK client (same HTTPS client, timeouts and
//! retries) straight to the engine: the round trip that `make bench` subtracts from the warm latency.
//!
//! Usage: engine_rtt TABLE FIRST_ID COUNT (environment as for the function:
//! AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION, credentials, SSL_CERT_FILE).
//! Prints `{"p50_ms": …, "p99_ms": …, "count": …}`.

use std::time::Instant;

use intervention_verify::aws;
use intervention_verify::config::{CallLimits, Config};
use intervention_verify::domain::{DecisionWrite, HistoryEntry, InterventionId, Status};
use intervention_verify::store::DynamoStore;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [table, first, count] = args.as_slice() else {
        return Err("usage: engine_rtt TABLE FIRST_ID COUNT".into());
    };
    let (first, count): (i64, usize) = (first.parse()?, count.parse()?);
    let config = Config::from_env()?;
    let sdk = aws::sdk_config(&config.aws)?;
    let store = DynamoStore::new(
        aws::dynamodb_client(
            &sdk,
            config.aws.dynamodb_endpoint.as_deref(),
            CallLimits::default(),
        ),
        table.clone(),
        config.notifications_table,
    );
    let mut times = Vec::with_capacity(count);
    for (n, id) in (first..first + count as i64 + 1).enumerate() {
        let request = store.decision_request(&DecisionWrite {
            intervention_id: InterventionId::new(id).ok_or("an id out of range")?,
            organization_ids: vec![1],
            new_status: Status::Validated,
            entry: HistoryEntry {
                decision: 1,
                decision_comment: "Bench decision".into(),
                user_id: 42,
                session_id: "s".into(),
                at: "2024-12-09T14:23:00.000Z".into(),
            },
        })?;
        let started = Instant::now();
        request.send().await?;
        // The first call opens the connection; it is not a round trip.
        if n > 0 {
            times.push(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    times.sort_by(f64::total_cmp);
    let at = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    println!(
        "{{\"p50_ms\": {:.4}, \"p99_ms\": {:.4}, \"count\": {}}}",
        at(0.5),
        at(0.99),
        times.len()
    );
    Ok(())
}
