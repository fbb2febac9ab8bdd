//! Times the function's own decision `UpdateItem`, sent with the function's
//! SDK client straight to the engine (the test kit's `decision_round_trips`):
//! the round trip that `make bench` subtracts from the warm latency.
//!
//! Usage: engine_rtt TABLE FIRST_ID COUNT (environment as for the function:
//! AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION, credentials, SSL_CERT_FILE).
//! Prints `{"p50_ms": …, "p99_ms": …, "count": …}`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [table, first, count] = args.as_slice() else {
        return Err("usage: engine_rtt TABLE FIRST_ID COUNT".into());
    };
    let mut times: Vec<f64> =
        intervention_verify::testing::decision_round_trips(table, first.parse()?, count.parse()?)
            .await?
            .iter()
            .map(|t| t.as_secs_f64() * 1e3)
            .collect();
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
