//! Property tests of the planner and executor over generated regions.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::*;
use flowguard_core::fake::{FakeRegion, State, vpc};
use flowguard_core::observed::{Destination, FlowLog, LogGroup, Retention};
use flowguard_core::plan::{MAX_CALLS_PER_UNIT, Step, plan, units};
use flowguard_core::policy::{Policy, TrafficType};
use flowguard_core::reconcile::{Run, enforce};
use flowguard_core::trigger::Trigger;
use flowguard_core::{FlowLogId, LogGroupName, VpcStatus};
use futures::executor::block_on;
use proptest::prelude::*;
use std::collections::BTreeMap;

const GROUPS: [&str; 3] = [MANAGED, "/team/a", "/team/b"];
/// The time of every generated observation (Unix seconds).
const NOW: i64 = 1_800_000_000;
/// The account of the generated region; some VPCs are shared to it by this other one.
const OTHER_ACCOUNT: &str = "210987654321";

fn retention() -> impl Strategy<Value = Retention> {
    prop_oneof![
        prop::sample::select(vec![1u32, 7, 30, 90, 180, 365, 400, 731, 3653])
            .prop_map(Retention::Days),
        Just(Retention::NeverExpire),
    ]
}

fn flow_log_strategy(vpcs: usize) -> impl Strategy<Value = FlowLog> {
    (
        0..vpcs,
        prop::sample::select(vec![
            TrafficType::Accept,
            TrafficType::Reject,
            TrafficType::All,
        ]),
        prop::sample::select(GROUPS.to_vec()),
        prop::bool::ANY,
        prop::bool::ANY,
        prop::bool::weighted(0.8),
        any::<u32>(),
        // Failing delivery: its message, and the flow log's age in hours.
        (
            prop::sample::select(vec!["Access error", "Rate limited", "Unknown error"]),
            0i64..4,
            prop::sample::select(vec![ROLE, "arn:aws:iam::123456789012:role/old"]),
            prop::sample::select(vec![60u32, 600]),
        ),
    )
        .prop_map(
            |(v, traffic, group, failing, managed, active, id, (error, hours, role, interval))| {
                FlowLog {
                    id: FlowLogId::new(format!("fl-{id:08x}")),
                    resource_id: format!("vpc-{v:04}"),
                    status: if active { "ACTIVE" } else { "INACTIVE" }.into(),
                    traffic_type: Some(traffic),
                    deliver_status: Some(if failing { "FAILED" } else { "SUCCESS" }.into()),
                    deliver_error: failing.then(|| error.to_owned()),
                    destination: Destination::CloudWatchLogs(LogGroupName::new(group)),
                    delivery_role_arn: Some(role.to_owned()),
                    max_aggregation_interval: Some(interval),
                    created_at: Some(NOW - hours * 3600 - 1),
                    log_format: None,
                    s3_options: None,
                    tags: if managed {
                        [("managed-by".to_owned(), "flowguard".to_owned())].into()
                    } else {
                        BTreeMap::new()
                    },
                }
            },
        )
}

fn region() -> impl Strategy<Value = State> {
    (1usize..12).prop_flat_map(|n| {
        (
            prop::collection::vec(flow_log_strategy(n), 0..(2 * n)),
            prop::collection::vec(prop::option::of(retention()), GROUPS.len()),
            prop::collection::vec(prop::bool::weighted(0.1), n),
            prop::collection::vec(prop::bool::weighted(0.15), n),
        )
            .prop_map(move |(flow_logs, retentions, exempt, shared)| State {
                vpcs: (0..n)
                    .map(|i| {
                        let tags: &[(&str, &str)] = if exempt[i] {
                            &[("flowguard:exempt", "true")]
                        } else {
                            &[]
                        };
                        let mut vpc = vpc(&format!("vpc-{i:04}"), tags);
                        vpc.owner_id =
                            Some(if shared[i] { OTHER_ACCOUNT } else { ACCOUNT }.to_owned());
                        vpc
                    })
                    .collect(),
                flow_logs,
                log_groups: GROUPS
                    .iter()
                    .zip(retentions)
                    .filter_map(|(name, r)| {
                        r.map(|r| {
                            (
                                LogGroupName::new(*name),
                                LogGroup {
                                    name: LogGroupName::new(*name),
                                    retention: r,
                                },
                            )
                        })
                    })
                    .collect(),
            })
    })
}

fn not_lower(before: Retention, after: Retention) -> bool {
    match (before, after) {
        (Retention::NeverExpire, after) => after == Retention::NeverExpire,
        (Retention::Days(d), after) => after.at_least(d),
    }
}

fn observed_now(state: &State) -> flowguard_core::Observed {
    let mut o = observed(state);
    o.at = Some(NOW);
    o
}

/// Every VPC a step concerns.
fn concerned(step: &Step) -> Vec<flowguard_core::VpcId> {
    match step {
        Step::CreateFlowLogs { vpcs, .. } => vpcs.clone(),
        Step::CreateLogGroup { for_vpcs, .. } | Step::PutRetentionPolicy { for_vpcs, .. } => {
            for_vpcs.clone()
        }
        Step::DeleteFlowLogs { flow_logs } => flow_logs.iter().map(|r| r.vpc.clone()).collect(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn a_plan_never_lowers_a_retention(state in region()) {
        let observed = observed_now(&state);
        for step in plan(&policy(), &observed).steps {
            match step {
                Step::PutRetentionPolicy { name, days, current, .. } => {
                    prop_assert!(!current.at_least(days), "{name}: {current} -> {days}");
                    prop_assert_eq!(name.as_str(), MANAGED, "only the managed group is changed");
                }
                Step::CreateLogGroup { name, .. } => {
                    prop_assert!(!observed.log_groups.contains_key(&name), "{name} exists but was planned as new");
                }
                _ => {}
            }
        }
    }

    #[test]
    fn the_rule_is_stricter_than_ec2_6(state in region(), all in any::<bool>()) {
        // Under either traffic type, a VPC that the rule calls compliant passes EC2.6's test
        // and fails no point of the policy: an export never says "flowguard.1 PASSED" beside
        // "EC2.6 FAILED".
        let traffic_type = if all { TrafficType::All } else { TrafficType::Reject };
        let policy = Policy { traffic_type, ..policy() };
        let observed = observed_now(&state);
        for vpc in &state.vpcs {
            let evaluation = flowguard_core::rule::evaluate(&policy, vpc, &observed);
            let checks = &evaluation.checks;
            prop_assert!(!checks.captures_rejects || checks.security_hub_ec2_6, "{checks:?}");
            if evaluation.compliant {
                prop_assert!(checks.security_hub_ec2_6, "{}: {checks:?}", vpc.id);
                let points = flowguard_core::export::shortfalls(checks, policy.retention_days);
                prop_assert!(points.is_empty(), "{}: {points:?}", vpc.id);
            }
        }
    }

    #[test]
    fn a_plan_only_deletes_flowguards_own_flow_logs(state in region()) {
        for step in plan(&policy(), &observed_now(&state)).steps {
            if let Step::DeleteFlowLogs { flow_logs } = step {
                for r in flow_logs {
                    let fl = state.flow_logs.iter().find(|fl| fl.id == r.flow_log).unwrap();
                    prop_assert!(fl.is_managed(), "{} is not flowguard's", r.flow_log);
                    // A failing flow log that still matches the policy is replaced only when
                    // older than an hour and not rate limited: never in a loop.
                    if fl.deliver_status.as_deref() == Some("FAILED") && r.why.contains("failing delivery") {
                        prop_assert!(fl.deliver_error.as_deref() != Some("Rate limited"));
                        prop_assert!(NOW - fl.created_at.unwrap() > 3600);
                    }
                }
            }
        }
    }

    #[test]
    fn a_plan_never_touches_a_shared_or_exempt_vpc(state in region()) {
        let plan = plan(&policy(), &observed_now(&state));
        for step in &plan.steps {
            for id in concerned(step) {
                let vpc = state.vpcs.iter().find(|v| v.id == id).unwrap();
                prop_assert_eq!(vpc.owner_id.as_deref(), Some(ACCOUNT), "{} is shared", id);
                prop_assert!(!vpc.tags.contains_key("flowguard:exempt"), "{} is exempt", id);
            }
        }
        for planned in &plan.vpcs {
            let vpc = state.vpcs.iter().find(|v| v.id == planned.vpc_id).unwrap();
            if vpc.owner_id.as_deref() == Some(OTHER_ACCOUNT) && !vpc.tags.contains_key("flowguard:exempt") {
                prop_assert_eq!(planned.decision, flowguard_core::Decision::NotOwned);
                prop_assert_eq!(planned.owner_id.as_deref(), Some(OTHER_ACCOUNT));
            }
        }
    }

    #[test]
    fn create_and_delete_batches_stay_within_aws_limits(n in 1usize..1400) {
        // n VPCs without a flow log, and as many failing flow logs of flowguard's own.
        let mut state = State::default();
        for i in 0..n {
            let id = format!("vpc-{i:05}");
            let mut vpc = vpc(&id, &[]);
            vpc.owner_id = Some(ACCOUNT.to_owned());
            state.vpcs.push(vpc);
            let mut fl = ours(flow_log(&format!("fl-{i:05}"), &id, TrafficType::Reject, MANAGED));
            fl.deliver_status = Some("FAILED".into());
            fl.deliver_error = Some("Access error".into());
            fl.created_at = Some(NOW - 7200);
            state.flow_logs.push(fl);
        }
        let steps = plan(&policy(), &observed_now(&state)).steps;
        let (mut created, mut deleted) = (0, 0);
        for step in &steps {
            match step {
                Step::CreateFlowLogs { vpcs, .. } => {
                    prop_assert!(vpcs.len() <= 300);
                    created += vpcs.len();
                }
                Step::DeleteFlowLogs { flow_logs } => {
                    prop_assert!(flow_logs.len() <= 1000);
                    deleted += flow_logs.len();
                }
                _ => {}
            }
        }
        prop_assert_eq!((created, deleted), (n, n));
    }

    #[test]
    fn no_unit_of_work_is_longer_than_the_deadline_allows(state in region(), per_vpc in any::<bool>()) {
        // The Lambda keeps MAX_CALLS_PER_UNIT calls' worth of time back from its deadline:
        // no unit the planner makes, with one managed group or a group per VPC, may need more.
        let policy = Policy {
            log_group: if per_vpc {
                flowguard_core::LogGroupTemplate::parse("/vpc/{vpc_id}").unwrap()
            } else {
                policy().log_group
            },
            ..policy()
        };
        let steps = plan(&policy, &observed_now(&state)).steps;
        for unit in units(&steps) {
            let calls: u32 = unit.iter().map(Step::max_calls).sum();
            prop_assert!(calls <= MAX_CALLS_PER_UNIT, "{calls} calls in {unit:?}");
        }
        prop_assert_eq!(units(&steps).concat(), steps);
    }

    #[test]
    fn applying_then_planning_again_gives_an_empty_plan(state in region()) {
        let fake = FakeRegion::new(state.clone());
        let policy = policy();
        let trigger = Trigger::manual_sweep("property");
        fake.account(ACCOUNT);
        let run = Run { policy: &policy, place: place(), trigger: &trigger, now: Some(NOW), run_id: "p".into(), deadline: None };
        let report = block_on(enforce(&fake, &fake, &run)).unwrap();
        let after = fake.state();
        // Nothing foreign was deleted, and no retention went down.
        for fl in state.flow_logs.iter().filter(|fl| !fl.is_managed()) {
            prop_assert!(after.flow_logs.contains(fl));
        }
        for (name, group) in &state.log_groups {
            let now = after.log_groups[name].retention;
            prop_assert!(not_lower(group.retention, now), "{}: {} -> {}", name, group.retention, now);
        }
        // The second plan is empty, except for VPCs that the first run reported failed
        // (a foreign flow log blocking the destination).
        let failed: Vec<_> = report.vpcs.iter().filter(|v| v.status == VpcStatus::Failed).map(|v| v.vpc_id.clone()).collect();
        let again = plan(&policy, &observed_now(&after));
        for step in &again.steps {
            let concerned = concerned(step);
            prop_assert!(!concerned.is_empty() && concerned.iter().all(|v| failed.contains(v)), "{step:?} after {report}");
        }
    }
}
