//! Outcome or error → HTTP response. The one place a status code is chosen.

use std::borrow::Cow;
use std::sync::LazyLock;

use lambda_http::http::{HeaderName, HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::auth::{AuthError, TokenKind};
use crate::domain::{Intervention, Refusal, Status, VERIFY_SCOPE};
use crate::edge::request::MAX_BODY_BYTES;
use crate::error::{ApiError, FieldError};
use crate::store::StoreError;

/// Seconds a client should wait after a 503 from DynamoDB trouble.
pub(crate) const RETRY_AFTER_SECS: &str = "1";
/// After a 503 for keys never obtained: they are fetched again at most this
/// often (docs/CONTRACT.md, "Keys and secrets rotate").
pub(crate) const KEYS_RETRY_AFTER_SECS: &str = "5";

/// How one error is answered: everything about it in one place, so a new
/// variant is one arm of [`describe`].
pub(crate) struct Answer {
    pub status: StatusCode,
    /// The stable `code`, for clients and the log line.
    pub code: &'static str,
    pub detail: Cow<'static, str>,
    /// A header the status calls for (`Allow`, `WWW-Authenticate`, `Retry-After`).
    pub header: Option<(HeaderName, &'static str)>,
}

/// RFC 6750's challenge for a token without the scope, naming it.
static SCOPE_CHALLENGE: LazyLock<String> =
    LazyLock::new(|| format!("Bearer error=\"insufficient_scope\", scope=\"{VERIFY_SCOPE}\""));

fn answer(
    status: StatusCode,
    code: &'static str,
    detail: impl Into<Cow<'static, str>>,
    header: Option<(HeaderName, &'static str)>,
) -> Answer {
    Answer {
        status,
        code,
        detail: detail.into(),
        header,
    }
}

const INVALID_TOKEN: &str = "Bearer error=\"invalid_token\"";

/// Error → status, code, detail and header: the one table.
pub(crate) fn describe(err: &ApiError) -> Answer {
    use StatusCode as S;
    let status_text = |s: Option<Status>| s.map_or_else(|| "unknown".to_owned(), |s| s.to_string());
    let www = |v| Some((header::WWW_AUTHENTICATE, v));
    match err {
        ApiError::MethodNotAllowed => answer(
            S::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Only PATCH is allowed on this resource.",
            Some((header::ALLOW, crate::edge::cors::ALLOW)),
        ),
        ApiError::Auth(AuthError::Missing(kind)) => answer(
            S::UNAUTHORIZED,
            match kind {
                TokenKind::Access => "missing_access_token",
                TokenKind::Session => "missing_session_token",
            },
            format!("The {} is missing.", kind.name()),
            www("Bearer"),
        ),
        ApiError::Auth(AuthError::Invalid { kind, .. }) => answer(
            S::UNAUTHORIZED,
            match kind {
                TokenKind::Access => "invalid_access_token",
                TokenKind::Session => "invalid_session_token",
            },
            format!("The {} is invalid or expired.", kind.name()),
            www(INVALID_TOKEN),
        ),
        ApiError::Auth(AuthError::UserMismatch) => answer(
            S::UNAUTHORIZED,
            "session_user_mismatch",
            "The session token does not belong to the access token's user.",
            www(INVALID_TOKEN),
        ),
        ApiError::Auth(AuthError::KeysUnavailable(_)) => answer(
            S::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "The service is temporarily unavailable; retry shortly.",
            Some((header::RETRY_AFTER, KEYS_RETRY_AFTER_SECS)),
        ),
        ApiError::InsufficientScope => answer(
            S::FORBIDDEN,
            "insufficient_scope",
            format!("The access token lacks the {VERIFY_SCOPE} scope."),
            www(SCOPE_CHALLENGE.as_str()),
        ),
        ApiError::UnsupportedMediaType => answer(
            S::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "The content-type must be application/json.",
            None,
        ),
        ApiError::PayloadTooLarge => answer(
            S::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("The body must be at most {MAX_BODY_BYTES} bytes."),
            None,
        ),
        ApiError::Invalid(_) => answer(
            S::BAD_REQUEST,
            "invalid_request",
            "The request has invalid fields; see errors.",
            None,
        ),
        ApiError::Refused(r @ Refusal::NotFound) => {
            answer(S::NOT_FOUND, r.code(), "No such intervention.", None)
        }
        ApiError::Refused(r @ Refusal::Archived { status }) => answer(
            S::CONFLICT,
            r.code(),
            format!(
                "The intervention is archived (status {}).",
                status_text(*status)
            ),
            None,
        ),
        ApiError::Refused(r @ Refusal::AlreadyVerified { status }) => answer(
            S::CONFLICT,
            r.code(),
            format!("The intervention was already verified (status {status})."),
            None,
        ),
        ApiError::Refused(r @ Refusal::NotAwaitingVerification { status }) => answer(
            S::CONFLICT,
            r.code(),
            format!(
                "The intervention is not awaiting verification (status {}; expected {}).",
                status_text(*status),
                Status::ToVerify
            ),
            None,
        ),
        ApiError::Store(StoreError::Unavailable(_)) | ApiError::DeadlineReached => answer(
            S::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "The service is temporarily unavailable; retry shortly.",
            Some((header::RETRY_AFTER, RETRY_AFTER_SECS)),
        ),
        ApiError::Store(StoreError::Internal(_)) => answer(
            S::INTERNAL_SERVER_ERROR,
            "internal_error",
            "An internal error occurred.",
            None,
        ),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'a str,
    status: u16,
    detail: &'a str,
    code: &'static str,
    request_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [FieldError]>,
}

/// RFC 9457 problem+json for `err`, and its code for the log line.
pub(crate) fn problem(err: &ApiError, request_id: &str) -> (Response<Body>, &'static str) {
    let a = describe(err);
    let body = Problem {
        kind: "about:blank",
        title: a.status.canonical_reason().unwrap_or("Error"),
        status: a.status.as_u16(),
        detail: &a.detail,
        code: a.code,
        request_id,
        errors: match err {
            ApiError::Invalid(e) => Some(e),
            _ => None,
        },
    };
    let mut resp = json_response(a.status, "application/problem+json", &body);
    if let Some((name, value)) = a.header {
        resp.headers_mut()
            .insert(name, HeaderValue::from_static(value));
    }
    (resp, a.code)
}

#[derive(Serialize)]
struct Data<'a> {
    data: &'a Intervention,
}

/// 200 with `{"data": {...}}`: the 28 fields in the API reference's order
/// (docs/CONTRACT.md, "Responses").
pub(crate) fn verified(intervention: &Intervention) -> Response<Body> {
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
