//! What the tables end with: the warnings, the per-account summary of an organization run, and
//! the summary line. All of it comes from what the sweep keeps of each run (its counts), or,
//! for the warnings, a few words per distinct warning.

use super::table::{fit, pad, width_of};
use super::{Head, Kind};
use flowguard_core::Report;
use flowguard_core::organization::{OrgReport, RunSummary};
use flowguard_core::report::{ActionCounts, VpcCounts};

/// "3 compliant, 1 NOT COMPLIANT, 1 exempt": the counts that are not zero.
pub(super) fn states(v: &VpcCounts, kind: Kind) -> Vec<String> {
    let would = if kind == Kind::Audit {
        "NOT COMPLIANT"
    } else {
        "would remediate"
    };
    [
        (v.compliant, "compliant"),
        (v.remediated, "remediated"),
        (v.would_remediate, would),
        (v.exempt, "exempt"),
        (v.not_owned, "not owned"),
        (v.gone, "gone"),
        (v.failed, "FAILED"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, name)| format!("{n} {name}"))
    .collect()
}

pub(super) fn total(v: &VpcCounts) -> usize {
    v.compliant + v.remediated + v.would_remediate + v.exempt + v.not_owned + v.gone + v.failed
}

/// "5 VPC(s) in 2 regions: 3 compliant, 1 exempt, 1 NOT COMPLIANT; actions: 2 planned", over
/// the runs that have a report; an organization's counts its account×region runs, and its
/// unreachable ones.
pub(super) fn line(report: &OrgReport, head: &Head) -> String {
    let mut vpcs = VpcCounts::default();
    let mut actions = ActionCounts::default();
    for summary in report
        .accounts
        .iter()
        .filter_map(|run| run.summary.as_ref())
    {
        vpcs.add(&summary.vpcs);
        let a = &summary.actions;
        actions.planned += a.planned;
        actions.applied += a.applied;
        actions.already_done += a.already_done;
        actions.failed += a.failed;
    }
    let unreachable = report.summary.accounts.unreachable;
    let place = if head.organization {
        let runs = report.summary.accounts.ok + unreachable;
        format!(
            "{runs} account×region run(s) ({} region(s))",
            report.regions.len()
        )
    } else {
        match report.summary.accounts.ok {
            1 => "1 region".to_owned(),
            n => format!("{n} regions"),
        }
    };
    let mut line = format!("{} VPC(s) in {place}", total(&vpcs));
    let states = states(&vpcs, head.kind);
    if !states.is_empty() {
        line = format!("{line}: {}", states.join(", "));
    }
    if head.kind != Kind::Audit {
        let done: Vec<String> = [
            (actions.planned, "planned"),
            (actions.applied, "applied"),
            (actions.already_done, "already done"),
            (actions.failed, "FAILED"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, name)| format!("{n} {name}"))
        .collect();
        let done = if done.is_empty() {
            "none".to_owned()
        } else {
            done.join(", ")
        };
        line = format!("{line}; actions: {done}");
    }
    if head.organization && unreachable > 0 {
        line = format!("{line}; {unreachable} UNREACHABLE");
    }
    line
}

/// Why a run has no report, for one line: its error, else its code.
fn why(run: &RunSummary) -> String {
    let text = run
        .error
        .as_deref()
        .or(run.error_code.as_deref())
        .unwrap_or("no report");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The per-account summary of an organization run, each line at most `width` columns: per
/// account its VPCs by status, then one line per account×region that could not be checked,
/// with its error.
pub(super) fn by_account(report: &OrgReport, kind: Kind, width: usize) -> Vec<String> {
    let mut entries: Vec<(String, String, String)> = Vec::new();
    for runs in report.accounts.chunk_by(|a, b| a.account == b.account) {
        let account = &runs[0].account;
        let label = match runs.iter().find_map(|run| run.account_name.as_deref()) {
            Some(name) => format!("{account} ({name})"),
            None => account.clone(),
        };
        let mut counts = VpcCounts::default();
        let mut checked = false;
        for summary in runs.iter().filter_map(|run| run.summary.as_ref()) {
            counts.add(&summary.vpcs);
            checked = true;
        }
        if checked {
            let states = states(&counts, kind);
            let states = if states.is_empty() {
                "-".to_owned()
            } else {
                states.join(", ")
            };
            entries.push((label.clone(), total(&counts).to_string(), states));
        }
        for run in runs.iter().filter(|run| run.summary.is_none()) {
            let text = match &run.error_code {
                Some(code) => format!("UNREACHABLE in {} ({code}): {}", run.region, why(run)),
                None => format!("UNREACHABLE in {}: {}", run.region, why(run)),
            };
            entries.push((label.clone(), "-".to_owned(), text));
        }
    }
    let header = (
        "account".to_owned(),
        "VPCs".to_owned(),
        "by status".to_owned(),
    );
    let rows: Vec<&(String, String, String)> = std::iter::once(&header).chain(&entries).collect();
    let first = rows.iter().map(|r| width_of(&r.0)).max().unwrap_or(0);
    let second = rows.iter().map(|r| width_of(&r.1)).max().unwrap_or(0);
    let rest = width.saturating_sub(first + second + 4);
    rows.iter()
        .map(|(label, vpcs, text)| {
            let vpcs = format!("{}{vpcs}", " ".repeat(second - width_of(vpcs)));
            let line = format!("{}  {vpcs}  {}", pad(label, first), fit(text, rest));
            line.trim_end().to_owned()
        })
        .collect()
}

/// The warnings of the reports, each said once: with the places that gave it when not all
/// did (at most a few named).
#[derive(Debug, Default)]
pub(super) struct Warnings {
    found: Vec<Warning>,
    reports: usize,
}

#[derive(Debug)]
struct Warning {
    text: String,
    places: Vec<String>,
    count: usize,
}

/// How many places a warning names before "and N more".
const NAMED_PLACES: usize = 3;

impl Warnings {
    /// Counts `report`'s warnings; `place` names it ("eu-west-1", "111111111111 eu-west-1").
    pub(super) fn add(&mut self, report: &Report, place: impl Fn() -> String) {
        self.reports += 1;
        for (i, text) in report.warnings.iter().enumerate() {
            if report.warnings[..i].contains(text) {
                continue;
            }
            let index = match self.found.iter().position(|w| &w.text == text) {
                Some(index) => index,
                None => {
                    self.found.push(Warning {
                        text: text.clone(),
                        places: Vec::new(),
                        count: 0,
                    });
                    self.found.len() - 1
                }
            };
            let warning = &mut self.found[index];
            warning.count += 1;
            if warning.places.len() < NAMED_PLACES {
                warning.places.push(place());
            }
        }
    }

    pub(super) fn lines(&self) -> Vec<String> {
        self.found
            .iter()
            .map(|w| {
                if w.count == self.reports {
                    format!("warning: {}", w.text)
                } else {
                    let mut places = w.places.join(", ");
                    if w.count > w.places.len() {
                        places = format!("{places} and {} more", w.count - w.places.len());
                    }
                    format!("warning ({places}): {}", w.text)
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{head, report};
    use super::*;
    use flowguard_core::Mode;
    use flowguard_core::VpcStatus::{Compliant, Exempt, NotOwned, WouldRemediate};
    use flowguard_core::organization::AccountRun;

    const A: &str = "111111111111";
    const B: &str = "222222222222";

    #[test]
    fn the_summary_line_counts_across_regions() {
        let regions = ["us-east-1".to_owned(), "eu-west-1".to_owned()];
        let runs = vec![
            AccountRun::ok(report(A, "us-east-1", &[Compliant, WouldRemediate])),
            AccountRun::ok(report(A, "eu-west-1", &[Exempt, NotOwned])),
        ];
        let org = OrgReport::new(Mode::Audit, &regions, runs);
        assert_eq!(
            line(&org, &head(Kind::Audit, &["us-east-1", "eu-west-1"], 1)),
            "4 VPC(s) in 2 regions: 1 compliant, 1 NOT COMPLIANT, 1 exempt, 1 not owned"
        );
        assert_eq!(
            line(&org, &head(Kind::Plan, &["us-east-1", "eu-west-1"], 1)),
            "4 VPC(s) in 2 regions: 1 compliant, 1 would remediate, 1 exempt, 1 not owned; actions: none"
        );
    }

    #[test]
    fn an_organization_ends_with_each_account_and_its_unreachable_runs() {
        let regions = ["us-east-1".to_owned(), "eu-west-1".to_owned()];
        let runs = vec![
            AccountRun::ok(report(A, "us-east-1", &[Compliant, WouldRemediate])),
            AccountRun::ok(report(B, "us-east-1", &[Compliant])),
            AccountRun::unreachable(
                B,
                "eu-west-1",
                Some("AccessDenied".to_owned()),
                "reading the state of the region failed: AssumeRole failed: AccessDenied: User: arn:aws:sts::123456789012:assumed-role/x is not authorized",
                None,
            ),
        ];
        let org = OrgReport::new(Mode::Audit, &regions, runs);
        let lines = by_account(&org, Kind::Audit, 80);
        assert_eq!(
            lines,
            [
                "account       VPCs  by status",
                "111111111111     2  1 compliant, 1 NOT COMPLIANT",
                "222222222222     1  1 compliant",
                "222222222222     -  UNREACHABLE in eu-west-1 (AccessDenied): reading the state…",
            ]
        );
        assert!(lines.iter().all(|l| width_of(l) <= 80));
        let head = head(Kind::Audit, &["us-east-1", "eu-west-1"], 2);
        assert_eq!(
            line(&org, &head),
            "3 VPC(s) in 3 account×region run(s) (2 region(s)): 2 compliant, 1 NOT COMPLIANT; 1 UNREACHABLE"
        );
    }

    #[test]
    fn warnings_are_said_once_with_a_few_places() {
        let mut warnings = Warnings::default();
        let with = |region: &str, texts: &[&str]| {
            let mut r = report(A, region, &[]);
            r.warnings = texts.iter().map(|t| (*t).to_owned()).collect();
            r
        };
        for (region, texts) in [
            ("us-east-1", &["no role"][..]),
            ("eu-west-1", &["no role", "odd", "odd"]),
            ("eu-west-2", &["no role", "odd"]),
            ("eu-west-3", &["no role", "odd"]),
            ("eu-north-1", &["no role", "odd"]),
        ] {
            let report = with(region, texts);
            warnings.add(&report, || region.to_owned());
        }
        assert_eq!(
            warnings.lines(),
            [
                "warning: no role",
                "warning (eu-west-1, eu-west-2, eu-west-3 and 1 more): odd"
            ]
        );
    }
}
