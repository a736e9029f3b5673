//! The one place where SDK errors become flowguard's [`AwsError`]: the code stays data.
//!
//! A member account's credentials come from `AssumeRole` ([`crate::organization`]). When STS
//! refuses, the SDK fails the call that needed the credentials before sending it, as a
//! dispatch failure with the STS error inside; [`aws_error`] reports that STS error (operation
//! `AssumeRole`, its code and status), which is what went wrong.

use aws_sdk_sts::operation::assume_role::AssumeRoleError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use flowguard_core::{AwsError, Fault};

/// Converts any SDK error of `operation`.
pub fn aws_error<E, R>(operation: &'static str, err: SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + HasStatus + 'static,
{
    if let SdkError::DispatchFailure(_) = &err
        && let Some(refused) = assume_role_refusal(&err)
    {
        return refused;
    }
    convert(operation, &err)
}

/// The `AssumeRole` error among the sources of `err`, converted, if there is one.
fn assume_role_refusal(err: &(dyn std::error::Error + 'static)) -> Option<AwsError> {
    let mut source = err.source();
    while let Some(e) = source {
        if let Some(sts) = e.downcast_ref::<SdkError<AssumeRoleError, HttpResponse>>() {
            return Some(convert("AssumeRole", sts));
        }
        source = e.source();
    }
    None
}

fn convert<E, R>(operation: &'static str, err: &SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + HasStatus + 'static,
{
    let (fault, status) = match err {
        SdkError::TimeoutError(_) => (Fault::Timeout, None),
        SdkError::DispatchFailure(failure) if failure.is_timeout() => (Fault::Timeout, None),
        SdkError::DispatchFailure(failure) if failure.is_io() || failure.is_other() => {
            (Fault::Connection, None)
        }
        SdkError::DispatchFailure(_) => (Fault::Connection, None),
        SdkError::ServiceError(service) => (Fault::Service, Some(service.raw().status_code())),
        SdkError::ResponseError(response) => (Fault::Response, Some(response.raw().status_code())),
        _ => (Fault::Other, None),
    };
    let (code, message) = match err.code() {
        Some(code) => (
            Some(code.to_owned()),
            err.message().unwrap_or_default().to_owned(),
        ),
        None => (None, causes(err)),
    };
    let mut error = match code {
        Some(code) => AwsError::service(operation, &code, message),
        None => AwsError {
            operation,
            code: None,
            message,
            status: None,
            fault,
        },
    };
    error.fault = fault;
    error.status = status;
    error
}

/// What went wrong, without a code: each cause's own text, outermost first, joined with
/// ": " ("dispatch failure: io error: Connection refused (os error 111)"). Not the SDK's
/// `DisplayErrorContext`, which appends the whole error's `Debug` form (a thousand
/// characters of request and connector state) after the same text.
fn causes(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        // A wrapper often repeats its source's text: keep each text once.
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// The HTTP status of a raw response (implemented for the SDK's response type).
pub trait HasStatus {
    fn status_code(&self) -> u16;
}

impl HasStatus for aws_smithy_runtime_api::http::Response {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}
