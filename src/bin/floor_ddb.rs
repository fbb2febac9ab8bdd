//! The CPU floor for `make bench`: the bare `lambda_runtime` loop plus the one
//! thing a decision cannot avoid, one SigV4-signed DynamoDB `UpdateItem` (the
//! function's own conditional update, `ReturnValues=ALL_NEW`) per invocation,
//! over a kept HTTP/1.1 connection with hyper and rustls (aws-lc, the stack
//! the SDK's client is made of), signed by the function's own SigV4 code
//! (`src/aws/sigv4.rs`, the day's key kept), its body written by the
//! function's own writer (`src/store/request.rs`, through the test kit,
//! hence the `testing` feature) and the answer read into
//! the record by its own reader (`src/store/item.rs`: serde_json, typed), on
//! the function's allocator (mimalloc). Each of these is the cheapest way
//! the function knows to do that step: a floor that does more (the system
//! allocator, a `serde_json::Value` built and parsed) flatters the function.
//! No SDK, no token checks, no log line. Never deployed.
//!
//! Event: `{"id": N}`. Environment: AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION,
//! AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN when set),
//! INTERVENTIONS_TABLE, SSL_CERT_FILE (the bench's local CA).

use std::time::SystemTime;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use intervention_verify::testing::decision_body;
use intervention_verify::{Canonical, Scope, SigningKeys, read_answer};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

// As the function's (src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Https = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

struct Floor {
    client: Https,
    uri: hyper::Uri,
    host: String,
    region: String,
    access_key: String,
    secret_key: String,
    session_token: Option<String>,
    table: String,
    keys: SigningKeys,
}

fn env(name: &str) -> Result<String, Error> {
    std::env::var(name).map_err(|_| format!("{name} is not set").into())
}

/// The function's own HTTPS connector (the one its JWKS client uses).
fn https(ssl_cert_file: Option<String>) -> Result<Https, Error> {
    let connector =
        intervention_verify::https_connector(ssl_cert_file.as_deref().map(std::path::Path::new))?;
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}

/// `2024-12-09T14:23:00.000Z` for now.
fn now() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

impl Floor {
    fn from_env() -> Result<Self, Error> {
        let uri: hyper::Uri = env("AWS_ENDPOINT_URL_DYNAMODB")?.parse()?;
        let host = uri
            .authority()
            .ok_or("endpoint without a host")?
            .to_string();
        Ok(Self {
            client: https(std::env::var("SSL_CERT_FILE").ok())?,
            uri,
            host,
            region: env("AWS_REGION")?,
            access_key: env("AWS_ACCESS_KEY_ID")?,
            secret_key: env("AWS_SECRET_ACCESS_KEY")?,
            session_token: std::env::var("AWS_SESSION_TOKEN").ok(),
            table: env("INTERVENTIONS_TABLE")?,
            keys: SigningKeys::default(),
        })
    }

    async fn call(&self, target: &str, body: Vec<u8>) -> Result<(u16, Bytes), Error> {
        let scope = Scope::at(SystemTime::now(), &self.region, "dynamodb");
        let target = format!("DynamoDB_20120810.{target}");
        let mut headers = vec![
            ("content-type", "application/x-amz-json-1.0"),
            ("host", self.host.as_str()),
            ("x-amz-date", scope.amz_date()),
        ];
        if let Some(token) = &self.session_token {
            headers.push(("x-amz-security-token", token.as_str()));
        }
        headers.push(("x-amz-target", target.as_str()));
        let canonical = Canonical {
            method: "POST",
            path: "/",
            headers: &headers,
            body: &body,
        };
        let auth = self
            .keys
            .authorization(&canonical, &scope, &self.access_key, &self.secret_key);
        let mut request = hyper::Request::post(self.uri.clone());
        for (k, v) in headers.iter().filter(|(k, _)| *k != "host") {
            request = request.header(*k, *v);
        }
        let request = request
            .header("authorization", auth)
            .body(Full::new(Bytes::from(body)))?;
        let response = self.client.request(request).await?;
        let status = response.status().as_u16();
        Ok((status, response.into_body().collect().await?.to_bytes()))
    }

    async fn decide(&self, event: LambdaEvent<Value>) -> Result<Value, Error> {
        let id = event.payload["id"].as_i64().ok_or("event without an id")?;
        let body = decision_body(&self.table, id, &now())?;
        let (status, answer) = self.call("UpdateItem", body).await?;
        // The record, read as the function reads it.
        let record = read_answer(&answer)?;
        let read = if record == Default::default() {
            "empty"
        } else {
            "read"
        };
        Ok(json!({"statusCode": status, "body": read}))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let floor = Floor::from_env()?;
    // As the function does at init: the connection opened before any request.
    let describe = serde_json::to_vec(&json!({"TableName": floor.table}))?;
    floor.call("DescribeTable", describe).await?;
    let floor = &floor;
    lambda_runtime::run(service_fn(move |event| floor.decide(event))).await
}
