//! OCSF: a JSON array of Compliance Findings (class `compliance_finding`, uid 2003, category
//! Findings, uid 2), schema version [`OCSF_VERSION`].
//!
//! Why 1.6.0: it is the version of Security Hub's own OCSF findings ("Security Hub currently
//! supports findings in OCSF schema version 1.6", AWS Security Hub user guide), so flowguard's
//! findings sit next to Security Hub's in the same tools; and since 1.3.0 the class carries its
//! subjects in `resources` (an array), where 1.1.0 had a single, now deprecated, `resource`.
//! Everything that 1.1.0 to 1.6.0 mark required for this class is filled, including what 1.6.0
//! relaxed to recommended (`compliance.standards`, `finding_info.title`,
//! `metadata.product.vendor_name`).
//!
//! Each event applies the `cloud` profile (`metadata.profiles`), which makes `cloud` required.
//! flowguard's own facts (its status, the checks, the owner of a shared VPC) are in the VPC's
//! `resources[].data`; its `name` is the VPC's `Name` tag, or its id when it has none.
//!
//! The verdicts: `compliance` is flowguard's control's (`control` `flowguard.1`, its
//! `control_parameters`, `status_id`/`status`/`status_code`, and `status_details`: the reason,
//! then each [`super::StatusReason`] as `CODE: description`, the attribute that replaces
//! `status_detail`, deprecated since 1.4.0). `compliance.checks` lists the two checks made, each
//! with its own status: Security Hub's `EC2.6` (by its own test) and `flowguard.1`. The event's
//! `status_code` is flowguard.1's verdict in Prowler's words (`PASS`, `FAIL`, or `MANUAL` when it
//! cannot be judged in this account), and its `status_detail` the finding's description, as
//! Prowler's OCSF fills them, so that tools reading Prowler's output find the verdict.

use super::time::Timestamp;
use super::{
    CONTROL_TITLE, Compliance as Status, ExportContext, ExportError, FINDING_TYPE,
    FLOWGUARD_CONTROL, Finding, Findings, RecordState, SECURITY_HUB_CONTROL, Severity, Workflow,
    flowguard_title, remediation,
};
use crate::rule::Checks;
use serde::Serialize;

/// The OCSF schema version the events follow.
pub const OCSF_VERSION: &str = "1.6.0";

const CLASS_UID: u32 = 2003;
const CATEGORY_UID: u32 = 2;

#[derive(Debug, Serialize)]
struct Event<'a> {
    activity_id: u32,
    activity_name: &'static str,
    category_uid: u32,
    category_name: &'static str,
    class_uid: u32,
    class_name: &'static str,
    type_uid: u32,
    type_name: String,
    severity_id: u32,
    severity: &'static str,
    status_id: u32,
    status: &'static str,
    status_code: &'static str,
    status_detail: String,
    time: i64,
    message: String,
    metadata: Metadata,
    cloud: Cloud,
    finding_info: FindingInfo,
    compliance: Compliance,
    resources: Vec<Resource<'a>>,
    remediation: Remediation,
}

#[derive(Debug, Serialize)]
struct Metadata {
    version: &'static str,
    product: Product,
    profiles: [&'static str; 1],
}

#[derive(Debug, Serialize)]
struct Product {
    name: &'static str,
    vendor_name: &'static str,
    version: String,
}

#[derive(Debug, Serialize)]
struct Cloud {
    provider: &'static str,
    region: String,
    cloud_partition: &'static str,
    account: Account,
}

#[derive(Debug, Serialize)]
struct Account {
    uid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    r#type: &'static str,
    type_id: u32,
}

#[derive(Debug, Serialize)]
struct FindingInfo {
    uid: String,
    title: String,
    desc: String,
    types: [&'static str; 1],
}

#[derive(Debug, Serialize)]
struct Compliance {
    control: &'static str,
    control_parameters: [KeyValue; 2],
    standards: Vec<String>,
    requirements: Vec<String>,
    status_id: u32,
    status: &'static str,
    status_code: &'static str,
    status_details: Vec<String>,
    checks: [Check; 2],
}

/// A `key_value_object`.
#[derive(Debug, Serialize)]
struct KeyValue {
    name: &'static str,
    value: String,
}

/// A `check` of the compliance object: one control's verdict.
#[derive(Debug, Serialize)]
struct Check {
    uid: &'static str,
    name: String,
    severity_id: u32,
    severity: &'static str,
    status_id: u32,
    status: &'static str,
}

#[derive(Debug, Serialize)]
struct Resource<'a> {
    uid: String,
    name: String,
    r#type: &'static str,
    region: String,
    cloud_partition: &'static str,
    data: ResourceData<'a>,
}

/// flowguard's facts about the VPC (`data` is free JSON).
#[derive(Debug, Serialize)]
struct ResourceData<'a> {
    flowguard_status: &'static str,
    checks: &'a Checks,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner_account: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct Remediation {
    desc: String,
}

pub(super) fn render(
    findings: &Findings,
    ctx: &ExportContext,
    at: Timestamp,
) -> Result<String, ExportError> {
    let events: Vec<Event<'_>> = findings.iter().map(|f| event(f, ctx, at)).collect();
    Ok(serde_json::to_string_pretty(&events)?)
}

fn event<'a>(finding: &'a Finding, ctx: &ExportContext, at: Timestamp) -> Event<'a> {
    let verdict = finding.verdict(ctx);
    // A gone VPC's finding is closed and archived; every other finding states the VPC's
    // current verdict.
    let (activity_id, activity_name) = match verdict.record_state {
        RecordState::Active => (1, "Create"),
        RecordState::Archived => (3, "Close"),
    };
    let (status_id, status) = match (verdict.record_state, verdict.workflow) {
        (RecordState::Archived, _) => (5, "Archived"),
        (RecordState::Active, Workflow::New) => (1, "New"),
        (RecordState::Active, Workflow::Suppressed) => (3, "Suppressed"),
        (RecordState::Active, Workflow::Resolved) => (4, "Resolved"),
    };
    let (severity_id, severity) = match verdict.severity {
        Severity::Informational => (1, "Informational"),
        Severity::Medium => (3, "Medium"),
    };
    let (compliance_status_id, compliance_status) = status_of(verdict.compliance);
    let status_code = match verdict.compliance {
        Status::Passed => "PASS",
        Status::Failed => "FAIL",
        Status::NotAvailable => "MANUAL",
    };
    let partition = finding.partition();
    let description = finding.description(&verdict);
    let title = flowguard_title(ctx);
    let check = |uid, name, status| {
        let (status_id, status) = status_of(status);
        Check {
            uid,
            name,
            severity_id: 3,
            severity: "Medium",
            status_id,
            status,
        }
    };
    let status_details = std::iter::once(finding.reason.clone())
        .chain(
            (finding.status_reasons(ctx).into_iter())
                .map(|r| format!("{}: {}", r.code, r.description)),
        )
        .collect();
    Event {
        activity_id,
        activity_name,
        category_uid: CATEGORY_UID,
        category_name: "Findings",
        class_uid: CLASS_UID,
        class_name: "Compliance Finding",
        type_uid: CLASS_UID * 100 + activity_id,
        type_name: format!("Compliance Finding: {activity_name}"),
        severity_id,
        severity,
        status_id,
        status,
        status_code,
        status_detail: description.clone(),
        time: at.unix_millis(),
        message: description.clone(),
        metadata: Metadata {
            version: OCSF_VERSION,
            product: Product {
                name: "flowguard",
                vendor_name: "flowguard",
                version: ctx.product_version.clone(),
            },
            profiles: ["cloud"],
        },
        cloud: Cloud {
            provider: "AWS",
            region: finding.region.clone(),
            cloud_partition: partition,
            account: Account {
                uid: finding.account.clone(),
                name: finding.account_name.clone(),
                r#type: "AWS Account",
                type_id: 10,
            },
        },
        finding_info: FindingInfo {
            uid: finding.id(),
            title: format!("{FLOWGUARD_CONTROL} {title}"),
            desc: description,
            types: [FINDING_TYPE],
        },
        compliance: Compliance {
            control: FLOWGUARD_CONTROL,
            control_parameters: [
                KeyValue {
                    name: "trafficType",
                    value: ctx.traffic_type.as_str().to_owned(),
                },
                KeyValue {
                    name: "retentionDays",
                    value: ctx.min_retention_days.to_string(),
                },
            ],
            standards: super::cis_standards(),
            requirements: super::cis_requirements(),
            status_id: compliance_status_id,
            status: compliance_status,
            status_code,
            status_details,
            checks: [
                check(
                    SECURITY_HUB_CONTROL,
                    CONTROL_TITLE.to_owned(),
                    verdict.security_hub,
                ),
                check(FLOWGUARD_CONTROL, title, verdict.compliance),
            ],
        },
        resources: vec![Resource {
            uid: finding.vpc_arn(),
            name: (finding.name.clone()).unwrap_or_else(|| finding.vpc_id.to_string()),
            r#type: "AwsEc2Vpc",
            region: finding.region.clone(),
            cloud_partition: partition,
            data: ResourceData {
                flowguard_status: finding.status.as_str(),
                checks: &finding.checks,
                owner_account: finding.owner_id.as_deref(),
            },
        }],
        remediation: Remediation {
            desc: remediation(ctx),
        },
    }
}

/// A compliance status as OCSF's `status_id` and `status`. OCSF's enums take 0 (Unknown) and 99
/// (Other) besides their own values; Other says that `status` holds the source's word, here
/// ASFF's NOT_AVAILABLE.
fn status_of(status: Status) -> (u32, &'static str) {
    match status {
        Status::Passed => (1, "Pass"),
        Status::Failed => (3, "Fail"),
        Status::NotAvailable => (99, "Not Available"),
    }
}
