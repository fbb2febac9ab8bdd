//! Browsers (docs/CONTRACT.md, "Browsers"): the preflight, answered before
//! any other check, and the CORS headers every other answer carries for an
//! allowed origin. Pure: no token, no storage.

use lambda_http::http::{HeaderMap, HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};

use crate::config::AllowedOrigins;

/// The methods the route answers, for `Allow`.
pub(crate) const ALLOW: &str = "OPTIONS, PATCH";
/// Request headers a browser may send (lowercase, as preflights list them).
pub(crate) const ALLOWED_HEADERS: [&str; 3] = ["authorization", "content-type", "x-session-token"];
/// `Access-Control-Allow-Headers`, from [`ALLOWED_HEADERS`].
static ALLOW_HEADERS_VALUE: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| ALLOWED_HEADERS.join(", "));
/// How long a browser may cache a positive preflight.
pub(crate) const MAX_AGE_SECS: &str = "7200";
/// Response headers browser code may read besides the safelisted ones.
pub(crate) const EXPOSED_HEADERS: &str = "Retry-After, WWW-Authenticate";

/// How an `OPTIONS` request was answered, for the log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OptionsOutcome {
    /// A preflight for an allowed origin, method and headers.
    PreflightAllowed,
    /// A preflight we do not allow: 204 without `Access-Control-Allow-*`.
    PreflightRefused,
    /// No `Access-Control-Request-Method`: a plain `OPTIONS`.
    Options,
}

impl OptionsOutcome {
    pub(crate) fn code(self) -> &'static str {
        match self {
            OptionsOutcome::PreflightAllowed => "preflight_allowed",
            OptionsOutcome::PreflightRefused => "preflight_refused",
            OptionsOutcome::Options => "options",
        }
    }
}

fn text(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The answer to an `OPTIONS` request.
pub(crate) fn options(
    origins: &AllowedOrigins,
    request: &HeaderMap,
) -> (Response<Body>, OptionsOutcome) {
    let mut resp = Response::new(Body::Empty);
    *resp.status_mut() = StatusCode::NO_CONTENT;
    let origin = text(request, header::ORIGIN);
    let Some(method) = text(request, header::ACCESS_CONTROL_REQUEST_METHOD) else {
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(ALLOW));
        decorate(origins, origin, resp.headers_mut());
        return (resp, OptionsOutcome::Options);
    };
    let headers = resp.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    let allowed = origins.allow(origin).filter(|_| {
        method == "PATCH"
            && requested_headers_allowed(text(request, header::ACCESS_CONTROL_REQUEST_HEADERS))
    });
    let Some(allow_origin) = allowed.and_then(|o| HeaderValue::from_str(o).ok()) else {
        return (resp, OptionsOutcome::PreflightRefused);
    };
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("PATCH"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(ALLOW_HEADERS_VALUE.as_str()),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(MAX_AGE_SECS),
    );
    (resp, OptionsOutcome::PreflightAllowed)
}

/// Every listed header (comma-separated, any case) is one we allow.
fn requested_headers_allowed(list: Option<&str>) -> bool {
    list.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .all(|h| ALLOWED_HEADERS.iter().any(|a| a.eq_ignore_ascii_case(h)))
}

/// The CORS headers of a non-preflight answer to `origin`, when allowed.
pub(crate) fn decorate(origins: &AllowedOrigins, origin: Option<&str>, headers: &mut HeaderMap) {
    let Some(allowed) = origins.allow(origin) else {
        if matches!(origins, AllowedOrigins::List(_)) {
            // The answer depends on the origin: caches must keep them apart.
            headers.insert(header::VARY, HeaderValue::from_static("Origin"));
        }
        return;
    };
    let Ok(value) = HeaderValue::from_str(allowed) else {
        return;
    };
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSED_HEADERS),
    );
    if allowed != "*" {
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> AllowedOrigins {
        AllowedOrigins::List(vec![
            "https://app.example".into(),
            "http://localhost:3000".into(),
        ])
    }

    fn req(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                *k,
                HeaderValue::from_str(v).unwrap_or_else(|e| panic!("{e}")),
            );
        }
        h
    }

    fn get<'a>(r: &'a Response<Body>, name: &str) -> Option<&'a str> {
        r.headers().get(name).and_then(|v| v.to_str().ok())
    }

    fn has_any_allow_header(r: &Response<Body>) -> bool {
        r.headers()
            .keys()
            .any(|k| k.as_str().starts_with("access-control-allow-"))
    }

    #[test]
    fn an_allowed_preflight_gets_every_header() {
        for origin in ["https://app.example", "http://localhost:3000"] {
            let (r, outcome) = options(
                &list(),
                &req(&[
                    ("origin", origin),
                    ("access-control-request-method", "PATCH"),
                    (
                        "access-control-request-headers",
                        "authorization,content-type,x-session-token",
                    ),
                ]),
            );
            assert_eq!(outcome, OptionsOutcome::PreflightAllowed);
            assert_eq!(r.status(), 204);
            assert_eq!(get(&r, "access-control-allow-origin"), Some(origin));
            assert_eq!(get(&r, "access-control-allow-methods"), Some("PATCH"));
            assert_eq!(
                get(&r, "access-control-allow-headers"),
                Some("authorization, content-type, x-session-token")
            );
            assert_eq!(get(&r, "access-control-max-age"), Some("7200"));
            assert_eq!(get(&r, "vary"), Some("Origin"));
            assert!(matches!(r.body(), Body::Empty));
        }
    }

    #[test]
    fn header_names_match_in_any_case_and_a_subset_is_fine() {
        for headers in [
            "Authorization, Content-Type, X-Session-Token",
            "x-session-token",
            "",
            " authorization ,content-type",
        ] {
            let (r, outcome) = options(
                &list(),
                &req(&[
                    ("origin", "https://app.example"),
                    ("access-control-request-method", "PATCH"),
                    ("access-control-request-headers", headers),
                ]),
            );
            assert_eq!(outcome, OptionsOutcome::PreflightAllowed, "{headers:?}");
            assert!(has_any_allow_header(&r));
        }
    }

    #[test]
    fn anything_else_is_204_without_allow_headers() {
        let cases: [&[(&'static str, &str)]; 6] = [
            &[
                ("origin", "https://evil.example"),
                ("access-control-request-method", "PATCH"),
            ],
            &[
                ("origin", "https://app.example.evil"),
                ("access-control-request-method", "PATCH"),
            ],
            &[
                ("origin", "https://app.example"),
                ("access-control-request-method", "DELETE"),
            ],
            &[
                ("origin", "https://app.example"),
                ("access-control-request-method", "patch"),
            ],
            &[
                ("origin", "https://app.example"),
                ("access-control-request-method", "PATCH"),
                ("access-control-request-headers", "authorization, x-debug"),
            ],
            &[("access-control-request-method", "PATCH")],
        ];
        for pairs in cases {
            let (r, outcome) = options(&list(), &req(pairs));
            assert_eq!(outcome, OptionsOutcome::PreflightRefused, "{pairs:?}");
            assert_eq!(r.status(), 204);
            assert!(!has_any_allow_header(&r), "{pairs:?}");
        }
        let (r, outcome) = patch_preflight(&AllowedOrigins::None, "https://app.example");
        assert_eq!(outcome, OptionsOutcome::PreflightRefused);
        assert!(!has_any_allow_header(&r));
    }

    /// A preflight from `origin` for `PATCH` with no extra headers.
    fn patch_preflight(origins: &AllowedOrigins, origin: &str) -> (Response<Body>, OptionsOutcome) {
        options(
            origins,
            &req(&[
                ("origin", origin),
                ("access-control-request-method", "PATCH"),
            ]),
        )
    }

    #[test]
    fn a_star_setting_answers_star() {
        let (r, outcome) = patch_preflight(&AllowedOrigins::Any, "https://anywhere.example");
        assert_eq!(outcome, OptionsOutcome::PreflightAllowed);
        assert_eq!(get(&r, "access-control-allow-origin"), Some("*"));
    }

    #[test]
    fn options_without_a_request_method_is_plain() {
        let (r, outcome) = options(&list(), &req(&[("origin", "https://app.example")]));
        assert_eq!(outcome, OptionsOutcome::Options);
        assert_eq!(r.status(), 204);
        assert_eq!(get(&r, "allow"), Some("OPTIONS, PATCH"));
        assert_eq!(
            get(&r, "access-control-allow-origin"),
            Some("https://app.example")
        );
        assert_eq!(get(&r, "access-control-allow-methods"), None);
        let (r, _) = options(&list(), &req(&[]));
        assert_eq!(get(&r, "allow"), Some("OPTIONS, PATCH"));
        assert!(!has_any_allow_header(&r));
    }

    #[test]
    fn other_answers_expose_the_headers_browser_code_reads() {
        let mut h = HeaderMap::new();
        decorate(&list(), Some("http://localhost:3000"), &mut h);
        assert_eq!(
            h.get("access-control-allow-origin").map(|v| v.as_bytes()),
            Some(&b"http://localhost:3000"[..])
        );
        assert_eq!(
            h.get("access-control-expose-headers").map(|v| v.as_bytes()),
            Some(&b"Retry-After, WWW-Authenticate"[..])
        );
        assert_eq!(h.get("vary").map(|v| v.as_bytes()), Some(&b"Origin"[..]));
        let mut h = HeaderMap::new();
        decorate(&list(), Some("https://evil.example"), &mut h);
        assert!(h.get("access-control-allow-origin").is_none());
        assert!(h.get("access-control-expose-headers").is_none());
        let mut h = HeaderMap::new();
        decorate(&AllowedOrigins::Any, None, &mut h);
        assert_eq!(
            h.get("access-control-allow-origin").map(|v| v.as_bytes()),
            Some(&b"*"[..])
        );
        assert!(h.get("vary").is_none());
    }
}
