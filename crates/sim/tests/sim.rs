//! The simulation itself: deterministic from its seed, a small organization swept on the
//! paused clock in well under a second of real time, the moto benchmark's calls made exactly,
//! and the numbers it copies from the adapters, the Lambda and the CDK app still theirs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use flowguard_sim::{Scenario, run, suite};
use serde_json::Value;

/// The hub's schedule over 100 accounts, twice, an hour apart.
fn small(seed: u64) -> Scenario {
    let mut scenario = suite::hub("test", 100, 16, 1.0, seed);
    scenario.sweeps = 2;
    scenario
}

fn repo_file(path: &str) -> String {
    let path = format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_same_seed_gives_the_same_figures() {
    let first = run(&small(7)).unwrap();
    let again = run(&small(7)).unwrap();
    assert_eq!(first.sweeps, again.sweeps);
    assert_eq!(first.accounts_checked_in_any, again.accounts_checked_in_any);
    let other = run(&small(8)).unwrap();
    assert_ne!(
        first.sweeps, other.sweeps,
        "another seed, other draws: other times"
    );
}

#[test]
fn a_hundred_accounts_are_swept_by_the_hub_in_simulated_time() {
    // On the paused clock it takes about a second of real time (docs/benchmarks.md), which is
    // measured by the benchmark, not asserted here.
    let outcome = run(&small(27)).unwrap();
    for sweep in &outcome.sweeps {
        assert_eq!(sweep.accounts_checked + sweep.runs_unreachable, 100);
        assert_eq!(sweep.runs_not_checked, 0);
        // Every sweep starts from the seeded state: 70% of the VPCs to remediate.
        assert_eq!(
            sweep.vpcs.remediated + sweep.vpcs.compliant,
            5 * sweep.accounts_checked
        );
        // The organization in 6 pages of 20 (as the first sweep goes, beside the second), and
        // minutes of calls, not hours.
        assert_eq!(
            sweep.net.by_api["organizations:ListAccounts"].calls
                - sweep.net.by_api["organizations:ListAccounts"].retries,
            6
        );
        assert!(
            sweep.listing_s > 0.5 && sweep.last_checked_s < 300.0,
            "{sweep:?}"
        );
        assert!(sweep.net.by_api["sts:AssumeRole"].calls >= 100);
        assert!(sweep.net.peak_calls_in_flight <= 16 * 3);
    }
    assert_eq!(outcome.sweeps[1].at - outcome.sweeps[0].at, 3600);
    assert!(outcome.peak_rss_kib > 0);
}

#[test]
fn a_cold_hub_sweeps_as_it_lists_and_a_warm_one_on_its_kept_list() {
    // The first sweep is a cold start: it starts at once and takes the accounts as the
    // listing brings them; runs end before the listing does.
    let outcome = run(&small(27)).unwrap();
    let (cold, warm) = (&outcome.sweeps[0], &outcome.sweeps[1]);
    assert!(cold.listed_while_sweeping && !cold.listed_beside && !cold.listed_first);
    assert_eq!(cold.list_age_s, None);
    assert_eq!(cold.sweep_started_s, 0.0);
    assert!(cold.listing_s > 0.5 && !cold.listing_failed && !cold.listing_cut);
    // The next, an hour later, starts at once on that list and lists again beside the sweep.
    assert!(
        !warm.listed_while_sweeping && warm.listed_beside,
        "{warm:?}"
    );
    let age = warm.list_age_s.unwrap();
    assert!((age - (3600.0 - cold.listing_s)).abs() < 0.01, "{age}");
    assert_eq!(warm.sweep_started_s, 0.0);
    assert!(warm.listing_s > 0.5 && warm.wall_s >= warm.listing_s.max(warm.last_checked_s));
    assert!(!cold.timed_out && !warm.timed_out);

    // Cold at every sweep: each lists as it goes, with nothing due.
    let mut scenario = small(27);
    scenario.warm = false;
    for sweep in &run(&scenario).unwrap().sweeps {
        assert!(sweep.listed_while_sweeping, "{sweep:?}");
        assert_eq!(sweep.due_first, 0);
    }
}

/// A listing longer than the budget: the sweep takes what comes until the deadline, the
/// listing ends there (no timeout), and the next sweep lists again.
#[test]
fn a_cold_listing_longer_than_the_budget_ends_at_the_deadline() {
    // 2,000 pages of one account, some 0.5 s each: longer than the function's 900 s.
    let mut scenario = suite::hub("slow cold listing", 2000, 128, 1.0, 27);
    scenario.page_size = 1;
    scenario.sweeps = 2;
    let outcome = run(&scenario).unwrap();
    for sweep in &outcome.sweeps {
        assert!(
            sweep.listed_while_sweeping && sweep.listing_cut,
            "{sweep:?}"
        );
        assert!(!sweep.timed_out && sweep.wall_s < 900.0, "{sweep:?}");
        assert!(sweep.accounts_checked > 1000, "{sweep:?}");
    }
}

#[test]
fn a_listing_beside_the_sweep_past_the_timeout_leaves_the_next_sweep_cold() {
    // 2,000 pages of one account, some 0.5 s each: longer than the function's 900 s.
    let mut scenario = suite::hub("slow listing", 2000, 128, 1.0, 27);
    scenario.page_size = 1;
    scenario.list_kept = true;
    scenario.sweeps = 2;
    let outcome = run(&scenario).unwrap();
    let (ended, next) = (&outcome.sweeps[0], &outcome.sweeps[1]);
    assert!(ended.listed_beside && ended.timed_out, "{ended:?}");
    assert!(
        ended.accounts_checked > 1900,
        "the sweep itself ended in time: {ended:?}"
    );
    assert_eq!(ended.wall_s, 900.0);
    // Its environment was reset: no list, nothing due; the next sweep lists as it goes, and
    // the deadline ends its listing.
    assert!(
        next.listed_while_sweeping && next.listing_cut && next.due_first == 0,
        "{next:?}"
    );
    assert!(!next.timed_out && next.accounts_checked > 1000, "{next:?}");
}

#[test]
fn the_deadline_stops_starting_runs_on_the_simulated_clock() {
    // One account at a time: the budget (868 s) holds some 600 of them.
    let mut scenario = suite::hub("cut", 1000, 1, 1.0, 27);
    scenario.list_kept = true;
    let outcome = run(&scenario).unwrap();
    let sweep = &outcome.sweeps[0];
    assert!(sweep.runs_not_checked > 100, "{sweep:?}");
    assert!(sweep.accounts_checked > 100, "{sweep:?}");
    assert_eq!(
        sweep.runs_checked + sweep.runs_not_checked + sweep.runs_unreachable,
        1000
    );
    assert!(sweep.last_checked_s <= 868.0 + 32.0, "{sweep:?}");
}

#[test]
fn the_calibration_runs_make_the_calls_that_moto_counted() {
    let moto: Value = serde_json::from_str(&repo_file("bench/results/org.json")).unwrap();
    for measured in suite::measured(&moto).unwrap() {
        let outcome = run(&suite::calibration(&measured, 27)).unwrap();
        let sweep = &outcome.sweeps[0];
        if measured.mode == "audit" {
            // What the benchmark checks of every audit: the seeded non-compliant VPCs found.
            assert_eq!(sweep.vpcs.would_remediate, 1050);
        }
        let compared = suite::compare(&measured, &serde_json::to_value(&outcome).unwrap());
        assert_eq!(compared["calls_match"], true, "{compared:#}");
        assert_eq!(compared["within_tolerance"], true, "{compared:#}");
    }
}

/// The simulation copies numbers it cannot import (it depends on flowguard-core only): each
/// must still be what its source says.
#[test]
fn the_copied_numbers_are_still_their_sources() {
    let sources: [(&str, &[&str]); 9] = [
        (
            "crates/aws/src/config.rs",
            &[
                "pub const MAX_ATTEMPTS: u32 = 3;",
                "pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(6);",
                "pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(4);",
                ".with_initial_backoff(Duration::from_millis(100))",
                ".with_max_backoff(Duration::from_secs(2))",
                "pub const CLI_OPERATION_TIMEOUT: Duration = Duration::from_secs(20);",
            ],
        ),
        (
            "crates/aws/src/organization/directory.rs",
            &[
                "pub const ORGANIZATIONS_ATTEMPTS: u32 = 6;",
                "pub const ORGANIZATIONS_MAX_BACKOFF: Duration = Duration::from_secs(10);",
                "pub const ORGANIZATIONS_TIMEOUT: Duration = Duration::from_secs(60);",
                "pub const SCOPE_REFRESH: Duration = Duration::from_secs(15 * 60);",
                "pub const SCOPE_MAX_AGE: Duration = Duration::from_secs(6 * 60 * 60);",
            ],
        ),
        (
            "crates/aws/src/setup.rs",
            &[
                "directory.reach_for_sweep().await.map_err(unreadable)?",
                "Some(until_deadline(directory.listing(), deadline))",
                "let (handled, ()) = futures::join!(handling, refreshing);",
            ],
        ),
        (
            "crates/aws/src/organization/mod.rs",
            &["const PAGE_SIZE: i32 = 20;"],
        ),
        (
            "crates/aws/src/inventory.rs",
            &[
                "pub const MAX_FILTER_VALUES: usize = 200;",
                "pub const MAX_LOG_GROUP_IDENTIFIERS: usize = 50;",
                "const CONCURRENT_LOG_GROUP_LOOKUPS: usize = 4;",
            ],
        ),
        (
            "crates/aws/src/integrations.rs",
            &[
                "pub const MAX_FILTER_VALUES: usize = 20;",
                "const CONCURRENT_UPDATES: usize = 4;",
            ],
        ),
        (
            "crates/lambda/src/lib.rs",
            &[
                "pub const REPORT_TIME: Duration = Duration::from_secs(2);",
                "MAX_CALLS_PER_UNIT as u64 * OPERATION_TIMEOUT.as_secs() + REPORT_TIME.as_secs(),",
            ],
        ),
        ("cdk/lib/hub-stack.ts", &["timeout: Duration.minutes(15),"]),
        ("cdk/lib/config.ts", &["sweepSchedule: 'rate(1 hour)',"]),
    ];
    for (path, lines) in sources {
        let text = repo_file(path);
        for line in lines {
            assert!(
                text.contains(line),
                "{path} no longer says `{line}`: update crates/sim (model.rs, ports.rs, run.rs, suite.rs) to match"
            );
        }
    }
}
