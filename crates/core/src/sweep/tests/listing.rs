//! The organization's listing read as the sweep goes, and the second try of a run that timed
//! out.

use super::*;

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

/// A run as `on_run` saw it end: its account, its name, and how many pages were listed by then.
type Ended = (String, Option<String>, usize);

/// A cold hub's sweep, with the organization listed as it goes: the scope known at the start
/// (nothing listed, what is excluded) and the listing's pages.
fn swept_while_listing(
    accounts: &[String],
    pages: Vec<Page>,
    deadline: Option<Deadline>,
) -> (OrgReport, Vec<Ended>, usize) {
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
    let setup = setup();
    let trigger = Trigger::manual_sweep("schedule");
    let regions = ["us-east-1".to_owned()];
    let plan = Sweep {
        at: Some(0),
        deadline,
        ..audit_of(&setup, &scope, &regions, &trigger)
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
    let setup = setup();
    let trigger = Trigger::manual_sweep("tail");
    let scope = scope_of(&all);
    let regions = ["us-east-1".to_owned()];
    let plan = audit_of(&setup, &scope, &regions, &trigger);
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
