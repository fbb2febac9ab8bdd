//! Mints a matching access token and session token from the local secrets,
//! for `make dev` and the README's curl commands. Never for production: the
//! deployed function trusts only tokens its real identity provider signs.
//!
//! Usage: dev-tokens [--user ID] [--orgs 1,2] [--scope "…"] [--ttl SECONDS]
//!                   [--rsa-key DER_FILE --kid KID]
//! Signs the session token with SESSION_TOKEN_SECRET. The access token is
//! RS256 with `--rsa-key` under `--kid` (as an issuer publishing a JWKS
//! signs; `make dev`), else HS256 with ACCESS_TOKEN_SECRET. Prints shell
//! assignments ACCESS_TOKEN=… and SESSION_TOKEN=….

use std::process::ExitCode;

use intervention_verify::testing::tokens;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

struct Args {
    user: i64,
    orgs: Vec<i64>,
    scope: String,
    ttl: i64,
    rsa_key: Option<String>,
    kid: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        user: 42,
        orgs: vec![1],
        scope: "interventions:verify".into(),
        ttl: 3600,
        rsa_key: None,
        kid: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let bad = |e: std::num::ParseIntError| format!("{flag}: {e}");
        match flag.as_str() {
            "--user" => args.user = value.parse().map_err(bad)?,
            "--orgs" => {
                args.orgs = value
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|s| s.trim().parse().map_err(bad))
                    .collect::<Result<_, _>>()?
            }
            "--scope" => args.scope = value,
            "--ttl" => args.ttl = value.parse().map_err(bad)?,
            "--rsa-key" => args.rsa_key = Some(value),
            "--kid" => args.kid = Some(value),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(args)
}

fn secret(name: &str) -> Result<String, String> {
    std::env::var(name)
        .ok()
        .filter(|s| !s.is_empty())
        .ok_or(format!("{name} is not set"))
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    // The claims the test kit signs, so local tokens are what tests use.
    let mut claims = tokens::access_claims_for(args.user, &args.orgs, &args.scope, args.ttl);
    if let Ok(iss) = std::env::var("ACCESS_TOKEN_ISSUER") {
        claims["iss"] = json!(iss);
    }
    if let Ok(aud) = std::env::var("ACCESS_TOKEN_AUDIENCE") {
        claims["aud"] = json!(aud);
    }
    let session =
        tokens::session_claims_for(args.user, &format!("dev-session-{}", args.user), args.ttl);
    let access = match (&args.rsa_key, &args.kid) {
        (Some(path), Some(kid)) => {
            let der = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
            let mut rs256 = Header::new(Algorithm::RS256);
            rs256.kid = Some(kid.clone());
            tokens::sign_with(&rs256, &claims, &EncodingKey::from_rsa_der(&der))
        }
        (None, None) => tokens::hs256(&claims, secret("ACCESS_TOKEN_SECRET")?.as_bytes()),
        _ => return Err("--rsa-key and --kid go together".into()),
    };
    println!("ACCESS_TOKEN={access}");
    println!(
        "SESSION_TOKEN={}",
        tokens::hs256(&session, secret("SESSION_TOKEN_SECRET")?.as_bytes())
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dev-tokens: {e}");
            ExitCode::from(2)
        }
    }
}
