//! How each action of a step ended, as a typed value: what the converge loop decides on, and
//! what the report renders once, at the end of the run. Nothing downstream reads an error code
//! back out of a report line.

use crate::error::{AwsError, Disposition, classify};
use crate::ids::{FlowLogId, LogGroupName, VpcId};
use crate::report::{Action, ActionKind, ActionResult};
use crate::vocab::Destination;
use std::fmt;

/// What an action acts on, typed: the executor and the converge loop key their work on it,
/// never on a report's text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ActionTarget {
    Vpc(VpcId),
    LogGroup(LogGroupName),
    /// A flow log, and the VPC it watches.
    FlowLog {
        id: FlowLogId,
        vpc: VpcId,
    },
}

impl fmt::Display for ActionTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Vpc(vpc) => write!(f, "{vpc}"),
            Self::LogGroup(name) => write!(f, "{name}"),
            Self::FlowLog { id, .. } => write!(f, "{id}"),
        }
    }
}

/// One action of a step, as planned: its kind, its typed target, where a flow log would
/// deliver, and a word for people. The report's [`Action`] is rendered from it once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub kind: ActionKind,
    pub target: ActionTarget,
    /// The destination of a `create_flow_logs`.
    pub destination: Option<Destination>,
    pub detail: Option<String>,
}

impl Planned {
    pub(super) fn new(kind: ActionKind, target: ActionTarget, detail: String) -> Self {
        Self {
            kind,
            target,
            destination: None,
            detail: Some(detail),
        }
    }

    /// The report's line for this action, with `result`.
    pub fn render(&self, result: ActionResult) -> Action {
        let mut action = Action::new(self.kind, self.target.to_string(), result);
        action.detail.clone_from(&self.detail);
        match &self.destination {
            Some(Destination::CloudWatchLogs(group)) => action.log_group = Some(group.clone()),
            Some(Destination::S3(arn) | Destination::Other(arn)) => {
                action.destination = Some(arn.clone());
            }
            None => {}
        }
        action
    }
}

/// How one action ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Done by this run (`flow_log_id` for a created flow log).
    Applied { flow_log_id: Option<FlowLogId> },
    /// It was so already (a group that exists, a retention long enough, a flow log already
    /// deleted, a VPC found compliant on a re-read); `detail` says what was found.
    AlreadyDone { detail: Option<String> },
    /// AWS answered what only a re-read can settle: "already exists" (is the VPC compliant
    /// now?), or a whole request refused for one VPC not found (what of the others?). The
    /// converge loop re-observes the VPC and plans again.
    Unsettled(AwsError),
    /// The VPC no longer exists.
    Gone,
    /// EC2 does not find a VPC that an event created moments ago (it is eventually
    /// consistent): retry later, whatever [`classify`] says of "not found".
    NotYetVisible(AwsError),
    /// Another flow log into the same destination keeps EC2 from creating ours, and the VPC
    /// is not compliant: `error` is EC2's answer, `reason` the rule's verdict.
    Blocked { error: AwsError, reason: String },
    /// AWS refused or failed it.
    Failed(AwsError),
    /// Not attempted.
    Skipped(Skip),
    /// Not attempted in this round: the state changed under the run (`why`: a group it waits
    /// for vanished). Its VPCs are re-observed and planned again.
    Deferred { why: String },
}

/// Why an action was not attempted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Skip {
    /// A step it waits for failed (`what` names it): it shares that step's error.
    After { what: String, error: AwsError },
    /// The run's deadline came before its unit of work started.
    Deadline,
}

/// One action of a round: the planned action, the VPCs whose compliance depends on it, and
/// how it ended.
#[derive(Debug, Clone)]
pub(super) struct Done {
    pub planned: Planned,
    pub vpcs: Vec<VpcId>,
    pub outcome: Outcome,
}

/// flowguard's own error codes, for failures that are not an AWS answer: an action not started
/// because the deadline was near, and one whose state kept changing until the last round.
pub const DEADLINE_NEAR: &str = "DeadlineNear";
pub const NOT_CONVERGED: &str = "NotConverged";

impl Outcome {
    /// What to do about a failure; `None` when the action did not fail. Every answer comes
    /// from [`classify`], except where the run knows more than the error: a VPC not yet
    /// visible, a re-read that could not settle, a deadline.
    pub(super) fn disposition(&self) -> Option<Disposition> {
        match self {
            Self::Applied { .. } | Self::AlreadyDone { .. } | Self::Gone => None,
            Self::Failed(error) | Self::Blocked { error, .. } => Some(classify(error)),
            Self::Skipped(Skip::After { error, .. }) => Some(classify(error)),
            // EC2 said "exists" or "not found" and the re-reads did not settle it: the next
            // run's read will.
            Self::Unsettled(_)
            | Self::Deferred { .. }
            | Self::NotYetVisible(_)
            | Self::Skipped(Skip::Deadline) => Some(Disposition::RetryLater),
        }
    }
}

impl Done {
    /// The report's line for this action.
    pub(super) fn render(&self) -> Action {
        let mut action = self.planned.render(ActionResult::Planned);
        let failure = |code: Option<String>, message: String| (code, message);
        let (code, message) = match &self.outcome {
            Outcome::Applied { flow_log_id } => {
                action.flow_log_id.clone_from(flow_log_id);
                action.result = ActionResult::Applied;
                return action;
            }
            Outcome::AlreadyDone { detail } => {
                if detail.is_some() {
                    action.detail.clone_from(detail);
                }
                action.result = ActionResult::AlreadyDone;
                return action;
            }
            Outcome::Gone => {
                action.detail = Some(format!("{} no longer exists", action.target));
                action.result = ActionResult::AlreadyDone;
                return action;
            }
            Outcome::Failed(error) => failure(code_of(error), error.to_string()),
            Outcome::NotYetVisible(error) => {
                action.detail = Some(format!(
                    "{} was just created and EC2 does not find it yet: retried later",
                    action.target
                ));
                failure(code_of(error), error.to_string())
            }
            Outcome::Blocked { error, reason } => failure(
                code_of(error),
                format!(
                    "{} failed: another flow log blocks the destination and the VPC is not compliant: {reason}",
                    error.operation
                ),
            ),
            Outcome::Unsettled(error) => failure(
                code_of(error),
                format!(
                    "{error}; re-read, the VPC is still not compliant and no flow log into the \
                     destination is visible yet: the next run's read settles it"
                ),
            ),
            Outcome::Skipped(Skip::After { what, error }) => {
                failure(code_of(error), format!("not attempted: {what}: {error}"))
            }
            Outcome::Deferred { why } => failure(
                Some(NOT_CONVERGED.to_owned()),
                format!(
                    "not attempted: {why}, and the state kept changing until the run's last \
                     round; the next run re-reads it"
                ),
            ),
            Outcome::Skipped(Skip::Deadline) => failure(
                Some(DEADLINE_NEAR.to_owned()),
                "not started: the invocation's deadline was near; the next run (a retry or the sweep) does it"
                    .to_owned(),
            ),
        };
        action.result = ActionResult::Failed;
        action.error_code = code;
        action.error_message = Some(message);
        action.retryable = self
            .outcome
            .disposition()
            .map(|d| d == Disposition::RetryLater);
        action
    }
}

/// The error's code, as every report shows it ([`AwsError::report_code`]).
fn code_of(error: &AwsError) -> Option<String> {
    Some(error.report_code())
}
