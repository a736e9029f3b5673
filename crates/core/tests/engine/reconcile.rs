//! The reconcile loop over the in-memory fake of the ports.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::*;
use flowguard_core::fake::FakeRegion;
use flowguard_core::observed::{Destination, FlowLog, Retention::Days};
use flowguard_core::policy::{DeliverTo, FileFormat, Policy, S3Options, TrafficType::Reject};
use flowguard_core::reconcile::{Deadline, ReconcileError, Run, audit, dry_run, enforce};
use flowguard_core::trigger::{Target, Trigger};
use flowguard_core::{ActionResult, AwsError, Outcome, Permission, Report, VpcId, VpcStatus};
use futures::executor::block_on;
use std::time::{Duration, Instant};

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

fn enforce_on(fake: &FakeRegion, policy: &Policy, trigger: &Trigger) -> Report {
    block_on(enforce(fake, fake, &run(policy, trigger))).unwrap()
}

/// Enforces the test policy over a sweep of the whole region, errors included.
fn try_enforce_sweep(fake: &FakeRegion) -> Result<Report, ReconcileError> {
    block_on(enforce(
        fake,
        fake,
        &run(&policy(), &Trigger::manual_sweep("t")),
    ))
}

/// Enforces the test policy over a sweep of the whole region.
fn enforce_sweep(fake: &FakeRegion) -> Report {
    try_enforce_sweep(fake).unwrap()
}

/// Enforces the test policy for `trigger` as if the time were `now` (Unix seconds).
fn enforce_at(fake: &FakeRegion, trigger: &Trigger, now: i64) -> Result<Report, ReconcileError> {
    let p = policy();
    block_on(enforce(
        fake,
        fake,
        &Run {
            now: Some(now),
            ..run(&p, trigger)
        },
    ))
}

/// Enforces `policy` over a sweep that must start nothing new from `stop_at` on.
fn enforce_sweep_until(fake: &FakeRegion, policy: &Policy, stop_at: Instant) -> Report {
    let t = Trigger::manual_sweep("t");
    let cut = Run {
        deadline: Some(Deadline::at(stop_at)),
        ..run(policy, &t)
    };
    block_on(enforce(fake, fake, &cut)).unwrap()
}

/// A region of these VPCs, none with a flow log, and the managed group at 365 days.
fn with_managed_group(vpcs: &[&str]) -> FakeRegion {
    FakeRegion::new(state(vpcs, vec![], &[(MANAGED, Days(365))]))
}

/// A region of vpc-1 with these flow logs, and the managed group at 365 days.
fn vpc_1_with(flow_logs: Vec<FlowLog>) -> FakeRegion {
    FakeRegion::new(state(&["vpc-1"], flow_logs, &[(MANAGED, Days(365))]))
}

/// Makes every `operation` call on `fake` fail with the service error `code`.
fn fail(fake: &FakeRegion, operation: &'static str, code: &str, message: &str) {
    fake.fail(operation, AwsError::service(operation, code, message));
}

/// The status the report gives the VPC `id`.
#[track_caller]
fn status_of(report: &Report, id: &str) -> VpcStatus {
    vpc_line(report, id).status
}

/// The calls of the run that change something: all but the reads.
fn writes(fake: &FakeRegion) -> Vec<&'static str> {
    fake.calls()
        .into_iter()
        .filter(|c| !c.starts_with("Describe"))
        .collect()
}

/// Flowguard's own flow log of `vpc`, failing to deliver with `error` for `age_seconds`.
fn failing_own(vpc: &str, error: &str, age_seconds: i64) -> FlowLog {
    let fl = ours(flow_log(&format!("fl-{vpc}"), vpc, Reject, MANAGED));
    failing(fl, error, 10_000 - age_seconds)
}

/// Enforces a sweep of vpc-1 whose own flow log has failed with `error` for `age_seconds`,
/// and checks that it is kept: no write, and vpc-1 fails for good with the error as reason.
#[track_caller]
fn sweep_keeping_a_failing_flow_log(error: &str, age_seconds: i64) -> Report {
    let fake = vpc_1_with(vec![failing_own("vpc-1", error, age_seconds)]);
    let report = enforce_sweep(&fake);
    assert!(writes(&fake).is_empty(), "{:?}", fake.calls());
    assert_eq!(report.vpcs[0].status, VpcStatus::Failed);
    let reason = &report.vpcs[0].reason;
    assert!(reason.contains(error), "{reason}");
    assert_eq!(report.outcome(), Outcome::Failed { retryable: false });
    report
}

/// vpc-1 with its own flow log fl-1 that the first `stale_reads` reads miss, enforced for
/// the CreateVpc event of vpc-1.
fn enforce_with_stale_reads(stale_reads: u32) -> (FakeRegion, Report) {
    let fake = vpc_1_with(vec![ours(flow_log("fl-1", "vpc-1", Reject, MANAGED))]);
    fake.stale_flow_log_reads(stale_reads);
    let report = enforce_on(&fake, &policy(), &vpc_trigger("vpc-1"));
    (fake, report)
}

/// Deletes vpc-2 of `fake` after the run's first read, enforces a sweep and checks that vpc-2
/// is gone and its neighbours vpc-1 and vpc-3 are still remediated.
#[track_caller]
fn sweep_deleting_vpc_2_mid_run(fake: &FakeRegion) -> Report {
    fake.vanish_after_read("vpc-2");
    let report = enforce_sweep(fake);
    assert_eq!(status_of(&report, "vpc-2"), VpcStatus::Gone, "{report}");
    assert_eq!(
        status_of(&report, "vpc-1"),
        VpcStatus::Remediated,
        "{report}"
    );
    assert_eq!(
        status_of(&report, "vpc-3"),
        VpcStatus::Remediated,
        "{report}"
    );
    report
}

#[test]
fn create_vpc_on_a_steady_account_makes_four_calls() {
    let fake = with_managed_group(&["vpc-1", "vpc-2"]);
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
    let fake = with_managed_group(&["vpc-1"]);
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
fn a_missing_delivery_role_fails_the_vpcs_and_creates_no_flow_log() {
    // EC2 would take the flow logs and they would never deliver: the role is asked first.
    let fake = FakeRegion::new(state(&["vpc-1", "vpc-2"], vec![], &[]));
    let missing = "the delivery role arn:aws:iam::123456789012:role/flow-logs does not exist";
    fail(&fake, "GetRole", "NoSuchEntity", missing);

    let report = enforce_sweep(&fake);

    for vpc in ["vpc-1", "vpc-2"] {
        assert_eq!(status_of(&report, vpc), VpcStatus::Failed, "{report}");
        assert!(vpc_line(&report, vpc).reason.contains(missing), "{report}");
    }
    assert_eq!(
        writes(&fake),
        ["CreateLogGroup", "PutRetentionPolicy", "GetRole"],
        "the group made ready, then no flow log"
    );
    assert_eq!(fake.state().flow_logs.len(), 0);
    assert_eq!(
        report.outcome(),
        flowguard_core::report::Outcome::Failed { retryable: false },
        "NoSuchEntity waits for the role to be made"
    );
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
    let (fake, report) = enforce_with_stale_reads(1);
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
    let report = enforce_sweep(&fake);
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
    assert_eq!(writes(&fake), ["CreateFlowLogs", "CreateFlowLogs"]);
}

#[test]
fn a_foreign_group_with_short_retention_is_never_changed_the_vpc_gets_its_own_flow_log() {
    let fake = FakeRegion::new(state(
        &["vpc-1"],
        vec![flow_log("fl-theirs", "vpc-1", Reject, "/team/short")],
        &[(MANAGED, Days(365)), ("/team/short", Days(30))],
    ));
    let report = enforce_sweep(&fake);
    assert_eq!(report.vpcs[0].status, VpcStatus::Remediated, "{report}");
    assert_eq!(report.outcome(), Outcome::Ok);
    assert!(
        !fake.calls().contains(&"PutRetentionPolicy"),
        "not even tried: {:?}",
        fake.calls()
    );
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
    fail(
        &fake,
        "CreateLogGroup",
        "ThrottlingException",
        "Rate exceeded",
    );
    let report = enforce_sweep(&fake);
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
    let fake = with_managed_group(&["vpc-1"]);
    fail(
        &fake,
        "CreateFlowLogs",
        "Client.UnauthorizedOperation",
        "not authorized",
    );
    let report = enforce_sweep(&fake);
    assert_eq!(report.outcome(), Outcome::Failed { retryable: false });
    let failed = &report.actions[0];
    assert_eq!(failed.error_code.as_deref(), Some("UnauthorizedOperation"));
    assert_eq!(report.vpcs[0].status, VpcStatus::Failed);
}

#[test]
fn a_read_failure_is_an_error_with_its_disposition() {
    let fake = FakeRegion::new(state(&["vpc-1"], vec![], &[]));
    fail(
        &fake,
        "DescribeFlowLogs",
        "RequestLimitExceeded",
        "slow down",
    );
    let err = try_enforce_sweep(&fake).unwrap_err();
    assert!(err.is_retryable());
    assert!(err.to_string().contains("RequestLimitExceeded"));
}

#[test]
fn a_new_vpc_not_yet_visible_is_retried_then_gone() {
    let fake = with_managed_group(&[]);
    let trigger = vpc_trigger("vpc-new");
    let err = enforce_at(&fake, &trigger, 1_010).unwrap_err();
    assert!(matches!(err, ReconcileError::NotYetVisible(_)) && err.is_retryable());
    let report = enforce_at(&fake, &trigger, 5_000).unwrap();
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
    let report = enforce_sweep(&fake);
    assert_eq!(report.summary.vpcs.remediated, 1);
    assert!(!fake.calls().contains(&"DeleteFlowLogs"));
    assert!(fake.state().flow_logs.contains(&theirs));
}

#[test]
fn flowguards_failing_flow_log_is_replaced_delete_first() {
    let older_than_a_day = failing_own("vpc-1", "Access error", 86_401);
    let fake = vpc_1_with(vec![older_than_a_day]);
    let report = enforce_sweep(&fake);
    assert_eq!(report.summary.vpcs.remediated, 1, "{report}");
    assert_eq!(writes(&fake), ["DeleteFlowLogs", "CreateFlowLogs"]);
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
    let fake = vpc_1_with(vec![theirs]);
    let report = enforce_sweep(&fake);
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
    let token = |vpc: &str| {
        flowguard_core::reconcile::flow_log_request(
            &r,
            Some("role"),
            &managed(),
            &[VpcId::new(vpc)],
        )
        .client_token
    };
    let (a, b, c) = (token("vpc-1"), token("vpc-1"), token("vpc-2"));
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(a.len() <= 64);
}

// ---- The limits, shapes and failure modes of real AWS (issue 11) ----

#[test]
fn a_sweep_of_700_vpcs_creates_in_batches_of_at_most_300() {
    let ids: Vec<String> = (0..700).map(|i| format!("vpc-{i:04}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let fake = with_managed_group(&refs);
    let report = enforce_sweep(&fake);
    assert_eq!(report.summary.vpcs.remediated, 700, "{:?}", report.summary);
    assert_eq!(report.outcome(), Outcome::Ok);
    assert_eq!(
        writes(&fake),
        ["CreateFlowLogs", "CreateFlowLogs", "CreateFlowLogs"]
    );
}

#[test]
fn replacing_1200_flow_logs_deletes_in_batches_of_at_most_1000() {
    // A traffic-type change over 1200 VPCs: every own flow log is replaced.
    let ids: Vec<String> = (0..1200).map(|i| format!("vpc-{i:04}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let flow_logs = ids
        .iter()
        .map(|id| ours(flow_log(&format!("fl-{id}"), id, Reject, MANAGED)))
        .collect();
    let fake = FakeRegion::new(state(&refs, flow_logs, &[(MANAGED, Days(365))]));
    let all = Policy {
        traffic_type: flowguard_core::policy::TrafficType::All,
        ..policy()
    };
    let report = enforce_on(&fake, &all, &Trigger::manual_sweep("t"));
    assert_eq!(report.outcome(), Outcome::Ok, "{:?}", report.summary);
    assert_eq!(report.summary.vpcs.remediated, 1200);
    let calls = writes(&fake);
    assert_eq!(calls.iter().filter(|c| **c == "CreateFlowLogs").count(), 4);
    assert_eq!(calls.iter().filter(|c| **c == "DeleteFlowLogs").count(), 4);
    let after = fake.state();
    assert_eq!(after.flow_logs.len(), 1200, "one flow log per VPC");
    assert!(
        after
            .flow_logs
            .iter()
            .all(|fl| fl.traffic_type == Some(flowguard_core::policy::TrafficType::All))
    );
}

#[test]
fn a_shared_vpc_is_not_owned_never_sent_to_ec2_and_does_not_fail_the_others() {
    let mut shared = flowguard_core::fake::vpc("vpc-shared", &[]);
    shared.owner_id = Some("210987654321".into());
    let mut own = flowguard_core::fake::vpc("vpc-own", &[]);
    own.owner_id = Some(ACCOUNT.into());
    let mut s = state(&[], vec![], &[(MANAGED, Days(365))]);
    s.vpcs = vec![own, shared];
    let fake = FakeRegion::new(s);
    fake.account(ACCOUNT);
    let audit_report =
        block_on(audit(&fake, &run(&policy(), &Trigger::manual_sweep("t")))).unwrap();
    let shared_line = audit_report
        .vpcs
        .iter()
        .find(|v| v.vpc_id.as_str() == "vpc-shared")
        .unwrap();
    assert_eq!(shared_line.status, VpcStatus::NotOwned);
    assert_eq!(shared_line.owner_id.as_deref(), Some("210987654321"));
    assert!(
        shared_line.reason.contains("210987654321"),
        "{}",
        shared_line.reason
    );
    assert_eq!(audit_report.summary.vpcs.not_owned, 1);

    let report = enforce_sweep(&fake);
    assert_eq!(report.outcome(), Outcome::Ok, "{report}");
    assert_eq!(report.summary.vpcs.remediated, 1);
    assert_eq!(report.summary.vpcs.not_owned, 1);
    assert!(report.actions.iter().all(|a| a.target != "vpc-shared"));
    // Afterwards the audit passes: not_owned is not counted against the account.
    let after = block_on(audit(&fake, &run(&policy(), &Trigger::manual_sweep("t")))).unwrap();
    assert!(after.all_compliant(), "{after}");
}

#[test]
fn a_young_failing_flow_log_is_not_replaced_the_vpc_fails_with_the_cause() {
    let report = sweep_keeping_a_failing_flow_log("Access error", 600);
    let reason = &report.vpcs[0].reason;
    assert!(
        reason.contains("delivery role"),
        "the likely cause: {reason}"
    );
}

#[test]
fn a_rate_limited_flow_log_is_never_replaced_however_old() {
    sweep_keeping_a_failing_flow_log("Rate limited", 86_400);
}

#[test]
fn an_old_failing_flow_log_is_replaced_once_and_the_next_run_does_not_loop() {
    let fake = vpc_1_with(vec![failing_own("vpc-1", "Access error", 90_000)]);
    let first = enforce_sweep(&fake);
    assert_eq!(first.summary.vpcs.remediated, 1, "{first}");
    assert_eq!(writes(&fake), ["DeleteFlowLogs", "CreateFlowLogs"]);
    // The replacement fails too (the role is still broken): a young failing flow log.
    let mut state = fake.state();
    for fl in &mut state.flow_logs {
        fl.deliver_status = Some("FAILED".into());
        fl.deliver_error = Some("Access error".into());
        fl.created_at = Some(10_000 - 60);
    }
    let fake = FakeRegion::new(state);
    let second = enforce_sweep(&fake);
    assert!(writes(&fake).is_empty(), "no loop: {:?}", fake.calls());
    assert_eq!(second.vpcs[0].status, VpcStatus::Failed);
}

/// A delivery error whose cause is unchanged (same configuration, its group in place) is not
/// "remediated" every hour: the VPC fails with EC2's cause, and the flow log is replaced at most
/// once a day.
#[test]
fn a_failing_flow_log_whose_cause_may_remain_is_replaced_at_most_once_a_day() {
    let report = sweep_keeping_a_failing_flow_log("Access error", 7_200);
    let reason = &report.vpcs[0].reason;
    assert!(reason.contains("replaced once a day"), "{reason}");
    assert!(
        reason.contains("the delivery role's permissions"),
        "{reason}"
    );
}

/// This run recreates the group that the failing flow log delivered to: the cause may be gone,
/// so the flow log is replaced after an hour already, into the group made first.
#[test]
fn a_failing_flow_log_whose_group_this_run_recreates_is_replaced_after_an_hour() {
    let fake = FakeRegion::new(state(
        &["vpc-1"],
        vec![failing_own("vpc-1", "Access error", 7_200)],
        &[],
    ));
    let report = enforce_sweep(&fake);
    assert_eq!(report.summary.vpcs.remediated, 1, "{report}");
    assert_eq!(
        writes(&fake),
        [
            "CreateLogGroup",
            "PutRetentionPolicy",
            "DeleteFlowLogs",
            "CreateFlowLogs"
        ]
    );
}

#[test]
fn a_traffic_type_change_converges_to_one_flow_log_per_vpc() {
    let fake = vpc_1_with(vec![ours(flow_log("fl-old", "vpc-1", Reject, MANAGED))]);
    let all = Policy {
        traffic_type: flowguard_core::policy::TrafficType::All,
        ..policy()
    };
    let first = enforce_on(&fake, &all, &Trigger::manual_sweep("t"));
    assert_eq!(first.summary.vpcs.remediated, 1, "{first}");
    assert_eq!(writes(&fake), ["DeleteFlowLogs", "CreateFlowLogs"]);
    let after = fake.state();
    assert_eq!(after.flow_logs.len(), 1);
    assert_eq!(
        after.flow_logs[0].traffic_type,
        Some(flowguard_core::policy::TrafficType::All)
    );
    let second = enforce_on(&fake, &all, &Trigger::manual_sweep("t"));
    assert_eq!(second.summary.vpcs.compliant, 1, "{second}");
    assert_eq!(writes(&fake).len(), 2, "nothing more");
}

#[test]
fn a_role_change_replaces_flowguards_own_flow_logs_but_never_foreign_ones() {
    let mut mine = ours(flow_log("fl-mine", "vpc-1", Reject, MANAGED));
    mine.delivery_role_arn = Some("arn:aws:iam::123456789012:role/old".into());
    let mut theirs = flow_log("fl-theirs", "vpc-2", Reject, MANAGED);
    theirs.delivery_role_arn = Some("arn:aws:iam::123456789012:role/old".into());
    let fake = FakeRegion::new(state(
        &["vpc-1", "vpc-2"],
        vec![mine, theirs.clone()],
        &[(MANAGED, Days(365))],
    ));
    let report = enforce_sweep(&fake);
    assert_eq!(report.outcome(), Outcome::Ok, "{report}");
    let after = fake.state();
    assert!(after.flow_logs.contains(&theirs));
    assert!(after.flow_logs.iter().all(|fl| fl.id.as_str() != "fl-mine"));
    assert_eq!(after.flow_logs.len(), 2);
}

#[test]
fn a_vpc_deleted_mid_run_is_gone_and_its_neighbours_are_still_remediated() {
    let fake = with_managed_group(&["vpc-1", "vpc-2", "vpc-3"]);
    let report = sweep_deleting_vpc_2_mid_run(&fake);
    assert_eq!(report.outcome(), Outcome::Ok);
    assert_eq!(fake.state().flow_logs.len(), 2);
}

#[test]
fn create_flow_logs_not_finding_a_fresh_vpc_is_retryable_within_the_grace_then_gone() {
    let fake = with_managed_group(&["vpc-new"]);
    fake.unknown_to_create("vpc-new");
    let trigger = vpc_trigger("vpc-new"); // event time 1_000
    let report = enforce_at(&fake, &trigger, 1_000 + 60).unwrap();
    assert_eq!(
        report.outcome(),
        Outcome::Failed { retryable: true },
        "{report}"
    );
    let later = 1_000 + flowguard_core::reconcile::NEW_VPC_GRACE_SECONDS + 1;
    let report = enforce_at(&fake, &trigger, later).unwrap();
    assert_eq!(report.vpcs[0].status, VpcStatus::Gone, "{report}");
    assert_eq!(report.outcome(), Outcome::Ok);
}

#[test]
fn the_new_vpc_grace_ends_before_lambdas_last_retry() {
    // Lambda retries an asynchronous event about 1 and 3 minutes after the first attempt.
    const LAST_RETRY_SECONDS: i64 = 180;
    let grace = flowguard_core::reconcile::NEW_VPC_GRACE_SECONDS;
    assert!((60..LAST_RETRY_SECONDS).contains(&grace), "{grace}");
}

#[test]
fn per_vpc_groups_are_done_vpc_by_vpc_each_group_with_its_retention_first() {
    let p = Policy {
        log_group: flowguard_core::LogGroupTemplate::parse("/vpc/{vpc_id}").unwrap(),
        ..policy()
    };
    let fake = FakeRegion::new(state(&["vpc-1", "vpc-2"], vec![], &[]));
    let report = enforce_on(&fake, &p, &Trigger::manual_sweep("t"));
    assert_eq!(report.outcome(), Outcome::Ok, "{report}");
    assert_eq!(
        writes(&fake),
        [
            "CreateLogGroup",
            "PutRetentionPolicy",
            "CreateFlowLogs",
            "CreateLogGroup",
            "PutRetentionPolicy",
            "CreateFlowLogs"
        ]
    );
}

#[test]
fn past_its_deadline_a_run_starts_nothing_and_is_retryable() {
    let fake = FakeRegion::new(state(&["vpc-1"], vec![], &[]));
    let report = enforce_sweep_until(&fake, &policy(), Instant::now());
    assert!(writes(&fake).is_empty());
    assert_eq!(report.outcome(), Outcome::Failed { retryable: true });
    assert!(
        report
            .actions
            .iter()
            .all(|a| a.error_code.as_deref() == Some("DeadlineNear"))
    );
}

#[test]
fn a_run_cut_short_leaves_no_group_without_retention_and_reports_the_rest_retryable() {
    let p = Policy {
        log_group: flowguard_core::LogGroupTemplate::parse("/vpc/{vpc_id}").unwrap(),
        ..policy()
    };
    let fake = FakeRegion::new(state(&["vpc-1", "vpc-2", "vpc-3"], vec![], &[]));
    // The first group takes longer than the time left: the first VPC's work is finished,
    // and nothing else is started.
    fake.slow("CreateLogGroup", Duration::from_millis(1500));
    let stop_at = Instant::now() + Duration::from_millis(1000);
    let report = enforce_sweep_until(&fake, &p, stop_at);
    let after = fake.state();
    assert_eq!(after.log_groups.len(), 1, "{report}");
    assert!(after.log_groups.values().all(|g| g.retention == Days(365)));
    assert_eq!(after.flow_logs.len(), 1);
    assert_eq!(report.summary.vpcs.remediated, 1);
    assert_eq!(report.summary.vpcs.failed, 2);
    assert_eq!(report.outcome(), Outcome::Failed { retryable: true });
}

#[test]
fn a_blocked_verdict_from_a_stale_read_is_retryable() {
    // Every read misses the flow log that EC2 says exists: the verdict rests on stale reads.
    let (fake, report) = enforce_with_stale_reads(100);
    assert_eq!(report.vpcs[0].status, VpcStatus::Failed, "{report}");
    assert_eq!(report.outcome(), Outcome::Failed { retryable: true });
    assert_eq!(fake.state().flow_logs.len(), 1, "never two flow logs");
}

#[test]
fn client_tokens_cover_every_parameter() {
    let t = vpc_trigger("vpc-1");
    let vpcs = [VpcId::new("vpc-1")];
    let token = |policy: &Policy, role: &str| {
        let destination = policy.destination_for(&vpcs[0], &place());
        let role = policy.needs_delivery_role().then_some(role);
        flowguard_core::reconcile::flow_log_request(&run(policy, &t), role, &destination, &vpcs)
            .client_token
    };
    let all = Policy {
        traffic_type: flowguard_core::policy::TrafficType::All,
        ..policy()
    };
    let fast = Policy {
        max_aggregation_interval: 60,
        ..policy()
    };
    let formatted = Policy {
        log_format: Some("${version} ${vpc-id} ${action}".into()),
        ..policy()
    };
    let s3 = |arn: &str, options: S3Options| Policy {
        destination: DeliverTo::S3 { arn: arn.into() },
        s3_options: Some(options),
        ..policy()
    };
    let parquet = S3Options {
        file_format: FileFormat::Parquet,
        ..S3Options::default()
    };
    let hourly = S3Options {
        per_hour_partition: true,
        ..S3Options::default()
    };
    let tokens = [
        token(&policy(), "role"),
        token(&policy(), "role2"),
        token(&all, "role"),
        token(&fast, "role"),
        token(&formatted, "role"),
        token(&s3("arn:aws:s3:::logs", S3Options::default()), "role"),
        token(&s3("arn:aws:s3:::logs/vpc", S3Options::default()), "role"),
        token(&s3("arn:aws:s3:::logs", parquet), "role"),
        token(&s3("arn:aws:s3:::logs", hourly), "role"),
    ];
    for (i, a) in tokens.iter().enumerate() {
        for b in &tokens[i + 1..] {
            assert_ne!(a, b);
        }
    }
}

#[test]
fn an_action_not_attempted_carries_the_error_of_the_step_it_waited_for() {
    let fake = FakeRegion::new(state(&["vpc-1"], vec![], &[]));
    fail(
        &fake,
        "CreateLogGroup",
        "AccessDeniedException",
        "not allowed",
    );
    let report = enforce_sweep(&fake);
    // create_log_group, then its retention and the flow log, neither attempted.
    assert_eq!(report.actions.len(), 3, "{report}");
    for action in &report.actions {
        assert_eq!(action.result, ActionResult::Failed, "{report}");
        assert_eq!(
            action.error_code.as_deref(),
            Some("AccessDeniedException"),
            "the cause's own code, not a code of flowguard's: {report}"
        );
        assert_eq!(action.retryable, Some(false));
    }
    let flow_log = &report.actions[2];
    assert!(
        flow_log
            .error_message
            .as_deref()
            .unwrap()
            .starts_with("not attempted: log group /vpc/flow-logs could not be created"),
        "{report}"
    );
    assert_eq!(report.outcome(), Outcome::Failed { retryable: false });
}

#[test]
fn the_converge_loop_stops_after_max_rounds_and_leaves_the_rest_retryable() {
    // EC2 keeps answering "already exists" while every read misses the flow log: each round
    // re-reads and asks again, and the run stops after MAX_ROUNDS.
    let (fake, report) = enforce_with_stale_reads(u32::MAX);
    let creates = fake
        .calls()
        .into_iter()
        .filter(|c| *c == "CreateFlowLogs")
        .count();
    assert_eq!(
        creates,
        flowguard_core::reconcile::MAX_ROUNDS,
        "{:?}",
        fake.calls()
    );
    assert_eq!(
        report.actions.len(),
        1,
        "one line per action, its last outcome: {report}"
    );
    let action = &report.actions[0];
    assert_eq!(action.result, ActionResult::Failed);
    assert_eq!(action.error_code.as_deref(), Some("FlowLogAlreadyExists"));
    assert_eq!(
        action.retryable,
        Some(true),
        "the next run's read settles it"
    );
    assert_eq!(report.outcome(), Outcome::Failed { retryable: true });
}

#[test]
fn a_whole_batch_refused_for_a_vpc_deleted_mid_run_is_asked_again_for_the_others() {
    let fake = with_managed_group(&["vpc-1", "vpc-2", "vpc-3"]);
    fake.unknown_to_create("vpc-2");
    let report = sweep_deleting_vpc_2_mid_run(&fake);
    assert_eq!(report.outcome(), Outcome::Ok);
    assert_eq!(report.actions.len(), 3, "one line per VPC: {report}");
}

fn managed() -> Destination {
    Destination::CloudWatchLogs(MANAGED.into())
}

#[test]
fn a_remediated_vpc_reports_the_checks_its_actions_made_true() {
    // No flow log, and the policy's group kept 30 days: both fixed by the run.
    let fake = FakeRegion::new(state(&["vpc-1"], vec![], &[("/vpc/flow-logs", Days(30))]));
    let report = enforce_on(&fake, &policy(), &Trigger::manual_sweep("t"));
    assert_eq!(report.outcome(), Outcome::Ok, "{report}");
    let vpc = &report.vpcs[0];
    assert_eq!(vpc.status, VpcStatus::Remediated);
    let c = &vpc.checks;
    assert!(
        c.active_flow_log && c.captures_rejects && c.delivering,
        "{c:?}"
    );
    assert_eq!(
        c.log_group.as_ref().map(|g| g.as_str()),
        Some("/vpc/flow-logs")
    );
    assert_eq!(
        serde_json::to_value(c.retention).unwrap(),
        serde_json::json!(365),
        "{c:?}"
    );
    // The exports read the same checks: the VPC passes.
    let findings = flowguard_core::export::Findings::from_reports(std::slice::from_ref(&report));
    let finding = findings.iter().next().unwrap();
    assert!(finding.checks.active_flow_log);
}

#[test]
fn every_report_names_a_vpc_by_its_name_tag_and_omits_a_missing_or_blank_name() {
    use flowguard_core::fake::{State, vpc};
    let state = || State {
        vpcs: vec![
            vpc(
                "vpc-named",
                &[("Name", "prod, \"eu\"\nwest"), ("team", "net")],
            ),
            vpc("vpc-blank", &[("Name", " ")]),
            vpc("vpc-unnamed", &[("team", "net")]),
        ],
        flow_logs: vec![],
        log_groups: Default::default(),
    };
    let policy = policy();
    let trigger = Trigger::manual_sweep("t");
    let audited = FakeRegion::new(state());
    let enforced = FakeRegion::new(state());
    let reports = [
        block_on(audit(&audited, &run(&policy, &trigger))).unwrap(),
        block_on(dry_run(&audited, &run(&policy, &trigger))).unwrap(),
        enforce_sweep(&enforced),
    ];
    for report in &reports {
        assert_eq!(
            status_of(report, "vpc-named") == VpcStatus::Remediated,
            !report.dry_run
        );
        assert_eq!(
            vpc_line(report, "vpc-named").name.as_deref(),
            Some("prod, \"eu\"\nwest")
        );
        let json = serde_json::to_value(report).unwrap();
        let vpcs = json["vpcs"].as_array().unwrap();
        let line = |id: &str| vpcs.iter().find(|v| v["vpc_id"] == id).unwrap();
        assert_eq!(line("vpc-named")["name"], "prod, \"eu\"\nwest");
        assert!(
            line("vpc-blank").get("name").is_none(),
            "a blank name is none"
        );
        assert!(line("vpc-unnamed").get("name").is_none());
    }
}

/// A round's creates over several VPCs do not tie the new ids to their VPCs (as EC2 answers):
/// the engine reads them back once for the round, and each remediated VPC names the flow log
/// that was made for it (a failed read-back, which leaves the ids unknown, is the adapter's
/// test).
#[test]
fn every_remediated_vpc_names_its_flow_log_read_back_once_per_round() {
    let vpcs: Vec<String> = (0..650).map(|i| format!("vpc-{i:04}")).collect();
    let names: Vec<&str> = vpcs.iter().map(String::as_str).collect();
    let fake = with_managed_group(&names);
    let report = enforce_sweep(&fake);
    let calls = fake.calls();
    let creates = calls.iter().filter(|c| **c == "CreateFlowLogs").count();
    let reads = calls.iter().filter(|c| **c == "DescribeFlowLogs").count();
    // 300 VPCs a create; the read-back once, after the round (one DescribeFlowLogs is the
    // inventory's).
    assert_eq!((creates, reads), (3, 2), "{calls:?}");
    let state = fake.state();
    let made_for = |vpc: &str| {
        let made = state.flow_logs.iter().find(|fl| fl.resource_id == vpc);
        made.map(|fl| fl.id.clone())
    };
    let named: Vec<_> = report
        .actions
        .iter()
        .filter(|a| a.result == ActionResult::Applied && a.flow_log_id.is_some())
        .collect();
    assert_eq!(named.len(), 650);
    for action in named {
        assert_eq!(
            action.flow_log_id,
            made_for(&action.target),
            "{}",
            action.target
        );
    }
}
