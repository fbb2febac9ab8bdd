//! SigV4 for DynamoDB's calls with the day's signing key kept: the SDK's
//! signer derives it (four HMACs) and rebuilds the canonical request through
//! general-purpose maps on every call; a DynamoDB call is always `POST /`
//! with a JSON body, so this signer builds its strings directly and derives
//! the key once per day, region, service and secret. Anything else (a query
//! string, a path, a streamed body, presigning, other credentials, an
//! endpoint with its own signing properties) goes to the SDK's signer.
//! The floor bench signs with the same code.

use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_lc_rs::{digest, hmac};
use aws_runtime::auth::sigv4::{SCHEME_ID, SigV4Signer};
use aws_runtime::auth::{
    HttpSignatureType, PayloadSigningOverride, SigV4OperationSigningConfig,
    SigV4SessionTokenNameOverride,
};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::auth::{
    AuthScheme, AuthSchemeEndpointConfig, AuthSchemeId, Sign,
};
use aws_smithy_runtime_api::client::identity::{Identity, SharedIdentityResolver};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::{GetIdentityResolver, RuntimeComponents};
use aws_smithy_types::config_bag::ConfigBag;
use aws_types::SigningName;
use aws_types::region::SigningRegion;

/// Headers a signature never covers (the SDK signer's list): set or changed
/// on the way by the signer itself, proxies and tracing.
const UNSIGNED: [&str; 4] = [
    "authorization",
    "user-agent",
    "x-amzn-trace-id",
    "transfer-encoding",
];

/// A request as a signature covers it. `headers`: every header to sign,
/// lower-case names with trimmed values, sorted by name (`host` and
/// `x-amz-date` among them); repeated names are joined in order.
pub struct Canonical<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// When and where a signature is valid: `20241209T142300Z`, region, service.
pub struct Scope<'a> {
    amz_date: String,
    region: &'a str,
    service: &'a str,
}

impl<'a> Scope<'a> {
    pub fn at(time: SystemTime, region: &'a str, service: &'a str) -> Self {
        let amz_date = humantime::format_rfc3339_seconds(time)
            .to_string()
            .replace(['-', ':'], "");
        Scope {
            amz_date,
            region,
            service,
        }
    }

    /// The `x-amz-date` value.
    pub fn amz_date(&self) -> &str {
        &self.amz_date
    }

    fn date(&self) -> &str {
        self.amz_date.get(..8).unwrap_or(&self.amz_date)
    }
}

/// The signing key of the current day, for one secret: derived when the
/// day, region, service or secret changes, reused otherwise.
#[derive(Debug, Default)]
pub struct SigningKeys(Mutex<Option<DayKey>>);

#[derive(Debug)]
struct DayKey {
    scope: String,
    secret: String,
    key: hmac::Key,
}

#[cfg(test)]
thread_local! {
    /// Keys derived on this thread (a current-thread test runtime signs here).
    pub(crate) static DERIVED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl SigningKeys {
    /// The `Authorization` header value for `request`.
    pub fn authorization(
        &self,
        request: &Canonical<'_>,
        scope: &Scope<'_>,
        access_key: &str,
        secret_key: &str,
    ) -> String {
        let mut creq = String::with_capacity(640);
        let mut signed = String::with_capacity(96);
        for part in [request.method, "\n", request.path, "\n\n"] {
            creq.push_str(part);
        }
        let mut last: Option<&str> = None;
        for &(name, value) in request.headers {
            if last == Some(name) {
                creq.push(',');
            } else {
                if last.is_some() {
                    creq.push('\n');
                    signed.push(';');
                }
                for part in [name, ":"] {
                    creq.push_str(part);
                }
                signed.push_str(name);
                last = Some(name);
            }
            creq.push_str(value);
        }
        for part in ["\n\n", &signed, "\n"] {
            creq.push_str(part);
        }
        hex_into(
            &mut creq,
            digest::digest(&digest::SHA256, request.body).as_ref(),
        );

        let (date, region, service) = (scope.date(), scope.region, scope.service);
        let credential_scope = format!("{date}/{region}/{service}/aws4_request");
        let mut to_sign = format!("AWS4-HMAC-SHA256\n{}\n{credential_scope}\n", scope.amz_date);
        hex_into(
            &mut to_sign,
            digest::digest(&digest::SHA256, creq.as_bytes()).as_ref(),
        );
        let mut header = format!(
            "AWS4-HMAC-SHA256 Credential={access_key}/{credential_scope}, SignedHeaders={signed}, Signature="
        );
        let signature = self.sign(secret_key, &credential_scope, scope, to_sign.as_bytes());
        hex_into(&mut header, signature.as_ref());
        header
    }

    fn sign(
        &self,
        secret: &str,
        credential_scope: &str,
        scope: &Scope<'_>,
        data: &[u8],
    ) -> hmac::Tag {
        let mut day = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match &*day {
            Some(k) if k.scope == credential_scope && k.secret == secret => {
                hmac::sign(&k.key, data)
            }
            _ => {
                #[cfg(test)]
                DERIVED.with(|d| d.set(d.get() + 1));
                let step = |key: &[u8], data: &str| {
                    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data.as_bytes())
                };
                let k = step(format!("AWS4{secret}").as_bytes(), scope.date());
                let k = step(k.as_ref(), scope.region);
                let k = step(k.as_ref(), scope.service);
                let k = step(k.as_ref(), "aws4_request");
                let key = hmac::Key::new(hmac::HMAC_SHA256, k.as_ref());
                let tag = hmac::sign(&key, data);
                *day = Some(DayKey {
                    scope: credential_scope.to_owned(),
                    secret: secret.to_owned(),
                    key,
                });
                tag
            }
        }
    }
}

fn hex_into(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 0xf)] as char);
    }
}

/// The SDK's `sigv4` scheme with this signer: registered on the DynamoDB
/// client, it replaces the SDK's under the same id and credentials.
#[derive(Debug, Default)]
pub(crate) struct KeptKeySigV4 {
    keys: SigningKeys,
    sdk: SigV4Signer,
}

impl AuthScheme for KeptKeySigV4 {
    fn scheme_id(&self) -> AuthSchemeId {
        SCHEME_ID
    }

    fn identity_resolver(
        &self,
        resolvers: &dyn GetIdentityResolver,
    ) -> Option<SharedIdentityResolver> {
        resolvers.identity_resolver(SCHEME_ID)
    }

    fn signer(&self) -> &dyn Sign {
        self
    }
}

/// What a call must be for this signer to sign it.
struct Plain<'a> {
    credentials: &'a Credentials,
    region: &'a str,
    service: &'a str,
    host: &'a str,
    body: &'a [u8],
}

fn plain<'a>(
    request: &'a HttpRequest,
    identity: &'a Identity,
    endpoint: &AuthSchemeEndpointConfig<'_>,
    cfg: &'a ConfigBag,
) -> Option<Plain<'a>> {
    let operation = cfg.load::<SigV4OperationSigningConfig>()?;
    let o = &operation.signing_options;
    let special = endpoint.as_document().is_some()
        || cfg.load::<PayloadSigningOverride>().is_some()
        || cfg.load::<SigV4SessionTokenNameOverride>().is_some()
        || o.signature_type != HttpSignatureType::HttpRequestHeaders
        || o.payload_override.is_some()
        || o.expires_in.is_some()
        || o.content_sha256_header
        || o.omit_session_token
        || request.headers().iter().any(|(_, v)| needs_trimming(v));
    if special {
        return None;
    }
    Some(Plain {
        credentials: identity.data::<Credentials>()?,
        region: cfg
            .load::<SigningRegion>()
            .or(operation.region.as_ref())?
            .as_ref(),
        service: cfg
            .load::<SigningName>()
            .or(operation.name.as_ref())?
            .as_ref(),
        host: root_host(request.uri())?,
        body: request.body().bytes()?,
    })
}

fn needs_trimming(value: &str) -> bool {
    value.starts_with(' ') || value.ends_with(' ') || value.contains("  ")
}

/// The `host` a signature covers for `scheme://authority/`, without a default
/// port; `None` for any other path, a query or user information.
fn root_host(uri: &str) -> Option<&str> {
    let (scheme, rest) = uri.split_once("://")?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    if !path.is_empty() || authority.contains(['@', '?']) {
        return None;
    }
    let default_port = match scheme {
        "https" => ":443",
        "http" => ":80",
        _ => return None,
    };
    Some(authority.strip_suffix(default_port).unwrap_or(authority))
}

impl Sign for KeptKeySigV4 {
    fn sign_http_request(
        &self,
        request: &mut HttpRequest,
        identity: &Identity,
        endpoint: AuthSchemeEndpointConfig<'_>,
        components: &RuntimeComponents,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(call) = plain(request, identity, &endpoint, cfg) else {
            return self
                .sdk
                .sign_http_request(request, identity, endpoint, components, cfg);
        };
        let now = components.time_source().unwrap_or_default().now();
        let scope = Scope::at(now, call.region, call.service);
        let token = call.credentials.session_token();
        let mut headers: Vec<(&str, &str)> = request
            .headers()
            .iter()
            .filter(|(n, _)| {
                !UNSIGNED.contains(n) && *n != "x-amz-date" && *n != "x-amz-security-token"
            })
            .collect();
        if !headers.iter().any(|(n, _)| *n == "host") {
            headers.push(("host", call.host));
        }
        headers.push(("x-amz-date", scope.amz_date()));
        if let Some(token) = token {
            headers.push(("x-amz-security-token", token));
        }
        headers.sort_by(|a, b| a.0.cmp(b.0));
        let canonical = Canonical {
            method: request.method(),
            path: "/",
            headers: &headers,
            body: call.body,
        };
        let credentials = call.credentials;
        let authorization = self.keys.authorization(
            &canonical,
            &scope,
            credentials.access_key_id(),
            credentials.secret_access_key(),
        );
        let token = token.map(str::to_owned);
        let amz_date = scope.amz_date;
        let h = request.headers_mut();
        h.try_insert("x-amz-date", amz_date)?;
        h.try_insert("authorization", authorization)?;
        if let Some(token) = token {
            h.try_insert("x-amz-security-token", token)?;
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// `20150830T123600Z` as a time.
    pub(crate) fn at(amz: &str) -> SystemTime {
        let rfc = format!(
            "{}-{}-{}T{}:{}:{}Z",
            &amz[..4],
            &amz[4..6],
            &amz[6..8],
            &amz[9..11],
            &amz[11..13],
            &amz[13..15]
        );
        humantime::parse_rfc3339(&rfc).expect("a valid date")
    }

    /// AWS's SigV4 test suite, "get-vanilla"; the key is kept for the day.
    #[test]
    fn signs_as_aws_documents_and_derives_the_key_once_a_day() {
        let keys = SigningKeys::default();
        let scope = Scope::at(at("20150830T123600Z"), "us-east-1", "service");
        assert_eq!(scope.amz_date(), "20150830T123600Z");
        let request = Canonical {
            method: "GET",
            path: "/",
            headers: &[
                ("host", "example.amazonaws.com"),
                ("x-amz-date", "20150830T123600Z"),
            ],
            body: b"",
        };
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let before = DERIVED.with(|d| d.get());
        for _ in 0..2 {
            assert_eq!(
                keys.authorization(&request, &scope, "AKIDEXAMPLE", secret),
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                 SignedHeaders=host;x-amz-date, \
                 Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
            );
        }
        assert_eq!(
            DERIVED.with(|d| d.get()) - before,
            1,
            "one key for two signatures"
        );
        // A new day, or a rotated secret, derives again.
        let next_day = Scope::at(at("20150831T000000Z"), "us-east-1", "service");
        keys.authorization(&request, &next_day, "AKIDEXAMPLE", secret);
        keys.authorization(&request, &next_day, "AKIDEXAMPLE", "another secret");
        assert_eq!(DERIVED.with(|d| d.get()) - before, 3);
    }

    /// The `Authorization` the SDK's own signer computes for a request at
    /// `time` (`headers` without the ones signing adds).
    pub(crate) fn sdk_authorization(
        (method, uri): (&str, &str),
        headers: &[(&str, &str)],
        body: &[u8],
        (time, region, service): (SystemTime, &str, &str),
        credentials: &Credentials,
    ) -> String {
        use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
        let identity = credentials.clone().into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name(service)
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .expect("signing parameters")
            .into();
        let request = SignableRequest::new(
            method,
            uri,
            headers.iter().copied(),
            SignableBody::Bytes(body),
        )
        .expect("a signable request");
        let (instructions, _) = sign(request, &params).expect("a signature").into_parts();
        let authorization = instructions.headers().find(|(n, _)| *n == "authorization");
        authorization.expect("an authorization").1.to_owned()
    }

    /// Repeated names, several headers and a body, as the SDK signs them.
    #[test]
    fn repeated_headers_are_joined_and_every_name_signed_once() {
        let keys = SigningKeys::default();
        let time = at("20150830T123600Z");
        let scope = Scope::at(time, "eu-west-3", "dynamodb");
        let headers = [
            ("content-type", "application/x-amz-json-1.0"),
            ("host", "example.amazonaws.com"),
            ("my-header1", "value2"),
            ("my-header1", "value1"),
            ("x-amz-date", "20150830T123600Z"),
            ("x-amz-target", "DynamoDB_20120810.UpdateItem"),
        ];
        let body = br#"{"TableName":"t"}"#;
        let request = Canonical {
            method: "POST",
            path: "/",
            headers: &headers,
            body,
        };
        let credentials = Credentials::new("AKID", "SECRET", None, None, "test");
        let unsigned: Vec<_> = headers
            .iter()
            .copied()
            .filter(|(n, _)| *n != "x-amz-date")
            .collect();
        assert_eq!(
            keys.authorization(&request, &scope, "AKID", "SECRET"),
            sdk_authorization(
                ("POST", "https://example.amazonaws.com/"),
                &unsigned,
                body,
                (time, "eu-west-3", "dynamodb"),
                &credentials
            )
        );
    }

    #[test]
    fn only_the_root_path_of_a_plain_uri_is_signed_here() {
        assert_eq!(
            root_host("https://dynamodb.eu-west-3.amazonaws.com/"),
            Some("dynamodb.eu-west-3.amazonaws.com")
        );
        assert_eq!(
            root_host("https://dynamodb.eu-west-3.amazonaws.com:443/"),
            Some("dynamodb.eu-west-3.amazonaws.com")
        );
        assert_eq!(root_host("http://127.0.0.1:8000/"), Some("127.0.0.1:8000"));
        assert_eq!(root_host("http://127.0.0.1:80"), Some("127.0.0.1"));
        for other in [
            "https://h/x",
            "https://h/?a=1",
            "https://h?a=1",
            "https://u@h/",
            "ftp://h/",
            "h/",
        ] {
            assert_eq!(root_host(other), None, "{other}");
        }
        assert!(needs_trimming(" a") && needs_trimming("a  b") && !needs_trimming("a b"));
    }
}
