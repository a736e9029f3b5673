//! Reliability under faults and races, against moto behind a fault-injecting proxy.
//!
//! Every schedule: seed moto, run one trigger through the proxy with seeded faults, check the
//! promises (never two flowguard flow logs on one VPC, never a lowered retention, never a
//! foreign flow log deleted), check that the run either converged or said "retry", then
//! rerun without faults and check that it converges.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aws_sdk_ec2::types::TrafficType;
use flowguard_aws::config::{retry_config, timeout_config};
use flowguard_aws::{AwsRemediator, Clients, Mode};
use flowguard_core::trigger::{Target, Trigger, trigger_from_value};
use flowguard_core::{LogGroupName, Outcome, VpcId};
use flowguard_tests::Reconciler;
use flowguard_tests::proxy::{AwsRules, FaultProxy, Schedule};
use flowguard_tests::{REGION, ROLE, Seed, config_for, create_vpc_event, moto, place, policy};
use std::collections::BTreeMap;
use std::time::Duration;

const MANAGED: &str = "/vpc/flow-logs";
const SCHEDULES: u64 = 200;

/// flowguard's own retry policy; timeouts scaled down (attempt 250 ms, operation 3 s) so
/// that the proxy's 400 ms delays are timeouts and 200 schedules run in about a minute.
async fn faulty_clients(proxy: &FaultProxy) -> Clients {
    let base = config_for(&proxy.url, REGION).await;
    let config = base
        .to_builder()
        .retry_config(
            retry_config()
                .with_initial_backoff(Duration::from_millis(5))
                .with_max_backoff(Duration::from_millis(40)),
        )
        .timeout_config(timeout_config(
            Duration::from_millis(250),
            Duration::from_millis(250),
            Duration::from_secs(3),
        ))
        .build();
    Clients::new(&config)
}

/// What a schedule starts from, and what must hold of it afterwards.
struct World {
    vpcs: Vec<String>,
    foreign: Vec<String>,
    retentions: BTreeMap<String, Option<i32>>,
}

async fn seed_world(seed: &Seed, direct: &Clients, n: u64) -> World {
    let mut retentions = BTreeMap::new();
    let short = if n.is_multiple_of(2) {
        Some(30)
    } else {
        Some(731)
    };
    seed.log_group(MANAGED, short).await;
    seed.log_group("/team/short", Some(60)).await;
    seed.log_group("/team/forever", None).await;
    for (name, r) in [
        (MANAGED, short),
        ("/team/short", Some(60)),
        ("/team/forever", None),
    ] {
        retentions.insert(name.to_owned(), r);
    }
    let (bare, accept, short_vpc, forever, failing) = (
        seed.vpc().await,
        seed.vpc().await,
        seed.vpc().await,
        seed.vpc().await,
        seed.vpc().await,
    );
    let mut foreign = vec![
        seed.foreign_flow_log(&accept, TrafficType::Accept, "/team/forever")
            .await,
        seed.foreign_flow_log(&short_vpc, TrafficType::Reject, "/team/short")
            .await,
        seed.foreign_flow_log(&forever, TrafficType::Reject, "/team/forever")
            .await,
        // A foreign flow log failing delivery: must never be deleted.
        seed.foreign_flow_log(&bare, TrafficType::Reject, "/theirs/missing")
            .await,
    ];
    foreign.sort();
    // flowguard's own flow log, failing delivery: to be replaced.
    let request = flowguard_core::FlowLogRequest {
        vpcs: vec![VpcId::new(&failing)],
        destination: flowguard_core::observed::Destination::CloudWatchLogs(LogGroupName::new(
            "/old/missing",
        )),
        delivery_role_arn: Some(ROLE.into()),
        traffic_type: flowguard_core::TrafficType::Reject,
        max_aggregation_interval: 600,
        log_format: None,
        s3_options: None,
        client_token: format!("seed-{n}"),
    };
    flowguard_core::Remediator::create_flow_logs(&AwsRemediator::new(direct.clone()), &request)
        .await
        .unwrap();
    World {
        vpcs: vec![bare, accept, short_vpc, forever, failing],
        foreign,
        retentions,
    }
}

fn trigger_for(n: u64, world: &World) -> Trigger {
    match n % 3 {
        0 => Trigger::manual_sweep("fault schedule"),
        1 => trigger_from_value(&create_vpc_event(&world.vpcs[0])).unwrap(),
        _ => Trigger {
            target: Target::LogGroup(LogGroupName::new(MANAGED)),
            ..Trigger::manual_sweep("log group")
        },
    }
}

/// The promises that hold whatever happened.
async fn check_promises(seed: &Seed, world: &World, context: &str) -> Vec<String> {
    let mut violations = Vec::new();
    let all = seed.all_flow_logs().await;
    for vpc in seed.vpc_ids().await {
        let ours = all
            .iter()
            .filter(|fl| fl.resource_id() == Some(vpc.as_str()))
            .filter(|fl| {
                fl.tags()
                    .iter()
                    .any(|t| t.key() == Some("managed-by") && t.value() == Some("flowguard"))
            })
            .count();
        if ours > 1 {
            violations.push(format!("{context}: {ours} flowguard flow logs on {vpc}"));
        }
    }
    for id in &world.foreign {
        if !all.iter().any(|fl| fl.flow_log_id() == Some(id.as_str())) {
            violations.push(format!("{context}: foreign flow log {id} deleted"));
        }
    }
    for (group, before) in &world.retentions {
        let now = seed.retention(group).await;
        let lowered = match (before, now) {
            (_, None) => true,             // deleted
            (None, Some(Some(_))) => true, // never-expire became finite
            (Some(b), Some(Some(n))) => n < *b,
            (_, Some(None)) => false,
        };
        if lowered {
            violations.push(format!(
                "{context}: retention of {group} went from {before:?} to {now:?}"
            ));
        }
    }
    violations
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn two_hundred_fault_schedules_converge_or_ask_for_a_retry() {
    let m = moto().await;
    let proxy = FaultProxy::start(&m.url);
    let direct = m.clients(REGION).await;
    let seed = Seed::new(&direct);
    let (mut converged, mut retryable, mut faults, mut requests) = (0, 0, 0, 0);
    let mut violations = Vec::new();

    for n in 0..SCHEDULES {
        flowguard_tests::reset(&m.url);
        let world = seed_world(&seed, &direct, n).await;
        let trigger = trigger_for(n, &world);
        proxy.set(Schedule::new(n, 300));
        let faulty = Reconciler::new(faulty_clients(&proxy).await, place());
        let result = faulty.run(&policy(), &trigger, Mode::Enforce).await;
        let log = proxy.log();
        proxy.set(Schedule::none());
        requests += log.len();
        faults += log
            .iter()
            .filter(|(_, f)| *f != flowguard_tests::proxy::Fault::Pass)
            .count();
        let context = format!("schedule {n} ({:?})", trigger.target);

        match &result {
            Ok(report) if report.outcome() == Outcome::Ok => {
                let audit = Reconciler::new(direct.clone(), place())
                    .run(&policy(), &trigger, Mode::Audit)
                    .await
                    .unwrap();
                if audit.all_compliant() {
                    converged += 1;
                } else {
                    violations.push(format!(
                        "{context}: reported success but the audit says {audit}"
                    ));
                }
            }
            Ok(report) if report.outcome() == (Outcome::Failed { retryable: true }) => {
                retryable += 1
            }
            Err(e) if e.is_retryable() => retryable += 1,
            Ok(report) => violations.push(format!(
                "{context}: permanent failure under transient faults: {report}"
            )),
            Err(e) => violations.push(format!(
                "{context}: permanent error under transient faults: {e}"
            )),
        }
        violations.extend(check_promises(&seed, &world, &context).await);

        // Without faults, the same trigger converges.
        let calm = Reconciler::new(direct.clone(), place());
        let again = calm.run(&policy(), &trigger, Mode::Enforce).await.unwrap();
        let audit = calm.run(&policy(), &trigger, Mode::Audit).await.unwrap();
        if again.outcome() != Outcome::Ok || !audit.all_compliant() {
            violations.push(format!(
                "{context}: the rerun without faults did not converge: {again}"
            ));
        }
        violations.extend(check_promises(&seed, &world, &format!("{context}, rerun")).await);
    }

    eprintln!(
        "fault schedules: {SCHEDULES} run, {converged} converged, {retryable} asked for a retry, \
         {faults} faults injected into {requests} requests, {} violations",
        violations.len()
    );
    assert!(violations.is_empty(), "{violations:#?}");
    assert_eq!(converged + retryable, SCHEDULES as usize);
    assert!(
        converged > 0 && retryable > 0,
        "the schedules should exercise both outcomes"
    );
}

type Delivery =
    tokio::task::JoinHandle<Result<flowguard_core::Report, flowguard_core::ReconcileError>>;

/// One delivery of `event`, running concurrently with the others.
fn deliver(reconciler: &Reconciler, event: serde_json::Value) -> Delivery {
    let r = reconciler.clone();
    tokio::spawn(async move {
        r.run(
            &policy(),
            &trigger_from_value(&event).unwrap(),
            Mode::Enforce,
        )
        .await
    })
}

/// Every run ended well.
async fn all_ok(runs: Vec<Delivery>) {
    for run in futures::future::join_all(runs).await {
        let report = run.unwrap().unwrap();
        assert_eq!(report.outcome(), Outcome::Ok, "{report}");
    }
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn twenty_concurrent_deliveries_of_one_create_vpc_make_one_flow_log() {
    let m = moto().await;
    // Through the AWS rules: EC2 refuses a duplicate atomically; moto alone may race.
    let proxy = FaultProxy::with_aws_rules(&m.url, AwsRules::default());
    let clients = m.clients_at(&proxy.url, REGION).await;
    let seed = Seed::new(&clients);
    seed.log_group(MANAGED, Some(365)).await;
    let vpc = seed.vpc().await;
    let event = create_vpc_event(&vpc);
    let reconciler = Reconciler::new(clients, place());
    let runs = (0..20)
        .map(|_| deliver(&reconciler, event.clone()))
        .collect();
    all_ok(runs).await;
    assert_eq!(seed.flow_logs_of(&vpc).await.len(), 1);
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn a_sweep_racing_with_events_leaves_one_flow_log_per_vpc() {
    let m = moto().await;
    // Through the AWS rules: EC2 refuses a duplicate atomically; moto alone may race.
    let proxy = FaultProxy::with_aws_rules(&m.url, AwsRules::default());
    let clients = m.clients_at(&proxy.url, REGION).await;
    let seed = Seed::new(&clients);
    seed.log_group(MANAGED, Some(365)).await;
    let mut vpcs = Vec::new();
    for _ in 0..12 {
        vpcs.push(seed.vpc().await);
    }
    let reconciler = Reconciler::new(clients, place());
    let mut runs = Vec::new();
    for round in 0..3 {
        let r = reconciler.clone();
        runs.push(tokio::spawn(async move {
            r.sweep(&policy(), Mode::Enforce, &format!("sweep {round}"))
                .await
        }));
        for vpc in &vpcs {
            runs.push(deliver(&reconciler, create_vpc_event(vpc)));
        }
    }
    all_ok(runs).await;
    for vpc in seed.vpc_ids().await {
        assert_eq!(seed.flow_logs_of(&vpc).await.len(), 1, "{vpc}");
    }
    let audit = reconciler
        .sweep(&policy(), Mode::Audit, "check")
        .await
        .unwrap();
    assert!(audit.all_compliant(), "{audit}");
}
