//! API Gateway REST proxy events, built the way API Gateway builds them and
//! turned into requests by the production edge (`edge::lambda::into_request`).

#[cfg(test)]
use base64::Engine;
#[cfg(test)]
use lambda_http::{Context, Request};
use serde_json::{Value, json};

#[cfg(test)]
use super::tokens;
#[cfg(test)]
use crate::edge::lambda::{ApiEvent, into_request};

/// One invocation payload. `Event::decision(…)` is a valid decision; the
/// builder methods spoil or change one part at a time.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub method: String,
    /// The path parameter; `None` leaves it out (and out of the path).
    pub id: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub base64: bool,
    pub request_id: String,
}

impl Event {
    /// `PATCH` on intervention `id` with nothing else.
    pub(crate) fn patch(id: impl ToString) -> Self {
        Event {
            method: "PATCH".into(),
            id: Some(id.to_string()),
            headers: Vec::new(),
            body: None,
            base64: false,
            request_id: "req-123".into(),
        }
    }

    pub(crate) fn tokens(self, access: &str, session: &str) -> Self {
        self.access(access).header("x-session-token", session)
    }

    pub(crate) fn access(self, token: &str) -> Self {
        self.header("authorization", format!("Bearer {token}"))
    }

    /// Sets `name` (replacing any value of it, whatever its case).
    pub(crate) fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub(crate) fn body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self.base64 = false;
        self
    }

    pub(crate) fn json(self, body: &Value) -> Self {
        self.body(body.to_string())
    }

    pub(crate) fn request_id(mut self, id: &str) -> Self {
        self.request_id = id.to_owned();
        self
    }

    /// The REST proxy event (payload 1.0) as API Gateway sends it.
    pub(crate) fn to_json(&self) -> Value {
        let path = match &self.id {
            Some(id) => format!("/interventions/v2/rs/{id}/verify"),
            None => "/interventions/v2/rs/verify".to_owned(),
        };
        let headers: serde_json::Map<String, Value> = self
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect();
        json!({
            "resource": "/interventions/v2/rs/{interventionId}/verify",
            "path": path,
            "httpMethod": self.method,
            "headers": headers,
            "multiValueHeaders": {},
            "pathParameters": self.id.as_ref().map(|id| json!({"interventionId": id})),
            "requestContext": {
                "requestId": self.request_id,
                "httpMethod": self.method,
                "resourcePath": "/interventions/v2/rs/{interventionId}/verify",
                "path": format!("/main{path}"),
                "stage": "main",
                "accountId": "123456789012",
                "apiId": "z52mnqg347",
                "identity": {"sourceIp": "203.0.113.10"}
            },
            "body": self.body,
            "isBase64Encoded": self.base64
        })
    }
}

/// The rest of the builder and the requests it makes: the tests' own.
#[cfg(test)]
impl Event {
    /// A valid decision by `user` for `orgs` (HS256 access token).
    pub(crate) fn decision(
        id: impl ToString,
        user: i64,
        orgs: &[i64],
        decision: i64,
        comment: &str,
    ) -> Self {
        Self::patch(id)
            .tokens(&tokens::access(user, orgs), &tokens::session(user))
            .header("content-type", "application/json")
            .json(&json!({"decisionComment": comment, "decision": decision}))
    }

    pub(crate) fn without(mut self, name: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    pub(crate) fn method(mut self, method: &str) -> Self {
        self.method = method.to_owned();
        self
    }

    pub(crate) fn id(mut self, id: Option<&str>) -> Self {
        self.id = id.map(str::to_owned);
        self
    }

    /// The body base64-encoded, as API Gateway sends binary media.
    pub(crate) fn base64_body(mut self, bytes: &[u8]) -> Self {
        self.body = Some(base64::engine::general_purpose::STANDARD.encode(bytes));
        self.base64 = true;
        self
    }

    /// Flagged base64 but not base64.
    pub(crate) fn corrupt_base64_body(mut self) -> Self {
        self.body = Some("not base64 %%%".into());
        self.base64 = true;
        self
    }

    pub(crate) fn api_event(&self) -> ApiEvent {
        serde_json::from_value(self.to_json()).unwrap_or_else(|e| panic!("test event: {e}"))
    }

    /// The request the handler sees, through the production edge.
    pub(crate) fn request(&self) -> Request {
        into_request(self.api_event(), Context::default()).0
    }

    /// The request as Lambda hands it over with its deadline (milliseconds
    /// since the epoch, as `Lambda-Runtime-Deadline-Ms` says).
    pub(crate) fn request_due_by(&self, deadline_epoch_ms: u64) -> Request {
        let mut context = Context::default();
        context.deadline = deadline_epoch_ms;
        into_request(self.api_event(), context).0
    }
}
