//! JWKS documents → keys, each with the algorithms it may verify.

use std::collections::HashSet;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

use super::config_error;
use crate::error::ConfigError;

/// How a JWKS document's bad keys are treated: a pinned document is the
/// operator's and stops start-up; a fetched one is the issuer's, and its
/// keys we cannot use are skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strictness {
    Strict,
    SkipBadKeys,
}

/// One usable signing key of a JWKS.
pub(crate) struct JwksKey {
    pub kid: String,
    pub algorithms: Vec<Algorithm>,
    pub key: DecodingKey,
}

const RSA: [Algorithm; 6] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];

/// Keys of a JWKS document. Encryption keys and key types we cannot verify
/// with (P-521, X25519, symmetric) are skipped; a document that is not a
/// JWKS fails, and so (when strict) does a signing key without a `kid`, a
/// `kid` twice, or a malformed key.
pub(crate) fn parse(
    doc: &str,
    name: &'static str,
    strictness: Strictness,
) -> Result<Vec<JwksKey>, ConfigError> {
    #[derive(Deserialize)]
    struct Doc {
        keys: Vec<serde_json::Value>,
    }
    let doc: Doc = serde_json::from_str(doc)
        .map_err(|e| config_error(name, format!("not a JWKS document: {e}")))?;
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (i, raw) in doc.keys.into_iter().enumerate() {
        let skip =
            |why: &str| tracing::warn!(source = name, key_index = i, why, "skipping a JWKS key");
        let Ok(jwk) = serde_json::from_value::<Jwk>(raw) else {
            skip("unsupported key type");
            continue;
        };
        if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
            continue;
        }
        let Some(algorithms) = algorithms(&jwk) else {
            skip("no supported signature algorithm for this key");
            continue;
        };
        let problem = match (&jwk.common.key_id, DecodingKey::from_jwk(&jwk)) {
            (None, _) => format!("key {i} has no kid"),
            (Some(kid), _) if seen.contains(kid) => format!("kid {kid:?} appears twice"),
            (Some(kid), Err(e)) => format!("key {kid:?} is malformed: {e}"),
            (Some(kid), Ok(key)) => {
                seen.insert(kid.clone());
                out.push(JwksKey {
                    kid: kid.clone(),
                    algorithms,
                    key,
                });
                continue;
            }
        };
        if strictness == Strictness::Strict {
            return Err(config_error(name, problem));
        }
        skip(&problem);
    }
    Ok(out)
}

/// The algorithms a JWK may verify: those its type and curve allow (RSA:
/// RS* and PS*; P-256: ES256; P-384: ES384; Ed25519: EdDSA), narrowed to its
/// `alg` when it has one (Entra ID publishes keys without). `None` when
/// nothing remains.
pub(crate) fn algorithms(jwk: &Jwk) -> Option<Vec<Algorithm>> {
    let allowed: &[Algorithm] = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => &RSA,
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
            &[Algorithm::ES256]
        }
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P384 => {
            &[Algorithm::ES384]
        }
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            &[Algorithm::EdDSA]
        }
        _ => return None,
    };
    let Some(declared) = jwk.common.key_algorithm else {
        return Some(allowed.to_vec());
    };
    let declared = signature_algorithm(declared)?;
    allowed.contains(&declared).then(|| vec![declared])
}

fn signature_algorithm(a: KeyAlgorithm) -> Option<Algorithm> {
    Some(match a {
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        _ => return None,
    })
}
