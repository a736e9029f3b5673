//! The one run of one place, and the one loop over many.
//!
//! [`run_in_place`] is the only code that builds and runs one account×region: the policy
//! rendered for the place, the [`Run`] context, [`reconcile`] through the place's ports. The
//! handler calls it for an event, [`sweep`] for every place of a sweep. [`sweep`] is the only
//! concurrent loop: every account of a scope in every region asked for, at most `concurrency`
//! runs at a time. A single account is an organization of one (see
//! [`AccountScope::of_one`]): the CLI's `audit`, `plan` and `apply` and the hub's schedule run the
//! same loop.

use crate::ids::Place;
use crate::organization::{AccountRun, AccountScope, OrgReport, RunSummary};
use crate::policy::Policy;
use crate::ports::Places;
use crate::reconcile::{DEADLINE_NEAR, Deadline, ReconcileError, Run, reconcile};
use crate::report::Report;
use crate::trigger::Trigger;
use crate::vocab::{Mode, partition_of};
use futures::stream::{self, StreamExt};
use std::collections::{BTreeMap, HashMap};

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

/// One sweep: `trigger` (a sweep) in `mode`, in each of `accounts` (of `scope`, in this
/// order) in each of `regions`, at most `concurrency` account×region runs at a time, starting
/// none after `deadline`.
#[derive(Debug, Clone, Copy)]
pub struct Sweep<'a> {
    pub setup: &'a Setup,
    pub scope: &'a AccountScope,
    /// The accounts in the order they are taken ([`AccountScope::sweep_order`] for the
    /// schedule).
    pub accounts: &'a [String],
    pub regions: &'a [String],
    /// The regions of the accounts that have their own (each member's enabled regions, for
    /// `--all-regions`); the others are swept in `regions`.
    pub regions_of: Option<&'a BTreeMap<String, Vec<String>>>,
    pub trigger: &'a Trigger,
    pub mode: Mode,
    pub concurrency: usize,
    pub deadline: Option<Deadline>,
}

/// Runs the sweep in every account×region of its scope, as one stream of runs, so that the
/// concurrency bound holds across regions and no region waits for another's slowest account.
/// An account's regions are next to each other in the stream: they share its member session,
/// which the places may drop once the account's last run is done ([`Places::done_with`]).
/// An account×region that cannot be reached (the member role missing, access denied) or whose
/// state cannot be read is `unreachable` with the error; the others go on. No run starts after
/// the deadline: those left are `unreachable`, "not checked", and retryable.
///
/// `on_run` gets each run's full report as the run finishes (a log line, the CLI's output
/// stream, a progress bar); the organization report keeps only its [`RunSummary`], so that
/// what a sweep holds does not grow with the VPCs of the accounts it has finished.
pub async fn sweep<P: Places>(
    places: &P,
    sweep: &Sweep<'_>,
    mut on_run: impl FnMut(&AccountRun),
) -> OrgReport {
    let Sweep {
        setup,
        scope,
        accounts,
        regions,
        regions_of,
        trigger,
        mode,
        concurrency,
        deadline,
    } = *sweep;
    let regions_in = |account: &String| {
        let own = regions_of.and_then(|of| of.get(account));
        own.map_or(regions, Vec::as_slice)
    };
    let mut left: HashMap<&str, usize> = accounts
        .iter()
        .map(|account| (account.as_str(), regions_in(account).len()))
        .collect();
    let pairs = accounts.iter().flat_map(|account| {
        regions_in(account)
            .iter()
            .map(move |region| (account.as_str(), region.as_str()))
    });
    let runs = stream::iter(pairs)
        .map(|(account, region)| async move {
            if deadline.is_some_and(|d| d.passed()) {
                let code = Some(DEADLINE_NEAR.to_owned());
                return AccountRun::unreachable(account, region, code, NOT_CHECKED, None);
            }
            let place = Place {
                region: region.to_owned(),
                account: account.to_owned(),
            };
            match run_in_place(places, setup, place, trigger, mode, deadline).await {
                Ok(report) => AccountRun::ok(report),
                Err(error) => {
                    let code = match &error {
                        ReconcileError::Observe(e) => Some(e.report_code()),
                        ReconcileError::NotYetVisible(_) | ReconcileError::Config(_) => None,
                    };
                    AccountRun::unreachable(account, region, code, &error, Some(error.clone()))
                }
            }
        })
        .buffer_unordered(concurrency.max(1))
        .map(|mut run| {
            run.name_account(scope);
            run.note_shared_vpcs(scope);
            on_run(&run);
            if let Some(n) = left.get_mut(run.account.as_str()) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    places.done_with(&run.account);
                }
            }
            RunSummary::from(run)
        })
        .collect::<Vec<_>>()
        .await;
    OrgReport::of_summaries(mode, regions, runs)
}

/// Why an account was not checked: the run's deadline came first.
pub const NOT_CHECKED: &str = "not checked: the invocation's deadline was near; the next run (a retry or the sweep) checks it";

#[cfg(test)]
mod tests {
    //! The fair order over a real sweep: a deadline that fits half the accounts, and an
    //! account that is never reachable.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::fake::{FakePlaces, FakeRegion, Metered, State};
    use crate::organization::AccountStatus;
    use std::collections::BTreeSet;
    use std::sync::Arc;

    const HOUR: i64 = 3600;

    fn ids(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("{i:012}")).collect()
    }

    /// Fakes for `accounts`, of which the first `budget` runs of a sweep are served (the
    /// deadline comes after that many).
    fn half_a_sweep(accounts: &[String], budget: usize) -> Metered {
        let fakes = accounts
            .iter()
            .map(|a| (a.clone(), Arc::new(FakeRegion::new(State::default()))))
            .collect();
        Metered::new(FakePlaces(fakes), Some(budget))
    }

    fn scope_of(accounts: &[String]) -> AccountScope {
        let listed = accounts.join(",");
        crate::organization::OrgConfig::from_lookup(|name| {
            (name == "FLOWGUARD_ACCOUNTS").then(|| listed.clone())
        })
        .unwrap()
        .unwrap()
        .scope(&[])
    }

    fn checked(report: &OrgReport) -> BTreeSet<String> {
        report
            .accounts
            .iter()
            .filter(|run| run.status == AccountStatus::Ok)
            .map(|run| run.account.clone())
            .collect()
    }

    /// A scheduled sweep at `at`, taking `due` first.
    fn scheduled(
        places: &Metered,
        scope: &AccountScope,
        due: &BTreeSet<String>,
        at: i64,
    ) -> OrgReport {
        places.restart();
        let setup = Setup {
            policy: crate::Policy::default(),
            region: "us-east-1".to_owned(),
            warnings: Vec::new(),
        };
        let trigger = Trigger::manual_sweep("schedule");
        let accounts = scope.sweep_order(due, Some(at));
        let plan = Sweep {
            setup: &setup,
            scope,
            accounts: &accounts,
            regions: &["us-east-1".to_owned()],
            regions_of: None,
            trigger: &trigger,
            mode: Mode::Audit,
            concurrency: 1,
            deadline: None,
        };
        futures::executor::block_on(sweep(places, &plan, |_| {}))
    }

    /// What a sweep holds once an account is done: its summary, not its report, and no
    /// session. The reports go to `on_run` as each run finishes.
    #[test]
    fn a_sweep_keeps_neither_the_reports_nor_the_sessions_of_finished_accounts() {
        let accounts = ids(40);
        let regions = ["us-east-1".to_owned(), "eu-west-1".to_owned()];
        let retained_per_run = |vpcs: usize| {
            let state = State {
                vpcs: (0..vpcs)
                    .map(|i| crate::fake::vpc(&format!("vpc-{i:08x}"), &[]))
                    .collect(),
                ..State::default()
            };
            let fake = Arc::new(FakeRegion::new(state));
            let places = Metered::new(FakePlaces::everywhere(fake), None);
            let setup = Setup {
                policy: crate::Policy::default(),
                region: regions[0].clone(),
                warnings: Vec::new(),
            };
            let trigger = Trigger::manual_sweep("memory");
            let scope = scope_of(&accounts);
            let plan = Sweep {
                setup: &setup,
                scope: &scope,
                accounts: &accounts,
                regions: &regions,
                regions_of: None,
                trigger: &trigger,
                mode: Mode::Audit,
                concurrency: 4,
                deadline: None,
            };
            let mut seen = 0;
            let report = futures::executor::block_on(sweep(&places, &plan, |run| {
                seen += run.report.as_ref().map_or(0, |r| r.vpcs.len());
            }));
            // Every VPC was handed out; the report keeps none of them.
            assert_eq!(seen, vpcs * accounts.len() * regions.len());
            let kept = serde_json::to_string(&report).unwrap();
            assert!(!kept.contains("vpc-"), "{kept}");
            assert_eq!(report.accounts.len(), accounts.len() * regions.len());
            // A session lives only while its account has runs in flight.
            assert_eq!(places.sessions_open(), 0);
            assert!(places.most_sessions_at_once() <= 4 + 1);
            kept.len() / report.accounts.len()
        };
        // The same few bytes per run whether an account has 1 VPC or 300 (only the digits
        // of its counts differ).
        let (small, large) = (retained_per_run(1), retained_per_run(300));
        assert!(
            large <= small + 8,
            "{small} bytes per run with 1 VPC, {large} with 300"
        );
    }

    /// The organization's account names reach each run, its report and every export.
    #[test]
    fn each_run_and_its_exports_name_the_account_as_the_organization_does() {
        let accounts = ids(2);
        let fake = Arc::new(FakeRegion::new(State {
            vpcs: vec![crate::fake::vpc("vpc-1", &[])],
            ..State::default()
        }));
        let places = FakePlaces::everywhere(fake);
        let named = [(accounts[0].clone(), "payments-prod".to_owned())];
        let scope = scope_of(&accounts).with_names(named);
        let setup = Setup {
            policy: crate::Policy::default(),
            region: "us-east-1".to_owned(),
            warnings: Vec::new(),
        };
        let trigger = Trigger::manual_sweep("names");
        let plan = Sweep {
            setup: &setup,
            scope: &scope,
            accounts: &accounts,
            regions: &["us-east-1".to_owned()],
            regions_of: None,
            trigger: &trigger,
            mode: Mode::Audit,
            concurrency: 2,
            deadline: None,
        };
        let mut runs = Vec::new();
        let report = futures::executor::block_on(sweep(&places, &plan, |run| {
            runs.push(run.clone());
        }));
        let name_of = |account: &str| {
            let run = runs.iter().find(|r| r.account == account).unwrap();
            let from_report = run.report.as_ref().unwrap().account_name.clone();
            assert_eq!(run.account_name, from_report);
            run.account_name.clone()
        };
        assert_eq!(name_of(&accounts[0]).as_deref(), Some("payments-prod"));
        assert_eq!(name_of(&accounts[1]), None);
        let kept = report.accounts.iter().find(|r| r.account == accounts[0]);
        assert_eq!(kept.unwrap().account_name.as_deref(), Some("payments-prod"));
        let findings = crate::export::Findings::from_org(&runs);
        let ctx = crate::export::ExportContext::new("2026-12-07T00:00:00Z", &setup.policy);
        for format in [
            crate::export::Format::Csv,
            crate::export::Format::Asff,
            crate::export::Format::Ocsf,
        ] {
            let text = crate::export::render(format, &findings, &ctx).unwrap();
            assert_eq!(text.matches("payments-prod").count(), 1, "{format}: {text}");
        }
    }

    #[test]
    fn two_consecutive_sweeps_that_fit_half_the_accounts_check_every_one() {
        let all = ids(10);
        let places = half_a_sweep(&all, 5);
        let scope = scope_of(&all);
        let none = BTreeSet::new();
        for start in [0, 17 * 60, HOUR + 59 * 60, 1_765_000_000] {
            let first = scheduled(&places, &scope, &none, start);
            let second = scheduled(&places, &scope, &none, start + HOUR);
            assert_eq!(checked(&first).len(), 5);
            let both: BTreeSet<String> =
                checked(&first).union(&checked(&second)).cloned().collect();
            assert_eq!(both.len(), 10, "at {start}: {both:?}");
        }
    }

    #[test]
    fn accounts_not_checked_or_failing_last_time_go_first() {
        let all = ids(10);
        let mut places = half_a_sweep(&all, 5);
        // The fourth account never lets the hub in.
        places.inner.0.remove(&all[3]);
        let scope = scope_of(&all);
        let first = scheduled(&places, &scope, &BTreeSet::new(), 0);
        let set = |indices: &[usize]| -> BTreeSet<String> {
            indices.iter().map(|i| all[*i].clone()).collect()
        };
        assert_eq!(checked(&first), set(&[0, 1, 2, 4]));
        let due = first.accounts_due();
        assert_eq!(due, set(&[3, 5, 6, 7, 8, 9]));
        // The same rotation again: only what was due is taken, the unreachable account included.
        let second = scheduled(&places, &scope, &due, 0);
        assert_eq!(checked(&second), set(&[5, 6, 7, 8]));
        let broken = second
            .accounts
            .iter()
            .find(|r| r.account == all[3])
            .unwrap();
        assert_eq!(broken.status, AccountStatus::Unreachable);
        assert_eq!(broken.error_code.as_deref(), Some("AccessDenied"));
        assert_eq!(second.accounts_due(), set(&[0, 1, 2, 3, 4, 9]));
    }
}
