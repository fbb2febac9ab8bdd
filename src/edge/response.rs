//! Outcome or error → HTTP response. The one place a status code is chosen.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::auth::{AuthError, TokenKind};
use crate::domain::{Intervention, Refusal};
use crate::error::{ApiError, FieldError};

/// Seconds a client should wait after a 503.
pub const RETRY_AFTER_SECS: &str = "1";

/// The stable `code` of an error, for clients and the log line.
pub fn code(err: &ApiError) -> &'static str {
    match err {
        ApiError::MethodNotAllowed => "method_not_allowed",
        ApiError::Unauthorized(AuthError::Missing(TokenKind::Access)) => "missing_access_token",
        ApiError::Unauthorized(AuthError::Missing(TokenKind::Session)) => "missing_session_token",
        ApiError::Unauthorized(AuthError::Invalid {
            kind: TokenKind::Access,
            ..
        }) => "invalid_access_token",
        ApiError::Unauthorized(AuthError::Invalid {
            kind: TokenKind::Session,
            ..
        }) => "invalid_session_token",
        ApiError::Unauthorized(AuthError::UserMismatch) => "session_user_mismatch",
        ApiError::Unauthorized(AuthError::KeysUnavailable(_)) => "service_unavailable",
        ApiError::InsufficientScope => "insufficient_scope",
        ApiError::UnsupportedMediaType => "unsupported_media_type",
        ApiError::PayloadTooLarge => "payload_too_large",
        ApiError::Invalid(_) => "invalid_request",
        ApiError::Refused(r) => r.code(),
        ApiError::Store(crate::store::StoreError::Unavailable(_)) => "service_unavailable",
        ApiError::Store(crate::store::StoreError::Internal(_)) => "internal_error",
    }
}

pub fn status(err: &ApiError) -> StatusCode {
    match err {
        ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ApiError::Unauthorized(AuthError::KeysUnavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
        ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
        ApiError::InsufficientScope => StatusCode::FORBIDDEN,
        ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ApiError::Invalid(_) => StatusCode::BAD_REQUEST,
        ApiError::Refused(Refusal::NotFound) => StatusCode::NOT_FOUND,
        ApiError::Refused(_) => StatusCode::CONFLICT,
        ApiError::Store(crate::store::StoreError::Unavailable(_)) => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        ApiError::Store(crate::store::StoreError::Internal(_)) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn detail(err: &ApiError) -> String {
    let status_text = |s: Option<i64>| s.map_or_else(|| "unknown".to_owned(), |s| s.to_string());
    match err {
        ApiError::MethodNotAllowed => "Only PATCH is allowed on this resource.".into(),
        ApiError::Unauthorized(AuthError::Missing(kind)) => {
            format!("The {} is missing.", kind.name())
        }
        ApiError::Unauthorized(AuthError::Invalid { kind, .. }) => {
            format!("The {} is invalid or expired.", kind.name())
        }
        ApiError::Unauthorized(AuthError::UserMismatch) => {
            "The session token does not belong to the access token's user.".into()
        }
        ApiError::Unauthorized(AuthError::KeysUnavailable(_)) => {
            "The service is temporarily unavailable; retry shortly.".into()
        }
        ApiError::InsufficientScope => {
            "The access token lacks the interventions:verify scope.".into()
        }
        ApiError::UnsupportedMediaType => "The content-type must be application/json.".into(),
        ApiError::PayloadTooLarge => "The body must be at most 65536 bytes.".into(),
        ApiError::Invalid(_) => "The request has invalid fields; see errors.".into(),
        ApiError::Refused(Refusal::NotFound) => "No such intervention.".into(),
        ApiError::Refused(Refusal::Archived { status }) => {
            format!(
                "The intervention is archived (status {}).",
                status_text(*status)
            )
        }
        ApiError::Refused(Refusal::AlreadyVerified { status }) => {
            format!("The intervention was already verified (status {status}).")
        }
        ApiError::Refused(Refusal::NotAwaitingVerification { status }) => format!(
            "The intervention is not awaiting verification (status {}; expected 3).",
            status_text(*status)
        ),
        ApiError::Store(crate::store::StoreError::Unavailable(_)) => {
            "The service is temporarily unavailable; retry shortly.".into()
        }
        ApiError::Store(crate::store::StoreError::Internal(_)) => {
            "An internal error occurred.".into()
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'a str,
    status: u16,
    detail: String,
    code: &'static str,
    request_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [FieldError]>,
}

/// RFC 9457 problem+json for `err`, with the headers its status calls for.
pub fn problem(err: &ApiError, request_id: &str) -> Response<Body> {
    let status = status(err);
    let body = Problem {
        kind: "about:blank",
        title: status.canonical_reason().unwrap_or("Error"),
        status: status.as_u16(),
        detail: detail(err),
        code: code(err),
        request_id,
        errors: match err {
            ApiError::Invalid(e) => Some(e),
            _ => None,
        },
    };
    let mut resp = json_response(status, "application/problem+json", &body);
    let headers = resp.headers_mut();
    match err {
        ApiError::MethodNotAllowed => {
            headers.insert(
                header::ALLOW,
                HeaderValue::from_static(crate::edge::cors::ALLOW),
            );
        }
        ApiError::Unauthorized(AuthError::Missing(_)) => {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        // Keys never obtained are fetched again at most every 5 s.
        ApiError::Unauthorized(AuthError::KeysUnavailable(_)) => {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        ApiError::Store(crate::store::StoreError::Unavailable(_)) => {
            headers.insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECS),
            );
        }
        ApiError::Unauthorized(_) => {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
        }
        ApiError::InsufficientScope => {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(
                    "Bearer error=\"insufficient_scope\", scope=\"interventions:verify\"",
                ),
            );
        }
        _ => {}
    }
    resp
}

#[derive(Serialize)]
struct Data<'a> {
    data: &'a Intervention,
}

/// 200 with `{"data": {...}}`: the 28 fields in the reference's order.
pub fn verified(intervention: &Intervention) -> Response<Body> {
    json_response(
        StatusCode::OK,
        "application/json",
        &Data { data: intervention },
    )
}

fn json_response(
    status: StatusCode,
    content_type: &'static str,
    body: &impl Serialize,
) -> Response<Body> {
    // Serialising these plain structs cannot fail; an empty body would still
    // carry the right status.
    let text = serde_json::to_string(body).unwrap_or_default();
    let mut resp = Response::new(Body::Text(text));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}
