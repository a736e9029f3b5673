//! The one place where SDK errors become flowguard's [`AwsError`]: the code stays data.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use flowguard_core::{AwsError, Fault};

/// Converts any SDK error of `operation`.
pub fn aws_error<E, R>(operation: &'static str, err: SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + HasStatus,
{
    let (fault, status) = match &err {
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
        None => (None, DisplayErrorContext(&err).to_string()),
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

/// The HTTP status of a raw response (implemented for the SDK's response type).
pub trait HasStatus {
    fn status_code(&self) -> u16;
}

impl HasStatus for aws_smithy_runtime_api::http::Response {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}
