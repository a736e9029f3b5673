//! Property tests of the planner and executor over generated regions.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use flowguard_core::fake::{FakeRegion, State, vpc};
use flowguard_core::observed::{Destination, FlowLog, LogGroup, Retention};
use flowguard_core::plan::{Step, plan};
use flowguard_core::policy::{Policy, TrafficType};
use flowguard_core::reconcile::{Run, enforce};
use flowguard_core::trigger::Trigger;
use flowguard_core::{FlowLogId, LogGroupName, VpcStatus};
use futures::executor::block_on;
use proptest::prelude::*;
use std::collections::BTreeMap;

const GROUPS: [&str; 3] = [MANAGED, "/team/a", "/team/b"];

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
    )
        .prop_map(
            |(v, traffic, group, failing, managed, active, id)| FlowLog {
                id: FlowLogId::new(format!("fl-{id:08x}")),
                resource_id: format!("vpc-{v:04}"),
                status: if active { "ACTIVE" } else { "INACTIVE" }.into(),
                traffic_type: Some(traffic),
                deliver_status: Some(if failing { "FAILED" } else { "SUCCESS" }.into()),
                destination: Destination::CloudWatchLogs(LogGroupName::new(group)),
                tags: if managed {
                    [("managed-by".to_owned(), "flowguard".to_owned())].into()
                } else {
                    BTreeMap::new()
                },
            },
        )
}

fn region() -> impl Strategy<Value = State> {
    (1usize..12).prop_flat_map(|n| {
        (
            prop::collection::vec(flow_log_strategy(n), 0..(2 * n)),
            prop::collection::vec(prop::option::of(retention()), GROUPS.len()),
            prop::collection::vec(prop::bool::weighted(0.1), n),
        )
            .prop_map(move |(flow_logs, retentions, exempt)| State {
                vpcs: (0..n)
                    .map(|i| {
                        let tags: &[(&str, &str)] = if exempt[i] {
                            &[("flowguard:exempt", "true")]
                        } else {
                            &[]
                        };
                        vpc(&format!("vpc-{i:04}"), tags)
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

fn policy() -> Policy {
    Policy {
        delivery_role_arn: Some("arn:aws:iam::123456789012:role/flow-logs".into()),
        ..Policy::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn a_plan_never_lowers_a_retention(state in region()) {
        let observed = observed(&state);
        for step in plan(&policy(), &observed).steps {
            if let Step::PutRetentionPolicy { name, days, current, .. } = step {
                match current {
                    Some(current) => prop_assert!(!current.at_least(days), "{name}: {current} -> {days}"),
                    None => prop_assert!(!observed.log_groups.contains_key(&name), "{name} exists but was planned as new"),
                }
            }
        }
    }

    #[test]
    fn a_plan_only_deletes_flowguards_own_flow_logs(state in region()) {
        for step in plan(&policy(), &observed(&state)).steps {
            if let Step::DeleteFlowLogs { flow_logs } = step {
                for (id, _) in flow_logs {
                    let fl = state.flow_logs.iter().find(|fl| fl.id == id).unwrap();
                    prop_assert!(fl.is_managed(), "{id} is not flowguard's");
                }
            }
        }
    }

    #[test]
    fn applying_then_planning_again_gives_an_empty_plan(state in region()) {
        let fake = FakeRegion::new(state.clone());
        let policy = policy();
        let trigger = Trigger::manual_sweep("property");
        let run = Run { policy: &policy, place: place(), trigger: &trigger, now: None, run_id: "p".into() };
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
        let again = plan(&policy, &observed(&after));
        for step in &again.steps {
            let concerned = match step {
                Step::CreateFlowLogs { vpcs, .. } => vpcs.clone(),
                Step::CreateLogGroup { for_vpcs, .. } | Step::PutRetentionPolicy { for_vpcs, .. } => for_vpcs.clone(),
                Step::DeleteFlowLogs { flow_logs } => flow_logs.iter().map(|(_, v)| v.clone()).collect(),
            };
            prop_assert!(!concerned.is_empty() && concerned.iter().all(|v| failed.contains(v)), "{step:?} after {report}");
        }
    }
}
