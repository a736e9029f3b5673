//! The delivery role: verify that it exists and trusts `vpc-flow-logs.amazonaws.com`, or
//! set one up with the confused-deputy conditions (`aws:SourceAccount`, `aws:SourceArn`).
//! Its trust policy and inline policy are the facts' templates (`crates/core/facts.json`,
//! `delivery_role`), which the CDK stack renders too; `setup-role` makes one role for every
//! region, so `{region}` is `*` here.

use crate::error::aws_error;
use flowguard_core::facts::{facts, render, render_str};
use flowguard_core::policy::{MANAGED_TAG_KEY, MANAGED_TAG_VALUE};
use flowguard_core::{AwsError, LogGroupTemplate};
use percent_encoding::percent_decode_str;
use serde_json::Value;

/// The service that assumes the delivery role (the principal of the facts' trust policy; a
/// test checks that both agree).
pub const FLOW_LOGS_SERVICE: &str = "vpc-flow-logs.amazonaws.com";
/// `setup-role`'s role serves flow logs of every region.
const EVERY_REGION: &str = "*";
/// The inline policy that `setup-role` writes.
pub const POLICY_NAME: &str = "flowguard-flow-log-delivery";

/// Why a delivery role cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleProblem {
    #[error("the delivery role {0} does not exist (create it with `flowguard setup-role`)")]
    NotFound(String),
    #[error(
        "the delivery role {0} does not trust {FLOW_LOGS_SERVICE} (its trust policy must allow sts:AssumeRole to that service)"
    )]
    NotTrusted(String),
    #[error("could not read the delivery role: {0}")]
    Call(#[source] AwsError),
}

/// The role name of a role ARN (`arn:aws:iam::123456789012:role/path/name` → `name`).
pub fn role_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

fn as_list(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Whether a trust policy (URL-encoded, as IAM returns it, or plain JSON) lets the flow-logs
/// service assume the role.
pub fn trusts_flow_logs(document: &str) -> bool {
    let decoded = percent_decode_str(document).decode_utf8_lossy();
    let Ok(policy) = serde_json::from_str::<Value>(&decoded) else {
        return false;
    };
    let statements = match policy.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    statements.iter().any(|s| {
        s.get("Effect").and_then(Value::as_str) == Some("Allow")
            && as_list(s.get("Action"))
                .iter()
                .any(|a| *a == "sts:AssumeRole" || *a == "sts:*" || *a == "*")
            && as_list(s.get("Principal").and_then(|p| p.get("Service")))
                .contains(&FLOW_LOGS_SERVICE)
    })
}

/// Checks the configured delivery role with `iam:GetRole`.
pub async fn verify_delivery_role(iam: &aws_sdk_iam::Client, arn: &str) -> Result<(), RoleProblem> {
    let output = match iam.get_role().role_name(role_name(arn)).send().await {
        Ok(output) => output,
        Err(e) => {
            let error = aws_error("GetRole", e);
            return Err(if error.has_code("NoSuchEntity") {
                RoleProblem::NotFound(arn.to_owned())
            } else {
                RoleProblem::Call(error)
            });
        }
    };
    let trusted = output
        .role()
        .and_then(|r| r.assume_role_policy_document())
        .is_some_and(trusts_flow_logs);
    if trusted {
        Ok(())
    } else {
        Err(RoleProblem::NotTrusted(arn.to_owned()))
    }
}

/// The trust policy: only the flow-logs service, only for this account's flow logs.
pub fn trust_policy(partition: &str, account: &str) -> Value {
    render(
        &facts().delivery_role.trust_policy,
        &[
            ("{partition}", partition),
            ("{region}", EVERY_REGION),
            ("{account_id}", account),
        ],
    )
}

/// The permissions: write flow-log records, only into the managed log group(s).
pub fn delivery_policy(partition: &str, account: &str, log_group: &LogGroupTemplate) -> Value {
    let group = log_group
        .as_str()
        .replace("{vpc_id}", "*")
        .replace("{region}", EVERY_REGION)
        .replace("{account_id}", account);
    let role = &facts().delivery_role;
    let mut values = vec![
        ("{partition}", partition),
        ("{region}", EVERY_REGION),
        ("{account_id}", account),
    ];
    let arn = render_str(&role.log_group_arn.replace("{log_group}", &group), &values);
    values.push(("{log_group_arn}", &arn));
    render(&role.inline_policy, &values)
}

/// What `setup-role` finds of a role of that name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleState {
    Missing,
    /// Trust and flowguard's inline policy are as `setup-role` would write them.
    Matches {
        arn: String,
    },
    /// The role exists, and these things differ from what `setup-role` would write.
    Differs {
        arn: String,
        differences: Vec<String>,
    },
}

fn decoded(document: &str) -> Option<Value> {
    serde_json::from_str(&percent_decode_str(document).decode_utf8_lossy()).ok()
}

fn tag_error(operation: &'static str, e: impl std::fmt::Display) -> AwsError {
    AwsError {
        operation,
        code: None,
        message: e.to_string(),
        status: None,
        fault: flowguard_core::Fault::Other,
    }
}

/// The delivery role `setup-role` manages: its name, and what its policies name.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryRole<'a> {
    pub name: &'a str,
    pub partition: &'a str,
    pub account: &'a str,
    pub log_group: &'a LogGroupTemplate,
}

/// Reads a role and compares it with what `setup-role` would write. Only reads.
pub async fn inspect_role(
    iam: &aws_sdk_iam::Client,
    role: DeliveryRole<'_>,
) -> Result<RoleState, AwsError> {
    let DeliveryRole {
        name,
        partition,
        account,
        log_group,
    } = role;
    let role = match iam.get_role().role_name(name).send().await {
        Ok(output) => output.role().cloned(),
        Err(e) => {
            let error = aws_error("GetRole", e);
            if error.has_code("NoSuchEntity") {
                return Ok(RoleState::Missing);
            }
            return Err(error);
        }
    };
    let arn = role
        .as_ref()
        .map(|r| r.arn().to_owned())
        .unwrap_or_default();
    let mut differences = Vec::new();
    let trust = role
        .as_ref()
        .and_then(|r| r.assume_role_policy_document())
        .and_then(decoded);
    if trust.as_ref() != Some(&trust_policy(partition, account)) {
        differences.push(format!(
            "its trust policy is not flowguard's (only {FLOW_LOGS_SERVICE}, with aws:SourceAccount {account} and aws:SourceArn of this account's flow logs)"
        ));
    }
    let wanted = delivery_policy(partition, account, log_group);
    match iam
        .get_role_policy()
        .role_name(name)
        .policy_name(POLICY_NAME)
        .send()
        .await
    {
        Ok(output) if decoded(output.policy_document()).as_ref() == Some(&wanted) => {}
        Ok(_) => differences.push(format!(
            "its inline policy {POLICY_NAME} grants other permissions than delivery into {}",
            log_group.as_str()
        )),
        Err(e) => {
            let error = aws_error("GetRolePolicy", e);
            if !error.has_code("NoSuchEntity") {
                return Err(error);
            }
            differences.push(format!("it has no inline policy {POLICY_NAME}"));
        }
    }
    Ok(if differences.is_empty() {
        RoleState::Matches { arn }
    } else {
        RoleState::Differs { arn, differences }
    })
}

/// Creates the delivery role with flowguard's trust policy and inline policy; returns its ARN.
pub async fn create_role(
    iam: &aws_sdk_iam::Client,
    role: DeliveryRole<'_>,
) -> Result<String, AwsError> {
    let tag = aws_sdk_iam::types::Tag::builder()
        .key(MANAGED_TAG_KEY)
        .value(MANAGED_TAG_VALUE)
        .build()
        .map_err(|e| tag_error("CreateRole", e))?;
    let output = iam
        .create_role()
        .role_name(role.name)
        .assume_role_policy_document(trust_policy(role.partition, role.account).to_string())
        .description("Lets VPC Flow Logs deliver to flowguard's log group")
        .tags(tag)
        .send()
        .await
        .map_err(|e| aws_error("CreateRole", e))?;
    put_policy(iam, role).await?;
    Ok(output
        .role()
        .map(|r| r.arn().to_owned())
        .unwrap_or_default())
}

/// Overwrites an existing role's trust policy and flowguard's inline policy (`--force`).
pub async fn overwrite_role(
    iam: &aws_sdk_iam::Client,
    role: DeliveryRole<'_>,
) -> Result<(), AwsError> {
    iam.update_assume_role_policy()
        .role_name(role.name)
        .policy_document(trust_policy(role.partition, role.account).to_string())
        .send()
        .await
        .map_err(|e| aws_error("UpdateAssumeRolePolicy", e))?;
    put_policy(iam, role).await
}

async fn put_policy(iam: &aws_sdk_iam::Client, role: DeliveryRole<'_>) -> Result<(), AwsError> {
    iam.put_role_policy()
        .role_name(role.name)
        .policy_name(POLICY_NAME)
        .policy_document(delivery_policy(role.partition, role.account, role.log_group).to_string())
        .send()
        .await
        .map_err(|e| aws_error("PutRolePolicy", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_policies() {
        let ok = trust_policy("aws", "123456789012").to_string();
        assert!(trusts_flow_logs(&ok));
        let encoded: String =
            percent_encoding::utf8_percent_encode(&ok, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        assert!(trusts_flow_logs(&encoded));
        let list = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","vpc-flow-logs.amazonaws.com"]},"Action":["sts:AssumeRole"]}]}"#;
        assert!(trusts_flow_logs(list));
        let other = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        assert!(!trusts_flow_logs(other));
        let deny = r#"{"Statement":{"Effect":"Deny","Principal":{"Service":"vpc-flow-logs.amazonaws.com"},"Action":"sts:AssumeRole"}}"#;
        assert!(!trusts_flow_logs(deny));
        assert!(!trusts_flow_logs("not json"));
    }

    /// The policies as `setup-role` wrote them before they moved to the facts: roles made then
    /// must still read as flowguard's (`inspect_role` compares the documents exactly).
    #[test]
    fn the_facts_render_the_policies_that_setup_role_always_wrote() {
        use serde_json::json;
        assert_eq!(
            trust_policy("aws-cn", "123456789012"),
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": { "Service": FLOW_LOGS_SERVICE },
                    "Action": "sts:AssumeRole",
                    "Condition": {
                        "StringEquals": { "aws:SourceAccount": "123456789012" },
                        "ArnLike": { "aws:SourceArn": "arn:aws-cn:ec2:*:123456789012:vpc-flow-log/*" }
                    }
                }]
            })
        );
        let template = LogGroupTemplate::parse("/flow/{account_id}/{region}/{vpc_id}")
            .unwrap_or_else(|e| panic!("{e}"));
        let arn = "arn:aws:logs:*:123456789012:log-group:/flow/123456789012/*/*";
        assert_eq!(
            delivery_policy("aws", "123456789012", &template),
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "DeliverFlowLogsToTheManagedLogGroup",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    "Resource": [arn, format!("{arn}:*")]
                }]
            })
        );
        let principal = &facts().delivery_role.trust_policy["Statement"][0]["Principal"]["Service"];
        assert_eq!(principal, FLOW_LOGS_SERVICE);
    }

    #[test]
    fn names_and_scoped_permissions() {
        assert_eq!(
            role_name("arn:aws:iam::123456789012:role/path/flow-logs"),
            "flow-logs"
        );
        let template =
            LogGroupTemplate::parse("/flow/{region}/{vpc_id}").unwrap_or_else(|e| panic!("{e}"));
        let policy = delivery_policy("aws", "123456789012", &template).to_string();
        assert!(
            policy.contains("arn:aws:logs:*:123456789012:log-group:/flow/*/*"),
            "{policy}"
        );
        assert!(!policy.contains("\"Resource\":\"*\""));
    }
}
