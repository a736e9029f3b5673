//! `audit`, `plan` and `apply` in organization mode: every account in scope, in every region
//! asked for, through the member role, gathered into one [`OrgReport`].
//!
//! The hub is the caller's account. One [`sweep_organization`] covers every account×region,
//! `--concurrency` runs at a time; an account that cannot be reached is `unreachable` and the
//! others go on.

use crate::args::SweepArgs;
use crate::failure::{Failure, describe};
use crate::output::{
    ACTION_COLUMNS, Kind, VPC_COLUMNS, action_rows, emit, summary_in, table, vpc_row, warnings,
};
use crate::sweep::{self, Scope};
use flowguard_aws::organization::{
    AwsAccountPorts, MemberAccess, organization_accounts, session_name,
};
use flowguard_aws::{Mode, unix_now};
use flowguard_core::organization::{
    AccountPorts, AccountScope, AccountSource, OrgConfig, OrgReport, OrgSweep, sweep_organization,
};
use flowguard_core::{
    AwsError, FlowLog, FlowLogQuery, FlowLogRequest, Inventory, LogGroup, LogGroupName, Outcome,
    Permission, Place, Policy, Report, Trigger, Vpc, VpcQuery,
};
use indicatif::ProgressBar;
use std::future::Future;
use std::process::ExitCode;

/// Runs `audit`, `plan` or `apply` over the accounts of `org` (`yes` only matters for `apply`).
pub async fn run(
    kind: Kind,
    args: &SweepArgs,
    yes: bool,
    policy: Policy,
    org: OrgConfig,
) -> Result<ExitCode, Failure> {
    let policy = org.complete(policy)?;
    if kind == Kind::Apply {
        sweep::refuse_unsafe_apply(&policy, yes)?;
    }
    let scope = sweep::resolve(flowguard_aws::config::load_for_cli(None).await, args).await?;
    for region in &scope.regions {
        policy.kms_key_in(&Place {
            region: region.clone(),
            account: scope.account.clone(),
        })?;
    }
    let accounts = accounts(&org, &scope).await?;
    let session = session_name(&format!("cli-{}", unix_now().unwrap_or_default()));
    let access = MemberAccess::new(
        scope.config.clone(),
        scope.account.clone(),
        org.member_role.clone(),
        org.external_id.clone(),
        session,
    )
    .map_err(|e| Failure(e.to_string()))?;
    let ports = AwsAccountPorts::new(access);
    let sweeper = Sweeper {
        ports: &ports,
        policy: &policy,
        accounts: &accounts,
        regions: &scope.regions,
        concurrency: org.concurrency,
    };
    let (mode, reason) = match kind {
        Kind::Audit => (Mode::Audit, "flowguard audit"),
        Kind::Plan => (Mode::DryRun, "flowguard plan"),
        Kind::Apply => (Mode::Enforce, "flowguard apply"),
    };
    // The delivery role lives in each member account: the hub cannot GetRole it.
    if kind == Kind::Apply && !yes && !confirmed(&sweeper).await? {
        eprintln!("apply cancelled: nothing changed");
        return Ok(ExitCode::from(1));
    }
    let report = sweeper.sweep(mode, reason).await;
    finish(&report, kind, args.format, &policy)
}

/// The accounts in scope: the listed ones, or the organization's (under the OUs), less the
/// excluded ones. None at all is an error.
async fn accounts(org: &OrgConfig, scope: &Scope) -> Result<AccountScope, Failure> {
    let organization: Vec<String> = match &org.source {
        AccountSource::Listed(_) => Vec::new(),
        AccountSource::Organization { units } => {
            let client = aws_sdk_organizations::Client::new(&scope.config);
            let units: Vec<String> = units.iter().cloned().collect();
            organization_accounts(&client, &units)
                .await
                .map_err(|e| Failure(describe(&e, &scope.config)))?
                .into_iter()
                .map(|account| account.id)
                .collect()
        }
    };
    let accounts = org.scope(&organization);
    if accounts.is_empty() {
        return Err(Failure(
            "no account in scope: every account is excluded, or the organizational units hold \
             no ACTIVE account"
                .to_owned(),
        ));
    }
    Ok(accounts)
}

/// What every sweep of this command shares.
struct Sweeper<'a> {
    ports: &'a AwsAccountPorts,
    policy: &'a Policy,
    accounts: &'a AccountScope,
    regions: &'a [String],
    concurrency: usize,
}

impl Sweeper<'_> {
    /// Every account in every region, `concurrency` account×region runs at a time; one report.
    async fn sweep(&self, mode: Mode, reason: &'static str) -> OrgReport {
        let runs = self.accounts.len() * self.regions.len();
        let bar = sweep::progress(runs, reason, "account×region runs");
        let ports = Counted {
            ports: self.ports,
            bar: bar.clone(),
        };
        let trigger = Trigger::manual_sweep(reason);
        let report = sweep_organization(
            &ports,
            &OrgSweep {
                policy: self.policy,
                scope: self.accounts,
                regions: self.regions,
                trigger: &trigger,
                mode,
                concurrency: self.concurrency,
                deadline: None,
            },
        )
        .await;
        bar.finish_and_clear();
        report
    }
}

/// Shows the plan on stderr and asks on the terminal. Nothing to do needs no question.
async fn confirmed(sweeper: &Sweeper<'_>) -> Result<bool, Failure> {
    let plan = sweeper.sweep(Mode::DryRun, "flowguard apply: plan").await;
    eprint!("{}", render_org(&plan, Kind::Plan));
    let actions: usize = reports(&plan).map(|r| r.summary.actions.planned).sum();
    sweep::ask_to_apply(actions)
}

fn reports(report: &OrgReport) -> impl Iterator<Item = &Report> {
    report.accounts.iter().filter_map(|run| run.report.as_ref())
}

/// Prints the report; picks the exit code: 2 when some account×region could not be checked,
/// else 0 when every report is good for `kind`, else 1.
fn finish(
    report: &OrgReport,
    kind: Kind,
    format: crate::args::Format,
    policy: &flowguard_core::Policy,
) -> Result<ExitCode, Failure> {
    print_org(report, kind, format, policy)?;
    let unreachable = report.summary.accounts.unreachable;
    if unreachable > 0 {
        eprintln!(
            "error: {unreachable} account×region run(s) could not be checked (status unreachable)"
        );
        return Ok(ExitCode::from(2));
    }
    let ok = |r: &Report| match kind {
        Kind::Audit => r.all_compliant(),
        Kind::Plan => true,
        Kind::Apply => r.all_compliant() && r.outcome() == Outcome::Ok,
    };
    Ok(if reports(report).all(ok) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The member accounts' ports, counting each finished account×region run on the bar.
struct Counted<'a> {
    ports: &'a AwsAccountPorts,
    bar: ProgressBar,
}

impl AccountPorts for Counted<'_> {
    type Inventory = Ticking<flowguard_aws::AwsInventory>;
    type Remediator = flowguard_aws::AwsRemediator;

    async fn ports(
        &self,
        account: &str,
        region: &str,
        trigger: &flowguard_core::Trigger,
    ) -> Result<(Self::Inventory, Self::Remediator), AwsError> {
        match self.ports.ports(account, region, trigger).await {
            Ok((inventory, remediator)) => Ok((
                Ticking {
                    inventory,
                    bar: self.bar.clone(),
                },
                remediator,
            )),
            Err(error) => {
                self.bar.inc(1);
                Err(error)
            }
        }
    }
}

/// An inventory that moves the bar on when its run is over (the sweep drops it then).
struct Ticking<I> {
    inventory: I,
    bar: ProgressBar,
}

impl<I> Drop for Ticking<I> {
    fn drop(&mut self) {
        self.bar.inc(1);
    }
}

impl<I: Inventory> Inventory for Ticking<I> {
    fn vpcs(&self, query: VpcQuery<'_>) -> impl Future<Output = Result<Vec<Vpc>, AwsError>> + Send {
        self.inventory.vpcs(query)
    }
    fn flow_logs(
        &self,
        query: FlowLogQuery<'_>,
    ) -> impl Future<Output = Result<Vec<FlowLog>, AwsError>> + Send {
        self.inventory.flow_logs(query)
    }
    fn log_groups(
        &self,
        names: &[LogGroupName],
    ) -> impl Future<Output = Result<Vec<LogGroup>, AwsError>> + Send {
        self.inventory.log_groups(names)
    }
    fn check_create_flow_logs(
        &self,
        request: &FlowLogRequest,
    ) -> impl Future<Output = Result<Permission, AwsError>> + Send {
        self.inventory.check_create_flow_logs(request)
    }
}

/// The organization report as JSON.
pub fn org_json(report: &OrgReport) -> Result<String, Failure> {
    serde_json::to_string_pretty(report)
        .map_err(|e| Failure(format!("could not write the report as JSON: {e}")))
}

/// Prints the organization report to stdout in `format`.
pub fn print_org(
    report: &OrgReport,
    kind: Kind,
    format: crate::args::Format,
    policy: &flowguard_core::Policy,
) -> Result<(), Failure> {
    match format.export() {
        Some(export) => emit(&crate::output::findings(
            &flowguard_core::export::Findings::from_org(report),
            export,
            policy,
        )?),
        None if format == crate::args::Format::Json => emit(&format!("{}\n", org_json(report)?)),
        None => emit(&render_org(report, kind)),
    }
}

/// Prefixes each row with its account.
fn with_account(account: &str, row: Vec<String>) -> Vec<String> {
    std::iter::once(account.to_owned()).chain(row).collect()
}

/// The organization report for people: the VPC table with an account column, the actions
/// (except in an audit), the warnings, one line per account×region that could not be
/// checked, and the summary line.
pub fn render_org(report: &OrgReport, kind: Kind) -> String {
    let reports: Vec<&Report> = report
        .accounts
        .iter()
        .filter_map(|run| run.report.as_ref())
        .collect();
    let mut text = String::new();
    if reports.iter().any(|r| !r.vpcs.is_empty()) {
        let mut t = table(&[&["account"][..], &VPC_COLUMNS[..]].concat());
        for r in &reports {
            for vpc in &r.vpcs {
                t.add_row(with_account(&r.account, vpc_row(r, vpc, kind)));
            }
        }
        text.push_str(&format!("{t}\n"));
    }
    if kind != Kind::Audit && reports.iter().any(|r| !r.actions.is_empty()) {
        let mut t = table(&[&["account"][..], &ACTION_COLUMNS[..]].concat());
        for r in &reports {
            for row in action_rows(r) {
                t.add_row(with_account(&r.account, row));
            }
        }
        text.push_str(&format!("{t}\n"));
    }
    for line in warnings(&reports) {
        text.push_str(&format!("{line}\n"));
    }
    for run in &report.accounts {
        if run.status == flowguard_core::organization::AccountStatus::Unreachable {
            let error = run.error.as_deref().unwrap_or("no report");
            text.push_str(&format!(
                "UNREACHABLE: account {} in {}: {error}\n",
                run.account, run.region
            ));
        }
    }
    let accounts = report.summary.accounts.ok + report.summary.accounts.unreachable;
    let place = format!(
        "{accounts} account×region run(s) ({} region(s))",
        report.regions.len()
    );
    let mut line = summary_in(&reports, kind, &place);
    if report.summary.accounts.unreachable > 0 {
        line = format!(
            "{line}; {} UNREACHABLE",
            report.summary.accounts.unreachable
        );
    }
    text.push_str(&format!("{line}\n"));
    text
}
