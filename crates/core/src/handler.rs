//! The one handler path below both shells: event bytes → trigger (by
//! [`crate::trigger::parse_event`], the parser that is fuzzed, once) → where to act → report.
//! The Lambda runs it on every invocation, `flowguard handle-event` on one event, and the tests
//! over the in-memory fake; only the [`Places`] that hands out the ports of a place differs
//! (the AWS SDK one lives in `flowguard-aws`).
//!
//! Where an event is handled depends on the [`Reach`]: in one account, the event's region of
//! that account (an event of another account is ignored); in an organization, the event's
//! account when it is in scope (through its member role), and the schedule sweeps every account
//! in scope ([`crate::sweep::sweep`]). Every run of one place is
//! [`crate::sweep::run_in_place`].

use crate::error::Disposition;
use crate::ids::Place;
use crate::organization::{AccountRun, AccountScope, OrgReport};
use crate::ports::Places;
pub use crate::reconcile::unix_now;
use crate::reconcile::{Deadline, ReconcileError};
use crate::report::{Outcome, Report, TriggerReport};
pub use crate::sweep::Setup;
use crate::sweep::{Listing, Sweep, run_in_place, sweep};
use crate::trigger::{InvalidEvent, Target, Trigger, parse_event};
use crate::vocab::Mode;
use std::collections::BTreeSet;

/// Where a controller acts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// One account, the caller's own (from STS, for the Lambda and the CLI alike): an
    /// event of another account is ignored, never acted on in its name.
    Account(String),
    /// An organization: the accounts in scope now, how many account×region runs its sweep
    /// keeps in flight, and the accounts its last sweep did not check or found failing (taken
    /// first: [`AccountScope::sweep_order`]). A sweep may start before the organization is
    /// listed: then `scope` holds none yet, and the listing is handed to the handler.
    Organization {
        scope: AccountScope,
        concurrency: usize,
        due: BTreeSet<String>,
    },
}

/// What the handler did with one event.
#[derive(Debug)]
pub enum Handled {
    /// A run in one account (the event's, or the caller's own): its report.
    Account(Report),
    /// The event was ignored in organization mode: flowguard does not act on it, or its
    /// account is out of scope (`out_of_scope`, counted as `EventsOutOfScope`).
    Ignored { report: Report, out_of_scope: bool },
    /// The schedule in organization mode: every account in scope in the region. Accounts that
    /// could not be checked and VPCs that failed are in the report, its metrics and alarms: the
    /// invocation itself succeeded (retrying it would sweep every account again).
    Sweep(OrgReport),
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
            Self::Remediation { retryable, .. } => {
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
}

impl Handled {
    /// Adds a warning to the report (e.g. a scope that could not be refreshed).
    pub fn warn(&mut self, warning: String) {
        match self {
            Self::Account(report) | Self::Ignored { report, .. } => report.warnings.push(warning),
            Self::Sweep(report) => report.warnings.push(warning),
        }
    }
}

/// Handles one event, as the Lambda received it (its bytes): [`parse_event`], then
/// [`handle_trigger`].
pub async fn handle<P: Places>(
    places: &P,
    setup: &Setup,
    reach: &Reach,
    event: &[u8],
    deadline: Option<Deadline>,
    on_run: impl FnMut(&AccountRun) + Send,
) -> Result<Handled, HandlerError> {
    let trigger = parse_event(event)?;
    handle_trigger(places, setup, reach, trigger, deadline, None, on_run).await
}

/// Handles one parsed event: the one path shared by the Lambda and `flowguard handle-event`
/// (which parses first, to refuse invalid input before any AWS call). `deadline` is when to
/// stop starting new steps (the Lambda's invocation deadline less a margin). A sweep hands
/// each account×region run to `on_run` as it finishes, with its full report (the hub's log line
/// per account); the [`Handled::Sweep`] report keeps only their summaries. An organization's
/// sweep that starts before its list is read (a cold hub) is given the `listing`, and sweeps
/// the accounts as it brings them ([`sweep`]).
pub async fn handle_trigger<P: Places>(
    places: &P,
    setup: &Setup,
    reach: &Reach,
    trigger: Trigger,
    deadline: Option<Deadline>,
    listing: Option<Listing<'_>>,
    on_run: impl FnMut(&AccountRun) + Send,
) -> Result<Handled, HandlerError> {
    let mode = Mode::of_policy(setup.policy.dry_run);
    let region = trigger
        .region
        .clone()
        .unwrap_or_else(|| setup.region.clone());
    let (account, trigger) = match reach {
        Reach::Account(own) => {
            let trigger = trigger.confined_to(own);
            let account = if own.is_empty() {
                trigger.account.clone().unwrap_or_default()
            } else {
                own.clone()
            };
            (account, trigger)
        }
        Reach::Organization {
            scope,
            concurrency,
            due,
        } => {
            let ignored = |trigger: &Trigger, out_of_scope| {
                let place = Place {
                    region: region.clone(),
                    account: trigger.account.clone().unwrap_or_default(),
                };
                let report = Report::builder(mode, &place, TriggerReport::from(trigger)).build();
                Ok(Handled::Ignored {
                    report,
                    out_of_scope,
                })
            };
            match trigger.target {
                Target::Ignored => return ignored(&trigger, false),
                // The schedule names no API call: it sweeps the organization.
                Target::Sweep if trigger.is_schedule() => {
                    let plan = Sweep {
                        setup,
                        scope,
                        due,
                        at: trigger.time,
                        regions: std::slice::from_ref(&region),
                        regions_of: None,
                        trigger: &trigger,
                        mode,
                        concurrency: *concurrency,
                        deadline,
                    };
                    let report = sweep(places, &plan, listing, on_run).await;
                    return Ok(Handled::Sweep(report));
                }
                _ => {}
            }
            match scope.admits(trigger.account.as_deref()) {
                Ok(()) => (trigger.account.clone().unwrap_or_default(), trigger),
                Err(reason) => {
                    let trigger = Trigger {
                        target: Target::Ignored,
                        reason: format!("{}: {reason}", trigger.reason),
                        ..trigger
                    };
                    return ignored(&trigger, true);
                }
            }
        }
    };
    let place = Place { region, account };
    let report = run_in_place(places, setup, place, &trigger, mode, deadline)
        .await
        .map_err(|error| HandlerError::Reconcile { error })?;
    match report.outcome() {
        Outcome::Ok => Ok(Handled::Account(report)),
        Outcome::Failed { retryable } => Err(HandlerError::Remediation {
            report: Box::new(report),
            retryable,
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;
    use crate::fake::{FakePlaces, FakeRegion, State};
    use std::sync::Arc;

    /// The schedule's event, as EventBridge delivers it.
    const SCHEDULE: &str = r#"{"version":"0","id":"e-1","detail-type":"Scheduled Event","source":"aws.events","account":"222222222222","time":"2026-12-06T10:00:00Z","region":"us-east-1","resources":[],"detail":{}}"#;

    /// An organization sweep in which one account cannot be reached is a successful
    /// invocation: the account is in the report, unreachable, and the others were checked.
    #[test]
    fn a_sweep_with_an_unreachable_account_succeeds_and_reports_it() {
        let (ok, broken) = ("111111111111", "333333333333");
        let places = FakePlaces::one(ok, Arc::new(FakeRegion::new(State::default())));
        let listed = format!("{ok},{broken}");
        let org = crate::organization::OrgConfig::from_lookup(|name| {
            (name == "FLOWGUARD_ACCOUNTS").then(|| listed.clone())
        })
        .unwrap()
        .unwrap();
        let reach = Reach::Organization {
            scope: org.scope(&[]),
            concurrency: 4,
            due: BTreeSet::new(),
        };
        let setup = Setup {
            policy: crate::Policy {
                dry_run: true,
                ..crate::Policy::default()
            },
            region: "us-east-1".to_owned(),
            warnings: Vec::new(),
        };
        let handled = futures::executor::block_on(handle(
            &places,
            &setup,
            &reach,
            SCHEDULE.as_bytes(),
            None,
            |_| {},
        ));
        let Ok(Handled::Sweep(report)) = handled else {
            panic!("not a successful sweep: {handled:?}");
        };
        assert_eq!(report.summary.accounts.ok, 1);
        assert_eq!(report.summary.accounts.unreachable, 1);
        let run = report
            .accounts
            .iter()
            .find(|r| r.account == broken)
            .unwrap();
        assert_eq!(run.error_code.as_deref(), Some("AccessDenied"));
        assert_eq!(report.accounts_due(), BTreeSet::from([broken.to_owned()]));
    }
}
