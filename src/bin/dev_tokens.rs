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
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
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

fn secret(name: &str) -> Result<EncodingKey, String> {
    std::env::var(name)
        .ok()
        .filter(|s| !s.is_empty())
        .map(|s| EncodingKey::from_secret(s.as_bytes()))
        .ok_or(format!("{name} is not set"))
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs() as i64;
    let header = Header::new(Algorithm::HS256);
    let access = json!({
        "sub": args.user.to_string(),
        "organizationIds": args.orgs,
        "scope": args.scope,
        "iat": now,
        "exp": now + args.ttl,
    });
    let mut claims = access;
    if let Ok(iss) = std::env::var("ACCESS_TOKEN_ISSUER") {
        claims["iss"] = json!(iss);
    }
    if let Ok(aud) = std::env::var("ACCESS_TOKEN_AUDIENCE") {
        claims["aud"] = json!(aud);
    }
    let session = json!({
        "userId": args.user.to_string(),
        "sessionId": format!("dev-session-{}", args.user),
        "iat": now,
        "exp": now + args.ttl,
    });
    let sign = |claims, key: &EncodingKey| encode(&header, claims, key).map_err(|e| e.to_string());
    let access = match (&args.rsa_key, &args.kid) {
        (Some(path), Some(kid)) => {
            // PKCS#1 DER: PEM parsing would add a feature to the function's
            // own dependency for the sake of a dev tool.
            let der = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
            let key = EncodingKey::from_rsa_der(&der);
            let mut rs256 = Header::new(Algorithm::RS256);
            rs256.kid = Some(kid.clone());
            encode(&rs256, &claims, &key).map_err(|e| e.to_string())?
        }
        (None, None) => sign(&claims, &secret("ACCESS_TOKEN_SECRET")?)?,
        _ => return Err("--rsa-key and --kid go together".into()),
    };
    println!("ACCESS_TOKEN={access}");
    println!(
        "SESSION_TOKEN={}",
        sign(&session, &secret("SESSION_TOKEN_SECRET")?)?
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
