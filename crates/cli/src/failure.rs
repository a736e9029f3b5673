//! [`Failure`]: why a command could not do its job (exit 2), in one or two plain lines that
//! say what to do. AWS errors are read by their code and fault, never by parsing text,
//! except for the SDK's "no credentials" error, which has neither.

use aws_config::SdkConfig;
use flowguard_aws::InitError;
use flowguard_aws::iam::RoleProblem;
use flowguard_core::{AwsError, ConfigError, Fault, ReconcileError};
use std::fmt;

/// A message for stderr; the command exits 2.
#[derive(Debug)]
pub struct Failure(pub String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<ConfigError> for Failure {
    fn from(error: ConfigError) -> Self {
        Self(error.to_string())
    }
}

const ACCESS_DENIED: [&str; 5] = [
    "UnauthorizedOperation",
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedAccess",
    "AuthorizationError",
];
const CREDENTIALS_REFUSED: [&str; 9] = [
    "AuthFailure",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "InvalidSignatureException",
];

/// The IAM service prefix of an operation, for "access denied: ec2:DescribeFlowLogs".
fn service(operation: &str) -> &'static str {
    match operation {
        "DescribeLogGroups" | "CreateLogGroup" | "PutRetentionPolicy" | "TagResource" => "logs",
        "GetRole" | "CreateRole" | "UpdateAssumeRolePolicy" | "PutRolePolicy" => "iam",
        "GetCallerIdentity" | "AssumeRole" => "sts",
        "DescribeKey" => "kms",
        "ListAccounts" | "ListAccountsForParent" | "ListOrganizationalUnitsForParent" => {
            "organizations"
        }
        _ => "ec2",
    }
}

/// The SDK's error text up to the `Debug` dump it appends (`DisplayErrorContext`).
fn without_debug(message: &str) -> &str {
    [
        "DispatchFailure(",
        "TimeoutError(",
        "ResponseError(",
        "ConstructionFailure(",
    ]
    .iter()
    .filter_map(|variant| message.find(&format!(" ({variant}")))
    .min()
    .map_or(message, |end| &message[..end])
}

/// One or two lines about an AWS error, saying what to do about it.
pub fn describe(error: &AwsError, config: &SdkConfig) -> String {
    let operation = error.operation;
    let code = error.code.as_deref().unwrap_or_default();
    let action = format!("{}:{operation}", service(operation));
    // The SDK reports missing credentials as a dispatch failure without a code.
    if error.code.is_none() && error.message.to_lowercase().contains("no credentials") {
        return "no AWS credentials found\n\
                set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run `aws sso login`"
            .to_owned();
    }
    match error.fault {
        Fault::Connection | Fault::Timeout => {
            let endpoint = match config.endpoint_url() {
                Some(url) => url.to_owned(),
                None => format!(
                    "the {} endpoint of {}",
                    service(operation),
                    config
                        .region()
                        .map_or("the configured region", |r| r.as_ref())
                ),
            };
            let how = if error.fault == Fault::Timeout {
                "timed out"
            } else {
                "could not connect"
            };
            format!(
                "cannot reach AWS at {endpoint}: {operation} {how} ({})\n\
                 check the network, the region, or AWS_ENDPOINT_URL if you use an emulator",
                without_debug(&error.message)
            )
        }
        _ if ACCESS_DENIED.contains(&code) => format!(
            "access denied: {action} ({code})\n\
             grant {action} to the credentials in use (docs/cli.md lists what each command needs)"
        ),
        _ if CREDENTIALS_REFUSED.contains(&code) => format!(
            "AWS refused the credentials ({code} on {operation}): {}\n\
             refresh them (e.g. `aws sso login`) or check AWS_PROFILE / AWS_ACCESS_KEY_ID",
            error.message
        ),
        _ => without_debug(&error.to_string()).to_owned(),
    }
}

/// No region anywhere.
pub fn no_region() -> Failure {
    Failure(
        "no AWS region: pass --region REGION (repeatable) or --all-regions, or set AWS_REGION"
            .to_owned(),
    )
}

/// A reconcile that produced no report.
pub fn reconcile(error: &ReconcileError, config: &SdkConfig) -> String {
    match error {
        ReconcileError::Observe(aws) => describe(aws, config),
        other => other.to_string(),
    }
}

/// A delivery role that cannot be used.
pub fn role(problem: &RoleProblem, config: &SdkConfig) -> Failure {
    match problem {
        RoleProblem::Call(aws) => Failure(format!(
            "could not check the delivery role: {}",
            describe(aws, config)
        )),
        other => Failure(other.to_string()),
    }
}

/// A controller that cannot start (the Lambda's init), as the CLI reports it.
pub fn init(error: &InitError, config: &SdkConfig) -> Failure {
    match error {
        InitError::Role(problem) => role(problem, config),
        InitError::Caller(aws) => Failure(describe(aws, config)),
        other => Failure(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_config::Region;

    fn config(endpoint: Option<&str>) -> SdkConfig {
        let mut builder = SdkConfig::builder().region(Region::new("eu-west-1"));
        if let Some(url) = endpoint {
            builder = builder.endpoint_url(url);
        }
        builder.build()
    }

    fn fault(operation: &'static str, fault: Fault, message: &str) -> AwsError {
        AwsError {
            operation,
            code: None,
            message: message.to_owned(),
            status: None,
            fault,
        }
    }

    #[test]
    fn access_denied_names_the_permission() {
        let error = AwsError::service(
            "DescribeFlowLogs",
            "Client.UnauthorizedOperation",
            "You are not authorized",
        );
        let text = describe(&error, &config(None));
        assert!(
            text.starts_with("access denied: ec2:DescribeFlowLogs (UnauthorizedOperation)\n"),
            "{text}"
        );
        let error = AwsError::service("PutRetentionPolicy", "AccessDeniedException", "no");
        assert!(
            describe(&error, &config(None))
                .starts_with("access denied: logs:PutRetentionPolicy (AccessDeniedException)")
        );
        let error = AwsError::service("GetRole", "AccessDenied", "no");
        assert!(describe(&error, &config(None)).starts_with("access denied: iam:GetRole"));
    }

    #[test]
    fn unreachable_endpoints_are_named() {
        let message = "dispatch failure: io error: Connection refused (os error 111) (DispatchFailure(DispatchFailure { .. }))";
        let text = describe(
            &fault("GetCallerIdentity", Fault::Connection, message),
            &config(Some("http://127.0.0.1:1")),
        );
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(
            text.starts_with(
                "cannot reach AWS at http://127.0.0.1:1: GetCallerIdentity could not connect"
            ),
            "{text}"
        );
        assert!(
            text.contains("Connection refused (os error 111))\n"),
            "{text}"
        );
        let text = describe(
            &fault("DescribeVpcs", Fault::Timeout, "timeout"),
            &config(None),
        );
        assert!(
            text.starts_with(
                "cannot reach AWS at the ec2 endpoint of eu-west-1: DescribeVpcs timed out"
            ),
            "{text}"
        );
    }

    #[test]
    fn credential_problems_say_what_to_do() {
        let missing = "dispatch failure: other: the credential provider was not enabled: no credentials found in chain";
        let text = describe(
            &fault("GetCallerIdentity", Fault::Connection, missing),
            &config(None),
        );
        assert!(text.starts_with("no AWS credentials found\n"), "{text}");
        let error = AwsError::service(
            "GetCallerIdentity",
            "ExpiredToken",
            "The security token included in the request is expired",
        );
        assert!(
            describe(&error, &config(None))
                .starts_with("AWS refused the credentials (ExpiredToken on GetCallerIdentity)")
        );
    }

    #[test]
    fn other_errors_keep_code_and_message_without_the_debug_dump() {
        let error = AwsError::service("CreateFlowLogs", "InvalidParameter", "bad");
        assert_eq!(
            describe(&error, &config(None)),
            "CreateFlowLogs failed: InvalidParameter: bad"
        );
        let error = fault(
            "DescribeVpcs",
            Fault::Other,
            "response error: bad body (ResponseError(ResponseError { .. }))",
        );
        assert_eq!(
            describe(&error, &config(None)),
            "DescribeVpcs failed: response error: bad body"
        );
    }
}
