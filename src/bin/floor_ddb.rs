//! The CPU floor for `make bench`: the bare `lambda_runtime` loop plus the one
//! thing a decision cannot avoid, one SigV4-signed DynamoDB `UpdateItem` (the
//! function's own conditional update, `ReturnValues=ALL_NEW`) per invocation,
//! over a kept HTTP/1.1 connection with hyper and rustls (aws-lc, the stack
//! the SDK's client is made of), the answer parsed with serde_json. No SDK,
//! no token checks, no log line. Never deployed.
//!
//! Event: `{"id": N}`. Environment: AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION,
//! AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN when set),
//! INTERVENTIONS_TABLE, SSL_CERT_FILE (the bench's local CA).

use std::time::SystemTime;

use aws_lc_rs::{digest, hmac};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_hex(data: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, data).as_ref())
}

fn hmac(key: &[u8], data: &[u8]) -> hmac::Tag {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data)
}

/// SigV4 (AWS's "Signature Version 4 signing process"): the `Authorization`
/// header for a request with an empty query string. `headers` are
/// lower-case names with trimmed values, sorted by name, all signed.
fn authorization(
    (method, path): (&str, &str),
    headers: &[(&str, &str)],
    body: &[u8],
    (amz_date, region, service): (&str, &str, &str),
    (access_key, secret_key): (&str, &str),
) -> String {
    let signed: Vec<&str> = headers.iter().map(|(k, _)| *k).collect();
    let signed = signed.join(";");
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let canonical = format!(
        "{method}\n{path}\n\n{canonical_headers}\n{signed}\n{}",
        sha256_hex(body)
    );
    let date = &amz_date[..8];
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical.as_bytes())
    );
    let k_date = hmac(format!("AWS4{secret_key}").as_bytes(), date.as_bytes());
    let k_region = hmac(k_date.as_ref(), region.as_bytes());
    let k_service = hmac(k_region.as_ref(), service.as_bytes());
    let k_signing = hmac(k_service.as_ref(), b"aws4_request");
    let signature = hex(hmac(k_signing.as_ref(), to_sign.as_bytes()).as_ref());
    format!(
        "AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={signed}, Signature={signature}"
    )
}

/// `20241209T142300Z` and `2024-12-09T14:23:00.000Z` for now.
fn now() -> (String, String) {
    let rfc3339 = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
    let amz: String = rfc3339[..19]
        .chars()
        .filter(|c| *c != '-' && *c != ':')
        .collect();
    (format!("{amz}Z"), rfc3339)
}

/// The function's decision write (store.rs), for item `id`.
fn update_item(table: &str, id: i64, at: &str) -> Value {
    json!({
        "TableName": table,
        "Key": {"id": {"N": id.to_string()}},
        "UpdateExpression": "SET #status = :newStatus, #verifiedBy = :user, #verifiedAt = :now, #updatedAt = :now, #comment = :comment, #history = list_append(if_not_exists(#history, :empty), :entry)",
        "ConditionExpression": "attribute_exists(#id) AND attribute_not_exists(#archivedAt) AND #status = :toVerify AND (#org IN (:o0))",
        "ExpressionAttributeNames": {"#id": "id", "#status": "status", "#archivedAt": "archivedAt", "#org": "organizationId",
            "#verifiedBy": "verifiedByUserId", "#verifiedAt": "verifiedAt", "#updatedAt": "updatedAt",
            "#comment": "decisionComment", "#history": "verificationHistory"},
        "ExpressionAttributeValues": {":toVerify": {"N": "3"}, ":newStatus": {"N": "4"}, ":user": {"N": "42"},
            ":now": {"S": at}, ":comment": {"S": "Bench decision"},
            ":entry": {"L": [{"M": {"decision": {"N": "1"}, "decisionComment": {"S": "Bench decision"},
                "userId": {"N": "42"}, "sessionId": {"S": "s"}, "at": {"S": at}}}]},
            ":empty": {"L": []}, ":o0": {"N": "1"}},
        "ReturnValues": "ALL_NEW",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    })
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
        })
    }

    async fn call(&self, target: &str, body: Vec<u8>) -> Result<(u16, Value), Error> {
        let (amz_date, _) = now();
        let target = format!("DynamoDB_20120810.{target}");
        let mut headers = vec![
            ("content-type", "application/x-amz-json-1.0"),
            ("host", self.host.as_str()),
            ("x-amz-date", amz_date.as_str()),
        ];
        if let Some(token) = &self.session_token {
            headers.push(("x-amz-security-token", token.as_str()));
        }
        headers.push(("x-amz-target", target.as_str()));
        let auth = authorization(
            ("POST", "/"),
            &headers,
            &body,
            (&amz_date, &self.region, "dynamodb"),
            (&self.access_key, &self.secret_key),
        );
        let mut request = hyper::Request::post(self.uri.clone());
        for (k, v) in headers.iter().filter(|(k, _)| *k != "host") {
            request = request.header(*k, *v);
        }
        let request = request
            .header("authorization", auth)
            .body(Full::new(Bytes::from(body)))?;
        let response = self.client.request(request).await?;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await?.to_bytes();
        Ok((status, serde_json::from_slice(&bytes)?))
    }

    async fn decide(&self, event: LambdaEvent<Value>) -> Result<Value, Error> {
        let id = event.payload["id"].as_i64().ok_or("event without an id")?;
        let (_, at) = now();
        let body = serde_json::to_vec(&update_item(&self.table, id, &at))?;
        let (status, answer) = self.call("UpdateItem", body).await?;
        Ok(json!({
            "statusCode": status,
            "body": answer["Attributes"]["status"]["N"].as_str().unwrap_or("none"),
        }))
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

#[cfg(test)]
mod tests {
    use super::authorization;

    /// AWS's SigV4 test suite, "get-vanilla".
    #[test]
    fn signs_as_aws_documents() {
        let auth = authorization(
            ("GET", "/"),
            &[
                ("host", "example.amazonaws.com"),
                ("x-amz-date", "20150830T123600Z"),
            ],
            b"",
            ("20150830T123600Z", "us-east-1", "service"),
            ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        );
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }
}
