//! An HS256 secret: a fixed value, or the versions of a Secrets Manager
//! secret kept fresh by [`keys::Cached`] (a rotation fails no request).

use std::sync::Arc;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{DecodingKey, Validation, decode};

use super::{AuthError, KeyClients, TokenKind, config_error, jwt_reason};
use crate::error::ConfigError;
use crate::keys::{self, Cached, FetchError, Fetched};

/// HS256 secrets shorter than this are refused (RFC 7518 §3.2: a key at
/// least as long as the hash output).
pub(crate) const MIN_SECRET_BYTES: usize = 32;

/// An HS256 secret of at least [`MIN_SECRET_BYTES`]: the only form in which
/// one reaches the authenticator, so a short secret cannot be handed to it. Its
/// bytes never print.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Hs256Secret(Box<[u8]>);

/// A candidate secret shorter than [`MIN_SECRET_BYTES`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("an HS256 secret needs at least {MIN_SECRET_BYTES} bytes")]
pub(crate) struct ShortSecret;

impl Hs256Secret {
    pub(crate) fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, ShortSecret> {
        let bytes = bytes.into();
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(ShortSecret);
        }
        Ok(Self(bytes.into_boxed_slice()))
    }

    fn key(&self) -> DecodingKey {
        DecodingKey::from_secret(&self.0)
    }
}

impl std::fmt::Debug for Hs256Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hs256Secret(<redacted>)")
    }
}

/// Where an HS256 secret comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SecretSource {
    /// The value itself (local runs and tests).
    Value(Hs256Secret),
    /// A Secrets Manager secret name or ARN (production): read at start-up
    /// and again when it rotates.
    SecretsManager(String),
}

/// An HS256 secret's versions, current first.
type Versions = Vec<DecodingKey>;

pub(crate) enum Secret {
    Fixed(Arc<Versions>),
    Managed(Cached<Stored>),
}

/// A secret in Secrets Manager as a key source: its usable versions.
pub(crate) struct Stored {
    client: aws_sdk_secretsmanager::Client,
    id: String,
    /// The setting that names it.
    name: &'static str,
}

impl keys::KeySource for Stored {
    type Keys = Versions;

    fn name(&self) -> &'static str {
        self.name
    }

    async fn fetch(&self) -> Result<Fetched<Versions>, FetchError> {
        let versions = keys::read_secret_versions(&self.client, &self.id, Hs256Secret::new).await?;
        Ok(Fetched {
            value: versions.iter().map(Hs256Secret::key).collect(),
            ttl: keys::SECRET_TTL,
        })
    }
}

impl Secret {
    /// The secret from its setting; a Secrets Manager read happens here, and
    /// a wrong id or a denied read stops start-up naming `id_name`.
    pub(crate) async fn start(
        source: &SecretSource,
        id_name: &'static str,
        clients: &KeyClients,
    ) -> Result<Self, ConfigError> {
        match source {
            SecretSource::Value(v) => Ok(Secret::Fixed(Arc::new(vec![v.key()]))),
            SecretSource::SecretsManager(id) => {
                let client = clients
                    .secrets
                    .clone()
                    .ok_or_else(|| config_error(id_name, "no Secrets Manager client"))?;
                let source = Stored {
                    client,
                    id: id.clone(),
                    name: id_name,
                };
                Ok(Secret::Managed(clients.cache(source).await?))
            }
        }
    }

    /// Which versions these are (see [`Cached::generation`]).
    pub(crate) fn version(&self) -> Option<u64> {
        match self {
            Secret::Fixed(_) => Some(0),
            Secret::Managed(cache) => cache.generation(),
        }
    }

    async fn versions(&self) -> Option<Arc<Versions>> {
        match self {
            Secret::Fixed(v) => Some(v.clone()),
            Secret::Managed(cache) => cache.get().await,
        }
    }

    async fn refetch_after_miss(&self) -> Option<Arc<Versions>> {
        match self {
            Secret::Fixed(_) => None,
            Secret::Managed(cache) => cache.refetch_after_miss().await,
        }
    }

    /// Verifies `token` under each known version; when none verifies its
    /// signature, re-reads the secret once (rate-limited) and tries again.
    pub(crate) async fn verify<C: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        validation: &Validation,
        kind: TokenKind,
    ) -> Result<C, AuthError> {
        let versions = self
            .versions()
            .await
            .ok_or(AuthError::KeysUnavailable(kind))?;
        match decode_with(token, &versions, validation) {
            Err(e) if *e.kind() == ErrorKind::InvalidSignature => {
                match self.refetch_after_miss().await {
                    Some(versions) => decode_with(token, &versions, validation),
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
fn decode_with<C: serde::de::DeserializeOwned>(
    token: &str,
    versions: &[DecodingKey],
    validation: &Validation,
) -> Result<C, jsonwebtoken::errors::Error> {
    let mut last = ErrorKind::InvalidSignature.into();
    for key in versions {
        match decode::<C>(token, key, validation) {
            Ok(data) => return Ok(data.claims),
            Err(e) if *e.kind() == ErrorKind::InvalidSignature => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}
