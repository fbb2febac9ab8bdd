//! Token rules. The attack catalogue runs through the whole handler
//! in `handler::tests`; here each rule is checked on the verifier alone.

use crate::testing::{ready, tokens};

use super::*;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;

fn settings() -> AuthSettings {
    crate::testing::auth_settings()
}

fn verifier(s: &AuthSettings) -> Verifier {
    crate::testing::verifier(s)
}

fn auth(v: &Verifier, access: &str, session: &str) -> Result<Caller, AuthError> {
    let bearer = format!("Bearer {access}");
    ready(v.authenticate(Some(bearer.as_bytes()), Some(session.as_bytes())))
}

fn invalid_access(reason: &'static str) -> Result<Caller, AuthError> {
    Err(AuthError::Invalid {
        kind: TokenKind::Access,
        reason,
    })
}

#[test]
fn every_configured_algorithm_is_accepted() {
    let v = verifier(&settings());
    for alg in [
        Algorithm::HS256,
        Algorithm::RS256,
        Algorithm::ES256,
        Algorithm::EdDSA,
    ] {
        let token = tokens::sign(alg, &tokens::access_claims(42, &[3, 1, 3]));
        let caller =
            auth(&v, &token, &tokens::session(42)).unwrap_or_else(|e| panic!("{alg:?}: {e}"));
        assert_eq!(caller.user_id, 42);
        assert_eq!(caller.session_id, "session-42");
        assert_eq!(
            caller.organization_ids,
            vec![1, 3],
            "sorted and deduplicated"
        );
        assert!(caller.may_verify());
    }
}

#[test]
fn only_configured_keys_count() {
    // No JWKS: RS256 tokens have no key; no secret: HS256 tokens have none.
    let mut s = settings();
    s.access_jwks = None;
    let token = tokens::sign(Algorithm::RS256, &tokens::access_claims(1, &[1]));
    assert_eq!(
        auth(&verifier(&s), &token, &tokens::session(1)),
        invalid_access("unknown kid")
    );
    let mut s = settings();
    s.access_secret = None;
    let token = tokens::access(1, &[1]);
    assert_eq!(
        auth(&verifier(&s), &token, &tokens::session(1)),
        invalid_access("no kid")
    );
}

#[test]
fn bearer_scheme_is_case_insensitive_and_required() {
    let v = verifier(&settings());
    let token = tokens::access(5, &[1]);
    let session = tokens::session(5);
    for scheme in ["Bearer", "bearer", "BEARER", "  Bearer "] {
        let h = format!("{scheme} {token}");
        assert!(
            ready(v.authenticate(Some(h.as_bytes()), Some(session.as_bytes()))).is_ok(),
            "{scheme}"
        );
    }
    for h in [
        format!("Basic {token}"),
        token.clone(),
        "Bearer".into(),
        "Bearer   ".into(),
        String::new(),
    ] {
        assert_eq!(
            ready(v.authenticate(Some(h.as_bytes()), Some(session.as_bytes()))),
            Err(AuthError::Missing(TokenKind::Access)),
            "{h:?}"
        );
    }
    assert_eq!(
        ready(v.authenticate(None, Some(session.as_bytes()))),
        Err(AuthError::Missing(TokenKind::Access))
    );
    let h = format!("Bearer {token}");
    assert_eq!(
        ready(v.authenticate(Some(h.as_bytes()), None)),
        Err(AuthError::Missing(TokenKind::Session))
    );
    assert_eq!(
        ready(v.authenticate(Some(h.as_bytes()), Some(b"  "))),
        Err(AuthError::Missing(TokenKind::Session))
    );
}

#[test]
fn exp_is_required_and_enforced_with_leeway() {
    let v = verifier(&settings());
    let session = tokens::session(5);
    let mut claims = tokens::access_claims(5, &[1]);
    claims["exp"] = json!(tokens::now() - 10);
    assert!(
        auth(&v, &tokens::sign(Algorithm::HS256, &claims), &session).is_ok(),
        "within leeway"
    );
    claims["exp"] = json!(tokens::now() - 120);
    assert_eq!(
        auth(&v, &tokens::sign(Algorithm::HS256, &claims), &session),
        invalid_access("expired")
    );
    if let Some(m) = claims.as_object_mut() {
        m.remove("exp");
    }
    assert_eq!(
        auth(&v, &tokens::sign(Algorithm::HS256, &claims), &session),
        invalid_access("exp missing")
    );
}

#[test]
fn nbf_is_honoured() {
    let v = verifier(&settings());
    let session = tokens::session(5);
    let mut claims = tokens::access_claims(5, &[1]);
    claims["nbf"] = json!(tokens::now() + 10);
    assert!(auth(&v, &tokens::sign(Algorithm::ES256, &claims), &session).is_ok());
    claims["nbf"] = json!(tokens::now() + 600);
    assert_eq!(
        auth(&v, &tokens::sign(Algorithm::ES256, &claims), &session),
        invalid_access("not yet valid")
    );
}

#[test]
fn issuer_and_audience_are_required_when_configured() {
    let mut s = settings();
    s.issuer = Some("https://id.example".into());
    s.audience = Some("interventions-api".into());
    let v = verifier(&s);
    let session = tokens::session(5);
    let mut claims = tokens::access_claims(5, &[1]);
    claims["iss"] = json!("https://id.example");
    claims["aud"] = json!(["other", "interventions-api"]);
    assert!(auth(&v, &tokens::sign(Algorithm::RS256, &claims), &session).is_ok());
    claims["aud"] = json!("interventions-api");
    assert!(auth(&v, &tokens::sign(Algorithm::RS256, &claims), &session).is_ok());

    let cases = [
        ("iss", Some(json!("https://evil.example")), "wrong issuer"),
        ("iss", None, "iss missing"),
        ("aud", Some(json!("other")), "wrong audience"),
        ("aud", None, "aud missing"),
    ];
    for (claim, value, reason) in cases {
        let mut c = claims.clone();
        match value {
            Some(v) => c[claim] = v,
            None => {
                c.as_object_mut().map(|m| m.remove(claim));
            }
        }
        assert_eq!(
            auth(&v, &tokens::sign(Algorithm::RS256, &c), &session),
            invalid_access(reason),
            "{claim}"
        );
    }
}

#[test]
fn audience_in_token_is_ignored_when_none_is_configured() {
    let v = verifier(&settings());
    let mut claims = tokens::access_claims(5, &[1]);
    claims["aud"] = json!("anything");
    assert!(
        auth(
            &v,
            &tokens::sign(Algorithm::HS256, &claims),
            &tokens::session(5)
        )
        .is_ok()
    );
}

#[test]
fn claims_are_checked_for_shape() {
    let v = verifier(&settings());
    let session = tokens::session(5);
    let base = tokens::access_claims(5, &[1]);
    let with = |k: &str, val: serde_json::Value| {
        let mut c = base.clone();
        c[k] = val;
        tokens::sign(Algorithm::HS256, &c)
    };
    assert_eq!(
        auth(&v, &with("sub", json!(5)), &session),
        invalid_access("claims are malformed")
    );
    assert_eq!(
        auth(&v, &with("sub", json!("u-5")), &session),
        invalid_access("sub is not a user id")
    );
    assert_eq!(
        auth(&v, &with("organizationIds", json!(["1"])), &session),
        invalid_access("claims are malformed")
    );
    let many: Vec<i64> = (0..=MAX_ORGANIZATIONS as i64).collect();
    assert_eq!(
        auth(&v, &with("organizationIds", json!(many)), &session),
        invalid_access("too many organizationIds")
    );
    // Absent organisations and scope mean none.
    let mut c = base.clone();
    c.as_object_mut().map(|m| {
        m.remove("organizationIds");
        m.remove("scope")
    });
    let caller =
        auth(&v, &tokens::sign(Algorithm::HS256, &c), &session).unwrap_or_else(|e| panic!("{e}"));
    assert!(caller.organization_ids.is_empty());
    assert!(!caller.may_verify());
}

#[test]
fn typ_may_be_jwt_at_jwt_or_absent() {
    let v = verifier(&settings());
    let session = tokens::session(5);
    let claims = tokens::access_claims(5, &[1]);
    let key = tokens::signing_key(Algorithm::HS256);
    for typ in [
        Some("JWT"),
        Some("at+jwt"),
        Some("application/at+jwt"),
        None,
    ] {
        let mut h = Header::new(Algorithm::HS256);
        h.typ = typ.map(str::to_owned);
        assert!(
            auth(&v, &tokens::sign_with(&h, &claims, &key), &session).is_ok(),
            "{typ:?}"
        );
    }
    let mut h = Header::new(Algorithm::HS256);
    h.typ = Some("JOSE+JSON".into());
    assert_eq!(
        auth(&v, &tokens::sign_with(&h, &claims, &key), &session),
        invalid_access("unexpected typ")
    );
}

#[test]
fn session_token_rules() {
    let v = verifier(&settings());
    let access = tokens::access(5, &[1]);
    let invalid = |reason| {
        Err(AuthError::Invalid {
            kind: TokenKind::Session,
            reason,
        })
    };
    let mut numeric = tokens::session_claims(5);
    numeric["userId"] = json!(5);
    assert!(
        auth(&v, &access, &tokens::session_with(&numeric)).is_ok(),
        "integer userId"
    );
    assert_eq!(
        auth(&v, &access, &tokens::session(6)),
        Err(AuthError::UserMismatch)
    );
    let mut no_session = tokens::session_claims(5);
    no_session.as_object_mut().map(|m| m.remove("sessionId"));
    assert_eq!(
        auth(&v, &access, &tokens::session_with(&no_session)),
        invalid("sessionId missing")
    );
    let mut expired = tokens::session_claims(5);
    expired["exp"] = json!(tokens::now() - 3600);
    assert_eq!(
        auth(&v, &access, &tokens::session_with(&expired)),
        invalid("expired")
    );
    let mut bad_user = tokens::session_claims(5);
    bad_user["userId"] = json!("five");
    assert_eq!(
        auth(&v, &access, &tokens::session_with(&bad_user)),
        invalid("userId is not a user id")
    );
    // Signed with the access secret instead of the session secret.
    let forged = tokens::sign_with(
        &Header::new(Algorithm::HS256),
        &tokens::session_claims(5),
        &EncodingKey::from_secret(tokens::ACCESS_SECRET.as_bytes()),
    );
    assert_eq!(auth(&v, &access, &forged), invalid("bad signature"));
}

#[test]
fn reference_example_session_token_is_expired() {
    // The API reference's example session token: valid shape, HS256, long expired.
    let v = verifier(&settings());
    let example = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VySWQiOiIxMjM0NTY3ODkwIiwic2Vzc2lvbklkIjoiYWJjZGVmMTIzNDU2IiwiaWF0IjoxNjA1MDk3ODk5LCJleHAiOjE2MDUxODQyOTl9.4XRQ1iXDyvEj5LgPZHbmTmzOZs98M3YPOzgf3MhxjaI";
    let r = auth(&v, &tokens::access(1234567890, &[1]), example);
    assert!(matches!(
        r,
        Err(AuthError::Invalid {
            kind: TokenKind::Session,
            ..
        })
    ));
}

#[test]
fn jwks_configuration_errors_name_the_variable() {
    let with_jwks = |doc: &str| {
        let mut s = settings();
        s.access_jwks = Some(doc.to_owned());
        Verifier::new(&s).err().map(|e| e.name)
    };
    assert_eq!(with_jwks("not json"), Some("ACCESS_TOKEN_JWKS"));
    assert_eq!(with_jwks(r#"{"nokeys": []}"#), Some("ACCESS_TOKEN_JWKS"));
    let no_kid = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
    assert_eq!(with_jwks(no_kid), Some("ACCESS_TOKEN_JWKS"));
    let twice = r#"{"keys":[
        {"kty":"OKP","kid":"a","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
        {"kty":"OKP","kid":"a","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
    assert_eq!(with_jwks(twice), Some("ACCESS_TOKEN_JWKS"));
    // Unsupported algorithms are skipped; with no other key, start-up stops.
    let mut s = settings();
    s.access_secret = None;
    s.access_jwks =
        Some(r#"{"keys":[{"kty":"RSA","kid":"r","alg":"RS512","n":"AQAB","e":"AQAB"}]}"#.into());
    assert!(Verifier::new(&s).is_err());
    let mut s = settings();
    s.session_secret = SecretSource::Value(String::new());
    assert_eq!(
        Verifier::new(&s).err().map(|e| e.name),
        Some("SESSION_TOKEN_SECRET")
    );
}

#[test]
fn a_verified_pair_is_remembered_only_as_itself_before_exp_and_under_its_keys() {
    let cache = VerifiedTokens::default();
    let caller = Caller {
        user_id: 7,
        session_id: "s".into(),
        organization_ids: vec![1],
        scopes: vec![],
    };
    let later = unix_now() + 600;
    cache.insert("a", "s", caller.clone(), later, Some(3));
    assert_eq!(cache.lookup("a", "s", Some(3)), Some(caller.clone()));
    assert_eq!(
        cache.lookup("a", "s2", Some(3)),
        None,
        "another session token"
    );
    assert_eq!(
        cache.lookup("a2", "s", Some(3)),
        None,
        "another access token"
    );
    assert_eq!(cache.lookup("a", "s", None), None, "keys due for a refresh");
    assert_eq!(cache.lookup("a", "s", Some(4)), None, "keys changed");
    // The generation change dropped it for good.
    assert_eq!(cache.lookup("a", "s", Some(3)), None);
    cache.insert("a", "s", caller.clone(), unix_now() - 1, Some(3));
    assert_eq!(cache.lookup("a", "s", Some(3)), None, "past exp");
    for n in 0..=VERIFIED_TOKENS {
        cache.insert(&format!("a{n}"), "s", caller.clone(), later, Some(3));
    }
    assert_eq!(
        cache.lookup("a0", "s", Some(3)),
        None,
        "the oldest is evicted"
    );
    assert!(
        cache
            .lookup(&format!("a{VERIFIED_TOKENS}"), "s", Some(3))
            .is_some()
    );
}

#[test]
fn a_cached_pair_never_lets_a_forged_twin_through() {
    let v = verifier(&settings());
    let access = tokens::access(5, &[1]);
    let session = tokens::session(5);
    assert!(auth(&v, &access, &session).is_ok());
    assert!(auth(&v, &access, &session).is_ok());
    let last = if session.ends_with('A') { 'B' } else { 'A' };
    let forged = format!("{}{last}", &session[..session.len() - 1]);
    assert!(auth(&v, &access, &forged).is_err());
    assert!(auth(&v, &format!("{access}x"), &session).is_err());
}
