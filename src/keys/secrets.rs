//! Secret versions from Secrets Manager: `AWSCURRENT` and `AWSPREVIOUS`,
//! and which failures are the operator's to fix.

use super::FetchError;

/// One secret's usable versions, `AWSCURRENT` first, then `AWSPREVIOUS`
/// when it exists, each as `parse` makes it: a current version it refuses is
/// a configuration error, a previous one it refuses is skipped.
pub(crate) async fn read_secret_versions<T, E: std::fmt::Display>(
    client: &aws_sdk_secretsmanager::Client,
    id: &str,
    parse: impl Fn(Vec<u8>) -> Result<T, E>,
) -> Result<Vec<T>, FetchError> {
    let read = |stage: &'static str| async move {
        client
            .get_secret_value()
            .secret_id(id)
            .version_stage(stage)
            .send()
            .await
    };
    let (current, previous) = tokio::join!(read("AWSCURRENT"), read("AWSPREVIOUS"));
    let current = current.map_err(classify_secret_error)?;
    let current =
        secret_bytes(current).ok_or_else(|| FetchError::config("the secret has no value", None))?;
    let current = parse(current)
        .map_err(|e| FetchError::config(format!("its AWSCURRENT value is unusable: {e}"), None))?;
    let mut versions = vec![current];
    match previous {
        Ok(out) => match secret_bytes(out).map(&parse) {
            Some(Ok(v)) => versions.push(v),
            _ => tracing::warn!(
                "the AWSPREVIOUS secret version is unusable (no value, or too short); ignored"
            ),
        },
        Err(e) if is_not_found(&e) => {}
        Err(e) => return Err(classify_secret_error(e)),
    }
    Ok(versions)
}

type SecretResult = aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueOutput;
type SecretError = aws_sdk_secretsmanager::error::SdkError<
    aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError,
    aws_sdk_secretsmanager::config::http::HttpResponse,
>;

fn secret_bytes(out: SecretResult) -> Option<Vec<u8>> {
    match (out.secret_string, out.secret_binary) {
        (Some(s), _) => Some(s.into_bytes()),
        (None, Some(b)) => Some(b.into_inner()),
        (None, None) => None,
    }
}

fn is_not_found(e: &SecretError) -> bool {
    e.as_service_error()
        .is_some_and(|s| s.is_resource_not_found_exception())
}

/// A wrong id, a denied read or a key the function may not decrypt with is
/// the operator's to fix; anything else (network, throttling, 5xx) passes.
fn classify_secret_error(e: SecretError) -> FetchError {
    use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
    const CONFIG: [&str; 6] = [
        "ResourceNotFoundException",
        "AccessDeniedException",
        "AccessDenied",
        "DecryptionFailure",
        "InvalidRequestException",
        "InvalidParameterException",
    ];
    let code = e
        .as_service_error()
        .and_then(|s| s.code())
        .map(str::to_owned);
    match code.as_deref() {
        Some(c) if CONFIG.contains(&c) => FetchError::config(format!("Secrets Manager: {c}"), None),
        Some(c) => FetchError::unavailable(format!("Secrets Manager: {c}"), None),
        None => FetchError::unavailable("Secrets Manager unreachable", Some(Box::new(e))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denied_or_missing_secrets_are_configuration_errors_the_rest_is_unreachable() {
        use aws_sdk_secretsmanager::error::ErrorMetadata;
        use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
        use aws_smithy_runtime_api::http::{Response, StatusCode};
        use aws_smithy_types::body::SdkBody;
        let service = |code: &str, status: u16| -> SecretError {
            let raw = Response::new(
                StatusCode::try_from(status).unwrap_or_else(|e| panic!("{e}")),
                SdkBody::empty(),
            );
            let err = GetSecretValueError::generic(ErrorMetadata::builder().code(code).build());
            aws_sdk_secretsmanager::error::SdkError::service_error(err, raw)
        };
        for code in [
            "AccessDeniedException",
            "ResourceNotFoundException",
            "DecryptionFailure",
            "InvalidRequestException",
        ] {
            assert!(
                matches!(classify_secret_error(service(code, 400)), FetchError::Config { what, .. } if what.contains(code)),
                "{code}"
            );
        }
        for code in ["ThrottlingException", "InternalServiceError"] {
            assert!(
                matches!(
                    classify_secret_error(service(code, 500)),
                    FetchError::Unavailable { .. }
                ),
                "{code}"
            );
        }
    }
}
