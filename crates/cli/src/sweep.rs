//! `audit`, `plan` and `apply`: a sweep of one or more regions, a few regions at a time.

use crate::args::{ConfigFlags, SweepArgs};
use crate::failure::{self, Failure, describe};
use crate::output::{self, Kind};
use aws_config::{Region, SdkConfig};
use flowguard_aws::{Clients, Mode, Reconciler, caller_account, iam, regions};
use flowguard_core::{Outcome, Place, Policy, ReconcileError, Report};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

/// Regions swept at the same time.
pub const CONCURRENT_REGIONS: usize = 4;

/// Where a sweep runs: the regions, the account, and the configuration of the first region.
#[derive(Debug)]
pub struct Scope {
    pub config: SdkConfig,
    pub regions: Vec<String>,
    pub account: String,
}

/// Runs `audit`, `plan` or `apply` (`yes` only matters for `apply`).
pub async fn run(
    kind: Kind,
    args: &SweepArgs,
    yes: bool,
    flags: &ConfigFlags,
) -> Result<ExitCode, Failure> {
    let policy = flags.policy()?;
    if let Some(org) = args.org.config()? {
        return crate::organization::run(kind, args, yes, policy, org).await;
    }
    if kind == Kind::Apply {
        refuse_unsafe_apply(&policy, yes)?;
    }
    let scope = resolve(flowguard_aws::config::load_for_cli(None).await, args).await?;
    // A KMS key of one region cannot serve another: refuse before anything runs.
    for region in &scope.regions {
        policy.kms_key_in(&Place {
            region: region.clone(),
            account: scope.account.clone(),
        })?;
    }
    let (mode, reason) = match kind {
        Kind::Audit => (Mode::Audit, "flowguard audit"),
        Kind::Plan => (Mode::DryRun, "flowguard plan"),
        Kind::Apply => (Mode::Enforce, "flowguard apply"),
    };
    if kind == Kind::Apply {
        if let Some(arn) = policy.require_delivery_role()? {
            let clients = Clients::new(&scope.config);
            iam::verify_delivery_role(clients.iam(), arn)
                .await
                .map_err(|p| failure::role(&p, &scope.config))?;
        }
        if !yes && !confirmed(&scope, &policy).await? {
            eprintln!("apply cancelled: nothing changed");
            return Ok(ExitCode::from(1));
        }
    }
    let results = sweep_all(&scope, &policy, mode, reason).await;
    finish(results, &scope, kind, args.format, &policy)
}

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

/// Shows the plan on stderr and asks on the terminal. Nothing to do needs no question.
async fn confirmed(scope: &Scope, policy: &Policy) -> Result<bool, Failure> {
    let results = sweep_all(scope, policy, Mode::DryRun, "flowguard apply: plan").await;
    let (plan, errors) = split(results, &scope.config);
    if let Some(first) = errors.into_iter().next() {
        return Err(Failure(first));
    }
    let actions: usize = plan.iter().map(|r| r.summary.actions.planned).sum();
    eprint!("{}", output::render_tables(&plan, Kind::Plan));
    ask_to_apply(actions)
}

/// Asks on the terminal whether to apply `actions` planned actions (yes when there are none).
pub(crate) fn ask_to_apply(actions: usize) -> Result<bool, Failure> {
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

fn in_region(config: &SdkConfig, region: &str) -> SdkConfig {
    config
        .to_builder()
        .region(Region::new(region.to_owned()))
        .build()
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

/// The regions to sweep and the account (`sts:GetCallerIdentity`, the first call made).
pub async fn resolve(base: SdkConfig, args: &SweepArgs) -> Result<Scope, Failure> {
    args.regions.iter().try_for_each(|r| check_region_name(r))?;
    let configured = base.region().map(|r| r.as_ref().to_owned());
    // --all-regions needs some region to ask DescribeRegions in.
    let fallback = args.all_regions.then(|| "us-east-1".to_owned());
    let home = args
        .regions
        .first()
        .cloned()
        .or(configured)
        .or(fallback)
        .ok_or_else(failure::no_region)?;
    let config = in_region(&base, &home);
    let clients = Clients::new(&config);
    let (account, _) = caller_account(&clients)
        .await
        .map_err(|e| Failure(describe(&e, &config)))?;
    let regions = if args.all_regions {
        regions::enabled_regions(&clients.ec2)
            .await
            .map_err(|e| Failure(describe(&e, &config)))?
    } else if args.regions.is_empty() {
        vec![home]
    } else {
        let mut unique = args.regions.clone();
        let mut seen = std::collections::HashSet::new();
        unique.retain(|r| seen.insert(r.clone()));
        unique
    };
    Ok(Scope {
        config,
        regions,
        account,
    })
}

/// A progress bar on stderr counting `total` `units` ("regions"), only for several and only
/// on a terminal.
pub fn progress(total: usize, message: &'static str, units: &str) -> ProgressBar {
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

/// Sweeps every region of `scope`, [`CONCURRENT_REGIONS`] at a time; results in region order.
async fn sweep_all(
    scope: &Scope,
    policy: &Policy,
    mode: Mode,
    reason: &'static str,
) -> Vec<(String, Result<Report, ReconcileError>)> {
    let bar = progress(scope.regions.len(), reason, "regions");
    let bar = &bar;
    let mut results: Vec<_> = futures::stream::iter(scope.regions.iter().enumerate())
        .map(|(index, region)| {
            let clients = Clients::new(&in_region(&scope.config, region));
            let place = Place {
                region: region.clone(),
                account: scope.account.clone(),
            };
            let reconciler = Reconciler::new(clients, place);
            async move {
                let result = reconciler.sweep(policy, mode, reason).await;
                bar.inc(1);
                (index, region.clone(), result)
            }
        })
        .buffer_unordered(CONCURRENT_REGIONS)
        .collect()
        .await;
    bar.finish_and_clear();
    results.sort_by_key(|(index, ..)| *index);
    results
        .into_iter()
        .map(|(_, region, result)| (region, result))
        .collect()
}

/// The reports, and one message per region that could not be swept.
fn split(
    results: Vec<(String, Result<Report, ReconcileError>)>,
    config: &SdkConfig,
) -> (Vec<Report>, Vec<String>) {
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    for (region, result) in results {
        match result {
            Ok(report) => reports.push(report),
            Err(e) => errors.push(format!("{region}: {}", failure::reconcile(&e, config))),
        }
    }
    (reports, errors)
}

/// Prints what was swept, then the regions that failed; picks the exit code.
fn finish(
    results: Vec<(String, Result<Report, ReconcileError>)>,
    scope: &Scope,
    kind: Kind,
    format: crate::args::Format,
    policy: &Policy,
) -> Result<ExitCode, Failure> {
    let (reports, errors) = split(results, &scope.config);
    if !reports.is_empty() {
        output::print(&reports, kind, format, policy)?;
    }
    for error in &errors {
        eprintln!("error: {error}");
    }
    let ok = |r: &Report| match kind {
        Kind::Audit => r.all_compliant(),
        Kind::Plan => true,
        Kind::Apply => r.all_compliant() && r.outcome() == Outcome::Ok,
    };
    Ok(if !errors.is_empty() {
        ExitCode::from(2)
    } else if reports.iter().all(ok) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
