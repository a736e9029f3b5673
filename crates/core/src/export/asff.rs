//! ASFF: the AWS Security Finding Format, as Security Hub's `BatchImportFindings` takes it — a
//! JSON array of `AwsSecurityFinding`s, what `aws securityhub batch-import-findings --findings
//! file://…` reads (at most [`super::ASFF_BATCH_LIMIT`] per call).
//!
//! Field names, limits and values follow the Security Hub API reference (`AwsSecurityFinding`,
//! `Resource`, `Compliance`, `Severity`, `FindingProviderFields`, `Workflow`, `Note`) and the
//! service model (`botocore/data/securityhub/2018-10-26/service-2.json`), whose required members
//! are `SchemaVersion`, `Id`, `ProductArn`, `GeneratorId`, `AwsAccountId`, `CreatedAt`,
//! `UpdatedAt`, `Title`, `Description` and `Resources`; the user guide's "Required top-level
//! ASFF attributes" adds `Severity` and `Types`. Choices:
//! - `ProductArn` is the account's default product for custom findings,
//!   `arn:{partition}:securityhub:{region}:{account}:product/{account}/default`; so the findings
//!   of one account and region are imported from that account, in that region.
//! - `Severity` and `Types` are set at the top level (required for a new finding) and in
//!   `FindingProviderFields`, the only place where a provider's re-import may update them.
//! - `Workflow` and `Note` are only read when the finding is created (`BatchImportFindings`
//!   cannot update them later); Security Hub itself moves the workflow back to `NEW` when the
//!   compliance status turns from `PASSED` to `FAILED`.
//! - `Compliance` is flowguard's control's (the API reference lets finding providers put their
//!   own content there): `SecurityControlId` `flowguard.1`, its `SecurityControlParameters` (the
//!   policy's `trafficType` and `retentionDays`), its `Status`, and its `StatusReasons`: each
//!   point of the policy that fails, then EC2.6's verdict (`EC2_6_PASSED`: only the stricter
//!   policy fails; `EC2_6_FAILED`). EC2.6's verdict is also `ProductFields`'
//!   `flowguard/security_hub/EC2.6`, which `GetFindings` can filter on. `AssociatedStandards`
//!   is left out: it names the standards enabled in the account's Security Hub, which
//!   flowguard does not know.
//! - The VPC's `Name` tag is its resource's `Tags` (and `ProductFields`' `flowguard/vpc_name`).
//! - The top-level `Region` is left out: Security Hub fills it and `BatchImportFindings` cannot
//!   set it. `Resources[].Partition` is set only for the values the API accepts (`aws`, `aws-cn`,
//!   `aws-us-gov`).

use super::time::Timestamp;
use super::{
    ExportContext, ExportError, FINDING_TYPE, FLOWGUARD_CONTROL, Finding, Findings,
    SECURITY_HUB_CONTROL, flowguard_title, remediation, retention, truncate,
};
use crate::observed::NAME_TAG;
use crate::report::VpcStatus;
use serde::Serialize;
use std::collections::BTreeMap;

/// The ASFF schema version, the only one there is.
pub(super) const SCHEMA_VERSION: &str = "2018-10-08";

/// Length limits of the API reference, in characters (cut in bytes, which never exceeds them).
const TITLE_MAX: usize = 256;
const DESCRIPTION_MAX: usize = 1024;
const NOTE_MAX: usize = 512;
const RECOMMENDATION_MAX: usize = 512;
const PRODUCT_FIELD_VALUE_MAX: usize = 2048;
/// A status reason's description: the API gives no limit; this keeps a finding small.
const STATUS_REASON_MAX: usize = 1024;
/// AWS's limit on a tag value.
const TAG_VALUE_MAX: usize = 256;

/// The partitions that `Resource.Partition` accepts.
const RESOURCE_PARTITIONS: [&str; 3] = ["aws", "aws-cn", "aws-us-gov"];

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AsffFinding {
    schema_version: &'static str,
    id: String,
    product_arn: String,
    product_name: &'static str,
    company_name: &'static str,
    generator_id: &'static str,
    aws_account_id: String,
    /// The account's name, as the organization lists it.
    #[serde(skip_serializing_if = "Option::is_none")]
    aws_account_name: Option<String>,
    types: Vec<&'static str>,
    created_at: String,
    updated_at: String,
    last_observed_at: String,
    severity: AsffSeverity,
    title: String,
    description: String,
    remediation: Remediation,
    product_fields: BTreeMap<String, String>,
    resources: Vec<Resource>,
    compliance: Compliance,
    finding_provider_fields: FindingProviderFields,
    workflow: Workflow,
    record_state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<Note>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AsffSeverity {
    label: &'static str,
    original: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Remediation {
    recommendation: Recommendation,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Recommendation {
    text: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Resource {
    r#type: &'static str,
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    partition: Option<&'static str>,
    region: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    tags: BTreeMap<&'static str, String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Compliance {
    status: &'static str,
    related_requirements: Vec<String>,
    security_control_id: &'static str,
    security_control_parameters: [Parameter; 2],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    status_reasons: Vec<StatusReason>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Parameter {
    name: &'static str,
    value: [String; 1],
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct StatusReason {
    reason_code: &'static str,
    description: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct FindingProviderFields {
    severity: AsffSeverity,
    types: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Workflow {
    status: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Note {
    text: String,
    updated_by: &'static str,
    updated_at: String,
}

pub(super) fn render(
    findings: &Findings,
    ctx: &ExportContext,
    at: Timestamp,
) -> Result<String, ExportError> {
    let at = at.to_rfc3339();
    let asff: Vec<AsffFinding> = findings.iter().map(|f| finding(f, ctx, &at)).collect();
    Ok(serde_json::to_string_pretty(&asff)?)
}

fn finding(finding: &Finding, ctx: &ExportContext, at: &str) -> AsffFinding {
    let verdict = finding.verdict(ctx);
    let partition = finding.partition();
    let account = &finding.account;
    let region = &finding.region;
    let severity = AsffSeverity {
        label: verdict.severity.as_str(),
        original: verdict.severity.as_str(),
    };
    AsffFinding {
        schema_version: SCHEMA_VERSION,
        id: finding.id(),
        product_arn: format!(
            "arn:{partition}:securityhub:{region}:{account}:product/{account}/default"
        ),
        product_name: "flowguard",
        company_name: "flowguard",
        generator_id: "flowguard/vpc-flow-logging",
        aws_account_id: account.clone(),
        aws_account_name: finding.account_name.clone(),
        types: vec![FINDING_TYPE],
        created_at: at.to_owned(),
        updated_at: at.to_owned(),
        last_observed_at: at.to_owned(),
        severity: severity.clone(),
        title: truncate(
            &format!("{FLOWGUARD_CONTROL} {}", flowguard_title(ctx)),
            TITLE_MAX,
        ),
        description: truncate(&finding.description(&verdict), DESCRIPTION_MAX),
        remediation: Remediation {
            recommendation: Recommendation {
                text: truncate(&remediation(ctx), RECOMMENDATION_MAX),
            },
        },
        product_fields: product_fields(finding, verdict.security_hub.as_str()),
        resources: vec![Resource {
            r#type: "AwsEc2Vpc",
            id: finding.vpc_arn(),
            partition: RESOURCE_PARTITIONS.into_iter().find(|p| *p == partition),
            region: region.clone(),
            tags: (finding.name.iter())
                .map(|name| (NAME_TAG, truncate(name, TAG_VALUE_MAX)))
                .collect(),
        }],
        compliance: Compliance {
            status: verdict.compliance.as_str(),
            related_requirements: super::cis_requirements(),
            security_control_id: FLOWGUARD_CONTROL,
            security_control_parameters: [
                Parameter {
                    name: "trafficType",
                    value: [ctx.traffic_type.as_str().to_owned()],
                },
                Parameter {
                    name: "retentionDays",
                    value: [ctx.min_retention_days.to_string()],
                },
            ],
            status_reasons: (finding.status_reasons(ctx).into_iter())
                .map(|r| StatusReason {
                    reason_code: r.code,
                    description: truncate(&r.description, STATUS_REASON_MAX),
                })
                .collect(),
        },
        finding_provider_fields: FindingProviderFields {
            severity,
            types: vec![FINDING_TYPE],
        },
        workflow: Workflow {
            status: verdict.workflow.as_str(),
        },
        record_state: verdict.record_state.as_str(),
        note: (finding.status == VpcStatus::Exempt).then(|| Note {
            text: truncate(
                &format!(
                    "Exempt by tag {}=true: flowguard reports this VPC and never changes it.",
                    ctx.exempt_tag
                ),
                NOTE_MAX,
            ),
            updated_by: "flowguard",
            updated_at: at.to_owned(),
        }),
    }
}

/// flowguard's own facts, under `flowguard/…` keys (Security Hub reserves `aws/…`). The API
/// takes no empty value, so absent facts are left out.
fn product_fields(finding: &Finding, security_hub: &str) -> BTreeMap<String, String> {
    let checks = &finding.checks;
    let mut fields = BTreeMap::new();
    let mut put = |key: &str, value: String| {
        if !value.is_empty() {
            fields.insert(
                format!("flowguard/{key}"),
                truncate(&value, PRODUCT_FIELD_VALUE_MAX),
            );
        }
    };
    put("status", finding.status.as_str().to_owned());
    put("reason", finding.reason.clone());
    put("vpc_id", finding.vpc_id.to_string());
    put("vpc_name", finding.name.clone().unwrap_or_default());
    put(
        &format!("security_hub/{SECURITY_HUB_CONTROL}"),
        security_hub.to_owned(),
    );
    put("checks/active_flow_log", checks.active_flow_log.to_string());
    put(
        "checks/security_hub_ec2_6",
        checks.security_hub_ec2_6.to_string(),
    );
    put(
        "checks/captures_rejects",
        checks.captures_rejects.to_string(),
    );
    put("checks/delivering", checks.delivering.to_string());
    put(
        "checks/log_group",
        checks
            .log_group
            .as_ref()
            .map(|g| g.to_string())
            .unwrap_or_default(),
    );
    put(
        "checks/retention",
        checks.retention.map(retention).unwrap_or_default(),
    );
    put("checks/exempt", checks.exempt.to_string());
    put(
        "owner_account",
        finding.owner_id.clone().unwrap_or_default(),
    );
    fields
}
