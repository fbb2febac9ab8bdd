//! Why a token was refused: which token, the reason as a type (tests compare
//! it), its stable code for the log, and the text beside it. Never the token.

/// Which of the two tokens a failure concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    Access,
    Session,
}

impl TokenKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            TokenKind::Access => "access token",
            TokenKind::Session => "session token",
        }
    }
}

/// Why a token was refused: a stable code for the log, never the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    TooLarge,
    NotText,
    MalformedHeader,
    UnexpectedTyp,
    /// RFC 7515 §4.1.11: no extension is understood, so `crit` is refused.
    CriticalHeader,
    AlgorithmMismatch,
    AlgorithmNotAllowed,
    UnknownKid,
    NoKid,
    BadSignature,
    Expired,
    NotYetValid,
    WrongIssuer,
    WrongAudience,
    WrongClient,
    NotAnAccessToken,
    MissingClaim(&'static str),
    /// The named claim does not hold a decimal user id.
    UserId(&'static str),
    Organizations(&'static str),
    TooManyOrganizations,
    Scopes(&'static str),
    SessionId,
    MalformedClaims,
    Malformed,
}

impl Reason {
    /// The reason's stable code, the log's `reason_code` (snake case; the
    /// text beside it may name a configured claim).
    pub(crate) fn code(self) -> &'static str {
        match self {
            Reason::TooLarge => "too_large",
            Reason::NotText => "not_text",
            Reason::MalformedHeader => "malformed_header",
            Reason::UnexpectedTyp => "unexpected_typ",
            Reason::CriticalHeader => "critical_header",
            Reason::AlgorithmMismatch => "algorithm_mismatch",
            Reason::AlgorithmNotAllowed => "algorithm_not_allowed",
            Reason::UnknownKid => "unknown_kid",
            Reason::NoKid => "no_kid",
            Reason::BadSignature => "bad_signature",
            Reason::Expired => "expired",
            Reason::NotYetValid => "not_yet_valid",
            Reason::WrongIssuer => "wrong_issuer",
            Reason::WrongAudience => "wrong_audience",
            Reason::WrongClient => "wrong_client",
            Reason::NotAnAccessToken => "not_an_access_token",
            Reason::MissingClaim(_) => "missing_claim",
            Reason::UserId(_) => "user_id_claim",
            Reason::Organizations(_) => "organizations_claim",
            Reason::TooManyOrganizations => "too_many_organizations",
            Reason::Scopes(_) => "scope_claim",
            Reason::SessionId => "session_id_claim",
            Reason::MalformedClaims => "malformed_claims",
            Reason::Malformed => "malformed",
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match self {
            Reason::TooLarge => "too large",
            Reason::NotText => "not UTF-8",
            Reason::MalformedHeader => "malformed header",
            Reason::UnexpectedTyp => "unexpected typ",
            Reason::CriticalHeader => "crit header not understood",
            Reason::AlgorithmMismatch => "algorithm does not match key",
            Reason::AlgorithmNotAllowed => "algorithm not allowed",
            Reason::UnknownKid => "unknown kid",
            Reason::NoKid => "no kid",
            Reason::BadSignature => "bad signature",
            Reason::Expired => "expired",
            Reason::NotYetValid => "not yet valid",
            Reason::WrongIssuer => "wrong issuer",
            Reason::WrongAudience => "wrong audience",
            Reason::WrongClient => "client not allowed",
            Reason::NotAnAccessToken => "token_use is not access",
            Reason::MissingClaim(c) => return write!(f, "{c} missing"),
            Reason::UserId(c) => return write!(f, "claim {c:?} is not a decimal user id"),
            Reason::Organizations(c) => return write!(f, "claim {c:?} is not a list of ids"),
            Reason::TooManyOrganizations => "too many organisations",
            Reason::Scopes(c) => return write!(f, "claim {c:?} is not a scope list"),
            Reason::SessionId => "sessionId missing",
            Reason::MalformedClaims => "claims are malformed",
            Reason::Malformed => "malformed",
        };
        f.write_str(text)
    }
}

/// Why authentication failed. The reason goes to the log, never the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AuthError {
    #[error("{} missing", .0.name())]
    Missing(TokenKind),
    #[error("{} invalid: {reason}", .kind.name())]
    Invalid { kind: TokenKind, reason: Reason },
    #[error("session token belongs to another user")]
    UserMismatch,
    /// The keys this token needs were never obtained (issuer or Secrets
    /// Manager unreachable): the token may be good, so not a 401.
    #[error("keys for the {} are unavailable", .0.name())]
    KeysUnavailable(TokenKind),
}

impl AuthError {
    pub(super) fn invalid(kind: TokenKind, reason: Reason) -> Self {
        AuthError::Invalid { kind, reason }
    }

    /// A stable code for the log (`reason_code`): the reason's own for an
    /// invalid token.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            AuthError::Missing(_) => "missing",
            AuthError::Invalid { reason, .. } => reason.code(),
            AuthError::UserMismatch => "user_mismatch",
            AuthError::KeysUnavailable(_) => "keys_unavailable",
        }
    }
}

/// Maps the JWT library's failures to our reasons.
pub(super) fn jwt_reason(e: &jsonwebtoken::errors::Error) -> Reason {
    use jsonwebtoken::errors::ErrorKind as K;
    match e.kind() {
        K::ExpiredSignature => Reason::Expired,
        K::ImmatureSignature => Reason::NotYetValid,
        K::InvalidSignature => Reason::BadSignature,
        K::InvalidIssuer => Reason::WrongIssuer,
        K::InvalidAudience => Reason::WrongAudience,
        K::MissingRequiredClaim(c) => match c.as_str() {
            "exp" => Reason::MissingClaim("exp"),
            "iss" => Reason::MissingClaim("iss"),
            "aud" => Reason::MissingClaim("aud"),
            _ => Reason::MissingClaim("a required claim"),
        },
        K::InvalidAlgorithm | K::InvalidAlgorithmName => Reason::AlgorithmNotAllowed,
        K::Json(_) => Reason::MalformedClaims,
        _ => Reason::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_its_own_snake_case_code() {
        let all = [
            Reason::TooLarge,
            Reason::NotText,
            Reason::MalformedHeader,
            Reason::UnexpectedTyp,
            Reason::CriticalHeader,
            Reason::AlgorithmMismatch,
            Reason::AlgorithmNotAllowed,
            Reason::UnknownKid,
            Reason::NoKid,
            Reason::BadSignature,
            Reason::Expired,
            Reason::NotYetValid,
            Reason::WrongIssuer,
            Reason::WrongAudience,
            Reason::WrongClient,
            Reason::NotAnAccessToken,
            Reason::MissingClaim("exp"),
            Reason::UserId("sub"),
            Reason::Organizations("orgs"),
            Reason::TooManyOrganizations,
            Reason::Scopes("scp"),
            Reason::SessionId,
            Reason::MalformedClaims,
            Reason::Malformed,
        ];
        let mut codes: Vec<&str> = all.iter().map(|r| r.code()).collect();
        for code in &codes {
            assert!(
                !code.is_empty() && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{code}"
            );
        }
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len(), "two reasons share a code");
        // A claim's name is in the text, never in the code.
        assert_eq!(
            Reason::UserId("custom:uid").code(),
            Reason::UserId("sub").code()
        );
        let e = AuthError::invalid(TokenKind::Session, Reason::BadSignature);
        assert_eq!(e.code(), "bad_signature");
        assert_eq!(e.to_string(), "session token invalid: bad signature");
        let other = [
            AuthError::Missing(TokenKind::Access),
            AuthError::UserMismatch,
            AuthError::KeysUnavailable(TokenKind::Access),
        ];
        for e in other {
            assert!(
                !codes.contains(&e.code()),
                "{} is also a reason's code",
                e.code()
            );
        }
    }
}
