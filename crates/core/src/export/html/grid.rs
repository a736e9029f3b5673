//! The grid of accounts × regions: one cell per account×region, coloured by its
//! [`CellStatus`], with its counts in small text and the details in its title.

use super::{Esc, HtmlReport};
use crate::organization::{OrgReport, RunSummary};
use crate::reconcile::DEADLINE_NEAR;
use crate::report::Outcome;
use std::collections::BTreeMap;
use std::fmt::{self, Write};

/// The status of one account×region cell of the grid, which gives its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellStatus {
    /// Checked, and no VPC would be remediated or failed.
    Compliant,
    /// Checked, and some VPC would be remediated (not compliant).
    NeedsAction,
    /// Checked, and a remediation failed.
    Failed,
    /// The account×region could not be checked (the member role, access, an error).
    Unreachable,
    /// Not checked: the deadline came first, or no run was made in this account×region.
    NotChecked,
}

impl CellStatus {
    pub const ALL: [Self; 5] = [
        Self::Compliant,
        Self::NeedsAction,
        Self::Failed,
        Self::Unreachable,
        Self::NotChecked,
    ];

    /// The cell's CSS class and `data-status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Compliant => "compliant",
            Self::NeedsAction => "needs-action",
            Self::Failed => "failed",
            Self::Unreachable => "unreachable",
            Self::NotChecked => "not-checked",
        }
    }

    /// The words of the legend.
    fn label(self) -> &'static str {
        match self {
            Self::Compliant => "compliant",
            Self::NeedsAction => "needs action",
            Self::Failed => "failed",
            Self::Unreachable => "unreachable",
            Self::NotChecked => "not checked",
        }
    }

    /// The status of a run (`None`: no run in that account×region).
    pub fn of(run: Option<&RunSummary>) -> Self {
        let Some(run) = run else {
            return Self::NotChecked;
        };
        match &run.summary {
            Some(s) if s.vpcs.failed > 0 || matches!(run.outcome, Outcome::Failed { .. }) => {
                Self::Failed
            }
            Some(s) if s.vpcs.would_remediate > 0 => Self::NeedsAction,
            Some(_) => Self::Compliant,
            None if run.error_code.as_deref() == Some(DEADLINE_NEAR) => Self::NotChecked,
            None => Self::Unreachable,
        }
    }
}

impl HtmlReport {
    pub(super) fn grid(&self, out: &mut String, org: &OrgReport) -> fmt::Result {
        let regions = regions(org);
        let mut accounts: Vec<&str> = org.accounts.iter().map(|r| r.account.as_str()).collect();
        accounts.dedup();
        let cells: BTreeMap<(&str, &str), &RunSummary> = (org.accounts.iter())
            .map(|run| ((run.account.as_str(), run.region.as_str()), run))
            .collect();
        out.push_str("<h2>Accounts × regions</h2>\n<p class=\"legend\">");
        for status in CellStatus::ALL {
            write!(
                out,
                "<span class=\"cell {}\">{}</span> ",
                status.as_str(),
                status.label()
            )?;
        }
        out.push_str("</p>\n<div class=\"scroll\"><table id=\"grid\" class=\"grid\">\n<thead><tr><th>account</th>");
        for region in &regions {
            write!(out, "<th>{}</th>", Esc(region))?;
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for account in accounts {
            out.push_str("<tr><th scope=\"row\">");
            self.account(out, account)?;
            out.push_str("</th>");
            for region in &regions {
                let run = cells.get(&(account, *region)).copied();
                let status = CellStatus::of(run);
                write!(
                    out,
                    "<td class=\"cell {status}\" data-account=\"{account}\" data-region=\"{region}\" \
                     data-status=\"{status}\" title=\"{title}\">{text}</td>",
                    status = status.as_str(),
                    account = Esc(account),
                    region = Esc(region),
                    title = Esc(&cell_title(account, region, run)),
                    text = Esc(&cell_text(status, run)),
                )?;
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table></div>\n");
        Ok(())
    }
}

/// The grid's columns: the report's regions as given, then any other region of its runs
/// (an account's own regions, `--all-regions`), sorted.
fn regions(org: &OrgReport) -> Vec<&str> {
    let mut regions: Vec<&str> = org.regions.iter().map(String::as_str).collect();
    let mut others: Vec<&str> = (org.accounts.iter())
        .map(|run| run.region.as_str())
        .filter(|region| !regions.contains(region))
        .collect();
    others.sort_unstable();
    others.dedup();
    regions.extend(others);
    regions
}

/// A cell's small text: its VPCs, what needs action, or why it has no report.
fn cell_text(status: CellStatus, run: Option<&RunSummary>) -> String {
    let counts = run.and_then(|run| run.summary.as_ref()).map(|s| &s.vpcs);
    let total = counts.map_or(0, |v| {
        v.compliant + v.remediated + v.would_remediate + v.exempt + v.not_owned + v.gone + v.failed
    });
    match (status, counts) {
        (CellStatus::Failed, Some(v)) if v.failed > 0 => format!("{} failed / {total}", v.failed),
        (CellStatus::NeedsAction, Some(v)) => format!("{} to fix / {total}", v.would_remediate),
        (CellStatus::Compliant | CellStatus::Failed | CellStatus::NeedsAction, _) => {
            format!("{total} VPC{}", if total == 1 { "" } else { "s" })
        }
        (CellStatus::Unreachable, _) => run
            .and_then(|run| run.error_code.clone())
            .unwrap_or_else(|| "unreachable".to_owned()),
        (CellStatus::NotChecked, _) => "not checked".to_owned(),
    }
}

/// A cell's title: the account×region, its VPCs by status, or its error.
fn cell_title(account: &str, region: &str, run: Option<&RunSummary>) -> String {
    let place = format!("{account} {region}");
    let Some(run) = run else {
        return format!("{place}: no run in this account and region");
    };
    match &run.summary {
        Some(s) => {
            let v = &s.vpcs;
            format!(
                "{place}: {} compliant, {} remediated, {} would remediate, {} failed, {} exempt, \
                 {} not owned, {} gone",
                v.compliant,
                v.remediated,
                v.would_remediate,
                v.failed,
                v.exempt,
                v.not_owned,
                v.gone
            )
        }
        None => format!(
            "{place}: {}: {}",
            run.error_code.as_deref().unwrap_or("unreachable"),
            run.error.as_deref().unwrap_or("")
        ),
    }
}
