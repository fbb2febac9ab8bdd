//! A certified OpenID provider on loopback: `tests/oidc/issuer.mjs`
//! (oidc-provider from npm, installed by `make node-deps`), issuing JWT
//! access tokens by client credentials, one resource per algorithm.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub(crate) const CLIENT_ID: &str = "interventions-web";
const CLIENT_SECRET: &str = "oidc-test-client-secret-0123456789";
/// The custom claims the provider adds (its `extraTokenClaims`).
pub(crate) const USER_ID_CLAIM: &str = "https://interventions.test/userId";
pub(crate) const ORGANIZATIONS_CLAIM: &str = "https://interventions.test/organizationIds";
pub(crate) const USER: i64 = 4242;
pub(crate) const ORGANIZATION: i64 = 77;

pub(crate) struct OpenIdProvider {
    child: Child,
    pub issuer: String,
    pub jwks_uri: String,
}

impl Drop for OpenIdProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `https://<alg>.interventions.test`: the resource whose tokens `alg` signs.
pub(crate) fn resource(alg: &str) -> String {
    format!("https://{}.interventions.test", alg.to_ascii_lowercase())
}

impl OpenIdProvider {
    pub(crate) fn start() -> Self {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc/issuer.mjs");
        let mut child = Command::new("node")
            .arg(script)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("node {script}: {e}"));
        let stdout = child.stdout.take().expect("the provider's stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the provider's first line");
        let info: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("{e}: {line:?} (run `make node-deps`)"));
        let field = |k: &str| info[k].as_str().expect("issuer and jwks_uri").to_owned();
        Self {
            issuer: field("issuer"),
            jwks_uri: field("jwks_uri"),
            child,
        }
    }

    /// An access token for `resource`, by client credentials.
    pub(crate) async fn token(&self, resource: &str, scope: &str) -> String {
        let form = format!(
            "grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}&resource={}&scope={}",
            encode(resource),
            encode(scope)
        );
        let answer = self.post("/token", &form).await;
        let json: Value = serde_json::from_str(&answer)
            .unwrap_or_else(|e| panic!("token endpoint: {e}: {answer}"));
        json["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access_token: {json}"))
            .to_owned()
    }

    /// New signing keys; the previous ones stay published.
    pub(crate) async fn rotate(&self) {
        let answer = self.post("/rotate", "").await;
        assert!(answer.contains("generation"), "rotate: {answer}");
    }

    async fn post(&self, path: &str, form: &str) -> String {
        let host = self.issuer.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(host)
            .await
            .expect("connect to the provider");
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
            form.len()
        );
        stream.write_all(request.as_bytes()).await.expect("send");
        let mut raw = String::new();
        stream.read_to_string(&mut raw).await.expect("answer");
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
        if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            return dechunk(body);
        }
        body.to_owned()
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}
