//! `flowguard audit`: the audit, apply, audit cycle, repeated regions and every enabled
//! region, and a shared VPC.

use super::{
    MANAGED_GROUP, create_role, flowguard, only_report, reports, role_arn, state, statuses,
};
use flowguard_tests::{REGION, Seed, moto};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn audit_fails_then_apply_remediates_then_audit_passes() {
    let m = moto().await;
    create_role(&m).await;
    let seed = Seed::new(&m.clients(REGION).await);
    let vpc = seed.vpc().await;
    let vpcs = seed.vpc_ids().await;
    assert_eq!(vpcs.len(), 2, "moto's default VPC and ours");

    let audit = flowguard(&m, &["audit"]).run();
    audit.expect(1);
    assert!(
        audit.stdout.contains(&vpc) && audit.stdout.contains("NOT COMPLIANT"),
        "{}",
        audit.stdout
    );
    assert!(
        audit
            .stdout
            .contains("2 VPC(s) in 1 region: 2 NOT COMPLIANT"),
        "{}",
        audit.stdout
    );

    let apply = flowguard(&m, &["apply", "--yes"]).role().run();
    apply.expect(0);
    assert!(apply.stdout.contains("2 remediated"), "{}", apply.stdout);
    for id in &vpcs {
        let flow_logs = seed.flow_logs_of(id).await;
        assert_eq!(flow_logs.len(), 1, "{id}");
        let fl = &flow_logs[0];
        assert_eq!(fl.log_group_name(), Some(MANAGED_GROUP));
        assert_eq!(fl.traffic_type().map(|t| t.as_str()), Some("REJECT"));
        assert_eq!(fl.deliver_logs_permission_arn(), Some(role_arn().as_str()));
        assert!(
            fl.tags()
                .iter()
                .any(|t| t.key() == Some("managed-by") && t.value() == Some("flowguard")),
            "{fl:?}"
        );
    }
    assert_eq!(seed.retention(MANAGED_GROUP).await, Some(Some(365)));

    let audit = flowguard(&m, &["audit", "--format", "json"]).run();
    audit.expect(0);
    let report = only_report(&audit.json());
    assert!(
        statuses(&report).iter().all(|(_, s)| s == "compliant"),
        "{report}"
    );
    assert_eq!(report["summary"]["vpcs"]["compliant"], 2);

    // A second apply changes nothing.
    let before = state(&m, REGION).await;
    let again = flowguard(&m, &["apply", "--yes", "--format", "json"])
        .role()
        .run();
    again.expect(0);
    assert_eq!(only_report(&again.json())["actions"], json!([]));
    assert_eq!(state(&m, REGION).await, before);
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn repeated_regions_are_runs_of_the_one_shape() {
    let m = moto().await;
    let east = Seed::new(&m.clients(REGION).await).vpc().await;
    let west = Seed::new(&m.clients("eu-west-1").await).vpc().await;

    let out = flowguard(
        &m,
        &[
            "audit",
            "--region",
            REGION,
            "--region",
            "eu-west-1",
            "--format",
            "json",
        ],
    )
    .run();
    out.expect(1);
    let json = out.json();
    assert_eq!(json["regions"], json!([REGION, "eu-west-1"]));
    let reports = reports(&json);
    assert_eq!(reports.len(), 2);
    assert_eq!(
        (reports[0]["region"].as_str(), reports[1]["region"].as_str()),
        (Some(REGION), Some("eu-west-1"))
    );
    assert!(statuses(&reports[0]).iter().any(|(id, _)| *id == east));
    assert!(statuses(&reports[1]).iter().any(|(id, _)| *id == west));
    assert_eq!(json["summary"]["vpcs"]["would_remediate"], 4, "{json}");

    // One region: the same shape, with one run; a repeated region counts once.
    let out = flowguard(
        &m,
        &[
            "audit",
            "--region",
            "eu-west-1",
            "--region",
            "eu-west-1",
            "--format",
            "json",
        ],
    )
    .run();
    let json = out.expect(1).json();
    assert_eq!(json["regions"], json!(["eu-west-1"]));
    assert_eq!(only_report(&json)["region"], "eu-west-1");

    // The table names both regions.
    let out = flowguard(&m, &["audit", "--region", REGION, "--region", "eu-west-1"]).run();
    assert!(
        out.expect(1).stdout.contains("4 VPC(s) in 2 regions"),
        "{}",
        out.stdout
    );
    assert_eq!(
        out.stderr, "",
        "no progress without a terminal in one account"
    );
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn all_regions_sweeps_every_enabled_region() {
    let m = moto().await;
    let listed = m
        .clients(REGION)
        .await
        .ec2
        .describe_regions()
        .send()
        .await
        .unwrap();
    let mut expected: Vec<String> = listed
        .regions()
        .iter()
        .filter_map(|r| r.region_name().map(str::to_owned))
        .collect();
    expected.sort();
    assert!(expected.len() > 4, "moto lists {} regions", expected.len());

    let started = std::time::Instant::now();
    let out = flowguard(&m, &["audit", "--all-regions", "--format", "json"]).run();
    out.expect(1);
    let json = out.json();
    let mut regions: Vec<String> = json["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|run| run["region"].as_str().unwrap().to_owned())
        .collect();
    regions.sort();
    assert_eq!(regions, expected);
    let mut listed: Vec<String> = json["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    assert_eq!(listed, expected);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );

    // Conflicting flags are a usage error.
    flowguard(&m, &["audit", "--all-regions", "--region", REGION])
        .run()
        .expect(2);
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn an_audit_with_a_shared_vpc_passes_once_the_owned_ones_comply() {
    use flowguard_tests::proxy::{AwsRules, FaultProxy};
    let m = moto().await;
    create_role(&m).await;
    let seed = Seed::new(&m.clients(REGION).await);
    let shared = seed.vpc().await;
    let proxy = FaultProxy::with_aws_rules(
        &m.url,
        AwsRules {
            shared_vpcs: [(shared.clone(), "210987654321".to_owned())].into(),
            ..AwsRules::default()
        },
    );
    flowguard(&m, &["apply", "--yes"])
        .role()
        .env("AWS_ENDPOINT_URL", &proxy.url)
        .run()
        .expect(0);
    let out = flowguard(&m, &["audit", "--format", "json"])
        .env("AWS_ENDPOINT_URL", &proxy.url)
        .run();
    out.expect(0);
    let report = only_report(&out.json());
    let line = report["vpcs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["vpc_id"] == shared.as_str())
        .unwrap()
        .clone();
    assert_eq!(line["status"], "not_owned");
    assert_eq!(line["owner_id"], "210987654321");
    assert_eq!(proxy.refused(), [], "the shared VPC was never sent to EC2");
}
