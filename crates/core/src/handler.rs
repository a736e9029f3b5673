//! The one handler path below both shells: event bytes → trigger (by
//! [`crate::trigger::parse_event`], the parser that is fuzzed, once) → reconcile in the event's
//! region → report. The Lambda runs it on every invocation, `flowguard handle-event` on one event,
//! and the tests over the in-memory fake; only the [`Backend`] that hands out the ports of a
//! region differs (the AWS SDK one lives in `flowguard-aws`).

use crate::error::Disposition;
use crate::ids::Place;
use crate::organization::partition_of;
use crate::policy::Policy;
use crate::ports::{Inventory, Remediator};
pub use crate::reconcile::unix_now;
use crate::reconcile::{Deadline, Mode, ReconcileError, Run, reconcile};
use crate::report::{Outcome, Report};
use crate::trigger::{InvalidEvent, Trigger, parse_event};

/// Hands out the ports of a region (the Lambda may receive events of other regions).
pub trait Backend: Sync {
    type Inventory: Inventory + Send;
    type Remediator: Remediator + Send;
    fn ports(&self, region: &str) -> (Self::Inventory, Self::Remediator);
}

/// What a shell prepares once, at start-up, for every event it handles.
#[derive(Debug, Clone)]
pub struct Setup {
    pub policy: Policy,
    /// The region of the configuration, used when an event names none.
    pub region: String,
    /// Said in every report (e.g. a dry run with a delivery role that would not work).
    pub warnings: Vec<String>,
}

/// Why an event was not handled cleanly.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Not an EventBridge event: permanent; a person must look at it.
    #[error("permanent failure: invalid input: {0}")]
    InvalidEvent(#[from] InvalidEvent),
    /// The run could not read the state, or a VPC is not visible yet.
    #[error("{} failure: {error}", if error.is_retryable() { "retryable" } else { "permanent" })]
    Reconcile {
        #[source]
        error: ReconcileError,
    },
    /// An organization sweep could not check some account, or some remediation in it failed;
    /// the organization report says which.
    #[error("{} failure: {} account run(s) unreachable, {} VPC(s) failed remediation", if *retryable { "retryable" } else { "permanent" }, report.summary.accounts.unreachable, report.summary.vpcs.failed)]
    Organization {
        report: Box<crate::organization::OrgReport>,
        retryable: bool,
    },
    /// Remediation ran and some of it failed; the report says what.
    #[error("{} failure: {} VPC(s) failed remediation", if *retryable { "retryable" } else { "permanent" }, report.summary.vpcs.failed.max(1))]
    Remediation {
        report: Box<Report>,
        retryable: bool,
    },
}

impl HandlerError {
    /// What to do about it, derived from [`crate::classify`]: through the run's error, or
    /// through the report's failed actions (each action's `retryable` is its disposition).
    pub fn disposition(&self) -> Disposition {
        match self {
            Self::InvalidEvent(_) => Disposition::GiveUp,
            Self::Reconcile { error } => error.disposition(),
            Self::Remediation { retryable, .. } | Self::Organization { retryable, .. } => {
                if *retryable {
                    Disposition::RetryLater
                } else {
                    Disposition::GiveUp
                }
            }
        }
    }

    /// Whether a later retry of the same event may succeed.
    pub fn is_retryable(&self) -> bool {
        self.disposition().is_retryable()
    }

    /// The report, when the run got that far.
    pub fn report(&self) -> Option<&Report> {
        match self {
            Self::Remediation { report, .. } => Some(report),
            _ => None,
        }
    }

    /// The organization report, when an organization sweep ran.
    pub fn organization_report(&self) -> Option<&crate::organization::OrgReport> {
        match self {
            Self::Organization { report, .. } => Some(report),
            _ => None,
        }
    }
}

/// Handles one event, as the Lambda received it (its bytes): [`parse_event`], then
/// [`handle_trigger`].
pub async fn handle<B: Backend>(
    backend: &B,
    setup: &Setup,
    account: &str,
    event: &[u8],
    deadline: Option<Deadline>,
) -> Result<Report, HandlerError> {
    let trigger = parse_event(event)?;
    handle_trigger(backend, setup, account, trigger, deadline).await
}

/// Handles one parsed event: the one path shared by the Lambda and `flowguard handle-event`
/// (which parses first, to refuse invalid input before any AWS call). `account` is the
/// account the run acts in (the Lambda takes it from its ARN, the CLI from STS): an event of
/// another account is ignored with the reason. `deadline` is when to stop starting new steps
/// (the Lambda's invocation deadline less a margin).
pub async fn handle_trigger<B: Backend>(
    backend: &B,
    setup: &Setup,
    account: &str,
    trigger: Trigger,
    deadline: Option<Deadline>,
) -> Result<Report, HandlerError> {
    let trigger = trigger.confined_to(account);
    let place = Place {
        region: trigger
            .region
            .clone()
            .unwrap_or_else(|| setup.region.clone()),
        account: if account.is_empty() {
            trigger.account.clone().unwrap_or_default()
        } else {
            account.to_owned()
        },
    };
    let (inventory, remediator) = backend.ports(&place.region);
    run_in_place(&inventory, &remediator, setup, place, &trigger, deadline).await
}

/// Runs a trigger in one place with its ports: the single-account run that the Lambda,
/// `handle-event` and an organization hub (in each member account) share.
pub async fn run_in_place<I: Inventory, R: Remediator>(
    inventory: &I,
    remediator: &R,
    setup: &Setup,
    place: Place,
    trigger: &Trigger,
    deadline: Option<Deadline>,
) -> Result<Report, HandlerError> {
    let policy = setup
        .policy
        .in_account(&place.account, partition_of(&place.region));
    let run = Run::starting_now(&policy, place, trigger, deadline);
    let mode = if setup.policy.dry_run {
        Mode::DryRun
    } else {
        Mode::Enforce
    };
    let mut report = reconcile(inventory, remediator, &run, mode)
        .await
        .map_err(|error| HandlerError::Reconcile { error })?;
    report.warnings.extend(setup.warnings.iter().cloned());
    match report.outcome() {
        Outcome::Ok => Ok(report),
        Outcome::Failed { retryable } => Err(HandlerError::Remediation {
            report: Box::new(report),
            retryable,
        }),
    }
}
