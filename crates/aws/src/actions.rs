//! The IAM action of each AWS operation flowguard calls, read from the SDK itself: the
//! operation's name from its `Metadata` (what the SDK's runtime plugin for the operation
//! declares) and the service prefix from its client's SigV4 signing name, which is the IAM
//! service prefix for every service flowguard uses. An access-denied hint then names the action
//! to grant (`iam:GetRolePolicy`, not a guess); an operation not listed has no action, and the
//! hint names the operation alone rather than a wrong service.

use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_plugin::RuntimePlugin;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The operation name the SDK's plugin for `operation` declares.
fn name_of(operation: &dyn RuntimePlugin) -> Option<String> {
    let layer = operation.config()?;
    Some(layer.load::<Metadata>()?.name().to_owned())
}

/// `(operation type, its crate)` pairs → operation name → `prefix:Name`.
macro_rules! actions {
    ($($sdk:ident :: $module:ident :: $operation:ident),* $(,)?) => {{
        let mut actions = HashMap::new();
        $(
            let prefix = $sdk::Config::builder().build().signing_name();
            if let Some(name) = name_of(&$sdk::operation::$module::$operation::new()) {
                actions.insert(name.clone(), format!("{prefix}:{name}"));
            }
        )*
        actions
    }};
}

/// Every operation that flowguard's adapters call.
fn all() -> &'static HashMap<String, String> {
    static ACTIONS: OnceLock<HashMap<String, String>> = OnceLock::new();
    ACTIONS.get_or_init(|| {
        actions![
            aws_sdk_ec2::describe_vpcs::DescribeVpcs,
            aws_sdk_ec2::describe_flow_logs::DescribeFlowLogs,
            aws_sdk_ec2::create_flow_logs::CreateFlowLogs,
            aws_sdk_ec2::delete_flow_logs::DeleteFlowLogs,
            aws_sdk_ec2::describe_regions::DescribeRegions,
            aws_sdk_cloudwatchlogs::describe_log_groups::DescribeLogGroups,
            aws_sdk_cloudwatchlogs::create_log_group::CreateLogGroup,
            aws_sdk_cloudwatchlogs::put_retention_policy::PutRetentionPolicy,
            aws_sdk_iam::get_role::GetRole,
            aws_sdk_iam::get_role_policy::GetRolePolicy,
            aws_sdk_iam::create_role::CreateRole,
            aws_sdk_iam::put_role_policy::PutRolePolicy,
            aws_sdk_iam::update_assume_role_policy::UpdateAssumeRolePolicy,
            aws_sdk_sts::get_caller_identity::GetCallerIdentity,
            aws_sdk_sts::assume_role::AssumeRole,
            aws_sdk_kms::describe_key::DescribeKey,
            aws_sdk_organizations::list_accounts::ListAccounts,
            aws_sdk_organizations::list_accounts_for_parent::ListAccountsForParent,
            aws_sdk_organizations::list_organizational_units_for_parent::ListOrganizationalUnitsForParent,
            aws_sdk_securityhub::get_findings::GetFindings,
            aws_sdk_securityhub::batch_update_findings::BatchUpdateFindings,
            aws_sdk_config::describe_config_rules::DescribeConfigRules,
            aws_sdk_config::start_config_rules_evaluation::StartConfigRulesEvaluation,
        ]
    })
}

/// The IAM action that allows `operation` (an [`flowguard_core::AwsError`]'s), e.g.
/// `logs:PutRetentionPolicy`; `None` for an operation flowguard does not call.
pub fn iam_action(operation: &str) -> Option<&'static str> {
    all().get(operation).map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::iam_action;

    #[test]
    fn each_operation_is_named_with_its_services_prefix() {
        for (operation, action) in [
            ("DescribeFlowLogs", "ec2:DescribeFlowLogs"),
            ("PutRetentionPolicy", "logs:PutRetentionPolicy"),
            ("GetRolePolicy", "iam:GetRolePolicy"),
            ("AssumeRole", "sts:AssumeRole"),
            ("DescribeKey", "kms:DescribeKey"),
            (
                "ListAccountsForParent",
                "organizations:ListAccountsForParent",
            ),
            ("BatchUpdateFindings", "securityhub:BatchUpdateFindings"),
            (
                "StartConfigRulesEvaluation",
                "config:StartConfigRulesEvaluation",
            ),
        ] {
            assert_eq!(iam_action(operation), Some(action));
        }
        assert_eq!(iam_action("NotAnOperation"), None);
    }

    /// Every operation named in an adapter's error has its action: a new call cannot be
    /// added without its hint.
    #[test]
    fn every_operation_the_adapters_name_has_its_action() {
        fn sources(dir: &std::path::Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    sources(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(std::fs::read_to_string(path).unwrap());
                }
            }
        }
        let mut texts = Vec::new();
        sources(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut texts,
        );
        let mut named = 0;
        for text in &texts {
            for marker in ["aws_error(\"", "every_item(\""] {
                for part in text.split(marker).skip(1) {
                    let operation = part.split('"').next().unwrap();
                    assert!(iam_action(operation).is_some(), "{operation}");
                    named += 1;
                }
            }
        }
        assert!(named > 20, "{named} operations found");
    }
}
