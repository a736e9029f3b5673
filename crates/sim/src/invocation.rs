//! One invocation of the hub (or the CLI's run): the account list as crates/aws keeps it
//! (see [`crate::run`]), the sweep, and what the warm environment keeps for the next one.

use crate::model::Api;
use crate::net::{Link, Net, secs, seed_of};
use crate::ports::SimPlaces;
use crate::run::{
    CLI_UNBOUNDED, DEADLINE_MARGIN, HUB_TIMEOUT, SCOPE_MAX_AGE, SCOPE_REFRESH, Scenario, Shell,
    SweepFigures, sim_now,
};
use crate::world::Organization;
use flowguard_core::organization::{AccountRun, AccountScope, AccountStatus};
use flowguard_core::reconcile::{DEADLINE_NEAR, Deadline};
use flowguard_core::sweep::{Listing, Setup, Sweep, sweep};
use flowguard_core::{AwsError, Fault, Trigger};
use futures::stream::{self, StreamExt};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use tokio::time::{Instant, timeout_at};

/// What the hub's warm execution environment keeps between invocations
/// (crates/aws/src/organization/directory.rs, `State`).
#[derive(Debug, Default)]
pub struct Kept {
    /// When the last good account list was read.
    pub list_read_at: Option<Instant>,
    /// Accounts that the last sweep did not check or found failing.
    pub due: BTreeSet<String>,
}

/// One invocation's inputs; [`Invocation::run`] runs it.
pub struct Invocation<'a> {
    pub scenario: &'a Scenario,
    pub org: &'a Arc<Organization>,
    pub net: &'a Arc<Net>,
    pub scope: &'a AccountScope,
    pub setup: &'a Setup,
    pub seed: u64,
}

/// How a listing read while the sweep goes ended.
#[derive(Debug, Default)]
struct Listed {
    done_at: Option<Instant>,
    failed: bool,
    cut: bool,
}

impl Invocation<'_> {
    /// Organizations' `ListAccounts`, page after page (the management account is listed too),
    /// as `organization_accounts` pages: one after the other, each its own operation.
    async fn list(&self, link: &Link) -> Result<(), ()> {
        for _ in 0..self.pages() {
            self.net
                .call(Api::ListAccounts, link)
                .await
                .map_err(|_| ())?;
        }
        Ok(())
    }

    fn pages(&self) -> usize {
        (self.org.accounts + 1).div_ceil(self.scenario.page_size.max(1))
    }

    /// The same pages as a sweep reads them while it goes (`Directory::listing` under
    /// `until_deadline`, crates/aws): each page's members in id order (the last page holds the
    /// management account too, out of scope); a failed call ends it with an error, and so
    /// does the deadline.
    fn listing<'s>(
        &'s self,
        link: &'s Link,
        stop_at: Instant,
        listed: &'s Mutex<Listed>,
    ) -> Listing<'s> {
        let size = self.scenario.page_size.max(1);
        let accounts = self.org.accounts;
        let error = |message: &str| AwsError {
            operation: "ListAccounts",
            code: None,
            message: message.to_owned(),
            status: None,
            fault: Fault::Timeout,
        };
        // The next page to read; `None` once an error has ended the listing.
        let pages = stream::unfold(Some(0), move |page| async move {
            let page = page?;
            if page >= self.pages() {
                listed.lock().ok()?.done_at = Some(Instant::now());
                return None;
            }
            let call = self.net.call(Api::ListAccounts, link);
            let answer = match timeout_at(stop_at, call).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(_)) => Err((error("throttled or timed out after its retries"), false)),
                Err(_) => Err((
                    error("the invocation's deadline came before the list"),
                    true,
                )),
            };
            match answer {
                Ok(()) => {
                    let members = (page * size..((page + 1) * size).min(accounts))
                        .map(|i| (Organization::account_id(i), String::new()))
                        .collect();
                    Some((Ok(members), Some(page + 1)))
                }
                Err((error, cut)) => {
                    if let Ok(mut listed) = listed.lock() {
                        listed.failed = !cut;
                        listed.cut = cut;
                    }
                    Some((Err(error), None))
                }
            }
        });
        pages.boxed()
    }

    /// One invocation: the hub's deadline from its start; on a cold start the sweep at once,
    /// taking the accounts as the listing brings them; with a kept list the sweep at once and
    /// the listing beside it when the list is stale; the CLI lists first; what the warm
    /// environment keeps for the next sweep.
    pub async fn run(&self, kept: &mut Kept, at: i64) -> (SweepFigures, Vec<u8>) {
        let scenario = self.scenario;
        let start = Instant::now();
        let hub = scenario.shell == Shell::Hub;
        // Lambda ends the invocation at its timeout, whatever is still running (the CLI has none).
        let killed_at = start + if hub { HUB_TIMEOUT } else { CLI_UNBOUNDED };
        let stop_at = start + (HUB_TIMEOUT - DEADLINE_MARGIN);
        let deadline = hub.then(|| Deadline {
            stop_at: stop_at.into_std(),
            now: sim_now,
        });
        let age = kept
            .list_read_at
            .map(|read_at| start.saturating_duration_since(read_at))
            .filter(|age| hub && *age < SCOPE_MAX_AGE);
        let mut figures = SweepFigures {
            at: if hub { at } else { 0 },
            due_first: kept.due.len(),
            list_age_s: age.map(secs),
            listed_first: !hub,
            listed_while_sweeping: hub && age.is_none(),
            ..SweepFigures::default()
        };
        let mut regions_checked = vec![0u8; self.org.accounts];
        let link = Link::new(seed_of(&[self.seed, 3]));
        if !hub && self.net.call(Api::GetCallerIdentity, &link).await.is_err() {
            figures.listing_failed = true;
        }
        if figures.listed_first {
            match timeout_at(killed_at, self.list(&link)).await {
                Ok(Ok(())) => kept.list_read_at = Some(Instant::now()),
                Ok(Err(())) => figures.listing_failed = true,
                Err(_) => figures.timed_out = true,
            }
            figures.listing_s = secs(start.elapsed());
            // No list at all: the invocation fails (or was ended), and no run starts.
            if figures.listing_failed || figures.timed_out {
                figures.wall_s = secs(start.elapsed());
                figures.net = self.net.take_figures();
                return (figures, regions_checked);
            }
        }
        figures.sweep_started_s = secs(start.elapsed());
        let listing_beside = age.is_some_and(|age| age >= SCOPE_REFRESH);
        figures.listed_beside = listing_beside;
        let mut next_due = BTreeSet::new();
        let none_listed = AccountScope::default();
        let listed = Mutex::new(Listed::default());
        let listing = figures
            .listed_while_sweeping
            .then(|| self.listing(&link, stop_at, &listed));
        let places = SimPlaces::new(self.org.clone(), self.net.clone(), seed_of(&[self.seed, 4]));
        let trigger = Trigger::manual_sweep(if hub { "schedule" } else { "flowguard" });
        let plan = Sweep {
            setup: self.setup,
            scope: if listing.is_some() {
                &none_listed
            } else {
                self.scope
            },
            due: &kept.due,
            at: hub.then_some(at),
            regions: &scenario.regions,
            regions_of: None,
            trigger: &trigger,
            mode: scenario.mode(),
            concurrency: scenario.concurrency,
            deadline,
        };
        let on_run = |run: &AccountRun| {
            let index = self.org.index_of(&run.account);
            match (&run.status, &run.report) {
                (AccountStatus::Ok, Some(report)) => {
                    figures.runs_checked += 1;
                    figures.last_checked_s = secs(start.elapsed());
                    figures.vpcs.add(&report.summary.vpcs);
                    if let Some(i) = index {
                        regions_checked[i] = regions_checked[i].saturating_add(1);
                    }
                    if report.summary.vpcs.failed > 0 {
                        next_due.insert(run.account.clone());
                    }
                }
                _ => {
                    if run.error_code.as_deref() == Some(DEADLINE_NEAR) {
                        figures.runs_not_checked += 1;
                    } else {
                        figures.runs_unreachable += 1;
                    }
                    next_due.insert(run.account.clone());
                }
            }
        };
        // The listing beside the sweep has its own draws, rate and retry partition
        // (Organizations'): it shares nothing with the sweep but the clock.
        let beside = Link::new(seed_of(&[self.seed, 5]));
        let refreshing = async {
            if !listing_beside {
                return None;
            }
            let listed = timeout_at(killed_at, self.list(&beside)).await;
            Some((listed, start.elapsed()))
        };
        let (swept, refreshed) = tokio::join!(sweep(&places, &plan, listing, on_run), refreshing);
        drop(swept);
        match refreshed {
            Some((Ok(Ok(())), took)) => {
                figures.listing_s = secs(took);
                kept.list_read_at = Some(start + took);
            }
            // A failed refresh keeps the last good list (until it is SCOPE_MAX_AGE old).
            Some((Ok(Err(())), took)) => {
                figures.listing_s = secs(took);
                figures.listing_failed = true;
            }
            Some((Err(_), took)) => {
                figures.listing_s = secs(took);
                figures.timed_out = true;
            }
            None => {}
        }
        if figures.listed_while_sweeping {
            let listed = listed.into_inner().unwrap_or_default();
            figures.listing_failed = listed.failed;
            figures.listing_cut = listed.cut;
            figures.listing_s = secs(listed.done_at.unwrap_or_else(Instant::now) - start);
            kept.list_read_at = listed.done_at;
        }
        let regions = scenario.regions.len();
        figures.accounts_checked = regions_checked
            .iter()
            .filter(|n| usize::from(**n) >= regions)
            .count();
        figures.wall_s = secs(start.elapsed());
        figures.timed_out |= hub && start.elapsed() > HUB_TIMEOUT;
        figures.net = self.net.take_figures();
        // The sweep's report tells the directory what is due (`remember`), after both ended.
        kept.due = next_due;
        (figures, regions_checked)
    }
}
