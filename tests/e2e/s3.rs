//! The S3 destination (`FLOWGUARD_DESTINATION=arn:aws:s3:::BUCKET`) against moto server,
//! through the AWS-rules proxy (EC2 refuses a delivery role for S3 and `DestinationOptions`
//! for CloudWatch Logs; moto takes both, so the proxy refuses them as EC2 does).
//!
//! What moto checks and what it does not: it refuses a flow log into a bucket that does not
//! exist (an `Unsuccessful` entry, code `400`), and stores the record format; it ignores
//! `DestinationOptions` (the request's are checked with aws-smithy-mocks in
//! `crates/aws/tests/adapters/ec2_logs.rs`) and looks a bucket up by the whole `BUCKET/PREFIX`
//! path, so a prefix reads as a missing bucket there: these tests use a bucket without prefix,
//! and the prefix is covered by the core and the mocks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aws_sdk_ec2::types::{LogDestinationType, TrafficType};
use flowguard_aws::Mode;
use flowguard_core::fake::{self, vpc_line};
use flowguard_core::rule::RetentionCheck;
use flowguard_core::trigger::trigger_from_value;
use flowguard_core::{ActionResult, Outcome, Permission, Policy, VpcStatus};
use flowguard_tests::Reconciler;
use flowguard_tests::proxy::{AwsRules, FaultProxy};
use flowguard_tests::{ACCOUNT, Moto, Seed, create_bucket, create_vpc_event, moto, policy, strict};

const BUCKET: &str = "flowguard-log-archive";
const BUCKET_ARN: &str = "arn:aws:s3:::flowguard-log-archive";
const FORMAT: &str = "${version} ${vpc-id} ${srcaddr} ${dstaddr} ${action} ${log-status}";

/// The policy with an S3 destination and every option set.
fn s3_policy(destination: &str) -> Policy {
    fake::s3_policy(destination, FORMAT)
}

/// The S3 suite runs through the AWS-rules proxy.
async fn setup(m: &Moto) -> (Reconciler, Seed, FaultProxy) {
    strict(m, AwsRules::default()).await
}

/// flowguard's flow logs of `vpc`, as moto describes them.
async fn ours(seed: &Seed, vpc: &str) -> Vec<aws_sdk_ec2::types::FlowLog> {
    seed.flow_logs_of(vpc)
        .await
        .into_iter()
        .filter(|fl| {
            fl.tags()
                .iter()
                .any(|t| t.key() == Some("managed-by") && t.value() == Some("flowguard"))
        })
        .collect()
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn create_vpc_and_the_sweep_deliver_into_the_bucket_with_the_policy_options() {
    let m = moto().await;
    create_bucket(&m.url, ACCOUNT, BUCKET);
    let (r, seed, proxy) = setup(&m).await;
    let policy = s3_policy(BUCKET_ARN);
    let vpc = seed.vpc().await;

    let trigger = trigger_from_value(&create_vpc_event(&vpc)).unwrap();
    let report = r.run(&policy, &trigger, Mode::Enforce).await.unwrap();
    assert_eq!(
        vpc_line(&report, &vpc).status,
        VpcStatus::Remediated,
        "{report}"
    );
    assert!(
        vpc_line(&report, &vpc)
            .reason
            .contains("retention unverified"),
        "{report}"
    );
    let kinds: Vec<&str> = report.actions.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(
        kinds,
        ["create_flow_logs"],
        "no log group, no retention step: {report}"
    );
    assert_eq!(report.actions[0].destination.as_deref(), Some(BUCKET_ARN));
    let [fl] = &ours(&seed, &vpc).await[..] else {
        panic!("one flow log of flowguard's on {vpc}")
    };
    assert_eq!(fl.log_destination_type(), Some(&LogDestinationType::S3));
    assert_eq!(fl.log_destination(), Some(BUCKET_ARN));
    assert_eq!(fl.log_format(), Some(FORMAT));
    assert_eq!(fl.deliver_logs_permission_arn(), None);
    assert_eq!(fl.log_group_name(), None);

    // The sweep remediates the rest (moto's default VPC) the same way, then has nothing to do.
    let sweep = r.sweep(&policy, Mode::Enforce, "test").await.unwrap();
    assert_eq!(sweep.outcome(), Outcome::Ok, "{sweep}");
    assert_eq!(sweep.summary.vpcs.remediated, 1, "{sweep}");
    assert_eq!(sweep.summary.vpcs.compliant, 1, "{sweep}");
    let again = r.sweep(&policy, Mode::Enforce, "test").await.unwrap();
    assert!(again.actions.is_empty(), "idempotent: {again}");
    assert_eq!(again.summary.vpcs.compliant, 2, "{again}");
    let checks = &vpc_line(&again, &vpc).checks;
    assert_eq!(checks.retention, Some(RetentionCheck::Unverified));
    assert_eq!(checks.s3_destination.as_deref(), Some(BUCKET_ARN));
    assert!(
        proxy.refused().is_empty(),
        "EC2 would have refused: {:?}",
        proxy.refused()
    );
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn a_missing_bucket_is_a_clear_failure_that_is_not_retried() {
    let m = moto().await;
    let (r, seed, _proxy) = setup(&m).await;
    let vpc = seed.vpc().await;
    let policy = s3_policy("s3://no-such-log-archive");

    let trigger = trigger_from_value(&create_vpc_event(&vpc)).unwrap();
    let report = r.run(&policy, &trigger, Mode::Enforce).await.unwrap();

    let line = vpc_line(&report, &vpc);
    assert_eq!(line.status, VpcStatus::Failed, "{report}");
    assert!(
        line.reason.contains("no-such-log-archive"),
        "names the bucket: {}",
        line.reason
    );
    assert_eq!(
        report.outcome(),
        Outcome::Failed { retryable: false },
        "{report}"
    );
    let action = &report.actions[0];
    assert_eq!(action.result, ActionResult::Failed);
    assert_eq!(action.retryable, Some(false));
    assert!(ours(&seed, &vpc).await.is_empty());
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn s3_and_cloud_watch_flow_logs_are_judged_each_by_the_rule() {
    let m = moto().await;
    create_bucket(&m.url, ACCOUNT, BUCKET);
    let (r, seed, _proxy) = setup(&m).await;
    seed.log_group("/team/short", Some(30)).await;
    let into_s3 = seed.vpc().await;
    seed.foreign_s3_flow_log(&into_s3, TrafficType::Reject, BUCKET_ARN)
        .await;
    let short = seed.vpc().await;
    seed.foreign_flow_log(&short, TrafficType::Reject, "/team/short")
        .await;
    let accept_only = seed.vpc().await;
    seed.foreign_s3_flow_log(&accept_only, TrafficType::Accept, BUCKET_ARN)
        .await;

    // The CloudWatch Logs policy judges every destination by the rule.
    let report = r.sweep(&policy(), Mode::Audit, "test").await.unwrap();
    let line = vpc_line(&report, &into_s3);
    assert_eq!(line.status, VpcStatus::Compliant, "{report}");
    assert_eq!(line.checks.retention, Some(RetentionCheck::Unverified));
    assert!(
        line.reason.contains("retention unverified"),
        "{}",
        line.reason
    );
    assert_eq!(vpc_line(&report, &short).status, VpcStatus::WouldRemediate);
    assert_eq!(
        vpc_line(&report, &accept_only).status,
        VpcStatus::WouldRemediate
    );
    // And so does the S3 policy: the foreign CloudWatch flow log still needs 365 days.
    let report = r
        .sweep(&s3_policy(BUCKET_ARN), Mode::Audit, "test")
        .await
        .unwrap();
    assert_eq!(vpc_line(&report, &into_s3).status, VpcStatus::Compliant);
    assert_eq!(vpc_line(&report, &short).status, VpcStatus::WouldRemediate);
    assert_eq!(
        seed.retention("/team/short").await,
        Some(Some(30)),
        "never changed"
    );
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn a_dry_run_into_s3_checks_permission_and_changes_nothing() {
    let m = moto().await;
    create_bucket(&m.url, ACCOUNT, BUCKET);
    let (r, seed, proxy) = setup(&m).await;
    let vpc = seed.vpc().await;
    let before = seed.all_flow_logs().await.len();

    let report = r
        .sweep(&s3_policy(BUCKET_ARN), Mode::DryRun, "test")
        .await
        .unwrap();

    assert_eq!(vpc_line(&report, &vpc).status, VpcStatus::WouldRemediate);
    assert!(
        report.warnings.is_empty(),
        "no delivery role is needed: {report}"
    );
    for action in &report.actions {
        assert_eq!(action.result, ActionResult::Planned);
        assert_eq!(action.permission, Some(Permission::Allowed), "{report}");
    }
    assert_eq!(seed.all_flow_logs().await.len(), before);
    assert!(proxy.refused().is_empty(), "{:?}", proxy.refused());
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn switching_from_cloud_watch_to_s3_converges_to_one_flow_log_per_vpc() {
    let m = moto().await;
    create_bucket(&m.url, ACCOUNT, BUCKET);
    let (r, seed, proxy) = setup(&m).await;
    let vpcs = [seed.vpc().await, seed.vpc().await, seed.default_vpc().await];
    // Someone else's flow log, which must survive the switch untouched.
    seed.log_group("/team/flow-logs", Some(400)).await;
    let foreign = seed
        .foreign_flow_log(&vpcs[0], TrafficType::All, "/team/flow-logs")
        .await;

    let first = r.sweep(&policy(), Mode::Enforce, "test").await.unwrap();
    assert_eq!(first.outcome(), Outcome::Ok, "{first}");
    let cloud_watch: Vec<String> = ours(&seed, &vpcs[1])
        .await
        .iter()
        .filter_map(|fl| fl.flow_log_id().map(str::to_owned))
        .collect();
    assert_eq!(cloud_watch.len(), 1);

    let switched = r
        .sweep(&s3_policy(BUCKET_ARN), Mode::Enforce, "test")
        .await
        .unwrap();
    assert_eq!(switched.outcome(), Outcome::Ok, "{switched}");
    for vpc in &vpcs[1..] {
        let mine = ours(&seed, vpc).await;
        assert_eq!(mine.len(), 1, "one flowguard flow log on {vpc}: {mine:?}");
        assert_eq!(mine[0].log_destination(), Some(BUCKET_ARN));
        assert_eq!(
            mine[0].log_destination_type(),
            Some(&LogDestinationType::S3)
        );
    }
    let all = seed.all_flow_logs().await;
    assert!(
        !all.iter()
            .any(|fl| fl.flow_log_id() == Some(cloud_watch[0].as_str())),
        "flowguard's CloudWatch flow log was replaced"
    );
    assert!(
        all.iter()
            .any(|fl| fl.flow_log_id() == Some(foreign.as_str())),
        "the foreign flow log is never touched"
    );
    // vpcs[0] is compliant through the foreign flow log, whatever the destination: flowguard
    // added nothing there, before or after.
    assert_eq!(ours(&seed, &vpcs[0]).await.len(), 0, "{switched}");
    assert_eq!(
        seed.retention("/vpc/flow-logs").await,
        Some(Some(365)),
        "no group is deleted"
    );

    let again = r
        .sweep(&s3_policy(BUCKET_ARN), Mode::Enforce, "test")
        .await
        .unwrap();
    assert!(again.actions.is_empty(), "converged: {again}");
    assert!(proxy.refused().is_empty(), "{:?}", proxy.refused());
}
