//! One request, start to finish: edge → auth → domain → store → edge.

use std::time::{Instant, SystemTime};

use lambda_http::http::{Method, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};

use crate::auth::{AuthError, Verifier};
use crate::config::AllowedOrigins;
use crate::domain::{Intervention, Verdict, judge_refused_write, plan_decision};
use crate::edge::lambda::ApiRequestId;
use crate::edge::{cors, request, response};
use crate::error::ApiError;
use crate::store::{InterventionStore, NotificationOutcome, StoreError, WriteOutcome};
use crate::telemetry::{self, RequestRecord};

/// Everything built once at start-up and shared by every request.
pub struct App<S> {
    pub verifier: Verifier,
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

/// Never fails: every error becomes a problem+json response here, so the
/// runtime never turns one into a bare 500.
pub async fn handle<S: InterventionStore>(app: &App<S>, req: Request) -> Response<Body> {
    let started = Instant::now();
    let request_id = request_id(&req);
    if req.method() == Method::OPTIONS {
        // Before every other check: no token, no storage.
        let (resp, outcome) = cors::options(&app.origins, req.headers());
        (app.log_sink)(&telemetry::request_line(&RequestRecord {
            request_id: &request_id,
            intervention_id: None,
            decision: None,
            outcome: outcome.code(),
            status: resp.status().as_u16(),
            latency: started.elapsed(),
        }));
        return resp;
    }
    let mut decision = None;
    let result = verify(app, &req, &request_id, &mut decision).await;
    let (mut resp, outcome) = match &result {
        Ok((intervention, success)) => (response::verified(intervention), success.code()),
        Err(err) => {
            if let ApiError::Store(e) = err {
                tracing::error!(request_id = %request_id, error = %e, "store call failed");
            } else if let ApiError::Unauthorized(e @ AuthError::KeysUnavailable(_)) = err {
                tracing::error!(request_id = %request_id, reason = %e, "token keys unavailable");
            } else if let ApiError::Unauthorized(e) = err {
                tracing::info!(request_id = %request_id, reason = %e, "unauthenticated");
            }
            (response::problem(err, &request_id), response::code(err))
        }
    };
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok());
    cors::decorate(&app.origins, origin, resp.headers_mut());
    (app.log_sink)(&telemetry::request_line(&RequestRecord {
        request_id: &request_id,
        intervention_id: request::parse_intervention_id(
            request::raw_intervention_id(&req).as_deref(),
        )
        .ok(),
        decision,
        outcome,
        status: resp.status().as_u16(),
        latency: started.elapsed(),
    }));
    resp
}

async fn verify<S: InterventionStore>(
    app: &App<S>,
    req: &Request,
    request_id: &str,
    decision: &mut Option<i64>,
) -> Result<(Intervention, Success), ApiError> {
    if req.method() != Method::PATCH {
        return Err(ApiError::MethodNotAllowed);
    }
    let caller = app
        .verifier
        .authenticate(
            request::header(req, "authorization"),
            request::header(req, "x-session-token"),
        )
        .await?;
    if !caller.may_verify() {
        return Err(ApiError::InsufficientScope);
    }
    request::check_content_type(req)?;
    request::check_size(req)?;
    let command = request::parse_command(req)?;
    *decision = Some(command.decision.code());

    let now = telemetry::iso_millis(SystemTime::now());
    let write = plan_decision(&caller, &command, &now);
    let (intervention, success) = match app.store.apply_decision(&write).await? {
        WriteOutcome::Applied(i) => (i, Success::Applied),
        WriteOutcome::Refused(current) => match judge_refused_write(current, &caller, &command) {
            Verdict::Replay(i) => (*i, Success::Replayed),
            Verdict::Refused(r) => return Err(r.into()),
        },
    };
    if let Some(notification_id) = &command.notification_id {
        // The decision stands whatever happens to the notification.
        match app
            .store
            .mark_notification_read(notification_id, caller.user_id, &now)
            .await
        {
            Ok(NotificationOutcome::Marked) => {}
            Ok(other) => tracing::warn!(
                request_id,
                outcome = other.code(),
                "notification left unread"
            ),
            Err(StoreError::Unavailable(e) | StoreError::Internal(e)) => {
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
    // A request built by lambda_http itself (as the handler tests do).
    if let Some(RequestContext::ApiGatewayV1(ctx)) = req.request_context_ref()
        && let Some(id) = &ctx.request_id
    {
        return id.clone();
    }
    req.lambda_context_ref()
        .map(|c| c.request_id.clone())
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(test)]
mod tests;
