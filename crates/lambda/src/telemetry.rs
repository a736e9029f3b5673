//! What the function writes to CloudWatch: one summary line per report (its keys at the top
//! level so that Logs Insights can query `summary.vpcs.failed`), and one CloudWatch Embedded
//! Metric Format record with the metrics of docs/design.md. An organization sweep writes one
//! line per account×region run (each a report line of its own) and one organization summary
//! line, each within [`MAX_LINE_BYTES`], and returns the summary only: the whole organization
//! report of hundreds of accounts would exceed what one log event and one Lambda destination
//! record carry.

use flowguard_core::Report;
use flowguard_core::organization::{AccountRun, OrgReport};
use serde_json::{Value, json};

/// The metric namespace.
pub const NAMESPACE: &str = "FlowGuard";

/// The metrics of one report: the four of docs/design.md, and the follow-ups (Security
/// Hub, AWS Config) that failed.
pub fn metrics(report: &Report) -> [(&'static str, usize); 5] {
    let v = &report.summary.vpcs;
    [
        ("VpcsChecked", report.vpcs.len()),
        (
            "VpcsNonCompliant",
            v.remediated + v.would_remediate + v.failed,
        ),
        ("Remediations", v.remediated),
        ("RemediationFailures", v.failed),
        ("FindingsUpdateFailures", report.follow_up_failures()),
    ]
}

/// The metrics of an organization sweep's runs, added up as each run finishes (the sweep
/// keeps no run's report): those of every report, and the runs checked and unreachable.
#[derive(Debug, Default)]
pub struct SweepTotals {
    reports: [(&'static str, usize); 5],
    checked: usize,
    unreachable: usize,
}

impl SweepTotals {
    /// Counts one finished run.
    pub fn add(&mut self, run: &AccountRun) {
        match &run.report {
            Some(report) => {
                self.checked += 1;
                for (total, (name, value)) in self.reports.iter_mut().zip(metrics(report)) {
                    *total = (name, total.1 + value);
                }
            }
            None => self.unreachable += 1,
        }
    }

    /// The metrics: the reports' five, `AccountsChecked` and `AccountsUnreachable`.
    pub fn metrics(&self) -> Vec<(&'static str, usize)> {
        let names = [
            "VpcsChecked",
            "VpcsNonCompliant",
            "Remediations",
            "RemediationFailures",
            "FindingsUpdateFailures",
        ];
        let mut totals: Vec<(&'static str, usize)> = names
            .iter()
            .zip(&self.reports)
            .map(|(name, (_, value))| (*name, *value))
            .collect();
        totals.push(("AccountsChecked", self.checked));
        totals.push(("AccountsUnreachable", self.unreachable));
        totals
    }
}

/// An EMF record: namespace `FlowGuard`, one dimension `FunctionName`.
pub fn emf(report: &Report, function_name: &str, timestamp_ms: u128) -> Value {
    emf_record(&metrics(report), function_name, timestamp_ms)
}

/// An EMF record of these metrics.
pub fn emf_record(
    metrics: &[(&'static str, usize)],
    function_name: &str,
    timestamp_ms: u128,
) -> Value {
    let mut record = json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["FunctionName"]],
                "Metrics": metrics.iter().map(|(name, _)| json!({"Name": name, "Unit": "Count"})).collect::<Vec<_>>(),
            }]
        },
        "FunctionName": function_name,
    });
    for (name, value) in metrics {
        record[*name] = json!(value);
    }
    record
}

/// The most a log line may hold: CloudWatch Logs' older limit of 256 KB per log event (less the
/// 26 bytes it counts per event), which its current limit (1 MB per event, in the PutLogEvents
/// API reference) also admits, and which Lambda's log capture has long truncated at.
pub const MAX_LINE_BYTES: usize = 256 * 1024 - 26;

/// The line of one account×region run of an organization sweep, written as the run
/// finishes: the run's report line, or the account, region, status and error of a run without
/// one. A report too large for one line keeps its summary and counts, without its VPCs and
/// actions (`truncated: true`).
pub fn account_line(run: &AccountRun, request_id: &str) -> Value {
    let mut line = match &run.report {
        Some(report) => summary_of(report, request_id),
        None => summary_of(run, request_id),
    };
    line["status"] = json!(run.status);
    if line.to_string().len() > MAX_LINE_BYTES {
        line["vpcs"] = json!([]);
        line["actions"] = json!([]);
        line["truncated"] = json!(true);
    }
    line
}

/// The organization's summary: mode, regions, warnings, counts of VPCs and of account×region
/// runs by status. It is the hub's response too.
pub fn organization_summary(report: &OrgReport) -> Value {
    json!({
        "dry_run": report.dry_run,
        "mode": report.mode,
        "regions": report.regions,
        "warnings": report.warnings,
        "summary": report.summary,
    })
}

/// The organization summary line (message `flowguard organization report`).
pub fn organization_line(report: &OrgReport, request_id: &str) -> Value {
    let mut line = organization_summary(report);
    line["level"] = json!("INFO");
    line["message"] = json!("flowguard organization report");
    line["requestId"] = json!(request_id);
    line
}

/// The summary line of anything serializable (a report, an account run).
pub fn summary_of(report: &impl serde::Serialize, request_id: &str) -> Value {
    let mut line =
        serde_json::to_value(report).unwrap_or_else(|e| json!({ "error": e.to_string() }));
    line["level"] = json!("INFO");
    line["message"] = json!("flowguard report");
    line["requestId"] = json!(request_id);
    line
}

/// The report as the function's response.
pub fn report_value(report: &Report) -> Value {
    serde_json::to_value(report).unwrap_or_else(|e| json!({ "error": e.to_string() }))
}

/// The summary line: the report with `level` and `message` added.
pub fn summary_line(report: &Report, request_id: &str) -> Value {
    summary_of(report, request_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowguard_core::report::{TriggerReport, VpcReport, VpcStatus};
    use flowguard_core::rule::Checks;
    use flowguard_core::{TriggerKind, VpcId};

    #[test]
    fn emf_record_has_the_metrics() {
        let vpc = |id: &str, status| VpcReport {
            vpc_id: VpcId::new(id),
            name: None,
            status,
            reason: String::new(),
            checks: Checks::default(),
            owner_id: None,
        };
        let trigger = TriggerReport {
            kind: TriggerKind::Sweep,
            event_name: None,
            event_id: None,
            reason: String::new(),
        };
        let place = flowguard_core::Place {
            region: "us-east-1".into(),
            account: "123456789012".into(),
        };
        let report = Report::builder(flowguard_core::Mode::Enforce, &place, trigger)
            .vpcs(vec![
                vpc("vpc-1", VpcStatus::Remediated),
                vpc("vpc-2", VpcStatus::Failed),
                vpc("vpc-3", VpcStatus::Compliant),
            ])
            .build();
        let record = emf(&report, "fn", 1);
        assert_eq!(
            record["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "FlowGuard"
        );
        assert_eq!(
            record["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["FunctionName"]])
        );
        assert_eq!(record["VpcsChecked"], 3);
        assert_eq!(record["VpcsNonCompliant"], 2);
        assert_eq!(record["Remediations"], 1);
        assert_eq!(record["RemediationFailures"], 1);
        assert_eq!(record["FindingsUpdateFailures"], 0);
        let line = summary_line(&report, "req");
        assert_eq!(line["summary"]["vpcs"]["failed"], 1);
        assert_eq!(line["message"], "flowguard report");
    }
}
