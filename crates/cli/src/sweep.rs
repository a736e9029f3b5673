//! `audit`, `plan` and `apply`: one sweep over places (account×region), through the same
//! [`Controller`] and loop ([`flowguard_core::sweep::sweep`]) as the Lambda's hub. A single
//! account is an organization of one; with `--account`/`--organization` the accounts in scope
//! are reached through the member role. What is the command's own: the regions to sweep, the
//! confirmation before `apply`, the progress bar and the exit code.

use crate::args::{ConfigFlags, Format, SweepArgs};
use crate::failure::{self, Failure, describe};
use crate::output::{self, Kind};
use aws_config::{Region, SdkConfig};
use flowguard_aws::organization::session_name;
use flowguard_aws::{Check, Controller, Mode, regions};
use flowguard_core::facts::facts;
use flowguard_core::organization::{AccountRun, AccountScope, OrgReport};
use flowguard_core::reconcile::unix_now;
use flowguard_core::sweep::{Sweep, sweep};
use flowguard_core::{Outcome, Place, Policy, Report, Trigger};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

/// Runs `audit`, `plan` or `apply` (`yes` only matters for `apply`).
pub async fn run(
    kind: Kind,
    args: &SweepArgs,
    yes: bool,
    flags: &ConfigFlags,
) -> Result<ExitCode, Failure> {
    let org = args.org.config()?;
    let policy = match &org {
        Some(org) => org.complete(flags.policy()?)?,
        None => flags.policy()?,
    };
    if kind == Kind::Apply {
        refuse_unsafe_apply(&policy, yes)?;
    }
    let config = home(flowguard_aws::config::load_for_cli(None).await, args)?;
    // The delivery role lives in each member account in organization mode: only a single
    // account's is checked here.
    let check = if kind == Kind::Apply {
        Check::DeliveryRole
    } else {
        Check::Configuration
    };
    let session = session_name(&format!("cli-{}", unix_now().unwrap_or_default()));
    let controller = Controller::start(config.clone(), policy, org, session, check)
        .await
        .map_err(|e| failure::init(&e, &config))?;
    let mut regions = regions(&controller, &config, args).await?;
    let (scope, concurrency) = match &controller.directory {
        None => (
            AccountScope::of_one(&controller.account),
            facts().organization.concurrency.default,
        ),
        Some(directory) => {
            let scope = directory
                .scope()
                .await
                .map_err(|e| Failure(describe(&e, &config)))?;
            if scope.is_empty() {
                return Err(Failure(
                    "no account in scope: every account is excluded, or the organizational \
                     units hold no ACTIVE account"
                        .to_owned(),
                ));
            }
            (scope, directory.config().concurrency)
        }
    };
    // Each member's own enabled regions, for --organization --all-regions: a member may lack a
    // region the caller has (not opted in), or have one the caller lacks.
    let regions_of = if args.all_regions && controller.directory.is_some() {
        members_regions(&controller, &scope, &config, concurrency).await
    } else {
        BTreeMap::new()
    };
    for extra in regions_of.values().flatten() {
        if !regions.contains(extra) {
            regions.push(extra.clone());
        }
    }
    // A KMS key of one region cannot serve another: refuse before anything runs.
    for region in &regions {
        controller.setup.policy.kms_key_in(&Place {
            region: region.clone(),
            account: controller.account.clone(),
        })?;
    }
    let sweeper = Sweeper {
        controller: &controller,
        scope: &scope,
        regions: &regions,
        regions_of: &regions_of,
        concurrency,
        config: &config,
    };
    let (mode, reason) = match kind {
        Kind::Audit => (Mode::Audit, "flowguard audit"),
        Kind::Plan => (Mode::DryRun, "flowguard plan"),
        Kind::Apply => (Mode::Enforce, "flowguard apply"),
    };
    if kind == Kind::Apply && !yes && !sweeper.confirmed().await? {
        eprintln!("apply cancelled: nothing changed");
        return Ok(ExitCode::from(DECLINED));
    }
    let report = sweeper.sweep(mode, reason).await;
    sweeper.finish(&report, kind, args.format)
}

/// The exit code of an `apply` whose confirmation was declined: nothing changed, and nothing
/// failed (a failed remediation exits 1).
pub const DECLINED: u8 = 3;

pub fn refuse_unsafe_apply(policy: &Policy, yes: bool) -> Result<(), Failure> {
    policy.require_delivery_role()?;
    if policy.dry_run {
        return Err(Failure(
            "FLOWGUARD_DRY_RUN is true and apply makes changes: unset it, or run `flowguard plan`"
                .to_owned(),
        ));
    }
    if !yes && !std::io::stdin().is_terminal() {
        return Err(Failure(
            "refusing to apply without confirmation: stdin is not a terminal\n\
             review the changes with `flowguard plan`, then run `flowguard apply --yes`"
                .to_owned(),
        ));
    }
    Ok(())
}

/// Asks on the terminal whether to apply `actions` planned actions (yes when there are none).
fn ask_to_apply(actions: usize) -> Result<bool, Failure> {
    if actions == 0 {
        return Ok(true);
    }
    eprint!("Apply {actions} action(s)? [y/N] ");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| Failure(format!("could not read the answer: {e}")))?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

fn check_region_name(name: &str) -> Result<(), Failure> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Failure(format!(
            "not a region name: {name:?} (expected a name such as us-east-1)"
        )))
    }
}

/// The configuration in the home region: the first `--region`, else the configured one, else
/// (for `--all-regions`, which needs some region to ask `DescribeRegions` in) us-east-1.
pub fn home(base: SdkConfig, args: &SweepArgs) -> Result<SdkConfig, Failure> {
    args.regions.iter().try_for_each(|r| check_region_name(r))?;
    let configured = base.region().map(|r| r.as_ref().to_owned());
    let fallback = args.all_regions.then(|| "us-east-1".to_owned());
    let home = args
        .regions
        .first()
        .cloned()
        .or(configured)
        .or(fallback)
        .ok_or_else(failure::no_region)?;
    Ok(base.to_builder().region(Region::new(home)).build())
}

/// The regions to sweep, in the order given: `--region`s (each once), every enabled region
/// of the caller's account, or the home region.
async fn regions(
    controller: &Controller,
    config: &SdkConfig,
    args: &SweepArgs,
) -> Result<Vec<String>, Failure> {
    let home = config.region().map(|r| r.as_ref().to_owned());
    if args.all_regions {
        let clients = controller.places.clients("");
        return regions::enabled_regions(&clients.ec2)
            .await
            .map_err(|e| Failure(describe(&e, config)));
    }
    if args.regions.is_empty() {
        return Ok(home.into_iter().collect());
    }
    let mut seen = std::collections::HashSet::new();
    Ok(args
        .regions
        .iter()
        .filter(|r| seen.insert(*r))
        .cloned()
        .collect())
}

/// The enabled regions of each member account in scope (`ec2:DescribeRegions` through its
/// member role, in the home region), `concurrency` accounts at a time. An account that cannot
/// be asked is left out: it is swept in the caller's regions, where its runs report why it
/// cannot be reached.
async fn members_regions(
    controller: &Controller,
    scope: &AccountScope,
    config: &SdkConfig,
    concurrency: usize,
) -> BTreeMap<String, Vec<String>> {
    let home = config.region().map_or("", |r| r.as_ref());
    let trigger = Trigger::manual_sweep("flowguard: each account's enabled regions");
    let trigger = &trigger;
    futures::stream::iter(scope.accounts())
        .map(|account| async move {
            let place = Place {
                region: home.to_owned(),
                account: account.to_owned(),
            };
            let clients = controller.places.clients_of(&place, trigger).await.ok()?;
            let enabled = regions::enabled_regions(&clients.ec2).await.ok()?;
            Some((account.to_owned(), enabled))
        })
        .buffer_unordered(concurrency.max(1))
        .filter_map(std::future::ready)
        .collect()
        .await
}

/// A progress bar on stderr counting `total` account×region runs, only for several and only
/// on a terminal.
fn progress(total: usize, message: &'static str, units: &str) -> ProgressBar {
    if total < 2 || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total as u64).with_message(message);
    let template = format!("{{spinner}} {{msg}}: {{pos}}/{{len}} {units} {{wide_bar}} {{elapsed}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// What every sweep of this command shares.
struct Sweeper<'a> {
    controller: &'a Controller,
    scope: &'a AccountScope,
    regions: &'a [String],
    /// The members' own regions (`--organization --all-regions`); empty otherwise.
    regions_of: &'a BTreeMap<String, Vec<String>>,
    concurrency: usize,
    /// The home region's configuration, for the hints of error messages.
    config: &'a SdkConfig,
}

impl Sweeper<'_> {
    /// A single account, not an organization.
    fn single(&self) -> bool {
        self.controller.directory.is_none()
    }

    /// Every account in every region, `concurrency` account×region runs at a time: the
    /// organization report, and the runs with their reports, in the report's order.
    async fn sweep(&self, mode: Mode, reason: &'static str) -> (OrgReport, Vec<AccountRun>) {
        let (total, units) = if self.single() {
            (self.regions.len(), "regions")
        } else {
            let regions_of = |account| {
                self.regions_of
                    .get(account)
                    .map_or(self.regions.len(), Vec::len)
            };
            (
                self.scope.accounts().map(regions_of).sum(),
                "account×region runs",
            )
        };
        let bar = progress(total, reason, units);
        let trigger = Trigger::manual_sweep(reason);
        let accounts: Vec<String> = self.scope.accounts().map(str::to_owned).collect();
        let plan = Sweep {
            setup: &self.controller.setup,
            scope: self.scope,
            accounts: &accounts,
            regions: self.regions,
            regions_of: Some(self.regions_of),
            trigger: &trigger,
            mode,
            concurrency: self.concurrency,
            deadline: None,
        };
        let mut runs = Vec::new();
        let report = sweep(&self.controller.places, &plan, |run| {
            bar.inc(1);
            runs.push(run.clone());
        })
        .await;
        bar.finish_and_clear();
        let rank = |region: &str| self.regions.iter().position(|r| r == region);
        runs.sort_by(|a, b| {
            (&a.account, rank(&a.region), &a.region).cmp(&(&b.account, rank(&b.region), &b.region))
        });
        (report, runs)
    }

    /// Shows the plan on stderr and asks on the terminal. Nothing to do needs no question. In
    /// a single account, a region that could not be planned stops here.
    async fn confirmed(&self) -> Result<bool, Failure> {
        let (plan, runs) = self.sweep(Mode::DryRun, "flowguard apply: plan").await;
        if self.single() {
            if let Some(first) = self.errors(&plan).into_iter().next() {
                return Err(Failure(first));
            }
            eprint!("{}", output::render_tables(&reports(&runs), Kind::Plan));
        } else {
            eprint!("{}", output::render_org(&plan, &runs, Kind::Plan));
        }
        let actions = reports(&runs)
            .iter()
            .map(|r| r.summary.actions.planned)
            .sum();
        ask_to_apply(actions)
    }

    /// One message per account×region that could not be checked, with what to do about it.
    fn errors(&self, report: &OrgReport) -> Vec<String> {
        report
            .accounts
            .iter()
            .filter(|run| run.summary.is_none())
            .map(|run| {
                let why = match &run.cause {
                    Some(cause) => failure::reconcile(cause, self.config),
                    None => run.error.clone().unwrap_or_default(),
                };
                format!("{}: {why}", run.region)
            })
            .collect()
    }

    /// Prints the report; picks the exit code: 2 when some account×region could not be
    /// checked, else 0 when every report is good for `kind` (compliant; nothing to change;
    /// everything remediated), else 1.
    fn finish(
        &self,
        (report, runs): &(OrgReport, Vec<AccountRun>),
        kind: Kind,
        format: Format,
    ) -> Result<ExitCode, Failure> {
        let policy = &self.controller.setup.policy;
        let reports = reports(runs);
        let unreachable = report.summary.accounts.unreachable;
        if self.single() {
            if !reports.is_empty() {
                output::print(&reports, kind, format, policy)?;
            }
            for error in self.errors(report) {
                eprintln!("error: {error}");
            }
        } else {
            output::print_org(report, runs, kind, format, policy)?;
            if unreachable > 0 {
                eprintln!(
                    "error: {unreachable} account×region run(s) could not be checked (status unreachable)"
                );
            }
        }
        // `plan` says by its exit code whether anything would change, as `terraform plan
        // -detailed-exitcode` does (with flowguard's 2 for errors): 0 nothing, 1 changes pending.
        let ok = |r: &Report| match kind {
            Kind::Audit => r.all_compliant(),
            Kind::Plan => r.summary.actions.planned == 0,
            Kind::Apply => r.all_compliant() && r.outcome() == Outcome::Ok,
        };
        Ok(if unreachable > 0 {
            ExitCode::from(2)
        } else if reports.iter().all(ok) {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    }
}

/// The reports of the account×region runs that produced one, in the runs' order.
fn reports(runs: &[AccountRun]) -> Vec<Report> {
    runs.iter().filter_map(|run| run.report.clone()).collect()
}
