//! The default table: one line per VPC that fits the width (the terminal's, else `COLUMNS`,
//! else 80) — account (when more than one), region, VPC, its Name tag, status and a short
//! reason, the reason (and a long name) cut with `…`. Everything else is in `--wide` and in
//! `--format json`. It keeps a few short strings per VPC, and prints them sorted by account,
//! region (in the order given) and VPC once the sweep is done, with the warnings, the
//! per-account summary of an organization and the summary line.

use super::summary::{self, Warnings};
use super::{Head, Kind, Out, Sink, status, vpc_name};
use crate::failure::Failure;
use flowguard_core::VpcStatus;
use flowguard_core::organization::{AccountRun, OrgReport};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The least a cut reason keeps (its header's width).
const MIN_REASON: usize = 6;

/// Below this width for the reason, the columns are one space apart instead of two.
const ROOMY_REASON: usize = 20;

/// `text` on one line: control characters (line breaks, tabs) become spaces.
pub(super) fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `text`'s width in terminal columns.
pub(super) fn width_of(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

/// `text` in at most `max` columns, cut with `…` when longer.
pub(super) fn fit(text: &str, max: usize) -> String {
    if width_of(text) <= max {
        return text.to_owned();
    }
    let mut cut = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > max {
            break;
        }
        used += w;
        cut.push(c);
    }
    if max == 0 {
        return cut;
    }
    let mut cut = cut.trim_end().to_owned();
    cut.push('…');
    cut
}

/// `text` padded with spaces to `width` columns.
pub(super) fn pad(text: &str, width: usize) -> String {
    format!("{text}{}", " ".repeat(width.saturating_sub(width_of(text))))
}

/// A VPC's status in the table: as the wide table says it, but `not owned` (a shared VPC)
/// without its note, to leave the reason room.
fn short_status(state: VpcStatus, kind: Kind) -> &'static str {
    match state {
        VpcStatus::NotOwned => "not owned",
        other => status(other, kind),
    }
}

/// One VPC's line, as kept until the end.
#[derive(Debug)]
struct Row {
    account: String,
    region: String,
    vpc: String,
    name: String,
    status: &'static str,
    reason: String,
}

#[derive(Debug)]
pub(super) struct TableSink {
    out: Out,
    head: Head,
    width: usize,
    rows: Vec<Row>,
    warnings: Warnings,
}

impl TableSink {
    pub(super) fn new(out: Out, head: Head, width: usize) -> Self {
        Self {
            out,
            head,
            width,
            rows: Vec::new(),
            warnings: Warnings::default(),
        }
    }

    fn with_account(&self) -> bool {
        self.head.accounts > 1
    }
}

impl Sink for TableSink {
    fn start(&mut self) -> Result<(), Failure> {
        Ok(())
    }

    fn run(&mut self, run: &AccountRun) -> Result<(), Failure> {
        let Some(report) = &run.report else {
            return Ok(());
        };
        for vpc in &report.vpcs {
            // No cell is ever shown wider than the table.
            let short = |text: &str| fit(&clean(text), self.width);
            self.rows.push(Row {
                account: report.account.clone(),
                region: report.region.clone(),
                vpc: short(vpc.vpc_id.as_str()),
                name: short(vpc_name(vpc).unwrap_or("-")),
                status: short_status(vpc.status, self.head.kind),
                reason: short(&vpc.reason),
            });
        }
        let with_account = self.with_account();
        self.warnings.add(report, || {
            if with_account {
                format!("{} {}", report.account, report.region)
            } else {
                report.region.clone()
            }
        });
        Ok(())
    }

    fn end(&mut self, report: &OrgReport) -> Result<(), Failure> {
        let mut text = self.lines(report).join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        self.out.write(&text)
    }
}

impl TableSink {
    /// Everything the table prints at the end, sorted.
    fn lines(&mut self, report: &OrgReport) -> Vec<String> {
        let head = &self.head;
        self.rows.sort_by(|a, b| {
            (&a.account, head.rank(&a.region), &a.region, &a.vpc).cmp(&(
                &b.account,
                head.rank(&b.region),
                &b.region,
                &b.vpc,
            ))
        });
        let mut lines = render(&self.rows, self.with_account(), self.width);
        lines.extend(self.warnings.lines());
        if head.organization {
            if !lines.is_empty() {
                lines.push(String::new());
            }
            lines.extend(summary::by_account(report, head.kind, self.width));
        }
        // One account whose every region failed has nothing to sum up: its errors follow.
        if head.organization || report.summary.accounts.ok > 0 {
            lines.push(summary::line(report, head));
        }
        lines
    }
}

/// The table's lines (none without a VPC), each at most `width` columns when the ids fit.
fn render(rows: &[Row], with_account: bool, width: usize) -> Vec<String> {
    if rows.is_empty() {
        return Vec::new();
    }
    let widest = |header: &str, cell: fn(&Row) -> &str| {
        rows.iter()
            .map(|row| width_of(cell(row)))
            .chain([width_of(header)])
            .max()
            .unwrap_or(0)
    };
    let account = if with_account {
        widest("account", |r| &r.account)
    } else {
        0
    };
    let region = widest("region", |r| &r.region);
    let vpc = widest("VPC", |r| &r.vpc);
    let state = widest("status", |r| r.status);
    let columns = if with_account { 6 } else { 5 };
    let names = widest("name", |r| &r.name);
    let reasons = widest("reason", |r| &r.reason);
    // The name and the reason share what the other columns leave: the name at most a third of
    // it (and at least its header's width), unless the reasons leave it more. Two spaces
    // between columns, one when that leaves the reason too little.
    let share = |gap: usize| {
        let left = width.saturating_sub(account + region + vpc + state + gap * (columns - 1));
        let name = names.min((left / 3).max(left.saturating_sub(reasons)).max(4));
        (name, left.saturating_sub(name).max(MIN_REASON))
    };
    let (gap, (name, reason)) = match share(2) {
        (name, reason) if reason >= ROOMY_REASON.min(reasons) => (2, (name, reason)),
        _ => (1, share(1)),
    };
    let gap = " ".repeat(gap);
    let line = |cells: [&str; 6]| {
        let [a, r, v, n, s, why] = cells;
        let mut line = String::new();
        if with_account {
            line.push_str(&pad(a, account));
            line.push_str(&gap);
        }
        for (cell, width) in [(r, region), (v, vpc)] {
            line.push_str(&pad(cell, width));
            line.push_str(&gap);
        }
        line.push_str(&pad(&fit(n, name), name));
        line.push_str(&gap);
        line.push_str(&pad(s, state));
        line.push_str(&gap);
        line.push_str(&fit(why, reason));
        line.trim_end().to_owned()
    };
    std::iter::once(line([
        "account", "region", "VPC", "name", "status", "reason",
    ]))
    .chain(
        rows.iter()
            .map(|r| line([&r.account, &r.region, &r.vpc, &r.name, r.status, &r.reason])),
    )
    .collect()
}

#[cfg(test)]
mod tests {
    use super::super::Sink;
    use super::super::tests::{head, report};
    use super::*;
    use flowguard_core::Mode;
    use flowguard_core::VpcStatus::{Compliant, Exempt, NotOwned, WouldRemediate};

    const A: &str = "111111111111";
    const B: &str = "222222222222";

    #[test]
    fn fit_cuts_by_columns_with_an_ellipsis() {
        assert_eq!(fit("short", 10), "short");
        assert_eq!(fit("exactly10!", 10), "exactly10!");
        assert_eq!(fit("a longer text", 6), "a lon…");
        assert_eq!(fit("a longer text", 3), "a…");
        // Wide characters take two columns each.
        assert_eq!(fit("東京本番環境", 7), "東京本…");
        assert_eq!(width_of(&fit("東京本番環境", 7)), 7);
        assert_eq!(fit("anything", 0), "");
        assert_eq!(clean("two\nlines\tand a tab"), "two lines and a tab");
    }

    /// A VPC id of AWS's length (17 hex digits), and a reason as the engine words them.
    fn realistic(account: &str, region: &str, statuses: &[VpcStatus]) -> AccountRun {
        let mut report = report(account, region, statuses);
        for (i, vpc) in report.vpcs.iter_mut().enumerate() {
            vpc.vpc_id = flowguard_core::VpcId::new(format!("vpc-0{i:016x}"));
            vpc.reason = match vpc.status {
                Compliant => "an ACTIVE flow log captures REJECT into /vpc/flow-logs (365 days)",
                WouldRemediate => "no flow log captures rejected traffic: create one into /vpc/flow-logs and keep it 365 days",
                Exempt => "tagged flowguard:exempt=true",
                _ => "shared by its owner 210987654321; enforced in its owner's account 210987654321, which is in scope",
            }
            .to_owned();
        }
        AccountRun::ok(report)
    }

    /// The table a sweep of `runs` prints at `width` columns.
    fn table(runs: &[AccountRun], regions: &[&str], accounts: usize, width: usize) -> String {
        let head = head(Kind::Audit, regions, accounts);
        let out = Out::new(super::super::Stream::Stdout);
        let mut sink = TableSink::new(out, head, width);
        for run in runs {
            sink.run(run).unwrap();
        }
        let regions: Vec<String> = regions.iter().map(|r| (*r).to_owned()).collect();
        let org = OrgReport::new(Mode::Audit, &regions, runs.to_vec());
        let lines = sink.lines(&org);
        // Every line fits, but the summary line (which may wrap).
        for line in &lines[..lines.len() - 1] {
            assert!(width_of(line) <= width, "{line:?} is over {width}");
        }
        lines.join("\n")
    }

    #[test]
    fn one_account_at_80_and_120_columns() {
        let runs = [
            realistic(A, "us-east-1", &[WouldRemediate, Compliant, Exempt]),
            realistic(A, "eu-west-1", &[NotOwned]),
        ];
        let regions = ["us-east-1", "eu-west-1"];
        insta::assert_snapshot!("one_account_80", table(&runs, &regions, 1, 80));
        insta::assert_snapshot!("one_account_120", table(&runs, &regions, 1, 120));
    }

    #[test]
    fn an_organization_at_80_and_120_columns() {
        let runs = [
            realistic(B, "us-east-1", &[Compliant]),
            realistic(A, "eu-west-1", &[WouldRemediate]),
            realistic(A, "us-east-1", &[WouldRemediate, Compliant]),
            AccountRun::unreachable(
                B,
                "eu-west-1",
                Some("AccessDenied".to_owned()),
                "reading the state of the region failed: AssumeRole failed: AccessDenied: not authorized to perform sts:AssumeRole",
                None,
            ),
        ];
        let regions = ["us-east-1", "eu-west-1"];
        insta::assert_snapshot!("organization_80", table(&runs, &regions, 2, 80));
        insta::assert_snapshot!("organization_120", table(&runs, &regions, 2, 120));
    }

    #[test]
    fn the_account_column_comes_only_with_more_than_one_account() {
        let runs = [realistic(A, "us-east-1", &[WouldRemediate])];
        let text = table(&runs, &["us-east-1"], 1, 80);
        assert!(text.starts_with("region "), "{text}");
        let text = table(&runs, &["us-east-1"], 2, 80);
        assert!(text.starts_with("account "), "{text}");
    }
}
