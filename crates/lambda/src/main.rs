//! The flowguard Lambda function: start once, then one report per EventBridge event. In
//! organization mode (`FLOWGUARD_ACCOUNTS` or `FLOWGUARD_ORGANIZATION`), the same function is
//! the hub: it handles each event in its own account, and sweeps every account on schedule.
//! Both go through one [`invoke`].

use flowguard_aws::organization::session_name;
use flowguard_aws::{Check, Controller};
use flowguard_core::handler::{Handled, HandlerError};
use flowguard_core::organization::OrgConfig;
use flowguard_lambda::telemetry;
use lambda_runtime::{Diagnostic, Error, LambdaEvent, service_fn};
use serde_json::Value;
use serde_json::value::RawValue;
use std::time::{SystemTime, UNIX_EPOCH};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let env = |name: &str| std::env::var(name).ok();
    let policy =
        flowguard_core::Policy::from_lookup(env).inspect_err(|e| tracing::error!("{e}"))?;
    let org = OrgConfig::from_lookup(env).inspect_err(|e| tracing::error!("{e}"))?;
    let config = flowguard_aws::config::load(None).await;
    let controller = Controller::start(
        config,
        policy,
        org,
        session_name("hub"),
        Check::DeliveryRole,
    )
    .await
    .inspect_err(|e| tracing::error!("cannot start: {e}"))?;
    for warning in &controller.setup.warnings {
        tracing::warn!("{warning}");
    }
    let function_name = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
    let (controller, function_name) = (&controller, function_name.as_str());
    // The payload is kept as raw JSON: flowguard's own parser (the fuzzed one) reads it, once.
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        invoke(controller, function_name, event)
    }))
    .await
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default()
}

/// One event: where to act now (the account, or the organization's accounts in scope, read at
/// most every 15 minutes), the handler, then its report logged with its metrics.
async fn invoke(
    controller: &Controller,
    function_name: &str,
    event: LambdaEvent<Box<RawValue>>,
) -> Result<Value, Failure> {
    let now_ms = now_ms();
    let request_id = &event.context.request_id;
    let deadline = flowguard_lambda::deadline(event.context.deadline, now_ms);
    // A sweep's runs are logged and counted as each finishes: the hub keeps no run's report.
    let mut totals = telemetry::SweepTotals::default();
    let result = controller
        .handle(event.payload.get().as_bytes(), deadline, |run| {
            println!("{}", telemetry::account_line(run, request_id));
            totals.add(run);
        })
        .await;
    let (summary, metrics) = match &result {
        Ok(Handled::Sweep(report)) => (
            Some(telemetry::organization_line(report, request_id)),
            totals.metrics(),
        ),
        Ok(Handled::Account(report)) => (
            Some(telemetry::summary_of(report, request_id)),
            telemetry::metrics(report).to_vec(),
        ),
        Ok(Handled::Ignored {
            report,
            out_of_scope,
        }) => (
            Some(telemetry::summary_of(report, request_id)),
            vec![("EventsOutOfScope", usize::from(*out_of_scope))],
        ),
        Err(error) => match error.report() {
            Some(report) => (
                Some(telemetry::summary_of(report, request_id)),
                telemetry::metrics(report).to_vec(),
            ),
            None => (None, Vec::new()),
        },
    };
    if let Some(line) = summary {
        println!("{line}");
    }
    if !metrics.is_empty() {
        println!("{}", telemetry::emf_record(&metrics, function_name, now_ms));
    }
    match result {
        Ok(Handled::Sweep(report)) => Ok(telemetry::organization_summary(&report)),
        Ok(Handled::Account(report) | Handled::Ignored { report, .. }) => {
            Ok(telemetry::report_value(&report))
        }
        Err(error) => Err(failed(error)),
    }
}

/// Logs a failure with what happens next, and hands it to the runtime.
fn failed(error: HandlerError) -> Failure {
    let retry = if error.is_retryable() {
        "Lambda will retry"
    } else {
        "it goes to the dead-letter queue"
    };
    tracing::error!(retryable = error.is_retryable(), "{error} ({retry})");
    Failure(error)
}

/// The error the runtime reports: `errorType` says whether a retry may help, so that a
/// person reading the dead-letter queue sees at once which events will never succeed.
#[derive(Debug)]
struct Failure(HandlerError);

impl From<Failure> for Diagnostic {
    fn from(failure: Failure) -> Self {
        let kind = if failure.0.is_retryable() {
            "flowguard.RetryableFailure"
        } else {
            "flowguard.PermanentFailure"
        };
        Diagnostic {
            error_type: kind.to_owned(),
            error_message: failure.0.to_string(),
        }
    }
}
