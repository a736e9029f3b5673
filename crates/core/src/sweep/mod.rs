//! The one run of one place, and the one loop over many.
//!
//! [`run_in_place`] is the only code that builds and runs one account×region: the policy
//! rendered for the place, the [`Run`] context, [`reconcile`] through the place's ports. The
//! handler calls it for an event, [`sweep`] for every place of a sweep. [`sweep`] is the only
//! concurrent loop: every account of a scope (or of the organization's listing, as its pages
//! arrive) in every region asked for, in the fair order, at most `concurrency` runs at a time.
//! A single account is an organization of one (see
//! [`AccountScope::of_one`]): the CLI's `audit`, `plan` and `apply` and the hub's schedule run the
//! same loop.

use crate::error::AwsError;
use crate::ids::Place;
use crate::organization::{AccountRun, AccountScope, OrgReport, RunSummary, order_key};
use crate::policy::Policy;
use crate::ports::Places;
use crate::reconcile::{DEADLINE_NEAR, Deadline, ReconcileError, Run, reconcile};
use crate::report::Report;
use crate::trigger::Trigger;
use crate::vocab::{Mode, partition_of};
use futures::future::{self, Either};
use futures::stream::{BoxStream, FuturesUnordered, StreamExt};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet, VecDeque};

/// What a shell prepares once, at start-up, for every run: the policy, the region of the
/// configuration (used when an event names none), and what every report says (e.g. a dry run
/// with a delivery role that would not work).
#[derive(Debug, Clone)]
pub struct Setup {
    pub policy: Policy,
    pub region: String,
    pub warnings: Vec<String>,
}

/// Runs `trigger` at `place` in `mode`, through the place's ports: the single-account run that
/// the Lambda, `handle-event`, the CLI and the organization sweep share. The report carries the
/// setup's warnings.
pub async fn run_in_place<P: Places>(
    places: &P,
    setup: &Setup,
    place: Place,
    trigger: &Trigger,
    mode: Mode,
    deadline: Option<Deadline>,
) -> Result<Report, ReconcileError> {
    let (inventory, remediator) = places
        .ports(&place, trigger)
        .await
        .map_err(ReconcileError::Observe)?;
    let policy = setup
        .policy
        .in_account(&place.account, partition_of(&place.region));
    let run = Run::starting_now(&policy, place, trigger, deadline);
    let mut report = reconcile(&inventory, &remediator, &run, mode).await?;
    report.warnings.extend(setup.warnings.iter().cloned());
    Ok(report)
}

/// One sweep: `trigger` (a sweep) in `mode`, in each account of `scope` in each of `regions`,
/// in the fair order ([`order_key`]: the accounts `due` first, then from the clock hand at
/// `at`), at most `concurrency` account×region runs at a time, starting none after `deadline`.
#[derive(Debug, Clone, Copy)]
pub struct Sweep<'a> {
    pub setup: &'a Setup,
    /// The accounts in scope when the sweep starts: every one, or, while the organization is
    /// still being listed (the `listing` of [`sweep`]), what is excluded and none yet.
    pub scope: &'a AccountScope,
    /// Accounts taken first: those the last sweep did not check or found failing.
    pub due: &'a BTreeSet<String>,
    /// The schedule's time (Unix seconds): where the fair order's clock hand stands; `None`
    /// takes the accounts by id (the CLI).
    pub at: Option<i64>,
    pub regions: &'a [String],
    /// The regions of the accounts that have their own (each member's enabled regions, for
    /// `--all-regions`); the others are swept in `regions`.
    pub regions_of: Option<&'a BTreeMap<String, Vec<String>>>,
    pub trigger: &'a Trigger,
    pub mode: Mode,
    pub concurrency: usize,
    pub deadline: Option<Deadline>,
}

/// The organization's accounts as its listing brings them, a page at a time (`(id, name)`),
/// for a sweep that starts before the list is whole; an error ends it.
pub type Listing<'a> = BoxStream<'a, Result<Vec<(String, String)>, AwsError>>;

/// Runs the sweep in every account×region of its scope, at most `concurrency` at a time, so
/// that the bound holds across regions and no region waits for another's slowest account.
/// An account's regions are taken one after the other: they share its member session, which
/// the places may drop once the account's last run is done ([`Places::done_with`]).
/// An account×region that cannot be reached (the member role missing, access denied) or whose
/// state cannot be read is `unreachable` with the error; the others go on. A run that fails for
/// a reason that may pass (throttled or timed out beyond the SDK's retries: the slow tail of
/// `AssumeRole`) is taken once more before any account not started yet, and reported only
/// then. No run starts after the deadline: those left are `unreachable`, "not checked", and
/// retryable (a run to take again keeps its own error).
///
/// With a `listing`, the scope grows as its pages arrive and the sweep does not wait for the
/// last one: whenever a run may start, it takes the first waiting account in the fair order,
/// so a cold hub's sweep takes about as long as the longer of listing and sweeping, not their
/// sum, and the accounts whose turn it is are taken as soon as they are listed. The listing
/// ends at the deadline (the rest is not listed, said in a warning) or at an error (kept in
/// [`OrgReport::listing_error`] with a warning; what was listed is swept).
///
/// `on_run` gets each run's full report as the run finishes (a log line, the CLI's output
/// stream, a progress bar); the organization report keeps only its [`RunSummary`], so that
/// what a sweep holds does not grow with the VPCs of the accounts it has finished.
pub async fn sweep<P: Places>(
    places: &P,
    plan: &Sweep<'_>,
    mut listing: Option<Listing<'_>>,
    mut on_run: impl FnMut(&AccountRun),
) -> OrgReport {
    let Sweep {
        scope,
        due,
        at,
        regions,
        regions_of,
        mode,
        concurrency,
        deadline,
        ..
    } = *plan;
    let regions_in = |account: &str| {
        let own = regions_of.and_then(|of| of.get(account));
        own.map_or(regions, Vec::as_slice)
    };
    let mut scope = scope.clone();
    let mut waiting: BinaryHeap<Reverse<((bool, u64), String)>> = scope
        .accounts()
        .map(|account| Reverse((order_key(account, due, at), account.to_owned())))
        .collect();
    let mut listed_all = listing.is_none();
    let mut listing_error = None;
    let mut cut_short = false;
    // The regions of the account taken last, not started yet; runs left per account; the
    // runs to take once more (a retryable failure, kept to report should the deadline come).
    let mut next: VecDeque<(String, String)> = VecDeque::new();
    let mut again: VecDeque<AccountRun> = VecDeque::new();
    let mut retried: HashSet<(String, String)> = HashSet::new();
    let mut left: HashMap<String, usize> = HashMap::new();
    let mut running = FuturesUnordered::new();
    let mut kept = Vec::new();
    loop {
        while running.len() < concurrency.max(1) {
            if let Some(failed) = again.pop_front() {
                let past = deadline.is_some_and(|d| d.passed());
                running.push(Either::Left(if past {
                    Either::Left(future::ready(failed))
                } else {
                    Either::Right(run_one(places, plan, failed.account, failed.region))
                }));
                continue;
            }
            if next.is_empty() {
                let Some(Reverse((_, account))) = waiting.pop() else {
                    break;
                };
                let regions = regions_in(&account);
                left.insert(account.clone(), regions.len());
                next.extend(regions.iter().map(|r| (account.clone(), r.clone())));
                continue;
            }
            if let Some((account, region)) = next.pop_front() {
                running.push(Either::Right(run_one(places, plan, account, region)));
            }
        }
        let arrived = match (&mut listing, running.is_empty()) {
            (None, true) => break,
            (None, false) => Arrived::Run(running.next().await.map(Box::new)),
            (Some(pages), true) => Arrived::Page(pages.next().await),
            (Some(pages), false) => match future::select(pages.next(), running.next()).await {
                Either::Left((page, _)) => Arrived::Page(page),
                Either::Right((run, _)) => Arrived::Run(run.map(Box::new)),
            },
        };
        match arrived {
            Arrived::Page(Some(Ok(_))) if deadline.is_some_and(|d| d.passed()) => {
                listing = None;
                cut_short = true;
            }
            Arrived::Page(Some(Ok(page))) => {
                for account in scope.admit_listed(page) {
                    waiting.push(Reverse((order_key(&account, due, at), account)));
                }
            }
            Arrived::Page(Some(Err(error))) => {
                listing = None;
                listing_error = Some(error);
            }
            Arrived::Page(None) => {
                listing = None;
                listed_all = true;
            }
            Arrived::Run(None) => {}
            Arrived::Run(Some(run))
                if run.cause.as_ref().is_some_and(ReconcileError::is_retryable)
                    && retried.insert((run.account.clone(), run.region.clone())) =>
            {
                again.push_back(*run);
            }
            Arrived::Run(Some(run)) => {
                let mut run = *run;
                run.name_account(&scope);
                run.note_shared_vpcs(&scope, listed_all);
                on_run(&run);
                if let Some(n) = left.get_mut(run.account.as_str()) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        left.remove(run.account.as_str());
                        places.done_with(&run.account);
                    }
                }
                kept.push(RunSummary::from(run));
            }
        }
    }
    let mut report = OrgReport::of_summaries(mode, regions, kept);
    if cut_short {
        report.warnings.push(format!(
            "the deadline came before the organization's listing ended: {} account(s) listed \
             and swept; the next sweep lists it again",
            scope.len()
        ));
    }
    if let Some(error) = listing_error {
        report.warnings.push(format!(
            "the organization's account list could not be read to the end ({error}): swept \
             the {} account(s) listed before",
            scope.len()
        ));
        report.listing_error = Some(error);
    }
    report
}

/// What a sweep waits for: the listing's next page, or a run's end.
enum Arrived {
    Page(Option<Result<Vec<(String, String)>, AwsError>>),
    Run(Option<Box<AccountRun>>),
}

/// One account×region of a sweep: its run, or why there is none.
async fn run_one<P: Places>(
    places: &P,
    plan: &Sweep<'_>,
    account: String,
    region: String,
) -> AccountRun {
    if plan.deadline.is_some_and(|d| d.passed()) {
        let code = Some(DEADLINE_NEAR.to_owned());
        return AccountRun::unreachable(&account, &region, code, NOT_CHECKED, None);
    }
    let place = Place { region, account };
    let (account, region) = (place.account.clone(), place.region.clone());
    match run_in_place(
        places,
        plan.setup,
        place,
        plan.trigger,
        plan.mode,
        plan.deadline,
    )
    .await
    {
        Ok(report) => AccountRun::ok(report),
        Err(error) => {
            let code = match &error {
                ReconcileError::Observe(e) => Some(e.report_code()),
                ReconcileError::NotYetVisible(_) | ReconcileError::Config(_) => None,
            };
            AccountRun::unreachable(&account, &region, code, &error, Some(error.clone()))
        }
    }
}

/// Why an account was not checked: the run's deadline came first.
pub const NOT_CHECKED: &str = "not checked: the invocation's deadline was near; the next run (a retry or the sweep) checks it";

#[cfg(test)]
mod tests;
