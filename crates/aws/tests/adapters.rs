//! Adapter tests with aws-smithy-mocks: the error paths and pagination that a local
//! emulator cannot produce on demand.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aws_sdk_cloudwatchlogs::operation::describe_log_groups::DescribeLogGroupsOutput;
use aws_sdk_ec2::operation::create_flow_logs::{CreateFlowLogsError, CreateFlowLogsOutput};
use aws_sdk_ec2::operation::describe_flow_logs::{DescribeFlowLogsError, DescribeFlowLogsOutput};
use aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsOutput;
use aws_sdk_ec2::types::{FlowLog, UnsuccessfulItem, UnsuccessfulItemError, Vpc};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use aws_smithy_types::error::ErrorMetadata;
use flowguard_aws::{AwsInventory, AwsRemediator, Clients};
use flowguard_core::{
    Created, Disposition, FlowLogQuery, FlowLogRequest, Inventory, LogGroupName, Permission,
    Remediator, TrafficType, VpcId, VpcQuery, classify,
};

fn clients(ec2: &[&Rule], logs: &[&Rule]) -> Clients {
    Clients {
        ec2: mock_client!(aws_sdk_ec2, RuleMode::MatchAny, ec2),
        logs: mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, logs),
        iam: mock_client!(aws_sdk_iam, RuleMode::MatchAny, &[]),
        sts: mock_client!(aws_sdk_sts, RuleMode::MatchAny, &[]),
    }
}

fn ec2_error(code: &str) -> ErrorMetadata {
    ErrorMetadata::builder()
        .code(code)
        .message(format!("{code} happened"))
        .build()
}

fn request(vpcs: &[&str]) -> FlowLogRequest {
    FlowLogRequest {
        vpcs: vpcs.iter().map(|v| VpcId::new(*v)).collect(),
        log_group: LogGroupName::new("/vpc/flow-logs"),
        delivery_role_arn: "arn:aws:iam::123456789012:role/flow-logs".into(),
        traffic_type: TrafficType::Reject,
        max_aggregation_interval: 600,
        client_token: "flowguard-0123".into(),
    }
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
            .then_error(move || DescribeFlowLogsError::generic(ec2_error(code)));
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
    let rule = mock!(aws_sdk_ec2::Client::create_flow_logs)
        .then_error(|| CreateFlowLogsError::generic(ec2_error("Client.UnauthorizedOperation")));
    let remediator = AwsRemediator::new(clients(&[&rule], &[]));
    let err = remediator
        .create_flow_logs(&request(&["vpc-1"]))
        .await
        .unwrap_err();
    assert_eq!(err.code.as_deref(), Some("UnauthorizedOperation"));
    assert_eq!(classify(&err), Disposition::GiveUp);
}

#[tokio::test]
async fn top_level_flow_log_already_exists_means_every_vpc() {
    let rule = mock!(aws_sdk_ec2::Client::create_flow_logs)
        .then_error(|| CreateFlowLogsError::generic(ec2_error("FlowLogAlreadyExists")));
    let remediator = AwsRemediator::new(clients(&[&rule], &[]));
    let outcomes = remediator
        .create_flow_logs(&request(&["vpc-1", "vpc-2"]))
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 2);
    assert!(
        outcomes
            .iter()
            .all(|(_, o)| matches!(o, Created::AlreadyExists(_)))
    );
}

#[tokio::test]
async fn unsuccessful_entries_are_per_vpc() {
    let item = |vpc: &str, code: &str| {
        UnsuccessfulItem::builder()
            .resource_id(vpc)
            .error(
                UnsuccessfulItemError::builder()
                    .code(code)
                    .message("no")
                    .build(),
            )
            .build()
    };
    let rule = mock!(aws_sdk_ec2::Client::create_flow_logs)
        .match_requests(|r| {
            r.client_token() == Some("flowguard-0123")
                && r.tag_specifications()[0].tags()[0].key() == Some("managed-by")
                && r.resource_ids().len() == 3
        })
        .then_output(move || {
            CreateFlowLogsOutput::builder()
                .flow_log_ids("fl-1")
                .unsuccessful(item("vpc-2", "FlowLogAlreadyExists"))
                .unsuccessful(item("vpc-3", "InvalidParameter"))
                .build()
        });
    let remediator = AwsRemediator::new(clients(&[&rule], &[]));
    let outcomes = remediator
        .create_flow_logs(&request(&["vpc-1", "vpc-2", "vpc-3"]))
        .await
        .unwrap();
    assert!(
        matches!(outcomes[0].1, Created::Created(None)),
        "batch ids are not attributed"
    );
    assert!(matches!(outcomes[1].1, Created::AlreadyExists(_)));
    assert!(matches!(&outcomes[2].1, Created::Failed(e) if e.has_code("InvalidParameter")));
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn a_single_vpc_request_reports_its_flow_log_id() {
    let rule = mock!(aws_sdk_ec2::Client::create_flow_logs).then_output(|| {
        CreateFlowLogsOutput::builder()
            .flow_log_ids("fl-0abc")
            .build()
    });
    let remediator = AwsRemediator::new(clients(&[&rule], &[]));
    let outcomes = remediator
        .create_flow_logs(&request(&["vpc-1"]))
        .await
        .unwrap();
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
            .then_error(move || CreateFlowLogsError::generic(ec2_error(code)));
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
async fn many_log_groups_are_listed_under_their_common_prefix_in_one_paginated_listing() {
    use aws_sdk_cloudwatchlogs::types::LogGroup;
    let group = |name: &str, days: Option<i32>| {
        LogGroup::builder()
            .log_group_name(name)
            .set_retention_in_days(days)
            .build()
    };
    let first = mock!(aws_sdk_cloudwatchlogs::Client::describe_log_groups)
        .match_requests(|r| {
            r.log_group_name_prefix() == Some("/fl/vpc-") && r.next_token().is_none()
        })
        .then_output(move || {
            DescribeLogGroupsOutput::builder()
                .log_groups(group("/fl/vpc-1", Some(30)))
                .next_token("p2")
                .build()
        });
    let second = mock!(aws_sdk_cloudwatchlogs::Client::describe_log_groups)
        .match_requests(|r| r.next_token() == Some("p2"))
        .then_output(move || {
            DescribeLogGroupsOutput::builder()
                .log_groups(group("/fl/vpc-5", None))
                .log_groups(group("/fl/vpc-99", None))
                .build()
        });
    let inventory = AwsInventory::new(clients(&[], &[&first, &second]));
    let names: Vec<LogGroupName> = (1..=5)
        .map(|i| LogGroupName::new(format!("/fl/vpc-{i}")))
        .collect();
    let found = inventory.log_groups(&names).await.unwrap();
    let got: Vec<&str> = found.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(got, ["/fl/vpc-1", "/fl/vpc-5"], "only the names asked for");
    assert_eq!(first.num_calls() + second.num_calls(), 2);
}
