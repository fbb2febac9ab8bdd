//! Token rules. The attack catalogue runs through the whole handler
//! in `handler::tests`; here each rule is checked on the authenticator alone.

use crate::testing::{ready, tokens};

use super::claims::MAX_ORGANIZATIONS;
use super::secret::{MIN_SECRET_BYTES, ShortSecret};
use super::*;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;

fn settings() -> AuthSettings {
    crate::testing::auth_settings()
}

fn authenticator(s: &AuthSettings) -> Authenticator {
    crate::testing::authenticator(s)
}

fn auth(v: &Authenticator, access: &str, session: &str) -> Result<Caller, AuthError> {
    let bearer = format!("Bearer {access}");
    ready(v.authenticate(Some(bearer.as_bytes()), Some(session.as_bytes())))
}

fn invalid_access(reason: Reason) -> Result<Caller, AuthError> {
    Err(AuthError::Invalid {
        kind: TokenKind::Access,
        reason,
    })
}

/// The fixture's keys and secret, one of each kind a provider may use; a
/// key without `alg` (Entra-style) serves its whole family.
#[test]
fn every_algorithm_verifies_with_a_key_of_its_kind() {
    let v = authenticator(&settings());
    use Algorithm::*;
    for alg in [
        HS256, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA,
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
fn access_key_sources_are_never_empty() {
    assert_eq!(AccessKeySources::new(None, None, None), None);
    let pinned = AccessKeySources::new(Some(tokens::JWKS.into()), None, None);
    assert_eq!(pinned.as_ref().and_then(|a| a.pinned()), Some(tokens::JWKS));
}

#[test]
fn only_configured_keys_count() {
    // No JWKS: RS256 tokens have no key; no secret: HS256 tokens have none.
    let mut s = settings();
    s.access = crate::testing::access_sources(None, Some(tokens::ACCESS_SECRET));
    let token = tokens::sign(Algorithm::RS256, &tokens::access_claims(1, &[1]));
    assert_eq!(
        auth(&authenticator(&s), &token, &tokens::session(1)),
        invalid_access(Reason::UnknownKid)
    );
    let mut s = settings();
    s.access = crate::testing::access_sources(Some(tokens::JWKS), None);
    let token = tokens::access(1, &[1]);
    assert_eq!(
        auth(&authenticator(&s), &token, &tokens::session(1)),
        invalid_access(Reason::NoKid)
    );
}

#[test]
fn bearer_scheme_is_case_insensitive_and_required() {
    let v = authenticator(&settings());
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
    let v = authenticator(&settings());
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
        invalid_access(Reason::Expired)
    );
    if let Some(m) = claims.as_object_mut() {
        m.remove("exp");
    }
    assert_eq!(
        auth(&v, &tokens::sign(Algorithm::HS256, &claims), &session),
        invalid_access(Reason::MissingClaim("exp"))
    );
}

#[test]
fn nbf_is_honoured() {
    let v = authenticator(&settings());
    let session = tokens::session(5);
    let mut claims = tokens::access_claims(5, &[1]);
    claims["nbf"] = json!(tokens::now() + 10);
    assert!(auth(&v, &tokens::sign(Algorithm::ES256, &claims), &session).is_ok());
    claims["nbf"] = json!(tokens::now() + 600);
    assert_eq!(
        auth(&v, &tokens::sign(Algorithm::ES256, &claims), &session),
        invalid_access(Reason::NotYetValid)
    );
}

#[test]
fn issuer_and_audience_are_required_when_configured() {
    let mut s = settings();
    s.issuer = Some("https://id.example".into());
    s.audiences = vec!["interventions-api".into()];
    let v = authenticator(&s);
    let session = tokens::session(5);
    let mut claims = tokens::access_claims(5, &[1]);
    claims["iss"] = json!("https://id.example");
    claims["aud"] = json!(["other", "interventions-api"]);
    assert!(auth(&v, &tokens::sign(Algorithm::RS256, &claims), &session).is_ok());
    claims["aud"] = json!("interventions-api");
    assert!(auth(&v, &tokens::sign(Algorithm::RS256, &claims), &session).is_ok());

    let cases = [
        (
            "iss",
            Some(json!("https://evil.example")),
            Reason::WrongIssuer,
        ),
        ("iss", None, Reason::MissingClaim("iss")),
        ("aud", Some(json!("other")), Reason::WrongAudience),
        ("aud", None, Reason::MissingClaim("aud")),
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
    let v = authenticator(&settings());
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
    let v = authenticator(&settings());
    let session = tokens::session(5);
    let base = tokens::access_claims(5, &[1]);
    let with = |k: &str, val: serde_json::Value| {
        let mut c = base.clone();
        c[k] = val;
        tokens::sign(Algorithm::HS256, &c)
    };
    // A user id may be a decimal string or a JSON integer (docs/CONTRACT.md, "Tokens").
    assert_eq!(
        auth(&v, &with("sub", json!(5)), &session).map(|c| c.user_id),
        Ok(5)
    );
    for bad in [json!("u-5"), json!(5.5), json!(-1.0), json!(null)] {
        assert_eq!(
            auth(&v, &with("sub", bad.clone()), &session),
            invalid_access(Reason::UserId("sub")),
            "{bad}"
        );
    }
    assert_eq!(
        auth(&v, &with("organizationIds", json!(["1"])), &session),
        invalid_access(Reason::Organizations("organizationIds"))
    );
    let many: Vec<i64> = (0..=MAX_ORGANIZATIONS as i64).collect();
    assert_eq!(
        auth(&v, &with("organizationIds", json!(many)), &session),
        invalid_access(Reason::TooManyOrganizations)
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
    let v = authenticator(&settings());
    let session = tokens::session(5);
    let claims = tokens::access_claims(5, &[1]);
    let key = tokens::signing_key(Algorithm::HS256);
    for typ in [
        Some("JWT"),
        Some("application/jwt"),
        Some("at+jwt"),
        Some("AT+JWT"),
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
        invalid_access(Reason::UnexpectedTyp)
    );
}

#[test]
fn session_token_rules() {
    let v = authenticator(&settings());
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
        invalid(Reason::SessionId)
    );
    let mut expired = tokens::session_claims(5);
    expired["exp"] = json!(tokens::now() - 3600);
    assert_eq!(
        auth(&v, &access, &tokens::session_with(&expired)),
        invalid(Reason::Expired)
    );
    let mut bad_user = tokens::session_claims(5);
    bad_user["userId"] = json!("five");
    assert_eq!(
        auth(&v, &access, &tokens::session_with(&bad_user)),
        invalid(Reason::UserId("userId"))
    );
    // Signed with the access secret instead of the session secret.
    let forged = tokens::sign_with(
        &Header::new(Algorithm::HS256),
        &tokens::session_claims(5),
        &EncodingKey::from_secret(tokens::ACCESS_SECRET.as_bytes()),
    );
    assert_eq!(auth(&v, &access, &forged), invalid(Reason::BadSignature));
}

#[test]
fn reference_example_session_token_is_expired() {
    // The API reference's example session token: valid shape, HS256, long expired.
    let v = authenticator(&settings());
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
        s.access = crate::testing::access_sources(Some(doc), Some(tokens::ACCESS_SECRET));
        crate::testing::try_authenticator(&s)
            .err()
            .map(|e| e.name())
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
    s.access = crate::testing::access_sources(
        Some(
            r#"{"keys":[{"kty":"EC","kid":"p521","crv":"P-521","x":"AQAB","y":"AQAB"},{"kty":"RSA","kid":"r","alg":"RSA-OAEP","n":"AQAB","e":"AQAB"}]}"#,
        ),
        None,
    );
    assert!(crate::testing::try_authenticator(&s).is_err());
    // A short HS256 secret cannot reach the authenticator at all: the type refuses
    // it (the setting that held it is named by the configuration).
    assert_eq!(crate::auth::Hs256Secret::new("").err(), Some(ShortSecret));
    assert!(crate::auth::Hs256Secret::new(vec![b'k'; MIN_SECRET_BYTES - 1]).is_err());
    assert!(crate::auth::Hs256Secret::new(vec![b'k'; MIN_SECRET_BYTES]).is_ok());
}

#[test]
fn a_cached_pair_never_lets_a_forged_twin_through() {
    let v = authenticator(&settings());
    let access = tokens::access(5, &[1]);
    let session = tokens::session(5);
    assert!(auth(&v, &access, &session).is_ok());
    assert!(auth(&v, &access, &session).is_ok());
    let last = if session.ends_with('A') { 'B' } else { 'A' };
    let forged = format!("{}{last}", &session[..session.len() - 1]);
    assert!(auth(&v, &access, &forged).is_err());
    assert!(auth(&v, &format!("{access}x"), &session).is_err());
}

fn with_claims(names: ClaimNames) -> AuthSettings {
    AuthSettings {
        claims: names,
        ..settings()
    }
}

fn caller_of(
    v: &Authenticator,
    claims: &serde_json::Value,
    user: i64,
) -> Result<Caller, AuthError> {
    auth(
        v,
        &tokens::sign(Algorithm::RS256, claims),
        &tokens::session(user),
    )
}

#[test]
fn a_key_with_alg_verifies_that_alg_only_and_a_key_without_verifies_its_kind() {
    let v = authenticator(&settings());
    let claims = tokens::access_claims(42, &[1]);
    let sign = |alg, kid: &str| {
        let mut h = Header::new(alg);
        h.kid = Some(kid.into());
        tokens::sign_with(&h, &claims, &tokens::signing_key(alg))
    };
    // `rsa-any` has no `alg`: RSA algorithms verify with it.
    assert!(auth(&v, &sign(Algorithm::RS256, "rsa-any"), &tokens::session(42)).is_ok());
    for (alg, kid) in [
        // `rsa-1` says RS256: the same key under PS256 is refused.
        (Algorithm::PS256, "rsa-1"),
        // `rsa-any`: never ES or HMAC.
        (Algorithm::ES256, "rsa-any"),
        (Algorithm::HS256, "rsa-any"),
        // A P-256 key never verifies ES384, nor a P-384 key ES256.
        (Algorithm::ES384, "ec-1"),
        (Algorithm::ES256, "ec384-1"),
    ] {
        assert_eq!(
            auth(&v, &sign(alg, kid), &tokens::session(42)),
            invalid_access(Reason::AlgorithmMismatch),
            "{alg:?} with {kid}"
        );
    }
}

#[test]
fn a_crit_header_is_refused_on_both_tokens() {
    let v = authenticator(&settings());
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some("rsa-1".into());
    h.crit = Some(vec!["exp".into()]);
    let access = tokens::sign_with(
        &h,
        &tokens::access_claims(5, &[1]),
        &tokens::signing_key(Algorithm::RS256),
    );
    assert_eq!(
        auth(&v, &access, &tokens::session(5)),
        invalid_access(Reason::CriticalHeader)
    );
    let mut h = Header::new(Algorithm::HS256);
    h.crit = Some(vec![]);
    let session = tokens::sign_with(
        &h,
        &tokens::session_claims(5),
        &EncodingKey::from_secret(tokens::SESSION_SECRET.as_bytes()),
    );
    assert_eq!(
        auth(&v, &tokens::access(5, &[1]), &session),
        Err(AuthError::Invalid {
            kind: TokenKind::Session,
            reason: Reason::CriticalHeader
        })
    );
}

#[test]
fn keys_named_in_the_header_are_never_used() {
    // An attacker's own key, embedded or linked, signs a token: it must not
    // verify however the header points at it.
    let v = authenticator(&settings());
    let attacker = EncodingKey::from_ec_pem(include_bytes!("../../tests/fixtures/keys/ec384.pem"))
        .unwrap_or_else(|e| panic!("{e}"));
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(
        json!({"kty":"OKP","crv":"Ed25519","x":"pP5kgPz1w0Eq0p0cEwybLqjWB9A3EzSq93tKDxvYSYk"}),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let claims = tokens::access_claims(5, &[1]);
    let mut h = Header::new(Algorithm::ES384);
    h.jku = Some("https://evil.example/jwks.json".into());
    h.x5u = Some("https://evil.example/cert.pem".into());
    h.x5c = Some(vec!["MIIB".into()]);
    h.jwk = Some(jwk);
    let token = tokens::sign_with(&h, &claims, &attacker);
    assert_eq!(
        auth(&v, &token, &tokens::session(5)),
        invalid_access(Reason::AlgorithmMismatch),
        "no kid: only the HS256 secret applies, and ES384 is not its algorithm"
    );
    h.kid = Some("attacker".into());
    let token = tokens::sign_with(&h, &claims, &attacker);
    assert_eq!(
        auth(&v, &token, &tokens::session(5)),
        invalid_access(Reason::UnknownKid)
    );
}

#[test]
fn scopes_come_from_scope_and_scp_in_either_shape() {
    let v = authenticator(&settings());
    let base = |scopes: serde_json::Value, claim: &str| {
        let mut c = tokens::access_claims(5, &[1]);
        c.as_object_mut().map(|m| m.remove("scope"));
        c[claim] = scopes;
        caller_of(&v, &c, 5)
    };
    for (claim, scopes) in [
        ("scope", json!("openid interventions:verify")),
        ("scope", json!(["interventions:verify"])),
        ("scp", json!(["openid", "interventions:verify"])), // Okta
        ("scp", json!("interventions:verify User.Read")),   // Entra ID
    ] {
        let caller =
            base(scopes.clone(), claim).unwrap_or_else(|e| panic!("{claim} {scopes}: {e}"));
        assert!(caller.may_verify(), "{claim} {scopes}");
    }
    assert!(
        !base(json!(["interventions:read"]), "scp")
            .map(|c| c.may_verify())
            .unwrap_or(true)
    );
    assert_eq!(base(json!(7), "scp"), invalid_access(Reason::Scopes("scp")));
    assert_eq!(
        base(json!([7]), "scope"),
        invalid_access(Reason::Scopes("scope"))
    );
}

#[test]
fn a_named_scope_claim_replaces_scope_and_scp() {
    let v = authenticator(&with_claims(ClaimNames {
        scopes: ScopeClaims::Named("permissions"),
        ..ClaimNames::default()
    }));
    let mut c = tokens::access_claims(5, &[1]);
    // Auth0 RBAC: permissions in their own array; `scope` no longer counts.
    c["permissions"] = json!(["interventions:verify"]);
    c["scope"] = json!("openid");
    assert!(caller_of(&v, &c, 5).map(|c| c.may_verify()) == Ok(true));
    c["permissions"] = json!([]);
    c["scope"] = json!("interventions:verify");
    c["scp"] = json!("interventions:verify");
    assert!(caller_of(&v, &c, 5).map(|c| c.may_verify()) == Ok(false));
}

#[test]
fn user_and_organisations_come_from_the_claims_configured() {
    let v = authenticator(&with_claims(ClaimNames {
        user_id: "uid",
        organizations: "https://interventions.example.com/organizationIds",
        scopes: ScopeClaims::Standard,
    }));
    let mut c = tokens::access_claims(0, &[]);
    c["sub"] = json!("00u1abcdEFGH"); // Okta: the login's opaque id
    c["uid"] = json!(77);
    c["https://interventions.example.com/organizationIds"] = json!([9, 4]);
    c["organizationIds"] = json!([1]);
    let caller = caller_of(&v, &c, 77).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((caller.user_id, caller.organization_ids), (77, vec![4, 9]));
    c["uid"] = json!("alice");
    assert_eq!(caller_of(&v, &c, 77), invalid_access(Reason::UserId("uid")));
    c.as_object_mut().map(|m| m.remove("uid"));
    assert_eq!(caller_of(&v, &c, 77), invalid_access(Reason::UserId("uid")));
}

#[test]
fn any_configured_audience_matches() {
    let mut s = settings();
    s.audiences = vec![
        "api://interventions".into(),
        "https://api.example.com".into(),
    ];
    let v = authenticator(&s);
    let mut c = tokens::access_claims(5, &[1]);
    for aud in [
        json!("https://api.example.com"),
        json!(["x", "api://interventions"]),
    ] {
        c["aud"] = aud.clone();
        assert!(caller_of(&v, &c, 5).is_ok(), "{aud}");
    }
    c["aud"] = json!(["x", "y"]);
    assert_eq!(caller_of(&v, &c, 5), invalid_access(Reason::WrongAudience));
}

#[test]
fn client_ids_are_read_from_client_id_then_azp_then_cid() {
    let mut s = settings();
    s.client_ids = vec!["web-app".into(), "mobile-app".into()];
    let v = authenticator(&s);
    let wrong: Result<i64, AuthError> = Err(AuthError::Invalid {
        kind: TokenKind::Access,
        reason: Reason::WrongClient,
    });
    let token = |pairs: &[(&str, &str)]| {
        let mut c = tokens::access_claims(5, &[1]);
        for (k, val) in pairs {
            c[*k] = json!(val);
        }
        caller_of(&v, &c, 5).map(|c| c.user_id)
    };
    assert_eq!(token(&[("client_id", "web-app")]), Ok(5)); // Cognito
    assert_eq!(token(&[("azp", "mobile-app")]), Ok(5)); // Keycloak, Auth0
    assert_eq!(token(&[("cid", "web-app")]), Ok(5)); // Okta
    // client_id decides even when azp would match.
    assert_eq!(token(&[("client_id", "other"), ("azp", "web-app")]), wrong);
    assert_eq!(token(&[]), wrong);
    assert_eq!(token(&[("azp", "Web-App")]), wrong);
}

#[test]
fn an_id_token_is_not_an_access_token() {
    let v = authenticator(&settings());
    let mut c = tokens::access_claims(5, &[1]);
    c["token_use"] = json!("access");
    assert!(caller_of(&v, &c, 5).is_ok());
    for other in [json!("id"), json!(1), json!(null)] {
        c["token_use"] = other.clone();
        assert_eq!(
            caller_of(&v, &c, 5),
            invalid_access(Reason::NotAnAccessToken),
            "{other}"
        );
    }
}
