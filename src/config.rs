//! Configuration from the environment, checked once at start-up: a missing or
//! malformed variable stops the function with a message naming it.

use std::time::Duration;

use crate::auth::AuthSettings;

/// Variables without which the function does not start.
pub const REQUIRED_VARIABLES: &[&str] = &[
    "INTERVENTIONS_TABLE",
    "NOTIFICATIONS_TABLE",
    "SESSION_TOKEN_SECRET",
];
/// At least one of these must be set.
pub const ACCESS_KEY_VARIABLES: &[&str] = &["ACCESS_TOKEN_JWKS", "ACCESS_TOKEN_SECRET"];
/// Read when set.
pub const OPTIONAL_VARIABLES: &[&str] = &[
    "ACCESS_TOKEN_ISSUER",
    "ACCESS_TOKEN_AUDIENCE",
    "ALLOWED_ORIGINS",
    "DYNAMODB_TIMEOUT_MS",
];

/// Standard AWS variables the function reads: the region (Lambda sets it),
/// a local engine's endpoint, extra TLS roots.
pub const AWS_VARIABLES: &[&str] = &[
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL",
    "SSL_CERT_FILE",
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{0} is required but not set")]
    Missing(&'static str),
    #[error("{name} is malformed: {problem}")]
    Malformed { name: &'static str, problem: String },
}

/// Which origins get `Access-Control-Allow-Origin` on responses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AllowedOrigins {
    #[default]
    None,
    Any,
    List(Vec<String>),
}

impl AllowedOrigins {
    /// The value of `Access-Control-Allow-Origin` for a request from `origin`.
    pub fn allow<'a>(&self, origin: Option<&'a str>) -> Option<&'a str> {
        match self {
            AllowedOrigins::None => None,
            AllowedOrigins::Any => Some("*"),
            AllowedOrigins::List(list) => origin.filter(|o| list.iter().any(|l| l == o)),
        }
    }
}

/// Time limits for DynamoDB calls; the operation limit must stay below the
/// function's own timeout so a slow engine gets a 503, not a Lambda timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DynamoTimeouts {
    pub connect: Duration,
    pub attempt: Duration,
    pub operation: Duration,
    pub max_attempts: u32,
    /// First retry delay (jittered, doubling): short, since a client waits.
    pub initial_backoff: Duration,
}

impl Default for DynamoTimeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_millis(1000),
            attempt: Duration::from_millis(1500),
            operation: Duration::from_millis(4000),
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
        }
    }
}

#[derive(Clone)]
pub struct Config {
    pub interventions_table: String,
    pub notifications_table: String,
    pub auth: AuthSettings,
    pub allowed_origins: AllowedOrigins,
    pub dynamo: DynamoTimeouts,
    pub aws: AwsSettings,
}

/// Where DynamoDB is and how to reach it. Credentials come from the
/// environment, where Lambda puts them (read by the SDK when it signs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsSettings {
    pub region: String,
    /// `AWS_ENDPOINT_URL_DYNAMODB`, else `AWS_ENDPOINT_URL`: a local engine.
    pub endpoint_url: Option<String>,
    /// Extra PEM roots to trust besides Amazon's.
    pub ssl_cert_file: Option<std::path::PathBuf>,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads through `get` so tests need not touch the process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let optional = |name: &'static str| get(name).filter(|v| !v.trim().is_empty());
        let required = |name: &'static str| optional(name).ok_or(ConfigError::Missing(name));
        let access_jwks = optional("ACCESS_TOKEN_JWKS");
        let access_secret = optional("ACCESS_TOKEN_SECRET");
        if access_jwks.is_none() && access_secret.is_none() {
            return Err(ConfigError::Missing(
                "ACCESS_TOKEN_JWKS or ACCESS_TOKEN_SECRET",
            ));
        }
        let mut dynamo = DynamoTimeouts::default();
        if let Some(ms) = optional("DYNAMODB_TIMEOUT_MS") {
            dynamo.operation = Duration::from_millis(parse_millis("DYNAMODB_TIMEOUT_MS", &ms)?);
            dynamo.attempt = dynamo.attempt.min(dynamo.operation);
            dynamo.connect = dynamo.connect.min(dynamo.operation);
        }
        // Both names are read, the first set wins.
        let region = optional("AWS_REGION").or(optional("AWS_DEFAULT_REGION"));
        let endpoint_url = optional("AWS_ENDPOINT_URL_DYNAMODB").or(optional("AWS_ENDPOINT_URL"));
        if let Some(url) = &endpoint_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(ConfigError::Malformed {
                name: "AWS_ENDPOINT_URL_DYNAMODB",
                problem: "expected an http:// or https:// URL".into(),
            });
        }
        let aws = AwsSettings {
            region: region.ok_or(ConfigError::Missing("AWS_REGION"))?,
            endpoint_url,
            ssl_cert_file: optional("SSL_CERT_FILE").map(std::path::PathBuf::from),
        };
        Ok(Self {
            aws,
            interventions_table: required("INTERVENTIONS_TABLE")?,
            notifications_table: required("NOTIFICATIONS_TABLE")?,
            auth: AuthSettings {
                access_jwks,
                access_secret,
                session_secret: required("SESSION_TOKEN_SECRET")?,
                issuer: optional("ACCESS_TOKEN_ISSUER"),
                audience: optional("ACCESS_TOKEN_AUDIENCE"),
            },
            allowed_origins: optional("ALLOWED_ORIGINS")
                .map(|v| parse_origins(&v))
                .transpose()?
                .unwrap_or_default(),
            dynamo,
        })
    }
}

fn parse_millis(name: &'static str, v: &str) -> Result<u64, ConfigError> {
    match v.trim().parse::<u64>() {
        Ok(ms) if (1..=60_000).contains(&ms) => Ok(ms),
        _ => Err(ConfigError::Malformed {
            name,
            problem: "expected milliseconds between 1 and 60000".into(),
        }),
    }
}

/// `*`, or a comma-separated list of origins such as `https://app.example.com`.
fn parse_origins(v: &str) -> Result<AllowedOrigins, ConfigError> {
    let items: Vec<&str> = v
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if items == ["*"] {
        return Ok(AllowedOrigins::Any);
    }
    for item in &items {
        let ok = (item.starts_with("https://") || item.starts_with("http://"))
            && !item.ends_with('/')
            && item.bytes().all(|b| b.is_ascii_graphic() && b != b'*');
        if !ok {
            return Err(ConfigError::Malformed {
                name: "ALLOWED_ORIGINS",
                problem: format!(
                    "{item:?} is not an origin like https://app.example.com, or a lone *"
                ),
            });
        }
    }
    Ok(AllowedOrigins::List(
        items.into_iter().map(str::to_owned).collect(),
    ))
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
        ("SESSION_TOKEN_SECRET", "s"),
        ("ACCESS_TOKEN_SECRET", "a"),
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
        assert_eq!(c.auth.audience, None);
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
        for name in [
            "INTERVENTIONS_TABLE",
            "NOTIFICATIONS_TABLE",
            "SESSION_TOKEN_SECRET",
        ] {
            let err = Config::from_lookup(env(&without(name))).err();
            assert_eq!(err, Some(ConfigError::Missing(name)));
        }
        let err = Config::from_lookup(env(&without("ACCESS_TOKEN_SECRET"))).err();
        assert_eq!(
            err,
            Some(ConfigError::Missing(
                "ACCESS_TOKEN_JWKS or ACCESS_TOKEN_SECRET"
            ))
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
            ("DYNAMODB_TIMEOUT_MS", "soon"),
            ("DYNAMODB_TIMEOUT_MS", "0"),
            ("AWS_ENDPOINT_URL_DYNAMODB", "127.0.0.1:8000"),
        ] {
            let mut pairs = BASE.to_vec();
            pairs.push((name, value));
            match Config::from_lookup(env(&pairs)) {
                Err(ConfigError::Malformed { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}={value}: {:?}", other.err()),
            }
        }
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
            .chain(ACCESS_KEY_VARIABLES)
            .chain(OPTIONAL_VARIABLES)
            .chain(AWS_VARIABLES)
            .map(|s| s.to_string())
            .collect();
        declared.sort();
        assert_eq!(asked, declared);
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
