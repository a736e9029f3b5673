//! The output formats: the JSON report's shape (pinned by snapshots: one shape for one
//! account in one region as for an organization), and the ASFF, CSV and OCSF exports.

use super::{MANAGED_GROUP, create_role, flowguard};
use flowguard_tests::{REGION, Seed, moto};
use serde_json::Value;

/// Replaces every id of `ids` (longest first) by its stable name.
fn stable(text: &str, ids: &[(String, &str)]) -> String {
    let mut ids = ids.to_vec();
    ids.sort_by_key(|(id, _)| std::cmp::Reverse(id.len()));
    ids.iter()
        .fold(text.to_owned(), |text, (id, name)| text.replace(id, name))
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn report_json_shape_is_pinned() {
    let m = moto().await;
    create_role(&m).await;
    let seed = Seed::new(&m.clients(REGION).await);
    let default_vpc = seed.vpc_ids().await.remove(0);
    let exempt = seed.vpc().await;
    seed.tag(&exempt, "flowguard:exempt", "true").await;
    let (compliant, theirs) = seed
        .vpc_logging_into(
            "/network/flow-logs",
            Some(400),
            aws_sdk_ec2::types::TrafficType::All,
        )
        .await;
    let (short, short_fl) = seed
        .vpc_logging_into(
            "/short/flow-logs",
            Some(30),
            aws_sdk_ec2::types::TrafficType::Reject,
        )
        .await;
    let ids = [
        (default_vpc, "vpc-1-default"),
        (exempt, "vpc-2-exempt"),
        (compliant, "vpc-3-compliant"),
        (short, "vpc-4-short-retention"),
        (theirs, "fl-theirs"),
        (short_fl, "fl-short"),
    ];

    let out = flowguard(&m, &["plan", "--format", "json"]).role().run();
    out.expect(1);
    let report = in_stable_order(&stable(&out.stdout, &ids));
    // Key order depends on serde_json's features, which vary with what is built together.
    insta::with_settings!({ sort_maps => true }, {
        insta::assert_json_snapshot!("plan_report", report);
    });

    let out = flowguard(&m, &["apply", "--yes", "--format", "json"])
        .role()
        .run();
    out.expect(0);
    let mut text = stable(&out.stdout, &ids);
    for fl in seed.all_flow_logs().await {
        let id = fl.flow_log_id().unwrap();
        if !ids.iter().any(|(known, _)| known == id) {
            text = text.replace(id, "fl-created");
        }
    }
    let report = in_stable_order(&text);
    insta::with_settings!({ sort_maps => true }, {
        insta::assert_json_snapshot!("apply_report", report);
    });

    // Applied: nothing is left to change, and the plan says so by its exit code.
    flowguard(&m, &["plan"]).role().run().expect(0);
}

/// The sweep's JSON in `text` (one account, one region: one run), its report's VPCs sorted by
/// id and its actions by kind then target: the VPCs of one CreateFlowLogs batch come in the
/// order of their (random) ids.
fn in_stable_order(text: &str) -> Value {
    let mut json: Value = serde_json::from_str(text).unwrap();
    assert_eq!(json["accounts"].as_array().unwrap().len(), 1, "{json}");
    let report = &mut json["accounts"][0]["report"];
    report["vpcs"]
        .as_array_mut()
        .unwrap()
        .sort_by_key(|v| v["vpc_id"].as_str().unwrap().to_owned());
    sort_batch_actions(report);
    json
}

/// Sorts the actions of each run of same-kind actions by target, keeping the order of kinds.
fn sort_batch_actions(report: &mut Value) {
    let actions = report["actions"].as_array_mut().unwrap();
    actions.sort_by_key(|a| {
        let rank = match a["action"].as_str().unwrap() {
            "create_log_group" => 0,
            "put_retention_policy" => 1,
            "delete_flow_logs" => 2,
            _ => 3,
        };
        (rank, a["target"].as_str().unwrap().to_owned())
    });
}

/// `flowguard audit --format asff`: what it prints, Security Hub's `BatchImportFindings`
/// takes as it is (moto's Security Hub), and `GetFindings` reads it back, one finding per VPC
/// with the compliance status of flowguard's verdict.
#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn the_asff_export_imports_into_security_hub_and_reads_back() {
    use aws_sdk_securityhub::types::AwsSecurityFinding;
    let m = moto().await;
    let seed = Seed::new(&m.clients(REGION).await);
    let bare = seed.vpc().await;
    seed.log_group(MANAGED_GROUP, Some(365)).await;
    let logged = seed.vpc().await;
    seed.foreign_flow_log(
        &logged,
        aws_sdk_ec2::types::TrafficType::Reject,
        MANAGED_GROUP,
    )
    .await;

    let out = flowguard(&m, &["audit", "--format", "asff"]).run();
    out.expect(1);
    let findings = out.json();
    let findings = findings.as_array().unwrap();
    assert_eq!(findings.len(), 3, "one per VPC (moto's default VPC too)");

    let hub = aws_sdk_securityhub::Client::new(&m.config(REGION).await);
    // The SDK's own JSON shape of a finding is not public: import through the wire format,
    // as `aws securityhub batch-import-findings --findings file://…` does.
    let imported: Vec<AwsSecurityFinding> = findings.iter().map(asff_finding).collect();
    let answer = hub
        .batch_import_findings()
        .set_findings(Some(imported))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (answer.success_count(), answer.failed_count()),
        (Some(3), Some(0))
    );

    let back = hub.get_findings().send().await.unwrap();
    let status = |vpc: &str| {
        back.findings()
            .iter()
            .find(|f| {
                f.resources()
                    .iter()
                    .any(|r| r.id().is_some_and(|id| id.ends_with(vpc)))
            })
            .and_then(|f| f.compliance())
            .and_then(|c| c.status())
            .map(|s| s.as_str().to_owned())
    };
    assert_eq!(status(&bare).as_deref(), Some("FAILED"));
    assert_eq!(status(&logged).as_deref(), Some("PASSED"));
}

/// One ASFF finding of the export, as the SDK type (the fields BatchImportFindings requires,
/// and the compliance status the test reads back).
fn asff_finding(f: &Value) -> aws_sdk_securityhub::types::AwsSecurityFinding {
    use aws_sdk_securityhub::types::{
        AwsSecurityFinding, Compliance, ComplianceStatus, Resource, Severity, SeverityLabel,
    };
    let s = |key: &str| {
        f[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key} in {f}"))
            .to_owned()
    };
    let resource = &f["Resources"][0];
    AwsSecurityFinding::builder()
        .schema_version(s("SchemaVersion"))
        .id(s("Id"))
        .product_arn(s("ProductArn"))
        .generator_id(s("GeneratorId"))
        .aws_account_id(s("AwsAccountId"))
        .set_types(Some(
            f["Types"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_owned())
                .collect(),
        ))
        .created_at(s("CreatedAt"))
        .updated_at(s("UpdatedAt"))
        .severity(
            Severity::builder()
                .label(SeverityLabel::from(
                    f["Severity"]["Label"].as_str().unwrap(),
                ))
                .build(),
        )
        .title(s("Title"))
        .description(s("Description"))
        .resources(
            Resource::builder()
                .r#type(resource["Type"].as_str().unwrap())
                .id(resource["Id"].as_str().unwrap())
                .build(),
        )
        .compliance(
            Compliance::builder()
                .status(ComplianceStatus::from(
                    f["Compliance"]["Status"].as_str().unwrap(),
                ))
                .build(),
        )
        .build()
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn the_csv_and_ocsf_exports_have_one_finding_per_vpc() {
    let m = moto().await;
    let seed = Seed::new(&m.clients(REGION).await);
    let vpc = seed.vpc().await;

    let csv = flowguard(&m, &["audit", "--format", "csv"]).run();
    csv.expect(1);
    let lines: Vec<&str> = csv.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "a header and two VPCs:\n{}", csv.stdout);
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&vpc) && l.contains("FAILED")),
        "{}",
        csv.stdout
    );

    let ocsf = flowguard(&m, &["audit", "--format", "ocsf"]).run();
    ocsf.expect(1);
    let events = ocsf.json();
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert!(
        events.iter().all(|e| e["class_uid"] == 2003),
        "{}",
        ocsf.stdout
    );
}
