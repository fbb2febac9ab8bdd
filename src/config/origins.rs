//! `ALLOWED_ORIGINS`: which browser origins get CORS headers, stored as a
//! browser serialises an `Origin`.

use super::ConfigError;

/// Which origins get `Access-Control-Allow-Origin` on responses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum AllowedOrigins {
    #[default]
    None,
    Any,
    List(Vec<String>),
}

impl AllowedOrigins {
    /// The value of `Access-Control-Allow-Origin` for a request from `origin`.
    pub(crate) fn allow<'a>(&self, origin: Option<&'a str>) -> Option<&'a str> {
        match self {
            AllowedOrigins::None => None,
            AllowedOrigins::Any => Some("*"),
            // Scheme and host compare without case, as origins do.
            AllowedOrigins::List(list) => {
                origin.filter(|o| list.iter().any(|l| l.eq_ignore_ascii_case(o)))
            }
        }
    }
}

/// `*`, or a comma-separated list of origins such as `https://app.example.com`,
/// each stored as a browser serialises it in `Origin`: lowercase scheme and
/// host, no default port, no path (a trailing slash is an error: a browser
/// never sends one, so such an entry could never match).
pub(super) fn parse_origins(v: &str) -> Result<AllowedOrigins, ConfigError> {
    let items: Vec<&str> = v
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if items == ["*"] {
        return Ok(AllowedOrigins::Any);
    }
    let origins = items
        .into_iter()
        .map(|item| {
            serialised_origin(item).ok_or_else(|| {
                ConfigError::malformed(super::vars::ALLOWED_ORIGINS, format!(
                    "{item:?} is not an origin like https://app.example.com (scheme, host, optional port; no path, no trailing slash), or a lone *"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(AllowedOrigins::List(origins))
}

fn serialised_origin(item: &str) -> Option<String> {
    let (scheme, rest) = item.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => "443",
        "http" => "80",
        _ => return None,
    };
    let bad = |b: u8| !b.is_ascii_graphic() || b"/?#@*\\,".contains(&b);
    if rest.is_empty() || rest.bytes().any(bad) {
        return None;
    }
    let (host, port) = match rest.rsplit_once(':') {
        // An IPv6 literal's colons are inside brackets.
        Some((h, p)) if !p.contains(']') => (h, Some(p)),
        _ => (rest, None),
    };
    if host.is_empty() {
        return None;
    }
    let host = host.to_ascii_lowercase();
    match port {
        None => Some(format!("{scheme}://{host}")),
        Some(p) if p.parse::<u16>().is_ok_and(|n| n > 0) => {
            let p = p.trim_start_matches('0');
            if p == default_port {
                Some(format!("{scheme}://{host}"))
            } else {
                Some(format!("{scheme}://{host}:{p}"))
            }
        }
        Some(_) => None,
    }
}
