//! Both tokens → the caller. Keys are parsed once at start-up; a request only
//! looks one up and checks a signature.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;

use crate::domain::Caller;
use crate::keys::{self, Cached, FetchError, Fetched};

/// Clock skew tolerated on `exp` and `nbf` (docs/CONTRACT.md, "Tokens").
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
    /// The keys this token needs were never obtained (issuer or Secrets
    /// Manager unreachable): the token may be good, so not a 401.
    #[error("keys for the {} are unavailable", .0.name())]
    KeysUnavailable(TokenKind),
}

impl AuthError {
    fn invalid(kind: TokenKind, reason: &'static str) -> Self {
        AuthError::Invalid { kind, reason }
    }
}

/// HS256 secrets shorter than this are refused (RFC 7518 §3.2: a key at
/// least as long as the hash output).
pub const MIN_SECRET_BYTES: usize = 32;

/// Where an HS256 secret comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// The value itself (local runs and tests).
    Value(String),
    /// A Secrets Manager secret name or ARN (production): read at start-up
    /// and again when it rotates.
    SecretsManager(String),
}

impl Default for SecretSource {
    fn default() -> Self {
        SecretSource::Value(String::new())
    }
}

/// Never prints a secret value.
impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::Value(_) => f.write_str("Value(<redacted>)"),
            SecretSource::SecretsManager(id) => f.debug_tuple("SecretsManager").field(id).finish(),
        }
    }
}

/// Key sources and claim rules, from the environment.
#[derive(Debug, Clone, Default)]
pub struct AuthSettings {
    /// Pinned JWKS document: always applies, wins over fetched keys.
    pub access_jwks: Option<String>,
    /// The issuer's JWKS endpoint.
    pub access_jwks_url: Option<String>,
    /// HS256 secret of access tokens without `kid`.
    pub access_secret: Option<SecretSource>,
    pub session_secret: SecretSource,
    pub issuer: Option<String>,
    pub audience: Option<String>,
}

/// What the verifier needs to reach keys that live elsewhere.
#[derive(Clone, Default)]
pub struct KeyClients {
    pub secrets: Option<aws_sdk_secretsmanager::Client>,
    pub web: Option<keys::WebClient>,
    pub clock: keys::Clock,
}

/// A key the access token may be verified with, and the rules that go with it.
struct AccessKey {
    key: DecodingKey,
    validation: Validation,
}

type AccessKeys = HashMap<String, AccessKey>;
/// An HS256 secret's versions, current first.
type SecretVersions = Vec<DecodingKey>;

/// An HS256 secret: fixed, or versions kept fresh from Secrets Manager.
enum Secret {
    Fixed(Arc<SecretVersions>),
    Managed {
        client: aws_sdk_secretsmanager::Client,
        id: String,
        cache: Cached<SecretVersions>,
    },
}

async fn fetch_secret(
    client: &aws_sdk_secretsmanager::Client,
    id: &str,
) -> Result<Fetched<SecretVersions>, FetchError> {
    let versions = keys::read_secret_versions(client, id, MIN_SECRET_BYTES).await?;
    Ok(Fetched {
        value: versions
            .iter()
            .map(|v| DecodingKey::from_secret(v))
            .collect(),
        ttl: keys::SECRET_TTL,
    })
}

impl Secret {
    /// The secret from its setting; a Secrets Manager read happens here, and
    /// a wrong id or a denied read stops start-up naming `id_name`.
    async fn start(
        source: &SecretSource,
        value_name: &'static str,
        id_name: &'static str,
        clients: &KeyClients,
    ) -> Result<Self, KeyConfigError> {
        match source {
            SecretSource::Value(v) if v.len() < MIN_SECRET_BYTES => Err(config_error(
                value_name,
                format!("an HS256 secret needs at least {MIN_SECRET_BYTES} bytes"),
            )),
            SecretSource::Value(v) => Ok(Secret::Fixed(Arc::new(vec![DecodingKey::from_secret(
                v.as_bytes(),
            )]))),
            SecretSource::SecretsManager(id) => {
                let client = clients
                    .secrets
                    .clone()
                    .ok_or_else(|| config_error(id_name, "no Secrets Manager client"))?;
                let first = match fetch_secret(&client, id).await {
                    Ok(f) => Some(f),
                    Err(FetchError::Config(problem)) => return Err(config_error(id_name, problem)),
                    Err(FetchError::Unavailable(e)) => {
                        tracing::warn!(source = id_name, error = %e, "secret not read at start-up; requests needing it answer 503 until it is");
                        None
                    }
                };
                Ok(Secret::Managed {
                    cache: Cached::new(id_name, clients.clock.clone(), first),
                    client,
                    id: id.clone(),
                })
            }
        }
    }

    async fn versions(&self) -> Option<Arc<SecretVersions>> {
        match self {
            Secret::Fixed(v) => Some(v.clone()),
            Secret::Managed { client, id, cache } => cache.get(|| fetch_secret(client, id)).await,
        }
    }

    async fn refetch_after_miss(&self) -> Option<Arc<SecretVersions>> {
        match self {
            Secret::Fixed(_) => None,
            Secret::Managed { client, id, cache } => {
                cache.refetch_after_miss(|| fetch_secret(client, id)).await
            }
        }
    }

    /// Verifies `token` under each known version; when none verifies its
    /// signature, re-reads the secret once (rate-limited) and tries again.
    async fn verify<C: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        validation: &Validation,
        kind: TokenKind,
    ) -> Result<C, AuthError> {
        let versions = self
            .versions()
            .await
            .ok_or(AuthError::KeysUnavailable(kind))?;
        match decode_with_versions(token, &versions, validation) {
            Err(e) if *e.kind() == jsonwebtoken::errors::ErrorKind::InvalidSignature => {
                match self.refetch_after_miss().await {
                    Some(versions) => decode_with_versions(token, &versions, validation),
                    None => Err(e),
                }
            }
            other => other,
        }
        .map_err(|e| AuthError::invalid(kind, jwt_reason(&e)))
    }
}

/// The first version whose signature matches decides; a bad signature under
/// every version is a bad signature.
fn decode_with_versions<C: serde::de::DeserializeOwned>(
    token: &str,
    versions: &[DecodingKey],
    validation: &Validation,
) -> Result<C, jsonwebtoken::errors::Error> {
    let mut last = jsonwebtoken::errors::ErrorKind::InvalidSignature.into();
    for key in versions {
        match decode::<C>(token, key, validation) {
            Ok(data) => return Ok(data.claims),
            Err(e) if *e.kind() == jsonwebtoken::errors::ErrorKind::InvalidSignature => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// The issuer's JWKS endpoint and the keys last fetched from it.
struct RemoteJwks {
    web: keys::WebClient,
    url: hyper::Uri,
    rules: Rules,
    cache: Cached<AccessKeys>,
}

const JWKS_URL_NAME: &str = "ACCESS_TOKEN_JWKS_URL";

async fn fetch_jwks(
    web: &keys::WebClient,
    url: &hyper::Uri,
    rules: &Rules,
) -> Result<Fetched<AccessKeys>, FetchError> {
    let (body, ttl) = web
        .get(url, keys::JWKS_TIMEOUT, keys::JWKS_MAX_BYTES)
        .await?;
    let doc = std::str::from_utf8(&body)
        .map_err(|_| FetchError::Unavailable("JWKS is not UTF-8".into()))?;
    let keys = parse_jwks(doc, JWKS_URL_NAME, Strictness::SkipBadKeys)
        .map_err(|e| FetchError::Unavailable(e.problem))?;
    Ok(Fetched {
        value: keys
            .into_iter()
            .map(|(kid, alg, key)| {
                (
                    kid,
                    AccessKey {
                        key,
                        validation: rules.access(alg),
                    },
                )
            })
            .collect(),
        ttl,
    })
}

impl RemoteJwks {
    async fn start(url: &str, rules: Rules, clients: &KeyClients) -> Result<Self, KeyConfigError> {
        let url: hyper::Uri = url
            .parse()
            .map_err(|_| config_error(JWKS_URL_NAME, "not a URL"))?;
        let web = clients
            .web
            .clone()
            .ok_or_else(|| config_error(JWKS_URL_NAME, "no HTTPS client"))?;
        let first = match fetch_jwks(&web, &url, &rules).await {
            Ok(f) => Some(f),
            Err(e) => {
                tracing::warn!(source = JWKS_URL_NAME, error = %e, "JWKS not fetched at start-up; tokens needing it answer 503 until it is");
                None
            }
        };
        Ok(Self {
            cache: Cached::new(JWKS_URL_NAME, clients.clock.clone(), first),
            web,
            url,
            rules,
        })
    }

    async fn keys(&self) -> Option<Arc<AccessKeys>> {
        self.cache
            .get(|| fetch_jwks(&self.web, &self.url, &self.rules))
            .await
    }

    async fn refetch_after_miss(&self) -> Option<Arc<AccessKeys>> {
        self.cache
            .refetch_after_miss(|| fetch_jwks(&self.web, &self.url, &self.rules))
            .await
    }
}

/// Claim rules for access tokens, whatever key verifies them.
#[derive(Clone)]
struct Rules {
    issuer: Option<String>,
    audience: Option<String>,
}

impl Rules {
    /// The validation of an access token verified with an `alg` key.
    fn access(&self, alg: Algorithm) -> Validation {
        let mut v = Validation::new(alg);
        v.leeway = LEEWAY_SECS;
        v.validate_nbf = true;
        let mut required = vec!["exp"];
        if let Some(iss) = &self.issuer {
            v.set_issuer(&[iss]);
            required.push("iss");
        }
        match &self.audience {
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
}

pub struct Verifier {
    /// Keys of `ACCESS_TOKEN_JWKS` by `kid`: always apply, win over fetched.
    pinned: AccessKeys,
    /// Keys from the issuer's endpoint.
    jwks: Option<RemoteJwks>,
    /// The HS256 secret: verifies access tokens that carry no `kid`.
    access_secret: Option<Secret>,
    access_secret_validation: Validation,
    session: Secret,
    session_validation: Validation,
    /// Token pairs verified recently (see [`VerifiedTokens`]).
    verified: VerifiedTokens,
}

/// How many verified token pairs a warm instance remembers.
pub const VERIFIED_TOKENS: usize = 16;

/// Token pairs this instance verified, so a user deciding several
/// interventions in a row pays for the signature checks once. An entry is a
/// verified pair (compared in full), the caller it proved, the earlier `exp`
/// of the two, and the key generation that verified it: it is used only
/// before that `exp` and while the keys are the same and not due for a
/// refresh. Only successes are kept; a failure is checked every time.
#[derive(Default)]
struct VerifiedTokens {
    entries: std::sync::Mutex<std::collections::VecDeque<VerifiedPair>>,
}

struct VerifiedPair {
    access: Box<str>,
    session: Box<str>,
    caller: Caller,
    exp: i64,
    generation: u64,
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl VerifiedTokens {
    fn lookup(&self, access: &str, session: &str, generation: Option<u64>) -> Option<Caller> {
        let generation = generation?;
        let now = unix_now();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|e| e.exp > now && e.generation == generation);
        entries
            .iter()
            .find(|e| *e.access == *access && *e.session == *session)
            .map(|e| e.caller.clone())
    }

    fn insert(
        &self,
        access: &str,
        session: &str,
        caller: Caller,
        exp: i64,
        generation: Option<u64>,
    ) {
        let Some(generation) = generation else {
            return;
        };
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() == VERIFIED_TOKENS {
            entries.pop_front();
        }
        entries.push_back(VerifiedPair {
            access: access.into(),
            session: session.into(),
            caller,
            exp,
            generation,
        });
    }
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
    /// A verifier whose keys are all in `settings` (tests, benches): no
    /// Secrets Manager id and no JWKS URL.
    pub fn new(settings: &AuthSettings) -> Result<Self, KeyConfigError> {
        let clients = KeyClients::default();
        let start = std::pin::pin!(Self::start(settings, &clients));
        // Without remote sources nothing waits, so one poll completes it.
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match start.poll(&mut cx) {
            std::task::Poll::Ready(result) => result,
            std::task::Poll::Pending => Err(config_error(
                "ACCESS_TOKEN_JWKS_URL/*_SECRET_ID",
                "remote key sources need Verifier::start",
            )),
        }
    }

    /// Reads every key source, concurrently. A wrong setting stops start-up;
    /// an unreachable source does not (its tokens answer 503 until it is
    /// reached).
    pub async fn start(
        settings: &AuthSettings,
        clients: &KeyClients,
    ) -> Result<Self, KeyConfigError> {
        let rules = Rules {
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
        };
        let mut pinned = HashMap::new();
        if let Some(doc) = &settings.access_jwks {
            for (kid, alg, key) in parse_jwks(doc, "ACCESS_TOKEN_JWKS", Strictness::Strict)? {
                pinned.insert(
                    kid,
                    AccessKey {
                        key,
                        validation: rules.access(alg),
                    },
                );
            }
        }
        let access_secret = async {
            match &settings.access_secret {
                Some(s) => {
                    Secret::start(s, "ACCESS_TOKEN_SECRET", "ACCESS_TOKEN_SECRET_ID", clients)
                        .await
                        .map(Some)
                }
                None => Ok(None),
            }
        };
        let session = Secret::start(
            &settings.session_secret,
            "SESSION_TOKEN_SECRET",
            "SESSION_TOKEN_SECRET_ID",
            clients,
        );
        let jwks = async {
            match &settings.access_jwks_url {
                Some(url) => RemoteJwks::start(url, rules.clone(), clients)
                    .await
                    .map(Some),
                None => Ok(None),
            }
        };
        let (access_secret, session, jwks) = tokio::join!(access_secret, session, jwks);
        let (access_secret, session, jwks) = (access_secret?, session?, jwks?);
        if pinned.is_empty() && jwks.is_none() && access_secret.is_none() {
            return Err(config_error(
                "ACCESS_TOKEN_JWKS/ACCESS_TOKEN_SECRET",
                "at least one must be set and hold a usable key",
            ));
        }
        let mut session_validation = Validation::new(Algorithm::HS256);
        session_validation.leeway = LEEWAY_SECS;
        session_validation.validate_nbf = true;
        session_validation.validate_aud = false;
        session_validation.set_required_spec_claims(&["exp"]);
        Ok(Self {
            pinned,
            jwks,
            access_secret,
            access_secret_validation: rules.access(Algorithm::HS256),
            session,
            session_validation,
            verified: VerifiedTokens::default(),
        })
    }

    /// Checks both tokens and that they name the same user.
    pub async fn authenticate(
        &self,
        authorization: Option<&[u8]>,
        session_token: Option<&[u8]>,
    ) -> Result<Caller, AuthError> {
        let access = bearer_token(authorization)?;
        let session = match session_token.map(trim_ascii) {
            None | Some(b"") => return Err(AuthError::Missing(TokenKind::Session)),
            Some(t) => token_str(t, TokenKind::Session)?,
        };
        let generation = self.key_generation();
        if let Some(caller) = self.verified.lookup(access, session, generation) {
            return Ok(caller);
        }
        let claims = self.verify_access(access).await?;
        let (user_id, session_id, session_exp) = self.verify_session(session).await?;
        if user_id != claims.user_id {
            return Err(AuthError::UserMismatch);
        }
        let caller = Caller {
            user_id,
            session_id,
            organization_ids: claims.organization_ids,
            scopes: claims.scopes,
        };
        // Keys fetched during this check have a new generation: the entry
        // belongs to it.
        self.verified.insert(
            access,
            session,
            caller.clone(),
            claims.exp.min(session_exp),
            self.key_generation(),
        );
        Ok(caller)
    }

    /// Changes whenever any key source obtains new keys, and reads as
    /// "changed" while a source is due for its scheduled refresh, so no
    /// cached verification outlives the keys that made it.
    fn key_generation(&self) -> Option<u64> {
        let secret = |s: &Secret| match s {
            Secret::Fixed(_) => Some(0),
            Secret::Managed { cache, .. } => cache.generation(),
        };
        let mut g = secret(&self.session)?;
        if let Some(s) = &self.access_secret {
            g = g.wrapping_add(secret(s)?);
        }
        if let Some(j) = &self.jwks {
            g = g.wrapping_add(j.cache.generation()?);
        }
        Some(g)
    }

    async fn verify_access(&self, token: &str) -> Result<AccessClaims, AuthError> {
        let invalid = |reason| AuthError::invalid(TokenKind::Access, reason);
        let header = decode_header(token).map_err(|_| invalid("malformed header"))?;
        if let Some(typ) = &header.typ
            && !["jwt", "at+jwt", "application/at+jwt"].contains(&typ.to_ascii_lowercase().as_str())
        {
            return Err(invalid("unexpected typ"));
        }
        // A `kid` names a JWKS key and nothing else; without one only the
        // shared secret applies. Either way the key fixes the algorithm.
        let raw: RawAccessClaims = match &header.kid {
            Some(kid) => {
                let check = |key: &AccessKey| {
                    if !key.validation.algorithms.contains(&header.alg) {
                        return Err(invalid("algorithm does not match key"));
                    }
                    decode::<RawAccessClaims>(token, &key.key, &key.validation)
                        .map(|d| d.claims)
                        .map_err(|e| invalid(jwt_reason(&e)))
                };
                if let Some(key) = self.pinned.get(kid) {
                    check(key)?
                } else {
                    let jwks = self.jwks.as_ref().ok_or(invalid("unknown kid"))?;
                    let set = jwks
                        .keys()
                        .await
                        .ok_or(AuthError::KeysUnavailable(TokenKind::Access))?;
                    match set.get(kid) {
                        Some(key) => check(key)?,
                        None => {
                            let set = jwks.refetch_after_miss().await;
                            check(
                                set.as_ref()
                                    .and_then(|s| s.get(kid))
                                    .ok_or(invalid("unknown kid"))?,
                            )?
                        }
                    }
                }
            }
            None => {
                let secret = self.access_secret.as_ref().ok_or(invalid("no kid"))?;
                if header.alg != Algorithm::HS256 {
                    return Err(invalid("algorithm does not match key"));
                }
                secret
                    .verify(token, &self.access_secret_validation, TokenKind::Access)
                    .await?
            }
        };
        raw.into_claims().map_err(invalid)
    }

    async fn verify_session(&self, token: &str) -> Result<(i64, String, i64), AuthError> {
        let invalid = |reason| AuthError::invalid(TokenKind::Session, reason);
        let claims: RawSessionClaims = self
            .session
            .verify(token, &self.session_validation, TokenKind::Session)
            .await?;
        let user_id = match claims.user_id {
            serde_json::Value::String(s) => parse_user_id(&s),
            serde_json::Value::Number(n) => n.as_i64(),
            _ => None,
        }
        .ok_or(invalid("userId is not a user id"))?;
        let session_id = claims.session_id.ok_or(invalid("sessionId missing"))?;
        Ok((user_id, session_id, claims.exp.unwrap_or_default()))
    }
}

/// How a JWKS document's bad keys are treated: a pinned document is the
/// operator's and stops start-up; a fetched one is the issuer's, and its
/// keys we cannot use are skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strictness {
    Strict,
    SkipBadKeys,
}

/// Keys of a JWKS document with the algorithm each may verify. Encryption
/// keys and algorithms outside RS256, ES256 and EdDSA are skipped; a document
/// that is not a JWKS fails, and so (when strict) does a signing key without
/// a `kid`, a `kid` twice, or a malformed key.
fn parse_jwks(
    doc: &str,
    name: &'static str,
    strictness: Strictness,
) -> Result<Vec<(String, Algorithm, DecodingKey)>, KeyConfigError> {
    #[derive(Deserialize)]
    struct Doc {
        keys: Vec<serde_json::Value>,
    }
    let doc: Doc = serde_json::from_str(doc)
        .map_err(|e| config_error(name, format!("not a JWKS document: {e}")))?;
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let strict = strictness == Strictness::Strict;
    for (i, raw) in doc.keys.into_iter().enumerate() {
        let Ok(jwk) = serde_json::from_value::<Jwk>(raw) else {
            tracing::warn!(
                source = name,
                key_index = i,
                "skipping a JWKS key of an unsupported type"
            );
            continue;
        };
        if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
            continue;
        }
        let Some(alg) = jwk_algorithm(&jwk) else {
            tracing::warn!(
                source = name,
                key_index = i,
                "skipping a JWKS key whose algorithm is not RS256, ES256 or EdDSA"
            );
            continue;
        };
        let problem = match (&jwk.common.key_id, DecodingKey::from_jwk(&jwk)) {
            (None, _) => format!("key {i} has no kid"),
            (Some(kid), _) if seen.contains(kid) => format!("kid {kid:?} appears twice"),
            (Some(kid), Err(e)) => format!("key {kid:?} is malformed: {e}"),
            (Some(kid), Ok(key)) => {
                seen.insert(kid.clone());
                out.push((kid.clone(), alg, key));
                continue;
            }
        };
        if strict {
            return Err(config_error(name, problem));
        }
        tracing::warn!(source = name, key_index = i, problem, "skipping a JWKS key");
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
    exp: Option<i64>,
    sub: Option<String>,
    #[serde(rename = "organizationIds", default)]
    organization_ids: Option<Vec<i64>>,
    scope: Option<String>,
}

struct AccessClaims {
    exp: i64,
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
            exp: self.exp.unwrap_or_default(),
            user_id,
            organization_ids,
            scopes,
        })
    }
}

#[derive(Deserialize)]
struct RawSessionClaims {
    exp: Option<i64>,
    #[serde(rename = "userId", default)]
    user_id: serde_json::Value,
    #[serde(rename = "sessionId")]
    session_id: Option<String>,
}

#[cfg(test)]
mod tests;
