//! The API Gateway proxy event ↔ `http` types. REST API events are what
//! production sends; HTTP API (payload 2.0) events are what `cargo lambda
//! watch` sends, so both are read. Written here rather than
//! taken from `lambda_http::run`, whose conversion panics on a body that is
//! flagged base64 but is not, and on a `Host` header that is not a host: a
//! panic there kills the runtime and the client sees a 502.

use base64::Engine;
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayProxyRequest, ApiGatewayProxyResponse, ApiGatewayV2httpRequest,
    ApiGatewayV2httpResponse,
};
use lambda_http::aws_lambda_events::encodings::Body as EventBody;
use lambda_http::http::{HeaderMap, Method, Uri};

use lambda_http::request::RequestContext;
use lambda_http::{Body, Context, Request, RequestExt, Response};

use super::request::UndecodableBody;

/// The invocation payload: REST first, the format API Gateway uses here.
#[derive(serde::Deserialize)]
#[serde(untagged)]
pub enum ApiEvent {
    Rest(Box<ApiGatewayProxyRequest>),
    Http(Box<ApiGatewayV2httpRequest>),
}

impl From<ApiGatewayProxyRequest> for ApiEvent {
    fn from(e: ApiGatewayProxyRequest) -> Self {
        ApiEvent::Rest(Box::new(e))
    }
}

/// The parts of either event format that the function reads.
struct Parts {
    method: Method,
    path: String,
    headers: HeaderMap,
    path_parameters: std::collections::HashMap<String, String>,
    body: Option<String>,
    is_base64_encoded: bool,
    context: RequestContext,
}

fn parts(event: ApiEvent) -> Parts {
    match event {
        ApiEvent::Rest(e) => {
            let e = *e;
            // As lambda_http does: single-value headers win over multi-value ones.
            let mut headers = e.multi_value_headers;
            headers.extend(e.headers);
            Parts {
                method: e.http_method,
                path: e.path.unwrap_or_default(),
                headers,
                path_parameters: e.path_parameters,
                body: e.body,
                is_base64_encoded: e.is_base64_encoded,
                context: RequestContext::ApiGatewayV1(e.request_context),
            }
        }
        ApiEvent::Http(e) => {
            let e = *e;
            Parts {
                method: e.request_context.http.method.clone(),
                path: e.raw_path.unwrap_or_default(),
                headers: e.headers,
                path_parameters: e.path_parameters,
                body: e.body,
                is_base64_encoded: e.is_base64_encoded,
                context: RequestContext::ApiGatewayV2(e.request_context),
            }
        }
    }
}

pub fn into_request(event: impl Into<ApiEvent>, context: Context) -> Request {
    let p = parts(event.into());
    let mut undecodable = false;
    let body = match p.body {
        None => Body::Empty,
        Some(b) if p.is_base64_encoded => match base64::engine::general_purpose::STANDARD.decode(b)
        {
            Ok(bytes) => Body::Binary(bytes),
            Err(_) => {
                undecodable = true;
                Body::Empty
            }
        },
        Some(b) => Body::Text(b),
    };
    let mut req = Request::new(body);
    *req.method_mut() = p.method;
    *req.headers_mut() = p.headers;
    *req.uri_mut() = p
        .path
        .parse::<Uri>()
        .unwrap_or_else(|_| Uri::from_static("/"));
    if undecodable {
        req.extensions_mut().insert(UndecodableBody);
    }
    req.with_raw_http_path(p.path)
        .with_path_parameters(p.path_parameters)
        .with_request_context(p.context)
        .with_lambda_context(context)
}

/// The response in the format of the event that asked.
#[derive(Debug, serde::Serialize)]
#[serde(untagged)]
pub enum ApiResponse {
    Rest(ApiGatewayProxyResponse),
    Http(ApiGatewayV2httpResponse),
}

impl ApiEvent {
    /// Converts `resp` into the response format this event's source expects.
    pub fn respond_with(is_rest: bool, resp: Response<Body>) -> ApiResponse {
        let (parts, body) = resp.into_parts();
        let body = match body {
            Body::Empty => None,
            Body::Text(t) => Some(EventBody::Text(t)),
            Body::Binary(b) => Some(EventBody::Binary(b)),
            _ => None,
        };
        let status_code = i64::from(parts.status.as_u16());
        let is_base64_encoded = matches!(body, Some(EventBody::Binary(_)));
        if is_rest {
            let mut out = ApiGatewayProxyResponse::default();
            out.status_code = status_code;
            out.is_base64_encoded = is_base64_encoded;
            out.headers = parts.headers;
            out.body = body;
            ApiResponse::Rest(out)
        } else {
            let mut out = ApiGatewayV2httpResponse::default();
            out.status_code = status_code;
            out.is_base64_encoded = is_base64_encoded;
            out.headers = parts.headers;
            out.body = body;
            ApiResponse::Http(out)
        }
    }

    pub fn is_rest(&self) -> bool {
        matches!(self, ApiEvent::Rest(_))
    }
}
