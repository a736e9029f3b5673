//! The verdict of one finding in the vocabulary the formats share: compliance status,
//! severity, workflow and record state (see the mapping in the module overview).

use crate::rule::{Checks, RetentionCheck};

/// Whether an exempt VPC's checks pass the rule: an ACTIVE flow log capturing rejects that is
/// delivering, into a group that keeps data long enough when it delivers to CloudWatch Logs.
pub(super) fn passes(checks: &Checks, min_retention_days: u32) -> bool {
    let retention_ok = match (&checks.log_group, checks.retention) {
        (None, _) => true,
        (Some(_), Some(RetentionCheck::Kept(retention))) => retention.at_least(min_retention_days),
        (Some(_), _) => false,
    };
    checks.active_flow_log && checks.captures_rejects && checks.delivering && retention_ok
}

/// A finding's compliance status, as ASFF spells it.
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
    pub compliance: Compliance,
    pub severity: Severity,
    pub workflow: Workflow,
    pub record_state: RecordState,
}
