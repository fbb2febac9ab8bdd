//! Keys and secrets rotate without a redeploy (docs/CONTRACT.md): the session
//! secret is rotated in the local engine's Secrets Manager, the issuer's JWKS
//! is a real HTTP endpoint the test changes, and time moves on a test clock.

use std::time::Duration;

use super::helpers::engine::{engine, put, secrets_client};
use super::helpers::issuer::{Answer, Issuer, jwks};
use super::helpers::proxy::Proxy;
use super::helpers::{Harness, call, decision, stored, tokens};
use crate::auth::{
    AccessKeySources, AuthError, AuthSettings, Authenticator, KeyClients, Reason, SecretSource,
    TokenKind,
};
use crate::domain::Caller;
use crate::handler::handle;
use crate::keys::{
    Clock, JWKS_MIN_TTL, MISS_REFETCH_INTERVAL, SECRET_TTL, UNOBTAINED_RETRY_INTERVAL, WebClient,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use lambda_http::Body;
use serde_json::Value;

const USER: i64 = 31;

fn secret_version(n: u32) -> String {
    format!("rotation-test-session-secret-version-{n:04}")
}

fn session_signed_with(secret: &str) -> String {
    tokens::sign_with(
        &Header::new(Algorithm::HS256),
        &tokens::session_claims(USER),
        &EncodingKey::from_secret(secret.as_bytes()),
    )
}

/// An access token signed with the fixture key `fixture_kid` is made of,
/// carrying `kid`.
fn access_with_kid(alg: Algorithm, kid: &str) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    tokens::sign_with(
        &header,
        &tokens::access_claims(USER, &[1]),
        &tokens::signing_key(alg),
    )
}

async fn auth(v: &Authenticator, access: &str, session: &str) -> Result<Caller, AuthError> {
    let bearer = format!("Bearer {access}");
    v.authenticate(Some(bearer.as_bytes()), Some(session.as_bytes()))
        .await
}

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

async fn create_secret(value: &str) -> String {
    let id = unique("rotation/session");
    super::helpers::engine::put_secret(&id, value).await;
    id
}

async fn rotate(id: &str, value: &str) {
    super::helpers::engine::put_secret(id, value).await;
}

/// `GetSecretValue` calls the engine has served for `id`.
fn reads_of(id: &str) -> i64 {
    engine()
        .stats()
        .get(&format!("GetSecretValue {id}"))
        .map_or(0, |n| n.as_i64().unwrap_or_else(|| panic!("a count: {n}")))
}

fn session_from(id: &str) -> AuthSettings {
    crate::testing::key_settings(
        crate::testing::access_sources(None, Some(tokens::ACCESS_SECRET)),
        SecretSource::SecretsManager(id.to_owned()),
    )
}

fn jwks_from(url: &str) -> AuthSettings {
    let url = crate::keys::JwksUrl::parse(url).expect("the issuer's JWKS URL");
    crate::testing::key_settings(
        AccessKeySources::new(None, Some(url), None).expect("a JWKS URL"),
        SecretSource::Value(crate::testing::secret(tokens::SESSION_SECRET)),
    )
}

/// An issuer publishing the fixture key `fixture` as `k1` (max-age 60 s),
/// and an authenticator that fetched it at start-up.
async fn issuer_publishing(fixture: &str, clock: &Clock) -> (Issuer, Authenticator) {
    let issuer = Issuer::start(Answer::Keys {
        doc: jwks(&[(fixture, "k1")]),
        max_age: 60,
    })
    .await;
    let v = Authenticator::start(
        &jwks_from(&issuer.url()),
        &clients(&engine().endpoint(), clock),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    (issuer, v)
}

fn clients(secrets_endpoint: &str, clock: &Clock) -> KeyClients {
    KeyClients {
        secrets: Some(secrets_client(secrets_endpoint)),
        web: Some(WebClient::new(None).unwrap_or_else(|e| panic!("{e}"))),
        clock: clock.clone(),
    }
}

fn bad_signature(kind: TokenKind) -> Result<Caller, AuthError> {
    Err(AuthError::Invalid {
        kind,
        reason: Reason::BadSignature,
    })
}

fn unknown_kid() -> Result<Caller, AuthError> {
    Err(AuthError::Invalid {
        kind: TokenKind::Access,
        reason: Reason::UnknownKid,
    })
}

#[tokio::test]
async fn a_session_secret_rotation_fails_no_request() {
    let id = create_secret(&secret_version(1)).await;
    let clock = Clock::manual();
    let v = Authenticator::start(&session_from(&id), &clients(&engine().endpoint(), &clock))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let access = tokens::access(USER, &[1]);
    let with = |n| session_signed_with(&secret_version(n));

    assert!(auth(&v, &access, &with(1)).await.is_ok());
    // Rotated: the new version verifies at once (one re-read), the old one
    // is still AWSPREVIOUS.
    rotate(&id, &secret_version(2)).await;
    assert!(auth(&v, &access, &with(2)).await.is_ok());
    assert!(auth(&v, &access, &with(1)).await.is_ok());
    // Rotated again: once the known versions are re-read, the version two
    // rotations old is gone.
    rotate(&id, &secret_version(3)).await;
    clock.advance(SECRET_TTL);
    assert!(auth(&v, &access, &with(3)).await.is_ok());
    assert!(auth(&v, &access, &with(2)).await.is_ok());
    assert_eq!(
        auth(&v, &access, &with(1)).await.map(|c| c.user_id),
        bad_signature(TokenKind::Session).map(|c| c.user_id)
    );

    // 25 forged signatures: at most one re-read (AWSCURRENT + AWSPREVIOUS).
    clock.advance(MISS_REFETCH_INTERVAL);
    let before = reads_of(&id);
    for n in 0..25 {
        let forged = session_signed_with(&format!("forged-secret-{n}-0123456789abcdefghij"));
        assert_eq!(
            auth(&v, &access, &forged).await.map(|c| c.user_id),
            bad_signature(TokenKind::Session).map(|c| c.user_id)
        );
    }
    let reads = reads_of(&id) - before;
    assert!(before >= 2, "the engine did not count this secret's reads");
    // Exactly one re-read: the first forged token may trigger it, no other.
    assert_eq!(
        reads, 2,
        "{reads} GetSecretValue calls for 25 forged tokens"
    );
}

#[tokio::test]
async fn the_issuers_key_rotation_needs_no_restart() {
    let clock = Clock::manual();
    let (issuer, v) = issuer_publishing("rsa-1", &clock).await;
    let session = tokens::session(USER);
    assert_eq!(issuer.hits(), 1);
    assert!(
        auth(&v, &access_with_kid(Algorithm::RS256, "k1"), &session)
            .await
            .is_ok()
    );
    assert_eq!(issuer.hits(), 1, "a known kid is served from memory");

    // A newly published key verifies at once.
    issuer.answer(Answer::Keys {
        doc: jwks(&[("rsa-1", "k1"), ("ec-1", "k2")]),
        max_age: 60,
    });
    assert!(
        auth(&v, &access_with_kid(Algorithm::ES256, "k2"), &session)
            .await
            .is_ok()
    );
    assert_eq!(issuer.hits(), 2);

    // 60 unknown kids: at most one fetch.
    clock.advance(MISS_REFETCH_INTERVAL);
    for n in 0..60 {
        let token = access_with_kid(Algorithm::RS256, &format!("random-{n}-{}", n * 7919));
        assert_eq!(
            auth(&v, &token, &session).await.map(|c| c.user_id),
            unknown_kid().map(|c| c.user_id)
        );
    }
    assert_eq!(issuer.hits(), 3);

    // A key the issuer removes stops verifying once max-age has passed.
    issuer.answer(Answer::Keys {
        doc: jwks(&[("ec-1", "k2")]),
        max_age: 60,
    });
    assert!(
        auth(&v, &access_with_kid(Algorithm::RS256, "k1"), &session)
            .await
            .is_ok()
    );
    clock.advance(JWKS_MIN_TTL + Duration::from_secs(1));
    assert_eq!(
        auth(&v, &access_with_kid(Algorithm::RS256, "k1"), &session)
            .await
            .map(|c| c.user_id),
        unknown_kid().map(|c| c.user_id)
    );
    assert!(
        auth(&v, &access_with_kid(Algorithm::ES256, "k2"), &session)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_failing_issuer_keeps_the_last_good_keys_and_never_causes_a_5xx() {
    let clock = Clock::manual();
    let (issuer, v) = issuer_publishing("ed-1", &clock).await;
    let h = Harness::builder().authenticator(v).build().await;
    put(&h.client, &h.interventions, stored(1, 3, 1)).await;
    let good = access_with_kid(Algorithm::EdDSA, "k1");
    let mut fetches = issuer.hits();
    for (what, answer) in [
        ("garbage", Answer::Garbage),
        ("500", Answer::Status(500)),
        ("a 1 MB body", Answer::Huge),
        ("nothing at all", Answer::Silent),
    ] {
        issuer.answer(answer);
        // Due for a refresh, and past the miss interval.
        clock.advance(JWKS_MIN_TTL + Duration::from_secs(1));
        let started = std::time::Instant::now();
        let (status, body) = send_with(&h, &good, 1).await;
        // 409 after the first round: the decision was applied then.
        assert!(
            status == 200 || body["code"] == "already_verified",
            "{what}: {status} {body}"
        );
        let (status, body) = send_with(&h, &access_with_kid(Algorithm::EdDSA, "other"), 1).await;
        assert_eq!(status, 401, "{what}: {body}");
        assert_eq!(body["code"], "invalid_access_token", "{what}");
        assert!(issuer.hits() > fetches, "{what}: the refresh was not tried");
        fetches = issuer.hits();
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "{what}: {:?}",
            started.elapsed()
        );
    }
}

/// One decision on intervention `id` through the handler, with `access`.
async fn send_with(h: &super::helpers::Harness, access: &str, id: i64) -> (u16, Value) {
    let event = call(id, USER, &[1], decision(1, "ok")).tokens(access, &tokens::session(USER));
    let resp = handle(&h.app, event.request()).await;
    let status = resp.status().as_u16();
    if status == 503 {
        assert_eq!(
            resp.headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
            Some("5")
        );
    }
    let body = match resp.body() {
        Body::Text(t) => serde_json::from_str(t).unwrap_or_else(|e| panic!("{e}: {t}")),
        Body::Empty => Value::Null,
        other => panic!("a binary answer: {other:?}"),
    };
    (status, body)
}

#[tokio::test]
async fn an_issuer_down_at_start_up_means_503_then_200_once_it_is_up() {
    // Nothing listens on this port yet: its listener is dropped at once.
    let (_, port) = super::helpers::listen().await;
    let url = format!("http://127.0.0.1:{port}/.well-known/jwks.json");
    let clock = Clock::manual();
    let v = Authenticator::start(&jwks_from(&url), &clients(&engine().endpoint(), &clock))
        .await
        .unwrap_or_else(|e| panic!("start-up must not fail on an unreachable issuer: {e}"));
    let h = Harness::builder().authenticator(v).build().await;
    put(&h.client, &h.interventions, stored(1, 3, 1)).await;
    let token = access_with_kid(Algorithm::RS256, "k1");

    let (status, body) = send_with(&h, &token, 1).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "service_unavailable");
    assert_eq!(h.intervention(1).await["status"], 3, "nothing written");

    let issuer = Issuer::start_on(
        port,
        Answer::Keys {
            doc: jwks(&[("rsa-1", "k1")]),
            max_age: 600,
        },
    )
    .await;
    // Within 5 s of the last try: no new fetch, still 503.
    let (status, _) = send_with(&h, &token, 1).await;
    assert_eq!((status, issuer.hits()), (503, 0));
    clock.advance(UNOBTAINED_RETRY_INTERVAL);
    let (status, body) = send_with(&h, &token, 1).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["status"], 4);
    assert_eq!(issuer.hits(), 1);
}

#[tokio::test]
async fn secrets_manager_unreachable_at_start_up_means_503_then_recovery() {
    let id = create_secret(&secret_version(1)).await;
    let proxy = Proxy::start(engine().port, false).await;
    let clock = Clock::manual();
    let v = Authenticator::start(&session_from(&id), &clients(&proxy.endpoint(), &clock))
        .await
        .unwrap_or_else(|e| panic!("start-up must not fail on an unreachable service: {e}"));
    let h = Harness::builder().authenticator(v).build().await;
    put(&h.client, &h.interventions, stored(2, 3, 1)).await;

    let event = call(2, USER, &[1], decision(2, "no"))
        .header("x-session-token", session_signed_with(&secret_version(1)));
    let request = || event.request();
    let resp = handle(&h.app, request()).await;
    assert_eq!(resp.status(), 503);
    assert!(resp.headers().contains_key("retry-after"));

    proxy.set_up(true);
    clock.advance(UNOBTAINED_RETRY_INTERVAL);
    let resp = handle(&h.app, request()).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(h.intervention(2).await["status"], 5);
}

#[tokio::test]
async fn wrong_or_short_secrets_stop_start_up_naming_the_setting() {
    let clock = Clock::manual();
    let c = clients(&engine().endpoint(), &clock);
    let err = Authenticator::start(&session_from("rotation/no-such-secret"), &c)
        .await
        .err();
    assert_eq!(err.map(|e| e.name()), Some("SESSION_TOKEN_SECRET_ID"));

    let mut settings = session_from(&create_secret(&secret_version(1)).await);
    settings.access = AccessKeySources::new(
        None,
        None,
        Some(SecretSource::SecretsManager("rotation/missing".into())),
    )
    .expect("a secret");
    let err = Authenticator::start(&settings, &c).await.err();
    assert_eq!(err.map(|e| e.name()), Some("ACCESS_TOKEN_SECRET_ID"));

    let short = "short-secret-value";
    let err = Authenticator::start(&session_from(&create_secret(short).await), &c)
        .await
        .err();
    let text = err.as_ref().map(ToString::to_string).unwrap_or_default();
    assert_eq!(err.map(|e| e.name()), Some("SESSION_TOKEN_SECRET_ID"));
    assert!(text.contains("32 bytes") && !text.contains(short), "{text}");
}

/// The real binary: a bad setting stops it with a message naming the
/// variable, and never the value.
#[tokio::test]
async fn the_function_refuses_bad_settings_by_name() {
    let secret_id = create_secret(&secret_version(1)).await;
    let base = [
        ("INTERVENTIONS_TABLE", "interventions"),
        ("NOTIFICATIONS_TABLE", "notifications"),
        ("AWS_REGION", "eu-west-3"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("ACCESS_TOKEN_SECRET", tokens::ACCESS_SECRET),
    ];
    let endpoint = engine().endpoint();
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "SESSION_TOKEN_SECRET_ID",
            vec![
                ("SESSION_TOKEN_SECRET_ID", "rotation/wrong-id"),
                ("AWS_ENDPOINT_URL", &endpoint),
            ],
        ),
        (
            "SESSION_TOKEN_SECRET_ID",
            vec![
                ("SESSION_TOKEN_SECRET_ID", &secret_id),
                ("SESSION_TOKEN_SECRET", tokens::SESSION_SECRET),
            ],
        ),
        (
            "SESSION_TOKEN_SECRET",
            vec![("SESSION_TOKEN_SECRET", "too-short-a-secret")],
        ),
        (
            "ACCESS_TOKEN_JWKS_URL",
            vec![
                ("SESSION_TOKEN_SECRET", tokens::SESSION_SECRET),
                (
                    "ACCESS_TOKEN_JWKS_URL",
                    "http://issuer.example.com/jwks.json",
                ),
            ],
        ),
    ];
    for (name, extra) in cases {
        let out = tokio::process::Command::new(super::helpers::bootstrap())
            .env_clear()
            .envs(base.iter().copied().chain(extra.iter().copied()))
            .output()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.status.success(), "{name}: started anyway\n{text}");
        assert!(text.contains(name), "{name} not named:\n{text}");
        for (_, value) in &extra {
            if value.contains("secret") && !value.starts_with("rotation/") {
                assert!(!text.contains(value), "a value reached the output:\n{text}");
            }
        }
    }
}
