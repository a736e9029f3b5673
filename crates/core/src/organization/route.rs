//! An organization hub's handler: the schedule sweeps every account in scope; any other event
//! is handled in its own account when that account is in scope (the single-account run,
//! [`crate::handler::run_in_place`], through the member role), and ignored with the reason
//! otherwise.

use super::{AccountPorts, AccountScope, OrgConfig, OrgReport, OrgSweep, sweep_organization};
use crate::handler::{HandlerError, Setup, run_in_place};
use crate::ids::Place;
use crate::reconcile::{Deadline, Mode, ReconcileError};
use crate::report::{Outcome, Report, TriggerReport};
use crate::trigger::{Target, Trigger, parse_event};

/// What a hub did with one event.
#[derive(Debug)]
pub enum OrgHandled {
    /// The event's account is in scope: its single-account report.
    Account(Report),
    /// The event was ignored: flowguard does not act on it, or its account is out of scope
    /// (`out_of_scope`, counted as `EventsOutOfScope`).
    Ignored { report: Report, out_of_scope: bool },
    /// The schedule: every account in scope in the region.
    Sweep(OrgReport),
}

/// Handles one event, as the Lambda received it, in organization mode. `setup.policy` is the
/// organization's ([`OrgConfig::complete`]); `scope` the accounts in scope now.
pub async fn handle_organization<P: AccountPorts>(
    ports: &P,
    setup: &Setup,
    org: &OrgConfig,
    scope: &AccountScope,
    event: &[u8],
    deadline: Option<Deadline>,
) -> Result<OrgHandled, HandlerError> {
    let trigger = parse_event(event)?;
    let region = trigger
        .region
        .clone()
        .unwrap_or_else(|| setup.region.clone());
    let ignored = |trigger: &Trigger, out_of_scope: bool| OrgHandled::Ignored {
        report: Report::new(
            setup.policy.dry_run,
            region.clone(),
            trigger.account.clone().unwrap_or_default(),
            TriggerReport::from(trigger),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        ),
        out_of_scope,
    };
    match trigger.target {
        Target::Ignored => return Ok(ignored(&trigger, false)),
        // The schedule names no API call: it sweeps the organization.
        Target::Sweep if trigger.event_name.is_none() => {
            let mode = if setup.policy.dry_run {
                Mode::DryRun
            } else {
                Mode::Enforce
            };
            let report = sweep_organization(
                ports,
                &OrgSweep {
                    policy: &setup.policy,
                    scope,
                    regions: std::slice::from_ref(&region),
                    trigger: &trigger,
                    mode,
                    concurrency: org.concurrency,
                    deadline,
                },
            )
            .await;
            return match report.outcome() {
                Outcome::Ok => Ok(OrgHandled::Sweep(report)),
                Outcome::Failed { retryable } => Err(HandlerError::Organization {
                    report: Box::new(report),
                    retryable,
                }),
            };
        }
        _ => {}
    }
    let account = match scope.admits(trigger.account.as_deref()) {
        Ok(()) => trigger.account.clone().unwrap_or_default(),
        Err(reason) => {
            let trigger = Trigger {
                target: Target::Ignored,
                reason: format!("{}: {reason}", trigger.reason),
                ..trigger
            };
            return Ok(ignored(&trigger, true));
        }
    };
    let (inventory, remediator) =
        ports
            .ports(&account, &region, &trigger)
            .await
            .map_err(|error| HandlerError::Reconcile {
                error: ReconcileError::Observe(error),
            })?;
    let place = Place { region, account };
    run_in_place(&inventory, &remediator, setup, place, &trigger, deadline)
        .await
        .map(OrgHandled::Account)
}
