//! Every environment variable the function reads, named once: the settings,
//! their checks and their error messages all use these.

pub(crate) const INTERVENTIONS_TABLE: &str = "INTERVENTIONS_TABLE";
pub(crate) const NOTIFICATIONS_TABLE: &str = "NOTIFICATIONS_TABLE";
pub(crate) const SESSION_TOKEN_SECRET: &str = "SESSION_TOKEN_SECRET";
pub(crate) const SESSION_TOKEN_SECRET_ID: &str = "SESSION_TOKEN_SECRET_ID";
pub(crate) const ACCESS_TOKEN_JWKS: &str = "ACCESS_TOKEN_JWKS";
pub(crate) const ACCESS_TOKEN_JWKS_URL: &str = "ACCESS_TOKEN_JWKS_URL";
pub(crate) const ACCESS_TOKEN_SECRET: &str = "ACCESS_TOKEN_SECRET";
pub(crate) const ACCESS_TOKEN_SECRET_ID: &str = "ACCESS_TOKEN_SECRET_ID";
pub(crate) const ACCESS_TOKEN_ISSUER: &str = "ACCESS_TOKEN_ISSUER";
pub(crate) const ACCESS_TOKEN_AUDIENCE: &str = "ACCESS_TOKEN_AUDIENCE";
pub(crate) const ACCESS_TOKEN_CLIENT_IDS: &str = "ACCESS_TOKEN_CLIENT_IDS";
pub(crate) const ACCESS_TOKEN_USER_ID_CLAIM: &str = "ACCESS_TOKEN_USER_ID_CLAIM";
pub(crate) const ACCESS_TOKEN_ORGANIZATIONS_CLAIM: &str = "ACCESS_TOKEN_ORGANIZATIONS_CLAIM";
pub(crate) const ACCESS_TOKEN_SCOPE_CLAIM: &str = "ACCESS_TOKEN_SCOPE_CLAIM";
pub(crate) const ALLOWED_ORIGINS: &str = "ALLOWED_ORIGINS";
pub(crate) const DYNAMODB_TIMEOUT_MS: &str = "DYNAMODB_TIMEOUT_MS";
pub(crate) const AWS_REGION: &str = "AWS_REGION";
pub(crate) const AWS_DEFAULT_REGION: &str = "AWS_DEFAULT_REGION";
pub(crate) const AWS_ENDPOINT_URL_DYNAMODB: &str = "AWS_ENDPOINT_URL_DYNAMODB";
pub(crate) const AWS_ENDPOINT_URL_SECRETS_MANAGER: &str = "AWS_ENDPOINT_URL_SECRETS_MANAGER";
pub(crate) const AWS_ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";
pub(crate) const SSL_CERT_FILE: &str = "SSL_CERT_FILE";
