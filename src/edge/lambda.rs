//! The API Gateway REST proxy event ↔ `http` types. Written here rather than
//! taken from `lambda_http::run`, whose conversion panics on a body that is
//! flagged base64 but is not, and on a `Host` header that is not a host: a
//! panic there kills the runtime and the client sees a 502.

use base64::Engine;
use lambda_http::aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use lambda_http::aws_lambda_events::encodings::Body as EventBody;
use lambda_http::http::{HeaderMap, Uri};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Context, Request, RequestExt, Response};

use super::request::UndecodableBody;

pub fn into_request(event: ApiGatewayProxyRequest, context: Context) -> Request {
    // As lambda_http does: single-value headers win over multi-value ones.
    let mut headers = event.multi_value_headers;
    headers.extend(event.headers);
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
    let path = event.path.unwrap_or_default();
    let mut req = Request::new(body);
    *req.method_mut() = event.http_method;
    *req.headers_mut() = headers;
    *req.uri_mut() = path
        .parse::<Uri>()
        .unwrap_or_else(|_| Uri::from_static("/"));
    if undecodable {
        req.extensions_mut().insert(UndecodableBody);
    }
    req.with_raw_http_path(path)
        .with_path_parameters(event.path_parameters)
        .with_request_context(RequestContext::ApiGatewayV1(event.request_context))
        .with_lambda_context(context)
}

pub fn into_event_response(resp: Response<Body>) -> ApiGatewayProxyResponse {
    let (parts, body) = resp.into_parts();
    let body = match body {
        Body::Empty => None,
        Body::Text(t) => Some(EventBody::Text(t)),
        Body::Binary(b) => Some(EventBody::Binary(b)),
        _ => None,
    };
    let mut out = ApiGatewayProxyResponse::default();
    out.status_code = i64::from(parts.status.as_u16());
    out.is_base64_encoded = matches!(body, Some(EventBody::Binary(_)));
    out.headers = parts.headers;
    out.multi_value_headers = HeaderMap::new();
    out.body = body;
    out
}
