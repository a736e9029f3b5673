//! The reconcile loop over the in-memory fake of the ports.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use flowguard_core::fake::FakeRegion;
use flowguard_core::observed::Retention::Days;
use flowguard_core::policy::{Policy, TrafficType::Reject};
use flowguard_core::reconcile::{ReconcileError, Run, audit, dry_run, enforce};
use flowguard_core::trigger::{Target, Trigger};
use flowguard_core::{ActionResult, AwsError, Outcome, Permission, Report, VpcId, VpcStatus};
use futures::executor::block_on;

fn policy() -> Policy {
    Policy {
        delivery_role_arn: Some("arn:aws:iam::123456789012:role/flow-logs".into()),
        ..Policy::default()
    }
}

fn vpc_trigger(id: &str) -> Trigger {
    Trigger {
        target: Target::Vpcs(vec![VpcId::new(id)]),
        event_name: Some("CreateVpc".into()),
        event_id: Some("event-1".into()),
        reason: "test".into(),
        region: None,
        account: None,
        time: Some(1_000),
    }
}

fn run<'a>(policy: &'a Policy, trigger: &'a Trigger) -> Run<'a> {
    Run {
        policy,
        place: place(),
        trigger,
        now: Some(10_000),
        run_id: "run-1".into(),
    }
}

fn enforce_on(fake: &FakeRegion, policy: &Policy, trigger: &Trigger) -> Report {
    block_on(enforce(fake, fake, &run(policy, trigger))).unwrap()
}

#[test]
fn create_vpc_on_a_steady_account_makes_four_calls() {
    let fake = FakeRegion::new(state(&["vpc-1", "vpc-2"], vec![], &[(MANAGED, Days(365))]));
    let report = enforce_on(&fake, &policy(), &vpc_trigger("vpc-1"));
    assert_eq!(report.summary.vpcs.remediated, 1);
    assert_eq!(
        report.vpcs.len(),
        1,
        "only the VPC of the event is looked at"
    );
    assert_eq!(
        fake.calls(),
        [
            "DescribeVpcs",
            "DescribeFlowLogs",
            "DescribeLogGroups",
            "CreateFlowLogs"
        ]
    );
    let after = fake.state();
    assert_eq!(after.flow_logs.len(), 1);
    assert!(after.flow_logs[0].is_managed());
}

#[test]
fn running_twice_changes_nothing_the_second_time() {
    let fake = FakeRegion::new(state(&["vpc-1", "vpc-2"], vec![], &[]));
    let sweep = Trigger::manual_sweep("test");
    let first = enforce_on(&fake, &policy(), &sweep);
    assert_eq!(first.summary.vpcs.remediated, 2);
    assert_eq!(first.outcome(), Outcome::Ok);
    let state = fake.state();
    let second = enforce_on(&fake, &policy(), &sweep);
    assert!(second.actions.is_empty(), "{second}");
    assert_eq!(second.summary.vpcs.compliant, 2);
    assert_eq!(fake.state(), state);
}

#[test]
fn dry_run_makes_no_mutating_call_and_checks_permission() {
    let fake = FakeRegion::new(state(&["vpc-1"], vec![], &[(MANAGED, Days(30))]));
    let before = fake.state();
    let report = block_on(dry_run(
        &fake,
        &run(&policy(), &Trigger::manual_sweep("test")),
    ))
    .unwrap();
    assert!(report.dry_run);
    assert_eq!(report.summary.vpcs.would_remediate, 1);
    assert_eq!(report.summary.actions.planned, 2);
    let create = report.actions.iter().find(|a| a.target == "vpc-1").unwrap();
    assert_eq!(create.permission, Some(Permission::Allowed));
    assert_eq!(fake.state(), before);
    assert!(
        fake.calls()
            .iter()
            .all(|c| c.starts_with("Describe") || *c == "CreateFlowLogs(DryRun)"),
        "{:?}",
        fake.calls()
    );
}

#[test]
fn dry_run_without_a_role_reports_it() {
    let fake = FakeRegion::new(state(&["vpc-1"], vec![], &[(MANAGED, Days(365))]));
    let report = block_on(dry_run(
        &fake,
        &run(&Policy::default(), &Trigger::manual_sweep("t")),
    ))
    .unwrap();
    assert_eq!(report.actions[0].permission, Some(Permission::Unchecked));
    assert!(report.warnings[0].contains("FLOWGUARD_DELIVERY_ROLE_ARN"));
}

#[test]
fn enforce_without_a_role_is_refused_before_any_call() {
    let fake = FakeRegion::new(state(&["vpc-1"], vec![], &[]));
    let err = block_on(enforce(
        &fake,
        &fake,
        &run(&Policy::default(), &Trigger::manual_sweep("t")),
    ))
    .unwrap_err();
    assert!(err.to_string().contains("FLOWGUARD_DELIVERY_ROLE_ARN"));
    assert!(fake.calls().is_empty());
}

#[test]
fn audit_never_checks_permissions() {
    let fake = FakeRegion::new(state(&["vpc-1"], vec![], &[]));
    let report = block_on(audit(&fake, &run(&policy(), &Trigger::manual_sweep("t")))).unwrap();
    assert_eq!(report.summary.vpcs.would_remediate, 1);
    assert!(report.actions.iter().all(|a| a.permission.is_none()));
    assert!(!fake.calls().contains(&"CreateFlowLogs(DryRun)"));
}

#[test]
fn already_exists_and_compliant_is_already_done() {
    // Another run created the flow log between our read and our write: the first read is
    // stale, the fake answers FlowLogAlreadyExists, and the re-read finds the VPC compliant.
    let fake = FakeRegion::new(state(
        &["vpc-1"],
        vec![ours(flow_log("fl-1", "vpc-1", Reject, MANAGED))],
        &[(MANAGED, Days(365))],
    ));
    fake.stale_flow_log_reads(1);
    let report = enforce_on(&fake, &policy(), &vpc_trigger("vpc-1"));
    assert_eq!(
        report.actions[0].result,
        ActionResult::AlreadyDone,
        "{report}"
    );
    assert_eq!(report.vpcs[0].status, VpcStatus::Remediated);
    assert_eq!(report.outcome(), Outcome::Ok);
    assert_eq!(fake.state().flow_logs.len(), 1, "never two flow logs");
}

#[test]
fn a_batch_refused_for_one_duplicate_is_retried_for_the_others() {
    // vpc-2 got its flow log from a concurrent run; the batch [vpc-1, vpc-2, vpc-3] is refused
    // as a whole after vpc-1 was created (moto's behaviour); vpc-3 must still get one.
    let fake = FakeRegion::new(state(
        &["vpc-1", "vpc-2", "vpc-3"],
        vec![ours(flow_log("fl-2", "vpc-2", Reject, MANAGED))],
        &[(MANAGED, Days(365))],
    ));
    fake.stale_flow_log_reads(1);
    fake.whole_batch_duplicates();
    let report = enforce_on(&fake, &policy(), &Trigger::manual_sweep("t"));
    assert_eq!(report.summary.vpcs.remediated, 3, "{report}");
    assert_eq!(report.outcome(), Outcome::Ok);
    let after = fake.state();
    for vpc in ["vpc-1", "vpc-2", "vpc-3"] {
        assert_eq!(
            after
                .flow_logs
                .iter()
                .filter(|fl| fl.resource_id == vpc)
                .count(),
            1,
            "{vpc}"
        );
    }
    let writes: Vec<&str> = fake
        .calls()
        .into_iter()
        .filter(|c| !c.starts_with("Describe"))
        .collect();
    assert_eq!(writes, ["CreateFlowLogs", "CreateFlowLogs"]);
}

#[test]
fn a_retention_it_may_not_raise_on_someone_elses_group_falls_back_to_its_own_flow_log() {
    let fake = FakeRegion::new(state(
        &["vpc-1"],
        vec![flow_log("fl-theirs", "vpc-1", Reject, "/team/short")],
        &[(MANAGED, Days(365)), ("/team/short", Days(30))],
    ));
    fake.fail(
        "PutRetentionPolicy",
        AwsError::service(
            "PutRetentionPolicy",
            "AccessDeniedException",
            "not authorized",
        ),
    );
    let report = enforce_on(&fake, &policy(), &Trigger::manual_sweep("t"));
    assert_eq!(report.vpcs[0].status, VpcStatus::Remediated, "{report}");
    assert_eq!(report.outcome(), Outcome::Ok);
    let raise = report
        .actions
        .iter()
        .find(|a| a.target == "/team/short")
        .unwrap();
    assert!(raise.result == ActionResult::Failed && raise.superseded);
    let after = fake.state();
    assert_eq!(
        after.log_groups[&"/team/short".into()].retention,
        Days(30),
        "left as it was"
    );
    assert!(
        after
            .flow_logs
            .iter()
            .any(|fl| fl.is_managed() && fl.log_group() == Some(&MANAGED.into()))
    );
    assert!(
        after
            .flow_logs
            .iter()
            .any(|fl| fl.id.as_str() == "fl-theirs"),
        "theirs untouched"
    );
}

#[test]
fn a_failed_group_creation_fails_the_vpcs_that_need_it_and_is_retryable() {
    let fake = FakeRegion::new(state(&["vpc-1"], vec![], &[]));
    fake.fail(
        "CreateLogGroup",
        AwsError::service("CreateLogGroup", "ThrottlingException", "Rate exceeded"),
    );
    let report = enforce_on(&fake, &policy(), &Trigger::manual_sweep("t"));
    assert_eq!(report.summary.vpcs.failed, 1);
    assert_eq!(report.outcome(), Outcome::Failed { retryable: true });
    assert!(
        report
            .actions
            .iter()
            .all(|a| a.result == ActionResult::Failed)
    );
    assert!(
        !fake.calls().contains(&"CreateFlowLogs"),
        "no flow log into a missing group"
    );
}

#[test]
fn access_denied_is_permanent() {
    let fake = FakeRegion::new(state(&["vpc-1"], vec![], &[(MANAGED, Days(365))]));
    fake.fail(
        "CreateFlowLogs",
        AwsError::service(
            "CreateFlowLogs",
            "Client.UnauthorizedOperation",
            "not authorized",
        ),
    );
    let report = enforce_on(&fake, &policy(), &Trigger::manual_sweep("t"));
    assert_eq!(report.outcome(), Outcome::Failed { retryable: false });
    let failed = &report.actions[0];
    assert_eq!(failed.error_code.as_deref(), Some("UnauthorizedOperation"));
    assert_eq!(report.vpcs[0].status, VpcStatus::Failed);
}

#[test]
fn a_read_failure_is_an_error_with_its_disposition() {
    let fake = FakeRegion::new(state(&["vpc-1"], vec![], &[]));
    fake.fail(
        "DescribeFlowLogs",
        AwsError::service("DescribeFlowLogs", "RequestLimitExceeded", "slow down"),
    );
    let err = block_on(enforce(
        &fake,
        &fake,
        &run(&policy(), &Trigger::manual_sweep("t")),
    ))
    .unwrap_err();
    assert!(err.is_retryable());
    assert!(err.to_string().contains("RequestLimitExceeded"));
}

#[test]
fn a_new_vpc_not_yet_visible_is_retried_then_gone() {
    let fake = FakeRegion::new(state(&[], vec![], &[(MANAGED, Days(365))]));
    let p = policy();
    let trigger = vpc_trigger("vpc-new");
    let fresh = Run {
        now: Some(1_010),
        ..run(&p, &trigger)
    };
    let err = block_on(enforce(&fake, &fake, &fresh)).unwrap_err();
    assert!(matches!(err, ReconcileError::NotYetVisible(_)) && err.is_retryable());
    let later = Run {
        now: Some(5_000),
        ..run(&p, &trigger)
    };
    let report = block_on(enforce(&fake, &fake, &later)).unwrap();
    assert_eq!(report.vpcs[0].status, VpcStatus::Gone);
    assert_eq!(report.outcome(), Outcome::Ok);
}

#[test]
fn foreign_failing_flow_logs_are_never_deleted() {
    let mut theirs = flow_log("fl-theirs", "vpc-1", Reject, "/theirs");
    theirs.deliver_status = Some("FAILED".into());
    let fake = FakeRegion::new(state(
        &["vpc-1"],
        vec![theirs.clone()],
        &[(MANAGED, Days(365)), ("/theirs", Days(365))],
    ));
    let report = enforce_on(&fake, &policy(), &Trigger::manual_sweep("t"));
    assert_eq!(report.summary.vpcs.remediated, 1);
    assert!(!fake.calls().contains(&"DeleteFlowLogs"));
    assert!(fake.state().flow_logs.contains(&theirs));
}

#[test]
fn flowguards_failing_flow_log_is_replaced_delete_first() {
    let mut mine = ours(flow_log("fl-mine", "vpc-1", Reject, MANAGED));
    mine.deliver_status = Some("FAILED".into());
    let fake = FakeRegion::new(state(&["vpc-1"], vec![mine], &[(MANAGED, Days(365))]));
    let report = enforce_on(&fake, &policy(), &Trigger::manual_sweep("t"));
    assert_eq!(report.summary.vpcs.remediated, 1, "{report}");
    let writes: Vec<&str> = fake
        .calls()
        .into_iter()
        .filter(|c| !c.starts_with("Describe"))
        .collect();
    assert_eq!(writes, ["DeleteFlowLogs", "CreateFlowLogs"]);
    let after = fake.state();
    assert_eq!(after.flow_logs.len(), 1);
    assert_eq!(
        after.flow_logs[0].deliver_status.as_deref(),
        Some("SUCCESS")
    );
}

#[test]
fn a_blocked_destination_is_failed_with_the_reason() {
    // A foreign INACTIVE REJECT flow log into the managed group blocks ours.
    let mut theirs = flow_log("fl-theirs", "vpc-1", Reject, MANAGED);
    theirs.status = "INACTIVE".into();
    let fake = FakeRegion::new(state(&["vpc-1"], vec![theirs], &[(MANAGED, Days(365))]));
    let report = enforce_on(&fake, &policy(), &Trigger::manual_sweep("t"));
    assert_eq!(report.vpcs[0].status, VpcStatus::Failed);
    let action = &report.actions[0];
    assert_eq!(action.error_code.as_deref(), Some("FlowLogAlreadyExists"));
    assert!(
        action
            .error_message
            .as_deref()
            .unwrap()
            .contains("blocks the destination")
    );
}

#[test]
fn ignored_triggers_touch_nothing() {
    let fake = FakeRegion::new(state(&["vpc-1"], vec![], &[]));
    let trigger = Trigger {
        target: Target::Ignored,
        reason: "not ours".into(),
        ..Trigger::manual_sweep("")
    };
    let report = enforce_on(&fake, &policy(), &trigger);
    assert!(report.vpcs.is_empty() && report.actions.is_empty());
    assert!(fake.calls().is_empty());
}

#[test]
fn a_log_group_event_reconciles_the_vpcs_that_deliver_to_it() {
    let fake = FakeRegion::new(state(
        &["vpc-1", "vpc-2"],
        vec![
            ours(flow_log("fl-1", "vpc-1", Reject, MANAGED)),
            flow_log("fl-2", "vpc-2", Reject, "/other"),
        ],
        &[("/other", Days(365))],
    ));
    let trigger = Trigger {
        target: Target::LogGroup(MANAGED.into()),
        ..Trigger::manual_sweep("DeleteLogGroup")
    };
    let report = enforce_on(&fake, &policy(), &trigger);
    let ids: Vec<&str> = report.vpcs.iter().map(|v| v.vpc_id.as_str()).collect();
    assert_eq!(ids, ["vpc-1"]);
    assert_eq!(report.vpcs[0].status, VpcStatus::Remediated);
    assert!(fake.state().log_groups.contains_key(&MANAGED.into()));
}

#[test]
fn an_unrelated_log_group_event_does_nothing() {
    let fake = FakeRegion::new(state(&["vpc-1"], vec![], &[]));
    let trigger = Trigger {
        target: Target::LogGroup("/aws/lambda/x".into()),
        ..Trigger::manual_sweep("DeleteLogGroup")
    };
    let report = enforce_on(&fake, &policy(), &trigger);
    assert!(report.actions.is_empty());
    assert!(
        report.trigger.reason.contains("nothing to do"),
        "{}",
        report.trigger.reason
    );
}

#[test]
fn client_tokens_are_stable_and_short() {
    let p = policy();
    let t = vpc_trigger("vpc-1");
    let r = run(&p, &t);
    let a = flowguard_core::reconcile::flow_log_request(
        &r,
        "role",
        &MANAGED.into(),
        &[VpcId::new("vpc-1")],
    );
    let b = flowguard_core::reconcile::flow_log_request(
        &r,
        "role",
        &MANAGED.into(),
        &[VpcId::new("vpc-1")],
    );
    let c = flowguard_core::reconcile::flow_log_request(
        &r,
        "role",
        &MANAGED.into(),
        &[VpcId::new("vpc-2")],
    );
    assert_eq!(a.client_token, b.client_token);
    assert_ne!(a.client_token, c.client_token);
    assert!(a.client_token.len() <= 64);
}
