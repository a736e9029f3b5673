//! The follow-ups' adapters with aws-smithy-mocks (moto implements neither
//! `BatchUpdateFindings` nor `StartConfigRulesEvaluation`): Security Hub's findings read to
//! the last page with at most 20 values per filter and updated at most 100 per call,
//! throttling and access denied kept as codes; AWS Config's rule found across pages, asked
//! once per account and region per interval.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{clients, error};
use aws_sdk_config::operation::describe_config_rules::DescribeConfigRulesOutput;
use aws_sdk_config::operation::start_config_rules_evaluation::{
    StartConfigRulesEvaluationError, StartConfigRulesEvaluationOutput,
};
use aws_sdk_config::types::{ConfigRule, Owner, Source};
use aws_sdk_securityhub::operation::batch_update_findings::{
    BatchUpdateFindingsError, BatchUpdateFindingsOutput,
};
use aws_sdk_securityhub::operation::get_findings::{GetFindingsError, GetFindingsOutput};
use aws_sdk_securityhub::types::{
    AwsSecurityFinding, AwsSecurityFindingIdentifier, Resource, WorkflowStatus,
};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use flowguard_aws::AwsRemediator;
use flowguard_core::{
    Disposition, FindingUpdate, Place, Reevaluation, Remediator, VpcId, classify,
};

fn remediator(hub: &[&Rule], config: &[&Rule]) -> AwsRemediator {
    AwsRemediator::new(
        clients(&[], &[])
            .with_securityhub(mock_client!(aws_sdk_securityhub, RuleMode::MatchAny, hub))
            .with_config_service(mock_client!(aws_sdk_config, RuleMode::MatchAny, config)),
    )
}

fn arn(n: usize) -> String {
    format!("arn:aws:ec2:us-east-1:123456789012:vpc/vpc-{n:04}")
}

fn update(n: usize, notify: bool) -> FindingUpdate {
    FindingUpdate {
        vpc: VpcId::new(format!("vpc-{n:04}")),
        vpc_arn: arn(n),
        notify,
        note: format!("flowguard: vpc-{n:04} remediated"),
    }
}

/// A finding of control EC2.6 on VPC `n`.
fn finding(id: &str, n: usize) -> AwsSecurityFinding {
    AwsSecurityFinding::builder()
        .schema_version("2018-10-08")
        .id(id)
        .product_arn("arn:aws:securityhub:us-east-1::product/aws/securityhub")
        .generator_id("security-control/EC2.6")
        .aws_account_id("123456789012")
        .created_at("2026-11-30T00:00:00.000Z")
        .updated_at("2026-11-30T00:00:00.000Z")
        .title("VPC flow logging should be enabled in all VPCs")
        .description("EC2.6")
        .resources(Resource::builder().r#type("AwsEc2Vpc").id(arn(n)).build())
        .build()
}

/// The resource-id values of one GetFindings request.
fn resource_values(r: &aws_sdk_securityhub::operation::get_findings::GetFindingsInput) -> usize {
    let Some(f) = r.filters() else { return 0 };
    // Only the run's own account and region, whatever the caller may see (an administrator
    // account sees its members' findings).
    let own = |values: &[aws_sdk_securityhub::types::StringFilter], want: &str| {
        values.len() == 1 && values[0].value() == Some(want)
    };
    if !own(f.aws_account_id(), "123456789012") || !own(f.region(), "eu-west-1") {
        return 0;
    }
    // Never flowguard's own findings, imported from its ASFF export into the account's default
    // product: only Security Hub's control findings.
    let not_ours = |values: &[aws_sdk_securityhub::types::StringFilter]| {
        values.len() == 1
            && values[0].comparison()
                == Some(&aws_sdk_securityhub::types::StringFilterComparison::NotEquals)
            && values[0].value()
                == Some("arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default")
    };
    if !not_ours(f.product_arn()) {
        return 0;
    }
    f.resource_id().len()
}

#[tokio::test]
async fn findings_are_read_to_the_last_page_with_at_most_20_values_per_filter() {
    // 25 VPCs: two GetFindings (20 + 5 values); the first answers in two pages.
    let too_many = mock!(aws_sdk_securityhub::Client::get_findings)
        .match_requests(|r| resource_values(r) > 20)
        .then_error(|| GetFindingsError::generic(error("InvalidInputException")));
    let first_page = mock!(aws_sdk_securityhub::Client::get_findings)
        .match_requests(|r| resource_values(r) == 20 && r.next_token().is_none())
        .then_output(|| {
            GetFindingsOutput::builder()
                .findings(finding("f-1", 1))
                .next_token("page-2")
                .build()
        });
    let second_page = mock!(aws_sdk_securityhub::Client::get_findings)
        .match_requests(|r| r.next_token() == Some("page-2"))
        .then_output(|| {
            GetFindingsOutput::builder()
                .findings(finding("f-19", 19))
                .build()
        });
    let last_chunk = mock!(aws_sdk_securityhub::Client::get_findings)
        .match_requests(|r| resource_values(r) == 5)
        .then_output(|| {
            GetFindingsOutput::builder()
                .findings(finding("f-24", 24))
                .build()
        });
    let update_rule = mock!(aws_sdk_securityhub::Client::batch_update_findings)
        .match_requests(|r| {
            r.workflow().and_then(|w| w.status()) == Some(&WorkflowStatus::Notified)
                && r.note()
                    .is_some_and(|n| n.updated_by() == Some("flowguard"))
        })
        .then_output(|| {
            BatchUpdateFindingsOutput::builder()
                .processed_findings(
                    AwsSecurityFindingIdentifier::builder()
                        .id("f")
                        .product_arn("p")
                        .build(),
                )
                .build()
        });
    let updates: Vec<FindingUpdate> = (0..25).map(|n| update(n, true)).collect();
    let results = remediator(
        &[
            &too_many,
            &first_page,
            &second_page,
            &last_chunk,
            &update_rule,
        ],
        &[],
    )
    .update_control_findings(&place("123456789012"), &updates)
    .await;

    assert_eq!(too_many.num_calls(), 0);
    assert_eq!(
        (
            first_page.num_calls(),
            second_page.num_calls(),
            last_chunk.num_calls()
        ),
        (1, 1, 1)
    );
    assert_eq!(
        update_rule.num_calls(),
        3,
        "one call per VPC that has findings"
    );
    let updated: Vec<(&str, usize)> = results
        .iter()
        .filter_map(|(vpc, r)| {
            r.as_ref()
                .ok()
                .filter(|n| **n > 0)
                .map(|n| (vpc.as_str(), *n))
        })
        .collect();
    assert_eq!(updated, [("vpc-0001", 1), ("vpc-0019", 1), ("vpc-0024", 1)]);
    assert_eq!(results.len(), 25, "one result per VPC");
}

#[tokio::test]
async fn at_most_100_findings_per_update_and_a_failed_vpc_is_only_annotated() {
    let findings: Vec<AwsSecurityFinding> =
        (0..150).map(|i| finding(&format!("f-{i}"), 7)).collect();
    let get = mock!(aws_sdk_securityhub::Client::get_findings).then_output(move || {
        GetFindingsOutput::builder()
            .set_findings(Some(findings.clone()))
            .build()
    });
    let over = mock!(aws_sdk_securityhub::Client::batch_update_findings)
        .match_requests(|r| r.finding_identifiers().len() > 100)
        .then_error(|| BatchUpdateFindingsError::generic(error("InvalidInputException")));
    let annotated = mock!(aws_sdk_securityhub::Client::batch_update_findings)
        .match_requests(|r| r.workflow().is_none() && r.note().is_some())
        .then_output(|| BatchUpdateFindingsOutput::builder().build());
    let results = remediator(&[&get, &over, &annotated], &[])
        .update_control_findings(&place("123456789012"), &[update(7, false)])
        .await;
    assert_eq!(over.num_calls(), 0);
    assert_eq!(annotated.num_calls(), 2, "150 findings: 100 + 50");
    assert!(results[0].1.is_ok(), "{results:?}");
}

#[tokio::test]
async fn throttling_and_access_denied_keep_their_codes() {
    let get = mock!(aws_sdk_securityhub::Client::get_findings).then_output(|| {
        GetFindingsOutput::builder()
            .findings(finding("f-1", 1))
            .build()
    });
    let throttled = mock!(aws_sdk_securityhub::Client::batch_update_findings)
        .then_error(|| BatchUpdateFindingsError::generic(error("TooManyRequestsException")));
    let results = remediator(&[&get, &throttled], &[])
        .update_control_findings(&place("123456789012"), &[update(1, true)])
        .await;
    let e = results[0].1.clone().unwrap_err();
    assert!(e.has_code("TooManyRequestsException"), "{e}");
    assert_eq!(classify(&e), Disposition::RetryLater);

    let denied = mock!(aws_sdk_securityhub::Client::get_findings)
        .then_error(|| GetFindingsError::generic(error("AccessDeniedException")));
    let results = remediator(&[&denied], &[])
        .update_control_findings(&place("123456789012"), &[update(1, true), update(2, true)])
        .await;
    assert_eq!(results.len(), 2, "every VPC of the chunk carries the error");
    for (_, r) in &results {
        let e = r.clone().unwrap_err();
        assert!(e.has_code("AccessDeniedException"));
        assert_eq!(classify(&e), Disposition::GiveUp);
    }
}

fn place(account: &str) -> Place {
    Place {
        region: "eu-west-1".into(),
        account: account.into(),
    }
}

fn rule(name: &str, source: &str) -> ConfigRule {
    ConfigRule::builder()
        .config_rule_name(name)
        .source(
            Source::builder()
                .owner(Owner::Aws)
                .source_identifier(source)
                .build()
                .unwrap(),
        )
        .build()
}

#[tokio::test]
async fn the_config_rule_is_found_across_pages_and_asked_once_per_interval() {
    let first = mock!(aws_sdk_config::Client::describe_config_rules)
        .match_requests(|r| r.next_token().is_none())
        .then_output(|| {
            DescribeConfigRulesOutput::builder()
                .config_rules(rule("s3-bucket-logging", "S3_BUCKET_LOGGING_ENABLED"))
                .next_token("t2")
                .build()
        });
    let second = mock!(aws_sdk_config::Client::describe_config_rules)
        .match_requests(|r| r.next_token() == Some("t2"))
        .then_output(|| {
            DescribeConfigRulesOutput::builder()
                .config_rules(rule(
                    "securityhub-vpc-flow-logs-enabled-abc",
                    "VPC_FLOW_LOGS_ENABLED",
                ))
                .build()
        });
    let start = mock!(aws_sdk_config::Client::start_config_rules_evaluation)
        .match_requests(|r| r.config_rule_names() == ["securityhub-vpc-flow-logs-enabled-abc"])
        .then_output(|| StartConfigRulesEvaluationOutput::builder().build());
    let rem = remediator(&[], &[&first, &second, &start]);
    let here = place("111111111111");
    assert_eq!(
        rem.reevaluate_config_rules(&here).await.unwrap(),
        Reevaluation::Started(vec!["securityhub-vpc-flow-logs-enabled-abc".into()])
    );
    assert_eq!(
        rem.reevaluate_config_rules(&here).await.unwrap(),
        Reevaluation::Recently,
        "a burst of events asks once"
    );
    assert_eq!(start.num_calls(), 1);
    assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
}

#[tokio::test]
async fn no_rule_and_an_evaluation_in_progress_are_not_failures() {
    let none = mock!(aws_sdk_config::Client::describe_config_rules)
        .then_output(|| DescribeConfigRulesOutput::builder().build());
    assert_eq!(
        remediator(&[], &[&none])
            .reevaluate_config_rules(&place("222222222222"))
            .await
            .unwrap(),
        Reevaluation::NoRule
    );
    let one = mock!(aws_sdk_config::Client::describe_config_rules).then_output(|| {
        DescribeConfigRulesOutput::builder()
            .config_rules(rule("vpc-flow-logs", "VPC_FLOW_LOGS_ENABLED"))
            .build()
    });
    let busy = mock!(aws_sdk_config::Client::start_config_rules_evaluation)
        .then_error(|| StartConfigRulesEvaluationError::generic(error("LimitExceededException")));
    assert_eq!(
        remediator(&[], &[&one, &busy])
            .reevaluate_config_rules(&place("333333333333"))
            .await
            .unwrap(),
        Reevaluation::Recently
    );
}
