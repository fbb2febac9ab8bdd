//! Tokens as identity providers issue them (docs/CONTRACT.md, "Tokens"): a certified
//! OpenID provider minting its own on loopback, then tokens shaped exactly
//! as Cognito, Auth0, Okta, Entra ID and Keycloak document theirs, each
//! accepted with the settings the README's "Identity providers" gives.

use super::helpers::oidc::{self, OpenIdProvider, resource};
use super::helpers::{Event, Harness, decision, engine::put, send, stored, tokens};
use crate::auth::{
    AccessKeySources, AuthSettings, Authenticator, ClaimNames, KeyClients, ScopeClaims,
    SecretSource,
};
use crate::keys::{Clock, JwksUrl, WebClient};
use jsonwebtoken::{Algorithm, Header};
use serde_json::{Value, json};

/// Applies a decision with `access` on a new intervention of `org` and says
/// what came back and what the table now holds.
async fn decide(h: &Harness, id: i64, org: i64, user: i64, access: &str) -> (u16, Value, Value) {
    put(&h.client, &h.interventions, stored(id, 3, org)).await;
    let event = Event::patch(id)
        .tokens(access, &tokens::session(user))
        .header("content-type", "application/json")
        .json(&decision(1, "ok"));
    let (status, body) = send(&h.app, &event).await;
    (status, body, h.intervention(id).await)
}

fn provider_settings(p: &OpenIdProvider) -> AuthSettings {
    let url = JwksUrl::parse(&p.jwks_uri).expect("the provider's JWKS URL");
    AuthSettings {
        issuer: Some(p.issuer.clone()),
        audiences: ["RS256", "PS256", "ES256", "EdDSA"].map(resource).to_vec(),
        client_ids: vec![oidc::CLIENT_ID.to_owned()],
        claims: ClaimNames {
            user_id: oidc::USER_ID_CLAIM,
            organizations: oidc::ORGANIZATIONS_CLAIM,
            scopes: ScopeClaims::Standard,
        },
        ..crate::testing::key_settings(
            AccessKeySources::new(None, Some(url), None).expect("a JWKS URL"),
            SecretSource::Value(crate::testing::secret(tokens::SESSION_SECRET)),
        )
    }
}

/// What an authenticator needs to fetch the provider's JWKS.
fn web_clients() -> KeyClients {
    KeyClients {
        web: Some(WebClient::new(None).expect("web client")),
        clock: Clock::system(),
        secrets: None,
    }
}

async fn verifying_with(p: &OpenIdProvider) -> Harness {
    let v = Authenticator::start(&provider_settings(p), &web_clients())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    Harness::builder().authenticator(v).build().await
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token)
        .ok()
        .and_then(|h| h.kid)
        .expect("the provider names its key")
}

#[tokio::test]
async fn a_certified_openid_providers_tokens_decide_and_follow_its_key_rotation() {
    let p = OpenIdProvider::start();
    let h = verifying_with(&p).await;
    let mut id = 7_100_000 + i64::from(std::process::id() % 1000) * 100;
    for alg in ["RS256", "PS256", "ES256", "EdDSA"] {
        id += 1;
        let token = p.token(&resource(alg), "interventions:verify").await;
        let (status, body, stored) = decide(&h, id, oidc::ORGANIZATION, oidc::USER, &token).await;
        assert_eq!(status, 200, "{alg}: {body}");
        assert_eq!(body["data"]["status"], 4, "{alg}");
        assert_eq!(stored["verifiedByUserId"], json!(oidc::USER), "{alg}");
    }
    // The provider's own refusals: scope not granted, another resource.
    let read_only = p.token(&resource("ES256"), "interventions:read").await;
    id += 1;
    let (status, body, _) = decide(&h, id, oidc::ORGANIZATION, oidc::USER, &read_only).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("insufficient_scope"))
    );

    // Rotation at the provider: new keys sign, the function has never seen
    // them, and the next token is accepted without a restart.
    let before = p.token(&resource("RS256"), "interventions:verify").await;
    p.rotate().await;
    let after = p.token(&resource("RS256"), "interventions:verify").await;
    assert_ne!(kid_of(&before), kid_of(&after), "the provider rotated");
    for token in [&after, &before] {
        id += 1;
        let (status, body, _) = decide(&h, id, oidc::ORGANIZATION, oidc::USER, token).await;
        assert_eq!(status, 200, "{}: {body}", kid_of(token));
    }
}

#[tokio::test]
async fn the_provider_is_refused_where_its_settings_say_so() {
    let p = OpenIdProvider::start();
    let token = p.token(&resource("ES256"), "interventions:verify").await;
    let clients = web_clients();
    let mut id = 7_200_000 + i64::from(std::process::id() % 1000) * 100;
    for (what, change) in [
        (
            "another audience",
            AuthSettings {
                audiences: vec!["https://other.interventions.test".into()],
                ..provider_settings(&p)
            },
        ),
        (
            "another client",
            AuthSettings {
                client_ids: vec!["someone-else".into()],
                ..provider_settings(&p)
            },
        ),
        (
            "the default user id claim (sub is the client's name)",
            AuthSettings {
                claims: ClaimNames::default(),
                ..provider_settings(&p)
            },
        ),
        (
            "another issuer",
            AuthSettings {
                issuer: Some("https://issuer.example".into()),
                ..provider_settings(&p)
            },
        ),
    ] {
        let v = Authenticator::start(&change, &clients)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let h = Harness::builder().authenticator(v).build().await;
        id += 1;
        let (status, body, stored) = decide(&h, id, oidc::ORGANIZATION, oidc::USER, &token).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("invalid_access_token")),
            "{what}"
        );
        assert_eq!(stored["status"], 3, "{what}: nothing written");
    }
}

/// One provider's token as its documentation shows it, and the settings
/// an operator sets for it.
struct Shaped {
    provider: &'static str,
    alg: Algorithm,
    kid: &'static str,
    claims: Value,
    settings: AuthSettings,
}

/// What an operator sets for a provider: its issuer, the audiences and
/// client ids to accept (either may be empty), and the claim names.
fn set(issuer: &str, audiences: &[&str], client_ids: &[&str], claims: ClaimNames) -> AuthSettings {
    let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
    AuthSettings {
        issuer: Some(issuer.into()),
        audiences: owned(audiences),
        client_ids: owned(client_ids),
        claims,
        ..crate::testing::auth_settings()
    }
}

/// The app's own claims under their default names, the user id as `userId`.
fn app_claims() -> ClaimNames {
    ClaimNames {
        user_id: "userId",
        ..ClaimNames::default()
    }
}

fn shaped(user: i64, org: i64) -> Vec<Shaped> {
    let now = tokens::now();
    vec![
        // https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html
        // No `aud`; `client_id` and `token_use`. The pre token generation
        // trigger (event version 2) adds the scope and the app's claims.
        Shaped {
            provider: "Cognito",
            alg: Algorithm::RS256,
            kid: "rsa-1",
            claims: json!({
                "sub": "aaaaaaaa-bbbb-cccc-dddd-example",
                "cognito:groups": ["site-managers"],
                "iss": "https://cognito-idp.eu-west-3.amazonaws.com/eu-west-3_example",
                "version": 2,
                "client_id": "1example23456789",
                "origin_jti": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
                "event_id": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
                "token_use": "access",
                "scope": "openid interventions:verify",
                "auth_time": now,
                "exp": now + 3600,
                "iat": now,
                "jti": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
                "username": "site-manager",
                "userId": user.to_string(),
                "organizationIds": [org],
            }),
            settings: set(
                "https://cognito-idp.eu-west-3.amazonaws.com/eu-west-3_example",
                &[],
                &["1example23456789"],
                app_claims(),
            ),
        },
        // https://auth0.com/docs/secure/tokens/access-tokens/access-token-profiles
        // https://auth0.com/docs/secure/tokens/json-web-tokens/create-custom-claims
        // (namespaced custom claims); RBAC puts permissions in `permissions`.
        Shaped {
            provider: "Auth0",
            alg: Algorithm::PS256,
            kid: "rsa-any",
            claims: json!({
                "iss": "https://example.eu.auth0.com/",
                "sub": "auth0|123456",
                "aud": ["https://api.interventions.example.com", "https://example.eu.auth0.com/userinfo"],
                "azp": "my_client_id",
                "exp": now + 3600,
                "iat": now,
                "scope": "openid profile",
                "permissions": ["interventions:read", "interventions:verify"],
                "https://interventions.example.com/userId": user.to_string(),
                "https://interventions.example.com/organizationIds": [org],
            }),
            settings: set(
                "https://example.eu.auth0.com/",
                &["https://api.interventions.example.com"],
                &[],
                ClaimNames {
                    user_id: "https://interventions.example.com/userId",
                    organizations: "https://interventions.example.com/organizationIds",
                    scopes: ScopeClaims::Named("permissions"),
                },
            ),
        },
        // https://developer.okta.com/docs/reference/api/oidc/#access-token
        // `scp` is an array, `cid` the client, `uid` Okta's user id; the
        // app's id is a custom claim of the authorization server.
        Shaped {
            provider: "Okta",
            alg: Algorithm::RS256,
            kid: "rsa-1",
            claims: json!({
                "ver": 1,
                "jti": "AT.0mP4JKAZX1iACIT4vbEDF7LpvDVjxypPMf0D7uX39RE",
                "iss": "https://example.okta.com/oauth2/default",
                "aud": "api://default",
                "sub": "site.manager@example.com",
                "iat": now,
                "exp": now + 3600,
                "cid": "0oabskvc6442nkvQO0h7",
                "uid": "00ub0oNGTSWTBKOLGLNR",
                "scp": ["openid", "interventions:verify"],
                "auth_time": now,
                "userId": user,
                "organizationIds": [org],
            }),
            settings: set(
                "https://example.okta.com/oauth2/default",
                &["api://default"],
                &["0oabskvc6442nkvQO0h7"],
                app_claims(),
            ),
        },
        // https://learn.microsoft.com/en-us/entra/identity-platform/access-token-claims-reference
        // v2.0 tokens: `aud` is the API's application id, `scp` a
        // space-separated string, `azp` the client; keys are published
        // without `alg` (kid `rsa-any` here).
        Shaped {
            provider: "Entra ID",
            alg: Algorithm::RS256,
            kid: "rsa-any",
            claims: json!({
                "aud": "6e74172b-be56-4843-9ff4-e66a39bb12e3",
                "iss": "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
                "iat": now,
                "nbf": now,
                "exp": now + 3600,
                "azp": "1f3a7e2c-0b7d-4b6e-8f36-7c2a64f1a9e0",
                "azpacr": "0",
                "name": "Site Manager",
                "oid": "690222be-ff1a-4d56-abd1-7e4f7d38e474",
                "preferred_username": "site.manager@example.com",
                "scp": "interventions:read interventions:verify",
                "sub": "HKZpfaHyWadeOouYlitjrI-KffTm222X5rrV3xDqfKQ",
                "tid": "72f988bf-86f1-41af-91ab-2d7cd011db47",
                "ver": "2.0",
                "userId": user.to_string(),
                "organizationIds": [org],
            }),
            settings: set(
                "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
                &["6e74172b-be56-4843-9ff4-e66a39bb12e3"],
                &["1f3a7e2c-0b7d-4b6e-8f36-7c2a64f1a9e0"],
                app_claims(),
            ),
        },
        // https://www.keycloak.org/docs/latest/server_admin/#_audience
        // (audience mapper), user attribute mappers for the app's claims;
        // realm keys may be ES384.
        Shaped {
            provider: "Keycloak",
            alg: Algorithm::ES384,
            kid: "ec384-1",
            claims: json!({
                "exp": now + 300,
                "iat": now,
                "jti": "onrtac:6b6f9f8e-4c2a-4d0e-9b3a-1c2d3e4f5a6b",
                "iss": "https://sso.example.com/realms/interventions",
                "aud": ["interventions-api", "account"],
                "sub": "f1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
                "typ": "Bearer",
                "azp": "interventions-web",
                "sid": "0c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f",
                "realm_access": {"roles": ["site-manager"]},
                "scope": "openid profile email interventions:verify",
                "preferred_username": "site.manager",
                "userId": user.to_string(),
                "organizationIds": [org],
            }),
            settings: set(
                "https://sso.example.com/realms/interventions",
                &["interventions-api"],
                &["interventions-web"],
                app_claims(),
            ),
        },
    ]
}

#[tokio::test]
async fn tokens_shaped_as_five_providers_document_them_decide_with_their_settings() {
    let (user, org) = (5150, 91);
    let mut id = 7_300_000 + i64::from(std::process::id() % 1000) * 100;
    for s in shaped(user, org) {
        let mut header = Header::new(s.alg);
        header.kid = Some(s.kid.into());
        header.typ = Some(
            if s.provider == "Okta" {
                "JWT"
            } else {
                "at+jwt"
            }
            .into(),
        );
        let token = tokens::sign_with(&header, &s.claims, &tokens::signing_key(s.alg));
        let h = Harness::builder().settings(&s.settings).build().await;
        id += 1;
        let (status, body, stored) = decide(&h, id, org, user, &token).await;
        assert_eq!(status, 200, "{}: {body}", s.provider);
        assert_eq!(stored["verifiedByUserId"], json!(user), "{}", s.provider);
        // With today's defaults the same token is refused: the settings matter.
        let h = Harness::builder().build().await;
        id += 1;
        let (status, _, _) = decide(&h, id, org, user, &token).await;
        assert_ne!(status, 200, "{} without its settings", s.provider);
    }
}
