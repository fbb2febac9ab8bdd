//! Configuration from the environment, checked once at start-up: a missing or
//! malformed variable stops the function with a message naming it.

use std::time::Duration;

use crate::auth::{
    AccessKeySources, AuthSettings, ClaimNames, Hs256Secret, ScopeClaims, SecretSource,
};
use crate::keys::JwksUrl;

mod origins;
pub(crate) mod vars;

pub(crate) use origins::AllowedOrigins;
use origins::parse_origins;

/// Variables without which the function does not start.
#[cfg(test)]
pub(crate) const REQUIRED_VARIABLES: &[&str] =
    &[vars::INTERVENTIONS_TABLE, vars::NOTIFICATIONS_TABLE];
/// Exactly one of these: the session secret's value (local runs, tests) or
/// its Secrets Manager id (production).
pub(crate) const SESSION_SECRET_VARIABLES: &[&str] =
    &[vars::SESSION_TOKEN_SECRET, vars::SESSION_TOKEN_SECRET_ID];
/// At least one of these (and at most one of the two HS256 forms).
pub(crate) const ACCESS_KEY_VARIABLES: &[&str] = &[
    vars::ACCESS_TOKEN_JWKS,
    vars::ACCESS_TOKEN_JWKS_URL,
    vars::ACCESS_TOKEN_SECRET,
    vars::ACCESS_TOKEN_SECRET_ID,
];
/// Read when set.
#[cfg(test)]
pub(crate) const OPTIONAL_VARIABLES: &[&str] = &[
    vars::ACCESS_TOKEN_ISSUER,
    vars::ACCESS_TOKEN_AUDIENCE,
    vars::ACCESS_TOKEN_CLIENT_IDS,
    vars::ACCESS_TOKEN_USER_ID_CLAIM,
    vars::ACCESS_TOKEN_ORGANIZATIONS_CLAIM,
    vars::ACCESS_TOKEN_SCOPE_CLAIM,
    vars::ALLOWED_ORIGINS,
    vars::DYNAMODB_TIMEOUT_MS,
];

/// Standard AWS variables the function reads: the region (Lambda sets it),
/// a local engine's endpoint, extra TLS roots.
#[cfg(test)]
pub(crate) const AWS_VARIABLES: &[&str] = &[
    vars::AWS_REGION,
    vars::AWS_DEFAULT_REGION,
    vars::AWS_ENDPOINT_URL_DYNAMODB,
    vars::AWS_ENDPOINT_URL_SECRETS_MANAGER,
    vars::AWS_ENDPOINT_URL,
    vars::SSL_CERT_FILE,
];

pub(crate) use crate::error::ConfigError;

/// Time limits and attempts of an AWS SDK call: DynamoDB's (the default,
/// `DYNAMODB_TIMEOUT_MS`) and Secrets Manager's (`aws::SECRETS_LIMITS`).
/// The operation limit must stay below the function's own timeout so a slow
/// engine gets a 503, not a Lambda timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CallLimits {
    pub connect: Duration,
    pub attempt: Duration,
    pub operation: Duration,
    pub max_attempts: u32,
    /// First retry delay (jittered, doubling): short, since a client waits.
    pub initial_backoff: Duration,
}

impl Default for CallLimits {
    fn default() -> Self {
        Self {
            connect: Duration::from_millis(1000),
            // Three attempts of 1.2 s and their backoffs (0.1 + 0.2 s) end
            // by 3.9 s: within the operation limit, so the SDK arms no
            // operation timer of its own.
            attempt: Duration::from_millis(1200),
            operation: Duration::from_millis(4000),
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
        }
    }
}

#[derive(Clone)]
pub(crate) struct Config {
    pub interventions_table: String,
    pub notifications_table: String,
    pub auth: AuthSettings,
    pub allowed_origins: AllowedOrigins,
    pub dynamo: CallLimits,
    pub aws: AwsSettings,
}

/// Where the AWS services are and how to reach them. Credentials come from
/// the environment, where Lambda puts them (read by the SDK when it signs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AwsSettings {
    pub region: String,
    /// `AWS_ENDPOINT_URL_DYNAMODB`, else `AWS_ENDPOINT_URL`: a local engine.
    pub dynamodb_endpoint: Option<String>,
    /// `AWS_ENDPOINT_URL_SECRETS_MANAGER`, else `AWS_ENDPOINT_URL`.
    pub secrets_endpoint: Option<String>,
    /// Extra PEM roots to trust besides the built-in ones.
    pub ssl_cert_file: Option<std::path::PathBuf>,
}

impl Config {
    pub(crate) fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads through `get` so tests need not touch the process environment.
    pub(crate) fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let optional = |name: &'static str| get(name).filter(|v| !v.trim().is_empty());
        let required = |name: &'static str| optional(name).ok_or(ConfigError::Missing(name));
        let secret = |value_name: &'static str, id_name: &'static str| match (
            optional(value_name),
            optional(id_name),
        ) {
            (Some(_), Some(_)) => Err(ConfigError::Conflict(value_name, id_name)),
            (Some(v), None) => Hs256Secret::new(v)
                .map(|s| Some(SecretSource::Value(s)))
                .map_err(|e| ConfigError::malformed(value_name, e.to_string())),
            (None, Some(id)) => Ok(Some(SecretSource::SecretsManager(id))),
            (None, None) => Ok(None),
        };
        let session_secret = secret(vars::SESSION_TOKEN_SECRET, vars::SESSION_TOKEN_SECRET_ID)?
            .ok_or(ConfigError::MissingOneOf(SESSION_SECRET_VARIABLES))?;
        let access_secret = secret(vars::ACCESS_TOKEN_SECRET, vars::ACCESS_TOKEN_SECRET_ID)?;
        let access_jwks = optional(vars::ACCESS_TOKEN_JWKS);
        let access_jwks_url = optional(vars::ACCESS_TOKEN_JWKS_URL)
            .map(|url| {
                JwksUrl::parse(&url)
                    .map_err(|problem| ConfigError::malformed(vars::ACCESS_TOKEN_JWKS_URL, problem))
            })
            .transpose()?;
        let access = AccessKeySources::new(access_jwks, access_jwks_url, access_secret)
            .ok_or(ConfigError::MissingOneOf(ACCESS_KEY_VARIABLES))?;
        let mut dynamo = CallLimits::default();
        if let Some(ms) = optional(vars::DYNAMODB_TIMEOUT_MS) {
            dynamo.operation = Duration::from_millis(parse_millis(vars::DYNAMODB_TIMEOUT_MS, &ms)?);
            dynamo.attempt = dynamo.attempt.min(dynamo.operation);
            dynamo.connect = dynamo.connect.min(dynamo.operation);
        }
        // Both names are read, the first set wins.
        let region = optional(vars::AWS_REGION).or(optional(vars::AWS_DEFAULT_REGION));
        let generic_endpoint = optional(vars::AWS_ENDPOINT_URL);
        let endpoint = |name: &'static str| -> Result<Option<String>, ConfigError> {
            let url = optional(name).or(generic_endpoint.clone());
            match url {
                Some(u) if !(u.starts_with("http://") || u.starts_with("https://")) => Err(
                    ConfigError::malformed(name, "expected an http:// or https:// URL"),
                ),
                other => Ok(other),
            }
        };
        let aws = AwsSettings {
            region: region.ok_or(ConfigError::Missing(vars::AWS_REGION))?,
            dynamodb_endpoint: endpoint(vars::AWS_ENDPOINT_URL_DYNAMODB)?,
            secrets_endpoint: endpoint(vars::AWS_ENDPOINT_URL_SECRETS_MANAGER)?,
            ssl_cert_file: optional(vars::SSL_CERT_FILE).map(std::path::PathBuf::from),
        };
        Ok(Self {
            aws,
            interventions_table: required(vars::INTERVENTIONS_TABLE)?,
            notifications_table: required(vars::NOTIFICATIONS_TABLE)?,
            auth: AuthSettings {
                access,
                session_secret,
                issuer: optional(vars::ACCESS_TOKEN_ISSUER),
                audiences: list(
                    vars::ACCESS_TOKEN_AUDIENCE,
                    optional(vars::ACCESS_TOKEN_AUDIENCE),
                )?,
                client_ids: list(
                    vars::ACCESS_TOKEN_CLIENT_IDS,
                    optional(vars::ACCESS_TOKEN_CLIENT_IDS),
                )?,
                claims: claim_names(&optional)?,
            },
            allowed_origins: optional(vars::ALLOWED_ORIGINS)
                .map(|v| parse_origins(&v))
                .transpose()?
                .unwrap_or_default(),
            dynamo,
        })
    }
}

/// A comma-separated list of values (audiences, client ids): each trimmed,
/// none empty.
fn list(name: &'static str, value: Option<String>) -> Result<Vec<String>, ConfigError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    value
        .split(',')
        .map(|item| match item.trim() {
            "" => Err(ConfigError::malformed(
                name,
                "an empty item in the comma-separated list",
            )),
            item => Ok(item.to_owned()),
        })
        .collect()
}

/// The longest claim name a setting may give.
pub(crate) const MAX_CLAIM_NAME_BYTES: usize = 256;

/// The access token's claim names. Any JSON member name is allowed (URLs and
/// names with `:` included) but whitespace, control characters and names
/// over [`MAX_CLAIM_NAME_BYTES`], which no provider uses and which are typing mistakes.
fn claim_names(
    optional: &dyn Fn(&'static str) -> Option<String>,
) -> Result<ClaimNames, ConfigError> {
    let name = |var: &'static str| -> Result<Option<&'static str>, ConfigError> {
        let Some(v) = optional(var) else {
            return Ok(None);
        };
        if v.len() > MAX_CLAIM_NAME_BYTES || v.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(ConfigError::malformed(
                var,
                format!(
                    "a claim name: no spaces or control characters, at most {MAX_CLAIM_NAME_BYTES} bytes"
                ),
            ));
        }
        // Read once per process; the authenticator keeps it for the process' life.
        Ok(Some(Box::leak(v.into_boxed_str())))
    };
    let defaults = ClaimNames::default();
    let names = ClaimNames {
        user_id: name(vars::ACCESS_TOKEN_USER_ID_CLAIM)?.unwrap_or(defaults.user_id),
        organizations: name(vars::ACCESS_TOKEN_ORGANIZATIONS_CLAIM)?
            .unwrap_or(defaults.organizations),
        scopes: name(vars::ACCESS_TOKEN_SCOPE_CLAIM)?.map_or(defaults.scopes, ScopeClaims::Named),
    };
    if names.user_id == names.organizations {
        return Err(ConfigError::Conflict(
            vars::ACCESS_TOKEN_USER_ID_CLAIM,
            vars::ACCESS_TOKEN_ORGANIZATIONS_CLAIM,
        ));
    }
    Ok(names)
}

/// What `DYNAMODB_TIMEOUT_MS` may be, in milliseconds.
const TIMEOUT_MS: std::ops::RangeInclusive<u64> = 1..=60_000;

fn parse_millis(name: &'static str, v: &str) -> Result<u64, ConfigError> {
    match v.trim().parse::<u64>() {
        Ok(ms) if TIMEOUT_MS.contains(&ms) => Ok(ms),
        _ => Err(ConfigError::malformed(
            name,
            format!(
                "expected milliseconds between {} and {}",
                TIMEOUT_MS.start(),
                TIMEOUT_MS.end()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    const BASE: [(&str, &str); 5] = [
        ("AWS_REGION", "eu-west-3"),
        ("INTERVENTIONS_TABLE", "interventions"),
        ("NOTIFICATIONS_TABLE", "notifications"),
        ("SESSION_TOKEN_SECRET", "session-secret-of-32-bytes-or-more"),
        ("ACCESS_TOKEN_SECRET", "access-secret-of-32-bytes-or-more!"),
    ];

    fn without(name: &str) -> Vec<(&'static str, &'static str)> {
        BASE.iter().copied().filter(|(k, _)| *k != name).collect()
    }

    #[test]
    fn complete_environment_is_read() -> Result<(), ConfigError> {
        let mut pairs = BASE.to_vec();
        pairs.push(("ACCESS_TOKEN_ISSUER", "https://issuer"));
        pairs.push(("ALLOWED_ORIGINS", "https://a.example, https://b.example"));
        pairs.push(("DYNAMODB_TIMEOUT_MS", "800"));
        let c = Config::from_lookup(env(&pairs))?;
        assert_eq!(c.interventions_table, "interventions");
        assert_eq!(c.notifications_table, "notifications");
        assert_eq!(c.auth.issuer.as_deref(), Some("https://issuer"));
        assert!(c.auth.audiences.is_empty());
        assert_eq!(
            c.allowed_origins,
            AllowedOrigins::List(vec!["https://a.example".into(), "https://b.example".into()])
        );
        assert_eq!(c.dynamo.operation, Duration::from_millis(800));
        assert!(c.dynamo.attempt <= c.dynamo.operation);
        Ok(())
    }

    #[test]
    fn each_missing_variable_is_named() {
        for name in ["INTERVENTIONS_TABLE", "NOTIFICATIONS_TABLE"] {
            let err = Config::from_lookup(env(&without(name))).err();
            assert_eq!(err, Some(ConfigError::Missing(name)));
        }
        let err = Config::from_lookup(env(&without("SESSION_TOKEN_SECRET"))).err();
        let err = err.expect("a missing session secret is an error");
        assert_eq!(err, ConfigError::MissingOneOf(SESSION_SECRET_VARIABLES));
        assert_eq!(
            err.to_string(),
            "SESSION_TOKEN_SECRET or SESSION_TOKEN_SECRET_ID is required but not set"
        );
        let err = Config::from_lookup(env(&without("ACCESS_TOKEN_SECRET"))).err();
        let err = err.expect("no access key source is an error");
        assert_eq!(err, ConfigError::MissingOneOf(ACCESS_KEY_VARIABLES));
        assert_eq!(
            err.to_string(),
            "one of ACCESS_TOKEN_JWKS, ACCESS_TOKEN_JWKS_URL, ACCESS_TOKEN_SECRET, \
             ACCESS_TOKEN_SECRET_ID is required but not set"
        );
    }

    #[test]
    fn blank_counts_as_missing() {
        let mut pairs = without("INTERVENTIONS_TABLE");
        pairs.push(("INTERVENTIONS_TABLE", "  "));
        let err = Config::from_lookup(env(&pairs)).err();
        assert_eq!(err, Some(ConfigError::Missing("INTERVENTIONS_TABLE")));
    }

    #[test]
    fn malformed_values_are_named() {
        for (name, value) in [
            ("ALLOWED_ORIGINS", "app.example.com"),
            ("ALLOWED_ORIGINS", "https://a.example/"),
            ("ALLOWED_ORIGINS", "https://*.example"),
            ("ALLOWED_ORIGINS", "https://a.example/app"),
            ("ALLOWED_ORIGINS", "https://a.example:99999"),
            ("ALLOWED_ORIGINS", "https://"),
            ("ALLOWED_ORIGINS", "ftp://a.example"),
            ("ALLOWED_ORIGINS", "https://a.example?x=1"),
            ("DYNAMODB_TIMEOUT_MS", "soon"),
            ("DYNAMODB_TIMEOUT_MS", "0"),
            ("AWS_ENDPOINT_URL_DYNAMODB", "127.0.0.1:8000"),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "localhost:8000"),
            (
                "ACCESS_TOKEN_JWKS_URL",
                "http://issuer.example.com/.well-known/jwks.json",
            ),
            ("ACCESS_TOKEN_JWKS_URL", "http://10.0.0.1/jwks.json"),
            ("ACCESS_TOKEN_JWKS_URL", "ftp://127.0.0.1/jwks.json"),
            ("ACCESS_TOKEN_JWKS_URL", "not a url"),
            ("ACCESS_TOKEN_AUDIENCE", "api://a,,api://b"),
            ("ACCESS_TOKEN_CLIENT_IDS", "web-app,"),
            ("ACCESS_TOKEN_USER_ID_CLAIM", "user id"),
            ("ACCESS_TOKEN_ORGANIZATIONS_CLAIM", " organizationIds"),
            ("ACCESS_TOKEN_SCOPE_CLAIM", "scp\n"),
            ("ACCESS_TOKEN_SCOPE_CLAIM", "p".repeat(257).leak()),
        ] {
            let mut pairs = BASE.to_vec();
            pairs.push((name, value));
            match Config::from_lookup(env(&pairs)) {
                Err(ConfigError::Malformed { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}={value}: {:?}", other.err()),
            }
        }
        // The message states the range the check applies.
        let mut pairs = BASE.to_vec();
        pairs.push(("DYNAMODB_TIMEOUT_MS", "60001"));
        let err = Config::from_lookup(env(&pairs))
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("DYNAMODB_TIMEOUT_MS is malformed: expected milliseconds between 1 and 60000")
        );
    }

    #[test]
    fn claim_names_audiences_and_clients_are_read() -> Result<(), ConfigError> {
        let c = Config::from_lookup(env(&BASE))?;
        assert_eq!(
            c.auth.claims,
            ClaimNames::default(),
            "defaults: today's claims"
        );
        assert!(c.auth.audiences.is_empty() && c.auth.client_ids.is_empty());
        let mut pairs = BASE.to_vec();
        pairs.extend([
            ("ACCESS_TOKEN_USER_ID_CLAIM", "uid"),
            (
                "ACCESS_TOKEN_ORGANIZATIONS_CLAIM",
                "https://example.com/org:ids",
            ),
            ("ACCESS_TOKEN_SCOPE_CLAIM", "permissions"),
            (
                "ACCESS_TOKEN_AUDIENCE",
                "api://interventions, https://api.example.com",
            ),
            ("ACCESS_TOKEN_CLIENT_IDS", " web-app ,mobile-app"),
        ]);
        let c = Config::from_lookup(env(&pairs))?;
        assert_eq!(
            c.auth.claims,
            ClaimNames {
                user_id: "uid",
                organizations: "https://example.com/org:ids",
                scopes: ScopeClaims::Named("permissions"),
            }
        );
        assert_eq!(
            c.auth.audiences,
            ["api://interventions", "https://api.example.com"]
        );
        assert_eq!(c.auth.client_ids, ["web-app", "mobile-app"]);
        let mut pairs = BASE.to_vec();
        pairs.push(("ACCESS_TOKEN_USER_ID_CLAIM", "organizationIds"));
        assert_eq!(
            Config::from_lookup(env(&pairs)).err(),
            Some(ConfigError::Conflict(
                "ACCESS_TOKEN_USER_ID_CLAIM",
                "ACCESS_TOKEN_ORGANIZATIONS_CLAIM"
            ))
        );
        Ok(())
    }

    #[test]
    fn short_secrets_are_refused_by_name() {
        for name in ["SESSION_TOKEN_SECRET", "ACCESS_TOKEN_SECRET"] {
            let mut pairs = without(name);
            pairs.push((name, "31-bytes-is-one-byte-too-short!"));
            match Config::from_lookup(env(&pairs)) {
                Err(ConfigError::Malformed { name: n, problem }) => {
                    assert_eq!(n, name);
                    assert!(problem.contains("32 bytes"), "{problem}");
                    assert!(
                        !problem.contains("too-short"),
                        "the value leaked: {problem}"
                    );
                }
                other => panic!("{name}: {:?}", other.err()),
            }
        }
    }

    #[test]
    fn both_forms_of_one_secret_is_a_conflict_naming_both() {
        for (value, id) in [
            ("SESSION_TOKEN_SECRET", "SESSION_TOKEN_SECRET_ID"),
            ("ACCESS_TOKEN_SECRET", "ACCESS_TOKEN_SECRET_ID"),
        ] {
            let mut pairs = BASE.to_vec();
            pairs.push((id, "prod/secret"));
            let err = Config::from_lookup(env(&pairs)).err();
            assert_eq!(err, Some(ConfigError::Conflict(value, id)));
            let text = err.map(|e| e.to_string()).unwrap_or_default();
            assert!(text.contains(value) && text.contains(id), "{text}");
        }
    }

    #[test]
    fn secrets_manager_ids_and_a_jwks_url_are_read() -> Result<(), ConfigError> {
        let mut pairs = without("SESSION_TOKEN_SECRET");
        pairs.retain(|(k, _)| *k != "ACCESS_TOKEN_SECRET");
        pairs.push(("SESSION_TOKEN_SECRET_ID", "prod/session"));
        pairs.push(("ACCESS_TOKEN_JWKS_URL", "http://127.0.0.1:8001/jwks.json"));
        pairs.push(("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:8000"));
        let c = Config::from_lookup(env(&pairs))?;
        assert_eq!(
            c.auth.session_secret,
            SecretSource::SecretsManager("prod/session".into())
        );
        assert_eq!(c.auth.access.secret(), None);
        assert_eq!(
            c.auth.access.jwks_url().map(|u| u.to_string()).as_deref(),
            Some("http://127.0.0.1:8001/jwks.json")
        );
        assert_eq!(
            c.aws.secrets_endpoint.as_deref(),
            Some("http://127.0.0.1:8000")
        );
        assert_eq!(c.aws.dynamodb_endpoint, None);
        for ok in [
            "https://issuer.example.com/.well-known/jwks.json",
            "http://localhost:9999/jwks",
            "http://[::1]:9999/jwks",
        ] {
            let mut p = pairs.clone();
            p.retain(|(k, _)| *k != "ACCESS_TOKEN_JWKS_URL");
            p.push(("ACCESS_TOKEN_JWKS_URL", ok));
            assert!(Config::from_lookup(env(&p)).is_ok(), "{ok}");
        }
        Ok(())
    }

    #[test]
    fn the_declared_variable_lists_are_exactly_what_is_read() {
        let asked = std::cell::RefCell::new(Vec::new());
        let mut pairs = BASE.to_vec();
        pairs.push(("ACCESS_TOKEN_JWKS", ""));
        let lookup = env(&pairs);
        let _ = Config::from_lookup(|k| {
            asked.borrow_mut().push(k.to_owned());
            lookup(k)
        });
        let mut asked = asked.into_inner();
        asked.sort();
        let mut declared: Vec<String> = REQUIRED_VARIABLES
            .iter()
            .chain(SESSION_SECRET_VARIABLES)
            .chain(ACCESS_KEY_VARIABLES)
            .chain(OPTIONAL_VARIABLES)
            .chain(AWS_VARIABLES)
            .map(|s| s.to_string())
            .collect();
        declared.sort();
        assert_eq!(asked, declared);
    }

    #[test]
    fn origins_are_stored_as_browsers_serialise_them() -> Result<(), ConfigError> {
        let parsed = parse_origins(
            "HTTPS://App.Example.com:443, http://localhost:3000, http://127.0.0.1:80, https://[::1]:8443",
        )?;
        assert_eq!(
            parsed,
            AllowedOrigins::List(vec![
                "https://app.example.com".into(),
                "http://localhost:3000".into(),
                "http://127.0.0.1".into(),
                "https://[::1]:8443".into(),
            ])
        );
        assert_eq!(
            parsed.allow(Some("https://app.example.com")),
            Some("https://app.example.com")
        );
        assert_eq!(parsed.allow(Some("http://localhost:3001")), None);
        Ok(())
    }

    #[test]
    fn origins_are_matched_exactly() {
        let list = AllowedOrigins::List(vec!["https://a.example".into()]);
        assert_eq!(
            list.allow(Some("https://a.example")),
            Some("https://a.example")
        );
        assert_eq!(list.allow(Some("https://a.example.evil")), None);
        assert_eq!(list.allow(None), None);
        assert_eq!(AllowedOrigins::Any.allow(None), Some("*"));
        assert_eq!(AllowedOrigins::None.allow(Some("https://a.example")), None);
    }
}
