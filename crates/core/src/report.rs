//! The [`Report`] every run produces: JSON for machines (`Serialize`), text for people
//! (`Display`). Field names are part of flowguard's interface; see docs/design.md, "The report".

use crate::ids::{FlowLogId, LogGroupName, Place, VpcId};
use crate::ports::Permission;
use crate::rule::Checks;
use crate::trigger::{Trigger, TriggerKind};
use crate::vocab::Mode;
use serde::Serialize;
use std::fmt;

/// What happened to one VPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VpcStatus {
    Compliant,
    Remediated,
    WouldRemediate,
    Exempt,
    /// Owned by another account (a VPC shared through AWS RAM): reported, never changed.
    NotOwned,
    Gone,
    Failed,
}

impl VpcStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Compliant => "compliant",
            Self::Remediated => "remediated",
            Self::WouldRemediate => "would_remediate",
            Self::Exempt => "exempt",
            Self::NotOwned => "not_owned",
            Self::Gone => "gone",
            Self::Failed => "failed",
        }
    }
}

/// The kinds of change flowguard makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    CreateLogGroup,
    PutRetentionPolicy,
    CreateFlowLogs,
    DeleteFlowLogs,
    /// Security Hub: the VPC's EC2.6 findings annotated, and NOTIFIED once remediated (never
    /// RESOLVED: Security Hub resolves them itself once they pass).
    ResolveFindings,
    /// AWS Config: the VPC_FLOW_LOGS_ENABLED rule asked to evaluate again.
    ReevaluateConfigRule,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CreateLogGroup => "create_log_group",
            Self::PutRetentionPolicy => "put_retention_policy",
            Self::CreateFlowLogs => "create_flow_logs",
            Self::DeleteFlowLogs => "delete_flow_logs",
            Self::ResolveFindings => "resolve_findings",
            Self::ReevaluateConfigRule => "reevaluate_config_rule",
        }
    }

    /// Whether the action only tells other services of the result (Security Hub, AWS
    /// Config): its failure is reported and counted, and never fails the run.
    pub fn is_follow_up(self) -> bool {
        matches!(self, Self::ResolveFindings | Self::ReevaluateConfigRule)
    }
}

/// How an action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionResult {
    Planned,
    Applied,
    AlreadyDone,
    Failed,
}

impl ActionResult {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::Applied => "applied",
            Self::AlreadyDone => "already_done",
            Self::Failed => "failed",
        }
    }
}

/// The trigger as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TriggerReport {
    pub kind: TriggerKind,
    pub event_name: Option<String>,
    pub event_id: Option<String>,
    pub reason: String,
}

impl From<&Trigger> for TriggerReport {
    fn from(trigger: &Trigger) -> Self {
        Self {
            kind: trigger.target.kind(),
            event_name: trigger.event_name.clone(),
            event_id: trigger.event_id.clone(),
            reason: trigger.reason.clone(),
        }
    }
}

/// One VPC's line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VpcReport {
    pub vpc_id: VpcId,
    /// The VPC's `Name` tag; absent when it has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub status: VpcStatus,
    pub reason: String,
    pub checks: Checks,
    /// The owning account of a VPC that another account owns (`not_owned`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<String>,
}

/// One action, planned or done. A failed action carries the error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Action {
    pub action: ActionKind,
    /// The VPC (create_flow_logs), flow log (delete_flow_logs) or log group it acts on.
    pub target: String,
    pub result: ActionResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group: Option<LogGroupName>,
    /// The S3 destination (bucket ARN and prefix) of a `create_flow_logs` into S3.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// Human detail: "30 days -> 365 days", "REJECT, role …".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_log_id: Option<FlowLogId>,
    /// Dry runs only: EC2's `DryRun=true` answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permission: Option<Permission>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retryable: Option<bool>,
}

impl Action {
    pub fn new(action: ActionKind, target: impl Into<String>, result: ActionResult) -> Self {
        Self {
            action,
            target: target.into(),
            result,
            log_group: None,
            destination: None,
            detail: None,
            flow_log_id: None,
            permission: None,
            error_code: None,
            error_message: None,
            retryable: None,
        }
    }
}

/// Counts of VPCs by status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VpcCounts {
    pub compliant: usize,
    pub remediated: usize,
    pub would_remediate: usize,
    pub exempt: usize,
    pub not_owned: usize,
    pub gone: usize,
    pub failed: usize,
}

impl VpcCounts {
    fn count(&mut self, status: VpcStatus) {
        *match status {
            VpcStatus::Compliant => &mut self.compliant,
            VpcStatus::Remediated => &mut self.remediated,
            VpcStatus::WouldRemediate => &mut self.would_remediate,
            VpcStatus::Exempt => &mut self.exempt,
            VpcStatus::NotOwned => &mut self.not_owned,
            VpcStatus::Gone => &mut self.gone,
            VpcStatus::Failed => &mut self.failed,
        } += 1;
    }

    /// Adds another report's counts (for the organization report's summary).
    pub fn add(&mut self, other: &Self) {
        self.compliant += other.compliant;
        self.remediated += other.remediated;
        self.would_remediate += other.would_remediate;
        self.exempt += other.exempt;
        self.not_owned += other.not_owned;
        self.gone += other.gone;
        self.failed += other.failed;
    }
}

/// Counts of actions by result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ActionCounts {
    pub planned: usize,
    pub applied: usize,
    pub already_done: usize,
    pub failed: usize,
}

impl ActionCounts {
    fn count(&mut self, result: ActionResult) {
        *match result {
            ActionResult::Planned => &mut self.planned,
            ActionResult::Applied => &mut self.applied,
            ActionResult::AlreadyDone => &mut self.already_done,
            ActionResult::Failed => &mut self.failed,
        } += 1;
    }
}

/// The summary block.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub vpcs: VpcCounts,
    pub actions: ActionCounts,
}

/// The report of one run. Built with [`Report::builder`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Whether the run changed nothing (`mode` is `audit` or `dry_run`).
    pub dry_run: bool,
    pub mode: Mode,
    pub region: String,
    pub account: String,
    /// The account's name, as the organization lists it (organization runs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    pub trigger: TriggerReport,
    pub vpcs: Vec<VpcReport>,
    pub actions: Vec<Action>,
    /// Things a person should know that are not failures (e.g. a dry run without a role).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    pub summary: Summary,
}

/// Whether a run failed, and whether trying again may help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Failed { retryable: bool },
}

impl Report {
    /// A report of a run in `mode` at `place`, for `trigger`; add its VPCs, actions and
    /// warnings, then [`ReportBuilder::build`] counts the summary.
    pub fn builder(mode: Mode, place: &Place, trigger: TriggerReport) -> ReportBuilder {
        ReportBuilder {
            mode,
            place: place.clone(),
            trigger,
            vpcs: Vec::new(),
            actions: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Appends actions (the follow-ups of an enforcing run) and counts them in the summary.
    pub fn push_actions(&mut self, actions: impl IntoIterator<Item = Action>) {
        for action in actions {
            self.summary.actions.count(action.result);
            self.actions.push(action);
        }
    }

    /// The follow-up actions (Security Hub, AWS Config) that failed: reported and counted
    /// (metric `FindingsUpdateFailures`), never a failed run.
    pub fn follow_up_failures(&self) -> usize {
        self.actions
            .iter()
            .filter(|a| a.action.is_follow_up() && a.result == ActionResult::Failed)
            .count()
    }

    /// Failed if any remediation action failed: retryable when any failure is retryable. The
    /// follow-ups (Security Hub, AWS Config) never fail a run.
    pub fn outcome(&self) -> Outcome {
        let failed: Vec<&Action> = self
            .actions
            .iter()
            .filter(|a| a.result == ActionResult::Failed && !a.action.is_follow_up())
            .collect();
        if failed.is_empty() && self.summary.vpcs.failed == 0 {
            Outcome::Ok
        } else {
            Outcome::Failed {
                retryable: failed.iter().any(|a| a.retryable == Some(true)),
            }
        }
    }

    /// Whether every VPC is compliant, exempt, not owned (or gone) after this run.
    pub fn all_compliant(&self) -> bool {
        let v = &self.summary.vpcs;
        v.would_remediate == 0 && v.failed == 0
    }
}

/// A report being put together: see [`Report::builder`].
#[derive(Debug, Clone)]
pub struct ReportBuilder {
    mode: Mode,
    place: Place,
    trigger: TriggerReport,
    vpcs: Vec<VpcReport>,
    actions: Vec<Action>,
    warnings: Vec<String>,
}

impl ReportBuilder {
    pub fn vpcs(mut self, vpcs: Vec<VpcReport>) -> Self {
        self.vpcs = vpcs;
        self
    }

    pub fn actions(mut self, actions: Vec<Action>) -> Self {
        self.actions = actions;
        self
    }

    pub fn warnings(mut self, warnings: Vec<String>) -> Self {
        self.warnings = warnings;
        self
    }

    /// The report, its summary counted.
    pub fn build(self) -> Report {
        let mut summary = Summary::default();
        for vpc in &self.vpcs {
            summary.vpcs.count(vpc.status);
        }
        for action in &self.actions {
            summary.actions.count(action.result);
        }
        Report {
            dry_run: self.mode.is_dry_run(),
            mode: self.mode,
            region: self.place.region,
            account: self.place.account,
            account_name: None,
            trigger: self.trigger,
            vpcs: self.vpcs,
            actions: self.actions,
            warnings: self.warnings,
            summary,
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match self.mode {
            Mode::Audit => "audit",
            Mode::DryRun => "dry run",
            Mode::Enforce => "run",
        };
        writeln!(
            f,
            "flowguard {mode} in {} (account {})",
            self.region, self.account
        )?;
        let t = &self.trigger;
        let name = t.event_name.as_deref().unwrap_or("-");
        writeln!(f, "trigger: {:?} ({name}): {}", t.kind, t.reason)?;
        for vpc in &self.vpcs {
            writeln!(
                f,
                "  {:<24} {:<16} {}",
                vpc.vpc_id,
                vpc.status.as_str(),
                vpc.reason
            )?;
        }
        for a in &self.actions {
            write!(
                f,
                "  {:<22} {:<24} {}",
                a.action.as_str(),
                a.target,
                a.result.as_str()
            )?;
            if let Some(p) = a.permission {
                write!(f, " (permission: {p:?})")?;
            }
            if let Some(detail) = &a.detail {
                write!(f, " — {detail}")?;
            }
            if let Some(message) = &a.error_message {
                write!(
                    f,
                    " — {}: {message}",
                    a.error_code.as_deref().unwrap_or("error")
                )?;
            }
            writeln!(f)?;
        }
        for warning in &self.warnings {
            writeln!(f, "  warning: {warning}")?;
        }
        let v = &self.summary.vpcs;
        write!(
            f,
            "summary: {} compliant, {} remediated, {} would remediate, {} exempt, {} not owned, {} gone, {} failed",
            v.compliant, v.remediated, v.would_remediate, v.exempt, v.not_owned, v.gone, v.failed
        )
    }
}
