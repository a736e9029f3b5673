//! The follow-ups of a run (issue 17): Security Hub's EC2.6 findings resolved after a
//! remediation, annotated after a failure; AWS Config asked to evaluate again; planned in a dry
//! run; off by default; and never a failed run when they fail.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::*;
use flowguard_core::fake::FakeRegion;
use flowguard_core::observed::Retention::Days;
use flowguard_core::policy::{Policy, TrafficType::Reject};
use flowguard_core::reconcile::{MAX_NOTE_CHARACTERS, Mode, Run, reconcile};
use flowguard_core::report::ActionKind;
use flowguard_core::trigger::Trigger;
use flowguard_core::{ActionResult, AwsError, Outcome, Report, VpcStatus};
use futures::executor::block_on;

fn policy(security_hub: bool, config_reevaluate: bool) -> Policy {
    Policy {
        security_hub,
        config_reevaluate,
        ..crate::common::policy()
    }
}

fn sweep(fake: &FakeRegion, policy: &Policy, mode: Mode) -> Report {
    let trigger = Trigger::manual_sweep("t");
    let run = Run {
        now: Some(1_764_574_200),
        ..run(policy, &trigger)
    };
    block_on(reconcile(fake, fake, &run, mode)).unwrap()
}

/// vpc-1 needs a flow log, vpc-2 complies already.
fn region() -> FakeRegion {
    FakeRegion::new(state(
        &["vpc-1", "vpc-2"],
        vec![flow_log("fl-2", "vpc-2", Reject, "/vpc/flow-logs")],
        &[("/vpc/flow-logs", Days(365))],
    ))
}

fn follow_ups(report: &Report) -> Vec<(&'static str, &str, ActionResult)> {
    report
        .actions
        .iter()
        .filter(|a| a.action.is_follow_up())
        .map(|a| (a.action.as_str(), a.target.as_str(), a.result))
        .collect()
}

#[test]
fn a_remediated_vpc_gets_its_findings_resolved_with_a_note_naming_the_flow_log() {
    let fake = region();
    let report = sweep(&fake, &policy(true, true), Mode::Enforce);

    assert_eq!(report.outcome(), Outcome::Ok, "{report}");
    let updates = fake.finding_updates();
    assert_eq!(updates.len(), 1, "only the remediated VPC: {updates:?}");
    let update = &updates[0];
    assert_eq!(update.vpc.as_str(), "vpc-1");
    assert!(update.notify);
    assert_eq!(
        update.vpc_arn,
        "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-1"
    );
    let created = report
        .actions
        .iter()
        .find(|a| a.action == ActionKind::CreateFlowLogs)
        .and_then(|a| a.flow_log_id.clone())
        .unwrap();
    assert!(update.note.contains(created.as_str()), "{}", update.note);
    assert!(
        update.note.contains("2025-12-01T07:30:00Z"),
        "when: {}",
        update.note
    );
    assert_eq!(
        follow_ups(&report),
        [
            ("resolve_findings", "vpc-1", ActionResult::Applied),
            (
                "reevaluate_config_rule",
                "securityhub-vpc-flow-logs-enabled-fake",
                ActionResult::Applied
            ),
        ]
    );
}

#[test]
fn a_vpc_that_could_not_be_fixed_gets_a_note_and_keeps_its_status() {
    let fake = region();
    fake.fail(
        "CreateFlowLogs",
        AwsError::service("CreateFlowLogs", "UnauthorizedOperation", "denied"),
    );
    let report = sweep(&fake, &policy(true, true), Mode::Enforce);

    assert_eq!(report.outcome(), Outcome::Failed { retryable: false });
    let updates = fake.finding_updates();
    assert_eq!(updates.len(), 1);
    assert!(!updates[0].notify, "status unchanged");
    assert_says(
        &updates[0].note,
        &["could not remediate", "UnauthorizedOperation"],
    );
    // Nothing was remediated: AWS Config has nothing new to see.
    assert!(!fake.calls().contains(&"StartConfigRulesEvaluation"));
}

#[test]
fn a_failed_follow_up_is_reported_and_counted_never_a_failed_run() {
    let fake = region();
    fake.fail(
        "BatchUpdateFindings",
        AwsError::service(
            "BatchUpdateFindings",
            "TooManyRequestsException",
            "slow down",
        ),
    );
    fake.fail(
        "StartConfigRulesEvaluation",
        AwsError::service("StartConfigRulesEvaluation", "AccessDeniedException", "no"),
    );
    let report = sweep(&fake, &policy(true, true), Mode::Enforce);

    assert_eq!(
        report.outcome(),
        Outcome::Ok,
        "the remediation stands: {report}"
    );
    assert_eq!(report.summary.vpcs.remediated, 1);
    assert_eq!(report.follow_up_failures(), 2);
    let failed: Vec<(&str, Option<bool>)> = report
        .actions
        .iter()
        .filter(|a| a.action.is_follow_up())
        .map(|a| (a.error_code.as_deref().unwrap_or(""), a.retryable))
        .collect();
    assert_eq!(
        failed,
        [
            ("TooManyRequestsException", Some(true)),
            ("AccessDeniedException", Some(false))
        ]
    );
}

#[test]
fn a_dry_run_only_plans_them() {
    let fake = region();
    let report = sweep(&fake, &policy(true, true), Mode::DryRun);

    assert_eq!(
        follow_ups(&report),
        [
            ("resolve_findings", "vpc-1", ActionResult::Planned),
            (
                "reevaluate_config_rule",
                "VPC_FLOW_LOGS_ENABLED",
                ActionResult::Planned
            ),
        ]
    );
    let calls = fake.calls();
    assert!(!calls.contains(&"BatchUpdateFindings"), "{calls:?}");
    assert!(!calls.contains(&"StartConfigRulesEvaluation"), "{calls:?}");
}

#[test]
fn they_are_off_by_default_and_each_is_its_own_choice() {
    let fake = region();
    let report = sweep(&fake, &policy(false, false), Mode::Enforce);
    assert!(follow_ups(&report).is_empty(), "{report}");
    assert!(fake.finding_updates().is_empty());

    let fake = region();
    let report = sweep(&fake, &policy(false, true), Mode::Enforce);
    assert_eq!(follow_ups(&report).len(), 1);
    assert!(fake.finding_updates().is_empty());

    // A run that remediated nothing asks nothing.
    let report = sweep(&fake, &policy(true, true), Mode::Enforce);
    assert_eq!(report.summary.vpcs.compliant, 2);
    assert!(follow_ups(&report).is_empty(), "{report}");
}

#[test]
fn a_note_fits_security_hub() {
    let fake = FakeRegion::new(state(&["vpc-1"], vec![], &[]));
    fake.fail(
        "CreateLogGroup",
        AwsError::service("CreateLogGroup", "AccessDeniedException", "x".repeat(2_000)),
    );
    sweep(&fake, &policy(true, false), Mode::Enforce);
    let updates = fake.finding_updates();
    assert_eq!(updates.len(), 1);
    assert_eq!(
        updates[0].note.chars().count(),
        MAX_NOTE_CHARACTERS,
        "{}",
        updates[0].note
    );
}

#[test]
fn the_report_names_the_control_in_the_action() {
    let fake = region();
    let report = sweep(&fake, &policy(true, false), Mode::Enforce);
    let action = report
        .actions
        .iter()
        .find(|a| a.action == ActionKind::ResolveFindings)
        .unwrap();
    assert_eq!(
        action.detail.as_deref(),
        Some(
            "1 Security Hub EC2.6 finding(s) annotated and NOTIFIED (Security Hub resolves it once \
             Config finds the VPC compliant)"
        )
    );
    assert_eq!(VpcStatus::Remediated, report.vpcs[0].status);
}
