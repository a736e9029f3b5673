//! The one sweep loop over fakes: the fair order (a deadline that fits half the accounts, an
//! account never reachable), what a sweep keeps of finished accounts, and (`listing`) the
//! listing read as the sweep goes and the second try of a run that timed out.
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

/// No account due.
static NONE_DUE: BTreeSet<String> = BTreeSet::new();

/// The setup of every test sweep: the default policy, in us-east-1.
fn setup() -> Setup {
    Setup {
        policy: crate::Policy::default(),
        region: "us-east-1".to_owned(),
        warnings: Vec::new(),
    }
}

/// An audit of `scope` in `regions`, by id, two runs at a time, without a deadline: each test
/// changes what it needs.
fn audit_of<'a>(
    setup: &'a Setup,
    scope: &'a AccountScope,
    regions: &'a [String],
    trigger: &'a Trigger,
) -> Sweep<'a> {
    Sweep {
        setup,
        scope,
        due: &NONE_DUE,
        at: None,
        regions,
        regions_of: None,
        trigger,
        mode: Mode::Audit,
        concurrency: 2,
        deadline: None,
    }
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
    let setup = setup();
    let trigger = Trigger::manual_sweep("schedule");
    let regions = ["us-east-1".to_owned()];
    let plan = Sweep {
        due,
        at: Some(at),
        concurrency: 1,
        ..audit_of(&setup, scope, &regions, &trigger)
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
        let setup = setup();
        let trigger = Trigger::manual_sweep("memory");
        let scope = scope_of(&accounts);
        let plan = Sweep {
            concurrency: 4,
            ..audit_of(&setup, &scope, &regions, &trigger)
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
    let setup = setup();
    let trigger = Trigger::manual_sweep("names");
    let regions = ["us-east-1".to_owned()];
    let plan = audit_of(&setup, &scope, &regions, &trigger);
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

mod listing;
