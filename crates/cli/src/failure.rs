//! [`Failure`]: why a command could not do its job (exit 2), in one or two plain lines that
//! say what to do. AWS errors are read by their code and fault, never by parsing text,
//! except for the SDK's "no credentials" error, which has neither. The adapter has already
//! reduced each to its code and message (crates/aws/src/error.rs); the IAM action to grant
//! comes from the SDK's operation metadata ([`iam_action`]).

use aws_config::SdkConfig;
use flowguard_aws::InitError;
use flowguard_aws::actions::iam_action;
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

/// One or two lines about an AWS error, saying what to do about it.
pub fn describe(error: &AwsError, config: &SdkConfig) -> String {
    describe_in(error, config, None)
}

/// [`describe`], for an error of a run in `region`. Credentials refused there although they
/// were accepted in the configured region (where the command read its account) most likely
/// mean a region that the account has not enabled, not bad credentials: EC2 answers
/// `AuthFailure` there.
pub fn describe_in(error: &AwsError, config: &SdkConfig, region: Option<&str>) -> String {
    let code = error.code.as_deref().unwrap_or_default();
    let home = config.region().map(|r| r.as_ref());
    if let Some(region) = region
        && CREDENTIALS_REFUSED.contains(&code)
        && home.is_some_and(|home| home != region)
    {
        return format!(
            "AWS refused the credentials in {region} ({code} on {}), which it accepted in {}: \
             {region} is probably a Region that this account has not enabled\n\
             enable it (`aws account enable-region --region-name {region}`) or leave it out \
             (`--all-regions` sweeps only the enabled Regions)",
            error.operation,
            home.unwrap_or_default()
        );
    }
    describe_home(error, config)
}

fn describe_home(error: &AwsError, config: &SdkConfig) -> String {
    let operation = error.operation;
    let code = error.code.as_deref().unwrap_or_default();
    // The SDK's own name of the IAM action; an operation it does not know is named alone.
    let action = iam_action(operation).unwrap_or(operation);
    let service = action.split_once(':').map_or("AWS", |(prefix, _)| prefix);
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
                    "the {service} endpoint of {}",
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
                error.message
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
        _ => error.to_string(),
    }
}

/// No region anywhere.
pub fn no_region() -> Failure {
    Failure(
        "no AWS region: pass --region REGION (repeatable) or --all-regions, or set AWS_REGION"
            .to_owned(),
    )
}

/// A reconcile in `region` that produced no report.
pub fn reconcile(error: &ReconcileError, config: &SdkConfig, region: &str) -> String {
    match error {
        ReconcileError::Observe(aws) => describe_in(aws, config, Some(region)),
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
        let error = AwsError::service("GetRolePolicy", "AccessDenied", "no");
        assert!(describe(&error, &config(None)).starts_with("access denied: iam:GetRolePolicy "));
        // An operation that flowguard does not call: named alone, never with a guessed service.
        let error = AwsError::service("TagResource", "AccessDenied", "no");
        assert!(describe(&error, &config(None)).starts_with("access denied: TagResource (Acc"));
    }

    #[test]
    fn unreachable_endpoints_are_named() {
        let message = "dispatch failure: io error: Connection refused (os error 111)";
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
    fn credentials_refused_in_another_region_point_at_the_region() {
        let error = AwsError::service(
            "DescribeVpcs",
            "AuthFailure",
            "AWS was not able to validate the provided access credentials",
        );
        let text = describe_in(&error, &config(None), Some("af-south-1"));
        assert!(
            text.starts_with(
                "AWS refused the credentials in af-south-1 (AuthFailure on DescribeVpcs), which it accepted in eu-west-1: af-south-1 is probably a Region that this account has not enabled\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("enable-region --region-name af-south-1"),
            "{text}"
        );
        // In the configured region itself, the credentials are the problem.
        let text = describe_in(&error, &config(None), Some("eu-west-1"));
        assert!(
            text.starts_with("AWS refused the credentials (AuthFailure"),
            "{text}"
        );
    }

    #[test]
    fn other_errors_keep_code_and_message() {
        let error = AwsError::service("CreateFlowLogs", "InvalidParameter", "bad");
        assert_eq!(
            describe(&error, &config(None)),
            "CreateFlowLogs failed: InvalidParameter: bad"
        );
    }
}
