//! The API Gateway proxy event ↔ `http` types. REST API events (payload 1.0)
//! are what production sends; HTTP API events (payload 2.0) are what `cargo
//! lambda watch` sends, so both are read.
//!
//! Written here rather than taken from `lambda_http::run`, whose conversion
//! panics on a body flagged base64 that is not, and on a `Host` header that is
//! not a host: a panic there kills the runtime and the client sees a 502. The
//! event is read in one pass into only the fields the function uses (an
//! untagged enum of the full `aws_lambda_events` types parsed it twice); a
//! header that is not a valid header is dropped instead of failing the event.

use base64::Engine;
use lambda_http::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use lambda_http::{Body, Context, Request, RequestExt, Response};
use serde::{Deserialize, Deserializer};

use super::request::{PathId, UndecodableBody};

/// The invocation payload, either format.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApiEvent {
    /// "2.0" for HTTP API events; absent for REST.
    #[serde(default)]
    version: Option<String>,
    /// REST: the method.
    #[serde(default)]
    http_method: Option<String>,
    /// REST: the path, without the stage.
    #[serde(default)]
    path: Option<String>,
    /// HTTP API: the path.
    #[serde(default)]
    raw_path: Option<String>,
    /// Read straight into the request's header map. `multiValueHeaders`
    /// (REST events repeat every header there) is skipped unread: the
    /// headers this function reads are single-valued, and `headers` holds
    /// each one's value.
    #[serde(default, deserialize_with = "header_map")]
    headers: HeaderMap,
    #[serde(default, deserialize_with = "null_as_default")]
    path_parameters: PathParameters,
    #[serde(default)]
    request_context: EventContext,
    #[serde(default)]
    body: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    is_base64_encoded: bool,
}

/// The one path parameter of the route; others are not read.
#[derive(Debug, Default, Deserialize)]
struct PathParameters {
    #[serde(rename = "interventionId", default)]
    intervention_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventContext {
    #[serde(default)]
    request_id: Option<String>,
    /// HTTP API: `{"method": …}`.
    #[serde(default)]
    http: Option<HttpContext>,
}

#[derive(Debug, Default, Deserialize)]
struct HttpContext {
    #[serde(default)]
    method: Option<String>,
}

fn null_as_default<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// API Gateway's request id, carried from the event to the handler.
#[derive(Debug, Clone)]
pub(crate) struct ApiRequestId(pub String);

impl ApiEvent {
    /// REST API (payload 1.0) rather than HTTP API (2.0).
    pub(crate) fn is_rest(&self) -> bool {
        self.version.as_deref() != Some("2.0")
    }
}

/// The response format of the event that asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResponseFormat {
    /// REST API proxy integration (payload 1.0): what production sends.
    Rest,
    /// HTTP API (payload 2.0): what `cargo lambda watch` sends.
    HttpApi,
}

impl ResponseFormat {
    /// `resp` as the runtime hands it back to API Gateway.
    pub(crate) fn respond(self, resp: Response<Body>) -> ApiResponse {
        let (parts, body) = resp.into_parts();
        let (body, is_base64_encoded) = match body {
            Body::Text(t) => (Some(t), false),
            Body::Binary(b) => (
                Some(base64::engine::general_purpose::STANDARD.encode(b)),
                true,
            ),
            _ => (None, false),
        };
        ApiResponse {
            status_code: parts.status.as_u16(),
            headers: parts.headers,
            multi_value_headers: EmptyMap {},
            body,
            is_base64_encoded,
            cookies: (self == ResponseFormat::HttpApi).then_some([]),
        }
    }
}

/// The proxy response, in the shape both payload versions accept.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApiResponse {
    status_code: u16,
    #[serde(serialize_with = "header_values")]
    headers: HeaderMap,
    /// Every header is single-valued here; the field is expected all the same.
    multi_value_headers: EmptyMap,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    is_base64_encoded: bool,
    /// HTTP API only, where a reader may require it (cargo lambda's does).
    #[serde(skip_serializing_if = "Option::is_none")]
    cookies: Option<[&'static str; 0]>,
}

#[derive(Debug, serde::Serialize)]
struct EmptyMap {}

fn header_values<S: serde::Serializer>(headers: &HeaderMap, s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(
        headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_str().unwrap_or_default())),
    )
}

/// A JSON object of header names to values (or `null`) → a header map. A
/// name or value that is not a valid header is dropped, not an error.
fn header_map<'de, D: Deserializer<'de>>(d: D) -> Result<HeaderMap, D::Error> {
    struct Headers;
    impl<'de> serde::de::Visitor<'de> for Headers {
        type Value = HeaderMap;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a map of header names to values")
        }
        fn visit_unit<E>(self) -> Result<HeaderMap, E> {
            Ok(HeaderMap::new())
        }
        fn visit_none<E>(self) -> Result<HeaderMap, E> {
            Ok(HeaderMap::new())
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<HeaderMap, D2::Error> {
            d.deserialize_map(Headers)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<HeaderMap, A::Error> {
            let mut headers = HeaderMap::with_capacity(map.size_hint().unwrap_or(16));
            while let Some((name, value)) = map.next_entry::<Text<'de>, Option<Text<'de>>>()? {
                let Some(value) = value else { continue };
                if let (Ok(name), Ok(value)) = (
                    HeaderName::from_bytes(name.0.as_bytes()),
                    HeaderValue::from_str(&value.0),
                ) {
                    headers.insert(name, value);
                }
            }
            Ok(headers)
        }
    }
    d.deserialize_option(Headers)
}

/// A JSON string, borrowed from the payload when it has no escapes.
struct Text<'de>(std::borrow::Cow<'de, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(std::borrow::Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(std::borrow::Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// The request the handler sees, and the format its response must take.
pub(crate) fn into_request(event: ApiEvent, context: Context) -> (Request, ResponseFormat) {
    let rest = event.is_rest();
    let mut undecodable = false;
    let body = match event.body {
        None => Body::Empty,
        Some(b) if event.is_base64_encoded => {
            match base64::engine::general_purpose::STANDARD.decode(b) {
                Ok(bytes) => Body::Binary(bytes),
                Err(_) => {
                    undecodable = true;
                    Body::Empty
                }
            }
        }
        Some(b) => Body::Text(b),
    };
    // HTTP API events carry the method in `requestContext.http`; a top-level
    // `httpMethod` there is a serialisation default (cargo lambda sends "GET").
    let context_method = event.request_context.http.and_then(|h| h.method);
    let method = if rest {
        event.http_method.or(context_method)
    } else {
        context_method.or(event.http_method)
    };
    let method = method
        .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
        // Unreadable: any method but PATCH is answered 405.
        .unwrap_or_default();
    let path = event.path.or(event.raw_path).unwrap_or_default();
    let mut req = Request::new(body);
    *req.method_mut() = method;
    *req.headers_mut() = event.headers;
    *req.uri_mut() = path
        .parse::<Uri>()
        .unwrap_or_else(|_| Uri::from_static("/"));
    if undecodable {
        req.extensions_mut().insert(UndecodableBody);
    }
    if let Some(id) = event.request_context.request_id {
        req.extensions_mut().insert(ApiRequestId(id));
    }
    if let Some(id) = event.path_parameters.intervention_id {
        req.extensions_mut().insert(PathId(id));
    }
    let req = req.with_raw_http_path(path).with_lambda_context(context);
    let format = if rest {
        ResponseFormat::Rest
    } else {
        ResponseFormat::HttpApi
    };
    (req, format)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> ApiEvent {
        serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn rest_event_fields_are_read() {
        let e = parse(json!({
            "httpMethod": "PATCH",
            "path": "/interventions/v2/rs/7/verify",
            "headers": {"Content-Type": "application/json", "X-Bad\u{1}": "v", "x-ok": "bad\u{7f}value", "x-null": null},
            "multiValueHeaders": {"Accept": ["a", "b"], "Content-Type": ["text/plain"]},
            "queryStringParameters": null,
            "pathParameters": {"interventionId": "7"},
            "requestContext": {"requestId": "r-1", "httpMethod": "PATCH"},
            "body": "{}",
            "isBase64Encoded": false
        }));
        assert!(e.is_rest());
        let (req, format) = into_request(e, Context::default());
        assert_eq!(format, ResponseFormat::Rest);
        assert_eq!(req.method(), Method::PATCH);
        assert_eq!(
            req.headers().get("content-type").map(|v| v.as_bytes()),
            Some(&b"application/json"[..])
        );
        assert!(
            req.headers().get("accept").is_none(),
            "multiValueHeaders are not read: headers holds every value used"
        );
        assert!(
            req.headers().get("x-ok").is_none(),
            "invalid values are dropped"
        );
        assert_eq!(req.headers().len(), 1);
        // Escaped strings are read too (they cannot be borrowed).
        let e = parse(json!({"headers": {"x-quote": "a\"b"}}));
        let (quoted, _) = into_request(e, Context::default());
        assert_eq!(
            quoted.headers().get("x-quote").map(|v| v.as_bytes()),
            Some(&b"a\"b"[..])
        );
        assert_eq!(
            req.extensions().get::<ApiRequestId>().map(|r| r.0.as_str()),
            Some("r-1")
        );
        assert_eq!(super::super::request::raw_intervention_id(&req), Some("7"));
        assert_eq!(req.raw_http_path(), "/interventions/v2/rs/7/verify");
        assert!(matches!(req.body(), Body::Text(t) if t == "{}"));
    }

    #[test]
    fn http_api_event_fields_are_read() {
        let e = parse(json!({
            "version": "2.0",
            "httpMethod": "GET",
            "rawPath": "/interventions/v2/rs/8/verify",
            "headers": {"content-type": "application/json"},
            "requestContext": {"requestId": "r-2", "http": {"method": "PATCH"}},
            "isBase64Encoded": true,
            "body": "e30="
        }));
        assert!(!e.is_rest());
        let (req, format) = into_request(e, Context::default());
        assert_eq!(format, ResponseFormat::HttpApi);
        assert_eq!(
            req.method(),
            Method::PATCH,
            "requestContext.http.method wins"
        );
        assert!(matches!(req.body(), Body::Binary(b) if b == b"{}"));
        assert_eq!(req.raw_http_path(), "/interventions/v2/rs/8/verify");
    }

    #[test]
    fn nulls_and_gaps_do_not_fail_the_event() {
        let e = parse(json!({
            "httpMethod": "BAD METHOD",
            "headers": null,
            "multiValueHeaders": null,
            "pathParameters": null,
            "isBase64Encoded": null,
            "body": null
        }));
        let (req, _) = into_request(e, Context::default());
        assert_ne!(req.method(), Method::PATCH);
        assert!(req.headers().is_empty());
        assert!(matches!(req.body(), Body::Empty));
    }

    #[test]
    fn responses_take_the_asking_format() -> Result<(), serde_json::Error> {
        let resp = || {
            let mut r = Response::new(Body::Text("{}".into()));
            *r.status_mut() = lambda_http::http::StatusCode::CONFLICT;
            r.headers_mut().insert(
                "content-type",
                HeaderValue::from_static("application/problem+json"),
            );
            r
        };
        let rest = serde_json::to_value(ResponseFormat::Rest.respond(resp()))?;
        assert_eq!(rest["statusCode"], 409);
        assert_eq!(rest["headers"]["content-type"], "application/problem+json");
        assert!(rest.get("multiValueHeaders").is_some());
        assert!(rest.get("cookies").is_none());
        assert_eq!(rest["isBase64Encoded"], false);
        let http = serde_json::to_value(ResponseFormat::HttpApi.respond(resp()))?;
        assert_eq!(http["statusCode"], 409);
        assert_eq!(http["body"], "{}");
        assert_eq!(http["cookies"], serde_json::json!([]));
        // What the runtime's own types read back is what we wrote.
        let back: lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpResponse =
            serde_json::from_value(http)?;
        assert_eq!(back.status_code, 409);
        let back: lambda_http::aws_lambda_events::apigw::ApiGatewayProxyResponse =
            serde_json::from_value(rest.clone())?;
        assert_eq!(back.status_code, 409);
        let mut binary = Response::new(Body::Binary(b"{}".to_vec()));
        *binary.status_mut() = lambda_http::http::StatusCode::OK;
        let b = serde_json::to_value(ResponseFormat::Rest.respond(binary))?;
        assert_eq!(
            (b["body"].as_str(), b["isBase64Encoded"].as_bool()),
            (Some("e30="), Some(true))
        );
        Ok(())
    }
}
