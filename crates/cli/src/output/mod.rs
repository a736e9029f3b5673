//! Printing a sweep as it goes. Each account×region run is handed to a [`Sink`] as it
//! finishes and not kept: the JSON report and the exports write it out at once; the table keeps
//! a few short strings per VPC and prints them sorted at the end. One shape for one account in
//! one region as for an organization.
//!
//! - [`json`]: `--format json`, `{dry_run, mode, regions, accounts: [...], warnings, summary}`;
//! - [`export`]: `--format csv|asff|ocsf`, one finding per VPC (`flowguard_core::export`);
//! - [`table`]: the default, one line per VPC that fits the terminal; [`wide`]: `--wide`,
//!   every column and the actions;
//! - [`summary`]: the summary line, the per-account summary and the warnings;
//! - [`progress`]: the progress bar, or a line per finished run.

mod directory;
mod export;
mod json;
mod progress;
mod summary;
mod table;
mod wide;

pub use directory::with_directory;
pub use progress::{Listing, Progress, Settings as ProgressSettings};

use crate::args::Format;
use crate::failure::Failure;
use flowguard_core::organization::{AccountRun, OrgReport};
use flowguard_core::{Mode, Policy, Report, VpcStatus};
use std::io::Write;

/// Which command's reports these are; it decides the words of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Audit,
    Plan,
    Apply,
}

/// A VPC's status as the tables say it.
pub(crate) fn status(status: VpcStatus, kind: Kind) -> &'static str {
    match (status, kind) {
        (VpcStatus::WouldRemediate, Kind::Audit) => "NOT COMPLIANT",
        (VpcStatus::WouldRemediate, _) => "would remediate",
        (VpcStatus::Failed, _) => "FAILED",
        (VpcStatus::NotOwned, _) => "not owned (shared)",
        (other, _) => other.as_str(),
    }
}

/// The VPC's `Name` tag, for the tables.
pub(crate) fn vpc_name(vpc: &flowguard_core::report::VpcReport) -> Option<&str> {
    vpc.name.as_deref()
}

/// Where a sink writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    /// The width the table fits: the terminal's, else `COLUMNS`, else 80.
    pub fn width(self) -> usize {
        let mut probe = comfy_table::Table::new();
        if self == Self::Stderr {
            probe.use_stderr();
        }
        columns(
            probe.width().map(usize::from),
            std::env::var("COLUMNS").ok(),
        )
    }
}

/// The terminal's width, else `COLUMNS`, else 80.
fn columns(terminal: Option<usize>, env: Option<String>) -> usize {
    terminal
        .filter(|w| *w > 0)
        .or_else(|| env?.trim().parse().ok().filter(|w: &usize| *w > 0))
        .unwrap_or(80)
}

/// A writer to stdout or stderr. A closed pipe (`flowguard audit | head`) ends the output
/// quietly: it is not an error.
#[derive(Debug)]
pub struct Out {
    target: Target,
    closed: bool,
}

#[derive(Debug)]
enum Target {
    Stream(Stream),
    /// A file of `--output-directory`, and its path for errors.
    File(std::fs::File, std::path::PathBuf),
    /// The unit tests' output.
    #[cfg(test)]
    Buffer(String),
}

impl Out {
    pub fn new(stream: Stream) -> Self {
        Self {
            target: Target::Stream(stream),
            closed: false,
        }
    }

    /// A new file at `path` (replaced if it exists).
    pub fn file(path: std::path::PathBuf) -> Result<Self, Failure> {
        let file = std::fs::File::create(&path)
            .map_err(|e| Failure(format!("could not create {}: {e}", path.display())))?;
        Ok(Self {
            target: Target::File(file, path),
            closed: false,
        })
    }

    /// An output kept in memory, for the tests.
    #[cfg(test)]
    pub(crate) fn buffer() -> Self {
        Self {
            target: Target::Buffer(String::new()),
            closed: false,
        }
    }

    /// What was written to [`Out::buffer`].
    #[cfg(test)]
    pub(crate) fn written(&self) -> &str {
        match &self.target {
            Target::Buffer(text) => text,
            Target::Stream(_) | Target::File(..) => "",
        }
    }

    pub fn write(&mut self, text: &str) -> Result<(), Failure> {
        if self.closed {
            return Ok(());
        }
        let stream = match &mut self.target {
            Target::Stream(stream) => *stream,
            Target::File(file, path) => {
                return file
                    .write_all(text.as_bytes())
                    .map_err(|e| Failure(format!("could not write {}: {e}", path.display())));
            }
            #[cfg(test)]
            Target::Buffer(buffer) => {
                buffer.push_str(text);
                return Ok(());
            }
        };
        let written = match stream {
            Stream::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(text.as_bytes()).and_then(|()| out.flush())
            }
            Stream::Stderr => {
                let mut out = std::io::stderr().lock();
                out.write_all(text.as_bytes()).and_then(|()| out.flush())
            }
        };
        match written {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            Err(e) => {
                let name = match stream {
                    Stream::Stdout => "stdout",
                    Stream::Stderr => "stderr",
                };
                Err(Failure(format!("could not write to {name}: {e}")))
            }
            Ok(()) => Ok(()),
        }
    }
}

/// Writes `text` to stdout. A closed pipe is not an error.
pub fn emit(text: &str) -> Result<(), Failure> {
    Out::new(Stream::Stdout).write(text)
}

/// What every sink knows before the first run.
#[derive(Debug, Clone)]
pub struct Head {
    pub kind: Kind,
    pub mode: Mode,
    /// The regions swept, in the order given (the runs' regions are among them).
    pub regions: Vec<String>,
    /// How many accounts are in scope: with more than one, the tables have an account column.
    pub accounts: usize,
    /// Organization mode (`--account`, `--organization`): the tables end with a per-account
    /// summary, and the summary line counts account×region runs.
    pub organization: bool,
}

impl Head {
    /// Where `region` comes in the order given (unknown regions last).
    pub(crate) fn rank(&self, region: &str) -> usize {
        self.regions
            .iter()
            .position(|r| r == region)
            .unwrap_or(self.regions.len())
    }
}

/// Where each account×region run goes as it finishes.
pub trait Sink {
    /// Before the first run (the JSON report's head, the CSV header).
    fn start(&mut self) -> Result<(), Failure>;
    /// One finished run, with its report; the sink keeps no report.
    fn run(&mut self, run: &AccountRun) -> Result<(), Failure>;
    /// After the last run, with what the sweep kept of each (its summary).
    fn end(&mut self, report: &OrgReport) -> Result<(), Failure>;
}

/// The sink of `format` (`wide`: the table with every column) on `stream`; `policy` is the one
/// the runs are made under (the exports judge exempt VPCs by its retention and name its tag).
pub fn sink(
    format: Format,
    wide: bool,
    head: Head,
    policy: &Policy,
    stream: Stream,
) -> Result<Box<dyn Sink>, Failure> {
    let out = Out::new(stream);
    Ok(match format.export() {
        Some(export) => Box::new(export::ExportSink::new(out, export, policy)?),
        None if format == Format::Json => Box::new(json::JsonSink::new(out, head)),
        None if wide => Box::new(wide::WideSink::new(out, head, stream.width())),
        None => Box::new(table::TableSink::new(out, head, stream.width())),
    })
}

/// One report as pretty JSON (`handle-event`).
pub fn report_json(report: &Report) -> Result<String, Failure> {
    serde_json::to_string_pretty(report).map_err(json_failure)
}

/// The organization report as JSON, with each run's full report (`handle-event`'s sweep).
pub fn org_json(report: &OrgReport, runs: &[AccountRun]) -> Result<String, Failure> {
    let mut value = serde_json::to_value(report).map_err(json_failure)?;
    value["accounts"] = serde_json::to_value(runs).map_err(json_failure)?;
    serde_json::to_string_pretty(&value).map_err(json_failure)
}

fn json_failure(e: serde_json::Error) -> Failure {
    Failure(format!("could not write the report as JSON: {e}"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use flowguard_core::fake;

    /// A report of `account` in `region` with one VPC per status, `vpc-0`, `vpc-1`, ….
    pub(crate) fn report(account: &str, region: &str, statuses: &[VpcStatus]) -> Report {
        let place = flowguard_core::Place {
            region: region.to_owned(),
            account: account.to_owned(),
        };
        fake::report_of(&place, Mode::Audit, statuses)
    }

    pub(crate) fn head(kind: Kind, regions: &[&str], accounts: usize) -> Head {
        Head {
            kind,
            mode: Mode::Audit,
            regions: regions.iter().map(|r| (*r).to_owned()).collect(),
            accounts,
            organization: accounts > 1,
        }
    }

    #[test]
    fn the_width_is_the_terminals_else_columns_else_80() {
        assert_eq!(columns(Some(132), Some("80".to_owned())), 132);
        assert_eq!(columns(None, Some(" 120 ".to_owned())), 120);
        assert_eq!(columns(None, Some("wide".to_owned())), 80);
        assert_eq!(columns(Some(0), Some("0".to_owned())), 80);
        assert_eq!(columns(None, None), 80);
    }

    #[test]
    fn regions_rank_in_the_order_given() {
        let head = head(Kind::Audit, &["us-east-1", "eu-west-1"], 1);
        assert!(head.rank("us-east-1") < head.rank("eu-west-1"));
        assert_eq!(head.rank("ap-south-1"), 2);
    }
}
