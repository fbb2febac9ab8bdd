//! Which claims say who the caller is. Identity providers differ (Okta puts
//! scopes in `scp`, Auth0 namespaces custom claims, Cognito has no `aud`),
//! so the claim names are settings; the defaults are RFC 9068's and ours.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::Reason;

/// Each organisation becomes one operand of the write's condition; DynamoDB
/// caps condition expressions at 4 KB, which this bound keeps us under.
pub(crate) const MAX_ORGANIZATIONS: usize = 300;

/// Where the scopes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ScopeClaims {
    /// `scope` and `scp` (RFC 8693 and the Okta / Entra ID form), together.
    Standard,
    /// This claim alone (Auth0 RBAC `permissions`, Entra app `roles`, …).
    Named(&'static str),
}

impl ScopeClaims {
    fn names(&self) -> &[&'static str] {
        match self {
            ScopeClaims::Standard => &["scope", "scp"],
            ScopeClaims::Named(name) => std::slice::from_ref(name),
        }
    }
}

/// The claim names of the access token, from configuration. Names are
/// `'static`: they are read once at start-up and live as long as the process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClaimNames {
    pub user_id: &'static str,
    pub organizations: &'static str,
    pub scopes: ScopeClaims,
}

impl Default for ClaimNames {
    fn default() -> Self {
        Self {
            user_id: "sub",
            organizations: "organizationIds",
            scopes: ScopeClaims::Standard,
        }
    }
}

/// What an access token says about its caller.
pub(crate) struct AccessClaims {
    pub exp: i64,
    pub user_id: i64,
    pub organization_ids: Vec<i64>,
    pub scopes: Vec<String>,
}

/// The access token's payload, every claim kept until the names pick some.
pub(crate) type RawAccessClaims = Map<String, Value>;

/// Reads the caller from verified claims. `client_ids` empty: any client.
pub(crate) fn access(
    mut raw: RawAccessClaims,
    names: &ClaimNames,
    client_ids: &[String],
) -> Result<AccessClaims, Reason> {
    // RFC 9068 / Cognito: an ID token presented as an access token.
    match raw.get("token_use") {
        None => {}
        Some(Value::String(s)) if s == "access" => {}
        Some(_) => return Err(Reason::NotAnAccessToken),
    }
    if !client_ids.is_empty() {
        let client = ["client_id", "azp", "cid"]
            .iter()
            .find_map(|c| raw.get(*c))
            .and_then(Value::as_str);
        if !client.is_some_and(|c| client_ids.iter().any(|id| id == c)) {
            return Err(Reason::WrongClient);
        }
    }
    let user_id = raw
        .get(names.user_id)
        .and_then(user_id)
        .ok_or(Reason::UserId(names.user_id))?;
    let organization_ids = organizations(raw.remove(names.organizations), names.organizations)?;
    let mut scopes = Vec::new();
    for name in names.scopes.names() {
        match raw.remove(*name) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => scopes.extend(s.split_ascii_whitespace().map(str::to_owned)),
            Some(Value::Array(items)) => {
                for item in items {
                    match item {
                        Value::String(s) => scopes.push(s),
                        _ => return Err(Reason::Scopes(name)),
                    }
                }
            }
            Some(_) => return Err(Reason::Scopes(name)),
        }
    }
    Ok(AccessClaims {
        exp: raw.get("exp").and_then(Value::as_i64).unwrap_or_default(),
        user_id,
        organization_ids,
        scopes,
    })
}

/// Absent means none; otherwise an array of integers, kept sorted and
/// distinct (the write's condition and `Caller::acts_for` rely on it).
fn organizations(value: Option<Value>, name: &'static str) -> Result<Vec<i64>, Reason> {
    let items = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(Reason::Organizations(name)),
    };
    let mut ids = items
        .iter()
        .map(Value::as_i64)
        .collect::<Option<Vec<i64>>>()
        .ok_or(Reason::Organizations(name))?;
    ids.sort_unstable();
    ids.dedup();
    if ids.len() > MAX_ORGANIZATIONS {
        return Err(Reason::TooManyOrganizations);
    }
    Ok(ids)
}

/// A user id: a decimal string of digits or a JSON integer.
fn user_id(v: &Value) -> Option<i64> {
    match v {
        Value::String(s) => parse_user_id(s),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

fn parse_user_id(s: &str) -> Option<i64> {
    if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[derive(Deserialize)]
pub(crate) struct RawSessionClaims {
    exp: Option<i64>,
    #[serde(rename = "userId", default)]
    user_id: Value,
    #[serde(rename = "sessionId")]
    session_id: Option<String>,
}

pub(crate) struct SessionClaims {
    pub user_id: i64,
    pub session_id: String,
    pub exp: i64,
}

impl RawSessionClaims {
    pub(crate) fn into_claims(self) -> Result<SessionClaims, Reason> {
        Ok(SessionClaims {
            user_id: user_id(&self.user_id).ok_or(Reason::UserId("userId"))?,
            session_id: self.session_id.ok_or(Reason::SessionId)?,
            exp: self.exp.unwrap_or_default(),
        })
    }
}
