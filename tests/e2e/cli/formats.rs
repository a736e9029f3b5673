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
/// with the compliance status of flowguard's control (flowguard.1), EC2.6's verdict in its
/// status reasons, and the VPC's Name tag on its resource.
#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn the_asff_export_imports_into_security_hub_and_reads_back() {
    use aws_sdk_securityhub::types::AwsSecurityFinding;
    let m = moto().await;
    let seed = Seed::new(&m.clients(REGION).await);
    let bare = seed.vpc().await;
    seed.log_group(MANAGED_GROUP, Some(365)).await;
    let logged = seed
        .named_vpc("prod, \"eu\"", "10.1.0.0/16", &[("team", "net")])
        .await;
    seed.foreign_flow_log(
        &logged,
        aws_sdk_ec2::types::TrafficType::Reject,
        MANAGED_GROUP,
    )
    .await;
    // Passes EC2.6, fails only flowguard's retention.
    let (short, _) = seed
        .vpc_logging_into(
            "/short/flow-logs",
            Some(30),
            aws_sdk_ec2::types::TrafficType::Reject,
        )
        .await;

    let out = flowguard(&m, &["audit", "--format", "asff"]).run();
    out.expect(1);
    let findings = out.json();
    let findings = findings.as_array().unwrap();
    assert_eq!(findings.len(), 4, "one per VPC (moto's default VPC too)");

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
        (Some(4), Some(0))
    );

    let back = hub.get_findings().send().await.unwrap();
    let finding = |vpc: &str| {
        back.findings()
            .iter()
            .find(|f| {
                f.resources()
                    .iter()
                    .any(|r| r.id().is_some_and(|id| id.ends_with(vpc)))
            })
            .unwrap_or_else(|| panic!("no finding of {vpc}"))
    };
    let status = |vpc: &str| {
        let compliance = finding(vpc).compliance().unwrap();
        let codes: Vec<&str> = (compliance.status_reasons().iter())
            .filter_map(|r| r.reason_code())
            .collect();
        (
            compliance.status().map(|s| s.as_str().to_owned()),
            compliance.security_control_id().map(str::to_owned),
            codes.join("; "),
        )
    };
    let control = Some("flowguard.1".to_owned());
    assert_eq!(
        status(&bare),
        (
            Some("FAILED".into()),
            control.clone(),
            "NO_ACTIVE_FLOW_LOG; EC2_6_FAILED".into()
        )
    );
    assert_eq!(
        status(&logged),
        (Some("PASSED".into()), control.clone(), String::new())
    );
    assert_eq!(
        status(&short),
        (
            Some("FAILED".into()),
            control,
            "RETENTION_TOO_SHORT; EC2_6_PASSED".into()
        ),
        "passes EC2.6, fails only flowguard's stricter policy"
    );
    let tags = finding(&logged).resources()[0].tags().cloned();
    assert_eq!(
        tags,
        Some([("Name".to_owned(), "prod, \"eu\"".to_owned())].into()),
        "the VPC's Name tag, read from EC2"
    );
}

/// One ASFF finding of the export, as the SDK type (the fields BatchImportFindings requires,
/// and the compliance status the test reads back).
fn asff_finding(f: &Value) -> aws_sdk_securityhub::types::AwsSecurityFinding {
    use aws_sdk_securityhub::types::{AwsSecurityFinding, Resource, Severity, SeverityLabel};
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
                .set_tags(resource.get("Tags").map(|tags| {
                    (tags.as_object().unwrap().iter())
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                        .collect()
                }))
                .build(),
        )
        .compliance(compliance(&f["Compliance"]))
        .build()
}

/// ASFF's `Compliance` as the SDK type: status, control, its parameters, the status reasons.
fn compliance(c: &Value) -> aws_sdk_securityhub::types::Compliance {
    use aws_sdk_securityhub::types::{
        Compliance, ComplianceStatus, SecurityControlParameter, StatusReason,
    };
    let text = |v: &Value| v.as_str().unwrap().to_owned();
    let items = |key: &str| {
        c.get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    Compliance::builder()
        .status(ComplianceStatus::from(c["Status"].as_str().unwrap()))
        .security_control_id(text(&c["SecurityControlId"]))
        .set_security_control_parameters(Some(
            (items("SecurityControlParameters").iter())
                .map(|p| {
                    SecurityControlParameter::builder()
                        .name(text(&p["Name"]))
                        .set_value(Some(
                            p["Value"].as_array().unwrap().iter().map(text).collect(),
                        ))
                        .build()
                })
                .collect(),
        ))
        .set_status_reasons(Some(
            (items("StatusReasons").iter())
                .map(|r| {
                    StatusReason::builder()
                        .reason_code(text(&r["ReasonCode"]))
                        .description(text(&r["Description"]))
                        .build()
                })
                .collect(),
        ))
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
    let event = (events.iter())
        .find(|e| e["resources"][0]["uid"].as_str().unwrap().ends_with(&vpc))
        .unwrap();
    assert_eq!(event["status_code"], "FAIL", "as Prowler's OCSF says it");
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn an_output_directory_gets_every_format_of_the_same_run() {
    let m = moto().await;
    let seed = Seed::new(&m.clients(REGION).await);
    let vpc = seed.vpc().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let path = out.to_str().unwrap();
    let audit = flowguard(
        &m,
        &["audit", "--format", "csv", "--output-directory", path],
    )
    .run();
    audit.expect(1);
    // stdout keeps --format; the directory has the same run in every format.
    assert!(
        audit.stdout.starts_with("generated_at,"),
        "{}",
        audit.stdout
    );
    let read = |name: &str| std::fs::read_to_string(out.join(name)).unwrap();
    assert_eq!(
        read("findings.csv").lines().count(),
        3,
        "a header and two VPCs"
    );
    let report: Value = serde_json::from_str(&read("report.json")).unwrap();
    assert_eq!(report["summary"]["vpcs"]["would_remediate"], 2, "{report}");
    for name in ["findings.asff.json", "findings.ocsf.json"] {
        let findings: Value = serde_json::from_str(&read(name)).unwrap();
        assert_eq!(findings.as_array().unwrap().len(), 2, "{name}");
    }
    let html = read("report.html");
    assert!(html.contains(&vpc), "the VPC that needs action is listed");
    assert!(html.contains("id=\"total-would_remediate\""), "{html}");
}
