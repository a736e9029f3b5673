//! The engine and the AWS adapters against moto server: real SDK calls, real emulator.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aws_sdk_ec2::types::TrafficType;
use flowguard_aws::Mode;
use flowguard_core::fake::vpc_line;
use flowguard_core::trigger::trigger_from_value;
use flowguard_core::{ActionResult, Outcome, Permission, Report, VpcStatus};
use flowguard_tests::Reconciler;
use flowguard_tests::proxy::{AwsRules, FaultProxy};
use flowguard_tests::{
    ACCOUNT, CallCounter, Moto, REGION, ROLE, Seed, create_vpc_event, fixture, moto, place, policy,
    strict,
};

const MANAGED: &str = "/vpc/flow-logs";

async fn setup(m: &Moto) -> (Reconciler, Seed, CallCounter) {
    let (clients, counter) = m.counted_clients(REGION).await;
    let seed = Seed::new(&m.clients(REGION).await);
    (Reconciler::new(clients, place()), seed, counter)
}

async fn on_event(r: &Reconciler, event: &serde_json::Value, mode: Mode) -> Report {
    let trigger = trigger_from_value(event).unwrap();
    r.run(&policy(), &trigger, mode).await.unwrap()
}

fn status_of<'a>(report: &'a Report, vpc: &str) -> &'a VpcStatus {
    &vpc_line(report, vpc).status
}

fn sorted(mut calls: Vec<String>) -> Vec<String> {
    calls.sort();
    calls
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn create_vpc_is_remediated_in_four_calls_whatever_the_size_of_the_account() {
    let m = moto().await;
    let (r, seed, counter) = setup(&m).await;
    seed.log_group(MANAGED, Some(365)).await;
    for _ in 0..50 {
        seed.vpc().await; // other VPCs in the account, which one event must not look at
    }
    let vpc = seed.vpc().await;
    counter.clear();

    let report = on_event(&r, &create_vpc_event(&vpc), Mode::Enforce).await;

    assert_eq!(report.vpcs.len(), 1, "{report}");
    assert_eq!(*status_of(&report, &vpc), VpcStatus::Remediated);
    let calls = counter.calls();
    eprintln!(
        "CreateVpc remediation, 51 other VPCs: {} calls: {calls:?}",
        calls.len()
    );
    assert_eq!(
        sorted(calls),
        [
            "CreateFlowLogs",
            "DescribeFlowLogs",
            "DescribeLogGroups",
            "DescribeVpcs"
        ]
    );

    let flow_logs = seed.flow_logs_of(&vpc).await;
    assert_eq!(flow_logs.len(), 1);
    let fl = &flow_logs[0];
    assert_eq!(fl.traffic_type(), Some(&TrafficType::Reject));
    assert_eq!(fl.log_group_name(), Some(MANAGED));
    assert_eq!(fl.deliver_logs_permission_arn(), Some(ROLE));
    assert_eq!(fl.max_aggregation_interval(), Some(600));
    assert!(
        fl.tags()
            .iter()
            .any(|t| t.key() == Some("managed-by") && t.value() == Some("flowguard"))
    );
    assert_eq!(
        report.actions[0].flow_log_id.as_ref().map(|id| id.as_str()),
        fl.flow_log_id()
    );
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn running_twice_changes_nothing_the_second_time() {
    let m = moto().await;
    let (r, seed, counter) = setup(&m).await;
    let vpc = seed.vpc().await;
    let first = r.sweep(&policy(), Mode::Enforce, "test").await.unwrap();
    assert_eq!(first.outcome(), Outcome::Ok);
    assert_eq!(
        first.summary.vpcs.remediated, 2,
        "the new VPC and moto's default VPC: {first}"
    );
    assert_eq!(seed.retention(MANAGED).await, Some(Some(365)));
    let before = seed.all_flow_logs().await;

    counter.clear();
    let second = r.sweep(&policy(), Mode::Enforce, "test").await.unwrap();
    assert!(second.actions.is_empty(), "{second}");
    assert_eq!(second.summary.vpcs.compliant, 2);
    assert!(
        counter.calls().iter().all(|c| c.starts_with("Describe")),
        "{:?}",
        counter.calls()
    );
    assert_eq!(seed.all_flow_logs().await, before);

    // The same CreateVpc event delivered again: already compliant, nothing written.
    let again = on_event(&r, &create_vpc_event(&vpc), Mode::Enforce).await;
    assert_eq!(*status_of(&again, &vpc), VpcStatus::Compliant);
    assert_eq!(seed.flow_logs_of(&vpc).await.len(), 1);
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn a_deleted_flow_log_comes_back_on_the_delete_flow_logs_event() {
    let m = moto().await;
    let (r, seed, _) = setup(&m).await;
    let vpc = seed.vpc().await;
    on_event(&r, &create_vpc_event(&vpc), Mode::Enforce).await;
    let id = seed.flow_logs_of(&vpc).await[0]
        .flow_log_id()
        .unwrap()
        .to_owned();
    seed.delete_flow_log(&id).await;
    assert!(seed.flow_logs_of(&vpc).await.is_empty());

    let event = flowguard_tests::delete_flow_logs_event(&id);
    let report = on_event(&r, &event, Mode::Enforce).await;

    assert!(
        report.trigger.reason.contains(&id),
        "{}",
        report.trigger.reason
    );
    assert_eq!(*status_of(&report, &vpc), VpcStatus::Remediated);
    assert_eq!(seed.flow_logs_of(&vpc).await.len(), 1);
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn retention_is_raised_never_lowered_and_foreign_groups_are_never_changed() {
    let m = moto().await;
    let (r, seed, _) = setup(&m).await;
    let (short, long, forever) = ("/team/short", "/team/long", "/team/forever");
    seed.log_group(short, Some(30)).await;
    seed.log_group(long, Some(731)).await;
    seed.log_group(forever, None).await;
    let (a, b, c) = (seed.vpc().await, seed.vpc().await, seed.vpc().await);
    seed.foreign_flow_log(&a, TrafficType::Reject, short).await;
    seed.foreign_flow_log(&b, TrafficType::Reject, long).await;
    seed.foreign_flow_log(&c, TrafficType::Reject, forever)
        .await;
    seed.log_group(MANAGED, Some(90)).await;

    let report = r.sweep(&policy(), Mode::Enforce, "test").await.unwrap();

    assert_eq!(
        seed.retention(short).await,
        Some(Some(30)),
        "someone else's group is never changed"
    );
    assert_eq!(seed.retention(long).await, Some(Some(731)), "longer kept");
    assert_eq!(
        seed.retention(forever).await,
        Some(None),
        "never-expire kept"
    );
    assert_eq!(
        seed.retention(MANAGED).await,
        Some(Some(365)),
        "the managed group is raised too"
    );
    assert_eq!(*status_of(&report, &a), VpcStatus::Remediated);
    assert_eq!(*status_of(&report, &b), VpcStatus::Compliant);
    assert_eq!(*status_of(&report, &c), VpcStatus::Compliant);
    let logs = seed.flow_logs_of(&a).await;
    assert_eq!(logs.len(), 2, "theirs, untouched, and flowguard's own");
    assert!(
        logs.iter().any(|fl| fl.log_group_name() == Some(MANAGED)),
        "flowguard's own flow log into the managed group"
    );
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn an_all_flow_log_counts_and_an_accept_only_one_does_not() {
    let m = moto().await;
    let (r, seed, _) = setup(&m).await;
    seed.log_group("/team/net", Some(365)).await;
    let (all, accept) = (seed.vpc().await, seed.vpc().await);
    seed.foreign_flow_log(&all, TrafficType::All, "/team/net")
        .await;
    let accept_log = seed
        .foreign_flow_log(&accept, TrafficType::Accept, "/team/net")
        .await;

    let report = r.sweep(&policy(), Mode::Enforce, "test").await.unwrap();

    assert_eq!(*status_of(&report, &all), VpcStatus::Compliant);
    assert_eq!(seed.flow_logs_of(&all).await.len(), 1);
    assert_eq!(*status_of(&report, &accept), VpcStatus::Remediated);
    let logs = seed.flow_logs_of(&accept).await;
    assert_eq!(
        logs.len(),
        2,
        "the ACCEPT flow log stays, a REJECT one is added"
    );
    assert!(
        logs.iter()
            .any(|fl| fl.flow_log_id() == Some(accept_log.as_str()))
    );
    assert!(
        logs.iter()
            .any(|fl| fl.traffic_type() == Some(&TrafficType::Reject)
                && fl.log_group_name() == Some(MANAGED))
    );
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn the_exemption_tag_is_reported_and_never_changed() {
    let m = moto().await;
    let (r, seed, _) = setup(&m).await;
    let vpc = seed.vpc().await;
    seed.tag(&vpc, "flowguard:exempt", "TRUE").await;
    let report = r.sweep(&policy(), Mode::Enforce, "test").await.unwrap();
    assert_eq!(*status_of(&report, &vpc), VpcStatus::Exempt);
    assert!(seed.flow_logs_of(&vpc).await.is_empty());
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn dry_run_makes_no_mutating_call() {
    let m = moto().await;
    let (r, seed, counter) = setup(&m).await;
    seed.log_group(MANAGED, Some(30)).await;
    let vpc = seed.vpc().await;
    counter.clear();

    let report = r.sweep(&policy(), Mode::DryRun, "test").await.unwrap();

    assert!(report.dry_run);
    assert_eq!(*status_of(&report, &vpc), VpcStatus::WouldRemediate);
    let create = report.actions.iter().find(|a| a.target == vpc).unwrap();
    assert_eq!(create.result, ActionResult::Planned);
    assert_eq!(
        create.permission,
        Some(Permission::Allowed),
        "moto answers DryRunOperation"
    );
    let retention = report.actions.iter().find(|a| a.target == MANAGED).unwrap();
    assert_eq!(retention.detail.as_deref(), Some("30 days -> 365 days"));
    // Reads, plus CreateFlowLogs with DryRun=true (one per batch) and nothing else.
    let writes: Vec<String> = counter
        .calls()
        .into_iter()
        .filter(|c| !c.starts_with("Describe"))
        .collect();
    assert_eq!(writes, ["CreateFlowLogs"]);
    assert!(seed.all_flow_logs().await.is_empty());
    assert_eq!(seed.retention(MANAGED).await, Some(Some(30)));
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn a_flow_log_flowguard_did_not_create_is_never_touched() {
    let m = moto().await;
    let (r, seed, counter) = setup(&m).await;
    seed.log_group(MANAGED, Some(365)).await;
    let vpc = seed.vpc().await;
    // Delivering to a group that does not exist: moto marks it FAILED.
    let theirs = seed
        .foreign_flow_log(&vpc, TrafficType::Reject, "/theirs/missing")
        .await;
    let before = seed.flow_logs_of(&vpc).await;
    assert_eq!(before[0].deliver_logs_status(), Some("FAILED"));

    let report = r.sweep(&policy(), Mode::Enforce, "test").await.unwrap();

    assert_eq!(*status_of(&report, &vpc), VpcStatus::Remediated);
    assert!(!counter.calls().contains(&"DeleteFlowLogs".to_owned()));
    let after = seed.flow_logs_of(&vpc).await;
    assert_eq!(after.len(), 2);
    assert_eq!(
        after
            .iter()
            .find(|fl| fl.flow_log_id() == Some(theirs.as_str())),
        before.first(),
        "unchanged"
    );
    assert_eq!(
        seed.retention("/theirs/missing").await,
        None,
        "a foreign group is not created"
    );
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn flowguards_own_failing_flow_log_is_replaced() {
    let m = moto().await;
    let (r, seed, counter) = setup(&m).await;
    let vpc = seed.vpc().await;
    // flowguard creates its flow log while the group is missing: delivery FAILED in moto.
    let remediator = flowguard_aws::AwsRemediator::new(m.clients(REGION).await);
    let request = flowguard_core::FlowLogRequest {
        vpcs: vec![flowguard_core::VpcId::new(&vpc)],
        destination: flowguard_core::observed::Destination::CloudWatchLogs("/old/group".into()),
        delivery_role_arn: Some(ROLE.into()),
        traffic_type: flowguard_core::TrafficType::Reject,
        max_aggregation_interval: 600,
        log_format: None,
        s3_options: None,
        client_token: "seed".into(),
    };
    flowguard_core::Remediator::create_flow_logs(&remediator, &request)
        .await
        .unwrap();
    let old = seed.flow_logs_of(&vpc).await;
    assert_eq!(old[0].deliver_logs_status(), Some("FAILED"));
    counter.clear();

    let report = r.sweep(&policy(), Mode::Enforce, "test").await.unwrap();

    assert_eq!(*status_of(&report, &vpc), VpcStatus::Remediated, "{report}");
    let writes: Vec<String> = counter
        .calls()
        .into_iter()
        .filter(|c| !c.starts_with("Describe"))
        .collect();
    assert_eq!(
        writes,
        [
            "CreateLogGroup",
            "PutRetentionPolicy",
            "DeleteFlowLogs",
            "CreateFlowLogs"
        ]
    );
    let now = seed.flow_logs_of(&vpc).await;
    assert_eq!(now.len(), 1);
    assert_eq!(now[0].log_group_name(), Some(MANAGED));
    assert_eq!(now[0].deliver_logs_status(), Some("SUCCESS"));
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn log_group_events_restore_the_managed_group() {
    let m = moto().await;
    let (r, seed, _) = setup(&m).await;
    let vpc = seed.vpc().await;
    on_event(&r, &create_vpc_event(&vpc), Mode::Enforce).await;

    // Someone lowers the retention.
    seed.logs
        .put_retention_policy()
        .log_group_name(MANAGED)
        .retention_in_days(30)
        .send()
        .await
        .unwrap();
    let report = on_event(
        &r,
        &fixture("variants/put_retention_policy.json"),
        Mode::Enforce,
    )
    .await;
    assert_eq!(seed.retention(MANAGED).await, Some(Some(365)), "{report}");

    // Someone deletes the group: the flow log still points at it, the group comes back.
    seed.logs
        .delete_log_group()
        .log_group_name(MANAGED)
        .send()
        .await
        .unwrap();
    let report = on_event(
        &r,
        &fixture("variants/delete_managed_log_group.json"),
        Mode::Enforce,
    )
    .await;
    assert_eq!(*status_of(&report, &vpc), VpcStatus::Remediated, "{report}");
    assert_eq!(seed.retention(MANAGED).await, Some(Some(365)));
    assert_eq!(seed.flow_logs_of(&vpc).await.len(), 1, "no second flow log");

    // An unrelated group is ignored.
    let report = on_event(&r, &fixture("delete_log_group.json"), Mode::Enforce).await;
    assert!(
        report.actions.is_empty() && report.trigger.reason.contains("nothing to do"),
        "{report}"
    );
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn a_sweep_over_300_vpcs_makes_one_create_call_per_300_vpcs() {
    // Through the AWS rules: a request over AWS's limits is refused as AWS refuses it.
    let m = moto().await;
    let proxy = FaultProxy::with_aws_rules(&m.url, AwsRules::default());
    let (clients, counter) = m.counted_clients_at(&proxy.url, REGION).await;
    let (r, seed) = (
        Reconciler::new(clients, place()),
        Seed::new(&m.clients(REGION).await),
    );
    for _ in 0..300 {
        seed.vpc().await;
    }
    counter.clear();

    let report = r.sweep(&policy(), Mode::Enforce, "test").await.unwrap();

    assert_eq!(
        report.summary.vpcs.remediated, 301,
        "300 and the default VPC"
    );
    let calls = counter.calls();
    eprintln!("300-VPC sweep: {} calls: {calls:?}", calls.len());
    // 301 VPCs: two CreateFlowLogs of at most 300 ids each (the AWS limit), the 300 new ids
    // read back by one DescribeFlowLogs (EC2's answer does not say which VPC each is for; the
    // one of a single-VPC create does); the rest constant.
    assert_eq!(
        sorted(calls),
        [
            "CreateFlowLogs",
            "CreateFlowLogs",
            "CreateLogGroup",
            "DescribeFlowLogs",
            "DescribeFlowLogs",
            "DescribeLogGroups",
            "DescribeVpcs",
            "PutRetentionPolicy"
        ]
    );
    let flow_logs = seed.all_flow_logs().await;
    assert_eq!(flow_logs.len(), 301);
    assert_eq!(proxy.refused(), [], "nothing over AWS's limits");
    // Every remediated VPC names the flow log that now covers it, in one call or the other.
    for vpc in &report.vpcs {
        let named = report
            .actions
            .iter()
            .filter(|a| a.target == vpc.vpc_id.as_str())
            .find_map(|a| a.flow_log_id.as_ref());
        let made = flow_logs
            .iter()
            .find(|f| f.resource_id() == Some(vpc.vpc_id.as_str()))
            .and_then(|f| f.flow_log_id());
        assert_eq!(named.map(|id| id.as_str()), made, "{}", vpc.vpc_id);
        assert!(made.is_some(), "{}", vpc.vpc_id);
    }

    counter.clear();
    let again = r.sweep(&policy(), Mode::Enforce, "test").await.unwrap();
    assert_eq!(again.summary.vpcs.compliant, 301);
    assert_eq!(
        sorted(counter.calls()),
        ["DescribeFlowLogs", "DescribeLogGroups", "DescribeVpcs"]
    );
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn the_lambda_handler_path_runs_against_moto() {
    let m = moto().await;
    let seed = Seed::new(&m.clients(REGION).await);
    let vpc = seed.vpc().await;
    let places = flowguard_aws::AwsPlaces::own(m.config(REGION).await);
    let setup = flowguard_core::handler::Setup {
        policy: policy(),
        region: REGION.into(),
        warnings: vec![],
    };
    let reach = flowguard_core::handler::Reach::Account(ACCOUNT.to_owned());
    let handle = |event: serde_json::Value| {
        let (places, setup, reach) = (&places, &setup, &reach);
        async move {
            let bytes = event.to_string().into_bytes();
            match flowguard_core::handler::handle(places, setup, reach, &bytes, None, |_| {}).await
            {
                Ok(flowguard_core::handler::Handled::Account(report)) => report,
                other => panic!("not one account's report: {other:?}"),
            }
        }
    };
    let report = handle(create_vpc_event(&vpc)).await;
    assert_eq!(*status_of(&report, &vpc), VpcStatus::Remediated);
    // An event from another region acts in that region.
    let mut event = fixture("scheduled_event.json");
    event["region"] = "eu-west-1".into();
    let report = handle(event).await;
    assert_eq!(report.region, "eu-west-1");
    assert_eq!(report.summary.vpcs.remediated, 1, "eu-west-1's default VPC");
    assert!(seed.flow_logs_of(&vpc).await.len() == 1);
}

// ---- With the AWS rules on: what real AWS does and moto does not (issue 11) ----

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn the_aws_rules_refuse_what_aws_refuses() {
    // The proxy itself: a request over a limit is refused, so a test fails where AWS would.
    let m = moto().await;
    let (_, seed, proxy) = strict(&m, AwsRules::default()).await;
    let vpc = seed.vpc().await;
    let clients = m.clients_at(&proxy.url, REGION).await;
    let ids: Vec<String> = (0..301).map(|_| vpc.clone()).collect();
    let err = clients
        .ec2
        .create_flow_logs()
        .resource_type(aws_sdk_ec2::types::FlowLogsResourceType::Vpc)
        .set_resource_ids(Some(ids))
        .traffic_type(TrafficType::Reject)
        .log_group_name(MANAGED)
        .deliver_logs_permission_arn(ROLE)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_smithy_types::error::metadata::ProvideErrorMetadata::code(&err),
        Some("InvalidParameterValue")
    );
    let listing = clients.logs.describe_log_groups().send().await;
    assert!(listing.is_err(), "a listing without names is refused");
    assert_eq!(proxy.refused().len(), 2);
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn a_shared_vpc_is_not_owned_never_sent_to_ec2_and_the_others_are_fixed() {
    let m = moto().await;
    let seed0 = Seed::new(&m.clients(REGION).await);
    let (own, shared) = (seed0.vpc().await, seed0.vpc().await);
    let rules = AwsRules {
        shared_vpcs: [(shared.clone(), "210987654321".to_owned())].into(),
        ..AwsRules::default()
    };
    let (r, seed, proxy) = strict(&m, rules).await;

    let report = r.sweep(&policy(), Mode::Enforce, "test").await.unwrap();
    assert_eq!(report.outcome(), flowguard_core::Outcome::Ok, "{report}");
    assert_eq!(*status_of(&report, &own), VpcStatus::Remediated);
    assert_eq!(*status_of(&report, &shared), VpcStatus::NotOwned);
    let line = report
        .vpcs
        .iter()
        .find(|v| v.vpc_id.as_str() == shared)
        .unwrap();
    assert_eq!(line.owner_id.as_deref(), Some("210987654321"));
    assert_eq!(proxy.refused(), [], "the shared VPC was never sent to EC2");
    assert!(seed.flow_logs_of(&shared).await.is_empty());
    assert_eq!(report.summary.vpcs.not_owned, 1);

    let audit = r.sweep(&policy(), Mode::Audit, "test").await.unwrap();
    assert!(audit.all_compliant(), "the audit passes: {audit}");
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn failing_delivery_is_replaced_only_when_old_and_not_rate_limited() {
    let m = moto().await;
    let (r, seed, proxy) = strict(&m, AwsRules::default()).await;
    let vpc = seed.vpc().await;
    r.vpc(&policy(), vpc.as_str().into(), Mode::Enforce)
        .await
        .unwrap();
    let id = seed.flow_logs_of(&vpc).await[0]
        .flow_log_id()
        .unwrap()
        .to_owned();

    // Ten minutes old and failing: not replaced; the VPC fails with EC2's message and cause.
    proxy.update_rules(|rules| {
        rules
            .failing_flow_logs
            .insert(id.clone(), ("Access error".to_owned(), 600));
    });
    let report = r
        .vpc(&policy(), vpc.as_str().into(), Mode::Enforce)
        .await
        .unwrap();
    assert_eq!(*status_of(&report, &vpc), VpcStatus::Failed, "{report}");
    assert!(report.vpcs[0].reason.contains("Access error"), "{report}");
    assert!(
        report.actions.is_empty(),
        "nothing deleted or created: {report}"
    );
    assert_eq!(
        report.outcome(),
        flowguard_core::Outcome::Failed { retryable: false }
    );

    // Rate limited, however old: never replaced.
    proxy.update_rules(|rules| {
        rules
            .failing_flow_logs
            .insert(id.clone(), ("Rate limited".to_owned(), 86_400));
    });
    let report = r
        .vpc(&policy(), vpc.as_str().into(), Mode::Enforce)
        .await
        .unwrap();
    assert!(report.actions.is_empty(), "{report}");
    assert_eq!(*status_of(&report, &vpc), VpcStatus::Failed);

    // Two hours old, its configuration the policy's and its group in place: the cause may
    // remain, so it is not replaced before a day has passed.
    proxy.update_rules(|rules| {
        rules
            .failing_flow_logs
            .insert(id.clone(), ("Access error".to_owned(), 7_200));
    });
    let report = r
        .vpc(&policy(), vpc.as_str().into(), Mode::Enforce)
        .await
        .unwrap();
    assert_eq!(*status_of(&report, &vpc), VpcStatus::Failed, "{report}");
    assert!(report.vpcs[0].reason.contains("once a day"), "{report}");
    assert!(report.actions.is_empty(), "{report}");

    // A day old and failing with an access error: replaced once, delete first.
    proxy.update_rules(|rules| {
        rules
            .failing_flow_logs
            .insert(id.clone(), ("Access error".to_owned(), 90_000));
    });
    let report = r
        .vpc(&policy(), vpc.as_str().into(), Mode::Enforce)
        .await
        .unwrap();
    assert_eq!(*status_of(&report, &vpc), VpcStatus::Remediated, "{report}");
    let kinds: Vec<&str> = report.actions.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(kinds, ["delete_flow_logs", "create_flow_logs"]);
    let now = seed.flow_logs_of(&vpc).await;
    assert_eq!(now.len(), 1);
    assert_ne!(now[0].flow_log_id(), Some(id.as_str()));

    // The replacement fails too (the role is still broken): it is young, so no loop.
    proxy.update_rules(|rules| {
        rules
            .failing_vpcs
            .insert(vpc.clone(), "Access error".to_owned());
    });
    let report = r
        .vpc(&policy(), vpc.as_str().into(), Mode::Enforce)
        .await
        .unwrap();
    assert!(report.actions.is_empty(), "no loop: {report}");
    assert_eq!(*status_of(&report, &vpc), VpcStatus::Failed);
    assert_eq!(proxy.refused(), []);
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn a_traffic_type_change_converges_to_one_flow_log_per_vpc() {
    let m = moto().await;
    let (r, seed, proxy) = strict(&m, AwsRules::default()).await;
    let vpc = seed.vpc().await;
    r.sweep(&policy(), Mode::Enforce, "test").await.unwrap();
    let all = flowguard_core::Policy {
        traffic_type: flowguard_core::TrafficType::All,
        ..policy()
    };
    let report = r.sweep(&all, Mode::Enforce, "test").await.unwrap();
    assert_eq!(report.outcome(), flowguard_core::Outcome::Ok, "{report}");
    let logs = seed.flow_logs_of(&vpc).await;
    assert_eq!(logs.len(), 1, "one flow log per VPC");
    assert_eq!(logs[0].traffic_type(), Some(&TrafficType::All));
    let again = r.sweep(&all, Mode::Enforce, "test").await.unwrap();
    assert!(again.actions.is_empty(), "{again}");
    assert_eq!(proxy.refused(), []);
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn sixty_per_vpc_groups_are_looked_up_50_at_a_time_never_listed() {
    let m = moto().await;
    let (r, seed, proxy) = strict(&m, AwsRules::default()).await;
    for _ in 0..60 {
        seed.vpc().await;
    }
    let per_vpc = flowguard_core::Policy {
        log_group: flowguard_core::LogGroupTemplate::parse("/vpc/{vpc_id}").unwrap(),
        ..policy()
    };
    let report = r.sweep(&per_vpc, Mode::Enforce, "test").await.unwrap();
    assert_eq!(report.summary.vpcs.remediated, 61, "{:?}", report.summary);
    let again = r.sweep(&per_vpc, Mode::Enforce, "test").await.unwrap();
    assert_eq!(again.summary.vpcs.compliant, 61, "{:?}", again.summary);
    assert!(again.actions.is_empty());
    assert_eq!(
        proxy.refused(),
        [],
        "no listing, no more than 50 names a call"
    );
}
