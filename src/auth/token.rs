//! The raw tokens: `Authorization: Bearer …`, `x-session-token`, and the
//! header checks both tokens share.

use jsonwebtoken::{Header, decode_header};

use super::{AuthError, Reason, TokenKind};

/// Larger tokens are refused before any decoding (API Gateway caps headers
/// at 10 KiB anyway); a megabyte token costs nothing.
pub(crate) const MAX_TOKEN_BYTES: usize = 8 * 1024;

fn text(raw: &[u8], kind: TokenKind) -> Result<&str, AuthError> {
    if raw.len() > MAX_TOKEN_BYTES {
        return Err(AuthError::invalid(kind, Reason::TooLarge));
    }
    std::str::from_utf8(raw).map_err(|_| AuthError::invalid(kind, Reason::NotText))
}

/// `Bearer <token>`, the scheme matched case-insensitively (RFC 6750).
pub(crate) fn bearer(header: Option<&[u8]>) -> Result<&str, AuthError> {
    let missing = AuthError::Missing(TokenKind::Access);
    let value = header.ok_or(missing)?.trim_ascii();
    let (scheme, rest) = match value.iter().position(|b| *b == b' ') {
        Some(i) => value.split_at(i),
        None => (value, &b""[..]),
    };
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return Err(missing);
    }
    match rest.trim_ascii() {
        b"" => Err(missing),
        token => text(token, TokenKind::Access),
    }
}

/// The session token from `x-session-token`.
pub(crate) fn session(header: Option<&[u8]>) -> Result<&str, AuthError> {
    match header.map(<[u8]>::trim_ascii) {
        None | Some(b"") => Err(AuthError::Missing(TokenKind::Session)),
        Some(t) => text(t, TokenKind::Session),
    }
}

/// The `typ` values of a JWT, lower-case: `JWT` or `at+jwt` (RFC 9068), with
/// or without the `application/` prefix RFC 7515 §4.1.9 lets a sender write.
const JWT_TYPES: [&str; 4] = ["jwt", "application/jwt", "at+jwt", "application/at+jwt"];

/// The header both tokens must have: decodable, `typ` absent or a JWT type,
/// no `crit` (RFC 7515 §4.1.11: we understand no extension). Keys named in
/// the header (`jku`, `x5u`, `jwk`, `x5c`) are never read.
pub(crate) fn check_header(token: &str, kind: TokenKind) -> Result<Header, AuthError> {
    let invalid = |reason| AuthError::invalid(kind, reason);
    let header = decode_header(token).map_err(|_| invalid(Reason::MalformedHeader))?;
    if header.crit.is_some() {
        return Err(invalid(Reason::CriticalHeader));
    }
    if let Some(typ) = &header.typ
        && !JWT_TYPES.contains(&typ.to_ascii_lowercase().as_str())
    {
        return Err(invalid(Reason::UnexpectedTyp));
    }
    Ok(header)
}
