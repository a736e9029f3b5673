//! The one sweep loop over fakes: the fair order (a deadline that fits half the accounts, an
//! account never reachable), the listing read as the sweep goes, the second try of a run that
//! timed out, and what a sweep keeps of finished accounts.
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
fn scheduled(places: &Metered, scope: &AccountScope, due: &BTreeSet<String>, at: i64) -> OrgReport {
    places.restart();
    let setup = Setup {
        policy: crate::Policy::default(),
        region: "us-east-1".to_owned(),
        warnings: Vec::new(),
    };
    let trigger = Trigger::manual_sweep("schedule");
    let plan = Sweep {
        setup: &setup,
        scope,
        due,
        at: Some(at),
        regions: &["us-east-1".to_owned()],
        regions_of: None,
        trigger: &trigger,
        mode: Mode::Audit,
        concurrency: 1,
        deadline: None,
    };
    futures::executor::block_on(sweep(places, &plan, None, |_| {}))
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
            due: &BTreeSet::new(),
            at: None,
            regions: &regions,
            regions_of: None,
            trigger: &trigger,
            mode: Mode::Audit,
            concurrency: 4,
            deadline: None,
        };
        let mut seen = 0;
        let report = futures::executor::block_on(sweep(&places, &plan, None, |run| {
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
        due: &BTreeSet::new(),
        at: None,
        regions: &["us-east-1".to_owned()],
        regions_of: None,
        trigger: &trigger,
        mode: Mode::Audit,
        concurrency: 2,
        deadline: None,
    };
    let mut runs = Vec::new();
    let report = futures::executor::block_on(sweep(&places, &plan, None, |run| {
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

/// The clock hand moves half way round in an hour: whatever the hour, a sweep that gets
/// through the accounts of half the circle (5 of 10, give or take one) and the next sweep check
/// every account between them.
#[test]
fn two_consecutive_sweeps_that_fit_half_the_circle_check_every_one() {
    let all = ids(10);
    let scope = scope_of(&all);
    let none = BTreeSet::new();
    for start in [0, 17 * 60, HOUR + 59 * 60, 1_765_000_000] {
        let half = |at: i64| {
            let ahead = |a: &String| {
                let (_, distance) = crate::organization::order_key(a, &none, Some(at));
                distance <= u64::MAX / 2
            };
            all.iter().filter(|a| ahead(a)).count()
        };
        let budget = half(start).max(all.len() - half(start));
        assert!((4..=6).contains(&budget), "at {start}: {budget}");
        let places = half_a_sweep(&all, budget);
        let first = scheduled(&places, &scope, &none, start);
        let second = scheduled(&places, &scope, &none, start + HOUR);
        assert_eq!(checked(&first).len(), budget);
        let both: BTreeSet<String> = checked(&first).union(&checked(&second)).cloned().collect();
        assert_eq!(both.len(), 10, "at {start}: {both:?}");
    }
}

#[test]
fn accounts_not_checked_or_failing_last_time_go_first() {
    let all = ids(10);
    let scope = scope_of(&all);
    // The order of a sweep at 0; `set` names accounts by their place in it.
    let order = scope.sweep_order(&BTreeSet::new(), Some(0));
    let set = |places: &[usize]| -> BTreeSet<String> {
        places.iter().map(|i| order[*i].clone()).collect()
    };
    let mut places = half_a_sweep(&all, 5);
    // The fourth account in the order never lets the hub in.
    places.inner.0.remove(&order[3]);
    let first = scheduled(&places, &scope, &BTreeSet::new(), 0);
    assert_eq!(checked(&first), set(&[0, 1, 2, 4]));
    let due = first.accounts_due();
    assert_eq!(due, set(&[3, 5, 6, 7, 8, 9]));
    // The same rotation again: only what was due is taken, the unreachable account included.
    let second = scheduled(&places, &scope, &due, 0);
    assert_eq!(checked(&second), set(&[5, 6, 7, 8]));
    let broken = second
        .accounts
        .iter()
        .find(|r| r.account == order[3])
        .unwrap();
    assert_eq!(broken.status, AccountStatus::Unreachable);
    assert_eq!(broken.error_code.as_deref(), Some("AccessDenied"));
    assert_eq!(second.accounts_due(), set(&[0, 1, 2, 3, 4, 9]));
}

/// A future that is pending once (and wakes itself): the pause of a listing between pages.
struct Pause(bool);

impl std::future::Future for Pause {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

type Page = Result<Vec<(String, String)>, crate::AwsError>;

/// The organization's listing, page after page with a pause before each; `listed` counts the
/// pages handed out.
fn listing(pages: Vec<Page>, listed: &Arc<std::sync::atomic::AtomicUsize>) -> Listing<'static> {
    let listed = listed.clone();
    futures::stream::iter(pages)
        .then(move |page| {
            let listed = listed.clone();
            async move {
                Pause(false).await;
                listed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                page
            }
        })
        .boxed()
}

fn page(accounts: &[String]) -> Page {
    Ok(accounts
        .iter()
        .map(|a| (a.clone(), format!("name of {a}")))
        .collect())
}

/// A cold hub's sweep, with the organization listed as it goes: the scope known at the start
/// (nothing listed, what is excluded) and the listing's pages.
fn swept_while_listing(
    accounts: &[String],
    pages: Vec<Page>,
    deadline: Option<Deadline>,
) -> (OrgReport, Vec<(String, Option<String>, usize)>, usize) {
    let fake = Arc::new(FakeRegion::new(State::default()));
    let places = FakePlaces::everywhere(fake);
    let excluded = accounts[1].clone();
    let scope = crate::organization::OrgConfig::from_lookup(|name| match name {
        "FLOWGUARD_ORGANIZATION" => Some("true".to_owned()),
        "FLOWGUARD_EXCLUDE_ACCOUNTS" => Some(excluded.clone()),
        _ => None,
    })
    .unwrap()
    .unwrap()
    .scope(&[]);
    let setup = Setup {
        policy: crate::Policy::default(),
        region: "us-east-1".to_owned(),
        warnings: Vec::new(),
    };
    let trigger = Trigger::manual_sweep("schedule");
    let plan = Sweep {
        setup: &setup,
        scope: &scope,
        due: &BTreeSet::new(),
        at: Some(0),
        regions: &["us-east-1".to_owned()],
        regions_of: None,
        trigger: &trigger,
        mode: Mode::Audit,
        concurrency: 2,
        deadline,
    };
    let listed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut runs = Vec::new();
    let report = futures::executor::block_on(sweep(
        &places,
        &plan,
        Some(listing(pages, &listed)),
        |run| {
            let pages = listed.load(std::sync::atomic::Ordering::SeqCst);
            runs.push((run.account.clone(), run.account_name.clone(), pages));
        },
    ));
    let pages = listed.load(std::sync::atomic::Ordering::SeqCst);
    (report, runs, pages)
}

/// A sweep does not wait for the organization's list: runs end while later pages are still
/// to come, every account in scope is swept once with the name it was listed with, and an
/// excluded one, or one listed twice, is not swept again.
#[test]
fn a_sweep_takes_the_accounts_as_the_listing_brings_them() {
    let all = ids(6);
    let pages = vec![
        page(&all[..2]),
        page(&all[2..4]),
        page(&[all[4].clone(), all[0].clone()]),
        page(&all[5..]),
    ];
    let (report, runs, listed) = swept_while_listing(&all, pages, None);
    assert_eq!(listed, 4);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let swept: Vec<&String> = runs.iter().map(|(a, _, _)| a).collect();
    assert_eq!(swept.len(), 5, "{swept:?}");
    assert!(!swept.contains(&&all[1]), "the excluded account was swept");
    assert!(
        runs.iter()
            .all(|(a, name, _)| *name == Some(format!("name of {a}")))
    );
    let first_done_after = runs.iter().map(|(_, _, pages)| *pages).min().unwrap();
    assert!(
        first_done_after < 4,
        "no run ended before the listing did: {runs:?}"
    );
    assert_eq!(report.summary.accounts.ok, 5);
}

/// A listing that fails half-way: the accounts listed before are swept, and the report says
/// the list was not read to the end (the error is kept for the shell).
#[test]
fn a_listing_that_fails_half_way_sweeps_what_it_listed_and_says_so() {
    let all = ids(4);
    let refused = crate::AwsError {
        operation: "ListAccounts",
        code: Some("TooManyRequestsException".to_owned()),
        message: "slow down".to_owned(),
        status: Some(400),
        fault: crate::Fault::Service,
    };
    let pages = vec![page(&all[2..]), Err(refused.clone()), page(&all[..2])];
    let (report, runs, _) = swept_while_listing(&all, pages, None);
    assert_eq!(runs.len(), 2);
    assert_eq!(report.listing_error, Some(refused));
    assert!(
        report.warnings[0].contains("could not be read to the end"),
        "{:?}",
        report.warnings
    );
}

/// Past the deadline the listing is not read on: nothing more is listed or started, and the
/// report says the organization was not listed to the end.
#[test]
fn past_the_deadline_the_listing_stops() {
    let all = ids(4);
    let passed = Deadline::at(std::time::Instant::now());
    let pages = vec![page(&all[..2]), page(&all[2..])];
    let (report, runs, listed) = swept_while_listing(&all, pages, Some(passed));
    assert_eq!(listed, 1);
    assert!(runs.is_empty(), "{runs:?}");
    assert!(report.warnings[0].contains("before the organization's listing ended"));
}

/// Places whose `ports` fail: timing out the first `timeouts` times for an account, or
/// refusing access always; counts every attempt.
struct Flaky {
    inner: FakePlaces,
    timeouts: BTreeMap<String, usize>,
    refused: String,
    attempts: std::sync::Mutex<BTreeMap<String, usize>>,
}

impl Places for Flaky {
    type Inventory = <FakePlaces as Places>::Inventory;
    type Remediator = <FakePlaces as Places>::Remediator;

    async fn ports(
        &self,
        place: &Place,
        trigger: &Trigger,
    ) -> Result<(Self::Inventory, Self::Remediator), crate::AwsError> {
        let attempt = {
            let mut attempts = self.attempts.lock().unwrap();
            let n = attempts.entry(place.account.clone()).or_default();
            *n += 1;
            *n
        };
        if place.account == self.refused {
            return Err(crate::AwsError::service("AssumeRole", "AccessDenied", "no"));
        }
        if attempt <= self.timeouts.get(&place.account).copied().unwrap_or(0) {
            return Err(crate::AwsError {
                operation: "AssumeRole",
                code: None,
                message: "timed out".to_owned(),
                status: None,
                fault: crate::Fault::Timeout,
            });
        }
        self.inner.ports(place, trigger).await
    }
}

/// The slow tail of `AssumeRole` does not cost an account its check: a run that timed out is
/// taken once more and reported once; one that times out again is reported with its error;
/// a refusal is reported at once, never retried.
#[test]
fn a_run_that_timed_out_is_taken_once_more_and_reported_once() {
    let all = ids(4);
    let (once, twice, refused) = (&all[0], &all[1], &all[2]);
    let places = Flaky {
        inner: FakePlaces::everywhere(Arc::new(FakeRegion::new(State::default()))),
        timeouts: BTreeMap::from([(once.clone(), 1), (twice.clone(), 2)]),
        refused: refused.clone(),
        attempts: std::sync::Mutex::default(),
    };
    let setup = Setup {
        policy: crate::Policy::default(),
        region: "us-east-1".to_owned(),
        warnings: Vec::new(),
    };
    let trigger = Trigger::manual_sweep("tail");
    let scope = scope_of(&all);
    let plan = Sweep {
        setup: &setup,
        scope: &scope,
        due: &BTreeSet::new(),
        at: None,
        regions: &["us-east-1".to_owned()],
        regions_of: None,
        trigger: &trigger,
        mode: Mode::Audit,
        concurrency: 2,
        deadline: None,
    };
    let mut reported = Vec::new();
    let report = futures::executor::block_on(sweep(&places, &plan, None, |run| {
        reported.push((run.account.clone(), run.status));
    }));
    assert_eq!(
        reported.len(),
        4,
        "each account reported once: {reported:?}"
    );
    let status = |account: &String| {
        let run = report.accounts.iter().find(|r| r.account == *account);
        (run.unwrap().status, run.unwrap().error_code.clone())
    };
    assert_eq!(status(once), (AccountStatus::Ok, None));
    assert_eq!(status(&all[3]), (AccountStatus::Ok, None));
    assert_eq!(status(twice).0, AccountStatus::Unreachable);
    assert_eq!(status(refused).1.as_deref(), Some("AccessDenied"));
    let attempts = places.attempts.lock().unwrap().clone();
    let tried = |account: &String| attempts[account];
    assert_eq!((tried(once), tried(twice), tried(refused)), (2, 2, 1));
}
