//! Every captured event and every variant the design contract names, read into a trigger.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{assert_contains, fixture};
use flowguard_core::trigger::{InvalidEvent, Target, TriggerKind, parse_event};
use flowguard_core::{LogGroupName, VpcId};

#[test]
fn create_vpc_reconciles_the_new_vpc() {
    let t = parse_event(&fixture("create_vpc.json")).unwrap();
    assert_eq!(
        t.target,
        Target::Vpcs(vec![VpcId::new("vpc-0a71e831cb5152c43")])
    );
    assert_eq!(t.event_name.as_deref(), Some("CreateVpc"));
    assert_eq!(
        t.event_id.as_deref(),
        Some("e3f9c65c-6b72-3ce4-b1f3-20494cbc87e0")
    );
    assert_eq!(t.region.as_deref(), Some("us-east-1"));
    assert_eq!(t.account.as_deref(), Some("123456789012"));
    assert_eq!(t.time, Some(1_551_108_787));
}

#[test]
fn delete_flow_logs_sweeps_and_names_the_ids() {
    let t = parse_event(&fixture("delete_flow_logs.json")).unwrap();
    assert_eq!(t.target, Target::Sweep);
    assert!(t.reason.contains("fl-07a9b55570fe770b6"), "{}", t.reason);
}

#[test]
fn delete_log_group_reconciles_the_group() {
    let t = parse_event(&fixture("delete_log_group.json")).unwrap();
    assert_eq!(
        t.target,
        Target::LogGroup(LogGroupName::new("cloudtrail-log-group-test"))
    );
    assert_eq!(t.target.kind(), TriggerKind::LogGroup);
}

#[test]
fn scheduled_event_sweeps() {
    let t = parse_event(&fixture("scheduled_event.json")).unwrap();
    assert_eq!(t.target, Target::Sweep);
    assert_eq!(t.reason, "scheduled sweep");
    assert_eq!(t.event_name, None);
}

#[test]
fn variants() {
    let cases: [(&str, TriggerKind, &str); 12] = [
        (
            "create_vpc_failed.json",
            TriggerKind::Ignored,
            "UnauthorizedOperation",
        ),
        (
            "create_vpc_no_response.json",
            TriggerKind::Sweep,
            "sweeping",
        ),
        ("create_vpc_detail_region.json", TriggerKind::Vpc, "created"),
        (
            "create_default_vpc.json",
            TriggerKind::Vpc,
            "vpc-0d1e2f3a4b5c6d7e8",
        ),
        (
            "create_default_vpc_no_id.json",
            TriggerKind::Sweep,
            "CreateDefaultVpc",
        ),
        (
            "delete_flow_logs_many.json",
            TriggerKind::Sweep,
            "fl-0aaa1111bbbb22223, fl-0ccc3333dddd44445",
        ),
        (
            "delete_flow_logs_unreadable.json",
            TriggerKind::Sweep,
            "unreadable",
        ),
        (
            "delete_flow_logs_failed.json",
            TriggerKind::Ignored,
            "InvalidFlowLogId.NotFound",
        ),
        (
            "put_retention_policy.json",
            TriggerKind::LogGroup,
            "/vpc/flow-logs",
        ),
        (
            "delete_retention_policy.json",
            TriggerKind::LogGroup,
            "/vpc/flow-logs",
        ),
        (
            "delete_managed_log_group.json",
            TriggerKind::LogGroup,
            "/vpc/flow-logs",
        ),
        (
            "unrelated_s3_call.json",
            TriggerKind::Ignored,
            "CreateBucket",
        ),
    ];
    for (file, kind, needle) in cases {
        let t = parse_event(&fixture(&format!("variants/{file}"))).unwrap();
        assert_eq!(t.target.kind(), kind, "{file}: {t:?}");
        assert_contains(file, &t.reason, needle);
    }
}

#[test]
fn region_and_account_fall_back_to_the_detail() {
    let t = parse_event(&fixture("variants/create_vpc_detail_region.json")).unwrap();
    assert_eq!(t.region.as_deref(), Some("eu-west-1"));
    assert_eq!(t.account.as_deref(), Some("210987654321"));
}

#[test]
fn invalid_inputs_are_permanent_errors_that_name_the_problem() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let huge = format!("{{\"x\":\"{}\"}}", "a".repeat(2 * 1024 * 1024));
    let cases: [(&[u8], &str); 12] = [
        (b"", "empty"),
        (b"  \n", "empty"),
        (b"not json", "not JSON"),
        (b"{", "not JSON"),
        (b"[]", "array"),
        (b"42", "number"),
        (b"null", "null"),
        (b"{}", "no \"detail-type\""),
        (
            br#"{"detail-type": 1, "source": "aws.ec2", "detail": {}}"#,
            "\"detail-type\" is a number",
        ),
        (
            br#"{"detail-type": "x", "source": "aws.ec2"}"#,
            "no \"detail\"",
        ),
        (
            br#"{"detail-type": "x", "source": "aws.ec2", "detail": []}"#,
            "\"detail\" is an array",
        ),
        (deep.as_bytes(), "recursion limit"),
    ];
    for (input, needle) in cases {
        let err = parse_event(input).unwrap_err();
        assert!(err.to_string().contains(needle), "{err} lacks {needle}");
    }
    assert!(matches!(
        parse_event(huge.as_bytes()),
        Err(InvalidEvent::TooLarge(_))
    ));
}

#[test]
fn unknown_but_well_formed_events_are_ignored_with_a_reason() {
    let cases = [
        (
            r#"{"detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2", "detail": {}}"#,
            "not an event",
        ),
        (
            r#"{"detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2", "detail": {}}"#,
            "without an eventName",
        ),
        (
            r#"{"detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2", "detail": {"eventName": "RunInstances"}}"#,
            "RunInstances",
        ),
        (
            r#"{"detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2", "detail": {"eventName": "CreateVpc", "errorCode": 7}}"#,
            "failed (7)",
        ),
    ];
    for (input, needle) in cases {
        let t = parse_event(input.as_bytes()).unwrap();
        assert_eq!(t.target, Target::Ignored);
        assert!(t.reason.contains(needle), "{} lacks {needle}", t.reason);
    }
}

#[test]
fn a_malformed_vpc_id_falls_back_to_a_sweep() {
    let input = r#"{"detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2",
        "detail": {"eventName": "CreateVpc", "responseElements": {"vpc": {"vpcId": "vpc-<script>"}}}}"#;
    assert_eq!(parse_event(input.as_bytes()).unwrap().target, Target::Sweep);
}
