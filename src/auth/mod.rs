//! Both tokens → the caller. Keys are parsed once at start-up; a request only
//! looks one up and checks a signature. The rooms:
//! - [`error`]: why a token was refused, each reason with a stable code;
//! - [`token`]: the `Authorization` header, a token's header (`typ`, `crit`);
//! - [`claims`]: which claims name the user, organisations, scopes, client;
//! - [`jwks`]: JWKS documents → keys and the algorithms each may verify;
//! - [`access`]: the access token's keys (pinned, issuer, HS256) and rules;
//! - [`secret`]: an HS256 secret, fixed or kept fresh from Secrets Manager;
//! - [`memory`]: token pairs verified recently, keyed on the keys' versions.

mod access;
mod claims;
mod error;
mod jwks;
mod memory;
mod secret;
mod token;

use jsonwebtoken::{Algorithm, Validation};

pub(crate) use claims::{ClaimNames, ScopeClaims};
pub(crate) use error::{AuthError, Reason, TokenKind};
pub(crate) use secret::{Hs256Secret, SecretSource};

use crate::config::vars;
use crate::domain::Caller;
use crate::error::ConfigError;
use crate::keys;
use access::AccessKeys;
use error::jwt_reason;
use memory::{KeyVersion, VerifiedTokens};
use secret::Secret;

/// Clock skew tolerated on `exp` and `nbf` (docs/CONTRACT.md, "Tokens").
pub(crate) const LEEWAY_SECS: u64 = 30;

/// The access token's key sources, at least one by construction: a pinned
/// JWKS document (always applies, wins over fetched keys), the issuer's JWKS
/// endpoint, the HS256 secret of tokens without `kid`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AccessKeySources {
    pinned: Option<String>,
    jwks_url: Option<keys::JwksUrl>,
    secret: Option<SecretSource>,
}

impl AccessKeySources {
    /// `None` when all three are absent: the function would refuse every
    /// access token.
    pub(crate) fn new(
        pinned: Option<String>,
        jwks_url: Option<keys::JwksUrl>,
        secret: Option<SecretSource>,
    ) -> Option<Self> {
        let any = pinned.is_some() || jwks_url.is_some() || secret.is_some();
        any.then_some(Self {
            pinned,
            jwks_url,
            secret,
        })
    }

    pub(crate) fn pinned(&self) -> Option<&str> {
        self.pinned.as_deref()
    }

    pub(crate) fn jwks_url(&self) -> Option<&keys::JwksUrl> {
        self.jwks_url.as_ref()
    }

    pub(crate) fn secret(&self) -> Option<&SecretSource> {
        self.secret.as_ref()
    }
}

/// Key sources and claim rules, from the environment.
#[derive(Debug, Clone)]
pub(crate) struct AuthSettings {
    /// Where access tokens' keys come from: one source at least.
    pub access: AccessKeySources,
    pub session_secret: SecretSource,
    pub issuer: Option<String>,
    /// `aud` must hold one of these (none: `aud` is not checked).
    pub audiences: Vec<String>,
    /// `client_id`, else `azp`, else `cid` must be one of these (none: any).
    pub client_ids: Vec<String>,
    pub claims: ClaimNames,
}

/// What the authenticator needs to reach keys that live elsewhere.
#[derive(Clone, Default)]
pub(crate) struct KeyClients {
    pub secrets: Option<aws_sdk_secretsmanager::Client>,
    pub web: Option<keys::WebClient>,
    pub clock: keys::Clock,
}

impl KeyClients {
    /// A remote source's cache, after its first fetch; a configuration
    /// error there stops start-up naming the source's setting.
    async fn cache<S: keys::KeySource>(&self, source: S) -> Result<keys::Cached<S>, ConfigError> {
        let name = source.name();
        keys::Cached::start(source, self.clock.clone())
            .await
            .map_err(|problem| config_error(name, problem))
    }
}

fn config_error(name: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Unusable {
        name,
        problem: problem.into(),
    }
}

pub(crate) struct Authenticator {
    access: AccessKeys,
    session: Secret,
    session_validation: Validation,
    /// Token pairs verified recently (see [`memory`]).
    verified: VerifiedTokens,
    /// The key caches' clock, which also says when a remembered pair expires.
    clock: keys::Clock,
}

impl Authenticator {
    /// Reads every key source, concurrently. A wrong setting stops start-up;
    /// an unreachable source does not (its tokens answer 503 until it is
    /// reached).
    pub(crate) async fn start(
        settings: &AuthSettings,
        clients: &KeyClients,
    ) -> Result<Self, ConfigError> {
        let session = Secret::start(
            &settings.session_secret,
            vars::SESSION_TOKEN_SECRET_ID,
            clients,
        );
        let (access, session) = tokio::join!(AccessKeys::start(settings, clients), session);
        let mut session_validation = Validation::new(Algorithm::HS256);
        session_validation.leeway = LEEWAY_SECS;
        session_validation.validate_nbf = true;
        session_validation.validate_aud = false;
        session_validation.set_required_spec_claims(&["exp"]);
        Ok(Self {
            access: access?,
            session: session?,
            session_validation,
            verified: VerifiedTokens::default(),
            clock: clients.clock.clone(),
        })
    }

    /// Checks both tokens and that they name the same user.
    pub(crate) async fn authenticate(
        &self,
        authorization: Option<&[u8]>,
        session_token: Option<&[u8]>,
    ) -> Result<Caller, AuthError> {
        let access = token::bearer(authorization)?;
        let session = token::session(session_token)?;
        let now = self.clock.unix_secs();
        if let Some(caller) = self
            .verified
            .lookup(access, session, now, |s| self.current(s))
        {
            return Ok(caller);
        }
        let (claims, access_version) = self.access.verify(access).await?;
        let (session_claims, session_version) = self.verify_session(session).await?;
        if session_claims.user_id != claims.user_id {
            return Err(AuthError::UserMismatch);
        }
        let exp = claims.exp.min(session_claims.exp);
        let caller = Caller {
            user_id: claims.user_id,
            session_id: session_claims.session_id,
            organization_ids: claims.organization_ids,
            scopes: claims.scopes,
        };
        let versions = [access_version, session_version];
        self.verified
            .insert(access, session, caller.clone(), exp, versions);
        Ok(caller)
    }

    /// The version a key source holds now; `None` while it is due for a
    /// refresh (or holds nothing), so no remembered pair outlives its keys.
    fn current(&self, source: memory::Source) -> Option<u64> {
        match source {
            memory::Source::Session => self.session.version(),
            other => self.access.version(other),
        }
    }

    async fn verify_session(
        &self,
        token: &str,
    ) -> Result<(claims::SessionClaims, KeyVersion), AuthError> {
        let kind = TokenKind::Session;
        token::check_header(token, kind)?;
        let claims: claims::RawSessionClaims = self
            .session
            .verify(token, &self.session_validation, kind)
            .await?;
        let claims = claims
            .into_claims()
            .map_err(|r| AuthError::invalid(kind, r))?;
        let version = KeyVersion::new(memory::Source::Session, self.session.version());
        Ok((claims, version))
    }
}

#[cfg(test)]
mod tests;
