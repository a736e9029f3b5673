//! The exports (CSV, ASFF, OCSF) of realistic reports: runs of the engine over the in-memory
//! fake, with every VPC status, two regions, and an organization report with two accounts and
//! one unreachable run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{self, ACCOUNT, MANAGED, failing, flow_log, group, ours};
use flowguard_core::export::{
    self, ASFF_BATCH_LIMIT, CSV_COLUMNS, Compliance, ExportContext, ExportError, Finding, Findings,
    Format, OCSF_VERSION, RecordState, Severity, Workflow,
};
use flowguard_core::fake::{FakeRegion, State, vpc};
use flowguard_core::observed::{FlowLog, Retention};
use flowguard_core::organization::{AccountRun, OrgConfig};
use flowguard_core::policy::{Policy, TrafficType};
use flowguard_core::reconcile::{Run, audit, enforce};
use flowguard_core::rule::Checks;
use flowguard_core::trigger::Trigger;
use flowguard_core::{LogGroupName, Place, Report, VpcId, VpcStatus};
use futures::executor::block_on;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// 2026-05-01T12:00:00Z, the runs' clock and the exports' generation time.
const NOW: i64 = 1_777_636_800;
const GENERATED_AT: &str = "2026-05-01T12:00:00Z";
const OWNER: &str = "999999999999";

fn ctx() -> ExportContext {
    ExportContext {
        generated_at: GENERATED_AT.to_owned(),
        product_version: "0.1.0".to_owned(),
        min_retention_days: 365,
        traffic_type: TrafficType::Reject,
        exempt_tag: "flowguard:exempt".to_owned(),
    }
}

fn place(account: &str, region: &str) -> Place {
    Place {
        region: region.to_owned(),
        account: account.to_owned(),
    }
}

fn policy(account: &str) -> Policy {
    Policy {
        delivery_role_arn: Some(format!("arn:aws:iam::{account}:role/flowguard-delivery")),
        ..Policy::default()
    }
}

fn run<'a>(policy: &'a Policy, place: Place, trigger: &'a Trigger) -> Run<'a> {
    Run {
        place,
        now: Some(NOW),
        ..common::run(policy, trigger)
    }
}

/// `flowguard apply` in one region: a sweep, enforced.
fn apply(fake: &FakeRegion, place: Place) -> Report {
    let policy = policy(&place.account);
    let trigger = Trigger::manual_sweep("flowguard apply");
    block_on(enforce(fake, fake, &run(&policy, place, &trigger))).unwrap()
}

/// `flowguard audit` in one region.
fn audit_of(fake: &FakeRegion, place: Place) -> Report {
    let policy = policy(&place.account);
    let trigger = Trigger::manual_sweep("flowguard audit");
    block_on(audit(fake, &run(&policy, place, &trigger))).unwrap()
}

fn exempt(id: &str) -> flowguard_core::Vpc {
    vpc(id, &[("flowguard:exempt", "true")])
}

fn shared(id: &str, owner: &str) -> flowguard_core::Vpc {
    let mut v = vpc(id, &[]);
    v.owner_id = Some(owner.to_owned());
    v
}

/// flowguard's own flow log, failing delivery for ten minutes (too young to replace).
fn failing_own(id: &str, vpc: &str) -> FlowLog {
    let fl = ours(flow_log(id, vpc, TrafficType::Reject, MANAGED));
    failing(fl, "Access error", NOW - 600)
}

/// us-east-1, enforced: compliant, remediated, exempt (failing its checks), not owned, gone
/// and failed.
fn us_east_1() -> Report {
    let fake = FakeRegion::new(State {
        vpcs: vec![
            vpc("vpc-0a1compliant", &[("Name", "prod")]),
            vpc("vpc-0b2missing", &[]),
            exempt("vpc-0c3exempt"),
            shared("vpc-0d4shared", OWNER),
            vpc("vpc-0e5deleted", &[]),
            vpc("vpc-0f6failing", &[("Name", "payments, \"eu\"")]),
        ],
        flow_logs: vec![
            ours(flow_log(
                "fl-0a1",
                "vpc-0a1compliant",
                TrafficType::Reject,
                MANAGED,
            )),
            failing_own("fl-0f6", "vpc-0f6failing"),
        ],
        log_groups: [group(MANAGED, Retention::Days(365))].into(),
    });
    fake.account(ACCOUNT);
    fake.vanish_after_read("vpc-0e5deleted");
    apply(&fake, place(ACCOUNT, "us-east-1"))
}

/// eu-west-1, audited: would remediate (no flow log, and a group that keeps data 30 days) and
/// exempt (passing its checks).
fn eu_west_1() -> Report {
    let fake = FakeRegion::new(State {
        vpcs: vec![
            vpc("vpc-1a1missing", &[]),
            exempt("vpc-1b2exempt"),
            vpc("vpc-1c3short", &[("Name", "analytics")]),
        ],
        flow_logs: vec![
            flow_log("fl-1b2", "vpc-1b2exempt", TrafficType::All, MANAGED),
            flow_log(
                "fl-1c3",
                "vpc-1c3short",
                TrafficType::Reject,
                "/team/flow-logs",
            ),
        ],
        log_groups: [
            group(MANAGED, Retention::NeverExpire),
            group("/team/flow-logs", Retention::Days(30)),
        ]
        .into(),
    });
    audit_of(&fake, place(ACCOUNT, "eu-west-1"))
}

/// The single-account export's reports: two regions, every status.
fn reports() -> Vec<Report> {
    vec![us_east_1(), eu_west_1()]
}

/// An organization run: 111111111111 in us-east-1 and eu-west-1, 222222222222 in us-east-1
/// (a VPC shared by 111111111111 among them), and 222222222222 in eu-west-1 unreachable.
fn org() -> Vec<AccountRun> {
    let a = "111111111111";
    let b = "222222222222";
    let a_east = FakeRegion::new(State {
        vpcs: vec![vpc("vpc-a1", &[]), vpc("vpc-a2", &[])],
        flow_logs: vec![ours(flow_log(
            "fl-a1",
            "vpc-a1",
            TrafficType::Reject,
            MANAGED,
        ))],
        log_groups: [group(MANAGED, Retention::Days(365))].into(),
    });
    let a_west = FakeRegion::new(State {
        vpcs: vec![vpc("vpc-a3", &[])],
        flow_logs: vec![],
        log_groups: Default::default(),
    });
    let b_east = FakeRegion::new(State {
        vpcs: vec![shared("vpc-a9", a), exempt("vpc-b1")],
        flow_logs: vec![],
        log_groups: Default::default(),
    });
    b_east.account(b);
    let mut runs = vec![
        AccountRun::ok(apply(&a_east, place(a, "us-east-1"))),
        AccountRun::ok(apply(&a_west, place(a, "eu-west-1"))),
        AccountRun::ok(apply(&b_east, place(b, "us-east-1"))),
        AccountRun::unreachable(
            b,
            "eu-west-1",
            Some("AccessDenied".to_owned()),
            "User: arn:aws:sts::999999999999:assumed-role/flowguard-hub is not authorized \
                 to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/flowguard-member",
            None,
        ),
    ];
    let lookup = |name: &str| (name == "FLOWGUARD_ACCOUNTS").then(|| format!("{a},{b}"));
    let scope = OrgConfig::from_lookup(lookup).unwrap().unwrap().scope(&[]);
    for run in &mut runs {
        run.note_shared_vpcs(&scope, true);
    }
    runs
}

fn render(format: Format, findings: &Findings) -> String {
    export::render(format, findings, &ctx()).unwrap()
}

fn json(format: Format, findings: &Findings) -> Vec<Value> {
    let text = render(format, findings);
    match serde_json::from_str(&text).unwrap() {
        Value::Array(items) => items,
        other => panic!("{format} is not a JSON array: {other}"),
    }
}

fn status_of(findings: &Findings, vpc: &str) -> VpcStatus {
    findings
        .iter()
        .find(|f| f.vpc_id.as_str() == vpc)
        .unwrap_or_else(|| panic!("no finding for {vpc}"))
        .status
}

// ---------------------------------------------------------------------------------------------
// The reports are what the export tests claim they are.

#[test]
fn the_mixed_reports_hold_every_status_in_two_regions() {
    let findings = Findings::from_reports(&reports());
    let statuses: BTreeSet<&str> = findings.iter().map(|f| f.status.as_str()).collect();
    let all = [
        "compliant",
        "exempt",
        "failed",
        "gone",
        "not_owned",
        "remediated",
        "would_remediate",
    ];
    assert_eq!(statuses, all.into_iter().collect());
    let regions: BTreeSet<&str> = findings.iter().map(|f| f.region.as_str()).collect();
    assert_eq!(regions, ["eu-west-1", "us-east-1"].into_iter().collect());
    assert_eq!(status_of(&findings, "vpc-0e5deleted"), VpcStatus::Gone);
    assert_eq!(status_of(&findings, "vpc-0f6failing"), VpcStatus::Failed);
    assert_eq!(
        status_of(&findings, "vpc-1c3short"),
        VpcStatus::WouldRemediate
    );
}

#[test]
fn an_organization_export_has_the_vpcs_of_the_reachable_runs_only() {
    let org = org();
    assert_eq!(org.iter().filter(|run| run.report.is_none()).count(), 1);
    let findings = Findings::from_org(&org);
    let vpcs: usize = org
        .iter()
        .filter_map(|run| run.report.as_ref())
        .map(|report| report.vpcs.len())
        .sum();
    assert_eq!(findings.len(), vpcs);
    assert_eq!(findings.len(), 5);
    assert!(
        findings
            .iter()
            .all(|f| !(f.account == "222222222222" && f.region == "eu-west-1")),
        "the unreachable run has no finding"
    );
    let shared = findings
        .iter()
        .find(|f| f.vpc_id.as_str() == "vpc-a9")
        .unwrap();
    assert_eq!(shared.status, VpcStatus::NotOwned);
    assert_eq!(shared.owner_id.as_deref(), Some("111111111111"));
    assert_eq!(
        shared.vpc_arn(),
        "arn:aws:ec2:us-east-1:111111111111:vpc/vpc-a9",
        "a shared VPC's ARN names its owner"
    );
}

// ---------------------------------------------------------------------------------------------
// Snapshots: the exports as a reviewer reads them.

#[test]
fn snapshot_csv() {
    insta::assert_snapshot!(render(Format::Csv, &Findings::from_reports(&reports())));
}

#[test]
fn snapshot_asff() {
    insta::assert_snapshot!(render(Format::Asff, &Findings::from_reports(&reports())));
}

#[test]
fn snapshot_ocsf() {
    insta::assert_snapshot!(render(Format::Ocsf, &Findings::from_reports(&reports())));
}

#[test]
fn snapshot_organization_csv() {
    insta::assert_snapshot!(render(Format::Csv, &Findings::from_org(&org())));
}

#[test]
fn snapshot_organization_asff() {
    insta::assert_snapshot!(render(Format::Asff, &Findings::from_org(&org())));
}

#[test]
fn snapshot_organization_ocsf() {
    insta::assert_snapshot!(render(Format::Ocsf, &Findings::from_org(&org())));
}

// ---------------------------------------------------------------------------------------------
// The compliance mapping.

fn finding(status: VpcStatus, checks: Checks) -> Finding {
    Finding {
        account: ACCOUNT.to_owned(),
        account_name: None,
        region: "us-east-1".to_owned(),
        vpc_id: VpcId::new("vpc-1"),
        name: None,
        status,
        reason: "test".to_owned(),
        checks,
        owner_id: (status == VpcStatus::NotOwned).then(|| OWNER.to_owned()),
    }
}

fn passing_checks(retention: Option<Retention>) -> Checks {
    Checks {
        active_flow_log: true,
        security_hub_ec2_6: true,
        captures_rejects: true,
        delivering: true,
        log_group: Some(LogGroupName::new(MANAGED)),
        s3_destination: None,
        retention: retention.map(flowguard_core::rule::RetentionCheck::Kept),
        exempt: true,
    }
}

#[test]
fn each_status_maps_to_its_compliance_severity_workflow_and_record_state() {
    use Compliance::{Failed, NotAvailable, Passed};
    use Severity::{Informational, Medium};
    let ec2_6 = |checks: Checks| Checks {
        active_flow_log: true,
        security_hub_ec2_6: true,
        ..checks
    };
    // flowguard.1's compliance, then EC2.6's.
    #[rustfmt::skip]
    let cases = [
        (VpcStatus::Compliant, Checks::default(), Passed, Passed, Informational, Workflow::Resolved, RecordState::Active),
        (VpcStatus::Remediated, Checks::default(), Passed, Passed, Informational, Workflow::Resolved, RecordState::Active),
        (VpcStatus::WouldRemediate, Checks::default(), Failed, Failed, Medium, Workflow::New, RecordState::Active),
        (VpcStatus::WouldRemediate, ec2_6(Checks::default()), Failed, Passed, Medium, Workflow::New, RecordState::Active),
        (VpcStatus::Failed, Checks::default(), Failed, Failed, Medium, Workflow::New, RecordState::Active),
        (VpcStatus::Failed, ec2_6(Checks::default()), Failed, Passed, Medium, Workflow::New, RecordState::Active),
        (VpcStatus::NotOwned, Checks::default(), NotAvailable, NotAvailable, Informational, Workflow::New, RecordState::Active),
        (VpcStatus::Gone, Checks::default(), NotAvailable, NotAvailable, Informational, Workflow::Resolved, RecordState::Archived),
        // Exempt: by what its checks say, always suppressed.
        (VpcStatus::Exempt, passing_checks(Some(Retention::Days(365))), Passed, Passed, Informational, Workflow::Suppressed, RecordState::Active),
        (VpcStatus::Exempt, passing_checks(Some(Retention::NeverExpire)), Passed, Passed, Informational, Workflow::Suppressed, RecordState::Active),
        (VpcStatus::Exempt, passing_checks(Some(Retention::Days(30))), Failed, Passed, Medium, Workflow::Suppressed, RecordState::Active),
        (VpcStatus::Exempt, passing_checks(None), Failed, Passed, Medium, Workflow::Suppressed, RecordState::Active),
        (VpcStatus::Exempt, Checks { exempt: true, ..Checks::default() }, Failed, Failed, Medium, Workflow::Suppressed, RecordState::Active),
        (VpcStatus::Exempt, Checks { delivering: false, ..passing_checks(Some(Retention::Days(400))) }, Failed, Passed, Medium, Workflow::Suppressed, RecordState::Active),
        // An S3 destination has no log group to judge.
        (VpcStatus::Exempt, Checks { log_group: None, ..passing_checks(None) }, Passed, Passed, Informational, Workflow::Suppressed, RecordState::Active),
    ];
    for (status, checks, compliance, ec2_6, severity, workflow, record_state) in cases {
        let case = format!("{} {checks:?}", status.as_str());
        let verdict = finding(status, checks).verdict(&ctx());
        assert_eq!(verdict.compliance, compliance, "{case}");
        assert_eq!(verdict.security_hub, ec2_6, "{case}");
        assert_eq!(
            verdict.stricter_only(),
            compliance == Failed && ec2_6 == Passed,
            "{case}"
        );
        assert_eq!(verdict.severity, severity, "{case}");
        assert_eq!(verdict.workflow, workflow, "{case}");
        assert_eq!(verdict.record_state, record_state, "{case}");
    }
}

#[test]
fn an_exempt_vpc_is_judged_against_the_policys_retention() {
    let f = finding(
        VpcStatus::Exempt,
        passing_checks(Some(Retention::Days(400))),
    );
    let stricter = ExportContext {
        min_retention_days: 731,
        ..ctx()
    };
    assert_eq!(f.verdict(&ctx()).compliance, Compliance::Passed);
    assert_eq!(f.verdict(&stricter).compliance, Compliance::Failed);
}

#[test]
fn the_context_takes_the_policys_values() {
    let policy = Policy {
        retention_days: 731,
        exempt_tag: "audit:skip".to_owned(),
        ..Policy::default()
    };
    let ctx = ExportContext::new("2026-05-01T12:00:00Z", &policy);
    assert_eq!(ctx.min_retention_days, 731);
    assert_eq!(ctx.exempt_tag, "audit:skip");
    assert_eq!(ctx.product_version, env!("CARGO_PKG_VERSION"));
}

#[test]
fn a_malformed_generation_time_is_an_error_in_every_format() {
    let findings = Findings::from_reports(&reports());
    for format in Format::ALL {
        let bad = ExportContext {
            generated_at: "yesterday".to_owned(),
            ..ctx()
        };
        let err = export::render(format, &findings, &bad).unwrap_err();
        assert!(
            matches!(err, ExportError::InvalidTime { .. }),
            "{format}: {err}"
        );
        assert!(err.to_string().contains("yesterday"), "{err}");
    }
}

#[test]
fn no_findings_render_as_a_header_or_an_empty_array() {
    let none = Findings::default();
    assert_eq!(render(Format::Csv, &none).lines().count(), 1);
    assert!(json(Format::Asff, &none).is_empty());
    assert!(json(Format::Ocsf, &none).is_empty());
}

// ---------------------------------------------------------------------------------------------
// CSV.

fn parse_csv(text: &str) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|record| {
            let record = record.unwrap();
            headers
                .iter()
                .cloned()
                .zip(record.iter().map(str::to_owned))
                .collect()
        })
        .collect();
    (headers, rows)
}

#[test]
fn csv_reads_back_one_row_per_vpc_under_the_documented_header() {
    let reports = reports();
    let (headers, rows) = parse_csv(&render(Format::Csv, &Findings::from_reports(&reports)));
    assert_eq!(headers, CSV_COLUMNS);
    let vpcs: Vec<(String, String)> = reports
        .iter()
        .flat_map(|r| {
            r.vpcs
                .iter()
                .map(|v| (r.region.clone(), v.vpc_id.to_string()))
        })
        .collect();
    let in_csv: Vec<(String, String)> = rows
        .iter()
        .map(|row| (row["region"].clone(), row["vpc_id"].clone()))
        .collect();
    assert_eq!(in_csv, vpcs, "one row per VPC, in the reports' order");
    let failing = rows
        .iter()
        .find(|r| r["vpc_id"] == "vpc-0f6failing")
        .unwrap();
    assert_eq!(failing["status"], "failed");
    assert_eq!(failing["compliance"], "FAILED");
    assert_eq!(failing["severity"], "MEDIUM");
    assert_eq!(failing["log_group"], MANAGED);
    assert_eq!(failing["retention"], "365");
    assert_eq!(failing["delivering"], "false");
    assert_eq!(failing["generated_at"], "2026-05-01T12:00:00.000Z");
    assert_eq!(failing["security_hub_control"], "EC2.6");
    assert_eq!(
        failing["cis_requirements"],
        "CIS AWS Foundations Benchmark v3.0.0/3.7; CIS AWS Foundations Benchmark v4.0.0/3.7; \
         CIS AWS Foundations Benchmark v5.0.0/3.7; CIS AWS Foundations Benchmark v6.0.0/4.7; \
         CIS AWS Foundations Benchmark v7.0.0/4.7"
    );
    let shared = rows
        .iter()
        .find(|r| r["vpc_id"] == "vpc-0d4shared")
        .unwrap();
    assert_eq!(shared["owner_account"], OWNER);
    assert_eq!(shared["compliance"], "NOT_AVAILABLE");
    let never = rows
        .iter()
        .find(|r| r["vpc_id"] == "vpc-1b2exempt")
        .unwrap();
    assert_eq!(never["retention"], "never_expire");
    assert_eq!(never["compliance"], "PASSED");
}

#[test]
fn a_reason_with_commas_quotes_and_a_newline_survives_the_csv() {
    let mut reports = reports();
    let tricky = "flow log fl-1 delivers to \"/a,b\", which keeps data 30 days,\nless than 365 days; \
                  =cmd|' /C calc'!A0";
    reports[0].vpcs[1].reason = tricky.to_owned();
    let vpc = reports[0].vpcs[1].vpc_id.to_string();
    let (_, rows) = parse_csv(&render(Format::Csv, &Findings::from_reports(&reports)));
    let row = rows.iter().find(|r| r["vpc_id"] == vpc).unwrap();
    assert_eq!(row["reason"], tricky);
    assert_eq!(rows.len(), Findings::from_reports(&reports).len());
}

// ---------------------------------------------------------------------------------------------
// ASFF, checked against the Security Hub API reference.

/// The members that `AwsSecurityFinding` requires in the Security Hub service model
/// (`botocore/data/securityhub/2018-10-26/service-2.json`, shape `AwsSecurityFinding`,
/// `"required"`; the API reference's `AwsSecurityFinding` page marks the same "Required: Yes").
const ASFF_REQUIRED: [&str; 10] = [
    "SchemaVersion",
    "Id",
    "ProductArn",
    "GeneratorId",
    "AwsAccountId",
    "CreatedAt",
    "UpdatedAt",
    "Title",
    "Description",
    "Resources",
];

/// Required for every finding in Security Hub by the user guide ("Required top-level ASFF
/// attributes"), though the service model leaves them optional.
const ASFF_REQUIRED_BY_THE_USER_GUIDE: [&str; 2] = ["Severity", "Types"];

/// `Resource`'s required members (API reference, `Resource`).
const ASFF_RESOURCE_REQUIRED: [&str; 2] = ["Type", "Id"];

/// `Note`'s required members (API reference, `Note`).
const ASFF_NOTE_REQUIRED: [&str; 3] = ["Text", "UpdatedBy", "UpdatedAt"];

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {value}"))
}

fn non_empty(value: &Value, key: &str) -> usize {
    let text = str_of(value, key);
    assert!(!text.trim().is_empty(), "{key} is empty in {value}");
    text.chars().count()
}

/// The timestamp formats the API reference lists, of which flowguard writes
/// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn is_asff_timestamp(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

fn check_asff_finding(f: &Value) {
    for key in ASFF_REQUIRED.iter().chain(&ASFF_REQUIRED_BY_THE_USER_GUIDE) {
        assert!(!f[key].is_null(), "{key} missing in {f}");
    }
    assert_eq!(str_of(f, "SchemaVersion"), "2018-10-08");
    assert!(non_empty(f, "Id") <= 512);
    assert!(non_empty(f, "GeneratorId") <= 512);
    assert!(non_empty(f, "Title") <= 256);
    assert!(non_empty(f, "Description") <= 1024);
    let account = str_of(f, "AwsAccountId");
    assert!(account.len() == 12 && account.bytes().all(|c| c.is_ascii_digit()));
    for key in ["CreatedAt", "UpdatedAt", "LastObservedAt"] {
        assert!(is_asff_timestamp(str_of(f, key)), "{key} in {f}");
    }
    // The default product of the account, in the resource's region and partition.
    let resource = &f["Resources"][0];
    let region = str_of(resource, "Region");
    assert!(region.len() <= 16);
    let arn = str_of(f, "ProductArn");
    assert!(
        arn.ends_with(&format!(
            ":securityhub:{region}:{account}:product/{account}/default"
        )),
        "{arn}"
    );
    // Resources: 1 to 32, each with its required members; Partition only as the API allows.
    let resources = f["Resources"].as_array().unwrap();
    assert!((1..=32).contains(&resources.len()));
    for r in resources {
        for key in ASFF_RESOURCE_REQUIRED {
            non_empty(r, key);
        }
        assert_eq!(str_of(r, "Type"), "AwsEc2Vpc");
        assert!(str_of(r, "Id").starts_with("arn:"), "{r}");
        if let Some(p) = r.get("Partition") {
            assert!(["aws", "aws-cn", "aws-us-gov"].contains(&p.as_str().unwrap()));
        }
    }
    // Severity: a label of the enum, the same in FindingProviderFields.
    let label = str_of(&f["Severity"], "Label");
    assert!(["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"].contains(&label));
    assert_eq!(f["FindingProviderFields"]["Severity"], f["Severity"]);
    assert_eq!(f["FindingProviderFields"]["Types"], f["Types"]);
    let types = f["Types"].as_array().unwrap();
    assert!((1..=50).contains(&types.len()));
    for t in types {
        let t = t.as_str().unwrap();
        assert!(t.starts_with("Software and Configuration Checks/"), "{t}");
    }
    // Compliance, Workflow, RecordState: values of their enums.
    let compliance = &f["Compliance"];
    let status = str_of(compliance, "Status");
    assert!(["PASSED", "WARNING", "FAILED", "NOT_AVAILABLE"].contains(&status));
    assert_eq!(str_of(compliance, "SecurityControlId"), "flowguard.1");
    let requirements = compliance["RelatedRequirements"].as_array().unwrap();
    assert!((1..=32).contains(&requirements.len()));
    let parameters = compliance["SecurityControlParameters"].as_array().unwrap();
    for p in parameters {
        non_empty(p, "Name");
        assert!(p["Value"].as_array().unwrap().iter().all(|v| v.is_string()));
    }
    // Status reasons: none when passing; each with a code (the API requires it); a failing
    // finding's last one is EC2.6's verdict, which ProductFields states too.
    let reasons = compliance["StatusReasons"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for r in &reasons {
        non_empty(r, "ReasonCode");
        non_empty(r, "Description");
    }
    let ec2_6 = str_of(&f["ProductFields"], "flowguard/security_hub/EC2.6");
    match status {
        "PASSED" => {
            assert!(reasons.is_empty(), "{f}");
            assert_eq!(
                ec2_6, "PASSED",
                "flowguard.1 passing implies EC2.6 passing: {f}"
            );
        }
        "FAILED" => {
            let last = str_of(reasons.last().unwrap(), "ReasonCode");
            assert_eq!(last, format!("EC2_6_{ec2_6}"), "{f}");
        }
        _ => {
            assert_eq!(reasons.len(), 1, "{f}");
            assert_eq!(ec2_6, "NOT_AVAILABLE");
        }
    }
    // A VPC's Name tag is its resource's tag, within AWS's tag limits.
    if let Some(tags) = f["Resources"][0].get("Tags") {
        for (key, value) in tags.as_object().unwrap() {
            assert!(key.chars().count() <= 128);
            assert!(value.as_str().unwrap().chars().count() <= 256);
        }
    }
    let workflow = str_of(&f["Workflow"], "Status");
    assert!(["NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED"].contains(&workflow));
    assert!(["ACTIVE", "ARCHIVED"].contains(&str_of(f, "RecordState")));
    // Severity follows compliance: MEDIUM (EC2.6's) when failing, INFORMATIONAL otherwise.
    let expected = if status == "FAILED" {
        "MEDIUM"
    } else {
        "INFORMATIONAL"
    };
    assert_eq!(label, expected, "{f}");
    // A note has its required members, within its limit.
    if let Some(note) = f.get("Note") {
        for key in ASFF_NOTE_REQUIRED {
            non_empty(note, key);
        }
        assert!(non_empty(note, "Text") <= 512);
    }
    // ProductFields: at most 50, keys up to 128, values 1 to 2048 characters.
    let fields = f["ProductFields"].as_object().unwrap();
    assert!(fields.len() <= 50);
    for (key, value) in fields {
        assert!(
            key.chars().count() <= 128 && !key.starts_with("aws/"),
            "{key}"
        );
        let value = value.as_str().unwrap();
        assert!(!value.is_empty() && value.chars().count() <= 2048, "{key}");
    }
}

#[test]
fn every_asff_finding_has_what_batch_import_findings_requires() {
    let single = json(Format::Asff, &Findings::from_reports(&reports()));
    let org = json(Format::Asff, &Findings::from_org(&org()));
    assert_eq!(single.len(), 9);
    for f in single.iter().chain(&org) {
        check_asff_finding(f);
    }
}

#[test]
fn asff_carries_the_mapping_of_each_status() {
    let findings = json(Format::Asff, &Findings::from_reports(&reports()));
    let by_vpc = |id: &str| {
        findings
            .iter()
            .find(|f| f["Resources"][0]["Id"].as_str().unwrap().ends_with(id))
            .unwrap()
            .clone()
    };
    let exempt = by_vpc("vpc/vpc-0c3exempt");
    assert_eq!(exempt["Workflow"]["Status"], "SUPPRESSED");
    assert_eq!(exempt["Compliance"]["Status"], "FAILED");
    let note = str_of(&exempt["Note"], "Text");
    assert!(note.contains("flowguard:exempt=true"), "{note}");
    let gone = by_vpc("vpc/vpc-0e5deleted");
    assert_eq!(gone["RecordState"], "ARCHIVED");
    assert_eq!(gone["Compliance"]["Status"], "NOT_AVAILABLE");
    let shared = by_vpc(&format!("{OWNER}:vpc/vpc-0d4shared"));
    assert_eq!(shared["Compliance"]["Status"], "NOT_AVAILABLE");
    assert_eq!(
        shared["AwsAccountId"], ACCOUNT,
        "the finding is the participant's"
    );
    assert_eq!(shared["ProductFields"]["flowguard/owner_account"], OWNER);
    let remediated = by_vpc("vpc/vpc-0b2missing");
    assert_eq!(remediated["Compliance"]["Status"], "PASSED");
    assert_eq!(remediated["Workflow"]["Status"], "RESOLVED");
    assert!(findings.iter().filter(|f| f.get("Note").is_some()).count() == 2);
    assert_eq!(
        remediated["Compliance"]["RelatedRequirements"],
        serde_json::json!([
            "CIS AWS Foundations Benchmark v3.0.0/3.7",
            "CIS AWS Foundations Benchmark v4.0.0/3.7",
            "CIS AWS Foundations Benchmark v5.0.0/3.7",
            "CIS AWS Foundations Benchmark v6.0.0/4.7",
            "CIS AWS Foundations Benchmark v7.0.0/4.7"
        ])
    );
}

#[test]
fn asff_ids_are_unique_and_the_same_in_every_export_of_a_vpc() {
    let ids = |findings: &[Value]| -> Vec<String> {
        findings
            .iter()
            .map(|f| str_of(f, "Id").to_owned())
            .collect()
    };
    let mut all = ids(&json(Format::Asff, &Findings::from_reports(&reports())));
    all.extend(ids(&json(Format::Asff, &Findings::from_org(&org()))));
    let unique: BTreeSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "{all:?}");

    // A later export, at another time and after the VPCs changed, keeps every VPC's id.
    let first = json(Format::Asff, &Findings::from_reports(&reports()));
    let later_ctx = ExportContext {
        generated_at: "2026-06-01T08:30:00+02:00".to_owned(),
        ..ctx()
    };
    let mut changed = reports();
    for vpc in &mut changed[1].vpcs {
        vpc.status = VpcStatus::Remediated;
        vpc.reason = "flow log fl-new (REJECT) delivers to /vpc/flow-logs".to_owned();
    }
    let later: Vec<Value> = serde_json::from_str(
        &export::render(Format::Asff, &Findings::from_reports(&changed), &later_ctx).unwrap(),
    )
    .unwrap();
    assert_eq!(ids(&first), ids(&later));
    assert_eq!(later[0]["UpdatedAt"], "2026-06-01T06:30:00.000Z");
    // The id names the account, the region and the VPC.
    assert_eq!(
        first[0]["Id"],
        "flowguard/123456789012/us-east-1/vpc-0a1compliant/vpc-flow-logging"
    );
}

#[test]
fn asff_respects_the_partition_and_the_length_limits() {
    let long = "x".repeat(5_000);
    let in_region = |region: &str| Finding {
        region: region.to_owned(),
        reason: long.clone(),
        ..finding(VpcStatus::Failed, Checks::default())
    };
    let findings = Findings::from(vec![
        in_region("cn-north-1"),
        in_region("us-gov-west-1"),
        in_region("us-iso-east-1"),
    ]);
    let asff = json(Format::Asff, &findings);
    for f in &asff {
        check_asff_finding(f);
    }
    assert_eq!(
        asff[0]["ProductArn"],
        "arn:aws-cn:securityhub:cn-north-1:123456789012:product/123456789012/default"
    );
    assert_eq!(asff[0]["Resources"][0]["Partition"], "aws-cn");
    assert_eq!(asff[1]["Resources"][0]["Partition"], "aws-us-gov");
    assert!(
        asff[2]["Resources"][0].get("Partition").is_none(),
        "aws-iso is not a value Resource.Partition accepts"
    );
    assert_eq!(
        asff[2]["Resources"][0]["Id"],
        "arn:aws-iso:ec2:us-iso-east-1:123456789012:vpc/vpc-1"
    );
    assert!(str_of(&asff[0], "Description").ends_with('…'));
}

#[test]
fn a_shared_vpcs_description_says_where_the_rule_is_enforced() {
    let shared = finding(VpcStatus::NotOwned, Checks::default());
    let asff = json(Format::Asff, &Findings::from(vec![shared]));
    let description = str_of(&asff[0], "Description");
    assert_eq!(
        description,
        "not_owned: test; enforced in the owner's account 999999999999"
    );
}

#[test]
fn batch_import_findings_takes_at_most_100_findings_per_call() {
    assert_eq!(ASFF_BATCH_LIMIT, 100);
}

// ---------------------------------------------------------------------------------------------
// OCSF, checked against the schema's required attributes.

/// What OCSF 1.6.0 marks `"requirement": "required"` for class `compliance_finding` (uid 2003)
/// and the objects it holds, with each attribute's type from `dictionary.json`
/// (github.com/ocsf/ocsf-schema, tag 1.6.0):
/// - `events/base_event.json`: activity_id, category_uid, class_uid, metadata, severity_id,
///   time, type_uid;
/// - `events/findings/finding.json`: finding_info;
/// - `events/findings/compliance_finding.json`: compliance;
/// - `profiles/cloud.json` (the `cloud` profile, which the events apply): cloud;
/// - `objects/metadata.json`: product, version; `objects/finding_info.json`: uid;
///   `objects/cloud.json`: provider; `objects/remediation.json`: desc.
///
/// `objects/product.json`, `objects/resource_details.json` and `objects/account.json` extend
/// `objects/_entity.json`, whose constraint asks for at least one of `name` and `uid`.
const OCSF_REQUIRED: [(&str, Kind); 16] = [
    ("activity_id", Kind::Integer),
    ("category_uid", Kind::Integer),
    ("class_uid", Kind::Integer),
    ("metadata", Kind::Object),
    ("severity_id", Kind::Integer),
    ("time", Kind::Integer),
    ("type_uid", Kind::Integer),
    ("finding_info", Kind::Object),
    ("compliance", Kind::Object),
    ("cloud", Kind::Object),
    ("metadata.product", Kind::Object),
    ("metadata.version", Kind::String),
    ("finding_info.uid", Kind::String),
    ("cloud.provider", Kind::String),
    ("remediation.desc", Kind::String),
    ("resources", Kind::Array),
];

/// Recommended in 1.6.0 but required in 1.1.0 to 1.4.0, which flowguard fills too.
const OCSF_FORMERLY_REQUIRED: [(&str, Kind); 3] = [
    ("compliance.standards", Kind::Array),
    ("finding_info.title", Kind::String),
    ("metadata.product.vendor_name", Kind::String),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Integer,
    String,
    Object,
    Array,
}

fn at<'a>(event: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(event, |value, key| &value[key])
}

fn has_kind(value: &Value, kind: Kind) -> bool {
    match kind {
        Kind::Integer => value.is_i64() || value.is_u64(),
        Kind::String => value.as_str().is_some_and(|s| !s.is_empty()),
        Kind::Object => value.is_object(),
        Kind::Array => value.as_array().is_some_and(|a| !a.is_empty()),
    }
}

fn check_ocsf_event(event: &Value) {
    for (path, kind) in OCSF_REQUIRED.iter().chain(&OCSF_FORMERLY_REQUIRED) {
        assert!(
            has_kind(at(event, path), *kind),
            "{path} is not a {kind:?} in {event}"
        );
    }
    // Class, category and type agree.
    assert_eq!(event["class_uid"], 2003);
    assert_eq!(event["category_uid"], 2);
    let activity = event["activity_id"].as_u64().unwrap();
    assert!(
        [1, 2, 3].contains(&activity),
        "finding activities: Create, Update, Close"
    );
    assert_eq!(event["type_uid"].as_u64().unwrap(), 2003 * 100 + activity);
    assert_eq!(at(event, "metadata.version"), OCSF_VERSION);
    assert_eq!(event["time"], 1_777_636_800_000_i64);
    // Enumerated values.
    assert!([1, 3].contains(&event["severity_id"].as_u64().unwrap()));
    assert!((1..=6).contains(&event["status_id"].as_u64().unwrap()));
    let compliance = event["compliance"]["status_id"].as_u64().unwrap();
    assert!([0, 1, 2, 3, 99].contains(&compliance));
    // flowguard.1's verdict in Prowler's words, on the event and on the compliance object;
    // the two checks, each with its status; no deprecated compliance.status_detail.
    let code = match compliance {
        1 => "PASS",
        3 => "FAIL",
        _ => "MANUAL",
    };
    assert_eq!(event["status_code"], code, "{event}");
    assert_eq!(event["compliance"]["status_code"], code, "{event}");
    assert!(has_kind(&event["status_detail"], Kind::String));
    assert_eq!(event["compliance"]["control"], "flowguard.1");
    let checks = event["compliance"]["checks"].as_array().unwrap();
    let uids: Vec<&str> = checks.iter().map(|c| c["uid"].as_str().unwrap()).collect();
    assert_eq!(uids, ["EC2.6", "flowguard.1"]);
    assert_eq!(checks[1]["status_id"], event["compliance"]["status_id"]);
    for check in checks {
        assert!(has_kind(&check["name"], Kind::String));
        assert!([1, 3, 99].contains(&check["status_id"].as_u64().unwrap()));
    }
    let details = event["compliance"]["status_details"].as_array().unwrap();
    assert!(!details.is_empty() && details.iter().all(|d| has_kind(d, Kind::String)));
    assert!(event["compliance"].get("status_detail").is_none());
    for p in event["compliance"]["control_parameters"]
        .as_array()
        .unwrap()
    {
        assert!(has_kind(&p["name"], Kind::String) && has_kind(&p["value"], Kind::String));
    }
    assert_eq!(event["cloud"]["provider"], "AWS");
    assert_eq!(event["metadata"]["profiles"], serde_json::json!(["cloud"]));
    // Entities: at least one of name and uid.
    for entity in [&event["metadata"]["product"], &event["cloud"]["account"]]
        .into_iter()
        .chain(event["resources"].as_array().unwrap())
    {
        assert!(
            has_kind(&entity["name"], Kind::String) || has_kind(&entity["uid"], Kind::String),
            "{entity}"
        );
    }
}

#[test]
fn every_ocsf_event_has_what_the_compliance_finding_class_requires() {
    let single = json(Format::Ocsf, &Findings::from_reports(&reports()));
    let org = json(Format::Ocsf, &Findings::from_org(&org()));
    assert_eq!(single.len(), 9);
    for event in single.iter().chain(&org) {
        check_ocsf_event(event);
    }
}

#[test]
fn ocsf_carries_the_mapping_of_each_status() {
    let events = json(Format::Ocsf, &Findings::from_reports(&reports()));
    let by_vpc = |id: &str| {
        events
            .iter()
            .find(|e| {
                e["resources"][0]["uid"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("/{id}"))
            })
            .unwrap()
            .clone()
    };
    let gone = by_vpc("vpc-0e5deleted");
    assert_eq!(
        (gone["activity_id"].as_u64(), gone["type_uid"].as_u64()),
        (Some(3), Some(200303))
    );
    assert_eq!(gone["status_id"], 5);
    assert_eq!(gone["compliance"]["status_id"], 99);
    assert_eq!(gone["compliance"]["status"], "Not Available");
    let failed = by_vpc("vpc-0f6failing");
    assert_eq!(failed["compliance"]["status_id"], 3);
    assert_eq!(failed["severity_id"], 3);
    assert_eq!(failed["status_id"], 1);
    assert_eq!(failed["type_uid"], 200301);
    let exempt = by_vpc("vpc-1b2exempt");
    assert_eq!(exempt["compliance"]["status_id"], 1);
    assert_eq!(exempt["status_id"], 3, "suppressed");
    let compliant = by_vpc("vpc-0a1compliant");
    assert_eq!(compliant["status_id"], 4, "resolved");
    assert_eq!(compliant["severity_id"], 1);
    assert_eq!(compliant["compliance"]["control"], "flowguard.1");
    assert_eq!(compliant["resources"][0]["name"], "prod", "its Name tag");
    assert_eq!(
        by_vpc("vpc-0b2missing")["resources"][0]["name"],
        "vpc-0b2missing",
        "no Name tag: its id"
    );
    let shared = by_vpc("vpc-0d4shared");
    assert_eq!(shared["resources"][0]["data"]["owner_account"], OWNER);
    assert_eq!(
        shared["resources"][0]["uid"],
        format!("arn:aws:ec2:us-east-1:{OWNER}:vpc/vpc-0d4shared")
    );
    // The finding's uid is ASFF's Id: one identity for a VPC across formats.
    let asff = json(Format::Asff, &Findings::from_reports(&reports()));
    let uids: Vec<&Value> = events.iter().map(|e| &e["finding_info"]["uid"]).collect();
    let ids: Vec<&Value> = asff.iter().map(|f| &f["Id"]).collect();
    assert_eq!(uids, ids);
}
