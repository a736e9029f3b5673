//! `handle-event`: the Lambda handler's own code path ([`Controller::start`], then
//! [`flowguard_core::handler::handle_trigger`] on the event parsed by
//! [`flowguard_core::trigger::parse_event`]) on one event read from a file or stdin, in one
//! account or, in organization mode, exactly as the hub handles it.

use crate::args::{ConfigFlags, OrgFlags};
use crate::failure::{self, Failure, describe};
use crate::output;
use flowguard_aws::organization::session_name;
use flowguard_aws::{Check, Controller};
use flowguard_core::handler::{Handled, HandlerError};
use flowguard_core::trigger::{MAX_EVENT_BYTES, parse_event};
use flowguard_core::{InvalidEvent, ReconcileError};
use std::io::Read;
use std::process::ExitCode;

/// Reads at most one byte more than an event may have, so that a huge input is refused
/// without being read whole.
fn read_input(file: &str) -> Result<Vec<u8>, Failure> {
    let limit = u64::try_from(MAX_EVENT_BYTES)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let mut bytes = Vec::new();
    let read = if file == "-" {
        std::io::stdin().lock().take(limit).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(file).and_then(|f| f.take(limit).read_to_end(&mut bytes))
    };
    read.map_err(|e| Failure(format!("cannot read {file}: {e}")))?;
    Ok(bytes)
}

fn invalid(error: &InvalidEvent) -> Failure {
    Failure(format!("invalid input: {error}"))
}

/// Handles the event in `file` as the Lambda does: in one account, or, with the organization
/// flags or variables, as the hub (the event's account through its member role; the schedule
/// sweeps every account in scope).
pub async fn run(
    file: &str,
    dry_run: bool,
    org: &OrgFlags,
    flags: &ConfigFlags,
) -> Result<ExitCode, Failure> {
    let mut policy = flags.policy()?;
    policy.dry_run |= dry_run;
    let org = org.config()?;
    // Parsed once, by the parser that is fuzzed: what is not an event is refused before any
    // AWS call.
    let trigger = parse_event(&read_input(file)?).map_err(|e| invalid(&e))?;
    let config = flowguard_aws::config::load_for_cli(None).await;
    let controller = Controller::start(
        config.clone(),
        policy,
        org,
        session_name("handle-event"),
        Check::DeliveryRole,
    )
    .await
    .map_err(|e| failure::init(&e, &config))?;
    for warning in &controller.setup.warnings {
        eprintln!("warning: {warning}");
    }
    // In one account, the run acts in the account of the credentials, as the Lambda acts in its
    // own: an event of another account is ignored, never acted on here in its name.
    let mut runs = Vec::new();
    let handled = controller
        .handle_trigger(trigger, None, |run| runs.push(run.clone()))
        .await;
    match handled {
        Ok(Handled::Account(report) | Handled::Ignored { report, .. }) => {
            print_report(&report)?;
            Ok(ExitCode::SUCCESS)
        }
        Ok(Handled::Sweep(report)) => {
            runs.sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
            output::emit(&format!("{}\n", output::org_json(&report, &runs)?))?;
            Ok(ExitCode::SUCCESS)
        }
        Err(HandlerError::InvalidEvent(e)) => Err(invalid(&e)),
        // A configuration that cannot serve this event (a KMS key of another region): exit 2.
        Err(HandlerError::Reconcile {
            error: ReconcileError::Config(e),
        }) => Err(Failure(e.to_string())),
        Err(HandlerError::Reconcile { error }) => {
            let retry = if error.is_retryable() {
                "retryable"
            } else {
                "permanent"
            };
            let message = match &error {
                ReconcileError::Observe(aws) => describe(aws, &config),
                other => other.to_string(),
            };
            eprintln!("error ({retry}): {message}");
            Ok(ExitCode::from(1))
        }
        Err(error @ HandlerError::Remediation { .. }) => {
            if let Some(report) = error.report() {
                print_report(report)?;
            }
            eprintln!("error: {error} (see the report's actions)");
            Ok(ExitCode::from(1))
        }
    }
}

fn print_report(report: &flowguard_core::Report) -> Result<(), Failure> {
    output::emit(&format!("{}\n", output::report_json(report)?))
}
