//! `--wide`: the table with every column — the CIS checks (ACTIVE flow log, captures REJECT,
//! delivering, log group, retention, exempt) beside status and reason — and, for `plan` and
//! `apply`, the table of actions; an account column first when there is more than one account.
//! It keeps each VPC's and each action's cells until the sweep is done (no report).

use super::summary::{self, Warnings};
use super::{Head, Kind, Out, Sink, status, vpc_name};
use crate::failure::Failure;
use comfy_table::{ColumnConstraint, ContentArrangement, Table, presets};
use flowguard_core::Permission;
use flowguard_core::organization::{AccountRun, OrgReport};
use flowguard_core::report::VpcReport;

/// The columns of the VPC table.
const VPC_COLUMNS: [&str; 11] = [
    "region",
    "VPC",
    "name",
    "CIS: ACTIVE flow log",
    "captures REJECT",
    "delivering",
    "log group",
    "retention",
    "exempt",
    "status",
    "reason",
];

/// The columns of the action table.
const ACTION_COLUMNS: [&str; 5] = ["region", "action", "target", "result", "detail"];

fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_header(header.iter().copied());
    // Wrap the last column (free text) to the terminal, unless it reports no useful width
    // (a pipe, some ptys); ids and names are never broken.
    if table.width().is_some_and(|width| width >= 80) {
        table.set_content_arrangement(ContentArrangement::Dynamic);
        let last = header.len().saturating_sub(1);
        for column in table.column_iter_mut().take(last) {
            column.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
    table
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

/// One VPC's cells, in the order of [`VPC_COLUMNS`].
fn vpc_row(region: &str, vpc: &VpcReport, kind: Kind) -> Vec<String> {
    let c = &vpc.checks;
    vec![
        region.to_owned(),
        vpc.vpc_id.to_string(),
        vpc_name(vpc).unwrap_or("-").to_owned(),
        yes_no(c.active_flow_log).to_owned(),
        yes_no(c.captures_rejects).to_owned(),
        yes_no(c.delivering).to_owned(),
        c.log_group
            .as_ref()
            .map_or("-".to_owned(), ToString::to_string),
        c.retention.map_or("-".to_owned(), |r| r.to_string()),
        yes_no(c.exempt).to_owned(),
        status(vpc.status, kind).to_owned(),
        vpc.reason.clone(),
    ]
}

/// One row per action of the run, in the order of [`ACTION_COLUMNS`].
fn action_rows(report: &flowguard_core::Report) -> Vec<Vec<String>> {
    report
        .actions
        .iter()
        .map(|a| {
            let mut detail = a.detail.clone().unwrap_or_default();
            if let Some(permission) = a.permission {
                let permission = match permission {
                    Permission::Allowed => "allowed",
                    Permission::Denied => "denied",
                    Permission::Unchecked => "unchecked",
                };
                detail = format!("{detail} (permission: {permission})")
                    .trim()
                    .to_owned();
            }
            if let Some(message) = &a.error_message {
                let code = a.error_code.as_deref().unwrap_or("error");
                detail = format!("{detail} {code}: {message}").trim().to_owned();
            }
            vec![
                report.region.clone(),
                a.action.as_str().to_owned(),
                a.target.clone(),
                a.result.as_str().to_owned(),
                detail,
            ]
        })
        .collect()
}

/// One run's rows: its account and region (to sort by), its VPCs' and its actions' cells.
#[derive(Debug)]
struct Rows {
    account: String,
    region: String,
    vpcs: Vec<Vec<String>>,
    actions: Vec<Vec<String>>,
}

#[derive(Debug)]
pub(super) struct WideSink {
    out: Out,
    head: Head,
    /// The width of the per-account summary's lines.
    width: usize,
    runs: Vec<Rows>,
    warnings: Warnings,
}

impl WideSink {
    pub(super) fn new(out: Out, head: Head, width: usize) -> Self {
        Self {
            out,
            head,
            width,
            runs: Vec::new(),
            warnings: Warnings::default(),
        }
    }
}

impl Sink for WideSink {
    fn start(&mut self) -> Result<(), Failure> {
        Ok(())
    }

    fn run(&mut self, run: &AccountRun) -> Result<(), Failure> {
        let Some(report) = &run.report else {
            return Ok(());
        };
        let kind = self.head.kind;
        let mut vpcs: Vec<&VpcReport> = report.vpcs.iter().collect();
        vpcs.sort_by(|a, b| a.vpc_id.as_str().cmp(b.vpc_id.as_str()));
        self.runs.push(Rows {
            account: report.account.clone(),
            region: report.region.clone(),
            vpcs: vpcs
                .into_iter()
                .map(|vpc| vpc_row(&report.region, vpc, kind))
                .collect(),
            actions: if kind == Kind::Audit {
                Vec::new()
            } else {
                action_rows(report)
            },
        });
        let several = self.head.accounts > 1;
        self.warnings.add(report, || {
            if several {
                format!("{} {}", report.account, report.region)
            } else {
                report.region.clone()
            }
        });
        Ok(())
    }

    fn end(&mut self, report: &OrgReport) -> Result<(), Failure> {
        let head = &self.head;
        self.runs.sort_by(|a, b| {
            (&a.account, head.rank(&a.region), &a.region).cmp(&(
                &b.account,
                head.rank(&b.region),
                &b.region,
            ))
        });
        let several = head.accounts > 1;
        let columns = |names: &[&str]| -> Vec<String> {
            let account = several.then_some("account");
            account
                .into_iter()
                .chain(names.iter().copied())
                .map(str::to_owned)
                .collect()
        };
        let row = |account: &str, cells: &[String]| -> Vec<String> {
            let account = several.then(|| account.to_owned());
            account.into_iter().chain(cells.iter().cloned()).collect()
        };
        let mut text = String::new();
        for (names, rows_of) in [
            (
                &VPC_COLUMNS[..],
                (|r: &Rows| &r.vpcs) as fn(&Rows) -> &Vec<Vec<String>>,
            ),
            (&ACTION_COLUMNS[..], |r: &Rows| &r.actions),
        ] {
            if self.runs.iter().all(|r| rows_of(r).is_empty()) {
                continue;
            }
            let header = columns(names);
            let mut t = table(&header.iter().map(String::as_str).collect::<Vec<_>>());
            for run in &self.runs {
                for cells in rows_of(run) {
                    t.add_row(row(&run.account, cells));
                }
            }
            text.push_str(&format!("{t}\n"));
        }
        for line in self.warnings.lines() {
            text.push_str(&format!("{line}\n"));
        }
        if head.organization {
            for line in summary::by_account(report, head.kind, self.width) {
                text.push_str(&format!("{line}\n"));
            }
        }
        // One account whose every region failed has nothing to sum up: its errors follow.
        if head.organization || report.summary.accounts.ok > 0 {
            text.push_str(&format!("{}\n", summary::line(report, head)));
        }
        self.out.write(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{head, report};
    use super::*;
    use flowguard_core::Mode;
    use flowguard_core::VpcStatus::{Compliant, WouldRemediate};

    #[test]
    fn the_wide_table_has_every_column_and_an_account_column_for_several() {
        let runs = vec![
            AccountRun::ok(report("222222222222", "us-east-1", &[Compliant])),
            AccountRun::ok(report("111111111111", "us-east-1", &[WouldRemediate])),
        ];
        let mut sink = WideSink::new(Out::buffer(), head(Kind::Audit, &["us-east-1"], 2), 80);
        for run in &runs {
            sink.run(run).unwrap();
        }
        let org = OrgReport::new(Mode::Audit, &["us-east-1".to_owned()], runs);
        sink.end(&org).unwrap();
        let text = sink.out.written();
        let header = text.lines().nth(1).unwrap();
        for column in VPC_COLUMNS {
            assert!(header.contains(column), "{column} missing:\n{text}");
        }
        assert!(header.find("account") < header.find("region"), "{text}");
        let first = text.find("111111111111").unwrap();
        assert!(
            first < text.find("222222222222").unwrap(),
            "sorted:\n{text}"
        );
        assert!(text.contains("NOT COMPLIANT"), "{text}");
    }
}
