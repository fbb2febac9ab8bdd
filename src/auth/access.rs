//! The access token: its keys (pinned JWKS, the issuer's JWKS, an HS256
//! secret) and the rules every key applies (expiry, issuer, audiences,
//! clients, claim names).

use std::collections::HashMap;

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};

use super::claims::{self, AccessClaims, ClaimNames, RawAccessClaims};
use super::jwks::{self, Strictness};
use super::memory::{KeyVersion, Source};
use super::secret::Secret;
use super::token::check_header;
use super::{
    AuthError, AuthSettings, KeyClients, LEEWAY_SECS, Reason, TokenKind, config_error, jwt_reason,
};
use crate::config::vars;
use crate::error::ConfigError;
use crate::keys::{self, Cached, FetchError, Fetched};

const JWKS_NAME: &str = vars::ACCESS_TOKEN_JWKS;
const JWKS_URL_NAME: &str = vars::ACCESS_TOKEN_JWKS_URL;

/// A key the access token may be verified with, and the rules that go with it.
struct Key {
    key: DecodingKey,
    validation: Validation,
}

type KeySet = HashMap<String, Key>;

/// Claim rules for access tokens, whatever key verifies them.
#[derive(Clone)]
struct Rules {
    issuer: Option<String>,
    audiences: Vec<String>,
    client_ids: Vec<String>,
    names: ClaimNames,
}

impl Rules {
    /// The validation of an access token verified with a key of `algorithms`.
    fn validation(&self, algorithms: Vec<Algorithm>) -> Validation {
        let mut v = Validation::new(algorithms[0]);
        v.algorithms = algorithms;
        v.leeway = LEEWAY_SECS;
        v.validate_nbf = true;
        let mut required = vec!["exp"];
        if let Some(iss) = &self.issuer {
            v.set_issuer(&[iss]);
            required.push("iss");
        }
        if self.audiences.is_empty() {
            v.validate_aud = false;
        } else {
            // Setting an audience alone lets a token without `aud` through.
            v.set_audience(&self.audiences);
            required.push("aud");
        }
        v.set_required_spec_claims(&required);
        v
    }

    fn keys(&self, keys: Vec<jwks::JwksKey>) -> KeySet {
        keys.into_iter()
            .map(|k| {
                let key = Key {
                    key: k.key,
                    validation: self.validation(k.algorithms),
                };
                (k.kid, key)
            })
            .collect()
    }
}

/// The issuer's JWKS as a key source: fetched, parsed, and each key bound
/// to the claim rules.
struct Jwks {
    web: keys::WebClient,
    url: hyper::Uri,
    rules: Rules,
}

impl keys::KeySource for Jwks {
    type Keys = KeySet;

    fn name(&self) -> &'static str {
        JWKS_URL_NAME
    }

    async fn fetch(&self) -> Result<Fetched<KeySet>, FetchError> {
        fetch_jwks(&self.web, &self.url, &self.rules).await
    }
}

async fn fetch_jwks(
    web: &keys::WebClient,
    url: &hyper::Uri,
    rules: &Rules,
) -> Result<Fetched<KeySet>, FetchError> {
    // The client's errors are neutral; the source names itself here.
    let (body, ttl) = web
        .get(url, keys::JWKS_TIMEOUT, keys::JWKS_MAX_BYTES)
        .await
        .map_err(|e| e.within(format!("JWKS endpoint {url}")))?;
    let doc = std::str::from_utf8(&body)
        .map_err(|e| FetchError::unavailable("JWKS is not UTF-8", Some(e.into())))?;
    let keys = jwks::parse(doc, JWKS_URL_NAME, Strictness::SkipBadKeys)
        .map_err(|e| FetchError::unavailable("JWKS unusable", Some(e.into())))?;
    Ok(Fetched {
        value: rules.keys(keys),
        ttl,
    })
}

impl Jwks {
    /// The issuer's keys, cached: the first fetch made now.
    async fn start(
        url: &keys::JwksUrl,
        rules: &Rules,
        clients: &KeyClients,
    ) -> Result<Cached<Self>, ConfigError> {
        let web = clients
            .web
            .clone()
            .ok_or_else(|| config_error(JWKS_URL_NAME, "no HTTPS client"))?;
        let source = Jwks {
            web,
            url: url.uri().clone(),
            rules: rules.clone(),
        };
        clients.cache(source).await
    }
}

/// Every key source of the access token, and its rules.
pub(crate) struct AccessKeys {
    rules: Rules,
    /// Keys of `ACCESS_TOKEN_JWKS` by `kid`: always apply, win over fetched.
    pinned: KeySet,
    /// The issuer's JWKS endpoint and the keys last fetched from it.
    issuer: Option<Cached<Jwks>>,
    /// The HS256 secret: verifies access tokens that carry no `kid`.
    secret: Option<(Secret, Validation)>,
}

impl AccessKeys {
    pub(crate) async fn start(
        settings: &AuthSettings,
        clients: &KeyClients,
    ) -> Result<Self, ConfigError> {
        let rules = Rules {
            issuer: settings.issuer.clone(),
            audiences: settings.audiences.clone(),
            client_ids: settings.client_ids.clone(),
            names: settings.claims.clone(),
        };
        let pinned = match settings.access.pinned() {
            Some(doc) => rules.keys(jwks::parse(doc, JWKS_NAME, Strictness::Strict)?),
            None => KeySet::new(),
        };
        let secret = async {
            match settings.access.secret() {
                Some(s) => Secret::start(s, vars::ACCESS_TOKEN_SECRET_ID, clients)
                    .await
                    .map(Some),
                None => Ok(None),
            }
        };
        let issuer = async {
            match settings.access.jwks_url() {
                Some(url) => Jwks::start(url, &rules, clients).await.map(Some),
                None => Ok(None),
            }
        };
        let (secret, issuer) = tokio::join!(secret, issuer);
        let (secret, issuer) = (secret?, issuer?);
        if pinned.is_empty() && issuer.is_none() && secret.is_none() {
            return Err(config_error(
                "ACCESS_TOKEN_JWKS/ACCESS_TOKEN_SECRET",
                "at least one must be set and hold a usable key",
            ));
        }
        let secret = secret.map(|s| (s, rules.validation(vec![Algorithm::HS256])));
        Ok(Self {
            rules,
            pinned,
            issuer,
            secret,
        })
    }

    /// The version `source` holds now (see [`super::memory`]).
    pub(crate) fn version(&self, source: Source) -> Option<u64> {
        match source {
            Source::Pinned => Some(0),
            Source::Issuer => self.issuer.as_ref()?.generation(),
            Source::AccessSecret => self.secret.as_ref()?.0.version(),
            Source::Session => None,
        }
    }

    /// Verifies the token and reads its caller; also says which key source
    /// verified it, at which version.
    pub(crate) async fn verify(
        &self,
        token: &str,
    ) -> Result<(AccessClaims, KeyVersion), AuthError> {
        let invalid = |reason| AuthError::invalid(TokenKind::Access, reason);
        let header = check_header(token, TokenKind::Access)?;
        // A `kid` names a JWKS key and nothing else; without one only the
        // shared secret applies. Either way the key fixes the algorithm.
        let (raw, source) = match &header.kid {
            Some(kid) => self.verify_with_kid(token, kid, header.alg).await?,
            None => {
                let (secret, validation) = self.secret.as_ref().ok_or(invalid(Reason::NoKid))?;
                if header.alg != Algorithm::HS256 {
                    return Err(invalid(Reason::AlgorithmMismatch));
                }
                let raw = secret.verify(token, validation, TokenKind::Access).await?;
                (raw, Source::AccessSecret)
            }
        };
        let claims =
            claims::access(raw, &self.rules.names, &self.rules.client_ids).map_err(invalid)?;
        Ok((claims, KeyVersion::new(source, self.version(source))))
    }

    /// A pinned key first; else the issuer's, re-fetched once when unknown.
    async fn verify_with_kid(
        &self,
        token: &str,
        kid: &str,
        alg: Algorithm,
    ) -> Result<(RawAccessClaims, Source), AuthError> {
        let invalid = |reason| AuthError::invalid(TokenKind::Access, reason);
        let check = |key: &Key| {
            if !key.validation.algorithms.contains(&alg) {
                return Err(invalid(Reason::AlgorithmMismatch));
            }
            decode::<RawAccessClaims>(token, &key.key, &key.validation)
                .map(|d| d.claims)
                .map_err(|e| invalid(jwt_reason(&e)))
        };
        if let Some(key) = self.pinned.get(kid) {
            return Ok((check(key)?, Source::Pinned));
        }
        let issuer = self.issuer.as_ref().ok_or(invalid(Reason::UnknownKid))?;
        let set = issuer
            .get()
            .await
            .ok_or(AuthError::KeysUnavailable(TokenKind::Access))?;
        if let Some(key) = set.get(kid) {
            return Ok((check(key)?, Source::Issuer));
        }
        let set = issuer.refetch_after_miss().await;
        let key = set.as_ref().and_then(|s| s.get(kid));
        Ok((
            check(key.ok_or(invalid(Reason::UnknownKid))?)?,
            Source::Issuer,
        ))
    }
}
