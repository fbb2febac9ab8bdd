//! The real local DynamoDB engine (moto behind `scripts/local_dynamodb.py`),
//! started by the test binary itself on a free port and gone when it exits:
//! one shared by most tests, and private ones for tests that stop, slow or
//! count theirs.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use crate::config::CallLimits;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use serde_json::Value;

pub(crate) struct Engine {
    child: Mutex<Option<Child>>,
    pub port: u16,
}

use super::python;

fn spawn(port: u16) -> (Child, u16) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/local_dynamodb.py");
    let mut child = Command::new(python())
        .args([script, "--port", &port.to_string(), "--parent-pid"])
        .arg(std::process::id().to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "starting the local engine with {}: {e} (run `make venv`)",
                python()
            )
        });
    let stdout = child
        .stdout
        .take()
        .unwrap_or_else(|| panic!("engine stdout"));
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap_or_else(|e| panic!("reading the engine's READY line: {e}"));
    let port = line
        .strip_prefix("READY ")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("engine did not start: {line:?}"));
    (child, port)
}

/// The engine most tests share.
pub(crate) fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(Engine::start)
}

impl Engine {
    /// A new engine on a free port, killed when dropped (or when the test
    /// process exits).
    pub(crate) fn start() -> Self {
        let (child, port) = spawn(0);
        Engine {
            child: Mutex::new(Some(child)),
            port,
        }
    }

    pub(crate) fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Kills the engine: the next DynamoDB call fails to connect.
    pub(crate) fn stop(&self) {
        let mut guard = self.child.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(mut c) = guard.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port (tables are gone: moto is in memory).
    pub(crate) fn restart(&self) {
        self.stop();
        let (child, _) = spawn(self.port);
        *self.child.lock().unwrap_or_else(|e| e.into_inner()) = Some(child);
    }

    fn control(&self, method: &str, path: &str, body: &str) -> Value {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap_or_else(|e| panic!("{e}"));
        s.set_read_timeout(Some(Duration::from_secs(5))).ok();
        let req = format!(
            "{method} {path} HTTP/1.0\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        let mut resp = String::new();
        s.read_to_string(&mut resp)
            .unwrap_or_else(|e| panic!("{e}"));
        let (head, body) = resp
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("{method} {path}: not an HTTP answer: {resp:?}"));
        assert_eq!(
            head.split_whitespace().nth(1),
            Some("200"),
            "{method} {path}: {head}"
        );
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{method} {path}: {e}: {body}"))
    }

    /// Answers the next `count` DynamoDB requests with `code` (HTTP `status`).
    pub(crate) fn inject(&self, code: &str, count: u32, status: u16) {
        self.control(
            "POST",
            "/_local/faults",
            &serde_json::json!({"code": code, "count": count, "status": status}).to_string(),
        );
    }

    /// Delays every DynamoDB request by `ms` (0 to stop).
    pub(crate) fn delay(&self, ms: u64) {
        self.control(
            "POST",
            "/_local/faults",
            &serde_json::json!({"delay_ms": ms}).to_string(),
        );
    }

    /// Delays the DynamoDB requests on `table` only by `ms`.
    pub(crate) fn delay_table(&self, table: &str, ms: u64) {
        self.control(
            "POST",
            "/_local/faults",
            &serde_json::json!({"delay_ms": ms, "delay_table": table}).to_string(),
        );
    }

    /// DynamoDB requests by operation since the last reset (an operation
    /// not called is absent).
    pub(crate) fn stats(&self) -> serde_json::Map<String, Value> {
        match self.control("GET", "/_local/stats", "") {
            Value::Object(counts) => counts,
            other => panic!("the engine's stats are not an object: {other}"),
        }
    }

    pub(crate) fn reset_stats(&self) {
        self.control("POST", "/_local/stats/reset", "");
    }
}

fn sdk(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-3"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
            Credentials::new("test", "test", None, None, "tests"),
        ))
        .build()
}

/// An SDK client for the engine, with the function's own timeouts and retries.
pub(crate) fn client(endpoint: &str, timeouts: CallLimits) -> Client {
    crate::aws::dynamodb_client(&sdk(endpoint), None, timeouts)
}

/// The function's own Secrets Manager client, pointed at `endpoint`.
pub(crate) fn secrets_client(endpoint: &str) -> aws_sdk_secretsmanager::Client {
    crate::aws::secrets_client(&sdk(endpoint), None)
}

/// Stores `value` as secret `id` in the shared engine: created when new,
/// else rotated (the old `AWSCURRENT` becomes `AWSPREVIOUS`).
pub(crate) async fn put_secret(id: &str, value: &str) {
    let client = secrets_client(&engine().endpoint());
    let created = client
        .create_secret()
        .name(id)
        .secret_string(value)
        .send()
        .await;
    if let Err(e) = created {
        if !e
            .as_service_error()
            .is_some_and(|s| s.is_resource_exists_exception())
        {
            panic!("create secret {id}: {e:?}");
        }
        client
            .put_secret_value()
            .secret_id(id)
            .secret_string(value)
            .send()
            .await
            .unwrap_or_else(|e| panic!("rotate secret {id}: {e:?}"));
    }
}

/// Fresh tables with unique names, so tests run in parallel on one engine.
pub(crate) async fn create_tables(client: &Client) -> (String, String) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let interventions = format!("interventions-{n}");
    let notifications = format!("notifications-{n}");
    create_tables_named(client, &interventions, &notifications).await;
    (interventions, notifications)
}

/// The two tables under the given names (again after an engine restart).
pub(crate) async fn create_tables_named(client: &Client, interventions: &str, notifications: &str) {
    for (name, key_type) in [
        (interventions, ScalarAttributeType::N),
        (notifications, ScalarAttributeType::S),
    ] {
        client
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("id")
                    .attribute_type(key_type)
                    .build()
                    .unwrap_or_else(|e| panic!("{e}")),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("id")
                    .key_type(KeyType::Hash)
                    .build()
                    .unwrap_or_else(|e| panic!("{e}")),
            )
            .send()
            .await
            .unwrap_or_else(|e| panic!("create table {name}: {e:?}"));
    }
}

pub(crate) async fn put(client: &Client, table: &str, item: Value) {
    let item: std::collections::HashMap<_, _> =
        serde_dynamo::to_item(item).unwrap_or_else(|e| panic!("{e}"));
    client
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put into {table}: {e:?}"));
}

/// The item as JSON, or `Value::Null` when absent.
pub(crate) async fn get(
    client: &Client,
    table: &str,
    key: aws_sdk_dynamodb::types::AttributeValue,
) -> Value {
    let out = client
        .get_item()
        .table_name(table)
        .key("id", key)
        .consistent_read(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get from {table}: {e:?}"));
    match out.item {
        Some(item) => serde_dynamo::from_item(item).unwrap_or_else(|e| panic!("{e}")),
        None => Value::Null,
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.stop();
    }
}
