//! The organization report for people and machines: JSON, or one table with an account
//! column, the lines of the account×region runs that could not be checked, and the summary.

use super::{
    ACTION_COLUMNS, Kind, VPC_COLUMNS, action_rows, emit, summary_in, table, vpc_row, warnings,
};
use crate::failure::Failure;
use flowguard_core::Report;
use flowguard_core::organization::{AccountRun, AccountStatus, OrgReport};

/// The organization report as JSON: its summary with each run's full report.
pub fn org_json(report: &OrgReport, runs: &[AccountRun]) -> Result<String, Failure> {
    let mut value = serde_json::to_value(report)
        .map_err(|e| Failure(format!("could not write the report as JSON: {e}")))?;
    value["accounts"] = serde_json::to_value(runs)
        .map_err(|e| Failure(format!("could not write the report as JSON: {e}")))?;
    serde_json::to_string_pretty(&value)
        .map_err(|e| Failure(format!("could not write the report as JSON: {e}")))
}

/// Prints the organization report to stdout in `format`.
pub fn print_org(
    report: &OrgReport,
    runs: &[AccountRun],
    kind: Kind,
    format: crate::args::Format,
    policy: &flowguard_core::Policy,
) -> Result<(), Failure> {
    match format.export() {
        Some(export) => emit(&super::findings(
            &flowguard_core::export::Findings::from_org(runs),
            export,
            policy,
        )?),
        None if format == crate::args::Format::Json => {
            emit(&format!("{}\n", org_json(report, runs)?))
        }
        None => emit(&render_org(report, runs, kind)),
    }
}

/// Prefixes each row with its account.
fn with_account(account: &str, row: Vec<String>) -> Vec<String> {
    std::iter::once(account.to_owned()).chain(row).collect()
}

/// The organization report for people: the VPC table with an account column, the actions
/// (except in an audit), the warnings, one line per account×region that could not be
/// checked, and the summary line.
pub fn render_org(report: &OrgReport, runs: &[AccountRun], kind: Kind) -> String {
    let reports: Vec<&Report> = runs.iter().filter_map(|run| run.report.as_ref()).collect();
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
        if run.status == AccountStatus::Unreachable {
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
