//! The HTML report: one self-contained page for people (what `--output-directory` writes beside
//! the JSON report and the exports). It loads nothing: the style is inline, there is no script,
//! no font, no image, and its Content-Security-Policy forbids fetching anything, so that it
//! opens the same from a mail attachment, an artifact store or a disk with no network.
//!
//! The page has the run's title, mode and time, the totals (VPCs by status, account×region runs
//! ok and unreachable), a grid of accounts × regions whose cells are coloured by status
//! ([`CellStatus`]), with their counts in small text and the details in the cell's title, and
//! the table of the VPCs that need action (`would_remediate`, shown as `not compliant` in an
//! audit, and `failed`) with their reason.
//!
//! It is built for the streaming sweep: the totals and the grid come from the [`OrgReport`],
//! which keeps one [`RunSummary`] per run, and an [`HtmlReport`] is fed each finished
//! [`AccountRun`] (the sweep's `on_run`) and keeps only the lines of the VPCs that need action,
//! not the reports.
//!
//! ```text
//! let mut html = HtmlReport::new();
//! let org = sweep(&places, &plan, |run| html.add(run)).await;
//! let page: String = html.render(&org, &HtmlContext::new(now_rfc3339));
//! ```
//!
//! Every string from a report or from AWS (account names, tags, reasons, error messages) is
//! untrusted and escaped ([`escape`]): the five characters that HTML gives a meaning to, and
//! control characters. No templating crate: one page of fixed markup does not need one, and
//! a small, tested escape keeps core's dependencies as they are.

mod grid;
#[cfg(test)]
mod tests;

pub use self::grid::CellStatus;

use crate::organization::{AccountRun, OrgReport, RunSummary};
use crate::report::{VpcCounts, VpcStatus};
use crate::vocab::Mode;
use std::collections::BTreeMap;
use std::fmt::{self, Write};

/// The page's style, inline.
const STYLE: &str = include_str!("html/style.css");

/// What the caller knows and core does not: the page's title and the time of the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtmlContext {
    /// The page's title and heading.
    pub title: String,
    /// When the run was made, as the caller writes it (RFC 3339 from the CLI); shown as given.
    pub generated_at: String,
    /// flowguard's version, in the page's footer.
    pub product_version: String,
}

impl HtmlContext {
    /// The context of a page generated at `generated_at`, titled "flowguard report".
    pub fn new(generated_at: impl Into<String>) -> Self {
        Self {
            title: "flowguard report".to_owned(),
            generated_at: generated_at.into(),
            product_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// One VPC that needs action, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ActionLine {
    account: String,
    region: String,
    vpc_id: String,
    /// The VPC's `Name` tag. The report has no name yet: when `VpcReport` gains its `name`
    /// (issue 28, item 2), [`HtmlReport::add`] fills it and the page shows a Name column.
    name: Option<String>,
    status: VpcStatus,
    reason: String,
}

/// What the HTML page needs of a sweep's runs, fed one finished run at a time: the lines of
/// the VPCs that need action, and the account names the caller knows. The totals and the grid
/// come from the [`OrgReport`] at [`HtmlReport::render`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HtmlReport {
    lines: Vec<ActionLine>,
    names: BTreeMap<String, String>,
}

impl HtmlReport {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps, of a finished run, the VPCs that need action (`would_remediate`, `failed`).
    pub fn add(&mut self, run: &AccountRun) {
        let Some(report) = &run.report else {
            return;
        };
        let needs_action = |status| matches!(status, VpcStatus::WouldRemediate | VpcStatus::Failed);
        let vpcs = report.vpcs.iter().filter(|vpc| needs_action(vpc.status));
        self.lines.extend(vpcs.map(|vpc| ActionLine {
            account: report.account.clone(),
            region: report.region.clone(),
            vpc_id: vpc.vpc_id.to_string(),
            name: None,
            status: vpc.status,
            reason: vpc.reason.clone(),
        }));
    }

    /// Names an account (from the organization's listing), shown beside its id in the grid and
    /// the table.
    pub fn name_account(&mut self, account: impl Into<String>, name: impl Into<String>) {
        self.names.insert(account.into(), name.into());
    }

    /// The number of VPCs kept as needing action.
    pub fn needs_action(&self) -> usize {
        self.lines.len()
    }

    /// The page: totals and grid from `org`, the VPCs that need action from the runs fed to
    /// [`HtmlReport::add`], in `org`'s order (account, then region as given).
    pub fn render(&self, org: &OrgReport, ctx: &HtmlContext) -> String {
        let mut out = String::with_capacity(16 * 1024);
        // Writing into a String does not fail.
        match self.page(&mut out, org, ctx) {
            Ok(()) => out,
            Err(fmt::Error) => String::new(),
        }
    }

    fn page(&self, out: &mut String, org: &OrgReport, ctx: &HtmlContext) -> fmt::Result {
        let title = Esc(&ctx.title);
        write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
             style-src 'unsafe-inline'\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{title}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n\
             <h1 id=\"title\">{title}</h1>\n<p class=\"run\">mode <strong id=\"mode\" \
             data-mode=\"{mode}\">{mode}</strong> · generated at <time id=\"generated-at\">{at}\
             </time></p>\n",
            mode = mode_label(org.mode),
            at = Esc(&ctx.generated_at),
        )?;
        totals(out, org)?;
        self.grid(out, org)?;
        self.action_table(out, org)?;
        unreachable_table(out, org)?;
        if !org.warnings.is_empty() {
            out.push_str("<h2>Warnings</h2>\n<ul class=\"warnings\">\n");
            for warning in &org.warnings {
                writeln!(out, "<li>{}</li>", Esc(warning))?;
            }
            out.push_str("</ul>\n");
        }
        writeln!(
            out,
            "<footer>flowguard {}. This page is one file: it loads nothing from the network.\
             </footer>\n</body>\n</html>",
            Esc(&ctx.product_version)
        )
    }

    /// An account's id, with its name when known.
    fn account(&self, out: &mut String, account: &str) -> fmt::Result {
        write!(out, "<span class=\"id\">{}</span>", Esc(account))?;
        match self.names.get(account) {
            Some(name) => write!(out, "<br><small class=\"name\">{}</small>", Esc(name)),
            None => Ok(()),
        }
    }

    /// The accounts × regions grid, one cell per account×region.
    /// The table of the VPCs that need action, in `org`'s order.
    fn action_table(&self, out: &mut String, org: &OrgReport) -> fmt::Result {
        let rank = |region: &str| org.regions.iter().position(|r| r == region);
        let mut lines: Vec<&ActionLine> = self.lines.iter().collect();
        // Stable: a run's VPCs keep their order.
        lines.sort_by(|a, b| {
            (&a.account, rank(&a.region), &a.region).cmp(&(&b.account, rank(&b.region), &b.region))
        });
        writeln!(
            out,
            "<h2>VPCs that need action (<span id=\"needs-action-count\">{}</span>)</h2>",
            lines.len()
        )?;
        if lines.is_empty() {
            out.push_str("<p id=\"needs-action-none\">No VPC needs action.</p>\n");
            return Ok(());
        }
        let named = lines.iter().any(|line| line.name.is_some());
        out.push_str("<table id=\"needs-action\" class=\"list\">\n<thead><tr><th>account</th><th>region</th><th>VPC</th>");
        if named {
            out.push_str("<th>Name</th>");
        }
        out.push_str("<th>status</th><th>reason</th></tr></thead>\n<tbody>\n");
        for line in lines {
            out.push_str("<tr><td>");
            self.account(out, &line.account)?;
            write!(
                out,
                "</td><td>{}</td><td class=\"id\">{}</td>",
                Esc(&line.region),
                Esc(&line.vpc_id)
            )?;
            if named {
                write!(out, "<td>{}</td>", Esc(line.name.as_deref().unwrap_or("")))?;
            }
            let (class, label) = status_label(line.status, org.mode);
            writeln!(
                out,
                "<td class=\"status {class}\">{label}</td><td class=\"reason\">{}</td></tr>",
                Esc(&line.reason)
            )?;
        }
        out.push_str("</tbody>\n</table>\n");
        Ok(())
    }
}

/// The totals: VPCs by status, and account×region runs ok and unreachable. Each number is in
/// an element with the id `total-<what>` (and `data-total="<what>"`); the class, when there
/// is one, has its leading space.
fn totals(out: &mut String, org: &OrgReport) -> fmt::Result {
    let v: &VpcCounts = &org.summary.vpcs;
    let all = v.compliant + v.remediated + v.would_remediate + v.exempt + v.not_owned + v.gone;
    let (_, would) = status_label(VpcStatus::WouldRemediate, org.mode);
    let vpcs = [
        ("vpcs", "VPCs", all + v.failed, ""),
        ("compliant", "compliant", v.compliant, " compliant"),
        ("remediated", "remediated", v.remediated, " compliant"),
        ("would_remediate", would, v.would_remediate, " needs-action"),
        ("failed", "failed", v.failed, " failed"),
        ("exempt", "exempt", v.exempt, ""),
        ("not_owned", "not owned (shared)", v.not_owned, ""),
        ("gone", "gone", v.gone, ""),
    ];
    let a = &org.summary.accounts;
    let runs = [
        ("runs_ok", "account×region runs ok", a.ok, " compliant"),
        (
            "runs_unreachable",
            "unreachable",
            a.unreachable,
            " unreachable",
        ),
    ];
    out.push_str("<h2>Totals</h2>\n");
    for (id, group) in [("vpc-totals", &vpcs[..]), ("run-totals", &runs[..])] {
        writeln!(out, "<div id=\"{id}\" class=\"totals\">")?;
        for (key, label, count, class) in group {
            writeln!(
                out,
                "<div class=\"total{class}\"><span id=\"total-{key}\" class=\"n\" \
                 data-total=\"{key}\">{count}</span> <span class=\"label\">{label}</span></div>"
            )?;
        }
        out.push_str("</div>\n");
    }
    Ok(())
}

/// The runs that have no report, with why.
fn unreachable_table(out: &mut String, org: &OrgReport) -> fmt::Result {
    let runs: Vec<&RunSummary> = (org.accounts.iter())
        .filter(|run| run.summary.is_none())
        .collect();
    if runs.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "<h2>Runs without a report ({})</h2>\n<table id=\"unreachable\" class=\"list\">\n<thead><tr>\
         <th>account</th><th>region</th><th>code</th><th>error</th></tr></thead>\n<tbody>",
        runs.len()
    )?;
    for run in runs {
        writeln!(
            out,
            "<tr><td class=\"id\">{}</td><td>{}</td><td>{}</td><td class=\"reason\">{}</td></tr>",
            Esc(&run.account),
            Esc(&run.region),
            Esc(run.error_code.as_deref().unwrap_or("")),
            Esc(run.error.as_deref().unwrap_or("")),
        )?;
    }
    out.push_str("</tbody>\n</table>\n");
    Ok(())
}

/// How the page names a run's mode.
fn mode_label(mode: Mode) -> &'static str {
    match mode {
        Mode::Audit => "audit",
        Mode::DryRun => "dry run",
        Mode::Enforce => "enforce",
    }
}

/// A VPC status's class and words: `would_remediate` is `not compliant` in an audit.
fn status_label(status: VpcStatus, mode: Mode) -> (&'static str, &'static str) {
    match (status, mode) {
        (VpcStatus::WouldRemediate, Mode::Audit) => ("needs-action", "not compliant"),
        (VpcStatus::WouldRemediate, _) => ("needs-action", "would remediate"),
        (VpcStatus::Failed, _) => ("failed", "failed"),
        (other, _) => ("", other.as_str()),
    }
}

/// `text` escaped for HTML text and double- or single-quoted attribute values: `&`, `<`, `>`,
/// `"` and `'` as character references, and control characters other than tab, line feed
/// and carriage return as U+FFFD (HTML forbids them).
pub fn escape(text: &str) -> String {
    Esc(text).to_string()
}

/// Displays its text escaped ([`escape`]).
struct Esc<'a>(&'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(|c: char| needs_escape(c)) {
            f.write_str(&rest[..at])?;
            let c = rest[at..].chars().next().unwrap_or('\u{FFFD}');
            f.write_str(match c {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => "\u{FFFD}",
            })?;
            rest = &rest[at + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

fn needs_escape(c: char) -> bool {
    matches!(c, '&' | '<' | '>' | '"' | '\'')
        || (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}
