//! `handle-event`: the Lambda handler's own code path ([`flowguard_aws::init`] then
//! [`flowguard_core::handler::handle`]) on one event read from a file or stdin.

use crate::args::ConfigFlags;
use crate::failure::{self, Failure, describe};
use crate::output;
use flowguard_aws::{AwsBackend, init};
use flowguard_aws::{Clients, caller_account};
use flowguard_core::handler::{HandlerError, handle};
use flowguard_core::trigger::{MAX_EVENT_BYTES, trigger_from_value};
use flowguard_core::{InvalidEvent, ReconcileError};
use serde_json::Value;
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

/// The checks of `flowguard_core::trigger::parse_event`, keeping the parsed JSON.
fn parse(bytes: &[u8]) -> Result<Value, Failure> {
    if bytes.len() > MAX_EVENT_BYTES {
        return Err(Failure(format!(
            "invalid input: more than {MAX_EVENT_BYTES} bytes, the most an event may have"
        )));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(invalid(&InvalidEvent::Empty));
    }
    let event: Value = serde_json::from_slice(bytes)
        .map_err(|e| invalid(&InvalidEvent::NotJson(e.to_string())))?;
    Ok(event)
}

pub async fn run(file: &str, dry_run: bool, flags: &ConfigFlags) -> Result<ExitCode, Failure> {
    let mut policy = flags.policy()?;
    policy.dry_run |= dry_run;
    let event = parse(&read_input(file)?)?;
    // Refuse what is not an event before any AWS call; `handle` reads it again.
    trigger_from_value(&event).map_err(|e| invalid(&e))?;
    let config = flowguard_aws::config::load(None).await;
    let setup = init(&config, policy)
        .await
        .map_err(|e| failure::init(&e, &config))?;
    for warning in &setup.warnings {
        eprintln!("warning: {warning}");
    }
    // The run acts in the account of the credentials, as the Lambda acts in its own: an
    // event of another account is ignored, never acted on here in its name.
    let account = caller_account(&Clients::new(&config))
        .await
        .map_err(|e| Failure(describe(&e, &config)))?
        .0;
    let backend = AwsBackend::new(config.clone());
    match handle(&backend, &setup, &account, &event, None).await {
        Ok(report) => {
            output::emit(&format!(
                "{}\n",
                output::json(std::slice::from_ref(&report))?
            ))?;
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
                output::emit(&format!(
                    "{}\n",
                    output::json(std::slice::from_ref(report))?
                ))?;
            }
            eprintln!("error: {error} (see the report's actions)");
            Ok(ExitCode::from(1))
        }
    }
}
