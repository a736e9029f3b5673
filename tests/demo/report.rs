//! The reports read back: what the function answers and `flowguard audit --format json`
//! prints ([`Report`], the fields the demo shows and checks), and the function's own log
//! lines ([`function_log`]). The field names are flowguard's interface (see
//! `flowguard_core::report`).

use serde::Deserialize;
use std::collections::HashMap;

/// One run's report.
#[derive(Debug, Deserialize)]
pub struct Report {
    pub dry_run: bool,
    pub region: String,
    pub account: String,
    pub trigger: Trigger,
    pub vpcs: Vec<Vpc>,
    pub actions: Vec<Action>,
    #[serde(default)]
    pub warnings: Vec<String>,
    pub summary: Summary,
    /// Where it was saved, relative to the workspace root.
    #[serde(skip)]
    pub path: String,
}

#[derive(Debug, Deserialize)]
pub struct Trigger {
    pub kind: String,
    pub event_name: Option<String>,
    pub reason: String,
}

#[derive(Debug, Deserialize)]
pub struct Vpc {
    pub vpc_id: String,
    pub status: String,
    pub reason: String,
}

#[derive(Debug, Deserialize)]
pub struct Action {
    pub action: String,
    pub target: String,
    pub result: String,
    pub detail: Option<String>,
    pub flow_log_id: Option<String>,
    /// Dry runs only: EC2's `DryRun=true` answer.
    pub permission: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub retryable: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub struct Summary {
    pub vpcs: VpcCounts,
    pub actions: ActionCounts,
}

#[derive(Debug, Deserialize)]
pub struct VpcCounts {
    pub compliant: usize,
    pub remediated: usize,
    pub would_remediate: usize,
    pub exempt: usize,
    pub not_owned: usize,
    pub gone: usize,
    pub failed: usize,
}

impl VpcCounts {
    /// "2 compliant, 1 remediated": the statuses that occur.
    fn in_words(&self) -> String {
        let counts: Vec<String> = (self.by_status().iter())
            .filter(|(_, n)| *n > 0)
            .map(|(status, n)| format!("{n} {status}"))
            .collect();
        counts.join(", ")
    }

    fn by_status(&self) -> [(&'static str, usize); 7] {
        [
            ("compliant", self.compliant),
            ("remediated", self.remediated),
            ("would_remediate", self.would_remediate),
            ("exempt", self.exempt),
            ("not_owned", self.not_owned),
            ("gone", self.gone),
            ("failed", self.failed),
        ]
    }
}

#[derive(Debug, Deserialize)]
pub struct ActionCounts {
    pub planned: usize,
    pub applied: usize,
    pub already_done: usize,
    pub failed: usize,
}

impl ActionCounts {
    fn by_result(&self) -> [(&'static str, usize); 4] {
        [
            ("planned", self.planned),
            ("applied", self.applied),
            ("already_done", self.already_done),
            ("failed", self.failed),
        ]
    }
}

impl Report {
    /// Parses `json`, saved at `path`: a report, or what `flowguard audit --format json`
    /// prints for one account in one region (the organization report's shape, its one run's
    /// report in `accounts[0].report`).
    pub fn parse(json: &[u8], path: String) -> serde_json::Result<Self> {
        let value: serde_json::Value = serde_json::from_slice(json)?;
        let value = match value["accounts"].as_array() {
            Some(runs) if runs.len() == 1 && runs[0]["report"].is_object() => {
                runs[0]["report"].clone()
            }
            _ => value,
        };
        let mut report: Self = serde_json::from_value(value)?;
        report.path = path;
        Ok(report)
    }

    /// The status of `vpc`, when the report has it.
    pub fn status_of(&self, vpc: &str) -> Option<&str> {
        self.vpcs
            .iter()
            .find(|v| v.vpc_id == vpc)
            .map(|v| v.status.as_str())
    }

    /// The actions of one kind (`create_flow_logs`, `put_retention_policy`, …).
    pub fn actions_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Action> {
        self.actions.iter().filter(move |a| a.action == kind)
    }

    /// The evidence: one line per fact, VPCs labelled with their `Name` tags (`names`).
    pub fn lines(&self, names: &HashMap<String, String>) -> Vec<String> {
        let label = |id: &str| match names.get(id) {
            Some(name) if !name.is_empty() => format!("{id} ({name})"),
            _ => id.to_owned(),
        };
        let t = &self.trigger;
        let mode = if self.dry_run { "DRY RUN" } else { "enforcing" };
        let event = t
            .event_name
            .as_ref()
            .map(|name| format!(" ({name})"))
            .unwrap_or_default();
        let mut lines = vec![format!(
            "report ({mode}, {}, account {}): trigger {}{event}: {}",
            self.region, self.account, t.kind, t.reason
        )];
        let w = (self.vpcs.iter().map(|v| label(&v.vpc_id)))
            .chain(self.actions.iter().map(|a| label(&a.target)))
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0);
        for v in &self.vpcs {
            let vpc = label(&v.vpc_id);
            lines.push(format!("  VPC    {vpc:<w$}  {:<16} {}", v.status, v.reason));
        }
        for a in &self.actions {
            let mut extra: Vec<String> = a.detail.iter().cloned().collect();
            if let Some(id) = &a.flow_log_id {
                extra.push(format!("new flow log {id}"));
            }
            if let Some(permission) = &a.permission {
                extra.push(format!("permission: {permission}"));
            }
            if let Some(code) = &a.error_code {
                let message = a.error_message.as_deref().unwrap_or("-");
                let retryable = a.retryable.map_or("-".to_owned(), |r| r.to_string());
                extra.push(format!("{code}: {message} (retryable: {retryable})"));
            }
            let line = format!(
                "  action {:<20} {:<w$}  {:<8} {}",
                a.action,
                label(&a.target),
                a.result,
                extra.join("; ")
            );
            lines.push(line.trim_end().to_owned());
        }
        for warning in &self.warnings {
            lines.push(format!("  warning: {warning}"));
        }
        let actions = match counted(&self.summary.actions.by_result()) {
            none if none.is_empty() => "none".to_owned(),
            some => some,
        };
        lines.push(format!(
            "  summary: VPCs {}; actions {actions}",
            counted(&self.summary.vpcs.by_status())
        ));
        lines
    }
}

/// "1 compliant, 4 remediated": the counts that are not zero.
fn counted(counts: &[(&str, usize)]) -> String {
    let nonzero: Vec<String> = counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(what, n)| format!("{n} {what}"))
        .collect();
    nonzero.join(", ")
}

/// The same counts as a JSON object: `{"remediated":1}`.
fn counted_json(counts: &[(&str, usize)]) -> String {
    let nonzero: Vec<String> = counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(what, n)| format!("\"{what}\":{n}"))
        .collect();
    format!("{{{}}}", nonzero.join(","))
}

/// The function's summary line: the report, with the fields of a JSON log line.
#[derive(Debug, Deserialize)]
struct SummaryLine {
    level: String,
    message: String,
    #[serde(rename = "requestId")]
    request_id: String,
    dry_run: bool,
    summary: Summary,
}

/// The function's CloudWatch Embedded Metric Format record.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MetricsLine {
    #[serde(rename = "_aws")]
    aws: MetricsMetadata,
    vpcs_checked: usize,
    vpcs_non_compliant: usize,
    remediations: usize,
    remediation_failures: usize,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MetricsMetadata {
    cloud_watch_metrics: Vec<MetricsDirective>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MetricsDirective {
    namespace: String,
}

/// Excerpts of the last invocation's two lines in the function's log (JSON lines): its
/// summary line and its metrics record.
pub fn function_log(log: &str) -> Vec<String> {
    let json_lines = || log.lines().filter(|l| l.starts_with('{')).rev();
    let summary = json_lines()
        .filter_map(|l| serde_json::from_str::<SummaryLine>(l).ok())
        .find(|l| l.message == "flowguard report");
    let metrics = json_lines().find_map(|l| serde_json::from_str::<MetricsLine>(l).ok());
    let quoted = |s: &str| serde_json::Value::from(s).to_string();
    let mut lines = Vec::new();
    if let Some(l) = summary {
        lines.push(format!(
            "function log, summary line: {{\"level\":{},\"message\":{},\"requestId\":{},\"dry_run\":{},\"summary\":{{\"vpcs\":{},\"actions\":{}}},...}}",
            quoted(&l.level),
            quoted(&l.message),
            quoted(&l.request_id),
            l.dry_run,
            counted_json(&l.summary.vpcs.by_status()),
            counted_json(&l.summary.actions.by_result()),
        ));
    }
    if let Some(m) = metrics {
        let namespace = m
            .aws
            .cloud_watch_metrics
            .first()
            .map_or("-", |d| d.namespace.as_str());
        lines.push(format!(
            "function log, EMF line: namespace {namespace}, VpcsChecked={}, VpcsNonCompliant={}, Remediations={}, RemediationFailures={}",
            m.vpcs_checked, m.vpcs_non_compliant, m.remediations, m.remediation_failures
        ));
    }
    lines
}

/// An organization run's report, as `flowguard audit --organization --format json` prints it
/// (see `flowguard_core::organization::OrgReport`), or its summary, as the hub's sweep answers
/// (no `accounts`: each account's report is a log line of its own).
#[derive(Debug, Deserialize)]
pub struct OrgReport {
    pub dry_run: bool,
    pub regions: Vec<String>,
    #[serde(default)]
    pub accounts: Vec<AccountRun>,
    pub summary: OrgSummary,
    /// Where it was saved, relative to the workspace root.
    #[serde(skip)]
    pub path: String,
}

/// One account×region: its report, or why there is none.
#[derive(Debug, Deserialize)]
pub struct AccountRun {
    pub account: String,
    pub region: String,
    pub status: String,
    pub error: Option<String>,
    pub report: Option<Report>,
}

#[derive(Debug, Deserialize)]
pub struct OrgSummary {
    pub vpcs: VpcCounts,
    pub accounts: AccountCounts,
}

#[derive(Debug, Deserialize)]
pub struct AccountCounts {
    pub ok: usize,
    pub unreachable: usize,
}

impl OrgReport {
    /// Parses `json`, saved at `path`.
    pub fn parse(json: &[u8], path: String) -> serde_json::Result<Self> {
        let mut report: Self = serde_json::from_slice(json)?;
        report.path = path;
        Ok(report)
    }

    /// The status of `vpc` in `account`'s report, when it has one.
    pub fn status_of(&self, account: &str, vpc: &str) -> Option<&str> {
        let run = self.accounts.iter().find(|r| r.account == account)?;
        run.report.as_ref()?.status_of(vpc)
    }

    /// The evidence: a line for the whole, then one per account×region.
    pub fn lines(&self) -> Vec<String> {
        let mode = if self.dry_run { "DRY RUN" } else { "enforcing" };
        let (ok, unreachable) = (self.summary.accounts.ok, self.summary.accounts.unreachable);
        let mut lines = vec![format!(
            "organization report ({mode}, {}): {ok} account×region runs ok, {unreachable} \
             unreachable; VPCs: {}",
            self.regions.join(", "),
            self.summary.vpcs.in_words()
        )];
        for run in &self.accounts {
            let what = match (&run.report, &run.error) {
                (Some(report), _) => format!("VPCs: {}", report.summary.vpcs.in_words()),
                (None, error) => error.clone().unwrap_or_default(),
            };
            lines.push(format!(
                "  account {} {}  {:<11} {what}",
                run.account, run.region, run.status
            ));
        }
        lines
    }
}
