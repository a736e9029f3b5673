//! `--output-directory DIR`: every format of one run at once, beside what stdout gets. The
//! JSON report (`report.json`), the exports (`findings.csv`, `findings.asff.json`,
//! `findings.ocsf.json`) and the HTML report (`report.html`), each written as the sweep goes,
//! as `--format` writes stdout: one more sink per file, fed the same runs.

use super::export::ExportSink;
use super::json::JsonSink;
use super::{Head, Out, Sink};
use crate::failure::Failure;
use flowguard_core::Policy;
use flowguard_core::export::Format as Export;
use flowguard_core::export::html::{HtmlContext, HtmlReport};
use flowguard_core::organization::{AccountRun, OrgReport};
use std::path::{Path, PathBuf};

/// `stdout` and one sink per file of `dir` (created when missing), all fed the same runs.
pub fn with_directory(
    stdout: Box<dyn Sink>,
    dir: &Path,
    head: &Head,
    policy: &Policy,
) -> Result<Box<dyn Sink>, Failure> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure(format!("could not create {}: {e}", dir.display())))?;
    let file = |name: &str| Out::file(dir.join(name));
    let export = |name: &str, format| -> Result<Box<dyn Sink>, Failure> {
        Ok(Box::new(ExportSink::new(file(name)?, format, policy)?))
    };
    Ok(Box::new(Tee(vec![
        stdout,
        Box::new(JsonSink::new(file("report.json")?, head.clone())),
        export("findings.csv", Export::Csv)?,
        export("findings.asff.json", Export::Asff)?,
        export("findings.ocsf.json", Export::Ocsf)?,
        Box::new(HtmlSink {
            path: dir.join("report.html"),
            html: HtmlReport::new(),
        }),
    ])))
}

/// Several sinks fed the same runs, in order.
struct Tee(Vec<Box<dyn Sink>>);

impl Sink for Tee {
    fn start(&mut self) -> Result<(), Failure> {
        self.0.iter_mut().try_for_each(|sink| sink.start())
    }
    fn run(&mut self, run: &AccountRun) -> Result<(), Failure> {
        self.0.iter_mut().try_for_each(|sink| sink.run(run))
    }
    fn end(&mut self, report: &OrgReport) -> Result<(), Failure> {
        self.0.iter_mut().try_for_each(|sink| sink.end(report))
    }
}

/// The HTML report: it keeps the lines of the VPCs that need action, and is written once the
/// sweep is done (its totals and grid come from the organization report).
struct HtmlSink {
    path: PathBuf,
    html: HtmlReport,
}

impl Sink for HtmlSink {
    fn start(&mut self) -> Result<(), Failure> {
        Ok(())
    }
    fn run(&mut self, run: &AccountRun) -> Result<(), Failure> {
        self.html.add(run);
        Ok(())
    }
    fn end(&mut self, report: &OrgReport) -> Result<(), Failure> {
        let now = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|e| Failure(format!("could not read the clock: {e}")))?;
        let page = self.html.render(report, &HtmlContext::new(now));
        Out::file(self.path.clone())?.write(&page)
    }
}
