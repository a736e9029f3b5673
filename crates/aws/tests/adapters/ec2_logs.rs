//! Adapter tests with aws-smithy-mocks: the error paths and pagination that a local
//! emulator cannot produce on demand.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{clients, error, sweep};
use aws_sdk_cloudwatchlogs::operation::describe_log_groups::DescribeLogGroupsOutput;
use aws_sdk_ec2::operation::create_flow_logs::{CreateFlowLogsError, CreateFlowLogsOutput};
use aws_sdk_ec2::operation::describe_flow_logs::{DescribeFlowLogsError, DescribeFlowLogsOutput};
use aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsOutput;
use aws_sdk_ec2::types::{FlowLog, UnsuccessfulItem, UnsuccessfulItemError, Vpc};
use aws_smithy_mocks::{Rule, mock};
use aws_smithy_types::error::ErrorMetadata;
use flowguard_aws::{AwsInventory, AwsRemediator};
use flowguard_core::fake;
use flowguard_core::{
    AwsError, Created, Disposition, FlowLogId, FlowLogQuery, FlowLogRequest, Inventory,
    LogGroupName, Permission, Remediator, TrafficType, VpcId, VpcQuery, classify,
};

fn request(vpcs: &[&str]) -> FlowLogRequest {
    FlowLogRequest {
        vpcs: vpcs.iter().map(|v| VpcId::new(*v)).collect(),
        destination: flowguard_core::observed::Destination::CloudWatchLogs(LogGroupName::new(
            "/vpc/flow-logs",
        )),
        delivery_role_arn: Some("arn:aws:iam::123456789012:role/flow-logs".into()),
        traffic_type: TrafficType::Reject,
        max_aggregation_interval: 600,
        log_format: None,
        s3_options: None,
        client_token: "flowguard-0123".into(),
    }
}

/// `count` values made by `make` from 0, 1, 2 and on: the many names of the tests of limits.
fn numbered<T>(count: usize, make: impl Fn(usize) -> T) -> Vec<T> {
    (0..count).map(make).collect()
}

/// A CreateFlowLogs that fails as a whole with the EC2 error `code`.
fn create_flow_logs_failing(code: &'static str) -> Rule {
    mock!(aws_sdk_ec2::Client::create_flow_logs)
        .then_error(move || CreateFlowLogsError::generic(error(code)))
}

/// The entry of CreateFlowLogs' `unsuccessful` list for `vpc`, failed with `code`.
fn unsuccessful(vpc: &str, code: &str, message: &str) -> UnsuccessfulItem {
    UnsuccessfulItem::builder()
        .resource_id(vpc)
        .error(
            UnsuccessfulItemError::builder()
                .code(code)
                .message(message)
                .build(),
        )
        .build()
}

/// Asks the remediator to create flow logs for `vpcs`, EC2 answering by `rule`: the outcome
/// per VPC.
async fn create_flow_logs(rule: &Rule, vpcs: &[&str]) -> Result<Vec<(VpcId, Created)>, AwsError> {
    let remediator = AwsRemediator::new(clients(&[rule], &[]));
    let creation = remediator.create_flow_logs(&request(vpcs)).await?;
    Ok(creation.per_vpc)
}

#[tokio::test]
async fn describe_vpcs_follows_every_page() {
    let page = |ids: &[&str], next: Option<&str>| {
        let vpcs: Vec<Vpc> = ids
            .iter()
            .map(|id| Vpc::builder().vpc_id(*id).build())
            .collect();
        DescribeVpcsOutput::builder()
            .set_vpcs(Some(vpcs))
            .set_next_token(next.map(str::to_owned))
            .build()
    };
    let first = mock!(aws_sdk_ec2::Client::describe_vpcs)
        .match_requests(|r| r.next_token().is_none())
        .then_output(move || page(&["vpc-1", "vpc-2"], Some("t2")));
    let second = mock!(aws_sdk_ec2::Client::describe_vpcs)
        .match_requests(|r| r.next_token() == Some("t2"))
        .then_output(move || page(&["vpc-3"], Some("t3")));
    let third = mock!(aws_sdk_ec2::Client::describe_vpcs)
        .match_requests(|r| r.next_token() == Some("t3"))
        .then_output(move || page(&["vpc-4"], None));
    let inventory = AwsInventory::new(clients(&[&first, &second, &third], &[]));
    let vpcs = inventory.vpcs(VpcQuery::All).await.unwrap();
    let ids: Vec<&str> = vpcs.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(ids, ["vpc-1", "vpc-2", "vpc-3", "vpc-4"]);
    assert_eq!(
        (first.num_calls(), second.num_calls(), third.num_calls()),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn describe_flow_logs_follows_every_page_and_filters_by_resource() {
    let fl = |id: &str| {
        FlowLog::builder()
            .flow_log_id(id)
            .resource_id("vpc-1")
            .flow_log_status("ACTIVE")
            .build()
    };
    let first = mock!(aws_sdk_ec2::Client::describe_flow_logs)
        .match_requests(|r| r.next_token().is_none() && r.filter()[0].name() == Some("resource-id"))
        .then_output(move || {
            DescribeFlowLogsOutput::builder()
                .flow_logs(fl("fl-1"))
                .next_token("n")
                .build()
        });
    let second = mock!(aws_sdk_ec2::Client::describe_flow_logs)
        .match_requests(|r| r.next_token() == Some("n"))
        .then_output(move || {
            DescribeFlowLogsOutput::builder()
                .flow_logs(fl("fl-2"))
                .build()
        });
    let inventory = AwsInventory::new(clients(&[&first, &second], &[]));
    let got = inventory
        .flow_logs(FlowLogQuery::Resources(&[VpcId::new("vpc-1")]))
        .await
        .unwrap();
    assert_eq!(got.len(), 2);
}

#[tokio::test]
async fn throttling_keeps_its_code_and_is_retryable() {
    for code in ["RequestLimitExceeded", "ThrottlingException"] {
        let rule = mock!(aws_sdk_ec2::Client::describe_flow_logs)
            .then_error(move || DescribeFlowLogsError::generic(error(code)));
        let inventory = AwsInventory::new(clients(&[&rule], &[]));
        let err = inventory.flow_logs(FlowLogQuery::All).await.unwrap_err();
        assert_eq!(err.code.as_deref(), Some(code));
        assert_eq!(err.operation, "DescribeFlowLogs");
        assert_eq!(classify(&err), Disposition::RetryLater);
    }
}

#[tokio::test]
async fn server_errors_are_retryable() {
    let rule = mock!(aws_sdk_ec2::Client::describe_vpcs)
        .sequence()
        .http_status(503, None)
        .times(5)
        .build();
    let inventory = AwsInventory::new(clients(&[&rule], &[]));
    let err = inventory.vpcs(VpcQuery::All).await.unwrap_err();
    assert_eq!(classify(&err), Disposition::RetryLater, "{err:?}");
}

#[tokio::test]
async fn access_denied_is_permanent() {
    let rule = create_flow_logs_failing("Client.UnauthorizedOperation");
    let err = create_flow_logs(&rule, &["vpc-1"]).await.unwrap_err();
    assert_eq!(err.code.as_deref(), Some("UnauthorizedOperation"));
    assert_eq!(classify(&err), Disposition::GiveUp);
}

#[tokio::test]
async fn top_level_flow_log_already_exists_means_every_vpc() {
    let rule = create_flow_logs_failing("FlowLogAlreadyExists");
    let outcomes = create_flow_logs(&rule, &["vpc-1", "vpc-2"]).await.unwrap();
    assert_eq!(outcomes.len(), 2);
    assert!(
        outcomes
            .iter()
            .all(|(_, o)| matches!(o, Created::AlreadyExists(_)))
    );
}

/// A CreateFlowLogs of vpc-1, vpc-2 and vpc-3 that makes two flow logs and refuses vpc-2.
fn create_two_of_three() -> Rule {
    mock!(aws_sdk_ec2::Client::create_flow_logs)
        .match_requests(|r| {
            r.client_token() == Some("flowguard-0123")
                && r.tag_specifications()[0].tags()[0].key() == Some("managed-by")
                && r.resource_ids().len() == 3
        })
        .then_output(move || {
            CreateFlowLogsOutput::builder()
                .flow_log_ids("fl-1")
                .flow_log_ids("fl-3")
                .unsuccessful(unsuccessful("vpc-2", "FlowLogAlreadyExists", "no"))
                .build()
        })
}

/// EC2 promises no order of the new ids: they are untied from the VPCs of the request, and
/// read back at once, at most 1000 ids a call, each naming its VPC.
#[tokio::test]
async fn unsuccessful_entries_are_per_vpc_and_the_new_ids_are_read_back() {
    let create = create_two_of_three();
    let read_back = mock!(aws_sdk_ec2::Client::describe_flow_logs)
        .match_requests(|r| r.flow_log_ids() == ["fl-1", "fl-3"] && r.filter().is_empty())
        .then_output(|| {
            DescribeFlowLogsOutput::builder()
                .flow_logs(
                    FlowLog::builder()
                        .flow_log_id("fl-1")
                        .resource_id("vpc-3")
                        .build(),
                )
                .flow_logs(
                    FlowLog::builder()
                        .flow_log_id("fl-3")
                        .resource_id("vpc-1")
                        .build(),
                )
                .build()
        });
    let remediator = AwsRemediator::new(clients(&[&create, &read_back], &[]));
    let creation = remediator
        .create_flow_logs(&request(&["vpc-1", "vpc-2", "vpc-3"]))
        .await
        .unwrap();
    let outcomes = &creation.per_vpc;
    assert!(matches!(outcomes[0].1, Created::Created(None)));
    assert!(matches!(outcomes[1].1, Created::AlreadyExists(_)));
    assert!(matches!(outcomes[2].1, Created::Created(None)));
    assert_eq!(
        creation.untied,
        [FlowLogId::new("fl-1"), FlowLogId::new("fl-3")]
    );
    assert_eq!((create.num_calls(), read_back.num_calls()), (1, 0));
    let tied = remediator.vpcs_of(&creation.untied).await;
    assert_eq!(
        tied,
        [
            (FlowLogId::new("fl-1"), VpcId::new("vpc-3")),
            (FlowLogId::new("fl-3"), VpcId::new("vpc-1"))
        ]
    );
    assert_eq!(read_back.num_calls(), 1);
}

#[tokio::test]
async fn a_read_back_of_more_than_1000_ids_is_split_and_a_failed_one_reads_none() {
    let ids: Vec<FlowLogId> = numbered(2500, |i| FlowLogId::new(format!("fl-{i}")));
    let read_back = mock!(aws_sdk_ec2::Client::describe_flow_logs)
        .match_requests(|r| r.flow_log_ids().len() <= 1000)
        .sequence()
        .error(|| DescribeFlowLogsError::generic(error("UnauthorizedOperation")))
        .times(3)
        .build();
    let remediator = AwsRemediator::new(clients(&[&read_back], &[]));
    assert!(remediator.vpcs_of(&ids).await.is_empty());
    assert_eq!(read_back.num_calls(), 3);
}

#[tokio::test]
async fn a_failed_vpc_among_several_is_its_own_failure() {
    let rule = mock!(aws_sdk_ec2::Client::create_flow_logs).then_output(move || {
        CreateFlowLogsOutput::builder()
            .unsuccessful(unsuccessful("vpc-1", "InvalidParameter", "no"))
            .unsuccessful(unsuccessful("vpc-2", "InvalidParameter", "no"))
            .build()
    });
    // Nothing created, nothing to read back.
    let outcomes = create_flow_logs(&rule, &["vpc-1", "vpc-2"]).await.unwrap();
    assert!(matches!(&outcomes[0].1, Created::Failed(e) if e.has_code("InvalidParameter")));
    assert!(matches!(&outcomes[1].1, Created::Failed(e) if e.has_code("InvalidParameter")));
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn a_single_vpc_request_reports_its_flow_log_id() {
    let rule = mock!(aws_sdk_ec2::Client::create_flow_logs).then_output(|| {
        CreateFlowLogsOutput::builder()
            .flow_log_ids("fl-0abc")
            .build()
    });
    let outcomes = create_flow_logs(&rule, &["vpc-1"]).await.unwrap();
    assert!(matches!(&outcomes[0].1, Created::Created(Some(id)) if id.as_str() == "fl-0abc"));
}

#[tokio::test]
async fn the_dry_run_check_reads_the_answer() {
    for (code, want) in [
        ("DryRunOperation", Permission::Allowed),
        ("Client.UnauthorizedOperation", Permission::Denied),
    ] {
        let rule = mock!(aws_sdk_ec2::Client::create_flow_logs)
            .match_requests(|r| r.dry_run() == Some(true))
            .then_error(move || CreateFlowLogsError::generic(error(code)));
        let inventory = AwsInventory::new(clients(&[&rule], &[]));
        assert_eq!(
            inventory
                .check_create_flow_logs(&request(&["vpc-1"]))
                .await
                .unwrap(),
            want
        );
    }
}

#[tokio::test]
async fn log_groups_are_looked_up_by_name_at_most_50_per_call_never_listed() {
    use aws_sdk_cloudwatchlogs::types::LogGroup;
    // 120 per-VPC groups: three calls of at most 50 identifiers each, no prefix, ever.
    let names = numbered(120, |i| LogGroupName::new(format!("/fl/vpc-{i:03}")));
    let rule = mock!(aws_sdk_cloudwatchlogs::Client::describe_log_groups)
        .match_requests(|r| {
            r.log_group_name_prefix().is_none()
                && r.log_group_identifiers().len() <= 50
                && !r.log_group_identifiers().is_empty()
        })
        .then_output(|| {
            // An endpoint that ignores the identifiers: the adapter keeps only the names asked.
            DescribeLogGroupsOutput::builder()
                .log_groups(
                    LogGroup::builder()
                        .log_group_name("/fl/vpc-007")
                        .retention_in_days(30)
                        .build(),
                )
                .log_groups(LogGroup::builder().log_group_name("/other").build())
                .build()
        });
    let inventory = AwsInventory::new(clients(&[], &[&rule]));
    let found = inventory.log_groups(&names).await.unwrap();
    let got: Vec<&str> = found.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(got, ["/fl/vpc-007"; 3], "only the names asked for");
    assert_eq!(rule.num_calls(), 3);
}

#[tokio::test]
async fn describe_vpcs_by_id_sends_at_most_200_filter_values() {
    let ids = numbered(450, |i| VpcId::new(format!("vpc-{i:04}")));
    let rule = mock!(aws_sdk_ec2::Client::describe_vpcs)
        .match_requests(|r| r.filters().iter().all(|f| f.values().len() <= 200))
        .then_output(|| DescribeVpcsOutput::builder().build());
    let flow_logs = mock!(aws_sdk_ec2::Client::describe_flow_logs)
        .match_requests(|r| r.filter().iter().all(|f| f.values().len() <= 200))
        .then_output(|| DescribeFlowLogsOutput::builder().build());
    let inventory = AwsInventory::new(clients(&[&rule, &flow_logs], &[]));
    inventory.vpcs(VpcQuery::Ids(&ids)).await.unwrap();
    inventory
        .flow_logs(FlowLogQuery::Resources(&ids))
        .await
        .unwrap();
    assert_eq!((rule.num_calls(), flow_logs.num_calls()), (3, 3));
}

#[tokio::test]
async fn owner_creation_time_and_delivery_error_are_read() {
    use aws_sdk_ec2::primitives::DateTime;
    let vpcs = mock!(aws_sdk_ec2::Client::describe_vpcs).then_output(|| {
        DescribeVpcsOutput::builder()
            .vpcs(
                Vpc::builder()
                    .vpc_id("vpc-shared")
                    .owner_id("210987654321")
                    .build(),
            )
            .build()
    });
    let flow_logs = mock!(aws_sdk_ec2::Client::describe_flow_logs).then_output(|| {
        DescribeFlowLogsOutput::builder()
            .flow_logs(
                FlowLog::builder()
                    .flow_log_id("fl-1")
                    .resource_id("vpc-1")
                    .flow_log_status("ACTIVE")
                    .traffic_type(aws_sdk_ec2::types::TrafficType::Reject)
                    .deliver_logs_status("FAILED")
                    .deliver_logs_error_message("Rate limited")
                    .deliver_logs_permission_arn("arn:aws:iam::123456789012:role/fl")
                    .max_aggregation_interval(60)
                    .creation_time(DateTime::from_secs(1_700_000_000))
                    .log_destination_type(aws_sdk_ec2::types::LogDestinationType::CloudWatchLogs)
                    // Given by ARN only, with no LogGroupName: the group is read from the ARN.
                    .log_destination("arn:aws:logs:us-east-1:123456789012:log-group:/by/arn:*")
                    .build(),
            )
            .build()
    });
    let inventory = AwsInventory::new(clients(&[&vpcs, &flow_logs], &[]));
    let vpc = &inventory.vpcs(VpcQuery::All).await.unwrap()[0];
    assert_eq!(vpc.owner_id.as_deref(), Some("210987654321"));
    assert!(vpc.is_owned_by_another("123456789012"));
    let fl = &inventory.flow_logs(FlowLogQuery::All).await.unwrap()[0];
    assert_eq!(fl.deliver_error.as_deref(), Some("Rate limited"));
    assert_eq!(fl.created_at, Some(1_700_000_000));
    assert_eq!(fl.max_aggregation_interval, Some(60));
    assert_eq!(
        fl.delivery_role_arn.as_deref(),
        Some("arn:aws:iam::123456789012:role/fl")
    );
    assert_eq!(fl.log_group(), Some(&LogGroupName::new("/by/arn")));
}

#[tokio::test]
async fn numeric_5xx_codes_in_unsuccessful_entries_are_retryable() {
    let rule = mock!(aws_sdk_ec2::Client::create_flow_logs).then_output(|| {
        CreateFlowLogsOutput::builder()
            .unsuccessful(unsuccessful("vpc-1", "503", "Service Unavailable"))
            .build()
    });
    let outcomes = create_flow_logs(&rule, &["vpc-1"]).await.unwrap();
    let Created::Failed(e) = &outcomes[0].1 else {
        panic!("{outcomes:?}")
    };
    assert_eq!(classify(e), Disposition::RetryLater);
}

#[test]
fn an_unreadable_response_is_retryable() {
    use aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsError;
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::client::result::SdkError;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    // The SDK's ResponseError: a response arrived and could not be read (cut short).
    let raw = HttpResponse::new(StatusCode::try_from(200).unwrap(), SdkBody::from("<Descr"));
    let err: SdkError<DescribeVpcsError, HttpResponse> =
        SdkError::response_error("unexpected end of the response body", raw);
    let error = flowguard_aws::error::aws_error("DescribeVpcs", err);
    assert_eq!(error.fault, flowguard_core::Fault::Response);
    assert_eq!(classify(&error), Disposition::RetryLater, "{error:?}");
}

/// The S3 policy of the tests below: a bucket with a prefix, every option set.
fn s3_policy() -> flowguard_core::Policy {
    fake::s3_policy(
        "arn:aws:s3:::log-archive/vpc/",
        "${version} ${vpc-id} ${action}",
    )
}

fn one_vpc() -> Rule {
    mock!(aws_sdk_ec2::Client::describe_vpcs).then_output(|| {
        DescribeVpcsOutput::builder()
            .vpcs(
                Vpc::builder()
                    .vpc_id("vpc-1")
                    .owner_id("123456789012")
                    .build(),
            )
            .build()
    })
}

/// EC2 refuses `DeliverLogsPermissionArn` for an S3 destination (moto does not): the engine's
/// S3 request carries the bucket, its prefix, the format and every `DestinationOptions`, and
/// no role, so the refusing rule is never reached.
#[tokio::test]
async fn an_s3_remediation_sends_the_bucket_and_options_and_no_delivery_role() {
    use aws_sdk_ec2::types::{DestinationFileFormat, LogDestinationType};
    let no_flow_logs = mock!(aws_sdk_ec2::Client::describe_flow_logs)
        .then_output(|| DescribeFlowLogsOutput::builder().build());
    let with_role = mock!(aws_sdk_ec2::Client::create_flow_logs)
        .match_requests(|r| r.deliver_logs_permission_arn().is_some())
        .then_error(|| {
            CreateFlowLogsError::generic(
                ErrorMetadata::builder()
                    .code("InvalidParameter")
                    .message("DeliverLogsPermissionArn is not applicable for s3 delivery")
                    .build(),
            )
        });
    let as_ec2_wants = mock!(aws_sdk_ec2::Client::create_flow_logs)
        .match_requests(|r| {
            let options = r.destination_options();
            r.log_destination_type() == Some(&LogDestinationType::S3)
                && r.log_destination() == Some("arn:aws:s3:::log-archive/vpc/")
                && r.log_group_name().is_none()
                && r.log_format() == Some("${version} ${vpc-id} ${action}")
                && options.and_then(|o| o.file_format()) == Some(&DestinationFileFormat::Parquet)
                && options.and_then(|o| o.hive_compatible_partitions()) == Some(true)
                && options.and_then(|o| o.per_hour_partition()) == Some(true)
        })
        .then_output(|| {
            CreateFlowLogsOutput::builder()
                .flow_log_ids("fl-new")
                .build()
        });
    remediated_into_s3(&[&no_flow_logs, &with_role, &as_ec2_wants]).await;
    assert_eq!((as_ec2_wants.num_calls(), with_role.num_calls()), (1, 0));
}

/// An enforcing sweep of one VPC into S3 with these EC2 answers: the VPC ends remediated.
async fn remediated_into_s3(ec2: &[&Rule]) -> flowguard_core::Report {
    let vpcs = one_vpc();
    let rules: Vec<&Rule> = std::iter::once(&vpcs).chain(ec2.iter().copied()).collect();
    let report = sweep(
        clients(&rules, &[]),
        &s3_policy(),
        flowguard_aws::Mode::Enforce,
    )
    .await
    .unwrap();
    assert_eq!(
        report.vpcs[0].status,
        flowguard_core::VpcStatus::Remediated,
        "{report}"
    );
    report
}

/// A flow log into S3 that is failing delivery (moto never fails one): flowguard's own, over
/// an hour old, is replaced; someone else's does not count and is never deleted; the reason
/// points at the bucket policy, not at a delivery role.
#[tokio::test]
async fn an_s3_flow_log_failing_delivery_does_not_count_and_only_ours_is_replaced() {
    use aws_sdk_ec2::operation::delete_flow_logs::DeleteFlowLogsOutput;
    use aws_sdk_ec2::primitives::DateTime;
    use aws_sdk_ec2::types::{LogDestinationType, Tag};
    let failing = |id: &str, ours: bool| {
        let mut fl = FlowLog::builder()
            .flow_log_id(id)
            .resource_id("vpc-1")
            .flow_log_status("ACTIVE")
            .traffic_type(aws_sdk_ec2::types::TrafficType::Reject)
            .deliver_logs_status("FAILED")
            .deliver_logs_error_message("Access error")
            .creation_time(DateTime::from_secs(1_700_000_000))
            .log_destination_type(LogDestinationType::S3)
            .log_destination("arn:aws:s3:::log-archive/vpc/")
            .log_format("${version} ${vpc-id} ${action}");
        if ours {
            fl = fl.tags(Tag::builder().key("managed-by").value("flowguard").build());
        }
        fl.build()
    };
    let flow_logs = mock!(aws_sdk_ec2::Client::describe_flow_logs).then_output(move || {
        DescribeFlowLogsOutput::builder()
            .flow_logs(failing("fl-theirs", false))
            .flow_logs(failing("fl-ours", true))
            .build()
    });
    let audit_vpcs = one_vpc();
    let audit = sweep(
        clients(&[&audit_vpcs, &flow_logs], &[]),
        &s3_policy(),
        flowguard_aws::Mode::Audit,
    )
    .await
    .unwrap();
    let line = &audit.vpcs[0];
    assert_eq!(
        line.status,
        flowguard_core::VpcStatus::WouldRemediate,
        "{audit}"
    );
    assert!(!line.checks.delivering);
    assert!(line.reason.contains("failing delivery"), "{}", line.reason);

    let delete = mock!(aws_sdk_ec2::Client::delete_flow_logs)
        .match_requests(|r| r.flow_log_ids() == ["fl-ours"])
        .then_output(|| DeleteFlowLogsOutput::builder().build());
    let create = mock!(aws_sdk_ec2::Client::create_flow_logs)
        .match_requests(|r| r.deliver_logs_permission_arn().is_none())
        .then_output(|| {
            CreateFlowLogsOutput::builder()
                .flow_log_ids("fl-new")
                .build()
        });
    let report = remediated_into_s3(&[&flow_logs, &delete, &create]).await;
    assert_eq!((delete.num_calls(), create.num_calls()), (1, 1));
    let deleted: Vec<&str> = report
        .actions
        .iter()
        .filter(|a| a.action == flowguard_core::ActionKind::DeleteFlowLogs)
        .map(|a| a.target.as_str())
        .collect();
    assert_eq!(deleted, ["fl-ours"], "never someone else's: {report}");
    assert!(
        report.actions[0]
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("bucket policy")),
        "{report}"
    );
}

#[tokio::test]
async fn an_unreachable_endpoint_is_its_causes_in_one_line_without_the_sdks_debug_dump() {
    // Nothing listens on port 1: the SDK's dispatch failure, retried, then reported.
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("eu-west-1"))
        .endpoint_url("http://127.0.0.1:1")
        .credentials_provider(aws_credential_types::Credentials::new(
            "AKIDTEST", "secret", None, None, "test",
        ))
        .load()
        .await;
    let inventory = AwsInventory::new(flowguard_aws::Clients::new(&config));
    let error = inventory.vpcs(VpcQuery::All).await.unwrap_err();
    assert_eq!(error.code, None);
    assert!(
        error.message.starts_with("dispatch failure"),
        "{}",
        error.message
    );
    assert!(
        !error.message.contains("DispatchFailure") && !error.message.contains('{'),
        "{}",
        error.message
    );
    assert!(error.message.len() < 200, "{}", error.message);
}
