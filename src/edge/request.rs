//! API Gateway request → validated command. Checks run in the contract's
//! order (docs/CONTRACT.md, "Request rules"); the
//! caller's tokens are checked by the handler before anything here.

use lambda_http::{Body, Request, RequestExt};
use serde_json::Value;

use crate::domain::{Decision, InterventionId, VerifyCommand, utf16_len};
use crate::error::{ApiError, FieldError};

pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024;
pub(crate) const MAX_COMMENT_UNITS: usize = 2500;
pub(crate) const MAX_NOTIFICATION_ID_UNITS: usize = 256;
/// The resource this function serves, as API Gateway and the API reference write it.
#[cfg(test)]
pub(crate) const ROUTE: &str = "/interventions/v2/rs/{interventionId}/verify";
const ROUTE_PREFIX: &str = "/interventions/v2/rs/";
const ROUTE_SUFFIX: &str = "/verify";

/// Marks a request whose base64 body could not be decoded: it reaches the
/// body check as a 400, in the contract's order, instead of failing the invocation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UndecodableBody;

pub(crate) fn header<'a>(req: &'a Request, name: &str) -> Option<&'a [u8]> {
    req.headers().get(name).map(|v| v.as_bytes())
}

/// `application/json`, with parameters such as `charset=utf-8` allowed.
pub(crate) fn check_content_type(req: &Request) -> Result<(), ApiError> {
    let media_type = header(req, "content-type")
        .and_then(|v| v.split(|b| *b == b';').next())
        .map(<[u8]>::trim_ascii);
    match media_type {
        Some(t) if t.eq_ignore_ascii_case(b"application/json") => Ok(()),
        _ => Err(ApiError::UnsupportedMediaType),
    }
}

fn body_bytes(req: &Request) -> &[u8] {
    match req.body() {
        Body::Empty => &[],
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => &[],
    }
}

pub(crate) fn check_size(req: &Request) -> Result<(), ApiError> {
    if body_bytes(req).len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge);
    }
    Ok(())
}

/// The path id (parsed by the caller, once) and the body, every offending
/// field reported at once.
pub(crate) fn parse_command(
    req: &Request,
    intervention_id: Result<InterventionId, FieldError>,
) -> Result<VerifyCommand, ApiError> {
    let mut errors = Vec::new();
    let id = intervention_id.map_err(|e| errors.push(e));
    let body = if req.extensions().get::<UndecodableBody>().is_some() {
        Err(vec![FieldError::new("#", "The body is not valid base64.")])
    } else {
        parse_body(body_bytes(req))
    }
    .map_err(|mut e| errors.append(&mut e));
    match (id, body) {
        (Ok(intervention_id), Ok(body)) => Ok(VerifyCommand {
            intervention_id,
            decision: body.decision,
            comment: body.comment,
            notification_id: body.notification_id,
        }),
        _ => Err(ApiError::Invalid(errors)),
    }
}

/// The path parameter API Gateway extracted, carried from the event by
/// `edge::lambda::into_request`.
#[derive(Debug, Clone)]
pub(crate) struct PathId(pub String);

/// From the path parameter API Gateway extracted; failing that, from the
/// path itself (a router that does not extract parameters).
pub(crate) fn raw_intervention_id(req: &Request) -> Option<&str> {
    if let Some(PathId(id)) = req.extensions().get::<PathId>() {
        return Some(id);
    }
    let path = req.raw_http_path();
    let path = if path.is_empty() {
        req.uri().path()
    } else {
        path
    };
    let start = path.find(ROUTE_PREFIX)? + ROUTE_PREFIX.len();
    let id = path[start..].strip_suffix(ROUTE_SUFFIX)?;
    (!id.is_empty() && !id.contains('/')).then_some(id)
}

/// A decimal integer within ±(2^53 - 1): an optional `-`, then digits.
pub(crate) fn parse_intervention_id(raw: Option<&str>) -> Result<InterventionId, FieldError> {
    let pointer = "#/interventionId";
    let raw = raw.ok_or_else(|| FieldError::new(pointer, "The intervention id is required."))?;
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FieldError::new(
            pointer,
            "The intervention id must be a decimal integer.",
        ));
    }
    raw.parse::<i64>()
        .ok()
        .and_then(InterventionId::new)
        .ok_or_else(|| {
            FieldError::new(
                pointer,
                format!(
                    "The intervention id must be between {} and {}.",
                    -InterventionId::MAX,
                    InterventionId::MAX
                ),
            )
        })
}

/// The body's fields, once valid.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DecisionBody {
    decision: Decision,
    comment: String,
    notification_id: Option<String>,
}

/// A string field of at most `max_units` UTF-16 units (as the JavaScript
/// clients count); `null` counts as absent.
fn bounded_string(
    value: Option<Value>,
    pointer: &'static str,
    name: &str,
    max_units: usize,
) -> Result<Option<String>, FieldError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if utf16_len(&s) <= max_units => Ok(Some(s)),
        Some(Value::String(_)) => Err(FieldError::new(
            pointer,
            format!("{name} must be at most {max_units} characters."),
        )),
        Some(_) => Err(FieldError::new(
            pointer,
            format!("{name} must be a string."),
        )),
    }
}

fn parse_body(bytes: &[u8]) -> Result<DecisionBody, Vec<FieldError>> {
    let not_object = || vec![FieldError::new("#", "The body must be a JSON object.")];
    let Ok(Value::Object(mut fields)) = serde_json::from_slice::<Value>(bytes) else {
        return Err(not_object());
    };
    let mut errors = Vec::new();
    let comment = bounded_string(
        fields.remove("decisionComment"),
        "#/decisionComment",
        "decisionComment",
        MAX_COMMENT_UNITS,
    )
    .and_then(|c| {
        c.ok_or_else(|| FieldError::new("#/decisionComment", "decisionComment is required."))
    })
    .map_err(|e| errors.push(e));
    let decision = match fields.get("decision") {
        None | Some(Value::Null) => Err(FieldError::new("#/decision", "decision is required.")),
        Some(Value::Number(n)) => n.as_f64().and_then(Decision::from_number).ok_or_else(|| {
            FieldError::new(
                "#/decision",
                format!("decision must be {}.", Decision::choices()),
            )
        }),
        Some(_) => Err(FieldError::new(
            "#/decision",
            format!("decision must be a number: {}.", Decision::choices()),
        )),
    }
    .map_err(|e| errors.push(e));
    let notification_id = bounded_string(
        fields.remove("notificationId"),
        "#/notificationId",
        "notificationId",
        MAX_NOTIFICATION_ID_UNITS,
    )
    .map_err(|e| errors.push(e));
    match (decision, comment, notification_id) {
        (Ok(decision), Ok(comment), Ok(notification_id)) => Ok(DecisionBody {
            decision,
            comment,
            notification_id,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pointers(bytes: &[u8]) -> Vec<&'static str> {
        match parse_body(bytes) {
            Ok(_) => vec![],
            Err(e) => e.into_iter().map(|f| f.pointer).collect(),
        }
    }

    #[test]
    fn intervention_id_range_and_syntax() {
        for (raw, ok) in [
            ("1", Some(1)),
            ("0", Some(0)),
            ("-5", Some(-5)),
            ("007", Some(7)),
            ("9007199254740991", Some(InterventionId::MAX)),
            ("-9007199254740991", Some(-InterventionId::MAX)),
            ("9007199254740992", None),
            ("-9007199254740992", None),
            ("99999999999999999999999", None),
            ("", None),
            ("-", None),
            ("+1", None),
            ("1.0", None),
            ("1e3", None),
            (" 1", None),
            ("abc", None),
            ("١", None),
        ] {
            assert_eq!(
                parse_intervention_id(Some(raw))
                    .ok()
                    .map(InterventionId::get),
                ok,
                "{raw:?}"
            );
        }
        assert!(parse_intervention_id(None).is_err());
    }

    #[test]
    fn valid_bodies() {
        let ok = |v: serde_json::Value| parse_body(v.to_string().as_bytes());
        let body = |decision, comment: &str, notification_id: Option<&str>| DecisionBody {
            decision,
            comment: comment.into(),
            notification_id: notification_id.map(Into::into),
        };
        assert_eq!(
            ok(json!({"decisionComment": "", "decision": 1})).ok(),
            Some(body(Decision::Accept, "", None))
        );
        assert_eq!(
            ok(json!({"decisionComment": "x", "decision": 2.0, "notificationId": null, "extra": [1]})).ok(),
            Some(body(Decision::Reject, "x", None))
        );
        assert_eq!(
            ok(json!({"decisionComment": "x", "decision": 1, "notificationId": "n-1"})).ok(),
            Some(body(Decision::Accept, "x", Some("n-1")))
        );
        assert!(parse_body(br#"{"decisionComment":"x","decision":1e0}"#).is_ok());
    }

    #[test]
    fn every_offending_field_is_named() {
        assert_eq!(pointers(b"{}"), ["#/decisionComment", "#/decision"]);
        assert_eq!(
            pointers(br#"{"decisionComment": 5, "decision": "1", "notificationId": 3}"#),
            ["#/decisionComment", "#/decision", "#/notificationId"]
        );
        assert_eq!(
            pointers(br#"{"decisionComment": "x", "decision": 3}"#),
            ["#/decision"]
        );
        assert_eq!(
            pointers(br#"{"decisionComment": "x", "decision": 1.5}"#),
            ["#/decision"]
        );
        assert_eq!(
            pointers(br#"{"decisionComment": "x", "decision": true}"#),
            ["#/decision"]
        );
        assert_eq!(
            pointers(br#"{"decisionComment": null, "decision": 1}"#),
            ["#/decisionComment"]
        );
    }

    #[test]
    fn a_wrong_decision_is_told_the_choices() {
        let detail = |body: Value| match parse_body(body.to_string().as_bytes()) {
            Err(e) => e.into_iter().map(|f| f.detail).collect::<Vec<_>>(),
            Ok(_) => vec![],
        };
        assert_eq!(
            detail(json!({"decisionComment": "", "decision": 3})),
            ["decision must be 1 (accept) or 2 (reject)."]
        );
        assert_eq!(
            detail(json!({"decisionComment": "", "decision": 1.5})),
            ["decision must be 1 (accept) or 2 (reject)."]
        );
        assert_eq!(
            detail(json!({"decisionComment": "", "decision": "1"})),
            ["decision must be a number: 1 (accept) or 2 (reject)."]
        );
    }

    #[test]
    fn non_objects_are_the_whole_body() {
        for body in [&b""[..], b"[]", b"null", b"\"x\"", b"{", b"\xff\xfe", b"1"] {
            assert_eq!(pointers(body), ["#"], "{body:?}");
        }
    }

    #[test]
    fn comment_limit_counts_utf16_units() {
        let body = |c: String| json!({"decisionComment": c, "decision": 1}).to_string();
        assert!(parse_body(body("a".repeat(2500)).as_bytes()).is_ok());
        assert_eq!(
            pointers(body("a".repeat(2501)).as_bytes()),
            ["#/decisionComment"]
        );
        // 1250 emoji are 2500 UTF-16 units but 1250 chars and 5000 bytes.
        assert!(parse_body(body("😀".repeat(1250)).as_bytes()).is_ok());
        assert_eq!(
            pointers(body(format!("a{}", "😀".repeat(1250))).as_bytes()),
            ["#/decisionComment"]
        );
        // 2500 two-byte chars are 2500 units: allowed although 5000 bytes.
        assert!(parse_body(body("é".repeat(2500)).as_bytes()).is_ok());
    }

    #[test]
    fn notification_id_limit_counts_utf16_units() {
        let body = |n: String| {
            json!({"decisionComment": "", "decision": 1, "notificationId": n}).to_string()
        };
        assert!(parse_body(body("n".repeat(256)).as_bytes()).is_ok());
        assert_eq!(
            pointers(body("n".repeat(257)).as_bytes()),
            ["#/notificationId"]
        );
        assert_eq!(
            pointers(body("😀".repeat(129)).as_bytes()),
            ["#/notificationId"]
        );
    }
}
