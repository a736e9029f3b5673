//! `audit`, `plan` and `apply`: one sweep over places (account×region), through the same
//! [`Controller`] and loop ([`flowguard_core::sweep::sweep`]) as the Lambda's hub. A single
//! account is an organization of one; with `--account`/`--organization` the accounts in scope
//! are reached through the member role. What is the command's own: the regions to sweep, the
//! confirmation before `apply`, the output written as each run finishes (no run's report is
//! kept once written), the progress and the exit code.

mod confirm;
mod regions;

use crate::args::{ConfigFlags, Format, SweepArgs};
use crate::failure::{self, Failure, describe};
use crate::output::{self, Head, Kind, Progress, ProgressSettings, Sink, Stream};
use aws_config::SdkConfig;
use confirm::{DECLINED, Scope, refuse_unsafe_apply};
use flowguard_aws::organization::{Directory, session_name};
use flowguard_aws::{Check, Controller, Mode};
use flowguard_core::facts::facts;
use flowguard_core::organization::{AccountScope, OrgReport, RunSummary};
use flowguard_core::reconcile::unix_now;
use flowguard_core::sweep::{Sweep, sweep};
use flowguard_core::{AwsError, Outcome, Place, Trigger};
use futures::StreamExt;
use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::process::ExitCode;

/// What the command says on stderr besides its output and errors.
#[derive(Debug, Clone, Copy)]
pub struct Talk {
    /// `--quiet`: no progress.
    pub quiet: bool,
    /// Tracing is on: progress as lines, not a bar.
    pub tracing: bool,
}

/// The accounts in scope: the organization listed page by page, the count so far on a
/// terminal's spinner ([`output::Listing`]), then the list the directory kept.
async fn list(directory: &Directory, talk: Talk) -> Result<AccountScope, AwsError> {
    let spinner = output::Listing::new(ProgressSettings {
        quiet: talk.quiet || !directory.lists_the_organization(),
        tracing: talk.tracing,
        organization: true,
        terminal: std::io::stderr().is_terminal(),
    });
    let mut pages = directory.listing();
    let mut listed = 0;
    while let Some(page) = pages.next().await {
        match page {
            Ok(page) => {
                listed += page.len();
                spinner.listed(listed);
            }
            Err(error) => {
                spinner.finish();
                return Err(error);
            }
        }
    }
    spinner.finish();
    directory.scope().await
}

/// Runs `audit`, `plan` or `apply` (`yes` only matters for `apply`).
pub async fn run(
    kind: Kind,
    args: &SweepArgs,
    yes: bool,
    flags: &ConfigFlags,
    talk: Talk,
) -> Result<ExitCode, Failure> {
    if args.wide && args.format != Format::Table {
        return Err(Failure(
            "--wide is a table's layout: it goes with --format table (the default)".to_owned(),
        ));
    }
    let org = args.org.config()?;
    let policy = match &org {
        Some(org) => org.complete(flags.policy()?).map_err(|e| flags.named(e))?,
        None => flags.policy()?,
    };
    if kind == Kind::Apply {
        refuse_unsafe_apply(&policy, yes)?;
    }
    let config = regions::home(flowguard_aws::config::load_for_cli(None).await, args)?;
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
    let mut regions = regions::regions(&controller, &config, args).await?;
    let (scope, concurrency) = match &controller.directory {
        None => (
            AccountScope::of_one(&controller.account),
            facts().organization.concurrency.default,
        ),
        Some(directory) => {
            let scope = list(directory, talk)
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
        regions::members_regions(&controller, &scope, &config, concurrency).await
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
        talk,
    };
    if kind == Kind::Apply && !yes && !sweeper.confirmed(args.wide).await? {
        eprintln!("apply cancelled: nothing changed");
        return Ok(ExitCode::from(DECLINED));
    }
    let policy = &controller.setup.policy;
    let head = sweeper.head(kind);
    let mut sink = output::sink(args.format, args.wide, head.clone(), policy, Stream::Stdout)?;
    if let Some(dir) = &args.output_directory {
        sink = output::with_directory(sink, dir, &head, policy)?;
    }
    let reason = match kind {
        Kind::Audit => "flowguard audit",
        Kind::Plan => "flowguard plan",
        Kind::Apply => "flowguard apply",
    };
    let report = sweeper.sweep(kind, reason, sink.as_mut()).await?;
    sink.end(&report)?;
    Ok(sweeper.finish(&report, kind))
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
    talk: Talk,
}

fn mode(kind: Kind) -> Mode {
    match kind {
        Kind::Audit => Mode::Audit,
        Kind::Plan => Mode::DryRun,
        Kind::Apply => Mode::Enforce,
    }
}

impl Sweeper<'_> {
    /// A single account, not an organization.
    fn single(&self) -> bool {
        self.controller.directory.is_none()
    }

    /// What the output of a sweep for `kind` knows before the first run.
    fn head(&self, kind: Kind) -> Head {
        Head {
            kind,
            mode: mode(kind),
            regions: self.regions.to_vec(),
            accounts: self.scope.len(),
            organization: !self.single(),
        }
    }

    /// Every account in every region, `concurrency` account×region runs at a time, each run
    /// handed to `sink` (and counted on the progress) as it finishes; `reason` names the sweep
    /// (its trigger, the progress bar). Returns what the sweep kept of each run; the caller
    /// ends the sink with it.
    async fn sweep(
        &self,
        kind: Kind,
        reason: &'static str,
        sink: &mut dyn Sink,
    ) -> Result<OrgReport, Failure> {
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
        let settings = ProgressSettings {
            quiet: self.talk.quiet,
            tracing: self.talk.tracing,
            organization: !self.single(),
            terminal: std::io::stderr().is_terminal(),
        };
        let mut progress = Progress::new(settings, kind, total, reason, units);
        let trigger = Trigger::manual_sweep(reason);
        let plan = Sweep {
            setup: &self.controller.setup,
            scope: self.scope,
            due: &BTreeSet::new(),
            at: None,
            regions: self.regions,
            regions_of: Some(self.regions_of),
            trigger: &trigger,
            mode: mode(kind),
            concurrency: self.concurrency,
            deadline: None,
        };
        sink.start()?;
        let mut failed = None;
        let report = sweep(&self.controller.places, &plan, None, |run| {
            progress.run(run);
            if failed.is_none()
                && let Err(e) = sink.run(run)
            {
                failed = Some(e);
            }
        })
        .await;
        progress.finish();
        failed.map_or(Ok(report), Err)
    }

    /// Shows the plan on stderr and asks on the terminal; in organization mode, with how many
    /// accounts are in scope and whether the caller's own account is one of them. Nothing to
    /// do needs no question. In a single account, a region that could not be planned stops
    /// here.
    async fn confirmed(&self, wide: bool) -> Result<bool, Failure> {
        let policy = &self.controller.setup.policy;
        let head = self.head(Kind::Plan);
        let mut sink = output::sink(Format::Table, wide, head, policy, Stream::Stderr)?;
        let plan = self
            .sweep(Kind::Plan, "flowguard apply: plan", sink.as_mut())
            .await?;
        if self.single()
            && let Some(first) = self.errors(&plan).into_iter().next()
        {
            return Err(Failure(first));
        }
        sink.end(&plan)?;
        let (actions, _) = confirm::planned(&plan);
        let question = if self.single() {
            format!("Apply {actions} action(s)?")
        } else {
            let caller = self.controller.account.as_str();
            let scope = Scope {
                accounts: self.scope.len(),
                caller,
                caller_in_scope: self.scope.accounts().any(|a| a == caller),
            };
            eprintln!("{}", scope.line());
            scope.question(&plan)
        };
        if actions == 0 {
            return Ok(true);
        }
        confirm::ask(&question)
    }

    /// One message per account×region that could not be checked, with what to do about it.
    fn errors(&self, report: &OrgReport) -> Vec<String> {
        report
            .accounts
            .iter()
            .filter(|run| run.summary.is_none())
            .map(|run| {
                let why = match &run.cause {
                    Some(cause) => failure::reconcile(cause, self.config, &run.region),
                    None => run.error.clone().unwrap_or_default(),
                };
                format!("{}: {why}", run.region)
            })
            .collect()
    }

    /// Says what could not be checked; picks the exit code: 2 when some account×region could
    /// not be checked, else 0 when every run is good for `kind` (compliant; nothing to change;
    /// everything remediated), else 1.
    fn finish(&self, report: &OrgReport, kind: Kind) -> ExitCode {
        let unreachable = report.summary.accounts.unreachable;
        if self.single() {
            for error in self.errors(report) {
                eprintln!("error: {error}");
            }
        } else if unreachable > 0 {
            eprintln!(
                "error: {unreachable} account×region run(s) could not be checked (status unreachable)"
            );
        }
        // `plan` says by its exit code whether anything would change, as `terraform plan
        // -detailed-exitcode` does (with flowguard's 2 for errors): 0 nothing, 1 changes pending.
        let ok = |run: &RunSummary| match (&run.summary, kind) {
            (None, _) => false,
            (Some(_), Kind::Audit) => run.all_compliant(),
            (Some(summary), Kind::Plan) => summary.actions.planned == 0,
            (Some(_), Kind::Apply) => run.all_compliant() && run.outcome == Outcome::Ok,
        };
        if unreachable > 0 {
            ExitCode::from(2)
        } else if report.accounts.iter().all(ok) {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }
    }
}
