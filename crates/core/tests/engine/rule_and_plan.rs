//! Table tests of the compliance rule and the planner.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity
)]

use crate::common::*;
use flowguard_core::fake::vpc;
use flowguard_core::observed::{Destination, Retention};
use flowguard_core::plan::{Decision, MAX_VPCS_PER_CREATE, Step, plan};
use flowguard_core::policy::{Policy, TrafficType};
use flowguard_core::rule::evaluate;
use flowguard_core::{LogGroupName, LogGroupTemplate, VpcId};

use Retention::{Days, NeverExpire};
use TrafficType::{Accept, All, Reject};

#[test]
fn the_rule() {
    let policy = Policy::default();
    let fl = |traffic| flow_log("fl-1", "vpc-1", traffic, MANAGED);
    let failing = |mut fl: flowguard_core::FlowLog| {
        fl.deliver_status = Some("FAILED".into());
        fl
    };
    let inactive = |mut fl: flowguard_core::FlowLog| {
        fl.status = "INACTIVE".into();
        fl
    };
    let s3 = |mut fl: flowguard_core::FlowLog| {
        fl.destination = Destination::Other("arn:aws:s3:::bucket".into());
        fl
    };
    let g = |r| vec![(MANAGED, r)];
    let one_good_among_bad = vec![flow_log("fl-0", "vpc-1", Accept, MANAGED), fl(Reject)];
    let another_vpcs = vec![flow_log("fl-1", "vpc-2", Reject, MANAGED)];
    // One case a line: (name, flow logs, groups, compliant, reason fragment).
    #[rustfmt::skip]
    let cases: Vec<(&str, Vec<flowguard_core::FlowLog>, Vec<(&str, Retention)>, bool, &str)> = vec![
        ("no flow log", vec![], g(Days(365)), false, "no flow log"),
        ("REJECT, 365 days", vec![fl(Reject)], g(Days(365)), true, "fl-1 (REJECT)"),
        ("ALL counts", vec![fl(All)], g(Days(400)), true, "ALL"),
        ("ACCEPT only", vec![fl(Accept)], g(Days(365)), false, "captures ACCEPT"),
        ("never expire", vec![fl(Reject)], g(NeverExpire), true, "fl-1"),
        ("short retention", vec![fl(Reject)], g(Days(30)), false, "30 days"),
        ("missing group", vec![fl(Reject)], vec![], false, "does not exist"),
        ("failing delivery", vec![failing(fl(Reject))], g(Days(365)), false, "FAILED"),
        ("inactive", vec![inactive(fl(Reject))], g(Days(365)), false, "INACTIVE"),
        ("S3 has no retention to check", vec![s3(fl(Reject))], vec![], true, "arn:aws:s3"),
        ("one good among bad", one_good_among_bad, g(Days(365)), true, "fl-1"),
        ("another VPC's flow log", another_vpcs, g(Days(365)), false, "no flow log"),
    ];
    for (name, flow_logs, groups, compliant, reason) in cases {
        let o = observed(&state(&["vpc-1"], flow_logs, &groups));
        let e = evaluate(&policy, &o.vpcs[0], &o);
        assert_eq!(e.compliant, compliant, "{name}: {}", e.reason);
        assert_contains(name, &e.reason, reason);
    }
}

#[test]
fn with_policy_all_only_all_counts() {
    let policy = Policy {
        traffic_type: All,
        ..Policy::default()
    };
    let o = observed(&state(
        &["vpc-1"],
        vec![flow_log("fl-1", "vpc-1", Reject, MANAGED)],
        &[(MANAGED, Days(365))],
    ));
    assert!(!evaluate(&policy, &o.vpcs[0], &o).compliant);
}

#[test]
fn exempt_vpcs_are_never_planned() {
    let mut s = state(&[], vec![], &[]);
    s.vpcs.push(vpc("vpc-1", &[("flowguard:exempt", "True")]));
    let p = plan(&Policy::default(), &observed(&s));
    assert!(p.is_empty());
    assert_eq!(p.vpcs[0].decision, Decision::Exempt);
    assert!(p.vpcs[0].checks.exempt);
}

/// The time of every observation in these tables (Unix seconds).
const NOW: i64 = 10_000;

fn steps(policy: &Policy, s: &flowguard_core::fake::State) -> Vec<Step> {
    let mut o = observed(s);
    o.at = Some(NOW);
    plan(policy, &o).steps
}

fn name(n: &str) -> LogGroupName {
    LogGroupName::new(n)
}

fn ids(v: &[&str]) -> Vec<VpcId> {
    v.iter().map(|s| VpcId::new(*s)).collect()
}

/// The step that creates flow logs into `group` for `vpcs`.
fn create_flow_logs(group: &str, vpcs: &[&str]) -> Step {
    Step::CreateFlowLogs {
        destination: Destination::CloudWatchLogs(name(group)),
        vpcs: ids(vpcs),
    }
}

/// The step that creates `group` with 365 days of retention, for `vpcs`.
fn create_log_group(group: &str, vpcs: &[&str]) -> Step {
    Step::CreateLogGroup {
        name: name(group),
        days: 365,
        for_vpcs: ids(vpcs),
    }
}

/// The step that raises the managed group from `current` to 365 days, for `vpcs`.
fn raise_managed_retention(current: Retention, vpcs: &[&str]) -> Step {
    Step::PutRetentionPolicy {
        name: name(MANAGED),
        days: 365,
        current,
        for_vpcs: ids(vpcs),
    }
}

#[test]
fn planner_table() {
    let policy = Policy::default();
    let planned = |s| steps(&policy, &s);
    // vpc-1 with one REJECT flow log into `group`, and these groups.
    let vpc_1_into = |group: &str, groups: &[(&str, Retention)]| {
        let fl = flow_log("fl-1", "vpc-1", Reject, group);
        planned(state(&["vpc-1"], vec![fl], groups))
    };
    // Steady state: the group exists with 365 days; a new VPC gets one flow log.
    assert_eq!(
        planned(state(&["vpc-1"], vec![], &[(MANAGED, Days(365))])),
        [create_flow_logs(MANAGED, &["vpc-1"])]
    );
    // No group: create it, give it the retention, then the flow logs.
    assert_eq!(
        planned(state(&["vpc-1", "vpc-2"], vec![], &[])),
        [
            create_log_group(MANAGED, &["vpc-1", "vpc-2"]),
            create_flow_logs(MANAGED, &["vpc-1", "vpc-2"]),
        ]
    );
    // A flow log into the managed group with a short retention: raise it, nothing else.
    assert_eq!(
        vpc_1_into(MANAGED, &[(MANAGED, Days(30))]),
        [raise_managed_retention(Days(30), &["vpc-1"])]
    );
    // Into someone else's short-retention group: that group is never changed; the VPC gets
    // flowguard's own flow log into the managed group.
    let theirs_short = [("/theirs", Days(30)), (MANAGED, Days(365))];
    assert_eq!(
        vpc_1_into("/theirs", &theirs_short),
        [create_flow_logs(MANAGED, &["vpc-1"])]
    );
    // Longer and never-expire retentions are left alone.
    assert!(vpc_1_into(MANAGED, &[(MANAGED, Days(3653))]).is_empty());
    assert!(vpc_1_into(MANAGED, &[(MANAGED, NeverExpire)]).is_empty());
    // The managed group is raised even when no VPC needs it.
    assert_eq!(
        planned(state(&[], vec![], &[(MANAGED, Days(7))])),
        [raise_managed_retention(Days(7), &[])]
    );
    // The managed group was deleted under a working flow log: recreate the group only.
    let ours_without_group = state(
        &["vpc-1"],
        vec![ours(flow_log("fl-1", "vpc-1", Reject, MANAGED))],
        &[],
    );
    assert_eq!(
        planned(ours_without_group),
        [create_log_group(MANAGED, &["vpc-1"])]
    );
    // A foreign group that disappeared is not recreated: a new flow log goes to ours.
    assert_eq!(
        vpc_1_into("/gone", &[(MANAGED, Days(365))]),
        [create_flow_logs(MANAGED, &["vpc-1"])]
    );
}

#[test]
fn failing_flow_logs_are_replaced_only_when_flowguard_made_them() {
    let policy = Policy::default();
    let mut mine = ours(flow_log("fl-mine", "vpc-1", Reject, MANAGED));
    mine.deliver_status = Some("FAILED".into());
    mine.deliver_error = Some("Access error".into());
    mine.created_at = Some(NOW - 90_000);
    let mut theirs = flow_log("fl-theirs", "vpc-2", Reject, MANAGED);
    theirs.deliver_status = Some("FAILED".into());
    let s = state(
        &["vpc-1", "vpc-2"],
        vec![mine, theirs],
        &[(MANAGED, Days(365))],
    );
    let planned = steps(&policy, &s);
    assert_eq!(planned.len(), 2, "{planned:?}");
    let Step::DeleteFlowLogs { flow_logs } = &planned[0] else {
        panic!("{planned:?}")
    };
    assert_eq!(
        flow_logs
            .iter()
            .map(|r| (r.flow_log.as_str(), r.vpc.as_str()))
            .collect::<Vec<_>>(),
        [("fl-mine", "vpc-1")]
    );
    assert_eq!(planned[1], create_flow_logs(MANAGED, &["vpc-1", "vpc-2"]));
}

#[test]
fn create_flow_logs_is_batched_by_three_hundred() {
    let many: Vec<String> = (0..2500).map(|i| format!("vpc-{i:08x}")).collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    let s = state(&refs, vec![], &[(MANAGED, Days(365))]);
    let batches: Vec<usize> = steps(&Policy::default(), &s)
        .iter()
        .map(|step| match step {
            Step::CreateFlowLogs { vpcs, .. } => vpcs.len(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(MAX_VPCS_PER_CREATE, 300, "the EC2 API model's limit");
    let mut want = vec![300; 8];
    want.push(100);
    assert_eq!(batches, want);
}

#[test]
fn per_vpc_groups() {
    let policy = Policy {
        log_group: LogGroupTemplate::parse("/flow/{region}/{vpc_id}").unwrap(),
        ..Policy::default()
    };
    let s = state(&["vpc-1"], vec![], &[]);
    assert_eq!(
        steps(&policy, &s),
        [
            create_log_group("/flow/us-east-1/vpc-1", &["vpc-1"]),
            create_flow_logs("/flow/us-east-1/vpc-1", &["vpc-1"]),
        ]
    );
}
