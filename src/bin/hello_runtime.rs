//! The baseline for the cold-start benchmark: a bare `lambda_runtime`
//! function that answers every event with a fixed response. `make bench`
//! runs it under the same harness as `bootstrap` and prints the ratio of
//! their init times. Never deployed.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|_: LambdaEvent<Value>| async {
        Ok::<Value, Error>(json!({"statusCode": 200, "body": "hello"}))
    }))
    .await
}
