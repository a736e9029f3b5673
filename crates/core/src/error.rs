//! AWS errors as data, and the one pure function that decides what each one means.

use serde::Serialize;

/// How a call failed, below the level of AWS error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// AWS answered with an error (see `code` and `status`).
    Service,
    /// No answer in time.
    Timeout,
    /// The connection could not be made or broke (refused, reset, DNS, TLS).
    Connection,
    /// A response arrived but could not be read (cut short, garbled): the call may have
    /// worked or not, and asking again is safe (every write is idempotent).
    Response,
    /// Anything else: a request that could not be built.
    Other,
}

/// An error from an AWS call, with the error code kept as data so that throttling, access
/// denied and "already exists" stay distinguishable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation} failed: {}{message}", code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default())]
pub struct AwsError {
    /// The API operation, e.g. `CreateFlowLogs`.
    pub operation: &'static str,
    /// The AWS error code without EC2's `Client.`/`Server.` prefix, e.g. `RequestLimitExceeded`.
    pub code: Option<String>,
    pub message: String,
    /// The HTTP status, when there was a response.
    pub status: Option<u16>,
    pub fault: Fault,
}

impl Fault {
    /// The fault's name, as the report gives it when AWS sent no error code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Service => "service",
            Self::Timeout => "timeout",
            Self::Connection => "connection",
            Self::Response => "response",
            Self::Other => "other",
        }
    }
}

impl AwsError {
    /// A service error with a code.
    pub fn service(operation: &'static str, code: &str, message: impl Into<String>) -> Self {
        let code = code
            .strip_prefix("Client.")
            .or_else(|| code.strip_prefix("Server."))
            .unwrap_or(code);
        Self {
            operation,
            code: Some(code.to_owned()),
            message: message.into(),
            status: None,
            fault: Fault::Service,
        }
    }

    /// The code a report shows for it: AWS's code; without one, the HTTP status, or else the
    /// kind of fault (`timeout`, `connection`, ...) when there was no answer to read a code from.
    pub fn report_code(&self) -> String {
        match (&self.code, self.status) {
            (Some(code), _) => code.clone(),
            (None, Some(status)) => status.to_string(),
            (None, None) => self.fault.as_str().to_owned(),
        }
    }

    /// Whether the code is `code` (prefix-insensitive).
    pub fn has_code(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

/// What to do about an error: the counterpart of kube-rs' `error_policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Transient: throttling, 5xx, timeouts, broken connections. Retry the whole trigger later.
    RetryLater,
    /// Permanent: access denied, invalid parameters, limits. A person must look.
    GiveUp,
    /// The thing to create exists already: re-read and check.
    AlreadyDone,
    /// The resource is gone (a deleted VPC or flow log): nothing left to do.
    Gone,
}

impl Disposition {
    /// Whether trying the same trigger again later may succeed: the one answer to "retry?"
    /// from which a failed action's `retryable`, the Lambda's error type and the CLI's exit
    /// code all derive.
    pub fn is_retryable(self) -> bool {
        self == Self::RetryLater
    }
}

const THROTTLING: [&str; 10] = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "EC2ThrottledException",
    "SlowDown",
    "PriorRequestNotComplete",
];
const TRANSIENT: [&str; 9] = [
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "Unavailable",
    "RequestTimeout",
    "RequestTimeoutException",
    "OperationAbortedException",
];
const ALREADY: [&str; 3] = [
    "FlowLogAlreadyExists",
    "ResourceAlreadyExistsException",
    "EntityAlreadyExists",
];
const GONE: [&str; 5] = [
    "InvalidVpcID.NotFound",
    "InvalidFlowLogId.NotFound",
    "ResourceNotFoundException",
    "NoSuchEntity",
    "InvalidVpcId.NotFound",
];

/// Classifies an error. Pure, so the Lambda, the CLI and the tests agree.
pub fn classify(error: &AwsError) -> Disposition {
    match error.fault {
        Fault::Timeout | Fault::Connection | Fault::Response => return Disposition::RetryLater,
        Fault::Other => return Disposition::GiveUp,
        Fault::Service => {}
    }
    let code = error.code.as_deref().unwrap_or_default();
    if THROTTLING.contains(&code) || TRANSIENT.contains(&code) {
        Disposition::RetryLater
    } else if ALREADY.contains(&code) {
        Disposition::AlreadyDone
    } else if GONE.contains(&code) {
        Disposition::Gone
    } else if error.status.is_some_and(|s| s >= 500)
        || (code.is_empty() && error.status == Some(429))
        || is_numeric_5xx(code)
    {
        Disposition::RetryLater
    } else {
        Disposition::GiveUp
    }
}

/// EC2's `Unsuccessful` entries sometimes carry an HTTP status as their code (`500`, `503`).
fn is_numeric_5xx(code: &str) -> bool {
    code.len() == 3 && code.starts_with('5') && code.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_status(code: &str, status: u16) -> AwsError {
        AwsError {
            status: Some(status),
            ..AwsError::service("Op", code, "m")
        }
    }

    fn code(operation: &'static str, code: &str) -> AwsError {
        AwsError::service(operation, code, "")
    }

    fn fault(fault: Fault) -> AwsError {
        AwsError {
            fault,
            ..AwsError::service("Op", "", "")
        }
    }

    #[test]
    fn classification_table() {
        use Disposition::{AlreadyDone, GiveUp, Gone, RetryLater};
        let cases = [
            (code("DescribeVpcs", "RequestLimitExceeded"), RetryLater),
            (
                code("PutRetentionPolicy", "ThrottlingException"),
                RetryLater,
            ),
            (code("CreateFlowLogs", "Server.InternalError"), RetryLater),
            (with_status("", 503), RetryLater),
            (with_status("SomethingNew", 500), RetryLater),
            (
                code("CreateFlowLogs", "Client.UnauthorizedOperation"),
                GiveUp,
            ),
            (code("CreateLogGroup", "AccessDeniedException"), GiveUp),
            (with_status("InvalidParameterValue", 400), GiveUp),
            (code("CreateFlowLogs", "FlowLogAlreadyExists"), AlreadyDone),
            (
                code("CreateLogGroup", "ResourceAlreadyExistsException"),
                AlreadyDone,
            ),
            (code("DescribeVpcs", "InvalidVpcID.NotFound"), Gone),
            (code("DeleteFlowLogs", "InvalidFlowLogId.NotFound"), Gone),
            (fault(Fault::Timeout), RetryLater),
            (fault(Fault::Connection), RetryLater),
            (code("CreateFlowLogs", "503"), RetryLater),
            (code("CreateFlowLogs", "500"), RetryLater),
            (code("CreateFlowLogs", "400"), GiveUp),
            (fault(Fault::Response), RetryLater),
            (fault(Fault::Other), GiveUp),
        ];
        for (error, want) in cases {
            assert_eq!(classify(&error), want, "{error:?}");
        }
    }

    #[test]
    fn ec2_prefixes_are_stripped() {
        let e = AwsError::service("CreateFlowLogs", "Client.UnauthorizedOperation", "no");
        assert!(e.has_code("UnauthorizedOperation"));
        assert_eq!(
            e.to_string(),
            "CreateFlowLogs failed: UnauthorizedOperation: no"
        );
    }
}

/// A configuration value that flowguard refuses, with everything needed to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {variable}={value:?}: {allowed}")]
pub struct ConfigError {
    /// The variable (or flag of the same name).
    pub variable: &'static str,
    /// The value that was given.
    pub value: String,
    /// What would be accepted.
    pub allowed: String,
}
