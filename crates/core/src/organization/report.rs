//! The organization report: one entry per account×region, each with its counts or why it has
//! none, and a summary over all of them. A run's full report ([`AccountRun`]) is handed to the
//! sweep's caller as the run finishes (a log line, the CLI's output stream) and not kept: what
//! the organization report keeps per run is its [`RunSummary`], so that a sweep's memory does
//! not grow with the VPCs of the accounts it has finished.

use super::AccountScope;
use crate::reconcile::ReconcileError;
use crate::report::{Outcome, Report, Summary, VpcCounts, VpcStatus};
use crate::vocab::Mode;
use serde::Serialize;
use std::collections::BTreeSet;

/// Whether one account×region could be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Ok,
    /// The member role could not be assumed, or the run could not read the state.
    Unreachable,
}

/// One account×region of an organization run: its report, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountRun {
    pub account: String,
    /// The account's name, as the organization lists it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    pub region: String,
    pub status: AccountStatus,
    /// Why there is no report, as data: the AWS error's code (`AccessDenied` for a member
    /// role that refuses the hub), the HTTP status or the fault when there is no code, or
    /// `DeadlineNear` for a run not started in time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<Report>,
    /// The run's error, typed, for a shell that explains it (the CLI's hints); the report
    /// shows `error_code` and `error`.
    #[serde(skip)]
    pub cause: Option<ReconcileError>,
}

impl AccountRun {
    pub fn ok(report: Report) -> Self {
        Self {
            account: report.account.clone(),
            account_name: report.account_name.clone(),
            region: report.region.clone(),
            status: AccountStatus::Ok,
            error_code: None,
            error: None,
            report: Some(report),
            cause: None,
        }
    }

    /// An account×region without a report: `code` (see [`AccountRun::error_code`]), the
    /// message, and the run's error when there was one.
    pub fn unreachable(
        account: &str,
        region: &str,
        code: Option<String>,
        error: impl std::fmt::Display,
        cause: Option<ReconcileError>,
    ) -> Self {
        Self {
            account: account.to_owned(),
            account_name: None,
            region: region.to_owned(),
            status: AccountStatus::Unreachable,
            error_code: code,
            error: Some(error.to_string()),
            report: None,
            cause,
        }
    }
}

impl AccountRun {
    /// Names the run's account as `scope` does (its report too, for the exports).
    pub fn name_account(&mut self, scope: &AccountScope) {
        self.account_name = scope.name(&self.account).map(str::to_owned);
        if let Some(report) = &mut self.report {
            report.account_name.clone_from(&self.account_name);
        }
    }

    /// Says, for each shared VPC (`not_owned` in a participant account), which account
    /// enforces the rule: its owner's, when the owner is in scope (its own run covers it).
    /// While the organization is still being listed (`listed_all` false), an owner not listed
    /// yet is said to be unknown, not out of scope.
    pub fn note_shared_vpcs(&mut self, scope: &AccountScope, listed_all: bool) {
        let vpcs = self
            .report
            .iter_mut()
            .flat_map(|report| report.vpcs.iter_mut());
        for vpc in vpcs.filter(|v| v.status == VpcStatus::NotOwned) {
            let Some(owner) = vpc.owner_id.clone() else {
                continue;
            };
            let who = match scope.admits(Some(&owner)) {
                Ok(()) => format!("enforced in its owner's account {owner}, which is in scope"),
                Err(_) if !listed_all && !scope.excludes(&owner) => format!(
                    "its owner {owner} was not listed yet when this run ended (the \
                     organization was still being listed): enforced there if it is in scope"
                ),
                Err(_) => format!(
                    "its owner {owner} is not in flowguard's scope: not enforced by this hub"
                ),
            };
            vpc.reason = format!("{}; {who}", vpc.reason);
        }
    }
}

/// What the organization report keeps of one finished account×region run: its status, its
/// counts (VPCs by status, actions by result) and whether it failed, or why there is no report.
/// A few hundred bytes, however many VPCs the account has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    pub account: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    pub region: String,
    pub status: AccountStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The run's report's summary (`None` when there is no report).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<Summary>,
    /// The run's outcome: [`Report::outcome`], or failed and retryable without a report.
    #[serde(skip)]
    pub outcome: Outcome,
    /// The run's error, typed (see [`AccountRun::cause`]).
    #[serde(skip)]
    pub cause: Option<ReconcileError>,
}

impl From<AccountRun> for RunSummary {
    fn from(run: AccountRun) -> Self {
        let outcome = run
            .report
            .as_ref()
            .map_or(Outcome::Failed { retryable: true }, Report::outcome);
        Self {
            account: run.account,
            account_name: run.account_name,
            region: run.region,
            status: run.status,
            error_code: run.error_code,
            error: run.error,
            summary: run.report.map(|report| report.summary),
            outcome,
            cause: run.cause,
        }
    }
}

impl RunSummary {
    /// Whether the run checked its place and every VPC is compliant, exempt, not owned or
    /// gone ([`Report::all_compliant`]).
    pub fn all_compliant(&self) -> bool {
        self.summary
            .as_ref()
            .is_some_and(|s| s.vpcs.would_remediate == 0 && s.vpcs.failed == 0)
    }
}

/// Counts of account×region runs by status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AccountCounts {
    pub ok: usize,
    pub unreachable: usize,
}

/// The organization report's summary: VPCs by status over every account, and runs by status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OrgSummary {
    pub vpcs: VpcCounts,
    pub accounts: AccountCounts,
}

/// The report of an organization run: one entry per account×region, its [`RunSummary`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrgReport {
    /// Whether the runs changed nothing (`mode` is `audit` or `dry_run`).
    pub dry_run: bool,
    pub mode: Mode,
    pub regions: Vec<String>,
    pub accounts: Vec<RunSummary>,
    /// Things a person should know that are not failures (a scope that could not be
    /// refreshed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    pub summary: OrgSummary,
    /// Why the organization's listing stopped before its end, for a sweep that listed as it
    /// went ([`crate::sweep::sweep`]); the warnings say it too.
    #[serde(skip)]
    pub listing_error: Option<crate::error::AwsError>,
}

impl OrgReport {
    /// Builds the report of runs in `mode` over `regions`, sorted by account, then region in
    /// the order given, and adds up its summary.
    pub fn new(mode: Mode, regions: &[String], accounts: Vec<AccountRun>) -> Self {
        Self::of_summaries(
            mode,
            regions,
            accounts.into_iter().map(RunSummary::from).collect(),
        )
    }

    /// [`OrgReport::new`] of the runs' summaries (what a sweep keeps).
    pub fn of_summaries(mode: Mode, regions: &[String], mut accounts: Vec<RunSummary>) -> Self {
        let rank = |region: &str| regions.iter().position(|r| r == region);
        accounts.sort_by(|a, b| {
            (&a.account, rank(&a.region), &a.region).cmp(&(&b.account, rank(&b.region), &b.region))
        });
        let mut summary = OrgSummary::default();
        for run in &accounts {
            match &run.summary {
                Some(counts) => {
                    summary.accounts.ok += 1;
                    summary.vpcs.add(&counts.vpcs);
                }
                None => summary.accounts.unreachable += 1,
            }
        }
        Self {
            dry_run: mode.is_dry_run(),
            mode,
            regions: regions.to_vec(),
            accounts,
            warnings: Vec::new(),
            summary,
            listing_error: None,
        }
    }

    /// The accounts that a next sweep should take first: not checked (the deadline came
    /// first), unreachable, or with a VPC whose remediation failed.
    pub fn accounts_due(&self) -> BTreeSet<String> {
        self.accounts
            .iter()
            .filter(|run| run.summary.as_ref().is_none_or(|s| s.vpcs.failed > 0))
            .map(|run| run.account.clone())
            .collect()
    }

    /// Failed if an account could not be checked (always retryable: the next run may reach it)
    /// or if a run in an account failed: one verdict over the whole report. Neither shell fails
    /// on it: the hub's sweep succeeds with partial failure (the metrics and alarms carry it),
    /// and the CLI picks its exit code from the unreachable runs and each report.
    pub fn outcome(&self) -> Outcome {
        let mut failed = None;
        for run in &self.accounts {
            if let Outcome::Failed { retryable } = run.outcome {
                let before = matches!(failed, Some(Outcome::Failed { retryable: true }));
                failed = Some(Outcome::Failed {
                    retryable: before || retryable,
                });
            }
        }
        failed.unwrap_or(Outcome::Ok)
    }
}
