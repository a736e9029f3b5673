//! Progress on stderr while a sweep runs: on a terminal, a bar counting the account×region
//! runs; in organization mode without one (CI, cron, `| tee`), or with tracing on, one line per
//! finished run; nothing with `--quiet`.

use super::Kind;
use super::summary::total as vpcs_in;
use flowguard_core::organization::AccountRun;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::time::Duration;

#[derive(Debug)]
enum Show {
    Nothing,
    Bar(ProgressBar),
    Lines,
}

/// How far a sweep of `total` account×region runs has come.
#[derive(Debug)]
pub struct Progress {
    show: Show,
    kind: Kind,
    done: usize,
    total: usize,
}

/// What the command line says about progress.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// `--quiet`.
    pub quiet: bool,
    /// Tracing writes to stderr (`-v`, `--log-level`): lines, not a bar.
    pub tracing: bool,
    /// Organization mode: without a terminal, a line per run.
    pub organization: bool,
    pub terminal: bool,
}

impl Progress {
    /// `message` names the sweep on the bar, `units` what it counts.
    pub fn new(
        settings: Settings,
        kind: Kind,
        total: usize,
        message: &'static str,
        units: &str,
    ) -> Self {
        let show = if settings.quiet {
            Show::Nothing
        } else if settings.terminal && !settings.tracing {
            if total < 2 {
                Show::Nothing
            } else {
                Show::Bar(bar(total, message, units))
            }
        } else if settings.organization {
            Show::Lines
        } else {
            Show::Nothing
        };
        Self {
            show,
            kind,
            done: 0,
            total,
        }
    }

    /// One more run finished.
    pub fn run(&mut self, run: &AccountRun) {
        self.done += 1;
        match &self.show {
            Show::Nothing => {}
            Show::Bar(bar) => bar.inc(1),
            Show::Lines => {
                let line = format!("{}\n", line(run, self.kind, self.done, self.total));
                // Progress is best effort: a closed stderr stops nothing.
                let _ = std::io::stderr().lock().write_all(line.as_bytes());
            }
        }
    }

    pub fn finish(&self) {
        if let Show::Bar(bar) = &self.show {
            bar.finish_and_clear();
        }
    }
}

/// A spinner on stderr while the organization is listed, counting the accounts listed so far:
/// a large organization takes minutes (20 accounts a page). On a terminal only, and not with
/// `--quiet` or tracing.
#[derive(Debug)]
pub struct Listing(Option<ProgressBar>);

impl Listing {
    pub fn new(settings: Settings) -> Self {
        let shown = settings.terminal && !settings.quiet && !settings.tracing;
        Self(shown.then(|| {
            let spinner = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
                spinner.set_style(style);
            }
            spinner.set_message("listing the organization: 0 accounts");
            spinner.enable_steady_tick(Duration::from_millis(120));
            spinner
        }))
    }

    /// `accounts` listed so far.
    pub fn listed(&self, accounts: usize) {
        if let Some(spinner) = &self.0 {
            spinner.set_message(format!("listing the organization: {accounts} accounts"));
        }
    }

    pub fn finish(&self) {
        if let Some(spinner) = &self.0 {
            spinner.finish_and_clear();
        }
    }
}

fn bar(total: usize, message: &'static str, units: &str) -> ProgressBar {
    let bar = ProgressBar::new(total as u64).with_message(message);
    let template = format!("{{spinner}} {{msg}}: {{pos}}/{{len}} {units} {{wide_bar}} {{elapsed}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// `[12/300] 111111111111 us-east-1: 5 VPCs, 2 not compliant`, or `…: unreachable: AccessDenied`.
fn line(run: &AccountRun, kind: Kind, done: usize, total: usize) -> String {
    let place = format!("[{done}/{total}] {} {}", run.account, run.region);
    let Some(report) = &run.report else {
        let why = run
            .error_code
            .clone()
            .or_else(|| {
                run.error
                    .as_deref()
                    .map(|e| super::table::fit(&super::table::clean(e), 120))
            })
            .unwrap_or_else(|| "no report".to_owned());
        return format!("{place}: unreachable: {why}");
    };
    let v = &report.summary.vpcs;
    let vpcs = match vpcs_in(v) {
        1 => "1 VPC".to_owned(),
        n => format!("{n} VPCs"),
    };
    let would = if kind == Kind::Audit {
        "not compliant"
    } else {
        "would remediate"
    };
    let notable: Vec<String> = [
        (v.would_remediate, would),
        (v.remediated, "remediated"),
        (v.failed, "failed"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    let counts: Vec<String> = std::iter::once(vpcs).chain(notable).collect();
    format!("{place}: {}", counts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::super::tests::report;
    use super::*;
    use flowguard_core::VpcStatus::{Compliant, Failed, Remediated, WouldRemediate};

    const A: &str = "111111111111";

    #[test]
    fn a_line_per_run_says_where_how_many_and_what_needs_looking_at() {
        let run = AccountRun::ok(report(
            A,
            "us-east-1",
            &[Compliant, WouldRemediate, WouldRemediate],
        ));
        assert_eq!(
            line(&run, Kind::Audit, 12, 300),
            "[12/300] 111111111111 us-east-1: 3 VPCs, 2 not compliant"
        );
        assert_eq!(
            line(&run, Kind::Plan, 1, 2),
            "[1/2] 111111111111 us-east-1: 3 VPCs, 2 would remediate"
        );
        let run = AccountRun::ok(report(A, "eu-west-1", &[Remediated, Failed]));
        assert_eq!(
            line(&run, Kind::Apply, 2, 2),
            "[2/2] 111111111111 eu-west-1: 2 VPCs, 1 remediated, 1 failed"
        );
        let run = AccountRun::ok(report(A, "eu-west-1", &[Compliant]));
        assert_eq!(
            line(&run, Kind::Audit, 1, 1),
            "[1/1] 111111111111 eu-west-1: 1 VPC"
        );
    }

    #[test]
    fn an_unreachable_run_says_its_code_else_its_error() {
        let code = Some("AccessDenied".to_owned());
        let run = AccountRun::unreachable(A, "us-east-1", code, "AssumeRole failed: …", None);
        assert_eq!(
            line(&run, Kind::Audit, 3, 4),
            "[3/4] 111111111111 us-east-1: unreachable: AccessDenied"
        );
        let run = AccountRun::unreachable(A, "us-east-1", None, "no\nway", None);
        assert_eq!(
            line(&run, Kind::Audit, 3, 4),
            "[3/4] 111111111111 us-east-1: unreachable: no way"
        );
    }

    #[test]
    fn lines_only_in_organization_mode_without_a_terminal_and_never_when_quiet() {
        let settings = |quiet, tracing, organization, terminal| Settings {
            quiet,
            tracing,
            organization,
            terminal,
        };
        let shows = |s: Settings| match Progress::new(s, Kind::Audit, 5, "m", "runs").show {
            Show::Nothing => "nothing",
            Show::Bar(bar) => {
                bar.finish_and_clear();
                "bar"
            }
            Show::Lines => "lines",
        };
        assert_eq!(shows(settings(false, false, true, false)), "lines");
        assert_eq!(shows(settings(false, false, false, false)), "nothing");
        assert_eq!(shows(settings(true, false, true, false)), "nothing");
        assert_eq!(shows(settings(false, true, true, true)), "lines");
        assert_eq!(shows(settings(true, false, true, true)), "nothing");
    }
}
