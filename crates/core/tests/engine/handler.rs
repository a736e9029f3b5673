//! The handler path called directly, with every fixture, over the in-memory fake of the ports.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{fixture, policy};
use flowguard_core::fake::{EVERYWHERE, FakePlaces, FakeRegion, State, vpc};
use flowguard_core::handler::{Handled, HandlerError, Reach, Setup, handle};
use flowguard_core::observed::{LogGroup, Retention};
use flowguard_core::{AwsError, LogGroupName, Policy, Report, TriggerKind, VpcStatus};
use futures::executor::block_on;
use serde_json::Value;
use std::sync::Arc;

const NEW_VPC: &str = "vpc-0a71e831cb5152c43"; // the VPC of create_vpc.json

/// One fake region for every account and region.
type FakeBackend = FakePlaces;

/// The handler of a function that runs in `account` (a single account), on `event`.
async fn handle_in(
    backend: &FakeBackend,
    setup: &Setup,
    account: &str,
    event: &[u8],
) -> Result<Report, HandlerError> {
    let reach = Reach::Account(account.to_owned());
    match handle(backend, setup, &reach, event, None, |_| {}).await? {
        Handled::Account(report) => Ok(report),
        other => panic!("a single account's event handled as {other:?}"),
    }
}

fn backend() -> FakeBackend {
    let managed = LogGroupName::new("/vpc/flow-logs");
    FakePlaces::everywhere(Arc::new(FakeRegion::new(State {
        vpcs: vec![vpc(NEW_VPC, &[]), vpc("vpc-0default", &[])],
        flow_logs: vec![],
        log_groups: [(
            managed.clone(),
            LogGroup {
                name: managed,
                retention: Retention::Days(365),
            },
        )]
        .into(),
    })))
}

fn setup(dry_run: bool) -> Setup {
    let policy = Policy {
        dry_run,
        ..policy()
    };
    Setup {
        policy,
        region: "us-east-1".into(),
        warnings: vec![],
    }
}

/// Hands the fixture `name` to the handler of a function that runs in `account`.
async fn handle_fixture(
    backend: &FakeBackend,
    setup: &Setup,
    account: &str,
    name: &str,
) -> Result<Report, HandlerError> {
    handle_in(backend, setup, account, &fixture(name)).await
}

async fn run(name: &str) -> (Report, FakeBackend) {
    let backend = backend();
    let report = handle_fixture(&backend, &setup(false), "123456789012", name)
        .await
        .unwrap();
    (report, backend)
}

#[test]
fn create_vpc_remediates_the_new_vpc_only() {
    block_on(async {
        let (report, backend) = run("create_vpc.json").await;
        assert_eq!(report.trigger.kind, TriggerKind::Vpc);
        assert_eq!(report.vpcs.len(), 1);
        assert_eq!(report.vpcs[0].status, VpcStatus::Remediated);
        assert_eq!(backend.0[EVERYWHERE].state().flow_logs.len(), 1);
    })
}

#[test]
fn delete_flow_logs_and_the_schedule_sweep_the_region() {
    block_on(async {
        for name in [
            "delete_flow_logs.json",
            "scheduled_event.json",
            "variants/delete_flow_logs_many.json",
        ] {
            let (report, backend) = run(name).await;
            assert_eq!(report.trigger.kind, TriggerKind::Sweep, "{name}");
            assert_eq!(report.summary.vpcs.remediated, 2, "{name}");
            assert_eq!(backend.0[EVERYWHERE].state().flow_logs.len(), 2, "{name}");
        }
    })
}

#[test]
fn an_unrelated_log_group_changes_nothing() {
    block_on(async {
        let (report, backend) = run("delete_log_group.json").await;
        assert_eq!(report.trigger.kind, TriggerKind::LogGroup);
        assert!(report.actions.is_empty());
        assert!(
            backend.0[EVERYWHERE]
                .calls()
                .iter()
                .all(|c| c.starts_with("Describe"))
        );
    })
}

#[test]
fn every_variant_is_handled_without_error() {
    block_on(async {
        let expected = [
            ("create_vpc_failed.json", TriggerKind::Ignored),
            ("create_vpc_no_response.json", TriggerKind::Sweep),
            // Another account's event (recipientAccountId 210987654321): not acted on here.
            ("create_vpc_detail_region.json", TriggerKind::Ignored),
            ("create_default_vpc.json", TriggerKind::Vpc),
            ("create_default_vpc_no_id.json", TriggerKind::Sweep),
            ("delete_flow_logs_unreadable.json", TriggerKind::Sweep),
            ("delete_flow_logs_failed.json", TriggerKind::Ignored),
            ("put_retention_policy.json", TriggerKind::LogGroup),
            ("delete_retention_policy.json", TriggerKind::LogGroup),
            ("delete_managed_log_group.json", TriggerKind::LogGroup),
            ("unrelated_s3_call.json", TriggerKind::Ignored),
        ];
        for (name, kind) in expected {
            let (report, _) = run(&format!("variants/{name}")).await;
            assert_eq!(report.trigger.kind, kind, "{name}: {report}");
        }
        // The region comes from the event when it carries it; the account is the function's,
        // and the event of that account is acted on in the event's region.
        let backend = backend();
        let report = handle_fixture(
            &backend,
            &setup(false),
            "210987654321",
            "variants/create_vpc_detail_region.json",
        )
        .await
        .unwrap();
        assert_eq!(report.trigger.kind, TriggerKind::Vpc, "{report}");
        assert_eq!(
            (report.region.as_str(), report.account.as_str()),
            ("eu-west-1", "210987654321")
        );
    })
}

#[test]
fn invalid_input_is_a_permanent_error() {
    block_on(async {
        for input in [
            Value::Null,
            serde_json::json!([]),
            serde_json::json!({}),
            serde_json::json!({"detail-type": "x", "source": "y"}),
        ] {
            let backend = backend();
            let bytes = input.to_string().into_bytes();
            let err = handle_in(&backend, &setup(false), "123456789012", &bytes)
                .await
                .unwrap_err();
            assert!(matches!(err, HandlerError::InvalidEvent(_)), "{err}");
            assert!(!err.is_retryable());
            assert!(
                err.to_string()
                    .starts_with("permanent failure: invalid input"),
                "{err}"
            );
            assert!(
                backend.0[EVERYWHERE].calls().is_empty(),
                "nothing read, nothing changed"
            );
        }
    })
}

/// The handler's error on the fixture `name` when every `operation` call fails with `code`.
async fn failing(operation: &'static str, code: &str, message: &str, name: &str) -> HandlerError {
    let backend = backend();
    backend.0[EVERYWHERE].fail(operation, AwsError::service(operation, code, message));
    handle_fixture(&backend, &setup(false), "123456789012", name)
        .await
        .unwrap_err()
}

#[test]
fn throttled_reads_are_a_retryable_error() {
    block_on(async {
        let err = failing(
            "DescribeVpcs",
            "RequestLimitExceeded",
            "Request limit exceeded.",
            "scheduled_event.json",
        )
        .await;
        assert!(err.is_retryable(), "{err}");
        assert!(err.to_string().starts_with("retryable failure"), "{err}");
    })
}

#[test]
fn a_failed_remediation_is_an_error_that_carries_the_report() {
    block_on(async {
        let err = failing(
            "CreateFlowLogs",
            "Client.UnauthorizedOperation",
            "not authorized",
            "create_vpc.json",
        )
        .await;
        assert!(!err.is_retryable(), "access denied will not pass by itself");
        let report = err.report().unwrap();
        assert_eq!(report.summary.vpcs.failed, 1);
        assert_eq!(
            report.actions[0].error_code.as_deref(),
            Some("UnauthorizedOperation")
        );
    })
}

#[test]
fn dry_run_changes_nothing_and_says_so() {
    block_on(async {
        let backend = backend();
        let mut setup = setup(true);
        setup
            .warnings
            .push("the delivery role does not exist".into());
        let report = handle_fixture(&backend, &setup, "123456789012", "create_vpc.json")
            .await
            .unwrap();
        assert!(report.dry_run);
        assert_eq!(report.vpcs[0].status, VpcStatus::WouldRemediate);
        assert!(backend.0[EVERYWHERE].state().flow_logs.is_empty());
        assert!(report.warnings.iter().any(|w| w.contains("delivery role")));
    })
}

#[test]
fn an_event_of_another_account_is_ignored_and_changes_nothing() {
    block_on(async {
        let backend = backend();
        // create_vpc.json happened in 123456789012; this function runs in another account.
        let report = handle_fixture(&backend, &setup(false), "210987654321", "create_vpc.json")
            .await
            .unwrap();
        assert_eq!(report.trigger.kind, TriggerKind::Ignored);
        assert!(
            report.trigger.reason.contains("123456789012")
                && report.trigger.reason.contains("210987654321"),
            "{}",
            report.trigger.reason
        );
        assert_eq!(report.account, "210987654321");
        assert!(
            backend.0[EVERYWHERE].calls().is_empty(),
            "{:?}",
            backend.0[EVERYWHERE].calls()
        );
    })
}

#[test]
fn a_kms_key_of_another_region_fails_the_run_as_a_configuration_error() {
    block_on(async {
        let backend = backend();
        let mut setup = setup(false);
        setup.policy.kms_key_arn = Some("arn:aws:kms:eu-west-1:123456789012:key/abcd".into());
        let err = handle_fixture(&backend, &setup, "123456789012", "create_vpc.json")
            .await
            .unwrap_err();
        assert!(!err.is_retryable());
        assert!(err.to_string().contains("FLOWGUARD_KMS_KEY_ARN"), "{err}");
        assert!(backend.0[EVERYWHERE].calls().is_empty());
    })
}
