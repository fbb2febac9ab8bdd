//! Shared by the integration tests: the engine, tokens, and request building.
#![allow(dead_code)]

pub mod engine;
pub mod issuer;
pub mod lambda;
pub mod proxy;
pub mod tokens;

use std::collections::HashMap;

use intervention_verify::auth::{AuthSettings, SecretSource, Verifier};
use intervention_verify::config::{AllowedOrigins, DynamoTimeouts};
use intervention_verify::handler::{App, handle};
use intervention_verify::store::DynamoStore;
use lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext;
use lambda_http::http::{HeaderValue, Method};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt};
use serde_json::{Value, json};

pub struct Harness {
    pub app: App<DynamoStore>,
    pub client: aws_sdk_dynamodb::Client,
    pub interventions: String,
    pub notifications: String,
}

impl Harness {
    /// The stored intervention as JSON (strongly consistent), `Null` if absent.
    pub async fn intervention(&self, id: i64) -> Value {
        let key = aws_sdk_dynamodb::types::AttributeValue::N(id.to_string());
        engine::get(&self.client, &self.interventions, key).await
    }
}

pub async fn harness() -> Harness {
    harness_with(DynamoTimeouts::default()).await
}

pub fn test_auth() -> AuthSettings {
    AuthSettings {
        access_jwks: Some(tokens::JWKS.to_owned()),
        access_secret: Some(SecretSource::Value(tokens::ACCESS_SECRET.to_owned())),
        session_secret: SecretSource::Value(tokens::SESSION_SECRET.to_owned()),
        access_jwks_url: None,
        issuer: None,
        audience: None,
    }
}

pub async fn harness_with(timeouts: DynamoTimeouts) -> Harness {
    harness_custom(timeouts, test_auth()).await
}

pub async fn harness_custom(timeouts: DynamoTimeouts, settings: AuthSettings) -> Harness {
    harness_verifying(
        timeouts,
        Verifier::new(&settings).unwrap_or_else(|e| panic!("{e}")),
    )
    .await
}

/// A harness whose verifier the test built (remote key sources).
pub async fn harness_verifying(timeouts: DynamoTimeouts, verifier: Verifier) -> Harness {
    let client = engine::client(&engine::engine().endpoint(), timeouts);
    let (interventions, notifications) = engine::create_tables(&client).await;
    let app = App {
        verifier,
        store: DynamoStore::new(client.clone(), interventions.clone(), notifications.clone()),
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

/// An intervention with every field of the reference set except the
/// verification and archive fields, in `status`, owned by `org`.
pub fn intervention(id: i64, status: i64, org: i64) -> Value {
    json!({
        "id": id,
        "status": status,
        "type": 1,
        "description": "Boiler maintenance",
        "imgSignature": "signature.png",
        "codePin": 123456,
        "autoCreated": true,
        "creationStatus": 1,
        "scheduledStart": "2024-12-01T12:34:56.000Z",
        "scheduledEnd": "2024-12-05T14:56:23.000Z",
        "actualStart": "2024-12-01T12:34:56.000Z",
        "actualEnd": "2024-12-01T15:00:00.000Z",
        "providerName": "Provider name",
        "providerEmail": "provider@example.fr",
        "providerActionComment": "Replaced the pump",
        "providerGeneralComment": "All good",
        "assignedCompanyContactId": 3,
        "assignedUserId": 4,
        "attendeeCount": 2,
        "routineId": 5,
        "organizationId": org,
        "createdByUserId": 6,
        "updatedAt": "2024-12-01T15:00:00.000Z",
        "createdAt": "2024-01-15T08:45:00.000Z"
    })
}

pub struct Call {
    pub id: String,
    pub user: i64,
    pub orgs: Vec<i64>,
    pub body: Value,
    pub request_id: String,
}

impl Call {
    pub fn new(id: i64, user: i64, orgs: &[i64], body: Value) -> Self {
        Call {
            id: id.to_string(),
            user,
            orgs: orgs.to_vec(),
            body,
            request_id: format!("req-{id}-{user}"),
        }
    }

    pub fn request(&self) -> Request {
        let mut req = Request::new(Body::Text(self.body.to_string()));
        *req.method_mut() = Method::PATCH;
        let headers = [
            (
                "authorization",
                format!("Bearer {}", tokens::access(self.user, &self.orgs)),
            ),
            ("x-session-token", tokens::session(self.user)),
            ("content-type", "application/json".to_owned()),
        ];
        for (k, v) in headers {
            if let Ok(v) = HeaderValue::from_str(&v) {
                req.headers_mut().insert(k, v);
            }
        }
        let mut ctx = ApiGatewayProxyRequestContext::default();
        ctx.request_id = Some(self.request_id.clone());
        let params: HashMap<String, String> =
            [("interventionId".to_owned(), self.id.clone())].into();
        req.with_path_parameters(params)
            .with_request_context(RequestContext::ApiGatewayV1(ctx))
    }
}

/// Status and JSON body of one call through the handler.
pub async fn send(app: &App<DynamoStore>, call: &Call) -> (u16, Value) {
    let (status, text) = send_raw(app, call).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Status and body text, for checks on the exact serialisation.
pub async fn send_raw(app: &App<DynamoStore>, call: &Call) -> (u16, String) {
    let resp = handle(app, call.request()).await;
    let text = match resp.body() {
        Body::Text(t) => t.clone(),
        _ => String::new(),
    };
    (resp.status().as_u16(), text)
}

pub fn decision(decision: i64, comment: &str) -> Value {
    json!({"decisionComment": comment, "decision": decision})
}
