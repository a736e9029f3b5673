//! One scenario, run on tokio's paused clock: the hub's scheduled sweeps, an hour apart
//! ([`flowguard_core::sweep::sweep`] in the fair order of
//! [`flowguard_core::organization::order_key`], with the hub's
//! concurrency and deadline), or the CLI's run that the moto benchmark measured
//! (`flowguard audit|apply --organization`).
//!
//! The hub's account list, as crates/aws keeps it (`Directory::reach_for_sweep`, `refresh`,
//! `Controller::handle_trigger`): a scheduled sweep starts at once on the last good list while
//! it is younger than [`SCOPE_MAX_AGE`], and when that list is older than [`SCOPE_REFRESH`]
//! lists the organization again beside the sweep (both awaited together: the invocation ends
//! when both have), for the next sweep; with no list (a cold start) it starts on none and
//! takes the accounts as the listing's pages bring them (`Directory::listing`). The list
//! and the accounts left due live in the warm function only: a cold start has neither, and an
//! invocation that runs past the function's timeout is killed and its environment reset (AWS:
//! "If the Lambda function crashes or times out during the Invoke phase, Lambda resets the
//! execution environment", docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html).

use crate::invocation::{Invocation, Kept};
use crate::model::{Api, CLI_RETRY, HUB_RETRY, Latency, ORGANIZATIONS_RETRY};
use crate::net::{Net, NetFigures, Profile, secs, seed_of};
use crate::world::Organization;
use flowguard_core::organization::OrgConfig;
use flowguard_core::plan::MAX_CALLS_PER_UNIT;
use flowguard_core::report::VpcCounts;
use flowguard_core::sweep::Setup;
use flowguard_core::{Mode, Policy};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{Instant, sleep_until};

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
/// crates/aws/src/organization/directory.rs: how long the account list is trusted (older, a
/// sweep refreshes it beside itself), and how long the last good list stands in.
pub const SCOPE_REFRESH: Duration = Duration::from_secs(15 * 60);
pub const SCOPE_MAX_AGE: Duration = Duration::from_secs(6 * 60 * 60);
/// The CLI's run has no timeout: a day stands for none.
pub(crate) const CLI_UNBOUNDED: Duration = Duration::from_secs(24 * 60 * 60);

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
    /// Whether the hub's execution environment stays warm between sweeps, keeping its account
    /// list and the accounts due; `false`: every sweep is a cold start (a new process: no list,
    /// nothing due, fresh retry quotas), which lists the organization first.
    pub warm: bool,
    /// Whether the first sweep finds a list kept from the scheduled sweep an hour before (a
    /// warm hub's steady state): it starts at once and refreshes the list beside itself.
    /// `false`: the first sweep is a cold start. Only the hub keeps a list.
    #[serde(default)]
    pub list_kept: bool,
    /// Fixed latency by operation (`service:Operation` → ms), e.g. moto's; the others take
    /// the default log-normal of [`crate::model::aws_latency`].
    pub fixed_latency_ms: BTreeMap<String, f64>,
    pub latency_scale: f64,
    /// Whether AWS's documented request rates throttle.
    pub limits: bool,
    pub throttle_share: f64,
    /// Accounts per `ListAccounts` page: the `MaxResults` flowguard sends, 20 (`PAGE_SIZE`),
    /// which AWS and moto both honour.
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
    /// The age of the account list the sweep found kept; `None`: none (a cold start, or one
    /// older than [`SCOPE_MAX_AGE`]), so the organization was listed as the sweep went.
    pub list_age_s: Option<f64>,
    /// Whether the organization was listed before the sweep started (the CLI).
    pub listed_first: bool,
    /// Whether the sweep started on no list and took the accounts as the listing brought
    /// them (a cold hub).
    pub listed_while_sweeping: bool,
    /// Whether it was listed beside the sweep, for the next one (a kept list older than
    /// [`SCOPE_REFRESH`]).
    pub listed_beside: bool,
    /// How long the listing took, before the sweep, while it went, or beside it (and, for the
    /// CLI, learning its identity); 0 when the organization was not listed.
    pub listing_s: f64,
    pub listing_failed: bool,
    /// Whether the deadline came before a listing read while the sweep went had ended.
    pub listing_cut: bool,
    /// When the sweep's first run could start: after the listing when it came first (the
    /// CLI), else 0.
    pub sweep_started_s: f64,
    /// Whether the invocation ran past the function's timeout (a listing that did not end in
    /// time): Lambda ends it and resets its environment, so nothing is kept for the next sweep.
    pub timed_out: bool,
    /// From the invocation's start to its end: its last run's, or the listing's beside it.
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
pub(crate) fn sim_now() -> std::time::Instant {
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

    pub(crate) fn mode(&self) -> Mode {
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
    let hub = scenario.shell == Shell::Hub;
    // The list kept from the sweep an hour before the first one, when the hub is warm.
    let origin = Instant::now();
    let mut kept = Kept {
        list_read_at: (hub && scenario.list_kept).then_some(origin),
        due: BTreeSet::new(),
    };
    let mut out = Vec::new();
    let sweeps = if hub { scenario.sweeps.max(1) } else { 1 };
    for n in 0..sweeps {
        let hours = u32::try_from(n + 1).unwrap_or(u32::MAX);
        sleep_until(origin + Duration::from_secs(SCHEDULE.unsigned_abs()) * hours).await;
        if !scenario.warm {
            kept = Kept::default();
            net.restart();
        }
        let at = FIRST_SWEEP_AT + SCHEDULE * i64::try_from(n).unwrap_or(0);
        let invocation = Invocation {
            scenario,
            org: &org,
            net: &net,
            scope: &scope,
            setup: &setup,
            seed: seed_of(&[scenario.seed, n as u64]),
        };
        let (figures, regions_checked) = invocation.run(&mut kept, at).await;
        if figures.timed_out {
            kept = Kept::default();
            net.restart();
        }
        out.push((figures, regions_checked));
    }
    Ok(out)
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
