//! Exports for auditors' tools: flowguard's verdicts as one finding per VPC, in the formats
//! that compliance tooling reads (what `flowguard audit --format csv|asff|ocsf` prints).
//!
//! [`Findings::from_reports`] (single-account reports, one per region) and
//! [`Findings::from_org`] (the organization report) collect one [`Finding`] per VPC. An
//! organization's unreachable account×region runs have no report, hence no VPC and no finding:
//! the CLI warns about them. [`render`] writes the findings in a [`Format`], with an
//! [`ExportContext`] that the caller fills: the generation time (core has no clock) and the
//! few policy values the mapping needs.
//!
//! - [`Format::Csv`] (module `csv`): one header row ([`CSV_COLUMNS`], in that order), then one
//!   row per finding, quoted by the `csv` crate.
//! - [`Format::Asff`] (module `asff`): a JSON array of AWS Security Finding Format findings, as
//!   Security Hub's `BatchImportFindings` takes them (at most [`ASFF_BATCH_LIMIT`] per call).
//! - [`Format::Ocsf`] (module `ocsf`): a JSON array of OCSF Compliance Findings (class 2003) of
//!   schema version [`OCSF_VERSION`].
//!
//! ## Controls and verdicts
//! Every finding is the verdict of flowguard's own control, [`FLOWGUARD_CONTROL`]
//! (`flowguard.1`: an ACTIVE flow log that captures the policy's traffic type, is delivering,
//! and delivers to a group that keeps data at least the policy's retention), which maps to the
//! CIS AWS Foundations Benchmark recommendation "Ensure VPC flow logging is enabled in all
//! VPCs" — 3.7 in v3.0.0, v4.0.0 and v5.0.0, 4.7 in v6.0.0 and v7.0.0 ([`CIS_REQUIREMENTS`]) —
//! and its impact note (365 days). Beside it, each finding states AWS Security Hub control EC2.6's
//! verdict ([`SECURITY_HUB_CONTROL`], severity Medium) by EC2.6's own, laxer test: an ACTIVE flow
//! log capturing REJECT or ALL traffic ([`crate::rule::Checks::security_hub_ec2_6`]). A VPC
//! that passes EC2.6 and fails only flowguard's policy (a group kept too briefly, a flow log
//! failing delivery, a REJECT flow log under a policy of ALL) is exported as flowguard.1
//! `FAILED` with EC2.6 `PASSED`, never as "EC2.6 FAILED", so an auditor can reconcile the
//! export with Security Hub's own EC2.6 findings. ASFF puts EC2.6's verdict in
//! `Compliance.StatusReasons` and `ProductFields`, OCSF in `compliance.checks`, CSV in
//! `security_hub_compliance`.
//!
//! ## Compliance mapping
//! | flowguard status | flowguard.1 | EC2.6 | severity | ASFF workflow | ASFF record state |
//! |---|---|---|---|---|---|
//! | `compliant`, `remediated` | `PASSED` | `PASSED` | `INFORMATIONAL` | `RESOLVED` | `ACTIVE` |
//! | `would_remediate`, `failed` | `FAILED` | by its checks | `MEDIUM` | `NEW` | `ACTIVE` |
//! | `exempt` | by its checks | by its checks | `INFORMATIONAL` or `MEDIUM` | `SUPPRESSED`, with a note: exempt by tag | `ACTIVE` |
//! | `not_owned` | `NOT_AVAILABLE`: enforced in the owner's account | `NOT_AVAILABLE` | `INFORMATIONAL` | `NEW` | `ACTIVE` |
//! | `gone` | `NOT_AVAILABLE` | `NOT_AVAILABLE` | `INFORMATIONAL` | `RESOLVED` | `ARCHIVED` |
//!
//! Severity follows flowguard.1: a passing finding is `INFORMATIONAL`; a failing one has EC2.6's
//! severity, `MEDIUM`; a finding that cannot be judged here is `INFORMATIONAL`, as nothing is
//! to be done in this account. An exempt VPC passes when its checks pass the policy
//! ([`verdict::shortfalls`] finds none). A failing finding's reasons
//! ([`Finding::status_reasons`]) name each point of the policy it fails, then EC2.6's verdict.
//!
//! A `gone` VPC is exported, not left out: it was deleted during the run, and an earlier export
//! may have imported a `FAILED` finding for it. Exporting it `NOT_AVAILABLE` and `ARCHIVED` under
//! the same stable id makes a re-import archive that finding in Security Hub; leaving it out would
//! leave the old finding active for a VPC that no longer exists.
//!
//! OCSF carries the same verdict: compliance `status_id` 1 (Pass), 3 (Fail) or 99 (Other, status
//! `Not Available`), and the event's `status_code` `PASS`, `FAIL` or `MANUAL` (Prowler's words);
//! the finding's `status_id` follows the ASFF workflow (1 New, 3 Suppressed, 4 Resolved) and is 5
//! (Archived) for a `gone` VPC, whose activity is 3 (Close); every other finding's activity is 1
//! (Create).

mod asff;
mod csv;
pub mod html;
mod ocsf;
mod time;
mod verdict;

use crate::ids::VpcId;
use crate::observed::Retention;
use crate::organization::{AccountRun, partition_of};
use crate::policy::Policy;
use crate::report::{Report, VpcReport, VpcStatus};
use crate::rule::{Checks, RetentionCheck};
use crate::vocab::TrafficType;
use std::fmt;
use std::str::FromStr;

pub use self::csv::CSV_COLUMNS;
pub use self::ocsf::OCSF_VERSION;
pub use self::verdict::{
    Compliance, RecordState, Severity, Shortfall, StatusReason, Verdict, Workflow, shortfalls,
};

/// Security Hub's control for the rule: "VPC flow logging should be enabled in all VPCs".
pub const SECURITY_HUB_CONTROL: &str = "EC2.6";

/// The title of EC2.6.
pub const CONTROL_TITLE: &str = "VPC flow logging should be enabled in all VPCs";

/// flowguard's own control, whose verdict each finding is: its policy, stricter than EC2.6.
pub const FLOWGUARD_CONTROL: &str = "flowguard.1";

/// The title of [`FLOWGUARD_CONTROL`] under the policy's traffic type and retention, which is
/// also the findings' title (after the control id).
pub fn flowguard_title(ctx: &ExportContext) -> String {
    let traffic = match ctx.traffic_type {
        TrafficType::All => "all",
        TrafficType::Reject | TrafficType::Accept => "rejected",
    };
    format!(
        "VPC flow logs should capture {traffic} traffic, deliver it, and keep it at least {} days",
        ctx.min_retention_days
    )
}

/// The CIS AWS Foundations Benchmark's versions and the number of the recommendation "Ensure
/// VPC flow logging is enabled in all VPCs" in each, as docs/design.md lists them.
pub const CIS_REQUIREMENTS: [(&str, &str); 5] = [
    ("v3.0.0", "3.7"),
    ("v4.0.0", "3.7"),
    ("v5.0.0", "3.7"),
    ("v6.0.0", "4.7"),
    ("v7.0.0", "4.7"),
];

/// The benchmark's name, as Security Hub spells it in `RelatedRequirements`.
pub const CIS_BENCHMARK: &str = "CIS AWS Foundations Benchmark";

/// The finding type, in ASFF's `namespace/category/classifier` taxonomy: a configuration check
/// against an industry standard, the CIS benchmark.
const FINDING_TYPE: &str = "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark";

/// What to do about a failing finding, with the policy's traffic type and minimum retention.
fn remediation(ctx: &ExportContext) -> String {
    let traffic = match ctx.traffic_type {
        TrafficType::All => "all traffic (ALL)",
        TrafficType::Reject | TrafficType::Accept => "rejected traffic (REJECT or ALL)",
    };
    format!(
        "Create a VPC flow log that captures {traffic} into a CloudWatch Logs group that keeps \
         data at least {} days, with a delivery role: `flowguard apply` does this, and \
         flowguard's Lambda keeps it so.",
        ctx.min_retention_days
    )
}

/// `BatchImportFindings` takes at most this many findings per call (the API reference:
/// "Maximum of 100 findings per request").
pub const ASFF_BATCH_LIMIT: usize = 100;

/// The standards, one per benchmark version: `CIS AWS Foundations Benchmark v3.0.0`, ….
pub fn cis_standards() -> Vec<String> {
    CIS_REQUIREMENTS
        .iter()
        .map(|(version, _)| format!("{CIS_BENCHMARK} {version}"))
        .collect()
}

/// The requirements as Security Hub's `RelatedRequirements` spell them:
/// `CIS AWS Foundations Benchmark v3.0.0/3.7`, ….
pub fn cis_requirements() -> Vec<String> {
    CIS_REQUIREMENTS
        .iter()
        .map(|(version, number)| format!("{CIS_BENCHMARK} {version}/{number}"))
        .collect()
}

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Csv,
    Asff,
    Ocsf,
}

impl Format {
    pub const ALL: [Self; 3] = [Self::Csv, Self::Asff, Self::Ocsf];

    /// The name on the command line (`--format csv`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Asff => "asff",
            Self::Ocsf => "ocsf",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = ExportError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|format| format.as_str().eq_ignore_ascii_case(value.trim()))
            .ok_or_else(|| ExportError::UnknownFormat(value.to_owned()))
    }
}

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("unknown export format {0:?}: expected csv, asff or ocsf")]
    UnknownFormat(String),
    #[error("the generation time {value:?} is not an RFC 3339 date-time: {why}")]
    InvalidTime { value: String, why: String },
    #[error("could not write the CSV: {0}")]
    Csv(#[from] ::csv::Error),
    #[error("could not write the CSV: {0}")]
    Io(#[from] std::io::Error),
    #[error("the CSV is not UTF-8: {0}")]
    Utf8(#[from] std::string::FromUtf8Error),
    #[error("could not write the JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// What the caller knows and core does not: the time, and the policy values that the mapping
/// needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportContext {
    /// When the findings were generated, RFC 3339 (`2026-05-01T12:00:00Z`). Core has no clock:
    /// the CLI reads it. Written out in UTC (`…T12:00:00.000Z`).
    pub generated_at: String,
    /// flowguard's version, for OCSF's `metadata.product.version`.
    pub product_version: String,
    /// The policy's minimum retention, to judge an exempt VPC's checks.
    pub min_retention_days: u32,
    /// The policy's traffic type, which flowguard's control asks for.
    pub traffic_type: TrafficType,
    /// The policy's exemption tag key, named in an exempt VPC's note.
    pub exempt_tag: String,
}

impl ExportContext {
    /// The context of an export generated at `generated_at` (RFC 3339) under `policy`, by this
    /// version of flowguard.
    pub fn new(generated_at: impl Into<String>, policy: &Policy) -> Self {
        Self {
            generated_at: generated_at.into(),
            product_version: env!("CARGO_PKG_VERSION").to_owned(),
            min_retention_days: policy.retention_days,
            traffic_type: policy.traffic_type,
            exempt_tag: policy.exempt_tag.clone(),
        }
    }
}

/// One VPC's finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The account whose run judged the VPC (for a shared VPC, the participant's).
    pub account: String,
    /// The account's name, as the organization lists it (organization runs only).
    pub account_name: Option<String>,
    pub region: String,
    pub vpc_id: VpcId,
    /// The VPC's `Name` tag, if any.
    pub name: Option<String>,
    pub status: VpcStatus,
    pub reason: String,
    pub checks: Checks,
    /// The owner account of a `not_owned` VPC.
    pub owner_id: Option<String>,
}

impl Finding {
    fn new(report: &Report, vpc: &VpcReport) -> Self {
        Self {
            account: report.account.clone(),
            account_name: report.account_name.clone(),
            region: report.region.clone(),
            vpc_id: vpc.vpc_id.clone(),
            name: vpc.name.clone(),
            status: vpc.status,
            reason: vpc.reason.clone(),
            checks: vpc.checks.clone(),
            owner_id: vpc.owner_id.clone(),
        }
    }

    /// The AWS partition of the VPC's region.
    pub fn partition(&self) -> &'static str {
        partition_of(&self.region)
    }

    /// The VPC's ARN; a shared VPC's ARN names its owner's account.
    pub fn vpc_arn(&self) -> String {
        let owner = self.owner_id.as_deref().unwrap_or(&self.account);
        format!(
            "arn:{}:ec2:{}:{owner}:vpc/{}",
            self.partition(),
            self.region,
            self.vpc_id
        )
    }

    /// The finding's id, the same in every export of this VPC, so that a re-import updates the
    /// finding instead of adding one (Security Hub keys findings by product and id).
    pub fn id(&self) -> String {
        format!(
            "flowguard/{}/{}/{}/vpc-flow-logging",
            self.account, self.region, self.vpc_id
        )
    }

    /// One line for people: what flowguard found, where the rule is enforced when not here,
    /// and that EC2.6 passes when only flowguard's stricter policy fails.
    fn description(&self, verdict: &Verdict) -> String {
        let mut text = format!("{}: {}", self.status.as_str(), self.reason);
        if let (VpcStatus::NotOwned, Some(owner)) = (self.status, &self.owner_id)
            && !self.reason.contains(owner.as_str())
        {
            text.push_str(&format!("; enforced in the owner's account {owner}"));
        }
        if verdict.stricter_only() {
            text.push_str(
                "; Security Hub EC2.6 passes (an ACTIVE flow log captures rejected traffic): \
                 only flowguard's stricter policy fails",
            );
        }
        text
    }
}

/// The findings of one export, in the order of the reports and their VPCs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings(Vec<Finding>);

impl Findings {
    /// One finding per VPC of single-account reports (one report per region).
    pub fn from_reports(reports: &[Report]) -> Self {
        Self::of(reports.iter())
    }

    /// One finding per VPC of an organization's account×region runs that have a report.
    /// Unreachable runs have no VPC, so no finding: the CLI warns about them.
    pub fn from_org(runs: &[AccountRun]) -> Self {
        Self::of(runs.iter().filter_map(|run| run.report.as_ref()))
    }

    fn of<'a>(reports: impl Iterator<Item = &'a Report>) -> Self {
        let finding =
            |report: &'a Report| (report.vpcs.iter()).map(|vpc| Finding::new(report, vpc));
        Self(reports.flat_map(finding).collect())
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Finding> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<Finding>> for Findings {
    fn from(findings: Vec<Finding>) -> Self {
        Self(findings)
    }
}

impl<'a> IntoIterator for &'a Findings {
    type Item = &'a Finding;
    type IntoIter = std::slice::Iter<'a, Finding>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Writes `findings` in `format`. Fails only on a malformed [`ExportContext::generated_at`] (or
/// a writer's error, which writing to memory does not produce).
pub fn render(
    format: Format,
    findings: &Findings,
    ctx: &ExportContext,
) -> Result<String, ExportError> {
    let at = time::Timestamp::parse(&ctx.generated_at)?;
    match format {
        Format::Csv => csv::render(findings, ctx, at),
        Format::Asff => asff::render(findings, ctx, at),
        Format::Ocsf => ocsf::render(findings, ctx, at),
    }
}

/// A retention as the JSON report writes it: days, `never_expire`, or `unverified` (S3).
fn retention(retention: RetentionCheck) -> String {
    match retention {
        RetentionCheck::Kept(Retention::Days(days)) => days.to_string(),
        RetentionCheck::Kept(Retention::NeverExpire) => "never_expire".to_owned(),
        RetentionCheck::Unverified => "unverified".to_owned(),
    }
}

/// `text` cut to at most `max_bytes` bytes on a character boundary, with `…` when cut. AWS's
/// length limits are met whether they count bytes or characters.
fn truncate(text: &str, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text.to_owned();
    }
    const ELLIPSIS: &str = "…";
    let mut end = max_bytes.saturating_sub(ELLIPSIS.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ELLIPSIS}", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_control_is_the_one_the_follow_ups_resolve() {
        assert_eq!(
            SECURITY_HUB_CONTROL,
            crate::facts::facts().integrations.control_id
        );
    }

    #[test]
    fn truncate_keeps_short_text_and_cuts_long_text_on_a_char_boundary() {
        assert_eq!(truncate("short", 10), "short");
        let cut = truncate("ééééé", 7);
        assert!(cut.len() <= 7, "{cut}");
        assert_eq!(cut, "éé…");
    }

    #[test]
    fn formats_parse_by_their_command_line_names() {
        for format in Format::ALL {
            assert_eq!(format.as_str().parse::<Format>().ok(), Some(format));
        }
        assert!(matches!(
            "xml".parse::<Format>(),
            Err(ExportError::UnknownFormat(_))
        ));
    }
}
