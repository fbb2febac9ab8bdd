//! One request, start to finish: edge → auth → domain → store → edge.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_http::http::{Method, header};
use lambda_http::{Body, Request, RequestExt, Response};
use tracing::Instrument;

use crate::auth::{AuthError, Authenticator};
use crate::config::AllowedOrigins;
use crate::domain::{
    Caller, Intervention, InterventionId, Verdict, VerifyCommand, judge_failed_condition,
    plan_decision,
};
use crate::edge::lambda::ApiRequestId;
use crate::edge::{cors, request, response};
use crate::error::{ApiError, FieldError};
use crate::store::{InterventionStore, NotificationOutcome, WriteOutcome};
use crate::telemetry::{self, RequestRecord};
use crate::timer;

/// Everything built once at start-up and shared by every request.
pub(crate) struct App<S> {
    pub authenticator: Authenticator,
    pub store: S,
    pub origins: AllowedOrigins,
    /// Where the per-request log line goes: stdout in production
    /// ([`telemetry::stdout_sink`]); tests collect or drop it.
    pub log_sink: fn(&str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Success {
    Applied,
    Replayed,
}

impl Success {
    fn code(self) -> &'static str {
        match self {
            Success::Applied => "applied",
            Success::Replayed => "replayed",
        }
    }
}

/// What one request came to: the log line and the response read it.
struct Outcome {
    /// The decision asked for, once the body was read.
    decision: Option<i64>,
    result: Result<(Intervention, Success), ApiError>,
}

impl Outcome {
    fn refused(err: impl Into<ApiError>) -> Self {
        Outcome {
            decision: None,
            result: Err(err.into()),
        }
    }
}

/// Kept back from the invocation's deadline: the time to serialise the
/// answer and post it to the Runtime API, with room for a slow scheduler.
pub(crate) const ANSWER_MARGIN: Duration = Duration::from_millis(400);

/// When the answer must be ready: the invocation's deadline less
/// [`ANSWER_MARGIN`]. `None` outside Lambda (no deadline in the context).
fn answer_by(req: &Request) -> Option<Instant> {
    let deadline_ms = req.lambda_context_ref()?.deadline;
    if deadline_ms == 0 {
        return None;
    }
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_millis() as u64;
    let left = Duration::from_millis(deadline_ms.saturating_sub(now_ms));
    // A deadline already (nearly) past is no deadline Lambda gives (local
    // emulators send such values): answering 503 at once would help no one.
    if left <= ANSWER_MARGIN {
        return None;
    }
    Some(Instant::now() + (left - ANSWER_MARGIN))
}

/// `work`, or `None` once `by` has passed. Without a deadline no timer is
/// armed.
async fn within<T>(by: Option<Instant>, work: impl Future<Output = T>) -> Option<T> {
    match by {
        Some(by) => timer::before(by, work).await,
        None => Some(work.await),
    }
}

/// Never fails: every error becomes a problem+json response here, so the
/// runtime never turns one into a bare 500. Every dependency call shares the
/// invocation's one deadline ([`answer_by`]).
pub(crate) async fn handle<S: InterventionStore>(app: &App<S>, req: Request) -> Response<Body> {
    let started = Instant::now();
    let request_id = request_id(&req);
    // Parsed once: the log line carries it whatever the answer, and the
    // request checks report it at their turn.
    let intervention_id = request::parse_intervention_id(request::raw_intervention_id(&req));
    let (resp, decision, outcome, counted) = if req.method() == Method::OPTIONS {
        // Before every other check: no token, no storage.
        let (resp, outcome) = cors::options(&app.origins, req.headers());
        (resp, None, outcome.code(), false)
    } else {
        // Every line logged while it is served (a key refresh that failed, a
        // JWKS key skipped) carries the request id through this span.
        let span = tracing::info_span!("request", requestId = %request_id);
        let checked = check_then_decide(app, &req, &request_id, intervention_id.clone());
        let Outcome { decision, result } = checked.instrument(span.clone()).await;
        // A 405 cannot fail a user either: counted apart, like preflights.
        let counted = !matches!(result, Err(ApiError::MethodNotAllowed));
        let (mut resp, outcome) = match &result {
            Ok((intervention, success)) => (response::verified(intervention), success.code()),
            Err(err) => {
                span.in_scope(|| log_error(err, &request_id));
                response::problem(err, &request_id)
            }
        };
        let origin = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok());
        cors::decorate(&app.origins, origin, resp.headers_mut());
        (resp, decision, outcome, counted)
    };
    (app.log_sink)(&telemetry::request_line(&RequestRecord {
        request_id: &request_id,
        intervention_id: intervention_id.ok().map(InterventionId::get),
        decision,
        outcome,
        status: resp.status().as_u16(),
        latency: started.elapsed(),
        counted,
    }));
    resp
}

/// Failures worth a line of their own besides the request line: the reason
/// (never the token) of a 401, and the cause of a 5xx.
fn log_error(err: &ApiError, request_id: &str) {
    match err {
        ApiError::Store(e) => tracing::error!(request_id, error = %e, "store call failed"),
        ApiError::Auth(e @ AuthError::KeysUnavailable(_)) => {
            let reason_code = e.code();
            tracing::error!(request_id, reason_code, reason = %e, "token keys unavailable");
        }
        ApiError::Auth(e) => {
            tracing::info!(request_id, reason_code = e.code(), reason = %e, "unauthenticated");
        }
        ApiError::DeadlineReached => {
            tracing::error!(
                request_id,
                "the invocation's deadline came before a dependency answered"
            );
        }
        _ => {}
    }
}

/// The checks in the contract's order, then the decision.
async fn check_then_decide<S: InterventionStore>(
    app: &App<S>,
    req: &Request,
    request_id: &str,
    intervention_id: Result<InterventionId, FieldError>,
) -> Outcome {
    if req.method() != Method::PATCH {
        return Outcome::refused(ApiError::MethodNotAllowed);
    }
    let by = answer_by(req);
    let authenticated = within(
        by,
        app.authenticator.authenticate(
            request::header(req, "authorization"),
            request::header(req, "x-session-token"),
        ),
    );
    let caller = match authenticated.await {
        Some(Ok(caller)) => caller,
        Some(Err(e)) => return Outcome::refused(e),
        None => return Outcome::refused(ApiError::DeadlineReached),
    };
    if !caller.may_verify() {
        return Outcome::refused(ApiError::InsufficientScope);
    }
    let command = match request::check_content_type(req)
        .and_then(|()| request::check_size(req))
        .and_then(|()| request::parse_command(req, intervention_id))
    {
        Ok(command) => command,
        Err(e) => return Outcome::refused(e),
    };
    Outcome {
        decision: Some(command.decision.code()),
        result: decide(app, &caller, &command, request_id, by).await,
    }
}

async fn decide<S: InterventionStore>(
    app: &App<S>,
    caller: &Caller,
    command: &VerifyCommand,
    request_id: &str,
    by: Option<Instant>,
) -> Result<(Intervention, Success), ApiError> {
    let now = telemetry::iso_millis(SystemTime::now());
    let write = plan_decision(caller, command, &now)?;
    // Cut off at the deadline, the write may still land: the client's retry
    // then replays it (200), never applies it twice.
    let written = within(by, app.store.apply_decision(&write))
        .await
        .ok_or(ApiError::DeadlineReached)?;
    let (intervention, success) = match written? {
        WriteOutcome::Applied(i) => (i, Success::Applied),
        WriteOutcome::ConditionFailed(current) => {
            match judge_failed_condition(current, caller, command) {
                Verdict::Replay(i) => (*i, Success::Replayed),
                Verdict::Refused(r) => return Err(r.into()),
            }
        }
    };
    if let Some(notification_id) = &command.notification_id {
        // The decision stands whatever happens to the notification, which
        // is best effort within the deadline.
        let marked = app
            .store
            .mark_notification_read(notification_id, caller.user_id, &now);
        match within(by, marked).await {
            None => tracing::warn!(
                request_id,
                "notification left unread: the deadline came first"
            ),
            Some(Ok(NotificationOutcome::Marked)) => {}
            Some(Ok(other)) => tracing::warn!(
                request_id,
                outcome = other.code(),
                "notification left unread"
            ),
            Some(Err(e)) => {
                tracing::warn!(request_id, error = %e, "notification left unread");
            }
        }
    }
    Ok((intervention, success))
}

/// API Gateway's request id, else the Lambda invocation's.
fn request_id(req: &Request) -> String {
    if let Some(ApiRequestId(id)) = req.extensions().get::<ApiRequestId>() {
        return id.clone();
    }
    req.lambda_context_ref()
        .map(|c| c.request_id.clone())
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(test)]
mod tests;
