//! CSV: one header row, then one row per finding, in the fixed order of [`CSV_COLUMNS`]. The
//! `csv` crate does the quoting (RFC 4180: a field with a comma, a quote or a line break is
//! quoted, quotes doubled), so a reason holding any of them reads back whole.

use super::time::Timestamp;
use super::{
    ExportContext, ExportError, FLOWGUARD_CONTROL, Finding, Findings, SECURITY_HUB_CONTROL,
    retention,
};

/// The columns, in order; they only ever grow at the end. Booleans are `true`/`false`;
/// `retention` is a number of days or `never_expire`; empty cells are values that do not apply
/// (no log group, no owner, no `Name` tag, no account name outside an organization). `compliance` and `severity` are flowguard's control's
/// (`flowguard_control`), `security_hub_compliance` is EC2.6's (`security_hub_control`) by its
/// own test, and `reason_codes` the codes of the finding's status reasons, `; `-separated.
pub const CSV_COLUMNS: [&str; 23] = [
    "generated_at",
    "account",
    "region",
    "vpc_id",
    "vpc_arn",
    "owner_account",
    "status",
    "compliance",
    "severity",
    "active_flow_log",
    "captures_rejects",
    "delivering",
    "log_group",
    "retention",
    "exempt",
    "security_hub_control",
    "cis_requirements",
    "reason",
    "security_hub_compliance",
    "flowguard_control",
    "reason_codes",
    "vpc_name",
    "account_name",
];

pub(super) fn render(
    findings: &Findings,
    ctx: &ExportContext,
    at: Timestamp,
) -> Result<String, ExportError> {
    let generated_at = at.to_rfc3339();
    let requirements = super::cis_requirements().join("; ");
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    writer.write_record(CSV_COLUMNS)?;
    for finding in findings {
        writer.write_record(row(finding, ctx, &generated_at, &requirements))?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8(bytes)?)
}

fn row(
    finding: &Finding,
    ctx: &ExportContext,
    generated_at: &str,
    requirements: &str,
) -> [String; CSV_COLUMNS.len()] {
    let verdict = finding.verdict(ctx);
    let checks = &finding.checks;
    let flag = |value: bool| value.to_string();
    [
        generated_at.to_owned(),
        finding.account.clone(),
        finding.region.clone(),
        finding.vpc_id.to_string(),
        finding.vpc_arn(),
        finding.owner_id.clone().unwrap_or_default(),
        finding.status.as_str().to_owned(),
        verdict.compliance.as_str().to_owned(),
        verdict.severity.as_str().to_owned(),
        flag(checks.active_flow_log),
        flag(checks.captures_rejects),
        flag(checks.delivering),
        checks
            .log_group
            .as_ref()
            .map(|g| g.to_string())
            .unwrap_or_default(),
        checks.retention.map(retention).unwrap_or_default(),
        flag(checks.exempt),
        SECURITY_HUB_CONTROL.to_owned(),
        requirements.to_owned(),
        finding.reason.clone(),
        verdict.security_hub.as_str().to_owned(),
        FLOWGUARD_CONTROL.to_owned(),
        (finding.status_reasons(ctx).iter())
            .map(|r| r.code)
            .collect::<Vec<_>>()
            .join("; "),
        finding.name.clone().unwrap_or_default(),
        finding.account_name.clone().unwrap_or_default(),
    ]
}
