//! The verdicts of one finding, in the vocabulary the formats share: the compliance of
//! flowguard's control (its policy, stricter than EC2.6), Security Hub EC2.6's compliance by
//! EC2.6's own test, severity, workflow and record state, and the reasons for a verdict (see
//! the mapping in the module overview).

use super::{ExportContext, Finding};
use crate::report::VpcStatus;
use crate::rule::{Checks, RetentionCheck};
use crate::vocab::TrafficType;

/// One point of flowguard's policy that a VPC's checks fail, in the rule's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortfall {
    /// No flow log of the VPC is ACTIVE.
    NoActiveFlowLog,
    /// No ACTIVE flow log captures the policy's traffic type.
    TrafficNotCaptured,
    /// Every ACTIVE flow log of that traffic type is failing delivery.
    DeliveryFailing,
    /// The log group it delivers to does not exist.
    LogGroupMissing,
    /// The log group it delivers to keeps data less than the policy's retention.
    RetentionTooShort,
}

impl Shortfall {
    /// The reason code of the point (ASFF's `Compliance.StatusReasons[].ReasonCode`).
    pub fn code(self) -> &'static str {
        match self {
            Self::NoActiveFlowLog => "NO_ACTIVE_FLOW_LOG",
            Self::TrafficNotCaptured => "TRAFFIC_TYPE_NOT_CAPTURED",
            Self::DeliveryFailing => "DELIVERY_FAILING",
            Self::LogGroupMissing => "LOG_GROUP_MISSING",
            Self::RetentionTooShort => "RETENTION_TOO_SHORT",
        }
    }
}

/// The points of flowguard's policy that `checks` fail; none when they pass it: an ACTIVE flow
/// log that captures the policy's traffic type and is delivering, into a group (if it delivers
/// to CloudWatch Logs) that exists and keeps data at least `min_retention_days`. A VPC without
/// an ACTIVE flow log, or without one of the right type, fails that point alone: the later
/// points are about such a flow log.
pub fn shortfalls(checks: &Checks, min_retention_days: u32) -> Vec<Shortfall> {
    if !checks.active_flow_log {
        return vec![Shortfall::NoActiveFlowLog];
    }
    if !checks.captures_rejects {
        return vec![Shortfall::TrafficNotCaptured];
    }
    let mut points = Vec::new();
    if !checks.delivering {
        points.push(Shortfall::DeliveryFailing);
    }
    match (&checks.log_group, checks.retention) {
        (None, _) => {}
        (Some(_), Some(RetentionCheck::Kept(retention))) => {
            if !retention.at_least(min_retention_days) {
                points.push(Shortfall::RetentionTooShort);
            }
        }
        (Some(_), _) => points.push(Shortfall::LogGroupMissing),
    }
    points
}

/// A compliance status, as ASFF spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compliance {
    Passed,
    Failed,
    NotAvailable,
}

impl Compliance {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "PASSED",
            Self::Failed => "FAILED",
            Self::NotAvailable => "NOT_AVAILABLE",
        }
    }

    fn of(passes: bool) -> Self {
        if passes { Self::Passed } else { Self::Failed }
    }
}

/// A finding's severity: EC2.6's when it fails, informational otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Informational,
    Medium,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Informational => "INFORMATIONAL",
            Self::Medium => "MEDIUM",
        }
    }
}

/// The workflow status a new finding starts with in Security Hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workflow {
    New,
    Suppressed,
    Resolved,
}

impl Workflow {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "NEW",
            Self::Suppressed => "SUPPRESSED",
            Self::Resolved => "RESOLVED",
        }
    }
}

/// Whether the finding is live (`ACTIVE`) or about a VPC that is gone (`ARCHIVED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordState {
    Active,
    Archived,
}

impl RecordState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Archived => "ARCHIVED",
        }
    }
}

/// How one finding reads to compliance tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// flowguard's control ([`super::FLOWGUARD_CONTROL`], its policy): the finding's
    /// compliance, which its severity and workflow follow.
    pub compliance: Compliance,
    /// Security Hub EC2.6's, by EC2.6's own test ([`Checks::security_hub_ec2_6`]): what an
    /// auditor reconciles with Security Hub's EC2.6 findings.
    pub security_hub: Compliance,
    pub severity: Severity,
    pub workflow: Workflow,
    pub record_state: RecordState,
}

impl Verdict {
    /// Whether the VPC passes EC2.6 and fails only flowguard's stricter policy.
    pub fn stricter_only(&self) -> bool {
        self.compliance == Compliance::Failed && self.security_hub == Compliance::Passed
    }
}

/// One reason for a verdict: a code (`NO_ACTIVE_FLOW_LOG`, `EC2_6_PASSED`, …) and its
/// description. ASFF carries them as `Compliance.StatusReasons`, OCSF in
/// `compliance.status_details`, CSV in `reason_codes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReason {
    pub code: &'static str,
    pub description: String,
}

impl StatusReason {
    fn new(code: &'static str, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
        }
    }
}

impl Finding {
    /// How the finding reads to compliance tools (see the module's compliance mapping).
    pub fn verdict(&self, ctx: &ExportContext) -> Verdict {
        use Compliance::{Failed, NotAvailable, Passed};
        let ec2_6 = Compliance::of(self.checks.security_hub_ec2_6);
        // A compliant or remediated VPC has a flow log that passes flowguard's policy, hence
        // EC2.6's (the policy's traffic types are among EC2.6's), even when its checks were
        // read before the run made it.
        let (compliance, security_hub, workflow, record_state) = match self.status {
            VpcStatus::Compliant | VpcStatus::Remediated => {
                (Passed, Passed, Workflow::Resolved, RecordState::Active)
            }
            VpcStatus::WouldRemediate | VpcStatus::Failed => {
                (Failed, ec2_6, Workflow::New, RecordState::Active)
            }
            VpcStatus::Exempt => {
                let passes = shortfalls(&self.checks, ctx.min_retention_days).is_empty();
                let compliance = Compliance::of(passes);
                (compliance, ec2_6, Workflow::Suppressed, RecordState::Active)
            }
            VpcStatus::NotOwned => (
                NotAvailable,
                NotAvailable,
                Workflow::New,
                RecordState::Active,
            ),
            VpcStatus::Gone => (
                NotAvailable,
                NotAvailable,
                Workflow::Resolved,
                RecordState::Archived,
            ),
        };
        let severity = match compliance {
            Failed => Severity::Medium,
            Passed | NotAvailable => Severity::Informational,
        };
        Verdict {
            compliance,
            security_hub,
            severity,
            workflow,
            record_state,
        }
    }

    /// Why the verdict is what it is: none for a passing finding; for a failing one, each
    /// point of the policy it fails (or, when its checks fail none, what flowguard would do or
    /// failed to do), then EC2.6's verdict, so that a failure of the stricter policy alone
    /// reads as such; for one not available here, why.
    pub fn status_reasons(&self, ctx: &ExportContext) -> Vec<StatusReason> {
        let verdict = self.verdict(ctx);
        match verdict.compliance {
            Compliance::Passed => return Vec::new(),
            Compliance::NotAvailable => {
                let code = match self.status {
                    VpcStatus::Gone => "VPC_DELETED",
                    _ => "SHARED_VPC",
                };
                return vec![StatusReason::new(code, self.reason.clone())];
            }
            Compliance::Failed => {}
        }
        let mut reasons: Vec<StatusReason> = shortfalls(&self.checks, ctx.min_retention_days)
            .into_iter()
            .map(|point| StatusReason::new(point.code(), self.describe(point, ctx)))
            .collect();
        if reasons.is_empty() {
            let code = match self.status {
                VpcStatus::Failed => "REMEDIATION_FAILED",
                _ => "REMEDIATION_PENDING",
            };
            reasons.push(StatusReason::new(code, self.reason.clone()));
        }
        reasons.push(match verdict.security_hub {
            Compliance::Passed => StatusReason::new(
                "EC2_6_PASSED",
                "Security Hub EC2.6 passes: an ACTIVE flow log captures rejected traffic \
                 (REJECT or ALL); only flowguard's stricter policy fails",
            ),
            _ => StatusReason::new(
                "EC2_6_FAILED",
                "Security Hub EC2.6 fails too: no ACTIVE flow log captures rejected traffic \
                 (REJECT or ALL)",
            ),
        });
        reasons
    }

    fn describe(&self, point: Shortfall, ctx: &ExportContext) -> String {
        let group = self
            .checks
            .log_group
            .as_ref()
            .map(|g| g.as_str())
            .unwrap_or("");
        match point {
            Shortfall::NoActiveFlowLog => "no flow log of the VPC is ACTIVE".to_owned(),
            Shortfall::TrafficNotCaptured => match ctx.traffic_type {
                TrafficType::All => {
                    "no ACTIVE flow log captures ALL traffic, as the policy asks".to_owned()
                }
                TrafficType::Reject | TrafficType::Accept => {
                    "no ACTIVE flow log captures rejected traffic (REJECT or ALL)".to_owned()
                }
            },
            Shortfall::DeliveryFailing => {
                "the flow log that captures it is failing delivery (DeliverLogsStatus FAILED)"
                    .to_owned()
            }
            Shortfall::LogGroupMissing => format!("its log group {group} does not exist"),
            Shortfall::RetentionTooShort => match self.checks.retention {
                Some(retention) => format!(
                    "its log group {group} keeps data {retention}, less than {} days",
                    ctx.min_retention_days
                ),
                None => format!(
                    "its log group {group} keeps data less than {} days",
                    ctx.min_retention_days
                ),
            },
        }
    }
}
