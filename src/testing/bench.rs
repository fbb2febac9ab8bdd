//! What `benches/cpu_path.rs` times, built here where the rooms are in reach:
//! the whole request path from an invocation payload to the runtime's
//! response ([`Path`]), and the same path stage by stage ([`Stages`]), with
//! the inputs each needs prepared outside the timing. Every stage returns
//! what it made, so the bench's `black_box` keeps the work.

use jsonwebtoken::Algorithm;
use serde_json::json;

use super::events::Event;
use super::stores::{self, StubStore};
use super::tokens;
use crate::auth::Authenticator;
use crate::config::AllowedOrigins;
use crate::domain::{Caller, Decision, Intervention, InterventionId, VerifyCommand, plan_decision};
use crate::edge::lambda::{ApiEvent, ResponseFormat, into_request};
use crate::edge::{request, response};
use crate::handler::{App, handle};
use crate::read_answer;
use crate::store::request::decision_body;
use crate::telemetry::{RequestRecord, request_line};

const COMMENT: &str = "Filters replaced, thank you.";
const AT: &str = "2024-12-09T14:23:00.000Z";
const REQUEST_ID: &str = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef";

/// DynamoDB's answer to the decision's `UpdateItem`: the test kit's record
/// as the decision leaves it (verified, its history kept).
pub fn stored_item() -> Vec<u8> {
    let mut item = super::stored(3, 4, 1);
    for (field, value) in [
        ("verifiedByUserId", json!(42)),
        ("verifiedAt", json!(AT)),
        ("decisionComment", json!(COMMENT)),
        (
            "verificationHistory",
            json!([{"decision": 1, "decisionComment": COMMENT,
            "userId": 42, "sessionId": "session-42", "at": AT}]),
        ),
    ] {
        item[field] = value;
    }
    stores::answer(&item)
}

/// An access token for user 42 of organisations 1-3, signed with `alg`.
pub fn access_token(alg: Algorithm) -> String {
    tokens::sign(alg, &tokens::access_claims(42, &[1, 2, 3]))
}

/// A session token no instance has seen (`n` names its session): its pair
/// is verified in full.
pub fn fresh_session(n: u64) -> String {
    tokens::session_with(&tokens::session_claims_for(
        42,
        &format!("session-{n}"),
        3600,
    ))
}

/// The invocation payload API Gateway sends for an accepted decision on
/// intervention 3, with the headers a browser adds.
pub fn event(access: &str, session: &str) -> String {
    Event::patch(3)
        .tokens(access, session)
        .header("content-type", "application/json")
        .header("Host", "z52mnqg347.execute-api.eu-west-3.amazonaws.com")
        .header("User-Agent", "Mozilla/5.0")
        .header("X-Forwarded-For", "203.0.113.10")
        .json(&json!({"decisionComment": COMMENT, "decision": 1}))
        .request_id(REQUEST_ID)
        .to_json()
        .to_string()
}

/// An invocation payload read as the runtime hands it over: the event, the
/// request the handler sees, and the format its answer goes back in.
fn request_of(payload: &str) -> (lambda_http::Request, ResponseFormat) {
    let event: ApiEvent = serde_json::from_str(payload).expect("the bench's payload");
    into_request(event, Default::default())
}

/// The function with the test keys over a store that answers with
/// [`stored_item`], logging into `black_box`, on a current-thread runtime.
/// Whether a payload decides is the caller's to check (the bench does, once
/// per payload kind, outside the timing).
pub struct Path {
    app: App<StubStore>,
    rt: tokio::runtime::Runtime,
}

impl Path {
    pub fn new() -> Self {
        Self {
            app: App {
                log_sink: |line| {
                    std::hint::black_box(line);
                },
                ..super::app(StubStore::returning(stored_item()), AllowedOrigins::None)
            },
            rt: tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("a current-thread runtime"),
        }
    }

    /// One invocation: `payload` parsed, handled with the store answering
    /// `item`, the response serialised for the runtime.
    pub fn run(&self, item: Vec<u8>, payload: &str) -> String {
        self.app.store.set_answer(item);
        let (req, format) = request_of(payload);
        let resp = self.rt.block_on(handle(&self.app, req));
        serde_json::to_string(&format.respond(resp)).expect("a response serialises")
    }
}

impl Default for Path {
    fn default() -> Self {
        Self::new()
    }
}

/// The request path stage by stage, each stage's input made once.
pub struct Stages {
    payload: String,
    request: lambda_http::Request,
    authenticator: Authenticator,
    caller: Caller,
    command: VerifyCommand,
    item: Vec<u8>,
    intervention: Intervention,
}

impl Stages {
    pub fn new() -> Self {
        let item = stored_item();
        let (access, session) = (access_token(Algorithm::HS256), tokens::session(42));
        let payload = event(&access, &session);
        let authenticator = super::authenticator(&super::auth_settings());
        let caller = super::ready(authenticator.authenticate(
            Some(format!("Bearer {access}").as_bytes()),
            Some(session.as_bytes()),
        ))
        .expect("the bench's tokens verify");
        Self {
            request: request_of(&payload).0,
            payload,
            authenticator,
            caller,
            command: VerifyCommand {
                intervention_id: InterventionId::new(3).expect("an id in range"),
                decision: Decision::Accept,
                comment: COMMENT.into(),
                notification_id: None,
            },
            intervention: read_answer(&item).expect("the stored item reads"),
            item,
        }
    }

    /// The payload → an API Gateway event → an HTTP request.
    pub fn parse_event(&self) -> impl Sized {
        request_of(&self.payload).0
    }

    /// Both tokens checked (`authorization`: the header's value): in full
    /// for a pair not seen before, from memory for one seen.
    pub fn authenticate(&self, authorization: &str, session: &str) -> impl Sized + use<> {
        super::ready(
            self.authenticator
                .authenticate(Some(authorization.as_bytes()), Some(session.as_bytes())),
        )
    }

    /// The content type, size, path id and body checked.
    pub fn validate_request(&self) -> impl Sized {
        let req = &self.request;
        request::check_content_type(req).ok();
        request::check_size(req).ok();
        let id = request::parse_intervention_id(request::raw_intervention_id(req));
        request::parse_command(req, id).ok()
    }

    /// The decision planned for a verified caller and its conditional update
    /// written.
    pub fn build_update(&self) -> impl Sized {
        decision_body(
            "Interventions",
            &plan_decision(&self.caller, &self.command, AT)
                .expect("the bench's caller has organisations"),
        )
    }

    /// DynamoDB's answer read into the record.
    pub fn map_item(&self) -> impl Sized {
        read_answer(&self.item).expect("the stored item reads")
    }

    /// The 200 response built and serialised for the runtime.
    pub fn respond(&self) -> String {
        let resp = response::verified(&self.intervention);
        serde_json::to_string(&ResponseFormat::Rest.respond(resp)).expect("a response serialises")
    }

    /// The request's log line.
    pub fn log_line(&self) -> String {
        request_line(&RequestRecord {
            request_id: REQUEST_ID,
            intervention_id: Some(3),
            decision: Some(1),
            outcome: "applied",
            status: 200,
            latency: std::time::Duration::from_micros(1500),
            counted: true,
        })
    }
}

impl Default for Stages {
    fn default() -> Self {
        Self::new()
    }
}
