//! Token minting with the test-only keys in `tests/fixtures/keys`: one set of
//! claims and signers for every test, the bench and `dev-tokens`.

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

pub(crate) const ACCESS_SECRET: &str = "test-access-secret-0123456789abcdef";
pub(crate) const SESSION_SECRET: &str = "test-session-secret-0123456789abcdef";
pub(crate) const JWKS: &str = include_str!("../../tests/fixtures/keys/jwks.json");
#[cfg(test)]
pub(crate) const RSA_PUBLIC_PEM: &str = include_str!("../../tests/fixtures/keys/rsa_pub.pem");
pub(crate) const SCOPE: &str = "interventions:read interventions:verify";

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// The key a test signs with for `alg`: the fixture key pair of that type, or
/// the access secret for HS256.
pub(crate) fn signing_key(alg: Algorithm) -> EncodingKey {
    let pem = |s: &str| s.as_bytes().to_vec();
    let key = match alg {
        Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512 => {
            EncodingKey::from_rsa_pem(&pem(include_str!("../../tests/fixtures/keys/rsa.pem")))
        }
        Algorithm::ES256 => {
            EncodingKey::from_ec_pem(&pem(include_str!("../../tests/fixtures/keys/ec.pem")))
        }
        Algorithm::ES384 => {
            EncodingKey::from_ec_pem(&pem(include_str!("../../tests/fixtures/keys/ec384.pem")))
        }
        Algorithm::EdDSA => {
            EncodingKey::from_ed_pem(&pem(include_str!("../../tests/fixtures/keys/ed.pem")))
        }
        _ => Ok(EncodingKey::from_secret(ACCESS_SECRET.as_bytes())),
    };
    key.unwrap_or_else(|e| panic!("fixture key for {alg:?}: {e}"))
}

/// The fixture JWKS kid of the key pair for `alg`: the RSA key's other
/// algorithms go through `rsa-any`, the same key published without `alg`.
pub(crate) fn kid(alg: Algorithm) -> Option<&'static str> {
    match alg {
        Algorithm::RS256 => Some("rsa-1"),
        Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512 => Some("rsa-any"),
        Algorithm::ES256 => Some("ec-1"),
        Algorithm::ES384 => Some("ec384-1"),
        Algorithm::EdDSA => Some("ed-1"),
        _ => None,
    }
}

pub fn sign_with(header: &Header, claims: &Value, key: &EncodingKey) -> String {
    encode(header, claims, key).unwrap_or_else(|e| panic!("signing a test token: {e}"))
}

/// A token signed with the fixture key for `alg`, its kid set where it has one.
pub(crate) fn sign(alg: Algorithm, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid(alg).map(str::to_owned);
    sign_with(&header, claims, &signing_key(alg))
}

pub(crate) fn access_claims(user: i64, orgs: &[i64]) -> Value {
    access_claims_for(user, orgs, SCOPE, 3600)
}

/// Access-token claims as an issuer writes them (RFC 9068), valid `ttl` s.
pub fn access_claims_for(user: i64, orgs: &[i64], scope: &str, ttl: i64) -> Value {
    json!({
        "sub": user.to_string(),
        "organizationIds": orgs,
        "scope": scope,
        "iat": now(),
        "exp": now() + ttl,
    })
}

pub(crate) fn session_claims(user: i64) -> Value {
    session_claims_for(user, &format!("session-{user}"), 3600)
}

/// Session-token claims as the reference's example has them, valid `ttl` s.
pub fn session_claims_for(user: i64, session_id: &str, ttl: i64) -> Value {
    json!({
        "userId": user.to_string(),
        "sessionId": session_id,
        "iat": now(),
        "exp": now() + ttl,
    })
}

/// An HS256 token of `claims` signed with `secret`.
pub fn hs256(claims: &Value, secret: &[u8]) -> String {
    sign_with(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
}

pub fn access(user: i64, orgs: &[i64]) -> String {
    sign(Algorithm::HS256, &access_claims(user, orgs))
}

pub fn session(user: i64) -> String {
    session_with(&session_claims(user))
}

pub(crate) fn session_with(claims: &Value) -> String {
    hs256(claims, SESSION_SECRET.as_bytes())
}
