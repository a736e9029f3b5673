//! The reconcile loop: trigger → scope → observe → plan → (dry run | apply) → report.
//!
//! Each step its own module: [`observe`] reads what the trigger's [`Scope`] needs; the pure
//! [`crate::plan()`] decides; [`audit`] and [`dry_run`] (module `report`) report the plan and take
//! only an [`Inventory`]; [`enforce`] (module `converge`) applies it through the [`Remediator`]
//! as well, in at most [`MAX_ROUNDS`] rounds: `apply` runs one round's steps, each action ending
//! with a typed outcome (module `outcome`), and what did not simply apply is re-observed and
//! planned again. Every run re-reads the live state: the event only says where to look.

mod apply;
mod converge;
mod follow_up;
mod observe;
mod outcome;
mod report;
mod request;

pub use converge::{MAX_ROUNDS, enforce};
pub use follow_up::MAX_NOTE_CHARACTERS;
pub use observe::observe;
pub use outcome::{ActionTarget, DEADLINE_NEAR, NOT_CONVERGED, Planned};
pub use report::{audit, dry_run, planned_actions};
pub use request::{CLIENT_TOKEN_WINDOW_SECONDS, flow_log_request};

use crate::error::{AwsError, Disposition, classify};
use crate::ids::{LogGroupName, Place, VpcId};
use crate::policy::{ConfigError, Policy};
use crate::ports::{Inventory, Remediator};
use crate::report::Report;
use crate::trigger::{Target, Trigger};
pub use crate::vocab::Mode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A VPC named by a CreateVpc event that EC2 does not show yet (or that `CreateFlowLogs` does
/// not find) is retried for this long after the event (EC2 is eventually consistent); later it
/// is reported as gone. Lambda retries an asynchronous event twice, about one and three minutes
/// after the first attempt: the grace ends before the last retry, so a VPC created and deleted
/// within minutes ends as `gone`, not in the on-failure queue.
pub const NEW_VPC_GRACE_SECONDS: i64 = 150;

/// The context of one run.
#[derive(Debug, Clone)]
pub struct Run<'a> {
    pub policy: &'a Policy,
    pub place: Place,
    pub trigger: &'a Trigger,
    /// Unix seconds, for the freshness of CreateVpc events; `None` disables the grace period.
    pub now: Option<i64>,
    /// Identifies the run in client tokens when the trigger has no event id.
    pub run_id: String,
    /// When to stop starting new steps (the Lambda's invocation deadline less a margin).
    pub deadline: Option<Deadline>,
}

/// The moment after which a run starts no new step: what is left is reported as retryable,
/// for the next run. Each step is whole (a group gets its retention in the same step), so
/// stopping between two steps leaves nothing half done.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    pub stop_at: Instant,
    /// The clock it is read by: the system's for every shell ([`Deadline::at`]); the scale
    /// simulation (crates/sim) passes its paused tokio clock, which `Instant::now` does not see.
    pub now: fn() -> Instant,
}

impl Deadline {
    /// `stop_at` on the system's clock.
    pub fn at(stop_at: Instant) -> Self {
        Self {
            stop_at,
            now: Instant::now,
        }
    }

    /// Whether the time to start new steps is over.
    pub fn passed(&self) -> bool {
        (self.now)() >= self.stop_at
    }
}

/// Seconds since the Unix epoch, for the freshness of events and the age of flow logs.
pub fn unix_now() -> Option<i64> {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_secs()).ok())
}

impl<'a> Run<'a> {
    /// The context of a run that starts now: the one builder that the Lambda, `handle-event`
    /// and the CLI's `audit`, `plan` and `apply` use, with the one run-id scheme
    /// (`{event id, or "manual"}-{Unix seconds}`).
    pub fn starting_now(
        policy: &'a Policy,
        place: Place,
        trigger: &'a Trigger,
        deadline: Option<Deadline>,
    ) -> Self {
        let now = unix_now();
        let run_id = format!(
            "{}-{}",
            trigger.event_id.as_deref().unwrap_or("manual"),
            now.unwrap_or_default()
        );
        Self {
            policy,
            place,
            trigger,
            now,
            run_id,
            deadline,
        }
    }
}

impl Run<'_> {
    /// Whether the run acts on VPCs named by an event recent enough that EC2 may not show
    /// them yet.
    fn is_fresh(&self) -> bool {
        matches!(self.trigger.target, Target::Vpcs(_))
            && matches!((self.trigger.time, self.now), (Some(t), Some(now)) if now - t < NEW_VPC_GRACE_SECONDS)
    }

    fn out_of_time(&self) -> bool {
        self.deadline.is_some_and(|d| d.passed())
    }

    /// A VPC that EC2 does not find: gone, unless an event just created it (then retry later).
    fn vpc_not_found(&self, error: AwsError) -> outcome::Outcome {
        if self.is_fresh() {
            outcome::Outcome::NotYetVisible(error)
        } else {
            outcome::Outcome::Gone
        }
    }
}

/// Runs one trigger in `mode`. Only [`Mode::Enforce`] touches the remediator. A dry run plans,
/// and an enforcing run ends with, the follow-ups the policy asks for (Security Hub, AWS
/// Config: see `follow_up`).
pub async fn reconcile<I: Inventory, R: Remediator>(
    inv: &I,
    rem: &R,
    run: &Run<'_>,
    mode: Mode,
) -> Result<Report, ReconcileError> {
    match mode {
        Mode::Audit => audit(inv, run).await,
        Mode::DryRun => {
            let mut report = dry_run(inv, run).await?;
            follow_up::plan(run, &mut report);
            Ok(report)
        }
        Mode::Enforce => {
            let mut report = enforce(inv, rem, run).await?;
            follow_up::apply(rem, run, &mut report).await;
            Ok(report)
        }
    }
}

/// A run that could not produce a report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReconcileError {
    /// (The message repeats the cause, for the one-line logs of the Lambda and the CLI.)
    #[error("reading the state of the region failed: {0}")]
    Observe(#[source] AwsError),
    #[error("VPC {0} is not visible yet (EC2 is eventually consistent): try again shortly")]
    NotYetVisible(VpcId),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl ReconcileError {
    /// What to do about it: [`classify`]'s answer for an AWS error.
    pub fn disposition(&self) -> Disposition {
        match self {
            Self::Observe(e) => classify(e),
            Self::NotYetVisible(_) => Disposition::RetryLater,
            Self::Config(_) => Disposition::GiveUp,
        }
    }

    /// Whether trying the same trigger again later may succeed.
    pub fn is_retryable(&self) -> bool {
        self.disposition().is_retryable()
    }
}

/// What one run looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Region,
    Vpcs(Vec<VpcId>),
    /// A log group: the VPCs whose flow logs deliver to it, and the group itself.
    LogGroup(LogGroupName),
}

/// The scope of a trigger; `None` when it is ignored.
pub fn scope(trigger: &Trigger, policy: &Policy, place: &Place) -> Option<Scope> {
    match &trigger.target {
        Target::Vpcs(ids) => Some(Scope::Vpcs(ids.clone())),
        Target::Sweep => Some(Scope::Region),
        Target::LogGroup(name) => match policy.log_group.matches(name, place) {
            Some(Some(vpc)) => Some(Scope::Vpcs(vec![vpc])),
            _ => Some(Scope::LogGroup(name.clone())),
        },
        Target::Ignored => None,
    }
}
