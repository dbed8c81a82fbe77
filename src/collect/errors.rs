//! SDK errors as snapshot `errors` entries: the AWS error code, the message, the call and resource.
use crate::snapshot::CollectionError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Error codes that mean "this region is not enabled for the account" when every call of a region
/// fails with one of them (the endpoint rejects credentials it does not know).
pub const REGION_NOT_ENABLED_CODES: &[&str] = &[
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "AuthFailure",
    "OptInRequired",
];

/// The AWS error code of a failed call. A response without a parsable code (moto's 403 page, a
/// proxy) is classified by its HTTP status: 403 is access denied. Failures before a response
/// (network, timeout, credentials) get the SDK's failure kind.
pub fn code<E>(err: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata,
{
    if let Some(c) = err.code().filter(|c| !c.is_empty()) {
        return c.to_string();
    }
    if let Some(status) = err.raw_response().map(|r| r.status().as_u16()) {
        return match status {
            403 => "AccessDenied".to_string(),
            429 => "Throttling".to_string(),
            s => format!("HTTP{s}"),
        };
    }
    match err {
        SdkError::ConstructionFailure(_) => "ConstructionFailure",
        SdkError::TimeoutError(_) => "TimeoutError",
        SdkError::DispatchFailure(_) => "DispatchFailure",
        SdkError::ResponseError(_) => "ResponseError",
        _ => "Unknown",
    }
    .to_string()
}

/// One line, no trailing period juggling: the service's message if it sent one, else the SDK's
/// whole error chain (which names the cause, e.g. "no credentials in the chain").
pub fn message<E>(err: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err.message().filter(|m| !m.is_empty()) {
        Some(m) => m.to_string(),
        None => {
            let status = err
                .raw_response()
                .map(|r| format!(" (HTTP {})", r.status().as_u16()))
                .unwrap_or_default();
            format!("{}{status}", chain(err)).replace('\n', " ")
        }
    }
}

/// The error and its causes, `a: b: c`, without repeating a message a wrapper already contains.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.last().is_some_and(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// The snapshot entry for a failed call.
pub fn entry<E>(
    service: &str,
    operation: &str,
    resource: Option<&str>,
    err: &SdkError<E, HttpResponse>,
) -> CollectionError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    CollectionError {
        service: service.to_string(),
        operation: operation.to_string(),
        resource: resource.map(str::to_string),
        code: code(err),
        message: message(err),
    }
}
