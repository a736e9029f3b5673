//! Table tests of the compliance rule and the planner.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::type_complexity
)]

mod common;

use common::*;
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
    // (name, flow logs, groups, compliant, reason fragment)
    let cases: Vec<(
        &str,
        Vec<flowguard_core::FlowLog>,
        Vec<(&str, Retention)>,
        bool,
        &str,
    )> = vec![
        ("no flow log", vec![], g(Days(365)), false, "no flow log"),
        (
            "REJECT, 365 days",
            vec![flow_log("fl-1", "vpc-1", Reject, MANAGED)],
            g(Days(365)),
            true,
            "fl-1 (REJECT)",
        ),
        (
            "ALL counts",
            vec![flow_log("fl-1", "vpc-1", All, MANAGED)],
            g(Days(400)),
            true,
            "ALL",
        ),
        (
            "ACCEPT only",
            vec![flow_log("fl-1", "vpc-1", Accept, MANAGED)],
            g(Days(365)),
            false,
            "captures ACCEPT",
        ),
        (
            "never expire",
            vec![flow_log("fl-1", "vpc-1", Reject, MANAGED)],
            g(NeverExpire),
            true,
            "fl-1",
        ),
        (
            "short retention",
            vec![flow_log("fl-1", "vpc-1", Reject, MANAGED)],
            g(Days(30)),
            false,
            "30 days",
        ),
        (
            "missing group",
            vec![flow_log("fl-1", "vpc-1", Reject, MANAGED)],
            vec![],
            false,
            "does not exist",
        ),
        (
            "failing delivery",
            vec![failing(flow_log("fl-1", "vpc-1", Reject, MANAGED))],
            g(Days(365)),
            false,
            "FAILED",
        ),
        (
            "inactive",
            vec![inactive(flow_log("fl-1", "vpc-1", Reject, MANAGED))],
            g(Days(365)),
            false,
            "INACTIVE",
        ),
        (
            "S3 has no retention to check",
            vec![s3(flow_log("fl-1", "vpc-1", Reject, MANAGED))],
            vec![],
            true,
            "arn:aws:s3",
        ),
        (
            "one good among bad",
            vec![
                flow_log("fl-0", "vpc-1", Accept, MANAGED),
                flow_log("fl-1", "vpc-1", Reject, MANAGED),
            ],
            g(Days(365)),
            true,
            "fl-1",
        ),
        (
            "another VPC's flow log",
            vec![flow_log("fl-1", "vpc-2", Reject, MANAGED)],
            g(Days(365)),
            false,
            "no flow log",
        ),
    ];
    for (name, flow_logs, groups, compliant, reason) in cases {
        let o = observed(&state(&["vpc-1"], flow_logs, &groups));
        let e = evaluate(&policy, &o.vpcs[0], &o);
        assert_eq!(e.compliant, compliant, "{name}: {}", e.reason);
        assert!(
            e.reason.contains(reason),
            "{name}: {:?} lacks {reason:?}",
            e.reason
        );
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

#[test]
fn planner_table() {
    let policy = Policy::default();
    // Steady state: the group exists with 365 days; a new VPC gets one flow log.
    assert_eq!(
        steps(&policy, &state(&["vpc-1"], vec![], &[(MANAGED, Days(365))])),
        vec![Step::CreateFlowLogs {
            log_group: name(MANAGED),
            vpcs: ids(&["vpc-1"])
        }]
    );
    // No group: create it, give it the retention, then the flow logs.
    assert_eq!(
        steps(&policy, &state(&["vpc-1", "vpc-2"], vec![], &[])),
        vec![
            Step::CreateLogGroup {
                name: name(MANAGED),
                days: 365,
                for_vpcs: ids(&["vpc-1", "vpc-2"])
            },
            Step::CreateFlowLogs {
                log_group: name(MANAGED),
                vpcs: ids(&["vpc-1", "vpc-2"])
            },
        ]
    );
    // A flow log into the managed group with a short retention: raise it, nothing else.
    assert_eq!(
        steps(
            &policy,
            &state(
                &["vpc-1"],
                vec![flow_log("fl-1", "vpc-1", Reject, MANAGED)],
                &[(MANAGED, Days(30))]
            )
        ),
        vec![Step::PutRetentionPolicy {
            name: name(MANAGED),
            days: 365,
            current: Days(30),
            for_vpcs: ids(&["vpc-1"])
        }]
    );
    // Into someone else's short-retention group: that group is never changed; the VPC gets
    // flowguard's own flow log into the managed group.
    assert_eq!(
        steps(
            &policy,
            &state(
                &["vpc-1"],
                vec![flow_log("fl-1", "vpc-1", Reject, "/theirs")],
                &[("/theirs", Days(30)), (MANAGED, Days(365))]
            )
        ),
        vec![Step::CreateFlowLogs {
            log_group: name(MANAGED),
            vpcs: ids(&["vpc-1"])
        }]
    );
    // Longer and never-expire retentions are left alone.
    assert!(
        steps(
            &policy,
            &state(
                &["vpc-1"],
                vec![flow_log("fl-1", "vpc-1", Reject, MANAGED)],
                &[(MANAGED, Days(3653))]
            )
        )
        .is_empty()
    );
    assert!(
        steps(
            &policy,
            &state(
                &["vpc-1"],
                vec![flow_log("fl-1", "vpc-1", Reject, MANAGED)],
                &[(MANAGED, NeverExpire)]
            )
        )
        .is_empty()
    );
    // The managed group is raised even when no VPC needs it.
    assert_eq!(
        steps(&policy, &state(&[], vec![], &[(MANAGED, Days(7))])),
        vec![Step::PutRetentionPolicy {
            name: name(MANAGED),
            days: 365,
            current: Days(7),
            for_vpcs: vec![]
        }]
    );
    // The managed group was deleted under a working flow log: recreate the group only.
    assert_eq!(
        steps(
            &policy,
            &state(
                &["vpc-1"],
                vec![ours(flow_log("fl-1", "vpc-1", Reject, MANAGED))],
                &[]
            )
        ),
        vec![Step::CreateLogGroup {
            name: name(MANAGED),
            days: 365,
            for_vpcs: ids(&["vpc-1"])
        },]
    );
    // A foreign group that disappeared is not recreated: a new flow log goes to ours.
    assert_eq!(
        steps(
            &policy,
            &state(
                &["vpc-1"],
                vec![flow_log("fl-1", "vpc-1", Reject, "/gone")],
                &[(MANAGED, Days(365))]
            )
        ),
        vec![Step::CreateFlowLogs {
            log_group: name(MANAGED),
            vpcs: ids(&["vpc-1"])
        }]
    );
}

#[test]
fn failing_flow_logs_are_replaced_only_when_flowguard_made_them() {
    let policy = Policy::default();
    let mut mine = ours(flow_log("fl-mine", "vpc-1", Reject, MANAGED));
    mine.deliver_status = Some("FAILED".into());
    mine.deliver_error = Some("Access error".into());
    mine.created_at = Some(NOW - 7_200);
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
    assert_eq!(
        planned[1],
        Step::CreateFlowLogs {
            log_group: name(MANAGED),
            vpcs: ids(&["vpc-1", "vpc-2"])
        }
    );
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
        vec![
            Step::CreateLogGroup {
                name: name("/flow/us-east-1/vpc-1"),
                days: 365,
                for_vpcs: ids(&["vpc-1"])
            },
            Step::CreateFlowLogs {
                log_group: name("/flow/us-east-1/vpc-1"),
                vpcs: ids(&["vpc-1"])
            },
        ]
    );
}
