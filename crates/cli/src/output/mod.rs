//! Printing reports: JSON (one report, or an array for several regions), tables for people,
//! or one finding per VPC in an auditor's format (CSV, ASFF, OCSF: `flowguard_core::export`).

mod org;

pub use org::{org_json, print_org, render_org};

use crate::failure::Failure;
use comfy_table::{ColumnConstraint, ContentArrangement, Table, presets};
use flowguard_core::export::{self, ExportContext, Findings, Format as ExportFormat};
use flowguard_core::report::VpcReport;
use flowguard_core::{Permission, Policy, Report, VpcStatus};
use std::borrow::Borrow;
use std::io::Write;

/// Which command's reports these are; it decides the words of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Audit,
    Plan,
    Apply,
}

/// One report as itself, several as an array.
pub fn json(reports: &[Report]) -> Result<String, Failure> {
    let text = match reports {
        [one] => serde_json::to_string_pretty(one),
        many => serde_json::to_string_pretty(many),
    };
    text.map_err(|e| Failure(format!("could not write the report as JSON: {e}")))
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

fn status(vpc: &VpcReport, kind: Kind) -> &'static str {
    match (vpc.status, kind) {
        (VpcStatus::WouldRemediate, Kind::Audit) => "NOT COMPLIANT",
        (VpcStatus::WouldRemediate, _) => "would remediate",
        (VpcStatus::Failed, _) => "FAILED",
        (VpcStatus::NotOwned, _) => "not owned (shared)",
        (other, _) => other.as_str(),
    }
}

pub(crate) fn table(header: &[&str]) -> Table {
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

/// The columns of the VPC table.
pub(crate) const VPC_COLUMNS: [&str; 10] = [
    "region",
    "VPC",
    "CIS: ACTIVE flow log",
    "captures REJECT",
    "delivering",
    "log group",
    "retention",
    "exempt",
    "status",
    "reason",
];

/// The VPC table: the CIS audit's columns, one row per VPC of every region.
pub fn vpc_table(reports: &[Report], kind: Kind) -> Table {
    let mut t = table(&VPC_COLUMNS);
    for report in reports {
        for vpc in &report.vpcs {
            t.add_row(vpc_row(report, vpc, kind));
        }
    }
    t
}

/// One VPC's cells, in the order of [`VPC_COLUMNS`].
pub(crate) fn vpc_row(report: &Report, vpc: &VpcReport, kind: Kind) -> Vec<String> {
    let c = &vpc.checks;
    vec![
        report.region.clone(),
        vpc.vpc_id.to_string(),
        yes_no(c.active_flow_log).to_owned(),
        yes_no(c.captures_rejects).to_owned(),
        yes_no(c.delivering).to_owned(),
        c.log_group
            .as_ref()
            .map_or("-".to_owned(), ToString::to_string),
        c.retention.map_or("-".to_owned(), |r| r.to_string()),
        yes_no(c.exempt).to_owned(),
        status(vpc, kind).to_owned(),
        vpc.reason.clone(),
    ]
}

/// The columns of the action table.
pub(crate) const ACTION_COLUMNS: [&str; 5] = ["region", "action", "target", "result", "detail"];

/// The actions of every region, in order; `None` when there are none.
pub fn action_table(reports: &[Report]) -> Option<Table> {
    let mut t = table(&ACTION_COLUMNS);
    let mut any = false;
    for report in reports {
        for row in action_rows(report) {
            any = true;
            t.add_row(row);
        }
    }
    any.then_some(t)
}

/// One row per action of `report`, in the order of [`ACTION_COLUMNS`].
pub(crate) fn action_rows(report: &Report) -> impl Iterator<Item = Vec<String>> + '_ {
    report.actions.iter().map(|a| {
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
}

/// "5 VPCs in 2 regions: 3 compliant, 1 exempt, 1 NOT COMPLIANT; actions: 2 planned".
pub fn summary(reports: &[Report], kind: Kind) -> String {
    let regions = match reports.len() {
        1 => "1 region".to_owned(),
        n => format!("{n} regions"),
    };
    summary_in(reports, kind, &regions)
}

/// The summary line of `reports`, which were swept in `place` ("2 regions").
pub(crate) fn summary_in<R: Borrow<Report>>(reports: &[R], kind: Kind, place: &str) -> String {
    let mut vpcs = [0usize; 7];
    let mut actions = [0usize; 4];
    for r in reports {
        let r = r.borrow();
        let (v, a) = (&r.summary.vpcs, &r.summary.actions);
        let counts = [
            v.compliant,
            v.remediated,
            v.would_remediate,
            v.exempt,
            v.not_owned,
            v.gone,
            v.failed,
        ];
        vpcs.iter_mut().zip(counts).for_each(|(sum, n)| *sum += n);
        let counts = [a.planned, a.applied, a.already_done, a.failed];
        actions
            .iter_mut()
            .zip(counts)
            .for_each(|(sum, n)| *sum += n);
    }
    let would = if kind == Kind::Audit {
        "NOT COMPLIANT"
    } else {
        "would remediate"
    };
    let names = [
        "compliant",
        "remediated",
        would,
        "exempt",
        "not owned",
        "gone",
        "FAILED",
    ];
    let listed = |counts: &[usize], names: &[&str]| -> Vec<String> {
        counts
            .iter()
            .zip(names)
            .filter(|(n, _)| **n > 0)
            .map(|(n, name)| format!("{n} {name}"))
            .collect()
    };
    let total: usize = vpcs.iter().sum();
    let mut line = format!("{total} VPC(s) in {place}");
    let states = listed(&vpcs, &names);
    if !states.is_empty() {
        line = format!("{line}: {}", states.join(", "));
    }
    let done = listed(&actions, &["planned", "applied", "already done", "FAILED"]);
    if kind != Kind::Audit {
        let done = if done.is_empty() {
            "none".to_owned()
        } else {
            done.join(", ")
        };
        line = format!("{line}; actions: {done}");
    }
    line
}

/// The warnings of all reports, each once; with the regions that gave it when not all did.
pub fn warnings<R: Borrow<Report>>(reports: &[R]) -> Vec<String> {
    let mut found: Vec<(&str, Vec<&str>)> = Vec::new();
    for r in reports {
        let r = r.borrow();
        for w in &r.warnings {
            match found.iter_mut().find(|(text, _)| text == w) {
                Some((_, regions)) => regions.push(&r.region),
                None => found.push((w, vec![&r.region])),
            }
        }
    }
    found
        .into_iter()
        .map(|(text, regions)| {
            if regions.len() == reports.len() {
                format!("warning: {text}")
            } else {
                format!("warning ({}): {text}", regions.join(", "))
            }
        })
        .collect()
}

/// Writes `text` to stdout. A closed pipe (`flowguard audit | head`) is not an error.
pub fn emit(text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure(format!("could not write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

/// Prints the reports to stdout in `format`; `policy` is the one they were made under (the
/// exports judge exempt VPCs by its retention and name its exemption tag).
pub fn print(
    reports: &[Report],
    kind: Kind,
    format: crate::args::Format,
    policy: &Policy,
) -> Result<(), Failure> {
    match format.export() {
        Some(export) => emit(&findings(&Findings::from_reports(reports), export, policy)?),
        None if format == crate::args::Format::Json => emit(&format!("{}\n", json(reports)?)),
        None => emit(&render_tables(reports, kind)),
    }
}

/// The findings in an export format, stamped with the time now (docs/exports.md).
pub fn findings(
    findings: &Findings,
    format: ExportFormat,
    policy: &Policy,
) -> Result<String, Failure> {
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| Failure(format!("could not read the clock: {e}")))?;
    let ctx = ExportContext::new(now, policy);
    export::render(format, findings, &ctx).map_err(|e| {
        Failure(format!(
            "could not write the {} export: {e}",
            format.as_str()
        ))
    })
}

/// The tables, warnings and summary line, as text.
pub fn render_tables(reports: &[Report], kind: Kind) -> String {
    let mut text = String::new();
    if reports.iter().any(|r| !r.vpcs.is_empty()) {
        text.push_str(&format!("{}\n", vpc_table(reports, kind)));
    }
    if kind != Kind::Audit
        && let Some(actions) = action_table(reports)
    {
        text.push_str(&format!("{actions}\n"));
    }
    for line in warnings(reports) {
        text.push_str(&format!("{line}\n"));
    }
    text.push_str(&format!("{}\n", summary(reports, kind)));
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowguard_core::fake;
    use flowguard_core::organization::{AccountRun, OrgReport};

    fn report(region: &str, statuses: &[VpcStatus], warnings: &[&str]) -> Report {
        let place = flowguard_core::Place {
            region: region.to_owned(),
            account: "123456789012".to_owned(),
        };
        let mut report = fake::report_of(&place, flowguard_core::Mode::DryRun, statuses);
        report.warnings = warnings.iter().map(|w| (*w).to_owned()).collect();
        report
    }

    #[test]
    fn summaries_count_across_regions() {
        let reports = [
            report(
                "us-east-1",
                &[VpcStatus::Compliant, VpcStatus::WouldRemediate],
                &[],
            ),
            report("eu-west-1", &[VpcStatus::Exempt, VpcStatus::NotOwned], &[]),
        ];
        assert_eq!(
            summary(&reports, Kind::Audit),
            "4 VPC(s) in 2 regions: 1 compliant, 1 NOT COMPLIANT, 1 exempt, 1 not owned"
        );
        assert_eq!(
            summary(&reports, Kind::Plan),
            "4 VPC(s) in 2 regions: 1 compliant, 1 would remediate, 1 exempt, 1 not owned; actions: none"
        );
    }

    #[test]
    fn json_is_one_report_or_an_array() {
        let one = [report("us-east-1", &[], &[])];
        assert!(json(&one).unwrap().starts_with('{'));
        let two = [report("us-east-1", &[], &[]), report("eu-west-1", &[], &[])];
        assert!(json(&two).unwrap().starts_with('['));
    }

    #[test]
    fn warnings_are_said_once() {
        let reports = [
            report("us-east-1", &[], &["no role"]),
            report("eu-west-1", &[], &["no role", "odd"]),
        ];
        assert_eq!(
            warnings(&reports),
            vec!["warning: no role", "warning (eu-west-1): odd"]
        );
    }

    #[test]
    fn audit_table_has_the_cis_columns() {
        let text = render_tables(
            &[report("us-east-1", &[VpcStatus::WouldRemediate], &[])],
            Kind::Audit,
        );
        for column in VPC_COLUMNS {
            assert!(text.contains(column), "{column} missing:\n{text}");
        }
        assert!(text.contains("NOT COMPLIANT"));
    }

    #[test]
    fn organization_table_has_an_account_column_and_the_unreachable_runs() {
        let mut one = report("us-east-1", &[VpcStatus::WouldRemediate], &[]);
        one.account = "111111111111".to_owned();
        let runs = vec![
            AccountRun::ok(one),
            AccountRun::unreachable(
                "222222222222",
                "us-east-1",
                Some("AccessDenied".to_owned()),
                "AssumeRole failed: AccessDenied",
                None,
            ),
        ];
        let org = OrgReport::new(
            flowguard_core::Mode::Audit,
            &["us-east-1".to_owned()],
            runs.clone(),
        );
        let text = render_org(&org, &runs, Kind::Audit);
        let header = text.lines().nth(1).unwrap();
        assert!(header.contains("account"), "{text}");
        assert!(header.find("account") < header.find("region"), "{text}");
        let row = text.lines().find(|l| l.contains("vpc-0")).unwrap();
        assert!(
            row.contains("111111111111") && row.contains("NOT COMPLIANT"),
            "{text}"
        );
        assert!(
            text.contains(
                "UNREACHABLE: account 222222222222 in us-east-1: AssumeRole failed: AccessDenied"
            ),
            "{text}"
        );
        assert!(
            text.ends_with(
                "1 VPC(s) in 2 account×region run(s) (1 region(s)): 1 NOT COMPLIANT; 1 UNREACHABLE\n"
            ),
            "{text}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&org_json(&org, &runs).unwrap()).unwrap();
        assert_eq!(json["summary"]["accounts"]["unreachable"], 1);
        assert_eq!(json["accounts"][1]["status"], "unreachable");
    }
}
