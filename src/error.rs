//! Every way a request or the start-up can fail, typed. `edge::response`
//! maps each request error to its status in one table; the only other status
//! the function picks is the preflight's 204 (`edge::cors`).

use crate::auth::AuthError;
use crate::domain::Refusal;
use crate::store::StoreError;

/// What went wrong below a call (an SDK error, a transport failure), kept
/// whole with its chain of causes.
pub(crate) type Cause = Box<dyn std::error::Error + Send + Sync>;

/// An error and its causes, as one line for the log (`a: b: c`).
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut line = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        next = cause.source();
    }
    line
}

/// Why the function cannot start, naming the setting: the one start-up
/// error, whether the environment is wrong or what it points at is.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum ConfigError {
    #[error("{0} is required but not set")]
    Missing(&'static str),
    /// None of a group of alternatives is set (`A or B`, `one of A, B, C`).
    #[error("{} is required but not set", one_of(.0))]
    MissingOneOf(&'static [&'static str]),
    #[error("{name} is malformed: {problem}")]
    Malformed { name: &'static str, problem: String },
    #[error("{0} and {1} are both set; set one")]
    Conflict(&'static str, &'static str),
    /// The setting is well formed but what it names cannot serve: a secret
    /// that does not exist or is too short, a pinned JWKS without a key.
    #[error("{name}: {problem}")]
    Unusable { name: &'static str, problem: String },
}

impl ConfigError {
    pub(crate) fn malformed(name: &'static str, problem: impl Into<String>) -> Self {
        ConfigError::Malformed {
            name,
            problem: problem.into(),
        }
    }

    /// The variable it names (the first of a conflicting pair).
    #[cfg(test)]
    pub(crate) fn name(&self) -> &'static str {
        match self {
            ConfigError::Missing(name)
            | ConfigError::MissingOneOf([name, ..])
            | ConfigError::Conflict(name, _)
            | ConfigError::Malformed { name, .. }
            | ConfigError::Unusable { name, .. } => name,
            ConfigError::MissingOneOf([]) => "",
        }
    }
}

/// `A`, `A or B`, `one of A, B, C`.
fn one_of(names: &[&str]) -> String {
    match names {
        [a, b] => format!("{a} or {b}"),
        [only] => (*only).to_owned(),
        all => format!("one of {}", all.join(", ")),
    }
}

/// One offending input, named by a JSON pointer (docs/CONTRACT.md, "Request rules")
/// (`#/decisionComment`, `#/interventionId`, `#` for the whole body).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct FieldError {
    pub pointer: &'static str,
    pub detail: String,
}

impl FieldError {
    pub(crate) fn new(pointer: &'static str, detail: impl Into<String>) -> Self {
        Self {
            pointer,
            detail: detail.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A token refused (401), or keys it needs never obtained (503).
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("missing scope")]
    InsufficientScope,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("invalid request: {} field(s)", .0.len())]
    Invalid(Vec<FieldError>),
    #[error("refused: {}", .0.code())]
    Refused(Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The invocation's deadline came before a dependency answered: the
    /// client gets the contract's 503 in time, never the gateway's 502/504.
    #[error("deadline reached before a dependency answered")]
    DeadlineReached,
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        ApiError::Refused(r)
    }
}
