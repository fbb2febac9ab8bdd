//! Both tokens → the caller. Keys are parsed once at start-up; a request only
//! looks one up and checks a signature.

use std::collections::{HashMap, HashSet};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;

use crate::domain::Caller;

/// Clock skew tolerated on `exp` and `nbf` (SPEC: at most 60 s).
pub const LEEWAY_SECS: u64 = 30;
/// Larger tokens are refused before any decoding (API Gateway caps headers
/// at 10 KiB anyway); a megabyte token costs nothing.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Each organisation becomes one operand of the write's condition; DynamoDB
/// caps condition expressions at 4 KB, which this bound keeps us under.
pub const MAX_ORGANIZATIONS: usize = 300;

/// Which of the two tokens a failure concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Session,
}

impl TokenKind {
    pub fn name(self) -> &'static str {
        match self {
            TokenKind::Access => "access token",
            TokenKind::Session => "session token",
        }
    }
}

/// Why authentication failed. The reason goes to the log, never the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("{} missing", .0.name())]
    Missing(TokenKind),
    #[error("{} invalid: {reason}", .kind.name())]
    Invalid {
        kind: TokenKind,
        reason: &'static str,
    },
    #[error("session token belongs to another user")]
    UserMismatch,
}

impl AuthError {
    fn invalid(kind: TokenKind, reason: &'static str) -> Self {
        AuthError::Invalid { kind, reason }
    }
}

/// Key material and claim rules, from the environment.
#[derive(Clone, Default)]
pub struct AuthSettings {
    pub access_jwks: Option<String>,
    pub access_secret: Option<String>,
    pub session_secret: String,
    pub issuer: Option<String>,
    pub audience: Option<String>,
}

/// A key the access token may be verified with, and the rules that go with it.
struct AccessKey {
    key: DecodingKey,
    validation: Validation,
}

pub struct Verifier {
    /// JWKS keys by `kid`; only RS256, ES256 and EdDSA keys are kept.
    by_kid: HashMap<String, AccessKey>,
    /// The HS256 secret: verifies tokens that carry no `kid`.
    secret: Option<AccessKey>,
    session_key: DecodingKey,
    session_validation: Validation,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{name}: {problem}")]
pub struct KeyConfigError {
    pub name: &'static str,
    pub problem: String,
}

fn config_error(name: &'static str, problem: impl Into<String>) -> KeyConfigError {
    KeyConfigError {
        name,
        problem: problem.into(),
    }
}

impl Verifier {
    pub fn new(settings: &AuthSettings) -> Result<Self, KeyConfigError> {
        let rules = |alg| access_validation(alg, settings);
        let mut by_kid = HashMap::new();
        if let Some(doc) = &settings.access_jwks {
            for (kid, alg, key) in parse_jwks(doc)? {
                by_kid.insert(
                    kid,
                    AccessKey {
                        key,
                        validation: rules(alg),
                    },
                );
            }
        }
        let secret = match &settings.access_secret {
            Some(s) if s.is_empty() => {
                return Err(config_error("ACCESS_TOKEN_SECRET", "is empty"));
            }
            Some(s) => Some(AccessKey {
                key: DecodingKey::from_secret(s.as_bytes()),
                validation: rules(Algorithm::HS256),
            }),
            None => None,
        };
        if by_kid.is_empty() && secret.is_none() {
            return Err(config_error(
                "ACCESS_TOKEN_JWKS/ACCESS_TOKEN_SECRET",
                "at least one must be set and hold a usable key",
            ));
        }
        if settings.session_secret.is_empty() {
            return Err(config_error("SESSION_TOKEN_SECRET", "is empty"));
        }
        let mut session_validation = Validation::new(Algorithm::HS256);
        session_validation.leeway = LEEWAY_SECS;
        session_validation.validate_nbf = true;
        session_validation.validate_aud = false;
        session_validation.set_required_spec_claims(&["exp"]);
        Ok(Self {
            by_kid,
            secret,
            session_key: DecodingKey::from_secret(settings.session_secret.as_bytes()),
            session_validation,
        })
    }

    /// Checks both tokens and that they name the same user.
    pub fn authenticate(
        &self,
        authorization: Option<&[u8]>,
        session_token: Option<&[u8]>,
    ) -> Result<Caller, AuthError> {
        let access = bearer_token(authorization)?;
        let session = match session_token.map(trim_ascii) {
            None | Some(b"") => return Err(AuthError::Missing(TokenKind::Session)),
            Some(t) => token_str(t, TokenKind::Session)?,
        };
        let claims = self.verify_access(access)?;
        let (user_id, session_id) = self.verify_session(session)?;
        if user_id != claims.user_id {
            return Err(AuthError::UserMismatch);
        }
        Ok(Caller {
            user_id,
            session_id,
            organization_ids: claims.organization_ids,
            scopes: claims.scopes,
        })
    }

    fn verify_access(&self, token: &str) -> Result<AccessClaims, AuthError> {
        let invalid = |reason| AuthError::invalid(TokenKind::Access, reason);
        let header = decode_header(token).map_err(|_| invalid("malformed header"))?;
        if let Some(typ) = &header.typ
            && !["jwt", "at+jwt", "application/at+jwt"].contains(&typ.to_ascii_lowercase().as_str())
        {
            return Err(invalid("unexpected typ"));
        }
        // A `kid` names a JWKS key and nothing else; without one only the
        // shared secret applies. Either way the key fixes the algorithm.
        let key = match &header.kid {
            Some(kid) => self.by_kid.get(kid).ok_or(invalid("unknown kid"))?,
            None => self.secret.as_ref().ok_or(invalid("no kid"))?,
        };
        if !key.validation.algorithms.contains(&header.alg) {
            return Err(invalid("algorithm does not match key"));
        }
        let data = decode::<RawAccessClaims>(token, &key.key, &key.validation)
            .map_err(|e| invalid(jwt_reason(&e)))?;
        data.claims.into_claims().map_err(invalid)
    }

    fn verify_session(&self, token: &str) -> Result<(i64, String), AuthError> {
        let invalid = |reason| AuthError::invalid(TokenKind::Session, reason);
        let data = decode::<RawSessionClaims>(token, &self.session_key, &self.session_validation)
            .map_err(|e| invalid(jwt_reason(&e)))?;
        let user_id = match data.claims.user_id {
            serde_json::Value::String(s) => parse_user_id(&s),
            serde_json::Value::Number(n) => n.as_i64(),
            _ => None,
        }
        .ok_or(invalid("userId is not a user id"))?;
        let session_id = data.claims.session_id.ok_or(invalid("sessionId missing"))?;
        Ok((user_id, session_id))
    }
}

fn access_validation(alg: Algorithm, settings: &AuthSettings) -> Validation {
    let mut v = Validation::new(alg);
    v.leeway = LEEWAY_SECS;
    v.validate_nbf = true;
    let mut required = vec!["exp"];
    if let Some(iss) = &settings.issuer {
        v.set_issuer(&[iss]);
        required.push("iss");
    }
    match &settings.audience {
        // Setting an audience alone lets a token without `aud` through.
        Some(aud) => {
            v.set_audience(&[aud]);
            required.push("aud");
        }
        None => v.validate_aud = false,
    }
    v.set_required_spec_claims(&required);
    v
}

/// Keys of a JWKS document with the algorithm each may verify. Encryption
/// keys and algorithms SPEC does not allow are skipped; a document that is not
/// a JWKS, or a signing key without a `kid`, stops start-up.
fn parse_jwks(doc: &str) -> Result<Vec<(String, Algorithm, DecodingKey)>, KeyConfigError> {
    const NAME: &str = "ACCESS_TOKEN_JWKS";
    #[derive(Deserialize)]
    struct Doc {
        keys: Vec<serde_json::Value>,
    }
    let doc: Doc = serde_json::from_str(doc)
        .map_err(|e| config_error(NAME, format!("not a JWKS document: {e}")))?;
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (i, raw) in doc.keys.into_iter().enumerate() {
        let Ok(jwk) = serde_json::from_value::<Jwk>(raw) else {
            tracing::warn!(
                key_index = i,
                "ACCESS_TOKEN_JWKS: skipping a key of an unsupported type"
            );
            continue;
        };
        if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
            continue;
        }
        let Some(alg) = jwk_algorithm(&jwk) else {
            tracing::warn!(
                key_index = i,
                "ACCESS_TOKEN_JWKS: skipping a key whose algorithm is not RS256, ES256 or EdDSA"
            );
            continue;
        };
        let kid = jwk
            .common
            .key_id
            .clone()
            .ok_or_else(|| config_error(NAME, format!("key {i} has no kid")))?;
        if !seen.insert(kid.clone()) {
            return Err(config_error(NAME, format!("kid {kid:?} appears twice")));
        }
        let key = DecodingKey::from_jwk(&jwk)
            .map_err(|e| config_error(NAME, format!("key {kid:?} is malformed: {e}")))?;
        out.push((kid, alg, key));
    }
    Ok(out)
}

/// The one algorithm a JWK may verify: its `alg` if given, else what its
/// type implies. `None` for anything outside RS256, ES256 and EdDSA.
fn jwk_algorithm(jwk: &Jwk) -> Option<Algorithm> {
    let implied = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => Algorithm::ES256,
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            Algorithm::EdDSA
        }
        _ => return None,
    };
    match jwk.common.key_algorithm {
        None => Some(implied),
        Some(KeyAlgorithm::RS256) if implied == Algorithm::RS256 => Some(implied),
        Some(KeyAlgorithm::ES256) if implied == Algorithm::ES256 => Some(implied),
        Some(KeyAlgorithm::EdDSA) if implied == Algorithm::EdDSA => Some(implied),
        Some(_) => None,
    }
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

fn token_str(raw: &[u8], kind: TokenKind) -> Result<&str, AuthError> {
    if raw.len() > MAX_TOKEN_BYTES {
        return Err(AuthError::invalid(kind, "too large"));
    }
    std::str::from_utf8(raw).map_err(|_| AuthError::invalid(kind, "not ASCII"))
}

/// `Bearer <token>`, the scheme matched case-insensitively (RFC 6750).
fn bearer_token(header: Option<&[u8]>) -> Result<&str, AuthError> {
    let missing = AuthError::Missing(TokenKind::Access);
    let value = trim_ascii(header.ok_or(missing)?);
    let (scheme, rest) = match value.iter().position(|b| *b == b' ') {
        Some(i) => value.split_at(i),
        None => (value, &b""[..]),
    };
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return Err(missing);
    }
    match trim_ascii(rest) {
        b"" => Err(missing),
        token => token_str(token, TokenKind::Access),
    }
}

fn jwt_reason(e: &jsonwebtoken::errors::Error) -> &'static str {
    use jsonwebtoken::errors::ErrorKind as K;
    match e.kind() {
        K::ExpiredSignature => "expired",
        K::ImmatureSignature => "not yet valid",
        K::InvalidSignature => "bad signature",
        K::InvalidIssuer => "wrong issuer",
        K::InvalidAudience => "wrong audience",
        K::MissingRequiredClaim(c) => match c.as_str() {
            "exp" => "exp missing",
            "iss" => "iss missing",
            "aud" => "aud missing",
            _ => "required claim missing",
        },
        K::InvalidAlgorithm | K::InvalidAlgorithmName => "algorithm not allowed",
        K::Json(_) => "claims are malformed",
        _ => "malformed",
    }
}

fn parse_user_id(s: &str) -> Option<i64> {
    if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[derive(Deserialize)]
struct RawAccessClaims {
    sub: Option<String>,
    #[serde(rename = "organizationIds", default)]
    organization_ids: Option<Vec<i64>>,
    scope: Option<String>,
}

struct AccessClaims {
    user_id: i64,
    organization_ids: Vec<i64>,
    scopes: Vec<String>,
}

impl RawAccessClaims {
    fn into_claims(self) -> Result<AccessClaims, &'static str> {
        let user_id = self
            .sub
            .as_deref()
            .and_then(parse_user_id)
            .ok_or("sub is not a user id")?;
        let mut organization_ids = self.organization_ids.unwrap_or_default();
        organization_ids.sort_unstable();
        organization_ids.dedup();
        if organization_ids.len() > MAX_ORGANIZATIONS {
            return Err("too many organizationIds");
        }
        let scopes = self
            .scope
            .unwrap_or_default()
            .split_ascii_whitespace()
            .map(str::to_owned)
            .collect();
        Ok(AccessClaims {
            user_id,
            organization_ids,
            scopes,
        })
    }
}

#[derive(Deserialize)]
struct RawSessionClaims {
    #[serde(rename = "userId", default)]
    user_id: serde_json::Value,
    #[serde(rename = "sessionId")]
    session_id: Option<String>,
}

#[cfg(test)]
mod tests;
