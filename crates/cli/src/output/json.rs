//! `--format json`: one object, whatever the accounts and regions, written as the sweep goes:
//!
//! ```text
//! {"dry_run", "mode", "regions", "accounts": [{account, region, status, error_code?, error?,
//! report?}, ...], "warnings", "summary"}
//! ```
//!
//! The head before the first run, each run as it finishes (so in the order runs finish), then
//! the warnings and the summary. It reads as `serde_json::to_string_pretty` would write the
//! whole: two spaces per level.

use super::{Head, Out, Sink, json_failure};
use crate::failure::Failure;
use flowguard_core::organization::{AccountRun, OrgReport};
use serde_json::json;

#[derive(Debug)]
pub(super) struct JsonSink {
    out: Out,
    head: Head,
    runs: usize,
}

impl JsonSink {
    pub(super) fn new(out: Out, head: Head) -> Self {
        Self { out, head, runs: 0 }
    }
}

/// `value` as pretty JSON, its lines after the first indented by `levels` levels, to sit at
/// that depth of the document. (JSON strings hold no raw line break.)
fn nested(value: &impl serde::Serialize, levels: usize) -> Result<String, Failure> {
    let text = serde_json::to_string_pretty(value).map_err(json_failure)?;
    Ok(text.replace('\n', &format!("\n{}", "  ".repeat(levels))))
}

impl Sink for JsonSink {
    fn start(&mut self) -> Result<(), Failure> {
        let head = json!({
            "dry_run": self.head.mode.is_dry_run(),
            "mode": self.head.mode,
            "regions": self.head.regions,
        });
        let text = format!(
            "{{\n  \"dry_run\": {},\n  \"mode\": {},\n  \"regions\": {},\n  \"accounts\": [",
            nested(&head["dry_run"], 1)?,
            nested(&head["mode"], 1)?,
            nested(&head["regions"], 1)?,
        );
        self.out.write(&text)
    }

    fn run(&mut self, run: &AccountRun) -> Result<(), Failure> {
        let separator = if self.runs == 0 { "\n    " } else { ",\n    " };
        self.runs += 1;
        self.out.write(&format!("{separator}{}", nested(run, 2)?))
    }

    fn end(&mut self, report: &OrgReport) -> Result<(), Failure> {
        let close = if self.runs == 0 { "]" } else { "\n  ]" };
        let text = format!(
            "{close},\n  \"warnings\": {},\n  \"summary\": {}\n}}\n",
            nested(&report.warnings, 1)?,
            nested(&report.summary, 1)?,
        );
        self.out.write(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{head, report};
    use super::super::{Kind, org_json};
    use super::*;
    use flowguard_core::Mode;
    use flowguard_core::VpcStatus::{Compliant, WouldRemediate};
    use serde_json::Value;

    /// What the sink writes for `runs`, in this order, and the organization report of them.
    fn streamed(runs: &[AccountRun], regions: &[&str]) -> (String, OrgReport) {
        let mut sink = JsonSink::new(Out::buffer(), head(Kind::Audit, regions, 2));
        let regions: Vec<String> = regions.iter().map(|r| (*r).to_owned()).collect();
        let report = OrgReport::new(Mode::Audit, &regions, runs.to_vec());
        sink.start().unwrap();
        for run in runs {
            sink.run(run).unwrap();
        }
        sink.end(&report).unwrap();
        (sink.out.written().to_owned(), report)
    }

    #[test]
    fn the_stream_is_the_organization_report_with_the_runs_in_the_order_they_finished() {
        let a = "111111111111";
        let runs = vec![
            AccountRun::ok(report(a, "eu-west-1", &[WouldRemediate])),
            AccountRun::unreachable(
                "222222222222",
                "us-east-1",
                Some("AccessDenied".to_owned()),
                "AssumeRole failed: AccessDenied",
                None,
            ),
            AccountRun::ok(report(a, "us-east-1", &[Compliant, WouldRemediate])),
        ];
        let (text, report) = streamed(&runs, &["us-east-1", "eu-west-1"]);
        let streamed: Value = serde_json::from_str(&text).unwrap();
        let mut whole: Value = serde_json::from_str(&org_json(&report, &runs).unwrap()).unwrap();
        whole["warnings"] = serde_json::json!([]);
        assert_eq!(streamed, whole);
        assert_eq!(streamed["accounts"][0]["region"], "eu-west-1");
        assert_eq!(streamed["accounts"][1]["error_code"], "AccessDenied");
        assert_eq!(streamed["summary"]["accounts"]["unreachable"], 1);
        // Pretty, two spaces per level, as serde_json writes it, ending with a line break.
        assert!(text.starts_with("{\n  \"dry_run\": true,\n  \"mode\": \"audit\",\n"));
        assert!(text.contains("\n  \"accounts\": [\n    {\n      \"account\": \"111111111111\""));
        assert!(text.ends_with("\n  }\n}\n"), "{text}");
    }

    #[test]
    fn one_account_in_one_region_has_the_same_shape() {
        let runs = [AccountRun::ok(report("111111111111", "us-east-1", &[]))];
        let (text, _) = streamed(&runs, &["us-east-1"]);
        let value: Value = serde_json::from_str(&text).unwrap();
        // Sorted: serde_json keeps insertion order when another crate of the build turns on its
        // `preserve_order` feature, and sorts keys otherwise.
        let mut keys: Vec<&String> = value.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "accounts", "dry_run", "mode", "regions", "summary", "warnings"
            ]
        );
        assert_eq!(value["accounts"].as_array().unwrap().len(), 1);
        assert_eq!(value["accounts"][0]["report"]["region"], "us-east-1");
        let (text, _) = streamed(&[], &["us-east-1"]);
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["accounts"], serde_json::json!([]));
    }
}
