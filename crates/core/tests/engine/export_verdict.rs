//! The two verdicts of an export (flowguard's control `flowguard.1` and Security Hub EC2.6's, by
//! EC2.6's own test) and the VPC's `Name` tag, from audits of the in-memory fake through the
//! JSON report, CSV, ASFF and OCSF: a VPC that passes EC2.6 and fails only flowguard's stricter
//! policy is never exported as "EC2.6 FAILED".

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{self, MANAGED, failing, flow_log, group};
use flowguard_core::export::{self, Compliance, ExportContext, Findings, Format, shortfalls};
use flowguard_core::fake::{FakeRegion, State, vpc};
use flowguard_core::observed::Retention;
use flowguard_core::policy::{Policy, TrafficType};
use flowguard_core::reconcile::audit;
use flowguard_core::rule::{Checks, RetentionCheck};
use flowguard_core::trigger::Trigger;
use flowguard_core::{LogGroupName, Report};
use futures::executor::block_on;
use serde_json::Value;
use std::collections::BTreeMap;

fn ctx(policy: &Policy) -> ExportContext {
    ExportContext::new("2026-05-01T12:00:00Z", policy)
}

fn audit_of(state: State, policy: &Policy) -> Report {
    let fake = FakeRegion::new(state);
    let trigger = Trigger::manual_sweep("flowguard audit");
    block_on(audit(&fake, &common::run(policy, &trigger))).unwrap()
}

/// One VPC per way to fail (or pass) flowguard's policy, under the default policy: REJECT into
/// a group kept at least 365 days.
fn every_way() -> State {
    let rejects = |id: &str, vpc: &str, group: &str| flow_log(id, vpc, TrafficType::Reject, group);
    State {
        vpcs: [
            "vpc-ok",
            "vpc-short",
            "vpc-failing",
            "vpc-no-group",
            "vpc-accept",
            "vpc-none",
        ]
        .iter()
        .map(|id| vpc(id, &[]))
        .collect(),
        flow_logs: vec![
            rejects("fl-ok", "vpc-ok", MANAGED),
            rejects("fl-short", "vpc-short", "/team/short"),
            failing(
                rejects("fl-failing", "vpc-failing", "/team/long"),
                "Access error",
                1,
            ),
            rejects("fl-no-group", "vpc-no-group", "/team/deleted"),
            flow_log("fl-accept", "vpc-accept", TrafficType::Accept, MANAGED),
        ],
        log_groups: [
            group(MANAGED, Retention::Days(365)),
            group("/team/short", Retention::Days(30)),
            group("/team/long", Retention::NeverExpire),
        ]
        .into(),
    }
}

/// Per VPC: flowguard.1's compliance, EC2.6's, and the status reason codes.
const EXPECTED: [(&str, &str, &str, &str); 6] = [
    ("vpc-ok", "PASSED", "PASSED", ""),
    (
        "vpc-short",
        "FAILED",
        "PASSED",
        "RETENTION_TOO_SHORT; EC2_6_PASSED",
    ),
    (
        "vpc-failing",
        "FAILED",
        "PASSED",
        "DELIVERY_FAILING; EC2_6_PASSED",
    ),
    (
        "vpc-no-group",
        "FAILED",
        "PASSED",
        "LOG_GROUP_MISSING; EC2_6_PASSED",
    ),
    (
        "vpc-accept",
        "FAILED",
        "FAILED",
        "TRAFFIC_TYPE_NOT_CAPTURED; EC2_6_FAILED",
    ),
    (
        "vpc-none",
        "FAILED",
        "FAILED",
        "NO_ACTIVE_FLOW_LOG; EC2_6_FAILED",
    ),
];

fn json(format: Format, findings: &Findings, ctx: &ExportContext) -> Vec<Value> {
    let text = export::render(format, findings, ctx).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The CSV's rows by VPC id.
fn csv_rows(
    findings: &Findings,
    ctx: &ExportContext,
) -> BTreeMap<String, BTreeMap<String, String>> {
    let text = export::render(Format::Csv, findings, ctx).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    reader
        .records()
        .map(|record| {
            let row: BTreeMap<String, String> = headers
                .iter()
                .cloned()
                .zip(record.unwrap().iter().map(str::to_owned))
                .collect();
            (row["vpc_id"].clone(), row)
        })
        .collect()
}

fn asff_uid(f: &Value) -> &str {
    f["Resources"][0]["Id"].as_str().unwrap()
}

fn ocsf_uid(e: &Value) -> &str {
    e["resources"][0]["uid"].as_str().unwrap()
}

/// The item of `items` about `vpc`, found by the VPC's ARN (`uid`).
fn by_vpc<'a>(items: &'a [Value], uid: fn(&Value) -> &str, vpc: &str) -> &'a Value {
    items
        .iter()
        .find(|item| uid(item).ends_with(&format!("vpc/{vpc}")))
        .unwrap_or_else(|| panic!("no {vpc}"))
}

#[test]
fn the_ec2_6_test_is_an_active_flow_log_capturing_rejects_whatever_its_delivery_or_group() {
    let policy = common::policy();
    let report = audit_of(every_way(), &policy);
    for (id, _, ec2_6, _) in EXPECTED {
        let checks = &common::vpc_line(&report, id).checks;
        assert_eq!(checks.security_hub_ec2_6, ec2_6 == "PASSED", "{id}");
    }
    let json = serde_json::to_value(&report).unwrap();
    let vpcs = json["vpcs"].as_array().unwrap();
    let failing = vpcs.iter().find(|v| v["vpc_id"] == "vpc-failing").unwrap();
    assert_eq!(
        failing["checks"]["security_hub_ec2_6"], true,
        "in the JSON report"
    );
}

#[test]
fn a_vpc_that_passes_ec2_6_and_fails_only_the_stricter_policy_is_exported_as_such() {
    let policy = common::policy();
    let ctx = ctx(&policy);
    let findings = Findings::from_reports(&[audit_of(every_way(), &policy)]);
    let asff = json(Format::Asff, &findings, &ctx);
    let ocsf = json(Format::Ocsf, &findings, &ctx);
    let rows = csv_rows(&findings, &ctx);
    for (id, flowguard, ec2_6, codes) in EXPECTED {
        // ASFF: flowguard.1's compliance; EC2.6's in the last status reason and ProductFields.
        let f = by_vpc(&asff, asff_uid, id);
        let compliance = &f["Compliance"];
        assert_eq!(compliance["SecurityControlId"], "flowguard.1", "{id}");
        assert_eq!(compliance["Status"], flowguard, "{id}");
        assert_eq!(
            f["ProductFields"]["flowguard/security_hub/EC2.6"], ec2_6,
            "{id}"
        );
        let asff_codes: Vec<&str> = (compliance["StatusReasons"].as_array())
            .map(|r| {
                r.iter()
                    .map(|r| r["ReasonCode"].as_str().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(asff_codes.join("; "), codes, "{id}");
        let stricter_only = flowguard == "FAILED" && ec2_6 == "PASSED";
        let description = f["Description"].as_str().unwrap();
        assert_eq!(
            description.contains("Security Hub EC2.6 passes"),
            stricter_only,
            "{id}: {description}"
        );
        assert!(!f["Title"].as_str().unwrap().contains("EC2.6"), "{id}");

        // OCSF: flowguard.1's compliance and status_code; EC2.6 its own check.
        let e = by_vpc(&ocsf, ocsf_uid, id);
        let pass_fail = if flowguard == "PASSED" {
            "PASS"
        } else {
            "FAIL"
        };
        assert_eq!(e["status_code"], pass_fail, "{id}");
        assert_eq!(e["compliance"]["status_code"], pass_fail, "{id}");
        assert_eq!(e["compliance"]["control"], "flowguard.1", "{id}");
        let check = |uid: &str| {
            let checks = e["compliance"]["checks"].as_array().unwrap();
            let check = checks.iter().find(|c| c["uid"] == uid).unwrap();
            check["status"].as_str().unwrap().to_owned()
        };
        let word = |status: &str| if status == "PASSED" { "Pass" } else { "Fail" };
        assert_eq!(check("EC2.6"), word(ec2_6), "{id}");
        assert_eq!(check("flowguard.1"), word(flowguard), "{id}");
        assert_eq!(e["compliance"]["status"], word(flowguard), "{id}");
        let details = e["compliance"]["status_details"].as_array().unwrap();
        for code in codes.split("; ").filter(|c| !c.is_empty()) {
            assert!(
                details
                    .iter()
                    .any(|d| d.as_str().unwrap().starts_with(&format!("{code}: "))),
                "{id}: {code} not in {details:?}"
            );
        }

        // CSV: separate columns, the EC2.6 one beside its control's name.
        let row = &rows[id];
        assert_eq!(row["compliance"], flowguard, "{id}");
        assert_eq!(row["flowguard_control"], "flowguard.1", "{id}");
        assert_eq!(row["security_hub_control"], "EC2.6", "{id}");
        assert_eq!(row["security_hub_compliance"], ec2_6, "{id}");
        assert_eq!(row["reason_codes"], codes, "{id}");
    }
}

#[test]
fn under_a_policy_of_all_a_reject_flow_log_passes_ec2_6_and_fails_flowguards_traffic_type() {
    let policy = Policy {
        traffic_type: TrafficType::All,
        ..common::policy()
    };
    let state = State {
        vpcs: vec![vpc("vpc-reject", &[]), vpc("vpc-all", &[])],
        flow_logs: vec![
            flow_log("fl-reject", "vpc-reject", TrafficType::Reject, MANAGED),
            flow_log("fl-all", "vpc-all", TrafficType::All, MANAGED),
        ],
        log_groups: [group(MANAGED, Retention::Days(365))].into(),
    };
    let report = audit_of(state, &policy);
    let checks = &common::vpc_line(&report, "vpc-reject").checks;
    assert!(checks.security_hub_ec2_6 && !checks.captures_rejects);
    let ctx = ctx(&policy);
    let findings = Findings::from_reports(&[report]);
    let rows = csv_rows(&findings, &ctx);
    assert_eq!(rows["vpc-reject"]["compliance"], "FAILED");
    assert_eq!(rows["vpc-reject"]["security_hub_compliance"], "PASSED");
    assert_eq!(
        rows["vpc-reject"]["reason_codes"],
        "TRAFFIC_TYPE_NOT_CAPTURED; EC2_6_PASSED"
    );
    assert_eq!(rows["vpc-all"]["compliance"], "PASSED");

    let asff = json(Format::Asff, &findings, &ctx);
    let f = by_vpc(&asff, asff_uid, "vpc-reject");
    assert_eq!(
        f["Title"],
        "flowguard.1 VPC flow logs should capture all traffic, deliver it, and keep it at least 365 days"
    );
    assert_eq!(
        f["Compliance"]["SecurityControlParameters"],
        serde_json::json!([
            {"Name": "trafficType", "Value": ["ALL"]},
            {"Name": "retentionDays", "Value": ["365"]}
        ])
    );
    let reason = &f["Compliance"]["StatusReasons"][0]["Description"];
    assert_eq!(
        reason,
        "no ACTIVE flow log captures ALL traffic, as the policy asks"
    );
    let ocsf = json(Format::Ocsf, &findings, &ctx);
    assert_eq!(
        ocsf[0]["compliance"]["control_parameters"][0],
        serde_json::json!({"name": "trafficType", "value": "ALL"})
    );
}

#[test]
fn the_points_of_the_policy_that_checks_fail() {
    let group = || Some(LogGroupName::new(MANAGED));
    let kept = |days| Some(RetentionCheck::Kept(Retention::Days(days)));
    let good = Checks {
        active_flow_log: true,
        security_hub_ec2_6: true,
        captures_rejects: true,
        delivering: true,
        log_group: group(),
        s3_destination: None,
        retention: kept(365),
        exempt: false,
    };
    let codes = |checks: Checks| -> String {
        let points = shortfalls(&checks, 365);
        points
            .iter()
            .map(|p| p.code())
            .collect::<Vec<_>>()
            .join("; ")
    };
    #[rustfmt::skip]
    let cases = [
        (good.clone(), ""),
        (Checks { retention: Some(RetentionCheck::Kept(Retention::NeverExpire)), ..good.clone() }, ""),
        // S3 (or Firehose): no group to judge.
        (Checks { log_group: None, retention: Some(RetentionCheck::Unverified), ..good.clone() }, ""),
        (Checks { log_group: None, retention: None, ..good.clone() }, ""),
        (Checks { retention: kept(364), ..good.clone() }, "RETENTION_TOO_SHORT"),
        (Checks { retention: None, ..good.clone() }, "LOG_GROUP_MISSING"),
        (Checks { delivering: false, retention: kept(30), ..good.clone() }, "DELIVERY_FAILING; RETENTION_TOO_SHORT"),
        // Without a flow log of the right type, the later points do not apply.
        (Checks { captures_rejects: false, delivering: false, ..good.clone() }, "TRAFFIC_TYPE_NOT_CAPTURED"),
        (Checks::default(), "NO_ACTIVE_FLOW_LOG"),
    ];
    for (checks, expected) in cases {
        let case = format!("{checks:?}");
        assert_eq!(codes(checks), expected, "{case}");
    }
}

#[test]
fn passing_findings_have_no_status_reasons_and_the_others_always_some() {
    let policy = common::policy();
    let ctx = ctx(&policy);
    let findings = Findings::from_reports(&[audit_of(every_way(), &policy)]);
    for finding in &findings {
        let verdict = finding.verdict(&ctx);
        let reasons = finding.status_reasons(&ctx);
        assert_eq!(
            reasons.is_empty(),
            verdict.compliance == Compliance::Passed,
            "{}",
            finding.vpc_id
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The VPC's Name tag.

/// A VPC named with what a CSV must quote, one named blank, one unnamed (the reports' `name`:
/// see the reconcile tests).
fn named() -> State {
    State {
        vpcs: vec![
            vpc(
                "vpc-named",
                &[("Name", "prod, \"eu\"\nwest"), ("team", "net")],
            ),
            vpc("vpc-blank", &[("Name", " ")]),
            vpc("vpc-unnamed", &[("team", "net")]),
        ],
        flow_logs: vec![],
        log_groups: Default::default(),
    }
}

#[test]
fn every_export_carries_the_vpcs_name() {
    let policy = common::policy();
    let ctx = ctx(&policy);
    let findings = Findings::from_reports(&[audit_of(named(), &policy)]);
    let name = "prod, \"eu\"\nwest";

    let rows = csv_rows(&findings, &ctx);
    assert_eq!(rows["vpc-named"]["vpc_name"], name, "read back whole");
    assert_eq!(rows["vpc-unnamed"]["vpc_name"], "");

    let asff = json(Format::Asff, &findings, &ctx);
    let f = by_vpc(&asff, asff_uid, "vpc-named");
    assert_eq!(
        f["Resources"][0]["Tags"],
        serde_json::json!({ "Name": name })
    );
    assert_eq!(f["ProductFields"]["flowguard/vpc_name"], name);
    let unnamed = by_vpc(&asff, asff_uid, "vpc-unnamed");
    assert!(unnamed["Resources"][0].get("Tags").is_none());
    assert!(unnamed["ProductFields"].get("flowguard/vpc_name").is_none());

    let ocsf = json(Format::Ocsf, &findings, &ctx);
    assert_eq!(
        by_vpc(&ocsf, ocsf_uid, "vpc-named")["resources"][0]["name"],
        name
    );
    assert_eq!(
        by_vpc(&ocsf, ocsf_uid, "vpc-unnamed")["resources"][0]["name"],
        "vpc-unnamed",
        "without a Name tag, the VPC's id names it"
    );
}

#[test]
fn a_long_name_is_cut_to_awss_tag_value_limit_in_asff() {
    let long = "n".repeat(300);
    let state = State {
        vpcs: vec![vpc("vpc-long", &[("Name", long.as_str())])],
        flow_logs: vec![],
        log_groups: Default::default(),
    };
    let policy = common::policy();
    let findings = Findings::from_reports(&[audit_of(state, &policy)]);
    let asff = json(Format::Asff, &findings, &ctx(&policy));
    let tag = asff[0]["Resources"][0]["Tags"]["Name"].as_str().unwrap();
    assert!(tag.chars().count() <= 256 && tag.ends_with('…'), "{tag}");
}
