//! The integration tests' scaffolding, in one place: the engine, the
//! issuer, a proxy that can be cut, a TLS front that closes idle
//! connections, the Runtime API harness, and a handler over the engine.
//! Tokens, fixtures and events are the crate's test kit.

pub(crate) mod engine;
pub(crate) mod issuer;
pub(crate) mod oidc;
pub(crate) mod proxy;
pub(crate) mod runtime;
pub(crate) mod tls;

use crate::auth::{AuthSettings, Authenticator};
use crate::config::{AllowedOrigins, CallLimits};
use crate::handler::{App, handle};
use crate::store::DynamoStore;
pub(crate) use crate::testing::events::Event;
pub(crate) use crate::testing::tokens;
use lambda_http::Body;
use serde_json::{Value, json};

use engine::Engine;

/// The project's Python (`.venv`, from `make venv`; `LOCAL_DYNAMODB_PYTHON`
/// overrides it), which runs the engine and the scripts the tests drive.
pub(crate) fn python() -> String {
    std::env::var("LOCAL_DYNAMODB_PYTHON")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/.venv/bin/python").to_owned())
}

/// The `bootstrap` binary of this build (`target/<profile>/bootstrap`, beside
/// the test binary's `deps/`): `cargo test --all-targets` builds it, as it
/// builds every binary when a bench is among the targets.
pub(crate) fn bootstrap() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let path = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("the test binary sits in target/<profile>/deps")
        .join("bootstrap");
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --bin bootstrap` (make test builds it)",
        path.display()
    );
    path
}

/// Runs `scripts/<script>` with `args`; its standard output, once it has
/// succeeded.
pub(crate) fn run_script<I, A>(script: &str, args: I) -> Vec<u8>
where
    I: IntoIterator<Item = A>,
    A: AsRef<std::ffi::OsStr>,
{
    let path = format!("{}/scripts/{script}", env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new(python())
        .arg(&path)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e} (run `make venv`)", python()));
    assert!(
        out.status.success(),
        "{script} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A listener on a free loopback port, and the port.
pub(crate) async fn listen() -> (tokio::net::TcpListener, u16) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let port = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("{e}"))
        .port();
    (listener, port)
}

/// Set-up and inspection: one attempt may take long. A first call to an
/// engine just started, on a loaded machine, can outlast even the function's
/// default 1.2 s attempt, and a retried `CreateTable` would then find the
/// table its first attempt created; so only calls that never reached the
/// engine are retried in time.
const SETUP_LIMITS: CallLimits = CallLimits {
    connect: std::time::Duration::from_secs(5),
    attempt: std::time::Duration::from_secs(20),
    operation: std::time::Duration::from_secs(60),
    max_attempts: 3,
    initial_backoff: std::time::Duration::from_millis(100),
};

/// The function over fresh tables on an engine, and a client to look.
pub(crate) struct Harness {
    pub app: App<DynamoStore>,
    pub client: aws_sdk_dynamodb::Client,
    pub interventions: String,
    pub notifications: String,
}

impl Harness {
    /// The stored intervention as JSON (strongly consistent), `Null` if absent.
    pub(crate) async fn intervention(&self, id: i64) -> Value {
        let key = aws_sdk_dynamodb::types::AttributeValue::N(id.to_string());
        engine::get(&self.client, &self.interventions, key).await
    }
}

/// On the shared engine, with the test keys and default limits.
pub(crate) async fn harness() -> Harness {
    Harness::builder().build().await
}

/// The one way to a harness: the shared engine, default limits and the
/// test kit's keys, unless the test says otherwise.
pub(crate) struct HarnessBuilder {
    endpoint: Option<String>,
    timeouts: CallLimits,
    authenticator: Option<Authenticator>,
}

impl Harness {
    pub(crate) fn builder() -> HarnessBuilder {
        HarnessBuilder {
            endpoint: None,
            timeouts: CallLimits::default(),
            authenticator: None,
        }
    }
}

impl HarnessBuilder {
    pub(crate) fn timeouts(mut self, timeouts: CallLimits) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Keys and claim rules from `settings` (all in memory).
    pub(crate) fn settings(self, settings: &AuthSettings) -> Self {
        self.authenticator(crate::testing::authenticator(settings))
    }

    /// An authenticator the test built (remote key sources).
    pub(crate) fn authenticator(mut self, authenticator: Authenticator) -> Self {
        self.authenticator = Some(authenticator);
        self
    }

    /// On `engine`: a test that stops, slows or counts its engine has its own.
    pub(crate) fn on(self, engine: &Engine) -> Self {
        self.at(&engine.endpoint())
    }

    /// On whatever answers at `endpoint` (the engine behind a proxy).
    pub(crate) fn at(mut self, endpoint: &str) -> Self {
        self.endpoint = Some(endpoint.to_owned());
        self
    }

    pub(crate) async fn build(self) -> Harness {
        let endpoint = self.endpoint.unwrap_or_else(|| engine::engine().endpoint());
        let authenticator = self
            .authenticator
            .unwrap_or_else(|| crate::testing::authenticator(&crate::testing::auth_settings()));
        let client = engine::client(&endpoint, SETUP_LIMITS);
        let (interventions, notifications) = engine::create_tables(&client).await;
        let function_client = engine::client(&endpoint, self.timeouts);
        let app = App {
            authenticator,
            store: DynamoStore::new(
                function_client,
                interventions.clone(),
                notifications.clone(),
            ),
            origins: AllowedOrigins::None,
            log_sink: |_| {},
        };
        Harness {
            app,
            client,
            interventions,
            notifications,
        }
    }
}

pub(crate) use crate::testing::stored;

/// A decision by `user`, acting for `orgs`, on intervention `id`: both
/// tokens valid, `body` as JSON.
pub(crate) fn call(id: i64, user: i64, orgs: &[i64], body: Value) -> Event {
    Event::patch(id)
        .tokens(&tokens::access(user, orgs), &tokens::session(user))
        .header("content-type", "application/json")
        .json(&body)
        .request_id(&format!("req-{id}-{user}"))
}

/// Status and JSON body of one call through the handler (`Value::Null`
/// when it answered without a body; a body that is not JSON fails the test).
pub(crate) async fn send(app: &App<DynamoStore>, event: &Event) -> (u16, Value) {
    let (status, text) = send_raw(app, event).await;
    if text.is_empty() {
        return (status, Value::Null);
    }
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status}: {e}: {text}"));
    (status, body)
}

/// Status and body text, for checks on the exact serialisation.
pub(crate) async fn send_raw(app: &App<DynamoStore>, event: &Event) -> (u16, String) {
    let resp = handle(app, event.request()).await;
    let text = match resp.body() {
        Body::Text(t) => t.clone(),
        Body::Empty => String::new(),
        other => panic!("a binary answer: {other:?}"),
    };
    (resp.status().as_u16(), text)
}

pub(crate) fn decision(decision: i64, comment: &str) -> Value {
    json!({"decisionComment": comment, "decision": decision})
}
