//! `--format csv|asff|ocsf`: one finding per VPC (`flowguard_core::export`), written as the
//! sweep goes: each run's findings as it finishes. CSV: the header, then each run's rows.
//! ASFF and OCSF: one JSON array, written element by element, as `serde_json` pretty-prints an
//! array.

use super::{Out, Sink};
use crate::failure::Failure;
use flowguard_core::Policy;
use flowguard_core::export::{self, ExportContext, Findings, Format};
use flowguard_core::organization::{AccountRun, OrgReport};
use serde_json::value::RawValue;

#[derive(Debug)]
pub(super) struct ExportSink {
    out: Out,
    format: Format,
    ctx: ExportContext,
    /// Findings written so far.
    written: usize,
}

impl ExportSink {
    /// The sink of `format`, stamped with the time now (docs/exports.md).
    pub(super) fn new(out: Out, format: Format, policy: &Policy) -> Result<Self, Failure> {
        let now = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|e| Failure(format!("could not read the clock: {e}")))?;
        Ok(Self {
            out,
            format,
            ctx: ExportContext::new(now, policy),
            written: 0,
        })
    }

    fn render(&self, findings: &Findings) -> Result<String, Failure> {
        export::render(self.format, findings, &self.ctx).map_err(|e| {
            Failure(format!(
                "could not write the {} export: {e}",
                self.format.as_str()
            ))
        })
    }
}

impl Sink for ExportSink {
    fn start(&mut self) -> Result<(), Failure> {
        let head = match self.format {
            // The header row: what the export of no finding is.
            Format::Csv => self.render(&Findings::default())?,
            Format::Asff | Format::Ocsf => "[".to_owned(),
        };
        self.out.write(&head)
    }

    fn run(&mut self, run: &AccountRun) -> Result<(), Failure> {
        let Some(report) = &run.report else {
            return Ok(());
        };
        let findings = Findings::from_reports(std::slice::from_ref(report));
        if findings.is_empty() {
            return Ok(());
        }
        let text = self.render(&findings)?;
        let mut chunk = String::new();
        match self.format {
            // The rows, without the header row (no header cell holds a line break).
            Format::Csv => chunk.push_str(text.split_once('\n').map_or("", |(_, rows)| rows)),
            Format::Asff | Format::Ocsf => {
                let elements: Vec<Box<RawValue>> = serde_json::from_str(&text).map_err(|e| {
                    Failure(format!("could not write the {} export: {e}", self.format))
                })?;
                for element in elements {
                    let separator = if self.written == 0 { "\n  " } else { ",\n  " };
                    chunk.push_str(separator);
                    chunk.push_str(element.get());
                    self.written += 1;
                }
            }
        }
        self.out.write(&chunk)
    }

    fn end(&mut self, _report: &OrgReport) -> Result<(), Failure> {
        match self.format {
            Format::Csv => Ok(()),
            Format::Asff | Format::Ocsf if self.written == 0 => self.out.write("]\n"),
            Format::Asff | Format::Ocsf => self.out.write("\n]\n"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::report;
    use super::*;
    use flowguard_core::Mode;
    use flowguard_core::VpcStatus::{Compliant, Exempt, WouldRemediate};

    fn runs() -> Vec<AccountRun> {
        vec![
            AccountRun::ok(report(
                "111111111111",
                "us-east-1",
                &[Compliant, WouldRemediate],
            )),
            AccountRun::unreachable("222222222222", "us-east-1", None, "refused", None),
            AccountRun::ok(report("111111111111", "eu-west-1", &[])),
            AccountRun::ok(report("333333333333", "us-east-1", &[Exempt])),
        ]
    }

    /// What the sink streams, and what rendering every finding at once gives, at the same time.
    fn both(format: Format) -> (String, String) {
        let policy = Policy::default();
        let mut sink = ExportSink::new(Out::buffer(), format, &policy).unwrap();
        let runs = runs();
        sink.start().unwrap();
        for run in &runs {
            sink.run(run).unwrap();
        }
        sink.end(&OrgReport::new(Mode::Audit, &[], runs.clone()))
            .unwrap();
        let whole = export::render(format, &Findings::from_org(&runs), &sink.ctx).unwrap();
        (sink.out.written().to_owned(), whole)
    }

    #[test]
    fn streamed_exports_are_the_exports_of_the_whole() {
        let (streamed, whole) = both(Format::Csv);
        assert_eq!(streamed, whole);
        assert_eq!(streamed.lines().count(), 4, "a header and three VPCs");
        for format in [Format::Asff, Format::Ocsf] {
            let (streamed, whole) = both(format);
            assert_eq!(streamed, format!("{whole}\n"), "{format}");
        }
    }

    #[test]
    fn no_finding_is_a_header_or_an_empty_array() {
        let policy = Policy::default();
        for (format, expected) in [(Format::Asff, "[]\n"), (Format::Ocsf, "[]\n")] {
            let mut sink = ExportSink::new(Out::buffer(), format, &policy).unwrap();
            sink.start().unwrap();
            sink.end(&OrgReport::new(Mode::Audit, &[], Vec::new()))
                .unwrap();
            assert_eq!(sink.out.written(), expected);
        }
        let mut sink = ExportSink::new(Out::buffer(), Format::Csv, &policy).unwrap();
        sink.start().unwrap();
        assert_eq!(sink.out.written().lines().count(), 1);
    }
}
