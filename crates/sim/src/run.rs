//! One scenario, run on tokio's paused clock: the hub's scheduled sweeps (Organizations
//! listed, then [`flowguard_core::sweep::sweep`] in the order of
//! [`AccountScope::sweep_order`], with the hub's concurrency and deadline), or the CLI's run
//! that the moto benchmark measured (`flowguard audit|apply --organization`).

use crate::model::{Api, CLI_RETRY, HUB_RETRY, Latency, ORGANIZATIONS_RETRY};
use crate::net::{Link, Net, NetFigures, Profile, secs, seed_of};
use crate::ports::SimPlaces;
use crate::world::Organization;
use flowguard_core::organization::{AccountRun, AccountScope, AccountStatus, OrgConfig};
use flowguard_core::plan::MAX_CALLS_PER_UNIT;
use flowguard_core::reconcile::{DEADLINE_NEAR, Deadline};
use flowguard_core::report::VpcCounts;
use flowguard_core::sweep::{Setup, Sweep, sweep};
use flowguard_core::{Mode, Policy, Trigger};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The hub function's timeout: Lambda's maximum, as the hub stack sets it
/// (cdk/lib/hub-stack.ts, `Duration.minutes(15)`).
pub const HUB_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// crates/lambda's `REPORT_TIME`.
pub const REPORT_TIME: Duration = Duration::from_secs(2);
/// crates/lambda's `DEADLINE_MARGIN`: the longest unit of work (`MAX_CALLS_PER_UNIT` calls, each
/// ended after the operation timeout at worst) and the report's time.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(
    MAX_CALLS_PER_UNIT as u64 * HUB_RETRY.operation_timeout.as_secs() + REPORT_TIME.as_secs(),
);
/// The time of the first scheduled sweep (Unix seconds): 2026-01-01T00:00:00Z; the next ones
/// follow the hourly schedule (cdk/lib/config.ts, `rate(1 hour)`).
pub const FIRST_SWEEP_AT: i64 = 1_767_225_600;
pub const SCHEDULE: i64 = 3600;

/// Which shell runs the sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shell {
    /// The hub Lambda's schedule: a deadline, the fair order, the schedule's time.
    Hub,
    /// `flowguard audit|apply --organization`: no deadline, the accounts in order,
    /// `GetCallerIdentity` first (as the moto benchmark ran it).
    Cli,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunMode {
    Audit,
    Enforce,
}

/// A scenario: what is simulated, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub name: String,
    pub shell: Shell,
    pub mode: RunMode,
    pub accounts: usize,
    pub regions: Vec<String>,
    pub vpcs: usize,
    pub concurrency: usize,
    /// Consecutive scheduled sweeps, one hour apart (the hub).
    pub sweeps: usize,
    /// Whether the hub stays warm between sweeps, remembering the accounts due.
    pub warm: bool,
    /// Whether the sweep starts with the organization's account list already in hand (kept
    /// from an earlier invocation): no `ListAccounts` on the sweep's path. Today's hub keeps
    /// its list for `SCOPE_REFRESH` (15 minutes), shorter than the hourly schedule, so every
    /// scheduled sweep lists the organization first (`false`).
    #[serde(default)]
    pub list_kept: bool,
    /// Fixed latency by operation (`service:Operation` → ms), e.g. moto's; the others take
    /// the default log-normal of [`crate::model::aws_latency`].
    pub fixed_latency_ms: BTreeMap<String, f64>,
    pub latency_scale: f64,
    /// Whether AWS's documented request rates throttle.
    pub limits: bool,
    pub throttle_share: f64,
    /// Accounts per `ListAccounts` page: 20 on AWS (`PAGE_SIZE`), 100 on moto (which does
    /// not honour `MaxResults`).
    pub page_size: usize,
    pub seed: u64,
}

/// What one sweep (one invocation) did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SweepFigures {
    /// The schedule's time (Unix seconds); 0 for the CLI.
    pub at: i64,
    /// Accounts taken first because the last sweep left them due.
    pub due_first: usize,
    /// Time to list the organization (and, for the CLI, to learn its identity).
    pub listing_s: f64,
    pub listing_failed: bool,
    /// From the invocation's start to its last run's end (simulated).
    pub wall_s: f64,
    /// When the last account×region that was checked finished.
    pub last_checked_s: f64,
    pub runs_checked: usize,
    /// Not started before the deadline (`DeadlineNear`).
    pub runs_not_checked: usize,
    /// Started, but unreachable (throttled beyond the retries, timed out, refused).
    pub runs_unreachable: usize,
    pub accounts_checked: usize,
    pub vpcs: VpcCounts,
    pub net: NetFigures,
}

/// What a scenario did, with the process's real peak RSS.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub scenario: Scenario,
    /// The hub's budget: the function's timeout less its deadline margin.
    pub budget_s: Option<f64>,
    pub sweeps: Vec<SweepFigures>,
    /// Accounts whose every region was checked in at least one of the sweeps.
    pub accounts_checked_in_any: usize,
    /// VmHWM of /proc/self/status after the run (KiB), 0 where unknown.
    pub peak_rss_kib: u64,
    /// Real seconds the simulation took.
    pub real_s: f64,
}

/// The system clock of the simulation: tokio's (paused), as a std `Instant`.
fn sim_now() -> std::time::Instant {
    Instant::now().into_std()
}

impl Scenario {
    fn profile(&self) -> Profile {
        let latency = self
            .fixed_latency_ms
            .iter()
            .filter_map(|(name, ms)| {
                let api = Api::from_name(name)?;
                Some((api, Latency::Fixed(Duration::from_secs_f64(ms / 1000.0))))
            })
            .collect();
        Profile {
            latency,
            latency_scale: self.latency_scale,
            limits: self.limits,
            throttle_share: self.throttle_share,
            retry: match self.shell {
                Shell::Hub => HUB_RETRY,
                Shell::Cli => CLI_RETRY,
            },
            organizations_retry: ORGANIZATIONS_RETRY,
        }
    }

    fn mode(&self) -> Mode {
        match self.mode {
            RunMode::Audit => Mode::Audit,
            RunMode::Enforce => Mode::Enforce,
        }
    }
}

/// Runs `scenario` on a current-thread runtime whose clock starts paused: simulated time
/// moves only when every run waits, straight to the next call's end.
pub fn run(scenario: &Scenario) -> Result<Outcome, String> {
    let started = std::time::Instant::now();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let sweeps = runtime.block_on(simulate(scenario))?;
    let org = organization(scenario);
    let mut any = vec![0usize; org.accounts];
    for sweep in &sweeps {
        for (i, n) in sweep.1.iter().enumerate() {
            any[i] = any[i].max(usize::from(*n));
        }
    }
    let regions = scenario.regions.len().max(1);
    Ok(Outcome {
        scenario: scenario.clone(),
        budget_s: (scenario.shell == Shell::Hub).then(|| secs(HUB_TIMEOUT - DEADLINE_MARGIN)),
        accounts_checked_in_any: any.iter().filter(|n| **n >= regions).count(),
        sweeps: sweeps.into_iter().map(|(figures, _)| figures).collect(),
        peak_rss_kib: peak_rss_kib(),
        real_s: secs(started.elapsed()),
    })
}

fn organization(scenario: &Scenario) -> Organization {
    Organization {
        accounts: scenario.accounts,
        regions: scenario.regions.clone(),
        vpcs: scenario.vpcs,
    }
}

/// Organization mode over the whole organization, nothing else configured (the hub's
/// `FLOWGUARD_ORGANIZATION=true`), and its policy: the defaults, each member's own delivery role.
fn organization_mode(region: &str) -> Result<(OrgConfig, Setup), String> {
    let org = OrgConfig::from_lookup(|name| {
        (name == "FLOWGUARD_ORGANIZATION").then(|| "true".to_owned())
    })
    .map_err(|e| e.to_string())?
    .ok_or("organization mode is off")?;
    let policy = Policy::from_lookup(|_| None).map_err(|e| e.to_string())?;
    let policy = org.complete(policy).map_err(|e| e.to_string())?;
    let setup = Setup {
        policy,
        region: region.to_owned(),
        warnings: Vec::new(),
    };
    Ok((org, setup))
}

/// Every sweep's figures, with how many regions of each account it checked.
async fn simulate(scenario: &Scenario) -> Result<Vec<(SweepFigures, Vec<u8>)>, String> {
    let org = Arc::new(organization(scenario));
    let net = Arc::new(Net::new(scenario.profile()));
    let home = scenario.regions.first().cloned().unwrap_or_default();
    let (whole, setup) = organization_mode(&home)?;
    let scope = whole.scope(&org.ids());
    let mut due = BTreeSet::new();
    let mut out = Vec::new();
    let sweeps = match scenario.shell {
        Shell::Hub => scenario.sweeps.max(1),
        Shell::Cli => 1,
    };
    for n in 0..sweeps {
        let at = FIRST_SWEEP_AT + SCHEDULE * i64::try_from(n).unwrap_or(0);
        let invocation = Invocation {
            scenario,
            org: &org,
            net: &net,
            scope: &scope,
            setup: &setup,
            seed: seed_of(&[scenario.seed, n as u64]),
        };
        let (figures, regions_checked, next_due) = invocation.run(&due, at).await;
        out.push((figures, regions_checked));
        if scenario.warm {
            due = next_due;
        }
    }
    Ok(out)
}

struct Invocation<'a> {
    scenario: &'a Scenario,
    org: &'a Arc<Organization>,
    net: &'a Arc<Net>,
    scope: &'a AccountScope,
    setup: &'a Setup,
    seed: u64,
}

impl Invocation<'_> {
    /// One invocation: the hub's deadline from its start, the listing, the sweep.
    async fn run(
        &self,
        due: &BTreeSet<String>,
        at: i64,
    ) -> (SweepFigures, Vec<u8>, BTreeSet<String>) {
        let scenario = self.scenario;
        let start = Instant::now();
        let hub = scenario.shell == Shell::Hub;
        let deadline = hub.then(|| Deadline {
            stop_at: start.into_std() + (HUB_TIMEOUT - DEADLINE_MARGIN),
            now: sim_now,
        });
        let mut figures = SweepFigures {
            at: if hub { at } else { 0 },
            due_first: due.len(),
            ..SweepFigures::default()
        };
        let link = Link::new(seed_of(&[self.seed, 3]));
        if !hub && self.net.call(Api::GetCallerIdentity, &link).await.is_err() {
            figures.listing_failed = true;
        }
        // Organizations' ListAccounts, page after page (the management account is listed too).
        let pages = if scenario.list_kept {
            0
        } else {
            (self.org.accounts + 1).div_ceil(scenario.page_size.max(1))
        };
        for _ in 0..pages {
            if self.net.call(Api::ListAccounts, &link).await.is_err() {
                figures.listing_failed = true;
                break;
            }
        }
        figures.listing_s = secs(start.elapsed());
        let mut regions_checked = vec![0u8; self.org.accounts];
        let mut next_due = BTreeSet::new();
        // A failed listing with no list kept from a warm sweep fails the invocation.
        if figures.listing_failed && (!scenario.warm || at == FIRST_SWEEP_AT) {
            figures.wall_s = secs(start.elapsed());
            figures.net = self.net.take_figures();
            return (figures, regions_checked, due.clone());
        }
        let accounts: Vec<String> = if hub {
            self.scope.sweep_order(due, Some(at))
        } else {
            self.scope.accounts().map(str::to_owned).collect()
        };
        let places = SimPlaces::new(self.org.clone(), self.net.clone(), seed_of(&[self.seed, 4]));
        let trigger = Trigger::manual_sweep(if hub { "schedule" } else { "flowguard" });
        let plan = Sweep {
            setup: self.setup,
            scope: self.scope,
            accounts: &accounts,
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
        drop(sweep(&places, &plan, on_run).await);
        let regions = scenario.regions.len();
        figures.accounts_checked = regions_checked
            .iter()
            .filter(|n| usize::from(**n) >= regions)
            .count();
        figures.wall_s = secs(start.elapsed());
        figures.net = self.net.take_figures();
        (figures, regions_checked, next_due)
    }
}

/// The process's peak resident set (VmHWM, KiB), from /proc/self/status; 0 where there is none.
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}
